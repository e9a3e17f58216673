"""Enrolment, push, pull and idempotent replay against the real HQ server (SQLite and PostgreSQL)."""
from __future__ import annotations

import json
import random

import httpx
import pytest
import sqlalchemy as sa

from inspector.sync.client import device_token  # the token is sealed at rest (pii.seal_secret)
from inspector.hq import db as D
from inspector.hq import service
from inspector.store import visits
from inspector.sync import sync
from inspector.sync.serialize import serialize
from tests.hq_fixtures import *  # noqa: F401,F403
from tests.store_fixtures import finish_synthetic
from tests.hq_fixtures import (ensure_base, enrolled_laptop, hq_dump, hq_pulled_dump, laptop_dump, make_inspection,
                               pulled_dump)


def _device(store):
    return store.scalar("SELECT device_id FROM sync_enrolment")


def _me(store):
    return store.scalar("SELECT inspector_id FROM sync_enrolment")


def _token(store):
    return device_token(store)


def test_push_then_hq_holds_exactly_what_the_laptop_has(tmp_path, hq):
    store = enrolled_laptop(tmp_path / "laptop", hq)
    rng = random.Random(1)
    for _ in range(3):
        make_inspection(store, rng, photos=2)
    rep = sync(store)
    assert rep.ok, rep.error
    assert rep.pushed >= 3 and rep.blobs_uploaded == 6
    lap = laptop_dump(store)
    assert hq_dump(hq, _device(store), list(lap)) == lap
    assert store.scalar("SELECT count(*) FROM outbox WHERE sent_at IS NULL") == 0
    # HQ holds the device's whole audit chain and agrees on its head
    seq, h = store.audit_head()
    head = service.audit_head(hq.engine, _device(store))
    assert (head["seq"], head["hash"], head["status"]) == (seq, h, "ok")


def test_enrolment_gives_certificate_token_and_own_number_blocks(tmp_path, hq):
    from inspector import keys

    a = enrolled_laptop(tmp_path / "a", hq, badge="B001", name="张三")
    b = enrolled_laptop(tmp_path / "b", hq, badge="B002", name="李四")
    key = keys.load_signing_key(a.home, "B001", "secret-pass-1")
    assert key.hq_certified and key.name == "张三"
    blocks = {}
    for s in (a, b):
        for r in s.rows("SELECT agency, year, first, last FROM doc_number_blocks WHERE source = 'hq'"):
            blocks.setdefault((r["agency"], r["year"]), []).append((r["first"], r["last"]))
    for ranges in blocks.values():  # the two laptops never share a number
        assert len(ranges) == 2
        (f1, l1), (f2, l2) = sorted(ranges)
        assert l1 < f2
    # HQ stores only a hash of the token
    with hq.engine.connect() as c:
        hashes = [r.token_hash for r in c.execute(sa.select(D.devices)).all()]
    assert _token(a).split(".", 1)[1] not in hashes and len(hashes) == 2


def test_enrolment_code_is_one_time(tmp_path, hq):
    from inspector.errors import AuthError
    from inspector.store import Store
    from inspector.sync import enrol

    code = service.make_enrol_code(hq.engine, hq.cfg, "B009", name="王五")["code"]
    s1 = Store.open(tmp_path / "one")
    enrol(s1, hq.url, code, badge_no="B009", passphrase="secret-pass-1")
    s2 = Store.open(tmp_path / "two")
    with pytest.raises(AuthError, match="已使用"):
        enrol(s2, hq.url, code, badge_no="B009", passphrase="secret-pass-1")


def test_retry_of_an_applied_op_gets_the_stored_answer(tmp_path, hq):
    store = enrolled_laptop(tmp_path / "laptop", hq)
    make_inspection(store, random.Random(2), photos=0)
    op = store.one("SELECT * FROM outbox WHERE sent_at IS NULL ORDER BY seq")
    body = {"op_id": op["op_id"], "entity": op["entity"], "entity_id": op["entity_id"],
            **serialize(store, op["entity"], op["entity_id"])}
    h = {"Authorization": f"Bearer {_token(store)}"}
    r1 = httpx.post(hq.url + "/api/v1/push", json={"ops": [body]}, headers=h).json()["results"][0]
    r2 = httpx.post(hq.url + "/api/v1/push", json={"ops": [body]}, headers=h).json()["results"][0]
    assert r1["status"] == "applied" and r2["status"] == "duplicate" and r2["op_id"] == op["op_id"]
    with hq.engine.connect() as c:
        assert c.execute(sa.select(sa.func.count()).select_from(D.applied_ops)).scalar() == 1
        assert c.execute(sa.select(sa.func.count()).select_from(D.inspections)).scalar() == 1


