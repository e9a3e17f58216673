"""The legal content of the documents, per shipped jurisdiction profile, as a legal officer checks
it on the printed pages (pdftotext): ``inspector demo --profile NAME`` on a laptop whose clock zone
is UTC produces the whole set for a visit with findings, and every required element is there — and
nothing of another jurisdiction."""
from __future__ import annotations

import datetime as dt
import json
import os
import re
import sys
from pathlib import Path
from typing import Any

import pytest

from inspector import pii, profiles
from tests.docs_fixtures import pdf_pages, pdftext, run

DOCS = ("record", "notice", "receipt", "ledger_pdf")
CST = dt.timezone(dt.timedelta(hours=8))


def _flat(s: str) -> str:
    return re.sub(r"\s+", "", s)


@pytest.fixture(scope="module", params=profiles.available())
def produced(request, tmp_path_factory) -> dict[str, Any]:
    name = request.param
    out = tmp_path_factory.mktemp(f"legal-{name}")
    # the laptop's clock zone is UTC: the documents must still print China Standard Time
    env = {**os.environ, "TZ": "UTC"}
    p = run([sys.executable, "-m", "inspector", "demo", "--out", str(out), "--profile", name, "--json"], env=env)
    assert p.returncode == 0, p.stderr
    data = json.loads(p.stdout)
    from inspector.store import Store

    with Store.open(data["home"]) as s:
        data["db"] = {
            "inst": s.one("SELECT * FROM institutions"),
            "insp": s.one("SELECT * FROM inspections"),
            "inspectors": s.rows("SELECT name, badge_no FROM inspectors ORDER BY badge_no"),
            "findings": s.rows("SELECT * FROM findings ORDER BY position"),
            "notes": s.rows("SELECT * FROM answers WHERE note IS NOT NULL AND note != ''"),
            "served": json.loads(s.scalar("SELECT served FROM documents WHERE kind = 'receipt'")),
            "rect": s.one("SELECT * FROM rectifications"),
        }
    data["name"] = name
    data["profile_obj"] = profiles.load(name)
    # content-stream order (-raw): each table cell's text stays together
    data["text"] = {k: _flat(run(["pdftotext", "-raw", data["files"][k], "-"]).stdout) for k in DOCS}
    # table rows read left to right (the raw order puts a table's columns one after another)
    data["layout"] = {k: _flat(pdftext(data["files"][k])) for k in DOCS}
    return data


def _cst(iso: str) -> str:
    t = dt.datetime.fromisoformat(iso).astimezone(CST)
    return f"{t.year}年{t.month}月{t.day}日{t:%H时%M分}"  # 月、日不编虚位 (GB/T 9704)


def test_header_numbers_unit_people(produced):
    t, db, p = produced["text"], produced["db"], produced["profile_obj"]
    for kind in ("record", "notice", "receipt"):
        assert produced["numbers"][kind] in t[kind], kind  # 文号
        assert p.agency["name"] in t[kind]
        assert db["inst"]["name"] in t[kind]
    assert produced["numbers"][kind].startswith(p.numbers[kind])
    rec = produced["layout"]["record"]
    pic = json.loads(db["insp"]["person_in_charge"])
    assert db["inst"]["legal_rep"] in rec and "法定代表人" in rec
    assert f"现场负责人{pic['name']}职务（身份）{pic['position']}" in rec
    for ins in db["inspectors"]:
        assert f"{ins['name']}（执法证号{ins['badge_no']}）" in rec
        assert f"{ins['name']}（执法证号{ins['badge_no']}）" in t["notice"]
    # the on-site person's ID is recorded, masked on the copy
    assert pic["id_no"] not in rec and f"身份证件号码{pic['id_no'][:4]}**********{pic['id_no'][-4:]}" in rec
    # their phone and ID number are sealed at rest (the row keeps masked copies), and print masked
    assert pii.is_sealed(pic["id_no_sealed"]) and pii.is_sealed(pic["phone_sealed"])
    assert "****" in pic["phone"] and f"联系电话{pic['phone']}" in rec


def test_times_are_china_standard_time_whatever_the_laptop_zone(produced):
    insp = produced["db"]["insp"]
    assert insp["started_at"].endswith("+00:00")  # the laptop clock is UTC; stored as it happened
    rec = produced["layout"]["record"]
    assert f"检查时间{_cst(insp['started_at'])}至{_cst(insp['ended_at'])}（北京时间）" in rec
    # the receipt has its own time of service, after the inspection ended and not before the signature
    served = produced["db"]["served"]
    assert served["time"] > insp["ended_at"]
    assert f"送达时间{_cst(served['time'])}（北京时间）" in produced["layout"]["receipt"]


