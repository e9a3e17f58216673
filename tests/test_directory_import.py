"""Directory import: encodings, XLSX, row-numbered validation, all-or-nothing, re-import, search."""
from __future__ import annotations

import json

import pytest

from inspector import directory_import
from inspector.demo_directory import (make_institutions, make_inspectors, write_institutions,
                                      write_inspectors)
from inspector.errors import ImportRowsError
from inspector.idnumbers import (credit_code_problem, id_number_problem, is_valid_credit_code, mask_id,
                                 mask_phone)
from inspector.store import directory as repo
from inspector.tabular import write_table
from tests.draw_fixtures import INST_HEADER, cli, cli_json, code, inst_row


def count(store, table: str) -> int:
    return store.scalar(f"SELECT count(*) FROM {table}")


# -- check characters ---------------------------------------------------------------

def test_credit_code_check_character_known_codes():
    # published codes of real organisations
    assert is_valid_credit_code("91350100M000100Y43")
    assert is_valid_credit_code("91110000600037341L")
    assert credit_code_problem("91110000600037341X") == "校验位错误"
    assert "18 位" in credit_code_problem("9111000060003734")
    assert "不允许" in credit_code_problem("9111000060003734IL")
    assert is_valid_credit_code(" 91350100m000100y43 ")  # pasted with blanks, lower case


def test_id_number_checksum_date_and_masking():
    assert id_number_problem("11010519491231002X") is None
    assert id_number_problem("110105194912310021") == "校验位错误"
    assert id_number_problem("110105194913310021") == "出生日期无效"
    assert "18 位" in id_number_problem("1101051949123")
    assert mask_id("11010519491231002X") == "110105********002X"
    assert mask_phone("13812345678") == "138****5678"


def test_demo_directories_are_valid():
    insts = make_institutions(300, seed=5)
    assert len({i["credit_code"] for i in insts}) == 300 and len({i["name"] for i in insts}) == 300
    assert all(is_valid_credit_code(i["credit_code"]) for i in insts)
    assert {i["county"] for i in insts} >= {"红旗区", "卫辉市", "长垣市"}
    assert make_institutions(50, seed=5) == insts[:50]  # reproducible
    insps = make_inspectors(40, seed=5, institutions=insts)
    assert len({i["badge_no"] for i in insps}) == 40


# -- encodings and formats -------------------------------------------------------------

@pytest.mark.parametrize("suffix,encoding", [(".csv", "utf-8"), (".csv", "utf-8-sig"), (".csv", "gb18030"),
                                             (".xlsx", None)])
def test_import_reads_every_format(store, tmp_path, suffix, encoding):
    insts = make_institutions(25, seed=1)
    path = tmp_path / f"institutions{suffix}"
    write_institutions(path, insts, **({"encoding": encoding} if encoding else {}))
    if encoding == "gb18030":
        assert path.read_bytes().decode("gb18030").startswith("机构名称")
        with pytest.raises(UnicodeDecodeError):
            path.read_bytes().decode("utf-8")
    report = directory_import.import_institutions(store, path)
    assert (report.total, report.inserted, report.problems) == (25, 25, [])
    got = repo.get_institution(store, insts[3]["credit_code"])
    assert got["name"] == insts[3]["name"] and got["county"] == insts[3]["county"]
    assert got["trades"] == insts[3]["trades"]
    assert got["headcount"] == insts[3]["headcount"]


def test_inspectors_import_splits_conflicts(store, tmp_path):
    path = tmp_path / "inspectors.csv"
    write_table(path, ["姓名", "执法证号", "工作单位", "所属区县", "专业领域", "回避机构"], [
        ["张伟", "豫0001", "红旗区人社局", "红旗区", "职业技能培训", f"{code(1).lower()}；新乡市某某学校; 甲,乙"],
        ["李娜", "豫0002", "卫滨区人社局", "卫滨区", "职业技能评价、劳动保障监察", ""],
    ])
    report = directory_import.import_inspectors(store, path)
    assert report.inserted == 2
    zhang = repo.get_inspector(store, "豫0001")
    assert zhang["conflicts"] == [code(1), "新乡市某某学校", "甲", "乙"]
    assert repo.get_inspector(store, "豫0002")["specialties"] == ["职业技能评价", "劳动保障监察"]


