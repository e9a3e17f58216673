"""One core model of a visit's state, shared by the GUI, the CLI and the documents (no Qt).

- ``check_answer(item, raw)``: what an editor typed → a normalised, JSON-able answer, or
  the Chinese reason it is refused, or a plausibility question to confirm first.
- ``item_states`` / ``progress``: every item's status with the checklist's skip rules
  applied (a skipped item is 不适用 with the rule as the reason, never 未作答); progress
  counts only valid answers.
- ``visit_problems``: what stands between a draft and 完成检查并锁定 (DOMAIN: the record
  must be complete before it is locked); ``store.visits.finish_inspection`` refuses while
  the list is non-empty unless each line carries a recorded override reason.
- ``draft_findings`` (kind-aware codes) and ``institution_grade`` (the grade function the
  reports use) so ``ui/`` holds no domain logic.
"""
from __future__ import annotations

import datetime as _dt
import json
import logging
import math
import re
import unicodedata
from dataclasses import dataclass
from typing import Any

from inspector.forms import NA, Column, Item

logger = logging.getLogger(__name__)


# -- answers ---------------------------------------------------------------------------
@dataclass(frozen=True)
class AnswerCheck:
    """The outcome of checking one raw input against its item.

    ``value``: the normalised JSON-able answer (None = no answer / refused);
    ``problem``: why the raw input is refused (Chinese), None when accepted;
    ``confirm``: a plausibility question (Chinese) to ask before storing, None when plausible."""
    value: object | None
    problem: str | None = None
    confirm: str | None = None

    @property
    def ok(self) -> bool:
        return self.problem is None


# Plausible ranges by unit for number/count items whose checklist gives none (``plausible``
# in the item wins). Outside → the editor asks to confirm; never a refusal.
DEFAULT_PLAUSIBLE: dict[str, tuple[float, float]] = {
    "㎡": (10, 100_000), "平方米": (10, 100_000),
    "名": (0, 10_000), "人": (0, 10_000),
    "年": (0, 100), "元": (0, 100_000_000), "课时": (0, 10_000),
}
_NA_WORDS = {NA, "不适用", "n/a", "N/A"}
_PASS_WORDS = {"pass", "符合", "是", "有", "yes", "y", "true", "√", "✓"}
_FAIL_WORDS = {"fail", "不符合", "否", "无", "no", "n", "false", "×", "✗"}
_YES = {"是", "有", "yes", "y", "true", "1", "√", "✓", "对"}
_NO = {"否", "无", "没有", "no", "n", "false", "0", "×", "✗", "不"}
_NUM_RE = re.compile(r"^[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?$")
_DATE_RES = (
    re.compile(r"^(\d{4})(\d{2})(\d{2})$"),
    re.compile(r"^(\d{4})\s*[-/.]\s*(\d{1,2})\s*[-/.]\s*(\d{1,2})$"),
    re.compile(r"^(\d{4})\s*年\s*(\d{1,2})\s*月\s*(\d{1,2})\s*日?$"),
)
_SPLIT_RE = re.compile(r"[,，、;；\n]+")
MAX_TEXT = 20_000


def _nfkc(s: str) -> str:
    """Full-width digits and punctuation → ASCII (an IME often types ２０２７／１２／３１)."""
    return unicodedata.normalize("NFKC", s).strip()


def _label(item: Item) -> str:
    return str(item.params.get("label") or item.text)


def _shown(raw: object) -> str:
    s = raw if isinstance(raw, str) else repr(raw)
    return s if len(s) <= 40 else s[:40] + "…"


def fmt_amount(v: float) -> str:
    """1000000 → '1,000,000'; 0.5 → '0.5' (the confirmation question's figure)."""
    if isinstance(v, float) and v.is_integer():
        v = int(v)
    if isinstance(v, int):
        return f"{v:,}"
    return f"{v:,.6f}".rstrip("0").rstrip(".")