def test_record_credentials_recusal_confirmation_and_basis(produced):
    rec, p = produced["text"]["record"], produced["profile_obj"]
    assert "【√】检查人员已向被检查单位出示执法证件" in rec
    assert _flat(p.law["inspection_basis"]) in rec and "检查依据" in rec
    assert _flat(f"问：{p.wording['recusal_question']}") in rec
    assert "答：检查人员与本单位无利害关系，不申请回避。" in rec
    assert _flat(p.law["recusal_basis"]) in rec
    assert _flat(p.wording["party_confirmation"]) in rec and "以上记录属实" not in rec
    # the reader sees requirements and their basis, no internal ids
    assert not re.search(r"\b[TEXS]-\d+(-\d+)?\b", rec) and "training@" not in rec and "已记录" not in rec
    assert "被检查单位（盖章）" in rec and "（行政机关印章）" in rec


def test_every_record_page_carries_the_three_signatures(produced):
    path = produced["files"]["record"]
    n = pdf_pages(path)
    assert n >= 3
    imgs: dict[int, int] = {}
    for line in run(["pdfimages", "-list", path]).stdout.splitlines()[2:]:
        cols = line.split()
        if cols and cols[2] == "image" and cols[8] != "jpeg":  # the handwritten PNGs, not the photos
            imgs[int(cols[0])] = imgs.get(int(cols[0]), 0) + 1
    pic = json.loads(produced["db"]["insp"]["person_in_charge"])
    for i in range(1, n + 1):
        page = _flat(run(["pdftotext", "-f", str(i), "-l", str(i), str(path), "-"]).stdout)
        assert "被检查单位负责人（每页签名）" in page and "检查人员（1）" in page and "检查人员（2）" in page, i
        assert f"姓名：{pic['name']}" in page, i
        assert imgs.get(i, 0) >= 3, f"page {i}: {imgs.get(i, 0)} signature images"


def test_notice_states_facts_provision_demand_consequence_and_remedies(produced):
    t, db, p = produced["text"]["notice"], produced["db"], produced["profile_obj"]
    assert "未达到以下要求" not in t and "未达到要求" not in t
    for n in db["notes"]:  # the inspector's own words for each failed item
        assert _flat(n["note"]) in t, n["note"]
    assert _flat(p.law["order_basis"]) in t and "现责令你单位" in t
    y, m, d = db["rect"]["deadline"].split("-")
    assert f"{y}年{int(m)}月{int(d)}日前整改完毕" in t  # 月、日不编虚位 (GB/T 9704)
    assert "违反的规定" in t
    for f in db["findings"]:
        c = p.cite(f["item_id"], f["basis"], json.loads(f["codes"] or "[]"))
        assert c["provision"] and _flat(c["provision"]) in t, c
        for lbl in c["labels"]:
            assert lbl in t
    assert "逾期后果" in t and _flat(p.law["consequence"]) in t
    assert f"六十日内向{p.remedy['reconsideration_body']}申请行政复议" in t
    assert f"六个月内直接向{_flat(p.remedy['court'])}提起行政诉讼" in t
    assert "《中华人民共和国行政复议法》第二十条" in t and "《中华人民共和国行政诉讼法》第四十六条" in t
    # where to report back
    assert _flat(p.agency["address"]) in t and p.agency["phone"].replace(" ", "") in t
    assert "（行政机关印章）" in t


def test_every_number_in_a_finding_has_its_source(produced):
    t, db = produced["text"]["notice"], produced["db"]
    counted = [f for f in db["findings"] if f["people_involved"] is not None or f["amount"] is not None]
    assert counted, "the demo should have a finding with numbers"
    for f in counted:
        note = next(n["note"] for n in db["notes"] if n["item_id"] == f["item_id"])
        if f["people_involved"] is not None:
            assert str(f["people_involved"]) in note
            assert f"涉及人数{f['people_involved']}人（来源：见现场检查笔录“检查情况”第" in t
        if f["amount"] is not None:
            assert f"{f['amount']:g}" in note
            assert f"涉及资金{f['amount']:g}元（来源：见现场检查笔录“检查情况”第" in t
    assert "36人" not in t and "10,800" not in t and "10800" not in t


def test_receipt_states_capacity_and_its_own_time(produced):
    t, served = produced["layout"]["receipt"], produced["db"]["served"]
    pic = json.loads(produced["db"]["insp"]["person_in_charge"])
    assert f"签收人{pic['name']}签收人身份{pic['position']}" in t
    assert f"身份：{pic['position']}" in t and served["recipient_capacity"] == pic["position"]
    assert "送达人签名" in t and "（行政机关印章）" in t


