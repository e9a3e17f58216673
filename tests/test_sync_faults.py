"""Fault injection: connections cut at random points of push and pull (a TCP proxy), and the
HQ process killed mid-sync. Afterwards HQ and the laptop agree exactly: nothing lost, nothing
duplicated. Fixed seeds; bounded loops."""
from __future__ import annotations

import random
import signal
import threading
import time

import pytest
import sqlalchemy as sa

from inspector.hq import db as D
from inspector.hq import service
from inspector.hq.config import HQConfig
from inspector.store import visits
from inspector.sync import sync
from inspector.util import dumps, new_id, now_iso
from tests.hq_fixtures import *  # noqa: F401,F403
from tests.hq_fixtures import (CutProxy, serve_process, enrolled_laptop, free_port, hq_dump, hq_pulled_dump,
                               laptop_dump, make_inspection, pulled_dump, start_hq)

TRIALS = 110


@pytest.fixture(autouse=True)
def _quick_retries(monkeypatch):
    """The client retries a cut request by itself (tests/test_sync_retry.py); here only quicker."""
    from inspector.sync import http as H

    monkeypatch.setattr(H, "RETRY_BASE", 0.02)


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=[pytest.mark.postgres, pytest.mark.slow])])
def fault_db(request):
    """SQLite always; PostgreSQL in the slow run (keeps the quick suite under ~90 s)."""
    from tests.hq_fixtures import pg_url

    return None if request.param == "sqlite" else pg_url(request.getfixturevalue("postgresql_proc"))


def _local_change(store, rng) -> None:
    """One random thing an inspector does offline."""
    k = rng.random()
    drafts = [r["id"] for r in store.rows("SELECT id FROM inspections WHERE status = 'draft'")]
    finished = [r["id"] for r in store.rows(
        "SELECT id FROM inspections i WHERE status = 'finished' AND NOT EXISTS"
        " (SELECT 1 FROM inspections j WHERE j.replaces_id = i.id)")]
    if k < 0.45 or not (drafts or finished):
        make_inspection(store, rng, answers=rng.randint(1, 4), findings=rng.randint(0, 2), photos=rng.randint(0, 2),
                        photo_size=rng.randint(500, 40000), finish=rng.random() < 0.4)
    elif k < 0.65 and drafts:
        iid = rng.choice(drafts)
        visits.set_answer(store, iid, "t@1", f"T-{rng.randint(0, 6)}", rng.randint(0, 99))
        if rng.random() < 0.3:
            from tests.store_fixtures import finish_synthetic

            finish_synthetic(store, iid)
    elif k < 0.75 and finished:
        visits.amend_inspection(store, rng.choice(finished))
    elif finished:
        iid = rng.choice(finished)
        rects = [r["id"] for r in store.rows("SELECT id FROM rectifications WHERE inspection_id = ?", (iid,))]
        if rects and rng.random() < 0.6:
            visits.set_rectification_status(store, rng.choice(rects), rng.choice(["已按期整改", "逾期整改"]))
        else:
            visits.create_rectification(store, iid, deadline="2026-12-31")


def _hq_change(hq, rng, me: str) -> None:
    """One thing HQ does meanwhile: directory rows, tasks for this inspector, rectification decisions."""
    k = rng.random()
    with D.write(hq.engine) as c:
        if k < 0.5:
            iid = new_id()
            service.upsert_entity(c, "institution", {
                "id": iid, "credit_code": f"9141{rng.randrange(10**13):013d}X", "name": f"机构{rng.randrange(999)}",
                "kind": "培训机构", "county": rng.choice(["红旗区", "卫滨区"]), "trades": dumps(["电工"]),
                "complaints": 0, "updated_at": now_iso()})
            service.upsert_entity(c, "task", {"id": new_id(), "kind": "draw", "institution_id": iid,
                                              "inspector_ids": dumps([me]), "checklist_ids": dumps(["training"]),
                                              "status": "open", "created_at": now_iso()}, audience=[me])
            return
        rects = c.execute(sa.select(D.rectifications.c.id)).all()
    if rects:
        service.decide_rectification(hq.engine, rng.choice(rects).id, rng.choice(["逾期整改", "拒不整改或敷衍整改"]))


