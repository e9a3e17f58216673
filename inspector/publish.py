"""一公开: a draw record as XLSX and PDF (双随机抽查结果公示) for publication.

Both carry what a reader needs to recompute the draw: the seed, the algorithm, both directory
snapshot hashes, the parameters and the result hash, then the list of drawn institutions with
their inspectors.
"""
from __future__ import annotations

from pathlib import Path
from typing import Any, Mapping

from inspector.errors import DocumentError

TITLE = "双随机抽查结果公示"


def _params_text(p: Mapping[str, Any]) -> str:
    parts = [f"每区县抽取不少于 {p.get('per_county')} 家"]
    if p.get("ratio"):
        parts.append(f"抽取比例 {float(p['ratio']) * 100:g}%")
    parts.append(f"机构类型：{p.get('kind') or '全部'}")
    parts.append(f"每个检查对象 {p.get('inspectors_per_task')} 名检查人员")
    if p.get("exclude_home_county"):
        parts.append("异地检查（不派本区县人员）")
    if p.get("weighted"):
        parts.append("按信用等级、投诉次数加权")
    return "；".join(parts)


def summary_rows(record: Mapping[str, Any]) -> list[tuple[str, str]]:
    return [
        ("抽取编号", str(record.get("draw_id") or "")),
        ("随机种子", str(record.get("seed"))),
        ("算法", str(record.get("algorithm"))),
        ("检查对象名录库 SHA-256", str(record.get("institutions_sha256"))),
        ("执法检查人员名录库 SHA-256", str(record.get("inspectors_sha256"))),
        ("抽取参数", _params_text(record.get("params", {}))),
        ("抽取结果 SHA-256", str(record.get("result_sha256", ""))),
        ("抽取对象数", str(len(record.get("tasks", [])))),
    ]


def task_rows(record: Mapping[str, Any]) -> list[list[str]]:
    out = []
    for n, t in enumerate(record.get("tasks", []), start=1):
        inst = t["institution"]
        team = "、".join(f"{i['name']}（{i['badge_no']}）" for i in t["inspectors"])
        out.append([str(n), inst.get("county", ""), inst.get("name", ""), inst.get("credit_code", ""),
                    inst.get("kind", ""), team])
    return out


def _esc(s: str) -> str:
    return s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


HEADERS = ["序号", "所属区县", "机构名称", "统一社会信用代码", "机构类型", "检查人员（执法证号）"]


NOTE = ("说明：抽取结果由随机种子、两个名录库快照和抽取参数唯一确定，任何人可使用同一程序"
        "（inspector draw verify）重新计算核对。")


def export_xlsx(record: Mapping[str, Any], path: str | Path) -> Path:
    """The record as a print-ready sheet (inspector.reports.xlsx_print): the values a reader needs
    to recompute the draw (draw id, seed, the three SHA-256, parameters, per-county counts) each
    over the table's width and wrapped in full, then the list with its header on every page."""
    import openpyxl

    from inspector.reports import xlsx_print as X

    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "抽查结果"
    n = len(HEADERS)
    X.line(ws, 1, TITLE, n, size=16, bold=True, horizontal="center")
    info = list(summary_rows(record))
    counties = record.get("counties") or []
    if counties:
        info.append(("各区县抽取情况", "；".join(f"{c['county']} 抽取 {c['drawn']} 家（共 {c['candidates']} 家）"
                                          for c in counties)))
    for r, (k, v) in enumerate(info, 2):
        X.line(ws, r, k, 2, size=X.BODY_SIZE, bold=True)
        X.line(ws, r, v, n, first_col=3)
        for c in range(1, n + 1):
            ws.cell(r, c).border = X.border()
    X.line(ws, len(info) + 2, NOTE, n)          # before the list, so the list ends the sheet
    head = len(info) + 4
    for j, h in enumerate(HEADERS, 1):
        cell = ws.cell(head, j, h)
        cell.font = X.font(bold=True)
        cell.alignment = X.align("center")
    for i, row in enumerate(task_rows(record), head + 1):
        row[-1] = row[-1].replace("、", "\n")   # one inspector a line: a name never breaks
        for j, v in enumerate(row, 1):
            cell = ws.cell(i, j, int(v) if j == 1 and v.isdigit() else v)
            cell.alignment = X.align("center" if j in (1, 2, 5) else "left")
    for row_cells in ws.iter_rows(min_row=head, max_row=ws.max_row, max_col=n):
        for cell in row_cells:
            cell.border = X.border()
    X.set_widths(ws, (6, 10, 30, 21, 9, 28))
    X.finish(ws, landscape=False, title_rows=(head, head))
    p = Path(path)
    try:
        wb.save(p)
    except OSError as e:
        raise DocumentError(f"{p}: 无法写入（{e}）") from e
    return p


