"""Two real HQ worker processes (``inspector-hq serve``) on one database race on the same blob
upload: chunks of one device's upload sent to both at the same moment, and two devices uploading
the same blob through different workers. Nothing in process memory coordinates them (issue 13,
item 6): the stored blob must be exactly right, no request may be refused as corrupt, and no
partial or temporary file may be left. On PostgreSQL (the deployment) and on SQLite."""
from __future__ import annotations

import hashlib
import os
import subprocess
import sys
import threading
import time
from pathlib import Path
from types import SimpleNamespace

import httpx
import pytest
import sqlalchemy as sa

from inspector.sync.client import device_token  # the token is sealed at rest (pii.seal_secret)
from inspector.hq import db as D
from inspector.hq.admin import init_home
from inspector.hq.config import HQConfig
from tests.hq_fixtures import *  # noqa: F401,F403
from tests.hq_fixtures import enrolled_laptop, free_port

CHUNK = 16 * 1024


@pytest.fixture
def workers(tmp_path: Path, hq_db: str | None):
    """Two HQ processes sharing one home folder (blobs) and one database."""
    home = tmp_path / "hq"
    init_home(home, db_url=hq_db, admin_password="admin-pass-1")
    ports = [free_port(), free_port()]
    procs: list = [None, None]

    failed: list[BaseException] = []

    def start(i: int) -> None:  # both at once: each takes seconds to import and bind
        try:
            procs[i], ports[i] = _serve(home, ports[i], hq_db, tmp_path / f"worker{i}.log")
        except BaseException as e:  # re-raised below, with the worker's log
            failed.append(e)

    ts = [threading.Thread(target=start, args=(i,)) for i in (0, 1)]
    for t in ts:
        t.start()
    for t in ts:
        t.join(400)
    if failed or not all(procs):
        for p in procs:
            if p is not None:
                p.kill()
        raise failed[0] if failed else RuntimeError("an HQ worker did not start")
    cfg = HQConfig.load(home, db_url=hq_db)
    engine = D.make_engine(cfg.url)
    try:
        yield SimpleNamespace(cfg=cfg, engine=engine, urls=[f"http://127.0.0.1:{p}" for p in ports], home=home)
    finally:
        for p in procs:
            if p is not None:
                p.terminate()
        for p in procs:
            if p is not None:
                p.wait(10)
        engine.dispose()


def _serve(home: Path, port: int, db_url: str | None, log: Path) -> tuple[subprocess.Popen, int]:
    """``inspector-hq serve`` as its own process (like ``serve_process``), its stderr kept so a
    worker that does not start says why; a port taken meanwhile is retried on another."""
    for _attempt in range(3):
        cmd = [sys.executable, "-m", "inspector.hq.cli", "--home", str(home), "serve", "--port", str(port),
               "--log-level", "warning"] + (["--db", db_url] if db_url else [])
        with open(log, "wb") as err:
            p = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=err)
        deadline = time.monotonic() + 120  # a loaded 2-core machine imports slowly
        while time.monotonic() < deadline and p.poll() is None:
            try:
                if httpx.get(f"http://127.0.0.1:{port}/api/v1/health", timeout=2).status_code == 200:
                    return p, port
            except httpx.HTTPError:
                time.sleep(0.1)
        p.kill()
        p.wait(10)
        if b"address already in use" not in log.read_bytes():
            break
        port = free_port()
    raise RuntimeError(f"HQ worker did not start:\n{log.read_text(errors='replace')[-3000:]}")


def _token(tmp_path: Path, w, badge: str, name: str) -> dict[str, str]:
    hq = SimpleNamespace(engine=w.engine, cfg=w.cfg, url=w.urls[0])
    store = enrolled_laptop(tmp_path / badge, hq, badge=badge, name=name)
    return {"Authorization": "Bearer " + device_token(store)}


def _racer(url: str, headers: dict[str, str], sha: str, data: bytes, start: threading.Barrier,
           step: threading.Barrier | None, seen: list[tuple[int, str | None]]) -> None:
    """Upload ``data`` through one worker, resuming from whatever HQ says. With ``step``, wait for the
    other racer before every chunk so both send the same offset at the same moment."""
    with httpx.Client(base_url=url, headers=headers, timeout=60) as c:
        start.wait()
        offset = 0
        for _ in range(10 * (len(data) // CHUNK + 2)):
            if step is not None:
                try:
                    step.wait(timeout=30)
                except threading.BrokenBarrierError:
                    step = None  # the other racer is done
            r = c.patch(f"/api/v1/blobs/{sha}", params={"offset": offset, "total": len(data)},
                        content=data[offset:offset + CHUNK])
            try:
                body = r.json()
            except ValueError:  # a crash answers plain text
                body = {"code": r.text[:200]}
            seen.append((r.status_code, body.get("code")))
            if r.status_code == 200:
                if body["complete"]:
                    break
                offset = body["offset"]
            elif r.status_code == 409 and body["code"] == "offset_mismatch":
                offset = body["offset"]
            elif r.status_code == 409 and body["code"] == "blob_exists":
                break
            else:
                raise AssertionError(f"{url}: {r.status_code} {body}")
        if step is not None:
            step.abort()


def _assert_clean(w, sha: str, data: bytes) -> None:
    blob = w.cfg.blob_dir / sha[:2] / sha[2:4] / sha
    assert blob.read_bytes() == data
    for d in ("partial", "incoming"):
        p = w.cfg.blob_dir / d
        assert not (list(p.iterdir()) if p.exists() else []), d
    with w.engine.connect() as c:
        assert c.execute(sa.select(D.uploads)).all() == []


def test_two_workers_racing_on_the_same_uploads_store_every_blob_intact(tmp_path, workers):
    w = workers
    h = _token(tmp_path, w, "B001", "张三")
    for round_ in range(2):
        data = os.urandom(CHUNK * 12 + 1234 + round_)
        sha = hashlib.sha256(data).hexdigest()
        start, step = threading.Barrier(2), threading.Barrier(2)
        seen: list[list[tuple[int, str | None]]] = [[], []]
        errors: list[BaseException] = []

        def run(i: int) -> None:
            try:
                _racer(w.urls[i], h, sha, data, start, step, seen[i])
            except BaseException as e:  # reported below
                errors.append(e)
                step.abort()

        ts = [threading.Thread(target=run, args=(i,)) for i in (0, 1)]
        for t in ts:
            t.start()
        for t in ts:
            t.join(120)
        assert not errors, errors
        codes = {c for s in seen for c in s}
        assert all(st in (200, 409) for st, _ in codes), codes   # never a 422 (corrupt) nor a 5xx
        assert (409, "offset_mismatch") in codes                   # they did collide
        _assert_clean(w, sha, data)
    # two devices upload the same blob, one through each worker: each its own partial, one blob
    ha, hb = h, _token(tmp_path, w, "B002", "李四")
    data = os.urandom(CHUNK * 10 + 77)
    sha = hashlib.sha256(data).hexdigest()
    start = threading.Barrier(2)
    seen = [[], []]
    errors = []

    def run2(i: int, hdr: dict[str, str]) -> None:
        try:
            _racer(w.urls[i], hdr, sha, data, start, None, seen[i])
        except BaseException as e:  # reported below
            errors.append(e)

    ts = [threading.Thread(target=run2, args=(0, ha)), threading.Thread(target=run2, args=(1, hb))]
    for t in ts:
        t.start()
    for t in ts:
        t.join(120)
    assert not errors, errors
    assert all(st in (200, 409) for s in seen for st, _ in s)
    _assert_clean(w, sha, data)