def parse_number(raw: object, *, unit: str | None = None, what: str = "") -> tuple[float | int | None, str | None]:
    """A finite number from user input, or (None, reason). Unit and thousands separators stripped."""
    if isinstance(raw, bool):
        return None, f"{what}“{_shown(raw)}”不是数字"
    if isinstance(raw, (int, float)):
        v: float | int = raw
    elif isinstance(raw, str):
        s = _nfkc(raw)
        for u in {unit, _nfkc(unit)} if unit else ():
            if u and s.endswith(u):
                s = s[: -len(u)].strip()
        s = s.replace(",", "").replace(" ", "")
        if not _NUM_RE.match(s):
            return None, f"{what}“{_shown(raw)}”不是数字（只能填写数字{('，单位 ' + unit) if unit else ''}）"
        v = float(s) if any(c in s for c in ".eE") else int(s)
    else:
        return None, f"{what}“{_shown(raw)}”不是数字"
    if isinstance(v, float):
        if not math.isfinite(v):
            return None, f"{what}“{_shown(raw)}”不是有效数字（不能为 NaN 或无穷大）"
        if v.is_integer() and abs(v) < 2**53:
            v = int(v)
    return v, None


def parse_date(raw: object, *, what: str = "") -> tuple[str | None, str | None]:
    """'2027-12-31', '20271231', '2027/12/31', '2027.12.31', '2027年12月31日' → '2027-12-31'."""
    if isinstance(raw, _dt.datetime):
        raw = raw.date()
    if isinstance(raw, _dt.date):
        return raw.isoformat(), None
    if not isinstance(raw, str):
        return None, f"{what}“{_shown(raw)}”不是日期（格式：2027-12-31 或 20271231）"
    s = _nfkc(raw)
    for rx in _DATE_RES:
        m = rx.match(s)
        if m:
            try:
                d = _dt.date(int(m.group(1)), int(m.group(2)), int(m.group(3)))
            except ValueError:
                return None, f"{what}“{_shown(raw)}”不是有效日期（没有这一天）"
            if not 1900 <= d.year <= 2199:
                return None, f"{what}“{_shown(raw)}”年份不合理"
            return d.isoformat(), None
    return None, f"{what}“{_shown(raw)}”不是日期（格式：2027-12-31、20271231 或 2027年12月31日）"


def parse_bool(raw: object, *, what: str = "") -> tuple[bool | None, str | None]:
    if isinstance(raw, bool):
        return raw, None
    if isinstance(raw, int) and raw in (0, 1):
        return bool(raw), None
    if isinstance(raw, str):
        s = _nfkc(raw).lower()
        if s in _YES:
            return True, None
        if s in _NO:
            return False, None
    return None, f"{what}“{_shown(raw)}”应为 是 或 否"


def _plausible(item: Item) -> tuple[float, float] | None:
    if item.plausible:
        return item.plausible
    return DEFAULT_PLAUSIBLE.get(item.unit or "")


def _check_number(item: Item, raw: object) -> AnswerCheck:
    v, why = parse_number(raw, unit=item.unit)
    if why:
        return AnswerCheck(None, why)
    assert v is not None
    if v < 0:
        return AnswerCheck(None, f"“{_shown(raw)}”不能为负数")
    if item.type == "count" and not isinstance(v, int):
        return AnswerCheck(None, f"“{_shown(raw)}”应为整数")
    rng = _plausible(item)
    confirm = None
    if rng and not (rng[0] <= v <= rng[1]):
        unit = f" {item.unit}" if item.unit else ""
        confirm = f"确认{_label(item)} {fmt_amount(v)}{unit}？（通常在 {fmt_amount(rng[0])}～{fmt_amount(rng[1])}{unit} 之间）"
    return AnswerCheck(v, None, confirm)


def _check_check(item: Item, raw: object) -> AnswerCheck:
    if raw is True:
        return AnswerCheck("pass")
    if raw is False:
        return AnswerCheck("fail")
    if isinstance(raw, str):
        s = _nfkc(raw).lower()
        if s in _PASS_WORDS:
            return AnswerCheck("pass")
        if s in _FAIL_WORDS:
            return AnswerCheck("fail")
    return AnswerCheck(None, f"“{_shown(raw)}”应为 符合、不符合 或 不适用")


def _multi_values(raw: object) -> list[object] | None:
    if isinstance(raw, (list, tuple, set, frozenset)):
        return list(raw)
    if isinstance(raw, str):
        s = raw.strip()
        if s.startswith("["):
            try:
                got = json.loads(s)
            except ValueError:
                return None
            return got if isinstance(got, list) else None
        return [p.strip() for p in _SPLIT_RE.split(s) if p.strip()]
    return None