def test_op_naming_a_missing_blob_is_refused_with_the_list(tmp_path, hq):
    store = enrolled_laptop(tmp_path / "laptop", hq)
    make_inspection(store, random.Random(3), photos=1)
    op = store.one("SELECT * FROM outbox WHERE entity = 'photo'")
    body = {"op_id": op["op_id"], "entity": "photo", "entity_id": op["entity_id"],
            **serialize(store, "photo", op["entity_id"])}
    r = httpx.post(hq.url + "/api/v1/push", json={"ops": [body]},
                   headers={"Authorization": f"Bearer {_token(store)}"}).json()["results"][0]
    assert r["status"] == "missing_blobs" and r["missing"] == body["blobs"] and len(r["missing"]) == 1
    with hq.engine.connect() as c:
        assert c.execute(sa.select(D.photos)).first() is None
    assert sync(store).ok  # the client uploads first, so a real sync goes through


def test_frozen_payload_is_resent_byte_for_byte(tmp_path, hq):
    """After a failed attempt the op keeps its body; a later local edit becomes a new op."""
    store = enrolled_laptop(tmp_path / "laptop", hq)
    iid = make_inspection(store, random.Random(4), photos=0)
    dead = httpx.HTTPTransport()  # pointing the client at a closed port makes the push fail

    store.conn.execute("UPDATE sync_enrolment SET hq_url = 'http://127.0.0.1:9'")
    assert not sync(store, transport=dead).ok
    # the first attempt never got as far as freezing (state failed); force one frozen attempt:
    store.conn.execute(f"UPDATE sync_enrolment SET hq_url = '{hq.url}'")
    from inspector.sync.client import _prepare, SyncReport
    op = store.one("SELECT * FROM outbox WHERE sent_at IS NULL ORDER BY seq")
    frozen = _prepare(store, op, SyncReport())
    visits.update_inspection(store, iid, place="变更后的地点")
    rep = sync(store)
    assert rep.ok
    with hq.engine.connect() as c:  # the later edit won (it was sent after the frozen one)
        applied = {r.op_id for r in c.execute(sa.select(D.applied_ops))}
        assert frozen["op_id"] in applied
        assert c.execute(sa.select(D.inspections.c.place)).scalar() == "变更后的地点"


def test_amendment_of_a_revision_that_is_no_longer_head_is_a_conflict(tmp_path, hq):
    a = enrolled_laptop(tmp_path / "a", hq, badge="B001")
    b = enrolled_laptop(tmp_path / "b", hq, badge="B002", name="李四")
    iid = make_inspection(a, random.Random(5), photos=0)
    # both inspectors of the visit: each laptop may write it (docs/ownership.md)
    visits.update_inspection(a, iid, inspector_ids=json.dumps([_me(a), _me(b)]))
    finish_synthetic(a, iid)
    assert sync(a).ok
    # the second inspector's laptop got the same inspection (e.g. restored backup) and amends it too
    with b.tx() as db:
        for t in ("institutions", "checklist_versions", "inspections"):
            for r in a.rows(f"SELECT * FROM {t}"):
                db[t].insert({**r, "status": "draft"} if t == "inspections" else r, ignore=True)
    finish_synthetic(b, iid)  # b's own log records the finish (its tamper check wants one per finished visit)
    new_a = visits.amend_inspection(a, iid)
    new_b = visits.amend_inspection(b, iid)
    assert sync(a).ok
    rep = sync(b)
    held = {h["entity_id"]: h for h in rep.held}  # b's own finish of the old revision conflicts too
    assert held[new_b]["status"] == "conflict" and all(h["status"] == "conflict" for h in rep.held)
    assert new_a in held[new_b]["error"]
    with hq.engine.connect() as c:
        heads = c.execute(sa.select(D.inspections.c.id).where(D.inspections.c.superseded_by.is_(None))).all()
    assert [h.id for h in heads] == [new_a]
    # the conflicting op stays on the laptop, unsent, for someone to resolve
    assert b.scalar("SELECT count(*) FROM outbox WHERE entity_id = ? AND sent_at IS NULL", (new_b,)) == 1


