"""Getting around a 37-item checklist: 下一未答 (F8) / 下一不符合 (F9), a filter 全部/未答/不符合/
有照片, search within the checklist (Ctrl+F), "下一节 →" at the end of each section, and Tab that
carries on from a section's last item into the next section instead of the main menu.

Notes on items are the visit's (``VisitWidget.on_note``). Attached to a VisitWidget by ``install(visit)`` (the main window does it when a visit opens); it
only reads the visit's pages and rows and moves the focus, it never writes answers.
"""
from __future__ import annotations

import logging
from typing import Any

from ui.qt import (
    QComboBox, QFrame, QHBoxLayout, QKeySequence, QLabel, QLineEdit, QObject, QPushButton, QScrollArea,
    QShortcut, Qt, QWidget,
)

logger = logging.getLogger(__name__)

FILTERS = (("all", "全部"), ("unanswered", "未答"), ("fail", "不符合"), ("photos", "有照片"))


class NextSectionButton(QPushButton):
    """The last stop of a section page. Reached by Tab it hands the focus straight on to the next
    section's first item (one Tab, as between items); clicked or Enter does the same."""

    def __init__(self, text: str, go: Any, parent: QWidget):
        super().__init__(text, parent)
        self.go = go
        self.setObjectName("nextsection")
        self.clicked.connect(go)

    def focusInEvent(self, e: Any) -> None:
        super().focusInEvent(e)
        if e.reason() == Qt.FocusReason.TabFocusReason:
            self.go()


