"""Start-up numbers of the frozen app (for the release note), from the last ``build.py`` output.

    python packaging/measure.py [--runs 3] [--json]

- self-test: wall time of ``inspector-gui --self-test`` (offscreen) until it exits.
- window: wall time from starting ``inspector-gui`` on a fresh data folder until its main window is
  mapped and viewable on an X server (Xvfb here, through the bundled xcb plugin).
"cold" runs first evict the bundle's files from the page cache (posix_fadvise DONTNEED, only these
files, so other work on the machine is untouched); "warm" runs follow directly.
"""
from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
import build  # noqa: E402  (packaging/build.py; "packaging" the PyPI library shadows the folder name)


def evict(tree: Path) -> None:
    for p in tree.rglob("*"):
        if p.is_file() and not p.is_symlink():
            try:
                fd = os.open(p, os.O_RDONLY)
            except OSError:
                continue
            try:
                os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_DONTNEED)
            finally:
                os.close(fd)


def clean_env(tmp: Path, **extra: str) -> dict[str, str]:
    home = tmp / "home"
    home.mkdir(parents=True, exist_ok=True)
    return {"PATH": "/usr/bin:/bin", "HOME": str(home), "LANG": "C.UTF-8", "TMPDIR": str(tmp),
            "XDG_RUNTIME_DIR": str(tmp), **extra}


def time_selftest(bundle: Path, cold: bool) -> float:
    with tempfile.TemporaryDirectory() as t:
        if cold:
            evict(bundle)
        t0 = time.perf_counter()
        p = subprocess.run([str(bundle / build.exe_name("inspector-gui")), "--self-test"],
                           env=clean_env(Path(t), QT_QPA_PLATFORM="offscreen"), capture_output=True, text=True)
        dt = time.perf_counter() - t0
        if p.returncode != 0:
            raise SystemExit(f"self-test failed:\n{p.stdout}\n{p.stderr[-2000:]}")
        return dt


def _viewable_window(display: str, env: dict[str, str]) -> bool:
    tree = subprocess.run(["xwininfo", "-root", "-children", "-display", display], capture_output=True,
                          text=True, env=env).stdout
    for line in tree.splitlines():
        if "(\"inspector-gui\"" in line:
            wid = line.split()[0]
            info = subprocess.run(["xwininfo", "-id", wid, "-display", display], capture_output=True, text=True,
                                  env=env).stdout
            if "IsViewable" in info and "Width: 1 " not in info:
                return True
    return False


def time_window(bundle: Path, display: str, cold: bool) -> float:
    with tempfile.TemporaryDirectory() as t:
        env = clean_env(Path(t), DISPLAY=display, QT_QPA_PLATFORM="xcb")
        if cold:
            evict(bundle)
        t0 = time.perf_counter()
        proc = subprocess.Popen([str(bundle / build.exe_name("inspector-gui"))], env=env,
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            while True:
                if proc.poll() is not None:
                    raise SystemExit(f"inspector-gui exited ({proc.returncode}) before showing a window")
                if _viewable_window(display, env):
                    return time.perf_counter() - t0
                if time.perf_counter() - t0 > 120:
                    raise SystemExit("no window after 120 s")
                time.sleep(0.02)
        finally:
            proc.terminate()
            proc.wait(20)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description="start-up times of the frozen app")
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--json", action="store_true")
    ap.add_argument("--no-window", action="store_true", help="skip the Xvfb window measurement")
    args = ap.parse_args(argv)
    stamp = build.read_stamp()
    if not stamp:
        raise SystemExit("no build found: run packaging/build.py first")
    bundle = Path(stamp["bundle"])
    out: dict[str, Any] = {k: stamp[k] for k in ("version", "bundle_bytes", "archive_bytes", "build_seconds",
                                                  "pyinstaller_seconds", "archive_seconds")}
    out["selftest_cold_s"] = round(time_selftest(bundle, cold=True), 2)
    out["selftest_warm_s"] = round(statistics.median(time_selftest(bundle, False) for _ in range(args.runs)), 2)
    if not args.no_window and shutil.which("Xvfb") and shutil.which("xwininfo"):
        display = f":{90 + os.getpid() % 9}"
        xvfb = subprocess.Popen(["Xvfb", display, "-screen", "0", "1366x768x24", "-nolisten", "tcp"],
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            time.sleep(1)
            out["window_cold_s"] = round(time_window(bundle, display, cold=True), 2)
            out["window_warm_s"] = round(statistics.median(time_window(bundle, display, False)
                                                           for _ in range(args.runs)), 2)
        finally:
            xvfb.terminate()
            xvfb.wait(10)
    if args.json:
        print(json.dumps(out, indent=2))
    else:
        mb = 2 ** 20
        print(f"inspector {out['version']}: bundle {out['bundle_bytes'] / mb:.0f} MB unpacked, "
              f"tarball {out['archive_bytes'] / mb:.0f} MB, build {out['build_seconds']:.0f} s "
              f"(PyInstaller {out['pyinstaller_seconds']:.0f} s + archive {out['archive_seconds']:.0f} s)")
        print(f"self-test: cold {out['selftest_cold_s']} s, warm {out['selftest_warm_s']} s")
        if "window_cold_s" in out:
            print(f"window shown: cold {out['window_cold_s']} s, warm {out['window_warm_s']} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
