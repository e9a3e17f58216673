"""Sync routes (device token required): state, push, pull, document-number blocks, co-inspector certificates."""
from __future__ import annotations

import datetime as dt
from typing import Any

import sqlalchemy as sa
from fastapi import APIRouter, Depends, Request
from starlette.concurrency import run_in_threadpool

from inspector.hq import db as D
from inspector.hq import service
from inspector.hq.app import state
from inspector.hq.auth import require_device
from inspector.hq.errors import HQError
from inspector.hq.routes_public import json_body

router = APIRouter(prefix="/api/v1", tags=["sync"], dependencies=[Depends(require_device)])


@router.get("/sync/state")
async def sync_state(request: Request) -> dict[str, Any]:
    """Where HQ's copy of this device stands: audit head, limits."""
    hq, dev = state(request), request.state.device
    head = await run_in_threadpool(service.audit_head, hq.engine, dev.id)
    return {"device_id": dev.id, "badge_no": dev.badge_no, "audit": head,
            "limits": {"max_body": hq.cfg.max_body, "chunk_size": hq.cfg.chunk_size, "page_size": hq.cfg.page_size}}


@router.post("/push")
async def push(request: Request) -> dict[str, Any]:
    """Apply operations (idempotent by op_id) and extend the device's audit chain."""
    body = await json_body(request)
    hq = state(request)
    return await run_in_threadpool(service.push, hq.engine, hq.blobs, request.state.device, body)


@router.get("/changes")
async def changes(request: Request, since: int = 0, limit: int = 0) -> dict[str, Any]:
    """One page of the pull log after cursor ``since``."""
    hq = state(request)
    lim = min(limit or hq.cfg.page_size, 5000)
    return await run_in_threadpool(service.changes_page, hq.engine, request.state.device, since, lim)


@router.post("/doc-blocks")
async def doc_block(request: Request) -> dict[str, Any]:
    """Another block of document numbers for this device (when its block runs low or a year starts)."""
    hq, dev = state(request), request.state.device
    body = await json_body(request) if await request.body() else {}
    year = int(body.get("year") or dt.date.today().year)

    prefixes = [body["agency"]] if body.get("agency") else list(dict.fromkeys(hq.cfg.doc_prefixes.values()))

    def _alloc() -> dict[str, Any]:
        with D.write(hq.engine) as conn:
            return {"blocks": [service.allocate_block(conn, hq.cfg, dev.id, year, p) for p in prefixes]}

    return await run_in_threadpool(_alloc)


@router.get("/doc-blocks")
async def doc_blocks(request: Request) -> dict[str, Any]:
    hq, dev = state(request), request.state.device

    def _list() -> list[dict[str, Any]]:
        with hq.engine.connect() as conn:
            rows = conn.execute(sa.select(D.doc_blocks).where(D.doc_blocks.c.device_id == dev.id)
                                .order_by(D.doc_blocks.c.id)).all()
        return [{"agency": r.agency, "year": r.year, "first": r.first, "last": r.last} for r in rows]

    return {"blocks": await run_in_threadpool(_list)}


@router.post("/certify")
async def certify(request: Request) -> dict[str, Any]:
    """Certify a co-inspector's key on this (enrolled) laptop with HQ's CA, spending that inspector's
    own one-time code; the device token is unchanged."""
    body = await json_body(request)
    code, badge, pub = body.get("code"), body.get("badge_no"), body.get("public_key_pem")
    if not isinstance(code, str) or not isinstance(badge, str) or not isinstance(pub, str):
        raise HQError(422, "bad_request", "需要 code、badge_no 与 public_key_pem")
    hq = state(request)
    return await run_in_threadpool(service.certify, hq.engine, hq.cfg, request.state.device, code, badge, pub)
