"""The main window: screens on the left rail, a visit opens in place; reopens the open visit."""
from __future__ import annotations

import logging
from typing import Any

import inspector
from inspector.errors import InspectorError
from inspector.store import Store, visits
from inspector.util import now_iso
from ui import core
from ui.qt import (
    QAction, QFrame, QHBoxLayout, QKeySequence, QLabel, QListWidget, QListWidgetItem, QMainWindow, QMessageBox,
    QPushButton, QSize, QStackedWidget, Qt, QTimer, QVBoxLayout, QWidget, Signal, icon,
)
from ui.screens import InspectionsScreen, InstitutionsScreen, RectificationsScreen, TasksScreen
from ui.sync_settings import SettingsScreen, SyncScreen

OPEN_KEY = "ui.open_inspection"
GEOMETRY_KEY = "ui.window_geometry"   # base64 of QWidget.saveGeometry(), per data folder
DEFAULT_SIZE = (1366, 768)
logger = logging.getLogger(__name__)
ENROL_OFFER_DISMISSED = "ui.enrol_offer_dismissed"
SHORTCUTS = """<table>
<tr><td>Tab / Shift+Tab</td><td>下一项 / 上一项</td></tr>
<tr><td>1 / 2 / 3（焦点在判定按钮上）</td><td>符合 / 不符合 / 不适用</td></tr>
<tr><td>Alt+1 / Alt+2 / Alt+3</td><td>当前检查项：符合 / 不符合 / 不适用</td></tr>
<tr><td>Ctrl+Z / Ctrl+Y</td><td>撤销 / 重做</td></tr>
<tr><td>Ctrl+1 … Ctrl+6</td><td>任务 / 机构 / 检查 / 整改 / 同步 / 设置</td></tr>
</table>"""


