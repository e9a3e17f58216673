"""Jurisdiction profiles (forms/profiles/*.toml): loaded strictly, versioned by content hash, with
the legal citations and remedy bodies a document needs, and no finding citing another
jurisdiction's code, agency or documents."""
from __future__ import annotations

import re
from pathlib import Path

import pytest

from inspector import forms, profiles
from inspector.errors import ValidationError

SHIPPED = profiles.available()


def test_both_seed_jurisdictions_are_shipped():
    assert {"xinxiang", "neimenggu"} <= set(SHIPPED)


@pytest.mark.parametrize("name", SHIPPED)
def test_profile_loads_with_every_legal_element(name):
    p = profiles.load(name)
    assert re.fullmatch(r"[0-9a-f]{12}", p.version) and p.ref == f"{name}@{p.version}"
    for key in ("inspection_basis", "record_basis", "recusal_basis", "order_basis"):
        assert re.search(r"第[一二三四五六七八九十]+条", p.law[key]), key
    assert "《劳动保障监察条例》" in p.law["inspection_basis"] and "《中华人民共和国行政处罚法》" in p.law["inspection_basis"]
    assert p.remedy["reconsideration_days"] == 60 and p.remedy["litigation_months"] == 6
    assert p.remedy["reconsideration_body"].endswith("人民政府") and "人民法院" in p.remedy["court"]
    assert "行政复议法》第二十条" in p.remedy["reconsideration_article"]
    assert "行政诉讼法》第四十六条" in p.remedy["litigation_article"]
    assert p.sources and all(s["source"] for s in p.sources)
    # nothing invented is printed: no made-up street (××) or "示例" value; what the seeds do not give
    # is worded so it holds as printed and is listed in placeholders for the bureau to fill in
    for sect in (p.agency, p.remedy):
        for key, value in sect.items():
            assert "××" not in str(value) and "示例" not in str(value), (key, value)
    for key in p.agency["placeholders"]:
        assert p.agency[key] == "" or "以本机关公布为准" in p.agency[key], key
    # the court: the basic court where the bureau is (行政诉讼法 第十四条、第十八条第一款), by the bureau's name
    assert p.remedy["court"] == f"{p.agency['name']}所在地有管辖权的基层人民法院"
    assert {"record", "notice", "receipt"} == set(p.numbers)
    shipped_ids = {c.id for c in forms.load_all()}
    assert set(p.checklists) <= shipped_ids


@pytest.mark.parametrize("name", SHIPPED)
def test_profile_own_texts_never_name_another_jurisdiction(name):
    p = profiles.load(name)
    texts = [p.agency["name"], p.agency["address"], *p.law.values(), *map(str, p.remedy.values()), *p.wording.values(),
             *(c.cite for c in p.categories), *p.numbers.values()]
    for mark in p.foreign_marks:
        for t in texts:
            assert mark not in t, (mark, t)


@pytest.mark.parametrize("name", SHIPPED)
def test_no_checklist_item_cites_another_jurisdiction(name):
    """Every item of every shipped checklist, as it would be cited in a record or a finding under
    this profile: only this jurisdiction's codes or categories and documents."""
    p = profiles.load(name)
    others = [profiles.load(o) for o in SHIPPED if o != name]
    for cl in forms.load_all():
        for it in cl.items:
            c = p.cite(it.id, it.basis, list(it.codes))
            shown = " ".join([c["provision"], *c["labels"], p.own_basis(cl.basis), p.clean(cl.title)])
            for mark in p.foreign_marks:
                assert mark not in shown, (name, it.id, mark, shown)
            for o in others:
                assert o.agency["name"] not in shown
            if p.uses_catalogue:
                assert all(lbl.startswith(tuple(p.findings["code_prefixes"])) for lbl in c["labels"])
            else:
                assert not any(re.match(r"P[XJ]-", lbl) for lbl in c["labels"]), (it.id, c["labels"])
                # a category of the bureau's own only where the item's basis cites that 35号 item:
                # never an Inner Mongolia rule (119号/193号/58号) filed under a 35号 item
                own = p.own_basis(it.basis)
                if own:
                    assert c["provision"] == own and (c["labels"] or not it.codes), (it.id, c)
                else:
                    assert c == {"provision": "", "labels": [], "category": None}, (it.id, c)
                for cat_label in c["labels"]:
                    cat = next(x for x in p.categories if x.label == cat_label)
                    assert re.sub(r"（[^（）]*）$", "", cat.cite) in it.basis or \
                        re.search(r"附件\d 第\d+项", it.basis), (it.id, cat.cite, it.basis)


