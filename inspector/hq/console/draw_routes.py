"""The 双随机 draw run from the console, its record and files, and the publication of draws and results."""
from __future__ import annotations

import datetime as dt
import io
import json
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response
from starlette.concurrency import run_in_threadpool

from inspector.errors import InspectorError
from inspector.hq import db as D
from inspector.hq.console import data
from inspector.hq.console.common import (agency_unit, back, default_period, download, engine, error_page, need,
                                         need_post, query_filters, render)
from inspector.reports import lists as LS
from inspector.reports import publication as PB

router = APIRouter(include_in_schema=False)


# -- draws and publication ----------------------------------------------------------------------------------------
@router.get("/console/draws")
def draws_page(request: Request) -> HTMLResponse:
    staff = need(request)
    with engine(request).connect() as conn:
        draws = data._rows(conn, D.draws, order=D.draws.c.created_at.desc())
        pubs = {p["ref"]: p for p in data.publications(conn) if p["kind"] == "draw"}
        res_pubs = data.publications(conn, "results")
    for d in draws:
        rec = data.decode(d.get("record")) or {}
        d["n_tasks"] = len(rec.get("tasks") or [])
        d["params_obj"] = data.decode(d.get("params")) or {}
    return render(request, "draws.html", active="draws", draws=draws, pubs=pubs, res_pubs=res_pubs,
                  can_admin=staff.can("admin"), can_review=staff.can("reviewer"),
                  seed=dt.datetime.now().strftime("%Y%m%d-%H%M"))


@router.post("/console/draws")
async def draw_post(request: Request) -> Response:
    staff, form = await need_post(request, "admin")

    def work() -> dict[str, Any]:
        from inspector.hq.admin import check_params, run_draw

        params = check_params({"per_county": int(str(form.get("per_county") or 15)),
                               "ratio": float(str(form.get("ratio") or 0)),
                               "kind": str(form.get("kind") or "") or None,
                               "inspectors_per_task": int(str(form.get("inspectors_per_task") or 2)),
                               "exclude_home_county": bool(form.get("exclude_home_county")),
                               "weighted": bool(form.get("weighted"))})
        rec = run_draw(engine(request), str(form.get("seed") or "").strip(), params,
                       due_days=int(str(form.get("due_days") or 30)), actor=staff.username)
        with engine(request).begin() as conn:
            data.event(conn, staff.username, "摇号抽取", "draw", rec.get("draw_id"), {"seed": rec.get("seed")})
        return rec

    try:
        rec = await run_in_threadpool(work)
    except (InspectorError, ValueError) as e:  # ValidationError / DrawError carry Chinese messages; bad numbers
        return error_page(request, 422, "抽取未完成", str(e))
    return back(f"/console/draws/{rec['draw_id']}", f"已抽取 {len(rec['tasks'])} 个检查任务")


@router.get("/console/draws/{did}")
def draw_page(request: Request, did: str) -> HTMLResponse:
    staff = need(request)
    with engine(request).connect() as conn:
        r = conn.execute(sa.select(D.draws).where(D.draws.c.id == did)).first()
        pub = [p for p in data.publications(conn, "draw") if p["ref"] == did]
    if r is None:
        return error_page(request, 404, "没有这次抽取", did)
    d = data.full_row(D.draws, r)
    rec = data.decode(d.get("record")) or {}
    from inspector.publish import summary_rows, task_rows

    return render(request, "draw.html", active="draws", d=d, rec=rec, summary=summary_rows(rec), tasks=task_rows(rec),
                  pub=pub[0] if pub else None, can_admin=staff.can("admin"))


@router.get("/console/draws/{did}/record.{ext}")
def draw_file(request: Request, did: str, ext: str) -> Response:
    need(request)
    import tempfile

    from inspector.publish import export_pdf, export_xlsx

    with engine(request).connect() as conn:
        r = conn.execute(sa.select(D.draws.c.record).where(D.draws.c.id == did)).first()
    if r is None or ext not in ("xlsx", "pdf"):
        return error_page(request, 404, "没有这次抽取", did)
    rec = json.loads(r.record)
    with tempfile.TemporaryDirectory() as tmp:
        p = Path(tmp) / f"draw.{ext}"
        if ext == "pdf":
            export_pdf(rec, p, agency=agency_unit(request))
        else:
            export_xlsx(rec, p)
        body = p.read_bytes()
    return download(body, f"抽取结果_{rec.get('seed')}.{ext}")


@router.post("/console/draws/{did}/publish")
async def draw_publish(request: Request, did: str) -> Response:
    staff, _ = await need_post(request, "admin")
    await run_in_threadpool(data.publish, engine(request), "draw", did, f"随机抽取结果（{did[:8]}）", staff.username)
    return back(f"/console/draws/{did}", "抽取记录已公开")


def _results(request: Request) -> tuple[list[list[Any]], dict[str, str]]:
    f = default_period(query_filters(request))
    inp = data.report_inputs(engine(request))
    rows = PB.result_rows(inp["institutions"], inp["inspectors"], inp["inspections"], inp["findings"],
                          inp["rectifications"], since=f["since"] or None, until=f["until"] or None)
    return rows, f


@router.get("/console/publication")
def publication_page(request: Request) -> HTMLResponse:
    staff = need(request)
    rows, f = _results(request)
    with engine(request).connect() as conn:
        pubs = data.publications(conn)
    return render(request, "publication.html", active="draws", rows=rows, f=f, columns=PB.RESULT_COLUMNS, pubs=pubs,
                  qs=request.url.query, can_review=staff.can("reviewer"))


@router.get("/console/publication/results.{ext}")
def results_file(request: Request, ext: str) -> Response:
    need(request)
    rows, f = _results(request)
    title = "双随机抽查结果公开"
    from inspector.reports.xlsx_print import date_text

    sub = "　".join(x for x in (agency_unit(request), f"检查期间：{date_text(f['since'])}至{date_text(f['until'])}") if x)
    if ext == "pdf":
        return download(LS.build_pdf(title, PB.RESULT_COLUMNS, rows, subtitle=sub,
                                      widths=(4, 9, 26, 17, 8, 8, 12, 14, 5, 10)), "抽查结果公开.pdf")
    buf = io.BytesIO()
    LS.write_xlsx(buf, title, PB.RESULT_COLUMNS, rows, subtitle=sub)
    return download(buf.getvalue(), "抽查结果公开.xlsx")


@router.post("/console/publication/results")
async def results_publish(request: Request) -> Response:
    staff, form = await need_post(request, "reviewer")
    ref = f"{form.get('since')}~{form.get('until')}"
    await run_in_threadpool(data.publish, engine(request), "results", ref, f"抽查结果（{ref}）", staff.username)
    return back("/console/publication", "抽查结果已登记公开")
