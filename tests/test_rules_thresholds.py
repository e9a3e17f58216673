"""Each threshold and table rule at, just under and just over its limit, with the
Chinese reason a user reads, and the draft findings that follow."""
from __future__ import annotations

import datetime as dt

import pytest

from inspector.rules import evaluate, evaluate_item, mask_id
from tests.forms_fixtures import (admin_rows, all_passing, finance_rows, good_teachers, hours_row,
                                  shipped, teacher, trainee)

TRAINING = shipped("training")
EVALUATION = shipped("evaluation")
EXAM = shipped("exam_site")
TRAINEES = shipped("trainee_check")


def item(cl, iid):
    return cl.item(iid)


# -- area ≥ 300 ㎡ ----------------------------------------------------------------------
@pytest.mark.parametrize("area,status", [(299, "fail"), (299.9, "fail"), (300, "pass"), (301, "pass")])
def test_area_threshold(area, status):
    r = evaluate_item(item(TRAINING, "T-3-1"), area)
    assert r.status == status
    if status == "fail":
        assert r.codes == ("PX-YB-3",) and r.severity == "一般"


def test_area_reason_text():
    r = evaluate_item(item(TRAINING, "T-3-1"), 280)
    assert r.reason == "理论课集中培训面积 280㎡，低于 300㎡ 要求"
    assert r.missing_photo  # photo required, none given
    assert not evaluate_item(item(TRAINING, "T-3-1"), 280, photos=2).missing_photo


# -- teachers ------------------------------------------------------------------------------
def _teachers(rows):
    return evaluate_item(item(TRAINING, "T-2-1"), rows)


@pytest.mark.parametrize("role", ["理论", "实训"])
@pytest.mark.parametrize("n,status", [(1, "fail"), (2, "pass"), (3, "pass")])
def test_teachers_per_trade_per_role(role, n, status):
    rows = good_teachers("电工", n if role == "理论" else 2, n if role == "实训" else 2)
    r = _teachers(rows)
    assert r.status == status, r.reason
    if status == "fail":
        assert r.reason == f"工种“电工”专业{role}教师 1 名，少于 2 名"


def test_teachers_counted_per_trade():
    rows = good_teachers("电工") + good_teachers("焊工", 2, 1)
    r = _teachers(rows)
    assert r.status == "fail" and r.reason == "工种“焊工”专业实训教师 1 名，少于 2 名"
    # a trade with only practical teachers has 0 theory teachers
    r = _teachers(good_teachers("电工") + good_teachers("焊工", 0, 2))
    assert "工种“焊工”专业理论教师 0 名，少于 2 名" in r.reason


def test_empty_teacher_table_fails():
    r = _teachers([])
    assert r.status == "fail" and "未登记" in r.reason


def _one(**kw):
    """The qualification of one teacher, on an otherwise complete staff."""
    rows = good_teachers("电工")
    rows[0] = teacher("张三", **kw)
    return _teachers(rows)


@pytest.mark.parametrize("kw,ok", [
    # standard branch: 大专+ and (中级职称+ or 三级/高级工+)
    (dict(degree="大专", qual="中级职称"), True),
    (dict(degree="大专", qual="三级/高级工"), True),
    (dict(degree="大专", qual="一级/高级技师"), True),
    (dict(degree="大专", qual="正高级职称"), True),
    (dict(degree="中专", qual="中级职称"), False),           # degree just under
    (dict(degree="大专", qual="初级职称"), False),           # title just under
    (dict(degree="大专", qual="四级/中级工"), False),        # certificate just under
    (dict(degree="大专", qual="无"), False),
    # relaxation: a relevant 本科+ allows 初级 title or 五级 certificate
    (dict(degree="本科", relevant_bachelor=True, qual="初级职称"), True),
    (dict(degree="本科", relevant_bachelor=True, qual="五级/初级工"), True),
    (dict(degree="硕士研究生", relevant_bachelor=True, qual="五级/初级工"), True),
    (dict(degree="本科", relevant_bachelor=True, qual="无"), False),
    (dict(degree="本科", relevant_bachelor=False, qual="初级职称"), False),  # 本科 but not relevant
    (dict(degree="大专", relevant_bachelor=True, qual="初级职称"), False),   # flag without a 本科 degree
    # years ≥ 2 and a teacher certificate
    (dict(years=2), True), (dict(years=1.9), False), (dict(years=1), False),
    (dict(teacher_cert=False), False),
])
def test_teacher_qualification_branches(kw, ok):
    r = _one(**kw)
    assert (r.status == "pass") is ok, r.reason
    if not ok:
        assert r.reason.startswith("教师张三：")


