"""Routes that need no token: health, enrolment, public document verification."""
from __future__ import annotations

import hashlib
from typing import Any

import sqlalchemy as sa
from fastapi import APIRouter, Request
from starlette.concurrency import run_in_threadpool
from starlette.requests import ClientDisconnect

from inspector import __version__
from inspector.hq import db as D
from inspector.hq import service
from inspector.hq.app import state
from inspector.hq.errors import HQError

router = APIRouter(prefix="/api/v1", tags=["public"])


async def json_body(request: Request) -> dict[str, Any]:
    try:
        body = await request.json()
    except ClientDisconnect:
        raise HQError(400, "client_disconnected", "连接在请求正文传完之前断开") from None
    except ValueError as e:
        raise HQError(400, "bad_json", f"请求正文不是有效的 JSON：{e}") from e
    if not isinstance(body, dict):
        raise HQError(400, "bad_json", "请求正文应为 JSON 对象")
    return body


@router.get("/health")
async def health() -> dict[str, Any]:
    return {"ok": True, "version": __version__}


@router.post("/enrol")
async def enrol(request: Request) -> dict[str, Any]:
    """Trade a one-time code for a device token, the inspector's certificate and document numbers."""
    body = await json_body(request)
    code, pub = body.get("code"), body.get("public_key_pem")
    if not isinstance(code, str) or not isinstance(pub, str):
        raise HQError(422, "bad_request", "需要 code 与 public_key_pem")
    hq = state(request)
    return await run_in_threadpool(service.enrol, hq.engine, hq.cfg, code, pub, body.get("device_name"),
                                   body.get("qr_public_key_pem"), body.get("badge_no"))


def _doc_info(engine: sa.Engine, where: Any) -> dict[str, Any]:
    with engine.connect() as conn:
        r = conn.execute(sa.select(D.documents).where(where)).first()
    if r is None:
        return {"found": False, "genuine": False, "message": "总部没有这份文书的记录"}
    row = service.join_row(D.documents, r)
    return {"found": True, "document_id": r.id, "kind": r.kind, "number": r.number, "sha256": r.sha256,
            "inspection_id": r.inspection_id, "received_at": r.received_at,
            "status": row.get("status")}


@router.get("/verify/{doc_id}")
async def verify(doc_id: str, request: Request) -> dict[str, Any]:
    """Public: what HQ recorded for a document (its signed PDF's SHA-256 among it). Given the QR's
    whole token (``id.record-sha.signature``) instead of the id, HQ also re-checks the QR's Ed25519
    signature against the device key it enrolled: ``qr_valid`` false and ``genuine`` false when it fails."""
    engine = state(request).engine
    if "." not in doc_id:
        return await run_in_threadpool(_doc_info, engine, D.documents.c.id == doc_id)

    def work() -> dict[str, Any]:
        with engine.connect() as conn:
            q = service.check_qr(conn, doc_id)
        info = _doc_info(engine, D.documents.c.id == q["doc_id"]) if q["doc_id"] else \
            {"found": False, "message": "二维码内容无法解码"}
        info.update(qr_valid=q["qr_valid"], qr_problems=q["problems"], genuine=info["found"] and q["qr_valid"])
        if not q["qr_valid"]:
            info["message"] = "无法确认这份文书：" + "；".join(q["problems"])
        return info

    return await run_in_threadpool(work)


@router.post("/verify")
async def verify_file(request: Request) -> dict[str, Any]:
    """Public: is this exact file a document HQ received? (The body is the PDF.)"""
    data = await request.body()
    sha = hashlib.sha256(data).hexdigest()
    info = await run_in_threadpool(_doc_info, state(request).engine, D.documents.c.sha256 == sha)
    info["genuine"] = info["found"]
    info["file_sha256"] = sha
    return info
