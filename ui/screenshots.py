"""Screenshots for the README: ``python -m ui.screenshots docs/screenshots`` (run under Xvfb at
1366×768, or offscreen). Uses a fresh demo store, so the pictures show real screens and data."""
from __future__ import annotations

import sys
import tempfile
from pathlib import Path
from typing import Any


TEACHERS = [
    {"name": "张建国", "trade": "电工", "role": "理论", "degree": "本科", "qual": "中级职称", "relevant_bachelor": True,
     "years": 6, "teacher_cert": True, "contract": True},
    {"name": "李红梅", "trade": "电工", "role": "实训", "degree": "大专", "qual": "二级/技师", "relevant_bachelor": False,
     "years": 4, "teacher_cert": True, "contract": True},
    {"name": "王磊", "trade": "焊工", "role": "实训", "degree": "中专", "qual": "三级/高级工", "relevant_bachelor": False,
     "years": 1, "teacher_cert": False, "contract": True},
]


def main(argv: list[str]) -> int:
    out = Path(argv[0] if argv else "docs/screenshots")
    out.mkdir(parents=True, exist_ok=True)
    from ui.app import build
    from ui.qt import QApplication

    def settle() -> None:
        for _ in range(5):
            QApplication.processEvents()

    def shot(name: str, w: Any = None) -> None:
        settle()
        (w or win).grab().save(str(out / f"{name}.png"))
        print(out / f"{name}.png")

    # first start on a fresh laptop: empty data folder, the offer to enrol with HQ
    fresh_home = tempfile.mkdtemp(prefix="inspector-first-")
    _app, fresh, first = build(["--home", fresh_home])
    first.resize(1366, 768)
    first.show()
    shot("07_first_start", first)
    first.enrol_from_offer()
    shot("08_first_start_enrol", first)
    first.close()
    fresh.close()

    home = tempfile.mkdtemp(prefix="inspector-shots-")
    app, store, win = build(["--home", home, "--demo"])
    add_hq_reinspection(store)
    from inspector.store import directory

    from inspector import keys

    people = directory.list_inspectors(store)
    me = next((p for p in people if keys.has_key(store.home, p["badge_no"])), people[0])
    store.set_meta("ui.me", me["id"])  # the demo's inspector, who has a signing key
    win.dismiss_enrol_offer()  # the demo laptop said 以后再说
    win._status.setText("")
    win.resize(1366, 768)
    win.show()

    for key, _label in win.SCREENS:
        win.show_screen(key)
        scr = win.screens[key]
        if key == "institutions" and scr.model.rowCount():
            scr.table.selectRow(0)
        if key == "tasks" and scr.model.rowCount():
            re_task = next((r["id"] for r in map(scr.model.row, range(scr.model.rowCount()))
                            if r and r.get("kind") == "reinspection"), None)
            if re_task:
                scr.select_task(re_task)
            else:
                scr.table.selectRow(0)
        shot(f"{['tasks', 'institutions', 'inspections', 'rectifications', 'sync', 'settings'].index(key) + 1:02d}_{key}")
    from inspector.store import visits as _visits

    # every draft in the store (the list loads rows as they scroll into view: 150 % shows fewer)
    drafts = [i.id for i in _visits.list_inspections(store, status="draft")]

    # the training visit
    draft = next((d for d in drafts if any(c.startswith("training")
                                           for c in _visits.get_inspection(store, d).checklist_version_ids)), None)
    if draft is None:  # the demo left no training draft: start one, as an inspector would
        from ui.screens import start_visit

        inst = next(i for i in directory.list_institutions(store) if i["kind"] == "培训机构")
        draft = start_visit(store, inst["id"])
        _visits.update_inspection(store, draft, inspector_ids=[p["id"] for p in people[:2]],
                                  recorder_id=people[0]["id"],
                                  person_in_charge={"name": "王建华", "position": "校长", "phone": "13800000000"})
    if draft:
        v = win.open_visit(draft)
        shot("10_visit_start")
        cv = next((c for c in v.insp.checklist_version_ids if c.startswith("training")),
                  v.insp.checklist_version_ids[0])
        area = v.row(cv, "T-3-1")
        if area is not None and area.value() is None:
            area.editor.edit.setText("280")
            area.editor._typed("280")  # the live threshold turns it red
        v.goto(f"sec:{cv}:T-3", "T-3-2")
        shot("11_visit_items")
        teachers = next((k for k in v.sections if k.endswith(":T-2")), None)
        if teachers:
            v.goto(teachers)
            table = v.row(cv, "T-2-1").editor.model
            for t in TEACHERS:
                if len(table.rows) < len(TEACHERS):
                    table.add_row({k: val for k, val in t.items() if k in {c.id for c in table.columns}})
            shot("12_visit_teachers")
        v.goto("findings")
        v.findings_page.draft_from_failures()
        if v.findings_page.model.rowCount():
            v.findings_page.table.selectRow(0)
        shot("13_visit_findings")
        v.goto("sign")
        import math

        # the person in charge reads the 笔录 page by page before anyone signs
        sp = v.sign_page
        sp.read_record()
        if sp.reader is not None:
            r = sp.reader
            r.resize(820, min(760, win.height() - 40))
            for page in range(1, r.pages + 1):
                r.show_page(page)
            r.show_page(2 if r.pages > 1 else 1)
            shot("14_visit_reader", r)
            r.show_page(r.pages)
            r.accept()
            settle()
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


def add_hq_reinspection(store: object) -> None:
    """A 复查 task for the demo's rectification as HQ would send it (applied the way a sync pull
    applies it), so 任务 shows every kind of task."""
    import datetime as dt

    from inspector.store import directory, visits
    from inspector.sync import client
    from inspector.util import dumps, new_id, now_iso

    rects = visits.list_rectifications(store)  # type: ignore[arg-type]
    if not rects:
        return
    r = rects[0]
    people = [p["id"] for p in directory.list_inspectors(store)[:2]]  # type: ignore[arg-type]
    due = dt.date.fromisoformat(r["deadline"][:10])
    task = {"id": new_id(), "kind": "reinspection", "institution_id": r["institution_id"],
            "inspector_ids": dumps(people), "checklist_ids": dumps([]), "due_from": due.isoformat(),
            "due_to": (due + dt.timedelta(days=15)).isoformat(), "status": "open", "created_at": now_iso(),
            "note": f"复查：整改通知 {r.get('notice_number') or ''}，整改期限 {r['deadline'][:10]}"}
    with store.tx():  # type: ignore[attr-defined]
        client._apply_change(store, {"seq": 0, "entity": "task", "entity_id": task["id"], "data": task})  # type: ignore[arg-type]


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
