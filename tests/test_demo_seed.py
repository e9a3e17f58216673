"""seed_demo fills a fresh laptop store for the GUI's first start, once."""
from __future__ import annotations

import json

from inspector import demo, verify
from inspector.store import documents


def test_seed_demo_once(store, home):
    assert demo.seed_demo(store) is True
    assert store.scalar("SELECT COUNT(*) FROM institutions") >= 20
    assert store.scalar("SELECT COUNT(*) FROM inspectors") >= 10
    assert store.scalar("SELECT COUNT(*) FROM tasks") >= 2
    statuses = sorted(r["status"] for r in store.rows("SELECT status FROM inspections"))
    assert statuses == ["draft", "finished"]
    draft = store.one("SELECT id FROM inspections WHERE status = 'draft'")
    assert store.scalar("SELECT COUNT(*) FROM answers WHERE inspection_id = ?", (draft["id"],)) > 0
    assert store.scalar("SELECT COUNT(*) FROM rectifications") == 1
    # each visit uses the checklist of its institution's kind (no PX codes on a 评价机构)
    for r in store.rows("SELECT i.kind, n.checklist_version_ids FROM inspections n"
                        " JOIN institutions i ON i.id = n.institution_id"):
        want = {"培训机构": "training@", "评价机构": "evaluation@"}[r["kind"]]
        assert all(v.startswith(want) for v in json.loads(r["checklist_version_ids"])), r
    docs = documents.list_documents(store)
    assert sorted(d["kind"] for d in docs) == ["notice", "receipt", "record"]
    assert all(d["status"] == "signed" for d in docs)
    r = verify.verify_bytes(documents.pdf_bytes(store, docs[0]["id"]), [home / "keys" / "local-ca" / "ca.cert.pem"])
    assert r["valid"], r["problems"]
    before = store.audit_head()
    assert demo.seed_demo(store) is False
    assert store.audit_head() == before
    assert store.verify_audit_chain() == []
