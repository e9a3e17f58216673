"""The core model of a visit (inspector.visit_state): answer validation, skip rules, progress,
the finish check (one test per refusal), overrides, idempotent rectification, kind-aware
drafting, the shared grade function, and NaN never reaching the audit log."""
from __future__ import annotations

import datetime as _dt
import json
import math
from typing import Any, Callable

import pytest

from inspector import forms, visit_state
from inspector.errors import FormError, StoreError, ValidationError
from inspector.store import Store, visits
from inspector.store import documents as docs
from inspector.visit_state import check_answer
from tests.visit_fixtures import passing_answers

TRAINING = next(c for c in forms.load_all() if c.id == "training")
TRAINEES = next(c for c in forms.load_all() if c.id == "trainee_check")
PNG = b"\x89PNG\r\n\x1a\n" + b"\0" * 64  # stored as a blob; never decoded here


def item(iid: str) -> forms.Item:
    return TRAINING.item(iid)


# -- check_answer: one test per editor rule ---------------------------------------------------
@pytest.mark.parametrize("raw, want", [
    (["学员花名册", "教学计划"], ["学员花名册", "教学计划"]),
    (["教学计划", "学员花名册", "教学计划"], ["学员花名册", "教学计划"]),   # checklist order, no duplicates
    ("学员花名册,教学计划", ["学员花名册", "教学计划"]),
    ("教学计划、学员花名册", ["学员花名册", "教学计划"]),
    ("教学计划", ["教学计划"]),                                            # a single value
    ('["教学计划"]', ["教学计划"]),
    ([], []),                                                              # nothing seen: an answer
])
def test_multi_select_accepts_lists_single_values_and_comma_strings(raw: Any, want: list[str]) -> None:
    got = check_answer(item("T-6-6"), raw)
    assert got.problem is None and got.value == want


def test_multi_select_refuses_unknown_choice() -> None:
    got = check_answer(item("T-6-6"), "学员花名册,营业执照")
    assert got.value is None and "“营业执照”不是可选项" in (got.problem or "")


def test_single_choice() -> None:
    assert check_answer(item("T-6-2"), "否").value == "否"
    assert check_answer(item("T-6-2"), ["是"]).value == "是"
    bad = check_answer(item("T-6-2"), "可能")
    assert bad.value is None and "不是可选项（可选：是、否）" in (bad.problem or "")


@pytest.mark.parametrize("raw", ["2027-12-31", "20271231", "2027/12/31", "2027.12.31", "2027年12月31日",
                                 "２０２７－１２－３１", _dt.date(2027, 12, 31)])
def test_dates_in_every_usual_form(raw: Any) -> None:
    assert check_answer(item("T-1-6"), raw) == visit_state.AnswerCheck("2027-12-31")


@pytest.mark.parametrize("raw, why", [("2027-02-30", "没有这一天"), ("20271331", "没有这一天"),
                                      ("0271231", "不是日期"), ("明年", "不是日期"), ("1800-01-01", "年份不合理")])
def test_invalid_dates_are_refused(raw: str, why: str) -> None:
    got = check_answer(item("T-1-6"), raw)
    assert got.value is None and why in (got.problem or "")


@pytest.mark.parametrize("raw, why", [
    ("28a", "“28a”不是数字"), ("nan", "不是数字"), ("NaN", "不是数字"), ("inf", "不是数字"),
    ("-inf", "不是数字"), (float("nan"), "NaN"), (float("inf"), "无穷大"), ("-50", "不能为负数"),
    (-1, "不能为负数"), ("280 米", "不是数字"), (True, "不是数字"), ("1,0,0a", "不是数字"),
])
def test_numbers_refuse_letters_nan_infinity_and_negatives(raw: Any, why: str) -> None:
    got = check_answer(item("T-3-1"), raw)
    assert got.value is None and why in (got.problem or ""), got


@pytest.mark.parametrize("raw, want", [("280", 280), ("280㎡", 280), ("280 ㎡", 280), ("1,200", 1200),
                                       ("350.5", 350.5), ("３００", 300), (300.0, 300), ("3e2", 300)])
def test_numbers_strip_the_items_unit_and_separators(raw: Any, want: float) -> None:
    got = check_answer(item("T-3-1"), raw)
    assert got.problem is None and got.value == want and type(got.value) is type(want)