def test_no_document_names_another_jurisdiction(produced):
    p = produced["profile_obj"]
    others = [profiles.load(o) for o in profiles.available() if o != produced["name"]]
    for kind, t in produced["text"].items():
        for mark in p.foreign_marks:
            assert mark not in t, (kind, mark)
        for o in others:
            assert o.agency["name"] not in t, (kind, o.id)
            assert o.remedy["reconsideration_body"] not in t, (kind, o.id)
    # provincial document numbers of the three seed provinces: only this profile's own appear, and
    # nothing of another profile: its documents, 文号 prefixes, problem categories or catalogue codes
    provincial = ("内人社办发", "内人社发", "新人社办", "豫人社", "鲁人社")
    foreign_docs = [d for d in provincial if not any(d.startswith(o) or o.startswith(d) for o in p.own_documents)]
    assert foreign_docs, p.own_documents
    for kind, t in produced["text"].items():
        for mark in foreign_docs:
            assert mark not in t, (kind, mark)
        for o in others:
            for mark in (*o.own_documents, *o.numbers.values(), *(c.id for c in o.categories)):
                assert mark not in t, (kind, o.id, mark)
            for prefix in o.findings["code_prefixes"]:
                assert not re.search(re.escape(prefix) + r"(QW|YB|YZ)-\d", t), (kind, o.id, prefix)
    # the 问题台账 is 新人社办〔2023〕35号's 附件3: only that profile labels it so
    assert ("附件3" in produced["text"]["ledger_pdf"]) == (p.wording["ledger_annex"] == "附件3")
    xlsx = Path(produced["files"]["ledger_xlsx"])
    from openpyxl import load_workbook

    cells = " ".join(str(c) for r in load_workbook(xlsx).active.iter_rows(values_only=True) for c in r if c)
    for mark in (*p.foreign_marks, *foreign_docs):
        assert mark not in cells, mark


def test_typography_number_never_broken_brackets_full_width_gutter(produced):
    for kind in ("record", "notice", "receipt"):
        path = produced["files"][kind]
        layout = pdftext(path)
        numbers = [produced["numbers"][k] for k in ("record", "notice", "receipt")]
        for line in layout.splitlines():
            if "〔20" in line:  # a 文号 on this line is whole
                assert any(n in line.replace(" ", "") for n in numbers) or re.search(r"〔\d{4}〕\d+号", line), line
        plain = pdftext(path, layout=False)
        assert not re.search(r"[\u4e00-\u9fff]\([^)]*\)", plain), re.findall(r".{6}\([^)]*\)", plain)[:3]
        # binding gutter: no text starts left of 28 mm on any page
        bbox = run(["pdftotext", "-bbox", str(path), "-"]).stdout
        xs = [float(x) for x in re.findall(r'<word xMin="([\d.]+)"', bbox)]
        assert xs and min(xs) >= 28 * 72 / 25.4 - 0.5, (kind, min(xs))


@pytest.mark.parametrize("profile", ["xinxiang", "neimenggu"])
def test_record_prints_text_answers_verbatim_and_unanswered_items_with_reason(store, home, profile):
    """Issue 11: a text answer prints as typed, an item left unanswered prints as 未答 with its
    reason, a skipped one as 不适用 with the rule — none silently dropped. Under 新乡 the items whose
    basis is only an Inner Mongolia notice are 不适用 by the profile's rule (the notice not named)."""
    from inspector import demo, visit_state
    from inspector.store import checklists, documents as docs, visits

    prof = profiles.apply(store, profile)
    inst, ins = demo._setup_people(store, 9)
    cl = demo._training_checklist()
    cv = checklists.ensure_version(store, cl, actor="t")
    iid = visits.start_inspection(store, inst["id"], inspector_ids=[r["id"] for r in ins], checklist_version_ids=[cv],
                                  actor="t")
    text_item = next(it for it in cl.items if it.type == "text")
    visits.set_answer(store, iid, cv, text_item.id, "前台张贴的收费标准为二〇二四年旧版", actor="t")
    visits.set_answer(store, iid, cv, "T-6-2", "否", actor="t")  # skips the online-training items
    d = docs.make_document(store, iid, "record")
    t = _flat(pdftext(docs.export(store, d["id"], home / "r.pdf"), layout=False))
    assert "答复：前台张贴的收费标准为二〇二四年旧版" in t
    assert "未答：检查人员未记录答复" in t
    seen = visit_state.for_profile(cl, prof)
    answered = {text_item.id, "T-6-2"}
    assert t.count("未答：") == sum(1 for it in seen.items if not it.when and it.id not in answered)
    by_profile = [it for it in seen.items if "reason" in (it.when or {})]
    if profile == "xinxiang":
        assert {"T-5-9", "T-5-10", "T-6-3"} <= {it.id for it in by_profile}
        assert t.count("本地区检查依据未列此项") == len(by_profile) and "内人社" not in t
    else:
        assert by_profile == [] and "本项仅在“是”时检查" in t
    for it in cl.items:
        assert _flat(it.text)[:12] in t, it.id  # every item is printed