# -- validation -----------------------------------------------------------------------

def test_every_bad_row_is_reported_and_nothing_is_imported(store, tmp_path):
    rows = [inst_row(n) for n in range(1, 11)]
    rows[1] = inst_row(2, 机构名称="")                                        # row 3: missing name
    rows[3] = inst_row(4, 机构类型="培训学校")                                 # row 5: unknown kind
    bad_code = code(6)[:17] + ("0" if code(6)[17] != "0" else "1")
    rows[5] = inst_row(6, 统一社会信用代码=bad_code)                          # row 7: check char
    rows[8] = inst_row(9, 统一社会信用代码=code(1))                           # row 10 duplicates row 2
    rows[9] = inst_row(10, 培训或取证人数="很多")                              # row 11: not a number
    path = tmp_path / "institutions.csv"
    write_table(path, INST_HEADER, rows)
    with pytest.raises(ImportRowsError) as ei:
        directory_import.import_institutions(store, path)
    problems = ei.value.problems
    text = "\n".join(problems)
    assert 'institutions.csv: 第 3 行: 缺少"机构名称"' in problems
    assert "第 5 行: 机构类型 \"培训学校\" 未知" in text
    assert f'institutions.csv: 第 7 行: 统一社会信用代码 "{bad_code}" 校验位错误' in problems
    assert "第 10 行: 统一社会信用代码" in text and "与第 2 行重复" in text
    assert "第 2 行: 统一社会信用代码" in text and "与第 10 行重复" in text
    assert "第 11 行: 培训或取证人数 \"很多\"" in text
    assert len(problems) == 6
    assert count(store, "institutions") == 0
    assert count(store, "audit_log") == 0


def test_partial_imports_the_good_rows_and_reports_the_rest(store, tmp_path):
    rows = [inst_row(n) for n in range(1, 6)]
    rows[2] = inst_row(3, 所属区县="")
    path = tmp_path / "institutions.xlsx"
    write_table(path, INST_HEADER, rows)
    report = directory_import.import_institutions(store, path, partial=True)
    assert (report.total, report.inserted, report.skipped) == (5, 4, 1)
    assert report.problems == ['institutions.xlsx: 第 4 行: 缺少"所属区县"']
    assert count(store, "institutions") == 4
    with pytest.raises(Exception):
        repo.get_institution(store, code(3))


def test_header_errors_name_the_column(store, tmp_path):
    path = tmp_path / "institutions.csv"
    header = [h for h in INST_HEADER if h != "所属区县"] + ["负责人手机"]
    write_table(path, header, [[1] * len(header)])
    with pytest.raises(ImportRowsError) as ei:
        directory_import.import_institutions(store, path)
    assert 'institutions.csv: 第 1 行: 缺少必填列 "所属区县"' in ei.value.problems
    assert any('未知的列 "负责人手机"' in p for p in ei.value.problems)


def test_header_tolerates_serial_column_and_asterisks(store, tmp_path):
    path = tmp_path / "institutions.csv"
    header = ["序号"] + [("*" + h if i < 3 else h) for i, h in enumerate(INST_HEADER)]
    write_table(path, header, [[1] + inst_row(1), [2] + inst_row(2)])
    assert directory_import.import_institutions(store, path).inserted == 2


def test_reimport_updates_by_key_and_never_duplicates(store, tmp_path):
    path = tmp_path / "institutions.csv"
    write_table(path, INST_HEADER, [inst_row(n) for n in range(1, 4)])
    directory_import.import_institutions(store, path)
    first_id = repo.get_institution(store, code(2))["id"]
    # the same directory again, one address changed, rows in another order, one new row
    rows = [inst_row(3), inst_row(2, 地址="新乡市红旗区新址 8 号", 信用等级="不合格"), inst_row(1), inst_row(4)]
    write_table(path, INST_HEADER, rows)
    report = directory_import.import_institutions(store, path)
    assert (report.inserted, report.updated, report.unchanged) == (1, 1, 2)
    assert count(store, "institutions") == 4
    changed = repo.get_institution(store, code(2))
    assert changed["id"] == first_id
    assert changed["address"] == "新乡市红旗区新址 8 号" and changed["credit_grade"] == "不合格"
    log = store.rows("SELECT action, payload FROM audit_log WHERE entity_id = ? ORDER BY seq", (first_id,))
    assert [r["action"] for r in log] == ["insert", "update"]
    assert json.loads(log[1]["payload"]) == {"address": "新乡市红旗区新址 8 号", "credit_grade": "不合格"}
    assert store.verify_audit_chain() == []


