"""Checklist files: the shipped ones are valid and complete; broken ones are reported
with file, item and key; versions are stored exactly and never change."""
from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from inspector import forms
from inspector.catalogue import catalogue
from inspector.errors import FormError, NotFound, ValidationError
from inspector.store.checklists import ensure_version, list_versions, load_version
from tests.forms_fixtures import FORMS, MINIMAL, run_cli, shipped

SHIPPED = ("training", "evaluation", "exam_site", "trainee_check")


def test_every_shipped_form_is_valid():
    lists = forms.load_all(FORMS)
    assert sorted(c.id for c in lists) == sorted(SHIPPED)
    assert forms.check([FORMS]) == []
    kinds = {c.id: c.kind for c in lists}
    assert kinds == {"training": "培训机构", "evaluation": "评价机构", "exam_site": "考场", "trainee_check": "学员"}


@pytest.mark.parametrize("cid", SHIPPED)
def test_every_item_cites_basis_and_codes(cid):
    cl = shipped(cid)
    cat = catalogue()
    ids = [it.id for it in cl.items]
    assert len(ids) == len(set(ids))
    for it in cl.items:
        assert "号" in it.basis or "附件" in it.basis, it.id  # a document number and clause
        assert all(c in cat for c in it.codes)
        can_fail = it.type in ("check", "table") or it.threshold or it.params.get("fail_on") \
            or it.params.get("require_all")
        if can_fail and it.scope == "institution":
            assert it.codes, f"{it.id} can fail but names no code"


def test_training_covers_every_xinxiang_sub_point():
    cl = shipped("training")
    # 附件1: 办学条件 5, 师资力量 3, 培训场地 3, 管理队伍 2, 规范培训 8 sub-points; each cited by an item.
    expected = {1: 5, 2: 3, 3: 3, 4: 2, 5: 8}
    for n, points in expected.items():
        cited = " ".join(it.basis for it in cl.items if f"附件1 第{n}项" in it.basis)
        for p in range(1, points + 1):
            assert f"第{p}点" in cited or f"第{p}、" in cited or f"、{p}" in cited, (n, p)
    t = {it.id: it for it in cl.items}
    assert t["T-3-1"].threshold == {"op": ">=", "value": 300} and t["T-3-1"].unit == "㎡"
    assert t["T-2-1"].rule == "teachers" and t["T-4-1"].rule == "admin_staff"
    assert t["T-4-2"].rule == "finance_staff" and t["T-6-1"].rule == "class_hours"
    assert t["T-6-1"].param("min_attendance") == 0.95 and t["T-6-1"].param("max_online_share") == 0.40
    assert t["T-6-1"].param("max_online_per_day") == 8
    assert len(t["T-6-6"].choices) == 10  # the §23 archive list
    assert t["T-3-1"].photo_required


def test_evaluation_has_all_25_items_plus_193():
    cl = shipped("evaluation")
    for n in range(1, 26):
        assert any(f"附件2 第{n}项" in it.basis for it in cl.items), n
    assert sum(1 for it in cl.items if "193号" in it.basis) >= 10
    e = {it.id: it for it in cl.items}
    assert e["E-38"].threshold == {"op": ">=", "value": 3} and e["E-38"].unit == "年"
    assert e["E-39"].threshold == {"op": ">=", "value": 5}
    # the department's own duties are recorded but never become findings
    assert all(e[f"E-{n}"].scope == "department" and not e[f"E-{n}"].codes for n in range(21, 26))


def test_exam_site_and_trainee_check():
    x = {it.id: it for it in shipped("exam_site").items}
    assert x["X-09"].type == "count" and x["X-09"].threshold == {"op": ">=", "value": 3}
    assert all(c.startswith("PJ-") for it in x.values() for c in it.codes)
    s = {it.id: it for it in shipped("trainee_check").items}
    assert s["S-04"].rule == "trainee_verification"
    assert set(s["S-04"].params["flag_codes"]) == set(forms.RULES["trainee_verification"].flags)


def _write(tmp_path: Path, name: str, text: str) -> Path:
    p = tmp_path / name
    p.write_text(text, encoding="utf-8")
    return p


def test_minimal_file_parses(tmp_path):
    cl = forms.load_checklist(_write(tmp_path, "mini.toml", MINIMAL))
    assert cl.version_id == "mini@1" and cl.item("A-1").codes == ("PX-YZ-7",)
    with pytest.raises(FormError, match="no item 'A-9'"):
        cl.item("A-9")


