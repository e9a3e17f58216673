"""Sync benches, each against a baseline measured in the same run:

- push of N inspections × 10 photos (default 200 × 10 × 2 MB, random bytes) over loopback, vs a raw
  upload of the same bytes to the same server (one PUT per blob, no protocol): ratio = raw / sync
  (target ≥ 0.5)
- a second sync with nothing new (target < 0.5 s), vs one bare round trip
- resume after the HQ process is killed half-way: bytes re-sent (target ≤ one blob)
- HQ ingest of inspections on PostgreSQL (service.push, no HTTP), vs bare INSERTs of the same rows
  (target ≥ 300 inspections/s)

Env: INSPECTOR_BENCH_SYNC_N (inspections, 200), INSPECTOR_BENCH_SYNC_PHOTO_MB (2), to scale down.
"""
from __future__ import annotations

import os
import random
import shutil
import signal
import subprocess
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx

from inspector.sync.client import device_token  # the token is sealed at rest (pii.seal_secret)
from inspector.hq import db as D
from inspector.hq import service
from inspector.store import Store
from inspector.util import dumps, new_id, now_iso

N = int(os.environ.get("INSPECTOR_BENCH_SYNC_N", "200"))
PHOTOS = 10
PHOTO_BYTES = int(float(os.environ.get("INSPECTOR_BENCH_SYNC_PHOTO_MB", "2")) * 1024 * 1024)


def _fill(store: Store, n: int, rng: random.Random, base: bytes) -> list[str]:
    """n inspections with answers, a finding and PHOTOS photos each (unique bytes per photo)."""
    import hashlib

    from tests.hq_fixtures import PHOTOS_DDL, ensure_base, insert_adaptive

    inst, cv = ensure_base(store)
    root = store.home / "blobs"

    def put(data: bytes) -> str:  # setup, not measured: the blob layout without BlobStore's fsyncs
        sha = hashlib.sha256(data).hexdigest()
        p = root / sha[:2] / sha[2:4] / sha
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_bytes(data)
        return sha

    shas = []
    ts = now_iso()
    for i in range(n):
        iid = new_id()
        with store.tx() as db:
            db.execute(PHOTOS_DDL)
            db["inspections"].insert({"id": iid, "institution_id": inst, "started_at": ts, "created_at": ts,
                                      "updated_at": ts, "checklist_version_ids": dumps([cv])})
            db["answers"].insert_all({"inspection_id": iid, "checklist_version_id": cv, "item_id": f"T-{j}",
                                      "value": dumps(rng.choice(["pass", "fail"])), "updated_at": ts}
                                     for j in range(10))
            db["findings"].insert({"id": new_id(), "inspection_id": iid, "description": "教师资格证缺失",
                                   "codes": dumps(["PX-YB-3"]), "created_at": ts, "updated_at": ts})
            store.log("inspection", iid, "start", {"institution_id": inst})
            for k in range(PHOTOS):
                data = f"{i:06d}-{k:03d}-".encode() + base[11:]
                sha = put(data)
                shas.append(sha)
                pid = new_id()
                insert_adaptive(store, "photos", {"id": pid, "inspection_id": iid, "sha256": sha,
                                                  "caption": "现场", "created_at": ts})
                store.log("photo", pid, "add", {"sha256": sha})
    return shas


def _enrol(store: Store, url: str, home: Path, badge: str) -> None:
    from inspector.hq.config import HQConfig
    from inspector.sync import enrol

    cfg = HQConfig.load(home)
    eng = D.make_engine(cfg.url)
    code = service.make_enrol_code(eng, cfg, badge, name="基准")["code"]
    eng.dispose()
    enrol(store, url, code, badge_no=badge, passphrase="bench-pass")


