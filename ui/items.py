"""One editor per checklist item type, and the row that frames an item with its live verdict.

Editors emit ``edited(value)`` only for user changes; ``set_value`` is silent (used by undo and
restore). The row asks ``inspector.rules.evaluate_item`` on every change, so 280 ㎡ turns red
with the rule's reason and basis while the inspector types.

Keyboard: Tab moves item to item; on a focused 符合/不符合/不适用 item the keys 1/2/3 (or
Alt+1/2/3 anywhere in the row) set the verdict; Alt+3 marks any item 不适用.

Typed answers go through ``inspector.visit_state.check_answer`` (one call, ``check``): a refusal
shows next to the field and nothing wrong is saved; a plausibility question (``confirm``) is asked
with a 是/否 box when the inspector leaves the field.
"""
from __future__ import annotations

import datetime as _dt
import logging
import math
import re
from dataclasses import dataclass
from typing import Any

from ui import core
from ui.qt import (
    QAbstractItemView, QAbstractTableModel, QApplication, QButtonGroup, QCheckBox, QComboBox, QDate, QDialog, QFrame,
    QGridLayout, QHBoxLayout, QHeaderView, QLabel, Index, QLineEdit, QMessageBox, QModelIndex, QPushButton,
    QSizePolicy, QTableView, Qt, QTimer, QToolButton, QVBoxLayout, QWidget, Signal, set_state,
)
from PySide6.QtWidgets import QAbstractItemDelegate, QCalendarWidget, QStyledItemDelegate

logger = logging.getLogger(__name__)


@dataclass
class Checked:
    """What the core says about a raw answer: the value to save (None: nothing valid), the
    refusal (Chinese) and the plausibility question to ask first (Chinese)."""

    value: Any
    problem: str | None = None
    confirm: str | None = None


def check(item: Any, raw: Any) -> Checked:
    """The core's ``inspector.visit_state.check_answer``, shaped for the editors."""
    from inspector.visit_state import check_answer

    r = check_answer(item, raw)
    return Checked(r.value, r.problem, r.confirm)


_NUMBER = re.compile(r"^[+-]?(\d+(\.\d*)?|\.\d+)$")


def parse_number(text: str, integer: bool, label: str = "") -> Checked:
    """Plain decimal numbers only: no letters, NaN, infinities, exponents; negatives refused
    (areas, counts, hours, years are never below zero)."""
    t = str(text).strip().replace(",", "").replace("，", "").replace(" ", "")
    what = label or ("人数" if integer else "数值")
    if not t:
        return Checked(None)
    if not _NUMBER.match(t):
        return Checked(None, f"“{text}”不是{'整数' if integer else '数字'}，请只输入数字（{what}）")
    v = float(t)
    if not math.isfinite(v):
        return Checked(None, f"“{text}”不是有效数字（{what}）")
    if v < 0:
        return Checked(None, f"{what}不能为负数：“{text}”")
    if integer and not v.is_integer():
        return Checked(None, f"{what}应为整数：“{text}”")
    return Checked(int(v) if v.is_integer() and "." not in t else v)


_DATE_FORMS = (re.compile(r"^(\d{4})(\d{2})(\d{2})$"),
               re.compile(r"^(\d{4})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})\s*日?$"))


def parse_date(text: str) -> Checked:
    """2027-12-31, 20271231, 2027/12/31, 2027.12.31, 2027年12月31日 → "2027-12-31"."""
    t = str(text).strip()
    if not t:
        return Checked(None)
    for rx in _DATE_FORMS:
        m = rx.match(t)
        if m:
            try:
                return Checked(_dt.date(int(m[1]), int(m[2]), int(m[3])).isoformat())
            except ValueError:
                return Checked(None, f"没有这一天：“{t}”")
    return Checked(None, f"日期格式应为 2027-12-31 或 20271231：“{t}”")


VERDICTS = (("pass", "符合"), ("fail", "不符合"), ("na", "不适用"))
VERDICT_TEXT = dict(VERDICTS)


class Editor(QWidget):
    edited = Signal(object)

    def value(self) -> Any:  # pragma: no cover - overridden
        return None

    def set_value(self, v: Any) -> None:  # pragma: no cover - overridden
        pass

    def set_locked(self, locked: bool) -> None:
        self.setEnabled(not locked)


