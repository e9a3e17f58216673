"""Tamper evidence and damage checks on the laptop itself, without HQ.

- **Damage**: :func:`preflight` looks at the file before SQLite touches it (a 0-byte, truncated
  or non-SQLite file is refused, never replaced by a new empty store); :func:`quick_check`
  runs SQLite's own check. The CLI, the GUI and sync refuse a store that fails either.
- **Signed checkpoints**: at every finish, every document signature and every
  ``CHECKPOINT_EVERY`` entries, ``(seq, hash)`` of the audit chain is signed with the device's
  Ed25519 key (``keys.device_key``). Editing the log and recomputing its SHA-256 chain no longer
  verifies: the hash at a checkpoint changes and its signature fails.
- **Seals**: the finish entry of an inspection carries its sealed state (answers, findings,
  photos, signatures). :func:`verify` compares every finished inspection's rows with its seal,
  and every document's file hash with the last hash the log recorded for it, so a direct edit
  after dropping a lock trigger is reported with the row and the old and new value.
"""
from __future__ import annotations

import base64
import json
import logging
import os
import struct
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from inspector.errors import StoreError

if TYPE_CHECKING:
    from inspector.store import Store

log = logging.getLogger(__name__)

SQLITE_MAGIC = b"SQLite format 3\x00"
CHECKPOINT_EVERY = 256
CHECKPOINT_ACTIONS = frozenset({"finish", "sign", "amend"})
# what a finish seals: table -> key columns (rows are compared column by column)
SEALED: dict[str, tuple[str, ...]] = {
    "answers": ("checklist_version_id", "item_id"),
    "findings": ("id",),
    "photos": ("id",),
    "signatures": ("id",),
}
WHAT_TO_DO = ("文件未被改动。请不要删除或覆盖它；请关闭程序，把数据目录整个复制一份交技术支持，"
              "或用“inspector backup restore”从备份恢复（已同步的记录也可在重新登记后从总部取回）。")


class StoreDamaged(StoreError):
    """The database file is damaged or not a database; ``problems`` says what and what to do."""

    def __init__(self, path: Path, what: str):
        super().__init__(f"数据库文件 {path} 无法使用：{what}")
        self.path = path
        self.problems = [str(self), WHAT_TO_DO]


class StoreTampered(StoreError):
    """The audit chain or a finished record was changed outside the app."""

    def __init__(self, problems: list[str]):
        super().__init__(f"本机数据被改动过（{len(problems)} 处），为保护证据，已停止同步")
        self.problems = [str(self), *problems,
                         "请勿继续使用本机办理检查；请联系总部技术支持核查（总部保有已同步记录的副本）。"]


# -- damage --------------------------------------------------------------------------------------
def preflight(path: Path) -> None:
    """Refuse a file that is not a whole SQLite database, before SQLite opens (and might rewrite) it.
    A missing file is fine (a new store); anything present must be a database."""
    try:
        st = path.stat()
    except FileNotFoundError:
        return
    if st.st_size == 0:
        raise StoreDamaged(path, "文件大小为 0 字节（可能是磁盘已满、复制中断或被清空）")
    try:
        with open(path, "rb") as f:
            head = f.read(100)
    except OSError as e:
        raise StoreDamaged(path, f"文件无法读取（{e.strerror or e}）") from e
    if len(head) < 100 or not head.startswith(SQLITE_MAGIC):
        raise StoreDamaged(path, "这不是 SQLite 数据库文件（文件头不符）")
    page_size = struct.unpack(">H", head[16:18])[0]
    page_size = 65536 if page_size == 1 else page_size
    pages, counter, valid_for = struct.unpack(">I", head[28:32])[0], head[24:28], head[92:96]
    if page_size < 512 or page_size & (page_size - 1):
        raise StoreDamaged(path, f"文件头中的页大小 {page_size} 无效")
    if pages and counter == valid_for and st.st_size < pages * page_size:
        raise StoreDamaged(path, f"文件被截断：应有 {pages * page_size} 字节，实际只有 {st.st_size} 字节")


def quick_check(store: "Store") -> list[str]:
    """SQLite's quick_check, as problem lines in Chinese (empty when the file is sound)."""
    import sqlite3

    try:
        rows = [r[0] for r in store.conn.execute("PRAGMA quick_check").fetchall()]
    except sqlite3.DatabaseError as e:
        return [f"数据库损坏：{e}"]
    return [] if rows == ["ok"] else [f"数据库损坏：{r}" for r in rows[:20]]


