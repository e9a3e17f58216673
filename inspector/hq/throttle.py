"""Throttling and lockout of guessable secrets — console passwords and enrolment/certify codes.

Counters live in HQ's database (table ``throttle``), not in process memory, so every HQ worker
process on the same PostgreSQL sees the same counts. Keys:

- ``("login_user", username)``: wrong passwords on one console account (known or not: the same
  answer either way, so the count does not reveal which accounts exist);
- ``("login_addr", address)``: wrong passwords from one client address, whatever the account;
- ``("code_addr", address)``: wrong enrolment/certify codes from one client address.

An attempt is *claimed* before any expensive work (argon2, the CA): a plain read refuses a blocked
key at once (no write lock, so a flood of refused guesses does not queue behind sync writers); an
allowed attempt is counted as a failure up front in one write transaction that re-checks the row,
so parallel guesses cannot slip past the counter while argon2 runs. A success takes the count back
(an account's row is cleared); a confirmed failure past the limit locks the key for
``lock_seconds`` — the right password does not pass a locked key — until the time runs out or an
admin lifts it (console page "登录锁定", ``inspector-hq staff unlock``).

After ``backoff_after`` failures each further attempt must wait ``backoff_base_seconds`` doubling
per failure up to ``backoff_max_seconds``; failures older than ``lock_seconds`` are forgotten.
Every failure and every lockout is logged.
"""
from __future__ import annotations

import asyncio
import logging
import math
import random
import re
import time
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine
from starlette.concurrency import run_in_threadpool
from starlette.responses import JSONResponse

from inspector.hq import db as D
from inspector.hq.config import HQConfig

logger = logging.getLogger(__name__)

SCOPE_ZH = {"login_user": "账户", "login_addr": "客户端地址（登录）", "code_addr": "客户端地址（登记码）"}
Key = tuple[str, str]
CODE_PATHS = {"/api/v1/enrol": "登记", "/api/v1/certify": "同行检查人员证书申请"}


@dataclass(frozen=True)
class Policy:
    backoff_after: int = 3
    base: float = 1.0
    max_delay: float = 60.0
    login_lock_after: int = 10
    addr_lock_after: int = 30
    lock_seconds: float = 900.0

    @classmethod
    def from_config(cls, cfg: HQConfig) -> "Policy":
        return cls(backoff_after=max(0, cfg.backoff_after), base=max(0.0, cfg.backoff_base_seconds),
                   max_delay=max(0.0, cfg.backoff_max_seconds), login_lock_after=max(1, cfg.login_lock_after),
                   addr_lock_after=max(1, cfg.addr_lock_after), lock_seconds=max(1.0, float(cfg.lock_seconds)))

    def delay(self, failures: int) -> float:
        """How long the next attempt must wait after ``failures`` failures (exponential)."""
        over = failures - self.backoff_after
        if over <= 0 or self.base <= 0:
            return 0.0
        return min(self.max_delay, self.base * 2 ** min(over - 1, 30))

    def lock_after(self, scope: str) -> int:
        return self.login_lock_after if scope == "login_user" else self.addr_lock_after


async def hold(cfg: HQConfig, t: "Throttled") -> None:
    """Keep a refused client waiting (up to ``refusal_hold_seconds``, never past its Retry-After)
    before the 429: a flooding client that waits for each answer is slowed to a few tries a second,
    at no CPU cost to HQ (a sleeping coroutine)."""
    secs = min(float(cfg.refusal_hold_seconds), float(t.retry_after))
    if secs > 0:
        await asyncio.sleep(secs)


class Throttled(Exception):
    """Refused before any work: locked, or too soon after the last failure. ``message`` is Chinese."""

    def __init__(self, retry_after: float, message: str, scope: str = "", key: str = "", locked: bool = False):
        super().__init__(message)
        self.retry_after = max(1, math.ceil(retry_after))
        self.message = message
        self.scope, self.key, self.locked = scope, key, locked

    def headers(self) -> dict[str, str]:
        return {"Retry-After": str(self.retry_after)}

    def json(self) -> JSONResponse:
        return JSONResponse(status_code=429, headers=self.headers(), content={
            "error": self.message, "code": "locked" if self.locked else "throttled",
            "retry_after": self.retry_after})


def _wait_zh(seconds: float) -> str:
    s = max(1, math.ceil(seconds))
    return f"{s} 秒" if s < 120 else f"{math.ceil(s / 60)} 分钟"


def _who_zh(scope: str, key: str) -> str:
    return f"账户“{key}”" if scope == "login_user" else f"地址 {key}"


