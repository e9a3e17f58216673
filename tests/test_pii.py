"""Trainees' personal data encrypted at rest (issue 14 item 1, inspector/pii.py): nothing in clear in
the database, its WAL, the outbox or a backup; masked on screen and in the CLI; the real values reach
HQ only after an unlock; a locked sync holds just those records; shared laptop; forgotten passphrase;
the OS key store path; rows written in plaintext by an earlier version sealed at open."""
from __future__ import annotations

import json
import random
from pathlib import Path
from typing import Any, Iterator

import pytest
import sqlalchemy as sa

from inspector import keys, pii
from inspector.cli import main as cli
from inspector.hq import db as D
from inspector.hq import service
from inspector.sampling import read_roster, sample_roster
from inspector.store import Store, backup, visits
from inspector.sync import certify_inspector, sync
from inspector.sync.client import device_token
from tests.hq_fixtures import *  # noqa: F401,F403
from tests.hq_fixtures import PASSPHRASE, enrolled_laptop, ensure_base, make_inspection
from tests.ui_fixtures import write_roster


@pytest.fixture(autouse=True)
def _fresh_process() -> Iterator[None]:
    """Each test starts like a new process: nothing unlocked, no OS key store."""
    import keyring
    from keyring.backends import fail

    pii.lock()
    keyring.set_keyring(fail.Keyring())
    yield
    pii.lock()
    keyring.set_keyring(fail.Keyring())


def _sample(store: Store, iid: str, tmp_path: Path, n: int = 40) -> list[dict[str, Any]]:
    """The real flow: a roster file → inspector.sampling → visits.add_trainee_checks."""
    res = sample_roster(read_roster(write_roster(tmp_path / f"roster-{iid}.csv", n)), iid)
    rows = res.check_rows()
    visits.add_trainee_checks(store, iid, rows, actor="test")
    return rows


def _secrets(rows: list[dict[str, Any]]) -> list[tuple[str, bytes]]:
    out = []
    for r in rows:
        for f in ("name", "id_number", "phone"):
            if r.get(f):
                out.append((f"{f}={r[f]}", str(r[f]).encode("utf-8")))
    return out


def _found(paths: list[Path], secrets: list[tuple[str, bytes]]) -> list[str]:
    hits = []
    for p in paths:
        data = p.read_bytes()
        hits += [f"{p.name}: {label}" for label, b in secrets if b in data]
    return hits


def _all_files(root: Path) -> list[Path]:
    return [p for p in root.rglob("*") if p.is_file()]


def _hq_trainees(hq: Any, iid: str) -> list[dict[str, Any]]:
    with hq.engine.connect() as c:
        rows = c.execute(sa.select(D.inspection_children.c.data).where(
            D.inspection_children.c.inspection_id == iid, D.inspection_children.c.kind == "trainee_checks")).all()
    return [json.loads(r[0]) if isinstance(r[0], str) else r[0] for r in rows]


def _hq_has_inspection(hq: Any, iid: str) -> bool:
    with hq.engine.connect() as c:
        return c.execute(sa.select(D.inspections.c.id).where(D.inspections.c.id == iid)).first() is not None


# -- at rest, locked sync, unlocked sync ---------------------------------------------------------------
def test_no_clear_pii_at_rest_locked_sync_holds_only_it_unlocked_sync_delivers(tmp_path, hq, capsys):
    store = enrolled_laptop(tmp_path / "laptop", hq)     # B001's passphrase wraps the PII key
    home = store.home
    rng = random.Random(7)
    iid = make_inspection(store, rng, photos=1)
    other = make_inspection(store, rng, photos=1)        # no trainees: must sync even while locked
    rows = _sample(store, iid, tmp_path)
    assert len(rows) == 4
    secrets = _secrets(rows)

    # the app shows masked copies only
    shown = visits.list_trainee_checks(store, iid)
    by_row = {r["row"]: r for r in rows}
    for s in shown:
        real = by_row[s["roster_row"]]
        assert s["id_number"] == real["id_number"][:6] + "********" + real["id_number"][-4:]
        assert s["phone"] == real["phone"][:3] + "****" + real["phone"][-4:]
        assert s["name"] == real["name"][0] + "*" * (len(real["name"]) - 1)

    # a new process: the key is locked, and the device token is sealed under it (no OS key store):
    # the sync sends nothing and says a passphrase is needed (the GUI and CLI ask once, then retry)
    token = device_token(store)
    assert pii.is_sealed(store.scalar("SELECT token FROM sync_enrolment"))
    pii.lock()
    rep = sync(store)
    assert not rep.ok and rep.key_locked and pii.SECRET_LOCKED_MESSAGE in rep.text()
    assert not _hq_has_inspection(hq, other)
    # a token an earlier version stored in clear is sealed at the first sync, which sends everything
    # but the inspection holding PII
    store.conn.execute("UPDATE sync_enrolment SET token = ? WHERE id = 1", (token,))
    rep = sync(store)
    assert rep.ok, rep.error
    assert pii.is_sealed(store.scalar("SELECT token FROM sync_enrolment"))
    assert rep.pii_locked == 1 and [h["entity_id"] for h in rep.held] == [iid]
    assert pii.LOCKED_MESSAGE in rep.text()
    assert _hq_has_inspection(hq, other) and not _hq_has_inspection(hq, iid)
    held = store.one("SELECT payload, result FROM outbox WHERE entity = 'inspection' AND entity_id = ?"
                     " AND sent_at IS NULL", (iid,))
    assert held and json.loads(held["result"])["status"] == "pii_locked"
    assert "enc1:" in held["payload"]                   # frozen body: ciphertext only

    # raw bytes: database, WAL, outbox payloads, a backup, every file in the data folder
    payloads = "\n".join(r["payload"] for r in store.rows("SELECT payload FROM outbox")).encode("utf-8")
    (tmp_path / "outbox.bin").write_bytes(payloads)
    info = backup.create(store, "test")
    wal = home / "inspector.db-wal"
    assert wal.exists() and wal.stat().st_size > 0
    files = [home / "inspector.db", wal, tmp_path / "outbox.bin", *_all_files(info.path), *_all_files(home)]
    assert _found(files, secrets + [("device token", token.encode())]) == []
    assert oct(home.stat().st_mode & 0o777) == "0o700"
    assert oct((home / "inspector.db").stat().st_mode & 0o777) == "0o600"

    # the inspector goes on (a new op, frozen at the next sync); then the CLI syncs with the
    # passphrase from the environment; HQ gets the real values
    visits.record_trainee_check(store, shown[0]["id"], method="电话", reached=True, answers={"attended": True})
    pii.lock()
    import os
    os.environ["PII_TEST_PW"] = PASSPHRASE
    try:
        assert cli(["--home", str(home), "sync", "--quiet", "--passphrase-env", "PII_TEST_PW"]) == 0
    finally:
        del os.environ["PII_TEST_PW"]
    out = capsys.readouterr().out
    assert pii.LOCKED_MESSAGE not in out
    got = {r["roster_row"]: r for r in _hq_trainees(hq, iid)}
    assert len(got) == 4
    for r in rows:
        h = got[r["row"]]
        assert (h["name"], h["id_number"], h["phone"]) == (r["name"], r["id_number"], r["phone"])
        assert "id_masked" not in h                      # HQ keeps the shape it always had
    # sending did not leave plaintext behind
    store.conn.execute("PRAGMA wal_checkpoint(PASSIVE)")
    assert _found([home / "inspector.db", wal], secrets) == []

    # CLI show: masked without a passphrase in list form, real with one
    pii.lock()
    os.environ["PII_TEST_PW"] = PASSPHRASE
    try:
        assert cli(["--home", str(home), "pii", "show", iid, "--passphrase-env", "PII_TEST_PW", "--json"]) == 0
    finally:
        del os.environ["PII_TEST_PW"]
    real = json.loads(capsys.readouterr().out)
    assert {r["id_number"] for r in real} == {r["id_number"] for r in rows}
    store.close()


