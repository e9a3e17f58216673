"""Two inspectors, one laptop: the co-inspector's key gets certified by HQ's CA with their own
one-time code (POST /api/v1/certify, device token kept), so every document both sign on that
laptop verifies as 总部认证 against HQ's CA — and the refusals (wrong badge, used or expired code,
revoked device, no token) hold."""
from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import httpx
import pytest
import sqlalchemy as sa

from inspector.sync.client import device_token  # the token is sealed at rest (pii.seal_secret)
from inspector import keys
from inspector.demo import DEMO_PASSPHRASES, documents_for, visit
from inspector.errors import AuthError, SyncError
from inspector.hq import db as D
from inspector.hq import service
from inspector.store import Store
from inspector.sync import certify_inspector, enrol, status, sync
from inspector.verify import verify_bytes
from tests.hq_fixtures import *  # noqa: F401,F403  (hq: SQLite and PostgreSQL)
from tests.hq_fixtures import ensure_base, start_hq

B1, B2 = ("B1", "张三"), ("B2", "李四")


def _laptop(path: Path, hq) -> Store:
    """Enrolled with B1's own code (B1's key made with the demo passphrase); directory pulled."""
    code = service.make_enrol_code(hq.engine, hq.cfg, B1[0], name=B1[1])["code"]
    service.make_enrol_code(hq.engine, hq.cfg, B2[0], name=B2[1])  # B2 is in HQ's directory
    store = Store.open(path)
    enrol(store, hq.url, code, badge_no=B1[0], passphrase=DEMO_PASSPHRASES[0])
    assert sync(store).ok
    return store


def _hq_docs_verified(hq) -> list[dict]:
    from inspector.hq.blobs import HQBlobs

    blobs = HQBlobs(hq.cfg.blob_dir)
    with hq.engine.connect() as c:
        docs = c.execute(sa.select(D.documents)).all()
    return [verify_bytes(blobs.path(d.sha256).read_bytes(), [hq.cfg.ca_dir / "ca.cert.pem"]) for d in docs]


def test_both_inspectors_sign_on_one_laptop_and_every_synced_document_verifies_against_hq(tmp_path, hq):
    store = _laptop(tmp_path / "laptop", hq)
    token = device_token(store)
    assert not keys.has_key(store.home, B2[0])
    code2 = service.make_enrol_code(hq.engine, hq.cfg, B2[0])["code"]
    r = certify_inspector(store, code2, B2[0], passphrase=DEMO_PASSPHRASES[1])
    assert r["key_created"] and r["inspector"]["name"] == B2[1]
    # the device keeps its enrolment; HQ records which device holds B2's key
    assert device_token(store) == token
    dev = store.scalar("SELECT device_id FROM sync_enrolment")
    with hq.engine.connect() as c:
        used = c.execute(sa.select(D.enrol_codes).where(D.enrol_codes.c.badge_no == B2[0],
                                                        D.enrol_codes.c.used_at.is_not(None))).all()
    assert [u.device_id for u in used] == [dev]
    assert {d["id"]: d["co_inspectors"] for d in service.list_devices(hq.engine)} == {dev: [B2[0]]}
    assert {k["badge_no"]: k["hq_certified"] for k in status(store)["keys"]} == {B1[0]: True, B2[0]: True}

    inst_id, _cv = ensure_base(store)
    inst = store.one("SELECT * FROM institutions WHERE id = ?", (inst_id,))
    people = [store.one("SELECT * FROM inspectors WHERE badge_no = ?", (b,)) for b, _ in (B1, B2)]
    assert all(people), "HQ's directory (both inspectors) was pulled"
    iid = visit(store, inst, people, seed=3, work=tmp_path / "photos", photo_size=(320, 240))
    made = documents_for(store, iid, people)
    assert len(made) == 3
    rep = sync(store)
    assert rep.ok and not rep.held, rep.text()

    results = _hq_docs_verified(hq)
    assert len(results) == 3
    for v in results:
        assert v["valid"] is True, v["problems"]
        assert len(v["signers"]) == 2 and all(s["hq_certified"] and s["intact"] for s in v["signers"]), v