class CheckEditor(Editor):
    """符合 / 不符合 / 不适用 as three toggle buttons; the widget itself takes the focus."""

    def __init__(self, parent: QWidget | None = None, with_check: bool = True):
        super().__init__(parent)
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        lay = QHBoxLayout(self)
        lay.setContentsMargins(2, 2, 2, 2)
        lay.setSpacing(4)
        self.group = QButtonGroup(self)
        self.group.setExclusive(False)
        self.buttons: dict[str, QPushButton] = {}
        for key, text in VERDICTS if with_check else VERDICTS[2:]:
            b = QPushButton(text, self)
            b.setObjectName("verdict")
            b.setProperty("verdict", key)
            b.setCheckable(True)
            b.setFocusPolicy(Qt.FocusPolicy.NoFocus)
            b.setToolTip({"pass": "1 或 Alt+1", "fail": "2 或 Alt+2", "na": "3 或 Alt+3"}[key])
            b.clicked.connect(lambda _c=False, k=key: self._click(k))
            self.buttons[key] = b
            lay.addWidget(b)
        self._value: Any = None

    def _click(self, key: str) -> None:
        new = None if self._value == key else key
        self.set_value(new)
        self.edited.emit(new)

    def choose(self, key: str) -> None:
        """Keyboard path: always sets (never toggles off)."""
        if key in self.buttons and self.isEnabled():
            self.set_value(key)
            self.edited.emit(key)

    def value(self) -> Any:
        return self._value

    def set_value(self, v: Any) -> None:
        self._value = v
        for k, b in self.buttons.items():
            b.setChecked(k == v)

    def keyPressEvent(self, e: Any) -> None:
        keys = {Qt.Key.Key_1: "pass", Qt.Key.Key_2: "fail", Qt.Key.Key_3: "na"}
        if e.key() in keys and "pass" in self.buttons:
            self.choose(keys[e.key()])
            return
        super().keyPressEvent(e)



class Refusal(QLabel):
    """The refusal, in red, right next to the field it is about (not only in the status bar)."""

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.setObjectName("refusal")
        self.setStyleSheet("color:#c62828")
        self.setWordWrap(True)
        self.hide()

    def show_text(self, text: str | None, colour: str = "#c62828") -> None:
        self.setText(text or "")
        restyle(self, f"color:{colour}")
        self.setVisible(bool(text))


def _tip(w: QWidget, text: str) -> None:
    if w.toolTip() != text:  # per keystroke: no ToolTipChange event when it is the same
        w.setToolTip(text)


def restyle(w: QWidget, css: str) -> None:
    """``setStyleSheet`` only when the sheet changes: each call re-resolves the widget's style and
    relayouts its parents, even with the same text (on every keystroke that was most of the block)."""
    if w.styleSheet() != css:
        w.setStyleSheet(css)


class NumberEditor(Editor):
    """A number with its unit; every valid keystroke is a new value (live threshold feedback).
    Letters, NaN, infinities and negatives are refused beside the field and clear the saved
    answer (so screen and record never disagree); an implausible value is asked about (是/否)
    when the inspector leaves the field, and saved only on 是."""

    def __init__(self, unit: str | None, integer: bool = False, parent: QWidget | None = None,
                 item: Any = None):
        super().__init__(parent)
        self.integer = integer
        self.item = item
        lay = QHBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        self.edit = QLineEdit(self)
        self.edit.setFixedWidth(110)
        self.edit.setAlignment(Qt.AlignmentFlag.AlignRight)
        self.edit.setPlaceholderText("人数" if integer else "数值")
        self.edit.textEdited.connect(self._typed)
        self.edit.editingFinished.connect(lambda: self._finished() if self.edit.hasFocus() else None)  # Return
        # Qt 6 emits editingFinished on focus-out only when the text changed since the last
        # time: a value refused with 否 and left unchanged must still be asked about
        self.edit.installEventFilter(self)
        lay.addWidget(self.edit)
        self.unit = QLabel(unit or ("人" if integer and unit is None else ""), self)
        lay.addWidget(self.unit)
        self.problem = Refusal(self)
        lay.addWidget(self.problem, 1)
        self.setFocusProxy(self.edit)
        self._pending: Checked | None = None   # implausible value awaiting 是/否
        self._asking = False
        self.confirmed: Any = None             # the last value the inspector confirmed

    def _check(self, text: str) -> Checked:
        if self.item is not None:
            return check(self.item, text)
        return parse_number(text, self.integer)

    def parse(self, text: str) -> Any:
        r = self._check(text)
        return ValueError(r.problem) if r.problem else r.value

    def _typed(self, text: str) -> None:
        r = self._check(text)
        self._pending = None
        if r.problem:
            set_state(self.edit, "fail")
            _tip(self.edit, r.problem)
            self.problem.show_text("✗ " + r.problem)
            self.edited.emit(None)   # the refused text is not an answer: nothing stale stays saved
            return
        _tip(self.edit, "")
        if r.confirm and r.value != self.confirmed:
            self._pending = r
            set_state(self.edit, "")
            self.problem.show_text("？" + r.confirm + "（离开本栏时确认）", "#b26a00")
            self.edited.emit(None)  # until confirmed, no other figure (100000 on the way) stays saved
            return
        if self.problem.isVisible():
            set_state(self.edit, "")  # the refusal's red goes; a verdict's red is the row's (ItemRow.evaluate)
        self.problem.show_text(None)
        self.edited.emit(r.value)

    def eventFilter(self, obj: Any, e: Any) -> bool:
        if obj is self.edit and e.type() == e.Type.FocusOut and self._pending is not None \
                and e.reason() not in (Qt.FocusReason.ActiveWindowFocusReason, Qt.FocusReason.PopupFocusReason):
            self._finished()  # left by Tab, Shift+Tab or a click elsewhere
        return False

    def _finished(self) -> None:
        if self._pending is None or self._asking:
            return
        r, self._pending = self._pending, None
        self._asking = True
        try:
            yes = QMessageBox.question(self, "请确认数值", r.confirm or "",
                                       QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No,
                                       QMessageBox.StandardButton.No) == QMessageBox.StandardButton.Yes
        finally:
            self._asking = False
        if yes:
            self.confirmed = r.value
            self.problem.show_text(None)
            self.edited.emit(r.value)
        else:
            # not saved; asked again when left unchanged, so nothing implausible slips through
            self._pending = r
            self.problem.show_text("未保存：请更正该数值", "#b26a00")
            self.edited.emit(None)
            self.window().activateWindow()
            self.edit.setFocus(Qt.FocusReason.OtherFocusReason)
            QTimer.singleShot(0, self.edit.selectAll)  # after the focus-in: typing replaces the figure

    def value(self) -> Any:
        r = self._check(self.edit.text())
        return None if r.problem else r.value

    def set_value(self, v: Any) -> None:
        if v == "na":
            v = None
        if v is None and self.problem.isVisible():
            return  # the refused text stays on screen with its refusal
        if self.value() != v:
            self.edit.setText("" if v is None else (str(int(v)) if isinstance(v, float) and v.is_integer() else str(v)))
            set_state(self.edit, "")
            self.problem.show_text(None)
        if v is not None:
            self.confirmed = v


