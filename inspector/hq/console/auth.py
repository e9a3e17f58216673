"""Staff login for the console: argon2 password hashes (the ``staff`` table), server-side
sessions (cookie holds a random token, HQ keeps its hash), a per-session CSRF token that
every POST form carries and every POST handler checks, and roles viewer < reviewer < admin.
"""
from __future__ import annotations

import datetime as dt
import secrets
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy.engine import Engine

from inspector.hq import console_db as C
from inspector.hq import db as D
from inspector.util import new_id, now_iso, sha256_hex

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


def login(engine: Engine, username: str, password: str) -> str | None:
    """A new session token for good credentials, else None (same work either way)."""
    with engine.connect() as conn:
        rec = conn.execute(sa.select(D.staff).where(D.staff.c.username == username)).first()
    h = rec.password_hash if rec is not None and not rec.disabled_at else _DUMMY
    try:
        _ph.verify(h, password)
    except (VerificationError, InvalidHashError):
        return None
    if rec is None or rec.disabled_at:
        return None
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
