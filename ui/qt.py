"""The one import point for Qt, plus app-wide setup (the shipped CJK font, style).

Every ui module imports Qt names from here, so a Qt upgrade or binding switch is one file.
"""
from __future__ import annotations

from typing import Any

from pathlib import Path

from PySide6.QtCore import (  # noqa: F401
    QAbstractListModel, QAbstractTableModel, QByteArray, QBuffer, QDate, QEvent, QIODevice, QItemSelectionModel,
    QMimeData, QModelIndex, QObject, QPoint, QPointF, QRect, QRectF, QRunnable, QSize, QSortFilterProxyModel, Qt,
    QThreadPool, QTimer, QUrl, Signal, Slot, QPersistentModelIndex,
)
from PySide6.QtGui import (  # noqa: F401
    QAction, QBrush, QColor, QFont, QFontDatabase, QIcon, QImage, QKeySequence, QPainter, QPainterPath, QPalette,
    QPen, QPixmap, QShortcut, QTabletEvent, QTouchEvent, QUndoCommand, QUndoStack, QDesktopServices,
)
from PySide6.QtWidgets import (  # noqa: F401
    QAbstractItemView, QApplication, QButtonGroup, QCheckBox, QComboBox, QDateEdit, QDialog, QDialogButtonBox,
    QDoubleSpinBox, QFileDialog, QFormLayout, QFrame, QGridLayout, QGroupBox, QHBoxLayout, QHeaderView, QLabel,
    QLineEdit, QListView, QListWidget, QListWidgetItem, QMainWindow, QMessageBox, QPlainTextEdit, QProgressBar,
    QPushButton, QScrollArea, QSizePolicy, QSpinBox, QSplitter, QStackedWidget, QStatusBar, QTabWidget, QTableView,
    QTextBrowser, QToolBar, QToolButton, QTreeWidget, QTreeWidgetItem, QVBoxLayout, QWidget, QStyle,
)

from inspector import paths

Index = QModelIndex | QPersistentModelIndex  # what model methods receive

FONT_FILE = "wqy-microhei.ttc"
_font_family: str | None = None

# Status colours used everywhere (text on white); one place so screens agree.
GREEN = "#1e7b34"
RED = "#c62828"
AMBER = "#b26a00"
GREY = "#6b7280"
BLUE = "#1f5fa8"
RED_BG = "#fdecea"
AMBER_BG = "#fff4e0"
GREEN_BG = "#e8f5e9"

STYLE = """
QWidget { font-size: 13px; }
QMainWindow, QDialog { background: #f6f7f9; }
QListWidget#nav { background: #1f2d3d; color: #dfe6ee; border: none; font-size: 14px; }
QListWidget#nav::item { padding: 10px 8px; }
QListWidget#nav::item:selected { background: #2f6fb5; color: white; }
QLabel#title { font-size: 18px; font-weight: bold; color: #1f2d3d; }
QLabel#subtitle { color: #6b7280; }
QLabel#hint { color: #4b5563; background: white; border: 1px dashed #c5cbd3; border-radius: 4px; padding: 14px; }
QLabel#feedback[state="fail"] { color: #c62828; }
QLabel#feedback[state="pass"] { color: #1e7b34; }
QFrame#itemrow { background: white; border: 1px solid #e3e6ea; border-radius: 4px; }
QFrame#itemrow[state="fail"] { border: 1px solid #c62828; background: #fff7f6; }
QFrame#itemrow[state="pass"] { border-left: 4px solid #1e7b34; }
QFrame#itemrow[state="na"] { border-left: 4px solid #9aa1aa; }
QFrame#itemrow[current="true"] { border: 2px solid #2f6fb5; }
QFrame#banner { background: #fff4e0; border-bottom: 1px solid #f0d9a8; }
QFrame#card { background: white; border: 1px solid #e3e6ea; border-radius: 4px; }
QPushButton#verdict { padding: 3px 10px; border: 1px solid #c5cbd3; border-radius: 3px; background: #fafbfc; }
QPushButton#verdict:checked[verdict="pass"] { background: #1e7b34; color: white; border-color: #1e7b34; }
QPushButton#verdict:checked[verdict="fail"] { background: #c62828; color: white; border-color: #c62828; }
QPushButton#verdict:checked[verdict="na"] { background: #6b7280; color: white; border-color: #6b7280; }
QPushButton#primary { background: #2f6fb5; color: white; border: none; padding: 6px 14px; border-radius: 3px; }
QPushButton#primary:disabled { background: #9db7d6; }
QLineEdit[state="fail"], QDoubleSpinBox[state="fail"] { border: 2px solid #c62828; background: #fff3f2; }
QTableView { background: white; gridline-color: #e3e6ea; selection-background-color: #d6e6f8;
             selection-color: black; }
QHeaderView::section { background: #eef1f5; border: none; border-right: 1px solid #dde2e8; padding: 4px; }
"""


