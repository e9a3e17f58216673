"""``HQClient``: JSON requests to HQ over httpx. Tests inject a transport (faults, mocks);
normal use talks to the real server. Network failures become ``SyncError`` naming what
failed; HQ's refusals become ``HQRefused`` (or ``AuthError`` for 401/403).

HTTPS is always verified: against the bureau CA file pinned at enrolment (``ca_file``, then
only that CA) or else the operating system's trust store. A certificate that does not verify
is ``TLSUntrusted``, never a fallback to an unverified connection.
"""
from __future__ import annotations

import logging
import os
import random
import ssl
import threading
import time
from pathlib import Path
from typing import Any

import httpx

from inspector.errors import AuthError, SyncError

log = logging.getLogger(__name__)

NOTHING_LOST = "本机数据没有丢失，下次同步会从中断处继续"


class HQRefused(SyncError):
    """HQ answered with an error status; ``code`` is its stable English code."""

    def __init__(self, status: int, code: str, message: str, body: dict[str, Any]):
        super().__init__(message)
        self.status = status
        self.code = code
        self.body = body


RETRIES = 3          # transient failures retried per request (so 4 attempts)
RETRY_BASE = 0.5     # seconds before the first retry; doubling, with jitter
RETRY_CAP = 8.0      # longest pause between attempts


class _Transient(Exception):
    """A failure worth another attempt; carries the error to raise when attempts run out."""

    def __init__(self, error: SyncError):
        super().__init__(str(error))
        self.error = error


class TLSUntrusted(SyncError):
    """HQ's certificate did not verify (unknown CA, wrong host name, expired): nothing was sent."""


_contexts: dict[tuple[str, int, int] | None, ssl.SSLContext] = {}
_contexts_lock = threading.Lock()


def tls_context(ca_file: str | Path | None = None) -> ssl.SSLContext:
    """Certificate and host-name checks on; trust only ``ca_file`` when given, else the system store.
    Built once per file version and process (loading a trust store costs more than a sync's requests)."""
    try:
        key = None if ca_file is None else (str(ca_file), os.stat(ca_file).st_mtime_ns, os.stat(ca_file).st_size)
        with _contexts_lock:
            ctx = _contexts.get(key)
            if ctx is None:
                ctx = _contexts[key] = ssl.create_default_context(cafile=None if ca_file is None else str(ca_file))
        return ctx
    except (OSError, ssl.SSLError) as e:
        raise SyncError(f"证书机构文件 {ca_file} 无法读取或不是 PEM 格式的证书（{e}）") from e


def _cert_problem(e: BaseException) -> ssl.SSLError | None:
    """The TLS error somewhere in the chain httpx wraps it in, if any."""
    seen: set[int] = set()
    cur: BaseException | None = e
    while cur is not None and id(cur) not in seen:
        seen.add(id(cur))
        if isinstance(cur, ssl.SSLError):
            return cur
        cur = cur.__cause__ or cur.__context__
    return None


class HQClient:
    def __init__(self, base_url: str, token: str | None = None, *,
                 transport: httpx.BaseTransport | None = None, timeout: float = 60.0,
                 ca_file: str | Path | None = None):
        headers = {"User-Agent": "inspector-sync/1"}
        if token:
            headers["Authorization"] = f"Bearer {token}"
        self.base_url = base_url.rstrip("/")
        self.ca_file = ca_file
        # plain http (loopback tests) gets the same checked context, ready should anything lead to https
        verify = tls_context(ca_file)
        self.http = httpx.Client(base_url=self.base_url, headers=headers, transport=transport, verify=verify,
                                 timeout=httpx.Timeout(timeout, connect=10.0))
        self.bytes_sent = 0   # blob bytes put on the wire (for progress and the resume bench)

    def close(self) -> None:
        self.http.close()

    def __enter__(self) -> "HQClient":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def request(self, method: str, path: str, what: str, **kw: Any) -> dict[str, Any]:
        """One request; ``what`` says in Chinese what was being done (for the error message).

        Transient failures — the connection refused, reset or cut, a timeout, HQ's proxy answering
        502/503/504 — are retried ``RETRIES`` times with exponential backoff and jitter. Every
        request of the protocol is safe to repeat: pushes are idempotent by op id, uploads resume
        from HQ's offset, enrolment and certification recognise a repeated code."""
        for attempt in range(RETRIES + 1):
            try:
                return self._once(method, path, what, **kw)
            except _Transient as t:
                if attempt == RETRIES:
                    raise t.error from t.error.__cause__
                pause = min(RETRY_CAP, RETRY_BASE * 2 ** attempt) * (0.5 + random.random() / 2)
                log.info("%s %s: %s; retry %d/%d in %.2f s", method, path, t.error, attempt + 1, RETRIES, pause)
                time.sleep(pause)
        raise AssertionError("unreachable")

    def _once(self, method: str, path: str, what: str, **kw: Any) -> dict[str, Any]:
        try:
            r = self.http.request(method, path, **kw)
        except httpx.HTTPError as e:
            bad = _cert_problem(e)
            # a connection cut mid-handshake (EOF, reset) is an ordinary network failure, not a TLS verdict
            if bad is not None and not isinstance(bad, (ssl.SSLEOFError, ssl.SSLZeroReturnError, ssl.SSLSyscallError)):
                raise self._untrusted(what, bad) from e
            err = SyncError(f"{what}失败：无法连接总部 {self.base_url}（{type(e).__name__}: {e}）；{NOTHING_LOST}")
            err.__cause__ = e
            if isinstance(e, (httpx.TransportError,)) and not isinstance(e, httpx.UnsupportedProtocol):
                raise _Transient(err) from e
            raise err from e
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
            if r.status_code in (502, 503, 504):  # HQ restarting behind its proxy: worth another try
                raise _Transient(HQRefused(r.status_code, code, text + f"；{NOTHING_LOST}",
                                           body if isinstance(body, dict) else {}))
            raise HQRefused(r.status_code, code, text + f"；{NOTHING_LOST}", body if isinstance(body, dict) else {})
        return body if isinstance(body, dict) else {"data": body}

    def _untrusted(self, what: str, e: ssl.SSLError) -> SyncError:
        trust = f"证书机构文件 {self.ca_file}" if self.ca_file else "本机操作系统信任的证书机构"
        if isinstance(e, ssl.SSLCertVerificationError):
            why = e.verify_message or e.reason or str(e)
            log.warning("HQ %s: certificate refused (%s; trusting %s)", self.base_url, why, self.ca_file or "system")
            return TLSUntrusted(
                f"{what}失败：总部 {self.base_url} 的 TLS 证书未通过验证（{why}），不是{trust}签发的、"
                "与地址不符或已过期；连接已中止，没有发送任何数据。请核对总部地址；如总部使用本局自建的证书机构，"
                "请向总部索取证书机构文件，用 inspector enrol --hq 地址 --code 登记码 --ca-file 证书机构文件.pem 登记")
        log.warning("HQ %s: TLS handshake failed: %s", self.base_url, e)
        return SyncError(f"{what}失败：与总部 {self.base_url} 的 TLS 握手失败（{e.reason or e}）；"
                         f"请核对总部地址与端口（https 地址须指向总部的 TLS 端口）；{NOTHING_LOST}")

    def get(self, path: str, what: str, **kw: Any) -> dict[str, Any]:
        return self.request("GET", path, what, **kw)

    def post(self, path: str, what: str, json: Any = None, **kw: Any) -> dict[str, Any]:
        return self.request("POST", path, what, json=json, **kw)
