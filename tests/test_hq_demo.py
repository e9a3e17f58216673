"""``make hq``'s demo: an HQ filled the real way (CSV import, draw, a laptop enrolled over HTTP, the
co-inspector certified on it, visits synced); every synced document verifies against HQ's CA."""
from __future__ import annotations

import sqlalchemy as sa

from inspector.hq import db as D
from inspector.hq.blobs import HQBlobs
from inspector.hq.config import HQConfig
from inspector.hq.demo import seed_hq_demo
from inspector.util import sha256_hex
from inspector.verify import verify_bytes


def test_hq_demo_holds_synced_signed_visits_and_seeds_once(tmp_path):
    r = seed_hq_demo(tmp_path / "hq")
    assert r["seeded"] and r["draw_tasks"] > 0
    cfg = HQConfig.load(tmp_path / "hq")
    engine = D.make_engine(cfg.url)
    with engine.connect() as c:
        assert c.execute(sa.select(sa.func.count()).select_from(D.institutions)).scalar() == 60
        insp = c.execute(sa.select(D.inspections.c.id)).scalars().all()
        docs = c.execute(sa.select(D.documents)).all()
        tasks = c.execute(sa.select(sa.func.count()).select_from(D.tasks)).scalar()
    assert sorted(insp) == sorted(r["inspections"]) and tasks == r["draw_tasks"]
    assert sorted(d.kind for d in docs) == ["notice", "notice", "receipt", "receipt", "record", "record"]
    blobs = HQBlobs(cfg.blob_dir)
    for d in docs:
        data = blobs.path(d.sha256).read_bytes()
        assert sha256_hex(data) == d.sha256
        v = verify_bytes(data, [cfg.ca_dir / "ca.cert.pem"])
        # both inspectors signed on the one laptop: the enrolled one and the co-inspector certified
        # with their own code; every signature chains to HQ's CA
        assert v["valid"] is True, (d.kind, v["problems"])
        assert len(v["signers"]) >= 2 and all(s["intact"] and s["hq_certified"] for s in v["signers"]), v
    engine.dispose()
    assert seed_hq_demo(tmp_path / "hq")["seeded"] is False
