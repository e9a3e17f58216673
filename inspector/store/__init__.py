"""The local store: the one place that talks to the laptop's SQLite file.

- WAL mode, ``synchronous=FULL``: when a write call returns, its row is on disk.
- One writer: every write runs in ``Store.tx()`` (BEGIN IMMEDIATE under a lock);
  reads may run at any time.
- Schema changes are numbered ``migrations/*.sql`` files applied once, in order,
  each inside its own transaction and recorded in ``schema_migrations``.
- Every change worth keeping goes through ``Store.log()`` inside the same
  transaction: an entry in the hash-chained audit log and, when it must reach HQ,
  an operation in the outbox.
"""
from __future__ import annotations

import json
import sqlite3
import threading
from contextlib import contextmanager
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, Any, Iterator

from inspector import paths
from inspector.store import integrity
from inspector.errors import StoreError
from inspector.util import canonical_json, dumps, new_id, now_iso, sha256_hex

if TYPE_CHECKING:
    import sqlite_utils

DB_NAME = "inspector.db"
GENESIS = "0" * 64


def _migrations() -> list[tuple[str, str]]:
    files = resources.files("inspector.store").joinpath("migrations")
    out = [(f.name, f.read_text(encoding="utf-8")) for f in files.iterdir() if f.name.endswith(".sql")]
    return sorted(out)


def chain_hash(prev_hash: str, entry: dict[str, Any]) -> str:
    return sha256_hex(prev_hash.encode("ascii") + canonical_json(entry))


