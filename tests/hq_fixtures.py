"""Fixtures for HQ and sync tests: a real HQ server (uvicorn on 127.0.0.1, free port) on
SQLite or on a real PostgreSQL (pytest-postgresql + Debian's binaries), enrolled laptops,
test data, canonical dumps of both sides, and a TCP proxy that cuts connections.

Import what a test module needs: ``from tests.hq_fixtures import *``.
"""
from __future__ import annotations

import glob
import json
import os
import random
import shutil
import socket
import stat
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path
from typing import Any

import pytest

from inspector.hq import db as D
from inspector.hq import service
from inspector.hq.admin import init_home
from inspector.hq.app import create_app
from inspector.hq.config import HQConfig
from inspector.store import Store
from inspector.util import new_id, now_iso

__all__ = ["hq_db", "hq", "postgresql_proc", "HQServer", "free_port", "enrolled_laptop", "make_inspection",
           "laptop_dump", "hq_dump", "CutProxy", "PG_BIN", "pg_url", "start_hq"]

PASSPHRASE = "secret-pass-1"


# -- PostgreSQL -------------------------------------------------------------------------------------
def _pg_bin() -> str | None:
    try:
        d = subprocess.run(["pg_config", "--bindir"], capture_output=True, text=True, check=True).stdout.strip()
        if os.path.exists(os.path.join(d, "pg_ctl")):
            return d
    except (OSError, subprocess.CalledProcessError):
        pass
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/pg_ctl"))
    return os.path.dirname(found[-1]) if found else None


PG_BIN = _pg_bin()


_WRAPPER = r"""#!{python}
# pg_ctl for pytest-postgresql when running as root: initdb/postgres refuse root, so run as
# 'postgres'; and keep the data folder outside pytest's temp tree, which concurrent pytest
# sessions prune (it would vanish under a running server).
import hashlib, os, pwd, shutil, subprocess, sys, time
REAL = {real!r}
ROOT = "/var/tmp/inspector-pytest-pg"
pg = pwd.getpwnam("postgres")
args = sys.argv[1:]
def mapped(p):
    d = os.path.join(ROOT, hashlib.sha1(os.path.abspath(p).encode()).hexdigest()[:16])
    return d
out, prev, data = [], None, None
for a in args:
    if prev in ("-D", "--pgdata"):
        os.makedirs(a, exist_ok=True)  # pytest-postgresql checks that its own path exists
        data = mapped(a)
        a = data
    elif prev in ("-l", "--log"):
        a = mapped(a) + ".log"
        os.makedirs(ROOT, exist_ok=True)
        open(a, "a").close()
        os.chown(a, pg.pw_uid, pg.pw_gid)
    out.append(a)
    prev = a if a in ("-D", "--pgdata", "-l", "--log") else None
os.makedirs(ROOT, exist_ok=True)
os.chmod(ROOT, 0o755)

def alive(pid):
    try:
        os.kill(pid, 0)
        return True
    except ProcessLookupError:
        return False
    except PermissionError:
        return True

if args and args[0] == "start":
    # servers of test sessions that were killed (no teardown ran) are stopped here
    for f in os.listdir(ROOT):
        if f.endswith(".owner"):
            d = os.path.join(ROOT, f[:-6])
            try:
                pid = int(open(os.path.join(ROOT, f)).read().strip() or 0)
            except (OSError, ValueError):
                continue
            if pid and not alive(pid) and d != data:
                subprocess.call(["runuser", "-u", "postgres", "--", REAL, "stop", "-m", "immediate", "-D", d],
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, cwd="/tmp")
                shutil.rmtree(d, ignore_errors=True)
                os.unlink(os.path.join(ROOT, f))
    if data and os.environ.get("INSPECTOR_PG_OWNER"):
        open(data + ".owner", "w").write(os.environ["INSPECTOR_PG_OWNER"])
if args and args[0] == "initdb" and data:
    shutil.rmtree(data, ignore_errors=True)
    os.makedirs(data, mode=0o700)
    os.chown(data, pg.pw_uid, pg.pw_gid)
rc = subprocess.call(["runuser", "-u", "postgres", "--", REAL] + out, cwd="/tmp")
if args and args[0] == "stop" and data and rc == 0:
    shutil.rmtree(data, ignore_errors=True)
    for extra in (data + ".owner",):
        if os.path.exists(extra):
            os.unlink(extra)
    for f in os.listdir(ROOT):  # logs of servers that are gone
        lp = os.path.join(ROOT, f)
        if f.endswith(".log") and not os.path.exists(os.path.join(ROOT, f[:-4], "postmaster.pid")) \
                and time.time() - os.path.getmtime(lp) > 120:
            try:
                os.unlink(os.path.join(ROOT, f))
            except OSError:
                pass
sys.exit(rc)
"""