def _push_rows(tmp: Path) -> list[dict[str, Any]]:
    from inspector.hq.admin import init_home
    from inspector.sync import sync
    from tests.hq_fixtures import free_port, serve_process

    rng = random.Random(1)
    base = os.urandom(PHOTO_BYTES)
    hq_home = tmp / "hq"
    init_home(hq_home, admin_password="bench-pass-1")
    port = free_port()
    proc = serve_process(hq_home, port)
    url = f"http://127.0.0.1:{port}"
    rows = []
    try:
        store = Store(tmp / "laptop" / "inspector.db")
        _enrol(store, url, hq_home, "BENCH1")
        shas = _fill(store, N, rng, base)
        total = len(shas) * PHOTO_BYTES
        # baseline: the same bytes, one raw PUT each, then wipe them so the sync uploads everything again
        tok = device_token(store)
        with httpx.Client(base_url=url, headers={"Authorization": f"Bearer {tok}"}, timeout=120) as c:
            t0 = time.perf_counter()
            for sha in shas:
                p = store.home / "blobs" / sha[:2] / sha[2:4] / sha
                r = c.put(f"/api/v1/blobs/{sha}", content=p.read_bytes())
                assert r.status_code == 200 and r.json()["complete"], r.text
            raw = time.perf_counter() - t0
        shutil.rmtree(hq_home / "blobs")
        t0 = time.perf_counter()
        rep = sync(store)
        ours = time.perf_counter() - t0
        assert rep.ok and rep.blobs_uploaded == len(shas), rep.error
        rows.append({"name": f"push {N} inspections × {PHOTOS} photos × {PHOTO_BYTES / 2**20:.1f} MB over loopback",
                     "seconds": ours, "baseline": "raw PUT of the same bytes, same server",
                     "baseline_seconds": raw, "ratio": raw / ours, "target": "≥ 0.5 (raw/sync)",
                     "note": f"{total / 2**20 / ours:.0f} MB/s sync vs {total / 2**20 / raw:.0f} MB/s raw"})
        t0 = time.perf_counter()
        rep2 = sync(store)
        again = time.perf_counter() - t0
        t0 = time.perf_counter()
        httpx.get(url + "/api/v1/health")
        rt = time.perf_counter() - t0
        assert rep2.ok and rep2.pushed == 0
        rows.append({"name": "second sync with nothing new", "seconds": again, "baseline": "one bare round trip",
                     "baseline_seconds": rt, "ratio": again / rt, "target": "< 0.5 s"})
        store.close()
    finally:
        proc.kill()
        proc.wait()
    return rows


def _resume_row(tmp: Path) -> dict[str, Any]:
    """Kill HQ when half the bytes are sent; restart; sync again; count bytes sent twice."""
    from inspector.hq.admin import init_home
    from inspector.sync import sync
    from tests.hq_fixtures import free_port, serve_process

    n = max(2, min(N, 20))
    hq_home = tmp / "hq-resume"
    init_home(hq_home, admin_password="bench-pass-1")
    port = free_port()
    proc = serve_process(hq_home, port)
    store = Store(tmp / "laptop-resume" / "inspector.db")
    _enrol(store, f"http://127.0.0.1:{port}", hq_home, "BENCH2")
    shas = _fill(store, n, random.Random(2), os.urandom(PHOTO_BYTES))
    total = len(shas) * PHOTO_BYTES
    killed = {}

    def prog(ev: dict[str, Any]) -> None:
        if not killed and ev.get("bytes", 0) >= total // 2 + PHOTO_BYTES // 3:
            killed["at"] = ev["bytes"]
            proc.send_signal(signal.SIGKILL)

    rep1 = sync(store, progress=prog)
    proc.wait()
    proc2 = serve_process(hq_home, port)
    try:
        t0 = time.perf_counter()
        rep2 = sync(store)
        secs = time.perf_counter() - t0
    finally:
        proc2.kill()
        proc2.wait()
    assert not rep1.ok and rep2.ok, (rep1.error, rep2.error)
    resent = rep1.bytes_uploaded + rep2.bytes_uploaded - total
    store.close()
    return {"name": f"resume after HQ killed half-way ({n}×{PHOTOS} photos)", "seconds": secs,
            "baseline": "one blob (the one in flight)", "baseline_seconds": None,
            "ratio": resent / PHOTO_BYTES, "target": "≤ 1 blob re-sent",
            "note": f"re-sent {resent} bytes of {total} (killed at {killed.get('at')} bytes; chunk 1 MiB)"}


def _pg(tmp: Path) -> tuple[str, Any]:
    """A throwaway PostgreSQL cluster (as user postgres when running as root); returns (url, stop)."""
    from tests.hq_fixtures import PG_BIN, free_port

    if PG_BIN is None:
        raise RuntimeError("no PostgreSQL binaries")
    data = Path(tempfile.mkdtemp(prefix="bench-pg-", dir="/var/tmp"))
    port = free_port()
    pre: list[str] = []
    if os.geteuid() == 0:
        shutil.chown(data, "postgres", "postgres")
        pre = ["runuser", "-u", "postgres", "--"]
    run = lambda *a: subprocess.run(pre + [os.path.join(PG_BIN, a[0]), *a[1:]], check=True,  # noqa: E731
                                    stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, cwd="/tmp")
    run("initdb", "-D", str(data / "db"), "-U", "postgres", "--auth=trust")
    run("pg_ctl", "start", "-w", "-D", str(data / "db"), "-l", str(data / "log"),
        "-o", f"-p {port} -c unix_socket_directories=/tmp -c fsync=on")

    def stop() -> None:
        run("pg_ctl", "stop", "-m", "fast", "-D", str(data / "db"))
        shutil.rmtree(data, ignore_errors=True)

    return f"postgresql://postgres@127.0.0.1:{port}/postgres", stop