# -- shared laptop ---------------------------------------------------------------------------------
def test_shared_laptop_both_inspectors_unlock(tmp_path, hq):
    service.make_enrol_code(hq.engine, hq.cfg, "B2", name="李四")
    store = enrolled_laptop(tmp_path / "laptop", hq, badge="B001")
    home = store.home
    iid = make_inspection(store, random.Random(3), photos=0)
    rows = _sample(store, iid, tmp_path)

    # B2's key is made in a fresh process: the PII key is locked — no wrapping yet, and without an OS
    # key store the device token is locked too, so B2 cannot get HQ's certificate on their own
    pii.lock()
    keys.create_inspector_key(home, "B2", "李四", "b2-pass-22")
    assert pii.status(home)["wrapped_for"] == ["B001"]
    with pytest.raises(pii.PiiError, match="B2 尚未加入"):
        pii.unlock(home, "b2-pass-22", badge="B2")
    code2 = service.make_enrol_code(hq.engine, hq.cfg, "B2")["code"]
    with pytest.raises(pii.Locked, match="登记凭据"):
        certify_inspector(store, code2, "B2")

    # B001 unlocks (e.g. to sign); B2 is certified, then gives their passphrase (signing) → their own wrapping
    keys.load_signing_key(home, "B001", PASSPHRASE)
    certify_inspector(store, code2, "B2")
    keys.load_signing_key(home, "B2", "b2-pass-22")
    assert sorted(pii.status(home)["wrapped_for"]) == ["B001", "B2"]

    for pw in ("b2-pass-22", PASSPHRASE):   # each alone, in a new process
        pii.lock()
        with pytest.raises(pii.Locked):
            visits.list_trainee_checks(store, iid, unmasked=True)
        assert pii.unlock(home, pw)
        assert {r["id_number"] for r in visits.list_trainee_checks(store, iid, unmasked=True)} == \
            {r["id_number"] for r in rows}
    pii.lock()
    with pytest.raises(pii.PiiError, match="口令错误"):
        pii.unlock(home, "wrong-pass-9")
    store.close()


def test_cli_grant_adds_co_inspector(home, monkeypatch, capsys):
    store = Store.open(home)
    keys.create_inspector_key(home, "B1", "张三", "b1-pass-11")
    keys.create_inspector_key(home, "B2", "李四", "b2-pass-22")   # made while the key is unlocked: wrapped too
    keys.create_inspector_key(home, "B3", "王五", "b3-pass-33")
    assert sorted(pii.status(home)["wrapped_for"]) == ["B1", "B2", "B3"]
    (pii._dir(home) / "wrap-B3.json").unlink()                   # B3 joined before encryption existed
    pii.lock()
    monkeypatch.setenv("P_OLD", "b1-pass-11")
    monkeypatch.setenv("P_NEW", "b3-pass-33")
    assert cli(["--home", str(home), "pii", "grant", "--badge", "B3", "--passphrase-env", "P_OLD",
                "--new-passphrase-env", "P_NEW"]) == 0
    pii.lock()
    assert pii.unlock(home, "b3-pass-33", badge="B3")
    store.close()


