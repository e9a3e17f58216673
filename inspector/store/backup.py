"""Rolling local backups of the store, and restore.

A backup is a folder ``<data>/backups/<UTC stamp>-<reason>/`` holding a consistent copy of the
database made with SQLite's online backup API (the app keeps running) and the device's public
key (to check the copy's signed audit checkpoints), and ``keys/``: the personal-data key's public key
and passphrase wrappings and the sealed device key — ciphertext only, so a restore on a fresh laptop
opens the trainees' data, the device token and the device key with an inspector's passphrase (no
plaintext private key leaves the data folder; the pending file before a first passphrase stays).
Photos and PDFs stay in the content-addressed ``blobs/`` beside it; a copy on a second folder
also gets every blob the drive lacks. One is made at every finish and, on start, when the newest is older than a
day; the inspector may name a second folder (e.g. a USB drive) that gets a copy too. Kept: the
newest ``keep`` (default 10) and every one younger than ``days`` (default 7).

Restore checks the copy first (SQLite's check and the whole audit/seal check), never deletes the
store it replaces (it is renamed ``inspector.db.replaced-<stamp>``), and refuses to replace a
store that holds work the backup lacks (unsent changes or a longer audit chain) unless told to.
"""
from __future__ import annotations

import datetime as dt
import json
import logging
import os
import shutil
import sqlite3
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from inspector.errors import StoreError

if TYPE_CHECKING:
    from inspector.store import Store

log = logging.getLogger(__name__)

DIR = "backups"
INFO = "backup.json"
PUBLIC_KEY = "device-ed25519.pub.pem"   # the device's public key: enough to check a copy's checkpoints
KEYS = "keys"                           # key wrappings (ciphertext and public keys only): see _key_files
KEEP, DAYS = 5, 7


@dataclass
class BackupInfo:
    name: str
    path: Path
    made_at: str
    reason: str
    audit_seq: int
    inspections: int
    unsent: int
    size: int

    def as_dict(self) -> dict[str, Any]:
        return {k: (str(v) if isinstance(v, Path) else v) for k, v in self.__dict__.items()}


def _root(home: Path) -> Path:
    return home / DIR


def _stamp(now: dt.datetime | None = None) -> str:
    return (now or dt.datetime.now(dt.timezone.utc)).strftime("%Y%m%dT%H%M%S%fZ")


def _facts(conn: sqlite3.Connection) -> dict[str, int]:
    one = lambda sql: int(conn.execute(sql).fetchone()[0] or 0)  # noqa: E731
    return {"audit_seq": one("SELECT COALESCE(MAX(seq), 0) FROM audit_log"),
            "inspections": one("SELECT count(*) FROM inspections"),
            "unsent": one("SELECT count(*) FROM outbox WHERE sent_at IS NULL")}


def create(store: "Store", reason: str = "manual", *, extra_dir: str | os.PathLike[str] | None = None) -> BackupInfo:
    """A consistent copy of the open store (and its keys) in the data folder (and ``extra_dir``)."""
    now = dt.datetime.now(dt.timezone.utc)
    name = f"{_stamp(now)}-{reason}"
    dest = _root(store.home) / name
    tmp = dest.with_name(dest.name + ".partial")
    tmp.mkdir(parents=True, mode=0o700)
    try:
        out = sqlite3.connect(tmp / "inspector.db")
        try:
            with store._lock:  # a consistent snapshot between two write transactions
                store.conn.backup(out)
            if out.execute("PRAGMA quick_check").fetchone()[0] != "ok":
                raise StoreError(f"备份 {name} 的副本未通过完整性检查，已放弃")
            facts = _facts(out)
        finally:
            out.close()
        from inspector import keys

        if keys.device_public_keys(store.home):  # to check the copy's checkpoints
            (tmp / PUBLIC_KEY).write_bytes(keys.device_public_pem(store.home))
        _copy_keys(keys.keys_dir(store.home), tmp / KEYS)
        size = (tmp / "inspector.db").stat().st_size
        info = {"made_at": now.isoformat(timespec="seconds"), "reason": reason, **facts, "size": size}
        (tmp / INFO).write_text(json.dumps(info, ensure_ascii=False, indent=1), encoding="utf-8")
        os.chmod(tmp / "inspector.db", 0o600)
        tmp.rename(dest)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    extra = extra_dir or store.get_meta("backup_extra_dir")
    if extra:
        try:
            target = Path(extra) / "inspector-backups" / name
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copytree(dest, target)
            _copy_new_blobs(store.home / "blobs", Path(extra) / "inspector-backups" / "blobs")
        except OSError as e:  # a missing USB drive must not lose the local backup
            log.warning("backup %s not copied to %s: %s", name, extra, e)
    prune(store)
    log.info("backup %s made (%s, %d bytes)", name, reason, size)
    return _info(dest)


