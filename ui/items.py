"""One editor per checklist item type, and the row that frames an item with its live verdict.

Editors emit ``edited(value)`` only for user changes; ``set_value`` is silent (used by undo and
restore). The row asks ``inspector.rules.evaluate_item`` on every change, so 280 ㎡ turns red
with the rule's reason and basis while the inspector types.

Keyboard: Tab moves item to item; on a focused 符合/不符合/不适用 item the keys 1/2/3 (or
Alt+1/2/3 anywhere in the row) set the verdict; Alt+3 marks any item 不适用.
"""
from __future__ import annotations

import datetime as _dt
from typing import Any

from ui import core
from ui.qt import (
    QAbstractTableModel, QButtonGroup, QComboBox, QDate, QDateEdit, QFrame, QHBoxLayout, QHeaderView, QLabel,
    Index, QLineEdit, QModelIndex, QPlainTextEdit, QPushButton, QSizePolicy, QSpinBox, QTableView, Qt, QToolButton,
    QVBoxLayout, QWidget, Signal, set_state,
)
from PySide6.QtWidgets import QStyledItemDelegate

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



class NumberEditor(Editor):
    """A number with its unit; every keystroke is a new value (live threshold feedback)."""

    def __init__(self, unit: str | None, integer: bool = False, parent: QWidget | None = None):
        super().__init__(parent)
        self.integer = integer
        lay = QHBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        self.edit = QLineEdit(self)
        self.edit.setFixedWidth(110)
        self.edit.setAlignment(Qt.AlignmentFlag.AlignRight)
        self.edit.setPlaceholderText("人数" if integer else "数值")
        self.edit.textEdited.connect(self._typed)
        lay.addWidget(self.edit)
        self.unit = QLabel(unit or ("人" if integer and unit is None else ""), self)
        lay.addWidget(self.unit)
        lay.addStretch(1)
        self.setFocusProxy(self.edit)

    def parse(self, text: str) -> Any:
        t = text.strip().replace(",", "").replace("，", "")
        if not t:
            return None
        try:
            return int(t) if self.integer else (int(t) if t.lstrip("-").isdigit() else float(t))
        except ValueError:
            return ValueError(f"“{text}”不是{'整数' if self.integer else '数字'}")

    def _typed(self, text: str) -> None:
        v = self.parse(text)
        if isinstance(v, ValueError):
            set_state(self.edit, "fail")
            self.edit.setToolTip(str(v))
            return
        set_state(self.edit, "")
        self.edit.setToolTip("")
        self.edited.emit(v)

    def value(self) -> Any:
        v = self.parse(self.edit.text())
        return None if isinstance(v, ValueError) else v

    def set_value(self, v: Any) -> None:
        if v == "na":
            v = None
        if self.value() != v:
            self.edit.setText("" if v is None else (str(int(v)) if isinstance(v, float) and v.is_integer() else str(v)))


class DateEditor(Editor):
    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        lay = QHBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        self.edit = QDateEdit(self)
        self.edit.setCalendarPopup(True)
        self.edit.setDisplayFormat("yyyy-MM-dd")
        self.edit.setSpecialValueText("未填")
        self.edit.setMinimumDate(QDate(1990, 1, 1))
        self.edit.setDate(self.edit.minimumDate())
        self.edit.dateChanged.connect(self._changed)
        lay.addWidget(self.edit)
        lay.addStretch(1)
        self.setFocusProxy(self.edit)
        self._silent = False

    def _changed(self, d: QDate) -> None:
        if not self._silent:
            self.edited.emit(self.value())

    def value(self) -> Any:
        d = self.edit.date()
        return None if d == self.edit.minimumDate() else d.toString("yyyy-MM-dd")

    def set_value(self, v: Any) -> None:
        self._silent = True
        try:
            if isinstance(v, str) and len(v) >= 10 and v != "na":
                self.edit.setDate(QDate.fromString(v[:10], "yyyy-MM-dd"))
            else:
                self.edit.setDate(self.edit.minimumDate())
        finally:
            self._silent = False


class ChoiceEditor(Editor):
    def __init__(self, choices: tuple[str, ...], parent: QWidget | None = None):
        super().__init__(parent)
        lay = QHBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        self.box = QComboBox(self)
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
        if role == Qt.ItemDataRole.ToolTipRole and col.choices:
            return "可选：" + " / ".join(col.choices)
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
            try:
                v = float(text) if "." in text else int(text)
            except ValueError:
                return False
        elif v is not None and col.type == "bool":
            v = text in ("是", "有", "true", "True", "1", "y", "Y")
        self.rows[index.row()][col.id] = v
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
        box = QComboBox(parent)
        box.addItems(list(ch))
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


