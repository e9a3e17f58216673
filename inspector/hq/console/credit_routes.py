"""Credit assessment: yearly list, public list, publication, an institution's archive, review and self-assessment
import."""
from __future__ import annotations

import datetime as dt
import io
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import UploadFile

from inspector.errors import InspectorError
from inspector.hq import db as D
from inspector.hq.console import data
from inspector.hq.console.common import (agency_unit, attempt, back, download, engine, error_page, need, need_post,
                                         query_filters, render)
from inspector.hq.errors import HQError
from inspector.reports import credit as CR
from inspector.reports import lists as LS

router = APIRouter(include_in_schema=False)


# -- credit ---------------------------------------------------------------------------------------------------------
def _year(request: Request) -> int:
    try:
        return int(request.query_params.get("year") or dt.date.today().year)
    except ValueError:
        return dt.date.today().year


def _proposal(conn: Any, inp: dict[str, Any], iid: str, year: int) -> CR.Proposal:
    found = CR.findings_for_year(iid, year, inp["inspections"], inp["findings"], inp["rectifications"])
    return CR.propose(iid, year, found, data.self_assessment(conn, iid, year))


def _credit_list(engine_: Any, year: int, county: str = "", kind: str = "") -> list[dict[str, Any]]:
    inp = data.report_inputs(engine_)
    out = []
    with engine_.connect() as conn:
        latest = {d["institution_id"]: d for d in data.decisions(conn, year=year)}
        for iid, inst in inp["institutions"].items():
            if county and inst.get("county") != county or kind and inst.get("kind") != kind:
                continue
            p = _proposal(conn, inp, iid, year)
            out.append({"inst": inst, "p": p, "d": latest.get(iid)})
    return out


@router.get("/console/credit")
def credit_page(request: Request) -> HTMLResponse:
    staff = need(request)
    f = query_filters(request)
    year = _year(request)
    rows = _credit_list(engine(request), year, f["county"], f["kind"])
    with engine(request).connect() as conn:
        pubs = data.publications(conn, "credit")
    counts: dict[str, int] = {}
    for r in rows:
        g = r["d"]["grade"] if r["d"] else "待复核"
        counts[g] = counts.get(g, 0) + 1
    return render(request, "credit.html", active="credit", rows=rows, year=year, f=f, counts=counts,
                  can_edit=staff.can("reviewer"), pubs=pubs,
                  counties=sorted({r["inst"].get("county") for r in rows if r["inst"].get("county")}))


@router.get("/console/credit/public.{ext}")
def credit_public(request: Request, ext: str) -> Response:
    need(request)
    year = _year(request)
    decided = [{**r["inst"], "self_grade": r["p"].self_grade, "grade": r["d"]["grade"],
                "note": "" if r["d"]["action"] == "confirm" else "复核改定"}
               for r in _credit_list(engine(request), year) if r["d"]]
    rows = CR.public_rows([{"name": d.get("name"), "credit_code": d.get("credit_code"), "kind": d.get("kind"),
                            "county": d.get("county"), "self_grade": d["self_grade"], "grade": d["grade"],
                            "note": d["note"]} for d in decided])
    title = f"{year}年度职业技能培训和评价机构信用评估结果公示"
    sub = "　".join(x for x in (agency_unit(request), "公示期：自发布之日起 5 个工作日") if x)
    foot = "公示期内如有异议，请以书面形式向人力资源社会保障部门反映。"
    name = f"信用评估公示_{year}.{ext}"
    if ext == "pdf":
        return download(LS.build_pdf(title, CR.PUBLIC_COLUMNS, rows, subtitle=sub, footer=foot,
                                      widths=(5, 30, 20, 10, 10, 8, 8, 12)), name)
    buf = io.BytesIO()
    LS.write_xlsx(buf, title, CR.PUBLIC_COLUMNS, rows, subtitle=sub, footer=foot)
    return download(buf.getvalue(), name)


@router.post("/console/credit/publish")
async def credit_publish(request: Request) -> Response:
    staff, form = await need_post(request, "reviewer")
    year = int(str(form.get("year") or dt.date.today().year))
    await run_in_threadpool(data.publish, engine(request), "credit", str(year), f"{year}年度信用评估结果公示",
                            staff.username)
    return back(f"/console/credit?year={year}", "已登记公示")