def test_teacher_reason_lists_every_problem():
    r = _one(degree="中专", qual="四级/中级工", years=1, teacher_cert=False)
    assert r.reason == ("教师张三：学历中专，不符合大专及以上，职称/职业资格为“四级/中级工”，不符合中级及以上职称或"
                        "三级（高级工）及以上职业资格，本专业教学经历 1 年，少于 2 年，无相应教师资格岗位证书")


def test_teacher_counts_and_qualification_reported_together():
    rows = [teacher("张三", degree="中专"), teacher("李四")] + good_teachers("电工", 0, 1)
    r = _teachers(rows)
    assert r.reason == "工种“电工”专业实训教师 1 名，少于 2 名；教师张三：学历中专，不符合大专及以上"


def test_teacher_without_contract():
    r = _one(contract=False)
    assert r.status == "fail" and r.reason == "教师张三：未签订聘任协议或劳务合同"


def test_incomplete_teacher_row_is_unanswered_not_fail():
    rows = good_teachers()
    rows[1] = {**rows[1], "degree": None}
    rows[2] = {**rows[2], "years": "三年"}
    r = _teachers(rows)
    assert r.status == "unanswered"
    assert "第2行缺少“学历”" in r.reason and "第3行“本专业教学年限”无效" in r.reason


# -- admin and finance staff ------------------------------------------------------------------
@pytest.mark.parametrize("n,status", [(2, "fail"), (3, "pass"), (4, "pass")])
def test_admin_staff(n, status):
    r = evaluate_item(item(TRAINING, "T-4-1"), admin_rows(n))
    assert r.status == status
    if status == "fail":
        assert r.reason == "专职行政管理人员 2 名，少于 3 名"


def test_admin_part_time_do_not_count_and_principal_must_be_full_time():
    rows = admin_rows(3, principal_full_time=False)
    rows[1]["full_time"] = False
    r = evaluate_item(item(TRAINING, "T-4-1"), rows)
    assert r.reason == "未配备专职校长（校长王校长为兼职）；专职行政管理人员 2 名，少于 3 名"
    r = evaluate_item(item(TRAINING, "T-4-1"), admin_rows(3)[1:])
    assert r.reason == "未配备专职校长"


@pytest.mark.parametrize("n,status", [(1, "fail"), (2, "pass"), (3, "pass")])
def test_finance_staff(n, status):
    r = evaluate_item(item(TRAINING, "T-4-2"), finance_rows(n))
    assert r.status == status
    if status == "fail":
        assert r.reason == "具有财会人员资格证书的财务管理人员 1 名，少于 2 名"


def test_finance_staff_without_certificate_is_named():
    r = evaluate_item(item(TRAINING, "T-4-2"), finance_rows(2, 1))
    assert r.status == "fail" and r.reason == "财务管理人员出纳0无财会人员资格证书"


# -- class hours (119号 §10, §19) --------------------------------------------------------------
def _hours(**kw):
    return evaluate_item(item(TRAINING, "T-6-1"), [hours_row(**kw)])


@pytest.mark.parametrize("attended,status", [(949, "fail"), (950, "pass"), (951, "pass"), (1000, "pass")])
def test_attendance_95_percent(attended, status):
    r = _hours(total=1000, attended=attended)
    assert r.status == status
    if status == "fail":
        assert r.reason == "学员甲：完成课时 949/1000（94.9%），低于总课时 95% 要求"


