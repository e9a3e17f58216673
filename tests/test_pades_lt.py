"""PAdES-B-LT at HQ: a laptop signs a real visit's documents (B-B), syncs them to HQ on loopback,
and HQ keeps a B-LT copy (DSS with chain + HQ's CRL, then a document timestamp from the RFC 3161
TSA HQ runs) next to the laptop's original. Checked with pyHanko, pdfsig, openssl ts and
``inspector verify``; the certificates' profile, the CRL after a revocation, the claims under
concurrency, HQ's numbered and signed 问题台账 and the laptop's encrypted local CA key too."""
from __future__ import annotations

import io
import os
import subprocess
import sys
import threading
import time
from typing import Any

import httpx
import pytest
import sqlalchemy as sa
from asn1crypto import algos, crl as asn1_crl, tsp, x509 as asn1_x509
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign.validation import DocumentSecurityStore, validate_pdf_signature, validate_pdf_timestamp
from pyhanko_certvalidator import ValidationContext

from inspector import keys, pki
from inspector.demo import DEMO_PASSPHRASES, documents_for, visit
from inspector.hq import db as D
from inspector.hq import pades_lt, service
from inspector.hq.blobs import HQBlobs
from inspector.store import Store
from inspector.sync import certify_inspector, enrol, sync
from inspector.verify import verify_bytes
from tests.hq_fixtures import *  # noqa: F401,F403  (hq_db: SQLite and PostgreSQL)
from tests.hq_fixtures import ensure_base, start_hq

B1, B2 = ("B1", "张三"), ("B2", "李四")
DOC_SIGNING = "1.3.6.1.5.5.7.3.36"


def _wait_lt(hq: Any, n: int, timeout: float = 60) -> list[Any]:
    end = time.time() + timeout
    while True:
        with hq.engine.connect() as c:
            rows = c.execute(sa.select(D.document_lt).order_by(D.document_lt.c.document_id)).all()
        if len(rows) >= n and all(r.status not in ("pending", "working") for r in rows):
            return rows
        if time.time() > end:
            raise AssertionError(f"HQ did not finish the B-LT copies: {rows}")
        time.sleep(0.1)


@pytest.fixture(scope="module")
def lt(tmp_path_factory: pytest.TempPathFactory) -> Any:
    """HQ (SQLite) with its TSA; a laptop where both inspectors hold HQ certificates signs a visit's
    documents and syncs them."""
    base = tmp_path_factory.mktemp("pades-lt")
    hq = start_hq(base / "hq")
    code = service.make_enrol_code(hq.engine, hq.cfg, B1[0], name=B1[1])["code"]
    service.make_enrol_code(hq.engine, hq.cfg, B2[0], name=B2[1])
    store = Store.open(base / "laptop")
    enrol(store, hq.url, code, badge_no=B1[0], passphrase=DEMO_PASSPHRASES[0])
    assert sync(store).ok
    certify_inspector(store, service.make_enrol_code(hq.engine, hq.cfg, B2[0])["code"], B2[0],
                      passphrase=DEMO_PASSPHRASES[1])
    inst_id, _ = ensure_base(store)
    inst = store.one("SELECT * FROM institutions WHERE id = ?", (inst_id,))
    people = [store.one("SELECT * FROM inspectors WHERE badge_no = ?", (b,)) for b, _ in (B1, B2)]
    iid = visit(store, inst, people, seed=3, work=base / "photos", photo_size=(320, 240))
    made = documents_for(store, iid, people)
    rep = sync(store)
    assert rep.ok and not rep.held, rep.text()
    rows = _wait_lt(hq, len(made))
    blobs = HQBlobs(hq.cfg.blob_dir)
    files = {}
    for r in rows:
        p = base / f"{r.document_id}.lt.pdf"
        p.write_bytes(blobs.path(r.sha256).read_bytes())
        files[r.document_id] = p
    yield {"hq": hq, "store": store, "rows": rows, "files": files, "blobs": blobs, "base": base, "made": made,
           "ca": hq.cfg.ca_dir / "ca.cert.pem"}
    store.close()
    hq.stop()


def _roots(lt: Any) -> list[asn1_x509.Certificate]:
    return [asn1_x509.Certificate.load(x509.load_pem_x509_certificate(lt["ca"].read_bytes())
                                       .public_bytes(serialization.Encoding.DER))]