def _pg_ctl_executable() -> str | None:
    """pg_ctl, or as root a wrapper that runs it as the ``postgres`` user (initdb refuses root)."""
    if PG_BIN is None:
        return None
    real = os.path.join(PG_BIN, "pg_ctl")
    if os.geteuid() != 0:
        return real
    d = Path("/var/tmp/inspector-pgctl")
    d.mkdir(mode=0o755, exist_ok=True)
    w = d / f"pg_ctl-{os.getpid()}"
    w.write_text(_WRAPPER.format(python=sys.executable, real=real))
    w.chmod(0o755)
    stable = d / "pg_ctl"
    os.replace(w, stable)  # same content from every session; atomic for concurrent ones
    return str(stable)


os.environ.setdefault("INSPECTOR_PG_OWNER", str(os.getpid()))  # lets a later session stop our leftovers

if PG_BIN:
    from pytest_postgresql import factories

    postgresql_proc = factories.postgresql_proc(executable=_pg_ctl_executable(), unixsocketdir="/tmp")
else:  # pragma: no cover
    @pytest.fixture(scope="session")
    def postgresql_proc() -> None:
        pytest.skip("!!! NO POSTGRESQL BINARIES FOUND (pg_config / /usr/lib/postgresql/*/bin/pg_ctl): "
                    "the PostgreSQL half of the HQ tests did NOT run !!!")


def pg_url(proc: Any) -> str:
    """A fresh database on the running server; returns its URL."""
    import psycopg

    name = f"hq_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(host=proc.host, port=proc.port, user=proc.user, dbname="postgres",
                         autocommit=True) as c:
        c.execute(f'CREATE DATABASE "{name}"')
    return f"postgresql://{proc.user}@{proc.host}:{proc.port}/{name}"


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def hq_db(request: pytest.FixtureRequest) -> str | None:
    """None (SQLite in HQ's folder) or the URL of a fresh PostgreSQL database."""
    if request.param == "sqlite":
        return None
    return pg_url(request.getfixturevalue("postgresql_proc"))


# -- the server -----------------------------------------------------------------------------------
def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class HQServer:
    """HQ on uvicorn in a thread (same process: tests can reach its engine and config)."""

    def __init__(self, home: Path, db_url: str | None = None, **cfg: Any):
        import uvicorn

        self.cfg = HQConfig.load(home, db_url=db_url, **cfg)
        self.app = create_app(self.cfg)
        self.engine = self.app.state.hq.engine
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.server = uvicorn.Server(uvicorn.Config(self.app, host="127.0.0.1", port=self.port, log_level="warning",
                                                    lifespan="off", timeout_keep_alive=30))
        self.thread = threading.Thread(target=self.server.run, daemon=True)

    def start(self) -> "HQServer":
        self.thread.start()
        for _ in range(500):
            if self.server.started:
                return self
            time.sleep(0.01)
        raise RuntimeError("HQ server did not start")

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(10)
        self.engine.dispose()


def start_hq(home: Path, db_url: str | None = None, **cfg: Any) -> HQServer:
    if not (home / "ca" / "ca.cert.pem").exists():
        init_home(home, db_url=db_url, admin_password="admin-pass-1")
    return HQServer(home, db_url, **cfg).start()


@pytest.fixture
def hq(tmp_path: Path, hq_db: str | None):
    s = start_hq(tmp_path / "hq", hq_db)
    yield s
    s.stop()


