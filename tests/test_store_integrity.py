"""The laptop notices damage and tampering by itself (issue 14 items 2, 3): a damaged file is
refused with a clear message and left byte for byte as it was; a direct edit of a finished
record, an edited log with recomputed hashes, deleted or reordered entries are reported with the
row; sync refuses a store that fails either check; an untouched store verifies."""
from __future__ import annotations

import hashlib
import json
import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from inspector.store import GENESIS, Store, chain_hash, integrity, visits
from inspector.store.integrity import StoreDamaged
from tests.store_fixtures import finish_synthetic, seed_minimal


def _cli(home: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "inspector", "--home", str(home), *args],
                          capture_output=True, text=True, timeout=120)


def _visit(store: Store, answers: int = 5) -> str:
    inst, cv = seed_minimal(store)
    iid = visits.start_inspection(store, inst, inspector_ids=["i1", "i2"], checklist_version_ids=[cv])
    for i in range(answers):
        visits.set_answer(store, iid, cv, f"T-{i}", 300 + i)
    visits.add_finding(store, iid, description="理论课教室面积不足", codes=["PX-YB-3"])
    return iid


@pytest.fixture
def finished(home: Path):
    s = Store.open(home)
    iid = _visit(s)
    finish_synthetic(s, iid)
    for _ in range(3):  # entries after the finish's checkpoint
        visits.start_inspection(s, "inst-1", inspector_ids=["i1", "i2"], checklist_version_ids=["t@1"])
    yield s, iid
    s.close()


def _sha(p: Path) -> str:
    return hashlib.sha256(p.read_bytes()).hexdigest()