def test_every_synced_document_gets_a_b_lt_copy_and_keeps_its_original(lt):
    hq, blobs = lt["hq"], lt["blobs"]
    assert len(lt["rows"]) == 3
    with hq.engine.connect() as c:
        docs = {d.id: d for d in c.execute(sa.select(D.documents)).all()}
    for r in lt["rows"]:
        assert r.status == "done" and r.error is None and r.attempts == 1
        assert r.source_sha == docs[r.document_id].sha256 != r.sha256
        assert blobs.has(r.source_sha) and blobs.has(r.sha256)  # the laptop's original is kept
        original = blobs.path(r.source_sha).read_bytes()
        assert lt["files"][r.document_id].read_bytes().startswith(original)  # incremental: B-B bytes untouched


def test_pyhanko_timestamp_valid_dss_and_revocation_info_for_every_certificate(lt):
    roots = _roots(lt)
    for doc_id, path in lt["files"].items():
        r = PdfFileReader(io.BytesIO(path.read_bytes()), strict=False)
        sigs = r.embedded_signatures
        assert [s.sig_object_type for s in sigs] == ["/Sig", "/Sig", "/DocTimeStamp"], doc_id
        ts = validate_pdf_timestamp(sigs[-1], validation_context=ValidationContext(trust_roots=roots))
        assert ts.intact and ts.valid and ts.trusted and ts.timestamp is not None
        dss = DocumentSecurityStore.read_dss(r)
        crls = [asn1_crl.CertificateList.load(c.get_object().data) for c in dss.crls]
        assert crls, "DSS has HQ's CRL"
        crl_issuers = {c["tbs_cert_list"]["issuer"].dump() for c in crls}
        dss_certs = {c.get_object().data for c in dss.certs.values()}
        chain = [s.signer_cert for s in sigs]
        assert {c.subject.native["common_name"] for c in chain} == {B1[1], B2[1], "人力资源和社会保障局 时间戳服务"}
        for cert in chain:  # every non-root certificate: itself in the DSS, its issuer's CRL in the DSS
            assert cert.dump() in dss_certs
            assert cert.issuer.dump() in crl_issuers
        strict = {"trust_roots": roots, "allow_fetching": False, "revocation_mode": "hard-fail"}
        for s in sigs[:2]:  # validates with nothing but the DSS, revocation checking mandatory
            assert validate_pdf_signature(s, dss.as_validation_context(strict)).trusted
            # and it is the DSS's CRL that makes it so
            assert not validate_pdf_signature(s, ValidationContext(**strict, crls=[])).trusted
        v = verify_bytes(path.read_bytes(), [lt["ca"]])
        assert v["valid"], v["problems"]
        assert v["ltv"] is True and v["timestamps"][0]["trusted"]


def test_pdfsig_reports_the_timestamp(lt):
    out = subprocess.run(["pdfsig", str(next(iter(lt["files"].values())))], capture_output=True, text=True).stdout
    secs = out.split("Signature #")[1:]
    assert len(secs) == 3, out
    for s in secs[:2]:
        assert "Signature Validation: Signature is Valid." in s
    assert "HQ_DocTimeStamp" in secs[2] and "时间戳服务" in secs[2] and "Total document signed" in secs[2]


def test_inspector_verify_prints_the_timestamp_time_and_ltv(lt):
    path = next(iter(lt["files"].values()))
    env = {**os.environ, "INSPECTOR_HOME": str(lt["base"] / "nohome")}
    p = subprocess.run([sys.executable, "-m", "inspector", "verify", str(path), "--trust", str(lt["ca"])],
                       capture_output=True, text=True, env=env, timeout=120)
    assert p.returncode == 0, p.stdout + p.stderr
    when = lt["rows"][0].timestamp_at
    assert f"文档时间戳 {when}" in p.stdout and "北京时间" in p.stdout, p.stdout
    assert "长期验证（LTV）：已启用" in p.stdout
    original = lt["blobs"].path(lt["rows"][0].source_sha)
    p = subprocess.run([sys.executable, "-m", "inspector", "verify", str(original), "--trust", str(lt["ca"])],
                       capture_output=True, text=True, env=env, timeout=120)
    assert p.returncode == 0 and "文档时间戳：无" in p.stdout, p.stdout


def test_tampered_b_lt_copies_fail(lt, tmp_path):
    from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
    from pyhanko.pdf_utils.generic import pdf_string

    data = next(iter(lt["files"].values())).read_bytes()
    assert verify_bytes(data, [lt["ca"]])["valid"]
    w = IncrementalPdfFileWriter(io.BytesIO(data), strict=False)  # a revision after the timestamp
    w.root["/Lang"] = pdf_string("en-US")
    w.update_root()
    out = io.BytesIO()
    w.write(out)
    v = verify_bytes(out.getvalue(), [lt["ca"]])
    assert not v["valid"] and any("时间戳之后又追加了内容" in p for p in v["problems"]), v["problems"]
    bad = bytearray(data)
    j = data.rindex(b"/Contents <") + 200  # a digit inside the timestamp token's signed part
    bad[j:j + 1] = b"0" if bad[j:j + 1] != b"0" else b"1"
    v = verify_bytes(bytes(bad), [lt["ca"]])
    assert not v["valid"], "a damaged timestamp token must not pass"


