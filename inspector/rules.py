"""The rules engine: answers → per-item pass/fail/na/unanswered with a Chinese reason,
plus neutrally worded draft findings carrying catalogue codes and severity.

Pure and cheap: ``evaluate_item`` is called by the GUI on every keystroke, and
``evaluate`` on a whole checklist runs in well under a millisecond or two. Invalid
answers never raise: they come back as ``unanswered`` with the reason why.
"""
from __future__ import annotations

import datetime as _dt
import functools
import logging
import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from inspector.catalogue import SEVERITY_RANK, catalogue
from inspector.forms import (CERTS, DEGREES, NA, TITLES, Checklist, Column, Item, RULES,
                             resolve_date)

PASS, FAIL, UNANSWERED = "pass", "fail", "unanswered"
STATUSES = (PASS, FAIL, NA, UNANSWERED)
STATUS_LABELS = {PASS: "符合", FAIL: "不符合", NA: "不适用", UNANSWERED: "未作答"}
_EPS = 1e-9
logger = logging.getLogger(__name__)
_KIND_PREFIX = {"培训机构": "PX", "评价机构": "PJ"}


@dataclass(frozen=True)
class ItemResult:
    item_id: str
    status: str  # pass | fail | na | unanswered
    reason: str
    codes: tuple[str, ...]
    severity: str | None
    basis: str
    missing_photo: bool


@dataclass(frozen=True)
class DraftFinding:
    item_id: str
    codes: tuple[str, ...]
    severity: str
    description: str
    basis: str


class _Counts(dict):
    """A dict that may also be called (``ev.counts`` and ``ev.counts()`` both work)."""

    def __call__(self) -> "_Counts":
        return self


@dataclass(frozen=True)
class Evaluation:
    checklist_id: str
    version: str
    results: tuple[ItemResult, ...]
    findings: tuple[DraftFinding, ...]

    @property
    def incomplete(self) -> list[str]:
        """Failed items that need photo evidence and have none."""
        return [r.item_id for r in self.results if r.missing_photo]

    @property
    def counts(self) -> _Counts:
        c = _Counts({s: 0 for s in STATUSES})
        for r in self.results:
            c[r.status] += 1
        c["total"] = len(self.results)
        c["incomplete"] = len(self.incomplete)
        c["findings"] = len(self.findings)
        return c

    def result(self, item_id: str) -> ItemResult:
        for r in self.results:
            if r.item_id == item_id:
                return r
        raise KeyError(item_id)


# -- formatting -----------------------------------------------------------------------
def fmt_num(v: float) -> str:
    """280.0 → '280', 94.95 → '94.95' (no float noise)."""
    if isinstance(v, float) and v.is_integer():
        v = int(v)
    return f"{v:g}" if isinstance(v, float) else str(v)


def _pct(x: float) -> str:
    return f"{x * 100:.1f}".rstrip("0").rstrip(".") + "%"


def mask_id(s: str) -> str:
    """110105199001011234 → 110105********1234 (个人信息保护法: minimum shown)."""
    s = str(s)
    return s[:6] + "*" * (len(s) - 10) + s[-4:] if len(s) > 10 else s


def _is_num(v: Any) -> bool:
    if isinstance(v, bool):
        return False
    return isinstance(v, int) or (isinstance(v, float) and math.isfinite(v))


def _label(item: Item) -> str:
    return str(item.params.get("label") or item.text)


def _fill(item: Item, default: str, **kw: Any) -> str:
    if item.fail_text:
        try:
            return item.fail_text.format(label=_label(item), unit=item.unit or "", text=item.text, detail=default, **{
                k: kw.get(k, "") for k in ("value", "limit", "missing")})
        except (KeyError, IndexError, ValueError):  # a fail_text naming a field it lacks: the plain reason
            pass
    return default