def _rows(conn: Connection, keys: list[Key], lock: bool = False) -> dict[Key, Any]:
    T = D.throttle
    cond = sa.or_(*[sa.and_(T.c.scope == s, T.c.key == k) for s, k in keys])
    q = sa.select(T).where(cond).order_by(T.c.scope, T.c.key)
    if lock and not D.is_sqlite(conn):
        q = q.with_for_update()
    return {(r.scope, r.key): r for r in conn.execute(q)}


def _current(r: Any, policy: Policy, now: float) -> int:
    """The row's failure count, forgotten once the last failure is older than a lockout."""
    if r is None:
        return 0
    if (r.locked_until or 0) > now:
        return int(r.failures)
    return int(r.failures) if (r.last_at or 0) > now - policy.lock_seconds else 0


def _check(rows: dict[Key, Any], keys: list[Key], now: float) -> None:
    for k in keys:
        r = rows.get(k)
        if r is None:
            continue
        if (r.locked_until or 0) > now:
            wait = r.locked_until - now
            raise Throttled(wait, f"{_who_zh(*k)}连续失败 {r.failures} 次，已被锁定；请 {_wait_zh(wait)}后再试，"
                                  "或请总部管理员在控制台“登录锁定”页解锁", k[0], k[1], locked=True)
        if (r.next_at or 0) > now:
            wait = r.next_at - now
            raise Throttled(wait, f"{_who_zh(*k)}失败次数过多，请 {_wait_zh(wait)}后再试", k[0], k[1])


def claim(engine: Engine, policy: Policy, keys: list[Key]) -> None:
    """Refuse (``Throttled``) or count this attempt as a failure until it proves otherwise."""
    keys = sorted(set(keys))
    now = time.time()
    with engine.connect() as conn:  # the cheap refusal: no write lock taken
        _check(_rows(conn, keys), keys, now)
    with D.write(engine) as conn:
        D.upsert(conn, D.throttle, [{"scope": s, "key": k} for s, k in keys], ["scope", "key"])  # DO NOTHING
        rows = _rows(conn, keys, lock=True)  # PostgreSQL: row locks, so parallel claims queue here
        now = time.time()
        _check(rows, keys, now)
        for k in keys:
            n = _current(rows.get(k), policy, now) + 1
            conn.execute(D.throttle.update().where(D.throttle.c.scope == k[0], D.throttle.c.key == k[1])
                         .values(failures=n, last_at=now, next_at=now + policy.delay(n) if policy.delay(n) else None))
        if random.random() < 0.02:  # forget stale rows now and then (a spray of unknown usernames)
            conn.execute(D.throttle.delete().where(
                D.throttle.c.last_at < now - max(policy.lock_seconds, 86400),
                sa.or_(D.throttle.c.locked_until.is_(None), D.throttle.c.locked_until < now)))


def succeeded(engine: Engine, keys: list[Key]) -> None:
    """Take back the claimed count: an account starts afresh; an address keeps its other failures
    (without the wait: a right answer came from there)."""
    T = D.throttle
    with D.write(engine) as conn:
        for s, k in sorted(set(keys)):
            where = sa.and_(T.c.scope == s, T.c.key == k)
            if s == "login_user":
                conn.execute(T.delete().where(where))
            else:
                conn.execute(T.update().where(where).values(
                    failures=sa.case((T.c.failures > 0, T.c.failures - 1), else_=0), next_at=None))


def release(engine: Engine, keys: list[Key]) -> None:
    """Take back a claim whose secret was never judged (bad request, server busy): one failure less,
    the wait it set stays."""
    T = D.throttle
    with D.write(engine) as conn:
        for s, k in sorted(set(keys)):
            conn.execute(T.update().where(T.c.scope == s, T.c.key == k).values(
                failures=sa.case((T.c.failures > 0, T.c.failures - 1), else_=0)))


