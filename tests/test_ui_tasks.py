"""任务 and 整改 screens: every task kind HQ sends (双随机抽查, 专项检查, 整改复查) is listed and
startable; a 复查 task pulled from a real HQ on loopback starts an inspection tied to the task
and to the rectification it was ordered for; the 整改 buttons change status and start re-inspections."""
from __future__ import annotations

import random
from pathlib import Path

from tests.store_fixtures import finish_synthetic
from tests.ui_fixtures import seed_directory


def _rows(model) -> list[dict]:
    return [model.row(i) for i in range(len(model.ids))]


def _cell(model, row_id: str, key: str) -> str:
    r = model.ids.index(row_id)
    c = [col.key for col in model.columns].index(key)
    return model.data(model.index(r, c))


def test_every_task_kind_from_hq_is_listed_and_a_reinspection_starts(qtbot, tmp_path: Path):
    from inspector import sync
    from inspector.sync.client import enrolment
    from inspector.hq.console import data as console
    from inspector.store import visits
    from inspector.util import dumps, new_id, now_iso
    from tests.hq_fixtures import enrolled_laptop, make_inspection, service, start_hq
    from ui.qt import Qt
    from ui.screens import RectificationsScreen, TasksScreen

    hq = start_hq(tmp_path / "hq")
    try:
        store = enrolled_laptop(tmp_path / "laptop", hq)
        me = enrolment(store)["inspector_id"]
        # a finished visit with a rectification, pushed; HQ then orders a 复查 and assigns other tasks
        iid = make_inspection(store, random.Random(3), photos=0, finish=True)
        inst = visits.get_inspection(store, iid).institution_id
        rid = visits.create_rectification(store, iid, deadline="2026-12-01", notice_number="新人社限改〔2026〕1号")
        assert sync.sync(store).ok
        console.create_reinspection(hq.engine, rid, [me, "insp-b"], "admin")
        for kind in ("draw", "adhoc"):
            service.save_task(hq.engine, {"id": new_id(), "kind": kind, "institution_id": inst,
                                          "inspector_ids": dumps([me, "insp-b"]), "checklist_ids": dumps([]),
                                          "due_from": "2026-11-20", "due_to": "2026-12-20", "status": "open",
                                          "created_at": now_iso()})
        assert sync.sync(store).ok

        s = TasksScreen(store)
        qtbot.addWidget(s)
        s.refresh()
        rows = _rows(s.model)
        assert sorted(r["kind_text"] for r in rows) == ["专项检查", "双随机抽查", "整改复查"]
        re_task = next(r for r in rows if r["kind"] == "reinspection")
        assert _cell(s.model, re_task["id"], "kind_text") == "整改复查"
        assert _cell(s.model, re_task["id"], "institution_name") == "测试培训学校"
        assert _cell(s.model, re_task["id"], "offline_text") == "离线可用"  # no checklist named: by kind
        assert "整改通知" in _cell(s.model, re_task["id"], "note")
        assert "整改复查 1" in s.sub.text()

        assert s.select_task(re_task["id"])
        with qtbot.waitSignal(s.open_inspection) as opened:
            qtbot.mouseClick(s.start_btn, Qt.MouseButton.LeftButton)
        new = visits.get_inspection(store, opened.args[0])
        assert new.task_id == re_task["id"] and new.institution_id == inst
        assert [store.one("SELECT checklist_id FROM checklist_versions WHERE id = ?", (c,))["checklist_id"]
                for c in new.checklist_version_ids] == ["training"]
        assert new.inspector_ids == [me, "insp-b"]
        assert _cell(s.model, re_task["id"], "status_text") == "检查中"
        rect = next(r for r in visits.list_rectifications(store) if r["id"] == rid)
        assert rect["reinspection_task_id"] == re_task["id"]
        assert rect["reinspection_inspection_id"] == new.id  # HQ learns which visit re-inspected it

        # starting the task again continues the same visit
        assert s.select_task(re_task["id"])
        with qtbot.waitSignal(s.open_inspection) as again:
            s.start_selected()
        assert again.args[0] == new.id

        # 整改 shows it as under re-inspection; 开始复查 opens that visit instead of a second one
        rs = RectificationsScreen(store)
        qtbot.addWidget(rs)
        rs.refresh()
        assert _cell(rs.model, rid, "reinspection_text") == "复查中"
        rs.select(rid)
        with qtbot.waitSignal(rs.open_inspection) as via_rect:
            qtbot.mouseClick(rs.reinspect_btn, Qt.MouseButton.LeftButton)
        assert via_rect.args[0] == new.id
        assert len(visits.list_inspections(store, institution_id=inst)) == 2
        # once finished, the task shows 已完成 and opens the finished visit (no new one)
        finish_synthetic(store, new.id)
        rs.refresh()
        assert _cell(rs.model, rid, "reinspection_text") == "复查已完成"
        s.refresh()
        assert _cell(s.model, re_task["id"], "status_text") == "已完成"
        s.select_task(re_task["id"])
        with qtbot.waitSignal(s.open_inspection) as done:
            s.start_selected()
        assert done.args[0] == new.id and len(visits.list_inspections(store, institution_id=inst)) == 2
        store.close()
    finally:
        hq.stop()


