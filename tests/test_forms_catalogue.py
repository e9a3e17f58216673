"""The dishonesty catalogue: 55 rows, the codes of DOMAIN.md §4, the seed's text."""
from __future__ import annotations

import glob
import json
import os
import re
from collections import Counter
from pathlib import Path

import pytest

from inspector.catalogue import Entry, catalogue, entry, parse_catalogue
from inspector.errors import ValidationError
from tests.forms_fixtures import FORMS, run_cli


def test_counts_per_kind_and_severity():
    cat = catalogue()
    assert len(cat) == 55
    counts = Counter((e.kind, e.severity) for e in cat.values())
    assert counts == {("培训机构", "轻微"): 4, ("培训机构", "一般"): 7, ("培训机构", "严重"): 16,
                      ("评价机构", "轻微"): 5, ("评价机构", "一般"): 10, ("评价机构", "严重"): 13}


def test_codes_unique_ordered_by_row_and_well_formed():
    cat = catalogue()
    assert len(set(cat)) == 55
    assert [e.row for e in cat.values()] == list(range(1, 56))
    for code, e in cat.items():
        prefix = {"培训机构": "PX", "评价机构": "PJ"}[e.kind]
        sev = {"轻微": "QW", "一般": "YB", "严重": "YZ"}[e.severity]
        assert code == f"{prefix}-{sev}-{e.number}" == e.code
    assert {c for c in cat if c.startswith("PX-YZ")} == {f"PX-YZ-{n}" for n in range(1, 17)}
    assert {c for c in cat if c.startswith("PJ-YB")} == {f"PJ-YB-{n}" for n in range(1, 11)}


def test_text_is_the_seed_text():
    # the seeds sit next to the repo (../shared/seeds), or wherever INSPECTOR_SEEDS points
    seeds = os.environ.get("INSPECTOR_SEEDS") or str(Path(__file__).resolve().parents[2] / "shared" / "seeds")
    found = glob.glob(os.path.join(seeds, "000_*.txt"))
    if not found:  # pragma: no cover - the seeds live outside the repo
        pytest.skip("seed 000 not available on this machine")
    seed = open(found[0], encoding="utf-8").read()
    flat = re.sub(r"\s+", "", seed)
    for e in catalogue().values():
        assert e.text in flat, e.code
    assert entry("PX-QW-1").text == "招生简章和广告未备案的。"
    assert entry("PJ-YZ-13").text == "无正当理由一年(含)以上未开展评价的;"
    assert entry("PX-YZ-15").row == 26 and entry("PJ-QW-1").row == 28


def test_entry_unknown_code_names_it():
    assert isinstance(entry("PJ-YB-6"), Entry) and entry("PJ-YB-6").severity == "一般"
    with pytest.raises(ValidationError, match="PX-QW-9"):
        entry("PX-QW-9")


def test_broken_catalogue_is_reported_with_every_problem():
    text = (FORMS / "catalogue.toml").read_text(encoding="utf-8")
    bad = text.replace('code = "PX-QW-2"', 'code = "PX-QW-1"').replace('severity = "严重"', 'severity = "重"', 1)
    with pytest.raises(ValidationError) as ei:
        parse_catalogue(bad, "forms/catalogue.toml")
    lines = ei.value.problems
    assert any("PX-QW-1" in l and "duplicate code" in l for l in lines)
    assert any("does not match" in l for l in lines)


def test_cli_catalog_json_and_table():
    r = run_cli("catalog", "--json")
    assert r.returncode == 0, r.stderr
    data = json.loads(r.stdout)
    assert len(data) == 55
    assert data[0] == {"code": "PX-QW-1", "kind": "培训机构", "severity": "轻微", "number": 1, "row": 1,
                       "text": "招生简章和广告未备案的。"}
    assert {d["code"] for d in data} == set(catalogue())
    r = run_cli("catalog")
    assert r.returncode == 0 and "PJ-YZ-13" in r.stdout and "严重" in r.stdout