def lock_dir(path: Path) -> None:
    """The data folder and the database are the user's alone (0700 / 0600 on POSIX)."""
    if os.name != "posix":
        return
    try:
        os.chmod(path.parent, 0o700)
        for p in (path, path.with_name(path.name + "-wal"), path.with_name(path.name + "-shm")):
            if p.exists():
                os.chmod(p, 0o600)
    except OSError as e:  # a folder we do not own (e.g. a shared mount): say so, go on
        log.warning("cannot restrict permissions of %s: %s", path.parent, e)


# -- checkpoints ---------------------------------------------------------------------------------
def _message(seq: int, h: str) -> bytes:
    return f"inspector-audit:{seq}:{h}".encode("ascii")


def want_checkpoint(seq: int, action: str) -> bool:
    return action in CHECKPOINT_ACTIONS or seq % CHECKPOINT_EVERY == 0


def write_checkpoint(store: "Store", seq: int, h: str) -> None:
    """Sign ``(seq, hash)`` with the device key; call inside the transaction that wrote the entry.

    The device key is sealed (pii.seal_secret): in a process that cannot open it yet (no OS key
    store, no passphrase given) the checkpoint is left pending in ``meta`` and signed, oldest first,
    by the next checkpoint written once the key is open (a signature, the next finish) or by
    ``sign_pending`` at an unlock. Verify accepts pending checkpoints after the last signed one only."""
    from inspector import keys, pii

    key = store.__dict__.get("_audit_key")
    if key is None:  # loaded once per open store: a finish must not pay for unsealing
        try:
            key = store.__dict__["_audit_key"] = keys.device_key(store.home)
        except pii.Locked:
            pending = _pending(store)
            if seq not in pending:
                _set_pending(store, pending + [seq])
            log.info("audit checkpoint %d pending: device key locked in this process", seq)
            return
    pending = _pending(store)
    for p in pending:  # left while the key was locked: signed now, as the log stands
        r = store.conn.execute("SELECT hash FROM audit_log WHERE seq = ?", (p,)).fetchone()
        if r and p < seq:
            _insert_checkpoint(store, key, p, r[0])
    if pending:
        _set_pending(store, [])
    _insert_checkpoint(store, key, seq, h)


def _insert_checkpoint(store: "Store", key: Any, seq: int, h: str) -> None:
    from inspector.util import now_iso

    sig = key.sign(_message(seq, h))
    store.conn.execute("INSERT OR IGNORE INTO audit_checkpoints (seq, hash, signature, at) VALUES (?, ?, ?, ?)",
                       (seq, h, base64.b64encode(sig).decode("ascii"), now_iso()))


def _pending(store: "Store") -> list[int]:
    r = store.conn.execute("SELECT value FROM meta WHERE key = 'checkpoints_pending'").fetchone()
    try:
        return [int(x) for x in json.loads(r[0])] if r and r[0] else []
    except (ValueError, TypeError):
        return []


def _set_pending(store: "Store", seqs: list[int]) -> None:
    store.conn.execute("INSERT INTO meta(key, value) VALUES ('checkpoints_pending', ?)"
                       " ON CONFLICT(key) DO UPDATE SET value = excluded.value", (json.dumps(seqs),))


def sign_pending(store: "Store") -> int:
    """Sign the checkpoints left pending while the device key was locked (after an unlock); returns how many."""
    from inspector import keys, pii

    pending = _pending(store)
    if not pending or not keys.device_key_available(store.home):
        return 0
    try:
        key = store.__dict__["_audit_key"] = keys.device_key(store.home)
    except pii.Locked:
        return 0
    with store.tx():
        for p in _pending(store):
            r = store.conn.execute("SELECT hash FROM audit_log WHERE seq = ?", (p,)).fetchone()
            if r:
                _insert_checkpoint(store, key, p, r[0])
        _set_pending(store, [])
    log.info("signed %d audit checkpoints left pending while the device key was locked", len(pending))
    return len(pending)


def _public_keys(store: "Store") -> list[Any]:
    """The device's public keys (current and retired by a reset); a backup folder carries its own."""
    from inspector import keys

    from cryptography.hazmat.primitives import serialization

    found = keys.device_public_keys(store.home)
    if found:
        return found
    pub = store.home / "device-ed25519.pub.pem"
    if pub.exists():
        return [serialization.load_pem_public_key(pub.read_bytes())]
    return []


