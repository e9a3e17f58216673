"""Every error that ends the GUI before its window shows is a Chinese dialog with the cause and
the log file's path (issue 14 item 5) — here a 0-byte database, which is also left untouched."""
from __future__ import annotations

from pathlib import Path


def test_a_damaged_database_at_start_is_a_chinese_dialog_not_a_traceback(qapp, tmp_path: Path):
    from ui import app as gui
    from ui.qt import QApplication, QMessageBox, QTimer

    home = tmp_path / "home"
    home.mkdir()
    (home / "inspector.db").write_bytes(b"")
    seen: dict = {}

    def grab() -> None:
        w = QApplication.activeModalWidget()
        if not isinstance(w, QMessageBox):
            QTimer.singleShot(100, grab)
            return
        seen["text"] = w.text()
        seen["buttons"] = [b.text() for b in w.buttons()]
        w.accept()

    QTimer.singleShot(200, grab)
    rc = gui.main(["--home", str(home)])
    assert rc == 2
    assert "0 字节" in seen["text"] and "inspector.db" in seen["text"]
    assert "日志文件" in seen["text"] and str(home / "logs") in seen["text"]
    assert "Traceback" not in seen["text"]
    assert seen["buttons"] == ["确定"]  # Qt's own button, in Chinese
    assert (home / "inspector.db").stat().st_size == 0
    assert "start-up failed" in (home / "logs" / "inspector-gui.log").read_text(encoding="utf-8")