# -- per-type judges: (status, reason, failed flags) ----------------------------------
Judged = tuple[str, str, tuple[str, ...]]
_OPS: dict[str, Callable[[Any, Any], bool]] = {
    ">=": lambda a, b: a >= b - _EPS, ">": lambda a, b: a > b + _EPS,
    "<=": lambda a, b: a <= b + _EPS, "<": lambda a, b: a < b - _EPS,
    "==": lambda a, b: abs(a - b) <= _EPS,
}
_OPS_DATE: dict[str, Callable[[Any, Any], bool]] = {
    ">=": lambda a, b: a >= b, ">": lambda a, b: a > b, "<=": lambda a, b: a <= b,
    "<": lambda a, b: a < b, "==": lambda a, b: a == b,
}
_FAIL_WORDS = {">=": "低于 {limit} 要求", ">": "未超过 {limit}（要求高于 {limit}）",
               "<=": "超过 {limit} 上限", "<": "未低于 {limit}（要求低于 {limit}）", "==": "不等于要求的 {limit}"}
_DATE_FAIL_WORDS = {">=": "早于 {limit}", ">": "不晚于 {limit}", "<=": "晚于 {limit}", "<": "不早于 {limit}",
                    "==": "不是 {limit}"}


def _judge_check(item: Item, v: Any) -> Judged:
    if v is True or v == PASS:
        return PASS, "符合", ()
    if v is False or v == FAIL:
        return FAIL, _fill(item, f"未达到要求：{item.text}"), ()
    return UNANSWERED, f"答案无效：{v!r}（应为 符合/不符合/不适用）", ()


def _judge_number(item: Item, v: Any, integer: bool = False) -> Judged:
    if not _is_num(v):
        return UNANSWERED, f"答案无效：{v!r} 不是数字", ()
    if integer and (v != int(v) or v < 0):
        return UNANSWERED, f"答案无效：{fmt_num(v)} 不是非负整数", ()
    if v < 0:
        return UNANSWERED, f"答案无效：{fmt_num(v)} 不能为负数", ()
    unit = item.unit or ""
    shown = f"{_label(item)} {fmt_num(v)}{unit}"
    th = item.threshold
    if th is None:
        return PASS, shown, ()
    op, limit = th["op"], th["value"]
    lim = f"{fmt_num(limit)}{unit}"
    if _OPS[op](v, limit):
        return PASS, f"{shown}，符合 {op} {lim} 要求", ()
    return FAIL, _fill(item, f"{shown}，{_FAIL_WORDS[op].format(limit=lim)}", value=fmt_num(v),
                       limit=fmt_num(limit)), ()


def _parse_date(v: Any) -> _dt.date | None:
    if not isinstance(v, str) or len(v) != 10:
        return None
    try:
        return _dt.date.fromisoformat(v)
    except ValueError:
        return None


def _judge_date(item: Item, v: Any) -> Judged:
    d = _parse_date(v)
    if d is None:
        return UNANSWERED, f"答案无效：{v!r} 不是 YYYY-MM-DD 日期", ()
    shown = f"{_label(item)} {v}"
    th = item.threshold
    if th is None:
        return PASS, shown, ()
    limit = resolve_date(th["value"])
    if _OPS_DATE[th["op"]](d, limit):
        return PASS, shown, ()
    return FAIL, _fill(item, f"{shown}，{_DATE_FAIL_WORDS[th['op']].format(limit=limit.isoformat())}",
                       value=v, limit=limit.isoformat()), ()


def _judge_choice(item: Item, v: Any) -> Judged:
    if item.params.get("multiple"):
        if not isinstance(v, list) or not all(isinstance(x, str) and x in item.choices for x in v):
            return UNANSWERED, f"答案无效：{v!r}（应为选项列表）", ()
        if item.params.get("require_all"):
            missing = [c for c in item.choices if c not in v]
            if missing:
                m = "、".join(missing)
                return FAIL, _fill(item, f"{_label(item)}缺少：{m}", missing=m), ()
        bad = [x for x in v if x in item.params.get("fail_on", ())]
        if bad:
            return FAIL, _fill(item, f"{_label(item)}：{'、'.join(bad)}", value="、".join(bad)), ()
        return PASS, f"{_label(item)}：{'、'.join(v) if v else '（无）'}", ()
    if not isinstance(v, str) or v not in item.choices:
        return UNANSWERED, f"答案无效：{v!r} 不是可选项", ()
    if v in item.params.get("fail_on", ()):
        return FAIL, _fill(item, f"{_label(item)}：{v}", value=v), ()
    return PASS, f"{_label(item)}：{v}", ()


