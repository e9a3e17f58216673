"""A device writes and reads only what it owns (docs/ownership.md): laptop A, with its own valid
token, tries every write and read of laptop B's records that an attack found applied before;
each op is ``forbidden`` and HQ's rows are unchanged byte for byte, while A's own records still
sync. On SQLite and PostgreSQL."""
from __future__ import annotations

import json
import random
import uuid

import httpx
import pytest
import sqlalchemy as sa

from inspector.sync.client import device_token  # the token is sealed at rest (pii.seal_secret)
from inspector.blobs import BlobStore
from inspector.hq import db as D
from inspector.hq import service
from inspector.store import visits
from inspector.sync import sync
from inspector.util import new_id, now_iso
from tests.hq_fixtures import *  # noqa: F401,F403
from tests.hq_fixtures import enrolled_laptop, hq_dump, insert_adaptive, laptop_dump, make_inspection

KEPT = ("institutions", "inspectors", "checklist_versions", "draws", "tasks", "inspections", "answers", "findings",
        "rectifications", "photos", "documents", "inspection_children", "changes", "doc_blocks")


def snapshot(engine) -> dict[str, list[tuple]]:
    """Every row HQ keeps of records and directories, in a stable order."""
    out = {}
    with engine.connect() as c:
        for t in KEPT:
            table = D.metadata.tables[t]
            out[t] = sorted((tuple(map(repr, r)) for r in c.execute(sa.select(table)).all()))
    return out


def _me(store) -> str:
    return store.scalar("SELECT inspector_id FROM sync_enrolment")


def _token(store) -> str:
    return device_token(store)


def _add_document(store, iid: str, body: bytes) -> tuple[str, str]:
    sha = BlobStore(store.home / "blobs").put_bytes(body)
    did, ts = new_id(), now_iso()
    with store.tx():
        insert_adaptive(store, "documents", {"id": did, "inspection_id": iid, "kind": "notice",
                                             "number": f"N-{did[:6]}", "sha256": sha, "record_sha256": "0" * 64,
                                             "status": "signed", "blob_sha256": sha, "created_at": ts,
                                             "updated_at": ts})
        store.log("document", did, "make", {"inspection_id": iid, "sha256": sha})
    return did, sha


@pytest.fixture
def world(tmp_path, hq):
    with D.write(hq.engine) as c:  # the institution both laptops visit, in HQ's directory
        service.upsert_entity(c, "institution", {"id": "inst-local", "credit_code": "CC-LOCAL", "name": "测试培训学校",
                                                 "kind": "培训机构", "county": "红旗区", "updated_at": now_iso()})
    a = enrolled_laptop(tmp_path / "a", hq, badge="B001", name="张三")
    b = enrolled_laptop(tmp_path / "b", hq, badge="B002", name="李四")
    rng = random.Random(11)
    b_iid = make_inspection(b, rng, photos=1, findings=2)
    b_doc, b_doc_sha = _add_document(b, b_iid, b"%PDF-1.7 B's signed notice")
    b_rect = visits.create_rectification(b, b_iid, deadline="2027-01-31")
    rep = sync(b)
    assert rep.ok and not rep.held, (rep.error, rep.held)
    a_iid = make_inspection(a, rng, photos=1, findings=1)
    rep = sync(a)
    assert rep.ok and not rep.held, (rep.error, rep.held)
    yield {"a": a, "b": b, "b_iid": b_iid, "b_doc": b_doc, "b_doc_sha": b_doc_sha, "b_rect": b_rect,
           "a_iid": a_iid}
    a.close()
    b.close()


def _push(hq, token: str, ops: list[dict]) -> list[dict]:
    r = httpx.post(f"{hq.url}/api/v1/push", json={"ops": ops}, headers={"Authorization": f"Bearer {token}"},
                   timeout=30)
    assert r.status_code == 200, r.text
    return r.json()["results"]


def _op(entity: str, entity_id: str, op: str = "upsert", data=None) -> dict:
    return {"op_id": str(uuid.uuid4()), "entity": entity, "entity_id": entity_id, "op": op, "data": data}


