"""A whole 培训机构 visit and a whole 评价机构 visit through the real widgets by the keyboard alone
(issue 11, "Done when"): every item of the shipped checklists answered — the tick list, the typed
date, the tables (cells edit on typing, Tab out), the skip rule — then the 笔录 previewed and read
page by page, signed in order, finished; the finished 笔录's text (pdftotext) holds every answer,
typed text verbatim, and no internal id or error text.

The driver (tests/keyboard_visit.py) sends every event to the widget that has the focus and
counts key presses and mouse clicks; only the handwritten signatures are drawn with the pointer.
"""
from __future__ import annotations

import re
import subprocess
from typing import Any

import pytest

from tests import keyboard_visit as kv
from tests.ui_fixtures import window  # noqa: F401 - fixture

pytest.importorskip("pytestqt")

# internal ids and error texts that must never reach the paper
FORBIDDEN = [re.compile(p) for p in (r"\bT-\d+(-\d+)?\b", r"\bE-(\d{2}|[A-E])\b", r"training@", r"evaluation@",
                                     r"答案无效", r"Traceback", r"\bNone\b", r"未作答", r"未答", r"nan\b")]


def _start(store: Any, kind: str) -> str:
    from inspector.store import directory, visits
    from tests.ui_fixtures import seed_directory
    from ui.screens import start_visit

    seed_directory(store, n_inst=12)
    inst = next(i for i in directory.list_institutions(store) if i["kind"] == kind)
    iid = start_visit(store, inst["id"])
    people = [p["id"] for p in directory.list_inspectors(store)[:2]]
    visits.update_inspection(store, iid, inspector_ids=people, recorder_id=people[0])
    return iid


def _flat(text: str) -> str:
    return re.sub(r"\s+", "", text)


def _expected(item: Any, how: str, what: Any) -> list[str]:
    """What the paper must show for an answer given as ``how``/``what``."""
    if how == "verdict":
        return ["符合"]
    if how == "ime":
        return [what]
    if how == "pick":
        return [item.choices[what - 1]]
    if how == "ticks":
        return [item.choices[i] for i in what]
    if how == "skipped":
        return ["不适用"]
    if how == "table":
        out = []
        for cells in what:
            for col, (kind, v) in zip(item.columns, cells):
                if kind == "pick":
                    out.append((col.choices or ("是", "否"))[v - 1])
                else:
                    out.append(v)
        return out
    if item.type == "date":
        y, m, d = what[:4], int(what[4:6]), int(what[6:])
        return [f"{y}年{m}月{d}日"]
    return [what]


def _run_visit(qtbot: Any, window: Any, store: Any, kind: str, plan: dict[str, tuple[str, Any]],
               fails: set[str] = frozenset(), action: str | None = None) -> tuple[Any, Any, str]:
    from inspector import visit_state
    from inspector.store import visits
    from ui.qt import QApplication

    window.activateWindow()
    qtbot.waitActive(window)
    visit = window.open_visit(_start(store, kind))
    kb = kv.Keyboard(QApplication.instance(), window)
    phases = kv.drive_visit(kb, visit, plan, action)
    # by the keyboard alone: no click; the pointer only for the three handwritten signatures
    assert kb.n.clicks == 0 and kb.n.strokes == 9, kb.n.as_dict()
    assert sum(p["keys"] for p in phases.values()) == kb.n.keys
    insp = visits.get_inspection(store, visit.inspection_id)
    assert insp.locked and insp.ids_shown and insp.rights_explained
    assert insp.person_in_charge["recusal"] == kv.START["recusal"] and insp.place == kv.START["place"]
    # every item answered as planned, valid, with the skip rule applied by the core
    cv = insp.checklist_version_ids[0]
    states = {s.item.id: s for s in visit_state.item_states(
        visit.checklists[cv], visits.get_answers(store, visit.inspection_id).get(cv, {}), {},
        checklist_version_id=cv, institution_kind=kind)}
    assert set(states) == set(plan)
    for item_id, s in states.items():
        how = plan[item_id][0]
        assert not s.invalid, (item_id, s.invalid)
        want = "na" if how == "skipped" else ("fail" if item_id in fails else "pass")
        assert s.status == want and s.answered, (item_id, s.status, s.value)
    assert all(states[i].skipped for i, (how, _w) in plan.items() if how == "skipped")
    # a finding for each failed item, with the 整改要求 typed; the result says so
    fs = visits.list_findings(store, visit.inspection_id)
    assert sorted(f.item_id for f in fs) == sorted(fails)
    assert all(f.required_action == action and f.deadline and f.codes for f in fs)
    assert insp.result_category == ("发现问题已责令改正" if fails else "未发现问题")
    # the finished 笔录 on the 文书 page: the text as pdftotext reads it
    dp = visit.docs_page
    assert dp.doc is not None and dp.pdf is not None
    # finished: the button says so and cannot be pressed again
    assert not dp.finish_btn.isEnabled() and dp.finish_btn.text() == "已完成并锁定"
    assert "状态：已定稿，待数字签名" in dp.state.text()   # final text, not a 草稿
    text = subprocess.run(["pdftotext", "-", "-"], input=dp.pdf, capture_output=True, check=True).stdout.decode()
    return visit, kb, text


