"""The installable package (issue 15): the wheel built from this tree, installed into a fresh
virtual environment and run from a folder outside the repository, has its checklists, profiles,
fonts, icons and HQ console files, and its programs work.

The fresh environment borrows the already-installed third-party libraries from this venv through a
.pth line (no network, seconds instead of minutes); ``inspector`` itself comes only from the wheel:
the repository is never on sys.path and the check below proves the files are read from the venv.
"""
from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import sysconfig
import time
import urllib.request
import zipfile
from pathlib import Path

import pytest

pytestmark = [pytest.mark.packaging, pytest.mark.slow]

ROOT = Path(__file__).resolve().parent.parent


def _run(args: list[str], env: dict[str, str], cwd: Path, timeout: float = 300) -> subprocess.CompletedProcess[str]:
    return subprocess.run(args, env=env, cwd=cwd, capture_output=True, text=True, timeout=timeout)


def _source_files() -> dict[str, Path]:
    """What the wheel must hold: every module of inspector/ and ui/, and forms/ and resources/ at
    their package path (pyproject.toml package-dir)."""
    want: dict[str, Path] = {}
    for top, dest in (("inspector", "inspector"), ("ui", "ui"), ("forms", "inspector/assets/forms"),
                      ("resources", "inspector/assets/resources")):
        for p in (ROOT / top).rglob("*"):
            if p.is_file() and "__pycache__" not in p.parts and p.suffix not in (".pyc", ".swp"):
                want[f"{dest}/{p.relative_to(ROOT / top).as_posix()}"] = p
    return want


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    # from a clean copy of the sources, as a fresh clone would: setuptools reuses build/lib and
    # *.egg-info/SOURCES.txt left in the working tree, which can hide files the configuration forgets
    src = tmp_path_factory.mktemp("src") / "inspector-src"
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc", "*.egg-info")
    for top in ("inspector", "ui", "forms", "resources"):
        shutil.copytree(ROOT / top, src / top, ignore=ignore)
    for f in ("pyproject.toml", "README.md"):
        shutil.copy2(ROOT / f, src / f)
    out = tmp_path_factory.mktemp("wheel")
    r = _run([sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(out), str(src)],
             dict(os.environ), out)
    assert r.returncode == 0, r.stdout + r.stderr
    (whl,) = out.glob("inspector-*.whl")
    return whl


@pytest.fixture(scope="module")
def venv(wheel: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    v = tmp_path_factory.mktemp("venv") / "v"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(v)], check=True)
    site = Path(sysconfig.get_path("purelib", vars={"base": str(v), "platbase": str(v)}))
    assert site.is_dir(), site
    # third-party libraries from this venv (after the new site-packages, so the wheel wins)
    here = {sysconfig.get_paths()["purelib"], sysconfig.get_paths()["platlib"]}
    (site / "zz_borrowed_libraries.pth").write_text("\n".join(sorted(here)) + "\n")
    r = _run([sys.executable, "-m", "pip", "--python", str(v / "bin" / "python"), "install", "--no-deps",
              "--no-index", "-q", str(wheel)], dict(os.environ), v)
    assert r.returncode == 0, r.stdout + r.stderr
    return v


def _env(tmp: Path, v: Path) -> dict[str, str]:
    env = {k: val for k, val in os.environ.items() if not k.startswith(("PYTHON", "INSPECTOR_", "VIRTUAL_ENV"))}
    env.update(PATH=f"{v / 'bin'}:/usr/bin:/bin", HOME=str(tmp / "home"), QT_QPA_PLATFORM="offscreen",
               XDG_RUNTIME_DIR=str(tmp), LANG="C.UTF-8")
    (tmp / "home").mkdir(exist_ok=True)
    return env


def test_wheel_holds_every_module_and_shipped_file(wheel: Path) -> None:
    with zipfile.ZipFile(wheel) as z:
        names = set(z.namelist())
    missing = sorted(k for k in _source_files() if k not in names)
    assert not missing, f"not in the wheel (pyproject.toml [tool.setuptools] packages / package-data): {missing}"
    assert "inspector/assets/resources/fonts/wqy-microhei.ttc" in names
    assert "inspector/hq/console/static/console.css" in names and "inspector/hq/console/templates/login.html" in names
    assert "inspector/hq/migrations/script.py.mako" in names
    assert not [n for n in names if n.startswith(("forms/", "resources/", "tests/"))], "stray top-level folders"