class TableEditor(Editor):
    """A small spreadsheet for teachers/staff/class hours; the rule computes the verdict."""

    def __init__(self, columns: tuple[Any, ...], parent: QWidget | None = None):
        super().__init__(parent)
        lay = QVBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        self.model = TableAnswerModel(columns, self)
        self.view = QTableView(self)
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
        self.add_btn.clicked.connect(lambda: self.model.add_row())
        self.del_btn = QToolButton(self)
        self.del_btn.setText("－ 删除所选行")
        self.del_btn.clicked.connect(self._remove)
        bar.addWidget(self.add_btn)
        bar.addWidget(self.del_btn)
        bar.addStretch(1)
        lay.addLayout(bar)
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
        return NumberEditor(item.unit, integer=(t == "count"), parent=parent)
    if t == "date":
        return DateEditor(parent)
    if t == "choice":
        return ChoiceEditor(tuple(item.choices), parent)
    if t == "table":
        return TableEditor(tuple(item.columns), parent)
    return TextEditor(parent)


class ItemRow(QFrame):
    """One checklist item: number, text, editor, 不适用, live verdict with reason and basis, photos."""

    answered = Signal(str, object)   # item_id, value (user edits only)
    focused = Signal(str)

    def __init__(self, item: Any, index_label: str, parent: QWidget | None = None):
        super().__init__(parent)
        self.item = item
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
            top.addWidget(cam)
        outer.addLayout(top)
        mid = QHBoxLayout()
        mid.addSpacing(54)
        self.editor = make_editor(item, self)
        mid.addWidget(self.editor, 1 if item.type == "table" else 0)
        self.na_btn: CheckEditor | None = None
        if item.type != "check":
            self.na_btn = CheckEditor(self, with_check=False)
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
        self.editor.edited.connect(self._edited)
        self._value: Any = None
        self.status = "unanswered"
        self.evaluate(None)

    # -- user edits -------------------------------------------------------------
    def _edited(self, v: Any) -> None:
        if self.na_btn:
            self.na_btn.set_value(None)
        self._value = v
        self.evaluate(v)
        self.answered.emit(self.item.id, v)

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
        if self.na_btn:
            self.na_btn.set_locked(locked)

    def evaluate(self, v: Any) -> None:
        """Live verdict: colour, reason, basis (per keystroke, so it stays cheap)."""
        try:
            res = core.evaluate_item(self.item, v)
        except Exception as e:  # noqa: BLE001 - a rule bug must not stop data entry
            self.status = "unanswered"
            self.feedback.setText(f"⚠ 无法判定：{e}")
            self.feedback.show()
            return
        self.status = res.status
        set_state(self, res.status if res.status in ("pass", "fail", "na") else "")
        if res.status == "fail":
            codes = "、".join(res.codes) if res.codes else ""
            text = f"✗ {res.reason or '不符合'}"
            if res.basis:
                text += f"<br><span style='color:#6b7280'>依据：{res.basis}</span>"
            if codes:
                text += f" <span style='color:#6b7280'>｜失信代码 {codes}</span>"
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
            self.feedback.setStyleSheet("color:#b26a00")
            self.feedback.show()
        else:
            self.feedback.hide()
        if res.status != "unanswered":
            self.feedback.setStyleSheet("")
        if getattr(res, "missing_photo", False) or (res.status == "fail" and getattr(self.item, "photo_required", False)
                                                   and not getattr(self, "photo_count", 0)):
            self.feedback.setText(self.feedback.text() + "　<b style='color:#b26a00'>须附照片证据</b>")
        if hasattr(self.editor, "edit"):
            set_state(self.editor.edit, "fail" if res.status == "fail" else "")

    def focusInEvent(self, e: Any) -> None:
        self.focused.emit(self.item.id)
        super().focusInEvent(e)

    def set_current(self, on: bool) -> None:
        """Mark the item the keyboard is on (Alt+1/2/3 act on it)."""
        if bool(self.property("current")) != on:
            self.setProperty("current", on)
            from ui.qt import repolish

            repolish(self)


def today() -> str:
    return _dt.date.today().isoformat()
