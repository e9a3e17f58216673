"""The frozen desktop app (issue 8): built by packaging/build.py, unpacked from its tarball elsewhere,
run with no Python on PATH. Skipped only with INSPECTOR_SKIP_PACKAGING=1, loudly."""
from __future__ import annotations

import hashlib
import json
import re
import signal
import subprocess
import sys
import time
import tomllib
from pathlib import Path
from typing import Any

import pytest

from tests.packaging_fixtures import ROOT, built, bundle, load_build, no_python_env, offline_prefix  # noqa: F401

pytestmark = [pytest.mark.packaging, pytest.mark.slow]

VERSION = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]["version"]


def _files(top: Path) -> dict[str, str]:
    return {p.relative_to(top).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in top.rglob("*") if p.is_file() and "__pycache__" not in p.parts}


def _run(args: list[str], env: dict[str, str], cwd: Path, timeout: float = 180) -> subprocess.CompletedProcess[str]:
    return subprocess.run(offline_prefix() + args, env=env, cwd=cwd, capture_output=True, text=True,
                          encoding="utf-8", errors="replace", timeout=timeout)


def test_self_check_passes_from_unpacked_bundle_without_python(bundle: Path, tmp_path: Path) -> None:
    from ui.selftest import STEPS

    env = no_python_env(tmp_path)
    p = _run([str(bundle / "inspector-gui"), "--self-test"], env, tmp_path)
    out = p.stdout
    assert p.returncode == 0, f"self-test failed (rc {p.returncode}):\n{out}\n{p.stderr[-3000:]}"
    assert "自检通过" in out
    assert "[FAIL]" not in out and "[MISSING]" not in out
    for _name, title, _fn in STEPS:  # every step ran, none was skipped
        assert f"[PASS] {title}（" in out, f"step {title} did not pass:\n{out}"
    # It ran the frozen code from the unpacked folder, not the source tree.
    assert f"inspector {VERSION}（frozen, {bundle}" in out
    assert str(ROOT) not in out


def test_self_check_fails_when_a_part_is_broken(bundle: Path, tmp_path: Path) -> None:
    """The check can fail: with an empty checklist folder it exits 1 and names the step."""
    empty = tmp_path / "no-forms"
    empty.mkdir()
    env = no_python_env(tmp_path, INSPECTOR_FORMS=str(empty))
    p = _run([str(bundle / "inspector"), "--self-test", "--json", "--only", "version", "--only", "checklists"],
             env, tmp_path)
    assert p.returncode == 1, p.stdout + p.stderr
    res = json.loads(p.stdout)
    assert res["ok"] is False
    steps = {s["name"]: s for s in res["steps"]}
    assert steps["version"]["status"] == "PASS"
    assert steps["checklists"]["status"] == "FAIL" and str(empty) in steps["checklists"]["detail"]


def test_command_line_first_start_creates_the_user_data_folder(bundle: Path, tmp_path: Path) -> None:
    env = no_python_env(tmp_path)
    v = _run([str(bundle / "inspector"), "--version"], env, tmp_path)
    assert v.returncode == 0 and v.stdout.strip() == f"inspector {VERSION}", v.stdout + v.stderr
    # No --home, no INSPECTOR_HOME: the platform's user data folder, made on first start.
    s = _run([str(bundle / "inspector"), "status", "--json"], env, tmp_path)
    assert s.returncode == 0, s.stdout + s.stderr
    data = json.loads(s.stdout)
    expected_home = Path(env["HOME"]) / ".local" / "share" / "inspector"
    assert Path(data["home"]) == expected_home and Path(data["database"]).is_file()
    assert data["integrity"] == "ok"
    shipped = sorted(p.name for p in (ROOT / "inspector" / "store" / "migrations").glob("*.sql"))
    assert sorted(data["schema"]) == shipped  # every shipped migration applied from the bundle


def test_desktop_app_first_start_offline_creates_data_folder_and_stays_up(bundle: Path, tmp_path: Path) -> None:
    """The real GUI entry (offscreen), fresh user, no network namespace when allowed: it must come up,
    create its data folder and keep running until we close it."""
    env = no_python_env(tmp_path)
    data = Path(env["HOME"]) / ".local" / "share" / "inspector"
    proc = subprocess.Popen(offline_prefix() + [str(bundle / "inspector-gui")], env=env, cwd=tmp_path,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, errors="replace")
    try:
        # Start-up is over when the daily backup exists: ui/app.py writes it (renaming
        # <stamp>-daily.partial into place) only after the window is shown, its first screen
        # restored and the tamper check run — the last step before the event loop.
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline and proc.poll() is None and not list(data.glob("backups/*-daily")):
            time.sleep(0.2)
        started = bool(list(data.glob("backups/*-daily")))
        alive = proc.poll() is None
    finally:
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
        try:
            out = proc.communicate(timeout=20)[0]
        except subprocess.TimeoutExpired:
            proc.kill()
            out = proc.communicate()[0]
    assert alive, f"inspector-gui exited on first start (rc {proc.returncode}):\n{out[-3000:]}"
    assert started, f"inspector-gui did not finish starting within 120 s (no daily backup):\n{out[-3000:]}"
    assert list(data.glob("*.db")), f"no database in {data}: {list(data.iterdir()) if data.exists() else 'missing'}"
    assert "Traceback" not in out, out[-3000:]


