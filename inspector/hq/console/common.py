"""What every console page shares: the Jinja environment and its filters, the navigation, the
session and role checks (``need``/``need_post``), rendering, redirects with a message, error pages,
the query-string filters and file downloads. Page areas live in ``*_routes.py``; ``routes.install``
assembles them."""
from __future__ import annotations

import datetime as dt
import urllib.parse
from pathlib import Path
from typing import Any, Callable

from fastapi import Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape
from starlette.concurrency import run_in_threadpool

from inspector.hq.console import auth as A
from inspector.hq.console import data
from inspector.hq.errors import HQError


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




def query_filters(request: Request) -> dict[str, str]:
    q = request.query_params
    return {k: (q.get(k) or "").strip() for k in ("since", "until", "county", "kind", "q", "status")}


def default_period(f: dict[str, str]) -> dict[str, str]:
    if not f["since"] and not f["until"]:
        y = dt.date.today().year
        f["since"], f["until"] = f"{y}-01-01", f"{y}-12-31"
    return f


def counties(inputs: dict[str, Any]) -> list[str]:
    return sorted({i.get("county") for i in inputs["institutions"].values() if i.get("county")})


def agency_unit(request: Request) -> str:
    """填报单位: HQ's agency when it is named (by init or its profile); '' leaves the seed's blank."""
    from inspector.reports.xlsx_print import named_unit

    return named_unit(hq(request).cfg.agency)


XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def xlsx_bytes(write: Callable[[str], Any]) -> bytes:
    """Writers take a path (the shared ledger writer saves by file name): write to a temp file."""
    import tempfile

    with tempfile.TemporaryDirectory() as tmp:
        p = str(Path(tmp) / "out.xlsx")
        write(p)
        return Path(p).read_bytes()


def download(body: bytes, name: str) -> Response:
    mt = "application/pdf" if name.endswith(".pdf") else XLSX
    return Response(body, media_type=mt, headers={
        "Content-Disposition": f"attachment; filename*=UTF-8''{urllib.parse.quote(name)}"})
