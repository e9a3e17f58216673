"""Key presses and clicks to finish the shipped 培训机构 checklist with the keyboard alone (issue 11):
the same driver as tests/test_ui_keyboard_visit.py (tests/keyboard_visit.py), in a fresh offscreen
process. Reported: keys and clicks for the 37 items (against the figure the issue gives to beat,
214 keystrokes and 30 clicks), how many of those keys are the answers' own characters (names,
figures, text) and how many move or choose, and the whole visit (start → sign → finish).

The counts do not depend on the machine; the seconds of the whole keyboard visit are compared with
the same number of key presses typed into a bare QLineEdit in the same process (a scale, not a target).
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
ISSUE_KEYS, ISSUE_CLICKS = 214, 30   # issue 11: today's figure for the 37 items

SCRIPT = r"""
import json, os, sys, time
from pathlib import Path
home = Path(sys.argv[1])
os.environ["INSPECTOR_HOME"] = str(home)
from ui.qt import QApplication, setup_app
app = QApplication(sys.argv[:1])
setup_app(app)
from PySide6.QtTest import QTest
from inspector.store import Store
from tests import keyboard_visit as kv
from tests.ui_fixtures import start_training_visit
from ui.mainwindow import MainWindow

store = Store.open(home)
win = MainWindow(store)
win.show()
win.activateWindow()
QTest.qWaitForWindowActive(win)
visit = win.open_visit(start_training_visit(store))
kb = kv.Keyboard(app, win)
t0 = time.perf_counter()
phases = kv.drive_visit(kb, visit, kv.training_plan())
secs = time.perf_counter() - t0
# the scale: the same number of key presses typed into a bare QLineEdit in this process
from PySide6.QtWidgets import QLineEdit
from PySide6.QtCore import Qt
bare = QLineEdit(); bare.show(); bare.activateWindow(); QTest.qWaitForWindowActive(bare)
t = time.perf_counter()
for i in range(kb.n.keys):
    app.processEvents(); QTest.keyClick(app.focusWidget() or bare, "x" if i % 40 else Qt.Key.Key_Backspace)
turn = time.perf_counter() - t
items = len(visit.checklists[visit.insp.checklist_version_ids[0]].items)
print("RESULT " + json.dumps({"phases": phases, "total": kb.n.as_dict(), "seconds": secs, "turn": turn,
                              "items": items, "locked": visit.insp.locked}))
win.close_visit(remember=False)
store.close()
"""


def run() -> list[dict]:
    with tempfile.TemporaryDirectory() as tmp:
        env = {**os.environ, "QT_QPA_PLATFORM": "offscreen", "PYTHONPATH": str(ROOT)}
        r = subprocess.run([sys.executable, "-c", SCRIPT, tmp], cwd=ROOT, env=env, capture_output=True, text=True,
                           timeout=600, check=False)
    line = next((x for x in r.stdout.splitlines() if x.startswith("RESULT ")), None)
    if r.returncode != 0 or line is None:
        raise RuntimeError(f"keyboard visit failed: {r.stderr[-2000:]}")
    res = json.loads(line[len("RESULT "):])
    if not res["locked"]:
        raise RuntimeError("the keyboard visit did not finish")
    cl, tot = res["phases"]["checklist"], res["total"]
    n = res["items"]
    return [
        {"name": f"keys to answer the {n} training items by keyboard", "seconds": None,
         "baseline": f"issue 11 figure ({ISSUE_KEYS} keys, {ISSUE_CLICKS} clicks)", "baseline_seconds": None,
         "ratio": cl["keys"] / ISSUE_KEYS, "target": "clicks 0",
         "note": (f"{cl['keys']} keys ({cl['content']} of them the answers' own characters: 11 table rows of "
                  f"names and figures, the date, the area, the note; {cl['keys'] - cl['content']} Tab/Space/digit "
                  f"keys to move and choose), {cl['clicks']} clicks"),
         "meaning": "keys per item set against the issue's count; the clicks are what the keyboard path removed"},
        {"name": "whole training visit by keyboard (start → items → result → read → sign → finish)",
         "seconds": res["seconds"], "baseline": "as many keys typed into a bare QLineEdit",
         "baseline_seconds": res["turn"], "ratio": res["seconds"] / max(res["turn"], 1e-9), "target": "-",
         "note": (f"{tot['keys']} keys ({tot['content']} content), {tot['clicks']} clicks, {tot['strokes']} pen "
                  "strokes (3 handwritten signatures); per phase: "
                  + ", ".join(f"{k} {v['keys']}k/{v['clicks']}c" for k, v in res["phases"].items())),
         "meaning": "the counts are the figure; the ratio is what the app's work per key (validation, "
                    "the writer, the rendering of the 笔录) costs over Qt's own key handling"},
    ]