def test_without_the_co_inspector_certificate_the_second_signature_is_untrusted(tmp_path):
    """The problem this fixes, kept visible: B2 signs with the laptop's local CA."""
    hq = start_hq(tmp_path / "hq")
    try:
        store = _laptop(tmp_path / "laptop", hq)
        keys.create_inspector_key(store.home, B2[0], B2[1], DEMO_PASSPHRASES[1])
        inst_id, _cv = ensure_base(store)
        inst = store.one("SELECT * FROM institutions WHERE id = ?", (inst_id,))
        people = [store.one("SELECT * FROM inspectors WHERE badge_no = ?", (b,)) for b, _ in (B1, B2)]
        from inspector.store import documents as docs

        iid = visit(store, inst, people, seed=4, work=tmp_path / "photos", photo_size=(320, 240), finish=True)
        from inspector.demo import sign_all

        sign_all(store, docs.make_document(store, iid, "record", actor="t")["id"], people)
        assert sync(store).ok
        [v] = _hq_docs_verified(hq)
        assert v["valid"] is False and any("本机临时证书机构" in p for p in v["problems"]), v["problems"]
        # certifying B2's existing key now (no passphrase needed) makes the next signatures trusted
        code2 = service.make_enrol_code(hq.engine, hq.cfg, B2[0])["code"]
        r = certify_inspector(store, code2, B2[0])
        assert not r["key_created"]
        assert keys.load_signing_key(store.home, B2[0], DEMO_PASSPHRASES[1]).hq_certified
    finally:
        hq.stop()


@pytest.fixture
def lenient_hq(tmp_path, hq_db):
    """HQ whose code throttle starts late: this test is about each refusal's reason, and it makes
    more wrong attempts from one address than the default allows (tests/test_hq_throttle.py)."""
    from tests.hq_fixtures import start_hq

    s = start_hq(tmp_path / "hq", hq_db, backoff_after=100, addr_lock_after=100)
    yield s
    s.stop()