def test_pull_applies_directories_tasks_and_decisions_but_not_over_unsent_changes(tmp_path, hq):
    from inspector.util import dumps, new_id, now_iso

    store = enrolled_laptop(tmp_path / "laptop", hq, badge="B001")
    me = store.scalar("SELECT inspector_id FROM sync_enrolment")
    inst = {"id": new_id(), "credit_code": "91410700MA000001X", "name": "新乡市某职业培训学校", "kind": "培训机构",
            "county": "红旗区", "trades": dumps(["电工"]), "complaints": 0, "updated_at": now_iso()}
    with hq.engine.begin() as c:
        service.upsert_entity(c, "institution", inst)
    task = {"id": new_id(), "kind": "draw", "institution_id": inst["id"], "inspector_ids": dumps([me, "x"]),
            "checklist_ids": dumps(["training"]), "status": "open", "created_at": now_iso()}
    other = {**task, "id": new_id(), "inspector_ids": dumps(["someone-else"])}
    service.save_task(hq.engine, task)
    service.save_task(hq.engine, other)
    assert sync(store).ok
    assert store.scalar("SELECT name FROM institutions WHERE id = ?", (inst["id"],)) == inst["name"]
    assert store.scalar("SELECT count(*) FROM tasks WHERE id = ?", (task["id"],)) == 1
    assert store.scalar("SELECT count(*) FROM tasks WHERE id = ?", (other["id"],)) == 0  # not my task
    # a rectification made on the laptop, pushed; HQ decides; the laptop meanwhile changed it again
    iid = make_inspection(store, random.Random(6), photos=0, finish=True)
    rid = visits.create_rectification(store, iid, deadline="2026-12-31")
    assert sync(store).ok
    service.decide_rectification(hq.engine, rid, "逾期整改")
    visits.set_rectification_status(store, rid, "已按期整改")
    rep = sync(store, push=False)
    assert rep.ok and rep.pull_skipped == 1
    assert store.scalar("SELECT status FROM rectifications WHERE id = ?", (rid,)) == "已按期整改"
    # without a local change, HQ's decision lands
    rep = sync(store)
    service.decide_rectification(hq.engine, rid, "拒不整改或敷衍整改")
    assert sync(store).ok
    assert store.scalar("SELECT status FROM rectifications WHERE id = ?", (rid,)) == "拒不整改或敷衍整改"
    assert pulled_dump(store)[f"rectifications/{rid}"] == hq_pulled_dump(hq, store)[f"rectifications/{rid}"]


def test_a_bad_pulled_record_is_quarantined_and_the_rest_applies(tmp_path, hq):
    """One record that cannot apply (it names an institution nobody has) is kept aside with its
    reason, reported plainly; the rest of the page applies and the cursor moves on (no endless retry)."""
    from inspector.util import dumps, new_id, now_iso

    store = enrolled_laptop(tmp_path / "laptop", hq)
    bad_task = new_id()
    with hq.engine.begin() as c:
        for i in range(5):
            service.upsert_entity(c, "institution", {
                "id": new_id(), "credit_code": f"CC{i:04d}", "name": f"机构{i}", "kind": "培训机构",
                "county": "红旗区", "trades": dumps([]), "complaints": 0, "updated_at": now_iso()})
        service.upsert_entity(c, "task", {"id": bad_task, "kind": "draw", "institution_id": "nope",
                                          "inspector_ids": "[]", "checklist_ids": "[]", "status": "open",
                                          "created_at": now_iso()})
        # a value the laptop's schema refuses (CHECK on tasks.kind): quarantined too
        odd = new_id()
        service.upsert_entity(c, "task", {"id": odd, "kind": "weird", "institution_id": "nope",
                                          "inspector_ids": "[]", "checklist_ids": "[]", "status": "open",
                                          "created_at": now_iso()})
    rep = sync(store, push=False)
    assert rep.ok, rep.error
    assert store.scalar("SELECT count(*) FROM institutions WHERE credit_code LIKE 'CC0%'") == 5
    assert store.scalar("SELECT count(*) FROM tasks WHERE id IN (?, ?)", (bad_task, odd)) == 0
    q = {r["entity_id"]: r for r in store.rows("SELECT * FROM sync_quarantine")}
    assert set(q) == {bad_task, odd} and "nope" in q[bad_task]["error"]
    assert "隔离" in rep.text() and bad_task in rep.text()
    cursor = store.scalar("SELECT pull_cursor FROM sync_state")
    assert cursor > 0
    assert sync(store, push=False).ok and store.scalar("SELECT pull_cursor FROM sync_state") == cursor
    # the missing institution arrives later: the quarantined task applies on the next pull
    with hq.engine.begin() as c:
        service.upsert_entity(c, "institution", {
            "id": "nope", "credit_code": "CC9999", "name": "后到的机构", "kind": "培训机构",
            "county": "红旗区", "trades": dumps([]), "complaints": 0, "updated_at": now_iso()})
    assert sync(store, push=False).ok
    assert store.scalar("SELECT count(*) FROM tasks WHERE id = ?", (bad_task,)) == 1
    assert [r["entity_id"] for r in store.rows("SELECT entity_id FROM sync_quarantine")] == [odd]


