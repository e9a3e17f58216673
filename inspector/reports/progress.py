"""Shandong progress tables (鲁人社函〔2023〕65号 附件1 职业技能培训, 附件2 职业技能评价),
computed from HQ's rows for a period, with the rows behind every number (drill-down).

Inputs are plain dicts as HQ stores them (JSON columns may be str or already decoded):
institutions by id, inspections, findings, and the clerk's per-finding 处理情况 records
(``handling``: category override, project/工种, certificates, recovered money, removed from
the project or institution catalogue, note). How each column is counted: docs/reports.md.
"""
from __future__ import annotations

import io
import json
from dataclasses import dataclass, field
from typing import Any, Iterable, Mapping

from inspector.reports import mapping as M

NOTE = "注：每月 13 日、28 日前将情况表（盖章 PDF 版、Word 电子版）报省公共就业和人才服务中心。"
TITLE = "职业技能培训和评价问题专项治理行动进展情况表"
COUNTED = ("finished", "signed", "locked", "closed")  # inspection statuses that count as 已排查


@dataclass(frozen=True)
class Column:
    key: str
    label: str
    group: str | None = None   # the upper header cell (已核实（个）/ 处理情况), None = spans both rows


TRAINING_COLUMNS = (
    Column("total", "排查总量（个）"),
    Column("低效无效", "低效无效（个）", "已核实（个）"),
    Column("造假骗补冒领", "造假骗补冒领（个）", "已核实（个）"),
    Column("违规转包", "违规转包（个）", "已核实（个）"),
    Column("removed", "移出目录（个）", "处理情况"),
    Column("recovered", "追回补贴资金（元）", "处理情况"),
    Column("other", "其他需要说明的情况"),
)
EVALUATION_COLUMNS = (
    Column("total", "排查总量（个）"),
    Column("编造材料虚假评价发证", "编造材料虚假评价发证（个）", "已核实（个）"),
    Column("不考试发证", "不考试发证（个）", "已核实（个）"),
    Column("制售山寨证书", "制售山寨证书（个）", "已核实（个）"),
    Column("内外勾结倒卖证书", "内外勾结倒卖证书（个）", "已核实（个）"),
    Column("certificates", "涉及证书（本）", "已核实（个）"),
    Column("recovered", "追回补贴资金（元）", "处理情况"),
    Column("other", "其他需要说明的情况"),
)


@dataclass
class Cell:
    value: Any = 0
    refs: list[dict[str, Any]] = field(default_factory=list)  # the rows behind the number


@dataclass
class Row:
    number: int
    label: str
    cells: dict[str, Cell]


@dataclass
class ProgressTable:
    annex: str            # 附件1 / 附件2
    kind: str             # 培训机构 / 评价机构
    subtitle: str         # （职业技能培训）
    columns: tuple[Column, ...]
    rows: list[Row]
    since: str | None = None
    until: str | None = None

    def values(self) -> list[list[Any]]:
        """[[label, value per column…]] — what the printed table shows."""
        return [[r.label] + [r.cells[c.key].value for c in self.columns] for r in self.rows]

    def cell(self, row: int, key: str) -> Cell:
        return self.rows[row].cells[key]


def _list(v: Any) -> list[Any]:
    if v is None or v == "":
        return []
    if isinstance(v, str):
        try:
            v = json.loads(v)
        except ValueError:
            return [v]
    return list(v) if isinstance(v, (list, tuple)) else [v]


def _num(v: Any) -> float:
    try:
        return float(v or 0)
    except (TypeError, ValueError):
        return 0.0


def in_period(day: str | None, since: str | None, until: str | None) -> bool:
    d = (day or "")[:10]
    return bool(d) and (not since or d >= since) and (not until or d <= until)


def counted_inspections(inspections: Iterable[Mapping[str, Any]], since: str | None,
                        until: str | None) -> list[Mapping[str, Any]]:
    """Head revisions of finished checks that started in the period (dates inclusive)."""
    return [i for i in inspections if not i.get("superseded_by") and i.get("status") in COUNTED
            and in_period(i.get("started_at"), since, until)]


def finding_categories(f: Mapping[str, Any], h: Mapping[str, Any] | None, kind: str) -> list[str]:
    """The clerk's category (处理情况) wins; '无' means none; else the catalogue mapping."""
    cats = M.TRAINING_CATEGORIES if kind == "培训机构" else M.EVALUATION_CATEGORIES
    chosen = (h or {}).get("category")
    if chosen == "无":
        return []
    if chosen in cats:
        return [chosen]
    return M.categories_of([str(c) for c in _list(f.get("codes"))], kind)


