"""Photo rows in the local store: round trip, dedupe, counts, captions, findings, locking, outbox."""
from __future__ import annotations

import json
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from inspector import evidence
from inspector.errors import EvidenceError, NotFound, StoreError, ValidationError
from inspector.store import Store, visits
from inspector.store import photos as P
from tests.evidence_fixtures import TAKEN, photo_bytes, start_inspection, write
from tests.store_fixtures import finish_synthetic


@pytest.fixture(scope="module")
def files(tmp_path_factory: pytest.TempPathFactory) -> list[Path]:
    d = tmp_path_factory.mktemp("shots")
    return [write(d, f"IMG_{i:04d}.jpg", photo_bytes(1000, 750, seed=200 + i)) for i in range(4)]


@pytest.fixture
def imported(store: Store, files: list[Path]) -> list[evidence.ImportResult]:
    return evidence.import_photos(store.home, files, workers=1)


def test_rows_round_trip(store: Store, imported: list[evidence.ImportResult]) -> None:
    iid = start_inspection(store)
    row = P.add_photo(store, iid, imported[0], "T-3-1", caption="  教室  门牌 ", inspector_id="insp-a",
                      checklist_version_id="training@1")
    assert row["created"] and imported[0].photo_id == row["id"]
    [got] = P.list_photos(store, iid)
    r = imported[0]
    assert got["id"] == row["id"] and got["inspection_id"] == iid and got["item_id"] == "T-3-1"
    assert (got["sha256"], got["display_sha256"], got["thumb_sha256"]) == (r.sha256, r.display_sha256, r.thumb_sha256)
    assert (got["width"], got["height"], got["mime"], got["size"]) == (1000, 750, "image/jpeg", r.size)
    assert got["taken_at"] == TAKEN.isoformat() and got["gps_lat"] == pytest.approx(35.303218)
    assert got["original_name"] == "IMG_0000.jpg" and got["caption"] == "教室 门牌"
    assert got["inspector_id"] == "insp-a" and got["finding_id"] is None and got["position"] == 0
    assert got["checklist_version_id"] == "training@1"
    assert got["place"] == "N 35.30322°, E 113.92672°"
    assert P.get_photo(store, row["id"])["sha256"] == r.sha256
    assert P.blob_shas(got) == [r.sha256, r.display_sha256, r.thumb_sha256]


def test_same_photo_twice_on_same_item_is_one_row(store: Store, imported: list[evidence.ImportResult]) -> None:
    iid = start_inspection(store)
    a = P.add_photo(store, iid, imported[0], "T-1")
    b = P.add_photo(store, iid, imported[0], "T-1", caption="补充说明")
    assert not b["created"] and b["id"] == a["id"] and b["caption"] == "补充说明"
    c = P.add_photo(store, iid, imported[0], "T-2")      # another item: its own row
    d = P.add_photo(store, iid, imported[0])             # general photo: its own row
    e = P.add_photo(store, iid, imported[0])
    assert len({a["id"], c["id"], d["id"]}) == 3 and e["id"] == d["id"]
    assert len(P.list_photos(store, iid)) == 3
    assert store.scalar("SELECT count(DISTINCT sha256) FROM photos") == 1


def test_photo_counts_and_item_filter(store: Store, imported: list[evidence.ImportResult]) -> None:
    iid = start_inspection(store)
    other = start_inspection(store)
    for r in imported[:3]:
        P.add_photo(store, iid, r, "T-3-1")
    P.add_photo(store, iid, imported[3], "T-2-2")
    P.add_photo(store, iid, imported[3])                 # not keyed to an item: not counted
    P.add_photo(store, other, imported[0], "T-3-1")
    assert P.photo_counts(store, iid) == {"T-3-1": 3, "T-2-2": 1}
    assert P.photo_counts(store, other) == {"T-3-1": 1}
    assert [p["original_name"] for p in P.list_photos(store, iid, "T-3-1")] == [
        "IMG_0000.jpg", "IMG_0001.jpg", "IMG_0002.jpg"]
    assert [p["position"] for p in P.list_photos(store, iid, "T-3-1")] == [0, 1, 2]
    assert P.list_photos(store, iid)[0]["item_id"] is None  # general photos first


