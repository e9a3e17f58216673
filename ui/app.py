"""``inspector-gui``: start the desktop app.

    inspector-gui [--home DIR] [--demo] [--self-test]
"""
from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path
from typing import Any

logger = logging.getLogger(__name__)

# Qt's own catalogues: standard buttons (是/否, 保存/关闭), QFileDialog, QCalendarWidget, the
# camera's errors. The PySide6 wheel ships them; a frozen app carries a copy in resources/translations.
QT_CATALOGUES = ("qtbase", "qtmultimedia")


def parse(argv: list[str]) -> tuple[argparse.Namespace, list[str]]:
    """Our options, and the rest for Qt (``-platform offscreen``, ``-style …``), which must not break us."""
    p = argparse.ArgumentParser(prog="inspector-gui", description="现场检查（桌面程序）", allow_abbrev=False)
    p.add_argument("--home", help="数据目录（默认 INSPECTOR_HOME 或用户数据目录）")
    p.add_argument("--demo", action="store_true", help="数据库为空时载入演示数据")
    p.add_argument("--self-test", action="store_true", help="自检后退出（打包检查用）")
    return p.parse_known_args(argv)


def seed_demo_if_empty(store: Any) -> bool:
    from ui import core

    from inspector.demo import seed_demo

    if core.directory().list_institutions(store):
        return False
    seed_demo(store)
    return True


def translation_dirs() -> list[str]:
    """Where Qt's .qm files are: the Qt installation first, then the app's own resources."""
    from PySide6.QtCore import QLibraryInfo

    from inspector import paths

    return [QLibraryInfo.path(QLibraryInfo.LibraryPath.TranslationsPath),
            str(Path(paths.resources_dir()) / "translations")]


def install_translations(app: Any) -> list[str]:
    """zh_CN as the default locale (calendar, numbers, dates) and Qt's own zh_CN texts, so every
    standard dialog is Chinese. Idempotent; returns the catalogues loaded (logged when missing)."""
    from PySide6.QtCore import QLocale, QTranslator

    done = app.__dict__.get("_inspector_translations")  # not app.property(): see ui.qt.set_prop
    if done is not None:
        return list(done)
    zh = QLocale(QLocale.Language.Chinese, QLocale.Country.China)
    QLocale.setDefault(zh)
    loaded: list[str] = []
    keep: list[Any] = []
    for name in QT_CATALOGUES:
        for folder in translation_dirs():
            t = QTranslator(app)
            if t.load(zh, name, "_", folder):
                app.installTranslator(t)
                keep.append(t)
                loaded.append(name)
                break
        else:
            logger.warning("Qt translation %s_zh_CN.qm not found in %s", name, translation_dirs())
    app._inspector_translators = keep  # keep the Python wrappers alive
    app.setProperty("inspector_translations", loaded)
    app.__dict__["_inspector_translations"] = loaded
    return loaded


def build(argv: list[str] | None = None) -> tuple[Any, Any, Any]:
    """QApplication, store and main window (tests and the bench use this too)."""
    from inspector.store import Store
    from ui.mainwindow import MainWindow
    from ui.qt import QApplication, setup_app

    args, qt_args = parse(list(sys.argv[1:] if argv is None else argv))
    app = QApplication.instance() or QApplication(sys.argv[:1] + qt_args)
    assert isinstance(app, QApplication)
    setup_app(app)
    install_translations(app)
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
    from inspector import logs, paths

    log_path = logs.setup(paths.home(args.home), "inspector-gui")
    try:
        app, store, win = build(argv)
    except Exception as e:  # noqa: BLE001 — any start-up failure becomes a dialog (no console on Windows)
        logger.exception("start-up failed")
        return startup_error(e, log_path)
    win.show()
    win.restore_last()
    _start_checks(store, win)
    try:
        return app.exec()
    finally:
        store.close()


def _start_checks(store: Any, win: Any) -> None:
    """The fast tamper check (from the last verified checkpoint on) and the daily backup."""
    from inspector.store import backup, integrity
    from ui.qt import QMessageBox

    rep = integrity.verify(store, full=False)
    if not rep.ok:
        logger.error("tamper check at start: %s", rep.problems)
        QMessageBox.warning(win, "本机数据被改动", "\n".join(
            ["本机的审计记录与签名检查点不一致，数据可能在程序之外被改动。为保护证据，同步已停止。", *rep.problems[:8],
             "请联系总部技术支持。"]))
    backup.auto(store, "daily")


def startup_error(e: BaseException, log_path: Any) -> int:
    """A Chinese dialog with the cause, what to do and the log file's path; exit code 2."""
    from inspector.errors import InspectorError
    from ui.qt import QApplication, QMessageBox

    app = QApplication.instance() or QApplication(sys.argv[:1])
    install_translations(app)  # 确定, not OK
    lines = list(getattr(e, "problems", None) or [str(e)]) if isinstance(e, InspectorError) else \
        [f"程序启动时出错：{type(e).__name__}: {e}"]
    box = QMessageBox(QMessageBox.Icon.Critical, "现场检查 — 无法启动",
                      "\n\n".join([*lines, f"详细记录见日志文件：{log_path}"]))
    box.setStandardButtons(QMessageBox.StandardButton.Ok)
    box.setObjectName("startup_error")
    box.exec()
    return 2


if __name__ == "__main__":
    sys.exit(main())
