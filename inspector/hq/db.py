"""HQ's schema in SQLAlchemy Core: the same tables and queries on SQLite and PostgreSQL.

Rows pushed by laptops keep the laptop's column names; columns HQ does not know
(added by later laptop migrations) go into the row's ``extra`` JSON, so nothing a
device sends is dropped and a canonical dump can be rebuilt exactly.
"""
from __future__ import annotations

import threading
from contextlib import contextmanager
from typing import Any, Iterator

import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.engine import Connection, Engine

from inspector.util import now_iso

metadata = sa.MetaData()
BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
T = sa.Text


def _c(name: str, type_: Any = T, **kw: Any) -> sa.Column:
    return sa.Column(name, type_, **kw)


def _synced() -> list[sa.Column]:
    """Bookkeeping columns on every table that laptops push to."""
    return [_c("extra", T, nullable=False, server_default="{}"), _c("device_id"), _c("received_at")]


institutions = sa.Table(
    "institutions", metadata,
    _c("id", primary_key=True), _c("credit_code", nullable=False), _c("name", nullable=False),
    _c("kind", nullable=False), _c("sub_kind"), _c("county", nullable=False), _c("city"), _c("address"),
    _c("legal_rep"), _c("contact"), _c("phone"), _c("trades", nullable=False, server_default="[]"),
    _c("headcount", sa.Integer), _c("licence_no"), _c("credit_grade"),
    _c("complaints", sa.Integer, nullable=False, server_default="0"), _c("updated_at", nullable=False),
    *_synced(),
    sa.Index("hq_institutions_credit_code", "credit_code"), sa.Index("hq_institutions_county", "county"),
)
inspectors = sa.Table(
    "inspectors", metadata,
    _c("id", primary_key=True), _c("badge_no", nullable=False), _c("name", nullable=False), _c("unit"),
    _c("county"), _c("specialties", nullable=False, server_default="[]"),
    _c("conflicts", nullable=False, server_default="[]"), _c("updated_at", nullable=False),
    *_synced(),
    sa.Index("hq_inspectors_badge", "badge_no"),
)
checklist_versions = sa.Table(
    "checklist_versions", metadata,
    _c("id", primary_key=True), _c("checklist_id", nullable=False), _c("version", nullable=False),
    _c("title", nullable=False), _c("source", nullable=False), _c("sha256", nullable=False),
    _c("stored_at", nullable=False), *_synced(),
    sa.UniqueConstraint("checklist_id", "version", name="hq_checklist_versions_uq"),
)
draws = sa.Table(
    "draws", metadata,
    _c("id", primary_key=True), _c("seed", nullable=False), _c("algorithm"), _c("params"),
    _c("institutions_sha256"), _c("inspectors_sha256"), _c("result_sha256"), _c("record"),
    _c("due_days", sa.Integer), _c("actor"), _c("created_at"), *_synced(),
)
tasks = sa.Table(
    "tasks", metadata,
    _c("id", primary_key=True), _c("draw_id"), _c("kind", nullable=False, server_default="draw"),
    _c("institution_id", nullable=False), _c("inspector_ids", nullable=False, server_default="[]"),
    _c("checklist_ids", nullable=False, server_default="[]"), _c("due_from"), _c("due_to"),
    _c("status", nullable=False, server_default="open"), _c("note"), _c("created_at", nullable=False),
    *_synced(),
    sa.Index("hq_tasks_institution", "institution_id"), sa.Index("hq_tasks_draw", "draw_id"),
)
inspections = sa.Table(
    "inspections", metadata,
    _c("id", primary_key=True), _c("revision", sa.Integer, nullable=False, server_default="1"),
    _c("replaces_id"), _c("task_id"), _c("institution_id", nullable=False),
    _c("status", nullable=False, server_default="draft"), _c("started_at", nullable=False), _c("ended_at"),
    _c("place"), _c("inspector_ids", nullable=False, server_default="[]"), _c("recorder_id"),
    _c("ids_shown", sa.Integer, nullable=False, server_default="0"),
    _c("rights_explained", sa.Integer, nullable=False, server_default="0"),
    _c("person_in_charge", nullable=False, server_default="{}"),
    _c("checklist_version_ids", nullable=False, server_default="[]"), _c("result_category"),
    _c("created_at", nullable=False), _c("updated_at", nullable=False),
    _c("superseded_by"),  # HQ: id of the revision that replaced this one (NULL = head)
    *_synced(),
    sa.Index("hq_inspections_institution", "institution_id"), sa.Index("hq_inspections_task", "task_id"),
    sa.Index("hq_inspections_replaces", "replaces_id", unique=True),
)
answers = sa.Table(
    "answers", metadata,
    _c("inspection_id", primary_key=True), _c("checklist_version_id", primary_key=True),
    _c("item_id", primary_key=True), _c("value"), _c("note"), _c("updated_at", nullable=False),
    _c("extra", T, nullable=False, server_default="{}"),
)
findings = sa.Table(
    "findings", metadata,
    _c("id", primary_key=True), _c("inspection_id", nullable=False), _c("checklist_version_id"), _c("item_id"),
    _c("codes", nullable=False, server_default="[]"), _c("severity"), _c("description", nullable=False),
    _c("basis"), _c("people_involved", sa.Integer), _c("amount", sa.Float), _c("required_action"),
    _c("deadline"), _c("position", sa.Integer, nullable=False, server_default="0"),
    _c("created_at", nullable=False), _c("updated_at", nullable=False), *_synced(),
    sa.Index("hq_findings_inspection", "inspection_id"),
)
rectifications = sa.Table(
    "rectifications", metadata,
    _c("id", primary_key=True), _c("inspection_id", nullable=False), _c("institution_id", nullable=False),
    _c("notice_number"), _c("deadline", nullable=False), _c("status", nullable=False, server_default="待整改"),
    _c("evidence", nullable=False, server_default="[]"), _c("reinspection_task_id"),
    _c("reinspection_inspection_id"), _c("closed_at"), _c("created_at", nullable=False),
    _c("updated_at", nullable=False), *_synced(),
    sa.Index("hq_rectifications_inspection", "inspection_id"), sa.Index("hq_rectifications_status", "status"),
)
photos = sa.Table(
    "photos", metadata,
    _c("id", primary_key=True), _c("inspection_id"), _c("finding_id"), _c("sha256"), _c("created_at"),
    *_synced(),
    sa.Index("hq_photos_inspection", "inspection_id"), sa.Index("hq_photos_sha", "sha256"),
)
documents = sa.Table(
    "documents", metadata,
    _c("id", primary_key=True), _c("kind"), _c("number"), _c("inspection_id"), _c("sha256"),
    _c("created_at"), *_synced(),
    sa.Index("hq_documents_inspection", "inspection_id"), sa.Index("hq_documents_number", "number"),
)

