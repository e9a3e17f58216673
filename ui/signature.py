"""A signature pad: mouse, pen (QTabletEvent, with pressure) and touch (QTouchEvent).

Keeps the strokes as lists of (x, y, pressure) in pad coordinates, so the PDF can redraw
them (``strokes()``) and the PNG is rendered from them (``png_bytes()``); 清除 and 撤销一笔
let the signer redo it.
"""
from __future__ import annotations

from typing import Any

from ui.qt import (
    QBuffer, QByteArray, QColor, QEvent, QHBoxLayout, QImage, QIODevice, QLabel, QPainter, QPen,
    QPointF, QPushButton, Qt, QVBoxLayout, QWidget, Signal,
)

Stroke = list[tuple[float, float, float]]


class SignaturePad(QWidget):
    """The drawing surface."""

    changed = Signal()

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.setMinimumSize(360, 130)
        self.setAttribute(Qt.WidgetAttribute.WA_AcceptTouchEvents, True)
        self.setAttribute(Qt.WidgetAttribute.WA_StaticContents, True)
        self.setCursor(Qt.CursorShape.CrossCursor)
        self._strokes: list[Stroke] = []
        self._redo: list[Stroke] = []
        self._current: Stroke | None = None
        self.locked = False

    # -- data -------------------------------------------------------------------
    def strokes(self) -> list[Stroke]:
        return [list(s) for s in self._strokes]

    def set_strokes(self, strokes: list[Any]) -> None:
        self._strokes = [[(float(p[0]), float(p[1]), float(p[2]) if len(p) > 2 else 0.5) for p in s]
                         for s in strokes]
        self._redo = []
        self.update()
        self.changed.emit()

    def is_empty(self) -> bool:
        return not any(len(s) > 1 for s in self._strokes)

    def clear(self) -> None:
        self._strokes, self._redo, self._current = [], [], None
        self.update()
        self.changed.emit()

    def undo_stroke(self) -> None:
        if self._strokes:
            self._redo.append(self._strokes.pop())
            self.update()
            self.changed.emit()

    def redo_stroke(self) -> None:
        if self._redo:
            self._strokes.append(self._redo.pop())
            self.update()
            self.changed.emit()

    def render_image(self, width: int = 480, height: int = 180) -> QImage:
        """Ink on a transparent background, scaled to fit ``width``×``height``."""
        img = QImage(width, height, QImage.Format.Format_ARGB32)
        img.fill(Qt.GlobalColor.transparent)
        p = QPainter(img)
        p.setRenderHint(QPainter.RenderHint.Antialiasing)
        sx, sy = width / max(1, self.width()), height / max(1, self.height())
        s = min(sx, sy)
        p.scale(s, s)
        self._paint_strokes(p)
        p.end()
        return img

    def png_bytes(self, width: int = 480, height: int = 180) -> bytes:
        ba = QByteArray()
        buf = QBuffer(ba)
        buf.open(QIODevice.OpenModeFlag.WriteOnly)
        self.render_image(width, height).save(buf, "PNG")  # type: ignore[call-overload]
        buf.close()
        return bytes(ba.data())

    # -- painting -----------------------------------------------------------------
    def _paint_strokes(self, p: QPainter) -> None:
        for s in self._strokes + ([self._current] if self._current else []):
            if not s:
                continue
            if len(s) == 1:
                p.setPen(QPen(QColor("#10243e"), 3, Qt.PenStyle.SolidLine, Qt.PenCapStyle.RoundCap))
                p.drawPoint(QPointF(s[0][0], s[0][1]))
                continue
            for a, b in zip(s, s[1:]):
                w = 1.6 + 2.4 * max(0.0, min(1.0, b[2]))
                p.setPen(QPen(QColor("#10243e"), w, Qt.PenStyle.SolidLine, Qt.PenCapStyle.RoundCap,
                              Qt.PenJoinStyle.RoundJoin))
                p.drawLine(QPointF(a[0], a[1]), QPointF(b[0], b[1]))

    def paintEvent(self, e: Any) -> None:
        p = QPainter(self)
        p.fillRect(self.rect(), QColor("#ffffff" if not self.locked else "#f1f3f5"))
        p.setPen(QPen(QColor("#c5cbd3"), 1, Qt.PenStyle.DashLine))
        y = self.height() - 28
        p.drawLine(16, y, self.width() - 16, y)
        p.setPen(QColor("#9aa1aa"))
        p.drawText(18, y + 18, "请在横线上方签名" if not self.locked else "已锁定")
        p.setRenderHint(QPainter.RenderHint.Antialiasing)
        self._paint_strokes(p)
        p.setPen(QPen(QColor("#c5cbd3"), 1))
        p.drawRect(self.rect().adjusted(0, 0, -1, -1))
        p.end()

    # -- input: mouse, pen, touch -------------------------------------------------
    def _begin(self, x: float, y: float, pressure: float) -> None:
        if self.locked:
            return
        self._current = [(x, y, pressure)]
        self._redo = []

    def _extend(self, x: float, y: float, pressure: float) -> None:
        if self._current is not None:
            self._current.append((x, y, pressure))
            self.update()

    def _end(self) -> None:
        if self._current is not None:
            self._strokes.append(self._current)
            self._current = None
            self.update()
            self.changed.emit()

    def mousePressEvent(self, e: Any) -> None:
        if e.button() == Qt.MouseButton.LeftButton:
            pos = e.position()
            self._begin(pos.x(), pos.y(), 0.5)

    def mouseMoveEvent(self, e: Any) -> None:
        if e.buttons() & Qt.MouseButton.LeftButton:
            pos = e.position()
            self._extend(pos.x(), pos.y(), 0.5)

    def mouseReleaseEvent(self, e: Any) -> None:
        if e.button() == Qt.MouseButton.LeftButton:
            self._end()

    def tabletEvent(self, e: Any) -> None:
        pos, pr = e.position(), float(e.pressure())
        t = e.type()
        if t == QEvent.Type.TabletPress:
            self._begin(pos.x(), pos.y(), pr)
        elif t == QEvent.Type.TabletMove:
            self._extend(pos.x(), pos.y(), pr)
        elif t == QEvent.Type.TabletRelease:
            self._end()
        e.accept()

    def event(self, e: Any) -> bool:
        t = e.type()
        if t in (QEvent.Type.TouchBegin, QEvent.Type.TouchUpdate, QEvent.Type.TouchEnd):
            pts = e.points()
            if pts:
                pos = pts[0].position()
                if t == QEvent.Type.TouchBegin:
                    self._begin(pos.x(), pos.y(), 0.5)
                elif t == QEvent.Type.TouchUpdate:
                    self._extend(pos.x(), pos.y(), 0.5)
                else:
                    self._end()
            e.accept()
            return True
        return super().event(e)