def _check_choice(item: Item, raw: object) -> AnswerCheck:
    opts = "、".join(item.choices)
    # compared in NFKC on both sides, saved as the checklist spells it: 题（卷）库管理 stays full-width
    spelt = {_nfkc(c): c for c in item.choices}
    if item.params.get("multiple"):
        vals = _multi_values(raw)
        if vals is None:
            return AnswerCheck(None, f"“{_shown(raw)}”应为选项列表（可选：{opts}）")
        picked = []
        for x in vals:
            s = spelt.get(_nfkc(x)) if isinstance(x, str) else None
            if s is None:
                return AnswerCheck(None, f"“{_shown(x)}”不是可选项（可选：{opts}）")
            picked.append(s)
        return AnswerCheck([c for c in item.choices if c in picked])  # checklist order, no duplicates
    if isinstance(raw, (list, tuple)) and len(raw) == 1:
        raw = raw[0]
    s = spelt.get(_nfkc(raw)) if isinstance(raw, str) else None
    if s is None:
        return AnswerCheck(None, f"“{_shown(raw)}”不是可选项（可选：{opts}）")
    return AnswerCheck(s)


def _check_text(item: Item, raw: object) -> AnswerCheck:
    if not isinstance(raw, str):
        return AnswerCheck(None, f"“{_shown(raw)}”不是文字")
    s = raw.strip()
    if len(s) > MAX_TEXT:
        return AnswerCheck(None, f"文字过长（{len(s)} 字，最多 {MAX_TEXT} 字）")
    return AnswerCheck(s or None)


def check_cell(col: Column, raw: object, *, where: str = "") -> AnswerCheck:
    """One table cell by its column type; blank → None (the rules say which cells are required)."""
    if raw is None or (isinstance(raw, str) and not raw.strip()):
        return AnswerCheck(None)
    what = f"{where}“{col.label}”："
    if col.type == "number":
        v, why = parse_number(raw, what=what)
        if why:
            return AnswerCheck(None, why)
        assert v is not None
        if v < 0:
            return AnswerCheck(None, f"{what}“{_shown(raw)}”不能为负数")
        return AnswerCheck(v)
    if col.type == "bool":
        b, why = parse_bool(raw, what=what)
        return AnswerCheck(b, why)
    if col.type == "date":
        d, why = parse_date(raw, what=what)
        return AnswerCheck(d, why)
    if col.type == "choice":
        s = {_nfkc(c): c for c in col.choices}.get(_nfkc(raw)) if isinstance(raw, str) else None
        if s is None:
            return AnswerCheck(None, f"{what}“{_shown(raw)}”不是可选项（可选：{'、'.join(col.choices)}）")
        return AnswerCheck(s)
    if not isinstance(raw, str):  # text
        if isinstance(raw, (int, float)) and not isinstance(raw, bool) and math.isfinite(raw):
            return AnswerCheck(str(raw))
        return AnswerCheck(None, f"{what}“{_shown(raw)}”不是文字")
    s = raw.strip()
    return AnswerCheck(raw if s == raw else s)  # the same object: a masked cell keeps its sealed original (pii.py)


def _check_table(item: Item, raw: object) -> AnswerCheck:
    if isinstance(raw, str):
        try:
            raw = json.loads(raw)
        except ValueError:
            return AnswerCheck(None, "表格应为行的列表（JSON 数组）")
    if not isinstance(raw, list):
        return AnswerCheck(None, f"表格应为行的列表，得到 {type(raw).__name__}")
    by_key: dict[str, Column] = {}
    for c in item.columns:
        by_key[c.id] = c
        by_key.setdefault(c.label, c)
    rows: list[dict[str, Any]] = []
    for i, r in enumerate(raw, 1):
        where = f"第{i}行"
        if not isinstance(r, dict):
            return AnswerCheck(None, f"{where}应为按列填写的对象")
        clean: dict[str, Any] = {c.id: None for c in item.columns}
        for k, v in r.items():
            col = by_key.get(str(k))
            if col is None:
                return AnswerCheck(None, f"{where}：没有“{k}”这一列（列：{'、'.join(c.label for c in item.columns)}）")
            got = check_cell(col, v, where=where)
            if got.problem:
                return AnswerCheck(None, got.problem)
            clean[col.id] = got.value
        if any(v is not None for v in clean.values()):  # a wholly blank row is dropped
            rows.append(clean)
    return AnswerCheck(rows)


