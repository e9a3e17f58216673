"""Checklists authored in XLSX (XLSForm layout): every shipped checklist round-trips, an authored
checklist with a skip rule, a threshold and a table is answered in a visit on a real store, and a
workbook with ten different mistakes gives ten Chinese lines naming sheet, row and column."""
from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import openpyxl
import pytest

from inspector import forms
from inspector import forms_xlsx as X
from inspector.errors import FormError

SETTINGS = [["form_id", "version", "form_title", "kind", "basis"],
            ["online_check", "2027.1", "线上培训专项检查", "培训机构", "内人社办发〔2023〕119号"]]
BASIS = "内人社办发〔2023〕119号 第十条"


def authored_rows() -> list[list[Any]]:
    """survey rows: a choice gating a check (skip rule), a threshold and a computed table."""
    return [
        ["type", "name", "label", "required", "relevant", "constraint", "hint", "basis", "codes", "photo_required",
         "unit", "rule", "params"],
        ["begin group", "O-1", "线上培训", "", "", "", "", "", "", "", "", "", ""],
        ["select_one yn", "O-1-1", "是否开展线上培训", "yes", "", "", "", BASIS, "", "", "", "", ""],
        ["check", "O-1-2", "线上培训平台已备案", "yes", '${O-1-1} == "是"', "", "查看备案回执", BASIS, "PX-YB-3",
         "yes", "", "", ""],
        ["decimal", "O-1-3", "理论课集中培训面积", "yes", "", ". >= 300", "", BASIS, "PX-YB-3", "", "㎡", "", ""],
        ["begin repeat", "O-1-4", "财务人员名册", "", "", "", "", BASIS, "PX-QW-3", "", "", "finance_staff",
         "min_finance = 2"],
        ["text", "name", "姓名"],
        ["bool", "accounting_cert", "财会人员资格证书"],
        ["end repeat"],
        ["end group"],
    ]


def workbook(path: Path, survey: list[list[Any]], choices: list[list[Any]] | None = None,
             settings: list[list[Any]] | None = None) -> Path:
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "survey"
    for r in survey:
        ws.append(r)
    ch = wb.create_sheet("choices")
    for r in (choices if choices is not None else
              [["list_name", "name", "label"], ["yn", "是", "是"], ["yn", "否", "否"]]):
        ch.append(r)
    st = wb.create_sheet("settings")
    for r in settings if settings is not None else SETTINGS:
        st.append(r)
    wb.save(path)
    return path


@pytest.mark.parametrize("cl", forms.load_all(), ids=lambda c: c.id)
def test_every_shipped_checklist_round_trips(cl: forms.Checklist, tmp_path: Path) -> None:
    """TOML → XLSX → TOML gives the same parsed checklist (Checklist.sha256 is over the source text,
    which keeps the shipped comments, so the comparison is of the parsed structure); the
    generated TOML is itself canonical: a second round trip gives the same text byte for byte."""
    xlsx = X.export_xlsx(cl, tmp_path / f"{cl.id}.xlsx")
    text, back = X.import_xlsx(xlsx)
    assert X.canonical(back) == X.canonical(cl)
    assert back.version_id == cl.version_id and len(back.items) == len(cl.items)
    text2, _ = X.import_xlsx(X.export_xlsx(back, tmp_path / "again.xlsx"))
    assert text2 == text


def test_authored_checklist_is_answered_in_a_visit(tmp_path: Path) -> None:
    from inspector import visit_state
    from inspector.store import Store, checklists, visits
    from tests.store_fixtures import seed_minimal

    text, cl = X.import_xlsx(workbook(tmp_path / "online.xlsx", authored_rows()))
    assert cl.item("O-1-2").when == {"item": "O-1-1", "equals": "是"}
    assert cl.item("O-1-3").threshold == {"op": ">=", "value": 300}
    assert cl.item("O-1-4").rule == "finance_staff" and [c.id for c in cl.item("O-1-4").columns] == [
        "name", "accounting_cert"]
    store = Store.open(tmp_path / "laptop")
    from inspector import profiles

    profiles.apply(store, "neimenggu")  # the authored items cite 内人社办发〔2023〕119号 only: inspected under 内蒙古
    inst, _ = seed_minimal(store)
    cv = checklists.ensure_version(store, cl)
    iid = visits.start_inspection(store, inst, checklist_version_ids=[cv])
    visits.set_answer(store, iid, cv, "O-1-1", "否")
    visits.set_answer(store, iid, cv, "O-1-3", 280)
    visits.set_answer(store, iid, cv, "O-1-4", [{"name": "王会计", "accounting_cert": True}])
    st = {s.item.id: s for s in visit_state.visit_states(store, iid)[cv]}
    assert st["O-1-2"].skipped and st["O-1-2"].status == "na"  # the skip rule: no online training
    assert st["O-1-3"].status == "fail" and "低于 300㎡" in st["O-1-3"].reason
    assert st["O-1-4"].status == "fail"  # one accountant, two needed
    visits.set_answer(store, iid, cv, "O-1-1", "是")
    visits.set_answer(store, iid, cv, "O-1-3", 320)
    visits.set_answer(store, iid, cv, "O-1-4", [{"name": "王会计", "accounting_cert": True},
                                                 {"name": "李出纳", "accounting_cert": True}])
    st = {s.item.id: s for s in visit_state.visit_states(store, iid)[cv]}
    assert not st["O-1-2"].skipped and st["O-1-2"].status == "unanswered"  # now it is asked
    assert st["O-1-3"].status == "pass" and st["O-1-4"].status == "pass"
    store.close()


