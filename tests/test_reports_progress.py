"""The Shandong progress tables (鲁人社函〔2023〕65号 附件1/附件2) and the 问题台账 (附件3) on the
known data set of tests/console_fixtures.py: columns, rows and every number pinned."""
from __future__ import annotations

import subprocess

import pytest

from inspector.reports import ledger_rows as LG
from inspector.reports import mapping as M
from inspector.reports import progress as PG
from tests.console_fixtures import PERIOD, postgresql_proc, seed_dataset  # noqa: F401


@pytest.fixture(scope="module", params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def inputs(request, tmp_path_factory):
    """The known data set on SQLite and on a real PostgreSQL: the pinned numbers hold on both."""
    from inspector.hq import console_db  # noqa: F401
    from inspector.hq import db as D
    from inspector.hq.config import normalise_db_url
    from inspector.hq.console import data
    from tests.hq_fixtures import pg_url

    url = f"sqlite:///{tmp_path_factory.mktemp('rep') / 'hq.db'}" if request.param == "sqlite" else \
        normalise_db_url(pg_url(request.getfixturevalue("postgresql_proc")))
    eng = D.make_engine(url)
    D.create_schema(eng)
    seed_dataset(eng)
    yield data.report_inputs(eng)
    eng.dispose()


def table(inputs, kind):
    return PG.compute(kind, inputs["institutions"], inputs["inspections"], inputs["findings"], inputs["handling"],
                      since=PERIOD[0], until=PERIOD[1])


def test_training_table_columns_rows_and_numbers(inputs):
    t = table(inputs, "培训机构")
    assert [(c.group, c.label) for c in t.columns] == [
        (None, "排查总量（个）"), ("已核实（个）", "低效无效（个）"), ("已核实（个）", "造假骗补冒领（个）"),
        ("已核实（个）", "违规转包（个）"), ("处理情况", "移出目录（个）"), ("处理情况", "追回补贴资金（元）"),
        (None, "其他需要说明的情况")]
    assert t.values() == [
        # projects: A·电工, A·焊工, B·育婴员, F·（未列工种）; f1 is named 焊工 and removed from the project catalogue
        ["补贴性培训项目", 4, 1, 0, 0, 1, 0, ""],
        # A (f1 低效无效, f2 造假骗补, removed, 15000 recovered) and F (no finding); superseded/out-of-period rows ignored
        ["承担补贴性培训任务的机构", 2, 1, 1, 0, 1, 15000.0, ""],
        ["主管部门所属单位", 1, 0, 0, 1, 0, 2000.5, ""],
    ]


def test_evaluation_table_columns_rows_and_numbers(inputs):
    t = table(inputs, "评价机构")
    assert [c.label for c in t.columns] == [
        "排查总量（个）", "编造材料虚假评价发证（个）", "不考试发证（个）", "制售山寨证书（个）", "内外勾结倒卖证书（个）",
        "涉及证书（本）", "追回补贴资金（元）", "其他需要说明的情况"]
    assert t.values() == [
        ["经人社部门备案的职业资格鉴定机构", 1, 0, 0, 0, 0, 0, 0, "另有 1 条问题不属于上述类别"],
        ["经人社部门备案的职业技能等级认定机构", 1, 1, 1, 0, 0, 40, 9000.0, ""],  # the draft check of C does not count
        ["自行开展能力水平评价活动的机构", 1, 0, 0, 1, 0, 50, 0, "已移送市场监管部门"],
    ]


def test_every_number_has_the_rows_behind_it(inputs):
    t = table(inputs, "培训机构")
    cell = t.cell(1, "造假骗补冒领")
    assert [r["finding_id"] for r in cell.refs] == ["f2"] and cell.refs[0]["codes"] == ["PX-YZ-9"]
    assert sorted(r["unit"] for r in t.cell(0, "total").refs) == sorted(
        ["红旗区华宇职业技能培训学校·电工", "红旗区华宇职业技能培训学校·焊工", "新乡市就业训练中心·育婴员",
         f"{'<script>'}alert('x')</script>牧野区培训学校·（未列工种）"])
    rec = t.cell(2, "recovered")
    assert sum(r["amount"] for r in rec.refs) == rec.value == 2000.5


def test_clerk_category_overrides_the_catalogue(inputs):
    hand = dict(inputs["handling"])
    hand["f6"] = {"category": "编造材料虚假评价发证"}
    hand["f4"] = {"category": "无", "certificates": 30}
    t = PG.compute("评价机构", inputs["institutions"], inputs["inspections"], inputs["findings"], hand,
                   since=PERIOD[0], until=PERIOD[1])
    assert t.cell(0, "编造材料虚假评价发证").value == 1
    assert t.cell(1, "编造材料虚假评价发证").value == 0
    assert t.cell(1, "certificates").value == 10  # f4 no longer counted under a category


def test_mapping_codes_exist_and_rows():
    from inspector.catalogue import catalogue

    cat = catalogue()
    for name, codes in M.ALL_CATEGORIES.items():
        for c in codes:
            assert c in cat, (name, c)
            assert cat[c].kind == ("培训机构" if c.startswith("PX") else "评价机构")
    assert M.institution_row({"kind": "培训机构", "sub_kind": "技工院校"}) == 1
    assert M.institution_row({"kind": "培训机构", "sub_kind": "主管部门所属单位"}) == 2
    assert M.institution_row({"kind": "评价机构", "sub_kind": "社会评价机构"}) == 1
    assert M.institution_row({"kind": "评价机构", "sub_kind": "职业技能鉴定中心"}) == 0
    assert M.institution_row({"kind": "评价机构", "sub_kind": "行业协会"}) == 2


def test_docs_define_every_category_code():
    from pathlib import Path

    doc = (Path(__file__).parents[1] / "docs" / "reports.md").read_text(encoding="utf-8")
    for name, codes in M.ALL_CATEGORIES.items():
        assert name in doc
        for c in codes:
            assert c in doc, c


def test_ledger_columns_filters_and_numbers(inputs):
    args = (inputs["institutions"], inputs["inspections"], inputs["findings"], inputs["rectifications"],
            inputs["handling"])
    rows = LG.rows(*args, since=PERIOD[0], until=PERIOD[1])
    assert LG.COLUMNS == ("序号", "机构名称", "问题简述", "涉及人数", "资金金额", "责任人", "整改措施", "整改期限",
                          "整改结果", "机构联系人及电话")
    assert [r["_finding_id"] for r in rows] == ["f1", "f2", "f3", "f4", "f5", "f6", "f7"]
    assert LG.totals(rows) == {"问题数": 7, "涉及人数": 107, "资金金额": 27600.0}
    r = rows[1]
    assert (r["机构名称"], r["问题简述"], r["涉及人数"], r["资金金额"], r["责任人"], r["整改期限"], r["整改结果"],
            r["机构联系人及电话"]) == ("红旗区华宇职业技能培训学校", "伪造电工班考勤骗取培训补贴（PX-YZ-9）", 5, 15000.0,
                                  "负责人A", "2026-04-30", "整改中", "联系人A 13800000001")
    assert rows[3]["整改结果"] == "已按期整改"
    assert [r["_finding_id"] for r in LG.rows(*args, since=PERIOD[0], until=PERIOD[1], county="红旗区")] == \
        ["f1", "f2", "f4", "f5"]
    assert [r["_finding_id"] for r in LG.rows(*args, since=PERIOD[0], until=PERIOD[1], kind="评价机构")] == \
        ["f4", "f5", "f6", "f7"]
    assert [r["_finding_id"] for r in LG.rows(*args, since="2026-07-01", until="2026-12-31")] == ["f9"]


def test_progress_xlsx_keeps_the_seed_structure(inputs, tmp_path):
    from openpyxl import load_workbook

    t = table(inputs, "培训机构")
    p = PG.write_xlsx(t, tmp_path / "a1.xlsx", unit="新乡市人力资源和社会保障局")
    ws = load_workbook(p).active
    assert ws["A1"].value == "附件1" and ws["A2"].value == PG.TITLE and ws["A3"].value == "（职业技能培训）"
    assert ws["A4"].value == "填报单位（盖章）：新乡市人力资源和社会保障局"

    def label(r: int, c: int) -> object:  # a header may break before its unit to print ('排查总量\n（个）')
        v = ws.cell(r, c).value
        return v.replace("\n", "") if isinstance(v, str) else v

    assert [label(5, c) for c in range(1, 10)] == ["项目", None, "排查总量（个）", "已核实（个）", None, None,
                                                           "处理情况", None, "其他需要说明的情况"]
    assert [label(6, c) for c in range(4, 9)] == ["低效无效（个）", "造假骗补冒领（个）", "违规转包（个）",
                                                          "移出目录（个）", "追回补贴资金（元）"]
    merged = {str(r) for r in ws.merged_cells.ranges}
    assert {"A5:B6", "C5:C6", "D5:F5", "G5:H5", "I5:I6"} <= merged
    assert [ws.cell(8, c).value for c in range(1, 9)] == [2, "承担补贴性培训任务的机构", 2, 1, 1, 0, 1, 15000]
    assert ws.cell(10, 1).value == PG.NOTE


def test_progress_pdf_has_the_table_in_an_embedded_font(inputs, tmp_path):
    t = table(inputs, "评价机构")
    p = tmp_path / "a2.pdf"
    p.write_bytes(PG.build_pdf(t, unit="新乡市人力资源和社会保障局"))
    text = "".join(subprocess.run(["pdftotext", str(p), "-"], capture_output=True, text=True).stdout.split())
    for s in ("附件2", "（职业技能评价）", "填报单位（盖章）：新乡市人力资源和社会保障局", "已核实（个）", "处理情况",
              "排查总量", "其他需要说明的情况", "9,000.00", "已移送市场监管部门", "注：每月"):
        assert s in text, s
    fonts = subprocess.run(["pdffonts", str(p)], capture_output=True, text=True).stdout.splitlines()[2:]
    assert fonts and all(line.split()[-5] == "yes" for line in fonts), fonts  # emb column
