"""Checklists (forms/*.toml): the strict loader and the model others code against.

A checklist is data that HQ authors and versions; an inspection keeps the exact
version it used. Loading is strict in the pyHanko style: every unknown key, bad
type, duplicate id, missing basis, unknown catalogue code, bad threshold and rule
that names a missing column is collected, and ``FormError.problems`` holds one
``file: item X: message`` line per problem across all files.

Answer values (stored as JSON; the contract the store, GUI and rules share):
check → "pass" | "fail" | "na" (符合/不符合/不适用); number → JSON number;
count → int; date → "YYYY-MM-DD"; choice → one of ``choices`` (a list of them
when ``params.multiple``); text → str; table → list of row objects keyed by
column id. Any item may be answered "na".
"""
from __future__ import annotations

import datetime as _dt
import difflib
import os
import re
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable

from inspector import paths as _paths
from inspector.errors import FormError
from inspector.util import sha256_hex

ITEM_TYPES = ("check", "number", "count", "date", "choice", "text", "table")
COLUMN_TYPES = ("text", "number", "choice", "bool", "date")
CHECKLIST_KINDS = ("培训机构", "评价机构", "考场", "学员")
THRESHOLD_OPS = (">=", ">", "<=", "<", "==")
CHECK_VALUES = ("pass", "fail", "na")
NA = "na"
# Which catalogue prefixes a checklist of each kind may cite.
KIND_PREFIXES = {"培训机构": ("PX",), "评价机构": ("PJ",), "考场": ("PJ",), "学员": ("PX", "PJ")}

# Ordered ladders the teacher rule ranks (a form's choices must come from these).
DEGREES = ("初中及以下", "高中", "中专", "大专", "本科", "硕士研究生", "博士研究生")
TITLES = ("初级职称", "中级职称", "副高级职称", "正高级职称")
CERTS = ("五级/初级工", "四级/中级工", "三级/高级工", "二级/技师", "一级/高级技师")
QUALS = ("无",) + TITLES + CERTS

_ID_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")
_VERSION_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.+-]*$")
_DATE_REL_RE = re.compile(r"^today(?:([+-])(\d+))?$")


@dataclass(frozen=True)
class RuleSpec:
    """What a computed table rule needs: columns (type, allowed choices, required choices), params, flags."""
    columns: dict[str, tuple[str, tuple[str, ...] | None, tuple[str, ...]]]
    params: dict[str, tuple[type, Any]]
    flags: tuple[str, ...]
    doc: str


_SHARE = float  # params that are shares are checked to lie in (0, 1]
RULES: dict[str, RuleSpec] = {
    "teachers": RuleSpec(
        columns={
            "name": ("text", None, ()), "trade": ("text", None, ()),
            "role": ("choice", ("理论", "实训"), ("理论", "实训")),
            "degree": ("choice", DEGREES, ()), "qual": ("choice", QUALS, ()),
            "relevant_bachelor": ("bool", None, ()), "years": ("number", None, ()),
            "teacher_cert": ("bool", None, ()), "contract": ("bool", None, ()),
        },
        params={"min_theory": (int, 2), "min_practical": (int, 2), "min_years": (float, 2)},
        flags=("too_few", "unqualified", "no_contract"),
        doc="每工种理论/实训教师人数；教师学历、职称或职业资格（相关专业本科可放宽至初级）、教龄、教师资格证；聘任协议",
    ),
    "admin_staff": RuleSpec(
        columns={"name": ("text", None, ()), "position": ("choice", None, ("校长", "行政管理人员")),
                 "full_time": ("bool", None, ())},
        params={"min_admin": (int, 3)},
        flags=("no_principal", "too_few_admin"),
        doc="专职校长；专职行政管理人员人数",
    ),
    "finance_staff": RuleSpec(
        columns={"name": ("text", None, ()), "accounting_cert": ("bool", None, ())},
        params={"min_finance": (int, 2)},
        flags=("too_few", "uncertified"),
        doc="具有财会人员资格证书的财务管理人员人数",
    ),
    "class_hours": RuleSpec(
        columns={"label": ("text", None, ()), "total": ("number", None, ()), "attended": ("number", None, ()),
                 "online": ("number", None, ()), "max_online_day": ("number", None, ())},
        params={"min_attendance": (_SHARE, 0.95), "max_online_share": (_SHARE, 0.40),
                "max_online_per_day": (float, 8)},
        flags=("attendance", "online_share", "online_day"),
        doc="结业考试前完成课时比例；线上课时占比；单日线上课时",
    ),
    "trainee_verification": RuleSpec(
        columns={"name": ("text", None, ()), "id_no": ("text", None, ()), "trade": ("text", None, ()),
                 "method": ("choice", ("电话", "实地"), ()), "reached": ("bool", None, ()),
                 "confirms_attending": ("bool", None, ()), "hours": ("number", None, ()),
                 "hours_recorded": ("number", None, ()), "exam": ("bool", None, ()),
                 "certificate": ("bool", None, ()), "subsidised": ("bool", None, ()),
                 "extra_fees": ("number", None, ())},
        params={"max_unreached_share": (_SHARE, 0.30), "min_hours_share": (_SHARE, 0.95)},
        flags=("unreached", "denied", "hours_short", "cert_without_exam", "extra_fees", "duplicate"),
        doc="无法联系比例；否认参训；课时不符；未参加考试却持证；补贴性培训另收费；同一人同一工种重复参训",
    ),
}

