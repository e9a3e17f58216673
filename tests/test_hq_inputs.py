"""No input gives a 500 (issue 13, item 2): each break the attack found is a 4xx with a Chinese
reason naming the field, HQ's rows and audit head are untouched, and the next normal sync of the
same laptop still goes through — on SQLite and on PostgreSQL (whose refusals of a wrong column type,
a NUL character or an out-of-range integer are not the ones SQLite gives)."""
from __future__ import annotations

import copy
import datetime as dt
import json
import random
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
import sqlalchemy as sa

from inspector.sync.client import device_token  # the token is sealed at rest (pii.seal_secret)
from inspector.hq import db as D
from inspector.hq import service
from inspector.hq.errors import HQError
from inspector.hq.schemas import (MAX_DEPTH, check_op_data, check_op_row, json_depth, json_depth_over,
                                  parse_json)
from inspector.store import Store
from inspector.sync import sync
from inspector.sync.serialize import serialize
from inspector.util import new_id
from tests.hq_fixtures import *  # noqa: F401,F403
from tests.hq_fixtures import HQServer, enrolled_laptop, make_inspection, pg_url, start_hq

ZH = re.compile(r"[\u4e00-\u9fff]")


@dataclass
class Site:
    hq: HQServer
    store: Store
    token: str
    device_id: str
    rng: random.Random

    def req(self, method: str, path: str, **kw: Any) -> httpx.Response:
        headers = {"Authorization": f"Bearer {self.token}", **kw.pop("headers", {})}
        return httpx.request(method, self.hq.url + path, headers=headers, timeout=60, **kw)


