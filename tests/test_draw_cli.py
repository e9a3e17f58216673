"""`inspector draw` end to end: stored tasks, verify, publication files."""
from __future__ import annotations

import datetime as dt
import json
import sqlite3
import subprocess
import unicodedata

import openpyxl
import pytest

from inspector.demo_directory import make_institutions, make_inspectors, write_institutions, write_inspectors
from inspector.store import Store
from tests.draw_fixtures import cli, cli_json


@pytest.fixture
def loaded(home, tmp_path):
    insts = make_institutions(240, seed=21)
    insps = make_inspectors(30, seed=21, institutions=insts)
    write_institutions(tmp_path / "institutions.csv", insts, encoding="gb18030")
    write_inspectors(tmp_path / "inspectors.xlsx", insps)
    cli(home, "directory", "import", "institutions", str(tmp_path / "institutions.csv"), check=True)
    cli(home, "directory", "import", "inspectors", str(tmp_path / "inspectors.xlsx"), check=True)
    return insts, insps


def test_draw_prints_record_and_stores_tasks(home, tmp_path, loaded):
    insts, insps = loaded
    rec = cli_json(home, "draw", "--seed", "2026年11月22日 公开摇号", "--per-county", "10",
                   "--exclude-home-county", "--due-days", "20")
    assert set(rec) >= {"draw_id", "seed", "institutions_sha256", "inspectors_sha256", "params", "tasks"}
    assert rec["params"]["per_county"] == 10 and rec["params"]["exclude_home_county"] is True
    assert len(rec["institutions_sha256"]) == 64
    t0 = rec["tasks"][0]
    assert set(t0["institution"]) >= {"name", "credit_code", "county"}
    assert all(set(m) >= {"name", "badge_no"} for m in t0["inspectors"])

    with Store.open(home) as store:
        tasks = store.rows("SELECT t.*, i.credit_code, i.kind AS ikind FROM tasks t"
                           " JOIN institutions i ON i.id = t.institution_id WHERE draw_id = ?", (rec["draw_id"],))
        assert len(tasks) == len(rec["tasks"])
        badge_of = {r["id"]: r["badge_no"] for r in store.rows("SELECT id, badge_no FROM inspectors")}
        by_code = {t["institution"]["credit_code"]: t for t in rec["tasks"]}
        today = dt.date.today()
        for t in tasks:
            assert t["kind"] == "draw" and t["status"] == "open"
            ids = json.loads(t["inspector_ids"])
            assert sorted(badge_of[i] for i in ids) == sorted(m["badge_no"] for m in by_code[t["credit_code"]]["inspectors"])
            assert json.loads(t["checklist_ids"]) == (["training"] if t["ikind"] == "培训机构" else ["evaluation"])
            assert t["due_from"] == today.isoformat()
            assert t["due_to"] == (today + dt.timedelta(days=20)).isoformat()
        logged = store.rows("SELECT entity, count(*) AS n FROM audit_log WHERE entity IN ('draw', 'task')"
                            " GROUP BY entity ORDER BY entity")
        assert logged == [{"entity": "draw", "n": 1}, {"entity": "task", "n": len(tasks)}]
        # a laptop's draw and its tasks stay local: HQ accepts draws and tasks only from its own staff
        assert store.scalar("SELECT count(*) FROM outbox WHERE entity IN ('task', 'draw')") == 0
        assert store.verify_audit_chain() == []
        with pytest.raises(sqlite3.DatabaseError, match="immutable"):
            with store.tx() as db:
                db.execute("UPDATE draws SET seed = 'x'")

    shown = cli_json(home, "draw", "show", rec["draw_id"])
    assert shown == rec
    listed = cli_json(home, "draw", "list")
    assert listed[0]["id"] == rec["draw_id"] and listed[0]["tasks"] == len(rec["tasks"])