# params every item may have, and per type (table params also come from its rule).
_COMMON_PARAMS: dict[str, tuple[type, Any]] = {"scope": (str, "institution")}
_TYPE_PARAMS: dict[str, dict[str, tuple[type, Any]]] = {
    "check": {}, "number": {"label": (str, "")}, "count": {"label": (str, "")},
    "date": {"label": (str, "")}, "text": {},
    "choice": {"multiple": (bool, False), "require_all": (bool, False), "fail_on": (list, []),
               "label": (str, "")},
    "table": {"flag_codes": (dict, {})},
}
_ITEM_KEYS = ("id", "text", "type", "basis", "codes", "photo_required", "unit", "threshold", "choices",
              "columns", "rule", "params", "help", "fail_text", "when", "plausible")
_TOP_KEYS = ("id", "version", "title", "kind", "basis", "sections", "description")
_SECTION_KEYS = ("id", "title", "items")
_COLUMN_KEYS = ("id", "label", "type", "choices")


@dataclass(frozen=True)
class Column:
    id: str
    label: str
    type: str  # text / number / choice / bool / date
    choices: tuple[str, ...] = ()


@dataclass(frozen=True)
class Item:
    id: str
    text: str
    type: str  # check | number | count | date | choice | text | table
    section_id: str
    basis: str
    codes: tuple[str, ...]
    photo_required: bool
    unit: str | None
    threshold: dict | None  # {"op": ">=", "value": 300}; dates: "today", "today-365", "YYYY-MM-DD"
    choices: tuple[str, ...]
    columns: tuple[Column, ...]
    rule: str | None  # computed rule for tables (see RULES)
    params: dict
    help: str | None
    fail_text: str | None  # template: {value} {limit} {unit} {label} {missing} {text} {detail}
    when: dict | None = None  # {"item": "T-6-2", "equals": "是"}: applies only then (else 不适用); a
    # jurisdiction profile adds {"profile": ref, "reason": …} to an item it does not inspect (visit_state.for_profile)
    plausible: tuple[float, float] | None = None  # number/count: outside → the editor asks to confirm

    @property
    def scope(self) -> str:
        """"institution" items can become findings; "department" ones (人社部门的职责) cannot."""
        return str(self.params.get("scope", "institution"))

    def param(self, name: str) -> Any:
        """A param with its documented default filled in."""
        if name in self.params:
            return self.params[name]
        for spec in (_COMMON_PARAMS, _TYPE_PARAMS.get(self.type, {}),
                     RULES[self.rule].params if self.rule in RULES else {}):
            if name in spec:
                return spec[name][1]
        raise KeyError(name)


@dataclass(frozen=True)
class Section:
    id: str
    title: str
    items: tuple[Item, ...]


