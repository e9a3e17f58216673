"""Public PKI routes: HQ's CA certificate (AIA caIssuers), its CRL (CRL distribution point) and
the RFC 3161 time-stamping authority (inspector/hq/tsa.py). No token: validators and other
time-stamp clients anywhere may ask."""
from __future__ import annotations

from fastapi import APIRouter, Request, Response
from starlette.concurrency import run_in_threadpool

from inspector.hq import pades_lt
from inspector.hq import tsa as T
from inspector.hq.app import state
from inspector.hq.errors import HQError

router = APIRouter(tags=["pki"])
TSQ, TSR = "application/timestamp-query", "application/timestamp-reply"
MAX_TSQ = 16 * 1024  # an RFC 3161 request is a few hundred bytes


@router.get("/ca/ca.der", response_class=Response)
async def ca_cert(request: Request) -> Response:
    """HQ's CA certificate (DER), named by every certificate's AIA caIssuers."""
    der = await run_in_threadpool(pades_lt.ca_der, state(request).cfg)
    return Response(der, media_type="application/pkix-cert", headers={"Cache-Control": "max-age=86400"})


@router.get("/ca/crl.der", response_class=Response)
async def crl(request: Request) -> Response:
    """HQ's certificate revocation list (DER); remade after a device is revoked."""
    hq = state(request)
    der = await run_in_threadpool(pades_lt.current_crl, hq.cfg, hq.engine)
    return Response(der, media_type="application/pkix-crl", headers={"Cache-Control": "max-age=300"})


@router.post("/api/v1/tsa", response_class=Response,
             openapi_extra={"requestBody": {"required": True, "content": {TSQ: {"schema": {
                 "type": "string", "format": "binary"}}}}})
async def timestamp(request: Request) -> Response:
    """RFC 3161 over HTTP (RFC 3161 §3.4): a DER TimeStampReq in, a DER TimeStampResp out."""
    ctype = (request.headers.get("content-type") or "").split(";")[0].strip().lower()
    if ctype != TSQ:
        raise HQError(415, "bad_content_type", f"时间戳请求的 Content-Type 应为 {TSQ}（收到 {ctype or '无'}）")
    body = await request.body()
    if len(body) > MAX_TSQ:
        raise HQError(413, "too_large", f"时间戳请求过大（{len(body)} 字节，上限 {MAX_TSQ}）")
    hq = state(request)
    tsa = await run_in_threadpool(T.load_or_create, hq.cfg.ca_dir, agency=hq.cfg.agency, base_url=hq.cfg.base_url)
    reply = await run_in_threadpool(T.respond, tsa, body)
    return Response(reply, media_type=TSR)
