"""Frozen entry point of ``inspector`` (the admin command line, console program on Windows).

``inspector --self-test`` runs the same check as ``inspector-gui --self-test`` but with a console,
which is what an administrator wants on Windows (the GUI executable has no stdout there).
"""
import os
import sys


def _run() -> int:
    if sys.argv[1:2] == ["--self-test"]:
        os.environ["QT_QPA_PLATFORM"] = "offscreen"
        from ui.selftest import main as selftest

        return selftest(sys.argv[2:])
    from inspector.cli import main

    return main()


if __name__ == "__main__":
    # Photo import runs worker processes (forkserver on Linux, spawn on Windows); in a frozen app they
    # start this executable again, and freeze_support() turns such a start into a worker.
    import multiprocessing

    multiprocessing.freeze_support()
    sys.exit(_run())
