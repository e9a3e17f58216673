"""Fixtures for HQ and sync tests: a real HQ server (uvicorn on 127.0.0.1, free port) on
SQLite or on a real PostgreSQL (Debian's binaries, one server per test session started here:
fresh folder, a free port retried if taken, leftovers of killed sessions reaped), enrolled laptops,
test data, canonical dumps of both sides, and a TCP proxy that cuts connections.

Import what a test module needs: ``from tests.hq_fixtures import *``.
"""
from __future__ import annotations

import glob
import os
import random
import shutil
import socket
import subprocess
import sys
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


PG_ROOT = Path("/var/tmp/inspector-pytest-pg")  # outside pytest's temp tree (concurrent sessions prune it)


class PGServer:
    """A PostgreSQL server of this test session: its own data folder, a loopback port, trust auth."""

    def __init__(self, datadir: Path, port: int, user: str = "postgres"):
        self.datadir, self.port, self.user, self.host = datadir, port, user, "127.0.0.1"
        self.logfile = datadir.with_suffix(".log")

    def stop(self) -> None:
        _pg_run("pg_ctl", "stop", "-m", "fast", "-w", "-t", "60", "-D", str(self.datadir))
        _forget(self.datadir)


def _pg_run(prog: str, *args: str, timeout: float = 180) -> subprocess.CompletedProcess:
    """Run a PostgreSQL binary; as root through ``runuser -u postgres`` (initdb and postgres refuse root)."""
    pre = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []
    return subprocess.run(pre + [os.path.join(str(PG_BIN), prog), *args], capture_output=True, text=True,
                          cwd="/tmp", timeout=timeout)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
        return True
    except ProcessLookupError:
        return False
    except PermissionError:
        return True


def _forget(datadir: Path) -> None:
    shutil.rmtree(datadir, ignore_errors=True)
    for extra in (datadir.with_suffix(".owner"), datadir.with_suffix(".log")):
        extra.unlink(missing_ok=True)


def _reap_leftovers() -> None:
    """Servers (and data folders) of test sessions that died without teardown: stop and remove them.
    A folder belongs to the session whose pid is in its ``.owner`` file; a dead owner means leftover."""
    if not PG_ROOT.exists():
        return
    for owner in PG_ROOT.glob("*.owner"):
        try:
            pid = int(owner.read_text().strip() or 0)
        except (OSError, ValueError):
            pid = 0
        if pid and _alive(pid):
            continue
        d = owner.with_suffix("")
        if (d / "postmaster.pid").exists():
            try:
                _pg_run("pg_ctl", "stop", "-m", "immediate", "-w", "-t", "30", "-D", str(d), timeout=60)
            except subprocess.TimeoutExpired:
                pass
        _forget(d)
    for d in PG_ROOT.iterdir():  # folders with no owner file at all (older layout, half-made)
        if d.is_dir() and not d.with_suffix(".owner").exists() and time.time() - d.stat().st_mtime > 600:
            pidf = d / "postmaster.pid"
            try:
                pid = int(pidf.read_text().split()[0]) if pidf.exists() else 0
            except (OSError, ValueError, IndexError):
                pid = 0
            if not pid or not _alive(pid):
                shutil.rmtree(d, ignore_errors=True)


