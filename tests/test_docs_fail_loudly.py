"""A document is never produced from degraded data (issue 15): a checklist version that cannot be read or an
inspector missing from the directory stops the document with a reason; nothing is numbered or stored."""
from __future__ import annotations

import pytest

from inspector.errors import InspectorError


def _visit(store, source: str | None = None):
    from inspector import demo
    from inspector.store import checklists, visits

    inst, ins = demo._setup_people(store, 9)
    cl = demo._training_checklist()
    cv = checklists.ensure_version(store, cl, actor="t")
    if source is not None:  # a stored version the strict loader no longer reads (versions are immutable)
        cv = "training@0.0-broken"
        with store.tx():
            store.conn.execute("INSERT INTO checklist_versions (id, checklist_id, version, title, source, sha256,"
                               " stored_at) VALUES (?, 'training', '0.0-broken', '旧检查表', ?, 'x', 'now')",
                               (cv, source))
    iid = visits.start_inspection(store, inst["id"], inspector_ids=[r["id"] for r in ins], checklist_version_ids=[cv],
                                  actor="t")
    if source is None:
        visits.set_answer(store, iid, cv, cl.items[0].id, "pass", actor="t")
    return iid, ins


def _documents(store, iid):
    return store.rows("SELECT id FROM documents WHERE inspection_id = ?", (iid,))


def test_a_good_visit_makes_its_record(store):
    from inspector.store import documents as docs

    iid, _ = _visit(store)
    docs.make_document(store, iid, "record")
    assert len(_documents(store, iid)) == 1


def test_no_record_from_a_checklist_version_that_does_not_parse(store):
    from inspector.store import documents as docs

    iid, _ = _visit(store, source="id = 'training'\nversion = [broken toml\n")
    with pytest.raises(InspectorError):
        docs.make_document(store, iid, "record")
    assert _documents(store, iid) == []


def test_no_record_naming_an_inspector_missing_from_the_directory(store):
    from inspector.store import documents as docs

    iid, ins = _visit(store)
    store.conn.execute("PRAGMA foreign_keys = OFF")  # a directory row lost (restored backup, hand edit)
    store.conn.execute("DELETE FROM inspectors WHERE id = ?", (ins[0]["id"],))
    with pytest.raises(InspectorError, match="不在本机名录库中"):
        docs.make_document(store, iid, "record")
    assert _documents(store, iid) == []
