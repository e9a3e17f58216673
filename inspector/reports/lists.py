"""Plain titled lists (公示 list, results of checks) as XLSX and PDF: one header row, bordered."""
from __future__ import annotations

import io
from typing import Any, Sequence


def write_xlsx(path: Any, title: str, columns: Sequence[str], rows: Sequence[Sequence[Any]], *,
               subtitle: str = "", footer: str = "") -> str:
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Border, Font, Side

    wb = Workbook()
    ws = wb.active
    ws.title = title[:28]
    thin = Side(style="thin")
    border = Border(left=thin, right=thin, top=thin, bottom=thin)
    ws.append([title])
    ws.merge_cells(start_row=1, start_column=1, end_row=1, end_column=len(columns))
    ws["A1"].font = Font(size=15, bold=True)
    ws["A1"].alignment = Alignment(horizontal="center")
    if subtitle:
        ws.append([subtitle])
    ws.append(list(columns))
    head = ws.max_row
    for r in rows:
        ws.append(["" if v is None else v for v in r])
    for row in ws.iter_rows(min_row=head, max_row=ws.max_row, max_col=len(columns)):
        for c in row:
            c.border = border
            c.alignment = Alignment(wrap_text=True, vertical="center")
    for c in ws[head]:
        c.font = Font(bold=True)
        c.alignment = Alignment(horizontal="center", vertical="center", wrap_text=True)
    for i, name in enumerate(columns, 1):
        ws.column_dimensions[ws.cell(head, i).column_letter].width = max(8, min(40, 4 + 2 * len(name) + 6))
    if footer:
        ws.append([])
        ws.append([footer])
    ws.page_setup.orientation = "landscape"
    wb.save(path if hasattr(path, "write") else str(path))
    return str(path)


def build_pdf(title: str, columns: Sequence[str], rows: Sequence[Sequence[Any]], *, subtitle: str = "",
              footer: str = "", widths: Sequence[float] | None = None) -> bytes:
    from reportlab.lib.pagesizes import A4, landscape
    from reportlab.lib.units import mm
    from reportlab.platypus import SimpleDocTemplate, Spacer, Table

    from inspector.documents.common import MARGIN_X, P, Page, _numbered_canvas, grid_style

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
