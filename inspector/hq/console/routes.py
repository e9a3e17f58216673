"""Console pages. GET handlers are plain functions (FastAPI runs them in a thread); POST handlers
read the form, check the session's CSRF token and the role, then do the work in a thread.
Every handler starts with ``need(request, role)``."""
from __future__ import annotations

import datetime as dt
import hashlib
import io
import json
import urllib.parse
from pathlib import Path
from typing import Any, Callable

import sqlalchemy as sa
from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import UploadFile

from inspector.hq import console_db as C
from inspector.hq import db as D
from inspector.hq import service
from inspector.hq import headers as H
from inspector.hq import throttle as TH
from inspector.hq.console import auth as A
from inspector.hq.console import data
from inspector.hq.errors import HQError
from inspector.reports import credit as CR
from inspector.reports import ledger as LG
from inspector.reports import lists as LS
from inspector.reports import mapping as M
from inspector.reports import progress as PG
from inspector.reports import publication as PB

router = APIRouter(include_in_schema=False)
# StrictUndefined: a field a template names but the row lacks is a bug to see in tests, not a blank cell
# (data.full_row gives every column, None where NULL)
env = Environment(loader=FileSystemLoader(str(Path(__file__).parent / "templates")),
                  autoescape=select_autoescape(default=True, default_for_string=True), undefined=StrictUndefined)

NAV = [("dashboard", "/console/", "首页", "viewer"), ("inspections", "/console/inspections", "检查记录", "viewer"),
       ("rectifications", "/console/rectifications", "整改跟踪", "viewer"), ("ledger", "/console/ledger", "问题台账", "viewer"),
       ("progress", "/console/progress", "进展情况表", "viewer"), ("credit", "/console/credit", "信用评估", "viewer"),
       ("draws", "/console/draws", "抽取与公开", "viewer"), ("directories", "/console/directories", "名录库", "viewer"),
       ("forms", "/console/forms", "检查表", "viewer"),
       ("devices", "/console/devices", "设备管理", "admin"), ("lockouts", "/console/lockouts", "登录锁定", "admin")]
STATUS_CLASS = {"待整改": "st-open", "已按期整改": "st-ok", "逾期整改": "st-warn", "拒不整改或敷衍整改": "st-bad",
                "优秀": "st-ok", "良好": "st-ok", "合格": "st-warn", "不合格": "st-bad", "finished": "st-ok",
                "draft": "st-open"}
INSP_STATUS = {"draft": "进行中", "finished": "已完成", "signed": "已签署"}


def _money(v: Any) -> str:
    try:
        return f"{float(v):,.2f}"
    except (TypeError, ValueError):
        return "" if v is None else str(v)


env.filters["money"] = _money
env.filters["day"] = lambda v: (v or "")[:10]
env.filters["minute"] = lambda v: (v or "")[:16].replace("T", " ")
env.filters["st"] = lambda v: STATUS_CLASS.get(v or "", "")
env.filters["insp_status"] = lambda v: INSP_STATUS.get(v or "", v or "")
env.filters["codes"] = lambda v: "、".join(data.decode(v) or []) if v else ""
env.globals["role_zh"] = A.ROLE_ZH


def engine(request: Request) -> Any:
    return request.app.state.hq.engine


def hq(request: Request) -> Any:
    return request.app.state.hq


def need(request: Request, role: str = "viewer") -> A.Staff:
    staff = A.session(engine(request), request.cookies.get(A.COOKIE))
    if staff is None:
        raise A.LoginRequired()
    request.state.staff = staff
    if not staff.can(role):
        raise A.Denied(role)
    return staff


async def need_post(request: Request, role: str) -> tuple[A.Staff, Any]:
    staff = await run_in_threadpool(need, request, "viewer")
    form = await request.form()
    A.check_csrf(staff, form)  # before the role: a forged POST learns nothing
    if not staff.can(role):
        raise A.Denied(role)
    return staff, form


