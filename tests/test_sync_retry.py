"""Sync retries transient failures by itself (issue 15 item 4): three consecutive connection
drops during one sync, and the sync still completes without the user running it again; with
retries off the same drops end the sync (what the retry is for)."""
from __future__ import annotations

import random

import pytest

from inspector.sync import http as H
from inspector.sync import sync
from tests.hq_fixtures import *  # noqa: F401,F403
from tests.hq_fixtures import CutProxy, enrolled_laptop, hq_dump, laptop_dump, make_inspection


class DropNTimes(CutProxy):
    """Cuts every connection after ``after`` bytes, ``n`` times in a row, then lets traffic pass."""

    def __init__(self, target_port: int, n: int, after: int):
        super().__init__(target_port)
        self.left, self.after = n, after
        self.arm(after)

    def _reset_all(self) -> None:  # called under self.lock when a cut happens
        super()._reset_all()
        self.left -= 1
        if self.left > 0:
            self.cut_at, self.passed = self.after, 0


@pytest.fixture
def laptop_behind_proxy(tmp_path, hq):
    store = enrolled_laptop(tmp_path / "laptop", hq)
    for _ in range(2):
        make_inspection(store, random.Random(4), photos=1)
    proxies = []

    def via(n: int, after: int):
        p = DropNTimes(hq.port, n, after)
        proxies.append(p)
        with store.tx() as db:
            db.execute("UPDATE sync_enrolment SET hq_url = ?", (p.url,))
        return p

    yield store, via
    for p in proxies:
        p.close()
    store.close()


def test_a_sync_survives_three_consecutive_drops(laptop_behind_proxy, hq, monkeypatch):
    monkeypatch.setattr(H, "RETRY_BASE", 0.05)  # the schedule's shape, faster
    store, via = laptop_behind_proxy
    proxy = via(3, 300)
    rep = sync(store)
    assert proxy.cuts == 3
    assert rep.ok, rep.error
    lap = laptop_dump(store)
    assert hq_dump(hq, store.scalar("SELECT device_id FROM sync_enrolment"), list(lap)) == lap


def test_without_retries_the_same_drops_end_the_sync(laptop_behind_proxy, monkeypatch):
    monkeypatch.setattr(H, "RETRIES", 0)
    store, via = laptop_behind_proxy
    via(3, 300)
    rep = sync(store)
    assert not rep.ok and "无法连接总部" in (rep.error or "")
