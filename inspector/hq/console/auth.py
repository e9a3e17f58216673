"""Staff login for the console: argon2 password hashes (the ``staff`` table), server-side
sessions (cookie holds a random token, HQ keeps its hash), a per-session CSRF token that
every POST form carries and every POST handler checks, and roles viewer < reviewer < admin.

Logins are throttled per account and per client address before any argon2 work
(``inspector.hq.throttle``), and argon2 checks run in a small bounded pool, each on one thread
(the hash's lanes computed one after another), so a flood of logins takes at most
``argon2_workers`` cores and leaves the rest to sync requests.
"""
from __future__ import annotations

import asyncio
import base64
import datetime as dt
import hmac
import logging
import os
import secrets
import threading
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from argon2 import PasswordHasher, extract_parameters
from argon2.exceptions import InvalidHashError
from argon2.low_level import core, ffi, lib
from sqlalchemy.engine import Engine
from starlette.concurrency import run_in_threadpool

from inspector.hq import console_db as C
from inspector.hq import db as D
from inspector.hq import throttle as T
from inspector.util import new_id, now_iso, sha256_hex

logger = logging.getLogger(__name__)

COOKIE = "hq_console"
ROLES = ("viewer", "reviewer", "admin")
ROLE_ZH = {"viewer": "查看", "reviewer": "审核", "admin": "管理员"}
SESSION_HOURS = 12
_ph = PasswordHasher()
_DUMMY = _ph.hash("not-a-password")


@dataclass
class Staff:
    id: str
    username: str
    name: str
    role: str
    csrf: str
    token_hash: str

    def can(self, role: str) -> bool:
        return ROLES.index(self.role) >= ROLES.index(role)


class Denied(Exception):
    """Role too low (403 page)."""

    def __init__(self, need: str):
        super().__init__(need)
        self.need = need


class LoginRequired(Exception):
    """No valid session: redirect to the login page."""


class CSRFError(Exception):
    """POST without the session's CSRF token."""


def hash_password(pw: str) -> str:
    return _ph.hash(pw)


def add_staff(engine: Engine, username: str, password: str, role: str, name: str | None = None) -> str:
    if role not in ROLES:
        raise ValueError(f"角色无效：{role}（应为 {'/'.join(ROLES)}）")
    if len(password) < 8:
        raise ValueError("口令至少 8 位")
    sid = new_id()
    with engine.begin() as conn:
        if conn.execute(sa.select(D.staff.c.id).where(D.staff.c.username == username)).first():
            raise ValueError(f"用户名 {username} 已存在")
        conn.execute(D.staff.insert().values(id=sid, username=username, name=name or username,
                                             password_hash=hash_password(password), role=role,
                                             created_at=now_iso()))
    return sid


def _utc() -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc)


# -- argon2 on one thread, in a bounded pool -------------------------------------------------------------
def _b64(s: str) -> bytes:
    return base64.b64decode(s + "=" * (-len(s) % 4))


def verify_password(encoded: str, password: str) -> bool:
    """``PasswordHasher.verify`` on a single thread: the same hash (all its lanes), but argon2's own
    worker threads (one per lane, 4 by default) are not started, so one check uses one core."""
    try:
        p = extract_parameters(encoded)
        *_, salt_s, hash_s = encoded.split("$")
        salt, want = _b64(salt_s), _b64(hash_s)
    except (InvalidHashError, ValueError):
        return False
    pw = password.encode("utf-8")
    out = ffi.new("uint8_t[]", len(want))
    cpw, csalt = ffi.new("uint8_t[]", pw), ffi.new("uint8_t[]", salt)
    ctx = ffi.new("argon2_context *", {
        "out": out, "outlen": len(want), "pwd": cpw, "pwdlen": len(pw), "salt": csalt, "saltlen": len(salt),
        "secret": ffi.NULL, "secretlen": 0, "ad": ffi.NULL, "adlen": 0, "t_cost": p.time_cost,
        "m_cost": p.memory_cost, "lanes": p.parallelism, "threads": 1, "version": p.version,
        "allocate_cbk": ffi.NULL, "free_cbk": ffi.NULL, "flags": lib.ARGON2_DEFAULT_FLAGS})
    if core(ctx, p.type.value) != lib.ARGON2_OK:
        return False
    return hmac.compare_digest(bytes(ffi.buffer(out, len(want))), want)


ARGON2_QUEUE = 8  # checks waiting for the pool beyond this: answer "busy" rather than pile up
ARGON2_NICE = 10
_pool_lock = threading.Lock()
_pools: dict[int, ThreadPoolExecutor] = {}
_waiting = 0


def _background() -> None:
    """Run this argon2 thread at a lower CPU priority (Linux: nice is per thread): when the machine
    is busy, requests being served (sync above all) get the cores first and logins wait."""
    try:
        os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), ARGON2_NICE)
    except (AttributeError, OSError) as e:  # not Linux, or not allowed: only the pool bound applies
        logger.info("argon2 thread keeps its priority: %s", e)


