"""Device quotas at HQ (issue 13, item 5): unfinished uploads are capped per device, bounded in
size, kept apart per device and cleaned up when abandoned; document-number blocks are handed out
only when a device's numbers run low, capped per year, and every number of a series is accounted
for (used, issued, voided, returned, held) — on SQLite and PostgreSQL."""
from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import time

import httpx
import pytest
import sqlalchemy as sa

from inspector.sync.client import device_token  # the token is sealed at rest (pii.seal_secret)
from inspector import numbering
from inspector.hq import blobs as B
from inspector.hq import db as D
from inspector.hq import numbers
from inspector.hq.app import create_app
from inspector.hq.cli import main as hq_main
from inspector.sync import sync
from inspector.util import dumps, new_id, now_iso
from tests.hq_fixtures import *  # noqa: F401,F403
from tests.hq_fixtures import enrolled_laptop, start_hq

YEAR = dt.date.today().year
http = httpx.Client(timeout=60)  # one client: building one per request costs ~0.1 s (CA bundle)
P = "新人社监"


def _h(store) -> dict[str, str]:
    return {"Authorization": "Bearer " + device_token(store)}


def _rows(hq, table) -> list:
    with hq.engine.connect() as c:
        return c.execute(sa.select(table)).all()


def _partials(hq) -> list:
    d = hq.cfg.blob_dir / "partial"
    return sorted(d.iterdir()) if d.exists() else []


@pytest.fixture
def lap(tmp_path, hq):
    return enrolled_laptop(tmp_path / "a", hq)


@pytest.fixture
def hq1(tmp_path):
    """HQ on SQLite only, for checks that do not depend on the database (the rest run on both)."""
    s = start_hq(tmp_path / "hq1")
    yield s
    s.stop()


@pytest.fixture
def lap1(tmp_path, hq1):
    return enrolled_laptop(tmp_path / "a1", hq1)


# -- uploads -----------------------------------------------------------------------------------------
def test_twenty_huge_random_uploads_stop_at_the_device_cap_and_expire(tmp_path, hq, lap):
    h = _h(lap)
    codes = []
    for _ in range(20):
        sha = os.urandom(32).hex()
        r = http.patch(f"{hq.url}/api/v1/blobs/{sha}", params={"offset": 0, "total": 2147483647},
                        content=os.urandom(1000), headers=h)
        codes.append((r.status_code, r.json().get("code")))
        if r.status_code == 413:
            assert "配额" in r.json()["error"] and "MB" in r.json()["error"]
    assert codes[0] == (200, None) and codes[1:] == [(413, "upload_quota")] * 19
    assert len(_rows(hq, D.uploads)) == 1 and len(_partials(hq)) == 1   # the refused ones left nothing
    # abandoned: the clean-up removes the row and the file once partial_hours have passed
    assert B.gc(hq.engine, hq.app.state.hq.blobs, hq.cfg)["expired"] == 0
    got = B.gc(hq.engine, hq.app.state.hq.blobs, hq.cfg, now=time.time() + hq.cfg.partial_hours * 3600 + 60)
    assert got["expired"] == 1 and got["bytes"] == 1000
    assert _rows(hq, D.uploads) == [] and _partials(hq) == []
    # and the device may upload again
    data = os.urandom(5000)
    sha = hashlib.sha256(data).hexdigest()
    r = http.put(f"{hq.url}/api/v1/blobs/{sha}", content=data, headers=h)
    assert r.status_code == 200 and r.json()["complete"] is True


def test_count_of_unfinished_uploads_is_capped_and_bad_totals_are_refused(tmp_path):
    hq = start_hq(tmp_path / "hq", partial_max=3)
    try:
        h = _h(enrolled_laptop(tmp_path / "a", hq))
        got = []
        for _ in range(4):
            r = http.patch(f"{hq.url}/api/v1/blobs/{os.urandom(32).hex()}", params={"offset": 0, "total": 100},
                            content=b"x" * 10, headers=h)
            got.append(r.status_code)
        assert got == [200, 200, 200, 429]
        assert "未完成的上传" in r.json()["error"] and r.json()["code"] == "too_many_uploads"
        sha = os.urandom(32).hex()
        u = f"{hq.url}/api/v1/blobs/{sha}"
        for total in (B.MAX_BLOB + 1, -1):
            r = http.patch(u, params={"offset": 0, "total": total}, content=b"x", headers=h)
            assert r.status_code == 422 and r.json()["code"] == "bad_total" and "声明大小" in r.json()["error"]
        r = http.patch(u, params={"offset": 50, "total": 10}, content=b"x", headers=h)
        assert r.status_code == 422 and r.json()["code"] == "bad_offset"
    finally:
        hq.stop()


