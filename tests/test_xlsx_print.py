"""Every XLSX the laptop and HQ write, printed with a real spreadsheet program (LibreOffice Calc,
headless, to PDF) and read back with ``pdftotext -bbox``: no two text runs overlap, every header
label is on the first page, every cell's full text appears, every table is one page wide (the
header row on every page). The exports come from real data: HQ's known data set
(tests/console_fixtures.py) plus a demo directory and a saved draw, downloaded from the console
over HTTP; the laptop's ledger from the demo visit. openpyxl then checks the cells themselves:
dates are date cells in the bureau's format, amounts numbers in a currency format, 填报单位 left
blank where HQ's agency is unnamed. Last, the import templates: each one's example row goes back
through the real importer.

Fonts: the printer stand-in has the project's WenQuanYi Micro Hei for 宋体/SimSun (CJK 1 em, ASCII
at most 0.6 em, as on a clerk's PC) and Carlito (Calibri's metrics, which size the columns).
"""
from __future__ import annotations

import datetime as dt
import html
import re
import shutil
import subprocess
import unicodedata
from pathlib import Path
from typing import Any

import openpyxl
import pytest

from tests.console_fixtures import PASSWORDS, PERIOD, login_session, seed_dataset

pytestmark = pytest.mark.slow

YEAR = int(PERIOD[0][:4])
DATE_FORMAT = 'yyyy"年"m"月"d"日"'
WORD = re.compile(r'<word xMin="([\d.]+)" yMin="([\d.]+)" xMax="([\d.]+)" yMax="([\d.]+)">(.*?)</word>')
PAGE = re.compile(r'<page width="([\d.]+)" height="([\d.]+)">(.*?)</page>', re.S)
TEMPLATES = ("institutions", "inspectors", "roster", "self-assessment")


# -- producing the files ---------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def hq_world(tmp_path_factory: pytest.TempPathFactory):
    """A real HQ (unnamed agency, as HQ's demo runs) with the known data set, a demo directory of
    90 institutions, a saved draw of four per county and confirmed credit grades."""
    from inspector.demo_directory import write_demo_directories
    from inspector.draw import DrawParams
    from inspector.hq.admin import import_directory, run_draw
    from inspector.hq.console import data
    from inspector.hq.console.auth import add_staff
    from tests.hq_fixtures import start_hq

    tmp = tmp_path_factory.mktemp("xlsxprint")
    hq = start_hq(tmp / "hq")
    try:
        add_staff(hq.engine, "rev", PASSWORDS["rev"], "reviewer", "赵审核")
        add_staff(hq.engine, "view", PASSWORDS["view"], "viewer", "钱查看")
        seed_dataset(hq.engine)
        files = write_demo_directories(tmp / "in", institutions=90, inspectors=12, roster=4, seed=5, suffix=".csv")
        import_directory(hq.engine, files["institutions"], "institutions")
        import_directory(hq.engine, files["inspectors"], "inspectors")
        record = run_draw(hq.engine, f"{YEAR}-公开摇号-16", DrawParams(per_county=4), actor="admin")
        for n, key in enumerate("ABCDEF"):
            g = ("优秀", "良好", "合格", "不合格", "合格", "良好")[n]
            data.decide_grade(hq.engine, f"inst-{key}", YEAR, g, ["检查结果"], "confirm" if n % 2 else "override",
                              g, "复核改定（复核意见见档案）", "rev")
        clients = {u: login_session(hq.url, u) for u in ("admin", "rev", "view")}
        yield {"hq": hq, "record": record, "clients": clients, "tmp": tmp}
        for c in clients.values():
            c.close()
    finally:
        hq.stop()