@dataclass(frozen=True)
class Checklist:
    id: str
    version: str
    title: str
    kind: str  # 培训机构 / 评价机构 / 考场 / 学员
    basis: str
    sections: tuple[Section, ...]
    source: str
    sha256: str
    path: str
    _index: dict = field(default_factory=dict, repr=False, compare=False)

    @property
    def version_id(self) -> str:
        return f"{self.id}@{self.version}"

    @property
    def items(self) -> tuple[Item, ...]:
        return tuple(it for s in self.sections for it in s.items)

    def item(self, id: str) -> Item:
        try:
            return self._index[id]
        except KeyError:
            raise FormError(f"{self.path}: no item '{id}' in checklist {self.version_id}") from None


# -- helpers used by the rules engine too ---------------------------------------
def resolve_date(spec: str, today: _dt.date | None = None) -> _dt.date:
    """A threshold date: 'today', 'today-365', 'today+30' or 'YYYY-MM-DD'."""
    m = _DATE_REL_RE.match(spec)
    if m:
        base = today or _dt.date.today()
        days = int(m.group(2) or 0)
        return base - _dt.timedelta(days=days) if m.group(1) == "-" else base + _dt.timedelta(days=days)
    return _dt.date.fromisoformat(spec)


def _is_number(v: Any) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool)


def display_path(path: str | os.PathLike[str]) -> str:
    """Shipped checklists are shown by their source name (forms/training.toml), others as given."""
    p = Path(path)
    try:
        rel = p.resolve().relative_to(_paths.package_dir("inspector.assets.forms").resolve())
    except ValueError:
        return str(path)
    return str(Path("forms") / rel) if rel.parts else "forms"


# -- parsing ----------------------------------------------------------------------
class _Collector:
    def __init__(self, filename: str):
        self.filename = filename
        self.problems: list[str] = []

    def add(self, where: str | None, msg: str) -> None:
        self.problems.append(f"{self.filename}: {where}: {msg}" if where else f"{self.filename}: {msg}")

    def keys(self, where: str | None, obj: dict, allowed: Iterable[str]) -> None:
        allowed = tuple(allowed)
        for k in obj:
            if k not in allowed:
                self.add(where, f"unknown key '{k}'")

    def get(self, where: str | None, obj: dict, key: str, typ: type | tuple, required: bool = True,
            default: Any = None) -> Any:
        if key not in obj:
            if required:
                self.add(where, f"missing key '{key}'")
            return default
        v = obj[key]
        if isinstance(v, bool) and typ is not bool and bool not in (typ if isinstance(typ, tuple) else (typ,)):
            self.add(where, f"'{key}' must be {_tname(typ)}, not a boolean")
            return default
        if not isinstance(v, typ):
            self.add(where, f"'{key}' must be {_tname(typ)}, got {type(v).__name__} {v!r}")
            return default
        if isinstance(v, str) and required and not v.strip():
            self.add(where, f"'{key}' must not be empty")
            return default
        return v


def _tname(typ: type | tuple) -> str:
    names = {str: "a string", int: "an integer", float: "a number", bool: "a boolean", list: "a list",
             dict: "a table", (int, float): "a number"}
    return names.get(typ, str(typ))  # type: ignore[arg-type]


def parse_checklist(text: str, filename: str) -> Checklist:
    """Parse one checklist's TOML text; raises FormError listing every problem."""
    col = _Collector(filename)
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as e:
        raise FormError(f"{filename}: TOML syntax error: {e}", [f"{filename}: TOML syntax error: {e}"]) from e
    cl = _parse(data, text, filename, col)
    if col.problems:
        raise FormError(col.problems[0], col.problems)
    assert cl is not None
    return cl