@pytest.mark.parametrize("name", SHIPPED)
def test_every_cited_article_is_verified_against_the_laws_text(name):
    """Every article the documents cite (inspection basis, record, recusal, 责令 clause, consequence,
    remedy notice) is listed in a [[sources]] entry of that law marked verified = true, and that
    entry quotes the text and names where it was read."""
    p = profiles.load(name)
    cited = p.citations()
    assert ("《劳动保障监察条例》", "第十八条") in cited and ("《中华人民共和国行政复议法》", "第二十条") in cited
    assert ("《中华人民共和国行政处罚法》", "第五十五条") in cited and ("《中华人民共和国行政诉讼法》", "第四十六条") in cited
    assert p.unverified() == []
    assert all(s["verified"] is True for s in p.sources), [s["law"] for s in p.sources if s["verified"] is not True]
    for s in p.sources:
        assert "“" in s["articles"] and ("http" in s["source"] or "GitHub" in s["source"]), s["law"]
    # the 2023 行政复议法: 第二十条 is the sixty days, and the body is the 本级人民政府 (第二十四条)
    fy = next(s for s in p.sources if "行政复议法" in s["law"])
    assert "2023" in fy["law"] and "第二十条第一款“" in fy["articles"] and "六十日内" in fy["articles"]
    assert p.remedy["reconsideration_body"] in fy["articles"]
    # pending work is a warning the loader logs, never a failure
    assert p.pending() == [ln for ln in p.pending() if "尚待机关" in ln]


def test_an_unverified_or_unsourced_citation_is_reported():
    src = (profiles.profiles_dir() / "xinxiang.toml").read_text(encoding="utf-8")
    p = profiles.parse_profile(src.replace("\nverified = true", "\nverified = false", 1))
    assert any("《劳动保障监察条例》第十六条" in ln for ln in p.unverified())
    p = profiles.parse_profile(src.replace('order_basis = "《劳动保障监察条例》第十八条',
                                           'order_basis = "《劳动保障监察条例》第二十八条'))
    assert p.unverified() == ["xinxiang: 《劳动保障监察条例》第二十八条 未在 [[sources]] 中核对（verified = true）"]
    with pytest.raises(ValidationError, match="placeholders 列出了不存在的字段"):
        profiles.parse_profile(src.replace('placeholders = ["court"]', 'placeholders = ["courtx"]'))


def test_placeholders_warn_but_load(caplog):
    profiles.load.cache_clear()
    with caplog.at_level("WARNING", logger="inspector.profiles"):
        p = profiles.load("xinxiang")
    assert p.remedy["placeholders"] == ["court"]
    assert any("[remedy] court 尚待机关确认" in r.getMessage() for r in caplog.records)


def test_xinxiang_category_comes_from_the_35_annex_item():
    p = profiles.load("xinxiang")
    c = p.cite("T-3-1", "新人社办〔2023〕35号 附件1 第3项（培训场地）第1点", ["PX-YB-3"])
    assert c["labels"] == ["培训场地"] and c["category"] == "培训场地"
    assert c["provision"] == "新人社办〔2023〕35号 附件1 第3项（培训场地）第1点"
    # an Inner Mongolia-only item (119号): not attributed to any 35号 item it is not in
    c = p.cite("T-6-4", "内人社办发〔2023〕119号 第十九条", ["PX-YZ-5"])
    assert c == {"provision": "", "labels": [], "category": None}
    # 35号 五（三）9 (the trainee sampling) is a category of its own
    c = p.cite("S-02", "新人社办〔2023〕35号 五（三）9", ["PX-YZ-15"])
    assert c["labels"] == ["抽查核实（培训、取证人员）"] and c["provision"] == "新人社办〔2023〕35号 五（三）9"


def test_neimenggu_cites_the_58_catalogue_with_its_row():
    p = profiles.load("neimenggu")
    c = p.cite("T-3-1", "新人社办〔2023〕35号 附件1 第3项（培训场地）第1点", ["PX-YB-3"])
    assert c["labels"] == ["PX-YB-3"]
    assert c["provision"] == "内人社办发〔2024〕58号 附件 培训机构一般失信行为第3项"
    # the item's own basis cites the row already: no duplicate, and its brackets are full-width
    c = p.cite("T-5-10", "内人社办发〔2024〕58号 附件 培训机构轻微失信行为(4)；新人社办〔2023〕35号 附件1 第5项", ["PX-QW-4"])
    assert c["provision"] == "内人社办发〔2024〕58号 附件 培训机构轻微失信行为（4）"


def test_loader_is_strict_and_names_the_key(tmp_path):
    src = (profiles.profiles_dir() / "xinxiang.toml").read_text(encoding="utf-8")
    with pytest.raises(ValidationError) as e:
        profiles.parse_profile(src.replace('[agency]\n', '[agency]\nfax = "1"\n'), "xx.toml")
    assert "xx.toml: [agency]: 未知字段 'fax'" in str(e.value)
    with pytest.raises(ValidationError) as e:
        profiles.parse_profile(src.replace('court = "', 'courtx = "'), "xx.toml")
    assert any("缺少字段 'court'" in p for p in e.value.problems)
    with pytest.raises(ValidationError, match="须写明条款"):
        profiles.parse_profile(src.replace('order_basis = "《劳动保障监察条例》第十八条第一款第（二）项"',
                                           'order_basis = "《劳动保障监察条例》"'), "xx.toml")
    with pytest.raises(ValidationError, match="60 日"):
        profiles.parse_profile(src.replace("reconsideration_days = 60", "reconsideration_days = 15"), "xx.toml")
    with pytest.raises(ValidationError, match="禁止出现"):
        profiles.parse_profile(src.replace('name = "新乡市人力资源和社会保障局"',
                                           'name = "内蒙古自治区人力资源和社会保障厅"'), "xx.toml")
    # the version is the content hash: any edit is a new version
    a, b = profiles.parse_profile(src), profiles.parse_profile(src + "\n# edited\n")
    assert a.version != b.version