@pytest.fixture(scope="module")
def exports(hq_world, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """name -> XLSX file: the seven exports, downloaded as a clerk does, and the four templates."""
    from inspector.demo import run_demo

    out = tmp_path_factory.mktemp("exports")
    v = hq_world["clients"]["view"]
    q = "?since=%s&until=%s" % PERIOD
    urls = {"hq_ledger": f"/console/ledger.xlsx{q}", "annex1": f"/console/progress/1.xlsx{q}",
            "annex2": f"/console/progress/2.xlsx{q}", "credit": f"/console/credit/public.xlsx?year={YEAR}",
            "results": f"/console/publication/results.xlsx{q}",
            "draw": f"/console/draws/{hq_world['record']['draw_id']}/record.xlsx"}
    urls.update({f"template_{k}": f"/console/templates/{k}.xlsx" for k in TEMPLATES})
    files = {}
    for name, url in urls.items():
        r = v.get(url)
        assert r.status_code == 200 and r.content[:2] == b"PK", (url, r.status_code, r.text[:300])
        files[name] = out / f"{name}.xlsx"
        files[name].write_bytes(r.content)
    demo = run_demo(hq_world["tmp"] / "laptop-out", home=hq_world["tmp"] / "laptop")
    files["laptop_ledger"] = out / "laptop_ledger.xlsx"
    shutil.copy(demo["files"]["ledger_xlsx"], files["laptop_ledger"])
    return files


EXPORTS = ("hq_ledger", "laptop_ledger", "annex1", "annex2", "credit", "results", "draw")


def _fonts_conf(where: Path) -> Path:
    from inspector import paths

    conf = where / "fonts.conf"
    alias = "".join(f'<alias binding="same"><family>{f}</family><prefer><family>WenQuanYi Micro Hei</family>'
                    f"</prefer></alias>" for f in ("宋体", "SimSun"))
    conf.write_text('<?xml version="1.0"?><!DOCTYPE fontconfig SYSTEM "fonts.dtd"><fontconfig>'
                    '<include ignore_missing="yes">/etc/fonts/fonts.conf</include>'
                    f"<dir>{paths.cjk_font().parent}</dir><cachedir>{where / 'fc-cache'}</cachedir>{alias}"
                    "</fontconfig>", encoding="utf-8")
    return conf


@pytest.fixture(scope="module")
def printed(exports, tmp_path_factory: pytest.TempPathFactory) -> dict[str, dict[str, Any]]:
    """name -> {xlsx, pdf, pages (words with boxes), raw (text in drawing order), raw_pages}: every
    file converted by LibreOffice in one call (it is slow to start)."""
    import os

    soffice = shutil.which("soffice")
    if soffice is None:
        pytest.skip("!!! soffice missing (Debian libreoffice-calc-nogui, `make system-deps`): printing NOT tested !!!")
    tmp = tmp_path_factory.mktemp("print")
    env = {**os.environ, "FONTCONFIG_FILE": str(_fonts_conf(tmp)), "HOME": str(tmp)}
    outdir = tmp / "pdf"
    r = subprocess.run([soffice, f"-env:UserInstallation=file://{tmp / 'lo-profile'}", "--headless",
                        "--convert-to", "pdf", "--outdir", str(outdir), *map(str, exports.values())],
                       capture_output=True, text=True, env=env, timeout=240)
    out = {}
    for name, x in exports.items():
        pdf = outdir / f"{x.stem}.pdf"
        assert pdf.exists(), f"LibreOffice did not print {x.name}: {r.stdout}{r.stderr}"
        out[name] = {"xlsx": x, "pdf": pdf, "pages": _pages(pdf), "raw_pages": _raw_pages(pdf)}
        out[name]["raw"] = "".join(out[name]["raw_pages"])
    return out


def _pages(pdf: Path) -> list[dict[str, Any]]:
    text = subprocess.run(["pdftotext", "-bbox", str(pdf), "-"], capture_output=True, text=True, check=True).stdout
    return [{"w": float(m.group(1)), "h": float(m.group(2)),
             "words": [(float(a), float(b), float(c), float(d), html.unescape(t))
                       for a, b, c, d, t in WORD.findall(m.group(3))]} for m in PAGE.finditer(text)]


def _raw_pages(pdf: Path) -> list[str]:
    """Each page's text in drawing order (a wrapped cell's lines come together), blanks removed."""
    text = subprocess.run(["pdftotext", "-raw", str(pdf), "-"], capture_output=True, text=True, check=True).stdout
    return [_norm(p) for p in text.split("\f")[:-1]]


def _norm(s: Any) -> str:
    return "".join(unicodedata.normalize("NFKC", str(s)).split())


def shown(cell: Any) -> str:
    """What a printed cell must show, worked out here rather than by the writers' helpers."""
    v = cell.value
    if v is None or v == "":
        return ""
    if isinstance(v, (dt.date, dt.datetime)):
        return f"{v.year}年{v.month}月{v.day}日"
    if isinstance(v, (int, float)) and "¥" in (cell.number_format or ""):
        return f"¥{v:,.2f}"
    if isinstance(v, float) and v.is_integer():
        return str(int(v))
    return str(v)


def title_rows(ws: Any) -> list[int]:
    t = ws.print_title_rows
    assert t, f"{ws.title}: no header rows repeated on every page"
    a, b = (int(x) for x in re.findall(r"\d+", t)[:2])
    return list(range(a, b + 1))


def header_labels(ws: Any) -> list[str]:
    return [_norm(shown(c)) for r in title_rows(ws) for c in ws[r] if shown(c)]


# -- LibreOffice: the printed pages ------------------------------------------------------------------------------
def test_every_export_prints(printed):
    for name in EXPORTS:
        assert printed[name]["pages"], name
    assert len(printed["draw"]["pages"]) >= 2, "the draw list should span pages (checks the repeated header)"


def _overlaps(page: dict[str, Any]) -> list[tuple[str, str]]:
    """Pairs of words whose boxes overlap: more than 1 pt across and a fifth of a line's height
    down (lines of one cell touch by about a tenth of their height: pdftotext boxes hold the
    font's whole ascent and descent)."""
    bad = []
    ws = page["words"]
    for i, a in enumerate(ws):
        for b in ws[i + 1:]:
            if min(a[2], b[2]) - max(a[0], b[0]) > 1.0 and \
                    min(a[3], b[3]) - max(a[1], b[1]) > 0.2 * min(a[3] - a[1], b[3] - b[1]):
                bad.append((a[4], b[4]))
    return bad


def test_no_two_text_runs_overlap_and_none_leaves_the_page(printed):
    problems = []
    for name, p in printed.items():
        for n, page in enumerate(p["pages"], 1):
            problems += [f"{name} p{n}: {a!r} over {b!r}" for a, b in _overlaps(page)]
            problems += [f"{name} p{n}: {w[4]!r} off the page" for w in page["words"]
                         if w[0] < 0 or w[1] < 0 or w[2] > page["w"] or w[3] > page["h"]]
    assert not problems, "\n".join(problems[:30])


def test_every_header_label_and_the_title_are_on_the_first_page(printed):
    for name in EXPORTS:
        ws = openpyxl.load_workbook(printed[name]["xlsx"]).active
        first = printed[name]["raw_pages"][0]
        title = next(_norm(c.value) for r in ws.iter_rows(max_row=3) for c in r
                     if isinstance(c.value, str) and len(c.value) > 6)
        missing = [h for h in [title, *header_labels(ws)] if h not in first]
        assert not missing, (name, missing)


def test_every_cell_shows_its_full_text(printed):
    problems = []
    for name, p in printed.items():
        for ws in openpyxl.load_workbook(p["xlsx"]).worksheets:
            for row in ws.iter_rows():
                for c in row:
                    s = _norm(shown(c))
                    if s and s not in p["raw"]:
                        problems.append(f"{name}!{ws.title}!{c.coordinate}: {shown(c)!r}")
    assert not problems, "\n".join(problems[:30])


def test_long_identifiers_of_the_draw_are_printed_whole(printed, hq_world):
    rec = hq_world["record"]
    for v in (rec["draw_id"], rec["seed"], rec["institutions_sha256"], rec["inspectors_sha256"], rec["result_sha256"]):
        assert _norm(v) in printed["draw"]["raw_pages"][0], v
    for c in rec["counties"]:
        assert _norm(f"{c['county']} 抽取 {c['drawn']} 家（共 {c['candidates']} 家）") in printed["draw"]["raw"]


def test_each_table_is_one_page_wide_with_its_header_on_every_page(printed):
    """A table printed in strips has pages without its first or last columns: every page must
    carry the whole header row, and each row's leftmost and rightmost texts share a page."""
    problems = []
    for name in EXPORTS:
        p = printed[name]
        ws = openpyxl.load_workbook(p["xlsx"]).active
        labels = header_labels(ws)
        for n, page in enumerate(p["raw_pages"], 1):
            missing = [h for h in labels if h not in page]
            if missing:
                problems.append(f"{name} p{n}: header {missing} not on the page")
        texts = [_norm(shown(c)) for r in ws.iter_rows() for c in r]
        for row in ws.iter_rows(min_row=max(title_rows(ws)) + 1):
            own = [t for t in (_norm(shown(c)) for c in row) if len(t) >= 4 and texts.count(t) == 1]
            if len(own) >= 2:
                left = {i for i, pg in enumerate(p["raw_pages"]) if own[0] in pg}
                right = {i for i, pg in enumerate(p["raw_pages"]) if own[-1] in pg}
                if not left & right:
                    problems.append(f"{name} row {row[0].row}: {own[0]!r} and {own[-1]!r} on different pages")
    assert not problems, "\n".join(problems[:30])


# -- openpyxl: the cells and the page setup ---------------------------------------------------------------------------
def test_page_setup_one_page_wide_repeated_header_page_numbers(exports):
    for name in EXPORTS + tuple(f"template_{k}" for k in TEMPLATES):
        ws = openpyxl.load_workbook(exports[name]).worksheets[0]
        ps = ws.page_setup
        assert ws.sheet_properties.pageSetUpPr.fitToPage and ps.fitToWidth == 1 and ps.fitToHeight == 0, name
        assert ps.orientation == ("portrait" if name == "draw" else "landscape"), name
        assert int(ps.paperSize) == int(ws.PAPERSIZE_A4) and ws.print_options.horizontalCentered, name
        assert "&P" in ws.oddFooter.center.text and "&N" in ws.oddFooter.center.text, name
        assert ws.page_margins.left >= 0.5 and title_rows(ws), name


def test_text_cells_wrap_so_nothing_is_cut_at_a_cell_edge(exports):
    for name in EXPORTS:
        ws = openpyxl.load_workbook(exports[name]).active
        bad = [c.coordinate for r in ws.iter_rows() for c in r if isinstance(c.value, str) and c.value
               and not c.alignment.wrap_text]
        assert not bad, (name, bad[:10])


def _column(ws: Any, label: str) -> tuple[int, int]:
    """(header row, column) of a header label."""
    for r in title_rows(ws):
        for c in ws[r]:
            if _norm(c.value or "") == _norm(label):
                return r, c.column
    raise AssertionError(f"{ws.title}: no column {label}")


def _below(ws: Any, label: str) -> list[Any]:
    r, col = _column(ws, label)
    last = max(title_rows(ws))
    return [ws.cell(x, col) for x in range(last + 1, ws.max_row + 1) if ws.cell(x, 1).value not in (None, "")
            and isinstance(ws.cell(x, 1).value, int)]


def test_dates_are_date_cells_and_amounts_numbers_with_a_currency_format(exports):
    for name in ("hq_ledger", "laptop_ledger"):
        ws = openpyxl.load_workbook(exports[name]).active
        deadlines = _below(ws, "整改期限")
        assert deadlines and all(isinstance(c.value, dt.datetime) and c.number_format == DATE_FORMAT
                                 for c in deadlines), (name, [(c.value, c.number_format) for c in deadlines])
        amounts = [c for c in _below(ws, "资金金额") if c.value is not None]
        assert amounts and all(isinstance(c.value, (int, float)) and "¥" in c.number_format and "0.00" in c.number_format
                               for c in amounts), (name, [(c.value, c.number_format) for c in amounts])
        assert isinstance(ws["B3"].value, dt.datetime) and ws["B3"].number_format == DATE_FORMAT  # 日期：
    ws = openpyxl.load_workbook(exports["hq_ledger"]).active
    assert [c.value.date() for c in _below(ws, "整改期限")][:2] == [dt.date(2026, 4, 30)] * 2
    assert [c.value for c in _below(ws, "资金金额")][:2] == [3600, 15000]
    for name in ("annex1", "annex2"):
        ws = openpyxl.load_workbook(exports[name]).active
        money = [c for c in _below(ws, "追回补贴资金（元）")]
        assert len(money) == 3 and all(isinstance(c.value, (int, float)) and "¥" in c.number_format for c in money)
        counts = [c for c in _below(ws, "排查总量（个）")]
        assert all(isinstance(c.value, int) for c in counts), name
    ws = openpyxl.load_workbook(exports["results"]).active
    days = _below(ws, "检查日期")
    assert days and all(isinstance(c.value, dt.datetime) and c.number_format == DATE_FORMAT for c in days)
    assert days[0].value.date() == dt.date(2026, 3, 2)


def test_the_unit_hq_cannot_name_stays_blank_for_the_clerk(exports, hq_world):
    """HQ's demo runs with the unnamed default agency: the seed's blank stays (附件1/2: _____人力资源和
    社会保障局, 台账: 单位（机构）：); the laptop's ledger names its profile's bureau."""
    for name in ("annex1", "annex2"):
        ws = openpyxl.load_workbook(exports[name]).active
        assert ws["A4"].value == "填报单位（盖章）：_____人力资源和社会保障局", name
    ws = openpyxl.load_workbook(exports["hq_ledger"]).active
    assert ws["A4"].value == "单位（机构）：" and ws["A3"].value == "日期："
    for name in ("credit", "results"):
        ws = openpyxl.load_workbook(exports[name]).active
        assert "人力资源和社会保障局" not in str(ws["A2"].value), name
    ws = openpyxl.load_workbook(exports["laptop_ledger"]).active
    assert ws["A4"].value == "单位（机构）：新乡市人力资源和社会保障局"
    page = hq_world["clients"]["view"].get("/console/progress?since=%s&until=%s" % PERIOD).text
    assert "填报单位（盖章）：_____人力资源和社会保障局" in page


def test_merged_headers_and_footer_lines_as_in_the_seeds(exports):
    ws = openpyxl.load_workbook(exports["annex1"]).active
    merged = {str(r) for r in ws.merged_cells.ranges}
    assert {"A5:B6", "C5:C6", "D5:F5", "G5:H5", "I5:I6", "A2:I2", "A3:I3", "A10:I10"} <= merged
    ws = openpyxl.load_workbook(exports["hq_ledger"]).active
    merged = {str(r) for r in ws.merged_cells.ranges}
    assert "A2:J2" in merged
    foot = [c for r in ws.iter_rows(min_row=ws.max_row) for c in r if c.value]
    assert [c.value for c in foot] == ["联系人：", "填报人：钱查看", "审核人："]
    assert {f"A{ws.max_row}:C{ws.max_row}", f"D{ws.max_row}:G{ws.max_row}", f"H{ws.max_row}:J{ws.max_row}"} <= merged


# -- import templates -------------------------------------------------------------------------------------------------
def test_templates_have_the_importers_headers_lists_and_notes(exports):
    from inspector import import_templates as T
    from inspector.directory_import import CREDIT_GRADES, INSPECTOR_COLUMNS, INSTITUTION_COLUMNS, KINDS
    from inspector.reports.credit import SELF_COLUMNS
    from inspector.sampling import ROSTER_COLUMNS

    want = {"institutions": [c.header for c in INSTITUTION_COLUMNS], "inspectors": [c.header for c in INSPECTOR_COLUMNS],
            "roster": [c.header for c in ROSTER_COLUMNS], "self-assessment": ["机构名称", *SELF_COLUMNS]}
    for k in TEMPLATES:
        wb = openpyxl.load_workbook(exports[f"template_{k}"])
        ws = wb.worksheets[0]
        heads = [c.value for c in ws[1]]
        assert heads == want[k], k
        assert all(c.comment and len(c.comment.text) > 8 for c in ws[1]), k
        assert all(c.value not in (None, "") for c in ws[2] if T.template(k).fields[c.column - 1].required), k
        assert wb.sheetnames[1] == "填写说明"
        assert exports[f"template_{k}"].read_bytes()[:2] == b"PK"
    lists = {}
    for k in ("institutions", "self-assessment"):
        ws = openpyxl.load_workbook(exports[f"template_{k}"]).worksheets[0]
        for dv in ws.data_validations.dataValidation:
            if dv.type == "list":
                col = str(dv.sqref).split(":")[0].rstrip("0123456789")
                lists[(k, ws[f"{col}1"].value)] = dv.formula1.strip('"').split(",")
    assert lists[("institutions", "机构类型")] == list(KINDS)
    assert lists[("institutions", "信用等级")] == list(CREDIT_GRADES)
    assert lists[("self-assessment", "自评等级")] == list(CREDIT_GRADES)
    assert set(lists[("self-assessment", "整改情况")]) == {"已按期整改", "逾期整改", "拒不整改或敷衍整改", "待整改"}
    ws = openpyxl.load_workbook(exports["template_roster"]).worksheets[0]
    assert ws["B2"].number_format == "@" and isinstance(ws["B2"].value, str) and len(ws["B2"].value) == 18


def test_each_templates_example_row_goes_through_the_real_importer(exports, hq_world, tmp_path):
    """The templates as downloaded: institutions and inspectors into a laptop's SQLite directory and
    into HQ through the console's import form, the roster sampled, the 自评 imported at HQ."""
    from inspector import directory_import
    from inspector.sampling import sample_file
    from inspector.store import Store

    with Store.open(tmp_path / "laptop") as store:
        r = directory_import.import_institutions(store, exports["template_institutions"])
        assert (r.inserted, r.problems) == (1, [])
        r = directory_import.import_inspectors(store, exports["template_inspectors"])
        assert (r.inserted, r.problems) == (1, [])
        inst = store.one("SELECT * FROM institutions WHERE name LIKE '%示例%'")
        assert inst["kind"] == "培训机构" and inst["credit_grade"] == "良好" and inst["headcount"] == 120
    res = sample_file(exports["template_roster"], "种子-1")
    assert res.total == 1 and not res.flags, res.flags
    a, rv = hq_world["clients"]["admin"], hq_world["clients"]["rev"]
    for which in ("institutions", "inspectors"):
        f = exports[f"template_{which}"]
        r = a.post("/console/directories/import", data={"csrf": a.csrf, "which": which},
                   files={"file": (f.name, f.read_bytes(), "application/octet-stream")})
        assert r.status_code == 303 and "新增 1" in urllib_unquote(r.headers["location"]), (which, r.text[-400:])
    f = exports["template_self-assessment"]
    r = rv.post("/console/credit/self", data={"csrf": rv.csrf},
                files={"file": (f.name, f.read_bytes(), "application/octet-stream")})
    assert r.status_code == 303, r.text[-400:]
    assert "已导入 1 条自评" in urllib_unquote(r.headers["location"])


def urllib_unquote(s: str) -> str:
    import urllib.parse

    return urllib.parse.unquote(s)


def test_template_cli_writes_the_same_workbook(tmp_path, exports):
    from inspector.cli import main

    assert main(["directory", "template", "institutions", str(tmp_path / "a.xlsx")]) == 0
    assert main(["template", "self-assessment", str(tmp_path / "b.xlsx")]) == 0
    assert main(["template", "roster", str(tmp_path / "c.csv")]) == 2
    for f, k in (("a.xlsx", "institutions"), ("b.xlsx", "self-assessment")):
        mine = openpyxl.load_workbook(tmp_path / f).worksheets[0]
        theirs = openpyxl.load_workbook(exports[f"template_{k}"]).worksheets[0]
        assert [[c.value for c in r] for r in mine.iter_rows()] == [[c.value for c in r] for r in theirs.iter_rows()]