def _parse(data: dict, text: str, filename: str, col: _Collector) -> Checklist | None:
    from inspector.catalogue import catalogue

    try:
        cat = catalogue()
    except Exception as e:  # the catalogue file itself is broken
        col.add(None, f"cannot load the catalogue: {e}")
        cat = {}
    col.keys(None, data, _TOP_KEYS)
    cid = col.get(None, data, "id", str, default="")
    if cid and not _ID_RE.match(cid):
        col.add(None, f"id '{cid}' may only use letters, digits, '_', '.', '-'")
    version = col.get(None, data, "version", str, default="")
    if version and not _VERSION_RE.match(version):
        col.add(None, f"version '{version}' may only use letters, digits, '_', '.', '+', '-'")
    title = col.get(None, data, "title", str, default="")
    kind = col.get(None, data, "kind", str, default="")
    if kind and kind not in CHECKLIST_KINDS:
        col.add(None, f"kind '{kind}' is not one of {', '.join(CHECKLIST_KINDS)}")
    basis = col.get(None, data, "basis", str, default="")
    col.get(None, data, "description", str, required=False)
    raw_sections = col.get(None, data, "sections", list, default=[])
    if not raw_sections and "sections" in data:
        col.add(None, "no sections")

    seen_sections: set[str] = set()
    seen_items: dict[str, dict] = {}
    sections: list[Section] = []
    pending_when: list[tuple[str, dict]] = []
    prefixes = KIND_PREFIXES.get(kind, ("PX", "PJ"))
    for si, rs in enumerate(raw_sections, 1):
        if not isinstance(rs, dict):
            col.add(f"section {si}", "must be a table ([[sections]])")
            continue
        sid: str = rs["id"] if isinstance(rs.get("id"), str) else f"#{si}"
        where = f"section {sid}"
        col.keys(where, rs, _SECTION_KEYS)
        col.get(where, rs, "id", str)
        if sid in seen_sections:
            col.add(where, "duplicate section id")
        seen_sections.add(sid)
        stitle = col.get(where, rs, "title", str, default="")
        items: list[Item] = []
        for ii, ri in enumerate(col.get(where, rs, "items", list, default=[]), 1):
            it = _parse_item(ri, sid, ii, col, cat, prefixes, seen_items, pending_when)
            if it is not None:
                items.append(it)
        if not items and "items" in rs:
            col.add(where, "has no items")
        sections.append(Section(sid, stitle, tuple(items)))

    for iid, when in pending_when:
        _check_when(iid, when, seen_items, col)
    index = {it.id: it for s in sections for it in s.items}
    return Checklist(cid, version, title, kind, basis, tuple(sections), text,
                     sha256_hex(text.encode("utf-8")), filename, index)