class VisitNavigator(QObject):
    def __init__(self, visit: Any):
        super().__init__(visit)
        self.visit = visit
        bar = QFrame(visit)
        bar.setObjectName("navbar")
        bar.setStyleSheet("QFrame#navbar { background: #f0f3f7; border-bottom: 1px solid #e3e6ea; }")
        hl = QHBoxLayout(bar)
        hl.setContentsMargins(12, 3, 12, 3)
        hl.setSpacing(6)
        self.search = QLineEdit(bar)
        self.search.setPlaceholderText("搜索检查项 Ctrl+F")
        self.search.setToolTip("输入关键词，回车转到下一个匹配的检查项")
        self.search.setClearButtonEnabled(True)
        self.search.setMinimumWidth(150)
        self.search.setMaximumWidth(240)
        self.search.returnPressed.connect(self.find_next)
        hl.addWidget(self.search)
        hl.addWidget(QLabel("显示", bar))
        self.filter = QComboBox(bar)
        for key, label in FILTERS:
            self.filter.addItem(label, key)
        self.filter.activated.connect(lambda _i: self.apply_filter())
        hl.addWidget(self.filter)
        self.next_unanswered_btn = QPushButton("下一未答 (F8)", bar)
        self.next_unanswered_btn.clicked.connect(lambda: self.next_matching("unanswered"))
        self.next_fail_btn = QPushButton("下一不符合 (F9)", bar)
        self.next_fail_btn.clicked.connect(lambda: self.next_matching("fail"))
        for b in (self.next_unanswered_btn, self.next_fail_btn):
            b.setFocusPolicy(Qt.FocusPolicy.NoFocus)  # keys F8/F9; Tab stays on the items
            hl.addWidget(b)
        self.status = QLabel("", bar)
        self.status.setObjectName("subtitle")
        hl.addWidget(self.status, 1)
        outer = visit.layout()
        outer.insertWidget(1, bar)
        self.bar = bar
        for seq, fn in (("F8", lambda: self.next_matching("unanswered")), ("F9", lambda: self.next_matching("fail")),
                        ("Ctrl+F", self.focus_search), ("Alt+P", self.add_photo), ("Alt+M", self.focus_note)):
            sc = QShortcut(QKeySequence(seq), visit)
            sc.setContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
            sc.activated.connect(fn)
        for i in range(visit.stack.count()):
            self._decorate(visit.stack.widget(i))
        visit.stack.widgetAdded.connect(lambda i: self._decorate(visit.stack.widget(i)))
        visit.stack.currentChanged.connect(lambda _i: self.apply_filter())
        visit.answered.connect(lambda *_a: self.status.setText(""))

    # -- section pages ----------------------------------------------------------------------
    def section_keys(self) -> list[str]:
        return list(self.visit.sections)

    def _decorate(self, page: Any) -> None:  # a section page (QScrollArea with .rows/.section/.cv_id) or another
        """Add 下一节 → to a checklist section page (built lazily by the visit) and let Tab enter it
        straight at the first item."""
        if page is None or not hasattr(page, "rows") or not hasattr(page, "section") \
                or getattr(page, "_nav_done", False):
            return
        page._nav_done = True  # type: ignore[attr-defined]
        if isinstance(page, QScrollArea):
            page.setFocusPolicy(Qt.FocusPolicy.NoFocus)  # no stop on the scroll area itself
        key = next((k for k, (cv, _cl, sec, _n) in self.visit.sections.items()
                    if cv == page.cv_id and sec.id == page.section.id), None)
        if key is None:
            return
        keys = self.section_keys()
        pos = keys.index(key)
        nxt = keys[pos + 1] if pos + 1 < len(keys) else None
        if nxt:
            _cv, _cl, sec, n = self.visit.sections[nxt]
            text = f"下一节 → {n}. {sec.title}"
        else:
            text = "下一步 → 学员抽查核实"
        body = page.widget()
        lay = body.layout() if body is not None else None
        if lay is None:
            return
        row = QHBoxLayout()
        row.addStretch(1)
        btn = NextSectionButton(text, lambda k=nxt: self.go_section(k), body)
        btn.setToolTip("Tab 或回车：转到下一节的第一项")
        row.addWidget(btn)
        # before the page's closing stretch
        lay.insertLayout(max(lay.count() - 1, 0), row)
        page.next_button = btn  # type: ignore[attr-defined]

    def go_section(self, key: str | None) -> None:
        v = self.visit
        if key is None:
            v.goto("trainees")
            return
        cv, _cl, sec, _n = v.sections[key]
        first = next((it for it in sec.items if self._row_visible(cv, it.id)), sec.items[0] if sec.items else None)
        v.goto(key, first.id if first else None)

    def _row_visible(self, cv: str, item_id: str) -> bool:
        row = self.visit.rows.get((cv, item_id))
        return row is None or not row.isHidden()

    # -- statuses -------------------------------------------------------------------------------
    def statuses(self) -> list[tuple[str, str, str, int]]:
        """(section key, item id, status, photos) for every item in visit order; skip rules applied
        by the core (a skipped item is 不适用, not unanswered)."""
        v = self.visit
        out: list[tuple[str, str, str, int]] = []
        from inspector.visit_state import item_states

        by_cv: dict[str, dict[str, str]] = {}
        for cv, cl in v.checklists.items():
            photos = {iid: int(getattr(r, "photo_count", 0)) for (c, iid), r in v.rows.items() if c == cv}
            try:
                states = item_states(cl, v.answers.get(cv, {}), photos, checklist_version_id=cv,
                                     institution_kind=v.inst.get("kind"))
                by_cv[cv] = {s.item.id: s.status for s in states}
                continue
            except Exception:  # noqa: BLE001 - navigation must not take the visit down: the rows' own statuses
                logger.exception("item_states failed; navigation uses the rows' statuses")
            by_cv[cv] = {it.id: v._status(cv, it) if v.answer(cv, it.id) is not None else "unanswered"
                         for sec in cl.sections for it in sec.items}
        for key, (cv, _cl, sec, _n) in v.sections.items():
            for it in sec.items:
                row = v.rows.get((cv, it.id))
                out.append((key, it.id, by_cv.get(cv, {}).get(it.id, "unanswered"),
                            int(getattr(row, "photo_count", 0)) if row is not None else 0))
        return out

    def next_matching(self, what: str) -> bool:
        """Go to the next item (after the current one, wrapping) that is unanswered / failed."""
        v = self.visit
        items = self.statuses()
        cur = v.current_item
        start = 0
        if cur is not None:
            for i, (key, iid, _s, _p) in enumerate(items):
                if v.sections[key][0] == cur[0] and iid == cur[1]:
                    start = i + 1
                    break
        for k in range(len(items)):
            key, iid, status, _p = items[(start + k) % len(items)]
            if status == what:
                self._show(key, iid)
                return True
        self.status.setText("没有未答的检查项。" if what == "unanswered" else "没有不符合的检查项。")
        return False

    def _show(self, key: str, item_id: str) -> None:
        v = self.visit
        cv = v.sections[key][0]
        v.page_for(key)
        row = v.rows.get((cv, item_id))
        if row is not None and row.isHidden():
            self.filter.setCurrentIndex(0)
            self.apply_filter()
        v.goto(key, item_id)

    # -- filter and search -------------------------------------------------------------------
    def apply_filter(self) -> None:
        mode = self.filter.currentData() or "all"
        page = self.visit.stack.currentWidget()
        if not hasattr(page, "rows") or not hasattr(page, "section"):
            return
        status = {(self.visit.sections[k][0], iid): s for k, iid, s, _p in self.statuses()} if mode != "all" else {}
        shown = 0
        for iid, row in page.rows.items():
            ok = (mode == "all"
                  or (mode == "photos" and getattr(row, "photo_count", 0) > 0)
                  or status.get((page.cv_id, iid)) == mode)
            row.setVisible(ok)
            shown += ok
        self.status.setText("" if mode == "all" else f"本节显示 {shown}/{len(page.rows)} 项")

    def focus_search(self) -> None:
        self.search.setFocus(Qt.FocusReason.ShortcutFocusReason)
        self.search.selectAll()

    def find_next(self) -> bool:
        q = self.search.text().strip()
        if not q:
            return False
        v = self.visit
        order = [(key, it) for key, (cv, _cl, sec, _n) in v.sections.items() for it in sec.items]
        cur = v.current_item
        start = 0
        if cur is not None:
            start = next((i + 1 for i, (key, it) in enumerate(order)
                          if v.sections[key][0] == cur[0] and it.id == cur[1]), 0)
        for k in range(len(order)):
            key, it = order[(start + k) % len(order)]
            hay = f"{it.text} {getattr(it, 'basis', '')} {(getattr(it, 'params', None) or {}).get('label', '')}"
            if q.lower() in hay.lower():
                self._show(key, it.id)
                return True
        self.status.setText(f"没有包含“{q}”的检查项。")
        return False

    # -- current item: photo and note -------------------------------------------------------
    def _current_row(self) -> Any:
        v = self.visit
        return v.rows.get(v.current_item) if v.current_item else None

    def add_photo(self) -> None:
        row = self._current_row()
        strip = getattr(row, "photo_strip", None) if row is not None else None
        if strip is not None and strip.add_btn.isEnabled():
            strip.add_btn.setFocus(Qt.FocusReason.ShortcutFocusReason)
            strip.choose_files()

    def focus_note(self) -> None:
        row = self._current_row()
        if row is not None and hasattr(row, "note"):
            row.note.setFocus(Qt.FocusReason.ShortcutFocusReason)


def install(visit: Any) -> VisitNavigator:
    nav = getattr(visit, "navigator", None)
    if nav is None:
        nav = visit.navigator = VisitNavigator(visit)
        pin_primary_buttons(visit)
    return nav


PINNED = (("start_page", "开始逐项检查 →"),)


def pin_primary_buttons(visit: Any) -> None:
    """A page's primary button goes below its scroll area, so it stays in view however short
    the window (1366×768, 150 %) while the page's fields scroll above it."""
    for attr, text in PINNED:
        page = getattr(visit, attr, None)
        outer = page.layout() if page is not None else None
        btn = next((b for b in page.findChildren(QPushButton) if b.text() == text), None) if page else None
        if outer is None or btn is None:
            continue
        foot = QFrame(page)
        foot.setObjectName("pagefoot")
        foot.setStyleSheet("QFrame#pagefoot { border-top: 1px solid #e3e6ea; }")
        fl = QHBoxLayout(foot)
        fl.setContentsMargins(12, 6, 12, 6)
        fl.addStretch(1)
        fl.addWidget(btn)  # reparented: Qt takes it out of the scrolled layout
        outer.addWidget(foot)
