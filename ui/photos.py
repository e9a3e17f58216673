"""Photos per checklist item: add by file dialog, drag and drop or camera; thumbnails, captions,
enlarge. Import (hashing, EXIF, thumbnails) runs in the background through ``ui.operations``
with a progress bar; the rows are recorded on the GUI thread as one undoable command.
"""
from __future__ import annotations

import functools
import logging
import sqlite3
import tempfile
from pathlib import Path
from typing import Any

from inspector import blobs
from inspector.errors import InspectorError
from ui import commands, core
from ui.operations import Operation
from ui.qt import (
    QDialog, QDialogButtonBox, QEvent, QFileDialog, QHBoxLayout, QIcon, QLabel, QLineEdit, QListView, QListWidget,
    QListWidgetItem, QMessageBox, QObject, QPixmap, QProgressBar, QPushButton, QSize, Qt, QToolButton, QVBoxLayout, QWidget,
    Signal,
)

logger = logging.getLogger(__name__)

PHOTO_DIR_KEY = "ui.photo_dir"   # the folder photos were last added from, per data folder
PHOTO_FILTER = "照片 (*.jpg *.jpeg *.png *.heic *.heif *.webp *.tif *.tiff)"
SUFFIXES = {".jpg", ".jpeg", ".png", ".heic", ".heif", ".webp", ".tif", ".tiff"}


@functools.lru_cache(maxsize=1)
def camera_available() -> bool:
    """A camera is offered only where QtMultimedia finds one (never on offscreen/Xvfb)."""
    import os

    if os.environ.get("QT_QPA_PLATFORM") in ("offscreen", "minimal"):
        return False
    try:
        from PySide6.QtMultimedia import QMediaDevices

        return bool(QMediaDevices.videoInputs())
    except Exception:  # noqa: BLE001 - no multimedia backend (offscreen, headless): no camera
        return False


class PrintCopies(QObject):
    """Downscaled print copies of a visit's photos, made in the background after each import, so
    drafting the 笔录 later does not stop to shrink 40 photos. One job at a time per visit; an
    import that lands while a job runs asks for one more round."""

    prepared = Signal(int)   # copies made by the round that just finished
    failed = Signal(str)

    def __init__(self, store: Any, inspection_id: str, parent: QObject | None = None):
        super().__init__(parent)
        self.path, self.inspection_id = store.path, inspection_id
        self.op: Operation | None = None
        self._again = False

    def schedule(self) -> None:
        if self.op is not None:
            self._again = True
            return
        docs = core.documents_mod()
        path, iid = self.path, self.inspection_id

        def work(_progress: Any) -> int:
            from inspector.store import Store

            s = Store(path)  # the worker's own connection
            try:
                return int(docs.prepare_print_copies(s, iid) or 0)
            finally:
                s.close()

        # no Qt parent: the job outlives a visit closed meanwhile (operations keeps it alive);
        # bound slots of a deleted PrintCopies are disconnected by Qt
        self.op = Operation(work)
        self.op.succeeded.connect(self._done)
        self.op.failed.connect(self._failed)
        self.op.start()

    def _failed(self, e: Any) -> None:
        self._done(None, str(e))

    def _done(self, made: int | None, error: str = "") -> None:
        self.op = None
        if error:
            self.failed.emit(error)  # documents make the copies themselves later; nothing is lost
        else:
            self.prepared.emit(made or 0)
        if self._again:
            self._again = False
            self.schedule()


def print_copies_for(visit: Any) -> PrintCopies:
    pc = getattr(visit, "print_copies", None)
    if pc is None:
        pc = visit.print_copies = PrintCopies(visit.store, visit.inspection_id, visit)
    return pc


