"""The documents as a clerk and poppler see them: fonts embedded, Chinese text
extractable, every field of DOMAIN.md §7 present, page x of y, photo appendix,
and the 台账 with the exact columns of Xinxiang 附件3."""
from __future__ import annotations

import re
from pathlib import Path

import pytest

from tests.docs_fixtures import demo_run, demo_store, pdf_pages, pdffonts_rows, pdftext, run  # noqa: F401

KINDS = ("record", "notice", "receipt", "ledger_pdf")


def _text(demo_run, kind: str) -> str:
    return re.sub(r"\s+", "", pdftext(demo_run["files"][kind], layout=False))


def test_demo_writes_every_document(demo_run):
    files = demo_run["files"]
    assert set(files) == {"record", "notice", "receipt", "ledger_pdf", "ledger_xlsx"}
    for path in files.values():
        assert Path(path).is_file() and Path(path).stat().st_size > 1000
        assert path in demo_run["stdout"]


@pytest.mark.parametrize("kind", KINDS)
def test_every_font_is_embedded(demo_run, kind):
    rows = pdffonts_rows(demo_run["files"][kind])
    assert rows, "no fonts at all"
    for r in rows:
        # columns: name type [type2] encoding emb sub uni object gen; 'emb' is 5th from the end
        assert r[-5] == "yes", f"{kind}: font {r[0]} is not embedded"
    assert not any("Helvetica" in r[0] for r in rows)


@pytest.mark.parametrize("kind,title", [("record", "现场检查笔录"), ("notice", "责令限期整改通知书"),
                                        ("receipt", "送达回证"), ("ledger_pdf", "专项整治行动问题台账")])
def test_title_and_institution_are_extractable(demo_run, demo_store, kind, title):
    text = _text(demo_run, kind)
    name = demo_store.scalar("SELECT name FROM institutions")
    assert title in text
    assert name in text
    if kind != "ledger_pdf":
        number = demo_run["numbers"][kind]
        assert number.replace(" ", "") in text


@pytest.mark.parametrize("kind", KINDS)
def test_page_x_of_y_on_every_page(demo_run, kind):
    path = demo_run["files"][kind]
    n = pdf_pages(path)
    text = _text(demo_run, kind)
    for i in range(1, n + 1):
        assert f"第{i}页共{n}页" in text, f"{kind}: page {i} lacks 第 {i} 页 共 {n} 页"


def test_record_has_every_field_of_domain_7(demo_run, demo_store):
    text = _text(demo_run, "record")
    inst = demo_store.one("SELECT * FROM institutions")
    for label in ("统一社会信用代码", "许可证/备案号", "地址", "法定代表人", "现场负责人", "职务", "联系电话",
                  "检查地点", "检查时间", "检查人员", "执法证号", "记录人", "任务来源", "检查依据",
                  "出示执法证件", "陈述、申辩", "申请回避", "检查情况", "发现的问题", "照片证据清单",
                  "以上笔录我已看过，与事实相符", "被检查单位负责人签名", "检查人员签名", "新乡市人力资源和社会保障局"):
        assert label in text, label
    for value in (inst["credit_code"], inst["licence_no"], inst["legal_rep"]):
        assert value in text
    for badge in demo_store.rows("SELECT badge_no FROM inspectors"):
        assert badge["badge_no"] in text
    # start and end to the minute
    assert re.search(r"\d{4}年\d{1,2}月\d{1,2}日\d{2}时\d{2}分至\d{4}年\d{1,2}月\d{1,2}日\d{2}时\d{2}分", text)
    # facts item by item, neutrally worded: no penalty wording in the record
    assert "T-3-1" not in text and "training@" not in text and "不符合" in text
    for word in ("罚款", "处罚决定"):
        assert word not in text


