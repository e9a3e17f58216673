"""Photo rows: which picture (by sha256) belongs to which inspection, item and finding.

The pixels are blobs (``inspector.blobs``); a row only names them. The same picture
attached twice to the same inspection and item is one row. Every change is logged as
entity ``photo`` (audit chain + outbox); the blobs a row needs at HQ are its three shas
(``blob_shas``). A finished inspection's photos are locked by triggers (0300_photos.sql).
"""
from __future__ import annotations

import os
import sqlite3
import threading
from typing import Any, Callable, Iterable, Mapping

from inspector import blobs
from inspector.errors import EvidenceError, NotFound, StoreError, ValidationError
from inspector.evidence import ImportResult, Progress, format_gps, import_photos
from inspector.store import Store
from inspector.util import new_id, now_iso

CAPTION_MAX = 500
_LOCKED = "检查已完成并锁定，不能修改照片；如需更正请创建修订版本"
_FROM_IMPORT = ("sha256", "display_sha256", "thumb_sha256", "mime", "size", "width", "height", "taken_at",
                "gps_lat", "gps_lon", "original_name")


def _row(r: dict[str, Any]) -> dict[str, Any]:
    """A photo as callers see it: the columns plus ``place`` (GPS as caption text)."""
    r = dict(r)
    r["place"] = format_gps(r.get("gps_lat"), r.get("gps_lon")) or None
    return r


def blob_shas(photo: Mapping[str, Any]) -> list[str]:
    """The blobs HQ must hold before it accepts this row."""
    return [s for s in (photo.get("sha256"), photo.get("display_sha256"), photo.get("thumb_sha256")) if s]


def _inspection_open(store: Store, inspection_id: str) -> None:
    r = store.one("SELECT status FROM inspections WHERE id = ?", (inspection_id,))
    if not r:
        raise NotFound(f"检查 {inspection_id} 不存在")
    if r["status"] == "finished":
        raise StoreError(_LOCKED)


def _wrap(e: sqlite3.IntegrityError) -> StoreError:
    return StoreError(_LOCKED) if "locked" in str(e) else StoreError(f"照片记录写入失败：{e}")


def get_photo(store: Store, photo_id: str) -> dict[str, Any]:
    r = store.one("SELECT * FROM photos WHERE id = ?", (photo_id,))
    if not r:
        raise NotFound(f"照片 {photo_id} 不存在")
    return _row(r)


def add_photo(
    store: Store,
    inspection_id: str,
    imported: ImportResult | Mapping[str, Any],
    item_id: str | None = None,
    *,
    finding_id: str | None = None,
    caption: str | None = None,
    inspector_id: str | None = None,
    checklist_version_id: str | None = None,
    actor: str | None = None,
) -> dict[str, Any]:
    """Record an imported photo for an inspection (and item/finding); returns the row.

    A picture already attached to the same inspection and item returns that row
    (``created`` False), filling in a finding or caption it did not have yet.
    """
    get = imported.get if isinstance(imported, Mapping) else lambda k, d=None: getattr(imported, k, d)
    name = get("original_name") or get("path") or "?"
    if get("status", "ok") != "ok":
        raise EvidenceError(get("error") or f"{name}: 未成功导入，不能登记")
    bs = blobs.store(store.home)
    for key in ("sha256", "display_sha256", "thumb_sha256"):
        sha = get(key)
        if not sha or not bs.has(sha):
            raise EvidenceError(f"{name}: 证据库中缺少文件（{key}={sha}），请重新导入")
    caption = _clean_caption(caption)
    _inspection_open(store, inspection_id)
    if finding_id is not None:
        _check_finding(store, inspection_id, finding_id)
    ts = now_iso()
    try:
        with store.tx() as db:
            old = store.one("SELECT * FROM photos WHERE inspection_id = ? AND ifnull(item_id, '') = ifnull(?, '')"
                            " AND sha256 = ?", (inspection_id, item_id, get("sha256")))
            if old:
                fill = {k: v for k, v in (("finding_id", finding_id), ("caption", caption)) if v and not old[k]}
                if fill:
                    db.table("photos").update(old["id"], {**fill, "updated_at": ts})
                    store.log("photo", old["id"], "update", fill, actor=actor or inspector_id)
                if isinstance(imported, ImportResult):
                    imported.photo_id = old["id"]
                return {**get_photo(store, old["id"]), "created": False}
            pos = store.scalar("SELECT ifnull(max(position), -1) + 1 FROM photos WHERE inspection_id = ?"
                               " AND ifnull(item_id, '') = ifnull(?, '')", (inspection_id, item_id))
            row = {"id": new_id(), "inspection_id": inspection_id, "item_id": item_id,
                   "checklist_version_id": checklist_version_id, "finding_id": finding_id,
                   **{k: get(k) for k in _FROM_IMPORT}, "caption": caption, "inspector_id": inspector_id,
                   "position": pos, "created_at": ts, "updated_at": ts}
            db.table("photos").insert(row)
            store.log("photo", row["id"], "add", row, actor=actor or inspector_id)
    except sqlite3.IntegrityError as e:
        raise _wrap(e) from e
    if isinstance(imported, ImportResult):
        imported.photo_id = row["id"]
    return {**_row(row), "created": True}


