"""seed_demo fills a fresh laptop store for the GUI's first start, once."""
from __future__ import annotations

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
    docs = documents.list_documents(store)
    assert sorted(d["kind"] for d in docs) == ["notice", "receipt", "record"]
    assert all(d["status"] == "signed" for d in docs)
    r = verify.verify_bytes(documents.pdf_bytes(store, docs[0]["id"]), [home / "keys" / "local-ca" / "ca.cert.pem"])
    assert r["valid"], r["problems"]
    before = store.audit_head()
    assert demo.seed_demo(store) is False
    assert store.audit_head() == before
    assert store.verify_audit_chain() == []