def _hq_row(hq, entity: str, eid: str) -> dict:
    with hq.engine.connect() as c:
        return service.export_entity(c, entity, eid)


def test_a_cannot_touch_b_records_and_hq_stays_byte_identical(world, hq):
    a, b = world["a"], world["b"]
    b_iid, me_a, me_b = world["b_iid"], _me(a), _me(b)
    b_insp = _hq_row(hq, "inspection", b_iid)
    b_photo = b_insp and hq_dump(hq, b.scalar("SELECT device_id FROM sync_enrolment"))
    photo_id = next(k.split("/")[1] for k in b_photo if k.startswith("photo/"))
    b_finding = b_insp["findings"][0]
    doc_row = _hq_row(hq, "document", world["b_doc"])["row"]
    rect_row = _hq_row(hq, "rectification", world["b_rect"])["row"]
    inst = _hq_row(hq, "institution", "inst-local")["row"]
    a_iid = world["a_iid"]
    new_b_only = {**b_insp["row"], "id": new_id(), "inspector_ids": json.dumps([me_b])}
    attacks = {
        "delete B's inspection": _op("inspection", b_iid, "delete"),
        "overwrite B's inspection": _op("inspection", b_iid, data={
            "row": {**b_insp["row"], "inspector_ids": json.dumps([me_a])}, "answers": [], "findings": []}),
        "new inspection naming only B's inspector": _op("inspection", new_b_only["id"], data={
            "row": new_b_only, "answers": [], "findings": []}),
        "revise B's inspection": _op("inspection", "rev-" + new_id(), data={
            "row": {**b_insp["row"], "id": "rev-x", "replaces_id": b_iid, "inspector_ids": json.dumps([me_a])},
            "answers": [], "findings": []}),
        "take B's finding into A's inspection": _op("inspection", a_iid, data={
            "row": _hq_row(hq, "inspection", a_iid)["row"], "answers": [],
            "findings": [{**b_finding, "inspection_id": a_iid, "description": "改写"}]}),
        "rewrite B's document sha256": _op("document", world["b_doc"], data={
            "row": {**doc_row, "sha256": "f" * 64}}),
        "move B's document to A's inspection": _op("document", world["b_doc"], data={
            "row": {**doc_row, "inspection_id": a_iid}}),
        "delete B's document": _op("document", world["b_doc"], "delete"),
        "delete B's photo": _op("photo", photo_id, "delete"),
        "finding on B's inspection": _op("finding", new_id(), data={"row": {
            "id": "f-x", "inspection_id": b_iid, "description": "x", "created_at": now_iso(),
            "updated_at": now_iso()}}),
        "delete B's rectification": _op("rectification", world["b_rect"], "delete"),
        "overwrite B's rectification": _op("rectification", world["b_rect"], data={
            "row": {**rect_row, "status": "已按期整改"}}),
        "new rectification on B's inspection": _op("rectification", new_id(), data={"row": {
            **rect_row, "id": "r-x"}}),
        "rename an institution": _op("institution", inst["id"], data={"row": {**inst, "name": "改名机构"}}),
        "create an inspector": _op("inspector", new_id(), data={"row": {
            "id": "i-x", "badge_no": "X9", "name": "冒名", "specialties": "[]", "conflicts": "[]",
            "updated_at": now_iso()}}),
        "create a task": _op("task", new_id(), data={"row": {"id": "t-x", "kind": "adhoc", "institution_id": inst["id"],
                                                              "inspector_ids": "[]", "checklist_ids": "[]",
                                                              "status": "open", "created_at": now_iso()}}),
        "create a draw": _op("draw", new_id(), data={"row": {"id": "d-x", "seed": "s"}}),
        "publish a checklist": _op("checklist_version", "evil@1", data={"row": {
            "id": "evil@1", "checklist_id": "evil", "version": "1", "title": "x", "source": "", "sha256": "",
            "stored_at": now_iso()}}),
    }
    # ids inside rows must match the op's entity_id to reach the ownership check, not a shape error
    for op in attacks.values():
        if op["data"] and isinstance(op["data"].get("row"), dict):
            op["data"]["row"]["id"] = op["entity_id"]
    before = snapshot(hq.engine)
    results = _push(hq, _token(a), list(attacks.values()))
    got = {name: (r["status"], r.get("code")) for name, r in zip(attacks, results)}
    assert got == {name: ("forbidden", "forbidden") for name in attacks}, got
    assert all("无权" in r["error"] for r in results)
    assert snapshot(hq.engine) == before  # nothing written, nothing published
    with hq.engine.connect() as c:  # each refusal is kept for HQ's staff
        alerts = c.execute(sa.select(sa.func.count()).select_from(D.audit_alerts)
                           .where(D.audit_alerts.c.kind == "forbidden_op")).scalar()
    assert alerts == len(attacks)


