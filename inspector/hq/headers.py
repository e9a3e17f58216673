"""Security headers on every HQ response (console, device API, public ``/verify`` and ``/v/``), and
where a request really came from: its scheme (HTTPS or not) and client address, believing
``X-Forwarded-Proto``/``X-Forwarded-For`` only from the reverse proxies in ``trusted_proxies``.

The console has no inline script or style (its behaviour is in ``/console/static/console.js``), so
the Content-Security-Policy allows scripts and styles from HQ itself only. FastAPI's interactive
API pages (``/docs``, ``/redoc``) load Swagger/ReDoc from their CDN and carry one inline bootstrap
script: those pages get the CDN and the SHA-256 of that exact script, never ``'unsafe-inline'``.
"""
from __future__ import annotations

import base64
import hashlib
import ipaddress
import re
from typing import Any, Mapping

from inspector.errors import ValidationError
from inspector.hq.config import HQConfig

CSP = ("default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; font-src 'self'; "
       "connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'")
# a PDF shown in the browser: its built-in viewer is an embedded object of the document itself
PDF_CSP = CSP.replace("object-src 'none'", "object-src 'self'")
DOCS_PATHS = {"/docs", "/redoc", "/docs/oauth2-redirect"}
_DOCS_CDN = "https://cdn.jsdelivr.net"
_INLINE_SCRIPT = re.compile(rb"<script>(.*?)</script>", re.S)
COOKIE_SECURE = ("auto", "always", "never")


def _headers(scope: Mapping[str, Any], name: bytes) -> list[str]:
    return [v.decode("latin-1") for k, v in scope.get("headers") or [] if k == name]


def _peer(scope: Mapping[str, Any]) -> str:
    client = scope.get("client")
    return str(client[0]) if client else ""


def _trusted(cfg: HQConfig, addr: str) -> bool:
    return bool(addr) and addr in (cfg.trusted_proxies or [])


def is_https(scope: Mapping[str, Any], cfg: HQConfig) -> bool:
    """Reached over TLS: HQ's own (scheme https; uvicorn also sets it from a proxy it trusts) or a
    trusted reverse proxy saying so in X-Forwarded-Proto."""
    if scope.get("scheme") in ("https", "wss"):
        return True
    if _trusted(cfg, _peer(scope)):
        proto = ",".join(_headers(scope, b"x-forwarded-proto")).split(",")[0].strip().lower()
        return proto == "https"
    return False


def client_addr(scope: Mapping[str, Any], cfg: HQConfig) -> str:
    """The client's address for throttling: the connection's peer, or — when the peer is a trusted
    proxy — the right-most X-Forwarded-For entry that is not itself a trusted proxy (entries further
    left are the client's own claims). IPv6 clients count per /64 (one host can use a whole /64)."""
    addr = _peer(scope)
    if _trusted(cfg, addr):
        hops = [h.strip() for h in ",".join(_headers(scope, b"x-forwarded-for")).split(",") if h.strip()]
        for hop in reversed(hops):
            addr = hop
            if not _trusted(cfg, hop):
                break
    try:
        ip = ipaddress.ip_address(addr)
    except ValueError:
        return addr[:64] or "?"
    if ip.version == 6 and not ip.is_loopback:
        return str(ipaddress.ip_network(f"{ip}/64", strict=False))
    return str(ip)


def cookie_secure(scope: Mapping[str, Any], cfg: HQConfig) -> bool:
    """Whether the session cookie gets ``Secure`` (setting ``cookie_secure``)."""
    mode = cfg.cookie_secure
    if mode == "always":
        return True
    if mode == "never":
        return False
    return is_https(scope, cfg)


def _docs_csp(body: bytes) -> str:
    hashes = " ".join("'sha256-%s'" % base64.b64encode(hashlib.sha256(m).digest()).decode()
                      for m in _INLINE_SCRIPT.findall(body))
    return (f"default-src 'self'; script-src 'self' {_DOCS_CDN} {hashes}; "
            f"style-src 'self' 'unsafe-inline' {_DOCS_CDN} https://fonts.googleapis.com; "
            "font-src 'self' https://fonts.gstatic.com; img-src 'self' data: https:; worker-src 'self' blob:; "
            "connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'")


def check_settings(cfg: HQConfig) -> None:
    if cfg.cookie_secure not in COOKIE_SECURE:
        raise ValidationError(f"设置项 cookie_secure 的值 {cfg.cookie_secure!r} 无效，应为 " + "、".join(COOKIE_SECURE))


class SecurityHeaders:
    """ASGI middleware (outermost, so 413 and 429 answers get the headers too)."""

    def __init__(self, app: Any, cfg: HQConfig):
        check_settings(cfg)
        self.app = app
        self.cfg = cfg
        self.hsts = f"max-age={int(cfg.hsts_seconds)}".encode()

    def _add(self, scope: dict[str, Any], headers: list[tuple[bytes, bytes]], csp: str) -> list[tuple[bytes, bytes]]:
        have = {k.lower() for k, _ in headers}
        extra = [(b"content-security-policy", csp.encode()), (b"x-frame-options", b"DENY"),
                 (b"x-content-type-options", b"nosniff"), (b"referrer-policy", b"no-referrer")]
        if is_https(scope, self.cfg) and self.cfg.hsts_seconds > 0:
            extra.append((b"strict-transport-security", self.hsts))
        return list(headers) + [(k, v) for k, v in extra if k not in have]

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        if scope.get("path") in DOCS_PATHS:
            return await self._docs(scope, receive, send)

        async def send_with_headers(msg: dict[str, Any]) -> None:
            if msg["type"] == "http.response.start":
                headers = msg.get("headers") or []
                pdf = any(k.lower() == b"content-type" and v.startswith(b"application/pdf") for k, v in headers)
                msg = {**msg, "headers": self._add(scope, headers, PDF_CSP if pdf else CSP)}
            await send(msg)

        await self.app(scope, receive, send_with_headers)

    async def _docs(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        """The API pages are small: hold the body to hash their inline script into the CSP."""
        start: dict[str, Any] = {}
        chunks: list[bytes] = []

        async def hold(msg: dict[str, Any]) -> None:
            if msg["type"] == "http.response.start":
                start.update(msg)
                return
            if msg["type"] == "http.response.body":
                chunks.append(msg.get("body", b""))
                if msg.get("more_body"):
                    return
                body = b"".join(chunks)
                await send({**start, "headers": self._add(scope, start.get("headers") or [], _docs_csp(body))})
                await send({"type": "http.response.body", "body": body})
                return
            await send(msg)

        await self.app(scope, receive, hold)