class PhotoStrip(QWidget):
    """Thumbnails of one item's photos and the buttons to add more."""

    imported = Signal(int)   # number of photos recorded by the last import

    def __init__(self, visit: Any, cv_id: str, item_id: str, row: QWidget):
        super().__init__(row)
        self.visit, self.cv_id, self.item_id, self.row = visit, cv_id, item_id, row
        lay = QHBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        lay.setSpacing(4)
        self.list = QListWidget(self)
        self.list.setViewMode(QListView.ViewMode.IconMode)
        self.list.setFlow(QListView.Flow.LeftToRight)
        self.list.setWrapping(False)
        self.list.setIconSize(QSize(56, 42))
        self.list.setFixedHeight(58)
        self.list.setMaximumWidth(260)
        self.list.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.list.itemDoubleClicked.connect(self._enlarge)
        lay.addWidget(self.list)
        self.bar = QProgressBar(self)
        self.bar.setFixedWidth(110)
        self.bar.hide()
        lay.addWidget(self.bar)
        self.add_btn = QToolButton(self)
        self.add_btn.setText("＋照片")
        self.add_btn.setToolTip("添加照片（Alt+P；也可把照片文件拖到本项上）")
        self.add_btn.setAutoRaise(False)
        self.set_wanted(False)
        self.add_btn.clicked.connect(self.choose_files)
        lay.addWidget(self.add_btn)
        self.cam_btn: QToolButton | None = None
        if camera_available():
            self.cam_btn = QToolButton(self)
            self.cam_btn.setText("拍照")
            self.cam_btn.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
            self.cam_btn.clicked.connect(self.take_photo)
            lay.addWidget(self.cam_btn)
        row.setAcceptDrops(True)
        row.installEventFilter(self)
        self.op: Operation | None = None
        row.photo_strip = self  # type: ignore[attr-defined]  # the row asks for the photo when it needs one
        self._place_in_tab_chain(row)
        self.reload()
        if hasattr(row, "evaluate"):
            row.evaluate(row.value())  # type: ignore[attr-defined]  # an item row (ui/items.py)

    # -- data ------------------------------------------------------------------------
    def photos(self) -> list[dict[str, Any]]:
        return core.photos_mod().list_photos(self.visit.store, self.visit.inspection_id, self.item_id)

    def reload(self) -> None:
        self.list.clear()
        bs = blobs.store(self.visit.store.home)
        rows = self.photos()
        for p in rows:
            it = QListWidgetItem()
            sha = p.get("thumb_sha256") or p.get("display_sha256")
            pix = QPixmap(str(bs.path(sha))) if sha else QPixmap()
            it.setIcon(QIcon(pix))
            it.setToolTip(f"{p.get('caption') or p.get('original_name') or ''}\n{p.get('taken_at') or ''}"
                          f"\n{p.get('place') or ''}\n双击放大")
            it.setData(Qt.ItemDataRole.UserRole, p["id"])
            self.list.addItem(it)
        self.list.setVisible(bool(rows))
        self.add_btn.setText(f"＋照片（{len(rows)}）" if rows else "＋照片")
        if hasattr(self.row, "set_photo_count"):
            self.row.set_photo_count(len(rows))  # clears 须附照片证据 once one is attached

    def _place_in_tab_chain(self, row: QWidget) -> None:
        """Right after the item's own editor (and its 不适用), not after the whole page: the
        strip is created once the page's rows exist, which would put it last in the chain."""
        box = getattr(row, "na_btn", None) or getattr(row, "editor", None)
        if box is None:
            return
        last: QWidget = box
        w = box.nextInFocusChain()
        while w is not None and w is not box and box.isAncestorOf(w):
            if w.focusPolicy() != Qt.FocusPolicy.NoFocus:  # Qt ignores setTabOrder from a NoFocus widget
                last = w
            w = w.nextInFocusChain()
        QWidget.setTabOrder(last, self.add_btn)
        if self.cam_btn is not None:
            QWidget.setTabOrder(self.add_btn, self.cam_btn)

    def set_wanted(self, wanted: bool) -> None:
        """＋照片 joins the Tab chain while the item needs a photo (failed, 须附照片证据), so Tab
        from 不符合 lands on it; otherwise Tab goes item to item and Alt+P adds a photo. It always
        takes focus when clicked or given it (never NoFocus)."""
        self.add_btn.setFocusPolicy(Qt.FocusPolicy.StrongFocus if wanted else Qt.FocusPolicy.ClickFocus)

    def set_locked(self, locked: bool) -> None:
        self.add_btn.setEnabled(not locked)
        if self.cam_btn:
            self.cam_btn.setEnabled(not locked)

    # -- adding ------------------------------------------------------------------------
    def choose_files(self) -> None:
        """The platform's dialog, or Qt's own where there is none (no desktop portal, Xvfb), then
        in Chinese from qtbase_zh_CN; modal, several files at once."""
        if self._busy():
            return
        paths, _ = QFileDialog.getOpenFileNames(self, "添加照片", self.start_folder(), PHOTO_FILTER)
        # without a window manager (Xvfb, offscreen) nothing hands the keyboard back to the visit
        self.window().activateWindow()
        if paths:
            try:
                self.visit.store.set_meta(PHOTO_DIR_KEY, str(Path(paths[0]).parent))
            except (InspectorError, sqlite3.Error) as e:  # a forgotten folder must not stop the import
                logger.info("photo folder not remembered: %s", e)
            self.import_files(paths)

    def start_folder(self) -> str:
        """Where the last photos came from, else Pictures, else home — not the working directory,
        which for the installed app is its program folder."""
        from PySide6.QtCore import QStandardPaths  # only here; not among ui.qt's names

        last = self.visit.store.get_meta(PHOTO_DIR_KEY)
        if last and Path(last).is_dir():
            return last
        pics = QStandardPaths.writableLocation(QStandardPaths.StandardLocation.PicturesLocation)
        return pics if pics and Path(pics).is_dir() else str(Path.home())

    def eventFilter(self, obj: Any, e: Any) -> bool:
        t = e.type()
        if t in (QEvent.Type.DragEnter, QEvent.Type.DragMove):
            if e.mimeData().hasUrls():
                e.acceptProposedAction()
                return True
        elif t == QEvent.Type.Drop and e.mimeData().hasUrls():
            paths = [u.toLocalFile() for u in e.mimeData().urls()
                     if u.isLocalFile() and Path(u.toLocalFile()).suffix.lower() in SUFFIXES]
            if paths:
                self.import_files(paths)
            e.acceptProposedAction()
            return True
        return False

    def _busy(self) -> bool:
        """One import at a time. ＋照片 stays enabled meanwhile: disabling it would move the
        keyboard focus, and the next keys typed, on to the next item."""
        if self.op is not None:
            self.visit.refuse("上一批照片仍在导入，请稍候。")
        return self.op is not None

    def import_files(self, paths: list[str]) -> Operation | None:
        """Hash, read EXIF and make thumbnails off the GUI thread; record rows when done."""
        v = self.visit
        if v.insp.locked:
            v.refuse("检查已完成并锁定，不能添加照片。")
            return None
        if self._busy():
            return None
        ev = core.evidence_mod()
        home = v.store.home
        self.bar.setRange(0, len(paths))
        self.bar.setValue(0)
        self.bar.setFormat("%v/%m")
        self.bar.show()
        self.op = Operation(lambda progress: ev.import_photos(home, paths, workers=1, progress=progress), self)
        self.op.progressed.connect(self._progress)
        self.op.succeeded.connect(self._imported)
        self.op.failed.connect(self._failed)
        self.op.start()
        return self.op

    def _progress(self, done: int, total: int, nbytes: int) -> None:
        self.bar.setMaximum(max(total, 1))
        self.bar.setValue(done)
        self.bar.setFormat(f"%v/%m　{nbytes / 1e6:.1f} MB")

    def _failed(self, e: Any) -> None:
        self.bar.hide()
        self.op = None
        self.report_errors([f"照片导入失败：{e}"])

    def report_errors(self, lines: list[str]) -> None:
        """Refused photos: a box that stays until the inspector closes it (the status bar's 8 s
        are too short to read why a photo was refused), plus the visit's refusal record."""
        text = "\n".join(lines)
        self.visit.refuse(text)
        self.error_box = QMessageBox(QMessageBox.Icon.Warning, "照片未导入", text, QMessageBox.StandardButton.Ok,
                                     self.window())
        self.error_box.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        self.error_box.setWindowModality(Qt.WindowModality.WindowModal)
        self.error_box.open()  # not exec(): the import's callback must not nest an event loop

    def _imported(self, results: list[Any]) -> None:
        self.bar.hide()
        self.op = None
        ok = [r for r in results if r.ok]
        bad = [r for r in results if not r.ok and r.status != "cancelled"]
        if bad:
            self.report_errors([_short_error(r) for r in bad])
        if not ok:
            self.imported.emit(0)
            return
        v, pm = self.visit, core.photos_mod()
        added: list[str] = []

        def do() -> None:
            added.clear()
            for r in ok:
                row = pm.add_photo(v.store, v.inspection_id, r, self.item_id, actor=v.actor)
                if row.get("created", True):
                    added.append(row["id"])
            self.reload()

        def undo() -> None:
            for pid in added:
                pm.remove_photo(v.store, pid, actor=v.actor)
            self.reload()

        v.push(commands.PhotoCommand(f"添加 {len(ok)} 张照片", do, undo))
        self.imported.emit(len(added))
        if added:
            print_copies_for(v).schedule()

    def take_photo(self) -> None:
        dlg = CameraDialog(self)
        if dlg.exec() and dlg.path:
            self.import_files([dlg.path])

    # -- one photo ------------------------------------------------------------------------
    def _enlarge(self, it: QListWidgetItem) -> None:
        pid = it.data(Qt.ItemDataRole.UserRole)
        p = next((x for x in self.photos() if x["id"] == pid), None)
        if p:
            PhotoDialog(self, p).exec()

    def set_caption(self, photo: dict[str, Any], caption: str) -> None:
        v, pm = self.visit, core.photos_mod()
        old = photo.get("caption")

        def do() -> None:
            pm.set_caption(v.store, photo["id"], caption, actor=v.actor)
            self.reload()

        def undo() -> None:
            pm.set_caption(v.store, photo["id"], old, actor=v.actor)
            self.reload()

        v.push(commands.PhotoCommand("修改照片说明", do, undo))

    def remove(self, photo: dict[str, Any]) -> None:
        v, pm = self.visit, core.photos_mod()
        state = {"id": photo["id"]}

        def do() -> None:
            pm.remove_photo(v.store, state["id"], actor=v.actor)
            self.reload()

        def undo() -> None:
            row = pm.add_photo(v.store, v.inspection_id, photo, self.item_id, caption=photo.get("caption"),
                               actor=v.actor)
            state["id"] = row["id"]
            self.reload()

        v.push(commands.PhotoCommand("删除照片", do, undo))


