"""Print-ready XLSX: what every spreadsheet the laptop and HQ write shares, so that it prints in
Excel, WPS or LibreOffice the way a clerk expects without touching 页面设置.

- page setup: A4, orientation, fit to one page wide (any number of pages tall), margins, the
  header rows repeated on every page, 第 &P 页 / 共 &N 页 in the footer, centred horizontally;
- row heights computed for wrapped text (no spreadsheet program sizes rows on opening a file
  written by openpyxl): a CJK/full-width character counts 2 units, anything else 1 unit, per
  line, against the column's (or merged range's) width; words are not split unless longer
  than a line, closing punctuation never starts a line;
- dates as date cells in the bureau's format (2027年1月1日), amounts as numbers in a currency
  format, long identifiers (SHA-256, draw id) wrapped in full.

The unit of width is deliberately generous (0.6 em per unit, so a CJK character is given
1.2 em): 宋体/SimSun draws ASCII at 0.5 em and CJK at 1 em, the substitutes other machines use
(WenQuanYi, Noto CJK, their mono faces) at most 0.6 em and 1 em, so no row is ever too short.
"""
from __future__ import annotations

import datetime as _dt
import math
import re
import unicodedata
from typing import Any, Iterable

FONT_NAME = "宋体"
BODY_SIZE = 10.0
DATE_FORMAT = 'yyyy"年"m"月"d"日"'
MONEY_FORMAT = '"¥"#,##0.00'
COUNT_FORMAT = "0"
PAGE_FOOTER = "第 &P 页 / 共 &N 页"
UNNAMED_AGENCY = "人力资源和社会保障局"   # HQ's default agency: the place is still to be named

EM_PER_UNIT = 0.6        # see the module docstring
LINE_EM = 1.25           # line height of 宋体 and its substitutes, in em
ROW_PAD_PT = 3.0         # space above and below the text of a cell
CELL_PAD_PT = 5.0        # left + right inner margin of a cell
# Excel's column width is in characters of the workbook's default font (Calibri 11: 7 px a
# character plus 5 px of padding at 96 dpi); LibreOffice converts the same way
PX_PER_CHAR = 7.0
PX_PAD = 5.0

_DATE = re.compile(r"^(\d{4})-(\d{2})-(\d{2})(?:$|[T ])")
# never at the start of a line (GB/T 15834 and every spreadsheet's kinsoku rules)
_NO_START = set("，。、；：！？）】》」』”’,.;:!?)]}%·…—")
_NO_END = set("（【《「『“‘([{")


# -- measuring ---------------------------------------------------------------------------------
def char_units(ch: str) -> int:
    """2 for CJK and full-width characters, 1 for the rest."""
    return 2 if unicodedata.east_asian_width(ch) in ("W", "F") else 1


def text_units(text: str) -> int:
    """Units of the longest line of ``text``."""
    return max((sum(char_units(c) for c in line) for line in str(text).split("\n")), default=0)


def _tokens(line: str) -> list[str]:
    """Pieces a line may break between: one CJK character, an ASCII word, a space; closing
    punctuation is glued to what precedes it, opening punctuation to what follows."""
    raw: list[str] = []
    word = ""
    for ch in line:
        if char_units(ch) == 1 and not ch.isspace() and ch not in _NO_START and ch not in _NO_END:
            word += ch
            continue
        if word:
            raw.append(word)
            word = ""
        raw.append(ch)
    if word:
        raw.append(word)
    out: list[str] = []
    glue_next = False
    for t in raw:
        if out and (glue_next or t in _NO_START):
            out[-1] += t
        else:
            out.append(t)
        glue_next = t in _NO_END
    return out


