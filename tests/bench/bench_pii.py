"""Personal data at rest (inspector/pii.py): what field-level encryption costs, each against the same
work without it in the same run; and whole-database encryption (SQLCipher) as the alternative.

- writing / reading 1,000 trainee checks sealed vs the same rows in plaintext;
- ``set_answer`` on the trainee table S-04 (its name/ID/phone cells sealed) vs the same cells in clear;
- ``set_answer`` median and p99, and opening a store with 100,000 answers, with the feature vs
  the same store built without it (migration 0520 left out) — should be ≈1.0×: nothing but the
  trainee columns is touched;
- SQLCipher 4 (sqlcipher3-binary): opening the same 100,000-answer database with its key (its
  PBKDF2 runs at every open of every connection) and a durable one-row write, vs plain SQLite.
"""
from __future__ import annotations

import statistics
import tempfile
import time
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Iterator

from inspector import pii
from inspector import store as store_mod
from inspector.store import Store, visits
from inspector.util import new_id, now_iso
from tests.store_fixtures import seed_minimal
from tests.bench import best




@contextmanager
def _without_pii() -> Iterator[None]:
    """Stores made and opened here never get migration 0520 (the build without PII encryption)."""
    real = store_mod._migrations
    store_mod._migrations = lambda: [m for m in real() if not m[0].startswith("0520")]
    try:
        yield
    finally:
        store_mod._migrations = real


def _roster(n: int) -> list[dict[str, Any]]:
    from inspector import demo_directory

    return [{**r, "row": i + 2, "selected_for": "sample"} for i, r in enumerate(demo_directory.make_roster(n, seed=5))]


def _plain_insert(store: Store, iid: str, rows: list[dict[str, Any]]) -> None:
    """What add_trainee_checks did before encryption (same inserts, same audit entry)."""
    ts = now_iso()
    with store.tx() as db:
        for r in rows:
            db.table("trainee_checks").insert({
                "id": new_id(), "inspection_id": iid, "roster_row": r.get("row"), "name": r["name"],
                "id_number": r.get("id_number"), "trade": r.get("trade"), "phone": r.get("phone"),
                "selected_for": r.get("selected_for", "sample"), "created_at": ts})
        store.log("inspection", iid, "trainees_sampled", {"count": len(rows)})


def _pctl(xs: list[float], q: float) -> float:
    return sorted(xs)[max(0, int(len(xs) * q) - 1)]


def _trainee_rows(tmp: Path) -> list[dict[str, Any]]:
    rows = _roster(1000)
    out = []
    enc_home, plain_home = tmp / "enc", tmp / "plain"
    s_enc, s_plain = Store(enc_home / "inspector.db"), Store(plain_home / "inspector.db")
    i1, c1 = seed_minimal(s_enc)
    i2, c2 = seed_minimal(s_plain)
    pii.public_key(enc_home)  # the key pair exists before timing (made once per laptop)
    w_enc, w_plain = [], []
    for k in range(3):
        a = visits.start_inspection(s_enc, i1)
        b = visits.start_inspection(s_plain, i2)
        t0 = time.perf_counter()
        visits.add_trainee_checks(s_enc, a, rows)
        w_enc.append(time.perf_counter() - t0)
        t0 = time.perf_counter()
        _plain_insert(s_plain, b, rows)
        w_plain.append(time.perf_counter() - t0)
    out.append({"name": "write 1,000 trainee checks, sealed (AES-GCM per value, one X25519 agreement per run)",
                "seconds": min(w_enc), "baseline": "same rows in plaintext", "baseline_seconds": min(w_plain),
                "ratio": min(w_enc) / min(w_plain), "target": "≤ 1.5×",
                "note": f"{min(w_enc) / 1000 * 1e3:.2f} ms per row"})
    t_masked = best(lambda: visits.list_trainee_checks(s_enc, a))
    t_plain = best(lambda: visits.list_trainee_checks(s_plain, b))
    out.append({"name": "read 1,000 trainee checks, masked copies (screens, CLI)", "seconds": t_masked,
                "baseline": "same rows in plaintext", "baseline_seconds": t_plain, "ratio": t_masked / t_plain,
                "target": "≈ 1.0×"})
    t_open = best(lambda: visits.list_trainee_checks(s_enc, a, unmasked=True))
    out.append({"name": "read 1,000 trainee checks, decrypted (sync, 'show unmasked')", "seconds": t_open,
                "baseline": "same rows in plaintext", "baseline_seconds": t_plain, "ratio": t_open / t_plain,
                "target": "-", "note": f"{t_open / 1000 * 1e3:.2f} ms per row"})
    s_enc.close()
    s_plain.close()
    return out