def _short_error(r: Any) -> str:
    """“IMG_1.jpg：原因” — the error names the full path first; the inspector needs the name."""
    name = Path(r.path).name
    msg = str(r.error or "")
    for prefix in (f"{r.path}: ", f"{r.path}："):
        if msg.startswith(prefix):
            msg = msg[len(prefix):]
    return f"{name}：{msg}"


class PhotoDialog(QDialog):
    """The photo, large, with its caption, time and place; 删除 removes it (undoable)."""

    def __init__(self, strip: PhotoStrip, photo: dict[str, Any]):
        super().__init__(strip)
        self.setWindowTitle("照片")
        self.resize(900, 680)
        lay = QVBoxLayout(self)
        bs = blobs.store(strip.visit.store.home)
        sha = str(photo.get("display_sha256") or photo.get("sha256"))
        pix = QPixmap(str(bs.path(sha)))
        img = QLabel(self)
        img.setAlignment(Qt.AlignmentFlag.AlignCenter)
        img.setPixmap(pix.scaled(860, 560, Qt.AspectRatioMode.KeepAspectRatio,
                                 Qt.TransformationMode.SmoothTransformation))
        lay.addWidget(img, 1)
        lay.addWidget(QLabel(f"拍摄时间：{photo.get('taken_at') or '未知'}　位置：{photo.get('place') or '未知'}"
                             f"　文件：{photo.get('original_name') or ''}", self))
        self.caption = QLineEdit(photo.get("caption") or "", self)
        self.caption.setPlaceholderText("照片说明（写入笔录的证据清单）")
        lay.addWidget(self.caption)
        box = QDialogButtonBox(QDialogButtonBox.StandardButton.Save | QDialogButtonBox.StandardButton.Close, self)
        rm = box.addButton("删除照片", QDialogButtonBox.ButtonRole.DestructiveRole)
        locked = strip.visit.insp.locked
        self.caption.setEnabled(not locked)
        box.button(QDialogButtonBox.StandardButton.Save).setEnabled(not locked)
        rm.setEnabled(not locked)
        def save() -> None:
            strip.set_caption(photo, self.caption.text())
            self.accept()

        def remove() -> None:
            strip.remove(photo)
            self.accept()

        box.accepted.connect(save)
        box.rejected.connect(self.reject)
        rm.clicked.connect(remove)
        lay.addWidget(box)