def test_unsupported_and_missing_files(store, tmp_path):
    with pytest.raises(ImportRowsError, match="文件不存在"):
        directory_import.import_institutions(store, tmp_path / "nope.csv")
    odd = tmp_path / "list.ods"
    odd.write_bytes(b"x")
    with pytest.raises(ImportRowsError, match="不支持的文件类型"):
        directory_import.import_institutions(store, odd)


# -- search ----------------------------------------------------------------------

def test_search_by_name_code_county_and_ranking(store):
    insts = make_institutions(2000, seed=3)
    repo.upsert_institutions(store, insts)
    target = insts[123]
    assert repo.search(store, target["credit_code"], 5)[0]["credit_code"] == target["credit_code"]
    assert repo.search(store, target["credit_code"].lower(), 5)[0]["credit_code"] == target["credit_code"]
    assert repo.search(store, target["name"], 5)[0]["name"] == target["name"]
    hits = repo.search(store, "卫辉市 电工", 50)
    assert hits and all(h["county"] == "卫辉市" or "卫辉市" in h["name"] for h in hits)
    assert all("电工" in h["trades"] or "电工" in h["name"] for h in hits)
    assert len(repo.search(store, "红旗区", 7)) == 7
    assert repo.search(store, "", 5) == [] and repo.search(store, "不存在的机构名", 5) == []


# -- CLI ---------------------------------------------------------------------------------

def test_cli_import_json_report_and_error_exit(home, tmp_path):
    good = tmp_path / "inst.csv"
    insts = make_institutions(30, seed=9)
    write_institutions(good, insts, encoding="gb18030")
    out = cli_json(home, "directory", "import", "institutions", str(good))
    assert out["imported"] == 30 and out["problems"] == []
    insp = tmp_path / "insp.xlsx"
    write_inspectors(insp, make_inspectors(12, seed=9, institutions=insts))
    assert cli_json(home, "directory", "import", "inspectors", str(insp))["inserted"] == 12

    bad = tmp_path / "bad.csv"
    write_table(bad, INST_HEADER, [inst_row(1), inst_row(2, 机构类型="学校")])
    p = cli(home, "directory", "import", "institutions", str(bad))
    assert p.returncode == 2
    assert '第 3 行: 机构类型 "学校" 未知' in p.stderr
    p = cli(home, "directory", "import", "institutions", str(bad), "--partial", "--json")
    assert p.returncode == 0
    rep = json.loads(p.stdout)
    assert rep["imported"] == 1 and rep["skipped"] == 1 and len(rep["problems"]) == 1
    found = cli_json(home, "directory", "search", insts[0]["credit_code"])
    assert found[0]["name"] == insts[0]["name"]


@pytest.mark.parametrize("suffix", [".xlsx", ".csv"])
def test_demo_directory_files_import_cleanly(store, tmp_path, suffix):
    from inspector.demo_directory import write_demo_directories
    from inspector.sampling import sample_file

    files = write_demo_directories(tmp_path, institutions=80, inspectors=15, roster=50, seed=3, suffix=suffix)
    assert directory_import.import_institutions(store, files["institutions"]).inserted == 80
    assert directory_import.import_inspectors(store, files["inspectors"]).inserted == 15
    res = sample_file(files["roster"], "demo").to_json()
    assert res["total"] == 50 and {f["kind"] for f in res["flags"]} == {"repeat_training", "bad_id"}


def test_header_only_file_imports_nothing(store, tmp_path):
    path = tmp_path / "empty.csv"
    write_table(path, INST_HEADER, [])
    report = directory_import.import_institutions(store, path)
    assert (report.total, report.imported) == (0, 0)
    blank = tmp_path / "blank.csv"
    blank.write_bytes(b"")
    with pytest.raises(ImportRowsError, match="第 1 行应为表头"):
        directory_import.import_institutions(store, blank)