def _judge_text(item: Item, v: Any) -> Judged:
    if not isinstance(v, str):
        return UNANSWERED, f"答案无效：{v!r} 不是文字", ()
    return (PASS, "已记录", ()) if v.strip() else (UNANSWERED, "未作答", ())


# -- tables -------------------------------------------------------------------------------
class _Incomplete(Exception):
    pass


def _checker(col: Column) -> Callable[[Any], bool]:
    t = col.type
    if t == "text":
        return lambda v: isinstance(v, str)  # a masked trainee cell is a str subclass (pii.MaskedCell)
    if t == "number":
        return lambda v: type(v) is int or (type(v) is float and math.isfinite(v))
    if t == "bool":
        return lambda v: type(v) is bool
    if t == "choice":
        allowed = frozenset(col.choices)
        return lambda v: type(v) is str and v in allowed
    return lambda v: _parse_date(v) is not None  # date


@functools.lru_cache(maxsize=256)
def _compiled_columns(columns: tuple[Column, ...]) -> tuple[tuple[str, str, Callable[[Any], bool]], ...]:
    """(id, label, type check) per column, built once per checklist version."""
    return tuple((c.id, c.label, _checker(c)) for c in columns)


def _rows(item: Item, value: Any, required: Callable[[dict], tuple[str, ...]]) -> list[dict]:
    """Type-check every cell; raise _Incomplete listing missing/invalid cells."""
    if not isinstance(value, list):
        raise _Incomplete(f"答案无效：表格应为行的列表，得到 {type(value).__name__}")
    cols = _compiled_columns(item.columns)
    labels = {cid: label for cid, label, _ in cols}
    problems: list[str] = []
    rows: list[dict] = []
    for i, row in enumerate(value, 1):
        if not isinstance(row, dict):
            problems.append(f"第{i}行不是对象")
            continue
        clean: dict[str, Any] = {}
        invalid: set[str] = set()
        for cid, label, ok in cols:
            v = row.get(cid)
            if v is None or v == "" or (type(v) is str and not v.strip()):
                clean[cid] = None
            elif ok(v):
                clean[cid] = v.strip() if type(v) is str else v
            else:
                problems.append(f"第{i}行“{label}”无效（{v!r}）")
                invalid.add(cid)
                clean[cid] = None
        for cid in required(clean):
            if clean.get(cid) is None and cid not in invalid:
                problems.append(f"第{i}行缺少“{labels.get(cid, cid)}”")
        rows.append(clean)
    if problems:
        more = f" 等 {len(problems)} 处" if len(problems) > 3 else ""
        raise _Incomplete("表格未填写完整：" + "；".join(problems[:3]) + more)
    return rows


def _req_all(item: Item) -> Callable[[dict], tuple[str, ...]]:
    ids = tuple(c for c in RULES[item.rule].columns) if item.rule else ()
    return lambda row: ids


Flagged = list[tuple[str, str]]  # (flag, message)


def _rule_teachers(item: Item, value: Any) -> Flagged:
    rows = _rows(item, value, _req_all(item))
    if not rows:
        return [("too_few", "未登记任何专业理论教师和实训教师")]
    out: Flagged = []
    mins = {"理论": int(item.param("min_theory")), "实训": int(item.param("min_practical"))}
    trades: dict[str, dict[str, int]] = {}
    for r in rows:
        trades.setdefault(r["trade"], {"理论": 0, "实训": 0})[r["role"]] += 1
    for trade, n in trades.items():
        for role, need in mins.items():
            if n[role] < need:
                out.append(("too_few", f"工种“{trade}”专业{role}教师 {n[role]} 名，少于 {need} 名"))
    min_years = float(item.param("min_years"))
    college, bachelor = DEGREES.index("大专"), DEGREES.index("本科")
    for r in rows:
        why = _teacher_problems(r, college, bachelor, min_years)
        if why:
            out.append(("unqualified", f"教师{r['name']}：" + "，".join(why)))
    for r in rows:
        if not r["contract"]:
            out.append(("no_contract", f"教师{r['name']}：未签订聘任协议或劳务合同"))
    return out


