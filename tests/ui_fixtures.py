"""Shared data for the UI tests: a small directory, a visit, a roster, photos."""
from __future__ import annotations

from pathlib import Path
from typing import Any

from inspector.store import Store


def seed_directory(store: Store, n_inst: int = 5, n_insp: int = 4) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    from inspector import demo_directory
    from inspector.store import directory

    insts = demo_directory.make_institutions(n_inst, seed=7)
    people = demo_directory.make_inspectors(n_insp, seed=7)
    directory.upsert_institutions(store, insts)
    directory.upsert_inspectors(store, people)
    return directory.list_institutions(store), directory.list_inspectors(store)


def training_institution(store: Store) -> dict[str, Any]:
    from inspector.store import directory

    return next(i for i in directory.list_institutions(store) if i["kind"] == "培训机构")


def start_training_visit(store: Store) -> str:
    """An ad hoc visit to a training institution with two inspectors and the training checklist."""
    from inspector.store import directory
    from ui.screens import start_visit

    seed_directory(store)
    inst = training_institution(store)
    iid = start_visit(store, inst["id"])
    from inspector.store import visits

    people = [p["id"] for p in directory.list_inspectors(store)[:2]]
    visits.update_inspection(store, iid, inspector_ids=people, recorder_id=people[0])
    return iid


def write_roster(path: Path, n: int = 40) -> Path:
    from inspector import demo_directory

    rows = demo_directory.make_roster(n, seed=3)
    return demo_directory.write_roster(path, rows)


def write_photos(folder: Path, n: int = 3) -> list[Path]:
    from inspector import demo_photos

    folder.mkdir(parents=True, exist_ok=True)
    return [Path(p) for p in demo_photos.write_samples(folder, n, width=640, height=480)]


def drive_mid_visit(home: str) -> None:
    """Subprocess body for the kill test: open a visit in the real app, answer through the
    widgets, move to an item, print READY with what was done, then keep running until killed."""
    import json
    import sys

    from PySide6.QtCore import Qt
    from PySide6.QtTest import QTest

    from ui.app import build

    app, store, win = build(["--home", home])
    iid = start_training_visit(store)
    win.show()
    v = win.open_visit(iid)
    cv = v.insp.checklist_version_ids[0]
    v.goto(f"sec:{cv}:T-3", "T-3-1")
    QTest.keyClicks(v.row(cv, "T-3-1").editor.edit, "280")
    for item, key in (("T-3-2", Qt.Key.Key_1), ("T-3-3", Qt.Key.Key_2), ("T-3-4", Qt.Key.Key_3)):
        ed = v.row(cv, item).editor
        ed.setFocus()
        QTest.keyClick(ed, key)
    # half-finished signature: strokes drawn with the mouse, not yet confirmed
    v.goto("sign")
    pad = v.sign_page.boxes["inspector1"].pad
    QTest.mousePress(pad, Qt.MouseButton.LeftButton, pos=pad.rect().center())
    for dx in range(0, 60, 6):
        from PySide6.QtCore import QPoint, QPointF
        from PySide6.QtGui import QMouseEvent
        from PySide6.QtWidgets import QApplication

        p = QPointF(pad.rect().center() + QPoint(dx, dx // 3))
        QApplication.sendEvent(pad, QMouseEvent(QMouseEvent.Type.MouseMove, p, pad.mapToGlobal(p),
                                                Qt.MouseButton.NoButton, Qt.MouseButton.LeftButton,
                                                Qt.KeyboardModifier.NoModifier))
    QTest.mouseRelease(pad, Qt.MouseButton.LeftButton, pos=pad.rect().center())
    v.goto(f"sec:{cv}:T-5", "T-5-2")
    QTest.qWait(700)  # let the position timer fire, as it would while the inspector works
    # acknowledged: the background writer (inspector/store/writer.py) has committed what was done;
    # under heavy load its commit may land a little after the 700 ms (tests/test_ui_writer.py
    # checks the loss bound — the keystroke in flight — while typing)
    v.writer.flush()
    print("READY " + json.dumps({"inspection": iid, "cv": cv}), flush=True)
    sys.exit(app.exec())


# -- fixtures shared by the GUI visit tests (import them into the test module) --------------------
import pytest  # noqa: E402


@pytest.fixture
def window(qtbot, store):
    from ui.mainwindow import MainWindow
    from ui.qt import QApplication, setup_app

    setup_app(QApplication.instance())
    win = MainWindow(store)
    qtbot.addWidget(win)
    win.show()
    yield win
    win.close_visit(remember=False)


@pytest.fixture
def visit(window, store):
    """The main window with a training visit open."""
    return window.open_visit(start_training_visit(store))


def type_into_dialogs(qtbot: Any, answers: list[str | None], observe: Any = None) -> list[str]:
    """Answer the next modal QInputDialogs by keyboard: each answer typed into the dialog's field
    then Enter, None = Escape. Returns the dialogs' label texts as they were shown (or
    ``observe()``'s value at that moment)."""
    from PySide6.QtCore import Qt, QTimer
    from PySide6.QtTest import QTest
    from PySide6.QtWidgets import QApplication, QInputDialog, QLineEdit

    seen: list[str] = []

    def poll() -> None:
        w = QApplication.activeModalWidget()
        field = w.findChild(QLineEdit) if isinstance(w, QInputDialog) else None
        if field is not None and w.isVisible() and answers:
            seen.append(observe() if observe else w.labelText())
            a = answers.pop(0)
            if a is None:
                QTest.keyClick(w, Qt.Key.Key_Escape)
            else:
                QTest.keyClicks(field, a)
                QTest.keyClick(field, Qt.Key.Key_Return)
        if answers:
            QTimer.singleShot(20, poll)

    QTimer.singleShot(20, poll)
    return seen
