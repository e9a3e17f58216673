"""The 双随机 draw: which institutions are checked, and which inspectors go to each.

A pure function of (seed, directory snapshots, parameters): no store, no clock, no dict or file
order, no machine. HQ runs the same function on its own database, and anyone holding the
published directories can recompute a draw (``inspector draw verify``).

Algorithm ``inspector-draw/1``. Its complete specification — every normalisation, HMAC message,
order, round and cap — is ``docs/draw.md``, with test vectors in ``docs/draw-vectors/`` that this
module and an independent implementation written from that text (``tests/draw_reference.py``)
both reproduce. In outline:

1. Snapshots. Each directory is reduced to the fields the draw reads — institutions:
   credit_code, name, kind, county, credit_grade, complaints; inspectors: badge_no, name, county,
   conflicts (stripped, blanks dropped, deduplicated, sorted); missing values become "", 0 or
   [] — sorted by key and hashed: sha256 of canonical JSON (sorted keys, no spaces, UTF-8).
   These two hashes are published with the result.
2. Random numbers. ``U(msg)`` = the first 8 bytes of HMAC-SHA256(key = seed as UTF-8, msg as
   UTF-8), big-endian, shifted right by 11 bits, plus 0.5, divided by 2^53 (double arithmetic):
   a number in (0, 1] that depends only on the seed and the message, never on the order
   anything is processed.
3. Institutions. Candidates are grouped by 所属区县 (optionally only one 机构类型). In a county
   with N candidates, count = min(N, max(per_county, ceil(ratio × N))) (ratio as an exact
   decimal). Each candidate gets the key U("select|<county>|<credit_code>"); unweighted, the
   `count` largest keys are drawn (ties by credit code), so every subset of that size is
   equally likely. Weighted (``weighted=True``), the key is ln(U)/w, which orders as U^(1/w)
   (Efraimidis–Spirakis sampling without replacement), w = 1 + 2 for credit grade 不合格 (0.5
   for 合格) + 0.5 per recorded complaint, at most 4 complaints counted; so w is between 1 and
   5 and a weight-w candidate is drawn as if it held w tickets.
4. Inspectors. An inspector is eligible for an institution unless one of their declared
   conflicts (回避机构) equals its credit code or its name (NFKC, spaces removed, upper-cased),
   and, with ``exclude_home_county``, unless they belong to its county. Institutions are served
   fewest eligible inspectors first (ties: larger select key first, then credit code). Each
   takes K inspectors with the lowest current workload; within one workload level the m
   candidates (in badge_no order) are partially shuffled (Fisher–Yates), step i swapping in
   index i + ⌊U("assign|<credit_code>|<level>|<i>") × (m − i)⌋. Then, in at most 50 rounds,
   each scanning the institutions in service order and each team's slots in order, a task is
   moved from an inspector to an eligible unassigned one carrying ≥ 2 tasks fewer (the lowest
   such level; the choice within it by U("rebalance|<credit_code>|<round>|<slot>|0")); a round
   without a move ends it. Loads end as even as the constraints allow (max − min ≤ 1 when
   nothing constrains).
5. If an institution has fewer than K eligible inspectors, the draw fails with ``DrawError``
   naming every such institution and why.
"""
from __future__ import annotations

import hmac
import json
import math
import unicodedata
from dataclasses import dataclass, field
from fractions import Fraction
from typing import Any, Iterable, Mapping, Sequence

from inspector.errors import DrawError, ValidationError
from inspector.util import canonical_json, sha256_hex

ALGORITHM = "inspector-draw/1"
KINDS = ("培训机构", "评价机构")
CHECKLIST_FOR_KIND = {"培训机构": "training", "评价机构": "evaluation"}
GRADE_WEIGHT = {"不合格": 2.0, "合格": 0.5}
COMPLAINT_WEIGHT = 0.5
COMPLAINT_CAP = 4