# -- laptops and data -------------------------------------------------------------------------------
def enrolled_laptop(path: Path, hq: HQServer, badge: str = "B001", name: str = "张三",
                    transport: Any = None) -> Store:
    from inspector.sync import enrol

    code = service.make_enrol_code(hq.engine, hq.cfg, badge, name=name)["code"]
    store = Store.open(path)
    enrol(store, hq.url, code, badge_no=badge, passphrase=PASSPHRASE, transport=transport)
    return store


PHOTOS_DDL = ("CREATE TABLE IF NOT EXISTS photos (id TEXT PRIMARY KEY, inspection_id TEXT, finding_id TEXT,"
              " sha256 TEXT NOT NULL, caption TEXT, created_at TEXT NOT NULL)")


def insert_adaptive(store: Store, table: str, row: dict[str, Any]) -> None:
    """Insert the columns the table has, filling other NOT NULL columns without default (tables other
    helpers own may grow)."""
    info = store.rows(f"PRAGMA table_info({table})")
    vals = {c["name"]: row[c["name"]] for c in info if c["name"] in row}
    for c in info:
        if c["name"] not in vals and c["notnull"] and c["dflt_value"] is None and not c["pk"]:
            vals[c["name"]] = 0 if "INT" in (c["type"] or "").upper() else ""
    cols = list(vals)
    store.conn.execute(f"INSERT INTO {table} ({', '.join(cols)}) VALUES ({', '.join('?' * len(cols))})",
                       [vals[c] for c in cols])


def ensure_base(store: Store) -> tuple[str, str]:
    """An institution and a checklist version to hang inspections on."""
    ts = now_iso()
    with store.tx() as db:
        db.execute(PHOTOS_DDL)
        db.execute("INSERT OR IGNORE INTO institutions (id, credit_code, name, kind, county, updated_at)"
                   " VALUES ('inst-local', 'CC-LOCAL', '测试培训学校', '培训机构', '红旗区', ?)", (ts,))
        db.execute("INSERT OR IGNORE INTO checklist_versions (id, checklist_id, version, title, source, sha256,"
                   " stored_at) VALUES ('t@1', 't', '1', '测试', '', '', ?)", (ts,))
    return "inst-local", "t@1"


def add_photo(store: Store, inspection_id: str, data: bytes) -> str:
    from inspector.blobs import BlobStore

    sha = BlobStore(store.home / "blobs").put_bytes(data)
    pid = new_id()
    with store.tx():
        insert_adaptive(store, "photos", {"id": pid, "inspection_id": inspection_id, "sha256": sha,
                                          "caption": "现场照片", "created_at": now_iso()})
        store.log("photo", pid, "add", {"inspection_id": inspection_id, "sha256": sha})
    return pid


def make_inspection(store: Store, rng: random.Random, *, answers: int = 4, findings: int = 1, photos: int = 1,
                    photo_size: int = 3000, finish: bool = False) -> str:
    from inspector.store import visits

    inst, cv = ensure_base(store)
    iid = visits.start_inspection(store, inst, inspector_ids=["insp-a", "insp-b"], checklist_version_ids=[cv])
    for i in range(answers):
        visits.set_answer(store, iid, cv, f"T-{i}", rng.choice([True, False, rng.randint(0, 500)]),
                          note=rng.choice([None, "现场核实"]))
    for i in range(findings):
        visits.add_finding(store, iid, description=f"问题 {i}：教师资格证缺失", codes=["PX-YB-3"],
                           people_involved=rng.randint(0, 9), amount=float(rng.randint(0, 5000)))
    for _ in range(photos):
        add_photo(store, iid, rng.randbytes(photo_size))
    if finish:
        visits.finish_inspection(store, iid)
    return iid


def _norm(x: Any) -> Any:
    if isinstance(x, dict):
        out = {k: _norm(v) for k, v in x.items()}
        return {k: v for k, v in out.items() if v is not None and v != [] and v != {}}
    if isinstance(x, list):
        return [_norm(v) for v in x]
    return x


PUSHED = ("inspection", "rectification", "photo", "document", "task", "draw")


