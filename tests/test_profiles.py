"""Jurisdiction profiles (forms/profiles/*.toml): loaded strictly, versioned by content hash, with
the legal citations and remedy bodies a document needs, and no finding citing another
jurisdiction's code, agency or documents."""
from __future__ import annotations

import re

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
    # example placeholders are marked as such in the text the documents print
    for key in p.agency["placeholders"]:
        assert "示例" in p.agency[key], key
    for key in p.remedy["placeholders"]:
        assert "示例" in p.remedy[key], key
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
                # every finding has a category of the bureau's own (35号 check items)
                if it.codes:
                    assert c["labels"] and c["provision"].startswith("新人社办〔2023〕35号"), (it.id, c)


def test_xinxiang_category_comes_from_the_35_annex_item():
    p = profiles.load("xinxiang")
    c = p.cite("T-3-1", "新人社办〔2023〕35号 附件1 第3项（培训场地）第1点", ["PX-YB-3"])
    assert c["labels"] == ["培训场地"] and c["category"] == "培训场地"
    assert c["provision"] == "新人社办〔2023〕35号 附件1 第3项（培训场地）第1点"
    # an Inner Mongolia-only item: its 119号 basis is dropped, the bureau's own category stands
    c = p.cite("T-6-4", "内人社办发〔2023〕119号 第十九条", ["PX-YZ-5"])
    assert c["labels"] == ["规范培训"] and "内人社" not in c["provision"]


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