_CHECKERS = {"check": _check_check, "number": _check_number, "count": _check_number,
             "date": None, "choice": _check_choice, "text": _check_text, "table": _check_table}


def check_answer(item: Item, raw: object) -> AnswerCheck:
    """Validate and normalise what was typed/picked for ``item``; never raises on bad input.

    None, "" → no answer; "na"/"不适用" → "na" for every type. The result's ``value`` is what
    ``visits.set_answer`` stores; ``check_answer(item, v.value)`` gives ``v.value`` back."""
    if raw is None or (isinstance(raw, str) and not raw.strip()):
        return AnswerCheck(None)
    if isinstance(raw, str) and _nfkc(raw) in _NA_WORDS and item.type != "text":
        return AnswerCheck(NA)
    if item.type == "date":
        d, why = parse_date(raw)
        return AnswerCheck(d, why)
    fn = _CHECKERS.get(item.type)
    if fn is None:
        return AnswerCheck(None, f"未知的检查项类型 {item.type}")
    try:
        return fn(item, raw)
    except Exception as e:  # a checker bug must not take an editor down: refuse, say why, log it
        logger.exception("check_answer failed for %s", item.id)
        return AnswerCheck(None, f"无法校验该答案（{type(e).__name__}）")


# -- item states and progress ---------------------------------------------------------------
@dataclass(frozen=True)
class ItemState:
    """One item of one checklist version as the visit stands."""
    checklist_version_id: str
    item: Item
    number: str            # "3.1": section number . item number, as the GUI shows it
    value: object | None   # the stored answer
    status: str            # pass | fail | na | unanswered (rules.STATUSES)
    reason: str            # the rules engine's reason (or the skip rule)
    skipped: bool          # 不适用 because of the checklist's ``when`` rule
    invalid: str | None    # the stored answer is there but not valid: why
    missing_photo: bool    # failed, photo_required, no photo
    codes: tuple[str, ...]
    severity: str | None

    @property
    def answered(self) -> bool:
        """Counts as answered in the progress figure: a valid answer, or skipped by a rule."""
        return self.status != "unanswered"


@dataclass(frozen=True)
class Progress:
    answered: int
    total: int
    failed: int

    @property
    def text(self) -> str:
        return f"{self.answered}/{self.total}"


def item_states(checklist: Any, answers: dict[str, object], photo_counts: dict[str, int] | None = None, *,
                checklist_version_id: str | None = None, institution_kind: str | None = None) -> list[ItemState]:
    """Every item in checklist order, with skip rules applied (rules.evaluate does the judging)."""
    from inspector import rules

    photos = photo_counts or {}
    ev = rules.evaluate(checklist, answers, photos, institution_kind=institution_kind)
    by_id = {r.item_id: r for r in ev.results}
    out: list[ItemState] = []
    cv = checklist_version_id or checklist.version_id
    for sn, sec in enumerate(checklist.sections, 1):
        for k, item in enumerate(sec.items, 1):
            r = by_id[item.id]
            value = answers.get(item.id)
            skipped = rules.skip_reason(checklist, item, answers) is not None
            invalid = None
            if value is not None and not skipped:
                got = check_answer(item, value)  # stored before validation existed, or edited by hand
                if got.problem:
                    invalid = got.problem
                elif r.status == "unanswered" and item.type != "table":  # a shape the rules cannot judge
                    invalid = r.reason.removeprefix("答案无效：")
                # a table the rules call incomplete stays 未作答 with their reason (which rows, which cells)
            out.append(ItemState(cv, item, f"{sn}.{k}", value, "unanswered" if invalid else r.status, r.reason,
                                 skipped, invalid, r.missing_photo, r.codes, r.severity))
    return out


def progress(states: list[ItemState], section_id: str | None = None) -> Progress:
    """Answered / total / failed over valid answers only (an invalid or partial answer is not answered)."""
    sel = [s for s in states if section_id is None or s.item.section_id == section_id]
    return Progress(sum(1 for s in sel if s.answered), len(sel), sum(1 for s in sel if s.status == "fail"))