class CalendarPopup(QDialog):
    """A Chinese month calendar (the app's default locale is zh_CN) that opens at today."""

    def __init__(self, parent: QWidget, start: QDate):
        super().__init__(parent, Qt.WindowType.Popup)
        lay = QVBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        self.cal = QCalendarWidget(self)
        self.cal.setGridVisible(True)
        self.cal.setFirstDayOfWeek(Qt.DayOfWeek.Monday)
        self.cal.setSelectedDate(start)
        self.cal.activated.connect(self._pick)
        self.cal.clicked.connect(self._pick)
        lay.addWidget(self.cal)
        self.picked: QDate | None = None

    def _pick(self, d: QDate) -> None:
        self.picked = d
        self.accept()


class DateEditor(Editor):
    """Typed as 2027-12-31 or 20271231 (Tab leaves like any field), or picked from a calendar
    that opens at today. Shown as 2027-12-31 once the field is left."""

    def __init__(self, parent: QWidget | None = None, item: Any = None):
        super().__init__(parent)
        self.item = item
        lay = QHBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        self.edit = QLineEdit(self)
        self.edit.setFixedWidth(110)
        self.edit.setPlaceholderText("2027-12-31")
        self.edit.setToolTip("输入 2027-12-31 或 20271231，或点日历选择")
        self.edit.textEdited.connect(self._typed)
        self.edit.editingFinished.connect(self._finished)
        lay.addWidget(self.edit)
        self.cal_btn = QToolButton(self)
        self.cal_btn.setText("日历")
        self.cal_btn.setToolTip("从日历选择（F4）")
        self.cal_btn.setFocusPolicy(Qt.FocusPolicy.NoFocus)  # F4 in the field opens it too
        self.cal_btn.clicked.connect(self.open_calendar)
        lay.addWidget(self.cal_btn)
        self.problem = Refusal(self)
        lay.addWidget(self.problem, 1)
        self.setFocusProxy(self.edit)
        self.edit.installEventFilter(self)
        self.popup: CalendarPopup | None = None

    def _check(self, text: str) -> Checked:
        return check(self.item, text) if self.item is not None else parse_date(text)

    def _typed(self, text: str) -> None:
        r = self._check(text)
        if r.problem:
            digits = re.sub(r"\D", "", text)
            if len(digits) < 8:  # still typing: a hint, not yet an error
                self.problem.show_text("格式：2027-12-31 或 20271231", "#6b7280")
                set_state(self.edit, "")
                return
            set_state(self.edit, "fail")
            self.problem.show_text("✗ " + r.problem)
            self.edited.emit(None)
            return
        if self.problem.isVisible():
            set_state(self.edit, "")  # the refusal's red goes; a verdict's red is the row's (ItemRow.evaluate)
        self.problem.show_text(None)
        self.edited.emit(r.value)

    def _finished(self) -> None:
        text = self.edit.text()
        r = self._check(text)
        if text.strip() and r.problem:
            set_state(self.edit, "fail")
            self.problem.show_text("✗ " + r.problem)
            self.edited.emit(None)
        elif r.value and text != r.value:
            self.edit.setText(r.value)  # 20271231 reads back as 2027-12-31

    def eventFilter(self, obj: Any, e: Any) -> bool:
        if obj is self.edit and e.type() == e.Type.KeyPress and e.key() == Qt.Key.Key_F4:
            self.open_calendar()
            return True
        return False

    def open_calendar(self) -> None:
        v = self.value()
        start = QDate.fromString(v, "yyyy-MM-dd") if v else QDate.currentDate()
        self.popup = CalendarPopup(self, start)
        self.popup.move(self.edit.mapToGlobal(self.edit.rect().bottomLeft()))
        if self.popup.exec() and self.popup.picked is not None:
            iso = self.popup.picked.toString("yyyy-MM-dd")
            self.edit.setText(iso)
            self._typed(iso)
        self.popup = None

    def value(self) -> Any:
        r = self._check(self.edit.text())
        return None if r.problem else r.value

    def set_value(self, v: Any) -> None:
        t = v[:10] if isinstance(v, str) and v != "na" else ""
        if v is None and self.problem.isVisible() and self.edit.text():
            return
        if self.edit.text() != t:
            self.edit.setText(t)
            set_state(self.edit, "")
            self.problem.show_text(None)