def record_imports(
    store: Store,
    inspection_id: str,
    results: Iterable[ImportResult],
    item_id: str | None = None,
    *,
    finding_id: str | None = None,
    inspector_id: str | None = None,
    checklist_version_id: str | None = None,
    actor: str | None = None,
) -> list[ImportResult]:
    """Record every successful import in one transaction; sets ``photo_id`` on each. Failed
    and cancelled results pass through untouched."""
    results = list(results)
    with store.tx():
        for r in results:
            if r.ok:
                row = add_photo(store, inspection_id, r, item_id, finding_id=finding_id, inspector_id=inspector_id,
                                checklist_version_id=checklist_version_id, actor=actor)
                r.photo_id = row["id"]
                r.duplicate = not row["created"]
    return results


def import_into(
    store: Store,
    inspection_id: str,
    paths: Iterable[str | os.PathLike[str]],
    item_id: str | None = None,
    *,
    finding_id: str | None = None,
    inspector_id: str | None = None,
    checklist_version_id: str | None = None,
    workers: int | None = None,
    progress: Progress | None = None,
    cancel: threading.Event | None = None,
    on_result: Callable[[ImportResult], object] | None = None,
    actor: str | None = None,
) -> list[ImportResult]:
    """Import files (in parallel) and attach them to an inspection/item: the GUI's one call.
    Checks the inspection first, so a locked one costs no work."""
    _inspection_open(store, inspection_id)
    if finding_id is not None:
        _check_finding(store, inspection_id, finding_id)
    results = import_photos(store.home, paths, workers=workers, progress=progress, cancel=cancel,
                            on_result=on_result)
    return record_imports(store, inspection_id, results, item_id, finding_id=finding_id,
                          inspector_id=inspector_id, checklist_version_id=checklist_version_id, actor=actor)


def list_photos(store: Store, inspection_id: str, item_id: str | None = None, *,
                finding_id: str | None = None) -> list[dict[str, Any]]:
    """An inspection's photos (optionally one item's or one finding's), in display order."""
    sql, args = "SELECT * FROM photos WHERE inspection_id = ?", [inspection_id]
    if item_id is not None:
        sql += " AND item_id = ?"
        args.append(item_id)
    if finding_id is not None:
        sql += " AND finding_id = ?"
        args.append(finding_id)
    sql += " ORDER BY item_id IS NOT NULL, item_id, position, created_at, id"
    return [_row(r) for r in store.rows(sql, args)]


def photo_counts(store: Store, inspection_id: str) -> dict[str, int]:
    """Photos per checklist item (items without photos are absent); what rules.evaluate takes."""
    return {r["item_id"]: r["n"] for r in store.rows(
        "SELECT item_id, count(*) AS n FROM photos WHERE inspection_id = ? AND item_id IS NOT NULL"
        " GROUP BY item_id", (inspection_id,))}


def _clean_caption(caption: str | None) -> str | None:
    if caption is None:
        return None
    caption = " ".join(str(caption).split())
    if len(caption) > CAPTION_MAX:
        raise ValidationError(f"照片说明（caption）过长：{len(caption)} 字，上限 {CAPTION_MAX} 字")
    return caption or None


def _check_finding(store: Store, inspection_id: str, finding_id: str) -> None:
    f = store.one("SELECT inspection_id FROM findings WHERE id = ?", (finding_id,))
    if not f:
        raise NotFound(f"问题 {finding_id} 不存在")
    if f["inspection_id"] != inspection_id:
        raise ValidationError(f"问题 {finding_id} 不属于检查 {inspection_id}，不能关联照片")


