"""Credit grade (信用评估等级) of one institution for one period, from its findings.

The rule of 内人社办发〔2024〕58号 §四 (DOMAIN.md §5), applied to every finding's
catalogue code and rectification status:

1. any 严重 finding, whatever its rectification          → 不合格
2. any 一般 finding refused or not brought up to standard → 不合格
   (status ``refused`` = 拒不整改或敷衍整改)
3. otherwise any 一般 finding (rectified on time or late) → 合格
   (the seed: "存在一般失信记录，通过整改达到要求"; lateness does not change it)
4. otherwise only 轻微 findings, all rectified on time    → 良好
5. no finding at all                                      → 优秀 (proposed; the
   qualitative conditions of 优秀 are the department's call at review, and an
   override needs a written reason)

Cases the seed leaves open, decided here and applied the same way everywhere:

- 轻微 rectified late (逾期整改) → 合格. 良好 requires "能够及时整改、立行立改达到要求";
  a late fix did reach the requirement, which is what 合格 describes.
- 轻微 refused (拒不整改或敷衍整改) → 合格. 不合格 is reserved by the seed for a refused
  一般 finding or any 严重 one; an unrectified 轻微 finding cannot be 良好, so it
  falls to 合格. (A refusal that is itself a listed behaviour is recorded as its
  own finding with its own code.)
- deadline not yet passed (待整改) → graded as if it will be rectified on time, and
  the result is marked provisional (暂定) with a reason naming the codes: 轻微
  pending → at most 良好 (暂定); 一般 pending → 合格 (暂定). Once the status
  changes the grade is recomputed; a pending 严重 finding is 不合格 regardless.

The grade is the worst outcome over all findings; reasons name the codes.
"""
from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from inspector.catalogue import entry
from inspector.errors import ValidationError

GRADES = ("优秀", "良好", "合格", "不合格")  # best → worst
RECTIFICATION_STATUS = {  # CLI / JSON value → DOMAIN.md §2 status (rectifications.status)
    "on_time": "已按期整改",
    "late": "逾期整改",
    "refused": "拒不整改或敷衍整改",
    "pending": "待整改",
}
STATUS_FROM_ZH = {v: k for k, v in RECTIFICATION_STATUS.items()}

# (severity, rectification) → (grade, provisional)
_TABLE: dict[tuple[str, str], tuple[str, bool]] = {
    ("严重", "on_time"): ("不合格", False), ("严重", "late"): ("不合格", False),
    ("严重", "refused"): ("不合格", False), ("严重", "pending"): ("不合格", False),
    ("一般", "on_time"): ("合格", False), ("一般", "late"): ("合格", False),
    ("一般", "refused"): ("不合格", False), ("一般", "pending"): ("合格", True),
    ("轻微", "on_time"): ("良好", False), ("轻微", "late"): ("合格", False),
    ("轻微", "refused"): ("合格", False), ("轻微", "pending"): ("良好", True),
}


@dataclass(frozen=True)
class GradeResult:
    grade: str
    reasons: list[str]
    provisional: bool = False  # some finding's deadline has not passed yet (待整改)
    details: list[dict] = field(default_factory=list, compare=False)

    def as_dict(self) -> dict[str, Any]:
        return {"grade": self.grade, "reasons": list(self.reasons)}


def normalise_status(value: Any, where: str = "") -> str:
    """on_time/late/refused/pending, or their Chinese names → the English key."""
    if isinstance(value, str):
        if value in RECTIFICATION_STATUS:
            return value
        if value in STATUS_FROM_ZH:
            return STATUS_FROM_ZH[value]
    raise ValidationError(
        f"{where}未知的整改状态 {value!r}（应为 on_time/late/refused/pending，"
        f"即 已按期整改/逾期整改/拒不整改或敷衍整改/待整改）")