def test_verify_matches_then_catches_changed_directory_and_tampering(home, tmp_path, loaded):
    insts, insps = loaded
    p = cli(home, "draw", "--seed", "verify-me", "--json", check=True)
    record = tmp_path / "record.json"
    record.write_text(p.stdout, encoding="utf-8")
    ok = cli(home, "draw", "verify", str(record))
    assert ok.returncode == 0, ok.stdout + ok.stderr
    assert "一致" in ok.stdout

    # tampered record: one inspector swapped
    data = json.loads(p.stdout)
    victim = data["tasks"][0]
    victim["inspectors"][0] = {"name": "某某", "badge_no": "豫XXXX"}
    tampered = tmp_path / "tampered.json"
    tampered.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    bad = cli(home, "draw", "verify", str(tampered), "--json")
    assert bad.returncode == 1
    out = json.loads(bad.stdout)
    assert out["match"] is False
    assert any(victim["institution"]["name"] in d and "检查人员不同" in d for d in out["differences"])
    assert not any("名录库已变化" in d for d in out["differences"])

    # the directory changes: one drawn institution moves county
    moved = [dict(i) for i in insts]
    drawn_code = json.loads(p.stdout)["tasks"][0]["institution"]["credit_code"]
    for i in moved:
        if i["credit_code"] == drawn_code:
            i["county"] = "封丘县" if i["county"] != "封丘县" else "红旗区"
    write_institutions(tmp_path / "institutions2.xlsx", moved)
    cli(home, "directory", "import", "institutions", str(tmp_path / "institutions2.xlsx"), check=True)
    changed = cli(home, "draw", "verify", str(record))
    assert changed.returncode == 1
    assert "检查对象名录库已变化" in changed.stdout
    assert "执法检查人员名录库已变化" not in changed.stdout


def test_dry_run_stores_nothing_and_infeasible_draw_exits_2(home, tmp_path, loaded):
    insts, insps = loaded
    rec = cli_json(home, "draw", "--seed", "dry", "--dry-run")
    assert rec["draw_id"] is None
    with Store.open(home) as store:
        assert store.scalar("SELECT count(*) FROM tasks") == 0
    p = cli(home, "draw", "--seed", "x", "--inspectors-per-task", "40")
    assert p.returncode == 2
    assert "可派检查人员" in p.stderr and "少于每组 40 名" in p.stderr
    assert cli(home, "draw").returncode == 2  # no seed


def test_export_publication_xlsx_and_pdf(home, tmp_path, loaded):
    rec = cli_json(home, "draw", "--seed", "公示", "--per-county", "3")
    xlsx, pdf = tmp_path / "公示.xlsx", tmp_path / "公示.pdf"
    cli(home, "draw", "export", rec["draw_id"], "--xlsx", str(xlsx), "--pdf", str(pdf),
        "--agency", "新乡市人力资源和社会保障局", check=True)
    ws = openpyxl.load_workbook(xlsx).active
    cells = [[c for c in row] for row in ws.iter_rows(values_only=True)]
    flat = [str(c) for row in cells for c in row if c is not None]
    assert cells[0][0] == "双随机抽查结果公示"
    assert rec["seed"] in flat and rec["institutions_sha256"] in flat and rec["inspectors_sha256"] in flat
    header_at = next(i for i, row in enumerate(cells) if row[0] == "序号")
    listed = [row[3] for row in cells[header_at + 1:]]
    assert listed == [t["institution"]["credit_code"] for t in rec["tasks"]]

    fonts = subprocess.run(["pdffonts", str(pdf)], capture_output=True, text=True, check=True).stdout
    font_lines = fonts.splitlines()[2:]
    assert font_lines and all(" yes " in ln for ln in font_lines), fonts  # every font embedded
    text = subprocess.run(["pdftotext", "-raw", str(pdf), "-"], capture_output=True, text=True,
                          check=True).stdout
    flat_text = "".join(unicodedata.normalize("NFKC", text).split())
    assert "双随机抽查结果公示" in flat_text
    assert rec["seed"] in flat_text
    assert rec["institutions_sha256"] in flat_text and rec["inspectors_sha256"] in flat_text
    first = rec["tasks"][0]
    assert first["institution"]["name"] in flat_text and first["institution"]["credit_code"] in flat_text
    assert "第1页共" in flat_text

    # also from a record file, as HQ or the public would
    rec_file = tmp_path / "r.json"
    rec_file.write_text(json.dumps(rec, ensure_ascii=False), encoding="utf-8")
    again = tmp_path / "again.pdf"
    cli(home, "draw", "export", str(rec_file), "--pdf", str(again), check=True)
    assert again.stat().st_size > 1000