# -- forgotten passphrase --------------------------------------------------------------------------------
def test_forgotten_passphrase_reset(tmp_path, hq, capsys):
    store = enrolled_laptop(tmp_path / "laptop", hq)
    home = store.home
    synced = make_inspection(store, random.Random(1), photos=0)
    synced_rows = _sample(store, synced, tmp_path)
    assert sync(store).ok                                # unlocked since enrolment: synced with real values
    unsynced = make_inspection(store, random.Random(2), photos=0)
    _sample(store, unsynced, tmp_path)
    doc_state = store.rows("SELECT * FROM documents ORDER BY id")
    with store.tx():                                     # a document signed: a checkpoint by the device key
        store.log("document", "doc-1", "sign", {"sha256": "0" * 64}, push=False)
    signed_before = store.scalar("SELECT count(*) FROM audit_checkpoints")
    old_pub = keys.device_public_pem(home)

    pii.lock()                                           # passphrase forgotten: nobody can unlock
    assert cli(["--home", str(home), "pii", "reset"]) == 1
    err = capsys.readouterr().err
    assert "本机有 4 名抽查学员的个人信息尚未同步到总部" in err and "--yes" in err and "重新登记" in err
    assert pii.status(home)["wrapped_for"] == ["B001"]   # nothing changed without --yes
    assert cli(["--home", str(home), "pii", "reset", "--yes", "--json"]) == 0
    r = json.loads(capsys.readouterr().out)
    assert r["unsynced_lost"] == 4 and r["old_key_id"] in pii.status(home)["retired"] and r["enrol_again"]
    assert store.rows("SELECT * FROM documents ORDER BY id") == doc_state

    # old values: still masked on screen; "unmasked" can only give the masked copy
    shown = visits.list_trainee_checks(store, unsynced)
    assert all("*" in s["id_number"] for s in shown)
    assert [s["id_number"] for s in visits.list_trainee_checks(store, unsynced, unmasked=True)] == \
        [s["id_number"] for s in shown]
    # the next passphrase wraps the new key; new trainees are readable again
    keys.load_signing_key(home, "B001", PASSPHRASE)
    assert pii.status(home)["wrapped_for"] == ["B001"] and not pii.status(home)["pending_file"]
    third = make_inspection(store, random.Random(3), photos=0)
    new_rows = _sample(store, third, tmp_path)
    pii.lock()
    pii.unlock(home, PASSPHRASE)
    assert {r["id_number"] for r in visits.list_trainee_checks(store, third, unmasked=True)} == \
        {r["id_number"] for r in new_rows}
    # the device token was sealed to the old key: sync says to enrol again (a new code from HQ);
    # the device key too: retired (its public key kept) and a new one registered at the enrolment
    from inspector.errors import SyncError
    from inspector.store import integrity
    from inspector.sync import enrol
    with pytest.raises(SyncError, match="重新登记本机"):
        sync(store)
    enrol(store, hq.url, service.make_enrol_code(hq.engine, hq.cfg, "B001")["code"], badge_no="B001")
    assert keys.device_public_pem(home) != old_pub and len(keys.device_public_keys(home)) == 2
    # nothing signed is lost: the checkpoints the old device key signed still verify
    assert store.scalar("SELECT count(*) FROM audit_checkpoints") >= signed_before >= 1
    assert integrity.verify(store).ok, integrity.verify(store).problems
    # sync: the old-key values go masked (counted), HQ keeps what it had for the synced inspection
    rep = sync(store)
    assert rep.ok and rep.pii_retired == 12 and rep.pii_locked == 0, rep.text()
    assert {h["id_number"] for h in _hq_trainees(hq, synced)} == {r["id_number"] for r in synced_rows}
    assert {h["id_number"] for h in _hq_trainees(hq, third)} == {r["id_number"] for r in new_rows}
    store.close()


# -- key storage ---------------------------------------------------------------------------------------
class MemoryKeyring:
    """An in-memory OS key store (the real one — Secret Service, DPAPI — is absent on this CI)."""

    priority = 10

    def __init__(self) -> None:
        self.items: dict[tuple[str, str], str] = {}

    def get_password(self, service: str, user: str) -> str | None:
        return self.items.get((service, user))

    def set_password(self, service: str, user: str, password: str) -> None:
        self.items[(service, user)] = password

    def delete_password(self, service: str, user: str) -> None:
        self.items.pop((service, user), None)


def _memory_backend() -> Any:
    from keyring.backend import KeyringBackend

    class Backend(MemoryKeyring, KeyringBackend):
        pass

    return Backend()


def test_os_key_store_holds_the_key_without_passphrase(home, tmp_path):
    import keyring

    kr = _memory_backend()
    keyring.set_keyring(kr)
    assert pii.keyring_available()
    store = Store.open(home)
    inst, cv = ensure_base(store)
    iid = visits.start_inspection(store, inst, inspector_ids=["a"], checklist_version_ids=[cv])
    rows = _sample(store, iid, tmp_path)
    assert not (home / "keys" / pii.PENDING_FILE).exists()     # no plaintext key file with an OS key store
    assert [k[0] for k in kr.items] == [pii.KEYRING_SERVICE]
    pii.lock()                                                 # a new process: the OS key store unlocks it
    assert {r["id_number"] for r in visits.list_trainee_checks(store, iid, unmasked=True)} == \
        {r["id_number"] for r in rows}
    # the key store gone (another user session): locked until a passphrase
    from keyring.backends import fail
    keyring.set_keyring(fail.Keyring())
    pii.lock()
    assert not pii.is_unlocked(home)
    store.close()