@dataclass(frozen=True)
class DrawParams:
    per_county: int = 15
    ratio: float = 0.0
    kind: str | None = None
    inspectors_per_task: int = 2
    exclude_home_county: bool = False
    weighted: bool = False

    def check(self) -> None:
        problems = []
        if self.per_county < 0:
            problems.append(f"per_county 应为非负整数（实际 {self.per_county}）")
        if not 0 <= self.ratio <= 1:
            problems.append(f"ratio 应在 0 到 1 之间（实际 {self.ratio}）")
        if self.kind is not None and self.kind not in KINDS:
            problems.append(f"kind \"{self.kind}\" 未知（应为 培训机构 或 评价机构）")
        if self.inspectors_per_task < 2:
            problems.append(f"每个任务至少 2 名检查人员（实际 {self.inspectors_per_task}）")
        if problems:
            raise ValidationError("抽取参数有误：" + "；".join(problems), problems)

    def to_json(self) -> dict[str, Any]:
        return {"per_county": self.per_county, "ratio": self.ratio, "kind": self.kind,
                "inspectors_per_task": self.inspectors_per_task,
                "exclude_home_county": self.exclude_home_county, "weighted": self.weighted}

    @classmethod
    def from_json(cls, d: Mapping[str, Any]) -> "DrawParams":
        known = cls().to_json()
        unknown = sorted(set(d) - set(known))
        if unknown:
            raise ValidationError(f"未知的抽取参数：{', '.join(unknown)}")
        v = {k: d.get(k, default) for k, default in known.items()}
        try:
            return cls(per_county=int(v["per_county"]), ratio=float(v["ratio"]), kind=v["kind"] or None,
                       inspectors_per_task=int(v["inspectors_per_task"]),
                       exclude_home_county=bool(v["exclude_home_county"]), weighted=bool(v["weighted"]))
        except (TypeError, ValueError) as e:
            raise ValidationError(f"抽取参数有误：{e}") from e


@dataclass
class DrawTask:
    institution: dict[str, Any]          # {name, credit_code, county, kind}
    inspectors: list[dict[str, Any]]     # [{name, badge_no}] sorted by badge_no

    def to_json(self) -> dict[str, Any]:
        return {"institution": dict(self.institution), "inspectors": [dict(i) for i in self.inspectors]}


@dataclass
class DrawRecord:
    seed: str
    institutions_sha256: str
    inspectors_sha256: str
    params: DrawParams
    tasks: list[DrawTask]
    counties: list[dict[str, Any]] = field(default_factory=list)   # [{county, candidates, drawn}]
    algorithm: str = ALGORITHM
    draw_id: str | None = None

    @property
    def result_sha256(self) -> str:
        return sha256_hex(canonical_json([t.to_json() for t in self.tasks]))

    def to_json(self) -> dict[str, Any]:
        return {"draw_id": self.draw_id, "algorithm": self.algorithm, "seed": self.seed,
                "institutions_sha256": self.institutions_sha256,
                "inspectors_sha256": self.inspectors_sha256, "params": self.params.to_json(),
                "counties": [dict(c) for c in self.counties], "result_sha256": self.result_sha256,
                "tasks": [t.to_json() for t in self.tasks]}


# -- snapshots -----------------------------------------------------------------

def _get(obj: Any, key: str, default: Any = None) -> Any:
    if isinstance(obj, Mapping):
        v = obj.get(key, default)
    else:
        v = getattr(obj, key, default)
    return default if v is None else v


def _s(v: Any) -> str:
    return str(v).strip() if v is not None else ""


def _token(v: Any) -> str:
    """Conflict matching ignores width and spaces: '新乡（红旗）学校 ' == '新乡(红旗)学校'."""
    return "".join(unicodedata.normalize("NFKC", _s(v)).split()).upper()


def institution_snapshot(inst: Any) -> dict[str, Any]:
    return {"credit_code": _s(_get(inst, "credit_code")).upper(), "name": _s(_get(inst, "name")),
            "kind": _s(_get(inst, "kind")), "county": _s(_get(inst, "county")),
            "credit_grade": _s(_get(inst, "credit_grade")),
            "complaints": int(_get(inst, "complaints", 0) or 0)}


def inspector_snapshot(insp: Any) -> dict[str, Any]:
    conflicts = _get(insp, "conflicts", []) or []
    if isinstance(conflicts, str):  # a JSON column straight from a database row
        conflicts = json.loads(conflicts) if conflicts.startswith("[") else [conflicts]
    return {"badge_no": _s(_get(insp, "badge_no")), "name": _s(_get(insp, "name")),
            "county": _s(_get(insp, "county")),
            "conflicts": sorted({_s(c) for c in conflicts if _s(c)})}


def _snapshots(records: Iterable[Any], snap: Any, key: str, label: str) -> list[dict[str, Any]]:
    out = sorted((snap(r) for r in records), key=lambda r: r[key])
    dupes = sorted({a[key] for a, b in zip(out, out[1:]) if a[key] == b[key]})
    missing = [r for r in out if not r[key]]
    if dupes or missing:
        raise DrawError(f"{label}有重复或缺失的编号：{', '.join(dupes) or '（空）'}")
    return out


def snapshot_sha256(institutions: Iterable[Any] = (), inspectors: Iterable[Any] | None = None) -> str:
    """sha256 of one directory's canonical snapshot (pass one of the two)."""
    if inspectors is not None:
        return sha256_hex(canonical_json(_snapshots(inspectors, inspector_snapshot, "badge_no", "检查人员名录")))
    return sha256_hex(canonical_json(_snapshots(institutions, institution_snapshot, "credit_code", "检查对象名录")))


