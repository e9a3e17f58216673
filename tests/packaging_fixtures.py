"""Shared setup for the packaging tests: build (or reuse) the frozen bundle, unpack its tarball, and
an environment with no Python on PATH to run it in."""
from __future__ import annotations

import importlib.util
import os
import shutil
import subprocess
import sys
import tarfile
from pathlib import Path
from types import ModuleType
from typing import Any, Iterator

import pytest

ROOT = Path(__file__).resolve().parent.parent
SKIP_VAR = "INSPECTOR_SKIP_PACKAGING"
# Tools the frozen app may shell out to on Linux; everything else (python above all) stays off PATH.
TOOLS = ("sh", "env", "ls", "cat", "uname", "xdg-open")


def load_build() -> ModuleType:
    """packaging/build.py by path (``import packaging`` would find the PyPI library of that name)."""
    spec = importlib.util.spec_from_file_location("inspector_packaging_build", ROOT / "packaging" / "build.py")
    assert spec and spec.loader
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def skip_if_asked() -> None:
    if os.environ.get(SKIP_VAR) == "1":
        msg = (f"PACKAGING TEST SKIPPED: {SKIP_VAR}=1 is set, so the frozen bundle was NOT built and its "
               f"self-check did NOT run. Unset it to test packaging.")
        print("\n" + "!" * 100 + "\n" + msg + "\n" + "!" * 100, file=sys.__stderr__, flush=True)
        pytest.skip(msg)


def no_python_env(base: Path, **extra: str) -> dict[str, str]:
    """A minimal environment: PATH is a folder of symlinks to a few tools, and no python anywhere on it."""
    bindir = base / "bin"
    bindir.mkdir(parents=True, exist_ok=True)
    for tool in TOOLS:
        src = shutil.which(tool, path="/usr/bin:/bin")
        if src and not (bindir / tool).exists():
            (bindir / tool).symlink_to(src)
    home = base / "userhome"
    home.mkdir(exist_ok=True)
    env = {
        "PATH": str(bindir),
        "HOME": str(home),
        "LANG": "C.UTF-8",
        "LC_ALL": "C.UTF-8",
        "TMPDIR": str(base),
        "QT_QPA_PLATFORM": "offscreen",
        "XDG_RUNTIME_DIR": str(base),
    }
    env.update(extra)
    for name in ("python", "python3", "python3.11"):
        assert shutil.which(name, path=env["PATH"]) is None, f"{name} is on the test PATH"
    return env


def offline_prefix() -> list[str]:
    """Run in a network namespace with no interfaces when the machine allows it (proves 'fully offline')."""
    unshare = shutil.which("unshare", path="/usr/bin:/bin")
    if unshare and subprocess.run([unshare, "-n", "true"], capture_output=True).returncode == 0:
        return [unshare, "-n"]
    return []


# -- the build, started in the background when the session begins ---------------------------------------------------
# PyInstaller takes 2-3 min of one core; pytest itself keeps only one core busy. A session that will need the
# bundle starts packaging/build.py at once (tests/conftest.py), at low priority, and the `built` fixture waits
# for it: the build overlaps the tests before the packaging ones instead of adding to the wall time.
_background: dict[str, Any] = {}


def start_background_build(items: list[pytest.Item]) -> None:
    if os.environ.get(SKIP_VAR) == "1" or _background or not any("built" in getattr(i, "fixturenames", ())
                                                                    for i in items):
        return
    import tempfile

    log = tempfile.NamedTemporaryFile("w+b", prefix="inspector-build-", suffix=".log", delete=False)
    # nice: the tests running meanwhile (some of them timing-sensitive) keep the CPU they ask for
    proc = subprocess.Popen([sys.executable, str(ROOT / "packaging" / "build.py")], cwd=ROOT, stdout=log,
                            stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, preexec_fn=lambda: os.nice(10))
    _background.update(proc=proc, log=Path(log.name))
    log.close()


def stop_background_build() -> None:
    """At the end of the session: a build still running (the session stopped early) is stopped."""
    proc, log = _background.get("proc"), _background.get("log")
    if proc is not None and proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
    if log is not None:
        log.unlink(missing_ok=True)


def _wait_background_build() -> None:
    proc, log = _background.get("proc"), _background.get("log")
    if proc is None:
        return
    rc = proc.wait()
    out = log.read_text(encoding="utf-8", errors="replace")
    print(f"\npackaging/build.py (started with the session) exited {rc}:\n{out[-2000:]}", flush=True)
    assert rc == 0, f"packaging/build.py failed (rc {rc}):\n{out[-6000:]}"


@pytest.fixture(scope="session")
def built() -> dict[str, Any]:
    """The build record (reused when sources are unchanged; a fresh clone builds). The build itself ran
    in the background since the session started; build() then finds it current (or builds again if a
    source changed in the meantime)."""
    skip_if_asked()
    _wait_background_build()
    return load_build().build(quiet=False)


@pytest.fixture(scope="session")
def bundle(built: dict[str, Any], tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """The tarball unpacked somewhere else: the app must not depend on where it was built."""
    dest = tmp_path_factory.mktemp("unpacked")
    with tarfile.open(built["archive"]) as t:
        t.extractall(dest, filter="tar")
    root = dest / Path(built["bundle"]).name
    assert (root / "inspector-gui").exists(), sorted(p.name for p in dest.iterdir())
    yield root
    shutil.rmtree(dest, ignore_errors=True)  # ~340 MB; pytest would keep the last three runs
