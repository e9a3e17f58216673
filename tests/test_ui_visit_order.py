"""The order of the visit as the law has it (issue 11 item 6): preview → the person in charge reads
the 笔录 page by page → signs or refuses (reason, witness) → inspectors sign → finish; pads name
the signer and capacity; a change after signing invalidates the signatures."""
from __future__ import annotations

import pytest

from tests.test_ui_visit import _read_record, _scrawl, visit, window  # noqa: F401 - fixtures

pytest.importorskip("pytestqt")


def _pic(visit) -> None:
    from inspector.store import visits

    visits.update_inspection(visit.store, visit.inspection_id, person_in_charge={"name": "王某", "position": "校长"})
    visit.insp = visits.get_inspection(visit.store, visit.inspection_id)


def test_party_cannot_sign_before_the_preview_is_read(qtbot, visit):
    from inspector import visit_order
    from inspector.errors import DocumentError
    from inspector.store import documents
    from ui.qt import Qt

    _pic(visit)
    sg = visit.sign_page
    visit.goto("sign")
    assert not sg.boxes["person_in_charge"].isEnabled() and not sg.refused.isEnabled()
    with pytest.raises(DocumentError, match="须先生成笔录预览"):
        visit_order.sign(visit.store, visit.inspection_id, "person_in_charge", strokes=[[(1, 1, .5), (9, 9, .5)]])
    with pytest.raises(DocumentError, match="之后签名"):  # inspectors only after the party
        visit_order.sign(visit.store, visit.inspection_id, "inspector1", strokes=[[(1, 1, .5), (9, 9, .5)]])
    qtbot.mouseClick(sg.save_btn, Qt.MouseButton.LeftButton)
    assert "逐页阅读" in visit.last_refusal and documents.signatures(visit.store, visit.inspection_id) == {}
    keys = {p.key for p in visit.problems()}
    assert "order:preview" in keys
    # preview opened, only page 1 shown: still refused, and the finish check says how far
    qtbot.mouseClick(sg.read_btn, Qt.MouseButton.LeftButton)
    r = sg.reader
    assert r.pages >= 2 and not r.done_btn.isEnabled()
    with pytest.raises(DocumentError, match=r"已阅 1/\d+ 页"):
        visit_order.sign(visit.store, visit.inspection_id, "person_in_charge", strokes=[[(1, 1, .5), (9, 9, .5)]])
    assert any(p.key == "order:read" and "逐页阅读" in p.message for p in visit.problems())
    r.reject()


def test_each_page_shown_is_recorded(qtbot, visit):
    from inspector import visit_order
    from ui.qt import Qt

    _pic(visit)
    visit.goto("sign")
    qtbot.mouseClick(visit.sign_page.read_btn, Qt.MouseButton.LeftButton)
    r = visit.sign_page.reader
    for _ in range(r.pages - 1):
        qtbot.keyClick(r, Qt.Key.Key_PageDown)
    rows = visit.store.rows("SELECT page FROM record_page_views WHERE reading_id = ? ORDER BY page", (r.reading.id,))
    assert [x["page"] for x in rows] == list(range(1, r.pages + 1))
    logged = visit.store.scalar("SELECT count(*) FROM audit_log WHERE action = 'record_page_shown' AND entity_id = ?",
                                (visit.inspection_id,))
    assert logged == r.pages and r.done_btn.isEnabled()
    assert visit_order.reading(visit.store, visit.inspection_id).complete


