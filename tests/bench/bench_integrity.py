"""The start-up tamper check (store/integrity.py, ``verify(full=False)``, run by the app at every
start) on a store with 1,000 finished inspections, against the full ``inspector audit verify`` of the
same store in the same run. Goal: < 100 ms with checkpoints (issue 14).

The store is built through the core (``Store.log``: the hash chain and a signed checkpoint at every
finish; the finish entry seals the inspection's rows), with ``synchronous=OFF`` only to build it fast;
the finish goes through ``Store.log`` directly (no per-finish backup, no visit checklist), which is
what the checks read.
"""
from __future__ import annotations

import tempfile
import time
from pathlib import Path
from typing import Any

from inspector.store import Store, integrity, visits
from inspector.util import now_iso
from tests.store_fixtures import seed_minimal
from tests.bench import best

VISITS, ANSWERS = 1000, 10




def _finished(store: Store, inst: str, cv: str) -> str:
    iid = visits.start_inspection(store, inst, inspector_ids=["i1", "i2"], checklist_version_ids=[cv])
    for j in range(ANSWERS):
        visits.set_answer(store, iid, cv, f"T-{j}", 300 + j)
    ts = now_iso()
    with store.tx() as db:  # what finish_inspection writes (status, the sealed state, a signed checkpoint)
        db.execute("UPDATE inspections SET status = 'finished', ended_at = ?, updated_at = ? WHERE id = ?",
                   (ts, ts, iid))
        store.log("inspection", iid, "finish", {"ended_at": ts, "seal": integrity.inspection_state(store, iid)})
    return iid


def run() -> list[dict[str, Any]]:
    home = Path(tempfile.mkdtemp(prefix="bench-integrity-"))
    s = Store(home / "inspector.db", synchronous="OFF")
    inst, cv = seed_minimal(s)
    for _ in range(VISITS):
        _finished(s, inst, cv)
    s.close()
    s = Store(home / "inspector.db")
    n_entries = s.scalar("SELECT count(*) FROM audit_log")
    n_cps = s.scalar("SELECT count(*) FROM audit_checkpoints")
    full = best(lambda: integrity.verify(s, full=True), 3)
    assert integrity.verify(s, full=True).ok
    fast = best(lambda: integrity.verify(s, full=False))
    # a day's work since the last start: one more finished visit, then the next start's check
    fresh = []
    for _ in range(5):
        _finished(s, inst, cv)
        t0 = time.perf_counter()
        rep = integrity.verify(s, full=False)
        fresh.append(time.perf_counter() - t0)
        assert rep.ok
    s.close()

    def open_and_check() -> None:
        st = Store(home / "inspector.db")
        integrity.verify(st, full=False)
        st.close()

    opened = best(open_and_check)
    note = f"{n_entries} audit entries, {n_cps} signed checkpoints, {VISITS} finished inspections × {ANSWERS} answers"
    meaning = "how much of the full check the app pays at every start; the full check stays for sync and audit verify"
    return [
        {"name": f"start-up tamper check, {VISITS} finished inspections, nothing new since the last check",
         "seconds": fast, "baseline": "full audit verify (chain, checkpoints, every seal, documents)",
         "baseline_seconds": full, "ratio": fast / full, "target": "< 100 ms", "note": note, "meaning": meaning},
        {"name": "start-up tamper check after one more finished visit (12 new entries, 1 checkpoint)",
         "seconds": min(fresh), "baseline": "full audit verify", "baseline_seconds": full,
         "ratio": min(fresh) / full, "target": "< 100 ms", "meaning": meaning},
        {"name": "open the store + start-up tamper check (what the app does before its window)",
         "seconds": opened, "baseline": "full audit verify", "baseline_seconds": full, "ratio": opened / full,
         "target": "< 100 ms"},
    ]
