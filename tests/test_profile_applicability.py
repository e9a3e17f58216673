"""Which checklist items a jurisdiction profile inspects (issue 12, forms/profiles/*.toml
[applicability]): an item whose basis cites only another jurisdiction's notices (内人社办发…) has
no provision the 新乡 bureau could cite, so under 新乡 it is 不适用 with the profile's reason — in the
core visit state (GUI, CLI, documents), never unanswered, never drafted into a finding; under 内蒙古
every item applies as before."""
from __future__ import annotations

import re
from typing import Any

import pytest

from inspector import forms, profiles, visit_state
from inspector.errors import ValidationError
from tests.ui_fixtures import visit, window  # noqa: F401 - fixtures

SHIPPED = profiles.available()
REASON_193 = "本地区检查依据未列此项（仅见内人社办发〔2021〕193号）"
# national law a finding may cite besides the profile's own documents (none of the shipped items yet)
NATIONAL = ("《",)


def _checklist(cid: str) -> forms.Checklist:
    return next(c for c in forms.load_all() if c.id == cid)


def _can_fail(it: forms.Item) -> bool:
    """An item whose failure becomes a finding against the institution (rules.evaluate)."""
    return bool(it.codes) and it.scope == "institution" and it.type != "text"


@pytest.mark.parametrize("name", SHIPPED)
def test_every_item_that_can_become_a_finding_has_a_provision_of_the_profile(name: str) -> None:
    """Under each shipped profile, every inspected item with a fail path cites a provision of that
    jurisdiction (its own notice or a national law) and, where findings carry categories, one of the
    bureau's categories: no finding prints 「依据：—」."""
    p = profiles.load(name)
    checked = 0
    for cl in forms.load_all():
        for it in visit_state.for_profile(cl, p).items:
            if (it.when or {}).get("reason") or not _can_fail(it):
                continue
            c = p.cite(it.id, it.basis, list(it.codes))
            assert c["provision"], (name, it.id, it.basis)
            assert c["labels"], (name, it.id, c)
            if not p.uses_catalogue:
                assert c["provision"].startswith(p.own_documents + NATIONAL), (name, it.id, c["provision"])
            checked += 1
    assert checked > 50, checked


def test_xinxiang_inspects_no_item_of_inner_mongolia_alone_and_neimenggu_inspects_all() -> None:
    xx, nm = profiles.load("xinxiang"), profiles.load("neimenggu")
    for cl in forms.load_all():
        for it in cl.items:
            parts = [s.strip() for s in re.split("；", it.basis) if s.strip()]
            only_im = all(s.startswith("内人社办发") for s in parts)
            assert (xx.not_applicable(it.basis) is not None) == only_im, (it.id, it.basis)
            assert nm.not_applicable(it.basis) is None, it.id
    # the 35号 points that do not contain the requirement are no longer cited (附件1 第5项 第8点 is
    # about false brochures, not their filing; 第6点 about extra fees, not posting the licence)
    tr = _checklist("training")
    assert "新人社办" not in tr.item("T-5-9").basis and "新人社办" not in tr.item("T-5-10").basis
    assert xx.not_applicable(tr.item("T-5-10").basis) == "本地区检查依据未列此项（仅见内人社办发〔2024〕58号）"
    # where a 35号 附件2 item states the requirement, it is cited and the item is inspected under 新乡
    ev = _checklist("evaluation")
    assert "新人社办〔2023〕35号 附件2 第2项（设备设施）" in ev.item("E-37").basis
    assert xx.cite("E-37", ev.item("E-37").basis, list(ev.item("E-37").codes))["category"] == "设备设施"


def test_an_inner_mongolia_only_item_is_not_applicable_with_the_reason_under_xinxiang() -> None:
    ev = _checklist("evaluation")
    answers = {"E-38": 2}  # 2 years: short of 193号's 3 years
    xx = {s.item.id: s for s in visit_state.item_states(visit_state.for_profile(ev, profiles.load("xinxiang")),
                                                        answers, institution_kind="评价机构")}
    s = xx["E-38"]
    assert (s.status, s.skipped, s.reason, s.codes) == ("na", True, REASON_193, ())
    assert s.answered and s.invalid is None
    assert xx["E-39"].status == "na" and xx["E-39"].answered  # not answered at all: still not 未作答
    assert xx["E-37"].status == "unanswered" and not xx["E-37"].skipped  # 35号 附件2 第2项 covers it
    nm = {s.item.id: s for s in visit_state.item_states(visit_state.for_profile(ev, profiles.load("neimenggu")),
                                                        answers, institution_kind="评价机构")}
    assert nm["E-38"].status == "fail" and not nm["E-38"].skipped and nm["E-38"].codes == ("PJ-QW-3",)
    assert nm["E-39"].status == "unanswered"
    # the stored checklist version is untouched: same text, same hash
    assert visit_state.for_profile(ev, profiles.load("xinxiang")).sha256 == ev.sha256


def _evaluation_visit(store: Any) -> tuple[str, str]:
    from inspector import demo_directory
    from inspector.store import checklists, directory, visits

    inst = next(r for r in demo_directory.make_institutions(12, 5) if r["kind"] == "评价机构")
    people = demo_directory.make_inspectors(2, 5)
    directory.upsert_institutions(store, [inst], actor="t")
    directory.upsert_inspectors(store, people, actor="t")
    iid_inst = store.scalar("SELECT id FROM institutions WHERE credit_code = ?", (inst["credit_code"],))
    ins = [store.scalar("SELECT id FROM inspectors WHERE badge_no = ?", (r["badge_no"],)) for r in people]
    cv = checklists.ensure_version(store, _checklist("evaluation"), actor="t")
    iid = visits.start_inspection(store, iid_inst, inspector_ids=ins, checklist_version_ids=[cv], actor="t")
    return iid, cv