def wrapped_lines(text: Any, capacity: float) -> int:
    """Lines ``text`` takes when wrapped in ``capacity`` units (greedy, like the programs do)."""
    s = "" if text is None else str(text)
    cap = max(capacity, 2.0)
    total = 0
    for line in s.split("\n"):
        n, used = 1, 0.0
        for tok in _tokens(line):
            w = sum(char_units(c) for c in tok)
            if used + w <= cap:
                used += w
                continue
            if tok.isspace():          # a space at a break is dropped
                continue
            if w > cap:                # longer than a line: broken by character
                for c in tok:
                    cw = char_units(c)
                    if used + cw > cap:
                        n, used = n + 1, 0.0
                    used += cw
                continue
            n, used = n + 1, float(w)
        total += n
    return total


def width_pt(chars: float) -> float:
    """A column width in characters, as points on paper (at 100 %)."""
    return (chars * PX_PER_CHAR + PX_PAD) * 0.75


def capacity(chars: float, size: float = BODY_SIZE) -> float:
    """Units of text that fit on one line of a cell ``chars`` wide in a ``size`` pt font."""
    return max(1.0, (width_pt(chars) - CELL_PAD_PT) / (EM_PER_UNIT * size))


def line_height(size: float = BODY_SIZE) -> float:
    return size * LINE_EM


def row_height_for(lines: int, size: float = BODY_SIZE) -> float:
    return round(lines * line_height(size) + ROW_PAD_PT, 1)


# -- cells -----------------------------------------------------------------------------------------
def font(size: float = BODY_SIZE, bold: bool = False) -> Any:
    from openpyxl.styles import Font

    return Font(name=FONT_NAME, size=size, bold=bold)


def align(horizontal: str | None = None, vertical: str = "center") -> Any:
    from openpyxl.styles import Alignment

    return Alignment(horizontal=horizontal, vertical=vertical, wrap_text=True)


def border() -> Any:
    from openpyxl.styles import Border, Side

    thin = Side(style="thin")
    return Border(left=thin, right=thin, top=thin, bottom=thin)


def as_date(value: Any) -> _dt.date | None:
    """A date from a date, a datetime or an ISO text ('2026-04-30', '2026-04-30T09:00:00+08:00')."""
    if isinstance(value, _dt.datetime):
        return value.date()
    if isinstance(value, _dt.date):
        return value
    m = _DATE.match(str(value or "").strip())
    if not m:
        return None
    try:
        return _dt.date(int(m.group(1)), int(m.group(2)), int(m.group(3)))
    except ValueError:
        return None


def date_text(value: Any) -> str:
    """'2026-04-30' → '2026年4月30日' (the bureau's way); other text unchanged."""
    d = as_date(value)
    return f"{d.year}年{d.month}月{d.day}日" if d else ("" if value is None else str(value))


def set_date(cell: Any, value: Any) -> None:
    """A date cell in the bureau's format, or the text as given when it is not a date."""
    d = as_date(value)
    cell.value = d if d else ("" if value is None else value)
    if d:
        cell.number_format = DATE_FORMAT


def set_money(cell: Any, value: Any) -> None:
    """An amount as a number with the currency format; blank stays blank."""
    if value is None or value == "":
        cell.value = None
        return
    try:
        cell.value = round(float(value), 2)
    except (TypeError, ValueError):
        cell.value = value
        return
    cell.number_format = MONEY_FORMAT


def set_count(cell: Any, value: Any) -> None:
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    cell.value = value
    if isinstance(value, int):
        cell.number_format = COUNT_FORMAT


def shown_text(cell: Any) -> str:
    """The text a cell shows when printed (for sizing and for the print tests)."""
    v = cell.value
    if v is None:
        return ""
    if isinstance(v, (_dt.date, _dt.datetime)):
        return date_text(v)
    if isinstance(v, bool):
        return "TRUE" if v else "FALSE"
    if isinstance(v, (int, float)):
        if cell.number_format == MONEY_FORMAT:
            return f"¥{v:,.2f}"
        if isinstance(v, float) and v.is_integer():
            return str(int(v))
        return str(v)
    return str(v)


