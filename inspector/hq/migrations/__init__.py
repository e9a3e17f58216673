"""HQ schema migrations (Alembic), for SQLite and PostgreSQL alike.

The schema is ``inspector.hq.db.metadata`` (with the console's tables from ``console_db``); the
revisions in ``versions/`` take a database from the first released schema (``0001_baseline``, the
schema HQ created with ``metadata.create_all`` before migrations existed) to the current one.

At start (:func:`ensure_current`, called by ``db.create_schema``):

- an empty database is created from the metadata and stamped at the head revision;
- a database at the head revision is used as it is;
- anything else is refused with a message naming ``inspector-hq db upgrade``. HQ does not upgrade by
  itself: a bureau backs up its database first, and several worker processes must not race one
  upgrade.

A database made before migrations existed has no ``alembic_version`` table but ``hq_meta`` says
``schema_version = 1``: it is at ``0001_baseline``, and :func:`upgrade` stamps it so before upgrading.

New revision (developers): change the tables in db.py / console_db.py, then
``inspector-hq --db sqlite:////tmp/x.db db revision -m "what changed"`` against a database at the
previous head, and review the generated file (autogenerate does not see renames or data moves).
"""
from __future__ import annotations

import logging
from pathlib import Path

import sqlalchemy as sa
from alembic import command
from alembic.config import Config
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy.engine import Connection, Engine

from inspector.errors import InspectorError

logger = logging.getLogger(__name__)

BASELINE = "0001_baseline"
PRE_ALEMBIC_VERSION = "1"  # what db.create_schema wrote to hq_meta before migrations existed
_PG_LOCK = 5150002  # advisory lock: one process at a time creates or upgrades the schema


class SchemaError(InspectorError):
    """The HQ database is not at the schema this program needs."""


def config(connection: Connection | None = None, url: str | None = None) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(Path(__file__).parent))
    if url:
        cfg.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    if connection is not None:
        cfg.attributes["connection"] = connection
    return cfg


def script() -> ScriptDirectory:
    return ScriptDirectory.from_config(config())


def head() -> str:
    h = script().get_current_head()
    assert h is not None, "no Alembic revision in inspector/hq/migrations/versions"
    return h


def _metadata() -> sa.MetaData:
    from inspector.hq import console_db  # noqa: F401 - its tables live on the same metadata
    from inspector.hq import db as D

    return D.metadata


def _lock(conn: Connection) -> None:
    if conn.dialect.name != "sqlite":  # SQLite: the caller's BEGIN IMMEDIATE already serialises
        conn.execute(sa.text("SELECT pg_advisory_xact_lock(:k)"), {"k": _PG_LOCK})


def current(conn: Connection) -> str | None:
    """The database's revision; BASELINE for a pre-migration database; None when it is empty.

    Raises SchemaError for a database that holds tables but no version of ours.
    """
    heads = MigrationContext.configure(conn).get_current_heads()
    if heads:
        return heads[0] if len(heads) == 1 else ",".join(sorted(heads))
    tables = set(sa.inspect(conn).get_table_names())
    if not tables:
        return None
    if "hq_meta" in tables:
        row = conn.execute(sa.text("SELECT value FROM hq_meta WHERE key = 'schema_version'")).first()
        if row is not None and row[0] == PRE_ALEMBIC_VERSION:
            return BASELINE
    raise SchemaError(f"数据库中已有 {len(tables)} 张表（{', '.join(sorted(tables)[:5])}…），但没有总部的结构版本记录："
                      "这不是总部数据库，或已损坏；请改用空数据库（--db）")


def ensure_current(engine: Engine) -> str:
    """Create an empty database at head, accept one at head, refuse any other (see module doc)."""
    want = head()
    with engine.connect() as conn:
        conn.execution_options(hq_write=True)
        with conn.begin():
            _lock(conn)
            have = current(conn)
            if have is None:
                _metadata().create_all(conn)
                MigrationContext.configure(conn).stamp(script(), want)
                logger.info("created the HQ schema at revision %s", want)
                return want
    if have == want:
        return want
    known = {r.revision for r in script().walk_revisions()}
    if have not in known:
        raise SchemaError(f"总部数据库的结构版本 {have} 比本程序新（本程序最高为 {want}）："
                          "请安装与数据库相符的新版程序，不要用旧版程序打开它")
    raise SchemaError(f"总部数据库的结构版本是 {have}，本程序需要 {want}。"
                      "请先备份数据库，然后运行 inspector-hq db upgrade（加上启动时所用的 --home/--db），"
                      "再启动总部服务")


def upgrade(engine: Engine, target: str = "head") -> tuple[str | None, str]:
    """Bring the database to ``target``: (revision before, revision after)."""
    with engine.connect() as conn:
        conn.execution_options(hq_write=True)
        with conn.begin():
            _lock(conn)
            before = current(conn)
            if before is None:
                _metadata().create_all(conn)
                MigrationContext.configure(conn).stamp(script(), "head")
            else:
                if before == BASELINE and not MigrationContext.configure(conn).get_current_heads():
                    MigrationContext.configure(conn).stamp(script(), BASELINE)
                command.upgrade(config(conn), target)
            after = MigrationContext.configure(conn).get_current_heads()
    logger.info("HQ schema upgraded from %s to %s", before, after)
    return before, ",".join(after)


def revision(url: str, message: str) -> Path:
    """Autogenerate a revision file from the difference between the database at ``url`` and the code."""
    from inspector.hq import db as D

    _metadata()
    engine = D.make_engine(url)
    try:
        with engine.connect() as conn:
            rev = command.revision(config(conn), message=message, autogenerate=True)
    finally:
        engine.dispose()
    scripts = rev if isinstance(rev, list) else [rev]
    return Path(scripts[0].path) if scripts and scripts[0] is not None else Path()
