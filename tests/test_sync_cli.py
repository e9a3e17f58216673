"""The command lines, end to end: inspector-hq init / import / draw / enrol-code / devices and
inspector enrol / sync / sync status, with a real HQ on loopback."""
from __future__ import annotations

import json
import random


from inspector.cli import main as inspector
from inspector.hq.cli import main as hq_cli
from tests.hq_fixtures import HQServer, make_inspection


def _json(capsys) -> dict:
    return json.loads(capsys.readouterr().out)


def test_hq_and_laptop_command_lines(tmp_path, capsys, monkeypatch):
    from inspector.demo_directory import write_demo_directories

    hq_home, laptop = tmp_path / "hq", tmp_path / "laptop"
    assert hq_cli(["init", "--home", str(hq_home), "--json"]) == 0
    r = _json(capsys)
    assert r["admin_user"] == "admin" and r["admin_password"]
    files = write_demo_directories(tmp_path / "dirs", institutions=60, inspectors=12)
    inst_file, insp_file = files["institutions"], files["inspectors"]
    assert hq_cli(["import", "institutions", str(inst_file), "--home", str(hq_home), "--json"]) == 0
    assert _json(capsys)["inserted"] == 60
    assert hq_cli(["import", "inspectors", str(insp_file), "--home", str(hq_home), "--json"]) == 0
    assert _json(capsys)["inserted"] == 12
    assert hq_cli(["draw", "--seed", "2026-11-22 公开摇号", "--per-county", "2", "--home", str(hq_home),
                   "--json"]) == 0
    drawn = _json(capsys)
    assert drawn["tasks"] and drawn["draw_id"]
    badge = drawn["tasks"][0]["inspectors"][0]["badge_no"]
    assert hq_cli(["enrol-code", "--badge", badge, "--home", str(hq_home), "--json"]) == 0
    code = _json(capsys)["code"]

    hq = HQServer(hq_home).start()
    try:
        monkeypatch.setenv("INSPECTOR_PASSPHRASE", "secret-pass-1")
        assert inspector(["--home", str(laptop), "enrol", "--hq", hq.url, "--code", code, "--badge", badge,
                          "--json"]) == 0
        enrolled = _json(capsys)
        assert enrolled["badge_no"] == badge and len(enrolled["doc_blocks"]) == 3
        from inspector.store import Store
        with Store.open(laptop) as s:
            make_inspection(s, random.Random(1), photos=2)
        assert inspector(["--home", str(laptop), "sync", "--json"]) == 0
        out = capsys.readouterr()
        rep = json.loads(out.out)
        assert rep["ok"] and rep["pushed"] >= 1 and rep["blobs_uploaded"] == 2
        mine = [t for t in drawn["tasks"] if badge in [i["badge_no"] for i in t["inspectors"]]]
        assert rep["pulled"] >= 60 + 12 + len(mine)   # directories + my tasks (+ the draw record)
        assert inspector(["--home", str(laptop), "sync", "status", "--json"]) == 0
        st = _json(capsys)
        assert st["enrolled"] and st["unsent"] == 0 and st["last_error"] is None
        assert hq_cli(["devices", "list", "--home", str(hq_home), "--json"]) == 0
        assert [d["badge_no"] for d in _json(capsys)] == [badge]
    finally:
        hq.stop()
    # HQ is gone: the sync says what failed and that nothing was lost; the work stays queued
    with Store.open(laptop) as s:
        make_inspection(s, random.Random(2), photos=0)
    assert inspector(["--home", str(laptop), "sync"]) == 2
    out = capsys.readouterr().out
    assert "同步失败" in out and "没有丢失" in out
    assert inspector(["--home", str(laptop), "sync", "status"]) == 0
    assert "待推送" in capsys.readouterr().out


def test_sync_without_enrolment_is_a_clear_error(tmp_path, capsys):
    assert inspector(["--home", str(tmp_path / "x"), "sync"]) == 2
    assert "inspector enrol" in capsys.readouterr().err
