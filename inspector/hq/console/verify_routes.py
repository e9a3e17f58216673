"""Public document verification (no login): the page the QR code opens and the upload check of a PDF."""
from __future__ import annotations

import hashlib
from typing import Any

import sqlalchemy as sa
from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import UploadFile

from inspector.hq import db as D
from inspector.hq import service
from inspector.hq.console import data
from inspector.hq.console.common import engine, env, hq

router = APIRouter(include_in_schema=False)


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