def named_unit(agency: str | None) -> str:
    """The agency as 填报单位 when it is really named; HQ's unnamed default → '' (the clerk fills it)."""
    a = (agency or "").strip()
    return "" if not a or a == UNNAMED_AGENCY else a


# -- sheet ---------------------------------------------------------------------------------------------
def col_width(ws: Any, col: int) -> float:
    from openpyxl.utils import get_column_letter

    w = ws.column_dimensions[get_column_letter(col)].width
    return float(w) if w else 8.43


def set_widths(ws: Any, widths: Iterable[float]) -> None:
    """Column widths in characters, from column A."""
    from openpyxl.utils import get_column_letter

    for j, w in enumerate(widths, 1):
        ws.column_dimensions[get_column_letter(j)].width = w


def fit_row_heights(ws: Any, min_row: int = 1, max_row: int | None = None) -> None:
    """Set every row's height so its wrapped text shows whole (merged ranges over their full width;
    a range over several rows grows its last row when the rows together are too short)."""
    max_row = max_row or ws.max_row
    spans: dict[tuple[int, int], tuple[int, int]] = {}   # top-left -> (last row, last col)
    covered: set[tuple[int, int]] = set()
    for rng in ws.merged_cells.ranges:
        spans[(rng.min_row, rng.min_col)] = (rng.max_row, rng.max_col)
        for r in range(rng.min_row, rng.max_row + 1):
            for c in range(rng.min_col, rng.max_col + 1):
                if (r, c) != (rng.min_row, rng.min_col):
                    covered.add((r, c))
    need: dict[int, float] = {}
    tall: list[tuple[int, int, float]] = []
    for r in range(min_row, max_row + 1):
        h = row_height_for(1)
        for cell in ws[r]:
            c = cell.column
            if (r, c) in covered:
                continue
            text = shown_text(cell)
            size = float(cell.font.sz or BODY_SIZE) if cell.font else BODY_SIZE
            last_r, last_c = spans.get((r, c), (r, c))
            chars = sum(col_width(ws, x) for x in range(c, last_c + 1))
            lines = wrapped_lines(text, capacity(chars, size)) if text else 1
            want = row_height_for(lines, size)
            if last_r > r:
                tall.append((r, last_r, want))
            else:
                h = max(h, want)
        need[r] = h
    for top, last, want in tall:
        have = sum(need.get(x, row_height_for(1)) for x in range(top, last + 1))
        if have < want:
            need[last] = need.get(last, row_height_for(1)) + (want - have)
    for r, h in need.items():
        ws.row_dimensions[r].height = h


def apply_font(ws: Any, *, size: float = BODY_SIZE) -> None:
    """Cells still in openpyxl's default font get the body font (bold and size kept)."""
    from openpyxl.styles import Font

    for row in ws.iter_rows():
        for cell in row:
            f = cell.font
            if f is None or f.name != FONT_NAME:
                cell.font = Font(name=FONT_NAME, size=(f.sz if f is not None and f.sz and f.sz != 11 else size),
                                 bold=bool(f.b) if f is not None else False)


def page_setup(ws: Any, *, landscape: bool = True, title_rows: tuple[int, int] | None = None,
               fit_width: bool = True) -> None:
    """A4, orientation, one page wide, margins, repeated header rows, page x / y in the footer."""
    from openpyxl.worksheet.page import PageMargins

    ws.page_setup.paperSize = ws.PAPERSIZE_A4
    ws.page_setup.orientation = "landscape" if landscape else "portrait"
    if fit_width:
        ws.sheet_properties.pageSetUpPr.fitToPage = True
        ws.page_setup.fitToWidth = 1
        ws.page_setup.fitToHeight = 0      # as many pages tall as it takes
    ws.page_margins = PageMargins(left=0.55, right=0.55, top=0.7, bottom=0.75, header=0.3, footer=0.35)
    ws.print_options.horizontalCentered = True
    if title_rows:
        ws.print_title_rows = f"{title_rows[0]}:{title_rows[1]}"
    ws.oddFooter.center.text = PAGE_FOOTER
    ws.oddFooter.center.size = 9
    ws.evenFooter.center.text = PAGE_FOOTER