def _assert_agree(store, hq) -> None:
    dev = store.scalar("SELECT device_id FROM sync_enrolment")
    me = store.scalar("SELECT inspector_id FROM sync_enrolment")
    assert store.scalar("SELECT count(*) FROM outbox WHERE sent_at IS NULL") == 0
    lap = laptop_dump(store)
    assert hq_dump(hq, dev, list(lap)) == lap                      # nothing lost, nothing extra
    with hq.engine.connect() as c:
        applied = [r.op_id for r in c.execute(sa.select(D.applied_ops.c.op_id).where(
            D.applied_ops.c.device_id == dev))]
        blobs = [r.sha256 for r in c.execute(sa.select(D.photos.c.sha256))]
    sent = [r["op_id"] for r in store.rows("SELECT op_id FROM outbox WHERE sent_at IS NOT NULL")]
    assert sorted(applied) == sorted(sent)                         # every op applied exactly once
    for sha in blobs:                                              # every photo's bytes, intact
        p = hq.cfg.blob_dir / sha[:2] / sha[2:4] / sha
        assert p.is_file() and service.sha256_hex(p.read_bytes()) == sha
    assert not list((hq.cfg.blob_dir / "partial").glob("*")) if (hq.cfg.blob_dir / "partial").exists() else True
    seq, h = store.audit_head()
    head = service.audit_head(hq.engine, dev)
    assert (head["seq"], head["hash"], head["status"]) == (seq, h, "ok")
    # pulled side: the laptop has HQ's directories, my tasks and HQ's decisions, exactly
    mine = pulled_dump(store)
    theirs = hq_pulled_dump(hq, store)
    for key, row in theirs.items():
        if key.startswith("tasks/") and me not in row.get("inspector_ids", ""):
            continue
        assert mine.get(key) == row, key


@pytest.fixture
def fault_hq(tmp_path, fault_db):
    s = start_hq(tmp_path / "hq", fault_db)
    yield s
    s.stop()


def test_connections_cut_at_random_points_lose_and_duplicate_nothing(tmp_path, fault_hq):
    hq = fault_hq
    rng = random.Random(20261122)
    store = enrolled_laptop(tmp_path / "laptop", hq)
    me = store.scalar("SELECT inspector_id FROM sync_enrolment")
    proxy = CutProxy(hq.port)
    store.conn.execute("UPDATE sync_enrolment SET hq_url = ?", (proxy.url,))
    full, failed = 20000, 0
    try:
        for _ in range(TRIALS):
            for _ in range(rng.randint(0, 3)):
                _local_change(store, rng)
            if rng.random() < 0.4:
                _hq_change(hq, rng, me)
            proxy.arm(rng.randint(0, full))
            rep = sync(store)
            proxy.arm(None)
            if rep.ok:
                full = max(full // 2, int(proxy.passed * 1.3), 2000)
            else:
                full = int(full * 1.2)  # a sync that never gets through must still make progress
                failed += 1
                assert "没有丢失" in rep.error
        # the faults really happened; most are now absorbed by the client's own retries (a cut request
        # is sent again within the same sync), the rest end a sync that the next one resumes
        assert proxy.cuts >= TRIALS // 3 and proxy.cuts >= failed
        rep = sync(store)
        assert rep.ok, rep.error
    finally:
        proxy.close()
    _assert_agree(store, hq)


class _Remote:
    """Enough of HQServer for the dump helpers, pointing at a server in another process."""

    def __init__(self, home, db_url, port):
        self.cfg = HQConfig.load(home, db_url=db_url)
        self.engine = D.make_engine(self.cfg.url)
        self.url = f"http://127.0.0.1:{port}"
        self.port = port


def test_hq_process_killed_mid_sync_loses_and_duplicates_nothing(tmp_path, fault_db):
    hq_db = fault_db
    rng = random.Random(7)
    home = tmp_path / "hq"
    setup = start_hq(home, hq_db)  # init + enrol through an in-process server, then stop it
    store = enrolled_laptop(tmp_path / "laptop", setup)
    setup.stop()
    port = free_port()
    store.conn.execute("UPDATE sync_enrolment SET hq_url = ?", (f"http://127.0.0.1:{port}",))
    remote = _Remote(home, hq_db, port)
    kills = trials = 0
    while kills < 5 and trials < 15:
        trials += 1
        for _ in range(3):
            make_inspection(store, rng, photos=2, photo_size=rng.randint(100_000, 400_000),
                            finish=rng.random() < 0.5)
        proc = serve_process(home, port, hq_db)
        # the kill point is chosen by progress, not by the clock: the k-th progress event (a blob
        # uploaded, a batch pushed), then either at once or a moment later (mid-request)
        target, delay = rng.randint(1, 7), rng.choice([0.0, 0.0, rng.uniform(0.005, 0.05)])
        seen = [0]
        killed = threading.Event()

        def on_progress(_e, proc=proc, target=target, delay=delay, seen=seen, killed=killed) -> None:
            seen[0] += 1
            if seen[0] == target:
                if delay:
                    time.sleep(delay)
                proc.send_signal(signal.SIGKILL)
                killed.set()

        rep = sync(store, progress=on_progress)
        if killed.is_set():
            kills += 1
            assert not rep.ok and "没有丢失" in (rep.error or ""), rep
        proc.kill()
        proc.wait()
    assert kills >= 5
    proc = serve_process(home, port, hq_db)
    try:
        rep = sync(store)
        assert rep.ok, rep.error
        _assert_agree(store, remote)
    finally:
        proc.kill()
        proc.wait()
        remote.engine.dispose()
