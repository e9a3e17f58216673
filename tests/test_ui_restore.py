"""Kill the app with SIGKILL mid-visit; the restart shows every answer and where the inspector was."""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys

from tests.conftest import ROOT


def test_sigkill_mid_visit_then_restart_restores_everything(qtbot, home):
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen", "INSPECTOR_HOME": str(home)}
    proc = subprocess.Popen([sys.executable, "-c", f"from tests.ui_fixtures import drive_mid_visit; "
                             f"drive_mid_visit({str(home)!r})"], cwd=ROOT, env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.DEVNULL, text=True)
    try:
        line = ""
        for line in proc.stdout:  # type: ignore[union-attr]
            if line.startswith("READY "):
                break
        assert line.startswith("READY "), "the app did not reach the visit"
        info = json.loads(line[6:])
        assert proc.poll() is None  # still running, mid-visit
        os.kill(proc.pid, signal.SIGKILL)
    finally:
        proc.wait(timeout=30)
    assert proc.returncode == -signal.SIGKILL

    from inspector.store import Store
    from ui.mainwindow import MainWindow
    from ui.qt import QApplication, setup_app

    setup_app(QApplication.instance())
    store = Store.open(home)
    try:
        assert store.integrity_check() == "ok"
        win = MainWindow(store)
        qtbot.addWidget(win)
        win.show()
        v = win.restore_last()
        assert v is not None and v.inspection_id == info["inspection"]
        cv = info["cv"]
        row = v.row(cv, "T-3-1")
        assert row.editor.edit.text() == "280" and row.status == "fail"
        assert v.row(cv, "T-3-2").editor.buttons["pass"].isChecked()
        assert v.row(cv, "T-3-3").editor.buttons["fail"].isChecked()
        assert v.row(cv, "T-3-4").editor.buttons["na"].isChecked()
        assert v.current_page_key() == f"sec:{cv}:T-5"
        assert v.current_item == (cv, "T-5-2")
        assert v.row(cv, "T-5-2").editor.hasFocus() or v.stack.currentWidget() is v.pages[f"sec:{cv}:T-5"]
        strokes = v.sign_page.boxes["inspector1"].pad.strokes()
        assert len(strokes) == 1 and len(strokes[0]) >= 10  # the unfinished signature survived too
        win.close_visit(remember=False)
    finally:
        store.close()