def _set_answer(path: Path, n: int = 200) -> list[float]:
    st = Store(path)
    i, c = seed_minimal(st)
    iid = visits.start_inspection(st, i)
    if "0520_pii.sql" in st.schema_version():
        visits.add_trainee_checks(st, iid, _roster(40)[:4])   # the feature in use in the same inspection
    lat = []
    for k in range(n):
        t0 = time.perf_counter()
        visits.set_answer(st, iid, c, f"I{k % 20}", k)
        lat.append(time.perf_counter() - t0)
    st.close()
    return lat


@contextmanager
def _no_table_sealing() -> Iterator[None]:
    """set_answer as before table cells were sealed (the baseline of the table rows below)."""
    real = pii.is_pii_table
    pii.is_pii_table = lambda value: False  # type: ignore[assignment]
    try:
        yield
    finally:
        pii.is_pii_table = real  # type: ignore[assignment]


def _table_edits(path: Path, n: int = 100) -> list[float]:
    """The 学员抽查核实 table (S-04, 10 trainees with name, ID number, phone) edited the way the screen
    does: it reads the answer (masked cells), changes one cell, hands the whole table back."""
    from inspector import demo_directory, forms, paths
    from inspector.store import checklists

    st = Store(path)
    i, _c = seed_minimal(st)
    src = (paths.forms_dir() / "trainee_check.toml").read_text(encoding="utf-8")
    at = src.index('[[sections.items.columns]]\nid = "trade"')
    src = src[:at] + '[[sections.items.columns]]\nid = "phone"\nlabel = "联系电话"\ntype = "text"\n\n' + src[at:]
    cv = checklists.ensure_version(st, forms.parse_checklist(src, "trainee_check_phone.toml"))
    iid = visits.start_inspection(st, i, checklist_version_ids=[cv])
    pii.public_key(path.parent)
    rows = [{"name": r["name"], "id_no": r["id_number"], "phone": r["phone"], "trade": "电工", "method": "电话",
             "reached": False} for r in demo_directory.make_roster(10, seed=9)]
    visits.set_answer(st, iid, cv, "S-04", rows)
    lat = []
    for k in range(n):
        shown = visits.get_answers(st, iid, cv)[cv]["S-04"]
        shown[k % 10]["hours"] = k
        t0 = time.perf_counter()
        visits.set_answer(st, iid, cv, "S-04", shown)
        lat.append(time.perf_counter() - t0)
    st.close()
    return lat


def _big_store(path: Path) -> None:
    s = Store(path)
    inst, cv = seed_minimal(s)
    ts = now_iso()
    with s.tx() as db:
        for _ in range(1000):
            iid = new_id()
            db["inspections"].insert({"id": iid, "institution_id": inst, "started_at": ts, "created_at": ts,
                                      "updated_at": ts})
            db["answers"].insert_all(({"inspection_id": iid, "checklist_version_id": cv, "item_id": f"I{j}",
                                       "value": str(j), "updated_at": ts} for j in range(100)))
    s.close()


def _open_close(p: Path) -> None:
    st = Store(p)
    st.scalar("SELECT COUNT(*) FROM inspections")
    st.close()


