"""Build the frozen desktop app for the current OS (``make package``).

    python packaging/build.py            # build if the sources changed, else reuse the last build
    python packaging/build.py --force    # always rebuild
    python packaging/build.py --check    # exit 0 if the last build is current, 1 if a build is needed

Output (version from pyproject.toml, tag = <os>-<arch>):
  Linux:   dist/inspector-<version>-linux-x86_64/        the one-folder bundle
           dist/inspector-<version>-linux-x86_64.tar.gz  the same folder as a tarball
  Windows: dist/inspector-<version>-windows-x86_64/       the bundle, then
           dist/inspector-<version>-setup.exe             if Inno Setup's ISCC.exe is found
           (else dist/inspector-<version>-windows-x86_64.zip)
  dist/inspector-<version>-<tag>.build.json               source hash, build time, sizes

The build is skipped when a bundle built from the same sources exists: the hash covers inspector/,
ui/, forms/, resources/, packaging/, pyproject.toml and the installed Python packages' versions,
so a fresh clone (no dist/) always builds. A lock file serialises concurrent builds.
"""
from __future__ import annotations

import argparse
import hashlib
import json
import os
import platform
import shutil
import subprocess
import sys
import sysconfig
import tarfile
import time
import tomllib
import zipfile
from contextlib import contextmanager
from importlib import metadata
from pathlib import Path
from typing import Any, Iterator

ROOT = Path(__file__).resolve().parent.parent
SPEC = ROOT / "packaging" / "inspector.spec"
HASHED = ["inspector", "ui", "forms", "resources", "packaging"]
SKIP_DIRS = {"__pycache__", ".pytest_cache", ".mypy_cache", ".ruff_cache"}
SKIP_SUFFIXES = {".pyc", ".pyo", ".swp", ".tmp"}
SKIP_FILES = {"packaging/README.md"}  # documentation only; everything else may end up in the bundle


def version() -> str:
    return tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]["version"]


def platform_tag() -> str:
    system = {"win32": "windows", "darwin": "macos"}.get(sys.platform, sys.platform.rstrip("0123456789"))
    machine = platform.machine().lower()
    machine = {"amd64": "x86_64", "x64": "x86_64", "arm64": "aarch64"}.get(machine, machine)
    return f"{system}-{machine}"


def names(dist: Path | None = None) -> dict[str, Path]:
    """Where this version's outputs go."""
    dist = dist or ROOT / "dist"
    base = f"inspector-{version()}-{platform_tag()}"
    return {
        "bundle": dist / base,
        "archive": dist / (base + (".zip" if sys.platform == "win32" else ".tar.gz")),
        "installer": dist / f"inspector-{version()}-setup.exe",
        "stamp": dist / (base + ".build.json"),
    }


def exe_name(name: str) -> str:
    return name + (".exe" if sys.platform == "win32" else "")


def source_hash() -> str:
    """Hash of everything that goes into the bundle (paths and contents) plus the environment."""
    h = hashlib.sha256()
    files: list[Path] = [ROOT / "pyproject.toml"]
    for top in HASHED:
        for dirpath, dirnames, filenames in os.walk(ROOT / top):
            dirnames[:] = sorted(d for d in dirnames if d not in SKIP_DIRS and not d.startswith("."))
            for f in sorted(filenames):
                if Path(f).suffix not in SKIP_SUFFIXES and not f.startswith("."):
                    files.append(Path(dirpath) / f)
    for p in files:
        if p.relative_to(ROOT).as_posix() in SKIP_FILES:
            continue
        h.update(p.relative_to(ROOT).as_posix().encode() + b"\0")
        h.update(hashlib.sha256(p.read_bytes()).digest())
    # Installed packages from site-packages only (not whatever sys.path the caller has: pytest adds the
    # repo root and its inspector.egg-info, a script run adds packaging/).
    site = sorted({sysconfig.get_paths()["purelib"], sysconfig.get_paths()["platlib"]})
    env = sorted({f"{d.metadata['Name']}=={d.version}".lower() for d in metadata.distributions(path=site)})
    h.update("\n".join([sys.version, platform_tag(), *env]).encode())
    return h.hexdigest()


