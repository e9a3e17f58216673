"""``HQClient``: JSON requests to HQ over httpx. Tests inject a transport (faults, mocks);
normal use talks to the real server. Network failures become ``SyncError`` naming what
failed; HQ's refusals become ``HQRefused`` (or ``AuthError`` for 401/403).
"""
from __future__ import annotations

from typing import Any

import httpx

from inspector.errors import AuthError, SyncError

NOTHING_LOST = "本机数据没有丢失，下次同步会从中断处继续"


class HQRefused(SyncError):
    """HQ answered with an error status; ``code`` is its stable English code."""

    def __init__(self, status: int, code: str, message: str, body: dict[str, Any]):
        super().__init__(message)
        self.status = status
        self.code = code
        self.body = body


class HQClient:
    def __init__(self, base_url: str, token: str | None = None, *,
                 transport: httpx.BaseTransport | None = None, timeout: float = 60.0):
        headers = {"User-Agent": "inspector-sync/1"}
        if token:
            headers["Authorization"] = f"Bearer {token}"
        self.base_url = base_url.rstrip("/")
        self.http = httpx.Client(base_url=self.base_url, headers=headers, transport=transport,
                                 timeout=httpx.Timeout(timeout, connect=10.0))
        self.bytes_sent = 0   # blob bytes put on the wire (for progress and the resume bench)

    def close(self) -> None:
        self.http.close()

    def __enter__(self) -> "HQClient":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def request(self, method: str, path: str, what: str, **kw: Any) -> dict[str, Any]:
        """One request; ``what`` says in Chinese what was being done (for the error message)."""
        try:
            r = self.http.request(method, path, **kw)
        except httpx.HTTPError as e:
            raise SyncError(f"{what}失败：无法连接总部 {self.base_url}（{type(e).__name__}: {e}）；{NOTHING_LOST}") from e
        try:
            body = r.json() if r.content else {}
        except ValueError:
            body = {"error": r.text[:200]}
        if r.status_code >= 400:
            msg = body.get("error") if isinstance(body, dict) else None
            code = body.get("code", f"http_{r.status_code}") if isinstance(body, dict) else f"http_{r.status_code}"
            text = f"{what}失败：总部拒绝（{r.status_code} {code}）：{msg or r.reason_phrase}"
            if r.status_code in (401, 403):
                raise AuthError(text + "；本机数据没有丢失")
            raise HQRefused(r.status_code, code, text + f"；{NOTHING_LOST}", body if isinstance(body, dict) else {})
        return body if isinstance(body, dict) else {"data": body}

    def get(self, path: str, what: str, **kw: Any) -> dict[str, Any]:
        return self.request("GET", path, what, **kw)

    def post(self, path: str, what: str, json: Any = None, **kw: Any) -> dict[str, Any]:
        return self.request("POST", path, what, json=json, **kw)
