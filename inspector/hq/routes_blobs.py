"""Blob routes (device token required): status, resumable upload with hash check, download.

``PATCH /blobs/{sha}?offset=N&total=T`` appends bytes at ``offset`` (must equal what HQ
holds, else 409 with the right offset); when ``total`` bytes are in, HQ checks the hash
and keeps the file, or drops it and answers 422. No state in this process: each device's
upload of a blob is a row in ``uploads`` taken under a database lock (``inspector.hq.blobs``),
so any HQ worker can take any chunk.
"""
from __future__ import annotations

import asyncio
import logging
from typing import Any

from fastapi import APIRouter, Depends, Request, Response
from fastapi.responses import FileResponse
from starlette.concurrency import run_in_threadpool
from starlette.requests import ClientDisconnect

from inspector.hq import service
from inspector.hq.app import state
from inspector.hq.auth import require_device
from inspector.hq import blobs as uploads
from inspector.hq.blobs import check_sha
from inspector.hq.errors import HQError

log = logging.getLogger(__name__)
router = APIRouter(prefix="/api/v1", tags=["blobs"], dependencies=[Depends(require_device)])


async def _state(request: Request, sha: str) -> tuple[bool, int]:
    """(complete, bytes of this device's upload HQ holds)."""
    hq = state(request)
    check_sha(sha)
    return await run_in_threadpool(uploads.state, hq.engine, hq.blobs, request.state.device.id, sha)


@router.head("/blobs/{sha}")
async def blob_head(sha: str, request: Request) -> Response:
    complete, offset = await _state(request, sha)
    return Response(status_code=200 if complete else 404,
                    headers={"Upload-Offset": str(offset), "Upload-Complete": "1" if complete else "0"})


@router.get("/blobs/{sha}/status")
async def blob_status(sha: str, request: Request) -> dict[str, Any]:
    complete, offset = await _state(request, sha)
    return {"sha256": sha, "complete": complete, "offset": offset}


@router.get("/blobs/{sha}")
async def blob_get(sha: str, request: Request) -> FileResponse:
    hq = state(request)
    blobs = hq.blobs
    if not blobs.has(sha):
        raise HQError(404, "blob_unknown", f"总部没有文件 {sha[:12]}…")
    if not await run_in_threadpool(service.device_may_read_blob, hq.engine, request.state.device, sha):
        # same answer as an unknown blob: a device learns nothing of others' files
        log.warning("device %s: blob %s refused (not a file of its inspections)", request.state.device.id, sha)
        raise HQError(404, "blob_unknown", f"总部没有本设备可读取的文件 {sha[:12]}…")
    return FileResponse(blobs.path(sha), media_type="application/octet-stream")


READ_TIMEOUT = 30.0  # seconds without a byte before HQ gives up on a body (a vanished client)


async def _receive(request: Request, sha: str, offset: int, total: int, restart: bool) -> dict[str, Any]:
    """Check and reserve (database), read the body into its own file (no lock held while the
    network is slow), then append it under the device's database lock."""
    hq = state(request)
    dev = request.state.device.id
    check_sha(sha)
    st = await run_in_threadpool(uploads.begin, hq.engine, hq.blobs, hq.cfg, dev, sha, offset, total, restart)
    if st["complete"]:
        if restart:
            return st
        raise HQError(409, "blob_exists", f"文件 {sha[:12]}… 已在总部", offset=st["offset"], complete=True)
    room = total - offset
    tmp = hq.blobs.incoming(sha)
    got = 0
    try:
        with open(tmp, "wb") as f:
            stream = request.stream().__aiter__()
            try:
                while True:
                    try:
                        chunk = await asyncio.wait_for(stream.__anext__(), READ_TIMEOUT)
                    except StopAsyncIteration:
                        break
                    got += len(chunk)
                    if got > room:
                        raise HQError(422, "too_long", f"文件 {sha[:12]}…：收到的字节超出声明大小 {total}"
                                                       f"（应从 {offset} 处再传至多 {room} 字节）",
                                      offset=offset, complete=False)
                    f.write(chunk)
            except (ClientDisconnect, asyncio.TimeoutError):
                log.info("upload %s from device %s cut after %d bytes; keeping them", sha, dev, got)
        return await run_in_threadpool(uploads.commit, hq.engine, hq.blobs, dev, sha, offset, tmp)
    finally:
        tmp.unlink(missing_ok=True)


@router.patch("/blobs/{sha}")
async def blob_patch(sha: str, request: Request, total: int, offset: int = 0) -> dict[str, Any]:
    """Append a chunk at ``offset`` of a blob of ``total`` bytes."""
    return await _receive(request, sha, offset, total, restart=False)


@router.put("/blobs/{sha}")
async def blob_put(sha: str, request: Request) -> dict[str, Any]:
    """Upload a whole blob in one request (Content-Length = its size)."""
    cl = request.headers.get("content-length")
    if cl is None or not cl.isdigit():
        raise HQError(411, "length_required", "整体上传需要有效的 Content-Length")
    return await _receive(request, sha, 0, int(cl), restart=True)


@router.post("/blobs/check")
async def blobs_check(request: Request) -> dict[str, Any]:
    """Which of these blobs HQ lacks, and how far this device's upload of each got (one round trip per batch)."""
    from inspector.hq.routes_public import json_body

    body = await json_body(request)
    shas = body.get("shas")
    if not isinstance(shas, list) or len(shas) > 10000:
        raise HQError(422, "bad_request", "shas 应为不超过 10000 项的列表")
    hq = state(request)
    for s in shas:
        check_sha(s)
    return {"blobs": await run_in_threadpool(uploads.states, hq.engine, hq.blobs, request.state.device.id, shas)}