def _check_checkpoints(store: "Store", after: int = 0) -> tuple[list[str], int]:
    """Each checkpoint after ``after`` against the log and the device key; returns (problems, last ok seq)."""
    cps = store.rows("SELECT c.seq, c.hash, c.signature, a.hash AS log_hash FROM audit_checkpoints c"
                     " LEFT JOIN audit_log a ON a.seq = c.seq WHERE c.seq > ? ORDER BY c.seq", (after,))
    if not cps:
        return [], after
    pubs = _public_keys(store)
    if not pubs:
        return ["审计签名密钥缺失：无法核对审计链的签名检查点（密钥文件被删除？）"], after
    problems: list[str] = []
    last = after
    for c in cps:
        if c["log_hash"] is None:
            problems.append(f"审计日志第 {c['seq']} 条缺失（签名检查点指向它）：日志被删改")
            continue
        if c["log_hash"] != c["hash"]:
            problems.append(f"审计日志第 {c['seq']} 条与其签名检查点不符：日志被改写后重算过哈希")
            continue
        if not any(_signed_by(pub, c) for pub in pubs):  # the current key, or one retired by a reset
            problems.append(f"审计检查点第 {c['seq']} 条的签名无效：检查点被伪造或改动")
            continue
        last = c["seq"]
    return problems, last


def _signed_by(pub: Any, c: dict[str, Any]) -> bool:
    from cryptography.exceptions import InvalidSignature

    try:
        pub.verify(base64.b64decode(c["signature"]), _message(c["seq"], c["hash"]))
        return True
    except (InvalidSignature, ValueError):
        return False


def _check_chain(store: "Store", after: int = 0) -> list[str]:
    """Recompute the hash chain from entry ``after`` on (seq gaps, links, contents)."""
    from inspector.store import GENESIS, chain_hash

    prev = GENESIS
    expect = after + 1
    if after:
        r = store.one("SELECT hash FROM audit_log WHERE seq = ?", (after,))
        if r is None:
            return [f"审计日志第 {after} 条缺失：日志被删改"]
        prev = r["hash"]
    problems: list[str] = []
    for r in store.conn.execute("SELECT seq, ts, actor, entity, entity_id, action, payload, prev_hash, hash"
                                " FROM audit_log WHERE seq > ? ORDER BY seq", (after,)):
        seq, ts, actor, entity, eid, action, payload, prev_hash, h = r
        if seq != expect:
            problems.append(f"审计日志缺少第 {expect}–{seq - 1} 条：日志被删改")
        expect = seq + 1
        try:
            body = json.loads(payload)
        except ValueError:
            problems.append(f"审计日志第 {seq} 条的内容不是有效的 JSON")
            prev = h
            continue
        entry = {"ts": ts, "actor": actor, "entity": entity, "entity_id": eid, "action": action, "payload": body}
        if prev_hash != prev:
            problems.append(f"审计日志第 {seq} 条未接续上一条（顺序被调换或中间被删改）")
        if chain_hash(prev_hash, entry) != h:
            problems.append(f"审计日志第 {seq} 条的内容与其哈希不符（{entity} {eid} {action}）")
        prev = h
    return problems


# -- seals ---------------------------------------------------------------------------------------
def _table_exists(store: "Store", table: str) -> bool:
    return bool(store.scalar("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?", (table,)))


def inspection_state(store: "Store", inspection_id: str) -> dict[str, dict[str, dict[str, Any]]]:
    """The rows a finish seals, keyed per table by their key columns."""
    out: dict[str, dict[str, dict[str, Any]]] = {}
    for table, key in SEALED.items():
        if not _table_exists(store, table):
            continue
        rows = store.rows(f"SELECT * FROM {table} WHERE inspection_id = ?", (inspection_id,))
        # strokes are redrawn from the PNG whose hash is sealed; they would only bloat the log
        out[table] = {"|".join(str(r[k]) for k in key): {c: v for c, v in r.items()
                                                        if c not in ("inspection_id", "strokes")}
                      for r in rows}
    return out


def _show(v: Any) -> str:
    s = "（空）" if v is None else str(v)
    return s if len(s) <= 80 else s[:77] + "…"


def _compare_seal(iid: str, sealed: dict[str, Any], now: dict[str, dict[str, dict[str, Any]]]) -> list[str]:
    problems: list[str] = []
    zh = {"answers": "答案", "findings": "问题", "photos": "照片", "signatures": "签名"}
    for table, rows in sealed.items():
        cur = now.get(table, {})
        for key, old in rows.items():
            new = cur.get(key)
            if new is None:
                problems.append(f"检查 {iid} 的{zh.get(table, table)} {key} 在完成锁定后被删除")
                continue
            for col, ov in old.items():
                if col in new and new[col] != ov:
                    problems.append(f"检查 {iid} 的{zh.get(table, table)} {key} 字段 {col} 在完成锁定后被改动："
                                    f"原为 {_show(ov)}，现为 {_show(new[col])}")
        for key in cur.keys() - rows.keys():
            if table != "signatures":  # signatures of later documents (e.g. the receipt) come after finish
                problems.append(f"检查 {iid} 的{zh.get(table, table)} {key} 在完成锁定后被加入")
    return problems


