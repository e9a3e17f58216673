"""One log line per request with a request id (``X-Request-ID``, echoed to the client), so a
laptop's error report and HQ's log meet: ``<rid> METHOD path -> status in ms (device/address)``."""
from __future__ import annotations

import logging
import secrets
import time
from typing import Any

log = logging.getLogger("inspector.hq.requests")


class RequestLog:
    def __init__(self, app: Any):
        self.app = app

    async def __call__(self, scope: dict, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        given = dict(scope.get("headers") or []).get(b"x-request-id", b"").decode("latin-1")
        # a client's id is kept only when short and plain (it lands in log lines)
        rid = given if 0 < len(given) <= 64 and given.replace("-", "").isalnum() else secrets.token_hex(8)
        scope.setdefault("state", {})["request_id"] = rid
        t0 = time.perf_counter()
        status = 500

        async def send_with_id(msg: dict) -> None:
            nonlocal status
            if msg["type"] == "http.response.start":
                status = msg["status"]
                msg = {**msg, "headers": [*msg.get("headers", []), (b"x-request-id", rid.encode())]}
            await send(msg)

        try:
            await self.app(scope, receive, send_with_id)
        finally:
            client = (scope.get("client") or ("?", 0))[0]
            ms = (time.perf_counter() - t0) * 1000
            level = logging.WARNING if status >= 500 else logging.INFO
            log.log(level, "%s %s %s -> %d in %.1f ms (%s)", rid, scope.get("method"), scope.get("path"), status, ms,
                    client)