def _unpack(f: Any, i: int) -> list[tuple[str, str]]:
    where = f"第{i}条问题："
    if isinstance(f, Mapping):
        codes = f.get("codes")
        if codes is None:
            codes = [f.get("code")]
        status = f.get("rectification", f.get("status"))
    elif isinstance(f, (tuple, list)) and len(f) == 2:
        codes, status = [f[0]], f[1]
    else:
        raise ValidationError(f"{where}格式无效 {f!r}（应为 {{code, rectification}} 或 (code, rectification)）")
    if not isinstance(codes, (list, tuple)) or not codes:
        raise ValidationError(f"{where}缺少失信行为代码 code")
    st = normalise_status(status, where)
    out = []
    for c in codes:
        if c is None:
            raise ValidationError(f"{where}缺少失信行为代码 code")
        if not isinstance(c, str):
            raise ValidationError(f"{where}失信行为代码无效 {c!r}")
        try:
            entry(c)
        except ValidationError as e:
            raise ValidationError(f"{where}{e}") from None
        out.append((c, st))
    return out


def grade(findings: Iterable[Mapping[str, Any] | tuple[str, str]]) -> GradeResult:
    """The proposed grade and the reasons (Chinese, naming the codes)."""
    pairs = [p for i, f in enumerate(findings, 1) for p in _unpack(f, i)]
    if not pairs:
        return GradeResult("优秀", ["评估期内无失信行为记录，拟评为优秀；优秀的其他条件由人力资源社会保障部门复核确认"])
    rank = {g: i for i, g in enumerate(GRADES)}
    details: list[dict[str, Any]] = []
    for code, st in pairs:
        sev = entry(code).severity
        g, prov = _TABLE[(sev, st)]
        details.append({"code": code, "severity": sev, "rectification": st, "grade": g, "provisional": prov})
    worst = max(rank[d["grade"]] for d in details)
    result = GRADES[worst]
    decisive = [d for d in details if rank[d["grade"]] == worst]
    provisional = any(d["provisional"] for d in decisive)
    reasons = [_reason(result, decisive)]
    pending = list(dict.fromkeys(d["code"] for d in decisive if d["provisional"]))
    if pending:
        reasons.append(f"{'、'.join(pending)} 整改期限未到（待整改），本等级为暂定；逾期整改或拒不整改的，应重新评定")
    return GradeResult(result, reasons, provisional, details)


def _codes(ds: list[dict], **match: str) -> str:
    return "、".join(dict.fromkeys(d["code"] for d in ds if all(d[k] == v for k, v in match.items())))


def _reason(result: str, ds: list[dict]) -> str:
    parts = []
    if result == "不合格":
        if c := _codes(ds, severity="严重"):
            parts.append(f"存在严重失信行为 {c}")
        if c := _codes(ds, severity="一般", rectification="refused"):
            parts.append(f"一般失信行为 {c} 拒不整改或敷衍整改，未能达到要求")
    elif result == "合格":
        if c := _codes(ds, severity="一般"):
            parts.append(f"存在一般失信行为 {c}，通过整改达到要求" if "pending" not in _sts(ds, "一般")
                         else f"存在一般失信行为 {c}")
        if c := _codes(ds, severity="轻微", rectification="late"):
            parts.append(f"轻微失信行为 {c} 逾期整改，未能及时整改")
        if c := _codes(ds, severity="轻微", rectification="refused"):
            parts.append(f"轻微失信行为 {c} 拒不整改或敷衍整改")
    elif result == "良好":
        on_time = _codes(ds, rectification="on_time")
        pend = _codes(ds, rectification="pending")
        if on_time:
            parts.append(f"仅有轻微失信行为 {on_time}，已及时整改达到要求")
        if pend:
            parts.append(f"轻微失信行为 {pend} 尚在整改期限内")
    return "；".join(parts) + f"，评定为{result}"


def _sts(ds: list[dict], severity: str) -> set[str]:
    return {d["rectification"] for d in ds if d["severity"] == severity}