def test_misspelt_key_names_file_item_and_key(tmp_path):
    text = (FORMS / "training.toml").read_text(encoding="utf-8").replace(
        'threshold = { op = ">=", value = 300 }', 'treshold = { op = ">=", value = 300 }')
    p = _write(tmp_path, "training.toml", text)
    with pytest.raises(FormError) as ei:
        forms.load_checklist(p)
    assert f"{p}: item T-3-1: unknown key 'treshold'" in ei.value.problems


def test_all_problems_of_all_files_are_collected(tmp_path):
    bad1 = MINIMAL + '''
[[sections.items]]
id = "A-1"
type = "number"
text = "面积"
basis = ""
codes = ["PX-QW-9", "PJ-QW-1"]
threshold = { op = "=>", value = "三百" }
photo_required = "yes"

[[sections.items]]
id = "A-3"
type = "table"
text = "教师"
basis = "x号"
codes = ["PX-QW-2"]
rule = "teachers"
params = { min_theory = -1, min_teachers = 2 }
columns = [ { id = "name", label = "姓名", type = "text" }, { id = "role", label = "类别", type = "choice", choices = ["理论", "实操"] } ]

[[sections.items]]
id = "A-4"
type = "check"
text = "条件项"
basis = "x号"
codes = ["PX-QW-2"]
when = { item = "A-99", equals = "pass" }

[[sections.items]]
id = "A-5"
type = "table"
text = "规则"
basis = "x号"
codes = ["PX-QW-2"]
rule = "magic"
columns = [ { id = "n", label = "n", type = "decimal" } ]
'''
    bad2 = MINIMAL.replace('kind = "培训机构"', 'kind = "学校"').replace('basis = "新人社办〔2023〕35号 附件1 第1项"\n', '')
    bad3 = "id = [unclosed"
    d = tmp_path / "forms"
    d.mkdir()
    _write(d, "a.toml", bad1)
    _write(d, "b.toml", bad2)
    _write(d, "c.toml", bad3)
    problems = forms.check([d])
    a, b, c = (str(d / n) for n in ("a.toml", "b.toml", "c.toml"))
    want = [
        f"{a}: item A-1: duplicate item id",
        f"{a}: item A-1: 'basis' must not be empty",
        f"{a}: item A-1: unknown catalogue code 'PX-QW-9'",
        f"{a}: item A-1: code 'PJ-QW-1' is for 评价机构, not allowed in this checklist's kind",
        f"{a}: item A-1: threshold op '=>' is not one of >=, >, <=, <, ==",
        f"{a}: item A-1: threshold value '三百' must be a number",
        f"{a}: item A-3: rule 'teachers' needs column 'degree' (choice), not found",
        f"{a}: item A-3: column 'role': rule 'teachers' does not know choice(s) ['实操'] (known: ['理论', '实训'])",
        f"{a}: item A-3: param 'min_theory' has a bad value -1",
        f"{a}: item A-4: when names unknown item 'A-99'",
        f"{a}: item A-5: unknown rule 'magic' (known: teachers, admin_staff, finance_staff, class_hours, trainee_verification)",
        f"{b}: kind '学校' is not one of 培训机构, 评价机构, 考场, 学员",
        f"{b}: item A-1: missing key 'basis'",
    ]
    for w in want:
        assert w in problems, (w, problems)
    assert any(l.startswith(f"{a}: item A-1: 'photo_required' must be a boolean") for l in problems)
    assert any(l.startswith(f"{a}: item A-3: unknown param 'min_teachers'") for l in problems)
    assert any(l.startswith(f"{a}: item A-5: column n: type 'decimal'") for l in problems)
    assert any(l.startswith(f"{c}: TOML syntax error") for l in problems)
    with pytest.raises(FormError) as ei:
        forms.load_all(d)
    assert ei.value.problems == problems


def test_codes_on_item_that_cannot_fail_and_missing_codes(tmp_path):
    text = MINIMAL.replace('codes = ["PX-YZ-7"]\n', '') + '''
[[sections.items]]
id = "A-2"
type = "text"
text = "说明"
basis = "x号"
codes = ["PX-QW-1"]
'''
    problems = forms.check([_write(tmp_path, "m.toml", text)])
    assert any("item A-1: missing 'codes'" in l for l in problems)
    assert any("item A-2: has 'codes' but can never fail" in l for l in problems)


def test_duplicate_checklist_ids_across_files(tmp_path):
    _write(tmp_path, "one.toml", MINIMAL)
    _write(tmp_path, "two.toml", MINIMAL)
    problems = forms.check([tmp_path])
    assert problems == [f"{tmp_path / 'two.toml'}: checklist id 'mini' is also used by {tmp_path / 'one.toml'}"]