def _teacher_problems(r: dict, college: int, bachelor: int, min_years: float) -> list[str]:
    why: list[str] = []
    deg = DEGREES.index(r["degree"])
    if deg < college:
        why.append(f"学历{r['degree']}，不符合大专及以上")
    q = r["qual"]
    title = TITLES.index(q) + 1 if q in TITLES else 0  # 初级1 中级2 …
    cert = CERTS.index(q) + 1 if q in CERTS else 0     # 五级1 四级2 三级3 …
    relaxed = bool(r["relevant_bachelor"]) and deg >= bachelor
    if relaxed:
        if title < 1 and cert < 1:
            why.append(f"职称/职业资格为“{q}”，不符合初级及以上（相关专业本科可放宽至初级）")
    elif title < 2 and cert < 3:
        why.append(f"职称/职业资格为“{q}”，不符合中级及以上职称或三级（高级工）及以上职业资格")
    if r["years"] < min_years - _EPS:
        why.append(f"本专业教学经历 {fmt_num(r['years'])} 年，少于 {fmt_num(min_years)} 年")
    if not r["teacher_cert"]:
        why.append("无相应教师资格岗位证书")
    return why


def _rule_admin(item: Item, value: Any) -> Flagged:
    rows = _rows(item, value, _req_all(item))
    out: Flagged = []
    principals = [r for r in rows if r["position"] == "校长"]
    if not any(r["full_time"] for r in principals):
        extra = f"（校长{'、'.join(r['name'] for r in principals)}为兼职）" if principals else ""
        out.append(("no_principal", f"未配备专职校长{extra}"))
    n = sum(1 for r in rows if r["position"] == "行政管理人员" and r["full_time"])
    need = int(item.param("min_admin"))
    if n < need:
        out.append(("too_few_admin", f"专职行政管理人员 {n} 名，少于 {need} 名"))
    return out


def _rule_finance(item: Item, value: Any) -> Flagged:
    rows = _rows(item, value, _req_all(item))
    out: Flagged = []
    n = sum(1 for r in rows if r["accounting_cert"])
    need = int(item.param("min_finance"))
    if n < need:
        out.append(("too_few", f"具有财会人员资格证书的财务管理人员 {n} 名，少于 {need} 名"))
    for r in rows:
        if not r["accounting_cert"]:
            out.append(("uncertified", f"财务管理人员{r['name']}无财会人员资格证书"))
    return out


def _rule_class_hours(item: Item, value: Any) -> Flagged:
    rows = _rows(item, value, _req_all(item))
    if not rows:
        raise _Incomplete("未填写课时记录")
    bad = []
    for i, r in enumerate(rows, 1):
        t = r["total"]
        if t <= 0 or r["attended"] > t + _EPS or r["online"] > t + _EPS or r["max_online_day"] > r["online"] + _EPS:
            bad.append(f"第{i}行（{r['label']}）课时数据不一致（总课时须大于0，已完成/线上课时不超过总课时，"
                       f"单日线上不超过线上合计）")
    if bad:
        raise _Incomplete("表格数据有误：" + "；".join(bad[:3]))
    att, share, per_day = (float(item.param("min_attendance")), float(item.param("max_online_share")),
                           float(item.param("max_online_per_day")))
    out: Flagged = []
    for r in rows:
        t, a, o, m = r["total"], r["attended"], r["online"], r["max_online_day"]
        if a < t * att - _EPS * max(1.0, t):
            out.append(("attendance", f"{r['label']}：完成课时 {fmt_num(a)}/{fmt_num(t)}（{_pct(a / t)}），"
                                      f"低于总课时 {_pct(att)} 要求"))
        if o > t * share + _EPS * max(1.0, t):
            out.append(("online_share", f"{r['label']}：线上课时 {fmt_num(o)}/{fmt_num(t)}（{_pct(o / t)}），"
                                        f"超过总课时 {_pct(share)} 上限"))
        if m > per_day + _EPS:
            out.append(("online_day", f"{r['label']}：单日线上培训 {fmt_num(m)} 课时，超过每日 {fmt_num(per_day)} 课时上限"))
    return out


