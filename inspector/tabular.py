"""Reading and writing the spreadsheets bureaus exchange: XLSX, and CSV as Excel in China writes it.

CSV is tried as UTF-8 (with or without BOM) first, then GB18030 (a superset of GBK/GB2312).
The header is row 1 and data rows keep the numbers the user sees in Excel (first data row = 2),
so every error message can point at the right line. Fully empty rows are skipped.
"""
from __future__ import annotations

import csv
import datetime as _dt
import io
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable, Sequence

from inspector.errors import ImportRowsError

# columns people add to every sheet; harmless, ignored
IGNORED_HEADERS = frozenset({"序号", "备注"})


@dataclass(frozen=True)
class Column:
    key: str
    header: str
    required: bool = True
    aliases: tuple[str, ...] = ()


@dataclass
class Table:
    """Rows of one sheet, keyed by Column.key, each with its Excel row number."""

    name: str                                   # file name, for messages
    rows: list[tuple[int, dict[str, str]]] = field(default_factory=list)
    headers: list[str] = field(default_factory=list)


def norm_header(h: Any) -> str:
    """NFKC, no spaces, no required-marker asterisk: '＊机构 名称' → '机构名称'."""
    s = unicodedata.normalize("NFKC", "" if h is None else str(h))
    s = "".join(s.split()).strip("*")
    return s


def cell_text(v: Any) -> str:
    """A cell as the text the user typed: 12.0 → '12', dates as ISO."""
    if v is None:
        return ""
    if isinstance(v, bool):
        return "是" if v else "否"
    if isinstance(v, float):
        return str(int(v)) if v.is_integer() else repr(v)
    if isinstance(v, _dt.datetime):
        return v.date().isoformat() if v.time() == _dt.time() else v.isoformat(sep=" ")
    if isinstance(v, _dt.date):
        return v.isoformat()
    return str(v).strip()


def decode_csv_bytes(data: bytes, name: str) -> str:
    if data.startswith(b"\xef\xbb\xbf"):
        return data[3:].decode("utf-8")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:  # not UTF-8: GB18030 (what Excel saves on a Chinese Windows) next
        pass
    try:
        return data.decode("gb18030")
    except UnicodeDecodeError as e:
        raise ImportRowsError(f"{name}: 无法识别文件编码（应为 UTF-8 或 GB18030）") from e


def read_raw(path: str | Path) -> tuple[list[Any], Iterable[tuple[int, Sequence[Any]]]]:
    """Header cells and an iterator of (row number, cells) of the first sheet / the CSV."""
    p = Path(path)
    name = p.name
    if not p.exists():
        raise ImportRowsError(f"{name}: 文件不存在")
    suffix = p.suffix.lower()
    if suffix in (".xlsx", ".xlsm"):
        import openpyxl

        try:
            wb = openpyxl.load_workbook(p, read_only=True, data_only=True)
        except Exception as e:  # openpyxl raises many kinds for a damaged file
            raise ImportRowsError(f"{name}: 无法读取 Excel 文件（{e}）") from e
        ws = wb.worksheets[0]
        it = ws.iter_rows(values_only=True)
        header = list(next(it, ()) or ())

        def gen() -> Iterable[tuple[int, Sequence[Any]]]:
            try:
                for i, r in enumerate(it, start=2):
                    yield i, r
            finally:
                wb.close()

        return header, gen()
    if suffix in (".csv", ".txt"):
        text = decode_csv_bytes(p.read_bytes(), name)
        reader = csv.reader(io.StringIO(text, newline=""))
        header = next(reader, [])
        return header, ((i, r) for i, r in enumerate(reader, start=2))
    raise ImportRowsError(f"{name}: 不支持的文件类型 {p.suffix or '（无扩展名）'}，请使用 .xlsx 或 .csv")


def read_table(path: str | Path, columns: Sequence[Column]) -> Table:
    """Read a sheet and map its header onto ``columns``.

    A missing required column or an unknown column is an error that names the column.
    """
    name = Path(path).name
    header, rows = read_raw(path)
    if not any(norm_header(h) for h in header):
        raise ImportRowsError(f"{name}: 文件是空的，第 1 行应为表头")
    by_header: dict[str, Column] = {}
    for c in columns:
        for h in (c.header, *c.aliases):
            by_header[norm_header(h)] = c
    index: dict[int, str] = {}
    problems = []
    seen: dict[str, int] = {}
    for i, h in enumerate(header):
        nh = norm_header(h)
        if not nh or nh in IGNORED_HEADERS:
            continue
        col = by_header.get(nh)
        if col is None:
            problems.append(f"{name}: 第 1 行: 未知的列 \"{cell_text(h)}\"（第 {i + 1} 列）")
            continue
        if col.key in seen:
            problems.append(f"{name}: 第 1 行: 列 \"{col.header}\" 出现了两次")
            continue
        seen[col.key] = i
        index[i] = col.key
    for c in columns:
        if c.required and c.key not in seen:
            problems.append(f"{name}: 第 1 行: 缺少必填列 \"{c.header}\"")
    if problems:
        raise ImportRowsError(f"{name}: 表头有误", problems)
    table = Table(name=name, headers=[cell_text(h) for h in header])
    keys = [c.key for c in columns]
    for rowno, cells in rows:
        rec = dict.fromkeys(keys, "")
        empty = True
        for i, key in index.items():
            v = cell_text(cells[i]) if i < len(cells) else ""
            if v:
                empty = False
            rec[key] = v
        if not empty:
            table.rows.append((rowno, rec))
    return table


def write_table(path: str | Path, headers: Sequence[str], rows: Iterable[Sequence[Any]],
                *, encoding: str = "utf-8-sig", sheet: str = "Sheet1") -> Path:
    """Write XLSX (by suffix) or CSV in ``encoding`` ('utf-8', 'utf-8-sig', 'gb18030')."""
    p = Path(path)
    if p.suffix.lower() == ".xlsx":
        import openpyxl

        wb = openpyxl.Workbook(write_only=True)
        ws = wb.create_sheet(sheet)
        ws.append(list(headers))
        for r in rows:
            ws.append(["" if v is None else v for v in r])
        wb.save(p)
        return p
    with open(p, "w", encoding=encoding, newline="") as f:
        w = csv.writer(f)
        w.writerow(headers)
        for r in rows:
            w.writerow(["" if v is None else v for v in r])
    return p