# child rows of an inspection that HQ keeps as sent (trainee checks, signatures, …)
inspection_children = sa.Table(
    "inspection_children", metadata,
    _c("inspection_id", primary_key=True), _c("kind", primary_key=True), _c("child_id", primary_key=True),
    _c("data", nullable=False),
)

# -- HQ's own tables -----------------------------------------------------------------------------
devices = sa.Table(
    "devices", metadata,
    _c("id", primary_key=True), _c("inspector_id"), _c("badge_no", nullable=False), _c("name"),
    _c("token_hash", nullable=False), _c("public_key_pem"), _c("cert_pem"), _c("qr_key_pem"),
    _c("created_at", nullable=False), _c("expires_at", nullable=False), _c("revoked_at"), _c("last_seen_at"),
    sa.Index("hq_devices_badge", "badge_no"),
)
enrol_codes = sa.Table(
    "enrol_codes", metadata,
    _c("code_hash", primary_key=True), _c("badge_no", nullable=False), _c("created_at", nullable=False),
    _c("expires_at", nullable=False), _c("used_at"), _c("device_id"), _c("created_by"),
)
doc_blocks = sa.Table(
    "doc_blocks", metadata,
    _c("id", BigId, primary_key=True, autoincrement=True), _c("agency", nullable=False),
    _c("year", sa.Integer, nullable=False), _c("first", sa.Integer, nullable=False),
    _c("last", sa.Integer, nullable=False), _c("device_id", nullable=False), _c("created_at", nullable=False),
    sa.UniqueConstraint("agency", "year", "first", name="hq_doc_blocks_uq"),
)
# how far a device has used each of its blocks (what it reported, or what HQ's documents show)
doc_block_usage = sa.Table(
    "doc_block_usage", metadata,
    _c("block_id", BigId, primary_key=True), _c("used_through", sa.Integer, nullable=False),
    _c("updated_at", nullable=False),
)
# numbers of a series that will never be printed: returned (unused tail of a retired device's
# block) or voided (taken and then cancelled); ranges first..last, both ends included
doc_number_marks = sa.Table(
    "doc_number_marks", metadata,
    _c("id", BigId, primary_key=True, autoincrement=True), _c("agency", nullable=False),
    _c("year", sa.Integer, nullable=False), _c("first", sa.Integer, nullable=False),
    _c("last", sa.Integer, nullable=False), _c("status", nullable=False), _c("device_id"), _c("reason"),
    _c("at", nullable=False),
    sa.Index("hq_doc_number_marks_series", "agency", "year"),
)
# unfinished blob uploads: one per (blob, device), the truth about how many bytes its partial file
# holds; taken under a row/advisory lock so several HQ processes never append to the same file
uploads = sa.Table(
    "uploads", metadata,
    _c("sha256", primary_key=True), _c("device_id", primary_key=True),
    _c("total", sa.BigInteger, nullable=False), _c("received", sa.BigInteger, nullable=False),
    _c("started_at", sa.Float, nullable=False), _c("updated_at", sa.Float, nullable=False),
    sa.Index("hq_uploads_updated", "updated_at"), sa.Index("hq_uploads_device", "device_id"),
)
applied_ops = sa.Table(
    "applied_ops", metadata,
    _c("op_id", primary_key=True), _c("device_id", nullable=False), _c("entity", nullable=False),
    _c("entity_id", nullable=False), _c("status", nullable=False), _c("response", nullable=False),
    _c("applied_at", nullable=False),
    sa.Index("hq_applied_ops_device", "device_id"),
)
changes = sa.Table(  # the pull log: seq is the cursor
    "changes", metadata,
    _c("seq", BigId, primary_key=True, autoincrement=True), _c("entity", nullable=False),
    _c("entity_id", nullable=False), _c("op", nullable=False, server_default="upsert"),
    _c("audience"),  # NULL: every device; else an inspector id
    _c("data", nullable=False), _c("created_at", nullable=False),
    sa.Index("hq_changes_audience", "audience", "seq"),
)
audit_heads = sa.Table(
    "audit_heads", metadata,
    _c("device_id", primary_key=True), _c("seq", sa.Integer, nullable=False), _c("hash", nullable=False),
    _c("status", nullable=False, server_default="ok"), _c("detail"), _c("updated_at", nullable=False),
)
audit_entries = sa.Table(
    "audit_entries", metadata,
    _c("device_id", primary_key=True), _c("seq", sa.Integer, primary_key=True), _c("ts"), _c("actor"),
    _c("entity"), _c("entity_id"), _c("action"), _c("payload"), _c("prev_hash", nullable=False),
    _c("hash", nullable=False),
)
audit_alerts = sa.Table(
    "audit_alerts", metadata,
    _c("id", BigId, primary_key=True, autoincrement=True), _c("device_id", nullable=False),
    _c("kind", nullable=False), _c("detail", nullable=False), _c("at", nullable=False),
)
staff = sa.Table(
    "staff", metadata,
    _c("id", primary_key=True), _c("username", nullable=False, unique=True), _c("name"),
    _c("password_hash", nullable=False), _c("role", nullable=False, server_default="admin"),
    _c("created_at", nullable=False), _c("disabled_at"),
)
# failed guesses of console passwords and enrolment/certify codes (inspector/hq/throttle.py): here,
# not in process memory, so every HQ worker process counts the same; times are epoch seconds
throttle = sa.Table(
    "throttle", metadata,
    _c("scope", primary_key=True), _c("key", primary_key=True),
    _c("failures", sa.Integer, nullable=False, server_default="0"), _c("last_at", sa.Float),
    _c("next_at", sa.Float), _c("locked_until", sa.Float),
)
meta = sa.Table("hq_meta", metadata, _c("key", primary_key=True), _c("value"))
# HQ's PAdES-B-LT copy of a signed document (inspector/hq/pades_lt.py): one row per document,
# claimed by one worker at a time through ``status``; the laptop's original blob stays as it is
document_lt = sa.Table(
    "document_lt", metadata,
    _c("document_id", primary_key=True), _c("source_sha", nullable=False), _c("sha256"),
    _c("status", nullable=False), _c("claimed_at"), _c("claimed_by"),
    _c("attempts", sa.Integer, nullable=False, server_default="0"), _c("error"), _c("timestamp_at"), _c("done_at"),
    sa.Index("hq_document_lt_sha", "sha256"), sa.Index("hq_document_lt_status", "status"),
)



