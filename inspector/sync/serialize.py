"""Outbox entry → what HQ receives: the entity's CURRENT state, read from the tables.

Each entity type is one small function registered with ``@serializer("name")``; it gets
the store and the id and returns ``{"row": …, …}``, or None when the entity no longer
exists (the op is then sent as a delete). Blobs are found by column name (``sha256`` or
``*_sha256``) when the local blob store holds a file of that name.
"""
from __future__ import annotations

import json
import re
from typing import Any, Callable

from inspector.store import Store

Serializer = Callable[[Store, str], "dict[str, Any] | None"]
SERIALIZERS: dict[str, Serializer] = {}
_HEX = re.compile(r"^[0-9a-f]{64}$")
LOCAL_ONLY = {"inspections": {"ui_state"}}   # GUI state stays on the laptop


class UnknownEntity(KeyError):
    """No serializer for this entity type."""


def serializer(entity: str) -> Callable[[Serializer], Serializer]:
    def deco(fn: Serializer) -> Serializer:
        SERIALIZERS[entity] = fn
        return fn
    return deco


def table_exists(store: Store, table: str) -> bool:
    return bool(store.scalar("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?", (table,)))


def row(store: Store, table: str, id_: str) -> dict[str, Any] | None:
    r = store.one(f"SELECT * FROM {table} WHERE id = ?", (id_,))
    if r is not None:
        for k in LOCAL_ONLY.get(table, ()):
            r.pop(k, None)
    return r


def children(store: Store, table: str, fk: str, id_: str, order: str = "rowid") -> list[dict[str, Any]]:
    if not table_exists(store, table):
        return []
    out = store.rows(f"SELECT * FROM {table} WHERE {fk} = ? ORDER BY {order}", (id_,))
    for r in out:
        r.pop(fk, None)
    return out


def _simple(entity: str, table: str) -> None:
    SERIALIZERS[entity] = lambda store, id_: (lambda r: {"row": r} if r else None)(row(store, table, id_))


for _e, _t in (("institution", "institutions"), ("inspector", "inspectors"), ("task", "tasks"), ("draw", "draws"),
               ("checklist_version", "checklist_versions"), ("rectification", "rectifications"),
               ("finding", "findings"), ("document", "documents")):
    _simple(_e, _t)

@serializer("photo")
def photo(store: Store, id_: str) -> dict[str, Any] | None:
    """A photo is its file: the blob is required even if this laptop lost it (the op is then held)."""
    r = row(store, "photos", id_)
    if r is None:
        return None
    return {"row": r, "_blobs": [r["sha256"]] if isinstance(r.get("sha256"), str) and _HEX.match(r["sha256"]) else []}


# child tables of an inspection that HQ keeps as sent (besides answers and findings)
INSPECTION_CHILDREN = ("trainee_checks", "signatures")


@serializer("inspection")
def inspection(store: Store, id_: str) -> dict[str, Any] | None:
    r = row(store, "inspections", id_)
    if r is None:
        return None
    # the inspectors' 执法证号 beside the row (not stored by HQ): HQ decides ownership by badge when
    # the laptop's directory, imported locally before enrolment, has other ids than HQ's
    ids = _json_list(r.get("inspector_ids"))
    badges: list[str] = []
    if ids:
        q = ",".join("?" * len(ids))
        by_id = {x["id"]: x["badge_no"] for x in store.rows(f"SELECT id, badge_no FROM inspectors WHERE id IN ({q})",
                                                             ids)}
        badges = [by_id[i] for i in ids if i in by_id]
    return {
        "inspector_badges": badges,
        "row": r,
        "answers": children(store, "answers", "inspection_id", id_, "checklist_version_id, item_id"),
        "findings": [{**f, "inspection_id": id_} for f in children(store, "findings", "inspection_id", id_, "id")],
        "children": {t: children(store, t, "inspection_id", id_, "id") for t in INSPECTION_CHILDREN
                     if table_exists(store, t)},
    }


def _json_list(v: Any) -> list[str]:
    try:
        x = json.loads(v) if isinstance(v, str) else v
    except ValueError:
        return []
    return [i for i in x if isinstance(i, str)] if isinstance(x, list) else []


def blob_refs(store: Store, data: Any, blobs_root: Any) -> list[str]:
    """Hashes named in ``data`` that the local blob store holds (those HQ must have)."""
    found: list[str] = []

    def walk(x: Any, key: str = "") -> None:
        if isinstance(x, dict):
            for k, v in x.items():
                walk(v, k)
        elif isinstance(x, list):
            for v in x:
                walk(v, key)
        elif isinstance(x, str) and (key == "sha256" or key.endswith("_sha256")) and _HEX.match(x):
            if (blobs_root / x[:2] / x[2:4] / x).is_file():
                found.append(x)

    walk(data)
    return list(dict.fromkeys(found))


def serialize(store: Store, entity: str, entity_id: str) -> dict[str, Any]:
    """The op body for HQ: ``{"op": "upsert"|"delete", "data": …, "blobs": […]}``."""
    fn = SERIALIZERS.get(entity)
    if fn is None:
        raise UnknownEntity(entity)
    data = fn(store, entity_id)
    if data is None:
        return {"op": "delete", "data": None, "blobs": []}
    required = data.pop("_blobs", [])
    return {"op": "upsert", "data": data,
            "blobs": list(dict.fromkeys([*required, *blob_refs(store, data, store.home / "blobs")]))}