MISTAKES = {  # what each line must mention: (sheet, row, column header)
    "settings-version": ("settings", 2, "version"),
    "unknown-header": ("survey", 1, "colour"),
    "unknown-type": ("survey", 3, "type"),
    "unknown-list": ("survey", 4, "type"),
    "duplicate-name": ("survey", 5, "name"),
    "unknown-field": ("survey", 6, "relevant"),
    "unknown-function": ("survey", 7, "constraint"),
    "photo-flag": ("survey", 8, "photo_required"),
    "unknown-code": ("survey", 9, "codes"),
    "choice-name": ("choices", 3, "name"),
}


def test_ten_mistakes_give_ten_lines_and_nothing_is_imported(tmp_path: Path) -> None:
    hdr = ["type", "name", "label", "relevant", "constraint", "basis", "codes", "photo_required", "colour"]
    survey = [
        hdr,
        ["begin group", "S-1", "一节"],
        ["selct_one", "S-1-1", "拼错的类型", "", "", BASIS],
        ["select_one nolist", "S-1-2", "选项列表不存在", "", "", BASIS],
        ["check", "S-1-2", "重复的 name", "", "", BASIS, "PX-YB-3"],
        ["check", "S-1-4", "引用不存在的字段", "${S-9-9} == \"是\"", "", BASIS, "PX-YB-3"],
        ["decimal", "S-1-5", "未知函数", "", ". >= now()", BASIS, "PX-YB-3"],
        ["check", "S-1-6", "照片标记无效", "", "", BASIS, "PX-YB-3", "maybe"],
        ["check", "S-1-7", "目录中没有的代码", "", "", BASIS, "PX-ZZ-99"],
        ["end group"],
    ]
    choices = [["list_name", "name", "label"], ["yn", "是", "是"], ["yn", "", "否"]]
    settings = [SETTINGS[0], ["bad_form", "", "十处错误", "培训机构", "某文件"]]
    path = workbook(tmp_path / "错误.xlsx", survey, choices, settings)
    out = tmp_path / "bad_form.toml"
    r = subprocess.run([sys.executable, "-m", "inspector", "forms", "import", str(path), "--out", str(out)],
                       capture_output=True, text=True, timeout=120)
    assert r.returncode == 1 and not out.exists(), r.stdout + r.stderr  # nothing written
    with pytest.raises(FormError) as e:
        X.import_xlsx(path)
    lines = e.value.problems
    assert len(lines) == 10, "\n".join(lines)
    for line in lines:
        assert line in r.stderr
        assert re.match(r"^错误\.xlsx: (survey|choices|settings): 第\d+行: ([A-Z]+列（\w+）|\w+列): .*[\u4e00-\u9fff]", line), line
    for key, (sheet, row, col) in MISTAKES.items():
        hits = [ln for ln in lines if ln.startswith(f"错误.xlsx: {sheet}: 第{row}行: ") and f"（{col}）" in ln]
        assert len(hits) == 1, (key, lines)
    assert any("PX-ZZ-99" in ln for ln in lines) and any("now()" in ln for ln in lines)