def test_caption_finding_move_and_remove(store: Store, imported: list[evidence.ImportResult]) -> None:
    iid = start_inspection(store)
    rows = [P.add_photo(store, iid, r, "T-1") for r in imported[:3]]
    fid = visits.add_finding(store, iid, description="培训场地面积不足 300 平方米", item_id="T-1")
    assert P.set_caption(store, rows[0]["id"], "教室全景")["caption"] == "教室全景"
    assert P.set_caption(store, rows[0]["id"], "   ")["caption"] is None
    with pytest.raises(ValidationError, match="caption"):
        P.set_caption(store, rows[0]["id"], "长" * 501)
    P.attach_to_finding(store, rows[1]["id"], fid)
    assert [p["id"] for p in P.list_photos(store, iid, finding_id=fid)] == [rows[1]["id"]]
    P.attach_to_finding(store, rows[1]["id"], None)
    assert P.list_photos(store, iid, finding_id=fid) == []

    order = P.move_photo(store, rows[2]["id"], 0)
    assert [p["id"] for p in order] == [rows[2]["id"], rows[0]["id"], rows[1]["id"]]
    assert [p["position"] for p in order] == [0, 1, 2]

    P.remove_photo(store, rows[0]["id"])
    with pytest.raises(NotFound):
        P.get_photo(store, rows[0]["id"])
    assert P.photo_counts(store, iid) == {"T-1": 2}
    ops = store.rows("SELECT op FROM outbox WHERE entity = 'photo' AND entity_id = ?", (rows[0]["id"],))
    assert [o["op"] for o in ops] == ["delete"]   # HQ is told; the never-sent upsert is dropped
    assert store.verify_audit_chain() == []
    actions = [r["action"] for r in store.rows(
        "SELECT action FROM audit_log WHERE entity = 'photo' AND entity_id = ? ORDER BY seq", (rows[0]["id"],))]
    assert actions == ["add", "caption", "caption", "remove"]


def test_finding_of_another_inspection_is_refused(store: Store, imported: list[evidence.ImportResult]) -> None:
    a, b = start_inspection(store), start_inspection(store)
    fid = visits.add_finding(store, b, description="教师资格证缺失")
    row = P.add_photo(store, a, imported[0])
    with pytest.raises(ValidationError, match="不属于"):
        P.attach_to_finding(store, row["id"], fid)
    with pytest.raises(NotFound):
        P.attach_to_finding(store, row["id"], "no-such-finding")


def test_deleting_a_finding_keeps_its_photos(store: Store, imported: list[evidence.ImportResult]) -> None:
    iid = start_inspection(store)
    fid = visits.add_finding(store, iid, description="x")
    row = P.add_photo(store, iid, imported[0], finding_id=fid)
    visits.delete_finding(store, fid)
    assert P.get_photo(store, row["id"])["finding_id"] is None


def test_finished_inspection_is_locked(store: Store, imported: list[evidence.ImportResult]) -> None:
    iid = start_inspection(store)
    row = P.add_photo(store, iid, imported[0], "T-1")
    finish_synthetic(store, iid)
    with pytest.raises(StoreError, match="锁定"):
        P.add_photo(store, iid, imported[1], "T-1")
    with pytest.raises(StoreError, match="锁定"):
        P.set_caption(store, row["id"], "改")
    with pytest.raises(StoreError, match="锁定"):
        P.remove_photo(store, row["id"])
    with pytest.raises(sqlite3.IntegrityError, match="locked"):  # not even raw SQL (trigger)
        with store.tx() as db:
            db.execute("DELETE FROM photos WHERE id = ?", (row["id"],))
    assert len(P.list_photos(store, iid)) == 1


