"""The person in charge reads the 笔录 on screen, page by page, before signing (inspector/visit_order.py).

Shows the rendered preview one page at a time (QtPdf); every page that has been on screen is
recorded in the store (``visit_order.page_shown``). 下一页 / PgDn, 上一页 / PgUp; 阅读完毕 is enabled
once every page has been shown.
"""
from __future__ import annotations

from typing import Any

from inspector import visit_order
from inspector.errors import InspectorError
from ui.qt import QDialog, QHBoxLayout, QLabel, QPushButton, QScrollArea, QSize, Qt, QVBoxLayout, QWidget, GREY


class RecordReader(QDialog):
    """One page of the preview at a time; each page shown is recorded."""

    def __init__(self, parent: QWidget, store: Any, inspection_id: str, reading: visit_order.Reading, pdf: bytes,
                 *, actor: str | None = None):
        super().__init__(parent)
        from ui.docs_page import pdf_document

        self.store, self.inspection_id, self.reading, self.actor = store, inspection_id, reading, actor
        self.setWindowTitle("笔录交被检查单位现场负责人阅读")
        self.resize(820, 760)
        self.qdoc = pdf_document(pdf, self)
        self.pages = self.qdoc.pageCount()
        self.shown = set(reading.shown)
        lay = QVBoxLayout(self)
        self.head = QLabel("", self)
        lay.addWidget(self.head)
        self.area = QScrollArea(self)
        self.area.setWidgetResizable(True)
        self.image = QLabel(self.area)
        self.image.setAlignment(Qt.AlignmentFlag.AlignHCenter | Qt.AlignmentFlag.AlignTop)
        self.area.setWidget(self.image)
        lay.addWidget(self.area, 1)
        bar = QHBoxLayout()
        self.prev_btn = QPushButton("← 上一页", self)
        self.next_btn = QPushButton("下一页 →", self)
        self.done_btn = QPushButton("阅读完毕", self)
        self.done_btn.setObjectName("primary")
        self.page = 0
        self.prev_btn.clicked.connect(lambda: self.show_page(self.page - 1))
        self.next_btn.clicked.connect(lambda: self.show_page(self.page + 1))
        self.done_btn.clicked.connect(self.accept)
        hint = QLabel("PgDn 下一页　PgUp 上一页", self)
        hint.setStyleSheet(f"color:{GREY}")
        for w in (self.prev_btn, self.next_btn, hint):
            bar.addWidget(w)
        bar.addStretch(1)
        bar.addWidget(self.done_btn)
        lay.addLayout(bar)
        for btn in (self.prev_btn, self.next_btn):
            btn.setAutoDefault(False)  # Enter never turns a page by accident
        self.show_page(1)
        self.next_btn.setFocus()

    def show_page(self, page: int) -> None:
        """Render page ``page`` (1-based) and record that it was shown."""
        if not 1 <= page <= self.pages:
            return
        self.page = page
        pts = self.qdoc.pagePointSize(page - 1)
        w = max(400, self.area.viewport().width() - 24)
        img = self.qdoc.render(page - 1, QSize(w, int(w * pts.height() / max(1.0, pts.width()))))
        from ui.qt import QPixmap

        self.image.setPixmap(QPixmap.fromImage(img))
        try:
            visit_order.page_shown(self.store, self.reading.id, page, actor=self.actor)
            self.shown.add(page)
        except InspectorError as e:
            self.head.setText(f"<span style='color:#c0392b'>{e}</span>")
            return
        self._update()

    def keyPressEvent(self, e: Any) -> None:
        step = {Qt.Key.Key_PageDown: 1, Qt.Key.Key_PageUp: -1}.get(e.key())
        if step:
            self.show_page(self.page + step)
            return
        super().keyPressEvent(e)

    def complete(self) -> bool:
        return self.shown >= set(range(1, self.pages + 1))

    def _update(self) -> None:
        self.head.setText(f"第 {self.page} / {self.pages} 页　已阅 {len(self.shown)}/{self.pages} 页"
                          + ("　全部页面已阅读" if self.complete() else "　请逐页阅读后再签名"))
        self.prev_btn.setEnabled(self.page > 1)
        self.next_btn.setEnabled(self.page < self.pages)
        self.done_btn.setEnabled(self.complete())
        if self.complete():
            self.done_btn.setDefault(True)