@pytest.mark.parametrize("name", ["xinxiang", "neimenggu"])
def test_a_failed_inner_mongolia_item_is_no_finding_under_xinxiang(store: Any, home: Any, name: str) -> None:
    """A 新乡 評价机构 visit where E-38 (193号 only) and E-41 (58号 only) were answered as failing and
    E-03 (35号 附件2 第3项) fails: only E-03 is drafted, citing its 35号 item; E-38 and E-41 are 不适用
    with the reason in the finish check and on the 笔录, which names no Inner Mongolia notice.
    Under 内蒙古 the same answers draft all three."""
    import subprocess

    from inspector.store import documents as docs, visits

    prof = profiles.apply(store, name)
    iid, cv = _evaluation_visit(store)
    for item_id, value in (("E-38", 2), ("E-41", "fail"), ("E-03", "fail")):
        visits.set_answer(store, iid, cv, item_id, value, actor="t")
    drafts = visit_state.draft_findings(store, iid, deadline="2027-01-31")
    keys = {p.key for p in visit_state.visit_problems(store, iid)}
    if name == "neimenggu":
        assert sorted(d["item_id"] for d in drafts) == ["E-03", "E-38", "E-41"]
        assert f"unanswered:{cv}:E-39" in keys
        return
    assert [d["item_id"] for d in drafts] == ["E-03"]
    cite = prof.cite("E-03", drafts[0]["basis"], drafts[0]["codes"])
    assert cite["provision"] == "新人社办〔2023〕35号 附件2 第3项（队伍建设）" and cite["category"] == "队伍建设"
    for item_id in ("E-38", "E-39", "E-41", "E-42"):
        assert not any(k.endswith(f":{cv}:{item_id}") for k in keys), (item_id, keys)
    assert f"no_finding:{cv}:E-03" in keys and f"unanswered:{cv}:E-37" in keys
    states = {s.item.id: s for s in visit_state.visit_states(store, iid)[cv]}
    assert states["E-41"].reason == "本地区检查依据未列此项（仅见内人社办发〔2024〕58号）"
    # the 笔录: 不适用 with the reason (the notice left out of the printed text)
    for d in drafts:
        visits.add_finding(store, iid, **{k: v for k, v in d.items()}, required_action="配齐考评人员", actor="t")
    d = docs.make_document(store, iid, "record")
    text = subprocess.run(["pdftotext", "-layout", str(docs.export(store, d["id"], home / "r.pdf")), "-"],
                          capture_output=True, text=True, check=True).stdout
    flat = re.sub(r"\s+", "", text)
    n_na = sum(1 for it in visit_state.for_profile(_checklist("evaluation"), prof).items if (it.when or {}).get("reason"))
    assert flat.count("本地区检查依据未列此项") == n_na >= 8
    assert "内人社" not in flat and "PJ-" not in flat
    assert "新人社办〔2023〕35号附件2第3项" in flat


def test_the_loader_checks_applicability(tmp_path: Any) -> None:
    src = (profiles.profiles_dir() / "xinxiang.toml").read_text(encoding="utf-8")
    with pytest.raises(ValidationError, match="only_cites 不能包含本地区的文件"):
        profiles.parse_profile(src.replace('only_cites = ["内人社办发"]', 'only_cites = ["内人社办发", "新人社办"]'))
    with pytest.raises(ValidationError, match=r"reason 只能使用 \{documents\}"):
        profiles.parse_profile(src.replace("（仅见{documents}）", "（仅见{docs}）"))
    with pytest.raises(ValidationError) as e:
        profiles.parse_profile(src.replace("[applicability]\n", "[applicabilityx]\n"), "xx.toml")
    assert any("缺少字段 'applicability'" in p for p in e.value.problems), e.value.problems
    # `inspector forms check` fails on it, naming the file
    import shutil
    import subprocess
    import sys

    forms_copy = tmp_path / "forms"
    shutil.copytree(profiles.profiles_dir().parent, forms_copy)
    f = forms_copy / "profiles" / "xinxiang.toml"
    f.write_text(src.replace('only_cites = ["内人社办发"]', 'only_cites = ["新人社办"]'), encoding="utf-8")
    r = subprocess.run([sys.executable, "-m", "inspector", "forms", "check", str(forms_copy)],
                       capture_output=True, text=True)
    assert r.returncode == 1 and "xinxiang.toml: [applicability] only_cites 不能包含本地区的文件" in r.stdout, \
        r.stdout + r.stderr


def test_the_visit_editor_shows_the_profiles_not_applicable_items(qtbot: Any, visit: Any) -> None:
    """The GUI reads the core's state: under 新乡 (the default profile) the 119号 rows of T-6 have no
    editor, say 不适用 with the reason, and count as answered in the section's figure."""
    cv = visit.insp.checklist_version_ids[0]
    visit.goto(f"sec:{cv}:T-6", "T-6-8")
    for k in ("T-6-1", "T-6-2", "T-6-3", "T-6-7"):
        row = visit.row(cv, k)
        assert not row.editor.isEnabled(), k
        assert "本地区检查依据未列此项（仅见内人社办发〔2023〕119号）" in row.feedback.text(), row.feedback.text()
    assert visit.row(cv, "T-6-8").editor.isEnabled()  # 35号 附件1 第5项 第4点: inspected
    assert "（7/9）" in visit.nav.currentItem().text()
