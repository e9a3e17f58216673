"""Helpers to set up a minimal institution + checklist version for store tests."""
from __future__ import annotations

from inspector.store import Store
from inspector.util import now_iso


def seed_minimal(store: Store, *, institution_id: str = "inst-1", cv_id: str = "t@1") -> tuple[str, str]:
    ts = now_iso()
    with store.tx() as db:
        db["institutions"].insert({"id": institution_id, "credit_code": f"CC-{institution_id}", "name": "测试培训学校",
                                   "kind": "培训机构", "county": "红旗区", "updated_at": ts}, ignore=True)
        db["checklist_versions"].insert({"id": cv_id, "checklist_id": cv_id.split("@")[0],
                                         "version": cv_id.split("@")[1], "title": "测试", "source": "",
                                         "sha256": "", "stored_at": ts}, ignore=True)
    return institution_id, cv_id


def finish_synthetic(store: Store, inspection_id: str,
                     reason: str = "测试数据：合成的检查记录，不是真实的现场检查") -> None:
    """Lock a synthetic (incomplete) inspection the only way the core allows: a recorded,
    audited override with a reason for each open problem of the finish check."""
    from inspector.store import visits
    from inspector.visit_state import visit_problems

    visits.finish_inspection(store, inspection_id,
                             overrides={p.key: reason for p in visit_problems(store, inspection_id)})