def test_pending_key_file_until_first_passphrase(home, tmp_path):
    store = Store.open(home)
    inst, cv = ensure_base(store)
    iid = visits.start_inspection(store, inst, inspector_ids=["a"], checklist_version_ids=[cv])
    rows = _sample(store, iid, tmp_path)
    pending = home / "keys" / pii.PENDING_FILE
    assert pending.exists() and oct(pending.stat().st_mode & 0o777) == "0o600"
    assert _found([home / "inspector.db", home / "inspector.db-wal"], _secrets(rows)) == []
    keys.create_inspector_key(home, "B1", "张三", "first-pass-1")
    assert not pending.exists() and pii.status(home)["wrapped_for"] == ["B1"]
    pii.lock()
    assert not pii.is_unlocked(home)
    assert pii.unlock(home, "first-pass-1")
    store.close()


def test_plaintext_rows_of_an_earlier_version_are_sealed_at_open(home):
    """A store written before encryption: its trainee rows are sealed when the new version opens it,
    and the plaintext is gone from the file (VACUUM), not just from the rows."""
    import sqlite3

    from inspector.store import _migrations, _split_sql

    db = home / "inspector.db"
    conn = sqlite3.connect(db, isolation_level=None)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("CREATE TABLE schema_migrations (name TEXT PRIMARY KEY, applied_at TEXT NOT NULL)")
    for name, sql in _migrations():
        if name >= "0520":
            break
        for stmt in _split_sql(sql):
            conn.execute(stmt)
        conn.execute("INSERT INTO schema_migrations VALUES (?, '2026-01-01')", (name,))
    conn.execute("INSERT INTO institutions (id, credit_code, name, kind, county, updated_at)"
                 " VALUES ('i', 'c', '学校', '培训机构', '区', '2026-01-01')")
    conn.execute("INSERT INTO inspections (id, institution_id, status, started_at, created_at, updated_at)"
                 " VALUES ('x', 'i', 'draft', '2026-01-01', '2026-01-01', '2026-01-01')")
    conn.execute("INSERT INTO trainee_checks (id, inspection_id, name, id_number, phone, created_at)"
                 " VALUES ('t', 'x', '欧阳明远', '410702199001011238', '13912345678', '2026-01-01')")
    # enough rows that sealing (longer values) moves cells between pages: freed space keeps old bytes
    for i in range(300):
        conn.execute("INSERT INTO trainee_checks (id, inspection_id, name, id_number, phone, created_at)"
                     " VALUES (?, 'x', ?, ?, ?, '2026-01-01')", (f"t{i:03d}", f"学员{i:03d}", f"4107021990{i:08d}",
                                                                  f"137{i:08d}"))
    # op bodies an earlier version froze (unsent, retried byte-identical) or kept after sending
    body = {"op": "upsert", "data": {"row": {"id": "x"}, "answers": [], "findings": [], "children": {
        "trainee_checks": [{"id": "t", "name": "欧阳明远", "id_number": "410702199001011238", "phone": "13912345678",
                            "selected_for": "sample"}]}}, "blobs": []}
    for op_id, sent in (("op-frozen", None), ("op-sent", "2026-01-02")):
        conn.execute("INSERT INTO outbox (op_id, entity, entity_id, op, payload, created_at, attempts, sent_at)"
                     " VALUES (?, 'inspection', 'x', 'upsert', ?, '2026-01-01', 1, ?)",
                     (op_id, json.dumps(body, ensure_ascii=False), sent))
    conn.close()
    secrets = [("name", "欧阳明远".encode()), ("id", b"410702199001011238"), ("phone", b"13912345678")]
    secrets += [(f"row {i}", f"137{i:08d}".encode()) for i in range(300)]
    assert _found([db], secrets)
    store = Store.open(home)
    assert _found([db, home / "inspector.db-wal"], secrets) == []
    assert visits.list_trainee_checks(store, "x")[0]["id_number"] == "410702********1238"
    assert visits.list_trainee_checks(store, "x", unmasked=True)[0]["name"] == "欧阳明远"
    for r in store.rows("SELECT payload FROM outbox WHERE op_id LIKE 'op-%'"):
        frozen = json.loads(r["payload"])
        assert pii.carries_sealed(frozen) and pii.reveal_body(home, frozen) == (body, 0)  # same bytes at retry
    store.close()


def test_gui_sync_asks_for_the_passphrase_when_pii_is_held(qtbot, tmp_path, hq):
    from ui.qt import Qt
    from ui.sync_settings import SyncScreen

    store = enrolled_laptop(tmp_path / "laptop", hq)
    iid = make_inspection(store, random.Random(5), photos=0)
    rows = _sample(store, iid, tmp_path)
    pii.lock()                                           # the app started after enrolment
    sc = SyncScreen(store)
    qtbot.addWidget(sc)
    sc.refresh()
    from tests.ui_fixtures import type_into_dialogs

    asked = type_into_dialogs(qtbot, ["wrong-pass-0", PASSPHRASE], observe=sc.detail.text)  # the QInputDialog
    qtbot.mouseClick(sc.sync_btn, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: len(_hq_trainees(hq, iid)) == 4, timeout=60000)
    assert len(asked) == 2 and pii.SECRET_LOCKED_MESSAGE in asked[0]   # the device token is sealed too
    assert {h["phone"] for h in _hq_trainees(hq, iid)} == {r["phone"] for r in rows}
    qtbot.waitUntil(lambda: sc.op is None, timeout=30000)
    assert "同步完成" in sc.detail.text() and pii.LOCKED_MESSAGE not in sc.detail.text()
    store.close()