def _sqlcipher(tmp: Path, plain_db: Path) -> list[dict[str, Any]]:
    try:
        import sqlcipher3
    except ImportError:
        return [{"name": "SQLCipher: skipped", "note": "sqlcipher3-binary not installed (pip install '.[test]')"}]
    import sqlite3

    enc = tmp / "cipher.db"
    c = sqlcipher3.connect(str(plain_db))
    c.execute(f"ATTACH DATABASE '{enc}' AS enc KEY 'inspector-passphrase'")
    c.execute("SELECT sqlcipher_export('enc')")
    c.execute("DETACH DATABASE enc")
    c.close()

    def open_cipher() -> None:
        k = sqlcipher3.connect(str(enc))
        k.execute("PRAGMA key = 'inspector-passphrase'")
        k.execute("PRAGMA journal_mode=WAL")
        k.execute("SELECT COUNT(*) FROM inspections").fetchone()
        k.close()

    def open_plain() -> None:
        k = sqlite3.connect(str(plain_db))
        k.execute("PRAGMA journal_mode=WAL")
        k.execute("SELECT COUNT(*) FROM inspections").fetchone()
        k.close()

    t_c, t_p = best(open_cipher), best(open_plain)
    rows = [{"name": "SQLCipher 4: open the 100,000-answer store with its key, first read", "seconds": t_c,
             "baseline": "plain SQLite, same file and read", "baseline_seconds": t_p, "ratio": t_c / t_p,
             "target": "(alternative)", "note": "key derivation at every open of every connection (CLI, GUI worker)"}]

    first = sqlite3.connect(str(plain_db)).execute("SELECT id FROM inspections LIMIT 1").fetchone()[0]

    def writes(conn: Any) -> list[float]:
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute("PRAGMA synchronous=FULL")
        conn.isolation_level = None
        lat = []
        for k in range(200):
            t0 = time.perf_counter()
            conn.execute("BEGIN IMMEDIATE")
            conn.execute("UPDATE answers SET value = ? WHERE inspection_id = ? AND item_id = ?",
                         (str(k), first, f"I{k % 100}"))
            conn.execute("COMMIT")
            lat.append(time.perf_counter() - t0)
        conn.close()
        return lat

    kc = sqlcipher3.connect(str(enc))
    kc.execute("PRAGMA key = 'inspector-passphrase'")
    wc = writes(kc)
    wp = writes(sqlite3.connect(str(plain_db)))
    rows.append({"name": "SQLCipher 4: one durable row update, median", "seconds": statistics.median(wc),
                 "baseline": "plain SQLite", "baseline_seconds": statistics.median(wp),
                 "ratio": statistics.median(wc) / statistics.median(wp), "target": "(alternative)",
                 "note": f"p99 {_pctl(wc, 0.99) * 1e3:.1f} ms vs {_pctl(wp, 0.99) * 1e3:.1f} ms"})
    return rows


def run() -> list[dict[str, Any]]:
    tmp = Path(tempfile.mkdtemp(prefix="bench-pii-"))
    rows = _trainee_rows(tmp)

    # set_answer: interleaved runs so both builds see the same disk and load
    with_f: list[float] = []
    without: list[float] = []
    for k in range(3):
        with_f += _set_answer(tmp / f"sa-with-{k}" / "inspector.db")
        with _without_pii():
            without += _set_answer(tmp / f"sa-without-{k}" / "inspector.db")
    rows.append({"name": "set_answer with PII encryption, median", "seconds": statistics.median(with_f),
                 "baseline": "same store without it (no migration 0520)", "baseline_seconds": statistics.median(without),
                 "ratio": statistics.median(with_f) / statistics.median(without), "target": "≤ 1.5× (expected ≈ 1.0×)"})
    rows.append({"name": "set_answer with PII encryption, p99", "seconds": _pctl(with_f, 0.99),
                 "baseline": "same store without it", "baseline_seconds": _pctl(without, 0.99),
                 "ratio": _pctl(with_f, 0.99) / _pctl(without, 0.99), "target": "≤ 1.5× (expected ≈ 1.0×)"})

    # the trainee table (S-04): sealed cells in the answer, the audit entry and later the seal
    t_with: list[float] = []
    t_without: list[float] = []
    for k in range(3):
        t_with += _table_edits(tmp / f"tbl-with-{k}" / "inspector.db")
        with _no_table_sealing():
            t_without += _table_edits(tmp / f"tbl-without-{k}" / "inspector.db")
    for label, q in (("median", 0.5), ("p99", 0.99)):
        a, b = _pctl(t_with, q), _pctl(t_without, q)
        rows.append({"name": f"set_answer on the 10-trainee table S-04 (one cell edited, PII cells sealed), {label}",
                     "seconds": a, "baseline": "same table, cells in clear", "baseline_seconds": b, "ratio": a / b,
                     "target": "≤ 1.5×", "note": "masked cells handed back keep their sealed originals: no re-sealing"})

    big_with, big_without = tmp / "big-with" / "inspector.db", tmp / "big-without" / "inspector.db"
    _big_store(big_with)
    with _without_pii():
        _big_store(big_without)
    t_w = best(lambda: _open_close(big_with))
    with _without_pii():
        t_wo = best(lambda: _open_close(big_without))
    rows.append({"name": "open a store with 100,000 answers, with PII encryption", "seconds": t_w,
                 "baseline": "same store without it", "baseline_seconds": t_wo, "ratio": t_w / t_wo,
                 "target": "≤ 1.5× (expected ≈ 1.0×)"})
    rows += _sqlcipher(tmp, big_without)
    return rows