def _check_record(visit: Any, plan: dict[str, tuple[str, Any]], text: str) -> None:
    flat = _flat(text)
    cv = visit.insp.checklist_version_ids[0]
    missing = []
    for item in visit.checklists[cv].items:
        how, what = plan[item.id]
        missing += [(item.id, "requirement")] if _flat(item.text)[:14] not in flat else []
        missing += [(item.id, w) for w in _expected(item, how, what) if _flat(str(w)) not in flat]
    for k in ("place", "name", "position", "recusal"):
        missing += [] if _flat(kv.START[k]) in flat else [(k, kv.START[k])]
    # the person in charge's phone is typed in full, sealed at rest and printed masked
    phone = kv.START["phone"]
    missing += [] if f"{phone[:3]}****{phone[-4:]}" in flat else [("phone masked", phone)]
    missing += [("phone in clear", phone)] if phone in flat else []
    assert not missing, missing
    bad = [(rx.pattern, m.group(0), text[max(0, m.start() - 40):m.end() + 40])
           for rx in FORBIDDEN for m in [rx.search(text)] if m]
    assert not bad, bad
    # finished, not a preview: the end of the visit and the signature dates are filled in
    assert re.search(r"至\d{4}年\d{1,2}月\d{1,2}日", flat), "the finished record has the end time"


def test_training_visit_by_keyboard(qtbot, window, store) -> None:
    plan = kv.training_plan()
    visit, kb, text = _run_visit(qtbot, window, store, "培训机构", plan)
    _check_record(visit, plan, text)
    # the skip rule on paper: T-6-3…5 are 不适用 with the rule, not missing
    assert "“是否开展线上培训”为“否”" in _flat(text) or _flat(text).count("不适用") >= 3


def test_evaluation_visit_by_keyboard(qtbot, window, store) -> None:
    plan = kv.evaluation_plan()
    visit, kb, text = _run_visit(qtbot, window, store, "评价机构", plan, kv.EVALUATION_FAILS, kv.EVALUATION_ACTION)
    _check_record(visit, plan, text)
    # what was found is on paper (the facts and the code; the 整改要求 goes to the 责令限期整改通知书)
    from inspector.store import visits

    flat = _flat(text)
    [f] = visits.list_findings(visit.store, visit.inspection_id)
    # a 符合/不符合 item: the fact as recorded, never the requirement negated (f.description)
    text = visit.checklists[f.checklist_version_id].item(f.item_id).text
    assert _flat(f"现场检查“{text}”，记录为“不符合”") in flat and "未达到以下要求" not in flat
    assert "本次检查未发现问题" not in flat
