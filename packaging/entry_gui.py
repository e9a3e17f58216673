"""Frozen entry point of ``inspector-gui`` (the desktop app).

``--self-test`` forces Qt's offscreen platform before anything creates the QApplication, so the
check runs on a machine without a display (CI, an administrator's remote shell).
"""
import os
import sys


def _run() -> int:
    if "--self-test" in sys.argv[1:]:
        os.environ["QT_QPA_PLATFORM"] = "offscreen"
    try:
        from ui.app import main
    except ImportError as e:
        # The app module is missing or broken: the self-test still runs and reports it.
        if "--self-test" in sys.argv[1:]:
            from ui.selftest import main as selftest

            return selftest([a for a in sys.argv[1:] if a != "--self-test"])
        raise SystemExit(f"inspector-gui: 无法启动界面：{e}")
    return int(main() or 0)


if __name__ == "__main__":
    # Photo import runs worker processes (forkserver on Linux, spawn on Windows); in a frozen app they
    # start this executable again, and freeze_support() turns such a start into a worker.
    import multiprocessing

    multiprocessing.freeze_support()
    sys.exit(_run())