def test_visit_screen_masked_until_passphrase(qtbot, store, tmp_path):
    """The 学员抽查核实 page shows masked copies; 显示完整身份信息 asks for a signing passphrase."""
    from tests.ui_fixtures import start_training_visit
    from ui.mainwindow import MainWindow
    from ui.qt import QApplication, Qt, setup_app

    setup_app(QApplication.instance())
    keys.create_inspector_key(store.home, "B1", "张三", "b1-pass-11")   # the PII key is wrapped by it
    win = MainWindow(store)
    qtbot.addWidget(win)
    win.show()
    visit = win.open_visit(start_training_visit(store))
    page = visit.trainee_page
    visit.goto("trainees")
    page.load_roster(str(write_roster(tmp_path / "roster.csv", 40)))
    qtbot.mouseClick(page.draw_btn, Qt.MouseButton.LeftButton)
    real = {r["roster_row"]: r for r in pii_rows(store, visit.inspection_id)}
    shown = [page.model.data(page.model.index(i, 2)) for i in range(page.model.rowCount())]
    assert len(shown) == 4 and all("********" in s for s in shown)
    pii.lock()                                                          # the app was restarted
    answers = ["wrong-pass-0", "b1-pass-11"]
    page.ask_passphrase = lambda: answers.pop(0)
    page.reveal_btn.click()                                             # wrong passphrase: still masked
    assert not page.reveal_btn.isChecked() and "口令错误" in visit.last_refusal
    page.reveal_btn.click()
    assert page.reveal_btn.isChecked()
    rows = [page.model.row(i) for i in range(page.model.rowCount())]
    assert {page.model.data(page.model.index(i, 2)) for i in range(4)} == {r["id_number"] for r in real.values()}
    assert {r["name"] for r in rows} == {r["name"] for r in real.values()}
    page.reveal_btn.click()                                             # hide again
    assert all("********" in page.model.data(page.model.index(i, 2)) for i in range(4))
    win.close_visit(remember=False)


def pii_rows(store: Store, iid: str) -> list[dict[str, Any]]:
    return visits.list_trainee_checks(store, iid, unmasked=True)


# -- the 学员抽查核实 checklist's table (S-04): names, ID numbers and phones typed row by row ------------------
def _trainee_table_checklist(store: Store) -> tuple[str, Any]:
    """The shipped trainee_check checklist with a 联系电话 column added to S-04 (a region's own copy):
    the names, ID numbers and phones typed into it must be sealed like the roster's."""
    from inspector import forms, paths
    from inspector.store import checklists

    src = (paths.forms_dir() / "trainee_check.toml").read_text(encoding="utf-8")
    phone = '[[sections.items.columns]]\nid = "phone"\nlabel = "联系电话"\ntype = "text"\n\n'
    at = src.index('[[sections.items.columns]]\nid = "trade"')
    src = src[:at] + phone + src[at:]
    cl = forms.parse_checklist(src, "trainee_check_phone.toml")
    return checklists.ensure_version(store, cl), cl


TABLE_ROWS = [
    {"name": "欧阳明远", "id_no": "410702199001011238", "phone": "13912345678", "trade": "电工", "method": "电话",
     "reached": True, "confirms_attending": True, "exam": True, "certificate": True},
    {"name": "王五六", "id_no": "410702198507152317", "phone": "13787654321", "trade": "电工", "method": "电话",
     "reached": False},
    {"name": "王五七", "phone": "15011112222", "trade": "焊工", "method": "实地", "reached": False},   # no ID: name still sealed
]