class Store:
    """An open local database. Thread-safe: writes are serialised by a lock."""

    def __init__(self, path: str | Path, *, synchronous: str = "FULL", timeout: float = 30):
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        integrity.preflight(self.path)  # a damaged file is refused, never replaced by a new store
        try:
            self.conn = sqlite3.connect(
                str(self.path), isolation_level=None, check_same_thread=False, timeout=timeout
            )
            self.conn.execute("PRAGMA journal_mode=WAL")
            self.conn.execute(f"PRAGMA synchronous={synchronous}")
            self.conn.execute("PRAGMA foreign_keys=ON")
        except sqlite3.OperationalError as e:
            if "locked" in str(e):
                raise StoreError(f"{self.path}: 数据库正被其他程序占用（{e}）；请关闭其他正在运行的检查程序后重试") from e
            raise StoreError(f"{self.path}: 无法打开数据库（{e}）") from e
        except sqlite3.DatabaseError as e:
            raise integrity.StoreDamaged(self.path, f"SQLite 报告：{e}") from e
        self._db: "sqlite_utils.Database | None" = None
        self._lock = threading.RLock()
        # background writers over this file (store/writer.py): reads of what they write settle() first
        self.writers: set[Any] = set()
        self._depth = 0
        try:
            applied = self.migrate()
        except sqlite3.OperationalError as e:  # e.g. another program holds the file locked
            raise StoreError(f"{self.path}: 数据库正被其他程序占用或无法写入（{e}）；请关闭其他正在运行的检查程序后重试") from e
        except sqlite3.DatabaseError as e:
            raise integrity.StoreDamaged(self.path, f"SQLite 报告：{e}") from e
        integrity.lock_dir(self.path)
        if "0520_pii.sql" in applied:  # one-off: trainee data written in plaintext before encryption
            from inspector import pii

            pii.seal_existing(self)
        if "0620_pii_contacts.sql" in applied:  # one-off: open visits' person in charge and table cells
            from inspector import pii

            pii.seal_existing_drafts(self)

    @classmethod
    def open(cls, home: str | Path | None = None) -> "Store":
        return cls(paths.home(home) / DB_NAME)

    @property
    def db(self) -> "sqlite_utils.Database":
        """sqlite-utils over the same connection; imported on first use (~70 ms saved at start-up)."""
        if self._db is None:
            import sqlite_utils

            self._db = sqlite_utils.Database(self.conn)
        return self._db

    @property
    def home(self) -> Path:
        return self.path.parent

    def close(self) -> None:
        with self._lock:
            self.conn.close()

    def __enter__(self) -> "Store":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- schema -------------------------------------------------------------
    def migrate(self) -> list[str]:
        """Apply the migrations this file has not seen yet; returns their names."""
        with self._lock:
            self.conn.execute(
                "CREATE TABLE IF NOT EXISTS schema_migrations (name TEXT PRIMARY KEY, applied_at TEXT NOT NULL)"
            )
            done = {r[0] for r in self.conn.execute("SELECT name FROM schema_migrations")}
            applied = []
            for name, sql in _migrations():
                if name in done:
                    continue
                try:
                    self.conn.execute("BEGIN IMMEDIATE")
                    for stmt in _split_sql(sql):
                        self.conn.execute(stmt)
                    self.conn.execute(
                        "INSERT INTO schema_migrations (name, applied_at) VALUES (?, ?)", (name, now_iso())
                    )
                    self.conn.execute("COMMIT")
                except sqlite3.DatabaseError as e:
                    self.conn.execute("ROLLBACK")
                    raise StoreError(f"{self.path}: 迁移 {name} 失败：{e}") from e
                applied.append(name)
            return applied

    def schema_version(self) -> list[str]:
        return [r["name"] for r in self.rows("SELECT name FROM schema_migrations ORDER BY name")]

    # -- transactions ---------------------------------------------------------
    @contextmanager
    def tx(self) -> Iterator["sqlite_utils.Database"]:
        """One write transaction; nested calls join the outer one (as a savepoint)."""
        with self._lock:
            outer = self._depth == 0
            sp = f"sp{self._depth}"
            self.conn.execute("BEGIN IMMEDIATE" if outer else f"SAVEPOINT {sp}")
            self._depth += 1
            try:
                yield self.db
            except BaseException:
                self._depth -= 1
                self.conn.execute("ROLLBACK" if outer else f"ROLLBACK TO {sp}")
                if not outer:
                    self.conn.execute(f"RELEASE {sp}")
                raise
            else:
                self._depth -= 1
                if not outer:
                    self.conn.execute(f"RELEASE {sp}")
                    return
                try:
                    self.conn.execute("COMMIT")
                except BaseException:
                    # a failed COMMIT (disk full, I/O error) must not leave the connection mid-transaction
                    if self.conn.in_transaction:
                        self.conn.execute("ROLLBACK")
                    raise

    def settle(self) -> None:
        """Read-your-writes: wait until the background writers' queued writes are on disk."""
        for w in list(self.writers):
            w.flush()

    # -- reads --------------------------------------------------------------
    def rows(self, sql: str, params: Any = ()) -> list[dict[str, Any]]:
        with self._lock:
            cur = self.conn.execute(sql, params)
            cols = [c[0] for c in cur.description or ()]
            return [dict(zip(cols, r)) for r in cur.fetchall()]

    def one(self, sql: str, params: Any = ()) -> dict[str, Any] | None:
        r = self.rows(sql, params)
        return r[0] if r else None

    def scalar(self, sql: str, params: Any = ()) -> Any:
        with self._lock:
            r = self.conn.execute(sql, params).fetchone()
        return r[0] if r else None

    def integrity_check(self) -> str:
        return str(self.scalar("PRAGMA integrity_check"))

    # -- meta ---------------------------------------------------------------
    def get_meta(self, key: str, default: str | None = None) -> str | None:
        v = self.scalar("SELECT value FROM meta WHERE key = ?", (key,))
        return default if v is None else v

    def set_meta(self, key: str, value: str) -> None:
        with self.tx() as db:
            db.execute("INSERT INTO meta(key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value",
                       (key, value))

    # -- audit log and outbox --------------------------------------------------
    def log(
        self,
        entity: str,
        entity_id: str,
        action: str,
        payload: dict[str, Any],
        *,
        actor: str | None = None,
        push: bool = True,
    ) -> str:
        """Append to the audit chain (and the outbox when ``push``); call inside ``tx()``."""
        if self._depth == 0:
            raise StoreError("Store.log must run inside a transaction")
        try:  # the audit chain is JSON: NaN/Infinity would make it unreadable (and unverifiable) elsewhere
            text = json.dumps(payload, ensure_ascii=False, allow_nan=False)
        except ValueError as e:
            raise StoreError(f"审计日志拒绝写入非法数值（{e}）：{entity} {action}") from None
        head = self.conn.execute("SELECT hash FROM audit_log ORDER BY seq DESC LIMIT 1").fetchone()
        prev = head[0] if head else GENESIS
        ts = now_iso()
        entry = {"ts": ts, "actor": actor, "entity": entity, "entity_id": entity_id,
                 "action": action, "payload": payload}
        h = chain_hash(prev, entry)
        cur = self.conn.execute(
            "INSERT INTO audit_log (ts, actor, entity, entity_id, action, payload, prev_hash, hash)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            (ts, actor, entity, entity_id, action, text, prev, h),
        )
        if integrity.want_checkpoint(int(cur.lastrowid or 0), action):
            integrity.write_checkpoint(self, int(cur.lastrowid or 0), h)
        if push:
            self.enqueue(entity, entity_id, "upsert", {})
        return h

    def enqueue(self, entity: str, entity_id: str, op: str, payload: dict[str, Any]) -> str:
        """Queue an operation for HQ. A not-yet-attempted op for the same entity is reused,
        since the sync client sends the entity's state as it is at send time."""
        row = self.conn.execute(
            "SELECT op_id FROM outbox WHERE entity = ? AND entity_id = ? AND op = ?"
            " AND sent_at IS NULL AND attempts = 0",
            (entity, entity_id, op),
        ).fetchone()
        if row:
            self.conn.execute("UPDATE outbox SET payload = ? WHERE op_id = ?", (dumps(payload), row[0]))
            return str(row[0])
        op_id = new_id()
        self.conn.execute(
            "INSERT INTO outbox (op_id, entity, entity_id, op, payload, created_at) VALUES (?, ?, ?, ?, ?, ?)",
            (op_id, entity, entity_id, op, dumps(payload), now_iso()),
        )
        return op_id

    def audit_head(self) -> tuple[int, str]:
        r = self.one("SELECT seq, hash FROM audit_log ORDER BY seq DESC LIMIT 1")
        return (r["seq"], r["hash"]) if r else (0, GENESIS)

    def verify_audit_chain(self) -> list[str]:
        """Recompute the chain; returns one line per broken link (empty when intact)."""
        import json

        problems = []
        prev = GENESIS
        for r in self.rows("SELECT * FROM audit_log ORDER BY seq"):
            entry = {"ts": r["ts"], "actor": r["actor"], "entity": r["entity"], "entity_id": r["entity_id"],
                     "action": r["action"], "payload": json.loads(r["payload"])}
            if r["prev_hash"] != prev:
                problems.append(f"audit_log seq {r['seq']}: prev_hash does not match the previous entry")
            if chain_hash(r["prev_hash"], entry) != r["hash"]:
                problems.append(f"audit_log seq {r['seq']}: hash does not match its content")
            prev = r["hash"]
        return problems


def _split_sql(sql: str) -> list[str]:
    """Split a migration into statements, keeping trigger bodies (BEGIN … END;) whole."""
    out, buf = [], []
    for line in sql.splitlines():
        buf.append(line)
        stmt = "\n".join(buf).strip()
        if stmt and sqlite3.complete_statement(stmt):
            out.append(stmt)
            buf = []
    rest = "\n".join(buf).strip()
    if rest and not all(l.strip().startswith("--") or not l.strip() for l in buf):
        out.append(rest)
    return out