def test_a_cannot_read_b_files_and_public_verify_leaks_nothing(world, hq):
    a, b = world["a"], world["b"]
    sha = world["b_doc_sha"]
    photo_sha = b.scalar("SELECT sha256 FROM photos LIMIT 1")
    for s in (sha, photo_sha):
        assert httpx.get(f"{hq.url}/api/v1/blobs/{s}", headers={"Authorization": f"Bearer {_token(a)}"}).status_code == 404
        mine = httpx.get(f"{hq.url}/api/v1/blobs/{s}", headers={"Authorization": f"Bearer {_token(b)}"})
        assert mine.status_code == 200 and len(mine.content) > 0
    own = a.scalar("SELECT sha256 FROM photos LIMIT 1")
    assert httpx.get(f"{hq.url}/api/v1/blobs/{own}", headers={"Authorization": f"Bearer {_token(a)}"}).status_code == 200
    r = httpx.get(f"{hq.url}/api/v1/verify/{world['b_doc']}")
    assert r.status_code == 200 and r.json()["found"] is True
    body = r.text
    assert sha not in body and world["b_iid"] not in body
    assert "sha256" not in r.json() and "inspection_id" not in r.json()
    page = httpx.get(f"{hq.url}/verify")
    assert sha not in page.text


def test_what_a_owns_still_syncs_and_hq_decisions_stay_hq_s(world, hq):
    a = world["a"]
    rng = random.Random(5)
    iid = make_inspection(a, rng, photos=2, findings=2)
    rid = visits.create_rectification(a, iid, deadline="2027-02-28")
    rep = sync(a)
    assert rep.ok and not rep.held, (rep.error, rep.held)
    task = {"id": new_id(), "kind": "reinspection", "institution_id": "inst-local", "inspector_ids": json.dumps([_me(a)]),
            "checklist_ids": '["training"]', "status": "open", "created_at": now_iso()}
    service.decide_rectification(hq.engine, rid, "待整改", reinspection_task=task)
    # the laptop edits its rectification before it has pulled HQ's decision
    with a.tx() as db:
        db.execute("UPDATE rectifications SET evidence = ?, reinspection_task_id = NULL WHERE id = ?",
                   ('["整改报告已收"]', rid))
        a.log("rectification", rid, "status", {"evidence": ["整改报告已收"]})
    rep = sync(a)
    assert rep.ok and not rep.held, (rep.error, rep.held)
    row = _hq_row(hq, "rectification", rid)["row"]
    assert row["evidence"] == '["整改报告已收"]'       # the laptop's field applied
    assert row["reinspection_task_id"] == task["id"]   # HQ's decision kept
    # a co-inspected visit: B's inspection naming A's inspector too may be updated by A
    lap = laptop_dump(a)
    dev = a.scalar("SELECT device_id FROM sync_enrolment")
    assert {k: v for k, v in hq_dump(hq, dev, list(lap)).items() if not k.startswith("rectification/")} == \
        {k: v for k, v in lap.items() if not k.startswith("rectification/")}


def test_a_co_inspector_named_on_b_visit_may_update_it(world, hq):
    a, b = world["a"], world["b"]
    iid = visits.start_inspection(b, "inst-local", inspector_ids=[_me(b), _me(a)],
                                  checklist_version_ids=["t@1"])
    assert sync(b).ok
    row = _hq_row(hq, "inspection", iid)
    res = _push(hq, _token(a), [_op("inspection", iid, data={**row, "row": {**row["row"], "place": "二楼"}})])
    assert res[0]["status"] == "applied", res