def test_trainee_table_answers_sealed_everywhere_masked_shown_real_at_hq(tmp_path, hq, capsys):
    """Done-when grep test for the checklist table: after a visit with both the roster trainee_checks
    and the S-04 table answered (edited through masked cells like the screen does, a row removed and
    put back by undo), finished and backed up, no ID number or phone is in clear in the database, its
    WAL, the outbox, the audit log, the finish seal or the backups; the app (get_answers) and the CLI
    show masked copies; sync delivers the real values to HQ."""
    store = enrolled_laptop(tmp_path / "laptop", hq)     # B001's passphrase wraps the PII key
    home = store.home
    iid, cv, cl = _real_visit(store)
    roster = _sample(store, iid, tmp_path)
    visits.set_answer(store, iid, cv, "S-04", TABLE_ROWS, actor="test")
    # the screen gets masked cells and hands them back: another cell edited, a row removed, undo
    shown = visits.get_answers(store, iid)[cv]["S-04"]
    assert [r["id_no"] for r in shown] == ["410702********1238", "410702********2317", None]
    assert [r["phone"] for r in shown] == ["139****5678", "137****4321", "150****2222"]
    assert [r["name"] for r in shown] == ["欧***", "王**", "王**"]
    edited = [dict(r) for r in shown]
    edited[0]["hours"], edited[0]["hours_recorded"] = 118, 120
    visits.set_answer(store, iid, cv, "S-04", edited, actor="test")
    visits.set_answer(store, iid, cv, "S-04", edited[:1] + edited[2:], actor="test")   # 王五六 removed
    visits.set_answer(store, iid, cv, "S-04", edited, actor="test")                    # undo
    real = visits.get_answers(store, iid, unmasked=True)[cv]["S-04"]
    assert [(r["name"], r["id_no"], r["phone"]) for r in real] == \
        [(r["name"], r.get("id_no"), r["phone"]) for r in TABLE_ROWS]
    assert real[0]["hours"] == 118
    # the rules judge the masked table as before (one unreached of three is 33% > 30%)
    from inspector import rules
    ev = rules.evaluate(cl, {"S-04": shown}, {}, institution_kind="培训机构")
    s04 = next(r for r in ev.results if r.item_id == "S-04")
    assert s04.status == "fail" and "王**" in s04.reason and "欧阳" not in s04.reason, s04.reason
    from tests.store_fixtures import finish_synthetic
    finish_synthetic(store, iid)
    assert sync(store).ok
    info = backup.create(store, "test")

    secrets = _secrets(roster) + [(f"table {f}={r[f]}", r[f].encode()) for r in TABLE_ROWS
                                  for f in ("id_no", "phone") if r.get(f)]
    secrets += [(f"table name={r['name']}", r["name"].encode()) for r in TABLE_ROWS]
    payloads = "\n".join(r["payload"] for r in store.rows("SELECT payload FROM outbox")).encode("utf-8")
    log = "\n".join(r["payload"] for r in store.rows("SELECT payload FROM audit_log")).encode("utf-8")
    (tmp_path / "outbox.bin").write_bytes(payloads)
    (tmp_path / "audit.bin").write_bytes(log)
    assert b"S-04" in log and b'"seal"' in log          # the finish seal holds the table (sealed)
    wal = home / "inspector.db-wal"
    assert wal.exists() and wal.stat().st_size > 0
    files = [home / "inspector.db", wal, tmp_path / "outbox.bin", tmp_path / "audit.bin", *_all_files(info.path),
             *_all_files(home)]
    assert _found(files, secrets) == []
    from inspector.store import integrity
    assert integrity.verify(store).ok                   # the seal compares the sealed cells as stored

    # HQ has the real values, in the shape it always had
    with hq.engine.connect() as c:
        v = c.execute(sa.select(D.answers.c.value).where(D.answers.c.inspection_id == iid,
                                                         D.answers.c.item_id == "S-04")).scalar_one()
    at_hq = json.loads(v) if isinstance(v, str) else v
    assert [(r["name"], r["id_no"], r["phone"]) for r in at_hq] == \
        [(r["name"], r.get("id_no"), r["phone"]) for r in TABLE_ROWS]
    assert all(not isinstance(c, dict) for r in at_hq for c in r.values())

    # CLI: an answer echoed masked (a new process, key locked: writing needs no unlock);
    # `pii show` gives the real ones with the passphrase
    inst, _ = ensure_base(store)
    other = visits.start_inspection(store, inst, inspector_ids=["a"], checklist_version_ids=[cv])
    store.close()
    pii.lock()
    assert cli(["--home", str(home), "visit", "answer", other, "S-04",
                json.dumps(TABLE_ROWS[:1], ensure_ascii=False), "--json"]) == 0
    echoed = json.loads(capsys.readouterr().out)["value"]
    assert (echoed[0]["id_no"], echoed[0]["phone"]) == ("410702********1238", "139****5678")
    import os
    os.environ["PII_TEST_PW"] = PASSPHRASE
    try:
        assert cli(["--home", str(home), "pii", "show", iid, "--passphrase-env", "PII_TEST_PW", "--json"]) == 0
    finally:
        del os.environ["PII_TEST_PW"]
    listed = json.loads(capsys.readouterr().out)
    assert {r["phone"] for r in listed if r["selected_for"] == "table"} == {r["phone"] for r in TABLE_ROWS}
    assert {r["id_number"] for r in listed if r["selected_for"] != "table"} == {r["id_number"] for r in roster}


def _real_visit(store: Store) -> tuple[str, str, Any]:
    """A visit a finish can gather documents for: a stored (parsable) checklist, the enrolled inspector
    in the laptop's directory."""
    inst, _ = ensure_base(store)
    cv, cl = _trainee_table_checklist(store)
    me = store.scalar("SELECT inspector_id FROM sync_enrolment WHERE id = 1")
    iid = visits.start_inspection(store, inst, inspector_ids=[me], checklist_version_ids=[cv])
    _in_directory(store, iid)
    return iid, cv, cl


def _in_directory(store: Store, iid: str) -> None:
    """The visit's inspectors in the laptop's directory (documents name them; make_inspection's are ids)."""
    from inspector.util import now_iso

    for n, i in enumerate(visits.get_inspection(store, iid).inspector_ids):
        store.conn.execute("INSERT OR IGNORE INTO inspectors (id, badge_no, name, updated_at) VALUES (?, ?, ?, ?)",
                           (i, f"T-{i}", f"检查员{n}", now_iso()))


# -- the device key and the device token: protected like the trainees' data -------------------------
def test_device_key_sealed_legacy_pem_migrated_and_no_private_bytes_on_disk(home):
    """No private device key on disk in any usable form: the PEM an earlier version wrote is sealed
    and removed (same key: HQ's registered QR key stays valid), and its raw bytes appear in no file."""
    import base64

    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import ed25519

    legacy = ed25519.Ed25519PrivateKey.generate()
    kd = keys.keys_dir(home)
    kd.mkdir(parents=True)
    (kd / keys.DEVICE_KEY_FILE).write_bytes(legacy.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()))
    store = Store.open(home)
    assert keys.device_public_pem(home) == keys._pub_pem(legacy.public_key())
    assert not (kd / keys.DEVICE_KEY_FILE).exists() and (kd / keys.DEVICE_SEALED_FILE).exists()
    assert oct((kd / keys.DEVICE_SEALED_FILE).stat().st_mode & 0o777) == "0o600"
    keys.create_inspector_key(home, "B1", "张三", "b1-pass-11")      # the first passphrase wraps the key
    raw = keys._raw_ed(legacy)
    forms = [("raw", raw), ("b64", base64.b64encode(raw)), ("pkcs8", legacy.private_bytes(
        serialization.Encoding.DER, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()))]
    store.close()
    assert _found(_all_files(home), forms) == []
    # a new process: locked (no OS key store) until a passphrase; then the same key signs
    pii.lock()
    assert not keys.device_key_available(home)
    with pytest.raises(pii.Locked, match="设备密钥"):
        keys.device_key(home)
    pii.unlock(home, "b1-pass-11")
    assert keys._raw_ed(keys.device_key(home)) == raw


