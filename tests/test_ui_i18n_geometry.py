"""Qt in Chinese and the window fitted to the screen: Qt's own zh_CN catalogue (standard buttons
是/否, 保存/关闭), zh_CN as the default locale; the main window within the available screen at
1366×768 and at 150 % on 1920×1080 (offscreen platform with a configured screen), the primary
buttons in view, and the size and place remembered per data folder."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

pytest.importorskip("pytestqt")

ROOT = Path(__file__).resolve().parents[1]


def test_qt_catalogue_ships_with_pyside6() -> None:
    from PySide6.QtCore import QLibraryInfo

    qm = Path(QLibraryInfo.path(QLibraryInfo.LibraryPath.TranslationsPath)) / "qtbase_zh_CN.qm"
    assert qm.is_file() and qm.stat().st_size > 10_000


def test_standard_dialogs_are_chinese(qtbot) -> None:
    from ui.app import install_translations
    from ui.qt import QApplication, QDialogButtonBox, QMessageBox
    from PySide6.QtCore import QLocale

    assert "qtbase" in install_translations(QApplication.instance())
    box = QMessageBox(QMessageBox.Icon.Question, "请确认", "确认面积？",
                      QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No)
    qtbot.addWidget(box)
    texts = sorted(b.text().replace("&", "") for b in box.buttons())
    assert texts == ["否(N)", "是(Y)"], texts
    bb = QDialogButtonBox(QDialogButtonBox.StandardButton.Save | QDialogButtonBox.StandardButton.Close)
    qtbot.addWidget(bb)
    assert sorted(b.text() for b in bb.buttons()) == ["保存", "关闭"]
    assert QLocale().name() == "zh_CN"


_FIT = r"""
import json, sys
from ui.app import build
from tests.ui_fixtures import start_training_visit
from ui.qt import QApplication, QPushButton, QScrollArea

home, mode = sys.argv[1], sys.argv[2]
app, store, win = build(["--home", home])
def settle():
    for _ in range(5):
        app.processEvents()
if mode == "resize":
    win.show(); settle()
    win.resize(1200, 640); win.move(60, 40); settle()
    win.close(); store.close()
    print(json.dumps({"ok": True})); sys.exit(0)
iid = start_training_visit(store)
win.show()
v = win.open_visit(iid)
settle()

def seen(b):
    # fully in view: inside the window and inside every scroll viewport above it
    r = b.rect()
    ok = b.isVisible() and win.rect().contains(b.mapTo(win, r.topLeft())) \
        and win.rect().contains(b.mapTo(win, r.bottomRight()))
    w = b.parentWidget()
    while w is not None and w is not win:
        if isinstance(w, QScrollArea):
            vp = w.viewport()
            ok = ok and vp.rect().contains(b.mapTo(vp, r.topLeft())) and vp.rect().contains(b.mapTo(vp, r.bottomRight()))
        w = w.parentWidget()
    return ok

out = {"avail": app.primaryScreen().availableGeometry().getRect(), "frame": win.frameGeometry().getRect(),
       "size": [win.width(), win.height()], "pos": [win.x(), win.y()], "buttons": {}}
for page, text in (("start", "开始逐项检查 →"), ("docs", "完成检查并锁定")):
    v.goto(page); settle()
    b = next(x for x in v.findChildren(QPushButton) if x.text() == text)
    out["buttons"][text] = seen(b)
# the visit header: its buttons and figures stay in view however narrow the window (names elide)
v.goto("start"); settle()
for b in (v.close_btn, v.undo_btn, v.redo_btn, v.progress, v.badge):
    out["buttons"]["header " + b.text().strip()[:6]] = seen(b)
out["header_fits"] = v.title.parentWidget().minimumSizeHint().width() <= v.width()
print(json.dumps(out, ensure_ascii=False))
win.close_visit(remember=False)
win.close()
store.close()
"""


def _run(tmp_path: Path, home: Path, width: int, height: int, scale: str, mode: str = "visit") -> dict:
    cfg = tmp_path / f"screen-{width}x{height}.json"
    cfg.write_text(json.dumps({"screens": [{"name": "s1", "x": 0, "y": 0, "width": width, "height": height,
                                            "logicalDpi": 96, "logicalBaseDpi": 96, "dpr": 1}]}))
    env = {**os.environ, "QT_QPA_PLATFORM": f"offscreen:configfile={cfg}", "QT_SCALE_FACTOR": scale,
           "PYTHONPATH": str(ROOT)}
    r = subprocess.run([sys.executable, "-c", _FIT, str(home), mode], cwd=ROOT, env=env, capture_output=True,
                       text=True, timeout=120, check=False)
    assert r.returncode == 0, r.stderr[-3000:]
    return json.loads(r.stdout.strip().splitlines()[-1])


@pytest.mark.parametrize("width, height, scale", [(1366, 768, "1"), (1920, 1080, "1.5"), (1366, 768, "1.5")])
def test_window_fits_the_screen_with_primary_buttons_in_view(tmp_path, width, height, scale) -> None:
    res = _run(tmp_path, tmp_path / "home", width, height, scale)
    ax, ay, aw, ah = res["avail"]
    fx, fy, fw, fh = res["frame"]
    assert (aw, ah) == (round(width / float(scale)), round(height / float(scale)))
    assert ax <= fx and ay <= fy and fx + fw <= ax + aw and fy + fh <= ay + ah, res
    assert all(res["buttons"].values()), res["buttons"]
    assert res["header_fits"] and len(res["buttons"]) == 7, res


def test_window_remembers_size_and_place(tmp_path) -> None:
    home = tmp_path / "home"
    _run(tmp_path, home, 1920, 1080, "1", mode="resize")
    res = _run(tmp_path, home, 1920, 1080, "1")
    assert res["size"] == [1200, 640] and res["pos"] == [60, 40], res
