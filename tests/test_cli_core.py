"""The ``inspector`` command line over a real store in a temp folder."""
from __future__ import annotations

import json
import sqlite3
import subprocess
import sys
from pathlib import Path

from inspector.store import Store
from inspector.store import visits
from tests.store_fixtures import seed_minimal


def cli(*args: str, home: Path) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "inspector", "--home", str(home), *args],
                          capture_output=True, text=True)


def test_status_counts_and_audit_verify(home: Path) -> None:
    s = Store.open(home)
    inst, cv = seed_minimal(s)
    iid = visits.start_inspection(s, inst)
    visits.set_answer(s, iid, cv, "T-3-1", 280)
    s.close()
    r = cli("status", "--json", home=home)
    assert r.returncode == 0, r.stderr
    d = json.loads(r.stdout)
    assert d["counts"]["answers"] == 1 and d["counts"]["inspections"] == 1 and d["integrity"] == "ok"
    assert d["outbox_unsent"] >= 1
    r = cli("audit", "verify", "--json", home=home)
    assert r.returncode == 0 and json.loads(r.stdout)["ok"] is True
    con = sqlite3.connect(home / "inspector.db")
    con.execute("DROP TRIGGER audit_log_no_update")
    con.execute("UPDATE audit_log SET actor = 'mallory' WHERE seq = 1")
    con.commit()
    con.close()
    r = cli("audit", "verify", "--json", home=home)
    assert r.returncode == 1 and "第 1 条" in json.loads(r.stdout)["problems"][0]


def test_unknown_command_is_an_error(home: Path) -> None:
    r = cli("no-such-command", home=home)
    assert r.returncode != 0 and "invalid choice" in r.stderr


def test_every_command_prints_its_help() -> None:
    """argparse formats help lazily: a stray % in one command's help broke ``inspector --help``."""
    import argparse

    from inspector.cli import build_parser
    from inspector.hq.cli import build_parser as hq_parser

    def walk(p: argparse.ArgumentParser) -> int:
        assert p.format_help()
        n = 1
        for a in p._actions:
            if isinstance(a, argparse._SubParsersAction):
                n += sum(walk(sp) for sp in a.choices.values())
        return n

    assert walk(build_parser()) > 15
    assert walk(hq_parser()) > 8
