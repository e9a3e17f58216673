"""Checklist versions in the local store: the exact TOML an inspection used, forever.

A version id is ``<checklist id>@<version>``. Storing is idempotent for the same
text; the same id with different text is refused, because a published version
never changes (bump ``version`` instead). The table's trigger forbids updates.
"""
from __future__ import annotations

from typing import TYPE_CHECKING

from inspector.errors import NotFound, ValidationError
from inspector.forms import Checklist, parse_checklist
from inspector.util import now_iso

if TYPE_CHECKING:
    from inspector.store import Store


def ensure_version(store: "Store", checklist: Checklist, *, actor: str | None = None) -> str:
    """Store ``checklist``'s source under its version id unless already there; returns the id."""
    vid = checklist.version_id
    with store.tx() as db:
        row = store.one("SELECT sha256 FROM checklist_versions WHERE id = ?", (vid,))
        if row:
            if row["sha256"] != checklist.sha256:
                raise ValidationError(
                    f"{checklist.path}: 清单 {vid} 已发布且内容不同（已存 sha256 {row['sha256'][:12]}…，"
                    f"文件 sha256 {checklist.sha256[:12]}…）；已发布的版本不能修改，请提高 version")
            return vid
        db.execute(
            "INSERT INTO checklist_versions (id, checklist_id, version, title, source, sha256, stored_at)"
            " VALUES (?, ?, ?, ?, ?, ?, ?)",
            (vid, checklist.id, checklist.version, checklist.title, checklist.source, checklist.sha256, now_iso()))
        store.log("checklist_version", vid, "store",
                  {"checklist_id": checklist.id, "version": checklist.version, "sha256": checklist.sha256},
                  actor=actor, push=False)
    return vid


def load_version(store: "Store", version_id: str) -> Checklist:
    """The checklist exactly as stored (parsed from the stored text)."""
    row = store.one("SELECT source, sha256 FROM checklist_versions WHERE id = ?", (version_id,))
    if row is None:
        raise NotFound(f"没有清单版本 {version_id}")
    cl = parse_checklist(row["source"], f"checklist_versions:{version_id}")
    if cl.sha256 != row["sha256"] or cl.version_id != version_id:
        raise ValidationError(f"checklist_versions:{version_id}: 存储内容与其 sha256 或版本号不符")
    return cl


def list_versions(store: "Store") -> list[dict]:
    """id, checklist_id, version, title, sha256, stored_at of every stored version."""
    return store.rows("SELECT id, checklist_id, version, title, sha256, stored_at FROM checklist_versions"
                      " ORDER BY checklist_id, stored_at")


def current_version_id(store: "Store", checklist_id: str) -> str | None:
    """The newest stored version of a checklist (HQ's latest publication supersedes older ones),
    by version number (2026.10 after 2026.9); None when none is stored."""
    rows = store.rows("SELECT id, version FROM checklist_versions WHERE checklist_id = ?", (checklist_id,))
    return max(rows, key=lambda r: version_key(r["version"]))["id"] if rows else None


def choices(store: "Store", shipped: list[Checklist]) -> list[dict]:
    """What a new visit can tick: every shipped checklist and every one HQ sent that the laptop's
    files lack, each with the title and version a visit started now would use (the newest stored,
    else the shipped file's). Shipped first, in their order, then HQ's by title."""
    newest: dict[str, dict] = {}
    for r in list_versions(store):
        cur = newest.get(r["checklist_id"])
        if cur is None or version_key(r["version"]) > version_key(cur["version"]):
            newest[r["checklist_id"]] = r
    out = []
    for c in shipped:
        got = newest.pop(c.id, None)
        use = got if got is not None and version_key(got["version"]) >= version_key(c.version) else None
        out.append({"id": c.id, "title": use["title"] if use else c.title, "version": use["version"] if use
                    else c.version, "shipped": True})
    out += [{"id": cid, "title": r["title"], "version": r["version"], "shipped": False}
            for cid, r in sorted(newest.items(), key=lambda kv: kv[1]["title"] or kv[0])]
    return out


def version_key(version: str) -> tuple[tuple[int, str], ...]:
    """2026.10 after 2026.9: numeric parts compare as numbers, others as text."""
    import re

    return tuple((0, p.zfill(20)) if p.isdigit() else (1, p) for p in re.split(r"[._+-]", version))
