"""The local store: migrations, autosave durability, locking, audit chain, round trips."""
from __future__ import annotations

import json
import os
import random
import signal
import sqlite3
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from inspector.errors import StoreError
from inspector.store import Store
from inspector.store import visits
from tests.store_fixtures import finish_synthetic, seed_minimal


def test_migrations_apply_once_and_reopen(tmp_path: Path) -> None:
    p = tmp_path / "a.db"
    s = Store(p)
    names = s.schema_version()
    assert names[0] == "0001_core.sql" and names == sorted(names)
    s.close()
    s2 = Store(p)
    assert s2.migrate() == []  # nothing new on reopen
    assert s2.scalar("PRAGMA journal_mode") == "wal"
    assert s2.integrity_check() == "ok"


def test_finished_inspection_is_locked_and_amendment_is_new_revision(store: Store) -> None:
    inst, cv = seed_minimal(store)
    iid = visits.start_inspection(store, inst, inspector_ids=["a", "b"], checklist_version_ids=[cv])
    visits.set_answer(store, iid, cv, "T-3-1", 280)
    fid = visits.add_finding(store, iid, description="理论课集中培训面积 280㎡", codes=["PX-YB-3"], severity="一般")
    finish_synthetic(store, iid)
    with pytest.raises(StoreError, match="锁定"):
        visits.set_answer(store, iid, cv, "T-3-1", 300)
    with pytest.raises(StoreError, match="锁定"):
        visits.update_finding(store, fid, description="改")
    # even raw SQL cannot touch a locked inspection's answers
    with pytest.raises(sqlite3.IntegrityError):
        with store.tx() as db:
            db.execute("UPDATE answers SET value = '1' WHERE inspection_id = ?", (iid,))
    new = visits.amend_inspection(store, iid)
    amended = visits.get_inspection(store, new)
    assert amended.replaces_id == iid and amended.revision == 2 and amended.status == "draft"
    assert visits.get_answers(store, new) == {cv: {"T-3-1": 280}}
    assert [f.description for f in visits.list_findings(store, new)] == ["理论课集中培训面积 280㎡"]
    visits.set_answer(store, new, cv, "T-3-1", 300)
    assert visits.get_answers(store, iid) == {cv: {"T-3-1": 280}}  # the signed revision is untouched


def test_audit_chain_detects_rewrite(tmp_path: Path) -> None:
    s = Store(tmp_path / "a.db")
    inst, cv = seed_minimal(s)
    iid = visits.start_inspection(s, inst)
    for i in range(5):
        visits.set_answer(s, iid, cv, f"I{i}", i)
    assert s.verify_audit_chain() == []
    with pytest.raises(sqlite3.IntegrityError):  # append-only: triggers refuse
        with s.tx() as db:
            db.execute("UPDATE audit_log SET payload = '{}' WHERE seq = 3")
    s.close()
    # someone edits the file behind the app's back (drops the trigger first)
    con = sqlite3.connect(tmp_path / "a.db")
    con.execute("DROP TRIGGER audit_log_no_update")
    con.execute("UPDATE audit_log SET payload = '{\"value\": 99}' WHERE seq = 3")
    con.commit()
    con.close()
    problems = Store(tmp_path / "a.db").verify_audit_chain()
    assert problems and "seq 3" in problems[0]


def test_every_change_reaches_the_outbox_once_per_entity(store: Store) -> None:
    inst, cv = seed_minimal(store)
    iid = visits.start_inspection(store, inst)
    for i in range(10):
        visits.set_answer(store, iid, cv, "I", i)
    ops = store.rows("SELECT * FROM outbox WHERE entity = 'inspection' AND entity_id = ?", (iid,))
    assert len(ops) == 1  # coalesced: the client sends the current state
    with store.tx() as db:
        db.execute("UPDATE outbox SET attempts = 1 WHERE op_id = ?", (ops[0]["op_id"],))
    visits.set_answer(store, iid, cv, "I", 99)  # an attempted op is frozen; a new op follows
    assert store.scalar("SELECT COUNT(*) FROM outbox WHERE entity_id = ?", (iid,)) == 2