def test_count_must_be_whole() -> None:
    cl = next(c for c in forms.load_all() if c.id == "evaluation")
    assert check_answer(cl.item("E-31"), "12名").value == 12
    assert "应为整数" in (check_answer(cl.item("E-31"), "12.5").problem or "")


def test_implausible_number_asks_to_confirm_but_is_not_refused() -> None:
    got = check_answer(item("T-3-1"), "1e6 ㎡")
    assert got.value == 1_000_000 and got.problem is None
    assert got.confirm and got.confirm.startswith("确认理论课集中培训面积 1,000,000 ㎡？")
    assert check_answer(item("T-3-1"), "450").confirm is None


def test_checklist_plausible_range_wins_and_the_loader_checks_it() -> None:
    src = TRAINING.source.replace('threshold = { op = ">=", value = 300 }',
                                  'threshold = { op = ">=", value = 300 }\nplausible = [100, 5000]')
    cl = forms.parse_checklist(src, "x.toml")
    assert cl.item("T-3-1").plausible == (100.0, 5000.0)
    assert check_answer(cl.item("T-3-1"), "6000").confirm is not None
    assert check_answer(cl.item("T-3-1"), "50000").confirm is not None
    assert check_answer(cl.item("T-3-1"), "4000").confirm is None
    for bad, msg in (('plausible = [5000, 100]', "min < max"), ('plausible = ["a", 1]', "min < max"),
                     ('plausible = 5', "must be a list")):
        with pytest.raises(FormError, match=msg):
            forms.parse_checklist(TRAINING.source.replace(
                'threshold = { op = ">=", value = 300 }', 'threshold = { op = ">=", value = 300 }\n' + bad), "x")
    with pytest.raises(FormError, match="only for number and count"):
        forms.parse_checklist(TRAINING.source.replace('id = "T-1-1"\n', 'id = "T-1-1"\nplausible = [1, 2]\n'), "x")


def test_text_is_kept_verbatim_only_trimmed() -> None:
    assert check_answer(item("T-6-9"), "  机构称：线上平台 2027 年启用。 ").value == "机构称：线上平台 2027 年启用。"
    assert check_answer(item("T-6-9"), "   ").value is None
    assert "不是文字" in (check_answer(item("T-6-9"), 5).problem or "")


@pytest.mark.parametrize("raw, want", [("符合", "pass"), ("不符合", "fail"), ("不适用", "na"), (True, "pass"),
                                       (False, "fail"), ("是", "pass"), ("否", "fail"), ("na", "na")])
def test_yes_no_and_verdict_words(raw: Any, want: str) -> None:
    assert check_answer(item("T-1-1"), raw).value == want


def test_table_rows_are_validated_per_column_type() -> None:
    t = item("T-2-1")
    rows = [{"姓名": " 赵明 ", "trade": "厨师", "role": "理论", "years": "3", "contract": "是", "teacher_cert": "否"},
            {"name": "", "years": None}]  # a wholly blank row is dropped
    got = check_answer(t, rows)
    assert got.problem is None and len(got.value) == 1  # type: ignore[arg-type]
    row = got.value[0]  # type: ignore[index]
    assert row["name"] == "赵明" and row["years"] == 3 and row["contract"] is True and row["teacher_cert"] is False
    assert row["degree"] is None  # blank cells stay blank: the rule says which are required
    for bad, msg in (([{"years": "两年"}], "第1行“本专业教学年限”：“两年”不是数字"),
                     ([{"name": "a"}, {"years": "nan"}], "第2行“本专业教学年限”"),
                     ([{"years": -2}], "不能为负数"),
                     ([{"years": float("nan")}], "不能为 NaN"),
                     ([{"role": "后勤"}], "第1行“类别”：“后勤”不是可选项"),
                     ([{"contract": "也许"}], "应为 是 或 否"),
                     ([{"salary": 1}], "没有“salary”这一列"),
                     ("{bad json", "JSON"), ({"name": "a"}, "行的列表")):
        got = check_answer(t, bad)
        assert got.value is None and msg in (got.problem or ""), (bad, got)


def test_na_and_empty() -> None:
    for iid in ("T-3-1", "T-1-6", "T-6-6", "T-2-1"):
        assert check_answer(item(iid), "不适用").value == "na"
        assert check_answer(item(iid), "") == visit_state.AnswerCheck(None)


def test_normalised_values_check_to_themselves() -> None:
    for it in TRAINING.items:
        v = passing_answers(TRAINING)[it.id]
        once = check_answer(it, v).value
        assert check_answer(it, once).value == once


