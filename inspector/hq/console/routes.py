"""Console pages, assembled. Each page area is a module with its own router (``*_routes.py``); what they
share (session and role checks, rendering, downloads) is ``common.py``. GET handlers are plain functions
(FastAPI runs them in a thread); POST handlers read the form, check the session's CSRF token and the role,
then do the work in a thread. Every handler starts with ``need(request, role)``. The routers are included
in the order below, which is the order the paths are matched in."""
from __future__ import annotations

import urllib.parse
from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from inspector.hq.console import auth as A
from inspector.hq.console import (admin_routes, credit_routes, dashboard_routes, directory_routes, draw_routes,
                                  forms_routes, inspection_routes, login_routes, report_routes, verify_routes)
from inspector.hq.console.common import error_page

AREAS = (login_routes, dashboard_routes, inspection_routes, report_routes, credit_routes, draw_routes,
         directory_routes, admin_routes, verify_routes, forms_routes)


def install(app: Any) -> None:
    for area in AREAS:
        app.include_router(area.router)

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
