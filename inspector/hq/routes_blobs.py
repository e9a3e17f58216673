"""Blob routes (device token required): status, resumable upload with hash check, download.

``PATCH /blobs/{sha}?offset=N&total=T`` appends bytes at ``offset`` (must equal what HQ
holds, else 409 with the right offset); when ``total`` bytes are in, HQ checks the hash
and keeps the file, or drops it and answers 422.
"""
from __future__ import annotations

import asyncio
from typing import Any

from fastapi import APIRouter, Depends, Request, Response
from fastapi.responses import FileResponse
from starlette.concurrency import run_in_threadpool
from starlette.requests import ClientDisconnect

from inspector.hq.app import state
from inspector.hq.auth import require_device
from inspector.hq.blobs import check_sha
from inspector.hq.errors import HQError

router = APIRouter(prefix="/api/v1", tags=["blobs"], dependencies=[Depends(require_device)])


@router.head("/blobs/{sha}")
async def blob_head(sha: str, request: Request) -> Response:
    complete, offset = state(request).blobs.offset(sha)
    return Response(status_code=200 if complete else 404,
                    headers={"Upload-Offset": str(offset), "Upload-Complete": "1" if complete else "0"})


@router.get("/blobs/{sha}/status")
async def blob_status(sha: str, request: Request) -> dict[str, Any]:
    complete, offset = state(request).blobs.offset(sha)
    return {"sha256": sha, "complete": complete, "offset": offset}


@router.get("/blobs/{sha}")
async def blob_get(sha: str, request: Request) -> FileResponse:
    blobs = state(request).blobs
    if not blobs.has(sha):
        raise HQError(404, "blob_unknown", f"总部没有文件 {sha[:12]}…")
    return FileResponse(blobs.path(sha), media_type="application/octet-stream")


LOCK_WAIT = 10.0     # seconds an upload waits for another upload of the same blob
READ_TIMEOUT = 30.0  # seconds without a byte before HQ gives up on a body (a vanished client)


async def _receive(request: Request, sha: str, offset: int, total: int, restart: bool) -> dict[str, Any]:
    hq = state(request)
    check_sha(sha)
    lock = hq.blob_lock(sha)
    try:
        await asyncio.wait_for(lock.acquire(), LOCK_WAIT)
    except asyncio.TimeoutError:
        raise HQError(409, "upload_busy", f"文件 {sha[:12]}… 正在由另一连接上传，请稍后重试") from None
    try:
        if restart:
            hq.blobs.partial(sha).unlink(missing_ok=True)
        f = hq.blobs.open_partial(sha, offset, total)
        stream = request.stream().__aiter__()
        try:
            while True:
                try:
                    chunk = await asyncio.wait_for(stream.__anext__(), READ_TIMEOUT)
                except StopAsyncIteration:
                    break
                f.write(chunk)
                if f.tell() > total:
                    break
        except (ClientDisconnect, asyncio.TimeoutError):
            return {"sha256": sha, "complete": False}
        finally:
            f.flush()
            f.close()
        complete, have = await run_in_threadpool(hq.blobs.finish, sha, total)
    finally:
        lock.release()
    return {"sha256": sha, "complete": complete, "offset": have}


@router.patch("/blobs/{sha}")
async def blob_patch(sha: str, request: Request, total: int, offset: int = 0) -> dict[str, Any]:
    """Append a chunk at ``offset`` of a blob of ``total`` bytes."""
    return await _receive(request, sha, offset, total, restart=False)


@router.put("/blobs/{sha}")
async def blob_put(sha: str, request: Request) -> dict[str, Any]:
    """Upload a whole blob in one request (Content-Length = its size)."""
    cl = request.headers.get("content-length")
    if cl is None:
        raise HQError(411, "length_required", "整体上传需要 Content-Length")
    complete, have = state(request).blobs.offset(sha)
    if complete:
        return {"sha256": sha, "complete": True, "offset": have}
    return await _receive(request, sha, 0, int(cl), restart=True)


@router.post("/blobs/check")
async def blobs_check(request: Request) -> dict[str, Any]:
    """Which of these blobs HQ lacks, and how far each partial upload got (one round trip per batch)."""
    from inspector.hq.routes_public import json_body

    body = await json_body(request)
    shas = body.get("shas")
    if not isinstance(shas, list) or len(shas) > 10000:
        raise HQError(422, "bad_request", "shas 应为不超过 10000 项的列表")
    blobs = state(request).blobs
    out = {}
    for s in shas:
        complete, offset = blobs.offset(str(s))
        out[s] = {"complete": complete, "offset": offset}
    return {"blobs": out}