# -- a visit in the store ------------------------------------------------------------------------
def _setup(store: Store, kind: str = "培训机构") -> tuple[str, str]:
    from inspector import demo_directory
    from inspector.store import checklists, directory

    insts = [r for r in demo_directory.make_institutions(12, 5) if r["kind"] == kind]
    directory.upsert_institutions(store, insts[:1])
    directory.upsert_inspectors(store, demo_directory.make_inspectors(2, 5))
    inst = store.one("SELECT id FROM institutions WHERE credit_code = ?", (insts[0]["credit_code"],))
    people = [r["id"] for r in store.rows("SELECT id FROM inspectors ORDER BY badge_no")]
    cv = checklists.ensure_version(store, TRAINING)
    assert inst
    iid = visits.start_inspection(store, inst["id"], inspector_ids=people, checklist_version_ids=[cv])
    return iid, cv


def _complete(store: Store, iid: str, cv: str) -> None:
    """Everything a finished record needs: a clean visit, signed."""
    visits.update_inspection(store, iid, ids_shown=True, rights_explained=True, result_category="未发现问题",
                             person_in_charge={"name": "王校长", "position": "校长"})
    for k, v in passing_answers(TRAINING).items():
        visits.set_answer(store, iid, cv, k, v)
    _read_and_sign(store, iid)


def _read_and_sign(store: Store, iid: str) -> None:
    """The order of the visit (inspector/visit_order.py): preview, read page by page, party, inspectors."""
    from inspector import visit_order

    _doc, reading = visit_order.make_preview(store, iid)
    for page in range(1, reading.pages + 1):
        visit_order.page_shown(store, reading.id, page)
    for role in ("person_in_charge", "inspector1", "inspector2"):
        visit_order.sign(store, iid, role, png=PNG)


@pytest.fixture
def complete(store: Store) -> tuple[str, str]:
    iid, cv = _setup(store)
    _complete(store, iid, cv)
    assert visit_state.visit_problems(store, iid) == []
    return iid, cv


def _keys(store: Store, iid: str) -> set[str]:
    return {p.key for p in visit_state.visit_problems(store, iid)}


def _fail_area(store: Store, iid: str, cv: str, *, draft: bool = True) -> str | None:
    """T-3-1 = 280 ㎡ (fails, photo required), its finding drafted, photo override-free."""
    visits.set_answer(store, iid, cv, "T-3-1", 280)
    visits.update_inspection(store, iid, result_category="发现问题已责令改正")
    if not draft:
        return None
    [d] = visit_state.draft_findings(store, iid, deadline="2030-01-31")
    return visits.add_finding(store, iid, required_action="扩充场地", **d)


