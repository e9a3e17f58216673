"""HQ's PAdES-B-LT step: what HQ adds to ingesting a signed document (DSS with chain and CRL +
an RFC 3161 document timestamp from its own TSA), against the plain ingest of the same
documents measured in the same run (the laptop's sync of the signed PDFs and their rows to HQ on
loopback, with the B-LT step held back). ``ratio`` = B-LT time / plain ingest time."""
from __future__ import annotations

import logging
import tempfile
import time
from pathlib import Path
from typing import Any

N_VISITS = 4  # 3 signed documents each


def run() -> list[dict[str, Any]]:
    import sqlalchemy as sa

    from inspector.demo import DEMO_PASSPHRASES, documents_for, visit
    from inspector.hq import db as D
    from inspector.hq import pades_lt, service
    from inspector.store import Store
    from inspector.sync import certify_inspector, enrol, sync
    from tests.hq_fixtures import ensure_base, start_hq

    logging.getLogger("pyhanko").setLevel(logging.ERROR)
    real = pades_lt.after_push
    with tempfile.TemporaryDirectory() as tmp_s:
        tmp = Path(tmp_s)
        hq = start_hq(tmp / "hq")
        pades_lt.after_push = lambda *a, **k: None  # type: ignore[assignment]  # plain ingest first
        try:
            code = service.make_enrol_code(hq.engine, hq.cfg, "B1", name="张三")["code"]
            service.make_enrol_code(hq.engine, hq.cfg, "B2", name="李四")
            store = Store.open(tmp / "laptop")
            enrol(store, hq.url, code, badge_no="B1", passphrase=DEMO_PASSPHRASES[0])
            assert sync(store).ok
            certify_inspector(store, service.make_enrol_code(hq.engine, hq.cfg, "B2")["code"], "B2",
                              passphrase=DEMO_PASSPHRASES[1])
            inst_id, _ = ensure_base(store)
            inst = store.one("SELECT * FROM institutions WHERE id = ?", (inst_id,))
            people = [store.one("SELECT * FROM inspectors WHERE badge_no = ?", (b,)) for b in ("B1", "B2")]
            visits = [visit(store, inst, people, seed=40 + i, work=tmp / f"p{i}", photo_size=(320, 240))
                      for i in range(N_VISITS)]
            assert sync(store).ok  # the visits themselves: not part of either measurement
            for iid in visits:
                documents_for(store, iid, people)
            t = time.perf_counter()
            rep = sync(store)
            ingest = time.perf_counter() - t
            assert rep.ok, rep.text()
            with hq.engine.connect() as c:
                n = c.execute(sa.select(sa.func.count()).select_from(D.documents)
                              .where(D.documents.c.sha256.is_not(None))).scalar() or 0
            t = time.perf_counter()
            done = pades_lt.process(hq.cfg, hq.engine, hq.app.state.hq.blobs, limit=1000)
            lt = time.perf_counter() - t
            assert done["done"] == n, done
            store.close()
        finally:
            pades_lt.after_push = real  # type: ignore[assignment]
            hq.stop()
    return [{"name": f"HQ B-LT per signed document (DSS + RFC 3161 timestamp; {n} documents)",
             "seconds": lt / n, "baseline": "plain ingest per signed document (PDF upload + push, loopback)",
             "baseline_seconds": ingest / n, "ratio": lt / ingest, "target": "reported (runs after the push reply)",
             "note": f"B-LT {lt:.2f} s vs ingest {ingest:.2f} s in total"}]