def test_public_verification_knows_the_b_lt_copy(lt):
    hq = lt["hq"]
    r0 = lt["rows"][0]
    body = lt["files"][r0.document_id].read_bytes()
    res = httpx.post(hq.url + "/api/v1/verify", content=body, headers={"Content-Type": "application/pdf"}).json()
    assert res["found"] and res["genuine"] and res["document_id"] == r0.document_id
    orig = lt["blobs"].path(r0.source_sha).read_bytes()
    res = httpx.post(hq.url + "/api/v1/verify", content=orig, headers={"Content-Type": "application/pdf"}).json()
    assert res["found"] and res["document_id"] == r0.document_id


def _tsq(digest: bytes, *, alg: str = "sha256", nonce: int = 12345) -> bytes:
    return tsp.TimeStampReq({"version": 1, "message_imprint": {
        "hash_algorithm": algos.DigestAlgorithm({"algorithm": alg}), "hashed_message": digest},
        "nonce": nonce, "cert_req": True}).dump()


def test_tsa_answers_rfc3161_over_http_and_openssl_accepts_it(lt, tmp_path):
    hq = lt["hq"]
    data = b"any document bytes"
    h = hashes.Hash(hashes.SHA256())
    h.update(data)
    r = httpx.post(hq.url + "/api/v1/tsa", content=_tsq(h.finalize()),
                   headers={"Content-Type": "application/timestamp-query"})
    assert r.status_code == 200 and r.headers["content-type"] == "application/timestamp-reply"
    resp = tsp.TimeStampResp.load(r.content)
    assert resp["status"]["status"].native == "granted"
    info = resp["time_stamp_token"]["content"]["encap_content_info"]["content"].parsed
    assert info["nonce"].native == 12345
    (tmp_path / "data").write_bytes(data)
    (tmp_path / "r.tsr").write_bytes(r.content)
    tsa_pem = (hq.cfg.ca_dir / pki.TSA_CERT_FILE).read_bytes()
    (tmp_path / "tsa.pem").write_bytes(tsa_pem)
    o = subprocess.run(["openssl", "ts", "-verify", "-data", str(tmp_path / "data"), "-in", str(tmp_path / "r.tsr"),
                        "-CAfile", str(lt["ca"]), "-untrusted", str(tmp_path / "tsa.pem")],
                       capture_output=True, text=True)
    assert "Verification: OK" in o.stdout, o.stdout + o.stderr
    tsa = x509.load_pem_x509_certificate(tsa_pem)
    eku = tsa.extensions.get_extension_for_class(x509.ExtendedKeyUsage)
    assert eku.critical and [o.dotted_string for o in eku.value] == ["1.3.6.1.5.5.7.3.8"]
    assert tsa.issuer == x509.load_pem_x509_certificate(lt["ca"].read_bytes()).subject
    # refusals: wrong media type; a digest of the wrong length is a rejection, not a token
    assert httpx.post(hq.url + "/api/v1/tsa", content=b"x", headers={"Content-Type": "text/plain"}).status_code == 415
    (tmp_path / "bad.tsr").write_bytes(httpx.post(hq.url + "/api/v1/tsa", content=_tsq(b"short"),
                                                  headers={"Content-Type": "application/timestamp-query"}).content)
    o = subprocess.run(["openssl", "ts", "-reply", "-in", str(tmp_path / "bad.tsr"), "-text"],
                       capture_output=True, text=True)
    assert "Status: Rejected" in o.stdout and "TST info:\nNot included" in o.stdout.replace("\r", ""), o.stdout