# -- randomness ------------------------------------------------------------------

def _u(key: bytes, msg: str) -> float:
    d = hmac.digest(key, msg.encode("utf-8"), "sha256")
    return ((int.from_bytes(d[:8], "big") >> 11) + 0.5) / float(1 << 53)


def weight(inst: Mapping[str, Any]) -> float:
    """Selection weight of a snapshot record when ``weighted`` (see module docstring)."""
    return (1.0 + GRADE_WEIGHT.get(inst["credit_grade"], 0.0)
            + COMPLAINT_WEIGHT * min(max(inst["complaints"], 0), COMPLAINT_CAP))


def county_count(n: int, per_county: int, ratio: float) -> int:
    """min(N, max(per_county, ceil(ratio × N))), the ratio taken as the decimal it prints as."""
    by_ratio = math.ceil(Fraction(repr(float(ratio))) * n)
    return min(n, max(per_county, by_ratio))


# -- the draw --------------------------------------------------------------------

def draw(institutions: Iterable[Any], inspectors: Iterable[Any], seed: str,
         params: DrawParams | None = None) -> DrawRecord:
    """Draw institutions per county and assign inspectors; raises DrawError when impossible."""
    params = params or DrawParams()
    params.check()
    seed = _s(seed)
    if not seed:
        raise ValidationError("随机种子不能为空")
    key = seed.encode("utf-8")
    insts = _snapshots(institutions, institution_snapshot, "credit_code", "检查对象名录")
    insps = _snapshots(inspectors, inspector_snapshot, "badge_no", "检查人员名录")
    inst_hash = sha256_hex(canonical_json(insts))
    insp_hash = sha256_hex(canonical_json(insps))

    # 1. institutions per county
    by_county: dict[str, list[tuple[float, dict[str, Any]]]] = {}
    for inst in insts:
        if params.kind and inst["kind"] != params.kind:
            continue
        u = _u(key, f"select|{inst['county']}|{inst['credit_code']}")
        k = math.log(u) / weight(inst) if params.weighted else u
        by_county.setdefault(inst["county"], []).append((k, inst))
    chosen: list[tuple[float, dict[str, Any]]] = []
    counties = []
    for county in sorted(by_county):
        cands = sorted(by_county[county], key=lambda kv: (-kv[0], kv[1]["credit_code"]))
        n = county_count(len(cands), params.per_county, params.ratio)
        chosen.extend(cands[:n])
        counties.append({"county": county, "candidates": len(cands), "drawn": n})
    if not chosen:
        raise DrawError("名录库中没有符合条件的检查对象" + (f"（机构类型 {params.kind}）" if params.kind else ""))

    assignment = _assign(key, chosen, insps, params)
    tasks = []
    for _, inst in sorted(chosen, key=lambda kv: (kv[1]["county"], kv[1]["credit_code"])):
        team = sorted((insps[j] for j in assignment[inst["credit_code"]]), key=lambda r: r["badge_no"])
        tasks.append(DrawTask(
            institution={"name": inst["name"], "credit_code": inst["credit_code"],
                         "county": inst["county"], "kind": inst["kind"]},
            inspectors=[{"name": r["name"], "badge_no": r["badge_no"]} for r in team]))
    return DrawRecord(seed=seed, institutions_sha256=inst_hash, inspectors_sha256=insp_hash,
                      params=params, tasks=tasks, counties=counties)


def _pick(key: bytes, cands: list[int], need: int, label: str) -> list[int]:
    """``need`` of ``cands`` uniformly, by a partial Fisher–Yates shuffle driven by U()."""
    pool = list(cands)
    m = len(pool)
    for i in range(min(need, m)):
        j = i + int(_u(key, f"{label}|{i}") * (m - i))
        pool[i], pool[j] = pool[j], pool[i]
    return pool[:need]


