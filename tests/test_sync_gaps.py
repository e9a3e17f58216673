"""Known gaps, closed: a lost enrolment reply, an op over the size limit, and the public verify API
re-checking the QR's Ed25519 signature against the device key HQ enrolled."""
from __future__ import annotations

import random

import httpx
import pytest
import sqlalchemy as sa

from inspector.errors import SyncError
from inspector.hq import db as D
from inspector.hq import service
from inspector.store import Store, visits
from inspector.sync import enrol, sync
from tests.hq_fixtures import *  # noqa: F401,F403
from tests.hq_fixtures import PASSPHRASE, ensure_base, enrolled_laptop, make_inspection, start_hq


class _LoseReply(httpx.BaseTransport):
    """Forwards to HQ, then drops the answer to the first enrolment (HQ did the work)."""

    def __init__(self) -> None:
        self.real = httpx.HTTPTransport()
        self.lost = 0

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        resp = self.real.handle_request(request)
        resp.read()
        if request.url.path.endswith("/enrol") and not self.lost:
            self.lost += 1
            raise httpx.ReadError("connection reset", request=request)
        return resp


def test_a_lost_enrolment_reply_can_be_retried_with_the_same_code(tmp_path, hq, monkeypatch):
    from inspector.sync import http as H

    # the user's own second attempt (the client's automatic retry would hide the first failure;
    # tests/test_sync_retry.py covers that path)
    monkeypatch.setattr(H, "RETRIES", 0)
    code = service.make_enrol_code(hq.engine, hq.cfg, "B001", name="张三")["code"]
    store = Store.open(tmp_path / "laptop")
    t = _LoseReply()
    with pytest.raises(SyncError):
        enrol(store, hq.url, code, badge_no="B001", passphrase=PASSPHRASE, transport=t)
    assert t.lost == 1
    r = enrol(store, hq.url, code, badge_no="B001", passphrase=PASSPHRASE, transport=t)
    with hq.engine.connect() as c:
        devs = c.execute(sa.select(D.devices)).all()
        blocks = c.execute(sa.select(D.doc_blocks)).all()
    assert [d.id for d in devs] == [r["device_id"]]                   # the same enrolment, not a second one
    assert {(b.first, b.last) for b in blocks} == {(x["first"], x["last"]) for x in r["doc_blocks"]}
    make_inspection(store, random.Random(1), photos=0)
    assert sync(store).ok                                              # the token from the retry works
    # once the device has used its token, the code is spent for good (even from the same keys)
    other = Store.open(tmp_path / "laptop2")
    with pytest.raises(SyncError, match="已使用"):
        enrol(other, hq.url, code, badge_no="B001", passphrase=PASSPHRASE)


def test_a_used_code_from_another_device_is_refused(tmp_path, hq):
    code = service.make_enrol_code(hq.engine, hq.cfg, "B001", name="张三")["code"]
    enrol(Store.open(tmp_path / "a"), hq.url, code, badge_no="B001", passphrase=PASSPHRASE)
    with pytest.raises(SyncError, match="已使用"):   # another laptop: other keys
        enrol(Store.open(tmp_path / "b"), hq.url, code, badge_no="B001", passphrase=PASSPHRASE)


def test_an_op_over_the_size_limit_is_refused_by_name_and_does_not_block_the_others(tmp_path):
    hq = start_hq(tmp_path / "hq", max_body=64 * 1024)
    try:
        store = enrolled_laptop(tmp_path / "laptop", hq)
        inst, cv = ensure_base(store)
        big = visits.start_inspection(store, inst, inspector_ids=["a", "b"], checklist_version_ids=[cv])
        for i in range(120):                     # ~120 KB of answers in one inspection
            visits.set_answer(store, big, cv, f"T-{i}", True, note="很长的说明" * 60)
        small = make_inspection(store, random.Random(2), photos=0)
        rep = sync(store)
        assert rep.ok, rep.error
        held = [h for h in rep.held if h["entity_id"] == big]
        assert held and held[0]["code"] == "too_large" and big in held[0]["error"] and "上限" in held[0]["error"]
        dev = store.scalar("SELECT device_id FROM sync_enrolment")
        got = service.device_entities(hq.engine, dev)
        assert ("inspection", small) in got and ("inspection", big) not in got
        rep2 = sync(store)                       # not retried every sync; nothing else blocked
        assert rep2.ok and not rep2.held
        assert "too_large" in str(store.scalar("SELECT result FROM outbox WHERE entity_id = ? AND sent_at IS NULL",
                                               (big,)))
    finally:
        hq.stop()


def test_verify_api_rechecks_the_qr_signature_against_the_enrolled_device_key(tmp_path):
    from tests.console_fixtures import signed_document

    hq = start_hq(tmp_path / "hq")
    try:
        service.make_enrol_code(hq.engine, hq.cfg, "B001", name="张三")   # puts B001 in HQ's directory
        doc = signed_document(hq)
        ok = httpx.get(f"{hq.url}/api/v1/verify/{doc['token']}").json()
        assert ok["found"] and ok["qr_valid"] and ok["genuine"]
        did, sha, sig = doc["token"].split(".")
        forged = f"{did}.{sha}.{sig[:-4]}{'AAAA' if sig[-4:] != 'AAAA' else 'BBBB'}"
        bad = httpx.get(f"{hq.url}/api/v1/verify/{forged}").json()
        assert bad["found"] and not bad["qr_valid"] and not bad["genuine"] and "签名无效" in bad["message"]
        # a signature by some other key (a laptop HQ never enrolled for this document) fails too
        from cryptography.hazmat.primitives.asymmetric import ed25519

        from inspector import qr

        other = ed25519.Ed25519PrivateKey.generate().sign(qr.message(doc["doc_id"], bytes(qr._unb64(sha)).hex()))
        wrong = httpx.get(f"{hq.url}/api/v1/verify/{did}.{sha}.{qr._b64(other)}").json()
        assert not wrong["qr_valid"] and not wrong["genuine"]
        # the id alone still answers what HQ recorded
        assert httpx.get(f"{hq.url}/api/v1/verify/{doc['doc_id']}").json()["found"]
    finally:
        hq.stop()