def render(request: Request, name: str, status: int = 200, **ctx: Any) -> HTMLResponse:
    staff = getattr(request.state, "staff", None)
    nav = [n for n in NAV if staff and staff.can(n[3])]
    html = env.get_template(name).render(request=request, staff=staff, nav=nav, csrf=staff.csrf if staff else "",
                                         flash=request.query_params.get("msg"), today=data.today(), **ctx)
    return HTMLResponse(html, status_code=status)


def back(url: str, msg: str | None = None) -> RedirectResponse:
    if msg:
        url += ("&" if "?" in url else "?") + "msg=" + urllib.parse.quote(msg)
    return RedirectResponse(url, status_code=303)


def error_page(request: Request, status: int, title: str, message: str) -> HTMLResponse:
    return render(request, "error.html", status=status, title=title, message=message)


async def attempt(request: Request, fn: Callable[[], Any]) -> Any:
    try:
        return await run_in_threadpool(fn), None
    except HQError as e:
        return None, error_page(request, e.status, "操作未完成", e.message)
    except (ValueError, LookupError) as e:
        return None, error_page(request, 422, "操作未完成", str(e))


def install(app: Any) -> None:
    app.include_router(router)
    from inspector.hq.console import forms_routes  # checklists authored in XLSX

    app.include_router(forms_routes.router)

    @app.exception_handler(A.LoginRequired)
    async def _login(request: Request, _e: A.LoginRequired) -> Response:
        if request.method == "GET":
            return RedirectResponse("/console/login?next=" + urllib.parse.quote(str(request.url.path)), 303)
        return HTMLResponse("<p>请先登录</p>", status_code=401)

    @app.exception_handler(A.Denied)
    async def _denied(request: Request, e: A.Denied) -> Response:
        return error_page(request, 403, "无权访问", f"此页面需要“{A.ROLE_ZH[e.need]}”及以上权限。")

    @app.exception_handler(A.CSRFError)
    async def _csrf(request: Request, _e: A.CSRFError) -> Response:
        return error_page(request, 403, "请求被拒绝", "表单校验码缺失或无效（可能是页面已过期或来自其他网站），请刷新页面后重试。")


def _filters(request: Request) -> dict[str, str]:
    q = request.query_params
    return {k: (q.get(k) or "").strip() for k in ("since", "until", "county", "kind", "q", "status")}


def _default_period(f: dict[str, str]) -> dict[str, str]:
    if not f["since"] and not f["until"]:
        y = dt.date.today().year
        f["since"], f["until"] = f"{y}-01-01", f"{y}-12-31"
    return f


def _counties(inputs: dict[str, Any]) -> list[str]:
    return sorted({i.get("county") for i in inputs["institutions"].values() if i.get("county")})


# -- login ----------------------------------------------------------------------------------------------
@router.get("/console/login")
def login_page(request: Request) -> HTMLResponse:
    import secrets

    token = request.cookies.get("hq_login_csrf") or secrets.token_urlsafe(16)
    resp = render(request, "login.html", login_csrf=token, next=request.query_params.get("next") or "/console/",
                  error=None)
    resp.set_cookie("hq_login_csrf", token, httponly=True, samesite="strict", path="/console",
                    secure=H.cookie_secure(request.scope, hq(request).cfg))
    return resp


