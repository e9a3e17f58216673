"""The test PostgreSQL server starts reliably: a port taken by someone else is retried on another
port, and servers left running by a killed test session are stopped and removed."""
from __future__ import annotations

import socket

import psycopg
import pytest

import tests.hq_fixtures as H

pytestmark = [pytest.mark.postgres, pytest.mark.skipif(H.PG_BIN is None, reason="no PostgreSQL binaries")]


def _query(server: H.PGServer) -> int:
    with psycopg.connect(host=server.host, port=server.port, user=server.user, dbname="postgres",
                         connect_timeout=10) as c:
        return c.execute("SELECT 1").fetchone()[0]


def test_a_port_in_use_is_retried_and_a_killed_sessions_server_is_reaped(monkeypatch):
    squatter = socket.socket()
    squatter.bind(("127.0.0.1", 0))
    squatter.listen(1)
    taken = squatter.getsockname()[1]
    ports = iter([taken])
    real = H.free_port
    monkeypatch.setattr(H, "free_port", lambda: next(ports, None) or real())
    server = H.start_pg()
    squatter.close()
    try:
        assert server.port != taken and _query(server) == 1
        # pretend the session that started it was killed (its owner pid is gone)
        server.datadir.with_suffix(".owner").write_text("999999999")
        H._reap_leftovers()
        assert not server.datadir.exists() and not server.datadir.with_suffix(".owner").exists()
        with pytest.raises(psycopg.OperationalError):
            _query(server)
    finally:
        if server.datadir.exists():
            server.stop()
