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

from inspector.render.common import MARGIN_X, P, Page, _numbered_canvas, fonts, grid_style

TITLE = "职业技能培训和评价工作专项整治行动问题台账"
COLUMNS = ("序号", "机构名称", "问题简述", "涉及人数", "资金金额", "责任人", "整改措施", "整改期限", "整改结果",
           "机构联系人及电话")
FOOTER = ("联系人", "填报人", "审核人")
_RESULT = {"待整改": "整改中", "已按期整改": "已按期整改", "逾期整改": "逾期整改", "拒不整改或敷衍整改": "拒不整改或敷衍整改"}


def rows_from_store(store: Any, *, institution_id: str | None = None, since: str | None = None,
                    until: str | None = None, profile: Any = None) -> list[dict[str, Any]]:
    """One ledger row per finding of finished (or any) inspections, with its rectification. The
    问题简述 states the facts as the documents do, with what the finding cites under the laptop's
    jurisdiction profile (catalogue codes, or the bureau's problem category)."""
    from inspector import profiles
    from inspector.render import parts
    from inspector.store import documents as docs

    prof = profile or profiles.active(store)
    gathered: dict[str, dict[str, Any]] = {}
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
        if r["insp_id"] not in gathered:
            gathered[r["insp_id"]] = docs.gather(store, r["insp_id"])
        f = next((x for x in gathered[r["insp_id"]]["findings"] if x["id"] == r["id"]), None)
        if f is not None:
            f["cite"] = prof.cite(f.get("item_id"), f.get("basis"), f.get("codes"))
            _, labels = parts.cited(f)
            brief = parts.facts(f) + (f"（{labels}）" if labels != "—" else "")
        else:
            codes = prof.codes_for(json.loads(r["codes"] or "[]"))
            brief = r["description"] + (f"（{'、'.join(codes)}）" if codes else "")
        out.append({
            "机构名称": r["inst_name"],
            "问题简述": brief,
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
               footer: dict[str, str] | None = None, annex: str = "", title: str = TITLE) -> str:
    """The annex as the seed lays it out, print-ready (inspector.reports.xlsx_print): 整改期限 and
    日期 as date cells, 资金金额 as an amount, the header row repeated on every page."""
    from openpyxl import Workbook

    from inspector.reports import xlsx_print as X

    wb = Workbook()
    ws = wb.active
    ws.title = "问题台账"
    n = len(COLUMNS)
    X.line(ws, 1, annex, n, size=11)
    X.line(ws, 2, title, n, size=16, bold=True, horizontal="center")
    ws.cell(3, 1, "日期：").alignment = X.align("left")
    X.set_date(ws.cell(3, 2), date or _dt.date.today().isoformat())
    ws.cell(3, 2).alignment = X.align("left")
    X.line(ws, 4, f"单位（机构）：{unit}", n)
    head = 5
    for j, c in enumerate(COLUMNS, 1):
        cell = ws.cell(head, j, c)
        cell.font = X.font(bold=True)
        cell.alignment = X.align("center")
    centred = {"序号", "涉及人数", "整改期限", "整改结果", "责任人"}
    for i, r in enumerate(rows, 1):
        row = head + i
        X.set_count(ws.cell(row, 1), i)
        ws.cell(row, 1).alignment = X.align("center")
        for j, c in enumerate(COLUMNS[1:], 2):
            v = r.get(c)
            cell = ws.cell(row, j)
            if c == "资金金额":
                X.set_money(cell, v)
            elif c == "整改期限":
                X.set_date(cell, v)
            elif c == "涉及人数":
                X.set_count(cell, v if v is not None else "")
            else:
                cell.value = "" if v is None else v
            cell.alignment = X.align("right" if c == "资金金额" else "center" if c in centred else "left")
    for row in ws.iter_rows(min_row=head, max_row=ws.max_row, max_col=n):
        for cell in row:
            cell.border = X.border()
    X.set_widths(ws, (7.5, 22, 38, 9, 13, 9, 26, 15, 12, 17))
    # the seed's signature lines, each over a third of the width so no name is hidden
    f = footer or {}
    last = ws.max_row + 2
    for k, (a, b) in zip(FOOTER, ((1, 3), (4, 7), (8, 10))):
        X.line(ws, last, f"{k}：{f.get(k, '')}", b, first_col=a)
    X.finish(ws, landscape=True, title_rows=(head, head))
    wb.save(str(path))
    return str(path)


_LEDGER_ALIGN = {"涉及人数": "cell9c", "资金金额": "cell9r", "整改期限": "cell9c", "整改结果": "cell9c"}


DRAFT_NOTE = "草稿：本机生成，未经总部编号与签章，不作为正式台账"


def build_pdf(rows: Sequence[dict[str, Any]], *, date: str | None = None, unit: str = "",
              footer: dict[str, str] | None = None, annex: str = "", number: str | None = None,
              title: str = TITLE) -> bytes:
    """The ledger as a PDF. Only HQ issues it (``number`` given; HQ then signs it,
    inspector/hq/ledger_issue.py); without a number it is a draft and says so on every page."""
    draft = number is None
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
    # annex label and title from the jurisdiction profile: "附件3" only for 新人社办〔2023〕35号's form
    story = [P(annex, "body"), P(title + ("（草稿）" if draft else ""), "title")]
    story.append(P(DRAFT_NOTE if draft else number, "number"))
    story += [meta, Spacer(1, 2 * mm), t, Spacer(1, 5 * mm), foot]
    buf = io.BytesIO()
    doc = SimpleDocTemplate(buf, pagesize=landscape(A4), leftMargin=MARGIN_X, rightMargin=MARGIN_X,
                            topMargin=18 * mm, bottomMargin=18 * mm, title=title, creator="inspector", invariant=1)
    doc.build(story, canvasmaker=_numbered_canvas(Page(title=title + ("（草稿）" if draft else ""), number=number)))
    return buf.getvalue()
