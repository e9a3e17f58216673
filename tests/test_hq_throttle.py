"""Throttling and lockout against the real HQ on loopback (SQLite and PostgreSQL where the database
matters): console logins per account and per client address (exponential backoff, a lockout the
right password does not pass, lifted by time, by an admin in the console or by the CLI), a flood
of wrong logins from four clients while a real enrolled laptop syncs, and enrolment/certify code
guesses answered 429 before any work. Client addresses are given as X-Forwarded-For, believed from
127.0.0.1 (``trusted_proxies``: as if from a proxy on this host)."""
from __future__ import annotations

import logging
import random
import re
import threading
import time
from pathlib import Path
from typing import Any

import httpx
import pytest
import sqlalchemy as sa

from inspector.sync.client import device_token  # the token is sealed at rest (pii.seal_secret)
from inspector.hq import db as D
from inspector.hq import service
from inspector.hq.console import auth as A
from tests.hq_fixtures import *  # noqa: F401,F403
from tests.hq_fixtures import enrolled_laptop, make_inspection, start_hq

ADMIN_PW = "admin-pass-1"  # start_hq's init_home
PROXY = {"trusted_proxies": ["127.0.0.1"]}  # X-Forwarded-For from the test (on 127.0.0.1) is believed


def _login(url: str, user: str, pw: str, addr: str = "10.0.0.1") -> httpx.Response:
    with httpx.Client(base_url=url, headers={"X-Forwarded-For": addr}, timeout=60) as c:
        tok = re.search(r'name="csrf" value="([^"]+)"', c.get("/console/login").text).group(1)
        return c.post("/console/login", data={"csrf": tok, "username": user, "password": pw, "next": "/console/"})


def _session(url: str, user: str, pw: str, addr: str) -> httpx.Client:
    c = httpx.Client(base_url=url, headers={"X-Forwarded-For": addr}, timeout=60)
    tok = re.search(r'name="csrf" value="([^"]+)"', c.get("/console/login").text).group(1)
    r = c.post("/console/login", data={"csrf": tok, "username": user, "password": pw, "next": "/console/"})
    assert r.status_code == 303, r.text
    return c


class _Zero:
    failures = 0


def _row(hq: Any, scope: str, key: str) -> Any:
    with hq.engine.connect() as conn:
        return conn.execute(sa.select(D.throttle).where(D.throttle.c.scope == scope, D.throttle.c.key == key)).first()


@pytest.fixture
def mk(tmp_path: Path, hq_db: str | None):
    made = []

    def make(**cfg: Any) -> Any:
        s = start_hq(tmp_path / f"hq{len(made)}", hq_db, **{**PROXY, **cfg})
        made.append(s)
        return s

    yield make
    for s in made:
        s.stop()


def test_lockout_refuses_the_right_password_until_an_admin_lifts_it(mk, caplog):
    caplog.set_level(logging.WARNING, logger="inspector.hq.throttle")
    hq = mk(login_lock_after=5, backoff_after=10, lock_seconds=3600, refusal_hold_seconds=0)
    A.add_staff(hq.engine, "boss", "boss-pass-12", "admin", "总部管理员")
    for i in range(5):
        r = _login(hq.url, "admin", f"wrong-{i}")
        assert r.status_code == 401 and "用户名或口令错误" in r.text
    row = _row(hq, "login_user", "admin")
    assert row.failures == 5 and row.locked_until > time.time() + 3000
    assert "LOCKED login_user=admin after 5 failures" in caplog.text
    assert caplog.text.count("console login (user='admin' addr=10.0.0.1) failed") == 5  # every failure logged
    for addr in ("10.0.0.1", "10.0.0.2"):  # the account is locked, from wherever
        r = _login(hq.url, "admin", ADMIN_PW, addr)
        assert r.status_code == 429 and "已被锁定" in r.text and "hq_console" not in r.headers.get("set-cookie", "")
        assert int(r.headers["retry-after"]) > 3000
    # another admin lifts the lockout in the console
    boss = _session(hq.url, "boss", "boss-pass-12", "10.0.0.3")
    page = boss.get("/console/lockouts")
    assert page.status_code == 200 and "已锁定" in page.text and ">admin<" in page.text
    csrf = re.search(r'name="csrf" value="([^"]+)"', page.text).group(1)
    r = boss.post("/console/lockouts/unlock", data={"csrf": csrf, "scope": "login_user", "key": "admin"})
    assert r.status_code == 303 and "已解锁" in httpx.URL(r.headers["location"]).params["msg"]
    assert _row(hq, "login_user", "admin") is None
    assert "unlocked login_user=admin by boss" in caplog.text
    r = _login(hq.url, "admin", ADMIN_PW)
    assert r.status_code == 303 and "hq_console=" in r.headers["set-cookie"]
    boss.close()


