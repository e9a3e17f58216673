"""问题台账 (Xinxiang 新人社办〔2023〕35号 附件3) as XLSX and PDF, with the annex's exact
header (日期, 单位(机构)), columns and footer (联系人, 填报人, 审核人)."""
from __future__ import annotations

import datetime as _dt
import io
import json
from typing import Any, Sequence

from reportlab.lib.pagesizes import A4, landscape
from reportlab.lib.units import mm
from reportlab.platypus import SimpleDocTemplate, Spacer, Table

from inspector.documents.common import MARGIN_X, P, Page, _numbered_canvas, fonts, grid_style

TITLE = "职业技能培训和评价工作专项整治行动问题台账"
COLUMNS = ("序号", "机构名称", "问题简述", "涉及人数", "资金金额", "责任人", "整改措施", "整改期限", "整改结果",
           "机构联系人及电话")
FOOTER = ("联系人", "填报人", "审核人")
_RESULT = {"待整改": "整改中", "已按期整改": "已按期整改", "逾期整改": "逾期整改", "拒不整改或敷衍整改": "拒不整改或敷衍整改"}


def rows_from_store(store: Any, *, institution_id: str | None = None, since: str | None = None,
                    until: str | None = None) -> list[dict[str, Any]]:
    """One ledger row per finding of finished (or any) inspections, with its rectification."""
    sql = ("SELECT f.*, i.name AS inst_name, i.legal_rep, i.contact, i.phone, s.started_at, s.id AS insp_id"
           " FROM findings f JOIN inspections s ON s.id = f.inspection_id"
           " JOIN institutions i ON i.id = s.institution_id WHERE 1=1")
    params: list[Any] = []
    if institution_id:
        sql += " AND s.institution_id = ?"
        params.append(institution_id)
    if since:
        sql += " AND s.started_at >= ?"
        params.append(since)
    if until:
        sql += " AND s.started_at < ?"
        params.append(until)
    out = []
    for r in store.rows(sql + " ORDER BY s.started_at, f.position", params):
        rect = store.one("SELECT * FROM rectifications WHERE inspection_id = ? ORDER BY created_at DESC LIMIT 1",
                         (r["insp_id"],))
        pic = json.loads(store.scalar("SELECT person_in_charge FROM inspections WHERE id = ?", (r["insp_id"],))
                         or "{}")
        codes = json.loads(r["codes"] or "[]")
        out.append({
            "机构名称": r["inst_name"],
            "问题简述": r["description"] + (f"（{'、'.join(codes)}）" if codes else ""),
            "涉及人数": r["people_involved"],
            "资金金额": r["amount"],
            "责任人": pic.get("name") or r["legal_rep"] or "",
            "整改措施": r["required_action"] or "",
            "整改期限": r["deadline"] or (rect or {}).get("deadline") or "",
            "整改结果": _RESULT.get(str(rect.get("status")), "") if rect else "",
            "机构联系人及电话": " ".join(x for x in (r["contact"], r["phone"]) if x),
        })
    return out


def write_xlsx(path: Any, rows: Sequence[dict[str, Any]], *, date: str | None = None, unit: str = "",
               footer: dict[str, str] | None = None) -> str:
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Border, Font, Side

    wb = Workbook()
    ws = wb.active
    ws.title = "问题台账"
    thin = Side(style="thin")
    border = Border(left=thin, right=thin, top=thin, bottom=thin)
    ws.append(["附件3"])
    ws.append([TITLE])
    ws.merge_cells(start_row=2, start_column=1, end_row=2, end_column=len(COLUMNS))
    ws["A2"].font = Font(size=16, bold=True)
    ws["A2"].alignment = Alignment(horizontal="center")
    ws.append([f"日期：{date or _dt.date.today().isoformat()}"])
    ws.append([f"单位（机构）：{unit}"])
    ws.append(list(COLUMNS))
    head_row = ws.max_row
    for n, r in enumerate(rows, 1):
        ws.append([n] + [r.get(c) if r.get(c) is not None else "" for c in COLUMNS[1:]])
    for row in ws.iter_rows(min_row=head_row, max_row=ws.max_row, max_col=len(COLUMNS)):
        for c in row:
            c.border = border
            c.alignment = Alignment(wrap_text=True, vertical="center")
    for c in ws[head_row]:
        c.font = Font(bold=True)
        c.alignment = Alignment(horizontal="center", vertical="center", wrap_text=True)
    for col, w in zip("ABCDEFGHIJ", (6, 24, 40, 9, 11, 10, 30, 12, 12, 20)):
        ws.column_dimensions[col].width = w
    ws.append([])
    f = footer or {}
    ws.append([f"{k}：{f.get(k, '')}" for k in FOOTER])
    ws.print_options.horizontalCentered = True
    ws.page_setup.orientation = "landscape"
    ws.page_setup.paperSize = ws.PAPERSIZE_A4
    wb.save(str(path))
    return str(path)


_LEDGER_ALIGN = {"涉及人数": "cell9c", "资金金额": "cell9r", "整改期限": "cell9c", "整改结果": "cell9c"}


def build_pdf(rows: Sequence[dict[str, Any]], *, date: str | None = None, unit: str = "",
              footer: dict[str, str] | None = None) -> bytes:
    fonts()
    page_w = landscape(A4)[0] - 2 * MARGIN_X
    # 9 pt cells; dates, amounts and phone numbers fit on one line (WQY's digits are wide)
    widths_mm = (11, 32, 50, 12, 19, 15, 36, 21, 21, 0)
    used = sum(w * mm for w in widths_mm[:-1])
    widths = [w * mm for w in widths_mm[:-1]] + [page_w - used]
    data = [[P(c, "cell9c") for c in COLUMNS]]
    for n, r in enumerate(rows, 1):
        r = dict(r)
        if r.get("问题简述"):  # codes on their own line, so "（" never ends a line
            r["问题简述"] = str(r["问题简述"]).replace("。（", "。\n（")
        amt = r.get("资金金额")
        cells = [P(str(n), "cell9c")]
        for c in COLUMNS[1:]:
            v = r.get(c)
            text = "" if v is None else f"{amt:,.2f}" if c == "资金金额" and isinstance(amt, (int, float)) else str(v)
            cells.append(P(text, _LEDGER_ALIGN.get(c, "cell9")))
        data.append(cells)
    t = Table(data, colWidths=widths, repeatRows=1)
    t.setStyle(grid_style([("VALIGN", (0, 0), (-1, -1), "TOP")]))
    f = footer or {}
    meta = Table([[P(f"日期：{date or _dt.date.today().isoformat()}", "body"), P(f"单位（机构）：{unit}", "body")]],
                 colWidths=[page_w / 2, page_w / 2])
    meta.setStyle(grid_style([("GRID", (0, 0), (-1, -1), 0, (1, 1, 1))]))
    foot = Table([[P(f"{k}：{f.get(k, '')}", "body") for k in FOOTER]], colWidths=[page_w / 3] * 3)
    foot.setStyle(grid_style([("GRID", (0, 0), (-1, -1), 0, (1, 1, 1))]))
    story = [P("附件3", "body"), P(TITLE, "title"), meta, Spacer(1, 2 * mm), t, Spacer(1, 5 * mm), foot]
    buf = io.BytesIO()
    doc = SimpleDocTemplate(buf, pagesize=landscape(A4), leftMargin=MARGIN_X, rightMargin=MARGIN_X,
                            topMargin=18 * mm, bottomMargin=18 * mm, title=TITLE, creator="inspector", invariant=1)
    doc.build(story, canvasmaker=_numbered_canvas(Page(title=TITLE)))
    return buf.getvalue()