def export_pdf(record: Mapping[str, Any], path: str | Path, *, agency: str = "") -> Path:
    """A4 portrait, embedded CJK font, 第 x 页 共 y 页 in the footer."""
    from reportlab.lib import colors
    from reportlab.lib.pagesizes import A4
    from reportlab.lib.units import mm
    from reportlab.pdfgen.canvas import Canvas
    from reportlab.platypus import SimpleDocTemplate, Spacer, Table, TableStyle

    from inspector.render.common import Para  # line breaking with Chinese punctuation rules
    from inspector.pdfbase import register_fonts, styles

    font = register_fonts()
    st = styles()
    p = Path(path)

    def para(text: str, style: str = "cell") -> Any:
        return Para(_esc(text).replace("\n", "<br/>"), st[style])

    class NumberedCanvas(Canvas):
        """Two-pass page count so the footer can say 共 y 页."""

        def __init__(self, *a: Any, **kw: Any) -> None:
            kw["initialFontName"] = font  # else the page declares an un-embedded Helvetica
            super().__init__(*a, **kw)
            self._pages: list[dict[str, Any]] = []

        def showPage(self) -> None:  # noqa: N802 (reportlab API)
            self._pages.append(dict(self.__dict__))
            self._startPage()

        def save(self) -> None:
            total = len(self._pages)
            for state in self._pages:
                self.__dict__.update(state)
                self.setFont(font, 8.5)
                self.drawCentredString(A4[0] / 2, 10 * mm, f"第 {self._pageNumber} 页 共 {total} 页")
                super().showPage()
            super().save()

    doc = SimpleDocTemplate(str(p), pagesize=A4, leftMargin=15 * mm, rightMargin=15 * mm,
                            topMargin=15 * mm, bottomMargin=18 * mm, title=TITLE,
                            author=agency or "inspector", initialFontName=font)
    story: list[Any] = [para(TITLE, "title")]
    if agency:
        story.append(para(agency, "subtitle"))
    story.append(Spacer(1, 4 * mm))
    info = [[para(k), para(v)] for k, v in summary_rows(record)]
    counties = record.get("counties") or []
    if counties:
        info.append([para("各区县抽取情况"),
                     para("；".join(f"{c['county']} 抽取 {c['drawn']} 家（共 {c['candidates']} 家）"
                                   for c in counties))])
    t = Table(info, colWidths=[45 * mm, 135 * mm])
    t.setStyle(TableStyle([("FONTNAME", (0, 0), (-1, -1), font),
                           ("GRID", (0, 0), (-1, -1), 0.5, colors.grey),
                           ("BACKGROUND", (0, 0), (0, -1), colors.whitesmoke),
                           ("VALIGN", (0, 0), (-1, -1), "TOP")]))
    story += [t, Spacer(1, 5 * mm), para("抽查名单", "h2")]
    data = [[para(h) for h in HEADERS]]
    # one inspector per line, so a name never breaks across lines
    data += [[para(c) for c in r[:-1]] + [para(r[-1].replace("、", "\n"))] for r in task_rows(record)]
    lst = Table(data, colWidths=[11 * mm, 17 * mm, 41 * mm, 42 * mm, 18 * mm, 51 * mm], repeatRows=1)
    lst.setStyle(TableStyle([("FONTNAME", (0, 0), (-1, -1), font),
                             ("GRID", (0, 0), (-1, -1), 0.5, colors.grey),
                             ("BACKGROUND", (0, 0), (-1, 0), colors.whitesmoke),
                             ("VALIGN", (0, 0), (-1, -1), "TOP")]))
    story += [lst, Spacer(1, 5 * mm), para(NOTE, "small")]
    try:
        doc.build(story, canvasmaker=NumberedCanvas)
    except OSError as e:
        raise DocumentError(f"{p}: 无法写入（{e}）") from e
    return p
