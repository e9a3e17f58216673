"""Screenshots for the README: ``python -m ui.screenshots docs/screenshots`` (run under Xvfb at
1366×768, or offscreen). Uses a fresh demo store, so the pictures show real screens and data."""
from __future__ import annotations

import sys
import tempfile
from pathlib import Path


def main(argv: list[str]) -> int:
    out = Path(argv[0] if argv else "docs/screenshots")
    out.mkdir(parents=True, exist_ok=True)
    from ui.app import build
    from ui.qt import QApplication

    home = tempfile.mkdtemp(prefix="inspector-shots-")
    app, store, win = build(["--home", home, "--demo"])
    win.resize(1366, 768)
    win.show()

    def settle() -> None:
        for _ in range(5):
            QApplication.processEvents()

    def shot(name: str) -> None:
        settle()
        win.grab().save(str(out / f"{name}.png"))
        print(out / f"{name}.png")

    for key, _label in win.SCREENS:
        win.show_screen(key)
        scr = win.screens[key]
        if key == "institutions" and scr.model.rowCount():
            scr.table.selectRow(0)
        if key == "tasks" and scr.model.rowCount():
            scr.table.selectRow(0)
        shot(f"{['tasks', 'institutions', 'inspections', 'rectifications', 'sync', 'settings'].index(key) + 1:02d}_{key}")
    insp = win.screens["inspections"].model
    draft = next((insp.row(i)["id"] for i in range(insp.rowCount()) if insp.row(i)["status"] == "draft"), None)
    if draft:
        v = win.open_visit(draft)
        shot("10_visit_start")
        cv = v.insp.checklist_version_ids[0]
        area = v.row(cv, "T-3-1")
        if area is not None and area.value() is None:
            area.editor.edit.setText("280")
            area.editor._typed("280")  # the live threshold turns it red
        v.goto(f"sec:{cv}:T-3", "T-3-2")
        shot("11_visit_items")
        teachers = next((k for k in v.pages if k.endswith(":T-2")), None)
        if teachers:
            v.goto(teachers)
            shot("12_visit_teachers")
        v.goto("findings")
        v.findings_page.draft_from_failures()
        if v.findings_page.model.rowCount():
            v.findings_page.table.selectRow(0)
        shot("13_visit_findings")
        v.goto("sign")
        import math

        for seed, box in enumerate(v.sign_page.boxes.values()):
            box.pad.set_strokes([[(40 + 60 * c + 12 * math.sin(i / 2 + seed + c), 30 + 4 * i, 0.6)
                                  for i in range(18)] for c in range(3)])
        shot("14_visit_sign")
        v.goto("docs")
        v.docs_page.make()
        from PySide6.QtTest import QTest

        QTest.qWait(2500)  # QPdfView renders pages in the background
        shot("15_visit_documents")
        win.close_visit(remember=False)
    store.close()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