class CameraDialog(QDialog):
    """Take one picture with the laptop camera (QtMultimedia), saved to a temp file."""

    def __init__(self, parent: QWidget):
        super().__init__(parent)
        from PySide6.QtMultimedia import QCamera, QImageCapture, QMediaCaptureSession
        from PySide6.QtMultimediaWidgets import QVideoWidget

        self.setWindowTitle("拍照")
        self.path: str | None = None
        lay = QVBoxLayout(self)
        self.video = QVideoWidget(self)
        self.video.setMinimumSize(640, 480)
        lay.addWidget(self.video)
        self.camera = QCamera(self)
        self.capture = QImageCapture(self)
        self.session = QMediaCaptureSession(self)
        self.session.setCamera(self.camera)
        self.session.setImageCapture(self.capture)
        self.session.setVideoOutput(self.video)
        self.capture.imageSaved.connect(self._saved)
        self.capture.errorOccurred.connect(lambda *_a: self.reject())
        btn = QPushButton("拍照", self)
        btn.clicked.connect(self._shoot)
        lay.addWidget(btn)
        self.camera.start()

    def _shoot(self) -> None:
        out = Path(tempfile.mkdtemp(prefix="inspector-cam-")) / "camera.jpg"
        self.capture.captureToFile(str(out))

    def _saved(self, _id: int, path: str) -> None:
        self.path = path
        self.camera.stop()
        self.accept()