def laptop_dump(store: Store) -> dict[str, Any]:
    """What the laptop holds of everything it pushed, canonical (the current state of each entity)."""
    from inspector.sync.serialize import serialize

    keys = store.rows("SELECT DISTINCT entity, entity_id FROM outbox WHERE entity IN (%s)"
                      % ",".join("?" * len(PUSHED)), PUSHED)
    out = {}
    for k in keys:
        body = serialize(store, k["entity"], k["entity_id"])
        out[f"{k['entity']}/{k['entity_id']}"] = _norm(body["data"])
    return out


def hq_dump(hq: HQServer, device_id: str, keys: list[str] | None = None) -> dict[str, Any]:
    got = service.device_entities(hq.engine, device_id)
    out = {f"{e}/{i}": _norm(v) for (e, i), v in got.items() if e in PUSHED}
    for k in keys or []:
        out.setdefault(k, None)
    return out


def pulled_dump(store: Store) -> dict[str, Any]:
    """The laptop's copy of HQ's directories, tasks and rectification decisions."""
    out = {}
    for t in ("institutions", "inspectors", "tasks", "rectifications"):
        for r in store.rows(f"SELECT * FROM {t} ORDER BY id"):
            out[f"{t}/{r['id']}"] = _norm(r)
    return out


def hq_pulled_dump(hq: HQServer, store: Store) -> dict[str, Any]:
    """HQ's rows for the same tables, restricted to columns the laptop has."""
    import sqlalchemy as sa

    out = {}
    with hq.engine.connect() as conn:
        for t in ("institutions", "inspectors", "tasks", "rectifications"):
            cols = [r["name"] for r in store.rows(f"PRAGMA table_info({t})")]
            table = D.metadata.tables[t]
            for r in conn.execute(sa.select(table).order_by(table.c.id)).all():
                row = service.join_row(table, r)
                out[f"{t}/{r.id}"] = _norm({k: v for k, v in row.items() if k in cols})
    return out


# -- a proxy that cuts connections --------------------------------------------------------------------
class CutProxy:
    """TCP proxy on 127.0.0.1: forwards to ``target``; once ``cut_at`` bytes (both directions, all
    connections) have passed, it resets every open connection — mid-request or mid-response."""

    def __init__(self, target_port: int):
        self.target = ("127.0.0.1", target_port)
        self.sock = socket.socket()
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(64)
        self.port = self.sock.getsockname()[1]
        self.url = f"http://127.0.0.1:{self.port}"
        self.lock = threading.Lock()
        self.cut_at: int | None = None
        self.passed = 0
        self.cuts = 0
        self.conns: list[socket.socket] = []
        self.closed = False
        threading.Thread(target=self._accept, daemon=True).start()

    def arm(self, cut_at: int | None) -> None:
        with self.lock:
            self.cut_at, self.passed = cut_at, 0

    def _accept(self) -> None:
        while not self.closed:
            try:
                c, _ = self.sock.accept()
            except OSError:
                return
            try:
                u = socket.create_connection(self.target)
            except OSError:
                c.close()
                continue
            with self.lock:
                self.conns += [c, u]
            threading.Thread(target=self._pump, args=(c, u), daemon=True).start()
            threading.Thread(target=self._pump, args=(u, c), daemon=True).start()

    def _reset_all(self) -> None:
        for s in self.conns:
            try:  # shutdown wakes the pump blocked in recv and tells the peer at once
                s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00")
                s.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            try:
                s.close()
            except OSError:
                pass
        self.conns = []

    def _pump(self, src: socket.socket, dst: socket.socket) -> None:
        try:
            while True:
                data = src.recv(65536)
                if not data:
                    break
                keep = None
                with self.lock:
                    if self.cut_at is not None and self.passed + len(data) > self.cut_at:
                        keep = max(0, self.cut_at - self.passed)
                        self.passed = self.cut_at
                        self.cut_at = None
                        self.cuts += 1
                    else:
                        self.passed += len(data)
                if keep is not None:  # send the allowed part (never under the lock), then reset everything
                    try:
                        dst.sendall(data[:keep])
                    except OSError:
                        pass
                    with self.lock:
                        self._reset_all()
                    return
                dst.sendall(data)
        except OSError:
            pass
        finally:
            for s in (src, dst):
                try:
                    s.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass

    def close(self) -> None:
        self.closed = True
        self.sock.close()
        with self.lock:
            self._reset_all()
