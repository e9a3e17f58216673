"""Property tests: no judge raises on arbitrary answers (an answer it cannot decide comes back as
``unanswered`` with a reason; a raise is a bug, which rules.py logs at ERROR and these tests catch),
evaluation returns one result per item, and findings come only from failed institution items with
catalogue codes."""
from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager

from hypothesis import HealthCheck, given, settings, strategies as st

from inspector.catalogue import catalogue
from inspector.rules import STATUSES, evaluate, evaluate_item
from tests.forms_fixtures import all_passing, shipped

LISTS = [shipped(c) for c in ("training", "evaluation", "exam_site", "trainee_check")]
ALL_ITEMS = [it for cl in LISTS for it in cl.items]

scalars = st.one_of(st.none(), st.booleans(), st.integers(-10**6, 10**6),
                    st.floats(allow_nan=True, allow_infinity=True), st.text(max_size=12),
                    st.sampled_from(["pass", "fail", "na", "2026-01-01", "是", "否", "理论", "本科"]))
cells = st.dictionaries(st.sampled_from(["name", "trade", "role", "degree", "qual", "years", "total", "attended",
                                         "online", "reached", "id_no", "position", "full_time", "x"]),
                        scalars, max_size=8)


class _Collect(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.ERROR)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


@contextmanager
def no_judge_crash() -> Iterator[None]:
    """Fail when a judge raised inside the block: rules.py hides the exception from the GUI
    (the item reads 无法判定) but logs it at ERROR on the ``inspector.rules`` logger."""
    handler = _Collect()
    log = logging.getLogger("inspector.rules")
    log.addHandler(handler)
    try:
        yield
    finally:
        log.removeHandler(handler)
    crashes = [f"{r.getMessage()}\n{logging.Formatter().formatException(r.exc_info) if r.exc_info else ''}"
               for r in handler.records]
    assert not crashes, "a judge raised:\n" + "\n".join(crashes)


values = st.one_of(scalars, st.lists(scalars, max_size=4), st.lists(cells, max_size=5),
                   st.dictionaries(st.text(max_size=3), scalars, max_size=3))


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.sampled_from(ALL_ITEMS), values, st.one_of(st.none(), st.integers(0, 3)))
def test_evaluate_item_never_crashes(item, value, photos):
    with no_judge_crash():
        r = evaluate_item(item, value, photos)
    assert r.item_id == item.id and r.status in STATUSES and isinstance(r.reason, str) and r.reason
    if r.status != "fail":
        assert r.codes == () and r.severity is None and not r.missing_photo


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.sampled_from(LISTS), st.data())
def test_evaluate_one_result_per_item(cl, data):
    ids = [it.id for it in cl.items]
    answers = data.draw(st.dictionaries(st.sampled_from(ids + ["bogus"]), values, max_size=len(ids)))
    photos = data.draw(st.dictionaries(st.sampled_from(ids), st.integers(0, 2), max_size=5))
    with no_judge_crash():
        ev = evaluate(cl, answers, photos)
    assert [r.item_id for r in ev.results] == ids
    failed = {r.item_id for r in ev.results if r.status == "fail"}
    cat = catalogue()
    for f in ev.findings:
        assert f.item_id in failed and f.codes and all(c in cat for c in f.codes)
        assert f.severity == max((cat[c].severity for c in f.codes), key=["轻微", "一般", "严重"].index)
    assert set(ev.incomplete) <= failed
    assert sum(ev.counts[s] for s in STATUSES) == len(ids)


@settings(max_examples=80, deadline=None)
@given(st.sampled_from(LISTS), st.data())
def test_one_failed_item_gives_exactly_one_finding(cl, data):
    """Start from a passing checklist, break one checkable institution item: one finding, its codes."""
    answers = all_passing(cl)
    candidates = [it for it in cl.items if it.type == "check" and it.scope == "institution" and not it.when]
    it = data.draw(st.sampled_from(candidates))
    answers[it.id] = "fail"
    with no_judge_crash():
        ev = evaluate(cl, answers)
    assert [f.item_id for f in ev.findings] == [it.id]
    assert ev.findings[0].codes == it.codes