def test_declared_total_stays_the_same_and_bytes_beyond_it_are_refused(tmp_path, hq1, lap1):
    h = _h(lap1)
    data = os.urandom(3000)
    sha = hashlib.sha256(data).hexdigest()
    u = f"{hq1.url}/api/v1/blobs/{sha}"
    assert http.patch(u, params={"offset": 0, "total": 3000}, content=data[:1000], headers=h).json()["offset"] == 1000
    r = http.patch(u, params={"offset": 1000, "total": 9000}, content=data[1000:], headers=h)
    assert r.status_code == 409 and r.json()["code"] == "total_mismatch" and r.json()["offset"] == 1000
    r = http.patch(u, params={"offset": 1000, "total": 3000}, content=data[1000:] + b"extra", headers=h)
    assert r.status_code == 422 and r.json()["code"] == "too_long"
    assert http.get(f"{u}/status", headers=h).json()["offset"] == 1000     # the partial is unharmed
    r = http.patch(u, params={"offset": 1000, "total": 3000}, content=data[1000:], headers=h)
    assert r.json()["complete"] is True and hq1.app.state.hq.blobs.path(sha).read_bytes() == data


def test_declared_total_must_match_the_size_a_photo_record_gives(tmp_path, hq1, lap1):
    data = os.urandom(777)
    sha = hashlib.sha256(data).hexdigest()
    with D.write(hq1.engine) as c:  # HQ holds a photo record naming this file (its bytes were lost)
        c.execute(D.photos.insert().values(id=new_id(), sha256=sha, extra=dumps({"size": 777}),
                                           created_at=now_iso()))
    u = f"{hq1.url}/api/v1/blobs/{sha}"
    r = http.patch(u, params={"offset": 0, "total": 778}, content=data + b"!", headers=_h(lap1))
    assert r.status_code == 422 and r.json()["code"] == "total_mismatch" and "777" in r.json()["error"]
    assert http.patch(u, params={"offset": 0, "total": 777}, content=data, headers=_h(lap1)).json()["complete"]
    # an op naming a blob of another size is flagged (for the push path)
    op = {"data": {"row": {"sha256": sha, "size": 700}}}
    assert "777" in hq1.app.state.hq.blobs.op_size_problems(op)[0]
    assert hq1.app.state.hq.blobs.op_size_problems({"data": {"row": {"sha256": sha, "size": 777}}}) == []


def test_a_partial_of_device_a_is_never_appended_to_by_device_b(tmp_path, hq, lap):
    b = enrolled_laptop(tmp_path / "b", hq, badge="B002", name="李四")
    ha, hb = _h(lap), _h(b)
    data = os.urandom(8000)
    sha = hashlib.sha256(data).hexdigest()
    u = f"{hq.url}/api/v1/blobs/{sha}"
    assert http.patch(u, params={"offset": 0, "total": 8000}, content=data[:3000], headers=ha).json()["offset"] == 3000
    # B cannot continue A's upload: its own starts at 0
    r = http.patch(u, params={"offset": 3000, "total": 8000}, content=b"\0" * 5000, headers=hb)
    assert r.status_code == 409 and r.json()["code"] == "offset_mismatch" and r.json()["offset"] == 0
    assert http.get(f"{u}/status", headers=hb).json()["offset"] == 0
    assert http.get(f"{u}/status", headers=ha).json()["offset"] == 3000
    # B sends garbage for its own copy: refused, A's partial untouched
    r = http.patch(u, params={"offset": 0, "total": 8000}, content=b"\0" * 8000, headers=hb)
    assert r.status_code == 422 and r.json()["code"] == "blob_hash_mismatch"
    assert http.get(f"{u}/status", headers=ha).json()["offset"] == 3000
    assert len(hq.app.state.hq.blobs.partials(sha)) == 1
    r = http.patch(u, params={"offset": 3000, "total": 8000}, content=data[3000:], headers=ha)
    assert r.json()["complete"] is True and hq.app.state.hq.blobs.path(sha).read_bytes() == data
    assert _rows(hq, D.uploads) == [] and _partials(hq) == []