def test_certificate_profile_and_the_urls_it_names(lt):
    hq = lt["hq"]
    cert = x509.load_pem_x509_certificate((keys.keys_dir(lt["store"].home) / B1[0] / "cert.pem").read_bytes())
    ku = cert.extensions.get_extension_for_class(x509.KeyUsage).value
    assert ku.digital_signature and ku.content_commitment and not ku.key_cert_sign
    eku = [o.dotted_string for o in cert.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value]
    assert eku == [DOC_SIGNING]  # neither code signing (…3.3) nor e-mail protection (…3.4)
    aia = cert.extensions.get_extension_for_class(x509.AuthorityInformationAccess).value
    ca_url = aia[0].access_location.value
    cdp = cert.extensions.get_extension_for_class(x509.CRLDistributionPoints).value
    crl_url = cdp[0].full_name[0].value
    assert ca_url == hq.cfg.base_url + "/ca/ca.der" and crl_url == hq.cfg.base_url + "/ca/crl.der"
    # what those names point at, served by HQ (on this test's port)
    ca = x509.load_der_x509_certificate(httpx.get(hq.url + "/ca/ca.der").content)
    assert ca.subject == cert.issuer
    crl = x509.load_der_x509_crl(httpx.get(hq.url + "/ca/crl.der").content)
    assert crl.is_signature_valid(ca.public_key())  # type: ignore[arg-type]


def test_claims_are_idempotent_and_not_doubled_by_concurrent_workers(lt):
    hq, blobs = lt["hq"], lt["blobs"]
    with D.write(hq.engine) as c:
        c.execute(D.document_lt.update().values(status="pending", attempts=0, sha256=None))
    results: list[dict[str, int]] = []
    ts = [threading.Thread(target=lambda: results.append(pades_lt.process(hq.cfg, hq.engine, blobs)))
          for _ in range(3)]
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    assert sum(r["done"] for r in results) == 3 and not any(r["failed"] for r in results)
    rows = _wait_lt(hq, 3)
    assert all(r.status == "done" and r.attempts == 1 for r in rows)
    assert pades_lt.process(hq.cfg, hq.engine, blobs) == {"done": 0, "failed": 0, "skipped": 0}


def test_hq_issues_the_ledger_numbered_signed_and_timestamped(lt, tmp_path):
    from inspector.render import ledger_sheet
    from inspector.hq.console.auth import add_staff
    from tests.console_fixtures import PASSWORDS, login_session

    hq = lt["hq"]
    add_staff(hq.engine, "view", PASSWORDS["view"], "viewer", "钱查看")
    c = login_session(hq.url, "view")
    r = c.get("/console/ledger.pdf")
    assert r.status_code == 200 and r.headers["content-type"] == "application/pdf"
    out = tmp_path / "ledger.pdf"
    out.write_bytes(r.content)
    v = verify_bytes(r.content, [lt["ca"]])
    assert v["valid"], v["problems"]
    assert [s["field"] for s in v["signers"]] == ["Sig_hq"] and v["signers"][0]["hq_certified"]
    assert v["timestamps"] and v["ltv"]
    text = subprocess.run(["pdftotext", "-layout", str(out), "-"], capture_output=True, text=True).stdout
    y = time.gmtime().tm_year
    assert f"〔{y}〕0001号" in text and "草稿" not in text
    # the same ledger again: the copy already issued, same number, same bytes (no gap in the series)
    again = c.get("/console/ledger.pdf").content
    assert again == r.content
    # a different ledger (another clerk's name in its footer) is a new issue with the next number
    add_staff(hq.engine, "rev", PASSWORDS["rev"], "reviewer", "孙复核")
    other = login_session(hq.url, "rev").get("/console/ledger.pdf").content
    assert f"〔{y}〕0002号" in subprocess.run(["pdftotext", "-", "-"], input=other, capture_output=True).stdout.decode()
    draft = tmp_path / "draft.pdf"
    draft.write_bytes(ledger_sheet.build_pdf([], unit="测试"))
    dtext = subprocess.run(["pdftotext", str(draft), "-"], capture_output=True, text=True).stdout
    assert "草稿" in dtext and "〔" not in dtext


def test_local_ca_key_is_encrypted_and_two_inspectors_still_sign(tmp_path):
    from inspector import signing
    from inspector.render import common
    from inspector.errors import DocumentError

    home = tmp_path
    keys.create_inspector_key(home, "豫0001", "张三", "pass-one")
    keys.create_inspector_key(home, "豫0002", "李四", "pass-two")
    d = keys.keys_dir(home) / keys.LOCAL_CA_DIR
    key_files = sorted(d.glob("*.key.pem"))
    assert key_files and all(b"ENCRYPTED PRIVATE KEY" in p.read_bytes() for p in key_files)
    assert not (d / pki.KEY_FILE).exists()
    with pytest.raises(DocumentError):
        pki.load_key(key_files[0].read_bytes(), None)
    pdf = signing.prepare(common.build([common.P("测试")], common.Page("测试", "X〔2026〕1号")),
                          [signing.field_name(1), signing.field_name(2)])
    pdf = signing.sign(pdf, keys.load_signing_key(home, "豫0001", "pass-one"), "Sig_inspector1")
    pdf = signing.sign(pdf, keys.load_signing_key(home, "豫0002", "pass-two"), "Sig_inspector2")
    v = verify_bytes(pdf, [keys.local_ca_cert_path(home)])
    assert v["valid"], v["problems"]