json_leaf = st.one_of(st.none(), st.booleans(), st.integers(-10**9, 10**9),
                      st.floats(allow_nan=False, allow_infinity=False), st.text(max_size=40))
json_values = st.recursive(json_leaf, lambda c: st.lists(c, max_size=4) | st.dictionaries(st.text(max_size=8), c, max_size=4),
                           max_leaves=12)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(answers=st.dictionaries(st.text(min_size=1, max_size=12), json_values.filter(lambda v: v is not None),
                               max_size=8))
def test_answers_round_trip_through_a_reopened_file(tmp_path_factory: pytest.TempPathFactory,
                                                    answers: dict) -> None:
    p = tmp_path_factory.mktemp("rt") / "s.db"
    s = Store(p)
    inst, cv = seed_minimal(s)
    iid = visits.start_inspection(s, inst)
    for k, v in answers.items():
        visits.set_answer(s, iid, cv, k, v)
    s.close()
    s2 = Store(p)
    got = visits.get_answers(s2, iid).get(cv, {})
    assert json.dumps(got, sort_keys=True) == json.dumps(answers, sort_keys=True)
    assert s2.verify_audit_chain() == []
    s2.close()


WRITER = textwrap.dedent("""
    import sys
    from inspector.store import Store
    from inspector.store import visits
    from tests.store_fixtures import seed_minimal
    s = Store(sys.argv[1])
    inst, cv = seed_minimal(s)
    iid = visits.start_inspection(s, inst)
    print("INSPECTION", iid, flush=True)
    i = 0
    while True:
        visits.set_answer(s, iid, cv, f"item-{i}", {"n": i, "text": "理论课面积" * (i % 7)})
        print("ACK", i, flush=True)   # acknowledged only after set_answer returned
        i += 1
""")


@pytest.mark.parametrize("trial", range(6))
def test_sigkill_loses_no_acknowledged_answer(tmp_path: Path, trial: int) -> None:
    rng = random.Random(1000 + trial)
    db = tmp_path / "kill.db"
    proc = subprocess.Popen([sys.executable, "-c", WRITER, str(db)], stdout=subprocess.PIPE, text=True,
                            cwd=Path(__file__).resolve().parent.parent)
    assert proc.stdout
    header = proc.stdout.readline().split()
    assert header[0] == "INSPECTION"
    iid = header[1]
    kill_after = rng.randint(1, 120)
    acked = -1
    for line in proc.stdout:
        acked = int(line.split()[1])
        if acked >= kill_after:
            break
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    s = Store(db)
    assert s.integrity_check() == "ok"
    got = visits.get_answers(s, iid)
    values = next(iter(got.values())) if got else {}
    for i in range(acked + 1):
        assert values.get(f"item-{i}") == {"n": i, "text": "理论课面积" * (i % 7)}, f"answer {i} lost"
    assert s.verify_audit_chain() == []


def test_core_never_imports_qt() -> None:
    root = Path(__file__).resolve().parent.parent / "inspector"
    offenders = []
    for f in root.rglob("*.py"):
        for n, line in enumerate(f.read_text(encoding="utf-8").splitlines(), 1):
            s = line.strip()
            if s.startswith(("import ", "from ")) and any(
                s.startswith(p) for p in ("import PySide6", "from PySide6", "import ui", "from ui",
                                          "import PyQt", "from PyQt", "import shiboken", "from shiboken")):
                offenders.append(f"{f.relative_to(root.parent)}:{n}: {s}")
    assert offenders == []
    # and at run time: importing every core module leaves Qt unloaded
    code = ("import importlib, pkgutil, sys, inspector\n"
            "for m in pkgutil.walk_packages(inspector.__path__, 'inspector.'):\n"
            # alembic's env.py and revision files are scripts alembic runs, not importable modules
            "    if not m.name.endswith('__main__') and not m.name.startswith('inspector.hq.migrations.'):\n"
            "        importlib.import_module(m.name)\n"
            "bad = [m for m in sys.modules if m.startswith(('PySide6', 'ui'))]\n"
            "print(bad); sys.exit(1 if bad else 0)\n")
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert r.returncode == 0, r.stdout + r.stderr