def test_amendment_copies_photos(store: Store, imported: list[evidence.ImportResult]) -> None:
    iid = start_inspection(store)
    fid = visits.add_finding(store, iid, description="x")
    P.add_photo(store, iid, imported[0], "T-1", finding_id=fid)
    finish_synthetic(store, iid)
    new = visits.amend_inspection(store, iid)
    [new_fid] = [f.id for f in visits.list_findings(store, new)]
    # amend_inspection itself carries the photo over, re-keyed to the amendment's own finding
    [p] = P.list_photos(store, new)
    assert p["finding_id"] == new_fid and p["sha256"] == imported[0].sha256
    assert p["id"] != P.list_photos(store, iid)[0]["id"]   # its own row; the original keeps its photo


def test_failed_or_unstored_imports_are_not_recorded(store: Store, tmp_path: Path,
                                                     imported: list[evidence.ImportResult]) -> None:
    iid = start_inspection(store)
    bad = evidence.ImportResult(path="x.jpg", status="error", error="x.jpg: 不是可识别的图片文件")
    with pytest.raises(EvidenceError, match="x.jpg"):
        P.add_photo(store, iid, bad)
    ghost = evidence.ImportResult(**{**imported[0].to_dict(), "sha256": "e" * 64})
    with pytest.raises(EvidenceError, match="缺少文件"):
        P.add_photo(store, iid, ghost)
    with pytest.raises(NotFound):
        P.add_photo(store, "no-such-inspection", imported[0])
    assert P.list_photos(store, iid) == []


def test_import_into_records_ok_results_only(store: Store, files: list[Path], tmp_path: Path) -> None:
    iid = start_inspection(store)
    junk = write(tmp_path, "junk.jpg", b"junk")
    results = P.import_into(store, iid, [*files[:2], junk], "T-3-1", inspector_id="insp-a", workers=2)
    assert [r.status for r in results] == ["ok", "ok", "error"]
    assert [r.photo_id for r in results][2] is None
    assert {p["id"] for p in P.list_photos(store, iid)} == {r.photo_id for r in results[:2]}
    assert P.photo_counts(store, iid) == {"T-3-1": 2}
    ops = store.rows("SELECT entity_id FROM outbox WHERE entity = 'photo' AND op = 'upsert'")
    assert {o["entity_id"] for o in ops} == {r.photo_id for r in results[:2]}
    again = P.import_into(store, iid, files[:1], "T-3-1", workers=1)
    assert again[0].duplicate and again[0].photo_id == results[0].photo_id
    assert not results[0].duplicate and len(P.list_photos(store, iid)) == 2


def test_cli_import_and_list(home: Path, files: list[Path], tmp_path: Path) -> None:
    with Store.open(home) as s:
        iid = start_inspection(s)
    junk = write(tmp_path, "notes.txt", "不是照片".encode())
    cmd = [sys.executable, "-m", "inspector", "--home", str(home), "photos", "import", iid,
           str(files[0]), str(files[1]), str(junk), "--item", "T-3-1", "--json"]
    p = subprocess.run(cmd, capture_output=True, text=True, timeout=120)
    assert p.returncode == 1, p.stderr   # one file failed
    out = json.loads(p.stdout)
    assert [r["status"] for r in out] == ["ok", "ok", "error"] and "notes.txt" in out[2]["error"]
    assert "3/3" in p.stderr               # progress on stderr
    p = subprocess.run([sys.executable, "-m", "inspector", "--home", str(home), "photos", "list", iid, "--json"],
                       capture_output=True, text=True, timeout=60)
    assert p.returncode == 0 and len(json.loads(p.stdout)) == 2
    p = subprocess.run([sys.executable, "-m", "inspector", "--home", str(home), "photos", "verify"],
                       capture_output=True, text=True, timeout=60)
    assert p.returncode == 0 and "全部完好" in p.stdout