def make_engine(url: str) -> Engine:
    """An engine for ``url``. SQLite gets WAL and BEGIN IMMEDIATE so writers queue, not fail."""
    if url.startswith("sqlite"):
        engine = sa.create_engine(url, connect_args={"check_same_thread": False, "timeout": 60})

        @event.listens_for(engine, "connect")
        def _on_connect(dbapi_conn: Any, _rec: Any) -> None:
            dbapi_conn.isolation_level = None
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA synchronous=FULL")
            cur.execute("PRAGMA busy_timeout=60000")
            cur.close()

        @event.listens_for(engine, "begin")
        def _on_begin(conn: Connection) -> None:
            # writers take the lock up front (no upgrade deadlocks); readers do not block anyone
            conn.exec_driver_sql("BEGIN IMMEDIATE" if conn.get_execution_options().get("hq_write") else "BEGIN")
    else:
        engine = sa.create_engine(url, pool_size=8, max_overflow=8, pool_pre_ping=True)
    return engine


def create_schema(engine: Engine) -> None:
    """An empty database gets the schema at the newest migration; an older one is refused with a
    message naming ``inspector-hq db upgrade`` (inspector/hq/migrations). The schema version is the
    Alembic revision in ``alembic_version``."""
    from inspector.hq.migrations import ensure_current

    ensure_current(engine)