# one test per refusal of the finish check: break one thing of a complete visit, see that line
Breaker = Callable[[Store, str, str], Any]
REFUSALS: list[tuple[str, Breaker, str]] = [
    ("unanswered", lambda s, i, cv: visits.set_answer(s, i, cv, "T-4-3", None), "unanswered:{cv}:T-4-3"),
    ("invalid", lambda s, i, cv: s.conn.execute(  # stored before validation existed (or edited by hand)
        "UPDATE answers SET value = '\"28a\"' WHERE inspection_id = ? AND item_id = 'T-3-1'", (i,)),
     "invalid:{cv}:T-3-1"),
    ("photo", lambda s, i, cv: _fail_area(s, i, cv), "photo:{cv}:T-3-1"),
    ("no finding", lambda s, i, cv: (_fail_area(s, i, cv, draft=False),
                                     visits.add_finding(s, i, description="其他", codes=["PX-QW-1"],
                                                        required_action="x", deadline="2030-01-01")),
     "no_finding:{cv}:T-3-1"),
    ("finding code", lambda s, i, cv: (s.conn.execute("UPDATE inspections SET result_category = '发现问题已责令改正'"
                                                      " WHERE id = ?", (i,)),
                                       visits.add_finding(s, i, description="x", required_action="y",
                                                          deadline="2030-01-01")), "finding_code:{fid}"),
    ("finding action", lambda s, i, cv: (visits.update_inspection(s, i, result_category="发现问题已责令改正"),
                                         visits.add_finding(s, i, description="x", codes=["PX-QW-1"],
                                                            deadline="2030-01-01")), "finding_action:{fid}"),
    ("finding deadline", lambda s, i, cv: (visits.update_inspection(s, i, result_category="发现问题已责令改正"),
                                           visits.add_finding(s, i, description="x", codes=["PX-QW-1"],
                                                              required_action="y")), "finding_deadline:{fid}"),
    ("two inspectors", lambda s, i, cv: visits.update_inspection(s, i, inspector_ids=["a"]), "inspectors"),
    ("IDs shown", lambda s, i, cv: visits.update_inspection(s, i, ids_shown=False), "ids_shown"),
    ("rights explained", lambda s, i, cv: visits.update_inspection(s, i, rights_explained=False), "rights"),
    ("inspector signature", lambda s, i, cv: s.conn.execute(
        "DELETE FROM signatures WHERE inspection_id = ? AND role = 'inspector2'", (i,)), "signature:inspector2"),
    ("person in charge signature", lambda s, i, cv: s.conn.execute(
        "DELETE FROM signatures WHERE inspection_id = ? AND role = 'person_in_charge'", (i,)),
     "signature:person_in_charge"),
    ("refusal without witness", lambda s, i, cv: docs.add_signature(s, i, "person_in_charge", refused=True,
                                                                    reason="不同意记录"), "refusal:witness"),
    ("refusal without reason", lambda s, i, cv: (s.conn.execute(
        "UPDATE signatures SET refused = 1, refusal_reason = '' WHERE inspection_id = ? AND role = "
        "'person_in_charge'", (i,)), docs.add_signature(s, i, "witness", name="李见证", png=PNG)), "refusal:reason"),
    ("result missing", lambda s, i, cv: visits.update_inspection(s, i, result_category=None), "result"),
    ("未发现问题 beside a 严重 finding", lambda s, i, cv: visits.add_finding(
        s, i, description="伪造师资", codes=["PX-YZ-4"], severity="严重", required_action="y",
        deadline="2030-01-01"), "result"),
    ("问题 result without findings", lambda s, i, cv: visits.update_inspection(
        s, i, result_category="发现问题已责令改正"), "result"),
]


@pytest.mark.parametrize("name, breaker, key", REFUSALS, ids=[r[0] for r in REFUSALS])
def test_each_refusal_of_the_finish_check(store: Store, complete: tuple[str, str], name: str, breaker: Breaker,
                                          key: str) -> None:
    iid, cv = complete
    out = breaker(store, iid, cv)
    fid = next((x for x in (out if isinstance(out, tuple) else (out,)) if isinstance(x, str)), None)
    want = key.format(cv=cv, fid=fid)
    problems = visit_state.visit_problems(store, iid)
    assert want in {p.key for p in problems}, (name, [p.message for p in problems])
    p = next(p for p in problems if p.key == want)
    assert p.message and p.page in ("start", "findings", "sign") or p.page.startswith("sec:")
    assert all(ord(c) < 0x3000 for c in p.kind)  # kind is an identifier; the message is Chinese
    with pytest.raises(visits.VisitIncomplete) as e:
        visits.finish_inspection(store, iid)
    assert want in {x.key for x in e.value.items} and not visits.get_inspection(store, iid).locked


def test_messages_name_the_item_by_number_and_text_and_jump_there(store: Store) -> None:
    iid, cv = _setup(store)
    by_key = {p.key: p for p in visit_state.visit_problems(store, iid)}
    p = by_key[f"unanswered:{cv}:T-3-1"]
    assert p.message == "3.1 理论课集中培训面积：未作答" and p.page == f"sec:{cv}:T-3" and p.item_id == "T-3-1"
    assert by_key["ids_shown"].message == "未记录出示执法证件" and by_key["ids_shown"].page == "start"


def test_a_complete_visit_finishes(store: Store, complete: tuple[str, str]) -> None:
    iid, _cv = complete
    visits.finish_inspection(store, iid)
    assert visits.get_inspection(store, iid).locked and visits.finish_overrides(store, iid) == []