@pytest.fixture(scope="module", params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def site(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory):
    """One HQ (SQLite or a fresh PostgreSQL database) and one enrolled laptop that has synced once."""
    base: Path = tmp_path_factory.mktemp(f"inputs-{request.param}")
    url = None if request.param == "sqlite" else pg_url(request.getfixturevalue("postgresql_proc"))
    hq = start_hq(base / "hq", url)
    store = enrolled_laptop(base / "laptop", hq)
    s = Site(hq, store, device_token(store),
             store.scalar("SELECT device_id FROM sync_enrolment"), random.Random(13))
    make_inspection(s.store, s.rng, photos=0)
    assert sync(store).ok
    yield s
    hq.stop()


def refused(r: httpx.Response, status: int | tuple[int, ...] = 422, *words: str) -> dict[str, Any]:
    """A 4xx in HQ's shape: a Chinese message (naming ``words``) and a code."""
    assert r.status_code in ((status,) if isinstance(status, int) else status), (r.status_code, r.text[:500])
    body = r.json()
    assert isinstance(body.get("code"), str) and ZH.search(body["error"]), body
    for w in words:
        assert w in body["error"], (w, body["error"])
    return body


def hq_state(s: Site) -> tuple[Any, ...]:
    """What a refused request must not change: the device's audit head and the count of HQ's rows."""
    with s.hq.engine.connect() as c:
        counts = tuple(c.execute(sa.select(sa.func.count()).select_from(t)).scalar()
                       for t in (D.inspections, D.findings, D.answers, D.inspection_children, D.audit_entries,
                                 D.applied_ops, D.doc_blocks))
    head = service.audit_head(s.hq.engine, s.device_id)
    return counts, head["seq"], head["hash"], head["status"]


def still_syncs(s: Site) -> None:
    """The laptop's next normal sync goes through, and HQ holds the new inspection."""
    iid = make_inspection(s.store, s.rng, photos=0)
    rep = sync(s.store)
    assert rep.ok and rep.pushed >= 1 and not rep.held, (rep.error, rep.held)
    with s.hq.engine.connect() as c:
        assert c.execute(sa.select(D.inspections.c.id).where(D.inspections.c.id == iid)).first() is not None
    assert service.audit_head(s.hq.engine, s.device_id)["status"] == "ok"


def audit_segment(s: Site) -> dict[str, Any]:
    """A well-formed audit block of this laptop: its head and its last entry."""
    seq, h = s.store.audit_head()
    last = s.store.one("SELECT * FROM audit_log WHERE seq = ?", (seq,))
    last["payload"] = json.loads(last["payload"])
    return {"head": {"seq": seq, "hash": h}, "entries": [last]}


# -- the audit block -------------------------------------------------------------------------------
def test_audit_entry_without_seq_is_refused(site):
    before = hq_state(site)
    seg = audit_segment(site)
    del seg["entries"][0]["seq"]
    body = refused(site.req("POST", "/api/v1/push", json={"ops": [], "audit": seg}), 422, "audit.entries[0].seq", "缺少")
    assert body["code"] == "bad_request" and body["problems"][0]["loc"][-1] == "seq"
    assert hq_state(site) == before
    still_syncs(site)


def test_audit_entries_as_a_string_is_refused(site):
    before = hq_state(site)
    r = site.req("POST", "/api/v1/push", json={"ops": [], "audit": {"entries": "abc", "head": {"seq": 1, "hash": "0" * 64}}})
    refused(r, 422, "audit.entries", "列表")
    assert hq_state(site) == before
    still_syncs(site)


def test_audit_head_seq_that_is_not_a_small_whole_number_is_refused(site):
    before = hq_state(site)
    for seq in ("abc", -1, 2**31, 10**30, 1.5, None, True):
        seg = audit_segment(site)
        seg["head"]["seq"] = seq
        refused(site.req("POST", "/api/v1/push", json={"ops": [], "audit": seg}), 422, "audit.head.seq")
    assert hq_state(site) == before
    still_syncs(site)


def test_audit_entry_hash_that_is_not_a_sha256_is_refused(site):
    seg = audit_segment(site)
    seg["entries"][0]["hash"] = {"not": "a hash"}
    refused(site.req("POST", "/api/v1/push", json={"ops": [], "audit": seg}), 422, "audit.entries[0].hash")
    seg["entries"][0]["hash"] = "Z" * 64
    refused(site.req("POST", "/api/v1/push", json={"ops": [], "audit": seg}), 422, "SHA-256")


def test_the_audit_check_itself_refuses_a_malformed_block_whoever_calls_it(site):
    """service.push called without the route (as the sync bench does) gets a 422 HQError, not a KeyError."""
    dev = service.authenticate(site.hq.engine, f"Bearer {site.token}")
    for audit in ({"entries": [{"hash": "0" * 64}]}, {"entries": "abc"}, {"head": {"seq": "abc", "hash": "x"}}):
        with pytest.raises(HQError) as e:
            service.push(site.hq.engine, site.hq.app.state.hq.blobs, dev, {"ops": [], "audit": audit})
        assert e.value.status == 422 and ZH.search(e.value.message)


# -- JSON itself -----------------------------------------------------------------------------------------
def test_json_nested_100000_deep_is_a_400_on_every_json_route(site):
    before = hq_state(site)
    deep = b"[" * 100_000 + b"]" * 100_000
    for path, body in (("/api/v1/push", b'{"ops": ' + deep + b"}"), ("/api/v1/push", b"[" * 100_000),
                       ("/api/v1/enrol", b'{"code": ' + deep + b"}"), ("/api/v1/certify", deep),
                       ("/api/v1/doc-blocks", b'{"year": ' + b"{\"a\":" * 50_000 + b"1" + b"}" * 50_000 + b"}"),
                       ("/api/v1/blobs/check", b'{"shas": ' + deep + b"}")):
        r = site.req("POST", path, content=body, headers={"Content-Type": "application/json"})
        assert refused(r, 400, "嵌套")["code"] == "json_too_deep", path
    assert hq_state(site) == before
    still_syncs(site)


def test_nesting_bound_is_exact_and_strings_do_not_count():
    ok = b"[" * MAX_DEPTH + b"]" * MAX_DEPTH
    assert not json_depth_over(ok) and parse_json(ok) is not None
    assert json_depth_over(b"[" + ok + b"]")
    assert json_depth_over(b"[" * (MAX_DEPTH + 1))  # unbalanced: still measured
    assert not json_depth_over(b'{"a": "' + b"[" * 10_000 + b'\\"{{"}')  # brackets inside a string
    mixed = [b'[{"a":' * n + b"1" + b"}]" * n for n in (32, 33)]  # arrays and objects alternate: 64, 66 deep
    assert not json_depth_over(mixed[0]) and json_depth_over(mixed[1])
    spaced = [b"[[]," * n + b"1" + b"]" * n for n in (63, 64)]  # no long run of openers: 64, 65 deep
    assert [json_depth(json.loads(x)) for x in spaced] == [64, 65]
    assert not json_depth_over(spaced[0]) and json_depth_over(spaced[1])
    with pytest.raises(HQError) as e:
        parse_json(b'{"a": ' + b"{" * 70_000 + b"}" * 70_000 + b"}")
    assert e.value.status == 400 and e.value.code == "json_too_deep"


def test_json_that_no_database_can_store_is_a_400(site):
    before = hq_state(site)
    for raw in (b'{"ops": [], "audit": {"head": {"seq": NaN, "hash": "x"}}}', b'{"ops": Infinity}',
                b'{"ops": [{"op_id": "\\ud800"}]}', b'{"ops": [', b"\xff\xfe\x00", b"", b"   ",
                '{"ops": [{"op_id": "\\udc00"}]}'.encode("utf-16")):  # UTF-16 would hide the escape from a byte scan
        r = site.req("POST", "/api/v1/push", content=raw, headers={"Content-Type": "application/json"})
        refused(r, (400, 422))
    assert hq_state(site) == before


# -- op envelopes and rows -------------------------------------------------------------------------------
def _real_op(s: Site) -> dict[str, Any]:
    """A genuine upsert op of a new inspection of this laptop (not yet pushed)."""
    iid = make_inspection(s.store, s.rng, photos=0, findings=2)
    body = serialize(s.store, "inspection", iid)
    return {"op_id": new_id(), "entity": "inspection", "entity_id": iid, **body}


def _variant(op: dict[str, Any], change: Any) -> dict[str, Any]:
    v = copy.deepcopy(op)
    v["op_id"], v["entity_id"] = new_id(), new_id()
    v["data"]["row"]["id"] = v["entity_id"]
    change(v["data"])
    return v


BAD_ROWS = {  # what the attack tried, and what PostgreSQL refuses differently from SQLite
    "text column set to an object": lambda d: d["row"].__setitem__("institution_id", {"a": 1}),
    "text column set to a list": lambda d: d["row"].__setitem__("place", [1, 2]),
    "text column set to a number": lambda d: d["row"].__setitem__("status", 5),
    "integer column set to text": lambda d: d["row"].__setitem__("ids_shown", "abc"),
    "integer column set to an object": lambda d: d["row"].__setitem__("revision", {"n": 1}),
    "integer beyond 32 bits": lambda d: d["row"].__setitem__("ids_shown", 2**40),
    "integer beyond 64 bits": lambda d: d["row"].__setitem__("revision", 10**30),
    "integer column set to true": lambda d: d["row"].__setitem__("rights_explained", True),
    "NUL in a text column": lambda d: d["row"].__setitem__("place", "红旗区\x00"),
    "over-long text": lambda d: d["row"].__setitem__("place", "长" * 300_000),
    "over-long id": lambda d: d["row"].__setitem__("task_id", "t" * 500),
    "required column missing": lambda d: d["row"].pop("started_at"),
    "row not an object": lambda d: d.__setitem__("row", [1, 2, 3]),
    "finding amount a list": lambda d: d["findings"][0].__setitem__("amount", [1]),
    "finding amount huge": lambda d: d["findings"][0].__setitem__("amount", 10**400),
    "finding without id": lambda d: d["findings"][0].pop("id"),
    "findings a string": lambda d: d.__setitem__("findings", "abc"),
    "answer value an object": lambda d: d["answers"][0].__setitem__("value", {"v": 1}),
    "children a list": lambda d: d.__setitem__("children", [1]),
    "child row a number": lambda d: d.__setitem__("children", {"signatures": [7]}),
}


def test_rows_that_the_database_cannot_store_are_refused_per_op(site):
    """Every case of BAD_ROWS in one push, between two genuine ops: each bad op is ``bad_row`` with a
    Chinese reason, the genuine ones are applied, nothing of the bad ones reaches HQ's tables."""
    good, good2 = _real_op(site), _real_op(site)
    bad = {case: _variant(good, change) for case, change in BAD_ROWS.items()}
    before = hq_state(site)
    r = site.req("POST", "/api/v1/push", json={"ops": [good, *bad.values(), good2]})
    assert r.status_code == 200, r.text[:500]
    res = r.json()["results"]
    assert [x["op_id"] for x in res] == [good["op_id"], *(b["op_id"] for b in bad.values()), good2["op_id"]]
    assert res[0]["status"] == "applied" and res[-1]["status"] == "applied", (res[0], res[-1])
    for case, x in zip(bad, res[1:-1]):
        assert x["status"] == "error" and x["code"] == "bad_row" and ZH.search(x["error"]), (case, x)
    with site.hq.engine.connect() as c:
        ids = [b["entity_id"] for b in bad.values()]
        assert c.execute(sa.select(D.inspections.c.id).where(D.inspections.c.id.in_(ids))).first() is None
    counts, *head = hq_state(site)
    assert counts[0] == before[0][0] + 2 and tuple(head) == before[1:]
    still_syncs(site)


@pytest.mark.parametrize("case", ["text column set to an object", "integer column set to text", "NUL in a text column"])
def test_a_bad_row_alone_is_refused_per_op(site, case):
    """One bad op on its own (the per-op path rather than the batch path)."""
    bad = _variant(_real_op(site), BAD_ROWS[case])
    r = site.req("POST", "/api/v1/push", json={"ops": [bad]})
    assert r.status_code == 200 and r.json()["results"][0]["code"] == "bad_row", r.text[:500]


def test_op_envelope_of_the_wrong_type_is_a_422(site):
    good = _real_op(site)
    before = hq_state(site)
    for field, value in (("op_id", 123), ("op_id", "x" * 65), ("entity_id", 123), ("entity_id", "e" * 129),
                         ("entity", None), ("op", "explode"), ("data", "abc"), ("blobs", ["not-a-sha"]),
                         ("blobs", "abc")):
        op = {**good, field: value}
        refused(site.req("POST", "/api/v1/push", json={"ops": [good, op]}), 422, f"ops[1].{field}")
    refused(site.req("POST", "/api/v1/push", json={"ops": "abc"}), 422, "ops")
    assert hq_state(site) == before


def test_check_op_row_names_the_field():
    row = {"id": "i1", "institution_id": {"a": 1}, "started_at": "t", "created_at": "t", "updated_at": "t"}
    assert "inspections.institution_id" in check_op_row("inspection", row)
    row["institution_id"] = "inst"
    assert check_op_row("inspection", row) is None
    assert check_op_row("inspection", {**row, "ids_shown": "1"}) is not None
    assert check_op_row("finding", {"id": "f", "inspection_id": "i", "description": "d", "created_at": "t",
                                    "updated_at": "t", "amount": float("inf")}) is not None
    assert check_op_row("no_such_entity", {"x": {}}) is None
    assert check_op_data("inspection", "i1", "delete", None) is None
    assert "row.id" in check_op_data("inspection", "i2", "upsert", {"row": row})


# -- query parameters and small bodies -------------------------------------------------------------------------
def test_changes_refuses_a_cursor_or_page_size_out_of_range(site):
    for params in ({"since": "1e23"}, {"since": str(10**23)}, {"since": str(2**63)}, {"since": -1},
                   {"since": "abc"}, {"limit": -5}, {"limit": 0}, {"limit": 5001}, {"limit": "1e3"}):
        name = next(iter(params))
        refused(site.req("GET", "/api/v1/changes", params=params), 422, f"查询参数 {name}")
    still_syncs(site)


def test_changes_limit_bounds_the_page(site):
    r = site.req("GET", "/api/v1/changes", params={"since": 0, "limit": 1})
    assert r.status_code == 200 and len(r.json()["changes"]) <= 1
    r = site.req("GET", "/api/v1/changes", params={"since": 2**63 - 1})
    assert r.status_code == 200 and r.json()["changes"] == [] and r.json()["more"] is False


def test_doc_blocks_refuses_a_year_out_of_reason(site):
    before = hq_state(site)
    for year in ("abc", 10**30, 10**400, -5, 1e23, 1999, 2101, True, "2026"):
        refused(site.req("POST", "/api/v1/doc-blocks", json={"year": year}), 422, "year")
    refused(site.req("POST", "/api/v1/doc-blocks", json={"agency": {"x": 1}}), 422, "agency")
    assert hq_state(site) == before
    r = site.req("POST", "/api/v1/doc-blocks", json={"year": dt.date.today().year})
    assert r.status_code in (200, 429), r.text[:300]  # granted, or refused by the per-year cap
    still_syncs(site)


def test_enrol_certify_and_blob_check_bodies_are_typed(site):
    before = hq_state(site)
    for path, body, field in (
            ("/api/v1/enrol", {"code": 123, "public_key_pem": "x"}, "code"),
            ("/api/v1/enrol", {"code": "ABCD", "public_key_pem": ["x"]}, "public_key_pem"),
            ("/api/v1/enrol", {"code": "ABCD", "public_key_pem": "x", "device_name": "n" * 500}, "device_name"),
            ("/api/v1/enrol", ["code"], "请求正文"),
            ("/api/v1/certify", {"code": "ABCD", "badge_no": {"b": 1}, "public_key_pem": "x"}, "badge_no"),
            ("/api/v1/certify", {"code": "A\x00B", "badge_no": "B1", "public_key_pem": "x"}, "NUL"),
            ("/api/v1/blobs/check", {"shas": "abc"}, "")):
        refused(site.req("POST", path, json=body), (400, 422), field)
    assert hq_state(site) == before


def test_hq_still_serves_the_laptop_after_every_break(site):
    """Last in the module: after all of the above, the same laptop syncs as usual."""
    still_syncs(site)
    assert sync(site.store).ok


def test_a_control_character_in_the_verify_path_is_a_422(site):
    """PostgreSQL cannot compare text with a NUL in it (psycopg DataError): it must not reach the query."""
    for path in ("/api/v1/verify/%00", "/api/v1/verify/ab%00cd", "/api/v1/verify/a%1f.b.c", "/api/v1/verify/" + "x" * 3000):
        refused(site.req("GET", path), 422, "doc_id")
    r = site.req("GET", "/api/v1/verify/no-such-document")
    assert r.status_code == 200 and r.json()["found"] is False