def is_sqlite(conn: Connection | Engine) -> bool:
    return conn.dialect.name == "sqlite"


_upserts: dict[tuple[Any, ...], Any] = {}


def _upsert_stmt(dialect: str, table: sa.Table, cols: tuple[str, ...], keys: tuple[str, ...], where: Any) -> Any:
    """A cached INSERT … ON CONFLICT statement (built once per column set: compiling it is the slow part)."""
    k = (dialect, table.name, cols, keys, None if where is None else str(where))
    stmt = _upserts.get(k)
    if stmt is None:
        if dialect == "sqlite":
            from sqlalchemy.dialects.sqlite import insert
        else:
            from sqlalchemy.dialects.postgresql import insert  # type: ignore[assignment]
        ins = insert(table)
        upd = {c: ins.excluded[c] for c in cols if c not in keys}
        stmt = ins.on_conflict_do_update(index_elements=list(keys), set_=upd, where=where) if upd else \
            ins.on_conflict_do_nothing(index_elements=list(keys))
        _upserts[k] = stmt
    return stmt


def upsert(conn: Connection, table: sa.Table, row: dict[str, Any] | list[dict[str, Any]], keys: list[str], *,
           where: Any = None) -> int:
    """INSERT … ON CONFLICT (keys) DO UPDATE [WHERE …] on both dialects; returns rows written.
    ``row`` may be a list of rows with the same keys (one executemany)."""
    rows = row if isinstance(row, list) else [row]
    if not rows:
        return 0
    stmt = _upsert_stmt(conn.dialect.name, table, tuple(rows[0]), tuple(keys), where)
    return conn.execute(stmt, rows if isinstance(row, list) else rows[0]).rowcount


_change_lock = threading.Lock()


def lock_changes(conn: Connection) -> None:
    """Make change-log writers commit in seq order, so a reader's cursor never skips a row."""
    if not is_sqlite(conn):
        conn.execute(sa.text("SELECT pg_advisory_xact_lock(5150001)"))


def add_change(conn: Connection, entity: str, entity_id: str, data: dict[str, Any] | None,
               audience: list[str] | None = None) -> None:
    """Append to the pull log (one row per audience member, or one for everyone)."""
    from inspector.util import dumps

    lock_changes(conn)
    op = "delete" if data is None else "upsert"
    body = dumps(data or {})
    targets: list[str | None] = list(audience) if audience else [None]
    for who in targets:
        conn.execute(changes.insert().values(entity=entity, entity_id=entity_id, op=op, audience=who,
                                             data=body, created_at=now_iso()))


@contextmanager
def write(engine: Engine) -> Iterator[Connection]:
    """A write transaction (on SQLite: BEGIN IMMEDIATE, so concurrent writers queue instead of failing)."""
    with engine.connect() as conn:
        conn.execution_options(hq_write=True)
        with conn.begin():
            yield conn