def test_certify_refusals(tmp_path, lenient_hq):
    hq = lenient_hq
    store = _laptop(tmp_path / "laptop", hq)
    service.make_enrol_code(hq.engine, hq.cfg, "B3", name="王五")
    code3 = service.make_enrol_code(hq.engine, hq.cfg, "B3")["code"]
    code2 = service.make_enrol_code(hq.engine, hq.cfg, B2[0])["code"]

    # another badge's code: refused, and the code stays usable by its owner
    with pytest.raises(AuthError, match="不是发给执法证号 B2"):
        certify_inspector(store, code3, B2[0], passphrase=DEMO_PASSPHRASES[1])
    # no passphrase for a key that must be made: refused before anything is sent
    with pytest.raises(SyncError, match="签名口令"):
        certify_inspector(store, code3, "B3")
    assert not keys.has_key(store.home, "B3")
    first = certify_inspector(store, code3, "B3", passphrase="b3-pass-1")
    assert first["badge_no"] == "B3" and not first["repeated"]
    cert = (keys.keys_dir(store.home) / "B3" / "cert.pem").read_bytes()
    # the reply was lost: the same device, code and key get the same certificate again
    again = certify_inspector(store, code3, "B3")
    assert again["repeated"] and (keys.keys_dir(store.home) / "B3" / "cert.pem").read_bytes() == cert
    # a used code with another key, or on another laptop: refused
    from inspector import pki
    from tests.hq_fixtures import enrolled_laptop

    other_key = pki.public_pem(pki.new_key()).decode()
    r = httpx.post(hq.url + "/api/v1/certify", json={"code": code3, "badge_no": "B3", "public_key_pem": other_key},
                   headers={"Authorization": "Bearer " + device_token(store)})
    assert r.status_code == 401 and r.json()["code"] == "code_used"
    other = enrolled_laptop(tmp_path / "other", hq, badge="B4", name="赵六")
    with pytest.raises(AuthError, match="已使用过"):
        certify_inspector(other, code3, "B3", passphrase="b3-pass-2")
    # a made-up code
    with pytest.raises(AuthError, match="登记码无效"):
        certify_inspector(store, "AAAA-BBBB-CCCC", B2[0], passphrase=DEMO_PASSPHRASES[1])
    # an expired code
    with D.write(hq.engine) as c:
        c.execute(D.enrol_codes.update().where(D.enrol_codes.c.used_at.is_(None))
                  .values(expires_at=(dt.datetime.now(dt.timezone.utc) - dt.timedelta(minutes=1)).isoformat()))
    with pytest.raises(AuthError, match="已过期"):
        certify_inspector(store, code2, B2[0], passphrase=DEMO_PASSPHRASES[1])
    # no token / a bad token: refused by the route itself
    pub = keys.public_key_pem(store.home, B2[0]).decode()
    body = {"code": code2, "badge_no": B2[0], "public_key_pem": pub}
    r = httpx.post(hq.url + "/api/v1/certify", json=body)
    assert r.status_code == 401 and r.json()["code"] == "token_missing"
    r = httpx.post(hq.url + "/api/v1/certify", json=body, headers={"Authorization": "Bearer x.y"})
    assert r.status_code == 401 and r.json()["code"] == "token_invalid"
    # a revoked device
    fresh = service.make_enrol_code(hq.engine, hq.cfg, B2[0])["code"]
    service.revoke_device(hq.engine, store.scalar("SELECT device_id FROM sync_enrolment"))
    with pytest.raises(AuthError, match="吊销"):
        certify_inspector(store, fresh, B2[0])
    with hq.engine.connect() as c:
        unused = c.execute(sa.select(D.enrol_codes.c.used_at).where(
            D.enrol_codes.c.code_hash == service.sha256_hex(service._norm_code(fresh).encode()))).scalar()
    assert unused is None
    assert not keys.load_signing_key(store.home, B2[0], DEMO_PASSPHRASES[1]).hq_certified


def test_certify_needs_an_enrolled_laptop(tmp_path):
    store = Store.open(tmp_path / "laptop")
    with pytest.raises(SyncError, match="还没有在总部登记"):
        certify_inspector(store, "AAAA-BBBB-CCCC", "B2", passphrase="whatever-1")
    assert not keys.has_key(store.home, "B2")


def test_command_line_enrol_on_an_enrolled_laptop_certifies_the_co_inspector(tmp_path, capsys, monkeypatch):
    from inspector.cli import main as inspector

    hq = start_hq(tmp_path / "hq")
    try:
        store = _laptop(tmp_path / "laptop", hq)
        token = device_token(store)
        store.close()
        code2 = service.make_enrol_code(hq.engine, hq.cfg, B2[0])["code"]
        monkeypatch.setenv("INSPECTOR_PASSPHRASE", DEMO_PASSPHRASES[1])
        capsys.readouterr()
        assert inspector(["--home", str(tmp_path / "laptop"), "enrol", "--code", code2, "--badge", B2[0],
                          "--json"]) == 0
        out = json.loads(capsys.readouterr().out)
        assert out["certified"] and out["badge_no"] == B2[0] and out["key_created"]
        assert inspector(["--home", str(tmp_path / "laptop"), "sync", "status"]) == 0
        text = capsys.readouterr().out
        assert f"签名密钥 {B2[0]}（{B2[1]}）：总部认证" in text
        with Store.open(tmp_path / "laptop") as s:
            assert device_token(s) == token
            assert sync(s).ok
        # a wrong code: refused in plain words, exit 2
        assert inspector(["--home", str(tmp_path / "laptop"), "enrol", "--code", "AAAA-BBBB-CCCC",
                          "--badge", B2[0]]) == 2
        assert "登记码无效" in capsys.readouterr().err
    finally:
        hq.stop()