def _pool(workers: int) -> ThreadPoolExecutor:
    with _pool_lock:
        p = _pools.get(workers)
        if p is None:
            p = _pools[workers] = ThreadPoolExecutor(max_workers=max(1, workers), thread_name_prefix="argon2",
                                                     initializer=_background)
        return p


async def verify_bounded(encoded: str, password: str, workers: int = 1) -> bool:
    """``verify_password`` in this process's argon2 pool; the caller's event loop is free meanwhile."""
    global _waiting
    with _pool_lock:
        if _waiting >= ARGON2_QUEUE:
            logger.warning("argon2 queue full (%d waiting): login refused as busy", _waiting)
            raise T.Throttled(1, "服务器正忙（登录请求过多），请稍后再试")
        _waiting += 1
    try:
        return await asyncio.wrap_future(_pool(workers).submit(verify_password, encoded, password))
    finally:
        with _pool_lock:
            _waiting -= 1


# -- login -----------------------------------------------------------------------------------------------
def _keys(username: str, addr: str | None) -> list[T.Key]:
    keys: list[T.Key] = [("login_user", username[:200])]
    if addr:
        keys.append(("login_addr", addr))
    return keys


def _begin(engine: Engine, policy: T.Policy, username: str, addr: str | None) -> tuple[Any, str]:
    """Claim the attempt (``T.Throttled`` when locked or too soon), then the account and the hash to
    check (a dummy for unknown or disabled accounts: the same work either way)."""
    try:
        T.claim(engine, policy, _keys(username, addr))
    except T.Throttled as t:
        # refusals are cheap and a flood makes many: INFO (failures and lockouts are WARNINGs)
        logger.info("console login refused: user=%r addr=%s: %s", username[:200], addr, t.message)
        raise
    with engine.connect() as conn:
        rec = conn.execute(sa.select(D.staff).where(D.staff.c.username == username)).first()
    return rec, rec.password_hash if rec is not None and not rec.disabled_at else _DUMMY


def _finish(engine: Engine, policy: T.Policy, username: str, addr: str | None, rec: Any, ok: bool,
            password: str) -> str | None:
    keys = _keys(username, addr)
    if not ok or rec is None or rec.disabled_at:
        T.failed(policy, engine, keys, f"console login (user={username[:200]!r} addr={addr})")
        return None
    T.succeeded(engine, keys)
    return _open_session(engine, rec, password)


def login(engine: Engine, username: str, password: str, *, addr: str | None = None,
          policy: T.Policy | None = None) -> str | None:
    """A new session token for good credentials, else None; throttled like the login page
    (raises ``throttle.Throttled`` when the account or address is locked or must wait)."""
    policy = policy or T.Policy()
    rec, h = _begin(engine, policy, username, addr)
    return _finish(engine, policy, username, addr, rec, verify_password(h, password), password)


async def login_async(engine: Engine, policy: T.Policy, username: str, password: str, addr: str,
                      workers: int = 1) -> str | None:
    """``login`` for the login page: the throttle first, then argon2 in the bounded pool."""
    rec, h = await run_in_threadpool(_begin, engine, policy, username, addr)
    try:
        ok = await verify_bounded(h, password, workers)
    except T.Throttled:
        await run_in_threadpool(T.release, engine, _keys(username, addr))  # never checked
        raise
    return await run_in_threadpool(_finish, engine, policy, username, addr, rec, ok, password)


def _open_session(engine: Engine, rec: Any, password: str) -> str:
    token = secrets.token_urlsafe(32)
    now = _utc()
    with engine.begin() as conn:
        if _ph.check_needs_rehash(rec.password_hash):
            conn.execute(D.staff.update().where(D.staff.c.id == rec.id).values(password_hash=hash_password(password)))
        conn.execute(C.console_sessions.insert().values(
            token_hash=sha256_hex(token.encode()), staff_id=rec.id, csrf=secrets.token_urlsafe(24),
            created_at=now.isoformat(timespec="seconds"),
            expires_at=(now + dt.timedelta(hours=SESSION_HOURS)).isoformat(timespec="seconds")))
    return token


def session(engine: Engine, token: str | None) -> Staff | None:
    if not token:
        return None
    h = sha256_hex(token.encode())
    S = C.console_sessions
    with engine.connect() as conn:
        r = conn.execute(sa.select(S, D.staff.c.username, D.staff.c.name, D.staff.c.role, D.staff.c.disabled_at)
                         .join(D.staff, D.staff.c.id == S.c.staff_id).where(S.c.token_hash == h)).first()
    if r is None or r.ended_at or r.disabled_at or dt.datetime.fromisoformat(r.expires_at) < _utc():
        return None
    role = r.role if r.role in ROLES else "viewer"
    return Staff(r.staff_id, r.username, r.name or r.username, role, r.csrf, h)


def logout(engine: Engine, staff: Staff) -> None:
    with engine.begin() as conn:
        conn.execute(C.console_sessions.update().where(C.console_sessions.c.token_hash == staff.token_hash)
                     .values(ended_at=now_iso()))


def check_csrf(staff: Staff, form: Any) -> None:
    got = form.get("csrf") if form is not None else None
    if not isinstance(got, str) or not secrets.compare_digest(got, staff.csrf):
        raise CSRFError()
