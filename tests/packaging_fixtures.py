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


@pytest.fixture(scope="session")
def built() -> dict[str, Any]:
    """The build record (reused when sources are unchanged; a fresh clone builds)."""
    skip_if_asked()
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