def test_bundle_ships_forms_resources_package_data_and_qt_plugins(built: dict[str, Any], bundle: Path) -> None:
    internal = bundle / "_internal"
    assets = internal / "inspector" / "assets"  # the package path the wheel uses (pyproject.toml package-dir)
    assert _files(assets / "forms") == _files(ROOT / "forms")
    assert _files(assets / "resources") == _files(ROOT / "resources")
    fonts = assets / "resources" / "fonts"
    assert list(fonts.glob("*.tt[fc]")) and [p for p in fonts.iterdir() if "LICENSE" in p.name.upper()]
    src_pkgdata = {k: v for k, v in _files(ROOT / "inspector").items() if not k.endswith((".py", ".pyc"))}
    assert src_pkgdata, "expected SQL migrations in the source"
    bundled = _files(internal / "inspector")
    missing = sorted(k for k in src_pkgdata if bundled.get(k) != src_pkgdata[k])
    assert not missing, f"package data missing or stale in the bundle: {missing}"

    plugins = internal / "PySide6" / "Qt" / "plugins"
    for rel in ("platforms/libqoffscreen.so", "platforms/libqxcb.so", "imageformats/libqjpeg.so",
                "imageformats/libqsvg.so", "multimedia/libffmpegmediaplugin.so", "xcbglintegrations"):
        assert (plugins / rel).exists(), rel
    assert list(plugins.glob("printsupport/*.so")), "no print support plugin"
    libs = {p.name for p in (internal / "PySide6" / "Qt" / "lib").iterdir()}
    assert any(n.startswith("libQt6Pdf.so") for n in libs) and any(n.startswith("libQt6PdfWidgets") for n in libs)
    # Kept out for size.
    everything = [p.name for p in internal.rglob("*")]
    for banned in ("QtWebEngine", "Qt63DCore", "libQt6Quick3D", "QtCharts", "tkinter", "_pytest", "playwright"):
        assert not [n for n in everything if banned in n], banned


def test_every_module_of_the_app_is_frozen_in(bundle: Path) -> None:
    """Modules found at run time (inspector/cli/*.py via pkgutil) must be in the archive, not only imported ones."""
    from PyInstaller.archive.readers import CArchiveReader

    pyz = set(CArchiveReader(str(bundle / "inspector-gui")).open_embedded_archive("PYZ.pyz").toc)
    expected = set()
    for top in ("inspector", "ui"):
        for p in (ROOT / top).rglob("*.py"):
            if "__pycache__" in p.parts:
                continue
            parts = list(p.relative_to(ROOT).with_suffix("").parts)
            if parts[-1] == "__init__":
                parts.pop()
            expected.add(".".join(parts))
    missing = sorted(expected - pyz)
    assert not missing, f"not frozen into the bundle: {missing}"


def test_build_is_cached_until_a_source_changes(built: dict[str, Any], tmp_path: Path,
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    build = load_build()
    assert built["bundle_bytes"] > 0 and built["archive_bytes"] > 0
    assert re.fullmatch(rf"inspector-{re.escape(VERSION)}-linux-x86_64\.tar\.gz", Path(built["archive"]).name)
    if build.source_hash() == built["hash"]:  # (other people may be editing the tree right now)
        assert build.is_current()
        assert subprocess.run([sys.executable, str(ROOT / "packaging" / "build.py"), "--check"],
                              capture_output=True).returncode == 0
    # The cache decision over a small copy of the tree: content changes count, caches do not.
    fake = tmp_path / "tree"
    for d in build.HASHED:
        (fake / d).mkdir(parents=True)
        (fake / d / "a.txt").write_text("one")
    (fake / "pyproject.toml").write_text((ROOT / "pyproject.toml").read_text())
    monkeypatch.setattr(build, "ROOT", fake)
    n = build.names()
    n["bundle"].mkdir(parents=True)
    (n["bundle"] / "inspector-gui").write_text("")
    n["archive"].write_text("")
    n["stamp"].write_text(json.dumps({"hash": build.source_hash(), "archive": str(n["archive"]),
                                      "bundle": str(n["bundle"])}))
    assert build.is_current()
    (fake / "ui" / "__pycache__").mkdir()
    (fake / "ui" / "__pycache__" / "x.pyc").write_bytes(b"junk")
    (fake / "packaging" / "README.md").parent.mkdir(exist_ok=True)
    (fake / "packaging" / "README.md").write_text("docs only")
    assert build.is_current()
    (fake / "forms" / "a.txt").write_text("two")
    assert not build.is_current()
    (fake / "forms" / "a.txt").write_text("one")
    assert build.is_current()
    (fake / "resources" / "new.ttf").write_bytes(b"x")
    assert not build.is_current()
    (fake / "resources" / "new.ttf").unlink()
    n["archive"].unlink()  # a half-finished build (no tarball) is not current either
    assert not build.is_current()


def test_windows_icon_is_rendered_without_leaving_a_qt_application_behind(tmp_path: Path) -> None:
    """The build runs inside the test process; a QGuiApplication it left there made later QWidgets abort."""
    from PIL import Image
    from PySide6.QtCore import QCoreApplication
    from PySide6.QtWidgets import QApplication

    ico = load_build().make_icon(tmp_path / "inspector.ico")
    assert ico is not None
    with Image.open(ico) as im:
        assert (256, 256) in im.info["sizes"] and im.getbbox() is not None  # not a blank square
    app = QCoreApplication.instance()
    assert app is None or isinstance(app, QApplication)