def _key_files(src: Path) -> list[Path]:
    """What a backup carries of ``keys/``: the personal-data key's public key, its passphrase
    wrappings and retired public keys, and the sealed device key with its public keys — all
    ciphertext or public. Never ``pii-pending.pem`` (a plaintext key, before the first passphrase)."""
    from inspector import keys

    out = [p for p in (src / "pii").rglob("*") if p.is_file() and not p.name.endswith(".tmp")] \
        if (src / "pii").is_dir() else []
    out += [src / n for n in (keys.DEVICE_SEALED_FILE, keys.DEVICE_PUBLIC_FILE) if (src / n).is_file()]
    rd = src / keys.DEVICE_RETIRED_DIR
    out += sorted(rd.glob("*.pub.pem")) if rd.is_dir() else []
    return out


def _copy_keys(src: Path, dst: Path, *, only_missing: bool = False) -> list[str]:
    copied = []
    for f in _key_files(src):
        t = dst / f.relative_to(src)
        if only_missing and t.exists():
            continue
        t.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        shutil.copyfile(f, t)
        os.chmod(t, 0o600)
        copied.append(str(f.relative_to(src)))
    return copied


def _restore_keys(src: Path, home: Path) -> list[str]:
    """The backup's key wrappings into a data folder that has no personal-data key of its own (a fresh
    laptop, a lost ``keys/``), or that has the same key (wrappings it lacks are added). A folder with
    another key keeps it: the restored values then open only where the backup's key is (said in the log)."""
    from inspector import keys, pii

    theirs = src / KEYS / "pii" / "public.pem"
    if not theirs.is_file():
        return []
    mine = pii._dir(home) / "public.pem"
    if mine.is_file() and mine.read_bytes() != theirs.read_bytes():
        log.warning("restore: %s has its own personal-data key; the backup's key (and its wrappings) not copied", home)
        return []
    pii.lock(home)  # cached public keys of this folder are stale now
    return _copy_keys(src / KEYS, keys.keys_dir(home), only_missing=mine.is_file())


def _copy_new_blobs(src: Path, dst: Path) -> int:
    """Photos and PDFs are content-addressed: copy only the files the drive lacks."""
    n = 0
    if not src.is_dir():
        return 0
    for f in src.rglob("*"):
        if f.is_file():
            t = dst / f.relative_to(src)
            if not t.exists():
                t.parent.mkdir(parents=True, exist_ok=True)
                shutil.copy2(f, t)
                n += 1
    return n


def _info(path: Path) -> BackupInfo:
    try:
        d = json.loads((path / INFO).read_text(encoding="utf-8"))
    except (OSError, ValueError) as e:
        raise StoreError(f"备份 {path.name} 缺少或无法读取说明文件 {INFO}（{e}）") from e
    return BackupInfo(path.name, path, d.get("made_at", ""), d.get("reason", ""), int(d.get("audit_seq", 0)),
                      int(d.get("inspections", 0)), int(d.get("unsent", 0)), int(d.get("size", 0)))


def list_backups(home: Path, where: str | os.PathLike[str] | None = None) -> list[BackupInfo]:
    """Newest first; ``where`` a backup folder elsewhere (a USB drive's ``inspector-backups``)."""
    root = Path(where) if where else _root(home)
    if not root.is_dir():
        return []
    out = []
    for p in root.iterdir():
        if p.is_dir() and not p.name.endswith(".partial") and (p / INFO).exists():
            try:
                out.append(_info(p))
            except StoreError as e:
                log.warning("%s", e)
    return sorted(out, key=lambda b: b.name, reverse=True)


