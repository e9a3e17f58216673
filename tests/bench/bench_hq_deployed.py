"""HQ as deployed: sync throughput of 20 laptops through nginx (TLS, the shipped site configuration)
in front of ``inspector-hq serve --workers 2``, against the same laptops syncing with one HQ worker
directly (plain http, no proxy), both on one PostgreSQL, measured in the same run.

Each laptop does ROUNDS rounds of: a new inspection (answers, a finding, one small photo), then a
full sync (state, blob check and upload, push, pull, audit). Laptops run as threads spread over a
few client processes (the client side must not be what limits the rate); all traffic is loopback.
Throughput = HTTP requests the laptops made / wall time; ratio = proxied / direct (goal ≥ 1.6 on a
2-core machine). Both set-ups run side by side and the runs alternate (direct, proxied, direct,
proxied …), so a change in the machine's other load meets both alike; the database grows throughout.

Env: INSPECTOR_BENCH_HQ_LAPTOPS (20), INSPECTOR_BENCH_HQ_ROUNDS (3 per run), INSPECTOR_BENCH_HQ_PAIRS (2),
INSPECTOR_BENCH_HQ_CLIENTS (2 processes).
"""
from __future__ import annotations

import multiprocessing as mp
import os
import random
import shutil
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

LAPTOPS = int(os.environ.get("INSPECTOR_BENCH_HQ_LAPTOPS", "20"))
ROUNDS = int(os.environ.get("INSPECTOR_BENCH_HQ_ROUNDS", "3"))
PAIRS = int(os.environ.get("INSPECTOR_BENCH_HQ_PAIRS", "2"))
CLIENTS = int(os.environ.get("INSPECTOR_BENCH_HQ_CLIENTS", "2"))


def _laptops(args: tuple[list[str], str, str | None, int, float, int]) -> dict[str, Any]:
    """One client process: its laptops, each in a thread, start together at ``start_at``."""
    paths, url, ca_file, rounds, start_at, seed = args
    from inspector.store import Store
    from inspector.sync import http as H
    from inspector.sync import sync
    from tests.hq_fixtures import make_inspection

    count = [0]
    lock = threading.Lock()
    orig = H.HQClient.request

    def counted(self: Any, *a: Any, **kw: Any) -> Any:
        with lock:
            count[0] += 1
        return orig(self, *a, **kw)

    H.HQClient.request = counted  # type: ignore[method-assign]
    errors: list[str] = []
    stores = [Store.open(p) for p in paths]
    for s in stores:  # this run's address (and pinned CA, if any) for every laptop
        s.conn.execute("UPDATE sync_enrolment SET hq_url = ?", (url,))
        pin = Path(s.home) / "hq-tls-ca.pem"
        if ca_file:
            shutil.copyfile(ca_file, pin)
        else:
            pin.unlink(missing_ok=True)

    def laptop(i: int, store: Any) -> None:
        try:
            rounds_of(i, store)
        except Exception as e:  # a laptop that crashed is a failed run, not a quiet one
            errors.append(f"{type(e).__name__}: {e}")

    def rounds_of(i: int, store: Any) -> None:
        rng = random.Random(seed * 1000 + i)
        for _ in range(rounds):
            make_inspection(store, rng, answers=4, findings=1, photos=1, photo_size=4000)
            rep = sync(store)
            if not rep.ok:
                errors.append(rep.error or "?")

    threads = [threading.Thread(target=laptop, args=(i, s)) for i, s in enumerate(stores)]
    time.sleep(max(0.0, start_at - time.time()))
    cpu0 = time.process_time()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    done = time.time()
    cpu = time.process_time() - cpu0
    for s in stores:
        s.close()
    return {"requests": count[0], "done": done, "errors": errors, "cpu": cpu}


def _run(pool: Any, groups: list[list[str]], url: str, ca_file: str | None, seed: int,
         rounds: int = ROUNDS, cpu: dict[str, float] | None = None, servers: dict[str, int] | None = None
         ) -> tuple[float, int]:
    """One run of every laptop; adds CPU seconds of the clients and of each server in ``servers``
    (name → pid of its process tree) to ``cpu``."""
    from tests.nginx_fixtures import tree_cpu_seconds

    before = {k: tree_cpu_seconds(pid) for k, pid in (servers or {}).items()}
    start_at = time.time() + 1.5  # every process has opened its laptops by then
    got = pool.map(_laptops, [(g, url, ca_file, rounds, start_at, seed * 100 + k) for k, g in enumerate(groups)])
    errors = [e for r in got for e in r["errors"]]
    if errors:
        raise RuntimeError(f"{len(errors)} syncs failed, e.g. {errors[0]}")
    if cpu is not None:
        cpu["clients"] = cpu.get("clients", 0.0) + sum(r["cpu"] for r in got)
        for k, pid in (servers or {}).items():
            cpu[k] = cpu.get(k, 0.0) + tree_cpu_seconds(pid) - before[k]
    return max(r["done"] for r in got) - start_at, sum(r["requests"] for r in got)