def _parse_item(ri: Any, sid: str, pos: int, col: _Collector, cat: dict, prefixes: tuple[str, ...],
                seen: dict[str, dict], pending_when: list) -> Item | None:
    if not isinstance(ri, dict):
        col.add(f"section {sid}", f"item {pos} must be a table ([[sections.items]])")
        return None
    iid: str = ri["id"] if isinstance(ri.get("id"), str) else f"{sid}#{pos}"
    w = f"item {iid}"
    col.keys(w, ri, _ITEM_KEYS)
    col.get(w, ri, "id", str)
    if iid in seen:
        col.add(w, "duplicate item id")
    elif not _ID_RE.match(iid):
        col.add(w, "id may only use letters, digits, '_', '.', '-'")
    seen[iid] = ri
    text = col.get(w, ri, "text", str, default="")
    typ = col.get(w, ri, "type", str, default="check")
    if typ not in ITEM_TYPES:
        col.add(w, f"type '{typ}' is not one of {', '.join(ITEM_TYPES)}")
        typ = "check"
    basis = col.get(w, ri, "basis", str, default="")
    codes = tuple(col.get(w, ri, "codes", list, required=False, default=[]))
    photo = col.get(w, ri, "photo_required", bool, required=False, default=False)
    unit = col.get(w, ri, "unit", str, required=False)
    help_ = col.get(w, ri, "help", str, required=False)
    fail_text = col.get(w, ri, "fail_text", str, required=False)
    choices = tuple(col.get(w, ri, "choices", list, required=False, default=[]))
    rule = col.get(w, ri, "rule", str, required=False)
    params = dict(col.get(w, ri, "params", dict, required=False, default={}))
    threshold = col.get(w, ri, "threshold", dict, required=False)
    when = col.get(w, ri, "when", dict, required=False)
    plausible = _check_plausible(col.get(w, ri, "plausible", list, required=False), typ, w, col)

    for c in codes:
        if not isinstance(c, str) or c not in cat:
            col.add(w, f"unknown catalogue code {c!r}")
        elif c.split("-")[0] not in prefixes:
            col.add(w, f"code '{c}' is for {cat[c].kind}, not allowed in this checklist's kind")
    if len(set(codes)) != len(codes):
        col.add(w, "duplicate codes")
    for k, v in (("unit", unit), ("threshold", threshold)):
        if v is not None and typ not in ("number", "count", "date") and not (k == "unit" and typ == "table"):
            col.add(w, f"'{k}' is not used by a {typ} item")
    if choices:
        if typ != "choice":
            col.add(w, "'choices' is only for choice items (columns have their own)")
        if not all(isinstance(c, str) and c for c in choices):
            col.add(w, "choices must be non-empty strings")
        elif len(set(choices)) != len(choices):
            col.add(w, "duplicate choices")
        elif NA in choices:
            col.add(w, "'na' is reserved for 不适用 and cannot be a choice")
    elif typ == "choice":
        col.add(w, "a choice item needs 'choices'")

    columns = _parse_columns(ri, typ, w, col)
    if typ == "table":
        if rule is None:
            col.add(w, "a table item needs a 'rule' (one of " + ", ".join(RULES) + ")")
        elif rule not in RULES:
            col.add(w, f"unknown rule '{rule}' (known: {', '.join(RULES)})")
        else:
            _check_rule_columns(rule, columns, w, col)
    elif rule is not None:
        col.add(w, "'rule' is only for table items")

    if threshold is not None:
        threshold = _check_threshold(threshold, typ, w, col)
    _check_params(params, typ, rule, choices, codes, w, col, cat)

    can_fail = (typ in ("check", "table") or threshold is not None
                or (typ == "choice" and (params.get("fail_on") or params.get("require_all"))))
    if params.get("scope", "institution") == "institution":
        if can_fail and not codes:
            col.add(w, "missing 'codes': an item that can fail must name its catalogue code(s)")
    if codes and not can_fail:
        col.add(w, "has 'codes' but can never fail (add a threshold, fail_on or require_all)")
    if fail_text is not None:
        try:
            fail_text.format(value="", limit="", unit="", label="", missing="", text="", detail="")
        except (KeyError, IndexError, ValueError) as e:
            col.add(w, f"fail_text has a bad placeholder {e} (use {{value}} {{limit}} {{unit}} {{label}} {{missing}} {{text}} {{detail}})")
    if when is not None:
        pending_when.append((iid, when))
    return Item(iid, text, typ, sid, basis, codes, bool(photo), unit, threshold, choices, columns, rule,
                params, help_, fail_text, when, plausible)


def _check_plausible(p: list | None, typ: str, w: str, col: _Collector) -> tuple[float, float] | None:
    """``plausible = [min, max]``: a number/count answer outside it is confirmed, not refused."""
    if p is None:
        return None
    if typ not in ("number", "count"):
        col.add(w, f"'plausible' is only for number and count items, not {typ}")
        return None
    if len(p) != 2 or not all(_is_number(x) for x in p) or not p[0] < p[1]:
        col.add(w, f"'plausible' must be [min, max] with min < max, got {p!r}")
        return None
    return float(p[0]), float(p[1])


def _parse_columns(ri: dict, typ: str, w: str, col: _Collector) -> tuple[Column, ...]:
    raw = col.get(w, ri, "columns", list, required=False, default=[])
    if raw and typ != "table":
        col.add(w, "'columns' is only for table items")
    if typ == "table" and not raw:
        col.add(w, "a table item needs 'columns'")
    out: list[Column] = []
    ids: set[str] = set()
    for ci, rc in enumerate(raw, 1):
        if not isinstance(rc, dict):
            col.add(w, f"column {ci} must be a table")
            continue
        cw = f"{w}: column {rc.get('id', ci)}"
        col.keys(cw, rc, _COLUMN_KEYS)
        cid = col.get(cw, rc, "id", str, default=f"#{ci}")
        label = col.get(cw, rc, "label", str, default=cid)
        ctype = col.get(cw, rc, "type", str, default="text")
        if ctype not in COLUMN_TYPES:
            col.add(cw, f"type '{ctype}' is not one of {', '.join(COLUMN_TYPES)}")
        cch = tuple(col.get(cw, rc, "choices", list, required=False, default=[]))
        if ctype == "choice" and not cch:
            col.add(cw, "a choice column needs 'choices'")
        if cch and ctype != "choice":
            col.add(cw, "'choices' is only for choice columns")
        if cid in ids:
            col.add(cw, "duplicate column id")
        ids.add(cid)
        out.append(Column(cid, label, ctype, cch))
    return tuple(out)