def prune(store: "Store") -> list[str]:
    """Keep the newest ``keep`` backups and, beyond them, the newest of each day of the last
    ``days`` days; drop the rest (so a busy week costs ``keep + days`` copies, not hundreds)."""
    keep = int(store.get_meta("backup_keep") or KEEP)
    days = int(store.get_meta("backup_days") or DAYS)
    cutoff = dt.datetime.now(dt.timezone.utc) - dt.timedelta(days=days)
    gone, seen_days = [], set()
    for b in list_backups(store.home)[keep:]:
        try:
            made = dt.datetime.fromisoformat(b.made_at)
        except ValueError:
            continue
        if made >= cutoff and made.date() not in seen_days:
            seen_days.add(made.date())
            continue
        shutil.rmtree(b.path, ignore_errors=True)
        gone.append(b.name)
    return gone


def auto(store: "Store", reason: str) -> BackupInfo | None:
    """The automatic backup (after a finish; daily at start). Never raises: a failed backup is
    logged and the work it follows stands."""
    try:
        if reason == "daily":
            newest = list_backups(store.home)[:1]
            if newest and dt.datetime.now(dt.timezone.utc) - dt.datetime.fromisoformat(newest[0].made_at) \
                    < dt.timedelta(days=1):
                return None
        return create(store, reason)
    except (OSError, sqlite3.Error, StoreError, ValueError) as e:
        log.error("automatic backup (%s) failed: %s", reason, e)
        return None


def restore(home: Path, name: str, *, force: bool = False, where: str | os.PathLike[str] | None = None) -> dict[str, Any]:
    """Put backup ``name`` in place of the store in ``home`` (see the module's rules)."""
    from inspector.store import DB_NAME, Store, integrity

    src = (Path(where) if where else _root(home)) / name
    if not (src / "inspector.db").is_file():
        raise StoreError(f"没有名为 {name} 的备份（在 {src.parent}）；用 inspector backup list 查看")
    b = Store(src / "inspector.db")
    try:
        bad = integrity.quick_check(b)
        if bad:
            raise StoreError(f"备份 {name} 已损坏，不能恢复：{'；'.join(bad[:3])}")
        rep = integrity.verify(b)
        if not rep.ok:
            raise StoreError(f"备份 {name} 的审计链或记录被改动，不能恢复：{'；'.join(rep.problems[:3])}")
        mine = _facts(b.conn)
    finally:
        b.close()
    cur = home / DB_NAME
    if cur.exists():
        try:
            c = Store(cur)
            theirs = _facts(c.conn)
            c.close()
        except StoreError:
            theirs = None  # the current store is damaged: replacing it is what restore is for
        if theirs and not force and (theirs["unsent"] > 0 or theirs["audit_seq"] > mine["audit_seq"]):
            raise StoreError(
                f"本机数据比备份 {name} 新（审计链第 {theirs['audit_seq']} 条，备份只到第 {mine['audit_seq']} 条；"
                f"未同步 {theirs['unsent']} 项），恢复会使这些工作离开当前数据库。确需恢复请加 --force"
                "（当前数据库不会删除，会改名保存）")
        aside = cur.with_name(f"{DB_NAME}.replaced-{_stamp()}")
        for suffix in ("", "-wal", "-shm"):
            p = cur.with_name(cur.name + suffix)
            if p.exists():
                p.rename(aside.with_name(aside.name + suffix))
    home.mkdir(parents=True, exist_ok=True, mode=0o700)  # a fresh laptop: the data folder is new
    src_conn, dst_conn = sqlite3.connect(src / "inspector.db"), sqlite3.connect(cur)
    try:
        src_conn.backup(dst_conn)
    finally:
        src_conn.close()
        dst_conn.close()
    os.chmod(cur, 0o600)
    keys_copied = _restore_keys(src, home)
    log.info("restored backup %s into %s (%d key files)", name, home, len(keys_copied))
    return {"restored": name, **mine, "keys": keys_copied}