def start_pg() -> PGServer:
    """initdb + pg_ctl start on a fresh folder and a free port. A port taken between choosing it and
    the server binding it (other sessions share the machine) is retried on another port."""
    _reap_leftovers()
    PG_ROOT.mkdir(mode=0o755, parents=True, exist_ok=True)
    os.chmod(PG_ROOT, 0o755)
    d = PG_ROOT / f"s{os.getpid()}-{uuid.uuid4().hex[:8]}"
    d.with_suffix(".owner").write_text(str(os.getpid()))
    d.mkdir(mode=0o700)
    if os.geteuid() == 0:
        import pwd

        pg = pwd.getpwnam("postgres")
        os.chown(d, pg.pw_uid, pg.pw_gid)
    r = _pg_run("initdb", "-D", str(d), "-U", "postgres", "--auth=trust", "-E", "UTF8", "--locale=C", "--no-sync")
    if r.returncode != 0:
        _forget(d)
        raise RuntimeError(f"initdb failed in {d}: {r.stderr[-2000:]}")
    log = d.with_suffix(".log")
    log.touch()
    if os.geteuid() == 0:
        os.chown(log, pg.pw_uid, pg.pw_gid)
    errors = []
    for _attempt in range(5):
        port = free_port()
        opts = f"-F -p {port} -k {d} -c listen_addresses=127.0.0.1 -c fsync=off -c full_page_writes=off"
        r = _pg_run("pg_ctl", "start", "-w", "-t", "120", "-D", str(d), "-l", str(log), "-o", opts)
        if r.returncode == 0:
            return PGServer(d, port)
        _pg_run("pg_ctl", "stop", "-m", "immediate", "-D", str(d))  # half-started: make sure it is gone
        errors.append(f"port {port}: {r.stderr.strip()[-300:]} {log.read_text()[-500:]}")
    _forget(d)
    raise RuntimeError("PostgreSQL did not start:\n" + "\n".join(errors))


if PG_BIN:
    @pytest.fixture(scope="session")
    def postgresql_proc() -> Any:
        """This session's PostgreSQL server (started once; stopped and removed at the end)."""
        server = start_pg()
        yield server
        server.stop()
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


def serve_process(home: Path, port: int, db_url: str | None = None) -> subprocess.Popen:
    """``inspector-hq serve`` in its own process (one a test or bench can SIGKILL), once it answers."""
    import httpx

    cmd = [sys.executable, "-m", "inspector.hq.cli", "--home", str(home), "serve", "--port", str(port),
           "--log-level", "warning"] + (["--db", db_url] if db_url else [])
    p = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    for _ in range(400):
        try:
            if httpx.get(f"http://127.0.0.1:{port}/api/v1/health", timeout=1).status_code == 200:
                return p
        except httpx.HTTPError:
            time.sleep(0.05)
    p.kill()
    raise RuntimeError("HQ did not start")


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
    # the enrolled inspector leads (HQ accepts only inspections naming one of the device's inspectors)
    me = store.scalar("SELECT inspector_id FROM sync_enrolment WHERE id = 1")
    iid = visits.start_inspection(store, inst, inspector_ids=[me or "insp-a", "insp-b"], checklist_version_ids=[cv])
    for i in range(answers):
        visits.set_answer(store, iid, cv, f"T-{i}", rng.choice([True, False, rng.randint(0, 500)]),
                          note=rng.choice([None, "现场核实"]))
    for i in range(findings):
        visits.add_finding(store, iid, description=f"问题 {i}：教师资格证缺失", codes=["PX-YB-3"],
                           people_involved=rng.randint(0, 9), amount=float(rng.randint(0, 5000)))
    for _ in range(photos):
        add_photo(store, iid, rng.randbytes(photo_size))
    if finish:
        from tests.store_fixtures import finish_synthetic

        finish_synthetic(store, iid)
    return iid


def _norm(x: Any) -> Any:
    if isinstance(x, dict):
        out = {k: _norm(v) for k, v in x.items()}
        return {k: v for k, v in out.items() if v is not None and v != [] and v != {}}
    if isinstance(x, list):
        return [_norm(v) for v in x]
    return x


PUSHED = ("inspection", "rectification", "photo", "document")  # what a device may push (docs/ownership.md)


def laptop_dump(store: Store) -> dict[str, Any]:
    """What the laptop holds of everything it pushed, canonical (the current state of each entity)."""
    from inspector.sync.serialize import serialize

    keys = store.rows("SELECT DISTINCT entity, entity_id FROM outbox WHERE entity IN (%s)"
                      % ",".join("?" * len(PUSHED)), PUSHED)
    out = {}
    for k in keys:
        body = serialize(store, k["entity"], k["entity_id"])
        data = body["data"] if body["data"] is None else \
            {k2: v for k2, v in body["data"].items() if k2 != "inspector_badges"}  # not kept by HQ
        out[f"{k['entity']}/{k['entity_id']}"] = _norm(data)
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