def test_apply_puts_the_laptop_under_one_profile_with_its_prefixes(store):
    assert profiles.active(store).id == profiles.DEFAULT
    p = profiles.apply(store, "neimenggu")
    assert profiles.active(store).id == "neimenggu"
    assert store.get_meta("doc_prefix.notice") == p.numbers["notice"] == "内人社监"
    from inspector import numbering

    assert numbering.agency_prefix(store, "record") == "内人社监录"
    with pytest.raises(ValidationError, match="不存在"):
        profiles.apply(store, "shandong")


def test_demo_region_follows_the_profile():
    from inspector import demo_directory

    nm = demo_directory.make_institutions(6, 1, region="neimenggu")
    assert all(r["address"].startswith("呼和浩特市") and r["credit_code"][2:4] == "15" for r in nm)
    assert all("新乡" not in r["name"] for r in nm)
    assert demo_directory.make_inspectors(2, 1, region="neimenggu")[0]["badge_no"].startswith("蒙1501")
    # the default region is unchanged (seeded tests elsewhere rely on it)
    assert demo_directory.make_institutions(3, 1)[0]["address"].startswith("新乡市")


def test_a_profile_published_as_text_governs_the_laptop(store):
    """HQ can publish the profile with the checklists: the laptop keeps the exact text (and its
    hash) and works under it; a malformed text is refused whole."""
    src = (profiles.profiles_dir() / "neimenggu.toml").read_text(encoding="utf-8") + "\n# HQ edition 2\n"
    p = profiles.install(store, src)
    assert profiles.active(store).ref == p.ref != profiles.load("neimenggu").ref  # HQ's text, not the file
    assert store.get_meta("doc_prefix.receipt") == "内人社监送"
    with pytest.raises(ValidationError):
        profiles.install(store, src.replace("[remedy]", "[remedyx]"))
    assert profiles.active(store).id == "neimenggu"
    profiles.apply(store, "xinxiang")
    assert profiles.active(store).id == "xinxiang" and store.get_meta("doc_prefix.notice") == "新人社监"


def test_forms_check_warns_on_pending_profile_data_and_fails_a_broken_profile(tmp_path):
    import shutil
    import subprocess
    import sys

    r = subprocess.run([sys.executable, "-m", "inspector", "forms", "check"], capture_output=True, text=True)
    assert r.returncode == 0, r.stdout + r.stderr
    assert "警告：xinxiang: [remedy] court 尚待机关确认确切名称" in r.stderr
    assert "警告：neimenggu: [agency] address 尚待机关提供" in r.stderr
    forms_copy = tmp_path / "forms"
    shutil.copytree(profiles.profiles_dir().parent, forms_copy)
    f = forms_copy / "profiles" / "neimenggu.toml"
    f.write_text(f.read_text(encoding="utf-8").replace("reconsideration_days = 60", "reconsideration_days = 15"),
                 encoding="utf-8")
    r = subprocess.run([sys.executable, "-m", "inspector", "forms", "check", str(forms_copy)],
                       capture_output=True, text=True)
    assert r.returncode == 1 and "复议期限应为 60 日" in r.stdout, r.stdout + r.stderr


@pytest.mark.parametrize("name", ["xinxiang", "neimenggu", ""])
def test_hq_ledger_title_and_annex_come_from_the_profile_hq_publishes(name, tmp_path):
    """HQ's 问题台账 (console page, XLSX, issued PDF) is labelled 附件3 with the 35号 title only under
    新乡's profile; another jurisdiction's, or none, never borrows 新人社办〔2023〕35号's form label."""
    import subprocess

    from inspector.hq import ledger_issue
    from inspector.hq.config import HQConfig
    from inspector.render import ledger_sheet

    f = ledger_issue.form(HQConfig(home=tmp_path, profile=name))
    if name == "xinxiang":
        assert f == {"annex": "附件3", "title": "职业技能培训和评价工作专项整治行动问题台账"}
    else:
        assert f["annex"] == "" and "专项整治" not in f["title"] and f["title"].endswith("问题台账")
    pdf = tmp_path / "l.pdf"
    pdf.write_bytes(ledger_sheet.build_pdf([], unit="测试", number="〔2026〕0001号", **f))
    text = subprocess.run(["pdftotext", str(pdf), "-"], capture_output=True, text=True).stdout
    assert ("附件3" in text) == (name == "xinxiang") and f["title"] in text.replace(" ", "")
    # the console page's heading is the same
    tpl = (Path(ledger_issue.__file__).parent / "console" / "templates" / "ledger.html").read_text(encoding="utf-8")
    assert "附件3" not in tpl and "meta.annex" in tpl and "meta.title" in tpl