def _check_rule_columns(rule: str, columns: tuple[Column, ...], w: str, col: _Collector) -> None:
    by_id = {c.id: c for c in columns}
    for cid, (ctype, allowed, required) in RULES[rule].columns.items():
        c = by_id.get(cid)
        if c is None:
            col.add(w, f"rule '{rule}' needs column '{cid}' ({ctype}), not found")
            continue
        if c.type != ctype:
            col.add(w, f"rule '{rule}' needs column '{cid}' to be {ctype}, not {c.type}")
            continue
        if allowed is not None:
            bad = [x for x in c.choices if x not in allowed]
            if bad:
                col.add(w, f"column '{cid}': rule '{rule}' does not know choice(s) {bad} (known: {list(allowed)})")
        missing = [x for x in required if x not in c.choices]
        if missing:
            col.add(w, f"column '{cid}': rule '{rule}' needs choice(s) {missing}")


def _check_threshold(th: dict, typ: str, w: str, col: _Collector) -> dict | None:
    col.keys(f"{w}: threshold", th, ("op", "value"))
    op, value = th.get("op"), th.get("value")
    value_: Any = value
    ok = True
    if op not in THRESHOLD_OPS:
        col.add(w, f"threshold op {op!r} is not one of {', '.join(THRESHOLD_OPS)}")
        ok = False
    if typ in ("number", "count"):
        if not _is_number(value):
            col.add(w, f"threshold value {value!r} must be a number")
            ok = False
        elif typ == "count" and (value_ != int(value_) or value_ < 0):
            col.add(w, f"threshold value {value!r} of a count must be a whole number ≥ 0")
            ok = False
    elif typ == "date":
        try:
            resolve_date(value if isinstance(value, str) else "")
        except ValueError:
            col.add(w, f"threshold value {value!r} must be 'today', 'today-N', 'today+N' or 'YYYY-MM-DD'")
            ok = False
    return {"op": op, "value": value} if ok else None


def _check_params(params: dict, typ: str, rule: str | None, choices: tuple, codes: tuple, w: str,
                  col: _Collector, cat: dict) -> None:
    spec = dict(_COMMON_PARAMS)
    spec.update(_TYPE_PARAMS.get(typ, {}))
    if rule in RULES:
        spec.update(RULES[rule].params)
    for k, v in params.items():
        if k not in spec:
            hint = difflib.get_close_matches(k, list(spec), n=1)
            col.add(w, f"unknown param '{k}'" + (f" (did you mean '{hint[0]}'?)" if hint else ""))
            continue
        ptype = spec[k][0]
        if ptype is float:
            good = _is_number(v) and v > 0
        elif ptype is int:
            good = isinstance(v, int) and not isinstance(v, bool) and v >= 0
        else:
            good = isinstance(v, ptype) and not (ptype is not bool and isinstance(v, bool))
        if not good:
            col.add(w, f"param '{k}' has a bad value {v!r}")
            continue
        if rule in RULES and k in RULES[rule].params and k.endswith("_share") and v > 1:
            col.add(w, f"param '{k}' is a share and must be ≤ 1, got {v!r}")
    if params.get("scope", "institution") not in ("institution", "department"):
        col.add(w, "param 'scope' must be 'institution' or 'department'")
    if typ == "choice":
        for c in params.get("fail_on", []) if isinstance(params.get("fail_on"), list) else []:
            if c not in choices:
                col.add(w, f"fail_on names {c!r}, which is not among the choices")
        if params.get("require_all") and not params.get("multiple"):
            col.add(w, "require_all needs multiple = true")
    fc = params.get("flag_codes")
    if isinstance(fc, dict):
        flags = RULES[rule].flags if rule in RULES else ()
        for flag, fcodes in fc.items():
            if flag not in flags:
                col.add(w, f"flag_codes names unknown flag '{flag}' (rule flags: {', '.join(flags)})")
            if not isinstance(fcodes, list) or not fcodes:
                col.add(w, f"flag_codes.{flag} must be a non-empty list of codes")
                continue
            for c in fcodes:
                if c not in cat:
                    col.add(w, f"flag_codes.{flag}: unknown catalogue code {c!r}")