def font_family() -> str | None:
    return _font_family


def load_font() -> str | None:
    """Register the shipped CJK font; returns its family (None if the file is missing)."""
    global _font_family
    if _font_family:
        return _font_family
    path = Path(paths.resources_dir()) / "fonts" / FONT_FILE
    if not path.exists():
        return None
    fid = QFontDatabase.addApplicationFont(str(path))
    fams = QFontDatabase.applicationFontFamilies(fid) if fid >= 0 else []
    _font_family = fams[0] if fams else None
    return _font_family


def setup_app(app: QApplication) -> None:
    """Font fallback so Chinese renders on machines without a CJK system font, and the app style."""
    fam = load_font()
    if fam:
        f = QFont(app.font())
        # Latin from the system font when present, Chinese from the shipped one.
        f.setFamilies([*(x for x in f.families() if x != fam)][:1] + [fam])
        f.setPointSize(10)
        app.setFont(f)
    app.setStyleSheet(STYLE)
    app.setApplicationName("inspector")
    app.setApplicationDisplayName("现场检查")
    icon = icon_path("app")
    if icon.exists():
        app.setWindowIcon(QIcon(str(icon)))


def icon_path(name: str) -> Path:
    return Path(paths.resources_dir()) / "icons" / f"{name}.svg"


def icon(name: str) -> QIcon:
    p = icon_path(name)
    return QIcon(str(p)) if p.exists() else QIcon()


def repolish(w: QWidget) -> None:
    """Re-apply the style sheet after a dynamic property changed (state colours)."""
    s = w.style()
    s.unpolish(w)
    s.polish(w)
    w.update()


def set_prop(w: Any, name: str, value: Any) -> None:
    """A dynamic property for style sheets, mirrored on the Python side for reading back.
    Why: PySide6 6.12.0's ``QObject.property()`` under-counts the reference of what it returns
    (None, True, …): called on every keystroke it ends the process with "bool_dealloc" after about
    a thousand calls (tests/test_ui_refcount.py). The app therefore never calls ``property()``."""
    w.setProperty(name, value)
    w.__dict__.setdefault("_inspector_props", {})[name] = value


def prop(w: Any, name: str, default: Any = None) -> Any:
    """What :func:`set_prop` set (never ``QObject.property()``; see there)."""
    return w.__dict__.get("_inspector_props", {}).get(name, default)


def set_state(w: QWidget, state: str) -> None:
    if prop(w, "state", "") != state:
        set_prop(w, "state", state)
        repolish(w)


def ask_unlock(parent: QWidget, home: Any, why: str, on_error: Any = None) -> bool:
    """Ask an inspector's passphrase until the laptop's sealed keys open (pii.unlock) or the
    inspector gives up. ``why`` says what needs them; a wrong passphrase is reported through
    ``on_error`` (a callable taking the Chinese message) and asked again."""
    from PySide6.QtWidgets import QInputDialog

    from inspector import pii

    while True:
        pw, ok = QInputDialog.getText(parent, "解锁本机密钥", f"{why}，请输入签名口令：",
                                      QLineEdit.EchoMode.Password)
        if not ok or not pw:
            return False
        try:
            return pii.unlock(home, pw)
        except pii.PiiError as e:
            if on_error is not None:
                on_error(str(e))