@router.post("/console/login")
async def login_post(request: Request) -> Response:
    form = await request.form()
    import secrets

    cookie = request.cookies.get("hq_login_csrf") or ""
    if not cookie or not secrets.compare_digest(cookie, str(form.get("csrf") or "")):
        raise A.CSRFError()
    nxt = str(form.get("next") or "/console/")
    if not nxt.startswith("/console/") or nxt.startswith("//"):
        nxt = "/console/"
    cfg = hq(request).cfg
    try:  # throttled per account and address before any argon2 work (inspector/hq/throttle.py)
        token = await A.login_async(engine(request), TH.Policy.from_config(cfg), str(form.get("username") or ""),
                                    str(form.get("password") or ""), H.client_addr(request.scope, cfg),
                                    cfg.argon2_workers)
    except TH.Throttled as t:
        await TH.hold(cfg, t)
        page = render(request, "login.html", status=429, login_csrf=cookie, next=nxt, error=t.message)
        page.headers.update(t.headers())
        return page
    if token is None:
        return render(request, "login.html", status=401, login_csrf=cookie, next=nxt, error="用户名或口令错误")
    resp = RedirectResponse(nxt, status_code=303)
    resp.set_cookie(A.COOKIE, token, httponly=True, samesite="lax", path="/", max_age=A.SESSION_HOURS * 3600,
                    secure=H.cookie_secure(request.scope, cfg))
    return resp


@router.post("/console/logout")
async def logout(request: Request) -> Response:
    staff, _ = await need_post(request, "viewer")
    await run_in_threadpool(A.logout, engine(request), staff)
    resp = RedirectResponse("/console/login", status_code=303)
    resp.delete_cookie(A.COOKIE, path="/", httponly=True, samesite="lax",
                       secure=H.cookie_secure(request.scope, hq(request).cfg))
    return resp


# -- dashboard ----------------------------------------------------------------------------------------------
@router.get("/console/")
@router.get("/console")
def dashboard(request: Request) -> HTMLResponse:
    need(request)
    inp = data.report_inputs(engine(request))
    rects = inp["rectifications"]
    overdue = [r for r in rects if data.is_overdue(r)]
    year = dt.date.today().year
    counted = PG.counted_inspections(inp["inspections"], f"{year}-01-01", f"{year}-12-31")
    with engine(request).connect() as conn:
        devices = service.list_devices(engine(request))
        syncs = conn.execute(sa.select(D.applied_ops.c.device_id, sa.func.count().label("n"),
                                       sa.func.max(D.applied_ops.c.applied_at).label("last"))
                             .group_by(D.applied_ops.c.device_id)
                             .order_by(sa.func.max(D.applied_ops.c.applied_at).desc()).limit(8)).all()
        alerts = conn.execute(sa.select(D.audit_alerts).order_by(D.audit_alerts.c.id.desc()).limit(5)).all()
        events = conn.execute(sa.select(C.console_events).order_by(C.console_events.c.id.desc()).limit(8)).all()
    dev = {d["id"]: d for d in devices}
    stats = {"institutions": len(inp["institutions"]), "inspectors": len(inp["inspectors"]),
             "inspections": len(counted), "findings": sum(1 for f in inp["findings"]
                                                          if f["inspection_id"] in {i["id"] for i in counted}),
             "open": sum(1 for r in rects if r.get("status") == "待整改"), "overdue": len(overdue),
             "devices": sum(1 for d in devices if not d.get("revoked_at"))}
    return render(request, "dashboard.html", active="dashboard", stats=stats, year=year,
                  overdue=overdue[:10], insts=inp["institutions"], syncs=syncs, dev=dev, alerts=alerts, events=events)


# -- inspections -------------------------------------------------------------------------------------------
@router.get("/console/inspections")
def inspections_page(request: Request) -> HTMLResponse:
    need(request)
    f = _filters(request)
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
    return render(request, "inspections.html", active="inspections", rows=rows, f=f, counties=_counties(inp))


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
    return render(request, "inspection.html", active="inspections", i=row, inst=inst, findings=full["findings"],
                  answers=answers_by_cv, cvs=cvs, photos=photos, docs=docs, rects=rects, hand=hand,
                  inspectors=names, pic=data.decode(row.get("person_in_charge")) or {},
                  signatures=full["signatures"], replaces=full["replaces"], superseded_by=full["superseded_by"],
                  categories=list(M.TRAINING_CATEGORIES if inst.get("kind") == "培训机构" else M.EVALUATION_CATEGORIES),
                  can_edit=staff.can("reviewer"))


class _Empty:
    _mapping: dict[str, Any] = {"extra": "{}"}


