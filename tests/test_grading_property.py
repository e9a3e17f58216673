"""Property tests of the grade: order does not matter, the worst finding decides, and adding
a finding never improves the grade."""
from __future__ import annotations

from hypothesis import given, settings, strategies as st

from inspector.catalogue import catalogue
from inspector.grading import GRADES, RECTIFICATION_STATUS, grade

finding = st.tuples(st.sampled_from(sorted(catalogue())), st.sampled_from(sorted(RECTIFICATION_STATUS)))
findings = st.lists(finding, max_size=8)


@settings(max_examples=200, deadline=None)
@given(findings, st.randoms(use_true_random=False))
def test_order_does_not_matter_and_worst_decides(fs, rnd):
    r = grade(fs)
    shuffled = list(fs)
    rnd.shuffle(shuffled)
    assert grade(shuffled).grade == r.grade
    if fs:
        assert r.grade == max((grade([f]).grade for f in fs), key=GRADES.index)
        assert all(isinstance(x, str) and x for x in r.reasons)


@settings(max_examples=200, deadline=None)
@given(findings, finding)
def test_adding_a_finding_never_improves(fs, extra):
    assert GRADES.index(grade(fs + [extra]).grade) >= GRADES.index(grade(fs).grade)


@settings(max_examples=100, deadline=None)
@given(findings)
def test_any_serious_finding_fails(fs):
    serious = any(catalogue()[c].severity == "严重" for c, _ in fs)
    assert (grade(fs).grade == "不合格") == (serious or any(
        catalogue()[c].severity == "一般" and s == "refused" for c, s in fs))
