"""Reports: the 问题台账 (page, XLSX, HQ-issued signed PDF) and the 进展情况表 annexes (page, files, drill-down)."""
from __future__ import annotations

import io
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from inspector.hq.console import auth as A
from inspector.hq.console import data
from inspector.hq.console.common import (agency_unit, counties, default_period, download, engine, error_page, hq,
                                         need, query_filters, render, xlsx_bytes)
from inspector.reports import ledger_rows as LG
from inspector.reports import mapping as M
from inspector.reports import progress as PG

router = APIRouter(include_in_schema=False)


# -- ledger ---------------------------------------------------------------------------------------------------
def _ledger(request: Request) -> tuple[list[dict[str, Any]], dict[str, str], dict[str, Any]]:
    f = default_period(query_filters(request))
    inp = data.report_inputs(engine(request))
    rows = LG.rows(inp["institutions"], inp["inspections"], inp["findings"], inp["rectifications"], inp["handling"],
                   since=f["since"] or None, until=f["until"] or None, county=f["county"] or None,
                   kind=f["kind"] or None)
    return rows, f, inp


def _ledger_meta(request: Request, f: dict[str, str], staff: A.Staff) -> dict[str, Any]:
    unit = agency_unit(request) + (f"（{f['county']}）" if f["county"] and agency_unit(request) else "")
    from inspector.hq import ledger_issue

    return {"date": data.today(), "unit": unit, "footer": {"联系人": "", "填报人": staff.name, "审核人": ""},
            **ledger_issue.form(hq(request).cfg)}


@router.get("/console/ledger")
def ledger_page(request: Request) -> HTMLResponse:
    staff = need(request)
    rows, f, inp = _ledger(request)
    return render(request, "ledger.html", active="ledger", rows=rows, f=f, columns=LG.COLUMNS, totals=LG.totals(rows),
                  counties=counties(inp), meta=_ledger_meta(request, f, staff), qs=request.url.query)


@router.get("/console/ledger.xlsx")
def ledger_xlsx(request: Request) -> Response:
    staff = need(request)
    rows, f, _ = _ledger(request)
    m = _ledger_meta(request, f, staff)
    return download(xlsx_bytes(lambda p: LG.write_xlsx(p, rows, date=m["date"], unit=m["unit"], footer=m["footer"],
                                                       annex=m["annex"], title=m["title"])),
                     "问题台账.xlsx")


@router.get("/console/ledger.pdf")
def ledger_pdf(request: Request) -> Response:
    staff = need(request)
    rows, f, _ = _ledger(request)
    m = _ledger_meta(request, f, staff)
    from inspector.hq import ledger_issue  # HQ issues it: numbered, signed, timestamped

    h = hq(request)
    pdf, number = ledger_issue.issue(h.cfg, h.engine, h.blobs, rows, date=m["date"], unit=m["unit"],
                                     footer=m["footer"], issued_by=staff.username)
    return download(pdf, f"问题台账_{number}.pdf")


# -- progress tables ---------------------------------------------------------------------------------------------
ANNEX = {"1": "培训机构", "2": "评价机构"}


def _progress(request: Request, annex: str) -> tuple[PG.ProgressTable, dict[str, str]]:
    f = default_period(query_filters(request))
    inp = data.report_inputs(engine(request))
    insts = {k: v for k, v in inp["institutions"].items() if not f["county"] or v.get("county") == f["county"]}
    t = PG.compute(ANNEX[annex], insts, inp["inspections"], inp["findings"], inp["handling"],
                   since=f["since"] or None, until=f["until"] or None)
    return t, f


@router.get("/console/progress")
def progress_page(request: Request) -> HTMLResponse:
    need(request)
    t1, f = _progress(request, "1")
    t2, _ = _progress(request, "2")
    inp_c = counties(data.report_inputs(engine(request)))
    return render(request, "progress.html", active="progress", tables=[("1", t1), ("2", t2)], f=f,
                  qs=request.url.query, unit=PG.header_line(agency_unit(request)).split("：", 1)[1], counties=inp_c)


@router.get("/console/progress/{annex}.{ext}")
def progress_file(request: Request, annex: str, ext: str) -> Response:
    need(request)
    if annex not in ANNEX or ext not in ("xlsx", "pdf"):
        return error_page(request, 404, "没有这个报表", f"附件{annex}.{ext}")
    t, _ = _progress(request, annex)
    unit = agency_unit(request)
    name = f"附件{annex}_进展情况表_{t.since}_{t.until}.{ext}"
    if ext == "pdf":
        return download(PG.build_pdf(t, unit=unit), name)
    buf = io.BytesIO()
    PG.write_xlsx(t, buf, unit=unit)
    return download(buf.getvalue(), name)


@router.get("/console/progress/{annex}/{row}/{key}")
def progress_cell(request: Request, annex: str, row: int, key: str) -> HTMLResponse:
    need(request)
    if annex not in ANNEX:
        return error_page(request, 404, "没有这个报表", annex)
    t, f = _progress(request, annex)
    if not 0 <= row < len(t.rows) or key not in t.rows[row].cells:
        return error_page(request, 404, "没有这个单元格", f"{row}/{key}")
    col = next(c for c in t.columns if c.key == key)
    cell = t.rows[row].cells[key]
    return render(request, "drill.html", active="progress", t=t, row=t.rows[row], col=col, cell=cell, annex=annex,
                  f=f, qs=request.url.query,
                  codes=M.ALL_CATEGORIES.get(key, ()))
