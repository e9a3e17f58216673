"""Sync routes (device token required): state, push, pull, document-number blocks, co-inspector certificates."""
from __future__ import annotations

import logging
from typing import Any

import sqlalchemy as sa
from fastapi import APIRouter, BackgroundTasks, Depends, Query, Request
from starlette.concurrency import run_in_threadpool

from inspector.hq import db as D
from inspector.hq import service
from inspector.hq.app import state
from inspector.hq.auth import require_device
from inspector.hq.errors import HQError
from inspector.hq.routes_public import BoundedJSONRoute
from inspector.hq.schemas import (INT64, PAGE_MAX, CertifyReply, CertifyRequest, ChangesPage, DocBlockRequest,
                                  DocBlocks, PushReply, PushRequest, SyncState, check_op, refusals)

log = logging.getLogger(__name__)
router = APIRouter(prefix="/api/v1", tags=["sync"], dependencies=[Depends(require_device)],
                   route_class=BoundedJSONRoute, strict_content_type=False,
                   responses=refusals(401, 403))


@router.get("/sync/state", response_model=SyncState)
async def sync_state(request: Request) -> dict[str, Any]:
    """Where HQ's copy of this device stands: audit head, limits."""
    hq, dev = state(request), request.state.device
    head = await run_in_threadpool(service.audit_head, hq.engine, dev.id)
    return {"device_id": dev.id, "badge_no": dev.badge_no, "audit": head,
            "limits": {"max_body": hq.cfg.max_body, "chunk_size": hq.cfg.chunk_size, "page_size": hq.cfg.page_size},
            "profile": service.published_profile(hq.cfg, text=False)}


@router.get("/profile", responses=refusals(404))
async def profile(request: Request) -> dict[str, Any]:
    """The jurisdiction profile HQ publishes (its TOML text), for a laptop whose copy is older."""
    prof = service.published_profile(state(request).cfg)
    if prof is None:
        raise HQError(404, "no_profile", "总部没有发布地区档案")
    return prof


@router.post("/push", response_model=PushReply, responses=refusals(400, 409, 413, 422))
async def push(body: PushRequest, request: Request, background: BackgroundTasks) -> dict[str, Any]:
    """Apply operations (idempotent by op_id) and extend the device's audit chain. An op whose data
    HQ cannot store (a column of the wrong type, an over-long text, a number out of range) is
    answered ``error``/``bad_row`` on its own; the rest of the batch applies."""
    hq, dev = state(request), request.state.device
    ops = [o.model_dump() for o in body.ops]
    bad = {i: p for i, o in enumerate(ops) if (p := check_op(o)) is not None}
    for i, p in bad.items():
        log.warning("device %s: op %s (%s %s) refused: %s", dev.id, ops[i]["op_id"], ops[i]["entity"],
                    ops[i]["entity_id"], p)
    good = [o for i, o in enumerate(ops) if i not in bad]
    audit = body.audit.model_dump() if body.audit else {}
    res = await run_in_threadpool(service.push, hq.engine, hq.blobs, dev, {"ops": good, "audit": audit})
    if any(o["entity"] in ("document", "inspection") for o in good):  # B-LT copies, after the reply is out
        from inspector.hq import pades_lt

        background.add_task(pades_lt.after_push, hq.cfg, hq.engine, hq.blobs)
    if bad:  # the refused ops back in their places, so results still line up with the request's ops
        done = iter(res["results"])
        res["results"] = [{"op_id": o["op_id"], "entity": o["entity"], "entity_id": o["entity_id"],
                           "status": "error", "code": "bad_row", "error": f"操作 {o['op_id']}：{bad[i]}"}
                          if i in bad else next(done) for i, o in enumerate(ops)]
    return res


@router.get("/changes", response_model=ChangesPage, responses=refusals(422))
async def changes(request: Request,
                  since: int = Query(0, ge=0, le=INT64, description="游标：上一页返回的 cursor，首次为 0"),
                  limit: int | None = Query(None, ge=1, le=PAGE_MAX,
                                            description=f"每页条数（1–{PAGE_MAX}）；不填为总部设定的页大小")
                  ) -> dict[str, Any]:
    """One page of the pull log after cursor ``since``."""
    hq = state(request)
    lim = min(limit or hq.cfg.page_size, PAGE_MAX)
    return await run_in_threadpool(service.changes_page, hq.engine, request.state.device, since, lim)


@router.post("/doc-blocks", response_model=DocBlocks, responses=refusals(400, 413, 422, 429))
async def doc_block(request: Request, body_in: DocBlockRequest | None = None) -> dict[str, Any]:
    """Another block of document numbers for this device, only where its numbers run low (it
    reports how far it used its blocks in ``used``); at most ``doc_blocks_per_year`` per prefix."""
    from inspector.hq import numbers

    hq, dev = state(request), request.state.device
    body = body_in.model_dump(exclude_none=True) if body_in is not None else {}
    return await run_in_threadpool(numbers.request_blocks, hq.engine, hq.cfg, dev.id, body)


@router.get("/doc-blocks", response_model=DocBlocks)
async def doc_blocks(request: Request) -> dict[str, Any]:
    hq, dev = state(request), request.state.device

    def _list() -> list[dict[str, Any]]:
        with hq.engine.connect() as conn:
            rows = conn.execute(sa.select(D.doc_blocks).where(D.doc_blocks.c.device_id == dev.id)
                                .order_by(D.doc_blocks.c.id)).all()
            used = {u.block_id: u.used_through for u in conn.execute(sa.select(D.doc_block_usage).where(
                D.doc_block_usage.c.block_id.in_([r.id for r in rows])))} if rows else {}
        return [{"agency": r.agency, "year": r.year, "first": r.first, "last": r.last,
                 "used_through": used.get(r.id, r.first - 1)} for r in rows]

    return {"blocks": await run_in_threadpool(_list)}


@router.post("/certify", response_model=CertifyReply, responses=refusals(400, 404, 413, 422, 429))
async def certify(body: CertifyRequest, request: Request) -> dict[str, Any]:
    """Certify a co-inspector's key on this (enrolled) laptop with HQ's CA, spending that inspector's
    own one-time code; the device token is unchanged."""
    hq = state(request)
    return await run_in_threadpool(service.certify, hq.engine, hq.cfg, request.state.device, body.code,
                                   body.badge_no, body.public_key_pem)