def test_a_pulled_delete_of_a_row_still_referenced_here_is_quarantined(tmp_path, hq):
    from inspector.util import dumps, new_id, now_iso

    store = enrolled_laptop(tmp_path / "laptop", hq)
    inst = new_id()
    with hq.engine.begin() as c:
        service.upsert_entity(c, "institution", {
            "id": inst, "credit_code": "CC7777", "name": "机构", "kind": "培训机构", "county": "红旗区",
            "trades": dumps([]), "complaints": 0, "updated_at": now_iso()})
    assert sync(store, push=False).ok
    from inspector.store import visits as V
    ensure_base(store)
    V.start_inspection(store, inst, inspector_ids=["a", "b"], checklist_version_ids=["t@1"])
    with hq.engine.begin() as c:
        D.add_change(c, "institution", inst, None)
    rep = sync(store, push=False)
    assert rep.ok and store.scalar("SELECT count(*) FROM institutions WHERE id = ?", (inst,)) == 1
    assert rep.quarantined and "仍被本机" in rep.quarantined[0]["error"]


def test_a_laptop_change_that_waited_while_hq_decided_ends_the_same_on_both_sides(tmp_path, hq):
    """The flaky fault-test failure: HQ decides a rectification while the laptop's own change to it
    waits unsent; the push then overwrites HQ's row, and the older decision pulled afterwards must
    not overwrite the laptop (HQ publishes the pushed state after its decision)."""
    store = enrolled_laptop(tmp_path / "laptop", hq)
    iid = make_inspection(store, random.Random(16), photos=0, finish=True)
    rid = visits.create_rectification(store, iid, deadline="2026-12-31")
    assert sync(store).ok
    visits.set_rectification_status(store, rid, "已按期整改")       # waits unsent (no network)
    service.decide_rectification(hq.engine, rid, "逾期整改")         # HQ decides meanwhile
    assert sync(store).ok                                           # push, then pull
    lap = store.scalar("SELECT status FROM rectifications WHERE id = ?", (rid,))
    dev = store.scalar("SELECT device_id FROM sync_enrolment")
    assert hq_dump(hq, dev)[f"rectification/{rid}"]["row"]["status"] == lap == "已按期整改"
    assert pulled_dump(store)[f"rectifications/{rid}"] == hq_pulled_dump(hq, store)[f"rectifications/{rid}"]
    # and a column HQ clears (reopened: closed_at gone) is cleared on the laptop too
    with hq.engine.begin() as c:
        rec = c.execute(sa.select(D.rectifications).where(D.rectifications.c.id == rid)).first()
        row = {**service.join_row(D.rectifications, rec), "status": "待整改"}
        row.pop("closed_at")
        c.execute(D.rectifications.update().where(D.rectifications.c.id == rid).values(closed_at=None))
        service.upsert_entity(c, "rectification", row, audience=[store.scalar("SELECT inspector_id FROM sync_enrolment")])
    assert sync(store).ok
    assert store.scalar("SELECT closed_at FROM rectifications WHERE id = ?", (rid,)) is None


def test_audit_chain_rewrite_is_flagged_by_hq(tmp_path, hq):
    store = enrolled_laptop(tmp_path / "laptop", hq)
    make_inspection(store, random.Random(7), photos=0)
    assert sync(store).ok
    # rewrite history: drop the triggers and change an old entry (what a tamperer would do)
    c = store.conn
    c.execute("DROP TRIGGER audit_log_no_update")
    c.execute("UPDATE audit_log SET hash = ? WHERE seq = (SELECT max(seq) FROM audit_log)", ("f" * 64,))
    rep = sync(store)
    # the laptop notices by itself and sends nothing (tests/test_store_integrity.py) …
    assert not rep.ok and "改动" in (rep.error or "")
    # … and HQ's own check stays: the rewritten chain pushed anyway (a modified client) is flagged
    seq, h = store.audit_head()
    body = {"ops": [], "audit": {"head": {"seq": seq, "hash": h}, "entries": [
        dict(r, payload=json.loads(r["payload"])) for r in store.rows("SELECT * FROM audit_log WHERE seq = ?", (seq,))]}}
    r = httpx.post(hq.url + "/api/v1/push", json=body, headers={"Authorization": f"Bearer {_token(store)}"})
    assert r.json()["audit"]["status"] == "flagged"
    with hq.engine.connect() as conn:
        alerts = conn.execute(sa.select(D.audit_alerts)).all()
    assert len(alerts) == 1 and "改写" in alerts[0].detail