def read_stamp() -> dict[str, Any] | None:
    n = names()
    try:
        stamp = json.loads(n["stamp"].read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    exe = n["bundle"] / exe_name("inspector-gui")
    return stamp if exe.exists() else None


def is_current(stamp: dict[str, Any] | None = None) -> bool:
    stamp = stamp if stamp is not None else read_stamp()
    return bool(stamp) and stamp.get("hash") == source_hash() and Path(stamp.get("archive", "")).exists()


@contextmanager
def _lock() -> Iterator[None]:
    """One build at a time (``make package`` and the test may race)."""
    (ROOT / "build").mkdir(exist_ok=True)
    f = open(ROOT / "build" / ".package.lock", "w")
    try:
        if sys.platform != "win32":
            import fcntl

            fcntl.flock(f, fcntl.LOCK_EX)
        yield
    finally:
        f.close()


def tree_size(path: Path) -> int:
    return sum(p.lstat().st_size for p in path.rglob("*") if p.is_file() and not p.is_symlink())


def check_bundle(bundle: Path) -> list[str]:
    """What must be in the bundle (forms/ and resources/ at their package path, as in the wheel)."""
    internal = bundle / "_internal"
    problems = []
    musts = [
        bundle / exe_name("inspector-gui"), bundle / exe_name("inspector"),
        internal / "inspector" / "assets" / "forms", internal / "inspector" / "assets" / "resources" / "fonts",
        internal / "inspector" / "store" / "migrations",
    ]
    qt = internal / "PySide6" / ("plugins" if sys.platform == "win32" else "Qt/plugins")
    plugins = ["platforms", "imageformats", "multimedia"]
    if sys.platform.startswith("linux"):
        plugins += ["xcbglintegrations"]
    musts += [qt / p for p in plugins]
    problems += [f"missing in bundle: {p.relative_to(bundle)}" for p in musts if not p.exists()]
    if not list((internal / "inspector" / "store" / "migrations").glob("*.sql")):
        problems.append("no SQL migrations in bundle")
    if sys.platform.startswith("linux"):
        for lib in ("libqoffscreen.so", "libqxcb.so"):
            if not (qt / "platforms" / lib).exists():
                problems.append(f"missing Qt platform plugin {lib}")
    if not list(internal.rglob("*Qt6Pdf*")) and not list(internal.rglob("*QtPdf*")):
        problems.append("QtPdf library missing")
    if list(internal.rglob("*WebEngine*")):
        problems.append("QtWebEngine found in bundle (should be excluded)")
    return problems


_ICON_SCRIPT = """
import sys
from PySide6.QtCore import QBuffer, QByteArray, QIODevice, Qt
from PySide6.QtGui import QGuiApplication, QImage, QPainter
from PySide6.QtSvg import QSvgRenderer
app = QGuiApplication([])
img = QImage(256, 256, QImage.Format.Format_ARGB32)
img.fill(Qt.GlobalColor.transparent)
p = QPainter(img)
QSvgRenderer(sys.argv[1]).render(p)
p.end()
data = QByteArray()
buf = QBuffer(data)
buf.open(QIODevice.OpenModeFlag.WriteOnly)
img.save(buf, "PNG")
sys.stdout.buffer.write(bytes(data))
"""


def make_icon(target: Path) -> Path | None:
    """resources/icons/app.svg as a multi-size .ico for the Windows programs and installer."""
    svg = ROOT / "resources" / "icons" / "app.svg"
    if not svg.exists():
        return None
    import io

    from PIL import Image

    # Qt renders the SVG in a child process: a QGuiApplication left behind in the caller (the test
    # run builds in-process) makes every later QWidget abort.
    png = subprocess.run([sys.executable, "-c", _ICON_SCRIPT, str(svg)], capture_output=True, check=True,
                         env={**os.environ, "QT_QPA_PLATFORM": "offscreen"}).stdout
    target.parent.mkdir(parents=True, exist_ok=True)
    Image.open(io.BytesIO(png)).save(target, sizes=[(16, 16), (24, 24), (32, 32), (48, 48), (64, 64),
                                                    (128, 128), (256, 256)])
    return target


def _archive(bundle: Path, target: Path) -> None:
    tmp = target.with_name(target.name + ".part")
    if target.suffix == ".zip":
        with zipfile.ZipFile(tmp, "w", zipfile.ZIP_DEFLATED, compresslevel=6) as z:
            for p in sorted(bundle.rglob("*")):
                z.write(p, Path(bundle.name) / p.relative_to(bundle))
    else:
        with tarfile.open(tmp, "w:gz", compresslevel=6) as t:
            t.add(bundle, arcname=bundle.name)
    os.replace(tmp, target)


def _find_iscc() -> str | None:
    for c in (os.environ.get("ISCC"), shutil.which("iscc"),
              r"C:\Program Files (x86)\Inno Setup 6\ISCC.exe", r"C:\Program Files\Inno Setup 6\ISCC.exe"):
        if c and Path(c).exists():
            return c
    return None


def _installed_version() -> str:
    try:
        return metadata.version("inspector")
    except metadata.PackageNotFoundError:
        return "(not installed)"


def build(force: bool = False, *, quiet: bool = False) -> dict[str, Any]:
    """Build (or reuse) the bundle; returns the stamp dict with paths, sizes and timings."""
    say = (lambda *a: None) if quiet else (lambda *a: print(*a, flush=True))
    with _lock():
        stamp = read_stamp()
        if not force and is_current(stamp):
            say(f"up to date: {stamp['bundle']} (source hash {stamp['hash'][:12]}); --force rebuilds")
            return {**stamp, "built": False}
        if _installed_version() != version():
            raise SystemExit(f"build.py: installed inspector metadata is {_installed_version()} but pyproject.toml "
                             f"says {version()}; run `pip install -e .` first (make package does)")
        n = names()
        n["stamp"].unlink(missing_ok=True)
        h = source_hash()
        work = ROOT / "build" / "pyinstaller"
        staging = work / "dist"
        shutil.rmtree(staging, ignore_errors=True)
        # PyInstaller reuses its analysis when no module is newer than the last one: a file edited
        # while a build ran would stay stale forever. We only get here when the sources changed, so
        # always analyse afresh.
        shutil.rmtree(work / SPEC.stem, ignore_errors=True)
        icon = make_icon(work / "inspector.ico")
        env = {**os.environ, "INSPECTOR_BUNDLE_NAME": n["bundle"].name, "PYTHONHASHSEED": "0",
               "INSPECTOR_ICON": str(icon or "")}
        cmd = [sys.executable, "-m", "PyInstaller", str(SPEC), "--noconfirm", "--log-level", "WARN",
               "--distpath", str(staging), "--workpath", str(work)]
        say(f"building {n['bundle'].name} with PyInstaller …")
        t0 = time.perf_counter()
        subprocess.run(cmd, cwd=ROOT, env=env, check=True)
        t_pyi = time.perf_counter() - t0
        built = staging / n["bundle"].name
        problems = check_bundle(built)
        if problems:
            raise SystemExit("build.py: bundle incomplete:\n  " + "\n  ".join(problems))
        n["bundle"].parent.mkdir(parents=True, exist_ok=True)
        shutil.rmtree(n["bundle"], ignore_errors=True)
        os.replace(built, n["bundle"])
        t1 = time.perf_counter()
        installer = None
        iscc = _find_iscc() if sys.platform == "win32" else None
        if iscc:
            subprocess.run([iscc, f"/DAppVersion={version()}", f"/DSourceDir={n['bundle']}",
                            f"/DOutputDir={n['bundle'].parent}", *([f"/DIconFile={icon}"] if icon else []), str(ROOT / "packaging" / "windows" / "inspector.iss")],
                           check=True)
            installer = n["installer"]
        _archive(n["bundle"], n["archive"])
        t_archive = time.perf_counter() - t1
        stamp = {
            "version": version(),
            "platform": platform_tag(),
            "hash": h,
            "bundle": str(n["bundle"]),
            "archive": str(n["archive"]),
            "installer": str(installer) if installer else None,
            "bundle_bytes": tree_size(n["bundle"]),
            "archive_bytes": n["archive"].stat().st_size,
            "pyinstaller_seconds": round(t_pyi, 1),
            "archive_seconds": round(t_archive, 1),
            "build_seconds": round(time.perf_counter() - t0, 1),
            "built_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        }
        n["stamp"].write_text(json.dumps(stamp, indent=2), encoding="utf-8")
        say(f"built {n['bundle']} ({stamp['bundle_bytes'] / 2**20:.0f} MB unpacked), "
            f"{n['archive'].name} ({stamp['archive_bytes'] / 2**20:.0f} MB) in {stamp['build_seconds']:.0f} s")
        return {**stamp, "built": True}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--force", action="store_true", help="rebuild even if the sources did not change")
    ap.add_argument("--check", action="store_true", help="only say whether the last build is current")
    ap.add_argument("--json", action="store_true", help="print the build record as JSON")
    args = ap.parse_args(argv)
    if args.check:
        ok = is_current()
        print("up to date" if ok else "build needed")
        return 0 if ok else 1
    stamp = build(args.force, quiet=args.json)
    if args.json:
        print(json.dumps(stamp, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