@pytest.mark.parametrize("online,status", [(399, "pass"), (400, "pass"), (401, "fail")])
def test_online_share_40_percent(online, status):
    r = _hours(total=1000, attended=1000, online=online, max_online_day=8)
    assert r.status == status
    if status == "fail":
        assert r.reason == "学员甲：线上课时 401/1000（40.1%），超过总课时 40% 上限"


@pytest.mark.parametrize("per_day,status", [(7, "pass"), (8, "pass"), (8.5, "fail"), (9, "fail")])
def test_online_hours_per_day(per_day, status):
    r = _hours(total=100, attended=100, online=30, max_online_day=per_day)
    assert r.status == status
    if per_day == 9:
        assert r.reason == "学员甲：单日线上培训 9 课时，超过每日 8 课时上限"


def test_inconsistent_hours_are_not_judged():
    r = _hours(total=100, attended=120)
    assert r.status == "unanswered" and "数据有误" in r.reason
    assert evaluate_item(item(TRAINING, "T-6-1"), []).status == "unanswered"


def test_class_hour_failures_name_rows_and_share_codes():
    rows = [hours_row("一班", 100, 100, 0, 0), hours_row("二班", 100, 90, 45, 9)]
    r = evaluate_item(item(TRAINING, "T-6-1"), rows)
    assert r.status == "fail" and r.codes == ("PX-YB-4",)
    assert r.reason.count("二班") == 3 and "一班" not in r.reason


# -- archive list (§23), dates, choices, counts -------------------------------------------------
def test_archive_list_missing_items_named():
    it = item(TRAINING, "T-6-6")
    full = list(it.choices)
    assert evaluate_item(it, full).status == "pass"
    r = evaluate_item(it, [c for c in full if c not in ("学员考勤表", "视频影像")])
    assert r.status == "fail" and r.reason == "归档资料缺少：学员考勤表、视频影像" and r.codes == ("PX-QW-3",)
    assert evaluate_item(it, "学员考勤表").status == "unanswered"


@pytest.mark.parametrize("years,status", [(2, "fail"), (3, "pass"), (4, "pass")])
def test_paper_archive_years(years, status):
    assert evaluate_item(item(EVALUATION, "E-38"), years).status == status


@pytest.mark.parametrize("years,status", [(4, "fail"), (4.9, "fail"), (5, "pass"), (6, "pass")])
def test_electronic_archive_years(years, status):
    r = evaluate_item(item(EVALUATION, "E-39"), years)
    assert r.status == status
    if years == 4:
        assert r.reason == "电子评价材料保存年限 4年，低于 5年 要求"


@pytest.mark.parametrize("n,status", [(2, "fail"), (3, "pass"), (4, "pass")])
def test_examiners_per_practical_room(n, status):
    r = evaluate_item(item(EXAM, "X-09"), n)
    assert r.status == status
    if status == "fail":
        assert r.reason == "实操考场在场考评员 2名，低于 3名 要求" and r.codes == ("PJ-QW-2",)
    assert evaluate_item(item(EXAM, "X-09"), 2.5).status == "unanswered"
    assert evaluate_item(item(EXAM, "X-09"), -1).status == "unanswered"


def test_licence_expiry_and_last_evaluation_dates():
    today = dt.date.today()
    lic = item(TRAINING, "T-1-6")
    assert evaluate_item(lic, today.isoformat()).status == "pass"
    r = evaluate_item(lic, (today - dt.timedelta(days=1)).isoformat())
    assert r.status == "fail" and "已过期" in r.reason and r.severity == "严重"
    last = item(EVALUATION, "E-42")
    assert evaluate_item(last, (today - dt.timedelta(days=364)).isoformat()).status == "pass"
    r = evaluate_item(last, (today - dt.timedelta(days=365)).isoformat())  # 一年（含）以上
    assert r.status == "fail" and r.codes == ("PJ-YZ-13",)
    assert evaluate_item(last, "2024-13-01").status == "unanswered"