def test_a_document_number_is_never_broken_across_lines():
    """GB/T 9704: the 文号 stays on one line — at every width where it fits, in running text."""
    from reportlab.pdfbase.pdfmetrics import stringWidth

    from inspector.render.common import P, fonts

    number = "内人社监录〔2026〕L-0001号"
    text = f"出示执法证件后对你单位进行了现场检查（现场检查笔录 {number}）。经查，你单位存在以下问题：" * 3
    fits = int(stringWidth(number, fonts()[0], 11)) + 12
    for width in range(fits, 460, 3):
        p = P(text, "body")
        p.wrap(width, 10_000)
        lines = ["".join(str(x) for x in ln[1]) for ln in p.blPara.lines]
        assert "".join(lines).replace(" ", "") == text.replace(" ", "")
        for ln in lines:
            assert "〔2026〕" not in ln or number in ln.replace(" ", ""), (width, lines)
            assert not ln.lstrip().startswith(("。", "，", "）")), (width, lines)


def test_no_table_row_stands_alone_on_a_page(tmp_path):
    """A table whose last row would be carried to the next page alone (under the repeated header)
    keeps it with the row before."""
    from reportlab.lib.units import mm
    from reportlab.platypus import Spacer, Table

    from inspector.render.common import P, Page, build, grid_style, no_widows

    def doc(n: int, widows: bool) -> Path:
        rows = [[P("序号", "cellc"), P("内容", "cellc")]] + [[P(str(i), "cellc"), P(f"第{i}行内容", "cell")]
                                                         for i in range(1, n + 1)]
        t = Table(rows, colWidths=[20 * mm, 100 * mm], repeatRows=1)
        t.setStyle(grid_style(no_widows(len(rows)) if widows else []))
        out = tmp_path / f"t{n}{widows}.pdf"
        out.write_bytes(build([Spacer(1, 40 * mm), t], Page("测试")))
        return out

    def rows_on_last_page(path: Path) -> int:
        n = pdf_pages(path)
        txt = run(["pdftotext", "-f", str(n), "-l", str(n), str(path), "-"]).stdout
        return len(re.findall(r"第\d+行内容", txt))

    n = next(k for k in range(10, 80) if pdf_pages(doc(k, False)) == 2 and rows_on_last_page(doc(k, False)) == 1)
    assert rows_on_last_page(doc(n, True)) >= 2


def test_half_width_brackets_in_chinese_text_become_full_width(tmp_path):
    from inspector.render.common import P, Page, build

    pdf = tmp_path / "b.pdf"
    pdf.write_bytes(build([P("内人社办发〔2024〕58号 附件 培训机构轻微失信行为(4)；核验地址 https://x.example/v(1)")],
                          Page("测试")))
    t = _flat(pdftext(pdf, layout=False))
    assert "轻微失信行为（4）" in t and "(4)" not in t
    assert "https://x.example/v(1)" in t  # Latin text keeps its brackets


def test_the_notice_keeps_remedies_signatures_seal_and_receipt_on_one_page(produced):
    """No page of the notice carries only the seal or only the 签收栏: the remedy notice, the
    inspectors' signatures, the agency's seal line and the recipient's 签收栏 share one page."""
    path = produced["files"]["notice"]
    pages = [_flat(run(["pdftotext", "-f", str(i), "-l", str(i), str(path), "-"]).stdout)
             for i in range(1, pdf_pages(path) + 1)]
    on = [i for i, t in enumerate(pages) if "签收栏" in t]
    assert len(on) == 1, on
    t = pages[on[0]]
    assert "提起行政诉讼" in t and "检查人员签名" in t and "（行政机关印章）" in t, t[:200]


def test_punctuation_never_hangs_past_a_table_cell():
    """reportlab's CJK breaker hangs ，”） that may not start a line past the line's end (two in a
    row: two characters), across the cell's rule; cell text is broken so that every line fits."""
    from reportlab.pdfbase.pdfmetrics import stringWidth

    from inspector.render.common import P, fonts, styles

    text = "不适用（“是否开展线上培训”为“否”，本项仅在“是”时检查）。检查人员记录：前台及教室均未见张贴。"
    for style in ("cell", "cell9", "small"):
        size = styles()[style].fontSize
        for width in range(90, 260, 7):
            p = P(text, style)
            w, _ = p.wrap(width, 10_000)
            assert w == width
            lines = ["".join(str(x) for x in ln[1]) for ln in p.blPara.lines]
            for ln in lines:
                assert stringWidth(ln, fonts()[0], size) <= width + 0.5, (style, width, ln, lines)
            assert "".join(lines).replace(" ", "") == text.replace(" ", "")
            assert not any(ln.startswith(("，", "。", "”", "）")) for ln in lines), lines