def test_cli_forms_check_ok_and_problems(tmp_path):
    r = run_cli("forms", "check")
    assert r.returncode == 0, r.stdout + r.stderr
    assert r.stdout.startswith("OK")
    r = run_cli("forms", "check", str(FORMS / "training.toml"), str(FORMS / "catalogue.toml"))
    assert r.returncode == 0, r.stdout
    bad = _write(tmp_path, "bad.toml", MINIMAL.replace('type = "check"', 'type = "check"\ntreshold = 3'))
    r = run_cli("forms", "check", str(bad))
    assert r.returncode == 1
    lines = r.stdout.strip().splitlines()
    assert f"{bad}: item A-1: unknown key 'treshold'" in lines
    assert all(l.startswith(f"{bad}: ") for l in lines)
    r = run_cli("forms", "check", str(tmp_path / "nope.toml"))
    assert r.returncode == 1 and "no such file" in r.stdout


def test_cli_forms_list_json():
    r = run_cli("forms", "list", "--json")
    assert r.returncode == 0, r.stderr
    data = {c["id"]: c for c in json.loads(r.stdout)}
    assert set(data) == set(SHIPPED)
    tr = data["training"]
    assert tr["version"] == "2026.2" and tr["title"] == "培训机构现场检查" and tr["kind"] == "培训机构"
    area = next(i for i in tr["items"] if i["id"] == "T-3-1")
    assert area["threshold"] == {"op": ">=", "value": 300} and area["unit"] == "㎡"
    assert area["codes"] == ["PX-YB-3"] and area["type"] == "number" and area["photo_required"] is True
    assert area["basis"].startswith("新人社办〔2023〕35号")
    assert all({"id", "text", "type", "codes", "basis"} <= set(i) for c in data.values() for i in c["items"])


def test_version_round_trip_and_immutability(store, tmp_path):
    cl = shipped("training")
    vid = ensure_version(store, cl)
    assert vid == "training@2026.2"
    assert ensure_version(store, cl) == vid  # idempotent
    back = load_version(store, vid)
    assert back.source == cl.source and back.sha256 == cl.sha256 and back.items == cl.items
    # a changed file under the same version is refused, the stored text stays
    changed = forms.parse_checklist(cl.source.replace("理论课集中培训面积", "理论课培训面积"), "forms/training.toml")
    with pytest.raises(ValidationError, match="training@2026.2"):
        ensure_version(store, changed)
    assert load_version(store, vid).source == cl.source
    # bumping the version stores both; the old one is kept forever
    bumped = forms.parse_checklist(changed.source.replace('version = "2026.2"', 'version = "2026.3"'), "x")
    assert ensure_version(store, bumped) == "training@2026.3"
    assert [v["id"] for v in list_versions(store)] == ["training@2026.2", "training@2026.3"]
    assert load_version(store, "training@2026.2").item("T-3-1").text == "理论课集中培训面积"
    with pytest.raises(Exception, match="immutable"):
        with store.tx() as db:
            db.execute("UPDATE checklist_versions SET source = 'x' WHERE id = ?", (vid,))
    with pytest.raises(NotFound):
        load_version(store, "training@0")
    assert store.verify_audit_chain() == []


def test_version_survives_reopen(home):
    from inspector.store import Store

    with Store.open(home) as s:
        ensure_version(s, shipped("exam_site"))
    with Store.open(home) as s:
        assert load_version(s, "exam_site@2026.2").sha256 == shipped("exam_site").sha256


def test_forms_dir_env_override(tmp_path, monkeypatch):
    shutil.copy(FORMS / "catalogue.toml", tmp_path / "catalogue.toml")
    (tmp_path / "mini.toml").write_text(MINIMAL, encoding="utf-8")
    monkeypatch.setenv("INSPECTOR_FORMS", str(tmp_path))
    assert [c.id for c in forms.load_all()] == ["mini"]


def test_fail_text_template_and_bad_placeholder(tmp_path):
    from inspector.rules import evaluate_item

    text = MINIMAL.replace('codes = ["PX-YZ-7"]', 'codes = ["PX-YZ-7"]\nfail_text = "现场未见办学许可证（{text}）"')
    cl = forms.parse_checklist(text, "m.toml")
    assert evaluate_item(cl.item("A-1"), "fail").reason == "现场未见办学许可证（有办学许可证）"
    bad = MINIMAL.replace('codes = ["PX-YZ-7"]', 'codes = ["PX-YZ-7"]\nfail_text = "{amount} 元"')
    assert forms.check(paths=[_write(tmp_path, "b.toml", bad)]) == [
        f"{tmp_path / 'b.toml'}: item A-1: fail_text has a bad placeholder 'amount' "
        "(use {value} {limit} {unit} {label} {missing} {text} {detail})"]