def test_override_needs_a_reason_per_line_and_is_audited(store: Store, complete: tuple[str, str]) -> None:
    iid, cv = complete
    _fail_area(store, iid, cv)  # photo missing
    _read_and_sign(store, iid)  # the record changed after signing: read and signed again
    key = f"photo:{cv}:T-3-1"
    with pytest.raises(visits.VisitIncomplete):
        visits.finish_inspection(store, iid, overrides={key: "  "})
    with pytest.raises(visits.VisitIncomplete):
        visits.finish_inspection(store, iid, overrides={"photo:other": "相机故障"})
    visits.finish_inspection(store, iid, overrides={key: "相机故障，无法拍照"}, actor="张三")
    assert visits.get_inspection(store, iid).locked
    [o] = visits.finish_overrides(store, iid)
    assert o["key"] == key and o["reason"] == "相机故障，无法拍照" and "须附照片证据" in o["message"]
    row = store.one("SELECT actor, payload FROM audit_log WHERE action = 'finish' AND entity_id = ?", (iid,))
    assert row and row["actor"] == "张三" and "相机故障" in row["payload"]
    assert store.verify_audit_chain() == []


# -- skip rules and progress -------------------------------------------------------------------------
def test_skip_rule_makes_items_not_applicable_with_the_rule_as_reason(store: Store) -> None:
    answers = {"T-6-2": "否"}
    states = {s.item.id: s for s in visit_state.item_states(TRAINING, answers)}
    for k in ("T-6-3", "T-6-4", "T-6-5"):
        s = states[k]
        assert s.status == "na" and s.skipped and s.answered
        assert "“是否开展线上培训”为“否”" in s.reason and "T-6-2" not in s.reason
    assert visit_state.progress(list(states.values()), "T-6").answered == 4  # T-6-2 and the three skipped
    states = {s.item.id: s for s in visit_state.item_states(TRAINING, {"T-6-2": "是"})}
    assert states["T-6-3"].status == "unanswered" and not states["T-6-3"].skipped
    # in the store: skipped items are not listed as unanswered (under 内蒙古, where the 119号 items of
    # T-6 are inspected; 新乡's profile makes them 不适用 whatever T-6-2 says)
    from inspector import profiles

    profiles.apply(store, "neimenggu")
    iid, cv = _setup(store)
    visits.set_answer(store, iid, cv, "T-6-2", "否")
    keys = _keys(store, iid)
    assert not {f"unanswered:{cv}:T-6-{n}" for n in (3, 4, 5)} & keys and f"unanswered:{cv}:T-6-6" in keys
    visits.set_answer(store, iid, cv, "T-6-2", "是")
    assert {f"unanswered:{cv}:T-6-{n}" for n in (3, 4, 5)} <= _keys(store, iid)


def test_progress_counts_only_valid_answers() -> None:
    answers = {"T-3-1": 350, "T-1-1": "pass", "T-6-6": "学员花名册",   # invalid shape (not a list)
               "T-2-1": [{"name": "赵明"}], "T-1-6": "2027-02-30"}      # a partial table, an impossible date
    pr = visit_state.progress(visit_state.item_states(TRAINING, answers))
    assert (pr.answered, pr.total) == (2, 37)
    # a complete register the rules can judge, but with a negative cell: invalid, not answered
    table = passing_answers(TRAINING)["T-2-1"]
    states = visit_state.item_states(TRAINING, {"T-2-1": [{**table[0], "years": -3}, *table[1:]]})
    st = next(s for s in states if s.item.id == "T-2-1")
    assert st.status == "unanswered" and "不能为负数" in (st.invalid or "") and not st.answered


# -- storing answers ---------------------------------------------------------------------------------
def test_set_answer_validates_normalises_and_refuses(store: Store) -> None:
    iid, cv = _setup(store)
    assert visits.set_answer(store, iid, cv, "T-1-6", "2027年12月31日") == "2027-12-31"
    assert visits.set_answer(store, iid, cv, "T-6-6", "教学计划,学员花名册") == ["学员花名册", "教学计划"]
    for raw in ("28a", "-50", "nan", float("nan"), float("inf")):
        with pytest.raises(ValidationError, match="理论课集中培训面积"):
            visits.set_answer(store, iid, cv, "T-3-1", raw)
    with pytest.raises(ValidationError, match="没有检查项"):
        visits.set_answer(store, iid, cv, "T-99", "pass")
    got = visits.get_answers(store, iid)[cv]
    assert "T-3-1" not in got and got["T-1-6"] == "2027-12-31"