def test_cli_unlock_and_a_lockout_lifted_by_time(tmp_path: Path):
    from inspector.hq.cli import main

    hq = start_hq(tmp_path / "hq", None, **PROXY, login_lock_after=3, backoff_after=10, lock_seconds=2,
                  refusal_hold_seconds=0)
    try:
        for i in range(3):
            assert _login(hq.url, "admin", f"wrong-{i}").status_code == 401
        assert _login(hq.url, "admin", ADMIN_PW).status_code == 429
        assert main(["--home", str(hq.cfg.home), "staff", "unlock", "admin"]) == 0
        assert _login(hq.url, "admin", ADMIN_PW).status_code == 303
        for i in range(3):
            assert _login(hq.url, "admin", f"wrong-{i}").status_code == 401
        assert _login(hq.url, "admin", ADMIN_PW).status_code == 429
        time.sleep(2.2)  # lock_seconds
        assert _login(hq.url, "admin", ADMIN_PW).status_code == 303
    finally:
        hq.stop()


def test_backoff_doubles_with_each_failure(tmp_path: Path):
    hq = start_hq(tmp_path / "hq", None, **PROXY, backoff_after=2, backoff_base_seconds=1, login_lock_after=50,
                  refusal_hold_seconds=0)
    try:
        for i in range(2):  # free
            assert _login(hq.url, "admin", f"wrong-{i}").status_code == 401
            assert _row(hq, "login_user", "admin").next_at is None
        waits = []
        for i in range(3):
            t0 = time.time()
            r = _login(hq.url, "admin", f"wrong-x{i}")
            assert r.status_code == 401
            wait = _row(hq, "login_user", "admin").next_at - t0  # counted from the answer
            waits.append(wait)
            r = _login(hq.url, "admin", ADMIN_PW)  # at once: too soon, even with the right password
            assert r.status_code == 429 and "后再试" in r.text and int(r.headers["retry-after"]) >= 1
            if i < 2:
                time.sleep(max(0.0, _row(hq, "login_user", "admin").next_at - time.time()) + 0.05)
        for got, want in zip(waits, (1, 2, 4)):
            assert want <= got < want + 1.5, waits
    finally:
        hq.stop()


def test_one_address_guessing_many_accounts_is_locked_others_are_not(tmp_path: Path):
    hq = start_hq(tmp_path / "hq", None, **PROXY, addr_lock_after=6, login_lock_after=100, backoff_after=100,
                  refusal_hold_seconds=0)
    for i in range(6):
        assert _login(hq.url, f"user{i}", "wrong-pass", "10.9.9.9").status_code == 401
    assert _row(hq, "login_addr", "10.9.9.9").locked_until > time.time()
    r = _login(hq.url, "admin", ADMIN_PW, "10.9.9.9")
    assert r.status_code == 429 and "10.9.9.9" in r.text
    assert _login(hq.url, "admin", ADMIN_PW, "10.9.9.10").status_code == 303
    hq.stop()


def test_login_flood_from_four_clients_does_not_stop_sync(mk, tmp_path: Path):
    """While four clients hammer the login form with wrong passwords, a real laptop keeps syncing."""
    from inspector.sync import sync

    hq = mk(backoff_after=1)  # into the backoff after one failure per address (keeps the test short)
    A.add_staff(hq.engine, "wang", "wang-pass-123", "viewer")
    store = enrolled_laptop(tmp_path / "laptop", hq)
    stop = threading.Event()
    answers: dict[int, int] = {}
    per_client: dict[int, int] = {}
    throttled: set[int] = set()
    lock = threading.Lock()

    def flood(n: int) -> None:
        with httpx.Client(base_url=hq.url, headers={"X-Forwarded-For": f"10.20.0.{n}"}, timeout=60) as c:
            tok = re.search(r'name="csrf" value="([^"]+)"', c.get("/console/login").text).group(1)
            for i in range(3000):  # bounded
                if stop.is_set():
                    return
                user = random.choice(["admin", "wang", f"ghost{i % 7}"])
                r = c.post("/console/login", data={"csrf": tok, "username": user, "password": f"guess-{i}"})
                with lock:
                    answers[r.status_code] = answers.get(r.status_code, 0) + 1
                    per_client[n] = per_client.get(n, 0) + 1
                    if r.status_code == 429:
                        throttled.add(n)

    threads = [threading.Thread(target=flood, args=(n,)) for n in range(4)]
    for t in threads:
        t.start()
    try:
        for _ in range(600):  # let the flood get going (past the free failures, into the backoff) first
            if answers.get(429, 0) >= 4 and len(per_client) == 4:  # every client answered at least once
                break
            time.sleep(0.1)
        before = sum(answers.values())
        rng = random.Random(13)
        synced, t0 = 0, time.monotonic()
        # at least 4 syncs, and on until flood answers arrived meanwhile (a throttled answer is held
        # ~1 s, so fast syncs could otherwise all fall between two of them)
        while synced < 4 or (sum(answers.values()) == before and time.monotonic() < t0 + 30):
            make_inspection(store, rng, photos=1)
            rep = sync(store)
            assert rep.ok, rep.error
            assert rep.pushed >= 1
            synced += 1
        during = sum(answers.values()) - before
    finally:
        stop.set()
        for t in threads:
            t.join(60)
    assert before >= 4 and during > 0, (before, answers)  # the flood went on the whole time
    got = service.device_entities(hq.engine, store.scalar("SELECT device_id FROM sync_enrolment"))
    assert sum(1 for (e, _i) in got if e == "inspection") == synced
    # passwords actually checked (401) stay few: per address the free failures and a few backed-off ones
    assert set(answers) <= {401, 429} and answers.get(429, 0) >= 4 and answers.get(401, 0) <= 4 * 4, answers
    # every flooding client was throttled (by its address's or the guessed account's backoff), and the
    # addresses' failures are on record
    assert throttled == {0, 1, 2, 3}, throttled
    assert sum((_row(hq, "login_addr", f"10.20.0.{n}") or _Zero()).failures for n in range(4)) >= 4
    assert _login(hq.url, "wang", "wang-pass-123", "10.0.0.77").status_code in (303, 429)
    store.close()


