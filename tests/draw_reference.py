"""A second implementation of the draw, written from docs/draw.md alone (it must not import
inspector.draw): if it and inspector/draw.py agree on every vector in docs/draw-vectors/, the
text is a complete specification. Returns the record as plain JSON data, or raises
``ReferenceDrawError`` with the credit codes an infeasible draw names."""
from __future__ import annotations

import hashlib
import hmac
import json
import math
import unicodedata
from decimal import Decimal
from fractions import Fraction
from typing import Any

ALGORITHM = "inspector-draw/1"
DEFAULTS = {"per_county": 15, "ratio": 0.0, "kind": None, "inspectors_per_task": 2,
            "exclude_home_county": False, "weighted": False}


class ReferenceDrawError(Exception):
    def __init__(self, what: str, credit_codes: list[str]) -> None:
        super().__init__(f"{what}: {credit_codes}")
        self.credit_codes = credit_codes


# §2 snapshots ---------------------------------------------------------------------------------

def _field(rec: dict[str, Any], name: str, default: Any) -> Any:
    v = rec.get(name)
    return default if v is None else v


def _S(v: Any) -> str:
    return str(v).strip()


def _inst_snap(rec: dict[str, Any]) -> dict[str, Any]:
    return {"credit_code": _S(_field(rec, "credit_code", "")).upper(),
            "name": _S(_field(rec, "name", "")), "kind": _S(_field(rec, "kind", "")),
            "county": _S(_field(rec, "county", "")), "credit_grade": _S(_field(rec, "credit_grade", "")),
            "complaints": int(_field(rec, "complaints", 0) or 0)}


def _insp_snap(rec: dict[str, Any]) -> dict[str, Any]:
    raw = _field(rec, "conflicts", [])
    if isinstance(raw, str):
        raw = json.loads(raw) if raw.startswith("[") else ([raw] if raw else [])
    conflicts = sorted({_S("" if c is None else c) for c in raw} - {""})
    return {"badge_no": _S(_field(rec, "badge_no", "")), "name": _S(_field(rec, "name", "")),
            "county": _S(_field(rec, "county", "")), "conflicts": conflicts}


def _sorted_unique(snaps: list[dict[str, Any]], key: str) -> list[dict[str, Any]]:
    snaps = sorted(snaps, key=lambda r: r[key])
    keys = [r[key] for r in snaps]
    bad = sorted({k for k in keys if keys.count(k) > 1 or not k})
    if bad:
        raise ReferenceDrawError("duplicate or empty keys", bad)
    return snaps


def _canonical(obj: Any) -> bytes:
    return json.dumps(obj, ensure_ascii=False, sort_keys=True, separators=(",", ":")).encode("utf-8")


def _sha(obj: Any) -> str:
    return hashlib.sha256(_canonical(obj)).hexdigest()


# §3 random numbers -----------------------------------------------------------------------------

class _Rng:
    def __init__(self, seed: str) -> None:
        self.key = seed.encode("utf-8")

    def U(self, msg: str) -> float:
        d = hmac.new(self.key, msg.encode("utf-8"), hashlib.sha256).digest()
        n = int.from_bytes(d[:8], "big") >> 11
        return (float(n) + 0.5) / 2.0 ** 53

    def pick(self, cands: list[int], need: int, label: str) -> list[int]:
        pool = cands[:]
        m = len(pool)
        for i in range(min(need, m)):
            j = i + math.trunc(self.U(f"{label}|{i}") * (m - i))
            pool[i], pool[j] = pool[j], pool[i]
        return pool[:need]


# §4-§8 -----------------------------------------------------------------------------------------

def _count(n: int, per_county: int, ratio: float) -> int:
    r = Fraction(Decimal(repr(ratio)))
    return min(n, max(per_county, math.ceil(r * n)))


def _T(s: str) -> str:
    return "".join(unicodedata.normalize("NFKC", s).split()).upper()


