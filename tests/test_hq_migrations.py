"""HQ schema migrations (issue 15): a database made by the first release's schema code, full of rows,
is upgraded to the newest revision on SQLite and PostgreSQL; every row is still there, the schema then
equals the code's, and HQ refuses to start on a database that was not upgraded."""
from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from inspector.hq import console_db  # noqa: F401 - registers the console tables on D.metadata
from inspector.hq import db as D
from inspector.hq import migrations as M
from inspector.hq.config import normalise_db_url
from tests.hq_fixtures import hq_db, postgresql_proc  # noqa: F401

ROOT = Path(__file__).resolve().parent.parent
# The commit whose HQ schema (metadata.create_all, hq_meta schema_version = 1) revision 0001_baseline
# reproduces: the last release before migrations. Pinned, so this stays a test of upgrading *that*.
FIRST_RELEASE = "f062dd944e4a5680384eb617f8209f5496516982"


OLD = ROOT / "tests" / "data" / "hq_schema_v1"  # that commit's files, kept as text (no git history needed)


def _git_show(path: str) -> str:
    """The first release's file, as ``git show FIRST_RELEASE:path`` printed it."""
    return (OLD / (Path(path).name + ".txt")).read_text(encoding="utf-8")


def _old_schema_modules(tmp_path: Path) -> tuple[ModuleType, sa.MetaData]:
    """The first release's db.py and console_db.py, imported as a private package from git."""
    pkg = tmp_path / "oldhq"
    pkg.mkdir()
    (pkg / "__init__.py").write_text("")
    (pkg / "db.py").write_text(_git_show("inspector/hq/db.py"))
    (pkg / "console_db.py").write_text(
        _git_show("inspector/hq/console_db.py").replace("from inspector.hq.db import", "from oldhq.db import"))
    sys.path.insert(0, str(tmp_path))
    try:
        for name in ("oldhq", "oldhq.db", "oldhq.console_db"):
            sys.modules.pop(name, None)
        spec = importlib.util.find_spec("oldhq.db")
        assert spec is not None
        import oldhq.console_db  # noqa: F401
        import oldhq.db as old
    finally:
        sys.path.remove(str(tmp_path))
    return old, old.metadata


def _value(col: sa.Column, table: str, i: int) -> Any:
    t = col.type
    if isinstance(t, (sa.Integer, sa.BigInteger)):
        return 1000 * i + len(col.name)
    if isinstance(t, sa.Float):
        return i + 0.25
    return f"{table}.{col.name}.{i}·检查"


def _rows(table: sa.Table) -> list[dict[str, Any]]:
    return [{c.name: _value(c, table.name, i) for c in table.columns} for i in (1, 2, 3)]


def _dump(conn: sa.Connection, table: sa.Table) -> list[dict[str, Any]]:
    cols = [sa.column(c.name) for c in table.columns]
    return sorted((dict(r._mapping) for r in conn.execute(sa.select(*cols).select_from(sa.table(table.name)))),
                  key=repr)


@pytest.fixture
def url(tmp_path: Path, hq_db: str | None) -> str:  # noqa: F811
    return normalise_db_url(hq_db) if hq_db else f"sqlite:///{tmp_path / 'hq.db'}"


def test_first_release_database_with_rows_upgrades_to_head_and_keeps_every_row(tmp_path: Path, url: str) -> None:
    old, old_md = _old_schema_modules(tmp_path)
    engine = D.make_engine(url)
    try:
        old.create_schema(engine)  # exactly what HQ did at start before migrations existed
        written: dict[str, list[dict[str, Any]]] = {}
        with D.write(engine) as conn:
            for table in old_md.sorted_tables:
                rows = _rows(table)
                conn.execute(table.insert(), rows)
                written[table.name] = sorted((dict(r) for r in rows), key=repr)
        written["hq_meta"] = sorted(written["hq_meta"] + [{"key": "schema_version", "value": "1"}], key=repr)
        assert len(written) == len(old_md.tables) >= 29

        # HQ refuses the old database, naming the command that fixes it
        with pytest.raises(M.SchemaError) as e:
            D.create_schema(engine)
        assert "inspector-hq db upgrade" in str(e.value) and M.BASELINE in str(e.value)

        before, after = M.upgrade(engine)
        assert (before, after) == (M.BASELINE, M.head())

        with engine.connect() as conn:
            for table in old_md.sorted_tables:
                got = _dump(conn, table)
                want = written[table.name]
                if table.name == "hq_meta":  # the pre-migration version row gives way to alembic_version
                    want = [r for r in want if r["key"] != "schema_version"]
                assert got == want, f"rows of {table.name} changed by the upgrade"
            # the upgraded schema is the code's schema: nothing left for autogenerate to add or drop
            diff = compare_metadata(MigrationContext.configure(conn), D.metadata)
            assert diff == [], f"upgraded schema differs from inspector/hq/db.py: {diff}"
            assert MigrationContext.configure(conn).get_current_heads() == (M.head(),)

        D.create_schema(engine)  # now accepted as it is
        new_tables = [t for t in D.metadata.sorted_tables if t.name not in old_md.tables]
        assert new_tables, "revision 0002 adds tables"
        with D.write(engine) as conn:  # and the added tables take rows
            for table in new_tables:
                conn.execute(table.insert(), _rows(table))
        with engine.connect() as conn:
            for table in new_tables:
                assert len(_dump(conn, table)) == 3, table.name
    finally:
        engine.dispose()


def test_fresh_database_is_created_at_head_and_matches_the_code(url: str) -> None:
    engine = D.make_engine(url)
    try:
        D.create_schema(engine)
        D.create_schema(engine)  # second start: accepted
        with engine.connect() as conn:
            assert M.current(conn) == M.head()
            assert compare_metadata(MigrationContext.configure(conn), D.metadata) == []
        assert M.upgrade(engine) == (M.head(), M.head())
    finally:
        engine.dispose()


def test_upgrade_command_and_refusals(tmp_path: Path, url: str, capsys: pytest.CaptureFixture[str]) -> None:
    from inspector.hq.cli import main

    old, _md = _old_schema_modules(tmp_path)
    engine = D.make_engine(url)
    try:
        old.create_schema(engine)
    finally:
        engine.dispose()
    home = ["--home", str(tmp_path / "hqhome"), "--db", url]
    assert main([*home, "db", "current"]) == 0
    assert M.BASELINE in capsys.readouterr().out
    assert main([*home, "db", "upgrade"]) == 0
    assert f"{M.BASELINE} → {M.head()}" in capsys.readouterr().out
    assert main([*home, "db", "upgrade"]) == 0
    assert "已是最新" in capsys.readouterr().out

    # a database from a newer program is refused, not "downgraded" by starting an old one
    engine = D.make_engine(url)
    try:
        with D.write(engine) as conn:
            conn.execute(sa.text("UPDATE alembic_version SET version_num = '9999_future'"))
        with pytest.raises(M.SchemaError, match="比本程序新"):
            D.create_schema(engine)
    finally:
        engine.dispose()
    # tables that are not HQ's: refused, never stamped
    other = D.make_engine(f"sqlite:///{tmp_path / 'other.db'}")
    try:
        with D.write(other) as conn:
            conn.execute(sa.text("CREATE TABLE something (x TEXT)"))
        with pytest.raises(M.SchemaError, match="不是总部数据库"):
            D.create_schema(other)
    finally:
        other.dispose()
