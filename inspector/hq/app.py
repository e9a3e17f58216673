"""``create_app(config)``: HQ's FastAPI app. Routers live in their own modules
(``routes_public``, ``routes_sync``, ``routes_blobs``); the web console adds its own with
``app.include_router``. Refusals are JSON ``{"error": 中文, "code": english}``.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from sqlalchemy.engine import Engine
from starlette.exceptions import HTTPException as StarletteHTTPException

from inspector import __version__
from inspector.hq import db as D
from inspector.hq.blobs import HQBlobs
from inspector.hq.blobs import gc as blobs_gc
from inspector.hq.config import HQConfig
from inspector.hq.errors import HQError


@dataclass
class HQState:
    """What every route needs; ``request.app.state.hq``."""

    cfg: HQConfig
    engine: Engine
    blobs: HQBlobs  # uploads are coordinated in the database (inspector.hq.blobs), not in this process


class BodyLimit:
    """Refuse bodies over ``max_body`` bytes with 413 and a clear message (declared or streamed)."""

    def __init__(self, app: Any, max_body: int):
        self.app = app
        self.max_body = max_body

    def _too_large(self, got: int | None) -> JSONResponse:
        mb = self.max_body / 1024 / 1024
        return JSONResponse(status_code=413, content={
            "error": f"请求过大（{got if got is not None else '超过上限'} 字节），总部每个请求的上限是 {self.max_body} 字节"
                     f"（{mb:.1f} MB）；大文件请分块上传", "code": "too_large", "limit": self.max_body})

    async def __call__(self, scope: dict, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        for k, v in scope.get("headers") or []:
            if k == b"content-length":
                try:
                    n = int(v)
                except ValueError:
                    n = 0
                if n > self.max_body:
                    return await self._too_large(n)(scope, receive, send)
        seen = 0
        started = False

        class _TooLarge(Exception):
            pass

        async def limited() -> dict:
            nonlocal seen
            msg = await receive()
            if msg["type"] == "http.request":
                seen += len(msg.get("body", b""))
                if seen > self.max_body:
                    raise _TooLarge()
            return msg

        async def watch(msg: dict) -> None:
            nonlocal started
            if msg["type"] == "http.response.start":
                started = True
            await send(msg)

        try:
            await self.app(scope, limited, watch)
        except _TooLarge:
            if not started:
                await self._too_large(None)(scope, receive, send)


def create_app(config: HQConfig | str | Path | None = None, *, engine: Engine | None = None) -> FastAPI:
    cfg = config if isinstance(config, HQConfig) else HQConfig.load(config)
    engine = engine or D.make_engine(cfg.url)
    D.create_schema(engine)
    app = FastAPI(title="inspector HQ", version=__version__,
                  description="总部服务：设备登记、推送与拉取同步、文件上传、公开验证。")
    app.state.hq = HQState(cfg, engine, HQBlobs(cfg.blob_dir))
    blobs_gc(engine, app.state.hq.blobs, cfg)  # abandoned uploads of earlier runs

    @app.exception_handler(HQError)
    async def _hq_error(_req: Request, e: HQError) -> JSONResponse:
        return JSONResponse(status_code=e.status, content=e.body())

    @app.exception_handler(RequestValidationError)
    async def _invalid(_req: Request, e: RequestValidationError) -> JSONResponse:
        from inspector.hq.schemas import validation_problems  # names each field in Chinese, drops the input

        message, problems = validation_problems(e.errors())
        return JSONResponse(status_code=422, content={"error": message, "code": "bad_request", "problems": problems})

    @app.exception_handler(StarletteHTTPException)
    async def _http(_req: Request, e: StarletteHTTPException) -> JSONResponse:
        zh = {404: "没有这个地址", 405: "不支持该请求方法"}.get(e.status_code, "请求被拒绝")
        return JSONResponse(status_code=e.status_code, content={"error": zh, "code": f"http_{e.status_code}"},
                            headers=getattr(e, "headers", None))

    from inspector.hq import routes_blobs, routes_pki, routes_public, routes_sync

    app.include_router(routes_public.router)
    app.include_router(routes_pki.router)  # CA certificate, CRL, RFC 3161 TSA
    app.include_router(routes_sync.router)
    app.include_router(routes_blobs.router)
    from inspector.hq.console import mount  # web console (staff pages + public /v/ verification)

    mount(app, cfg)
    app.add_middleware(BodyLimit, max_body=cfg.max_body)
    from inspector.hq.headers import SecurityHeaders, check_settings
    from inspector.hq.throttle import CodeThrottle

    check_settings(cfg)  # a bad cookie_secure stops HQ at start, not at its first request
    app.add_middleware(CodeThrottle, cfg=cfg)  # enrolment/certify codes: refused before the body is read
    app.add_middleware(SecurityHeaders, cfg=cfg)  # every answer gets CSP & co., 413/429 too
    from inspector.hq.requestlog import RequestLog

    app.add_middleware(RequestLog)  # outermost: one line per request, with its id
    return app


def state(request: Request) -> HQState:
    return request.app.state.hq
