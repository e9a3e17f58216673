"""文书: make the record / notice / receipt, preview them (QtPdf), sign digitally, print through
the system dialog, save as PDF, and finish (lock) the inspection.

Printing renders each PDF page at printer resolution and lays the page's text under it
invisibly, so a printed-to-PDF copy stays searchable (like an OCR layer).
"""
from __future__ import annotations

from typing import Any

from inspector.errors import InspectorError
from ui.qt import (
    QBuffer, QByteArray, QColor, QComboBox, QFileDialog, QFont, QHBoxLayout, QIODevice, QLabel, QLineEdit,
    QPainter, QPushButton, QRectF, QSize, Qt, QVBoxLayout, QWidget, Signal, GREY, RED, font_family,
)

KINDS = (("record", "现场检查笔录"), ("notice", "责令限期整改通知书"))


def pdf_document(pdf: bytes, parent: Any = None) -> Any:
    """A QPdfDocument over bytes (keeps its buffer alive)."""
    from PySide6.QtPdf import QPdfDocument

    doc = QPdfDocument(parent)
    buf = QBuffer(parent)
    buf.setData(QByteArray(pdf))
    buf.open(QIODevice.OpenModeFlag.ReadOnly)
    doc.load(buf)
    doc._buf = buf  # type: ignore[attr-defined]
    return doc


MAX_PRINT_DPI = 600


def print_pdf(pdf: bytes, printer: Any) -> int:
    """Paint every page of ``pdf`` onto ``printer``; returns the number of pages printed."""
    from PySide6.QtPdf import QPdfDocument

    doc = pdf_document(pdf)
    if doc.status() != QPdfDocument.Status.Ready:
        raise InspectorError("文书无法打开，不能打印")
    painter = QPainter()
    if not painter.begin(printer):
        raise InspectorError("打印机不可用")
    try:
        n = doc.pageCount()
        for i in range(n):
            if i:
                printer.newPage()
            target = printer.pageLayout().paintRectPixels(printer.resolution())
            pts = doc.pagePointSize(i)
            scale = min(target.width() / pts.width(), target.height() / pts.height())
            size = QSize(int(pts.width() * scale), int(pts.height() * scale))
            # rendered at most at MAX_PRINT_DPI and scaled onto the page: a 1200-dpi printer would
            # otherwise cost ~6 s and ~5 MB per page for no visible gain on a laser printer
            k = min(1.0, MAX_PRINT_DPI / max(1, printer.resolution()))
            img = doc.render(i, QSize(max(1, int(size.width() * k)), max(1, int(size.height() * k))))
            # searchable text layer first (invisible), then the page image on top
            painter.save()
            painter.setPen(QColor(0, 0, 0, 0))
            f = QFont(font_family() or "")
            f.setPixelSize(max(8, int(10 * scale / 2)))
            painter.setFont(f)
            text = doc.getAllText(i).text()
            painter.drawText(QRectF(0, 0, size.width(), size.height()), Qt.TextFlag.TextWordWrap, text)
            painter.restore()
            painter.drawImage(QRectF(0, 0, size.width(), size.height()), img)
        return n
    finally:
        painter.end()