def photo_counts(store: Any, inspection_id: str) -> dict[str, int]:
    from inspector.store import photos

    return photos.photo_counts(store, inspection_id)


def institution_kind(store: Any, inspection_id: str) -> str | None:
    from inspector.store import visits

    insp = visits.get_inspection(store, inspection_id)
    return store.scalar("SELECT kind FROM institutions WHERE id = ?", (insp.institution_id,))


def for_profile(checklist: Any, profile: Any) -> Any:
    """The checklist as inspected under a jurisdiction profile: an item whose basis the profile has
    no provision for (``Profile.not_applicable``, [applicability] in forms/profiles/*.toml) gets the
    profile's skip rule, so it is 不适用 with the reason everywhere the checklist's own ``when`` rules
    already reach (rules.evaluate, item_states, the GUI rows, the record) and never a finding.
    The stored checklist version (its text and hash) is unchanged."""
    import dataclasses

    from inspector.forms import Section

    if profile is None:
        return checklist
    changed = False
    sections = []
    for sec in checklist.sections:
        items = []
        for it in sec.items:
            why = profile.not_applicable(it.basis)
            if why:
                it = dataclasses.replace(it, when={"profile": profile.ref, "reason": why})
                changed = True
            items.append(it)
        sections.append(Section(sec.id, sec.title, tuple(items)))
    if not changed:
        return checklist
    index = {it.id: it for s in sections for it in s.items}
    return dataclasses.replace(checklist, sections=tuple(sections), _index=index)


def load_checklist(store: Any, version_id: str) -> Any:
    """One stored checklist version as inspected under the laptop's jurisdiction profile."""
    from inspector import profiles
    from inspector.store import checklists

    return for_profile(checklists.load_version(store, version_id), profiles.active(store))


def load_checklists(store: Any, inspection_id: str) -> tuple[dict[str, Any], dict[str, str]]:
    """{cv: Checklist} of the inspection (under the laptop's profile: ``for_profile``), and {cv: why
    it cannot be loaded}."""
    from inspector.store import visits

    insp = visits.get_inspection(store, inspection_id)
    ok: dict[str, Any] = {}
    bad: dict[str, str] = {}
    for cv in insp.checklist_version_ids:
        try:
            ok[cv] = load_checklist(store, cv)
        except Exception as e:  # noqa: BLE001 - reported as a problem of the visit, never a crash
            logger.warning("checklist %s of %s cannot be loaded: %s", cv, inspection_id, e)
            bad[cv] = str(e)
    return ok, bad


def visit_states(store: Any, inspection_id: str) -> dict[str, list[ItemState]]:
    """{checklist_version_id: [ItemState]} for one inspection as stored."""
    from inspector.store import visits

    cls, _bad = load_checklists(store, inspection_id)
    answers = visits.get_answers(store, inspection_id)
    counts = photo_counts(store, inspection_id)
    kind = institution_kind(store, inspection_id)
    return {cv: item_states(cl, answers.get(cv, {}), counts, checklist_version_id=cv, institution_kind=kind)
            for cv, cl in cls.items()}


# -- what stands between a draft and 完成检查并锁定 -------------------------------------------------
@dataclass(frozen=True)
class Problem:
    """One line of the finish check. ``key`` is stable (an override names it); ``page`` is where
    to jump ('start', 'sec:<cv>:<section>', 'findings', 'sign')."""
    kind: str
    key: str
    message: str
    page: str
    checklist_version_id: str | None = None
    item_id: str | None = None
    finding_id: str | None = None

    def as_dict(self) -> dict[str, Any]:
        return {"kind": self.kind, "key": self.key, "message": self.message, "page": self.page,
                "checklist_version_id": self.checklist_version_id, "item_id": self.item_id,
                "finding_id": self.finding_id}


PROBLEM_KINDS = {
    "checklist": "检查表", "unanswered": "未作答", "invalid": "答案无效", "photo": "缺照片",
    "no_finding": "不符合项未列为问题", "finding_code": "问题缺失信代码", "finding_action": "问题缺整改要求",
    "finding_deadline": "问题缺整改期限", "inspectors": "检查人员", "ids_shown": "出示证件",
    "rights": "权利告知", "signature": "签名", "refusal": "拒签", "result": "检查结果",
    "order": "笔录阅读与签名顺序",
}


