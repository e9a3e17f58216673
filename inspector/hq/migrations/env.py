"""Alembic environment of the HQ database: the app's metadata, and the connection (or URL) given
by inspector.hq.migrations (``inspector-hq db upgrade``)."""
from __future__ import annotations

from alembic import context
from sqlalchemy.engine import Connection

from inspector.hq import console_db  # noqa: F401 - the console's tables are on the same metadata
from inspector.hq import db as D

config = context.config
target_metadata = D.metadata


def _run(conn: Connection) -> None:
    # SQLite cannot ALTER most things in place: batch mode copies the table
    context.configure(connection=conn, target_metadata=target_metadata,
                      render_as_batch=conn.dialect.name == "sqlite", compare_type=True)
    with context.begin_transaction():
        context.run_migrations()


def run() -> None:
    conn = config.attributes.get("connection")
    if conn is not None:
        _run(conn)
        return
    if context.is_offline_mode():  # `alembic upgrade --sql`: print the SQL for a DBA to review
        context.configure(url=config.get_main_option("sqlalchemy.url"), target_metadata=target_metadata,
                          literal_binds=True)
        with context.begin_transaction():
            context.run_migrations()
        return
    from inspector.hq.config import HQConfig

    engine = D.make_engine(config.get_main_option("sqlalchemy.url") or HQConfig.load(None).url)
    try:
        with engine.connect() as c:
            c.execution_options(hq_write=True)
            _run(c)
            c.commit()
    finally:
        engine.dispose()


run()