def _assign(key: bytes, chosen: list[tuple[float, dict[str, Any]]], insps: list[dict[str, Any]],
            params: DrawParams) -> dict[str, list[int]]:
    K = params.inspectors_per_task
    n_insp = len(insps)
    by_token: dict[str, set[int]] = {}
    by_county: dict[str, set[int]] = {}
    for j, r in enumerate(insps):
        for c in r["conflicts"]:
            by_token.setdefault(_token(c), set()).add(j)
        by_county.setdefault(r["county"], set()).add(j)

    excluded: dict[str, set[int]] = {}
    problems = []
    order = []
    for k, inst in chosen:
        code = inst["credit_code"]
        conflicted = by_token.get(_token(code), set()) | by_token.get(_token(inst["name"]), set())
        home = by_county.get(inst["county"], set()) if params.exclude_home_county and inst["county"] else set()
        ex = conflicted | home
        excluded[code] = ex
        avail = n_insp - len(ex)
        if avail < K:
            why = [f"名录中共 {n_insp} 名"]
            if conflicted:
                why.append(f"需回避 {len(conflicted)} 名")
            if home - conflicted:
                why.append(f"同县（{inst['county']}）{len(home - conflicted)} 名不可派")
            problems.append(f"{inst['county']}「{inst['name']}」（{code}）：可派检查人员 {avail} 名，"
                            f"少于每组 {K} 名（{'，'.join(why)}）")
        order.append((avail, -k, code, inst))
    if problems:
        err = DrawError("无法完成检查人员分配：" + "；".join(problems))
        err.problems = problems  # type: ignore[attr-defined]
        raise err
    order.sort(key=lambda o: (o[0], o[1], o[2]))

    load = [0] * n_insp
    levels: dict[int, set[int]] = {0: set(range(n_insp))}
    assigned: dict[str, list[int]] = {}

    def move(j: int, delta: int) -> None:
        levels[load[j]].discard(j)
        load[j] += delta
        levels.setdefault(load[j], set()).add(j)

    for _, _, code, _inst in order:
        ex = excluded[code]
        team: list[int] = []
        level = 0
        while len(team) < K:
            cands = sorted(j for j in levels.get(level, ()) if j not in ex)
            need = K - len(team)
            team.extend(cands if len(cands) <= need else _pick(key, cands, need, f"assign|{code}|{level}"))
            level += 1
        for j in team:
            move(j, 1)
        assigned[code] = team

    # rebalance: move a task from a busy inspector to an eligible one carrying >= 2 fewer
    if max(load) - min(load) < 2:
        return assigned
    if any(not excluded[o[2]] for o in order):
        usable = list(range(n_insp))
    else:  # inspectors eligible for at least one drawn institution
        usable = [j for j in range(n_insp) if any(j not in excluded[o[2]] for o in order)]
    for rnd in range(50):
        if max(load) - min(load[j] for j in usable) < 2:
            break
        changed = False
        for _, _, code, _ in order:
            ex = excluded[code]
            team = assigned[code]
            for slot, a in enumerate(team):
                for level in range(0, load[a] - 1):
                    cands = sorted(j for j in levels.get(level, ()) if j not in ex and j not in team)
                    if cands:
                        b = _pick(key, cands, 1, f"rebalance|{code}|{rnd}|{slot}")[0]
                        team[slot] = b
                        move(a, -1)
                        move(b, 1)
                        changed = True
                        break
        if not changed:
            break
    return assigned


# -- checking a record --------------------------------------------------------------

def diff_records(published: Mapping[str, Any], recomputed: DrawRecord) -> list[str]:
    """What differs between a published record (JSON) and a recomputation; empty when equal."""
    out = []
    if published.get("algorithm", ALGORITHM) != recomputed.algorithm:
        out.append(f"算法版本不同：记录为 {published.get('algorithm')}，本程序为 {recomputed.algorithm}")
    if published.get("institutions_sha256") != recomputed.institutions_sha256:
        out.append("检查对象名录库已变化：快照哈希 "
                   f"{published.get('institutions_sha256')} ≠ 当前 {recomputed.institutions_sha256}")
    if published.get("inspectors_sha256") != recomputed.inspectors_sha256:
        out.append("执法检查人员名录库已变化：快照哈希 "
                   f"{published.get('inspectors_sha256')} ≠ 当前 {recomputed.inspectors_sha256}")

    def index(tasks: Sequence[Mapping[str, Any]]) -> dict[str, tuple[str, list[str]]]:
        return {t["institution"]["credit_code"]: (t["institution"].get("name", ""),
                                                  sorted(i["badge_no"] for i in t["inspectors"]))
                for t in tasks}

    a = index(published.get("tasks", []))
    b = index([t.to_json() for t in recomputed.tasks])
    for code in sorted(set(a) | set(b)):
        if code not in b:
            out.append(f"记录中有「{a[code][0]}」（{code}），重新计算的结果中没有")
        elif code not in a:
            out.append(f"重新计算抽中了「{b[code][0]}」（{code}），记录中没有")
        elif a[code][1] != b[code][1]:
            out.append(f"「{a[code][0]}」（{code}）的检查人员不同：记录为 {'、'.join(a[code][1])}，"
                       f"重新计算为 {'、'.join(b[code][1])}")
    return out