def _item_label(s: ItemState) -> str:
    text = s.item.text if len(s.item.text) <= 30 else s.item.text[:30] + "…"
    return f"{s.number} {text}"


def visit_problems(store: Any, inspection_id: str) -> list[Problem]:
    """Everything missing or wrong before the visit may be finished (empty = may finish)."""
    from inspector.store import visits

    insp = visits.get_inspection(store, inspection_id)
    out: list[Problem] = []
    add = out.append
    # 开始检查: two inspectors, IDs shown, rights explained
    if len(insp.inspector_ids) < 2:
        add(Problem("inspectors", "inspectors", "检查人员不少于 2 名：请在“开始检查”中勾选检查人员", "start"))
    if not insp.ids_shown:
        add(Problem("ids_shown", "ids_shown", "未记录出示执法证件", "start"))
    if not insp.rights_explained:
        add(Problem("rights", "rights", "未记录告知权利（陈述、申辩和申请回避的权利）", "start"))
    # checklists, item by item
    cls, bad = load_checklists(store, inspection_id)
    if not insp.checklist_version_ids:
        add(Problem("checklist", "checklist", "未选择检查表", "start"))
    for cv, why in bad.items():
        add(Problem("checklist", f"checklist:{cv}", f"检查表 {cv} 无法载入：{why}", "start", cv))
    answers = visits.get_answers(store, inspection_id)
    counts = photo_counts(store, inspection_id)
    kind = store.scalar("SELECT kind FROM institutions WHERE id = ?", (insp.institution_id,))
    findings = visits.list_findings(store, inspection_id)
    found_items = {(f.checklist_version_id, f.item_id) for f in findings}
    failed_with_codes = 0
    for cv, cl in cls.items():
        for s in item_states(cl, answers.get(cv, {}), counts, checklist_version_id=cv, institution_kind=kind):
            page, iid = f"sec:{cv}:{s.item.section_id}", s.item.id
            if s.invalid:
                add(Problem("invalid", f"invalid:{cv}:{iid}", f"{_item_label(s)}：答案无效（{s.invalid}）",
                            page, cv, iid))
            elif s.status == "unanswered" and s.value is not None:
                add(Problem("unanswered", f"unanswered:{cv}:{iid}", f"{_item_label(s)}：未填写完整（{s.reason}）",
                            page, cv, iid))
            elif s.status == "unanswered":
                add(Problem("unanswered", f"unanswered:{cv}:{iid}", f"{_item_label(s)}：未作答", page, cv, iid))
            if s.status == "fail" and s.missing_photo:
                add(Problem("photo", f"photo:{cv}:{iid}", f"{_item_label(s)}：不符合，须附照片证据", page, cv, iid))
            if s.status == "fail" and s.codes:
                failed_with_codes += 1
                if (cv, iid) not in found_items:
                    add(Problem("no_finding", f"no_finding:{cv}:{iid}",
                                f"{_item_label(s)}：不符合，尚未列入“问题与整改”（请点“从不符合项生成问题”）",
                                "findings", cv, iid))
    # findings: code, 整改要求, 整改期限
    for n, f in enumerate(findings, 1):
        what = f"问题 {n}（{f.description[:20]}{'…' if len(f.description) > 20 else ''}）"
        if not f.codes:
            add(Problem("finding_code", f"finding_code:{f.id}", f"{what}：缺失信行为代码", "findings", finding_id=f.id))
        if not (f.required_action or "").strip():
            add(Problem("finding_action", f"finding_action:{f.id}", f"{what}：缺整改要求", "findings",
                        finding_id=f.id))
        if not f.deadline:
            add(Problem("finding_deadline", f"finding_deadline:{f.id}", f"{what}：缺整改期限", "findings",
                        finding_id=f.id))
    # 检查结果 consistent with the findings
    serious = [f for f in findings if f.severity == "严重"]
    rc = insp.result_category
    if rc is None:
        add(Problem("result", "result", "未选择检查结果", "findings"))
    elif rc == "未发现问题" and (findings or failed_with_codes):
        worst = "严重问题" if serious else "问题"
        add(Problem("result", "result",
                    f"检查结果为“未发现问题”，但记录了 {len(findings) or failed_with_codes} 个{worst}", "findings"))
    elif rc == "发现问题已责令改正" and not findings:
        add(Problem("result", "result", "检查结果为“发现问题已责令改正”，但没有记录任何问题", "findings"))
    # signatures: both inspectors; the person in charge, or a refusal with reason and witness
    out.extend(_signature_problems(store, inspection_id))
    # the order of the visit: preview → read page by page → party signs/refuses → inspectors sign
    from inspector import visit_order

    out.extend(visit_order.order_problems(store, inspection_id))
    return out