def test_rectification_buttons_change_status_and_start_a_reinspection(qtbot, store):
    from inspector.store import visits
    from ui.qt import Qt
    from ui.screens import RectificationsScreen, start_visit

    insts, _people = seed_directory(store)
    a, b = insts[0], insts[1]
    first = start_visit(store, a["id"])
    late = visits.create_rectification(store, first, deadline="2020-01-31", notice_number="限改〔2020〕1号")
    second = start_visit(store, b["id"])
    ok = visits.create_rectification(store, second, deadline="2099-12-31", notice_number="限改〔2099〕2号")
    s = RectificationsScreen(store)
    qtbot.addWidget(s)
    s.refresh()
    assert _cell(s.model, late, "days_text").startswith("逾期") and "逾期 <b" in s.sub.text()
    assert _cell(s.model, late, "reinspection_text") == "待复查"

    s.select(ok)
    qtbot.mouseClick(s.status_btns["已按期整改"], Qt.MouseButton.LeftButton)
    assert next(r for r in visits.list_rectifications(store) if r["id"] == ok)["status"] == "已按期整改"
    assert _cell(s.model, ok, "status") == "已按期整改" and _cell(s.model, ok, "days_text") == "已关闭"
    assert s.model.row(s.table.currentIndex().row())["id"] == ok  # the selection stays on the row
    # the change is in the audit chain and queued for HQ
    assert store.scalar("SELECT count(*) FROM audit_log WHERE entity = 'rectification' AND entity_id = ?"
                        " AND action = 'status' AND payload LIKE '%已按期整改%'", (ok,)) == 1
    assert store.scalar("SELECT count(*) FROM outbox WHERE entity = 'rectification' AND entity_id = ?"
                        " AND sent_at IS NULL", (ok,)) == 1

    s.select(late)
    with qtbot.waitSignal(s.open_inspection) as opened:
        qtbot.mouseClick(s.reinspect_btn, Qt.MouseButton.LeftButton)
    re = visits.get_inspection(store, opened.args[0])
    assert re.institution_id == a["id"] and re.id != first and not re.locked and re.checklist_version_ids
    rect = next(r for r in visits.list_rectifications(store) if r["id"] == late)
    assert rect["reinspection_inspection_id"] == re.id and rect["status"] == "待整改"
    assert _cell(s.model, late, "reinspection_text") == "复查中"
    s.select(late)
    qtbot.mouseClick(s.status_btns["逾期整改"], Qt.MouseButton.LeftButton)
    assert _cell(s.model, late, "status") == "逾期整改"
    # nothing selected: a plain hint, no crash
    s.table.clearSelection()
    s.table.setCurrentIndex(s.model.index(-1, -1))
    with qtbot.waitSignal(s.message) as msg:
        s.set_status("逾期整改")
    assert "请先选择" in msg.args[0]