def test_expressions_use_the_rule_syntax() -> None:
    items = {"T-6-2": "choice", "T-1-1": "check"}
    assert X.parse_relevant('${T-6-2} == "是"', items) == {"item": "T-6-2", "equals": "是"}
    assert X.parse_relevant("${T-1-1} == '不符合'", items) == {"item": "T-1-1", "equals": "fail"}
    assert X.parse_constraint(". >= today() - 365", items) == {"op": ">=", "value": "today-365"}
    assert X.parse_constraint('. <= date("2026-12-31")', items) == {"op": "<=", "value": "2026-12-31"}
    assert X.parse_constraint(". < 0.4", items) == {"op": "<", "value": 0.4}
    for bad, why in (('${T-6-2} = "是"', "=="), ('selected(${T-6-2}, "是")', "未知函数 selected()"),
                     ('${X-1} == "是"', "不存在的字段 ${X-1}"), ('T-6-2 == "是"', "未知名称")):
        with pytest.raises(X._ExprError, match=re.escape(why)):
            X.parse_relevant(bad, items)
    with pytest.raises(X._ExprError, match="不能引用"):
        X.parse_constraint(". >= ${T-6-2}", items)
    with pytest.raises(X._ExprError, match="未知函数 now"):
        X.parse_constraint(". >= now()", items)


def test_cli_export_then_import_writes_the_checklist(tmp_path: Path) -> None:
    xlsx = tmp_path / "training.xlsx"
    r = subprocess.run([sys.executable, "-m", "inspector", "forms", "export", "training", "--xlsx", str(xlsx)],
                       capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr
    out = tmp_path / "training.toml"
    r = subprocess.run([sys.executable, "-m", "inspector", "forms", "import", str(xlsx), "--out", str(out)],
                       capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr
    shipped = {c.id: c for c in forms.load_all()}["training"]
    assert X.canonical(forms.load_checklist(out)) == X.canonical(shipped)


def _profile_names() -> list[str]:
    from inspector import profiles

    return profiles.available()


@pytest.mark.parametrize("name", _profile_names())
def test_every_shipped_profile_round_trips(name: str, tmp_path: Path) -> None:
    """TOML → XLSX (a `profile` sheet of key/value rows) → TOML: the same parsed data (the profile's
    version is the hash of its file bytes, which keep comments, so the data is compared)."""
    import tomllib

    from inspector import profiles

    text = (profiles.profiles_dir() / f"{name}.toml").read_text(encoding="utf-8")
    xlsx = X.export_profile_xlsx(text, tmp_path / f"{name}.xlsx")
    back_text, prof = X.import_profile_xlsx(xlsx)
    assert tomllib.loads(back_text) == tomllib.loads(text)
    orig = profiles.parse_profile(text)
    assert (prof.id, prof.agency, prof.numbers, prof.findings, prof.categories, prof.law, prof.remedy, prof.wording,
            prof.sources) == (orig.id, orig.agency, orig.numbers, orig.findings, orig.categories, orig.law,
                              orig.remedy, orig.wording, orig.sources)


def test_profile_mistakes_name_rows_and_nothing_is_written(tmp_path: Path) -> None:
    from inspector import profiles

    text = (profiles.profiles_dir() / "xinxiang.toml").read_text(encoding="utf-8")
    xlsx = X.export_profile_xlsx(text, tmp_path / "档案.xlsx")
    wb = openpyxl.load_workbook(xlsx)
    ws = wb["profile"]
    rows = {ws.cell(r, 1).value: r for r in range(2, ws.max_row + 1)}
    ws.cell(rows["agency.phone"], 1).value = "agency.fax"
    ws.cell(rows["law.record_basis"], 2).value = "没有写条款"
    wb.save(xlsx)
    out = tmp_path / "xinxiang.toml"
    r = subprocess.run([sys.executable, "-m", "inspector", "forms", "import", str(xlsx), "--out", str(out)],
                       capture_output=True, text=True, timeout=120)
    assert r.returncode == 1 and not out.exists(), r.stdout + r.stderr
    fax = rows["agency.phone"]
    assert f"档案.xlsx: profile: 第{fax}行: A列（key）: [agency]: 未知字段 'fax'" in r.stderr
    assert "[agency]: 缺少字段 'phone'（请加一行 key = agency.phone）" in r.stderr
    # the law row is checked once the keys are right
    ws.cell(rows["agency.phone"], 1).value = "agency.phone"
    wb.save(xlsx)
    from inspector.errors import ValidationError

    with pytest.raises(ValidationError) as e:
        X.import_profile_xlsx(xlsx)
    assert e.value.problems == [f"档案.xlsx: profile: 第{rows['law.record_basis']}行: B列（value）: "
                                "[law] record_basis 须写明条款（第…条）"]