class DocsPage(QWidget):
    printed = Signal(str)          # document id
    preview_ready = Signal(str)    # kind

    def __init__(self, visit: Any):
        super().__init__(visit)
        self.visit = visit
        self.locked = False
        lay = QVBoxLayout(self)
        lay.setContentsMargins(12, 8, 12, 8)
        t = QLabel("文书、打印与完成", self)
        t.setObjectName("title")
        lay.addWidget(t)
        bar = QHBoxLayout()
        self.kind = QComboBox(self)
        for k, label in KINDS:
            self.kind.addItem(label, k)
        self.make_btn = QPushButton("生成预览", self)
        self.make_btn.setObjectName("primary")
        self.make_btn.clicked.connect(self.make)
        self.sign_btn = QPushButton("数字签名…", self)
        self.sign_btn.clicked.connect(self.sign_digitally)
        self.print_btn = QPushButton("打印…", self)
        self.print_btn.clicked.connect(self.print_dialog)
        self.save_btn = QPushButton("另存为 PDF…", self)
        self.save_btn.clicked.connect(self.save_as)
        self.finish_btn = QPushButton("完成检查并锁定", self)
        # a finished visit must not look finishable: the disabled state is grey, not the same red
        self.finish_btn.setStyleSheet(f"QPushButton {{ background:{RED}; color:white; padding:6px 12px;"
                                      f" border-radius:3px; }} QPushButton:disabled {{ background:#d9d9d9;"
                                      f" color:{GREY}; }}")
        self.finish_btn.clicked.connect(self.finish)
        for w in (self.kind, self.make_btn, self.sign_btn, self.print_btn, self.save_btn):
            bar.addWidget(w)
        bar.addStretch(1)
        lay.addLayout(bar)
        # on a line of its own, right: the page fits 1366×768 at 150 % and the finish stays in view
        fin = QHBoxLayout()
        fin.addStretch(1)
        fin.addWidget(self.finish_btn)
        lay.addLayout(fin)
        self.state = QLabel("步骤：在“签名”页生成笔录预览，交被检查单位现场负责人逐页阅读 → 负责人签名（或拒签，"
                            "写明原因并由见证人签名）→ 检查人员签名 → 完成检查并锁定 → 检查人员逐一数字签名 → 打印送达。"
                            "签名后笔录如有修改，签名作废，须重新阅读并签名。", self)
        self.state.setWordWrap(True)
        self.state.setStyleSheet(f"color:{GREY}")
        lay.addWidget(self.state)
        self._lay = lay
        self._view: Any = None  # QPdfView, made when first needed (keeps visit opening fast)
        self.doc: dict[str, Any] | None = None
        self.pdf: bytes | None = None
        self._qdoc: Any = None
        self._update_buttons()

    @property
    def view(self) -> Any:
        if self._view is None:
            from PySide6.QtPdfWidgets import QPdfView

            self._view = QPdfView(self)
            self._view.setPageMode(QPdfView.PageMode.MultiPage)
            self._view.setZoomMode(QPdfView.ZoomMode.FitToWidth)
            self._lay.addWidget(self._view, 1)
        return self._view

    def _update_buttons(self) -> None:
        has = self.pdf is not None
        for b in (self.print_btn, self.save_btn):
            b.setEnabled(has)
        # PAdES signatures go on the final text: only once the inspection is finished (locked)
        self.sign_btn.setEnabled(has and self.locked)
        self.sign_btn.setToolTip("完成检查并锁定后，两名检查人员依次用本人签名口令数字签名")
        self.make_btn.setEnabled(True)  # a finished visit's documents are still made (notice, receipt)
        self.finish_btn.setEnabled(not self.locked)
        self.finish_btn.setText("已完成并锁定" if self.locked else "完成检查并锁定")

    def focus_first(self) -> None:
        """The keyboard starts on 完成检查并锁定 while the visit is open, else on 生成预览."""
        (self.finish_btn if self.finish_btn.isEnabled() else self.make_btn).setFocus(Qt.FocusReason.OtherFocusReason)

    def shown(self) -> None:
        self.view  # noqa: B018 - create the viewer on first visit of the page
        self._load_existing()

    def _load_existing(self) -> None:
        from inspector.store import documents as docs

        kind = self.kind.currentData()
        existing = docs.list_documents(self.visit.store, self.visit.inspection_id, kind)
        if existing:
            self.show_document(existing[-1])

    def make(self, _retry: bool = False) -> None:
        """Number and render the chosen document (a draft can be re-made until it is signed)."""
        from inspector import pii
        from inspector.store import documents as docs
        from ui.qt import ask_unlock

        kind = self.kind.currentData()
        v = self.visit
        existing = docs.list_documents(v.store, v.inspection_id, kind)
        try:
            if v.insp.locked and existing and (existing[-1]["status"] == "signed" or kind != "record"):
                doc = existing[-1]  # digitally signed: never rendered again
            elif v.insp.locked and kind == "record" and existing:
                # the finished record: the same number, rendered with the end time and signature dates
                doc = docs.make_document(v.store, v.inspection_id, kind, actor=v.actor)
            elif kind == "record":
                from inspector import visit_order

                v.sync()  # the answers just typed are in the record
                # signatures given for other content are withdrawn (the rule in visit_order)
                doc, _reading = visit_order.make_preview(v.store, v.inspection_id, actor=v.actor)
            else:
                doc = docs.make_document(v.store, v.inspection_id, kind, actor=v.actor)
        except pii.Locked:
            # a new process on a laptop without an OS key store: the device key (QR signature) is sealed
            if not _retry and ask_unlock(self, v.store.home, "文书上的核验码须用本机密钥签名",
                                         lambda m: self.state.setText(f"<span style='color:{RED}'>{m}</span>")):
                self.make(_retry=True)
            else:
                self.state.setText(f"<span style='color:{RED}'>本机密钥未解锁，文书未生成。</span>")
                v.refuse("本机密钥未解锁，文书未生成")
            return
        except InspectorError as e:
            self.state.setText(f"<span style='color:{RED}'>{e}</span>")
            v.refuse(str(e))
            return
        self.show_document(doc)
        self.preview_ready.emit(kind)

    def _status(self, doc: dict[str, Any]) -> str:
        """What the document is: a finished visit's record is final text awaiting the inspectors'
        digital signatures, not a draft one can still change."""
        if doc["status"] == "signed":
            return "已签署"
        return "已定稿，待数字签名" if self.locked else "草稿（检查未完成，内容仍可修改）"

    def show_document(self, doc: dict[str, Any]) -> None:
        from inspector.store import documents as docs

        self.doc = doc
        self.pdf = docs.pdf_bytes(self.visit.store, doc["id"])
        self._qdoc = pdf_document(self.pdf, self)
        self.view.setDocument(self._qdoc)
        signers = "、".join(s.get("name") or s.get("badge_no") for s in doc.get("signers") or []) or "尚无"
        self.state.setText(f"{docs.KIND_TITLES[doc['kind']]} {doc['number']}　共 {self._qdoc.pageCount()} 页"
                           f"　数字签名：{signers}　状态：{self._status(doc)}")
        self._update_buttons()

    def sign_digitally(self) -> None:
        """Each inspector signs with their own key and passphrase (asked here, never stored)."""
        from PySide6.QtWidgets import QInputDialog

        from inspector.store import documents as docs

        if not self.doc:
            return
        badge, ok = QInputDialog.getText(self, "数字签名", "执法证号：")
        if not ok or not badge.strip():
            return
        pw, ok = QInputDialog.getText(self, "数字签名", "签名口令：", QLineEdit.EchoMode.Password)
        if not ok:
            return
        try:
            doc = docs.sign_document(self.visit.store, self.doc["id"], badge.strip(), pw, actor=self.visit.actor)
        except InspectorError as e:
            self.state.setText(f"<span style='color:{RED}'>数字签名失败：{e}</span>")
            self.visit.refuse(f"数字签名失败：{e}")
            return
        self.show_document(doc)

    def print_to(self, printer: Any) -> int:
        from inspector.store import documents as docs

        if self.pdf is None or self.doc is None:
            raise InspectorError("请先生成文书")
        n = print_pdf(self.pdf, printer)
        docs.mark_printed(self.visit.store, self.doc["id"], actor=self.visit.actor)
        self.printed.emit(self.doc["id"])
        return n

    def print_dialog(self) -> None:
        from PySide6.QtPrintSupport import QPrintDialog, QPrinter

        printer = QPrinter(QPrinter.PrinterMode.HighResolution)
        dlg = QPrintDialog(printer, self)
        dlg.setWindowTitle("打印文书")
        if dlg.exec():
            try:
                self.print_to(printer)
            except InspectorError as e:
                self.state.setText(f"<span style='color:{RED}'>打印失败：{e}</span>")

    def save_as(self) -> None:
        if self.pdf is None or self.doc is None:
            return
        path, _ = QFileDialog.getSaveFileName(self, "另存为 PDF", f"{self.doc['number']}.pdf", "PDF (*.pdf)")
        if path:
            with open(path, "wb") as f:
                f.write(self.pdf)

    def finish(self) -> None:
        self.visit.request_finish()  # the finish check first (problem list), then the Yes/No

    def set_locked(self, locked: bool) -> None:
        was, self.locked = self.locked, locked
        self._update_buttons()
        if locked and not was and self.isVisible():
            self.make()  # just finished here: the finished 笔录 (end time, signature dates) replaces the preview
            self.focus_first()