def run(institutions: list[dict[str, Any]], inspectors: list[dict[str, Any]], seed: str,
        params: dict[str, Any] | None = None) -> dict[str, Any]:
    p = dict(DEFAULTS, **(params or {}))
    p["kind"] = p["kind"] or None
    K = int(p["inspectors_per_task"])
    seed = _S(seed)
    assert seed, "empty seed"
    rng = _Rng(seed)
    insts = _sorted_unique([_inst_snap(r) for r in institutions], "credit_code")
    insps = _sorted_unique([_insp_snap(r) for r in inspectors], "badge_no")

    # §4 selection
    key: dict[str, float] = {}
    groups: dict[str, list[dict[str, Any]]] = {}
    for inst in insts:
        if p["kind"] is not None and inst["kind"] != p["kind"]:
            continue
        u = rng.U(f"select|{inst['county']}|{inst['credit_code']}")
        if p["weighted"]:
            g = {"不合格": 2.0, "合格": 0.5}.get(inst["credit_grade"], 0.0)
            w = 1.0 + g + 0.5 * min(max(inst["complaints"], 0), 4)
            key[inst["credit_code"]] = math.log(u) / w
        else:
            key[inst["credit_code"]] = u
        groups.setdefault(inst["county"], []).append(inst)
    chosen: list[dict[str, Any]] = []
    counties = []
    for county in sorted(groups):
        ranked = sorted(groups[county], key=lambda r: r["credit_code"])
        ranked.sort(key=lambda r: key[r["credit_code"]], reverse=True)  # stable: code breaks ties
        count = _count(len(ranked), int(p["per_county"]), float(p["ratio"]))
        chosen += ranked[:count]
        counties.append({"county": county, "candidates": len(ranked), "drawn": count})
    if not chosen:
        raise ReferenceDrawError("nothing to draw", [])

    # §5 eligibility
    M = len(insps)
    eligible: dict[str, list[int]] = {}
    infeasible = []
    for inst in chosen:
        targets = {_T(inst["credit_code"]), _T(inst["name"])}
        ok = []
        for j, r in enumerate(insps):
            conflicted = any(_T(c) in targets for c in r["conflicts"])
            home = p["exclude_home_county"] and inst["county"] != "" and r["county"] == inst["county"]
            if not (conflicted or home):
                ok.append(j)
        eligible[inst["credit_code"]] = ok
        if len(ok) < K:
            infeasible.append(inst["credit_code"])
    if infeasible:
        raise ReferenceDrawError("infeasible", infeasible)

    # §6 service order and teams
    service = sorted(chosen, key=lambda r: r["credit_code"])
    service.sort(key=lambda r: key[r["credit_code"]], reverse=True)
    service.sort(key=lambda r: len(eligible[r["credit_code"]]))  # avail ascending
    load = [0] * M
    teams: dict[str, list[int]] = {}
    for inst in service:
        code = inst["credit_code"]
        team: list[int] = []
        level = 0
        while len(team) < K:
            cands = [j for j in eligible[code] if load[j] == level]
            need = K - len(team)
            team += cands if len(cands) <= need else rng.pick(cands, need, f"assign|{code}|{level}")
            level += 1
        for j in team:
            load[j] += 1
        teams[code] = team

    # §7 rebalancing
    usable = sorted({j for ok in eligible.values() for j in ok})
    if max(load) - min(load) >= 2:
        for rnd in range(50):
            if max(load) - min(load[j] for j in usable) < 2:
                break
            moved = False
            for inst in service:
                code = inst["credit_code"]
                team = teams[code]
                for s in range(K):
                    a = team[s]
                    L = load[a]
                    for level in range(L - 1):
                        cands = [j for j in eligible[code] if j not in team and load[j] == level]
                        if cands:
                            b = rng.pick(cands, 1, f"rebalance|{code}|{rnd}|{s}")[0]
                            team[s] = b
                            load[a] -= 1
                            load[b] += 1
                            moved = True
                            break
            if not moved:
                break

    # §8 record
    tasks = []
    for inst in sorted(chosen, key=lambda r: (r["county"], r["credit_code"])):
        members = sorted((insps[j] for j in teams[inst["credit_code"]]), key=lambda r: r["badge_no"])
        tasks.append({"institution": {"name": inst["name"], "credit_code": inst["credit_code"],
                                      "county": inst["county"], "kind": inst["kind"]},
                      "inspectors": [{"name": r["name"], "badge_no": r["badge_no"]} for r in members]})
    return {"draw_id": None, "algorithm": ALGORITHM, "seed": seed,
            "institutions_sha256": _sha(insts), "inspectors_sha256": _sha(insps),
            "params": {"per_county": int(p["per_county"]), "ratio": float(p["ratio"]), "kind": p["kind"],
                       "inspectors_per_task": K, "exclude_home_county": bool(p["exclude_home_county"]),
                       "weighted": bool(p["weighted"])},
            "counties": counties, "result_sha256": _sha(tasks), "tasks": tasks}
