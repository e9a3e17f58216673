"""HQ as deployed: Debian's nginx with the shipped site configuration terminates TLS (a test CA and
server certificate) in front of ``inspector-hq serve --workers 2`` on a real PostgreSQL. Through
https: enrolment with a pinned bureau CA (the ``inspector enrol --ca-file`` command), a sync with
photos, forwarded headers believed only from the trusted proxy, connection cuts at random points
and a worker killed mid-sync (nothing lost, nothing duplicated), and a laptop that refuses a
certificate it does not trust (nothing sent, no fallback)."""
from __future__ import annotations

import os
import random
import signal
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
import sqlalchemy as sa

from inspector.errors import SyncError
from inspector.hq import db as D
from inspector.hq import service
from inspector.hq.admin import init_home
from inspector.hq.config import HQConfig
from inspector.store import Store
from inspector.sync import enrol, sync
from inspector.sync.client import TLS_CA_FILE, enrolment
from inspector.sync.http import TLSUntrusted, tls_context
from tests.hq_fixtures import *  # noqa: F401,F403
from tests.hq_fixtures import PASSPHRASE, CutProxy, add_photo, free_port, make_inspection, pg_url
from tests.nginx_fixtures import (Nginx, cpu_ticks, make_ca, make_server_cert, nginx_bin, serve_workers, stop_process,
                                  worker_pids)
from tests.test_sync_faults import _assert_agree, _hq_change, _Remote

pytestmark = pytest.mark.postgres


@dataclass
class Deployed:
    url: str                 # https through nginx
    hq: _Remote              # engine and config of the HQ behind it (dump helpers)
    proc: Any                # the uvicorn supervisor
    port: int                # the workers' loopback port
    ca: Path                 # the bureau CA that signed nginx's certificate
    other_ca: Path           # some other CA
    nginx: Nginx


@pytest.fixture(scope="module")
def deployed(tmp_path_factory: pytest.TempPathFactory, postgresql_proc: Any) -> Any:
    if nginx_bin() is None:
        pytest.skip("!!! NGINX IS NOT INSTALLED (make system-deps installs Debian's nginx): "
                    "HQ behind TLS was NOT tested !!!")
    t = tmp_path_factory.mktemp("deployed")
    ca, ca_key = make_ca(t / "ca", "测试市人社局")
    other, _ = make_ca(t / "other-ca", "别的机构")
    chain, key = make_server_cert(t / "server", ca, ca_key)
    db = pg_url(postgresql_proc)
    home = t / "hq"
    init_home(home, db_url=db, admin_password="admin-pass-1")
    cfg = HQConfig.load(home, db_url=db)
    cfg.trusted_proxies = ["127.0.0.1"]  # nginx on this host, as in config.json of a deployed HQ
    cfg.save()
    port = free_port()
    proc = serve_workers(home, port, db, 2, log=t / "hq.log")
    ng = None
    try:
        ng = Nginx(t / "nginx", [f"127.0.0.1:{port}"], chain, key)
        remote = _Remote(home, db, port)
        yield Deployed(ng.url, remote, proc, port, ca, other, ng)
        remote.engine.dispose()
    finally:
        if ng is not None:
            ng.stop()
        stop_process(proc)


def _local_change(store: Store, rng: random.Random) -> None:
    """One thing an inspector does offline on a visit in progress (new visits with photos, answers,
    findings, more photos)."""
    from inspector.store import visits

    drafts = [r["id"] for r in store.rows("SELECT id FROM inspections WHERE status = 'draft'")]
    k = rng.random()
    if k < 0.45 or not drafts:
        make_inspection(store, rng, answers=rng.randint(1, 4), findings=rng.randint(0, 2), photos=rng.randint(0, 2),
                        photo_size=rng.randint(500, 40000))
    elif k < 0.7:
        visits.set_answer(store, rng.choice(drafts), "t@1", f"T-{rng.randint(0, 6)}", rng.randint(0, 99), note=None)
    elif k < 0.85:
        visits.add_finding(store, rng.choice(drafts), description="培训台账不全", codes=["PX-YB-3"],
                           people_involved=rng.randint(0, 9))
    else:
        add_photo(store, rng.choice(drafts), rng.randbytes(rng.randint(500, 60000)))


def _code(d: Deployed, badge: str) -> str:
    return service.make_enrol_code(d.hq.engine, d.hq.cfg, badge, name="张三")["code"]


def _enrolled(d: Deployed, path: Path, badge: str) -> Store:
    store = Store.open(path)
    enrol(store, d.url, _code(d, badge), badge_no=badge, passphrase=PASSPHRASE, ca_file=d.ca)
    return store


def _wait_workers(d: Deployed, n: int = 2) -> list[int]:
    """uvicorn's supervisor replaces a killed worker; wait until ``n`` run again."""
    for _ in range(300):
        pids = worker_pids(d.proc.pid)
        if len(pids) >= n:
            return pids
        time.sleep(0.05)
    raise AssertionError(f"HQ has {worker_pids(d.proc.pid)} workers, expected {n}")


