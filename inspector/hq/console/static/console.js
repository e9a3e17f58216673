/* Console behaviour kept out of the pages: HQ's Content-Security-Policy allows no inline script.
   <form data-confirm="问题">  asks before submitting;  <a data-back href="…">  goes back in history
   (the href is where it goes when there is no history). */
"use strict";
document.addEventListener("submit", function (e) {
  var form = e.target;
  var q = form && form.getAttribute ? form.getAttribute("data-confirm") : null;
  if (q && !window.confirm(q)) { e.preventDefault(); }
}, true);
document.addEventListener("click", function (e) {
  var a = e.target && e.target.closest ? e.target.closest("a[data-back]") : null;
  if (a && window.history.length > 1) { e.preventDefault(); window.history.back(); }
});