def test_nan_never_reaches_the_audit_log(store: Store) -> None:
    iid, cv = _setup(store)
    with pytest.raises(ValidationError):
        visits.set_answer(store, iid, cv, "T-3-1", float("nan"))
    from tests.store_fixtures import seed_minimal

    inst, placeholder = seed_minimal(store)  # a version row without text: no types to check, NaN still refused
    other = visits.start_inspection(store, inst, checklist_version_ids=[placeholder])
    with pytest.raises(ValidationError, match="答案无效"):
        visits.set_answer(store, other, placeholder, "I", {"area": float("nan")})
    with pytest.raises(ValidationError, match="资金金额"):
        visits.add_finding(store, iid, description="x", amount=math.nan)
    with pytest.raises(StoreError, match="审计日志"):  # and whatever else tries, the log refuses it
        with store.tx():
            store.log("inspection", iid, "answer", {"value": math.inf})
    for r in store.rows("SELECT payload FROM audit_log"):
        json.loads(r["payload"], parse_constant=lambda c: pytest.fail(f"{c} in the audit log"))
    assert store.verify_audit_chain() == []


def test_notes_and_answers_keep_each_other(store: Store) -> None:
    iid, cv = _setup(store)
    visits.set_answer(store, iid, cv, "T-3-1", 350)
    visits.set_note(store, iid, cv, "T-3-1", "两间教室合计")
    visits.set_answer(store, iid, cv, "T-3-1", 360)
    assert visits.get_notes(store, iid)[(cv, "T-3-1")] == "两间教室合计"
    assert visits.get_answers(store, iid)[cv]["T-3-1"] == 360
    visits.set_note(store, iid, cv, "T-1-1", "只有备注")
    assert visits.get_answers(store, iid)[cv]["T-1-1"] is None  # a note alone is not an answer


# -- findings, rectification, grade ----------------------------------------------------------------------
def test_rectification_is_idempotent(store: Store, complete: tuple[str, str]) -> None:
    iid, cv = complete
    _fail_area(store, iid, cv)
    first = visits.create_rectification(store, iid, deadline="20300131")
    again = visits.create_rectification(store, iid, deadline="2030-02-28")
    assert again == first
    [r] = [r for r in visits.list_rectifications(store) if r["inspection_id"] == iid]
    assert r["deadline"] == "2030-01-31"
    with pytest.raises(ValidationError, match="整改期限"):
        visits.create_rectification(store, iid, deadline="2030-02-30")


def test_drafted_findings_carry_only_the_institutions_kind(store: Store) -> None:
    from inspector.store import checklists

    iid, _cv = _setup(store)
    cv2 = checklists.ensure_version(store, TRAINEES)
    visits.update_inspection(store, iid, checklist_version_ids=[_cv, cv2])
    rows = [{"name": "张三", "method": "电话", "reached": True, "confirms_attending": False, "exam": True,
             "certificate": True}]
    visits.set_answer(store, iid, cv2, "S-04", rows)
    drafts = visit_state.draft_findings(store, iid)
    assert drafts and all(c.startswith("PX-") for d in drafts for c in d["codes"]), drafts
    visits.add_finding(store, iid, **drafts[0])
    assert drafts[0]["item_id"] not in {d["item_id"] for d in visit_state.draft_findings(store, iid)}


def test_grade_is_the_reports_grade(store: Store, complete: tuple[str, str]) -> None:
    from inspector.reports import credit

    iid, cv = complete
    fid = _fail_area(store, iid, cv)
    assert fid
    visits.create_rectification(store, iid, deadline="2030-01-31")
    _read_and_sign(store, iid)  # the record changed after signing: read and signed again
    visits.finish_inspection(store, iid, overrides={f"photo:{cv}:T-3-1": "相机故障"})
    inst = visits.get_inspection(store, iid).institution_id
    g = visit_state.institution_grade(store, inst)
    assert (g.grade, g.provisional) == ("合格", True)
    year = _dt.date.today().year
    insp = visits.get_inspection(store, iid)
    ref = credit.propose(inst, year, credit.findings_for_year(
        inst, year, [{"id": iid, "institution_id": inst, "status": insp.status, "started_at": insp.started_at}],
        [{"id": fid, "inspection_id": iid, "codes": ["PX-YB-3"]}], visits.list_rectifications(store)))
    assert (g.grade, g.reasons) == (ref.grade, ref.reasons)


def test_a_partial_table_is_listed_as_incomplete_with_the_rows(store: Store) -> None:
    iid, cv = _setup(store)
    visits.set_answer(store, iid, cv, "T-2-1", [{"name": "赵明", "role": "理论"}])
    [p] = [p for p in visit_state.visit_problems(store, iid) if p.item_id == "T-2-1"]
    assert p.kind == "unanswered" and "未填写完整" in p.message and "第1行缺少" in p.message