def test_refusal_needs_reason_and_witness(qtbot, visit):
    from inspector import visit_order
    from inspector.errors import DocumentError
    from inspector.store import documents
    from ui.qt import Qt

    _pic(visit)
    _read_record(qtbot, visit)
    sg = visit.sign_page
    for n, role in enumerate(("inspector1", "inspector2"), 1):
        _scrawl(qtbot, sg.boxes[role].pad, n)
    sg.refused.setChecked(True)
    qtbot.mouseClick(sg.save_btn, Qt.MouseButton.LeftButton)
    assert "原因" in visit.last_refusal and "见证人" in visit.last_refusal
    assert "person_in_charge" not in documents.signatures(visit.store, visit.inspection_id)
    with pytest.raises(DocumentError, match="原因"):
        visit_order.sign(visit.store, visit.inspection_id, "person_in_charge", refused=True, reason=" ")
    sg.reason.setText("负责人称需请示上级")
    qtbot.mouseClick(sg.save_btn, Qt.MouseButton.LeftButton)  # still no witness
    assert "见证人" in visit.last_refusal
    sg.witness.setText("李见证")
    _scrawl(qtbot, sg.witness_box.pad, 3)
    qtbot.mouseClick(sg.save_btn, Qt.MouseButton.LeftButton)
    sigs = documents.signatures(visit.store, visit.inspection_id)
    assert sigs["person_in_charge"]["refused"] and sigs["witness"]["signer_name"] == "李见证"
    assert set(sigs) >= {"inspector1", "inspector2"}
    assert not [p for p in visit.problems() if p.kind in ("order", "refusal", "signature")]
    with pytest.raises(DocumentError, match="见证人须写明姓名"):  # the core refuses a nameless witness too
        visit_order.sign(visit.store, visit.inspection_id, "witness", witness_name=" ", strokes=[[(1, 1, .5)]])


def test_signature_boxes_name_signer_and_capacity(qtbot, visit):
    from inspector.store import directory

    _pic(visit)
    visit.goto("sign")
    sg = visit.sign_page
    people = [directory.get_inspector(visit.store, i) for i in visit.insp.inspector_ids[:2]]
    assert "被检查单位现场负责人 王某（校长）" in sg.boxes["person_in_charge"].title.text()
    for k, p in enumerate(people, 1):
        assert f"检查人员 {p['name']}（执法证号 {p['badge_no']}）" in sg.boxes[f"inspector{k}"].title.text()
    sg.witness.setText("李见证")
    sg.witness.textEdited.emit("李见证")
    assert "见证人 李见证" in sg.witness_box.title.text()


def test_a_change_after_signing_invalidates(qtbot, visit):
    from inspector.store import documents, visits
    from ui.qt import Qt

    _pic(visit)
    _read_record(qtbot, visit)
    sg = visit.sign_page
    for n, role in enumerate(("person_in_charge", "inspector1", "inspector2")):
        _scrawl(qtbot, sg.boxes[role].pad, n)
    qtbot.mouseClick(sg.save_btn, Qt.MouseButton.LeftButton)
    assert set(documents.signatures(visit.store, visit.inspection_id)) == {"person_in_charge", "inspector1",
                                                                          "inspector2"}
    assert not [p for p in visit.problems() if p.kind == "order"]
    # the record changes after the party signed: every signature of the old content is invalid
    cv = visit.insp.checklist_version_ids[0]
    visit.on_answer(cv, "T-3-2", "fail")
    keys = {p.key for p in visit.problems()}
    assert {"order:preview", "order:person_in_charge", "order:inspector1", "order:inspector2"} <= keys, keys
    visit.goto("start")
    visit.goto("sign")
    assert "已修改" in sg.read_state.text() and not sg.boxes["person_in_charge"].isEnabled()
    # the next preview withdraws them (audited), so it never shows a signature that no longer holds
    _read_record(qtbot, visit)
    assert documents.signatures(visit.store, visit.inspection_id) == {}
    assert visit.store.scalar("SELECT count(*) FROM signature_voids WHERE inspection_id = ?",
                              (visit.inspection_id,)) == 3
    qtbot.mouseClick(sg.save_btn, Qt.MouseButton.LeftButton)  # signed again, in order
    assert not [p for p in visit.problems() if p.kind == "order"]
    assert visits.get_inspection(visit.store, visit.inspection_id).status == "draft"