def _ingest_row(tmp: Path) -> dict[str, Any]:
    import sqlalchemy as sa

    from inspector.hq.blobs import HQBlobs
    from inspector.hq.config import normalise_db_url

    url, stop = _pg(tmp)
    try:
        eng = D.make_engine(normalise_db_url(url))
        D.create_schema(eng)
        with D.write(eng) as c:
            c.execute(D.devices.insert().values(id="dev", badge_no="B", token_hash="x", created_at=now_iso(),
                                                expires_at="2100-01-01T00:00:00+00:00"))
        dev = service.Device("dev", None, "B")
        rng = random.Random(3)
        n, batch = 2000, 100
        ts = now_iso()

        def op() -> dict[str, Any]:
            iid = new_id()
            row = {"id": iid, "revision": 1, "institution_id": "inst", "status": "finished", "started_at": ts,
                   "inspector_ids": dumps(["a", "b"]), "checklist_version_ids": dumps(["training@1"]),
                   "person_in_charge": dumps({"name": "王"}), "created_at": ts, "updated_at": ts}
            return {"op_id": new_id(), "entity": "inspection", "entity_id": iid, "op": "upsert", "data": {
                "row": row,
                "answers": [{"checklist_version_id": "training@1", "item_id": f"T-{j}",
                             "value": dumps(rng.choice(["pass", "fail"])), "updated_at": ts} for j in range(10)],
                "findings": [{"id": new_id(), "inspection_id": iid, "description": "问题", "codes": "[]",
                              "created_at": ts, "updated_at": ts} for _ in range(2)]}}

        ops = [op() for _ in range(n)]
        blobs = HQBlobs(tmp / "ingest-blobs")
        t0 = time.perf_counter()
        for i in range(0, n, batch):
            res = service.push(eng, blobs, dev, {"ops": ops[i:i + batch]})
            assert all(r["status"] == "applied" for r in res["results"])
        ours = time.perf_counter() - t0
        # baseline: the same rows as bare INSERTs into scratch copies of the tables
        meta = sa.MetaData()
        copies = {t.name: t.to_metadata(meta, name=f"bare_{t.name}") for t in (D.inspections, D.answers, D.findings)}
        for t in copies.values():  # drop unique indexes the copy inherited under the same names
            t.indexes.clear()
        meta.create_all(eng)
        t0 = time.perf_counter()
        for i in range(0, n, batch):
            with D.write(eng) as c:
                part = ops[i:i + batch]
                c.execute(copies["inspections"].insert(), [service.split_row(D.inspections, o["data"]["row"])
                                                           for o in part])
                c.execute(copies["answers"].insert(), [service.split_row(D.answers, {**a, "inspection_id": o["entity_id"]})
                                                       for o in part for a in o["data"]["answers"]])
                c.execute(copies["findings"].insert(), [service.split_row(D.findings, f) for o in part
                                                        for f in o["data"]["findings"]])
        bare = time.perf_counter() - t0
        eng.dispose()
    finally:
        stop()
    return {"name": f"HQ ingest of {n} inspections on PostgreSQL (10 answers, 2 findings each)",
            "seconds": ours, "baseline": "bare INSERTs of the same rows", "baseline_seconds": bare,
            "ratio": ours / bare, "target": "≥ 300 inspections/s", "note": f"{n / ours:.0f} inspections/s"}


def run() -> list[dict[str, Any]]:
    tmp = Path(tempfile.mkdtemp(prefix="bench-sync-"))
    rows: list[dict[str, Any]] = []
    try:
        for part in (_ingest_row, _resume_row, _push_rows):
            try:
                got = part(tmp)
            except Exception as e:  # one broken part must not hide the others
                got = {"name": f"{part.__name__}: FAILED", "note": repr(e)}
            rows.extend(got if isinstance(got, list) else [got])
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return rows
