"""The document flow in the store: draft with empty fields, each inspector signs with
their own passphrase, a late handwritten signature re-makes the draft under the same
number, a signed document is final."""
from __future__ import annotations

import pytest

from inspector import demo, signing, verify
from inspector.errors import DocumentError
from inspector.store import documents


@pytest.fixture
def visit(store, home):
    inst, ins = demo._setup_people(store, 5)
    demo._ensure_keys(home, ins)
    iid = demo.visit(store, inst, ins, seed=5, work=home / "photos")
    return iid, ins


def test_sign_flow(store, home, visit):
    iid, ins = visit
    d = documents.make_document(store, iid, "record")
    assert d["status"] == "draft" and d["signers"] == [] and d["number"].endswith("L-0001号")
    pdf = documents.pdf_bytes(store, d["id"])
    assert signing.signature_fields(pdf) == [("Sig_inspector1", False), ("Sig_inspector2", False)]
    assert not verify.verify_bytes(pdf)["valid"]  # unsigned draft

    with pytest.raises(DocumentError, match="签名口令错误"):
        documents.sign_document(store, d["id"], ins[0]["badge_no"], "wrong-pass")
    assert documents.get_document(store, d["id"])["sha256"] == d["sha256"]
    with pytest.raises(DocumentError, match="不是文书"):
        documents.sign_document(store, d["id"], "豫99999999", "whatever")

    d1 = documents.sign_document(store, d["id"], ins[0]["badge_no"], demo.DEMO_PASSPHRASES[0])
    assert d1["status"] == "draft" and len(d1["signers"]) == 1
    d2 = documents.sign_document(store, d["id"], ins[1]["badge_no"], demo.DEMO_PASSPHRASES[1])
    assert d2["status"] == "signed" and [s["field"] for s in d2["signers"]] == ["Sig_inspector1", "Sig_inspector2"]
    r = verify.verify_bytes(documents.pdf_bytes(store, d["id"]), home=None,
                            trust=[home / "keys" / "local-ca" / "ca.cert.pem"])
    assert r["valid"], r["problems"]
    from inspector.util import sha256_hex

    assert sha256_hex(documents.pdf_bytes(store, d["id"])) == d2["sha256"]
    with pytest.raises(DocumentError, match="已签署"):
        documents.make_document(store, iid, "record")
    with pytest.raises(DocumentError, match="已全部签署"):
        documents.sign_document(store, d["id"], ins[0]["badge_no"], demo.DEMO_PASSPHRASES[0])
    actions = [r["action"] for r in store.rows("SELECT action FROM audit_log WHERE entity = 'document'")]
    # make: the draft the person in charge read during the visit (inspector/visit_order.py)
    assert actions == ["make", "remake", "sign", "sign"]
    assert store.verify_audit_chain() == []


def test_late_handwritten_signature_remakes_draft_with_same_number(store, visit):
    iid, ins = visit
    d = documents.make_document(store, iid, "notice")
    documents.add_signature(store, iid, "recipient", name="王经理", strokes=demo.strokes(99))
    d2 = documents.make_document(store, iid, "notice")
    assert (d2["id"], d2["number"]) == (d["id"], d["number"])
    assert d2["sha256"] != d["sha256"]
    assert store.scalar("SELECT COUNT(*) FROM doc_numbers WHERE document_id = ?", (d["id"],)) == 1


def test_refusal_needs_reason_and_shows_in_record(store, visit):
    iid, ins = visit
    with pytest.raises(DocumentError, match="原因"):
        documents.add_signature(store, iid, "person_in_charge", refused=True)
    documents.add_signature(store, iid, "person_in_charge", name="毛志", refused=True, reason="负责人称需请示法定代表人")
    documents.add_signature(store, iid, "witness", name="社区工作人员赵某", strokes=demo.strokes(8))
    import subprocess

    d = documents.make_document(store, iid, "record")
    path = documents.export(store, d["id"], store.home / "r.pdf")
    text = subprocess.run(["pdftotext", path, "-"], capture_output=True, text=True).stdout.replace(" ", "")
    assert "拒绝签名" in text and "负责人称需请示法定代表人" in text and "见证人签名" in text


def test_receipt_needs_notice_and_valid_method(store, visit):
    iid, _ = visit
    with pytest.raises(DocumentError, match="还没有通知书"):
        documents.make_document(store, iid, "receipt", served={"method": "直接送达"})
    documents.make_document(store, iid, "notice")
    with pytest.raises(DocumentError, match="送达方式无效"):
        documents.make_document(store, iid, "receipt", served={"method": "托人转交"})
    r = documents.make_document(store, iid, "receipt", served={"method": "留置送达", "refusal_reason": "拒绝签收",
                                                               "witness": "赵某"})
    notice = documents.list_documents(store, iid, "notice")[0]
    assert notice["served"]["method"] == "留置送达"
    assert r["served"]["refusal_reason"] == "拒绝签收"


def test_documents_of_an_open_inspection_cannot_be_signed(store, home):
    inst, ins = demo._setup_people(store, 6)
    demo._ensure_keys(home, ins)
    iid = demo.visit(store, inst, ins, seed=6, work=home / "photos", finish=False)
    d = documents.make_document(store, iid, "record")
    with pytest.raises(DocumentError, match="尚未完成"):
        documents.sign_document(store, d["id"], ins[0]["badge_no"], demo.DEMO_PASSPHRASES[0])


def test_signing_falls_back_when_the_fixed_reservation_is_too_small(tmp_path, monkeypatch):
    """signing.sign reserves a fixed size for the CMS container (no dummy signature); if a
    larger chain ever overflows it, pyHanko's own estimate is used and the signature is valid."""
    from inspector import keys, signing
    from inspector.render import common
    from tests.docs_fixtures import pdfsig

    keys.create_inspector_key(tmp_path, "豫41070200009", "测试员", "pass-123456")
    sk = keys.load_signing_key(tmp_path, "豫41070200009", "pass-123456")
    pdf = signing.prepare(common.build([common.P("复查通知")], common.Page("测试")), [signing.field_name(1)])
    monkeypatch.setattr(signing, "RESERVED", 256)  # far too small for any CMS
    out = tmp_path / "signed.pdf"
    out.write_bytes(signing.sign(pdf, sk, signing.field_name(1)))
    assert signing.signature_fields(out.read_bytes()) == [(signing.field_name(1), True)]
    assert "Signature is Valid" in pdfsig(out)