def compute(kind: str, institutions: Mapping[str, Mapping[str, Any]], inspections: Iterable[Mapping[str, Any]],
            findings: Iterable[Mapping[str, Any]], handling: Mapping[str, Mapping[str, Any]] | None = None, *,
            since: str | None = None, until: str | None = None) -> ProgressTable:
    """附件1 (kind 培训机构) or 附件2 (kind 评价机构) for the period."""
    handling = handling or {}
    training = kind == "培训机构"
    columns = TRAINING_COLUMNS if training else EVALUATION_COLUMNS
    labels = M.TRAINING_ROWS if training else M.EVALUATION_ROWS
    insps = [i for i in counted_inspections(inspections, since, until)
             if (institutions.get(i["institution_id"]) or {}).get("kind") == kind]
    by_insp = {i["id"]: i for i in insps}
    units: list[dict[str, set]] = [{c.key: set() for c in columns} for _ in labels]
    table = ProgressTable("附件1" if training else "附件2", kind, "（职业技能培训）" if training else "（职业技能评价）",
                          columns, [Row(n + 1, lab, {c.key: Cell() for c in columns}) for n, lab in enumerate(labels)],
                          since, until)

    def ref(r: int, key: str, unit: tuple, info: dict[str, Any]) -> None:
        cell = table.rows[r].cells[key]
        cell.refs.append(info)
        if key in ("recovered", "certificates"):
            cell.value += info.get("amount", 0)
        elif unit not in units[r][key]:
            units[r][key].add(unit)
            cell.value += 1

    for i in insps:
        inst = institutions[i["institution_id"]]
        base = {"inspection_id": i["id"], "institution_id": inst["id"], "institution": inst.get("name"),
                "county": inst.get("county"), "date": (i.get("started_at") or "")[:10]}
        r = M.institution_row(inst)
        ref(r, "total", (inst["id"],), {**base, "unit": inst.get("name")})
        if training:
            for trade in _list(inst.get("trades")) or ["（未列工种）"]:
                ref(0, "total", (inst["id"], trade), {**base, "unit": f"{inst.get('name')}·{trade}"})
    uncategorised = [0] * len(labels)
    for f in findings:
        found = by_insp.get(f.get("inspection_id"))
        if found is None:
            continue
        i = found
        inst = institutions[i["institution_id"]]
        h = handling.get(f["id"]) or {}
        r = M.institution_row(inst)
        fc = finding_categories(f, h, kind)
        base = {"inspection_id": i["id"], "finding_id": f["id"], "institution_id": inst["id"],
                "institution": inst.get("name"), "county": inst.get("county"),
                "date": (i.get("started_at") or "")[:10], "description": f.get("description"),
                "codes": [str(c) for c in _list(f.get("codes"))], "categories": fc}
        project = (h.get("project") or "").strip() if training else ""
        rows_hit = [r] + ([0] if project else [])
        for rr in rows_hit:
            unit = (inst["id"], project) if rr == 0 else (inst["id"],)
            uname = f"{inst.get('name')}·{project}" if rr == 0 else inst.get("name")
            for c in fc:
                ref(rr, c, unit, {**base, "unit": uname})
            removed = h.get("removed_project") if rr == 0 else h.get("removed_institution")
            if training and removed:
                ref(rr, "removed", unit, {**base, "unit": uname})
            if _num(h.get("recovered")):
                ref(rr, "recovered", unit, {**base, "unit": uname, "amount": _num(h.get("recovered"))})
            if not training and fc and _num(h.get("certificates")):
                ref(rr, "certificates", unit, {**base, "unit": uname, "amount": int(_num(h.get("certificates")))})
            if h.get("note"):
                table.rows[rr].cells["other"].refs.append({**base, "unit": uname, "note": h["note"]})
        if not fc:
            uncategorised[r] += 1
    for n, row in enumerate(table.rows):
        other = row.cells["other"]
        parts = [x["note"] for x in other.refs]
        if uncategorised[n]:
            parts.append(f"另有 {uncategorised[n]} 条问题不属于上述类别")
        other.value = "；".join(dict.fromkeys(parts))
        if "recovered" in row.cells:
            row.cells["recovered"].value = round(row.cells["recovered"].value, 2)
    return table


# -- writers -----------------------------------------------------------------------------------------
def header_line(unit: str = "") -> str:
    return f"填报单位（盖章）：{unit}" if unit else "填报单位（盖章）：_____人力资源和社会保障局"


def period_text(t: ProgressTable) -> str:
    return f"统计期间：{t.since or '—'} 至 {t.until or '—'}"


def _fmt(v: Any, key: str) -> Any:
    if key == "recovered" and isinstance(v, (int, float)):
        return f"{v:,.2f}"
    return v


