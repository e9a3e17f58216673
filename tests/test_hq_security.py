"""Every HQ route but the explicitly public ones refuses a missing, wrong, expired or revoked
token; blobs are kept only when their bytes match their hash; oversized requests get 413."""
from __future__ import annotations

import datetime as dt
import hashlib
import os
import re
import tempfile
from pathlib import Path

import httpx
import pytest

from inspector.sync.client import device_token  # the token is sealed at rest (pii.seal_secret)
from inspector.hq import db as D
from inspector.hq import service
from inspector.hq.app import create_app
from inspector.hq.auth import PUBLIC_PATHS, all_routes
from inspector.hq.config import HQConfig
from tests.hq_fixtures import *  # noqa: F401,F403
from tests.hq_fixtures import enrolled_laptop, start_hq

SHA = "ab" * 32


# pages of the web console that need no login (its own helper's design; listed here on purpose)
CONSOLE_PUBLIC = {"/console/static", "/console/login", "/v/{token}", "/verify"}


def _routes() -> tuple[list[tuple[str, str]], list[tuple[str, str]]]:
    """(device-token API routes, staff routes): every route of the app but the public ones."""
    with tempfile.TemporaryDirectory() as d:
        app = create_app(HQConfig(home=Path(d)))
        api, staff = [], []
        for path, methods in all_routes(app):
            if path in PUBLIC_PATHS or path in CONSOLE_PUBLIC:
                continue
            for m in sorted(methods):
                (api if path.startswith("/api/") else staff).append((m, path))
        app.state.hq.engine.dispose()
    return api, staff


ROUTES, STAFF_ROUTES = _routes()


def test_the_public_list_is_short_and_explicit():
    assert {"/openapi.json", "/docs", "/docs/oauth2-redirect", "/redoc", "/api/v1/health",
            "/api/v1/enrol", "/api/v1/verify/{doc_id}", "/api/v1/verify"} <= PUBLIC_PATHS
    assert len(ROUTES) >= 10  # sync, pull, blobs, doc blocks…
    # the co-inspector certificate route is token-only (each case below runs against it too)
    assert ("POST", "/api/v1/certify") in ROUTES and "/api/v1/certify" not in PUBLIC_PATHS


def _url(base: str, path: str) -> str:
    fill = {"sha": SHA, "year": "2026", "row": "1"}
    return base + re.sub(r"\{(\w+)\}", lambda m: fill.get(m.group(1), "x"), path)


@pytest.fixture(scope="module")
def secured(tmp_path_factory):
    """One HQ (SQLite) with a live device, a revoked one and an expired one."""
    base = tmp_path_factory.mktemp("sec")
    hq = start_hq(base / "hq")
    live = enrolled_laptop(base / "live", hq, badge="B001")
    revoked = enrolled_laptop(base / "revoked", hq, badge="B002", name="李四")
    expired = enrolled_laptop(base / "expired", hq, badge="B003", name="王五")
    service.revoke_device(hq.engine, revoked.scalar("SELECT device_id FROM sync_enrolment"))
    with D.write(hq.engine) as c:
        c.execute(D.devices.update().where(D.devices.c.id == expired.scalar("SELECT device_id FROM sync_enrolment"))
                  .values(expires_at=(dt.datetime.now(dt.timezone.utc) - dt.timedelta(days=1)).isoformat()))
    tokens = {s: device_token(st) for s, st in
              (("live", live), ("revoked", revoked), ("expired", expired))}
    yield hq, tokens
    hq.stop()


CASES = {
    "missing": (None, 401, "token_missing"),
    "garbage": ("Bearer not-a-token", 401, "token_invalid"),
    "wrong_secret": ("WRONG", 401, "token_invalid"),
    "revoked": ("revoked", 403, "device_revoked"),
    "expired": ("expired", 401, "token_expired"),
}


@pytest.mark.parametrize("method,path", ROUTES, ids=[f"{m} {p}" for m, p in ROUTES])
@pytest.mark.parametrize("case", list(CASES))
def test_every_route_refuses_bad_tokens(secured, method, path, case):
    hq, tokens = secured
    spec, status, code = CASES[case]
    headers = {}
    if spec == "WRONG":
        headers["Authorization"] = "Bearer " + tokens["live"].split(".")[0] + ".wrongsecret"
    elif spec in tokens:
        headers["Authorization"] = "Bearer " + tokens[spec]
    elif spec:
        headers["Authorization"] = spec
    r = httpx.request(method, _url(hq.url, path), headers=headers, content=b"{}",
                      params={"total": 2, "offset": 0})
    assert r.status_code == status
    if method != "HEAD":
        body = r.json()
        assert body["code"] == code and re.search(r"[\u4e00-\u9fff]", body["error"])


@pytest.mark.parametrize("method,path", STAFF_ROUTES, ids=[f"{m} {p}" for m, p in STAFF_ROUTES])
@pytest.mark.parametrize("case", ["missing", "garbage", "live", "revoked"])
def test_every_staff_route_refuses_without_a_login_even_with_a_device_token(secured, method, path, case):
    hq, tokens = secured
    headers = {"Authorization": "Bearer " + tokens[case]} if case in tokens else (
        {"Authorization": "Bearer x.y"} if case == "garbage" else {})
    r = httpx.request(method, _url(hq.url, path), headers=headers, follow_redirects=False)
    assert r.status_code in (401, 403) or (r.status_code == 303 and "/console/login" in r.headers["location"])