def failed(policy: Policy, engine: Engine, keys: list[Key], what: str) -> None:
    """A confirmed failure (already counted by ``claim``): log it, lock keys past their limit."""
    now = time.time()
    with D.write(engine) as conn:
        rows = _rows(conn, sorted(set(keys)), lock=True)
        logger.warning("%s failed: %s", what, ", ".join(
            f"{s}={k} ({int(rows[(s, k)].failures) if (s, k) in rows else 0} failures)" for s, k in sorted(set(keys))))
        for k in sorted(set(keys)):
            r = rows.get(k)
            n = int(r.failures) if r is not None else 0
            if r is not None and policy.delay(n):  # the wait counts from this answer, not from the claim
                conn.execute(D.throttle.update().where(D.throttle.c.scope == k[0], D.throttle.c.key == k[1])
                             .values(next_at=max(r.next_at or 0, now + policy.delay(n))))
            if r is not None and n >= policy.lock_after(k[0]) and not (r.locked_until or 0) > now:
                until = now + policy.lock_seconds
                conn.execute(D.throttle.update().where(D.throttle.c.scope == k[0], D.throttle.c.key == k[1])
                             .values(locked_until=until))
                logger.warning("LOCKED %s=%s after %d failures (%s) for %d s", k[0], k[1], n, what,
                               policy.lock_seconds)


def unlock(engine: Engine, scope: str | None, key: str, by: str = "") -> int:
    """Lift a lockout and forget the failures (an admin's act); returns rows cleared."""
    T = D.throttle
    with D.write(engine) as conn:
        where = T.c.key == key if scope is None else sa.and_(T.c.scope == scope, T.c.key == key)
        n = conn.execute(T.delete().where(where)).rowcount
    logger.warning("unlocked %s=%s by %s (%d row(s))", scope or "*", key, by or "?", n)
    return int(n or 0)


def status(engine: Engine, policy: Policy) -> list[dict[str, Any]]:
    """Keys locked now or with recent failures, for the console page."""
    now = time.time()
    T = D.throttle
    with engine.connect() as conn:
        rows = conn.execute(sa.select(T).where(T.c.failures > 0).order_by(T.c.locked_until.desc(), T.c.scope,
                                                                           T.c.key)).all()
    out = []
    for r in rows:
        n = _current(r, policy, now)
        locked = (r.locked_until or 0) > now
        if not n and not locked:
            continue
        out.append({"scope": r.scope, "scope_zh": SCOPE_ZH.get(r.scope, r.scope), "key": r.key, "failures": n,
                    "locked": locked, "locked_until": r.locked_until if locked else None,
                    "wait": max(0.0, (r.locked_until or 0) - now) if locked else max(0.0, (r.next_at or 0) - now),
                    "last_at": r.last_at})
    return out


class CodeThrottle:
    """ASGI middleware for the code-spending routes (``/api/v1/enrol``, ``/api/v1/certify``): per
    client address, claimed before the request body is read, the device token checked or the CA
    touched; the route's answer decides — a 401 about the code (wrong, expired, used) is a failure, a
    success takes the count back, any other refusal (a bad device token too) only this attempt's count."""

    def __init__(self, app: Any, cfg: HQConfig):
        self.app = app
        self.cfg = cfg
        self.policy = Policy.from_config(cfg)

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        what = CODE_PATHS.get(scope.get("path", "")) if scope["type"] == "http" else None
        if what is None or scope.get("method") != "POST":
            return await self.app(scope, receive, send)
        from inspector.hq.headers import client_addr

        engine = scope["app"].state.hq.engine
        keys: list[Key] = [("code_addr", client_addr(scope, self.cfg))]
        try:
            await run_in_threadpool(claim, engine, self.policy, keys)
        except Throttled as t:
            logger.info("%s refused (%s=%s): %s", what, t.scope, t.key, t.message)
            await hold(self.cfg, t)
            return await t.json()(scope, receive, send)
        status: list[int] = []
        body = bytearray()

        async def watch(msg: dict[str, Any]) -> None:
            if msg["type"] == "http.response.start":
                status.append(int(msg["status"]))
            elif msg["type"] == "http.response.body" and len(body) < 4096:
                body.extend(msg.get("body", b"")[:4096])
            await send(msg)

        try:
            await self.app(scope, receive, watch)
        finally:
            # no answer at all (a crash, a client gone): the attempt stays counted
            if status and status[0] == 401 and _code_refused(bytes(body)):
                await run_in_threadpool(failed, self.policy, engine, keys, what)
            elif status and status[0] < 300:
                await run_in_threadpool(succeeded, engine, keys)
            elif status:  # refused for another reason (bad device token, malformed request…)
                await run_in_threadpool(release, engine, keys)


def _code_refused(body: bytes) -> bool:
    """A 401 about the code itself (``code_invalid``, ``code_expired``, ``code_used``,
    ``code_badge_mismatch``), not about a device token (256-bit: not worth guessing)."""
    m = re.search(rb'"code"\s*:\s*"([a-z_]+)"', body)
    return m is None or m.group(1).startswith(b"code_")