class MultiChoiceEditor(Editor):
    """``multiple = true``: a tick list (Tab walks the boxes, Space ticks). The answer is the
    ticked choices in the checklist's order; unticking all after a tick means none was seen."""

    def __init__(self, choices: tuple[str, ...], parent: QWidget | None = None):
        super().__init__(parent)
        grid = QGridLayout(self)
        grid.setContentsMargins(0, 0, 0, 0)
        grid.setHorizontalSpacing(14)
        grid.setVerticalSpacing(2)
        self.boxes: list[QCheckBox] = []
        cols = 2 if len(choices) > 4 else 1
        for i, c in enumerate(choices):
            b = QCheckBox(c, self)
            b.clicked.connect(lambda _c=False: self.edited.emit(self.value(touched=True)))
            grid.addWidget(b, i // cols, i % cols)
            self.boxes.append(b)
        if self.boxes:
            self.setFocusProxy(self.boxes[0])
        self._touched = False

    def value(self, touched: bool = False) -> Any:
        self._touched = self._touched or touched
        ticked = [b.text() for b in self.boxes if b.isChecked()]
        return ticked if ticked or self._touched else None

    def set_value(self, v: Any) -> None:
        chosen = set(v) if isinstance(v, list) else set()
        self._touched = isinstance(v, list)
        for b in self.boxes:
            if b.isChecked() != (b.text() in chosen):
                b.setChecked(b.text() in chosen)


class DigitCombo(QComboBox):
    """A drop-down where the digit keys pick: 1 = the first choice, 2 = the second … (Chinese
    choices cannot be reached by typing their first letter); Y/N pick 是/否 where offered.
    ``first`` is the index of choice 1 (1 when the list starts with the empty "—")."""

    def __init__(self, parent: QWidget | None = None, first: int = 0):
        super().__init__(parent)
        self.first = first

    def pick_key(self, e: Any) -> int | None:
        t = e.text()
        if e.modifiers() & ~Qt.KeyboardModifier.KeypadModifier or not t:
            return None
        if t.isdigit() and t != "0":
            i = self.first + int(t) - 1
            return i if i < self.count() else None
        if t.lower() in ("y", "n"):
            i = self.findText("是" if t.lower() == "y" else "否")
            return i if i >= 0 else None
        return None

    def keyPressEvent(self, e: Any) -> None:
        i = self.pick_key(e)
        if i is None:
            super().keyPressEvent(e)
            return
        if i != self.currentIndex():
            self.setCurrentIndex(i)
        self.activated.emit(i)  # what a pick from the list emits: the editor saves it


class ChoiceEditor(Editor):
    def __init__(self, choices: tuple[str, ...], parent: QWidget | None = None):
        super().__init__(parent)
        lay = QHBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        self.box = DigitCombo(self, first=1)
        self.box.setToolTip("数字键选择：" + "　".join(f"{k} {c}" for k, c in enumerate(choices, 1)))
        self.box.addItem("—", None)
        for c in choices:
            self.box.addItem(c, c)
        self.box.activated.connect(lambda _i: self.edited.emit(self.value()))
        lay.addWidget(self.box)
        lay.addStretch(1)
        self.setFocusProxy(self.box)

    def value(self) -> Any:
        return self.box.currentData()

    def set_value(self, v: Any) -> None:
        i = self.box.findData(v)
        self.box.setCurrentIndex(max(i, 0))


class TextEditor(Editor):
    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        lay = QHBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        self.edit = QLineEdit(self)
        self.edit.setPlaceholderText("记录事实情况")
        self.edit.textEdited.connect(lambda t: self.edited.emit(t or None))
        lay.addWidget(self.edit)
        self.setFocusProxy(self.edit)

    def value(self) -> Any:
        return self.edit.text() or None

    def set_value(self, v: Any) -> None:
        t = "" if v in (None, "na") else str(v)
        if self.edit.text() != t:
            self.edit.setText(t)


class TableAnswerModel(QAbstractTableModel):
    """Rows of a table item (teachers, staff, class hours), keyed by column id; editable."""

    changed = Signal()
    refused = Signal(str)   # why a typed cell was not taken (shown under the table)

    def __init__(self, columns: tuple[Any, ...], parent: Any = None):
        super().__init__(parent)
        self.columns = list(columns)
        self.rows: list[dict[str, Any]] = []

    def rowCount(self, parent: Index = QModelIndex()) -> int:
        return 0 if parent.isValid() else len(self.rows)

    def columnCount(self, parent: Index = QModelIndex()) -> int:
        return 0 if parent.isValid() else len(self.columns)

    def headerData(self, s: int, o: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if role != Qt.ItemDataRole.DisplayRole:
            return None
        if o == Qt.Orientation.Horizontal and 0 <= s < len(self.columns):
            return self.columns[s].label
        if o == Qt.Orientation.Vertical:
            return str(s + 1)
        return None

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid() or not (0 <= index.row() < len(self.rows)) \
                or not (0 <= index.column() < len(self.columns)):
            return None
        col = self.columns[index.column()]
        v = self.rows[index.row()].get(col.id)
        if role in (Qt.ItemDataRole.DisplayRole, Qt.ItemDataRole.EditRole):
            if col.type == "bool":
                return "是" if v else ("否" if v is not None else "")
            return "" if v is None else str(v)
        if role == Qt.ItemDataRole.ToolTipRole and (col.choices or col.type == "bool"):
            ch = col.choices if col.choices else ("是", "否")
            return "数字键选择：" + "　".join(f"{k} {c}" for k, c in enumerate(ch, 1))
        return None

    def flags(self, index: Index) -> Qt.ItemFlag:
        if not index.isValid():
            return Qt.ItemFlag.NoItemFlags
        return Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsSelectable | Qt.ItemFlag.ItemIsEditable

    def setData(self, index: Index, value: Any, role: int = Qt.ItemDataRole.EditRole) -> bool:
        if role != Qt.ItemDataRole.EditRole or not index.isValid() or not (0 <= index.row() < len(self.rows)):
            return False
        col = self.columns[index.column()]
        text = "" if value is None else str(value).strip()
        v: Any = text or None
        if v is not None and col.type == "number":
            r = parse_number(text, False, col.label)
            if r.problem:
                self.refused.emit(f"第 {index.row() + 1} 行“{col.label}”未保存：{r.problem}")
                return False
            v = r.value
        elif v is not None and col.type == "bool":
            v = text in ("是", "有", "true", "True", "1", "y", "Y")
        self.rows[index.row()][col.id] = v
        self.refused.emit("")
        self.dataChanged.emit(index, index, [Qt.ItemDataRole.DisplayRole, Qt.ItemDataRole.EditRole])
        self.changed.emit()
        return True

    def set_rows(self, rows: list[dict[str, Any]]) -> None:
        self.beginResetModel()
        self.rows = [dict(r) for r in rows]
        self.endResetModel()

    def add_row(self, row: dict[str, Any] | None = None) -> None:
        n = len(self.rows)
        self.beginInsertRows(QModelIndex(), n, n)
        self.rows.append(dict(row or {}))
        self.endInsertRows()
        self.changed.emit()

    def remove_row(self, r: int) -> None:
        if 0 <= r < len(self.rows):
            self.beginRemoveRows(QModelIndex(), r, r)
            del self.rows[r]
            self.endRemoveRows()
            self.changed.emit()


class ChoiceDelegate(QStyledItemDelegate):
    """Drop-down cells for choice and yes/no columns, so the rule gets values it knows."""

    def __init__(self, columns: list[Any], parent: Any = None):
        super().__init__(parent)
        self.columns = columns

    def _choices(self, col: int) -> tuple[str, ...] | None:
        c = self.columns[col]
        if c.type == "bool":
            return ("是", "否")
        return tuple(c.choices) if c.type == "choice" and c.choices else None

    def createEditor(self, parent: QWidget, option: Any, index: Index) -> QWidget:
        ch = self._choices(index.column())
        if ch is None:
            return super().createEditor(parent, option, index)
        box = DigitCombo(parent)
        box.addItems(list(ch))
        box.setToolTip("数字键选择：" + "　".join(f"{k} {c}" for k, c in enumerate(ch, 1)))
        return box

    def setEditorData(self, editor: QWidget, index: Index) -> None:
        if isinstance(editor, QComboBox):
            editor.setCurrentText(str(index.data(Qt.ItemDataRole.EditRole) or ""))
        else:
            super().setEditorData(editor, index)

    def setModelData(self, editor: QWidget, model: Any, index: Index) -> None:
        if isinstance(editor, QComboBox):
            model.setData(index, editor.currentText(), Qt.ItemDataRole.EditRole)
        else:
            super().setModelData(editor, model, index)


class AnswerTable(QTableView):
    """Cells edit on typing (no F2); Tab walks the cells and leaves the table after the last one
    (Shift+Tab before the first), also while a cell editor is open."""

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        T = QAbstractItemView.EditTrigger
        self.setEditTriggers(T.AnyKeyPressed | T.DoubleClicked | T.EditKeyPressed | T.SelectedClicked)
        self.setTabKeyNavigation(True)

    def _at_edge(self, forward: bool) -> bool:
        m = self.model()
        if m is None or m.rowCount() == 0 or m.columnCount() == 0:
            return True
        cur = self.currentIndex()
        if not cur.isValid():
            return False
        if forward:
            return cur.row() == m.rowCount() - 1 and cur.column() == m.columnCount() - 1
        return cur.row() == 0 and cur.column() == 0

    def _leave(self, forward: bool) -> None:
        # the next widget in the window's tab chain after the table (its buttons, the next item)
        w = self.nextInFocusChain() if forward else self.previousInFocusChain()
        while w is not None and w is not self and (not w.isVisible() or not w.isEnabled()
                                                 or not (w.focusPolicy() & Qt.FocusPolicy.TabFocus)
                                                 or self.isAncestorOf(w)):
            w = w.nextInFocusChain() if forward else w.previousInFocusChain()
        if w is not None and w is not self:
            w.setFocus(Qt.FocusReason.TabFocusReason if forward else Qt.FocusReason.BacktabFocusReason)

    def focusNextPrevChild(self, next: bool) -> bool:  # noqa: A002 - Qt's name
        if self._at_edge(next):
            self._leave(next)
            return True
        return super().focusNextPrevChild(next)

    def keyPressEvent(self, e: Any) -> None:
        if e.key() in (Qt.Key.Key_Tab, Qt.Key.Key_Backtab) and self._at_edge(e.key() == Qt.Key.Key_Tab):
            self._leave(e.key() == Qt.Key.Key_Tab)
            return
        super().keyPressEvent(e)

    def inputMethodEvent(self, e: Any) -> None:
        """Chinese typed into a cell (pinyin input method): open the cell's editor and hand it the
        committed text. Qt opens the editor for an input-method event but drops its text, so the
        first character typed (王 of 王校长) would be lost."""
        idx = self.currentIndex()
        if self.state() != QAbstractItemView.State.EditingState and idx.isValid() and e.commitString() \
                and self.editTriggers() & QAbstractItemView.EditTrigger.AnyKeyPressed:
            self.edit(idx)
            editor = self.indexWidget(idx) or QApplication.focusWidget()
            if editor is not None and editor is not self:
                QApplication.sendEvent(editor, e)
                return
        super().inputMethodEvent(e)

    def closeEditor(self, editor: QWidget, hint: Any) -> None:
        H = QAbstractItemDelegate.EndEditHint
        if hint in (H.EditNextItem, H.EditPreviousItem) and self._at_edge(hint == H.EditNextItem):
            super().closeEditor(editor, H.NoHint)
            self._leave(hint == H.EditNextItem)
            return
        super().closeEditor(editor, hint)


class TableEditor(Editor):
    """A small spreadsheet for teachers/staff/class hours; the rule computes the verdict."""

    def __init__(self, columns: tuple[Any, ...], parent: QWidget | None = None):
        super().__init__(parent)
        lay = QVBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        self.model = TableAnswerModel(columns, self)
        self.view = AnswerTable(self)
        self.view.setModel(self.model)
        self.view.setItemDelegate(ChoiceDelegate(self.model.columns, self.view))
        hh = self.view.horizontalHeader()
        self._fit_columns(hh)
        hh.setStretchLastSection(True)
        self.view.verticalHeader().setDefaultSectionSize(24)
        self.view.setMinimumHeight(110)
        self.view.setMaximumHeight(220)
        lay.addWidget(self.view)
        bar = QHBoxLayout()
        self.add_btn = QToolButton(self)
        self.add_btn.setText("＋ 添加一行")
        self.add_btn.clicked.connect(self._add)
        self.del_btn = QToolButton(self)
        self.del_btn.setText("－ 删除所选行")
        self.del_btn.setToolTip("Ctrl+Delete")
        self.del_btn.setFocusPolicy(Qt.FocusPolicy.ClickFocus)  # Tab: ＋添加一行, then the next item
        self.del_btn.clicked.connect(self._remove)
        from ui.qt import QKeySequence, QShortcut

        rm = QShortcut(QKeySequence("Ctrl+Delete"), self.view)
        rm.setContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
        rm.activated.connect(self._remove)
        bar.addWidget(self.add_btn)
        bar.addWidget(self.del_btn)
        self.problem = Refusal(self)
        bar.addWidget(self.problem)
        bar.addStretch(1)  # the buttons stay together on the left, the hidden refusal takes no room
        lay.addLayout(bar)
        self.model.refused.connect(lambda t: self.problem.show_text(("✗ " + t) if t else None))
        self._silent = False
        self.model.changed.connect(self._changed)
        self.setFocusProxy(self.view)

    def _fit_columns(self, hh: QHeaderView) -> None:
        """Long headers (职称或职业资格（取最高）) wrap onto two lines, so the whole table fits
        the item's width at 1366×768 without a horizontal scroll bar."""
        fm = self.view.fontMetrics()
        hh.setDefaultAlignment(Qt.AlignmentFlag(int(Qt.AlignmentFlag.AlignCenter) | int(Qt.TextFlag.TextWordWrap)))
        hh.setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        hh.setFixedHeight(fm.lineSpacing() * 2 + 12)
        for i, c in enumerate(self.model.columns):
            title = fm.horizontalAdvance(c.label)
            content = max([fm.horizontalAdvance(str(x)) for x in (c.choices or ())] + [fm.horizontalAdvance("是否")])
            if c.type == "text":
                content = fm.horizontalAdvance("职业技能培训")
            want = max(content, title if title <= content * 1.3 else (title + 1) // 2) + 18
            hh.resizeSection(i, min(want, 160))

    def _add(self) -> None:
        self.model.add_row()
        # straight into the new row's first cell: typing fills it
        self.view.setCurrentIndex(self.model.index(len(self.model.rows) - 1, 0))
        self.view.setFocus(Qt.FocusReason.OtherFocusReason)

    def _remove(self) -> None:
        idx = self.view.currentIndex()
        if idx.isValid():
            self.model.remove_row(idx.row())

    def _changed(self) -> None:
        if not self._silent:
            self.edited.emit(self.value())

    def value(self) -> Any:
        rows = [r for r in self.model.rows if any(v not in (None, "") for v in r.values())]
        return [dict(r) for r in rows] if rows else ([] if self.model.rows else None)

    def set_value(self, v: Any) -> None:
        self._silent = True
        try:
            if isinstance(v, list) and v != self.model.rows:
                self.model.set_rows(v)
            elif not isinstance(v, list) and self.model.rows:
                self.model.set_rows([])
        finally:
            self._silent = False


def make_editor(item: Any, parent: QWidget | None = None) -> Editor:
    t = item.type
    if t == "check":
        return CheckEditor(parent)
    if t in ("number", "count"):
        return NumberEditor(item.unit, integer=(t == "count"), parent=parent, item=item)
    if t == "date":
        return DateEditor(parent, item=item)
    if t == "choice" and (getattr(item, "params", None) or {}).get("multiple"):
        return MultiChoiceEditor(tuple(item.choices), parent)
    if t == "choice":
        return ChoiceEditor(tuple(item.choices), parent)
    if t == "table":
        return TableEditor(tuple(item.columns), parent)
    return TextEditor(parent)


class ItemRow(QFrame):
    """One checklist item: number, text, editor, 不适用, live verdict with reason and basis, photos."""

    answered = Signal(str, object)   # item_id, value (user edits only)
    noted = Signal(str, str)         # item_id, note text (user edits only)
    focused = Signal(str)

    def __init__(self, item: Any, index_label: str, parent: QWidget | None = None, cite: Any = None):
        super().__init__(parent)
        self.item = item
        # (item_id, basis, codes) -> (heading, labels) under the laptop's profile (core.cited_labels)
        self.cite = cite or (lambda _i, _b, codes: ("失信代码", "、".join(codes or [])))
        self.setObjectName("itemrow")
        self.setFrameShape(QFrame.Shape.StyledPanel)
        self.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Maximum)
        outer = QVBoxLayout(self)
        outer.setContentsMargins(10, 6, 10, 6)
        outer.setSpacing(3)
        top = QHBoxLayout()
        num = QLabel(f"<b>{index_label}</b>", self)
        num.setFixedWidth(54)
        num.setAlignment(Qt.AlignmentFlag.AlignTop)
        top.addWidget(num)
        self.text = QLabel(item.text, self)
        self.text.setWordWrap(True)
        self.text.setToolTip(f"依据：{item.basis}" + (f"\n{item.help}" if getattr(item, "help", None) else ""))
        top.addWidget(self.text, 1)
        if getattr(item, "photo_required", False):
            cam = QLabel("需拍照", self)
            cam.setStyleSheet("color:#b26a00; border:1px solid #e7c48a; border-radius:3px; padding:0 4px;")
            cam.setToolTip("不符合时须附照片证据")
            top.addWidget(cam, 0, Qt.AlignmentFlag.AlignTop)  # a small tag, not as tall as a wrapped text
        outer.addLayout(top)
        mid = QHBoxLayout()
        mid.addSpacing(54)
        self.editor = make_editor(item, self)
        mid.addWidget(self.editor, 1 if item.type == "table" else 0)
        self.na_btn: CheckEditor | None = None
        if item.type != "check":
            self.na_btn = CheckEditor(self, with_check=False)
            # not a Tab stop of its own (Tab goes field to field); Alt+3 marks the item 不适用
            self.na_btn.setFocusPolicy(Qt.FocusPolicy.NoFocus)
            mid.addWidget(self.na_btn)
            self.na_btn.edited.connect(self._na)
        if item.type != "table":
            mid.addStretch(1)
        self.photos_slot = QHBoxLayout()
        mid.addLayout(self.photos_slot)
        outer.addLayout(mid)
        self.feedback = QLabel("", self)
        self.feedback.setObjectName("feedback")
        self.feedback.setWordWrap(True)
        self.feedback.setContentsMargins(54, 0, 0, 0)
        self.feedback.hide()
        outer.addWidget(self.feedback)
        notes = QHBoxLayout()
        notes.addSpacing(54)
        self.note = QLineEdit(self)
        self.note.setObjectName("note")
        self.note.setPlaceholderText("备注（可选）：现场情况、依据的材料、说明")
        self.note.setClearButtonEnabled(True)
        # not in the Tab chain (Tab goes item to item); Alt+M puts the cursor here
        self.note.setFocusPolicy(Qt.FocusPolicy.ClickFocus)
        self.note.setToolTip("Alt+M：备注当前检查项")
        self.note.textEdited.connect(lambda t: self.noted.emit(self.item.id, t))
        notes.addWidget(self.note, 1)
        outer.addLayout(notes)
        outer.addStretch(1)  # room kept while typing (``_pin``) stays below the note, not between lines
        self.photo_count = 0
        self.editor.edited.connect(self._edited)
        self._value: Any = None
        self.status = "unanswered"
        self.evaluate(None)

    # -- user edits -------------------------------------------------------------
    def _edited(self, v: Any) -> None:
        if self.na_btn:
            self.na_btn.set_value(None)
        self._value = v
        self._pin()
        self.evaluate(v)
        self.answered.emit(self.item.id, v)

    def _pin(self) -> None:
        """While the inspector edits this item the row may grow but does not shrink: a verdict or
        refusal line that comes and goes with the digits would otherwise move every item below
        (a relayout and repaint of the whole page per keystroke). Released by ``set_current(False)``."""
        h = self.height()
        if self.isVisible() and self.minimumHeight() < h:
            self.setMinimumHeight(h)

    def _na(self, v: Any) -> None:
        value = "na" if v == "na" else self.editor.value()
        if value == "na":
            self.editor.set_value(None)
        self._value = value
        self.evaluate(value)
        self.answered.emit(self.item.id, value)

    def choose(self, key: str) -> None:
        """Alt+1/2/3: a verdict for check items; 不适用 for any item."""
        if isinstance(self.editor, CheckEditor):
            self.editor.choose(key)
        elif key == "na" and self.na_btn is not None and self.isEnabled():
            self.na_btn.choose("na")

    # -- programmatic (undo, restore) --------------------------------------------
    def set_value(self, v: Any) -> None:
        self._value = v
        self.editor.set_value(v)
        if self.na_btn:
            self.na_btn.set_value("na" if v == "na" else None)
        self.evaluate(v)

    def value(self) -> Any:
        return self._value

    def set_locked(self, locked: bool) -> None:
        self.editor.set_locked(locked)
        self.note.setReadOnly(locked)
        if self.na_btn:
            self.na_btn.set_locked(locked)

    def set_note(self, text: str | None) -> None:
        if self.note.text() != (text or ""):
            self.note.setText(text or "")

    def set_photo_count(self, n: int) -> None:
        """Photos attached to this item: the 须附照片证据 warning goes once there is one."""
        if n != self.photo_count:
            self.photo_count = n
            self.evaluate(self._value)

    def evaluate(self, v: Any) -> None:
        """Live verdict: colour, reason, basis (per keystroke, so it stays cheap)."""
        try:
            res = core.evaluate_item(self.item, v)
        except Exception as e:  # noqa: BLE001 - a rule bug must not stop data entry: logged, shown on the row
            logger.exception("evaluating item %s failed", getattr(self.item, "id", "?"))
            self.status = "unanswered"
            self.feedback.setText(f"⚠ 无法判定：{e}")
            self.feedback.show()
            return
        self.status = res.status
        set_state(self, res.status if res.status in ("pass", "fail", "na") else "")
        if res.status == "fail":
            heading, labels = self.cite(self.item.id, self.item.basis, list(res.codes or []))
            text = f"✗ {res.reason or '不符合'}"
            if res.basis:
                text += f"<br><span style='color:#6b7280'>依据：{res.basis}</span>"
            if labels:
                text += f" <span style='color:#6b7280'>｜{heading} {labels}</span>"
            self.feedback.setText(text)
            set_state(self.feedback, "fail")
            self.feedback.show()
        elif res.status == "pass" and self.item.type not in ("check",):
            self.feedback.setText(f"✓ {res.reason or '符合'}")
            set_state(self.feedback, "pass")
            self.feedback.show()
        elif res.status == "unanswered" and v is not None and res.reason:
            self.feedback.setText(f"… {res.reason}")
            set_state(self.feedback, "")
            restyle(self.feedback, "color:#b26a00")
            self.feedback.show()
        else:
            self.feedback.hide()
        if res.status != "unanswered":
            restyle(self.feedback, "")
        wants_photo = not self.photo_count and (getattr(res, "missing_photo", False) or (
            res.status == "fail" and getattr(self.item, "photo_required", False)))
        if wants_photo:
            self.feedback.setText(self.feedback.text() + "　<b style='color:#b26a00'>须附照片证据（Tab 到 ＋照片）</b>")
        strip = getattr(self, "photo_strip", None)
        if strip is not None and hasattr(strip, "set_wanted"):
            strip.set_wanted(wants_photo)
        problem = getattr(self.editor, "problem", None)
        if hasattr(self.editor, "edit") and not (isinstance(problem, Refusal) and problem.isVisible()):
            set_state(self.editor.edit, "fail" if res.status == "fail" else "")

    def focusInEvent(self, e: Any) -> None:
        self.focused.emit(self.item.id)
        super().focusInEvent(e)

    def set_current(self, on: bool) -> None:
        """Mark the item the keyboard is on (Alt+1/2/3 act on it)."""
        from ui.qt import prop, repolish, set_prop

        if bool(prop(self, "current")) != on:
            set_prop(self, "current", on)

            repolish(self)
        if not on and self.minimumHeight():
            self.setMinimumHeight(0)  # left: back to its natural height (see ``_pin``)


def today() -> str:
    return _dt.date.today().isoformat()