def widen_for_numbers(ws: Any) -> None:
    """Numbers and dates do not wrap (a program shows ### instead): widen their columns to fit."""
    from openpyxl.utils import get_column_letter

    merged = {(r.min_row, r.min_col) for r in ws.merged_cells.ranges}
    for row in ws.iter_rows():
        for cell in row:
            if isinstance(cell.value, (int, float, _dt.date)) and not isinstance(cell.value, bool) \
                    and (cell.row, cell.column) not in merged:
                size = float(cell.font.sz or BODY_SIZE) if cell.font else BODY_SIZE
                units = text_units(shown_text(cell)) + 1
                if capacity(col_width(ws, cell.column), size) < units:
                    chars = ((units * EM_PER_UNIT * size + CELL_PAD_PT) / 0.75 - PX_PAD) / PX_PER_CHAR
                    ws.column_dimensions[get_column_letter(cell.column)].width = math.ceil(chars * 2) / 2


def finish(ws: Any, *, landscape: bool = True, title_rows: tuple[int, int] | None = None,
           fit_width: bool = True) -> None:
    """The last step of every writer: fonts, widths for numbers, row heights, page setup."""
    apply_font(ws)
    widen_for_numbers(ws)
    fit_row_heights(ws)
    page_setup(ws, landscape=landscape, title_rows=title_rows, fit_width=fit_width)


def line(ws: Any, row: int, text: str, ncol: int, *, first_col: int = 1, size: float = BODY_SIZE,
         bold: bool = False, horizontal: str = "left") -> Any:
    """A line of text over the table's width (title, 日期, 注): merged, wrapped, never cut."""
    cell = ws.cell(row, first_col, text)
    if ncol > first_col:
        ws.merge_cells(start_row=row, start_column=first_col, end_row=row, end_column=ncol)
    cell.font = font(size, bold)
    cell.alignment = align(horizontal)
    return cell


def chars_for(units: float, size: float = BODY_SIZE) -> float:
    """The column width (characters) that holds ``units`` on one line (inverse of ``capacity``)."""
    return ((units * EM_PER_UNIT * size + CELL_PAD_PT) / 0.75 - PX_PAD) / PX_PER_CHAR


def header_label(text: str, chars: float, size: float = BODY_SIZE) -> str:
    """A header like '不考试发证（个）' that must wrap breaks before its unit, so a bracket never
    starts or ends a line by itself (spreadsheet programs break CJK text anywhere)."""
    i = text.rfind("（")
    if i <= 0 or not text.endswith("）") or wrapped_lines(text, capacity(chars, size)) <= 1:
        return text
    return text[:i] + "\n" + text[i:]


def auto_widths(headers: Iterable[str], rows: Iterable[Iterable[Any]], *, budget: float = 150.0,
                minimum: float = 5.0, maximum: float = 46.0) -> list[float]:
    """Column widths (characters) from the content: each column as wide as its longest text (the
    header on one line) up to ``maximum``; then, while the table is wider than ``budget``
    (landscape A4 at 100 %), the column with most room to give is narrowed — never below its
    header on two lines."""
    hs = list(headers)
    natural = [min(maximum, max(minimum, chars_for(text_units(h) + 1))) for h in hs]
    for r in rows:
        for i, v in enumerate(r):
            if i < len(natural):
                natural[i] = max(natural[i], min(maximum, chars_for(text_units(date_text(v)) + 1)))
    floor = [min(n, max(minimum, chars_for(text_units(h) / 2 + 2))) for n, h in zip(natural, hs)]
    while sum(natural) > budget:
        i = max(range(len(natural)), key=lambda k: natural[k] - floor[k])
        if natural[i] - floor[i] < 0.5:
            break
        natural[i] = max(floor[i], natural[i] - 0.5)
    return [math.ceil(w * 2) / 2 for w in natural]