def _update(store: Store, photo_id: str, fields: dict[str, Any], action: str, actor: str | None) -> dict[str, Any]:
    p = get_photo(store, photo_id)
    _inspection_open(store, p["inspection_id"])
    try:
        with store.tx() as db:
            db.table("photos").update(photo_id, {**fields, "updated_at": now_iso()})
            store.log("photo", photo_id, action, fields, actor=actor)
    except sqlite3.IntegrityError as e:
        raise _wrap(e) from e
    return get_photo(store, photo_id)


def set_caption(store: Store, photo_id: str, caption: str | None, *, actor: str | None = None) -> dict[str, Any]:
    """Free-text caption (whitespace collapsed, empty clears it); drawn by the documents."""
    return _update(store, photo_id, {"caption": _clean_caption(caption)}, "caption", actor)


def attach_to_finding(store: Store, photo_id: str, finding_id: str | None, *,
                      actor: str | None = None) -> dict[str, Any]:
    """Key a photo to a finding of the same inspection (None detaches it)."""
    if finding_id is not None:
        _check_finding(store, get_photo(store, photo_id)["inspection_id"], finding_id)
    return _update(store, photo_id, {"finding_id": finding_id}, "attach", actor)


def _siblings(store: Store, inspection_id: str, item_id: str | None) -> list[dict[str, Any]]:
    return [_row(r) for r in store.rows(
        "SELECT * FROM photos WHERE inspection_id = ? AND ifnull(item_id, '') = ifnull(?, '')"
        " ORDER BY position, created_at, id", (inspection_id, item_id))]


def move_photo(store: Store, photo_id: str, position: int, *, actor: str | None = None) -> list[dict[str, Any]]:
    """Put a photo at ``position`` among its inspection+item siblings; returns them in order."""
    p = get_photo(store, photo_id)
    _inspection_open(store, p["inspection_id"])
    ids = [r["id"] for r in _siblings(store, p["inspection_id"], p["item_id"])]
    ids.remove(photo_id)
    ids.insert(max(0, min(position, len(ids))), photo_id)
    ts = now_iso()
    with store.tx() as db:
        for i, pid in enumerate(ids):
            cur = db.execute("UPDATE photos SET position = ?, updated_at = ? WHERE id = ? AND position <> ?",
                             (i, ts, pid, i))
            if cur.rowcount and pid != photo_id:
                store.enqueue("photo", pid, "upsert", {})  # its new position must reach HQ too
        store.log("photo", photo_id, "move", {"position": ids.index(photo_id)}, actor=actor)
    return _siblings(store, p["inspection_id"], p["item_id"])


def remove_photo(store: Store, photo_id: str, *, actor: str | None = None) -> None:
    """Drop the row (the blobs stay: content-addressed, maybe shared, and evidence of what was taken).
    HQ is told with a ``delete`` op; a not-yet-attempted upsert for the row is dropped."""
    p = get_photo(store, photo_id)
    _inspection_open(store, p["inspection_id"])
    try:
        with store.tx() as db:
            db.execute("DELETE FROM photos WHERE id = ?", (photo_id,))
            db.execute("DELETE FROM outbox WHERE entity = 'photo' AND entity_id = ? AND op = 'upsert'"
                       " AND sent_at IS NULL AND attempts = 0", (photo_id,))
            store.log("photo", photo_id, "remove", {"inspection_id": p["inspection_id"], "sha256": p["sha256"]},
                      actor=actor, push=False)
            store.enqueue("photo", photo_id, "delete", {"inspection_id": p["inspection_id"]})
    except sqlite3.IntegrityError as e:
        raise _wrap(e) from e


def copy_photos(store: Store, from_inspection_id: str, to_inspection_id: str,
                finding_map: Mapping[str, str] | None = None, *, actor: str | None = None) -> int:
    """Copy rows to an amendment (new revision), re-keying findings by ``finding_map``
    (old id → new id); the blobs are shared. Returns how many were copied."""
    ts = now_iso()
    n = 0
    with store.tx() as db:
        for r in store.rows("SELECT * FROM photos WHERE inspection_id = ?", (from_inspection_id,)):
            fid = r["finding_id"]
            r.update(id=new_id(), inspection_id=to_inspection_id, created_at=ts, updated_at=ts,
                     finding_id=(finding_map or {}).get(fid) if fid else None)
            db.table("photos").insert(r)
            store.log("photo", r["id"], "add", r, actor=actor)
            n += 1
    return n
