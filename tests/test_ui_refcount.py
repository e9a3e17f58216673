"""A long visit does not crash the app: PySide6 6.12.0's ``QObject.property()`` under-counts the
reference of what it returns, and the number editor called it on every keystroke, so after about a
thousand keystrokes the process aborted ("Fatal Python error: bool_dealloc"). The app keeps its
own dynamic properties on the Python side (ui.qt.set_prop / prop); typing into the editors must
leave the interpreter's reference counts of True, False and None where they were."""
from __future__ import annotations

import sys

from tests.ui_fixtures import visit, window  # noqa: F401 (fixtures)


def _type(qtbot, w, n: int) -> None:
    from PySide6.QtTest import QTest

    from ui.qt import Qt

    # a valid digit, a refused letter, another digit, then back to empty: every editor path runs, and
    # the field ends empty so leaving it asks no 是/否 question (a modal would block the test)
    keys = [Qt.Key.Key_5, Qt.Key.Key_A, Qt.Key.Key_Backspace, Qt.Key.Key_0, Qt.Key.Key_Backspace,
            Qt.Key.Key_Backspace]
    for i in range(n - n % len(keys)):
        QTest.keyClick(w, keys[i % len(keys)])
    qtbot.wait(50)


def test_typing_keeps_reference_counts(qtbot, visit):  # noqa: F811
    cv = visit.insp.checklist_version_ids[0]
    cl = visit.checklists[cv]
    for typ in ("number", "text", "date"):
        it = next(i for i in cl.items if i.type == typ)
        visit.goto(f"sec:{cv}:{it.section_id}", it.id)
        w = getattr(visit.row(cv, it.id).editor, "edit", visit.row(cv, it.id).editor)
        w.setFocus()
        _type(qtbot, w, 30)  # warm-up: caches, first-time allocations
        before = [sys.getrefcount(x) for x in (True, False, None)]
        _type(qtbot, w, 150)
        after = [sys.getrefcount(x) for x in (True, False, None)]
        # a leak of one reference per keystroke would show as -150; allow noise from caches
        assert all(a - b > -20 for a, b in zip(after, before)), (typ, before, after)
