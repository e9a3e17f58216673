"""ui/selftest.py from the source tree (runs even when the bundle test is skipped): every step passes
here, and a missing part of the app is reported as MISSING and fails the check instead of passing."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def test_self_check_passes_from_the_source_tree(tmp_path: Path) -> None:
    p = subprocess.run([sys.executable, "-m", "ui.selftest", "--json", "--report", str(tmp_path / "r.json")],
                       cwd=ROOT, capture_output=True, text=True, timeout=300,
                       env={**os.environ, "QT_QPA_PLATFORM": "offscreen"})
    res = json.loads(p.stdout)
    bad = [s for s in res["steps"] if s["status"] != "PASS"]
    assert p.returncode == 0 and res["ok"], bad
    from ui.selftest import STEPS

    assert [s["name"] for s in res["steps"]] == [name for name, _t, _f in STEPS]
    assert json.loads((tmp_path / "r.json").read_text(encoding="utf-8"))["ok"] is True


def test_a_missing_part_is_reported_and_fails(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    from ui import selftest

    def needs_absent(ctx: selftest.Context) -> str:
        selftest._need("inspector.no_such_module_for_selftest", "render")
        return "unreachable"

    def needs_absent_name(ctx: selftest.Context) -> str:
        selftest._need("inspector.util", "no_such_function")
        return "unreachable"

    def broken(ctx: selftest.Context) -> str:
        raise ValueError("坏了")

    monkeypatch.setattr(selftest, "STEPS", [
        ("version", "版本", selftest.step_version),
        ("absent", "缺模块", needs_absent),
        ("absent_name", "缺函数", needs_absent_name),
        ("broken", "出错", broken),
    ])
    assert selftest.main(["--json"]) == 1
    res = json.loads(capsys.readouterr().out)
    st = {s["name"]: s for s in res["steps"]}
    assert res["ok"] is False
    assert st["version"]["status"] == "PASS"
    assert st["absent"]["status"] == "MISSING" and "inspector.no_such_module_for_selftest" in st["absent"]["detail"]
    assert st["absent_name"]["status"] == "MISSING" and "no_such_function" in st["absent_name"]["detail"]
    assert st["broken"]["status"] == "FAIL" and "坏了" in st["broken"]["detail"]
    # Text mode names the failed steps in the last line.
    assert selftest.main([]) == 1
    last = capsys.readouterr().out.strip().splitlines()[-1]
    assert last.startswith("自检失败") and "缺模块（缺失）" in last and "出错（失败）" in last