def test_os_key_store_opens_device_key_and_token_without_a_prompt(tmp_path, hq):
    """With an OS key store, a new process syncs and signs checkpoints without any passphrase."""
    import keyring

    keyring.set_keyring(_memory_backend())
    store = enrolled_laptop(tmp_path / "laptop", hq)
    home = store.home
    iid, _cv, _cl = _real_visit(store)
    store.close()
    pii.lock()                                           # a new process: nothing unlocked in memory
    store = Store.open(home)
    assert keys.device_key_available(home)
    from tests.store_fixtures import finish_synthetic
    finish_synthetic(store, iid)
    seq = store.scalar("SELECT seq FROM audit_log WHERE action = 'finish' AND entity_id = ?", (iid,))
    assert store.scalar("SELECT 1 FROM audit_checkpoints WHERE seq = ?", (seq,))      # signed at once
    rep = sync(store)
    assert rep.ok and not rep.key_locked and _hq_has_inspection(hq, iid), rep.text()
    store.close()


def test_locked_device_key_start_check_and_sync_prompt_once(tmp_path, hq):
    """No OS key store, a new process (the key locked): the start-up check and a finish work without a
    passphrase (the finish's checkpoint waits, accepted by verify); one unlock serves every later sync
    and signs the waiting checkpoint; a waiting checkpoint never excuses an older deleted one."""
    from inspector.store import integrity
    from tests.store_fixtures import finish_synthetic

    store = enrolled_laptop(tmp_path / "laptop", hq)
    home = store.home
    first, _cv, _cl = _real_visit(store)
    finish_synthetic(store, first)                       # unlocked since enrolment: signed checkpoint
    assert sync(store).ok
    store.close()
    pii.lock()                                           # the app restarted
    store = Store.open(home)
    assert integrity.verify(store, full=False).ok        # start-up check: public key only, no prompt
    iid, _cv, _cl = _real_visit(store)
    finish_synthetic(store, iid)
    seq = store.scalar("SELECT seq FROM audit_log WHERE action = 'finish' AND entity_id = ?", (iid,))
    assert not store.scalar("SELECT 1 FROM audit_checkpoints WHERE seq = ?", (seq,))   # waits for the key
    assert integrity.verify(store).ok and integrity.verify(store, full=False).ok
    rep = sync(store)
    assert not rep.ok and rep.key_locked and not _hq_has_inspection(hq, iid)
    assert pii.unlock(home, PASSPHRASE)                  # asked once …
    for _ in range(2):                                   # … for every sync of this process
        rep = sync(store)
        assert rep.ok and not rep.key_locked, rep.text()
    assert _hq_has_inspection(hq, iid)
    assert store.scalar("SELECT 1 FROM audit_checkpoints WHERE seq = ?", (seq,))       # signed at the sync
    assert integrity.verify(store).ok
    # the older finish's checkpoint deleted and named as waiting: still reported
    first_seq = store.scalar("SELECT seq FROM audit_log WHERE action = 'finish' AND entity_id = ?", (first,))
    store.conn.execute("DROP TRIGGER audit_checkpoints_no_delete")
    store.conn.execute("DELETE FROM audit_checkpoints WHERE seq = ?", (first_seq,))
    store.conn.execute("UPDATE meta SET value = ? WHERE key = 'checkpoints_pending'", (json.dumps([first_seq]),))
    rep = integrity.verify(store)
    assert any(f"第 {first_seq} 条" in p and "没有签名检查点" in p for p in rep.problems), rep.problems
    store.close()


# -- the on-site person in charge ---------------------------------------------------------------------
def _hq_person_in_charge(hq: Any, iid: str) -> dict[str, Any]:
    with hq.engine.connect() as c:
        v = c.execute(sa.select(D.inspections.c.person_in_charge).where(D.inspections.c.id == iid)).scalar_one()
    return json.loads(v) if isinstance(v, str) else v


