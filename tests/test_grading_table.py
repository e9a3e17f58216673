"""Credit grade: the table of DOMAIN.md §5 / 内人社办发〔2024〕58号 §四 and the open cases."""
from __future__ import annotations

import json

import pytest

from inspector.errors import ValidationError
from inspector.grading import GRADES, RECTIFICATION_STATUS, grade
from tests.forms_fixtures import run_cli

QW, YB, YZ = "PX-QW-1", "PX-YB-3", "PX-YZ-15"
PJ_QW, PJ_YB, PJ_YZ = "PJ-QW-2", "PJ-YB-6", "PJ-YZ-8"


def g(*pairs):
    return grade([{"code": c, "rectification": s} for c, s in pairs])


def test_no_finding_is_excellent_pending_review():
    r = grade([])
    assert r.grade == "优秀" and "复核" in r.reasons[0] and not r.provisional


@pytest.mark.parametrize("severity_code,status,expected,provisional", [
    # 严重: always 不合格
    (YZ, "on_time", "不合格", False), (YZ, "late", "不合格", False),
    (YZ, "refused", "不合格", False), (YZ, "pending", "不合格", False),
    (PJ_YZ, "on_time", "不合格", False),
    # 一般: rectified (on time or late) → 合格; refused → 不合格; pending → 合格 (暂定)
    (YB, "on_time", "合格", False), (YB, "late", "合格", False),
    (YB, "refused", "不合格", False), (YB, "pending", "合格", True),
    (PJ_YB, "refused", "不合格", False),
    # 轻微: on time → 良好; open cases: late → 合格, refused → 合格, pending → 良好 (暂定)
    (QW, "on_time", "良好", False), (QW, "late", "合格", False),
    (QW, "refused", "合格", False), (QW, "pending", "良好", True),
    (PJ_QW, "on_time", "良好", False),
])
def test_single_finding_table(severity_code, status, expected, provisional):
    r = g((severity_code, status))
    assert r.grade == expected and r.provisional is provisional
    assert severity_code in r.reasons[0]
    assert r.reasons[0].endswith(f"评定为{expected}")
    if provisional:
        assert any("暂定" in x and severity_code in x for x in r.reasons)


def test_worst_finding_decides():
    assert g((QW, "on_time"), (YB, "on_time")).grade == "合格"
    assert g((QW, "on_time"), (YB, "on_time"), (YZ, "on_time")).grade == "不合格"
    assert g((QW, "refused"), (YB, "on_time")).grade == "合格"
    assert g((QW, "on_time"), ("PX-QW-2", "on_time")).grade == "良好"
    r = g((QW, "on_time"), (YB, "refused"), (YZ, "late"))
    assert r.grade == "不合格" and YZ in r.reasons[0] and YB in r.reasons[0] and QW not in r.reasons[0]


def test_pending_is_provisional_only_when_it_can_change_the_grade():
    r = g((QW, "pending"), (YB, "on_time"))  # the 轻微 cannot make it worse than 合格
    assert r.grade == "合格" and not r.provisional and len(r.reasons) == 1
    r = g((YB, "pending"), (YZ, "on_time"))
    assert r.grade == "不合格" and not r.provisional


def test_reasons_name_codes_in_chinese():
    r = g((QW, "late"))
    assert r.reasons == ["轻微失信行为 PX-QW-1 逾期整改，未能及时整改，评定为合格"]
    r = g((YB, "refused"))
    assert r.reasons == ["一般失信行为 PX-YB-3 拒不整改或敷衍整改，未能达到要求，评定为不合格"]
    r = g((QW, "on_time"))
    assert r.reasons == ["仅有轻微失信行为 PX-QW-1，已及时整改达到要求，评定为良好"]


def test_input_shapes():
    assert grade([(YB, "on_time")]).grade == "合格"
    assert grade([{"code": YB, "rectification": "已按期整改"}]).grade == "合格"  # Chinese status names
    assert grade([{"codes": [QW, YZ], "rectification": "on_time"}]).grade == "不合格"
    assert set(RECTIFICATION_STATUS.values()) == {"待整改", "已按期整改", "逾期整改", "拒不整改或敷衍整改"}
    assert GRADES == ("优秀", "良好", "合格", "不合格")


@pytest.mark.parametrize("bad,msg", [
    ([{"code": "PX-QW-9", "rectification": "on_time"}], "PX-QW-9"),
    ([{"code": QW, "rectification": "soon"}], "soon"),
    ([{"code": QW}], "None"),
    ([{"rectification": "on_time"}], "code"),
    (["PX-QW-1"], "格式无效"),
])
def test_unknown_code_or_status_is_named(bad, msg):
    with pytest.raises(ValidationError, match=msg):
        grade(bad)


def _file(tmp_path, data, name="g.json"):
    p = tmp_path / name
    p.write_text(data if isinstance(data, str) else json.dumps(data, ensure_ascii=False), encoding="utf-8")
    return str(p)


def test_cli_grade(tmp_path):
    f = _file(tmp_path, {"findings": [{"code": "PX-QW-1", "rectification": "on_time"}]})
    r = run_cli("grade", f, "--json")
    assert r.returncode == 0, r.stderr
    assert json.loads(r.stdout) == {"grade": "良好", "reasons": ["仅有轻微失信行为 PX-QW-1，已及时整改达到要求，评定为良好"]}
    r = run_cli("grade", _file(tmp_path, {"findings": []}, "empty.json"), "--json")
    assert json.loads(r.stdout)["grade"] == "优秀"
    r = run_cli("grade", f)
    assert r.returncode == 0 and "信用评估等级：良好" in r.stdout


@pytest.mark.parametrize("content,msg", [
    ({"findings": [{"code": "PJ-YZ-99", "rectification": "on_time"}]}, "PJ-YZ-99"),
    ({"findings": [{"code": "PJ-YZ-1", "rectification": "never"}]}, "never"),
    ("{not json", "不是有效的 JSON"),
    ({"items": []}, "findings"),
])
def test_cli_grade_errors_exit_2(tmp_path, content, msg):
    f = _file(tmp_path, content)
    r = run_cli("grade", f, "--json")
    assert r.returncode == 2
    assert msg in r.stderr and f in r.stderr
    r = run_cli("grade", str(tmp_path / "missing.json"))
    assert r.returncode == 2 and "missing.json" in r.stderr