# -- damage ----------------------------------------------------------------------------------------
def _damaged_copies(home: Path) -> dict[str, bytes]:
    s = Store.open(home)
    _visit(s, answers=200)
    s.conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    s.close()
    good = (home / "inspector.db").read_bytes()
    page = int.from_bytes(good[16:18], "big")
    rnd = bytearray(good)
    rnd[-3 * page:] = os.urandom(3 * page)
    return {"zero bytes": b"", "truncated": good[: len(good) // 2], "not sqlite": b"%PDF-1.7\n" + os.urandom(5000),
            "random pages": bytes(rnd)}


@pytest.mark.parametrize("case", ["zero bytes", "truncated", "not sqlite", "random pages"])
def test_a_damaged_database_is_refused_and_left_as_it_was(tmp_path, case):
    src = tmp_path / "src"
    bad = _damaged_copies(src)[case]
    home = tmp_path / "home"
    home.mkdir()
    db = home / "inspector.db"
    db.write_bytes(bad)
    before = _sha(db)
    opened = None
    try:
        opened = Store.open(home)
    except StoreDamaged as e:
        assert "无法使用" in str(e) and str(db) in str(e)
    if opened is not None:  # a file whose header is whole opens; its check must then fail
        assert case == "random pages"
        assert integrity.quick_check(opened)
        from inspector.sync import sync

        rep = sync(opened)  # never sent on: refused before any connection to HQ
        assert not rep.ok and "损坏" in (rep.error or "")
        opened.close()
    r = _cli(home, "status")
    assert r.returncode != 0
    assert "损坏" in r.stdout + r.stderr or "无法使用" in r.stderr
    r = _cli(home, "sync")
    assert r.returncode != 0
    assert not (home / "inspector.db-wal").exists() or case == "random pages"
    assert _sha(db) == before  # never overwritten, never replaced by a new store


def test_a_locked_database_gets_a_clear_message(home):
    Store.open(home).close()
    other = sqlite3.connect(home / "inspector.db")
    other.execute("PRAGMA locking_mode=EXCLUSIVE")
    other.execute("BEGIN EXCLUSIVE")
    try:
        r = subprocess.run([sys.executable, "-c", (
            "import sys\nfrom inspector.store import Store\nfrom inspector.errors import StoreError\n"
            "import inspector.store as S\n"
            "try:\n    s = S.Store(sys.argv[1] + '/inspector.db', timeout=1); s.integrity_check()\n"
            "except StoreError as e:\n    print(e); sys.exit(3)\n"), str(home)],
            capture_output=True, text=True, timeout=120)
    finally:
        other.rollback()
        other.close()
    assert r.returncode == 3, r.stdout + r.stderr
    assert "占用" in r.stdout or "无法使用" in r.stdout


# -- tampering -----------------------------------------------------------------------------------
def test_an_untouched_store_verifies(finished, home):
    s, _ = finished
    rep = integrity.verify(s)
    assert rep.ok, rep.problems
    assert rep.checkpoints >= 1
    r = _cli(home, "audit", "verify")
    assert r.returncode == 0 and "审计链完整" in r.stdout


def test_dropped_trigger_and_direct_edit_is_named_with_old_and_new_value(finished, home):
    s, iid = finished
    s.conn.execute("DROP TRIGGER answers_locked_update")
    s.conn.execute("UPDATE answers SET value = '350' WHERE inspection_id = ? AND item_id = 'T-1'", (iid,))
    rep = integrity.verify(s)
    assert not rep.ok
    line = next(p for p in rep.problems if "T-1" in p)
    assert "原为 301" in line and "现为 350" in line and iid in line
    r = _cli(home, "audit", "verify")
    assert r.returncode == 1 and "T-1" in r.stdout
    from inspector.sync import sync

    rep2 = sync(s)
    assert not rep2.ok and "改动" in (rep2.error or "")


def _rechain(conn: sqlite3.Connection, start: int) -> None:
    """What an attacker does after editing the log: recompute every hash from ``start`` on."""
    conn.execute("DROP TRIGGER IF EXISTS audit_log_no_update")
    prev = conn.execute("SELECT hash FROM audit_log WHERE seq < ? ORDER BY seq DESC LIMIT 1", (start,)).fetchone()
    prev_h = prev[0] if prev else GENESIS
    for r in conn.execute("SELECT seq, ts, actor, entity, entity_id, action, payload FROM audit_log WHERE seq >= ?"
                          " ORDER BY seq", (start,)).fetchall():
        entry = {"ts": r[1], "actor": r[2], "entity": r[3], "entity_id": r[4], "action": r[5],
                 "payload": json.loads(r[6])}
        h = chain_hash(prev_h, entry)
        conn.execute("UPDATE audit_log SET prev_hash = ?, hash = ? WHERE seq = ?", (prev_h, h, r[0]))
        prev_h = h


def test_edited_log_with_recomputed_hashes_is_detected(finished):
    s, iid = finished
    assert s.verify_audit_chain() == []
    s.conn.execute("DROP TRIGGER audit_log_no_update")
    seq = s.scalar("SELECT seq FROM audit_log WHERE action = 'answer' ORDER BY seq LIMIT 1")
    row = s.one("SELECT payload FROM audit_log WHERE seq = ?", (seq,))
    p = json.loads(row["payload"])
    p["value"] = 999
    s.conn.execute("UPDATE audit_log SET payload = ? WHERE seq = ?", (json.dumps(p), seq))
    _rechain(s.conn, seq)
    assert s.verify_audit_chain() == []  # the unkeyed chain alone is fooled …
    rep = integrity.verify(s)
    assert not rep.ok and any("检查点" in p for p in rep.problems), rep.problems  # … the signed checkpoints are not


def test_deleted_entries_are_detected(finished):
    s, _ = finished
    s.conn.execute("DROP TRIGGER audit_log_no_delete")
    seq = s.scalar("SELECT seq FROM audit_log WHERE action = 'answer' ORDER BY seq LIMIT 1")
    s.conn.execute("DELETE FROM audit_log WHERE seq = ?", (seq,))
    _rechain(s.conn, seq + 1)
    rep = integrity.verify(s)
    assert any(f"缺少第 {seq}" in p for p in rep.problems), rep.problems


def test_reordered_entries_are_detected(finished):
    s, _ = finished
    s.conn.execute("DROP TRIGGER audit_log_no_update")
    a, b = [r["seq"] for r in s.rows("SELECT seq FROM audit_log WHERE action = 'answer' ORDER BY seq LIMIT 2")]
    ra, rb = (s.one("SELECT payload, ts FROM audit_log WHERE seq = ?", (x,)) for x in (a, b))
    s.conn.execute("UPDATE audit_log SET payload = ?, ts = ? WHERE seq = ?", (rb["payload"], rb["ts"], a))
    s.conn.execute("UPDATE audit_log SET payload = ?, ts = ? WHERE seq = ?", (ra["payload"], ra["ts"], b))
    _rechain(s.conn, a)
    rep = integrity.verify(s)
    assert not rep.ok and any("检查点" in p for p in rep.problems), rep.problems


def test_a_deleted_checkpoint_is_detected(finished):
    s, _ = finished
    s.conn.execute("DROP TRIGGER audit_checkpoints_no_delete")
    s.conn.execute("DELETE FROM audit_checkpoints")
    rep = integrity.verify(s)
    assert any("没有签名检查点" in p for p in rep.problems), rep.problems


def test_fast_start_check_is_incremental(finished):
    s, _ = finished
    assert integrity.verify(s, full=True).ok
    assert int(s.get_meta("integrity_verified_seq") or 0) > 0
    assert integrity.verify(s, full=False).ok


def test_data_folder_and_database_are_private(home):
    Store.open(home).close()
    assert (home.stat().st_mode & 0o777) == 0o700
    assert ((home / "inspector.db").stat().st_mode & 0o777) == 0o600