def write_xlsx(table: ProgressTable, path: Any, *, unit: str = "") -> str:
    """The annex as a worksheet: 附件n, title, subtitle, 填报单位, two-level header, three rows, 注 —
    print-ready (inspector.reports.xlsx_print): one landscape page wide, amounts as amounts."""
    from openpyxl import Workbook

    from inspector.reports import xlsx_print as X

    wb = Workbook()
    ws = wb.active
    ws.title = table.annex
    ncol = 2 + len(table.columns)
    X.line(ws, 1, table.annex, ncol, size=11)
    X.line(ws, 2, TITLE, ncol, size=16, bold=True, horizontal="center")
    X.line(ws, 3, table.subtitle, ncol, size=12, horizontal="center")
    X.line(ws, 4, header_line(unit), ncol - 3)
    X.line(ws, 4, f"统计期间：{X.date_text(table.since) or '—'}至{X.date_text(table.until) or '—'}", ncol,
           first_col=ncol - 2, horizontal="right")
    h1, h2 = 5, 6
    widths = [5, 34] + [13] * (len(table.columns) - 1) + [26]
    X.set_widths(ws, widths)
    ws.cell(h1, 1, "项目")
    ws.merge_cells(start_row=h1, start_column=1, end_row=h2, end_column=2)
    col = 3
    groups: dict[str, list[int]] = {}
    for c in table.columns:
        label = X.header_label(c.label, widths[col - 1])
        if c.group is None:
            ws.cell(h1, col, label)
            ws.merge_cells(start_row=h1, start_column=col, end_row=h2, end_column=col)
        else:
            groups.setdefault(c.group, []).append(col)
            ws.cell(h2, col, label)
        col += 1
    for g, cols in groups.items():
        ws.cell(h1, cols[0], g)
        if len(cols) > 1:
            ws.merge_cells(start_row=h1, start_column=cols[0], end_row=h1, end_column=cols[-1])
    for n, row in enumerate(table.rows):
        r = h2 + 1 + n
        X.set_count(ws.cell(r, 1), row.number)
        ws.cell(r, 2, row.label)
        for j, c in enumerate(table.columns, 3):
            v = row.cells[c.key].value
            if c.key == "recovered":
                X.set_money(ws.cell(r, j), v)
            elif c.key == "other":
                ws.cell(r, j, v or "")
            else:
                X.set_count(ws.cell(r, j), v)
    last = h2 + len(table.rows)
    for row_cells in ws.iter_rows(min_row=h1, max_row=last, max_col=ncol):
        for cell in row_cells:
            cell.border = X.border()
            head = cell.row <= h2
            cell.font = X.font(bold=head)
            left = not head and cell.column in (2, ncol)
            cell.alignment = X.align("left" if left else "right" if isinstance(cell.value, float) else "center")
    X.line(ws, last + 1, NOTE, ncol)
    X.finish(ws, landscape=True, title_rows=(h1, h2))
    wb.save(path if hasattr(path, "write") else str(path))
    return str(path)


def build_pdf(table: ProgressTable, *, unit: str = "") -> bytes:
    """The annex on one landscape A4 page, in the embedded CJK font."""
    from reportlab.lib.pagesizes import A4, landscape
    from reportlab.lib.units import mm
    from reportlab.platypus import SimpleDocTemplate, Spacer, Table

    from inspector.render.common import MARGIN_X, P, Page, _numbered_canvas, grid_style

    page_w = landscape(A4)[0] - 2 * MARGIN_X
    n = len(table.columns)
    first = [10 * mm, 52 * mm]
    other_w = 40 * mm
    data_w = (page_w - sum(first) - other_w) / (n - 1)
    widths = first + [data_w] * (n - 1) + [other_w]
    top: list[Any] = [P("项目", "cellc"), ""]
    sub: list[Any] = ["", ""]
    spans = [("SPAN", (0, 0), (1, 1))]
    seen: dict[str, int] = {}
    for j, c in enumerate(table.columns, 2):
        if c.group is None:
            top.append(P(c.label, "cellc"))
            sub.append("")
            spans.append(("SPAN", (j, 0), (j, 1)))
        else:
            if c.group not in seen:
                seen[c.group] = j
                top.append(P(c.group, "cellc"))
            else:
                top.append("")
            sub.append(P(c.label, "cellc"))
    for g, start in seen.items():
        end = start + sum(1 for c in table.columns if c.group == g) - 1
        if end > start:
            spans.append(("SPAN", (start, 0), (end, 0)))
    data = [top, sub]
    for r in table.rows:
        data.append([P(str(r.number), "cellc"), P(r.label, "cell")] +
                    [P(_fmt(r.cells[c.key].value, c.key), "cell" if c.key == "other" else "cellc")
                     for c in table.columns])
    t = Table(data, colWidths=widths, repeatRows=2)
    t.setStyle(grid_style(spans))
    meta = Table([[P(header_line(unit), "body"), P(period_text(table), "right")]], colWidths=[page_w * 0.6, page_w * 0.4])
    meta.setStyle(grid_style([("GRID", (0, 0), (-1, -1), 0, (1, 1, 1))]))
    story = [P(table.annex, "body"), P(TITLE, "title"), P(table.subtitle, "center"), Spacer(1, 3 * mm), meta,
             Spacer(1, 2 * mm), t, Spacer(1, 4 * mm), P(NOTE, "body")]
    buf = io.BytesIO()
    doc = SimpleDocTemplate(buf, pagesize=landscape(A4), leftMargin=MARGIN_X, rightMargin=MARGIN_X,
                            topMargin=18 * mm, bottomMargin=18 * mm, title=f"{table.annex} {TITLE}",
                            creator="inspector", invariant=1)
    doc.build(story, canvasmaker=_numbered_canvas(Page(title=f"{table.annex} {TITLE}")))
    return buf.getvalue()