def test_record_photo_appendix_keyed_to_findings(demo_run, demo_store):
    text = _text(demo_run, "record")
    assert "附：照片证据" in text
    # the requirement as the reader knows it, never the internal item id
    assert "照片1（问题1）" in text and "拍摄时间" in text and "检查事项：第10项理论课集中培训面积" in text
    # originals untouched: every original blob still hashes to its name
    from inspector import blobs

    bs = blobs.store(demo_run["home"])
    shas = [r["sha256"] for r in demo_store.rows("SELECT sha256 FROM photos")]
    assert len(shas) == 4
    assert all(bs.verify(s) for s in shas)
    images = [l.split() for l in run(["pdfimages", "-list", demo_run["files"]["record"]]).stdout.splitlines()[2:]]
    assert len(images) >= 4 + 3  # 4 photos + 3 handwritten signatures at least
    photos_in_pdf = [r for r in images if r[8] == "jpeg"]  # columns: page num type width height color comp bpc enc
    assert len(photos_in_pdf) == 4
    assert all(max(int(r[3]), int(r[4])) <= 1280 for r in photos_in_pdf)  # print copies, not originals


def test_notice_fields(demo_run, demo_store):
    text = _text(demo_run, "notice")
    # 新乡 has no dishonesty catalogue: the demo (新乡 profile) cites the bureau's problem categories
    for label in ("问题类别", "违反的规定", "证据", "整改要求", "整改情况报告", "逾期后果", "复查安排",
                  "陈述、申辩", "签收", "检查人员签名", "培训场地", "照片1、2"):
        assert label in text, label
    deadline = demo_store.scalar("SELECT deadline FROM rectifications")
    y, m, d = deadline.split("-")
    assert f"{y}年{int(m)}月{int(d)}日前整改完毕" in text  # 月、日不编虚位 (GB/T 9704)
    # the notice cites the record's number and the rectification carries the notice's number
    assert demo_run["numbers"]["record"] in text
    assert demo_store.scalar("SELECT notice_number FROM rectifications") == demo_run["numbers"]["notice"]


def test_receipt_fields(demo_run):
    text = _text(demo_run, "receipt")
    for label in ("送达文书名称", "责令限期整改通知书", "文书编号", "份数", "受送达人", "送达地点", "送达时间",
                  "送达方式", "【√】直接送达", "留置送达", "邮寄送达", "电子送达", "拒收事由", "见证人签名",
                  "送达人签名"):
        assert label in text, label
    assert demo_run["numbers"]["notice"] in text


def test_ledger_xlsx_has_the_exact_columns(demo_run, demo_store):
    from openpyxl import load_workbook

    from inspector.render.ledger_sheet import COLUMNS

    ws = load_workbook(demo_run["files"]["ledger_xlsx"]).active
    rows = [[c for c in r] for r in ws.iter_rows(values_only=True)]
    header = [r for r in rows if r and r[0] == "序号"][0]
    assert tuple(header[:10]) == ("序号", "机构名称", "问题简述", "涉及人数", "资金金额", "责任人", "整改措施",
                                  "整改期限", "整改结果", "机构联系人及电话") == COLUMNS
    flat = [str(c) for r in rows for c in r if c is not None]
    assert any(c.startswith("日期：") for c in flat) and any(c.startswith("单位（机构）：") for c in flat)
    for f in ("联系人：", "填报人：", "审核人："):
        assert any(c.startswith(f) for c in flat)
    data = rows[rows.index(header) + 1:]
    data = [r for r in data if r and isinstance(r[0], int)]
    assert len(data) == demo_store.scalar("SELECT COUNT(*) FROM findings")
    assert any(r[4] == 600.0 for r in data)  # the amount recorded on site (2 trainees × 300 元)


def test_strokes_render_as_signature_images():
    from PIL import Image
    import io

    from inspector.demo import strokes
    from inspector.render.common import strokes_to_png

    png = strokes_to_png(strokes(3))
    im = Image.open(io.BytesIO(png))
    assert im.format == "PNG" and im.mode == "RGBA"
    assert im.getchannel("A").getbbox() is not None  # something was drawn


