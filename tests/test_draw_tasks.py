"""A draw becomes tasks through one function (inspector/draw_tasks.py), used by the laptop's store and by HQ."""
from __future__ import annotations

import datetime as dt
import itertools

import pytest

from inspector.draw import DrawParams, draw
from inspector.draw_tasks import tasks_for_draw
from inspector.errors import NotFound
from tests.draw_fixtures import inst, insp


@pytest.fixture(scope="module")
def drawn():
    insts = [inst(n, c, kind=k) for n, (c, k) in enumerate(itertools.chain.from_iterable(
        itertools.product(("红旗区", "卫滨区"), ("培训机构", "评价机构")) for _ in range(3)))]
    insps = [insp(n, c) for n, c in enumerate(["红旗区", "卫滨区"] * 3)]
    record = draw(insts, insps, "tasks-1", DrawParams(per_county=3, inspectors_per_task=2))
    return insts, insps, record


def test_one_open_task_per_drawn_institution(drawn):
    insts, insps, record = drawn
    inst_ids = {i["credit_code"]: f"inst-{n}" for n, i in enumerate(insts)}
    insp_ids = {i["badge_no"]: f"insp-{n}" for n, i in enumerate(insps)}
    ids = iter(f"task-{n}" for n in itertools.count())
    tasks = tasks_for_draw(record, "draw-1", inst_ids, insp_ids, day=dt.date(2026, 3, 30), due_days=5,
                           created_at="2026-03-30T09:00:00Z", make_id=lambda: next(ids))
    assert len(tasks) == len(record.tasks) == 6
    for n, (task, drawn_task) in enumerate(zip(tasks, record.tasks)):
        assert task == {
            "id": f"task-{n}", "draw_id": "draw-1", "kind": "draw",
            "institution_id": inst_ids[drawn_task.institution["credit_code"]],
            "inspector_ids": [insp_ids[i["badge_no"]] for i in drawn_task.inspectors],
            "checklist_ids": ["training" if drawn_task.institution["kind"] == "培训机构" else "evaluation"],
            "due_from": "2026-03-30", "due_to": "2026-04-04", "status": "open", "created_at": "2026-03-30T09:00:00Z"}
        assert len(task["inspector_ids"]) == 2
    assert {t["checklist_ids"][0] for t in tasks} == {"training", "evaluation"}


def test_a_drawn_name_missing_from_the_directory_is_refused(drawn):
    insts, insps, record = drawn
    inst_ids = {i["credit_code"]: "x" for i in insts}
    insp_ids = {i["badge_no"]: "y" for i in insps}
    gone = record.tasks[0].institution["credit_code"]
    with pytest.raises(NotFound, match=gone):
        tasks_for_draw(record, "d", {k: v for k, v in inst_ids.items() if k != gone}, insp_ids,
                       day=dt.date(2026, 1, 1), due_days=30, created_at="t")
    badge = record.tasks[-1].inspectors[0]["badge_no"]
    with pytest.raises(NotFound, match=badge):
        tasks_for_draw(record, "d", inst_ids, {k: v for k, v in insp_ids.items() if k != badge},
                       day=dt.date(2026, 1, 1), due_days=30, created_at="t")