def test_bytes_a_crashed_writer_appended_without_commit_are_cut_off(tmp_path, hq1, lap1):
    h = _h(lap1)
    data = os.urandom(6000)
    sha = hashlib.sha256(data).hexdigest()
    u = f"{hq1.url}/api/v1/blobs/{sha}"
    http.patch(u, params={"offset": 0, "total": 6000}, content=data[:2000], headers=h)
    dev = lap1.scalar("SELECT device_id FROM sync_enrolment")
    part = hq1.app.state.hq.blobs.partial(sha, dev)
    with open(part, "ab") as f:   # a worker killed between its append and its commit
        f.write(b"\xff" * 1500)
    assert http.get(f"{u}/status", headers=h).json()["offset"] == 2000   # the database is the truth
    r = http.patch(u, params={"offset": 2000, "total": 6000}, content=data[2000:], headers=h)
    assert r.status_code == 200 and r.json()["complete"] is True
    assert hq1.app.state.hq.blobs.path(sha).read_bytes() == data


def test_abandoned_uploads_are_removed_at_start_up_and_by_the_cli(tmp_path, hq, lap):
    h = _h(lap)
    shas = [os.urandom(32).hex() for _ in range(2)]
    for s in shas:
        http.patch(f"{hq.url}/api/v1/blobs/{s}", params={"offset": 0, "total": 100}, content=b"y" * 10, headers=h)
    orphan = hq.cfg.blob_dir / "partial" / f"{'c' * 64}.part"   # a partial no upload owns (older HQ)
    orphan.write_bytes(b"old")
    old = time.time() - 2 * 86400
    os.utime(orphan, (old, old))
    with D.write(hq.engine) as c:
        c.execute(D.uploads.update().where(D.uploads.c.sha256 == shas[0]).values(updated_at=old))
    create_app(hq.cfg, engine=hq.engine)                       # another worker starting up
    left = _rows(hq, D.uploads)
    assert [r.sha256 for r in left] == [shas[1]] and not orphan.exists() and len(_partials(hq)) == 1
    with D.write(hq.engine) as c:
        c.execute(D.uploads.update().values(updated_at=old))
    assert hq_main(["--home", str(hq.cfg.home)] + (["--db", hq.cfg.db_url] if hq.cfg.db_url else [])
                   + ["blobs", "gc"]) == 0
    assert _rows(hq, D.uploads) == [] and _partials(hq) == []


# -- document-number blocks ----------------------------------------------------------------------------
def test_a_hundred_block_requests_do_not_allocate_a_hundred_blocks(tmp_path, hq, lap):
    h = _h(lap)
    before = len(_rows(hq, D.doc_blocks))
    for _ in range(100):
        r = http.post(f"{hq.url}/api/v1/doc-blocks", json={}, headers=h)
        assert r.status_code == 200 and r.json()["blocks"] == []
    assert len(_rows(hq, D.doc_blocks)) == before == 3
    assert "不发新号段" in r.json()["series"][0]["reason"]
    # a device that claims to have used everything gets blocks only up to the yearly cap
    granted = 0
    for _ in range(10):
        used = [{"agency": b["agency"], "year": b["year"], "first": b["first"], "next": b["last"] + 1}
                for b in http.get(f"{hq.url}/api/v1/doc-blocks", headers=h).json()["blocks"]]
        r = http.post(f"{hq.url}/api/v1/doc-blocks", json={"agency": P, "year": YEAR, "used": used}, headers=h)
        if r.status_code == 429:
            assert r.json()["code"] == "doc_block_cap" and "上限" in r.json()["error"]
            continue
        granted += len(r.json()["blocks"])
    mine = [b for b in _rows(hq, D.doc_blocks) if b.agency == P and b.year == YEAR]
    assert granted == hq.cfg.doc_blocks_per_year - 1 and len(mine) == hq.cfg.doc_blocks_per_year
    r = http.post(f"{hq.url}/api/v1/doc-blocks", json={"year": "abc"}, headers=h)
    assert r.status_code == 422