def test_notice_latin_text_is_real_ascii(demo_run, demo_store):
    """Digits and codes are drawn in the embedded CJK face's own Latin glyphs and extract as ASCII
    (not full-width look-alikes, not blanks)."""
    text = _text(demo_run, "notice")
    number = demo_run["numbers"]["notice"]
    for run_ in re.findall(r"[\x21-\x7e]+", number):  # e.g. "2026", "L-0001"
        assert run_ in text, run_
    credit = demo_store.scalar("SELECT credit_code FROM institutions")
    assert credit.isascii() and credit in text
    assert not re.search(r"[\uff10-\uff19\uff21-\uff3a]", text), "full-width digits/letters in the notice"
    # one face only: no fallback font is embedded when WQY covers every character
    assert {r[0].split("+")[-1] for r in pdffonts_rows(demo_run["files"]["notice"])} == {"WenQuanYiMicroHei-0"}


def test_fallback_font_only_for_characters_wqy_lacks(tmp_path):
    from inspector.render import common

    assert common.mixed("编号 L-0001 ㎡ № √ × — …") == "编号 L-0001 ㎡ № √ × — …"  # all in WQY
    assert common.mixed("a ∛ b").count(f'<font name="{common.LATIN}">∛</font>') == 1  # only Vera has ∛
    pdf = tmp_path / "x.pdf"
    pdf.write_bytes(common.build([common.P("立方根 ∛8 = 2")], common.Page("测试")))
    names = {r[0].split("+")[-1] for r in pdffonts_rows(pdf)}
    assert names == {"WenQuanYiMicroHei-0", "BitstreamVeraSans-Roman"}
    assert all(r[-5] == "yes" for r in pdffonts_rows(pdf))


def test_chinese_punctuation_never_starts_or_ends_a_line_wrongly():
    from inspector.render.common import P

    text = ("理论课集中培训面积 180㎡，低于 300㎡ 要求；现场测量理论教室两间，合计约 180 平方米。"
            "检查人员张桂（执法证号 豫41070200001）、廖娟一（执法证号 豫41070300002）在场。") * 2
    for width in range(60, 400, 5):
        p = P(text, "cell")
        p.wrap(width, 10_000)
        lines = ["".join(str(x) for x in ln[1]) if isinstance(ln, tuple) else "".join(w.text for w in ln.words)
                 for ln in p.blPara.lines]
        assert "".join(lines).replace(" ", "") == text.replace(" ", "")  # nothing lost or doubled
        assert all(not ln.lstrip().startswith(("，", "；", "。", "：", "）")) for ln in lines), (width, lines)
        assert all(not ln.rstrip().endswith("（") for ln in lines[:-1]), (width, lines)


def test_publication_pdf_sets_codes_in_ascii(tmp_path):
    from inspector import publish

    inst = {"county": "卫滨区", "name": "新乡市卫河职业技术培训学校", "credit_code": "52410703MAQBQD3HXB",
            "kind": "培训机构"}
    record = {"draw_id": "01a201fe-dcc6-7c37-85b2-8a5e76185f35", "seed": "demo-seed-2026",
              "algorithm": "inspector-draw/1", "institutions_sha256": "6" * 64, "inspectors_sha256": "b" * 64,
              "params": {"per_county": 15, "inspectors_per_task": 2}, "result_sha256": "d" * 64,
              "tasks": [{"institution": inst, "inspectors": [{"name": "毛宇军", "badge_no": "豫41072600008"},
                                                            {"name": "邓杰", "badge_no": "豫41078100010"}]}]}
    out = publish.export_pdf(record, tmp_path / "公示.pdf", agency="新乡市人力资源和社会保障局")
    text = re.sub(r"\s+", "", pdftext(out, layout=False))
    for s in ("双随机抽查结果公示", "52410703MAQBQD3HXB", "demo-seed-2026", "毛宇军（豫41072600008）", "第1页共1页"):
        assert s in text, s
    rows = pdffonts_rows(out)
    assert rows and all(r[-5] == "yes" for r in rows) and not any("Helvetica" in r[0] for r in rows)
