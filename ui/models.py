"""Table models over the store: ids plus a row cache, lazy paging, an error row instead of a crash.

Each model gets a ``fetch(offset, limit) -> list[dict]`` callable (a core function wrapped by
``ui.core``); it never sees SQL. ``fetchMore`` pulls the next page when the view scrolls, so a
store with 10,000 inspections opens as fast as one with ten.
"""
from __future__ import annotations

import datetime as _dt
import logging
from dataclasses import dataclass
from typing import Any, Callable, Sequence

from ui.qt import Index, QAbstractTableModel, QBrush, QColor, QModelIndex, Qt, AMBER_BG, GREEN, RED, RED_BG, GREY

PAGE = 200


@dataclass(frozen=True)
class Col:
    key: str
    title: str
    width: int = 0
    fmt: Callable[[Any, dict[str, Any]], str] | None = None


class RowsModel(QAbstractTableModel):
    """Read-only rows from a fetch function, paged; shows one error row if fetching fails."""

    ERROR_ROLE = Qt.ItemDataRole.UserRole + 1
    ID_ROLE = Qt.ItemDataRole.UserRole
    ROW_ROLE = Qt.ItemDataRole.UserRole + 2

    def __init__(self, columns: Sequence[Col], fetch: Callable[[int, int], list[dict[str, Any]]],
                 *, page: int = PAGE, autoload: bool = True, parent: Any = None):
        super().__init__(parent)
        self.columns = list(columns)
        self._fetch = fetch
        self.page = page
        self.ids: list[str] = []
        self.cache: dict[str, dict[str, Any]] = {}
        self.error: str | None = None
        self._exhausted = not autoload
        if autoload:
            self.reload()

    # -- loading ---------------------------------------------------------------
    def _page(self, offset: int) -> list[dict[str, Any]]:
        try:
            rows = self._fetch(offset, self.page)
        except Exception as e:  # noqa: BLE001 - logged and shown as a row, the window stays up
            logging.getLogger(__name__).exception("list page at %s cannot be read", offset)
            self.error = f"无法读取：{e}"
            self._exhausted = True
            return []
        if len(rows) < self.page:
            self._exhausted = True
        return rows

    def reload(self) -> None:
        self.beginResetModel()
        self.ids, self.cache, self.error, self._exhausted = [], {}, None, False
        for r in self._page(0):
            self._add(r)
        self.endResetModel()

    def set_fetch(self, fetch: Callable[[int, int], list[dict[str, Any]]]) -> None:
        self._fetch = fetch
        self.reload()

    def _add(self, r: dict[str, Any]) -> None:
        rid = str(r.get("id"))
        if rid not in self.cache:
            self.ids.append(rid)
        self.cache[rid] = r

    def canFetchMore(self, parent: Index = QModelIndex()) -> bool:
        return not parent.isValid() and not self._exhausted

    def fetchMore(self, parent: Index = QModelIndex()) -> None:
        if parent.isValid() or self._exhausted:
            return
        rows = [r for r in self._page(len(self.ids)) if str(r.get("id")) not in self.cache]
        if self.error and not rows:
            self.beginResetModel()
            self.endResetModel()
            return
        if not rows:
            return
        first = len(self.ids)
        self.beginInsertRows(QModelIndex(), first, first + len(rows) - 1)
        for r in rows:
            self._add(r)
        self.endInsertRows()

    # -- Qt model API ------------------------------------------------------------
    def rowCount(self, parent: Index = QModelIndex()) -> int:
        if parent.isValid():
            return 0
        return len(self.ids) + (1 if self.error else 0)

    def columnCount(self, parent: Index = QModelIndex()) -> int:
        return 0 if parent.isValid() else len(self.columns)

    def headerData(self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if role == Qt.ItemDataRole.DisplayRole and orientation == Qt.Orientation.Horizontal \
                and 0 <= section < len(self.columns):
            return self.columns[section].title
        return None

    def row(self, r: int) -> dict[str, Any] | None:
        return self.cache.get(self.ids[r]) if 0 <= r < len(self.ids) else None

    def id_at(self, r: int) -> str | None:
        return self.ids[r] if 0 <= r < len(self.ids) else None

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid() or not (0 <= index.column() < len(self.columns)):
            return None
        if index.row() == len(self.ids) and self.error:
            if role == Qt.ItemDataRole.DisplayRole:
                return self.error if index.column() == 0 else ""
            if role == Qt.ItemDataRole.ForegroundRole:
                return QBrush(QColor(RED))
            if role == self.ERROR_ROLE:
                return True
            return None
        r = self.row(index.row())
        if r is None:
            return None
        col = self.columns[index.column()]
        if role == Qt.ItemDataRole.DisplayRole:
            try:
                v = r.get(col.key)
                return col.fmt(v, r) if col.fmt else ("" if v is None else str(v))
            except Exception as e:  # noqa: BLE001 - one bad cell must not break the table
                return f"⚠ {e}"
        if role == self.ID_ROLE:
            return self.ids[index.row()]
        if role == self.ROW_ROLE:
            return r
        if role in (Qt.ItemDataRole.ForegroundRole, Qt.ItemDataRole.BackgroundRole):
            return self.style(r, col, role)
        if role == Qt.ItemDataRole.ToolTipRole:
            v = r.get(col.key)
            return None if v is None else str(col.fmt(v, r) if col.fmt else v)
        return None

    def style(self, row: dict[str, Any], col: Col, role: int) -> Any:
        """Status colours; subclasses override."""
        return None

    def flags(self, index: Index) -> Qt.ItemFlag:
        if not index.isValid():
            return Qt.ItemFlag.NoItemFlags
        return Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsSelectable


# -- formatting helpers ---------------------------------------------------------
def fmt_time(v: Any, _r: dict[str, Any] | None = None) -> str:
    """'2026-11-22T09:05:13+08:00' → '2026-11-22 09:05'."""
    if not v:
        return ""
    s = str(v)
    return s[:16].replace("T", " ")


def fmt_list(v: Any, _r: dict[str, Any] | None = None) -> str:
    if isinstance(v, (list, tuple)):
        return "、".join(str(x) for x in v)
    return "" if v is None else str(v)


def days_left(deadline: str | None, today: _dt.date | None = None) -> int | None:
    if not deadline:
        return None
    try:
        d = _dt.date.fromisoformat(str(deadline)[:10])
    except ValueError:
        return None
    return (d - (today or _dt.date.today())).days


class InspectionsModel(RowsModel):
    """检查: drafts and finished, newest first."""

    def style(self, row: dict[str, Any], col: Col, role: int) -> Any:
        if role == Qt.ItemDataRole.ForegroundRole and col.key == "status_text":
            return QBrush(QColor(GREY if row.get("status") == "finished" else "#1f5fa8"))
        return None


class RectificationsModel(RowsModel):
    """整改: overdue rows in red, due within 7 days in amber."""

    def style(self, row: dict[str, Any], col: Col, role: int) -> Any:
        left = days_left(row.get("deadline"))
        open_ = row.get("status") == "待整改"
        if role == Qt.ItemDataRole.BackgroundRole and open_ and left is not None:
            if left < 0:
                return QBrush(QColor(RED_BG))
            if left <= 7:
                return QBrush(QColor(AMBER_BG))
        if role == Qt.ItemDataRole.ForegroundRole and col.key == "days_text" and open_ and left is not None:
            return QBrush(QColor(RED if left < 0 else GREEN))
        return None


class TasksModel(RowsModel):
    """任务: tasks from the draw; done ones greyed."""

    def style(self, row: dict[str, Any], col: Col, role: int) -> Any:
        if role == Qt.ItemDataRole.ForegroundRole:
            if row.get("status") in ("done", "cancelled"):
                return QBrush(QColor(GREY))
            if col.key == "offline_text":
                return QBrush(QColor(GREEN if row.get("offline_ready") else RED))
        return None


class ListModel(RowsModel):
    """A model over an in-memory list (findings, trainee checks, history): same API, one page."""

    def __init__(self, columns: Sequence[Col], rows_fn: Callable[[], list[dict[str, Any]]], parent: Any = None):
        self._rows_fn = rows_fn
        super().__init__(columns, lambda off, lim: rows_fn() if off == 0 else [], page=10**9, parent=parent)