def test_an_old_unencrypted_local_ca_key_is_encrypted_on_first_use(tmp_path):
    d = keys.keys_dir(tmp_path) / keys.LOCAL_CA_DIR
    old = pki.CA.create(d, keys.LOCAL_CA_NAME, org="本机")  # as earlier versions left it
    assert b"ENCRYPTED" not in (d / pki.KEY_FILE).read_bytes()
    keys.create_inspector_key(tmp_path, "豫0003", "王五", "pass-three")
    assert not (d / pki.KEY_FILE).exists()
    assert len(keys.local_ca_certs(tmp_path)) == 1  # the same CA, its key now under the passphrase
    cert = x509.load_pem_x509_certificate((keys.keys_dir(tmp_path) / "豫0003" / "cert.pem").read_bytes())
    assert cert.issuer == old.cert.subject
    assert all(b"ENCRYPTED" in p.read_bytes() for p in d.glob("*.key.pem"))


def test_a_revoked_devices_certificates_appear_in_the_crl(lt):
    hq = lt["hq"]
    serials = [x509.load_pem_x509_certificate((keys.keys_dir(lt["store"].home) / b / "cert.pem").read_bytes())
               .serial_number for b in (B1[0], B2[0])]
    before = pades_lt.crl_serials(httpx.get(hq.url + "/ca/crl.der").content)
    assert not set(serials) & before
    dev = lt["store"].scalar("SELECT device_id FROM sync_enrolment")
    service.revoke_device(hq.engine, dev)
    after = pades_lt.crl_serials(httpx.get(hq.url + "/ca/crl.der").content)
    assert set(serials) <= after  # the device's own badge and the co-inspector certified on it
    # a document whose signer is revoked gets no B-LT copy (HQ's own check, hard-fail)
    with D.write(hq.engine) as c:
        c.execute(D.document_lt.update().values(status="pending", attempts=0, sha256=None))
    assert pades_lt.process(hq.cfg, hq.engine, lt["blobs"])["skipped"] == 3


def test_several_hq_processes_stamp_each_document_once(tmp_path, hq_db):
    """Claims on SQLite and PostgreSQL: documents signed with HQ certificates, four workers with
    their own engines (as separate HQ processes have), each document stamped exactly once."""
    from inspector.render import common
    from inspector import signing
    from inspector.hq.app import create_app
    from inspector.hq.config import HQConfig
    from inspector.hq.admin import init_home
    from inspector.util import new_id, now_iso

    home = tmp_path / "hq"
    init_home(home, db_url=hq_db, admin_password="admin-pass-1")
    cfg = HQConfig.load(home, db_url=hq_db)
    app = create_app(cfg)
    engine, blobs = app.state.hq.engine, app.state.hq.blobs
    ca = pki.CA.load(cfg.ca_dir)
    key = pki.new_key()
    sk = keys.SigningKey("B9", key, x509.load_pem_x509_certificate(
        ca.issue(pki.public_pem(key), common_name="王五", serial="B9", base_url=cfg.base_url)), ca.cert, True)
    ids = []
    for i in range(6):
        pdf = signing.prepare(common.build([common.P(f"文书 {i}")], common.Page("测试", f"X〔2026〕{i}号")),
                              [signing.field_name(1)])
        pdf = signing.sign(pdf, sk, signing.field_name(1))
        sha = pades_lt._store_blob(blobs, pdf)
        ids.append(new_id())
        with D.write(engine) as c:
            c.execute(D.documents.insert().values(id=ids[-1], kind="notice", number=f"X{i}", inspection_id="i",
                                                  sha256=sha, created_at=now_iso()))
    from inspector.hq import db as hqdb

    engines = [hqdb.make_engine(cfg.url) for _ in range(4)]
    results: list[dict[str, int]] = []
    ts = [threading.Thread(target=lambda e=e: results.append(pades_lt.process(cfg, e, blobs))) for e in engines]
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    with engine.connect() as c:
        rows = c.execute(sa.select(D.document_lt)).all()
    assert sum(r["done"] for r in results) == 6 and len(rows) == 6, (results, rows)
    assert all(r.status == "done" and r.attempts == 1 for r in rows), rows
    for e in engines:
        e.dispose()
    engine.dispose()
