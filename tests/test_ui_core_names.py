"""ui/core.py: an institution not yet in the directory shows as unknown until a sync brings it; the
"unknown" name is never cached (issue 15: it used to stay unknown for the life of the window)."""
from __future__ import annotations


def test_unknown_institution_name_is_not_cached(store):
    from inspector import demo_directory
    from inspector.store import directory
    from ui import core

    inst = demo_directory.make_institutions(1, 7)[0]
    iid = "01a00000-0000-7000-8000-000000000001"
    assert core.institution_name(store, iid).startswith("（未知机构")
    directory.upsert_institutions(store, [{**inst, "id": iid}], actor="t")  # what a pull does
    assert core.institution_name(store, iid) == inst["name"]