def _trainee_required(row: dict) -> tuple[str, ...]:
    base = ("name", "method", "reached")
    return base + ("confirms_attending", "exam", "certificate") if row.get("reached") else base


def _rule_trainees(item: Item, value: Any) -> Flagged:
    rows = _rows(item, value, _trainee_required)
    if not rows:
        raise _Incomplete("未填写核实学员")
    out: Flagged = []
    unreached = [r["name"] for r in rows if not r["reached"]]
    max_share = float(item.param("max_unreached_share"))
    if len(unreached) > len(rows) * max_share + _EPS:
        out.append(("unreached", f"核实学员 {len(rows)} 名，其中 {len(unreached)} 名无法联系"
                                 f"（{_pct(len(unreached) / len(rows))}，超过 {_pct(max_share)}）："
                                 + "、".join(unreached)))
    min_hours = float(item.param("min_hours_share"))
    for r in rows:
        if not r["reached"]:
            continue
        if r["confirms_attending"] is False:
            out.append(("denied", f"学员{r['name']}（{r['method']}核实）否认参加培训"))
        h, rec = r["hours"], r["hours_recorded"]
        if h is not None and rec is not None and h < rec * min_hours - _EPS:
            out.append(("hours_short", f"学员{r['name']}自述参训 {fmt_num(h)} 课时，机构记录 {fmt_num(rec)} 课时"))
        if r["certificate"] and not r["exam"]:
            out.append(("cert_without_exam", f"学员{r['name']}持有证书但未参加考试"))
        if r["subsidised"] and r["extra_fees"] is not None and r["extra_fees"] > 0:
            out.append(("extra_fees", f"学员{r['name']}参加补贴性培训，另被收取费用 {fmt_num(r['extra_fees'])} 元"))
    seen: dict[tuple[str, str, str], list[str]] = {}
    for r in rows:
        if r["id_no"] and r["trade"]:
            # a sealed row shows only the masked number (first 6 + last 4): two trainees may share it,
            # so masked rows count as one person only with the same (masked) name as well
            same_name = str(r["name"] or "") if "*" in str(r["id_no"]) else ""
            seen.setdefault((str(r["id_no"]), str(r["trade"]), same_name), []).append(r["name"])
    for (idn, trade, _name), names in seen.items():
        if len(names) > 1:
            out.append(("duplicate", f"身份证号 {mask_id(idn)} 在工种“{trade}”重复参训 {len(names)} 次"
                                     f"（{'、'.join(names)}）"))
    return out


_TABLE_RULES: dict[str, Callable[[Item, Any], Flagged]] = {
    "teachers": _rule_teachers, "admin_staff": _rule_admin, "finance_staff": _rule_finance,
    "class_hours": _rule_class_hours, "trainee_verification": _rule_trainees,
}
assert set(_TABLE_RULES) == set(RULES), "every declared rule needs an implementation"


def _judge_table(item: Item, v: Any) -> Judged:
    fn = _TABLE_RULES.get(item.rule or "")
    if fn is None:
        return UNANSWERED, f"未知规则 {item.rule!r}", ()
    try:
        flagged = fn(item, v)
    except _Incomplete as e:
        return UNANSWERED, str(e), ()
    if not flagged:
        return PASS, f"已登记 {len(v)} 行，符合要求", ()
    flags = tuple(dict.fromkeys(f for f, _ in flagged))
    return FAIL, _fill(item, "；".join(m for _, m in flagged)), flags


_JUDGES: dict[str, Callable[[Item, Any], Judged]] = {
    "check": _judge_check, "number": _judge_number,
    "count": lambda it, v: _judge_number(it, v, integer=True),
    "date": _judge_date, "choice": _judge_choice, "text": _judge_text, "table": _judge_table,
}


# -- public ---------------------------------------------------------------------------------
def _codes_for(item: Item, flags: tuple[str, ...], kind: str | None) -> tuple[str, ...]:
    fc = item.params.get("flag_codes") or {}
    if flags and fc:
        codes: tuple[str, ...] = tuple(dict.fromkeys(c for f in flags for c in (fc.get(f) or item.codes)))
    else:
        codes = item.codes
    prefix = _KIND_PREFIX.get(kind or "")
    if prefix:
        mine = tuple(c for c in codes if c.startswith(prefix))
        codes = mine or codes
    return codes