def _check_seals(store: "Store", after: int = 0) -> list[str]:
    """Finished inspections against the state sealed in their finish entry (finished after ``after``)."""
    problems: list[str] = []
    seals: dict[str, dict[str, Any] | None] = {}
    for r in store.conn.execute("SELECT entity_id, payload FROM audit_log WHERE entity = 'inspection'"
                                " AND action = 'finish' AND seq > ? ORDER BY seq", (after,)):
        try:
            seals[r[0]] = json.loads(r[1]).get("seal")
        except ValueError:
            continue
    finished = {r["id"] for r in store.rows("SELECT id FROM inspections WHERE status = 'finished'")}
    if not after:
        logged = set(seals)
        for iid in sorted(finished - logged):
            problems.append(f"检查 {iid} 标记为已完成，但审计日志中没有它的完成记录")
    for iid, seal in seals.items():
        if seal is None or iid not in finished:
            continue
        problems += _compare_seal(iid, seal, inspection_state(store, iid))
    return problems


def _check_documents(store: "Store") -> list[str]:
    """Each document's file hash against the last one the log recorded for it."""
    if not _table_exists(store, "documents"):
        return []
    logged: dict[str, str] = {}
    for r in store.conn.execute("SELECT entity_id, payload FROM audit_log WHERE entity = 'document' ORDER BY seq"):
        try:
            p = json.loads(r[1])
        except ValueError:
            continue
        if isinstance(p, dict) and isinstance(p.get("sha256"), str):
            logged[r[0]] = p["sha256"]
    problems = []
    for d in store.rows("SELECT id, sha256 FROM documents"):
        want = logged.get(d["id"])
        if want and d["sha256"] and d["sha256"] != want:
            problems.append(f"文书 {d['id']} 的文件摘要被改动：审计日志记为 {want[:16]}…，现为 {d['sha256'][:16]}…")
    return problems


@dataclass
class Report:
    problems: list[str]
    entries: int
    checkpoints: int

    @property
    def ok(self) -> bool:
        return not self.problems


def verify(store: "Store", *, full: bool = True) -> Report:
    """The whole check (``full``), or the fast start-up check: from the last checkpoint verified
    by an earlier full or fast check on, chain and checkpoints only."""
    after = 0
    if not full:
        try:
            after = int(store.get_meta("integrity_verified_seq") or 0)
        except ValueError:
            after = 0
    problems, last_cp = _check_checkpoints(store, 0 if full else max(after - 1, 0))
    problems += _check_chain(store, after)
    since = int(store.get_meta("checkpoints_since") or 0)  # entries before the feature have none
    finishes = store.rows("SELECT seq FROM audit_log WHERE entity = 'inspection' AND action = 'finish' AND seq > ?"
                          " AND seq NOT IN (SELECT seq FROM audit_checkpoints)", (max(after, since),))
    # pending (device key locked when it was written): accepted only after the last signed checkpoint
    last = int(store.scalar("SELECT COALESCE(MAX(seq), 0) FROM audit_checkpoints") or 0)
    pending = {p for p in _pending(store) if p > last}
    finishes = [f for f in finishes if f["seq"] not in pending]
    if finishes and _public_keys(store):
        problems += [f"审计日志第 {f['seq']} 条（完成检查）没有签名检查点：检查点被删除" for f in finishes[:20]]
    if full:
        problems += _check_seals(store)
        problems += _check_documents(store)
    if not problems and last_cp > after:
        store.set_meta("integrity_verified_seq", str(last_cp))
    n = int(store.scalar("SELECT count(*) FROM audit_log") or 0)
    cps = int(store.scalar("SELECT count(*) FROM audit_checkpoints") or 0)
    return Report(problems, n, cps)


def require_sound(store: "Store") -> None:
    """What sync and restore call first: damage and tampering both stop them."""
    bad = quick_check(store)
    if bad:
        raise StoreDamaged(store.path, "；".join(bad[:3]))
    rep = verify(store)
    if not rep.ok:
        raise StoreTampered(rep.problems)