def _enrol(url: str, code: str, addr: str) -> httpx.Response:
    return httpx.post(url + "/api/v1/enrol", headers={"X-Forwarded-For": addr}, timeout=60,
                      json={"code": code, "public_key_pem": _pub()})


def _pub() -> str:
    from inspector.pki import new_key, public_pem

    return public_pem(new_key()).decode()


def test_enrolment_and_certify_code_guesses_get_429_before_any_work(mk, tmp_path: Path):
    hq = mk(backoff_after=3, backoff_base_seconds=30, addr_lock_after=10)
    good = service.make_enrol_code(hq.engine, hq.cfg, "B777", name="周七")["code"]
    for i in range(4):  # three without a wait, the fourth makes the next one wait
        r = _enrol(hq.url, f"AAAA-BBBB-{i:04d}", "10.5.5.5")
        assert r.status_code == 401 and r.json()["code"] == "code_invalid"
    r = _enrol(hq.url, "AAAA-BBBB-9999", "10.5.5.5")
    assert r.status_code == 429 and r.json()["code"] == "throttled" and "后再试" in r.json()["error"]
    assert r.elapsed.total_seconds() >= 0.9  # the refusal is held (refusal_hold_seconds): a flood slows itself
    assert 25 <= int(r.headers["retry-after"]) <= 30
    r = _enrol(hq.url, good, "10.5.5.5")  # even the right code waits: nothing was looked at
    assert r.status_code == 429
    with hq.engine.connect() as conn:
        assert conn.execute(sa.select(D.enrol_codes.c.used_at)).scalar() is None
    r = _enrol(hq.url, good, "10.5.5.6")  # another address is not held up
    assert r.status_code == 200 and r.json()["device_id"]
    # certify: the same per address, for an enrolled laptop's requests
    store = enrolled_laptop(tmp_path / "laptop", hq, badge="B001")
    tok = device_token(store)
    pub = _pub()
    hdr = {"Authorization": f"Bearer {tok}", "X-Forwarded-For": "10.6.6.6"}
    codes = []
    for i in range(5):
        r = httpx.post(hq.url + "/api/v1/certify", headers=hdr, timeout=60,
                       json={"code": f"CCCC-DDDD-{i:04d}", "badge_no": "B002", "public_key_pem": pub})
        codes.append(r.status_code)
    assert codes == [401, 401, 401, 401, 429], codes
    # a bad device token is not a code guess: refused as such every time, never counted
    bad = {"Authorization": "Bearer nope.nope", "X-Forwarded-For": "10.7.7.7"}
    got = [httpx.post(hq.url + "/api/v1/certify", headers=bad, timeout=60,
                      json={"code": "CCCC-DDDD-0000", "badge_no": "B002", "public_key_pem": pub}).json()["code"]
           for _ in range(6)]
    assert got == ["token_invalid"] * 6
    store.close()


def test_single_thread_argon2_check_agrees_with_passwordhasher():
    """The bounded pool's check (all lanes on one thread) gives PasswordHasher's verdict."""
    from argon2 import PasswordHasher
    from argon2.exceptions import VerificationError

    cheap = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=2)
    for ph, pws in ((PasswordHasher(), ("admin-pass-1",)), (cheap, ("admin-pass-1", "口令-测试-8位以上", ""))):
        for pw in pws:
            h = ph.hash(pw)
            for guess in (pw, pw + "x", "", "ADMIN-PASS-1"):
                try:
                    want = ph.verify(h, guess)
                except VerificationError:
                    want = False
                assert A.verify_password(h, guess) is want, (ph.parallelism, pw, guess)
    assert A.verify_password("$argon2id$garbage", "x") is False
