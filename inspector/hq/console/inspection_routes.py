"""Inspections (list, detail, a finding's handling, evidence blobs) and rectifications (list, detail, re-inspection,
closing)."""
from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from inspector.hq import console_db as C
from inspector.hq import db as D
from inspector import pii
from inspector.hq import service
from inspector.hq.console import data
from inspector.hq.console.common import (attempt, back, counties, engine, error_page, hq, need, need_post,
                                         query_filters, render)
from inspector.reports import mapping as M
from inspector.reports import progress as PG

logger = logging.getLogger(__name__)
router = APIRouter(include_in_schema=False)


# -- inspections -------------------------------------------------------------------------------------------
@router.get("/console/inspections")
def inspections_page(request: Request) -> HTMLResponse:
    need(request)
    f = query_filters(request)
    inp = data.report_inputs(engine(request))
    insts = inp["institutions"]
    nf: dict[str, int] = {}
    for x in inp["findings"]:
        nf[x["inspection_id"]] = nf.get(x["inspection_id"], 0) + 1
    rows = []
    for i in inp["inspections"]:
        inst = insts.get(i["institution_id"], {})
        if i.get("superseded_by"):
            continue
        if f["county"] and inst.get("county") != f["county"] or f["kind"] and inst.get("kind") != f["kind"]:
            continue
        if f["status"] and i.get("status") != f["status"]:
            continue
        if (f["since"] or f["until"]) and not PG.in_period(i.get("started_at"), f["since"] or None, f["until"] or None):
            continue
        if f["q"] and f["q"] not in (inst.get("name") or "") and f["q"] not in (inst.get("credit_code") or ""):
            continue
        names = "、".join(inp["inspectors"].get(x, {}).get("name", "") for x in data.decode(i.get("inspector_ids")) or [])
        rows.append({**i, "inst": inst, "n_findings": nf.get(i["id"], 0), "names": names})
    return render(request, "inspections.html", active="inspections", rows=rows, f=f, counties=counties(inp))


@router.get("/console/inspections/{iid}")
def inspection_page(request: Request, iid: str) -> HTMLResponse:
    staff = need(request)
    e = engine(request)
    with e.connect() as conn:
        full = data.inspection_detail(conn, iid)
        if full is None:
            return error_page(request, 404, "没有这条检查记录", f"总部没有检查记录 {iid}")
        row = full["row"]
        inst = data.row_or_empty(D.institutions, conn.execute(sa.select(D.institutions).where(
            D.institutions.c.id == row["institution_id"])).first())
        insps = data.inspectors(conn)
        photos, docs, rects = full["photos"], full["docs"], full["rects"]
        hand = data.handling(conn)
        cvs = {r["id"]: r for r in data._rows(conn, D.checklist_versions)}
    answers_by_cv: dict[str, list[dict[str, Any]]] = {}
    texts: dict[str, str] = {}
    for cv_id in {a["checklist_version_id"] for a in full["answers"]}:
        texts.update(_item_texts(cvs.get(cv_id)))
    for a in full["answers"]:
        a = dict(a)
        a["text"] = texts.get(a["item_id"], "")
        a["shown"] = _answer_text(data.decode(a.get("value")) if isinstance(a.get("value"), str) else a.get("value"))
        answers_by_cv.setdefault(a["checklist_version_id"], []).append(a)
    for d in docs:
        d["blob"] = d.get("blob_sha256") or d.get("sha256")
        d["has_blob"] = bool(d["blob"]) and hq(request).blobs.has(d["blob"])
    for p in photos:
        p["has_blob"] = bool(p.get("sha256")) and hq(request).blobs.has(p["sha256"])
        p["thumb"] = p["sha256"] if not p.get("thumb_sha256") or not hq(request).blobs.has(p["thumb_sha256"]) \
            else p["thumb_sha256"]
    names = [insps.get(x, {}) for x in data.decode(row.get("inspector_ids")) or []]
    pic = data.decode(row.get("person_in_charge"))
    pic = dict(pic) if isinstance(pic, dict) else {}
    for key, field in pii.CONTACT_FIELDS.items():   # masked on screen, as on the laptop and the 笔录
        if pic.get(key):
            pic[key] = pii.mask(field, str(pic[key]))
    return render(request, "inspection.html", active="inspections", i=row, inst=inst, findings=full["findings"],
                  answers=answers_by_cv, cvs=cvs, photos=photos, docs=docs, rects=rects, hand=hand,
                  inspectors=names, pic=pic,
                  signatures=full["signatures"], replaces=full["replaces"], superseded_by=full["superseded_by"],
                  categories=list(M.TRAINING_CATEGORIES if inst.get("kind") == "培训机构" else M.EVALUATION_CATEGORIES),
                  can_edit=staff.can("reviewer"))


class _Empty:
    _mapping: dict[str, Any] = {"extra": "{}"}


def _item_texts(cv: dict[str, Any] | None) -> dict[str, str]:
    if not cv or not cv.get("source"):
        return {}
    from inspector.errors import FormError
    from inspector.forms import parse_checklist

    try:
        cl = parse_checklist(cv["source"], f"{cv.get('checklist_id')}.toml")
    except FormError:  # a version today's loader rejects (older format): the page shows item ids only
        logger.warning("checklist version %s does not parse; answers shown by item id", cv.get("id"))
        return {}
    return {it.id: it.text for it in cl.items}


def _answer_text(v: Any) -> str:
    m = {"pass": "符合", "fail": "不符合", "na": "不适用", True: "是", False: "否"}
    if isinstance(v, (str, bool)) and v in m:
        return m[v]
    if isinstance(v, list):
        return f"表格 {len(v)} 行"
    return "" if v is None else str(v)


