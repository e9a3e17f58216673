"""Console sign-in and sign-out: the login form's own CSRF cookie, throttled password checks, the session cookie."""
from __future__ import annotations


from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from starlette.concurrency import run_in_threadpool

from inspector.hq import headers as H
from inspector.hq import throttle as TH
from inspector.hq.console import auth as A
from inspector.hq.console.common import engine, hq, need_post, render

router = APIRouter(include_in_schema=False)


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