def test_audit_chain_gap_is_flagged(tmp_path, hq):
    store = enrolled_laptop(tmp_path / "laptop", hq)
    make_inspection(store, random.Random(8), photos=0)
    assert sync(store).ok
    seq, h = store.audit_head()
    with store.tx():
        for i in range(3):
            store.log("note", f"n{i}", "add", {"i": i}, push=False)
    # pretend HQ already had one more entry than it did: the next segment starts after a hole
    store.conn.execute("UPDATE sync_state SET hq_audit_seq = ?", (seq + 1,))
    body = {"ops": [], "audit": {"head": dict(zip(("seq", "hash"), store.audit_head())),
                                 "entries": [dict(r, payload=json.loads(r["payload"])) for r in
                                             store.rows("SELECT * FROM audit_log WHERE seq > ?", (seq + 1,))]}}
    r = httpx.post(hq.url + "/api/v1/push", json=body, headers={"Authorization": f"Bearer {_token(store)}"})
    assert r.json()["audit"]["status"] == "flagged" and "缺失" in r.json()["audit"]["problems"][0]


def test_second_sync_with_nothing_new_sends_nothing(tmp_path, hq):
    store = enrolled_laptop(tmp_path / "laptop", hq)
    make_inspection(store, random.Random(9), photos=1)
    assert sync(store).ok
    rep = sync(store)
    assert rep.ok and rep.pushed == 0 and rep.bytes_uploaded == 0 and rep.pulled == 0


def test_unknown_entity_stays_unsent_with_a_clear_error(tmp_path, hq):
    store = enrolled_laptop(tmp_path / "laptop", hq)
    with store.tx():
        store.log("mystery", "m1", "add", {})
    rep = sync(store)
    assert rep.ok
    assert rep.held and rep.held[0]["status"] == "unknown_entity" and "mystery" in rep.held[0]["error"]
    assert store.scalar("SELECT count(*) FROM outbox WHERE entity = 'mystery' AND sent_at IS NULL") == 1


def test_not_enrolled_says_so(tmp_path):
    from inspector.errors import SyncError
    from inspector.store import Store

    with pytest.raises(SyncError, match="inspector enrol"):
        sync(Store.open(tmp_path / "x"))


def test_locally_imported_directory_row_takes_hqs_id_and_references_follow(tmp_path, hq):
    from inspector.util import dumps, new_id, now_iso

    store = enrolled_laptop(tmp_path / "laptop", hq)
    iid = make_inspection(store, random.Random(10), photos=0, finish=True)   # on 'inst-local' / CC-LOCAL
    hq_id = new_id()
    with D.write(hq.engine) as c:
        service.upsert_entity(c, "institution", {"id": hq_id, "credit_code": "CC-LOCAL", "name": "总部名录中的名称",
                                                 "kind": "培训机构", "county": "红旗区", "trades": dumps([]),
                                                 "complaints": 0, "updated_at": now_iso()})
    assert sync(store).ok
    assert store.scalar("SELECT id FROM institutions WHERE credit_code = 'CC-LOCAL'") == hq_id
    assert store.scalar("SELECT institution_id FROM inspections WHERE id = ?", (iid,)) == hq_id
    assert sync(store).ok  # the re-keyed inspection goes to HQ again, now naming HQ's institution
    with hq.engine.connect() as c:
        assert c.execute(sa.select(D.inspections.c.institution_id).where(D.inspections.c.id == iid)).scalar() == hq_id
    assert store.verify_audit_chain() == []


def test_a_photo_whose_file_is_gone_is_held_and_the_rest_goes_through(tmp_path, hq):
    store = enrolled_laptop(tmp_path / "laptop", hq)
    make_inspection(store, random.Random(11), photos=2)
    sha = store.scalar("SELECT sha256 FROM photos ORDER BY rowid LIMIT 1")
    (store.home / "blobs" / sha[:2] / sha[2:4] / sha).unlink()
    rep = sync(store)
    assert rep.ok
    assert [h["status"] for h in rep.held] == ["rejected"] and "本机缺少文件" in rep.held[0]["error"]
    with hq.engine.connect() as c:
        photos = [r.sha256 for r in c.execute(sa.select(D.photos.c.sha256))]
    assert len(photos) == 1 and sha not in photos and (hq.cfg.blob_dir / photos[0][:2] / photos[0][2:4]
                                                        / photos[0]).is_file()
    assert store.scalar("SELECT count(*) FROM outbox WHERE sent_at IS NULL") == 1
