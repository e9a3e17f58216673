"""Plain titled lists (公示 list, results of checks) as XLSX and PDF: one header row, bordered."""
from __future__ import annotations

import io
from typing import Any, Sequence


def write_xlsx(path: Any, title: str, columns: Sequence[str], rows: Sequence[Sequence[Any]], *,
               subtitle: str = "", footer: str = "") -> str:
    """A titled list, print-ready (inspector.reports.xlsx_print): columns sized to their content
    and wrapped, dates (columns named …日期) as date cells, one landscape page wide, the header
    row repeated on every page."""
    from openpyxl import Workbook

    from inspector.reports import xlsx_print as X

    wb = Workbook()
    ws = wb.active
    ws.title = title[:28]
    n = len(columns)
    X.line(ws, 1, title, n, size=15, bold=True, horizontal="center")
    if subtitle:
        X.line(ws, 2, subtitle, n, horizontal="center")
    head = ws.max_row + 1
    for j, c in enumerate(columns, 1):
        cell = ws.cell(head, j, c)
        cell.font = X.font(bold=True)
        cell.alignment = X.align("center")
    dates = {j for j, c in enumerate(columns) if c.endswith("日期")}
    for i, r in enumerate(rows, head + 1):
        for j, v in enumerate(r):
            cell = ws.cell(i, j + 1)
            if j in dates:
                X.set_date(cell, v)
            elif isinstance(v, (int, float)) and not isinstance(v, bool):
                X.set_count(cell, v)
            else:
                cell.value = "" if v is None else v
            short = isinstance(v, (int, float)) or j in dates or len(str(v or "")) <= 4
            cell.alignment = X.align("center" if short else "left")
    for row in ws.iter_rows(min_row=head, max_row=ws.max_row, max_col=n):
        for cell in row:
            cell.border = X.border()
    X.set_widths(ws, X.auto_widths(columns, [[X.date_text(v) if k in dates else v for k, v in enumerate(r)]
                                             for r in rows]))
    if footer:
        X.line(ws, ws.max_row + 2, footer, n)
    X.finish(ws, landscape=True, title_rows=(head, head))
    wb.save(path if hasattr(path, "write") else str(path))
    return str(path)


def build_pdf(title: str, columns: Sequence[str], rows: Sequence[Sequence[Any]], *, subtitle: str = "",
              footer: str = "", widths: Sequence[float] | None = None) -> bytes:
    from reportlab.lib.pagesizes import A4, landscape
    from reportlab.lib.units import mm
    from reportlab.platypus import SimpleDocTemplate, Spacer, Table

    from inspector.render.common import MARGIN_X, P, Page, _numbered_canvas, grid_style

    page_w = landscape(A4)[0] - 2 * MARGIN_X
    if widths:
        total = sum(widths)
        cw = [page_w * w / total for w in widths]
    else:
        cw = [page_w / len(columns)] * len(columns)
    data = [[P(c, "cellc") for c in columns]] + [[P("" if v is None else v, "cell") for v in r] for r in rows]
    t = Table(data, colWidths=cw, repeatRows=1)
    t.setStyle(grid_style([("BACKGROUND", (0, 0), (-1, 0), (0.92, 0.92, 0.92))]))
    story = [P(title, "title")]
    if subtitle:
        story.append(P(subtitle, "center"))
    story += [Spacer(1, 3 * mm), t]
    if footer:
        story += [Spacer(1, 4 * mm), P(footer, "body")]
    buf = io.BytesIO()
    doc = SimpleDocTemplate(buf, pagesize=landscape(A4), leftMargin=MARGIN_X, rightMargin=MARGIN_X,
                            topMargin=18 * mm, bottomMargin=18 * mm, title=title, creator="inspector", invariant=1)
    doc.build(story, canvasmaker=_numbered_canvas(Page(title=title)))
    return buf.getvalue()