def test_enrol_and_sync_through_nginx_on_two_workers(tmp_path: Path, deployed: Deployed, monkeypatch) -> None:
    d = deployed
    from inspector.cli import main as laptop_cli

    lap = tmp_path / "laptop"
    monkeypatch.setenv("INSPECTOR_PASSPHRASE", PASSPHRASE)
    assert laptop_cli(["--home", str(lap), "enrol", "--hq", d.url, "--code", _code(d, "T001"), "--badge", "T001",
                       "--ca-file", str(d.ca)]) == 0
    store = Store.open(lap)
    assert (store.home / TLS_CA_FILE).read_bytes() == d.ca.read_bytes()   # pinned in the laptop's data folder
    rng = random.Random(13)
    for _ in range(3):
        make_inspection(store, rng, photos=2, photo_size=rng.randint(20_000, 200_000), finish=False)
    rep = sync(store)
    assert rep.ok, rep.error
    assert rep.blobs_uploaded == 6 and rep.pushed > 0
    _assert_agree(store, d.hq)

    # both worker processes answer: a burst of concurrent requests costs each of them CPU
    from inspector.sync.client import device_token

    token = device_token(store)  # sealed at rest (pii.seal_secret)
    pids = _wait_workers(d)
    before = {p: cpu_ticks(p) for p in pids}

    answers: list[int] = []  # a thread's failed assert would only be a warning: the statuses are checked below

    def burst() -> None:
        with httpx.Client(base_url=d.url, verify=tls_context(d.ca), headers={"Authorization": f"Bearer {token}"}) as c:
            for _ in range(15):
                answers.append(c.get("/api/v1/sync/state").status_code)

    for _ in range(5):  # the kernel hands nginx's connections to whichever worker accepts first
        threads = [threading.Thread(target=burst) for _ in range(8)]
        for th in threads:
            th.start()
        for th in threads:
            th.join()
        if all(cpu_ticks(p) > before[p] for p in pids):
            break
    assert answers and set(answers) == {200}, sorted(set(answers))
    assert all(cpu_ticks(p) > before[p] for p in pids), (before, {p: cpu_ticks(p) for p in pids})

    # HQ sees the laptop's https through nginx's X-Forwarded-Proto (its redirects say https) ...
    with httpx.Client(verify=tls_context(d.ca)) as c:
        r = c.get(d.url + "/api/v1/health/")
    assert r.status_code == 307 and r.headers["location"] == d.url + "/api/v1/health"
    # ... and believes the header only from the trusted proxy address, not from another client
    direct = f"http://127.0.0.1:{d.port}/api/v1/health/"
    forged = {"X-Forwarded-Proto": "https", "X-Forwarded-For": "203.0.113.9"}
    with httpx.Client(transport=httpx.HTTPTransport(local_address="127.0.0.2")) as c:
        assert c.get(direct, headers=forged).headers["location"].startswith("http://127.0.0.1:")
    with httpx.Client() as c:  # from 127.0.0.1, the address nginx connects from
        assert c.get(direct, headers=forged).headers["location"].startswith("https://127.0.0.1:")

    # bodies over nginx's limit get HQ's JSON form; between HQ's and nginx's limit, HQ's own message
    with httpx.Client(verify=tls_context(d.ca), headers={"Authorization": f"Bearer {token}"}, timeout=30) as c:
        big = c.post(d.url + "/api/v1/push", content=b"x" * (10 << 20))
        mid = c.post(d.url + "/api/v1/push", content=b"x" * ((8 << 20) + (256 << 10)))
    assert big.status_code == 413 and big.json()["code"] == "too_large" and "请求过大" in big.json()["error"]
    assert mid.status_code == 413 and mid.json()["limit"] == d.hq.cfg.max_body
    store.close()