def test_choice_fail_on():
    it = item(EXAM, "X-07")
    assert evaluate_item(it, "已使用").status == "pass"
    assert evaluate_item(it, "本考点未要求使用").status == "pass"
    r = evaluate_item(it, "要求使用但未执行")
    assert r.status == "fail" and r.reason == "考点要求人脸识别核验，但现场未执行"
    assert evaluate_item(it, "别的").status == "unanswered"


def test_check_na_unanswered():
    it = item(TRAINING, "T-1-1")
    assert evaluate_item(it, "pass").status == "pass"
    assert evaluate_item(it, "na").status == "na"
    assert evaluate_item(it, None).status == "unanswered"
    r = evaluate_item(it, "fail")
    assert r.status == "fail" and r.codes == ("PX-YZ-7",) and r.severity == "严重"
    assert evaluate_item(it, "符合").status == "unanswered"  # the stored value is "pass", not the label


# -- trainee verification -------------------------------------------------------------------------
def _trainees(rows, kind=None):
    return evaluate_item(item(TRAINEES, "S-04"), rows, institution_kind=kind)


def test_trainee_flags_each():
    assert _trainees([trainee(f"学员{i}") for i in range(5)]).status == "pass"
    cases = {
        "denied": (trainee("甲", confirms=False), "学员甲（电话核实）否认参加培训", ("PX-YZ-15",)),
        "hours": (trainee("乙", hours=40, hours_recorded=80), "学员乙自述参训 40 课时，机构记录 80 课时", ("PX-YB-4",)),
        "cert": (trainee("丙", exam=False, certificate=True), "学员丙持有证书但未参加考试", ("PX-YZ-11",)),
        "fees": (trainee("丁", subsidised=True, extra_fees=300), "学员丁参加补贴性培训，另被收取费用 300 元", ("PX-YB-7",)),
    }
    for name, (row, reason, codes) in cases.items():
        r = _trainees([row] + [trainee(f"学员{i}") for i in range(4)], kind="培训机构")
        assert r.status == "fail" and r.reason == reason and r.codes == codes, name
    # fees on an unsubsidised class are not a flag
    assert _trainees([trainee("戊", subsidised=False, extra_fees=300)]).status == "pass"
    # hours at 95 % of the record pass
    assert _trainees([trainee("己", hours=76, hours_recorded=80)]).status == "pass"


def test_trainee_unreached_share():
    def rows(unreached, total=10):
        return [trainee(f"学员{i}", reached=i >= unreached) for i in range(total)]
    assert _trainees(rows(3)).status == "pass"  # 30 % is at the limit
    r = _trainees(rows(4), kind="培训机构")
    assert r.status == "fail" and r.codes == ("PX-QW-3",)
    assert r.reason == "核实学员 10 名，其中 4 名无法联系（40%，超过 30%）：学员0、学员1、学员2、学员3"
    # an unreached row needs only name, method and reached
    assert _trainees([{"name": "甲", "method": "电话", "reached": False}] + rows(0, 9)).status == "pass"


def test_trainee_duplicate_and_masking():
    rows = [trainee("甲", id_no="110105199001011234", trade="电工"),
            trainee("甲", id_no="110105199001011234", trade="电工"),
            trainee("甲", id_no="110105199001011234", trade="焊工")]
    r = _trainees(rows)
    assert r.reason == "身份证号 110105********1234 在工种“电工”重复参训 2 次（甲、甲）"
    assert "199001" not in r.reason and mask_id("110105199001011234") == "110105********1234"


def test_masked_duplicates_need_the_same_masked_name_too():
    """Sealed table rows reach the rule masked (first 6 + last 4 digits): two different trainees can
    share that, so masked rows are one person only when their masked names agree as well."""
    a, b = mask_id("110105199001011234"), mask_id("110105198507151234")
    assert a == b
    two_people = [trainee("王*", id_no=a, trade="电工"), trainee("李**", id_no=b, trade="电工")]
    assert _trainees(two_people).status == "pass"
    one_twice = [trainee("王*", id_no=a, trade="电工"), trainee("王*", id_no=b, trade="电工")]
    r = _trainees(one_twice)
    assert r.status == "fail" and r.reason == "身份证号 110105********1234 在工种“电工”重复参训 2 次（王*、王*）"