@router.get("/console/credit/{iid}")
def credit_archive(request: Request, iid: str) -> HTMLResponse:
    staff = need(request)
    e = engine(request)
    inp = data.report_inputs(e)
    inst = inp["institutions"].get(iid)
    if inst is None:
        return error_page(request, 404, "没有这个机构", iid)
    with e.connect() as conn:
        decs = data.decisions(conn, iid)
        years = sorted({d["year"] for d in decs} | {dt.date.today().year} |
                       {int((i.get("started_at") or "0000")[:4]) for i in inp["inspections"]
                        if i["institution_id"] == iid and (i.get("started_at") or "")[:4].isdigit()}, reverse=True)
        per_year = [{"year": y, "p": _proposal(conn, inp, iid, y), "self": data.self_assessment(conn, iid, y),
                     "decs": [d for d in decs if d["year"] == y]} for y in years]
    checks = [i for i in inp["inspections"] if i["institution_id"] == iid and not i.get("superseded_by")]
    return render(request, "credit_archive.html", active="credit", inst=inst, per_year=per_year, checks=checks,
                  can_edit=staff.can("reviewer"))


@router.get("/console/credit/{iid}/{year}/review")
def review_page(request: Request, iid: str, year: int) -> HTMLResponse:
    need(request, "reviewer")
    e = engine(request)
    inp = data.report_inputs(e)
    inst = inp["institutions"].get(iid)
    if inst is None:
        return error_page(request, 404, "没有这个机构", iid)
    with e.connect() as conn:
        p = _proposal(conn, inp, iid, year)
        sa_ = data.self_assessment(conn, iid, year)
        decs = data.decisions(conn, iid, year)
    from inspector.grading import GRADES

    return render(request, "review.html", active="credit", inst=inst, p=p, year=year, selfa=sa_, decs=decs,
                  grades=GRADES)


@router.post("/console/credit/{iid}/{year}/review")
async def review_post(request: Request, iid: str, year: int) -> Response:
    staff, form = await need_post(request, "reviewer")

    def work() -> Any:
        e = engine(request)
        inp = data.report_inputs(e)
        with e.connect() as conn:
            p = _proposal(conn, inp, iid, year)
        if str(form.get("proposed") or p.grade) != p.grade:
            raise HQError(409, "stale", f"拟定等级已变化为“{p.grade}”（有新的检查或整改结果），请重新查看后再确认")
        return data.decide_grade(e, iid, year, p.grade, p.reasons, str(form.get("action") or ""),
                                 str(form.get("grade") or ""), str(form.get("reason") or ""), staff.username)

    row, err = await attempt(request, work)
    if err:
        return err
    return back(f"/console/credit/{iid}", f"{year}年度信用等级已{'确认' if row['action'] == 'confirm' else '改定'}为{row['grade']}")


@router.post("/console/credit/self")
async def self_post(request: Request) -> Response:
    """自评: a file (CSV/XLSX, many institutions) or one institution's form."""
    staff, form = await need_post(request, "reviewer")
    upload = form.get("file")

    def work() -> int:
        import tempfile

        e = engine(request)
        if isinstance(upload, UploadFile) and upload.filename:
            with tempfile.TemporaryDirectory() as tmp:  # the upload's own name: messages name the file
                p = Path(tmp) / (Path(upload.filename).name or "自评.csv")
                p.write_bytes(upload.file.read())
                rows = CR.parse_self_assessments(p)
            src = upload.filename
        else:
            rows = CR.parse_rows([list(CR.SELF_COLUMNS), [str(form.get("credit_code") or ""), str(form.get("year") or ""),
                                                          str(form.get("grade") or ""), str(form.get("codes") or ""),
                                                          str(form.get("rectification") or ""),
                                                          str(form.get("note") or "")]], "自评表单")
            src = "表单"
        with e.begin() as conn:
            by_code = {r.credit_code: r.id for r in conn.execute(sa.select(D.institutions.c.id,
                                                                           D.institutions.c.credit_code)).all()}
            unknown = [r["credit_code"] for r in rows if r["credit_code"] not in by_code]
            if unknown:
                raise HQError(422, "unknown_institution", f"名录中没有统一社会信用代码 {'、'.join(unknown[:5])}")
            for r in rows:
                data.save_self_assessment(conn, by_code[r["credit_code"]], r["year"], r["grade"], r["codes"],
                                          r["rectification"], r["note"], src, staff.username)
        return len(rows)

    try:
        n = await run_in_threadpool(work)
    except HQError as e:
        return error_page(request, e.status, "自评未导入", e.message)
    except (InspectorError, ValueError) as e:  # ImportRowsError names row and field
        problems = getattr(e, "problems", None)
        msg = str(e) + ("：" + "；".join(problems[:10]) if problems else "")
        return error_page(request, 422, "自评未导入", msg)
    return back(str(form.get("back") or "/console/credit"), f"已导入 {n} 条自评")
