"""The app shell: layering rules, start-up with --demo, 关于 shows the version, screens open."""
from __future__ import annotations

import re

from tests.conftest import ROOT


def test_ui_never_runs_sql_or_reportlab():
    bad = re.compile(r"\b(SELECT|INSERT INTO|UPDATE \w+ SET|DELETE FROM)\b|\.execute\(|import reportlab|from reportlab")
    for p in sorted((ROOT / "ui").rglob("*.py")):
        text = p.read_text(encoding="utf-8")
        assert not bad.search(text), f"{p.relative_to(ROOT)} talks to the database or reportlab directly"
        if p.name != "qt.py":
            assert "from PySide6.QtWidgets import (" not in text or p.name == "qt.py"


def test_demo_start_opens_visit_in_progress(qtbot, home):
    import inspector
    from ui.app import build

    app, store, win = build(["--home", str(home), "--demo"])
    qtbot.addWidget(win)
    try:
        win.show()
        tasks = win.get_screen("tasks")
        assert tasks.model.rowCount() > 0
        assert inspector.__version__ in win.about_text()
        for key, _label in win.SCREENS:
            win.show_screen(key)
            assert win.stack.currentWidget() is win.screens[key]
        drafts = [r for r in (win.screens["inspections"].model.row(i)
                              for i in range(win.screens["inspections"].model.rowCount())) if r["status"] == "draft"]
        assert drafts, "demo data has a visit in progress"
        v = win.open_visit(drafts[0]["id"])
        assert v is not None and any(v.answers.values())
        win.close_visit()
        # a second start does not seed twice
        from ui.app import seed_demo_if_empty

        assert seed_demo_if_empty(store) is False
    finally:
        win.close_visit(remember=False)
        store.close()


def test_font_is_registered_so_chinese_renders(qtbot):
    from ui.qt import QApplication, font_family, setup_app

    setup_app(QApplication.instance())
    fam = font_family()
    assert fam and fam in QApplication.instance().font().families()
    from PySide6.QtGui import QFontMetrics, QFont

    assert QFontMetrics(QFont(fam)).inFont("检")
