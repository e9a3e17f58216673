"""``inspector-gui``: start the desktop app.

    inspector-gui [--home DIR] [--demo] [--self-test]
"""
from __future__ import annotations

import argparse
import sys
from typing import Any


def parse(argv: list[str]) -> tuple[argparse.Namespace, list[str]]:
    """Our options, and the rest for Qt (``-platform offscreen``, ``-style …``), which must not break us."""
    p = argparse.ArgumentParser(prog="inspector-gui", description="现场检查（桌面程序）", allow_abbrev=False)
    p.add_argument("--home", help="数据目录（默认 INSPECTOR_HOME 或用户数据目录）")
    p.add_argument("--demo", action="store_true", help="数据库为空时载入演示数据")
    p.add_argument("--self-test", action="store_true", help="自检后退出（打包检查用）")
    return p.parse_known_args(argv)


def seed_demo_if_empty(store: Any) -> bool:
    from ui import core

    try:
        d = core.directory()
        if d.list_institutions(store):
            return False
        from inspector.demo import seed_demo
    except ImportError:
        return False
    seed_demo(store)
    return True


def build(argv: list[str] | None = None) -> tuple[Any, Any, Any]:
    """QApplication, store and main window (tests and the bench use this too)."""
    from inspector.store import Store
    from ui.mainwindow import MainWindow
    from ui.qt import QApplication, setup_app

    args, qt_args = parse(list(sys.argv[1:] if argv is None else argv))
    app = QApplication.instance() or QApplication(sys.argv[:1] + qt_args)
    assert isinstance(app, QApplication)
    setup_app(app)
    store = Store.open(args.home)
    if args.demo:
        seed_demo_if_empty(store)
    win = MainWindow(store)
    return app, store, win


def main(argv: list[str] | None = None) -> int:
    # First thing: in a frozen app, photo-import worker processes start this executable again,
    # and freeze_support() turns such a start into a worker instead of a second window.
    import multiprocessing

    multiprocessing.freeze_support()
    args, _qt_args = parse(list(sys.argv[1:] if argv is None else argv))
    if args.self_test:
        from ui.selftest import main as self_test

        return self_test(list(sys.argv[1:] if argv is None else argv))
    app, store, win = build(argv)
    win.show()
    win.restore_last()
    try:
        return app.exec()
    finally:
        store.close()


if __name__ == "__main__":
    sys.exit(main())