def test_codes_follow_the_institution_kind():
    row = [trainee("丙", exam=False, certificate=True)]
    assert _trainees(row, "培训机构").codes == ("PX-YZ-11",)
    assert _trainees(row, "评价机构").codes == ("PJ-YZ-7",)
    assert _trainees(row).codes == ("PX-YZ-11", "PJ-YZ-7")
    assert _trainees([trainee("乙", hours=1, hours_recorded=80)], "评价机构").codes == ("PX-YB-4",)  # no PJ code


# -- whole checklists -----------------------------------------------------------------------------
@pytest.mark.parametrize("cid", ["training", "evaluation", "exam_site", "trainee_check"])
def test_fully_passing_checklist_has_no_findings(cid):
    cl = shipped(cid)
    ev = evaluate(cl, all_passing(cl))
    assert [r.item_id for r in ev.results] == [i.id for i in cl.items]
    assert ev.counts["fail"] == 0 and ev.counts["unanswered"] == 0 and ev.findings == ()
    assert ev.counts()["pass"] == ev.counts["total"] - ev.counts["na"]


def test_findings_are_neutral_and_carry_code_and_worst_severity():
    answers = all_passing(TRAINING)
    answers.update({"T-3-1": 280, "T-5-7": "fail", "T-4-1": admin_rows(2), "T-1-3": "fail"})
    ev = evaluate(TRAINING, answers, {"T-3-1": 1})
    by = {f.item_id: f for f in ev.findings}
    assert set(by) == {"T-3-1", "T-5-7", "T-4-1", "T-1-3"}
    assert by["T-3-1"].description == "经现场检查，理论课集中培训面积 280㎡，低于 300㎡ 要求。"
    assert by["T-5-7"].codes == ("PX-YB-4", "PX-YZ-9") and by["T-5-7"].severity == "严重"
    assert by["T-1-3"].severity == "轻微"
    assert by["T-4-1"].basis == "新人社办〔2023〕35号 附件1 第4项（管理队伍）第1点"
    for f in ev.findings:
        assert not any(w in f.description for w in ("处罚", "罚款", "吊销", "违法", "责令"))
    # T-3-1 has its photo; T-5-7 needs one and has none; T-4-1/T-1-3 need none
    assert ev.incomplete == ["T-5-7"]
    assert ev.counts["fail"] == 4 and ev.counts["incomplete"] == 1


def test_department_items_never_become_findings():
    answers = all_passing(EVALUATION)
    answers.update({"E-23": "fail", "E-05": "fail"})
    ev = evaluate(EVALUATION, answers)
    assert ev.result("E-23").status == "fail" and ev.result("E-23").codes == ()
    assert [f.item_id for f in ev.findings] == ["E-05"]


def test_when_makes_online_items_not_applicable():
    answers = all_passing(TRAINING)
    answers.update({"T-6-2": "否", "T-6-4": "fail"})
    ev = evaluate(TRAINING, answers)
    # the reason names the question and the answer, never the internal id (it is printed in the record)
    assert ev.result("T-6-4").status == "na" and "“是否开展线上培训”为“否”" in ev.result("T-6-4").reason
    assert "T-6-2" not in ev.result("T-6-4").reason
    answers["T-6-2"] = "是"
    assert evaluate(TRAINING, answers).result("T-6-4").status == "fail"
    del answers["T-6-2"]  # not yet answered: still asked
    assert evaluate(TRAINING, answers).result("T-6-4").status == "fail"


def test_na_everywhere():
    ev = evaluate(TRAINING, {i.id: "na" for i in TRAINING.items})
    assert ev.counts["na"] == len(TRAINING.items) and not ev.findings