def test_installed_wheel_runs_outside_the_repository(venv: Path, tmp_path: Path) -> None:
    env = _env(tmp_path, venv)
    work = tmp_path / "elsewhere"
    work.mkdir()
    py = str(venv / "bin" / "python")

    # the package and its files come from the fresh venv, not from this source tree
    r = _run([py, "-c", "import inspector, json; from inspector import paths; "
              "print(json.dumps([inspector.__file__, str(paths.forms_dir()), str(paths.cjk_font())]))"], env, work)
    assert r.returncode == 0, r.stderr
    for p in json.loads(r.stdout):
        assert Path(p).is_relative_to(venv) and not Path(p).is_relative_to(ROOT), p
        assert Path(p).exists(), p

    r = _run([str(venv / "bin" / "inspector"), "forms", "check"], env, work)
    assert r.returncode == 0, r.stdout + r.stderr

    out = tmp_path / "demo-out"
    r = _run([str(venv / "bin" / "inspector"), "--home", str(tmp_path / "laptop"), "demo", "--out", str(out),
              "--json"], env, work)
    assert r.returncode == 0, r.stdout + r.stderr
    pdfs = sorted(out.rglob("*.pdf"))
    assert pdfs, f"the demo wrote no PDF: {list(out.rglob('*'))}"
    fonts = _run(["pdffonts", str(pdfs[0])], env, work).stdout
    assert "WenQuanYi" in fonts or "wqy" in fonts.lower(), fonts  # the shipped CJK font is embedded

    r = _run([str(venv / "bin" / "inspector-gui"), "--self-test"], env, work)
    assert r.returncode == 0, r.stdout + r.stderr
    assert "自检通过" in r.stdout and "[FAIL]" not in r.stdout, r.stdout


def test_installed_hq_serves_its_console_and_css(venv: Path, tmp_path: Path) -> None:
    env = _env(tmp_path, venv)
    work = tmp_path / "elsewhere"
    work.mkdir()
    hq = [str(venv / "bin" / "inspector-hq"), "--home", str(tmp_path / "hq")]
    r = _run([*hq, "init", "--password", "wheel-test-pw"], env, work)
    assert r.returncode == 0, r.stdout + r.stderr
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    proc = subprocess.Popen([*hq, "serve", "--port", str(port)], env=env, cwd=work,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        base = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 60
        while True:
            try:
                with urllib.request.urlopen(base + "/console/login", timeout=5) as resp:
                    page = resp.read().decode("utf-8")
                break
            except OSError:
                assert proc.poll() is None, f"inspector-hq serve exited:\n{proc.communicate()[0]}"
                assert time.monotonic() < deadline, "inspector-hq serve did not answer in 60 s"
                time.sleep(0.2)
        assert "/console/static/console.css" in page and "<form" in page
        with urllib.request.urlopen(base + "/console/static/console.css", timeout=5) as resp:
            css = resp.read().decode("utf-8")
            assert resp.headers.get_content_type() == "text/css"
        assert css == (ROOT / "inspector" / "hq" / "console" / "static" / "console.css").read_text(encoding="utf-8")
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def test_lock_file_pins_every_requirement_within_its_bounds() -> None:
    """requirements.lock (what `make` installs) matches pyproject.toml: a dependency added or re-bounded
    without `make lock` fails here, naming it."""
    import tomllib

    from packaging.requirements import Requirement
    from packaging.utils import canonicalize_name

    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    wanted = [*project["dependencies"], *project["optional-dependencies"]["test"],
              *project["optional-dependencies"]["package"]]
    pins: dict[str, str] = {}
    for line in (ROOT / "requirements.lock").read_text(encoding="utf-8").splitlines():
        line = line.split("#", 1)[0].strip()
        if line:
            name, _, version = line.partition("==")
            pins[canonicalize_name(name)] = version.strip()
    problems = []
    for spec in wanted:
        req = Requirement(spec)
        got = pins.get(canonicalize_name(req.name))
        if got is None:
            problems.append(f"{req.name}: not in requirements.lock")
        elif not req.specifier.contains(got, prereleases=True):
            problems.append(f"{req.name}: locked {got}, pyproject.toml wants {req.specifier}")
    assert not problems, "run `make lock`: " + "; ".join(problems)
