"""Checklist versions HQ publishes from the console (authored in XLSX, converted to the canonical
TOML). A published version never changes: the same id@version with other content is refused, a
new version supersedes the old one. Publication goes through ``service.upsert_entity`` so laptops
pull the version on their next sync."""
from __future__ import annotations

import logging
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from inspector import forms
from inspector.errors import ValidationError
from inspector.hq import db as D
from inspector.hq import service
from inspector.store.checklists import version_key
from inspector.util import now_iso

logger = logging.getLogger(__name__)


def versions(engine: Engine) -> list[dict[str, Any]]:
    """Every stored version, newest first per checklist, with ``current`` on the one in force."""
    with engine.connect() as conn:
        rows = [dict(r._mapping) for r in conn.execute(sa.select(
            D.checklist_versions.c.id, D.checklist_versions.c.checklist_id, D.checklist_versions.c.version,
            D.checklist_versions.c.title, D.checklist_versions.c.sha256, D.checklist_versions.c.stored_at)).all()]
    rows.sort(key=lambda r: (r["checklist_id"], version_key(r["version"])), reverse=True)
    seen: set[str] = set()
    for r in rows:
        r["current"] = r["checklist_id"] not in seen
        seen.add(r["checklist_id"])
    rows.sort(key=lambda r: r["checklist_id"])
    return rows


def stored(engine: Engine, version_id: str) -> dict[str, Any] | None:
    with engine.connect() as conn:
        r = conn.execute(sa.select(D.checklist_versions).where(D.checklist_versions.c.id == version_id)).first()
    return dict(r._mapping) if r is not None else None


def check_new(engine: Engine, cl: forms.Checklist) -> str | None:
    """Why ``cl`` cannot be published (already there / same id@version, other content / older), or None."""
    have = stored(engine, cl.version_id)
    if have is not None:
        if have["sha256"] == cl.sha256:
            return f"{cl.version_id} 已于 {have['stored_at'][:16].replace('T', ' ')} 发布，内容相同，无需重复发布"
        return f"{cl.version_id} 已发布且内容不同；已发布的版本不能修改，请在 settings 表提高 version 后重新上传"
    newer = [r for r in versions(engine) if r["checklist_id"] == cl.id
             and version_key(r["version"]) > version_key(cl.version)]
    if newer:
        return f"已有更新的版本 {newer[0]['id']}；新发布的版本号须高于它"
    return None


def publish(engine: Engine, cl: forms.Checklist, actor: str | None = None) -> str:
    """Store ``cl`` (immutable) and put it in the pull log; returns its version id."""
    why = check_new(engine, cl)
    if why:
        raise ValidationError(why)
    with D.write(engine) as conn:
        service.upsert_entity(conn, "checklist_version", {
            "id": cl.version_id, "checklist_id": cl.id, "version": cl.version, "title": cl.title,
            "source": cl.source, "sha256": cl.sha256, "stored_at": now_iso()})
        from inspector.hq.console import data

        data.event(conn, actor, "发布检查表", "checklist_version", cl.version_id,
                   {"sha256": cl.sha256, "items": len(cl.items)})
    logger.info("checklist %s published by %s", cl.version_id, actor)
    return cl.version_id
