"""Device authentication as a FastAPI dependency; every non-public router uses it.

``PUBLIC_PATHS`` lists the routes that need no token (enrolment, public document
verification, health, the OpenAPI description); tests check every other route refuses.
"""
from __future__ import annotations

from typing import Any

from fastapi import Request
from starlette.concurrency import run_in_threadpool

from inspector.hq import service
from inspector.hq.service import Device

PUBLIC_PATHS: set[str] = {
    "/openapi.json", "/docs", "/docs/oauth2-redirect", "/redoc",
    "/api/v1/health", "/api/v1/enrol", "/api/v1/verify/{doc_id}", "/api/v1/verify",
    # what relying parties need to check a signature long after (RFC 5280 AIA/CRL, RFC 3161)
    "/ca/ca.der", "/ca/crl.der", "/api/v1/tsa",
}


async def require_device(request: Request) -> Device:
    hq = request.app.state.hq
    dev = await run_in_threadpool(service.authenticate, hq.engine, request.headers.get("authorization"))
    request.state.device = dev
    return dev


def all_routes(app: Any) -> list[tuple[str, set[str]]]:
    """Every (path, methods) the app serves, flattening included routers (old and new FastAPI)."""
    out: list[tuple[str, set[str]]] = []

    def walk(routes: Any, prefix: str = "") -> None:
        for r in routes:
            if hasattr(r, "effective_route_contexts"):  # FastAPI ≥ 0.16x: lazily included routers
                for c in r.effective_route_contexts():
                    out.append((c.path, set(getattr(c, "methods", None) or {"GET"})))
            elif getattr(r, "routes", None) and not getattr(r, "methods", None) and hasattr(r, "path") \
                    and type(r).__name__ != "Mount":
                walk(r.routes, prefix + r.path)
            elif hasattr(r, "path"):
                out.append((prefix + r.path, set(getattr(r, "methods", None) or {"GET"})))

    walk(app.routes)
    return out