def test_person_in_charge_phone_and_id_sealed_masked_kept_and_real_at_hq(tmp_path, hq):
    store = enrolled_laptop(tmp_path / "laptop", hq)
    home = store.home
    iid = make_inspection(store, random.Random(3), photos=0)
    phone, idn = "13912345678", "410702198507150031"
    visits.update_inspection(store, iid, actor="test", person_in_charge={
        "name": "王建华", "position": "校长", "phone": phone, "id_no": idn, "recusal": "不申请回避。"})
    pic = visits.get_inspection(store, iid).person_in_charge
    # screens, the CLI and the printed 笔录 get the masked copies; the name (the signer) stays
    assert (pic["name"], pic["phone"], pic["id_no"]) == ("王建华", "139****5678", "410702********0031")
    assert pii.is_sealed(pic["phone_sealed"]) and pii.is_sealed(pic["id_no_sealed"])
    # the form hands the masked values back when another field changes: the sealed originals stay
    shown = {k: v for k, v in pic.items() if not k.endswith("_sealed")}
    visits.update_inspection(store, iid, actor="test", person_in_charge={**shown, "position": "副校长"})
    again = visits.get_inspection(store, iid).person_in_charge
    assert again["position"] == "副校长"
    assert (again["phone_sealed"], again["id_no_sealed"]) == (pic["phone_sealed"], pic["id_no_sealed"])
    # a new number replaces both copies
    visits.update_inspection(store, iid, actor="test", person_in_charge={**shown, "phone": "13700001111"})
    now = visits.get_inspection(store, iid).person_in_charge
    assert now["phone"] == "137****1111" and now["phone_sealed"] != pic["phone_sealed"]
    # a made-up "sealed" value is not taken over
    visits.update_inspection(store, iid, actor="test",
                             person_in_charge={**shown, "phone": "139****0000", "phone_sealed": "enc1:AAAA"})
    assert visits.get_inspection(store, iid).person_in_charge["phone_sealed"] != "enc1:AAAA"
    # undo hands an earlier stored state back whole: its sealed originals come back
    visits.update_inspection(store, iid, actor="test", person_in_charge=pic)
    assert visits.get_inspection(store, iid).person_in_charge == pic

    secrets = [("phone", phone.encode()), ("id", idn.encode()), ("new phone", b"13700001111")]
    rep = sync(store)
    assert rep.ok, rep.error
    # HQ keeps the real values in the shape it always had
    at_hq = _hq_person_in_charge(hq, iid)
    assert (at_hq["phone"], at_hq["id_no"], at_hq["name"]) == (phone, idn, "王建华")
    assert not any(k.endswith("_sealed") for k in at_hq)
    # nothing in clear at rest: database, WAL, audit log and outbox payloads, the data folder
    payloads = "\n".join(r["payload"] for r in store.rows("SELECT payload FROM outbox")).encode("utf-8")
    audit = "\n".join(str(r["payload"]) for r in store.rows("SELECT payload FROM audit_log")).encode("utf-8")
    (tmp_path / "outbox.bin").write_bytes(payloads + audit)
    files = [home / "inspector.db", home / "inspector.db-wal", tmp_path / "outbox.bin", *_all_files(home)]
    assert _found(files, secrets) == []
    store.close()



def test_one_key_agreement_serves_a_bounded_run_of_values(home, monkeypatch):
    """Sealing a roster costs one X25519 agreement per run of values, not one per value; the run is
    bounded (uses and time) and every value still opens on its own with its field bound."""
    monkeypatch.setattr(pii, "_EPH_USES", 3)
    pii.public_key(home)
    values = [f"1380000{i:04d}" for i in range(7)]
    tokens = [pii.seal(home, v, "phone") for v in values]
    import base64

    ephs = [base64.b64decode(t[len(pii.PREFIX):])[8:40] for t in tokens]
    assert len(set(ephs)) == 3 and ephs[0] == ephs[2] != ephs[3]
    assert len({base64.b64decode(t[len(pii.PREFIX):])[40:52] for t in tokens}) == 7   # fresh nonce each
    monkeypatch.setattr(pii, "_EPH_SECONDS", -1.0)                                       # the time bound
    assert base64.b64decode(pii.seal(home, "x", "phone")[len(pii.PREFIX):])[8:40] not in ephs
    assert [pii.open_(home, t, "phone") for t in tokens] == values
    with pytest.raises(pii.PiiError):                 # the field is bound: a phone is not an ID number
        pii.open_(home, tokens[0], "id_number")
    pii.lock(home)                                    # the cached ciphers go with the unlocked key
    assert not [k for k in pii._opened if k[0] == pii._home(home)]


def test_open_visits_person_in_charge_written_in_clear_is_sealed_at_open(home, monkeypatch):
    """A store an earlier build wrote (the person in charge's phone and ID in clear): at the first
    open after migration 0620 an open visit's values are sealed through the audited write path and
    the tamper check still passes; a finished visit keeps what its signed chain holds."""
    from inspector.store import integrity

    store = Store.open(home)
    rng = random.Random(5)
    draft, done = make_inspection(store, rng, photos=0), make_inspection(store, rng, photos=0)
    pic = {"name": "王建华", "position": "校长", "phone": "13912345678", "id_no": "410702198507150031"}
    cv, _cl = _trainee_table_checklist(store)
    visits.update_inspection(store, draft, checklist_version_ids=[cv], actor="test")
    with monkeypatch.context() as m:              # the earlier build: no sealing
        m.setattr(pii, "seal_contact", lambda home, new, old=None: dict(new))
        m.setattr(pii, "is_pii_table", lambda value: False)
        for iid in (draft, done):
            visits.update_inspection(store, iid, person_in_charge=pic, actor="test")
        visits.set_answer(store, draft, cv, "S-04", TABLE_ROWS[:1], actor="test")
    assert "13912345678" in store.scalar("SELECT value FROM answers WHERE item_id = 'S-04'")
    from tests.store_fixtures import finish_synthetic

    finish_synthetic(store, done)
    store.conn.execute("DELETE FROM schema_migrations WHERE name = '0620_pii_contacts.sql'")
    store.close()

    store = Store.open(home)
    now = visits.get_inspection(store, draft).person_in_charge
    assert (now["phone"], now["id_no"]) == ("139****5678", "410702********0031")
    assert pii.reveal_contact(home, now)[0]["phone"] == "13912345678"
    row = store.scalar("SELECT person_in_charge FROM inspections WHERE id = ?", (draft,))
    assert "13912345678" not in row and "410702198507150031" not in row
    cell = json.loads(store.scalar("SELECT value FROM answers WHERE item_id = 'S-04'"))[0]
    assert pii.is_sealed_cell(cell["phone"]) and pii.is_sealed_cell(cell["id_no"])
    assert visits.get_answers(store, draft)[cv]["S-04"][0]["phone"] == "139****5678"
    assert visits.get_inspection(store, done).person_in_charge == pic   # the signed record stays as it was
    assert integrity.verify(store).ok
    store.close()