def _item_texts(cv: dict[str, Any] | None) -> dict[str, str]:
    if not cv or not cv.get("source"):
        return {}
    try:
        from inspector.forms import parse_checklist

        cl = parse_checklist(cv["source"], f"{cv.get('checklist_id')}.toml")
        return {it.id: it.text for it in cl.items}
    except Exception:  # an old or foreign format: show ids only
        return {}


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
    f = _filters(request)
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
                  statuses=data.RECT_STATUSES, counties=_counties(inp))


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


# -- ledger ---------------------------------------------------------------------------------------------------
def _ledger(request: Request) -> tuple[list[dict[str, Any]], dict[str, str], dict[str, Any]]:
    f = _default_period(_filters(request))
    inp = data.report_inputs(engine(request))
    rows = LG.rows(inp["institutions"], inp["inspections"], inp["findings"], inp["rectifications"], inp["handling"],
                   since=f["since"] or None, until=f["until"] or None, county=f["county"] or None,
                   kind=f["kind"] or None)
    return rows, f, inp


def _unit(request: Request) -> str:
    """填报单位: HQ's agency when it is named (by init or its profile); '' leaves the seed's blank."""
    from inspector.reports.xlsx_print import named_unit

    return named_unit(hq(request).cfg.agency)


def _ledger_meta(request: Request, f: dict[str, str], staff: A.Staff) -> dict[str, Any]:
    unit = _unit(request) + (f"（{f['county']}）" if f["county"] and _unit(request) else "")
    return {"date": data.today(), "unit": unit, "footer": {"联系人": "", "填报人": staff.name, "审核人": ""}}


@router.get("/console/ledger")
def ledger_page(request: Request) -> HTMLResponse:
    staff = need(request)
    rows, f, inp = _ledger(request)
    return render(request, "ledger.html", active="ledger", rows=rows, f=f, columns=LG.COLUMNS, totals=LG.totals(rows),
                  counties=_counties(inp), meta=_ledger_meta(request, f, staff), qs=request.url.query)