def _check_when(iid: str, when: dict, items: dict[str, dict], col: _Collector) -> None:
    w = f"item {iid}"
    col.keys(f"{w}: when", when, ("item", "equals"))
    target, equals = when.get("item"), when.get("equals")
    if target not in items:
        col.add(w, f"when names unknown item {target!r}")
        return
    if target == iid:
        col.add(w, "when cannot name the item itself")
        return
    t = items[target]
    ttype = t.get("type", "check")
    if ttype == "check":
        valid = CHECK_VALUES
    elif ttype == "choice":
        valid = tuple(t.get("choices", ())) + (NA,)
    else:
        col.add(w, f"when must name a check or choice item; '{target}' is {ttype}")
        return
    if equals not in valid:
        col.add(w, f"when.equals {equals!r} is not a possible answer of '{target}' ({', '.join(map(str, valid))})")


# -- loading ------------------------------------------------------------------------
def load_checklist(path: str | os.PathLike[str]) -> Checklist:
    name = display_path(path)
    try:
        text = Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as e:
        raise FormError(f"{name}: cannot read ({e})", [f"{name}: cannot read ({e})"]) from e
    return parse_checklist(text, name)


def checklist_files(directory: str | os.PathLike[str] | None = None) -> list[Path]:
    """Checklist files of a directory (the catalogue is not a checklist)."""
    d = Path(directory) if directory is not None else _paths.forms_dir()
    return sorted(p for p in d.glob("*.toml") if p.name != "catalogue.toml")


def _load_many(files: Iterable[Path]) -> tuple[list[Checklist], list[str]]:
    out: list[Checklist] = []
    problems: list[str] = []
    ids: dict[str, str] = {}
    for f in files:
        try:
            cl = load_checklist(f)
        except FormError as e:
            problems.extend(e.problems)
            continue
        if cl.id in ids:
            problems.append(f"{cl.path}: checklist id '{cl.id}' is also used by {ids[cl.id]}")
        ids[cl.id] = cl.path
        out.append(cl)
    return out, problems


def load_all(directory: str | os.PathLike[str] | None = None) -> list[Checklist]:
    """Every shipped checklist; raises FormError with all problems of all files."""
    files = checklist_files(directory)
    out, problems = _load_many(files)
    if not files:
        problems.append(f"{display_path(directory or _paths.forms_dir())}: no checklist files (*.toml)")
    if problems:
        raise FormError(problems[0], problems)
    return out


def check(paths: list[str | os.PathLike[str]]) -> list[str]:
    """Problem lines for files and/or directories; empty when everything is valid."""
    files: list[Path] = []
    problems: list[str] = []
    for raw in paths:
        p = Path(raw)
        if p.is_dir():
            found = checklist_files(p)
            if not found:
                problems.append(f"{display_path(p)}: no checklist files (*.toml)")
            files.extend(found)
            if (p / "catalogue.toml").exists():
                problems.extend(_check_catalogue(p / "catalogue.toml"))
        elif p.name == "catalogue.toml":
            problems.extend(_check_catalogue(p))
        elif p.exists():
            files.append(p)
        else:
            problems.append(f"{display_path(p)}: no such file or directory")
    return problems + _load_many(files)[1]


def _check_catalogue(path: Path) -> list[str]:
    from inspector.catalogue import parse_catalogue
    from inspector.errors import ValidationError

    try:
        parse_catalogue(path.read_text(encoding="utf-8"), display_path(path))
    except ValidationError as e:
        return list(e.problems)
    except (OSError, UnicodeDecodeError) as e:
        return [f"{display_path(path)}: cannot read ({e})"]
    return []
