"""Login flood bench: p95 latency of a laptop's push through a real HQ (``inspector-hq serve`` in
its own process on loopback) while four clients flood the console login with wrong passwords, as
a ratio to the p95 of the same pushes with no flood, measured in the same run (goal ≤ 2×; before
throttling and the bounded argon2 pool it was ≈ 3.6×: argon2 took both cores).

Each flooding client connects from its own loopback address (127.0.0.2 … 127.0.0.5), so each is a
separate client address to HQ's throttle, and never waits for Retry-After — as an attacker would
not. The pushes are real syncs of one new inspection each (``inspector.sync.sync``); the latency is
that of the ``POST /api/v1/push`` request, timed in the laptop's HTTP transport.

Quiet and flooded phases alternate (three rounds of each, the flood paused in between), so a change
in the machine's other load during the run weighs on both sides alike; the first flooded round
includes the flood's start (the failures allowed before any wait), later ones its steady state.

Env: INSPECTOR_BENCH_FLOOD_N (pushes per side, 60).
"""
from __future__ import annotations

import multiprocessing
import os
import random
import re
import shutil
import statistics
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

import httpx

N = int(os.environ.get("INSPECTOR_BENCH_FLOOD_N", "60"))
CLIENTS = 4
ROUNDS = 3
MAX_TRIES = 50_000  # per flooding client: a bound, the stop event ends it long before


class _Timed(httpx.HTTPTransport):
    """The laptop's real transport, noting how long each push request takes (to the response)."""

    def __init__(self) -> None:
        super().__init__()
        self.push: list[float] = []

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        t0 = time.perf_counter()
        resp = super().handle_request(request)
        if request.method == "POST" and request.url.path == "/api/v1/push":
            resp.read()
            self.push.append(time.perf_counter() - t0)
        return resp


def _flood(url: str, go: Any, stop: Any, counts: Any) -> None:
    """Four threads, each from its own loopback address, posting wrong passwords while ``go`` is set,
    until ``stop``."""

    def one(n: int) -> None:
        transport = httpx.HTTPTransport(local_address=f"127.0.0.{n + 2}")
        with httpx.Client(base_url=url, transport=transport, timeout=60) as c:
            tok = re.search(r'name="csrf" value="([^"]+)"', c.get("/console/login").text).group(1)
            for i in range(MAX_TRIES):
                while not go.is_set() and not stop.is_set():
                    go.wait(0.05)
                if stop.is_set():
                    return
                user = ("admin", f"staff{i % 5}", f"ghost{i}")[i % 3]
                r = c.post("/console/login", data={"csrf": tok, "username": user, "password": f"guess-{i}"})
                with counts.get_lock():
                    counts[0] += 1
                    counts[1] += r.status_code == 401  # a password actually checked (argon2 ran)

    threads = [threading.Thread(target=one, args=(n,)) for n in range(CLIENTS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()


def _p95(xs: list[float]) -> float:
    return statistics.quantiles(xs, n=20, method="inclusive")[18] if len(xs) > 1 else xs[0]


def _pushes(store: Any, transport: _Timed, n: int, rng: random.Random) -> list[float]:
    from inspector.sync import sync
    from tests.hq_fixtures import make_inspection

    start = len(transport.push)
    for _ in range(n):
        make_inspection(store, rng, answers=6, findings=2, photos=0)
        rep = sync(store, transport=transport)
        assert rep.ok and rep.pushed >= 1, rep.error
    return transport.push[start:]


def _run(tmp: Path) -> dict[str, Any]:
    from inspector.hq import db as D
    from inspector.hq import service
    from inspector.hq.admin import init_home
    from inspector.hq.config import HQConfig
    from inspector.store import Store
    from inspector.sync import enrol
    from tests.hq_fixtures import free_port, serve_process

    home = tmp / "hq"
    init_home(home, admin_password="bench-pass-1")
    cfg = HQConfig.load(home)
    eng = D.make_engine(cfg.url)
    code = service.make_enrol_code(eng, cfg, "FLOOD1", name="基准")["code"]
    eng.dispose()
    port = free_port()
    proc = serve_process(home, port)
    url = f"http://127.0.0.1:{port}"
    ctx = multiprocessing.get_context("spawn")
    go, stop = ctx.Event(), ctx.Event()
    counts = ctx.Array("l", [0, 0])
    flood = None
    quiet: list[float] = []
    loud: list[float] = []
    secs, tries = 0.0, 0
    try:
        store = Store(tmp / "laptop" / "inspector.db")
        enrol(store, url, code, badge_no="FLOOD1", passphrase="bench-pass")
        transport = _Timed()
        rng = random.Random(5)
        _pushes(store, transport, 3, rng)  # warm-up (connections, first-use costs), not counted
        flood = ctx.Process(target=_flood, args=(url, go, stop, counts), daemon=True)
        flood.start()
        per = max(2, N // ROUNDS)
        for _ in range(ROUNDS):
            time.sleep(1.5)  # answers still held for paused flooders drain (refusal_hold_seconds)
            quiet += _pushes(store, transport, per, rng)
            c0 = counts[0]
            go.set()
            for _ in range(100):  # until the flood is under way
                if counts[0] >= c0 + CLIENTS:
                    break
                time.sleep(0.05)
            t0, c0 = time.perf_counter(), counts[0]
            loud += _pushes(store, transport, per, rng)
            secs += time.perf_counter() - t0
            tries += counts[0] - c0
            go.clear()
        checked = counts[1]
        store.close()
    finally:
        stop.set()
        if flood is not None:
            flood.join(60)
            if flood.is_alive():
                flood.kill()
        proc.kill()
        proc.wait()
    q, f = _p95(quiet), _p95(loud)
    return {"name": f"p95 push latency under a {CLIENTS}-client wrong-password login flood ({len(loud)} pushes)",
            "seconds": f, "baseline": "p95 of the same pushes, no flood", "baseline_seconds": q,
            "ratio": f / q, "target": "≤ 2× (before: ≈ 3.6×)",
            "note": f"flood {tries / secs:.0f} login tries/s during the pushes, {checked} passwords checked in all "
                    f"(the rest refused before argon2); median {statistics.median(loud) * 1000:.0f} ms vs "
                    f"{statistics.median(quiet) * 1000:.0f} ms quiet"}


def run() -> list[dict[str, Any]]:
    tmp = Path(tempfile.mkdtemp(prefix="bench-flood-"))
    try:
        return [_run(tmp)]
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