def test_a_live_token_gets_through(secured):
    hq, tokens = secured
    r = httpx.get(hq.url + "/api/v1/sync/state", headers={"Authorization": "Bearer " + tokens["live"]})
    assert r.status_code == 200 and r.json()["audit"]["seq"] == 0


def test_revocation_works_at_once_from_the_command_line(tmp_path):
    from inspector.hq.cli import main
    from inspector.sync import sync

    hq = start_hq(tmp_path / "hq")
    try:
        store = enrolled_laptop(tmp_path / "laptop", hq)
        assert sync(store).ok
        dev = store.scalar("SELECT device_id FROM sync_enrolment")
        assert main(["--home", str(tmp_path / "hq"), "devices", "revoke", dev]) == 0
        rep = sync(store)
        assert not rep.ok and "吊销" in rep.error and "没有丢失" in rep.error
    finally:
        hq.stop()


def _auth(tokens):
    return {"Authorization": "Bearer " + tokens["live"]}


def test_blob_with_wrong_bytes_is_refused_and_nothing_kept(secured):
    hq, tokens = secured
    data = os.urandom(5000)
    sha = hashlib.sha256(b"something else").hexdigest()
    r = httpx.patch(f"{hq.url}/api/v1/blobs/{sha}", params={"offset": 0, "total": len(data)}, content=data,
                    headers=_auth(tokens))
    assert r.status_code == 422 and r.json()["code"] == "blob_hash_mismatch"
    assert not hq.app.state.hq.blobs.path(sha).exists() and hq.app.state.hq.blobs.partials(sha) == []
    st = httpx.get(f"{hq.url}/api/v1/blobs/{sha}/status", headers=_auth(tokens)).json()
    assert st == {"sha256": sha, "complete": False, "offset": 0}
    # the same via a whole-file PUT
    r = httpx.put(f"{hq.url}/api/v1/blobs/{sha}", content=data, headers=_auth(tokens))
    assert r.status_code == 422


def test_blob_upload_resumes_from_the_offset_hq_holds(secured):
    hq, tokens = secured
    data = os.urandom(10000)
    sha = hashlib.sha256(data).hexdigest()
    u = f"{hq.url}/api/v1/blobs/{sha}"
    r = httpx.patch(u, params={"offset": 0, "total": len(data)}, content=data[:4000], headers=_auth(tokens))
    assert r.json() == {"sha256": sha, "complete": False, "offset": 4000}
    assert httpx.head(u, headers=_auth(tokens)).headers["Upload-Offset"] == "4000"
    r = httpx.patch(u, params={"offset": 1000, "total": len(data)}, content=data[1000:], headers=_auth(tokens))
    assert r.status_code == 409 and r.json()["offset"] == 4000
    r = httpx.patch(u, params={"offset": 4000, "total": len(data)}, content=data[4000:], headers=_auth(tokens))
    assert r.json()["complete"] is True
    assert hq.app.state.hq.blobs.path(sha).read_bytes() == data
    # a file no record of this device names is not readable back through the API (docs/ownership.md)
    assert httpx.get(u, headers=_auth(tokens)).status_code == 404


def test_request_over_the_size_limit_gets_a_clear_413(tmp_path):
    hq = start_hq(tmp_path / "hq", max_body=64 * 1024)
    try:
        store = enrolled_laptop(tmp_path / "laptop", hq)
        h = {"Authorization": "Bearer " + device_token(store)}
        big = b"x" * (100 * 1024)
        r = httpx.post(hq.url + "/api/v1/push", content=big, headers=h)
        assert r.status_code == 413
        body = r.json()
        assert body["code"] == "too_large" and "上限" in body["error"] and body["limit"] == 64 * 1024

        def chunks():  # no Content-Length: counted as it streams
            for _ in range(10):
                yield b"y" * (16 * 1024)
        r = httpx.post(hq.url + "/api/v1/push", content=chunks(), headers=h)
        assert r.status_code == 413 and r.json()["code"] == "too_large"
        # the sync client keeps under the limit by splitting blobs into chunks
        from tests.hq_fixtures import add_photo, ensure_base
        from inspector.store import visits
        import random
        inst, cv = ensure_base(store)
        iid = visits.start_inspection(store, inst, checklist_version_ids=[cv])
        add_photo(store, iid, random.Random(1).randbytes(200 * 1024))
        from inspector.sync import sync
        rep = sync(store)
        assert rep.ok and rep.blobs_uploaded == 1
    finally:
        hq.stop()


def test_enrolment_code_expires(tmp_path):
    hq = start_hq(tmp_path / "hq")
    try:
        code = service.make_enrol_code(hq.engine, hq.cfg, "B001", name="张三", minutes=1)["code"]
        with D.write(hq.engine) as c:
            c.execute(D.enrol_codes.update().values(expires_at="2000-01-01T00:00:00+00:00"))
        r = httpx.post(hq.url + "/api/v1/enrol", json={"code": code, "public_key_pem": "x"})
        assert r.status_code == 401 and r.json()["code"] == "code_expired"
        r = httpx.post(hq.url + "/api/v1/enrol", json={"code": "AAAA-BBBB-CCCC", "public_key_pem": "x"})
        assert r.status_code == 401 and r.json()["code"] == "code_invalid"
    finally:
        hq.stop()


def test_openapi_is_served_and_lists_the_sync_routes(secured):
    hq, _ = secured
    spec = httpx.get(hq.url + "/openapi.json").json()
    assert {"/api/v1/push", "/api/v1/changes", "/api/v1/enrol", "/api/v1/blobs/{sha}"} <= set(spec["paths"])