class MainWindow(QMainWindow):
    visit_opened = Signal(object)   # the VisitWidget

    SCREENS = (("tasks", "任务"), ("institutions", "机构"), ("inspections", "检查"),
               ("rectifications", "整改"), ("sync", "同步"), ("settings", "设置"))

    def __init__(self, store: Store, parent: QWidget | None = None):
        super().__init__(parent)
        self.store = store
        self.setWindowTitle("现场检查 — 职业技能培训和评价机构双随机检查")
        from ui.app import install_translations
        from ui.qt import QApplication

        install_translations(QApplication.instance())
        self._geometry_timer = QTimer(self)
        self._geometry_timer.setSingleShot(True)
        self._geometry_timer.setInterval(1000)
        self._geometry_timer.timeout.connect(self.save_geometry)
        self._fitted = False
        central = QWidget(self)
        lay = QHBoxLayout(central)
        lay.setContentsMargins(0, 0, 0, 0)
        lay.setSpacing(0)
        self.nav = QListWidget(central)
        self.nav.setObjectName("nav")
        self.nav.setFixedWidth(104)
        self.nav.setIconSize(QSize(22, 22))
        right = QWidget(central)
        rl = QVBoxLayout(right)
        rl.setContentsMargins(0, 0, 0, 0)
        rl.setSpacing(0)
        self.enrol_offer = EnrolOffer(right)
        self.enrol_offer.enrol_btn.clicked.connect(self.enrol_from_offer)
        self.enrol_offer.later_btn.clicked.connect(self.dismiss_enrol_offer)
        rl.addWidget(self.enrol_offer)
        self.stack = QStackedWidget(right)
        rl.addWidget(self.stack, 1)
        lay.addWidget(self.nav)
        lay.addWidget(right, 1)
        self.setCentralWidget(central)
        self.screens: dict[str, Any] = {}
        self.visit: Any = None
        self._status = QLabel("", self)
        self.statusBar().addWidget(self._status, 1)
        self._status_timer = QTimer(self)
        self._status_timer.setSingleShot(True)
        self._status_timer.setInterval(8000)
        self._status_timer.timeout.connect(lambda: self._status.setText(""))
        self._offline = QLabel("离线工作　数据自动保存", self)
        self.statusBar().addPermanentWidget(self._offline)
        for key, label in self.SCREENS:
            it = QListWidgetItem(icon(key), label)
            it.setData(Qt.ItemDataRole.UserRole, key)
            it.setTextAlignment(Qt.AlignmentFlag.AlignCenter)
            self.nav.addItem(it)
        self.nav.currentRowChanged.connect(self._nav)
        self._menus()
        self.nav.setCurrentRow(0)
        self.update_enrol_offer()
        self.restore_geometry()

    # -- window geometry: within the screen at any scale factor, remembered ----------------------
    def available(self) -> Any:
        from ui.qt import QApplication

        scr = self.screen() or QApplication.primaryScreen()
        return scr.availableGeometry()

    def restore_geometry(self) -> None:
        """The last size and place when there is one, else 1366×768; then fitted to the screen."""
        from ui.qt import QByteArray

        saved = self.store.get_meta(GEOMETRY_KEY)
        if not (saved and self.restoreGeometry(QByteArray.fromBase64(saved.encode()))):
            self.resize(*DEFAULT_SIZE)
        self.fit_to_screen()

    def fit_to_screen(self) -> None:
        """Shrink and move so the whole frame (title bar included) lies within the available
        screen area; at 150 % on 1920×1080 that is 1280×720 logical minus the panels."""
        if self.isMaximized() or self.isFullScreen():
            return
        avail = self.available()
        fg, g = self.frameGeometry(), self.geometry()
        # before the first show the frame is unknown: assume a title bar and borders
        extra_w = max(fg.width() - g.width(), 0 if self.isVisible() else 8)
        extra_h = max(fg.height() - g.height(), 0 if self.isVisible() else 38)
        w = max(min(g.width(), avail.width() - extra_w), 320)
        h = max(min(g.height(), avail.height() - extra_h), 240)
        if (w, h) != (g.width(), g.height()):
            self.resize(w, h)
        fg = self.frameGeometry()
        x = min(max(fg.x(), avail.x()), avail.right() + 1 - fg.width())
        y = min(max(fg.y(), avail.y()), avail.bottom() + 1 - fg.height())
        if (x, y) != (fg.x(), fg.y()):
            self.move(max(x, avail.x()), max(y, avail.y()))

    def save_geometry(self) -> None:
        self._geometry_timer.stop()
        try:
            self.store.set_meta(GEOMETRY_KEY, bytes(self.saveGeometry().toBase64().data()).decode())
        except Exception as e:  # noqa: BLE001 - store closed at shutdown: the size is not worth a crash
            logger.info("window geometry not saved: %s", e)

    def showEvent(self, e: Any) -> None:
        super().showEvent(e)
        if not self._fitted:
            self._fitted = True
            # the window manager adds the frame after the first show: fit again with it known
            QTimer.singleShot(0, self.fit_to_screen)

    def resizeEvent(self, e: Any) -> None:
        super().resizeEvent(e)
        if self.isVisible():
            self._geometry_timer.start()

    def moveEvent(self, e: Any) -> None:
        super().moveEvent(e)
        if self.isVisible():
            self._geometry_timer.start()

    def _menus(self) -> None:
        m = self.menuBar()
        fm = m.addMenu("文件")
        quit_ = QAction("退出", self)
        quit_.setShortcut(QKeySequence("Ctrl+Q"))
        quit_.triggered.connect(self.close)
        fm.addAction(quit_)
        gm = m.addMenu("转到")
        for n, (key, label) in enumerate(self.SCREENS, start=1):
            a = QAction(label, self)
            a.setShortcut(QKeySequence(f"Ctrl+{n}"))
            a.triggered.connect(lambda _c=False, k=key: self.show_screen(k))
            gm.addAction(a)
        hm = m.addMenu("帮助")
        keys = QAction("快捷键", self)
        keys.triggered.connect(lambda: QMessageBox.information(self, "快捷键", SHORTCUTS))
        hm.addAction(keys)
        about = QAction("关于", self)
        about.triggered.connect(self.about)
        hm.addAction(about)

    def about_text(self) -> str:
        return (f"<b>现场检查</b> 版本 {inspector.__version__}<br>职业技能培训和评价机构“双随机、一公开”现场检查工具。"
                f"<br>离线工作，联网时与总部同步。<br>数据目录：{self.store.home}")

    def about(self) -> None:
        QMessageBox.about(self, "关于", self.about_text())

    # -- screens ----------------------------------------------------------------------
    def get_screen(self, key: str) -> Any:
        if key not in self.screens:
            cls = {"tasks": TasksScreen, "institutions": InstitutionsScreen, "inspections": InspectionsScreen,
                   "rectifications": RectificationsScreen, "sync": SyncScreen, "settings": SettingsScreen}[key]
            w = cls(self.store, self)
            w.open_inspection.connect(self.open_visit)
            w.message.connect(self.show_message)
            if isinstance(w, SettingsScreen):
                w.enrolled.connect(lambda _res: self.update_enrol_offer())
            self.screens[key] = w
            self.stack.addWidget(w)
        return self.screens[key]

    def show_screen(self, key: str) -> None:
        for i in range(self.nav.count()):
            if self.nav.item(i).data(Qt.ItemDataRole.UserRole) == key:
                if self.nav.currentRow() != i:
                    self.nav.setCurrentRow(i)
                    return
        w = self.get_screen(key)
        w.refresh()
        self.stack.setCurrentWidget(w)

    def _nav(self, row: int) -> None:
        it = self.nav.item(row)
        if not it:
            return
        key = it.data(Qt.ItemDataRole.UserRole)
        self.enrol_offer.enrol_btn.setVisible(key != "settings")  # the form is on that screen
        if self.visit is not None and key == "inspections":
            self.stack.setCurrentWidget(self.visit)
            return
        w = self.get_screen(key)
        w.refresh()
        self.stack.setCurrentWidget(w)

    def show_message(self, text: str) -> None:
        """Shown for 8 s in the status bar (a timer owned by the window: no callback after it is gone)."""
        self._status.setText(text)
        self._status_timer.start()

    # -- first start: offer enrolment with HQ ------------------------------------------------
    def enrol_offer_wanted(self) -> bool:
        """Not enrolled, and the inspector has not said 以后再说 on this laptop."""
        return core.enrolled(self.store) is False and not self.store.get_meta(ENROL_OFFER_DISMISSED)

    def update_enrol_offer(self) -> None:
        self.enrol_offer.setVisible(self.enrol_offer_wanted())

    def enrol_from_offer(self) -> None:
        self.show_screen("settings")
        self.screens["settings"].focus_enrolment()

    def dismiss_enrol_offer(self) -> None:
        self.store.set_meta(ENROL_OFFER_DISMISSED, now_iso())
        self.enrol_offer.hide()
        self.show_message("以后可随时在“设置”中登记本机。")

    # -- visits ---------------------------------------------------------------------------
    def open_visit(self, inspection_id: str, *, restore: bool = False) -> Any:
        from ui.visit import VisitWidget

        self.close_visit(remember=False)
        try:
            v = VisitWidget(self.store, inspection_id, actor=self.store.get_meta("ui.me") or None, parent=self)
        except InspectorError as e:
            self.show_message(str(e))
            return None
        v.message.connect(self.show_message)
        from ui import navigation

        navigation.install(v)  # 下一未答/下一不符合, filter, search, 下一节 →, notes

        def back() -> None:
            self.close_visit()
            self.show_screen("inspections")

        v.closed.connect(back)
        v.open_inspection.connect(lambda nid: self.open_visit(nid))
        self.visit = v
        self.stack.addWidget(v)
        self.stack.setCurrentWidget(v)
        self.nav.blockSignals(True)
        self.nav.setCurrentRow(2)
        self.nav.blockSignals(False)
        if not v.insp.locked:
            self.store.set_meta(OPEN_KEY, inspection_id)
        if restore:
            v.restore_position()
        else:
            v.goto("start")
        self.visit_opened.emit(v)
        return v

    def close_visit(self, remember: bool = True) -> None:
        if self.visit is None:
            return
        self.visit.save_position()
        self.stack.removeWidget(self.visit)
        self.visit.deleteLater()
        self.visit = None
        if remember:
            self.store.set_meta(OPEN_KEY, "")

    def restore_last(self) -> Any:
        """After a crash or a normal quit mid-visit: reopen that visit where the inspector was."""
        iid = self.store.get_meta(OPEN_KEY)
        if not iid:
            return None
        try:
            insp = visits.get_inspection(self.store, iid)
        except InspectorError:
            return None
        if insp.locked:
            return None
        return self.open_visit(iid, restore=True)

    def closeEvent(self, e: Any) -> None:
        if self.visit is not None:
            self.visit.save_position()
        self.save_geometry()
        super().closeEvent(e)


class EnrolOffer(QFrame):
    """A quiet bar on top of the screens (never a modal dialog: offscreen starts and the
    self-test must not wait on anyone)."""

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.setObjectName("banner")
        lay = QHBoxLayout(self)
        lay.setContentsMargins(14, 8, 14, 8)
        self.text = QLabel("<b>本机尚未在总部登记。</b>登记后可下载任务、名录和检查表，并上传检查结果；"
                           "不登记也能离线检查，数据保存在本机。", self)
        self.text.setWordWrap(True)
        lay.addWidget(self.text, 1)
        self.enrol_btn = QPushButton("登记…", self)
        self.enrol_btn.setObjectName("primary")
        self.later_btn = QPushButton("以后再说", self)
        lay.addWidget(self.enrol_btn)
        lay.addWidget(self.later_btn)