def _severity(codes: tuple[str, ...]) -> str | None:
    cat = catalogue()
    sev = [cat[c].severity for c in codes if c in cat]
    return max(sev, key=SEVERITY_RANK.__getitem__) if sev else None


def evaluate_item(item: Item, value: object, photos: int | None = None, *,
                  institution_kind: str | None = None) -> ItemResult:
    """One item's status and reason; never raises on a bad answer. ``photos`` None counts as none."""
    if value is None:
        return ItemResult(item.id, UNANSWERED, "未作答", (), None, item.basis, False)
    if value == NA:
        return ItemResult(item.id, NA, "不适用", (), None, item.basis, False)
    try:
        status, reason, flags = _JUDGES[item.type](item, value)
    except Exception as e:  # a judge bug must not take the GUI down: log it as a bug, say so
        # Judges report answers they cannot decide by returning UNANSWERED with a reason; an
        # exception here is a defect in the rules, logged at ERROR so tests and logs see it.
        logger.exception("judge for item %s (type %s) crashed on %r", item.id, item.type, value)
        status, reason, flags = UNANSWERED, f"无法判定（程序错误 {type(e).__name__}，已记入日志）", ()
    if status != FAIL:
        return ItemResult(item.id, status, reason, (), None, item.basis, False)
    codes = _codes_for(item, flags, institution_kind) if item.scope == "institution" else ()
    missing = item.photo_required and not photos
    return ItemResult(item.id, FAIL, reason, codes, _severity(codes), item.basis, missing)


def skip_reason(checklist: Checklist, item: Item, answers: dict[str, object]) -> str | None:
    """The checklist's ``when`` rule: why ``item`` is 不适用 given the answers, or None when it
    applies (also while the item it depends on is unanswered). Worded for the record: it names
    the question and the answer given, never internal ids."""
    w = item.when
    if not w:
        return None
    if "reason" in w:  # the jurisdiction profile's rule (visit_state.for_profile): not inspected there
        return str(w["reason"])
    got = answers.get(w["item"])
    if got is None or got == w["equals"]:
        return None
    try:
        target = checklist.item(w["item"])
        shown = {PASS: "符合", FAIL: "不符合", NA: "不适用"}.get(str(got), str(got)) if isinstance(got, str) else got
        return f"不适用（“{_label(target)}”为“{shown}”，本项仅在“{w['equals']}”时检查）"
    except Exception:  # noqa: BLE001 - a checklist without the target cannot load; keep a plain reason
        return f"不适用（仅在“{w['equals']}”时检查）"


def evaluate(checklist: Checklist, answers: dict[str, object], photo_counts: dict[str, int] | None = None,
             *, institution_kind: str | None = None) -> Evaluation:
    """Every item's result (in checklist order) and the draft findings of failed items.

    ``institution_kind`` (培训机构/评价机构) keeps only that kind's codes when an item
    names codes of both kinds (学员抽查核实 serves both)."""
    photos = photo_counts or {}
    results: list[ItemResult] = []
    findings: list[DraftFinding] = []
    for item in checklist.items:
        na_reason = skip_reason(checklist, item, answers)
        if na_reason:
            results.append(ItemResult(item.id, NA, na_reason, (), None, item.basis, False))
            continue
        r = evaluate_item(item, answers.get(item.id), photos.get(item.id, 0), institution_kind=institution_kind)
        results.append(r)
        if r.status == FAIL and r.codes and r.severity:
            findings.append(DraftFinding(item.id, r.codes, r.severity, _describe(r.reason), item.basis))
    return Evaluation(checklist.id, checklist.version, tuple(results), tuple(findings))


def _describe(reason: str) -> str:
    """A neutral statement of fact for the record: what was found, no penalty wording."""
    text = reason.strip()
    if text.startswith("未达到要求："):
        text = "经现场检查，未达到以下要求：" + text.removeprefix("未达到要求：")
    else:
        text = "经现场检查，" + text
    return text if text.endswith(("。", "！", "？")) else text.rstrip("；，,;") + "。"