def test_the_laptop_asks_for_numbers_only_when_they_run_low(tmp_path, hq_db):
    hq = start_hq(tmp_path / "hq", hq_db, doc_block_size=30)   # low below min(30, max(20, 3)) = 20
    try:
        lap = enrolled_laptop(tmp_path / "a", hq)
        assert sync(lap).ok and len(_rows(hq, D.doc_blocks)) == 3          # 30 unused: nothing asked
        for _ in range(10):
            numbering.allocate(lap, "notice", year=YEAR)
        assert sync(lap).ok and len(_rows(hq, D.doc_blocks)) == 3          # 20 left: still enough
        numbering.allocate(lap, "notice", year=YEAR)
        rep = sync(lap)                                                    # 19 left: one more block
        assert rep.ok and any("已领取文号号段" in n for n in rep.numbers), rep.numbers
        mine = [b for b in _rows(hq, D.doc_blocks) if b.agency == P]
        assert len(mine) == 2 and len(_rows(hq, D.doc_blocks)) == 4
        assert [r["first"] for r in lap.rows("SELECT first FROM doc_number_blocks WHERE agency = ?"
                                             " AND source = 'hq' ORDER BY first", (P,))] == [b.first for b in mine]
        usage = {u.block_id: u.used_through for u in _rows(hq, D.doc_block_usage)}
        assert usage[mine[0].id] == mine[0].first + 10                      # what the laptop reported
        assert sync(lap).ok and len(_rows(hq, D.doc_blocks)) == 4
        # numbers keep flowing past the first block, with no gap
        seqs = [numbering.allocate(lap, "notice", year=YEAR).seq for _ in range(25)]
        assert seqs == list(range(mine[0].first + 11, mine[0].last + 1)) + list(range(mine[1].first, mine[1].first + 6))
    finally:
        hq.stop()


def test_every_number_of_a_series_is_accounted_for_after_a_retirement(tmp_path, hq_db, capsys):
    hq = start_hq(tmp_path / "hq", hq_db, doc_block_size=30)
    try:
        a = enrolled_laptop(tmp_path / "a", hq)
        b = enrolled_laptop(tmp_path / "b", hq, badge="B002", name="李四")
        dev_a = a.scalar("SELECT device_id FROM sync_enrolment")
        dev_b = b.scalar("SELECT device_id FROM sync_enrolment")
        blk_a = [x for x in _rows(hq, D.doc_blocks) if x.device_id == dev_a and x.agency == P][0]
        nums = [numbering.allocate(a, "notice", year=YEAR) for _ in range(5)]
        with D.write(hq.engine) as c:   # two of them reached HQ on documents
            for n in nums[:2]:
                c.execute(D.documents.insert().values(id=new_id(), kind="notice", number=n.text,
                                                      inspection_id=new_id(), device_id=dev_a, created_at=now_iso()))
        r = http.post(f"{hq.url}/api/v1/doc-blocks", json={"used": numbering.hq_usage(a)}, headers=_h(a))
        assert r.status_code == 200 and r.json()["blocks"] == []             # 25 left: no new block
        numbers.void_numbers(hq.engine, P, YEAR, nums[4].seq, nums[4].seq, "送达前发现错误，作废")
        assert hq_main(["--home", str(hq.cfg.home)] + (["--db", hq_db] if hq_db else [])
                       + ["devices", "retire", dev_a]) == 0
        assert "未使用的文号已退回" in capsys.readouterr().out
        assert numbers.return_unused(hq.engine, dev_a) == []                 # once only
        got = {e["seq"]: e for e in numbers.series(hq.engine, P, YEAR)}
        top = max(x.last for x in _rows(hq, D.doc_blocks) if x.agency == P)
        assert sorted(got) == list(range(1, top + 1))                       # every number, no gap
        st = [got[s]["status"] for s in range(blk_a.first, blk_a.last + 1)]
        assert st == ["used", "used", "issued", "issued", "voided"] + ["returned"] * 25
        assert got[blk_a.first]["document_id"] and got[blk_a.first + 5]["reason"] == "设备停用"
        assert {e["status"] for e in got.values() if e["device_id"] == dev_b} == {"held"}
        assert "gap" not in {e["status"] for e in got.values()}
        # the device can no longer sync or ask for numbers
        assert http.post(f"{hq.url}/api/v1/doc-blocks", json={}, headers=_h(a)).status_code == 403
        assert hq_main(["--home", str(hq.cfg.home)] + (["--db", hq_db] if hq_db else [])
                       + ["numbers", "list", "--prefix", P, "--year", str(YEAR)]) == 0
        out = capsys.readouterr().out
        assert "已退回" in out and "已作废" in out and "设备持有（未使用）" in out and "已使用（总部有文书）" in out
        assert hq_main(["--home", str(hq.cfg.home)] + (["--db", hq_db] if hq_db else [])
                       + ["--json", "numbers", "list", "--prefix", P, "--year", str(YEAR)]) == 0
        assert len(json.loads(capsys.readouterr().out)) == top
    finally:
        hq.stop()