@router.post("/console/findings/{fid}/handling")
async def handling_post(request: Request, fid: str) -> Response:
    staff, form = await need_post(request, "reviewer")

    def num(k: str) -> float:
        try:
            return float(str(form.get(k) or "0").replace(",", ""))
        except ValueError:
            raise ValueError(f"{k} 应为数字") from None

    vals = {"category": str(form.get("category") or "") or None, "project": str(form.get("project") or "").strip() or None,
            "certificates": int(num("certificates")), "recovered": num("recovered"),
            "removed_project": 1 if form.get("removed_project") else 0,
            "removed_institution": 1 if form.get("removed_institution") else 0,
            "measures": str(form.get("measures") or "").strip() or None,
            "result_note": str(form.get("result_note") or "").strip() or None,
            "note": str(form.get("note") or "").strip() or None}
    _, err = await attempt(request, lambda: data.save_handling(engine(request), fid, vals, staff.username))
    return err or back(str(form.get("back") or "/console/inspections"), "处理情况已保存")


@router.get("/console/blob/{sha}")
def blob(request: Request, sha: str) -> Response:
    need(request)
    blobs = hq(request).blobs
    if not blobs.has(sha):
        return error_page(request, 404, "文件不存在", "总部尚未收到该文件")
    data_ = Path(blobs.path(sha)).read_bytes()
    kind = "application/pdf" if data_[:4] == b"%PDF" else ("image/png" if data_[:4] == b"\x89PNG" else "image/jpeg")
    return Response(data_, media_type=kind, headers={"Cache-Control": "private, max-age=3600"})


# -- rectifications ------------------------------------------------------------------------------------------
@router.get("/console/rectifications")
def rectifications_page(request: Request) -> HTMLResponse:
    need(request)
    f = query_filters(request)
    only = request.query_params.get("only") or ""
    inp = data.report_inputs(engine(request))
    rows = []
    for r in inp["rectifications"]:
        if only == "overdue" and not data.is_overdue(r) or only == "open" and r.get("status") != "待整改":
            continue
        if f["status"] and r.get("status") != f["status"]:
            continue
        inst = inp["institutions"].get(r["institution_id"], {})
        if f["county"] and inst.get("county") != f["county"]:
            continue
        rows.append({**r, "inst": inst, "overdue": data.is_overdue(r)})
    return render(request, "rectifications.html", active="rectifications", rows=rows, f=f, only=only,
                  statuses=data.RECT_STATUSES, counties=counties(inp))


@router.get("/console/rectifications/{rid}")
def rectification_page(request: Request, rid: str) -> HTMLResponse:
    staff = need(request)
    e = engine(request)
    with e.connect() as conn:
        rec = conn.execute(sa.select(D.rectifications).where(D.rectifications.c.id == rid)).first()
        if rec is None:
            return error_page(request, 404, "没有这条整改记录", rid)
        r = data.full_row(D.rectifications, rec)
        inst = service.join_row(D.institutions, conn.execute(sa.select(D.institutions).where(
            D.institutions.c.id == r["institution_id"])).first() or _Empty())
        insps = data.inspectors(conn)
        task = None
        if r.get("reinspection_task_id"):
            t = conn.execute(sa.select(D.tasks).where(D.tasks.c.id == r["reinspection_task_id"])).first()
            task = data.full_row(D.tasks, t) if t else None
        later = [i for i in data.inspections(conn, D.inspections.c.institution_id == r["institution_id"])
                 if i["id"] != r["inspection_id"] and not i.get("superseded_by")]
        nf = {i["id"]: len(data.findings(conn, i["id"])) for i in later}
        reviews = data._plain(C.rect_reviews, conn, C.rect_reviews.c.rectification_id == rid, C.rect_reviews.c.id)
        orig = data.findings(conn, r["inspection_id"])
    if task:
        task["names"] = "、".join(insps.get(x, {}).get("name", x) for x in data.decode(task.get("inspector_ids")) or [])
        reins = [i for i in later if i.get("task_id") == task["id"]]
    else:
        reins = []
    suggestion = data.suggest_status(r, reins[0] if reins else None, nf.get(reins[0]["id"], 0) if reins else 0)
    return render(request, "rectification.html", active="rectifications", r=r, inst=inst, task=task, later=later,
                  nf=nf, reviews=reviews, findings=orig, inspectors=list(insps.values()), suggestion=suggestion,
                  statuses=data.RECT_STATUSES, overdue=data.is_overdue(r), can_edit=staff.can("reviewer"),
                  evidence=data.decode(r.get("evidence")) or [])


@router.post("/console/rectifications/{rid}/reinspection")
async def reinspection_post(request: Request, rid: str) -> Response:
    staff, form = await need_post(request, "reviewer")
    ids = [str(x) for x in form.getlist("inspector_ids")]
    _, err = await attempt(request, lambda: data.create_reinspection(engine(request), rid, ids, staff.username))
    return err or back(f"/console/rectifications/{rid}", "复查任务已创建，检查人员同步后即可收到")


@router.post("/console/rectifications/{rid}/close")
async def close_post(request: Request, rid: str) -> Response:
    staff, form = await need_post(request, "reviewer")
    _, err = await attempt(request, lambda: data.close_rectification(
        engine(request), rid, str(form.get("status") or ""), staff.username, evidence=str(form.get("evidence") or ""),
        reinspection_inspection_id=str(form.get("reinspection_inspection_id") or "") or None))
    return err or back(f"/console/rectifications/{rid}", "整改状态已更新")