def _signature_problems(store: Any, inspection_id: str) -> list[Problem]:
    from inspector.store import documents

    sigs = documents.signatures(store, inspection_id)
    out: list[Problem] = []
    for role, who in (("inspector1", "检查人员（一）"), ("inspector2", "检查人员（二）")):
        s = sigs.get(role)
        if not s or s.get("refused") or not (s.get("png_sha256") or s.get("strokes")):
            out.append(Problem("signature", f"signature:{role}", f"{who}尚未签名", "sign"))
    pic = sigs.get("person_in_charge")
    if not pic:
        out.append(Problem("signature", "signature:person_in_charge",
                           "被检查单位负责人尚未签名（拒绝签名的，须记录原因并由见证人签名）", "sign"))
    elif pic.get("refused"):
        if not (pic.get("refusal_reason") or "").strip():
            out.append(Problem("refusal", "refusal:reason", "被检查单位负责人拒绝签名，未写明原因", "sign"))
        w = sigs.get("witness")
        if not w or w.get("refused") or not (w.get("png_sha256") or w.get("strokes")) \
                or not (w.get("signer_name") or "").strip():
            out.append(Problem("refusal", "refusal:witness", "被检查单位负责人拒绝签名，缺见证人姓名和签名", "sign"))
    elif not (pic.get("png_sha256") or pic.get("strokes")):
        out.append(Problem("signature", "signature:person_in_charge", "被检查单位负责人尚未签名", "sign"))
    return out


# -- findings drafted from failed items, for the institution's kind only -------------------------
def draft_findings(store: Any, inspection_id: str, *, deadline: str | None = None) -> list[dict[str, Any]]:
    """add_finding keyword sets for failed items that have no finding yet (codes of the
    institution's kind only: a 培训机构 gets PX-…, an 评价机构 PJ-…)."""
    from inspector import rules
    from inspector.store import visits

    cls, _bad = load_checklists(store, inspection_id)
    answers = visits.get_answers(store, inspection_id)
    counts = photo_counts(store, inspection_id)
    kind = institution_kind(store, inspection_id)
    existing = {(f.checklist_version_id, f.item_id) for f in visits.list_findings(store, inspection_id)}
    out: list[dict[str, Any]] = []
    for cv, cl in cls.items():
        ev = rules.evaluate(cl, answers.get(cv, {}), counts, institution_kind=kind)
        for d in ev.findings:
            if (cv, d.item_id) in existing:
                continue
            out.append({"description": d.description, "codes": list(d.codes), "severity": d.severity,
                        "checklist_version_id": cv, "item_id": d.item_id, "basis": d.basis,
                        **({"deadline": deadline} if deadline else {})})
    return out


# -- the credit grade, as the reports compute it ---------------------------------------------------
def institution_grade(store: Any, institution_id: str, year: int | None = None) -> Any:
    """The proposed grade (``inspector.reports.credit.propose``) over this store's finished
    inspections of ``year`` (default: this year) — the same function the reports use."""
    from inspector.reports import credit
    from inspector.store import visits

    year = year or _dt.date.today().year
    insps = visits.list_inspections(store, institution_id=institution_id)
    replaced = {i.replaces_id for i in insps if i.replaces_id}
    rows = [{"id": i.id, "institution_id": i.institution_id, "status": i.status, "started_at": i.started_at,
             "superseded_by": "yes" if i.id in replaced else None} for i in insps]
    findings = [{"id": f.id, "inspection_id": f.inspection_id, "codes": f.codes, "description": f.description}
                for i in insps for f in visits.list_findings(store, i.id)]
    rects = visits.list_rectifications(store, institution_id=institution_id)
    found = credit.findings_for_year(institution_id, year, rows, findings, rects)
    return credit.propose(institution_id, year, found)
