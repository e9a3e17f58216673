"""PAdES signatures checked by poppler's pdfsig and by pyHanko (through inspector.verify),
certification first (DocMDP, form filling), the second signer in a later revision, keys
under passphrases, local CA vs HQ CA."""
from __future__ import annotations

import re
from pathlib import Path

import pytest

from inspector import keys, pki, signing, verify
from inspector.render import common
from inspector.errors import DocumentError
from tests.docs_fixtures import demo_run, demo_store, first_revision_end, pdfsig, run  # noqa: F401

SIGNED = ("record", "notice", "receipt")


def _sections(out: str) -> list[str]:
    return re.split(r"^Signature #\d+:", out, flags=re.M)[1:]


@pytest.mark.parametrize("kind", SIGNED)
def test_pdfsig_reports_every_signature_valid(demo_run, kind):
    out = pdfsig(demo_run["files"][kind])
    secs = _sections(out)
    assert len(secs) == 2, out
    for s in secs:
        # the signature itself; the certificate is "not trusted" only because it is not in NSS
        assert "Signature Validation: Signature is Valid." in s, s
        assert "SHA-256" in s
        assert "ETSI.CAdES.detached" in s
    assert "Total document signed" in secs[-1]
    assert "Sig_inspector1" in secs[0] and "Sig_inspector2" in secs[1]


@pytest.mark.parametrize("kind", SIGNED)
def test_pyhanko_agrees_and_reports_local_ca(demo_run, kind):
    r = verify.verify_file(demo_run["files"][kind], [demo_run["trust"]])
    assert r["valid"], r["problems"]
    first, second = r["signers"]
    assert first["certified"] and first["docmdp"] == "FILL_FORMS"
    assert first["modification_level"] in ("FORM_FILLING", "LTA_UPDATES", "NONE")
    assert not second["certified"] and second["covers_whole_file"]
    for s in r["signers"]:
        assert s["intact"] and s["trusted"] and not s["hq_certified"]
        assert s["issuer"] == keys.LOCAL_CA_NAME and "未经总部认证" in s["issuer"]
        assert s["badge_no"] and s["name"] and s["signed_at"]
    assert any("未经总部认证" in w for w in r["warnings"])


def test_local_ca_not_trusted_unless_named(demo_run):
    r = verify.verify_file(demo_run["files"]["record"])
    assert not r["valid"]
    assert all(s["intact"] and not s["trusted"] for s in r["signers"])
    assert any("不受信任" in p and keys.LOCAL_CA_NAME in p for p in r["problems"])


def test_handwritten_images_are_in_the_revision_the_first_signature_covers(demo_run, tmp_path):
    pdf = Path(demo_run["files"]["record"]).read_bytes()
    first = tmp_path / "rev1.pdf"
    first.write_bytes(pdf[:first_revision_end(pdf, 0)])
    imgs = run(["pdfimages", "-list", str(first)]).stdout.splitlines()[2:]
    assert len(imgs) >= 7  # 4 photos + inspector1, inspector2 and the person in charge


def _doc(text: str = "测试文书 ABC-123") -> bytes:
    return common.build([common.P(text)], common.Page("测试", "新人社监〔2026〕0009号"))


def test_second_signer_may_sign_first_and_then_certifies(tmp_path):
    home = tmp_path
    keys.create_inspector_key(home, "豫0001", "张三", "pass-one")
    keys.create_inspector_key(home, "豫0002", "李四", "pass-two")
    pdf = signing.prepare(_doc(), [signing.field_name(1), signing.field_name(2)])
    assert signing.signature_fields(pdf) == [("Sig_inspector1", False), ("Sig_inspector2", False)]
    pdf = signing.sign(pdf, keys.load_signing_key(home, "豫0002", "pass-two"), "Sig_inspector2")
    with pytest.raises(DocumentError, match="已经签过名"):
        signing.sign(pdf, keys.load_signing_key(home, "豫0002", "pass-two"), "Sig_inspector2")
    pdf = signing.sign(pdf, keys.load_signing_key(home, "豫0001", "pass-one"), "Sig_inspector1")
    r = verify.verify_bytes(pdf, [keys.local_ca_cert_path(home)])
    assert r["valid"], r["problems"]
    assert [s["badge_no"] for s in r["signers"]] == ["豫0002", "豫0001"]
    assert r["signers"][0]["certified"]


def test_hq_certified_after_enrolment(tmp_path):
    home = tmp_path / "laptop"
    keys.create_inspector_key(home, "A1", "张三", "pass-one")
    keys.create_inspector_key(home, "A2", "李四", "pass-two")
    hq = pki.CA.create(tmp_path / "hq-ca", "人社局总部证书机构", org="新乡市人力资源和社会保障局")
    for badge, name in (("A1", "张三"), ("A2", "李四")):
        cert = hq.issue(keys.public_key_pem(home, badge), common_name=name, org="新乡市人社局", serial=badge)
        keys.install_hq_certificate(home, badge, cert, hq.cert_pem)
    pdf = signing.prepare(_doc(), ["Sig_inspector1", "Sig_inspector2"])
    pdf = signing.sign(pdf, keys.load_signing_key(home, "A1", "pass-one"), "Sig_inspector1")
    pdf = signing.sign(pdf, keys.load_signing_key(home, "A2", "pass-two"), "Sig_inspector2")
    r = verify.verify_bytes(pdf, home=home)  # HQ CA from <home>/keys/hq-ca.pem
    assert r["valid"], r["problems"]
    assert all(s["hq_certified"] and s["issuer"] == "人社局总部证书机构" for s in r["signers"])
    assert not r["warnings"]
    # the local CA does not vouch for HQ-issued certificates
    assert not verify.verify_bytes(pdf, [keys.local_ca_cert_path(home)])["valid"]


def test_install_hq_certificate_refuses_a_foreign_key(tmp_path):
    keys.create_inspector_key(tmp_path, "A1", "张三", "pass-one")
    hq = pki.CA.create(tmp_path / "hq", "总部")
    other = pki.new_key()
    cert = hq.issue(pki.public_pem(other), common_name="张三", serial="A1")
    with pytest.raises(DocumentError, match="公钥与本机私钥不匹配"):
        keys.install_hq_certificate(tmp_path, "A1", cert, hq.cert_pem)


def test_key_is_passphrase_protected_and_wrong_passphrase_is_clear(tmp_path):
    d = keys.create_inspector_key(tmp_path, "A1", "张三", "correct-horse")
    pem = (d / "key.pem").read_bytes()
    assert b"ENCRYPTED PRIVATE KEY" in pem
    assert (d / "key.pem").stat().st_mode & 0o077 == 0
    with pytest.raises(DocumentError) as e:
        keys.load_signing_key(tmp_path, "A1", "wrong-horse")
    assert "签名口令错误" in str(e.value) and "key.pem" in str(e.value) and "A1" in str(e.value)
    with pytest.raises(DocumentError, match="至少"):
        keys.create_inspector_key(tmp_path, "A2", "李四", "123")
    with pytest.raises(DocumentError, match="不覆盖"):
        keys.create_inspector_key(tmp_path, "A1", "张三", "another-pass")
    with pytest.raises(DocumentError, match="没有签名密钥"):
        keys.load_signing_key(tmp_path, "NOPE", "whatever")