class SignatureBox(QWidget):
    """A titled pad with 清除 / 撤销一笔 / 恢复 buttons."""

    changed = Signal()

    def __init__(self, title: str, parent: QWidget | None = None):
        super().__init__(parent)
        lay = QVBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        head = QHBoxLayout()
        self.title = QLabel(f"<b>{title}</b>", self)
        head.addWidget(self.title)
        head.addStretch(1)
        self.state = QLabel("未签", self)
        self.state.setStyleSheet("color:#6b7280")
        head.addWidget(self.state)
        lay.addLayout(head)
        self.pad = SignaturePad(self)
        lay.addWidget(self.pad)
        bar = QHBoxLayout()
        self.clear_btn = QPushButton("清除重签", self)
        self.undo_btn = QPushButton("撤销一笔", self)
        self.redo_btn = QPushButton("恢复一笔", self)
        self.clear_btn.clicked.connect(self.pad.clear)
        self.undo_btn.clicked.connect(self.pad.undo_stroke)
        self.redo_btn.clicked.connect(self.pad.redo_stroke)
        for b in (self.clear_btn, self.undo_btn, self.redo_btn):
            b.setFocusPolicy(Qt.FocusPolicy.NoFocus)
            bar.addWidget(b)
        bar.addStretch(1)
        lay.addLayout(bar)
        self.pad.changed.connect(self._changed)

    def _changed(self) -> None:
        signed = not self.pad.is_empty()
        self.state.setText("已签" if signed else "未签")
        self.state.setStyleSheet(f"color:{'#1e7b34' if signed else '#6b7280'}")
        self.changed.emit()

    def set_locked(self, locked: bool) -> None:
        self.pad.locked = locked
        for b in (self.clear_btn, self.undo_btn, self.redo_btn):
            b.setEnabled(not locked)
        self.pad.update()
