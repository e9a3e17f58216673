"""Routes that need no token: health, enrolment, public document verification."""
from __future__ import annotations

import hashlib
from typing import Any, Callable, Coroutine

import sqlalchemy as sa
from fastapi import APIRouter, Path, Request, Response
from fastapi.routing import APIRoute
from starlette.concurrency import run_in_threadpool
from starlette.requests import ClientDisconnect

from inspector import __version__
from inspector.hq import db as D
from inspector.hq import service
from inspector.hq.app import state
from inspector.hq.errors import HQError
from inspector.hq.schemas import (EnrolReply, EnrolRequest, Health, VerifyReply, parse_json,
                                  refusals)


async def _raw(request: Request) -> bytes:
    try:
        return await request.body()
    except ClientDisconnect:
        raise HQError(400, "client_disconnected", "连接在请求正文传完之前断开") from None


async def _parsed(request: Request) -> Any:
    """The body through ``parse_json`` (bounded nesting, no NaN, no lone surrogates), once per
    request: FastAPI's own ``request.json()`` then returns this instead of parsing again."""
    if not hasattr(request, "_json"):
        request._json = parse_json(await _raw(request))
    return request._json


def _is_json(content_type: str | None) -> bool:
    if not content_type:
        return True  # FastAPI reads a body without a type as JSON on these routers too
    main = content_type.split(";", 1)[0].strip().lower()
    return main == "application/json" or (main.startswith("application/") and main.endswith("+json"))


class BoundedJSONRoute(APIRoute):
    """A route whose JSON body is parsed by ``parse_json`` before FastAPI validates it against the
    route's model: a 100,000-deep ``[[[…`` is a 400 with a Chinese reason, not a RecursionError."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()
        if getattr(self, "body_field", None) is None:
            return handler

        async def bounded(request: Request) -> Response:
            if _is_json(request.headers.get("content-type")) and await _raw(request):
                await _parsed(request)
            return await handler(request)

        return bounded


router = APIRouter(prefix="/api/v1", tags=["public"], route_class=BoundedJSONRoute, strict_content_type=False)


async def json_body(request: Request) -> dict[str, Any]:
    """A route's JSON object body, for routes that read it themselves (bounded like every JSON body)."""
    body = await _parsed(request)
    if not isinstance(body, dict):
        raise HQError(400, "bad_json", "请求正文应为 JSON 对象")
    return body


@router.get("/health", response_model=Health)
async def health() -> dict[str, Any]:
    return {"ok": True, "version": __version__}


@router.post("/enrol", response_model=EnrolReply, responses=refusals(400, 401, 404, 413, 422, 429))
async def enrol(body: EnrolRequest, request: Request) -> dict[str, Any]:
    """Trade a one-time code for a device token, the inspector's certificate and document numbers."""
    hq = state(request)
    return await run_in_threadpool(service.enrol, hq.engine, hq.cfg, body.code, body.public_key_pem,
                                   body.device_name, body.qr_public_key_pem, body.badge_no)


def _doc_info(engine: sa.Engine, where: Any, agency: str = "") -> dict[str, Any]:
    """What the public may learn of a document: genuine or not, who issued what when. Never the
    file's hash, the inspection's id or anyone's personal data (docs/ownership.md)."""
    with engine.connect() as conn:
        r = conn.execute(sa.select(D.documents).where(where)).first()
    if r is None:
        return {"found": False, "genuine": False, "message": "总部没有这份文书的记录"}
    row = service.join_row(D.documents, r)
    # genuine here means HQ recorded a document under this id; the QR and file checks narrow it
    return {"found": True, "genuine": True, "message": "总部存有这份文书的记录；核对手中文件是否原件请上传 PDF",
            "document_id": r.id, "kind": r.kind, "number": r.number, "agency": agency,
            "issued_at": r.created_at, "received_at": r.received_at, "signed_copy_held": bool(r.sha256),
            "status": row.get("status")}


@router.get("/verify/{doc_id}", response_model=VerifyReply, responses=refusals(422))
async def verify(request: Request,
                 doc_id: str = Path(max_length=2048, pattern=r"^[^\x00-\x1f\x7f]+$",
                                    description="文书编号，或二维码中的完整核验串（不含控制字符）")) -> dict[str, Any]:
    """Public: what HQ recorded for a document (its signed PDF's SHA-256 among it). Given the QR's
    whole token (``id.record-sha.signature``) instead of the id, HQ also re-checks the QR's Ed25519
    signature against the device key it enrolled: ``qr_valid`` false and ``genuine`` false when it fails."""
    engine = state(request).engine
    if "." not in doc_id:
        return await run_in_threadpool(_doc_info, engine, D.documents.c.id == doc_id, state(request).cfg.agency)

    def work() -> dict[str, Any]:
        with engine.connect() as conn:
            q = service.check_qr(conn, doc_id)
        info = _doc_info(engine, D.documents.c.id == q["doc_id"], state(request).cfg.agency) if q["doc_id"] else \
            {"found": False, "message": "二维码内容无法解码"}
        info.update(qr_valid=q["qr_valid"], qr_problems=q["problems"], genuine=info["found"] and q["qr_valid"])
        if not q["qr_valid"]:
            info["message"] = "无法确认这份文书：" + "；".join(q["problems"])
        return info

    return await run_in_threadpool(work)


_PDF_BODY = {"requestBody": {"required": True, "content": {
    "application/pdf": {"schema": {"type": "string", "format": "binary"}},
    "application/octet-stream": {"schema": {"type": "string", "format": "binary"}}}}}


@router.post("/verify", response_model=VerifyReply, responses=refusals(413), openapi_extra=_PDF_BODY)
async def verify_file(request: Request) -> dict[str, Any]:
    """Public: is this exact file a document HQ received? (The body is the PDF.)"""
    data = await request.body()
    sha = hashlib.sha256(data).hexdigest()

    def where() -> Any:  # the laptop's signed file, or HQ's timestamped (B-LT) copy of it
        from inspector.hq import pades_lt

        with state(request).engine.connect() as conn:
            lt_doc = pades_lt.document_id_for_sha(conn, sha)
        return D.documents.c.id == lt_doc if lt_doc else D.documents.c.sha256 == sha

    cond = await run_in_threadpool(where)
    info = await run_in_threadpool(_doc_info, state(request).engine, cond, state(request).cfg.agency)
    info["genuine"] = info["found"]
    info["file_sha256"] = sha
    return info