@router.get("/console/ledger.xlsx")
def ledger_xlsx(request: Request) -> Response:
    staff = need(request)
    rows, f, _ = _ledger(request)
    m = _ledger_meta(request, f, staff)
    return _download(_xlsx(lambda p: LG.write_xlsx(p, rows, date=m["date"], unit=m["unit"], footer=m["footer"])),
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
    return _download(pdf, f"问题台账_{number}.pdf")


XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _xlsx(write: Callable[[str], Any]) -> bytes:
    """Writers take a path (the shared ledger writer saves by file name): write to a temp file."""
    import tempfile

    with tempfile.TemporaryDirectory() as tmp:
        p = str(Path(tmp) / "out.xlsx")
        write(p)
        return Path(p).read_bytes()


def _download(body: bytes, name: str) -> Response:
    mt = "application/pdf" if name.endswith(".pdf") else XLSX
    return Response(body, media_type=mt, headers={
        "Content-Disposition": f"attachment; filename*=UTF-8''{urllib.parse.quote(name)}"})


# -- progress tables ---------------------------------------------------------------------------------------------
ANNEX = {"1": "培训机构", "2": "评价机构"}


def _progress(request: Request, annex: str) -> tuple[PG.ProgressTable, dict[str, str]]:
    f = _default_period(_filters(request))
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
    inp_c = _counties(data.report_inputs(engine(request)))
    return render(request, "progress.html", active="progress", tables=[("1", t1), ("2", t2)], f=f,
                  qs=request.url.query, unit=PG.header_line(_unit(request)).split("：", 1)[1], counties=inp_c)


@router.get("/console/progress/{annex}.{ext}")
def progress_file(request: Request, annex: str, ext: str) -> Response:
    need(request)
    if annex not in ANNEX or ext not in ("xlsx", "pdf"):
        return error_page(request, 404, "没有这个报表", f"附件{annex}.{ext}")
    t, _ = _progress(request, annex)
    unit = _unit(request)
    name = f"附件{annex}_进展情况表_{t.since}_{t.until}.{ext}"
    if ext == "pdf":
        return _download(PG.build_pdf(t, unit=unit), name)
    buf = io.BytesIO()
    PG.write_xlsx(t, buf, unit=unit)
    return _download(buf.getvalue(), name)


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
    f = _filters(request)
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
    sub = "　".join(x for x in (_unit(request), "公示期：自发布之日起 5 个工作日") if x)
    foot = "公示期内如有异议，请以书面形式向人力资源社会保障部门反映。"
    name = f"信用评估公示_{year}.{ext}"
    if ext == "pdf":
        return _download(LS.build_pdf(title, CR.PUBLIC_COLUMNS, rows, subtitle=sub, footer=foot,
                                      widths=(5, 30, 20, 10, 10, 8, 8, 12)), name)
    buf = io.BytesIO()
    LS.write_xlsx(buf, title, CR.PUBLIC_COLUMNS, rows, subtitle=sub, footer=foot)
    return _download(buf.getvalue(), name)


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
    except Exception as e:  # ImportRowsError names row and field
        problems = getattr(e, "problems", None)
        msg = str(e) + ("：" + "；".join(problems[:10]) if problems else "")
        return error_page(request, 422, "自评未导入", msg)
    return back(str(form.get("back") or "/console/credit"), f"已导入 {n} 条自评")


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
    except Exception as e:  # ValidationError / DrawError carry Chinese messages
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
            export_pdf(rec, p, agency=_unit(request))
        else:
            export_xlsx(rec, p)
        body = p.read_bytes()
    return _download(body, f"抽取结果_{rec.get('seed')}.{ext}")


@router.post("/console/draws/{did}/publish")
async def draw_publish(request: Request, did: str) -> Response:
    staff, _ = await need_post(request, "admin")
    await run_in_threadpool(data.publish, engine(request), "draw", did, f"随机抽取结果（{did[:8]}）", staff.username)
    return back(f"/console/draws/{did}", "抽取记录已公开")


def _results(request: Request) -> tuple[list[list[Any]], dict[str, str]]:
    f = _default_period(_filters(request))
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

    sub = "　".join(x for x in (_unit(request), f"检查期间：{date_text(f['since'])}至{date_text(f['until'])}") if x)
    if ext == "pdf":
        return _download(LS.build_pdf(title, PB.RESULT_COLUMNS, rows, subtitle=sub,
                                      widths=(4, 9, 26, 17, 8, 8, 12, 14, 5, 10)), "抽查结果公开.pdf")
    buf = io.BytesIO()
    LS.write_xlsx(buf, title, PB.RESULT_COLUMNS, rows, subtitle=sub)
    return _download(buf.getvalue(), "抽查结果公开.xlsx")


@router.post("/console/publication/results")
async def results_publish(request: Request) -> Response:
    staff, form = await need_post(request, "reviewer")
    ref = f"{form.get('since')}~{form.get('until')}"
    await run_in_threadpool(data.publish, engine(request), "results", ref, f"抽查结果（{ref}）", staff.username)
    return back("/console/publication", "抽查结果已登记公开")


# -- import templates ------------------------------------------------------------------------------------------
@router.get("/console/templates/{kind}.xlsx")
def import_template(request: Request, kind: str) -> Response:
    """The template workbook of an import (inspector/import_templates.py), for the clerk to fill."""
    need(request)
    from inspector import import_templates as T

    if kind not in T.KINDS:
        return error_page(request, 404, "没有这个模板", kind)
    return _download(T.build(kind), T.FILE_NAMES[kind])


# -- directories -----------------------------------------------------------------------------------------------
@router.get("/console/directories")
def directories_page(request: Request) -> HTMLResponse:
    staff = need(request)
    f = _filters(request)
    with engine(request).connect() as conn:
        insts = list(data.institutions(conn).values())
        insps = list(data.inspectors(conn).values())
    if f["q"]:
        insts = [i for i in insts if f["q"] in (i.get("name") or "") or f["q"] in (i.get("credit_code") or "")]
        insps = [i for i in insps if f["q"] in (i.get("name") or "") or f["q"] in (i.get("badge_no") or "")]
    if f["county"]:
        insts = [i for i in insts if i.get("county") == f["county"]]
    if f["kind"]:
        insts = [i for i in insts if i.get("kind") == f["kind"]]
    return render(request, "directories.html", active="directories", insts=insts, insps=insps, f=f,
                  can_admin=staff.can("admin"), counties=sorted({i.get("county") for i in insts if i.get("county")}))


@router.post("/console/directories/import")
async def directories_import(request: Request) -> Response:
    staff, form = await need_post(request, "admin")
    upload = form.get("file")
    which = "inspectors" if form.get("which") == "inspectors" else "institutions"
    if upload is None or not getattr(upload, "filename", ""):
        return error_page(request, 422, "未导入", "请选择 CSV 或 XLSX 文件")
    content = await upload.read()

    def work() -> dict[str, int]:
        import tempfile

        from inspector.hq.admin import import_directory

        with tempfile.TemporaryDirectory() as tmp:
            p = Path(tmp) / Path(upload.filename).name
            p.write_bytes(content)
            r = import_directory(engine(request), p, which, partial=bool(form.get("partial")))
        with engine(request).begin() as conn:
            data.event(conn, staff.username, "导入名录", which, None, r)
        return r

    try:
        r = await run_in_threadpool(work)
    except Exception as e:
        problems = getattr(e, "problems", None)
        return error_page(request, 422, "名录未导入", str(e) + ("：" + "；".join(map(str, problems[:10])) if problems else ""))
    return back("/console/directories", f"新增 {r['inserted']}，更新 {r['updated']}，未变 {r['unchanged']}，跳过 {r['skipped']}")


INST_FIELDS = (("name", "机构名称"), ("credit_code", "统一社会信用代码"), ("kind", "机构类型"), ("sub_kind", "机构子类"),
               ("county", "区县"), ("city", "城市"), ("address", "地址"), ("legal_rep", "法定代表人"),
               ("contact", "联系人"), ("phone", "联系电话"), ("licence_no", "办学许可证号/备案号"))


@router.get("/console/institutions/{iid}")
def institution_edit(request: Request, iid: str) -> HTMLResponse:
    staff = need(request)
    with engine(request).connect() as conn:
        r = conn.execute(sa.select(D.institutions).where(D.institutions.c.id == iid)).first()
    if r is None:
        return error_page(request, 404, "没有这个机构", iid)
    inst = service.join_row(D.institutions, r)
    inst["trades_text"] = "、".join(data.decode(inst.get("trades")) or [])
    return render(request, "institution.html", active="directories", inst=inst, fields=INST_FIELDS,
                  can_admin=staff.can("admin"))


@router.post("/console/institutions/{iid}")
async def institution_save(request: Request, iid: str) -> Response:
    staff, form = await need_post(request, "admin")

    def work() -> None:
        from inspector.directory import split_list
        from inspector.util import dumps, now_iso

        with engine(request).begin() as conn:
            r = conn.execute(sa.select(D.institutions).where(D.institutions.c.id == iid)).first()
            if r is None:
                raise HQError(404, "not_found", f"没有机构 {iid}")
            row = service.join_row(D.institutions, r)
            for k, _ in INST_FIELDS:
                v = str(form.get(k) or "").strip()
                if k in ("name", "credit_code", "kind", "county") and not v:
                    raise HQError(422, "bad_request", f"{dict(INST_FIELDS)[k]} 不能为空")
                if k == "kind" and v not in ("培训机构", "评价机构"):
                    raise HQError(422, "bad_request", "机构类型应为 培训机构 或 评价机构")
                row[k] = v or None
            row["trades"] = dumps(split_list(str(form.get("trades") or "")))
            row["updated_at"] = now_iso()
            service.upsert_entity(conn, "institution", {k: v for k, v in row.items() if v is not None})
            data.event(conn, staff.username, "修改机构", "institution", iid, {"name": row["name"]})

    _, err = await attempt(request, work)
    return err or back(f"/console/institutions/{iid}", "已保存，检查人员同步后即可收到")


# -- devices ---------------------------------------------------------------------------------------------------
@router.get("/console/devices")
def devices_page(request: Request) -> HTMLResponse:
    need(request, "admin")
    e = engine(request)
    devices = service.list_devices(e)
    with e.connect() as conn:
        heads = {r.device_id: r for r in conn.execute(sa.select(D.audit_heads)).all()}
        codes = conn.execute(sa.select(D.enrol_codes).order_by(D.enrol_codes.c.created_at.desc()).limit(10)).all()
        insps = data.inspectors(conn)
    by_badge = {i["badge_no"]: i for i in insps.values()}
    new_code = request.query_params.get("code")
    return render(request, "devices.html", active="devices", devices=devices, heads=heads, codes=codes,
                  by_badge=by_badge, new_code=new_code, inspectors=list(insps.values()))


@router.post("/console/devices/{did}/revoke")
async def device_revoke(request: Request, did: str) -> Response:
    staff, _ = await need_post(request, "admin")

    def work() -> None:
        service.revoke_device(engine(request), did)
        with engine(request).begin() as conn:
            data.event(conn, staff.username, "吊销设备", "device", did)

    _, err = await attempt(request, work)
    return err or back("/console/devices", "设备已吊销，立即生效")


@router.post("/console/devices/enrol-code")
async def enrol_code(request: Request) -> Response:
    staff, form = await need_post(request, "admin")

    def work() -> dict[str, Any]:
        r = service.make_enrol_code(engine(request), hq(request).cfg, str(form.get("badge_no") or "").strip(),
                                    name=str(form.get("name") or "").strip() or None, created_by=staff.username)
        with engine(request).begin() as conn:
            data.event(conn, staff.username, "生成登记码", "inspector", r["badge_no"])
        return r

    r, err = await attempt(request, work)
    if err:
        return err
    return back("/console/devices?code=" + urllib.parse.quote(r["code"]), f"登记码已生成（执法证号 {r['badge_no']}）")


# -- lockouts (throttled logins and codes) ---------------------------------------------------------------------
@router.get("/console/lockouts")
def lockouts_page(request: Request) -> HTMLResponse:
    need(request, "admin")
    cfg = hq(request).cfg
    policy = TH.Policy.from_config(cfg)
    return render(request, "lockouts.html", active="lockouts", rows=TH.status(engine(request), policy),
                  policy=policy)


@router.post("/console/lockouts/unlock")
async def lockouts_unlock(request: Request) -> Response:
    staff, form = await need_post(request, "admin")
    scope, key = str(form.get("scope") or ""), str(form.get("key") or "")
    if scope not in TH.SCOPE_ZH or not key:
        return error_page(request, 422, "操作未完成", "缺少要解锁的对象（scope 与 key）")

    def work() -> int:
        n = TH.unlock(engine(request), scope, key, by=staff.username)
        with engine(request).begin() as conn:
            data.event(conn, staff.username, "解除登录锁定", scope, key)
        return n

    _, err = await attempt(request, work)
    return err or back("/console/lockouts", f"已解锁：{TH.SCOPE_ZH[scope]} {key}")


# -- public verification (no login) --------------------------------------------------------------------------------
KIND_ZH = {"record": "现场检查笔录", "notice": "责令限期整改通知书", "receipt": "送达回证", "ledger": "问题台账"}


def _doc_context(request: Request, token: str | None) -> dict[str, Any]:
    """What the QR URL says and what HQ holds for that document."""
    from inspector import qr
    from inspector.errors import DocumentError

    ctx: dict[str, Any] = {"token": token, "doc": None, "qr_ok": None, "qr_problem": None}
    if not token:
        return ctx
    try:
        parsed = qr.parse_url("x/" + token)
    except DocumentError as e:
        ctx["qr_problem"] = str(e)
        return ctx
    eng = engine(request)
    with eng.connect() as conn:
        r = conn.execute(sa.select(D.documents).where(D.documents.c.id == parsed.doc_id)).first()
        if r is None:
            ctx["qr_problem"] = "总部没有这份文书的记录（尚未同步，或二维码不是本机关签发的）"
            return ctx
        doc = data.full_row(D.documents, r)
        insp = conn.execute(sa.select(D.inspections).where(D.inspections.c.id == r.inspection_id)).first()
        inst = None
        if insp is not None:
            inst = conn.execute(sa.select(D.institutions.c.name).where(
                D.institutions.c.id == insp.institution_id)).first()
    doc["received_at"] = r.received_at
    doc["kind_zh"] = KIND_ZH.get(doc.get("kind") or "", doc.get("kind"))
    doc["signers_list"] = data.decode(doc.get("signers")) or []
    doc["institution"] = inst.name if inst else ""
    doc["inspection_date"] = (insp.started_at or "")[:10] if insp is not None else ""
    ctx["doc"] = doc
    with eng.connect() as conn:
        problems = service.check_qr(conn, token)["problems"]
    ctx["qr_ok"] = not problems
    ctx["qr_problem"] = "；".join(problems) or None
    return ctx


def _check_upload(request: Request, body: bytes, doc: dict[str, Any] | None) -> dict[str, Any]:
    from inspector.verify import verify_bytes

    sha = hashlib.sha256(body).hexdigest()
    cfg = hq(request).cfg
    trust = [cfg.ca_dir / "ca.cert.pem"] if (cfg.ca_dir / "ca.cert.pem").exists() else []
    sig = verify_bytes(body, trust)
    with engine(request).connect() as conn:
        from inspector.hq import pades_lt

        lt_doc = pades_lt.document_id_for_sha(conn, sha)  # HQ's timestamped (B-LT) copy counts as the document
        match = conn.execute(sa.select(D.documents).where(
            D.documents.c.id == lt_doc if lt_doc else D.documents.c.sha256 == sha)).first()
    matched = service.join_row(D.documents, match) if match is not None else None
    same = matched is not None and (doc is None or matched["id"] == doc["id"])
    return {"sha256": sha, "size": len(body), "matches": same, "matched": matched, "sig": sig,
            "genuine": same and sig["valid"],
            "kind_zh": KIND_ZH.get((matched or {}).get("kind") or "", "")}


def _public(request: Request, token: str | None, check: dict[str, Any] | None = None, status: int = 200) -> HTMLResponse:
    ctx = _doc_context(request, token)
    html = env.get_template("verify.html").render(request=request, staff=None, nav=[], check=check, **ctx)
    return HTMLResponse(html, status_code=status)


@router.get("/v/{token}")
def verify_token(request: Request, token: str) -> HTMLResponse:
    return _public(request, token)


@router.get("/verify")
def verify_blank(request: Request) -> HTMLResponse:
    return _public(request, None)


async def _verify_post(request: Request, token: str | None) -> HTMLResponse:
    form = await request.form()
    up = form.get("file")
    if not isinstance(up, UploadFile) or not up.filename:
        return _public(request, token, {"error": "请选择要核验的 PDF 文件"}, 422)
    body = await up.read()
    ctx = await run_in_threadpool(_doc_context, request, token)
    check = await run_in_threadpool(_check_upload, request, body, ctx.get("doc"))
    check["filename"] = up.filename
    return await run_in_threadpool(_public, request, token, check)


@router.post("/v/{token}")
async def verify_token_post(request: Request, token: str) -> HTMLResponse:
    return await _verify_post(request, token)


@router.post("/verify")
async def verify_post(request: Request) -> HTMLResponse:
    return await _verify_post(request, None)