def test_cut_connections_and_a_killed_worker_lose_and_duplicate_nothing(tmp_path: Path, deployed: Deployed,
                                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    from inspector.sync import http as H

    d = deployed
    rng = random.Random(20261202)
    store = _enrolled(d, tmp_path / "laptop", "T002")
    me = store.scalar("SELECT inspector_id FROM sync_enrolment")
    # the client's retry of a cut request, quicker (as in tests/test_sync_faults.py; the schedule itself:
    # tests/test_sync_retry.py); the killed worker below gets the real pause
    base = H.RETRY_BASE
    monkeypatch.setattr(H, "RETRY_BASE", 0.02)
    proxy = CutProxy(d.nginx.port)  # cuts the TLS stream between laptop and nginx
    store.conn.execute("UPDATE sync_enrolment SET hq_url = ?", (f"https://127.0.0.1:{proxy.port}",))
    full, failed, trials = 30000, 0, 24
    try:
        for _ in range(trials):
            for _ in range(rng.randint(0, 3)):
                _local_change(store, rng)
            if rng.random() < 0.4:
                _hq_change(d.hq, rng, me)
            proxy.arm(rng.randint(0, full))
            rep = sync(store)
            proxy.arm(None)
            if rep.ok:
                full = max(full // 2, int(proxy.passed * 1.3), 4000)
            else:
                full = int(full * 1.2)
                failed += 1
                assert "没有丢失" in (rep.error or ""), rep.error
        assert proxy.cuts >= trials // 3 and proxy.cuts >= failed, (failed, proxy.cuts)  # the cuts happened
        # (most are absorbed by the client's own retries within the sync; the rest end it, the next resumes)
    finally:
        proxy.close()
    monkeypatch.setattr(H, "RETRY_BASE", base)
    store.conn.execute("UPDATE sync_enrolment SET hq_url = ?", (d.url,))

    # one of the two workers killed mid-sync (at the k-th progress event: a blob chunk, a batch): when
    # that cut the laptop's request, a retry at once is carried by the other worker (or the one
    # uvicorn's supervisor starts in its place)
    for _ in range(3):
        for _ in range(2):
            make_inspection(store, rng, photos=2, photo_size=rng.randint(100_000, 300_000))
        victim = rng.choice(_wait_workers(d))
        target = rng.randint(1, 4)
        seen = [0]
        killed = threading.Event()

        def on_progress(_e: dict, target: int = target, seen: list = seen, killed: threading.Event = killed,
                        victim: int = victim) -> None:
            seen[0] += 1
            if seen[0] == target:
                os.kill(victim, signal.SIGKILL)
                killed.set()

        rep = sync(store, progress=on_progress)
        assert killed.is_set()
        # the request the kill cut (nginx answers 502, or the connection drops) is sent again by the
        # client itself and carried by the other worker: the sync completes without the user
        assert rep.ok, rep.error
    _wait_workers(d)
    rep = sync(store)
    assert rep.ok, rep.error
    _assert_agree(store, d.hq)
    store.close()


def test_laptop_refuses_a_certificate_it_does_not_trust(tmp_path: Path, deployed: Deployed) -> None:
    d = deployed
    code = _code(d, "T003")
    # enrolment pinned to another CA: refused before anything is sent, nothing stored
    store = Store.open(tmp_path / "laptop")
    with pytest.raises(TLSUntrusted) as e:
        enrol(store, d.url, code, badge_no="T003", passphrase=PASSPHRASE, ca_file=d.other_ca)
    assert "TLS 证书未通过验证" in str(e.value) and str(d.other_ca) in str(e.value) and "--ca-file" in str(e.value)
    # the system's trust store does not know the bureau CA either: refused as well, no unverified retry
    with pytest.raises(TLSUntrusted, match="操作系统信任的证书机构"):
        enrol(store, d.url, code, badge_no="T003", passphrase=PASSPHRASE)
    assert enrolment(store) is None and not (store.home / TLS_CA_FILE).exists()
    # a file that is no certificate at all is named
    bad = tmp_path / "not-a-ca.pem"
    bad.write_text("证书机构", encoding="utf-8")
    with pytest.raises(SyncError, match="not-a-ca.pem"):
        enrol(store, d.url, code, badge_no="T003", passphrase=PASSPHRASE, ca_file=bad)
    # the code was never spent: HQ saw none of those attempts
    enrol(store, d.url, code, badge_no="T003", passphrase=PASSPHRASE, ca_file=d.ca)
    dev = enrolment(store)["device_id"]

    # an enrolled laptop whose pinned CA does not match what answers: sync refused, nothing sent
    make_inspection(store, random.Random(3), photos=1, finish=False)
    (store.home / TLS_CA_FILE).write_bytes(d.other_ca.read_bytes())
    rep = sync(store)
    assert not rep.ok and "TLS 证书未通过验证" in (rep.error or "") and TLS_CA_FILE in (rep.error or "")
    with d.hq.engine.connect() as c:
        applied = c.execute(sa.select(sa.func.count()).select_from(D.applied_ops)
                            .where(D.applied_ops.c.device_id == dev)).scalar()
    assert applied == 0
    assert store.scalar("SELECT count(*) FROM outbox WHERE sent_at IS NULL") > 0
    (store.home / TLS_CA_FILE).write_bytes(d.ca.read_bytes())
    rep = sync(store)
    assert rep.ok, rep.error
    store.close()


def test_several_workers_need_postgresql(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from inspector.hq.cli import main as hq_cli

    init_home(tmp_path / "hq", admin_password="admin-pass-1")  # SQLite in HQ's folder
    assert hq_cli(["--home", str(tmp_path / "hq"), "serve", "--workers", "2"]) == 2
    assert "多个工作进程需要 PostgreSQL" in capsys.readouterr().err