def run() -> list[dict[str, Any]]:
    from inspector.hq import db as D
    from inspector.hq import service
    from inspector.hq.admin import init_home
    from inspector.hq.config import HQConfig
    from inspector.store import Store
    from inspector.sync import enrol
    from tests.hq_fixtures import PASSPHRASE, free_port, pg_url, start_pg
    from tests.nginx_fixtures import Nginx, make_ca, make_server_cert, nginx_bin, serve_workers, stop_process

    if nginx_bin() is None:
        raise RuntimeError("nginx is not installed (make system-deps)")
    tmp = Path(tempfile.mkdtemp(prefix="bench-hq-deployed-"))
    # the simulated laptops' stores in memory when possible: their fsyncs on a disk shared by 20 of
    # them on one machine would measure the disk, not HQ (HQ's own files stay on disk)
    laps = Path(tempfile.mkdtemp(prefix="bench-hq-laptops-", dir="/dev/shm" if os.path.isdir("/dev/shm") else None))
    pg = start_pg()
    procs: list[Any] = []
    ng = None
    try:
        db = pg_url(pg)
        home = tmp / "hq"
        init_home(home, db_url=db, admin_password="bench-pass-1")
        ca, ca_key = make_ca(tmp / "ca", "基准测试局")
        chain, key = make_server_cert(tmp / "server", ca, ca_key)

        one_port = free_port()
        procs.append(serve_workers(home, one_port, db, 1, trusted=""))
        direct = f"http://127.0.0.1:{one_port}"
        cfg = HQConfig.load(home, db_url=db)
        eng = D.make_engine(cfg.url)
        paths = []
        for i in range(LAPTOPS):
            p = laps / f"laptop{i:02d}"
            store = Store.open(p)
            badge = f"BENCH{i:03d}"
            code = service.make_enrol_code(eng, cfg, badge, name=f"基准{i}")["code"]
            enrol(store, direct, code, badge_no=badge, passphrase=PASSPHRASE)
            store.close()
            paths.append(str(p))
        eng.dispose()
        groups = [paths[k::CLIENTS] for k in range(CLIENTS)]

        two_port = free_port()
        procs.append(serve_workers(home, two_port, db, 2, trusted="127.0.0.1"))
        ng = Nginx(tmp / "nginx", [f"127.0.0.1:{two_port}"], chain, key, workers=1)

        pg_pid = int((pg.datadir / "postmaster.pid").read_text().split()[0])
        ctx = mp.get_context("spawn")
        base_s = ours_s = 0.0
        base_n = ours_n = 0
        base_cpu: dict[str, float] = {}
        ours_cpu: dict[str, float] = {}
        with ctx.Pool(CLIENTS) as pool:
            _run(pool, groups, direct, None, 91, rounds=1)  # warm-up, not counted: first pulls, lazy imports
            _run(pool, groups, ng.url, str(ca), 92, rounds=1)
            for k in range(PAIRS):
                s, n = _run(pool, groups, direct, None, 2 * k + 1, cpu=base_cpu, servers={"hq": procs[0].pid, "pg": pg_pid})
                base_s, base_n = base_s + s, base_n + n
                s, n = _run(pool, groups, ng.url, str(ca), 2 * k + 2, cpu=ours_cpu,
                            servers={"hq": procs[1].pid, "nginx": ng.proc.pid, "pg": pg_pid})
                ours_s, ours_n = ours_s + s, ours_n + n
        base_rps, ours_rps = base_n / base_s, ours_n / ours_s
        # what the CPU cost per request allows on an otherwise idle machine: one worker uses at most one
        # core, and laptops, PostgreSQL and nginx share the same cores as HQ
        per = {k: v / base_n for k, v in base_cpu.items()}
        per2 = {k: v / ours_n for k, v in ours_cpu.items()}
        cores = os.cpu_count() or 1
        idle_direct = min(1 / per["hq"], cores / sum(per.values()))
        idle_ours = min(2 / per2["hq"], cores / sum(per2.values()))
        return [{"name": f"sync of {LAPTOPS} laptops × {ROUNDS * PAIRS} rounds through nginx (TLS) + 2 HQ workers",
                 "seconds": ours_s, "baseline": "the same through 1 HQ worker, no proxy",
                 "baseline_seconds": base_s, "ratio": ours_rps / base_rps, "target": "≥ 1.6 (requests/s, proxied/direct)",
                 "note": f"{ours_rps:.0f} requests/s proxied ({ours_n} requests) vs {base_rps:.0f} requests/s direct "
                         f"({base_n}); {os.cpu_count()} cores, load average {os.getloadavg()[0]:.1f} at the end, "
                         f"{CLIENTS} client processes, PostgreSQL; CPU ms per request: HQ "
                         f"{1000 * ours_cpu['hq'] / ours_n:.1f} (2 workers) + nginx {1000 * ours_cpu['nginx'] / ours_n:.1f}"
                         f" + PostgreSQL {1000 * ours_cpu['pg'] / ours_n:.1f} + laptops {1000 * ours_cpu['clients'] / ours_n:.1f}"
                         f" proxied, vs HQ {1000 * base_cpu['hq'] / base_n:.1f} + PostgreSQL {1000 * base_cpu['pg'] / base_n:.1f}"
                         f" + laptops {1000 * base_cpu['clients'] / base_n:.1f} direct; on an idle {cores}-core machine"
                         f" these costs would allow at most {idle_ours:.0f} vs {idle_direct:.0f} requests/s"
                         f" (ratio {idle_ours / idle_direct:.2f})"}]
    finally:
        if ng is not None:
            ng.stop()
        for p in procs:
            stop_process(p)
        pg.stop()
        shutil.rmtree(tmp, ignore_errors=True)
        shutil.rmtree(laps, ignore_errors=True)
