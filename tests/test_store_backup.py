"""Backups and restore (issue 14 item 4): a finish makes a backup; a broken store is restored from
one with every answer back; restore checks the backup first and refuses to replace a store that
holds newer unsynced work unless forced; the replaced store is kept, never deleted."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from inspector.errors import StoreError
from inspector.store import Store, backup, visits
from tests.store_fixtures import finish_synthetic, seed_minimal


def _cli(home: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "inspector", "--home", str(home), *args],
                          capture_output=True, text=True, timeout=120)


def _finished_visit(store: Store) -> str:
    inst, cv = seed_minimal(store)
    iid = visits.start_inspection(store, inst, inspector_ids=["i1", "i2"], checklist_version_ids=[cv])
    for i in range(4):
        visits.set_answer(store, iid, cv, f"T-{i}", 280 + i)
    finish_synthetic(store, iid)
    return iid


def test_a_finish_makes_a_backup_and_a_broken_store_is_restored(home, tmp_path):
    s = Store.open(home)
    iid = _finished_visit(s)
    answers = s.rows("SELECT item_id, value FROM answers WHERE inspection_id = ? ORDER BY item_id", (iid,))
    s.close()
    made = backup.list_backups(home)
    assert len(made) == 1 and made[0].reason == "finish" and made[0].inspections == 1
    # the disk loses the database
    (home / "inspector.db").write_bytes(b"")
    for suffix in ("-wal", "-shm"):
        (home / f"inspector.db{suffix}").unlink(missing_ok=True)
    r = _cli(home, "backup", "restore", made[0].name)
    assert r.returncode == 0, r.stderr
    s = Store.open(home)
    assert s.rows("SELECT item_id, value FROM answers WHERE inspection_id = ? ORDER BY item_id", (iid,)) == answers
    from inspector.store import integrity

    assert integrity.verify(s).ok
    s.close()
    kept = list(home.glob("inspector.db.replaced-*"))
    assert kept and kept[0].stat().st_size == 0  # the broken file is kept aside, not deleted


def test_restore_refuses_a_newer_unsynced_store_unless_forced(home):
    s = Store.open(home)
    _finished_visit(s)
    name = backup.list_backups(home)[0].name
    # more work after the backup, not yet synced
    visits.start_inspection(s, "inst-1", inspector_ids=["i1", "i2"], checklist_version_ids=["t@1"])
    n = s.scalar("SELECT count(*) FROM inspections")
    s.close()
    with pytest.raises(StoreError, match="比备份.*新"):
        backup.restore(home, name)
    assert Store.open(home).scalar("SELECT count(*) FROM inspections") == n  # untouched
    r = _cli(home, "backup", "restore", name)
    assert r.returncode != 0 and "--force" in r.stderr
    backup.restore(home, name, force=True)
    assert Store.open(home).scalar("SELECT count(*) FROM inspections") == n - 1
    assert list(home.glob("inspector.db.replaced-*"))


def test_a_tampered_backup_is_not_restored(home):
    s = Store.open(home)
    _finished_visit(s)
    b = backup.list_backups(home)[0]
    s.close()
    import sqlite3

    c = sqlite3.connect(b.path / "inspector.db")
    c.execute("DROP TRIGGER answers_locked_update")
    c.execute("UPDATE answers SET value = '999' WHERE item_id = 'T-0'")
    c.commit()
    c.close()
    with pytest.raises(StoreError, match="被改动"):
        backup.restore(home, b.name, force=True)


def test_backups_rotate_and_a_second_folder_gets_a_copy_with_the_files(home, tmp_path):
    s = Store.open(home)
    s.set_meta("backup_keep", "2")
    usb = tmp_path / "usb"
    (home / "blobs" / "ab" / "cd").mkdir(parents=True)
    (home / "blobs" / "ab" / "cd" / ("abcd" + "0" * 60)).write_bytes(b"photo")
    for _ in range(4):
        backup.create(s, "manual", extra_dir=usb)
    names = [b.name for b in backup.list_backups(home)]
    assert len(names) == 3  # the 2 newest plus the newest of today
    assert len(backup.list_backups(home, usb / "inspector-backups")) == 4
    assert (usb / "inspector-backups" / "blobs" / "ab" / "cd" / ("abcd" + "0" * 60)).read_bytes() == b"photo"
    s.close()


def test_restore_on_a_fresh_laptop_opens_sealed_data_with_the_passphrase(home, tmp_path):
    """A backup carries the key wrappings (keys/pii, the sealed device key), never a plaintext key:
    restored into an empty data folder (a new laptop, from the USB copy), the trainees' data and the
    device key open with the inspector's passphrase — and not without it."""
    from inspector import keys, pii
    from inspector.store import integrity

    s = Store.open(home)
    keys.create_inspector_key(home, "B1", "张三", "b1-pass-11")      # the PII key wrapped by B1's passphrase
    inst, cv = seed_minimal(s)
    iid = visits.start_inspection(s, inst, inspector_ids=["i1"], checklist_version_ids=[cv])
    real = {"name": "欧阳明远", "id_number": "410702199001011238", "phone": "13912345678"}
    visits.add_trainee_checks(s, iid, [{**real, "trade": "电工", "row": 1}])
    with s.tx():                                                    # a checkpoint by the device key
        s.log("document", "doc-1", "sign", {"sha256": "0" * 64}, push=False)
    device_pub = keys.device_public_pem(home)
    usb = tmp_path / "usb"
    made = backup.create(s, "manual", extra_dir=usb)
    s.close()
    copy = usb / "inspector-backups" / made.name
    assert (copy / "keys" / "pii" / "public.pem").is_file() and list((copy / "keys" / "pii").glob("wrap-*.json"))
    assert not list(copy.rglob(pii.PENDING_FILE)) and not list(copy.rglob(keys.DEVICE_KEY_FILE))
    raw = keys._raw_ed(keys.device_key(home))
    assert not any(raw in f.read_bytes() or real["id_number"].encode() in f.read_bytes()
                   for f in copy.rglob("*") if f.is_file())

    fresh = tmp_path / "new-laptop"
    pii.lock()                                                      # another machine: nothing in memory
    try:
        r = backup.restore(fresh, made.name, where=usb / "inspector-backups")
        assert "pii/public.pem" in r["keys"]
        s2 = Store.open(fresh)
        assert integrity.verify(s2).ok                              # the checkpoint checks with the copied public key
        assert visits.list_trainee_checks(s2, iid)[0]["id_number"] == "410702********1238"
        with pytest.raises(pii.Locked):
            visits.list_trainee_checks(s2, iid, unmasked=True)
        assert pii.unlock(fresh, "b1-pass-11")
        got = visits.list_trainee_checks(s2, iid, unmasked=True)[0]
        assert {k: got[k] for k in real} == real
        assert keys.device_public_pem(fresh) == device_pub and keys._raw_ed(keys.device_key(fresh)) == raw
        s2.close()
    finally:
        pii.lock()
