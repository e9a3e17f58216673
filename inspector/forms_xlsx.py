"""Checklists authored in a spreadsheet (XLSForm's layout) ⇄ the canonical TOML checklist.

Sheets (XLSForm names where the meaning is the same; see forms/README.md "Authoring in Excel"):

- ``survey``: one row per item in checklist order. ``type`` is ``check`` (符合/不符合/不适用),
  ``integer`` (count), ``decimal`` (number), ``date``, ``text``, ``select_one LIST`` /
  ``select_multiple LIST`` (choice), ``begin group``/``end group`` around each section and
  ``begin repeat``/``end repeat`` around a table item whose rows inside are its columns
  (``text``, ``decimal``, ``select_one LIST``, ``bool``, ``date``). Other columns: ``name`` (id),
  ``label`` (text / title), ``required``, ``relevant`` (skip rule), ``constraint`` (threshold),
  ``constraint_message`` (fail_text), ``hint`` (help), and this project's ``basis``, ``codes``,
  ``photo_required``, ``unit``, ``plausible``, ``rule``, ``params``.
- ``choices``: ``list_name``, ``name`` (the stored answer), ``label`` (empty or equal to name).
- ``settings``: header row and one value row: ``form_id``, ``version``, ``form_title``, ``kind``,
  ``basis``, ``description``.

``import_xlsx`` builds the TOML text and validates it with the strict loader
(``forms.parse_checklist``); every problem is one Chinese line
``FILE: SHEET: 第N行: X列（header）: message`` and nothing is returned when there is any.
"""
from __future__ import annotations

import datetime as _dt
import json
import logging
import math
import os
import re
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from inspector import forms
from inspector.errors import FormError

logger = logging.getLogger(__name__)

SURVEY = "survey"
CHOICES = "choices"
SETTINGS = "settings"
_SHEET_ORDER = {SETTINGS: 0, SURVEY: 1, CHOICES: 2}
SURVEY_COLUMNS = ("type", "name", "label", "required", "relevant", "constraint", "constraint_message", "hint",
                  "basis", "codes", "photo_required", "unit", "plausible", "rule", "params")
CHOICE_COLUMNS = ("list_name", "name", "label")
SETTINGS_COLUMNS = ("form_id", "version", "form_title", "kind", "basis", "description")
_SETTINGS_ALIASES = {"id": "form_id", "title": "form_title"}
# survey type -> item type; the repeat's column types -> column type
ITEM_TYPE_OF = {"check": "check", "integer": "count", "count": "count", "decimal": "number", "number": "number",
                "date": "date", "text": "text"}
XLS_TYPE_OF = {"check": "check", "count": "integer", "number": "decimal", "date": "date", "text": "text"}
COLUMN_TYPE_OF = {"text": "text", "decimal": "number", "number": "number", "bool": "bool", "date": "date"}
XLS_COLUMN_TYPE = {"text": "text", "number": "decimal", "bool": "bool", "date": "date"}
FUNCTIONS = ("today", "date")
_YES = {"yes", "true", "1", "是", "y"}
_NO = {"no", "false", "0", "否", "n", ""}
_CHECK_ZH = {"符合": "pass", "不符合": "fail", "不适用": "na"}
_CODE_SPLIT = re.compile(r"[\s,，、;；]+")
_BARE_KEY = re.compile(r"^[A-Za-z0-9_-]+$")


def _col_letter(n: int) -> str:
    s = ""
    while n:
        n, r = divmod(n - 1, 26)
        s = chr(65 + r) + s
    return s


@dataclass
class _Problems:
    filename: str
    lines: list[str] = field(default_factory=list)
    rows: set[tuple[str, int]] = field(default_factory=set)  # (sheet, row) already reported
    keys: list[tuple[int, int, int, str]] = field(default_factory=list)

    def add(self, sheet: str, row: int, column: str, msg: str, letter: str = "") -> None:
        col = f"{letter}列（{column}）" if letter else f"{column}列"
        self.lines.append(f"{self.filename}: {sheet}: 第{row}行: {col}: {msg}")
        self.keys.append((_SHEET_ORDER.get(sheet, 9), row, len(letter), letter))
        self.rows.add((sheet, row))

    def sorted(self) -> list[str]:
        """In the order a clerk reads the workbook: sheet, row, column."""
        return [ln for _k, ln in sorted(zip(self.keys, self.lines), key=lambda kl: kl[0])]


@dataclass
class _Sheet:
    name: str
    headers: dict[str, int]  # header -> 1-based column number
    rows: list[tuple[int, dict[str, str]]]  # (excel row, {header: text})

    def letter(self, header: str) -> str:
        return _col_letter(self.headers[header]) if header in self.headers else ""


def _text(v: Any) -> str:
    """A cell as the author meant it: 2026 stays '2026', TRUE becomes 'yes', dates are ISO."""
    if v is None:
        return ""
    if isinstance(v, bool):
        return "yes" if v else "no"
    if isinstance(v, float):
        return str(int(v)) if v.is_integer() else repr(v)
    if isinstance(v, _dt.datetime):
        return v.date().isoformat() if v.time() == _dt.time() else v.isoformat()
    if isinstance(v, _dt.date):
        return v.isoformat()
    return str(v).strip()


def _read_sheet(wb: Any, name: str, known: tuple[str, ...], probs: _Problems,
                aliases: dict[str, str] | None = None, required: bool = True) -> _Sheet | None:
    by_lower = {ws.title.strip().lower(): ws for ws in wb.worksheets}
    ws = by_lower.get(name)
    if ws is None:
        if required:
            probs.add(name, 1, "—", f"工作簿中没有名为“{name}”的工作表")
        return None
    rows = list(ws.iter_rows(values_only=True))
    headers: dict[str, int] = {}
    if not rows:
        probs.add(name, 1, "—", "表头行为空")
        return _Sheet(name, headers, [])
    for i, h in enumerate(rows[0], 1):
        key = _text(h).lower()
        if not key:
            continue
        key = (aliases or {}).get(key, key)
        if key not in known:
            probs.add(name, 1, key, f"未知的列名“{_text(h)}”（可用：{'、'.join(known)}）", _col_letter(i))
        elif key in headers:
            probs.add(name, 1, key, f"列名“{key}”重复", _col_letter(i))
        else:
            headers[key] = i
    out: list[tuple[int, dict[str, str]]] = []
    for rn, raw in enumerate(rows[1:], 2):
        vals = {h: _text(raw[i - 1]) if i - 1 < len(raw) else "" for h, i in headers.items()}
        if any(vals.values()):
            out.append((rn, vals))
    return _Sheet(name, headers, out)


# -- expressions -----------------------------------------------------------------------------------
_TOKEN = re.compile(r"""\s*(?:(?P<field>\$\{[^}]*\})|(?P<num>\d+(?:\.\d+)?)|(?P<str>"[^"]*"|'[^']*')|"""
                    r"""(?P<op>>=|<=|==|!=|=|>|<|\+|-|\(|\)|,|\.)|(?P<name>[A-Za-z_][A-Za-z0-9_]*)|(?P<bad>\S))""")


class _ExprError(Exception):
    pass


def _tokens(expr: str) -> list[tuple[str, str]]:
    out = []
    for m in _TOKEN.finditer(expr):
        kind = m.lastgroup or "bad"
        val = m.group(kind)
        if kind == "bad":
            raise _ExprError(f"无法识别的字符“{val}”")
        out.append((kind, val))
    return out


def _check_names(toks: list[tuple[str, str]]) -> None:
    """Unknown functions and bare names are errors before anything else."""
    for i, (kind, val) in enumerate(toks):
        if kind == "name":
            if i + 1 < len(toks) and toks[i + 1] == ("op", "("):
                if val not in FUNCTIONS:
                    raise _ExprError(f"未知函数 {val}()（可用：today()、date(\"YYYY-MM-DD\")）")
            elif val.lower() in ("and", "or", "not"):
                raise _ExprError(f"不支持 {val}：一个条件只能比较一次（本项目的规则语法）")
            else:
                raise _ExprError(f"未知名称“{val}”（引用检查项请写成 ${{{val}}}）")


def parse_relevant(expr: str, items: dict[str, str]) -> dict[str, str]:
    """``${T-6-2} == "是"`` → ``{"item": "T-6-2", "equals": "是"}`` (the checklist's ``when`` rule).
    ``items`` maps every item id of the sheet to its type (for 符合/不符合/不适用 on check items)."""
    toks = _tokens(expr)
    _check_names(toks)
    fields = [v[2:-1].strip() for k, v in toks if k == "field"]
    for f in fields:
        if f not in items:
            raise _ExprError(f"引用了不存在的字段 ${{{f}}}")
    if "=" in [v for k, v in toks if k == "op"]:
        raise _ExprError("比较请用 ==（本项目的规则语法），不是 =")
    if len(toks) != 3 or toks[0][0] != "field" or toks[1] != ("op", "==") or toks[2][0] != "str":
        raise _ExprError('跳题条件应写成 ${检查项} == "答案"，例如 ${T-6-2} == "是"')
    target = toks[0][1][2:-1].strip()
    value = toks[2][1][1:-1]
    if items.get(target) == "check":
        value = _CHECK_ZH.get(value, value)
    return {"item": target, "equals": value}


def parse_constraint(expr: str, items: dict[str, str]) -> dict[str, Any]:
    """``. >= 300`` / ``. >= today() - 365`` / ``. <= date("2026-12-31")`` → a threshold."""
    toks = _tokens(expr)
    _check_names(toks)
    for k, v in toks:
        if k == "field":
            f = v[2:-1].strip()
            if f not in items:
                raise _ExprError(f"引用了不存在的字段 ${{{f}}}")
            raise _ExprError(f"约束只能比较本项的值（.），不能引用 ${{{f}}}")
    if len(toks) < 3 or toks[0] != ("op", "."):
        raise _ExprError("约束应写成 . 运算符 值，例如 . >= 300 或 . >= today() - 365")
    op = toks[1][1]
    if op == "=":
        raise _ExprError("比较请用 ==（本项目的规则语法），不是 =")
    if toks[1][0] != "op" or op not in forms.THRESHOLD_OPS:
        raise _ExprError(f"运算符“{op}”无效（可用：{' '.join(forms.THRESHOLD_OPS)}）")
    rest = toks[2:]
    value: Any
    if len(rest) == 1 and rest[0][0] == "num":
        value = float(rest[0][1]) if "." in rest[0][1] else int(rest[0][1])
    elif len(rest) == 1 and rest[0][0] == "str":
        value = rest[0][1][1:-1]
    elif [k for k, _ in rest] == ["name", "op", "str", "op"] and rest[0][1] == "date":
        value = rest[2][1][1:-1]
    elif rest[:3] == [("name", "today"), ("op", "("), ("op", ")")]:
        tail = rest[3:]
        if not tail:
            value = "today"
        elif len(tail) == 2 and tail[0][1] in ("+", "-") and tail[1][0] == "num" and "." not in tail[1][1]:
            value = f"today{tail[0][1]}{int(tail[1][1])}"
        else:
            raise _ExprError("today() 之后只能加减整数天数，例如 today() - 365")
    else:
        raise _ExprError("约束的值应为数字、today()、today() - 天数 或 date(\"YYYY-MM-DD\")")
    if isinstance(value, str):
        try:
            forms.resolve_date(value)
        except ValueError:
            raise _ExprError(f"日期“{value}”无效（应为 YYYY-MM-DD）") from None
    return {"op": op, "value": value}


def format_relevant(when: dict) -> str:
    return f"${{{when['item']}}} == {_quote(str(when['equals']))}"


def format_constraint(th: dict) -> str:
    v = th["value"]
    if isinstance(v, str):
        m = forms._DATE_REL_RE.match(v)
        if m:
            val = "today()" + (f" {m.group(1)} {int(m.group(2))}" if m.group(1) else "")
        else:
            val = f"date({_quote(v)})"
    else:
        val = repr(v) if isinstance(v, float) else str(v)
    return f". {th['op']} {val}"


def _quote(s: str) -> str:
    return f"'{s}'" if '"' in s else f'"{s}"'


# -- TOML writing (the canonical text) ----------------------------------------------------------------
def _tv(v: Any) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, int):
        return str(v)
    if isinstance(v, float):
        if not math.isfinite(v):
            raise ValueError(f"not a finite number: {v!r}")
        return repr(v)
    if isinstance(v, str):
        return json.dumps(v, ensure_ascii=False).replace("\x7f", "\\u007f")
    if isinstance(v, (list, tuple)):
        return "[" + ", ".join(_tv(x) for x in v) + "]"
    if isinstance(v, dict):
        if not v:
            return "{}"
        return "{ " + ", ".join(f"{_tk(k)} = {_tv(x)}" for k, x in v.items()) + " }"
    raise TypeError(f"cannot write {type(v).__name__} to TOML")


def _tk(k: str) -> str:
    return k if _BARE_KEY.match(k) else json.dumps(k, ensure_ascii=False)


_ITEM_ORDER = ("id", "type", "text", "basis", "codes", "photo_required", "unit", "threshold", "plausible", "choices",
               "rule", "params", "help", "fail_text", "when", "columns")


def to_toml(data: dict) -> str:
    """The canonical TOML text of a checklist given as plain data (the loader's keys)."""
    lines = ["# Converted from a spreadsheet by `inspector forms import` (format: forms/README.md)."]
    for k in ("id", "version", "title", "kind", "basis", "description"):
        if k in data:
            lines.append(f"{k} = {_tv(data[k])}")
    for sec in data.get("sections", []):
        lines += ["", "[[sections]]", f"id = {_tv(sec['id'])}", f"title = {_tv(sec['title'])}"]
        for it in sec.get("items", []):
            lines += ["", "[[sections.items]]"]
            for k in _ITEM_ORDER:
                if k not in it:
                    continue
                if k == "columns":
                    lines.append("columns = [")
                    lines += [f"  {_tv(c)}," for c in it[k]]
                    lines.append("]")
                else:
                    lines.append(f"{k} = {_tv(it[k])}")
    return "\n".join(lines) + "\n"


def checklist_data(cl: forms.Checklist) -> dict:
    """A parsed checklist as the loader's plain data (what ``to_toml`` writes)."""
    top: dict[str, Any] = {"id": cl.id, "version": cl.version, "title": cl.title, "kind": cl.kind, "basis": cl.basis}
    desc = tomllib.loads(cl.source).get("description")
    if desc is not None:
        top["description"] = desc
    secs = []
    for s in cl.sections:
        items = []
        for it in s.items:
            d: dict[str, Any] = {"id": it.id, "type": it.type, "text": it.text, "basis": it.basis}
            if it.codes:
                d["codes"] = list(it.codes)
            if it.photo_required:
                d["photo_required"] = True
            for k in ("unit", "threshold", "rule", "help", "fail_text", "when"):
                if getattr(it, k) is not None:
                    d[k] = getattr(it, k)
            if it.plausible is not None:
                d["plausible"] = list(it.plausible)
            if it.choices:
                d["choices"] = list(it.choices)
            if it.params:
                d["params"] = dict(it.params)
            if it.columns:
                d["columns"] = [{"id": c.id, "label": c.label, "type": c.type,
                                 **({"choices": list(c.choices)} if c.choices else {})} for c in it.columns]
            items.append(d)
        secs.append({"id": s.id, "title": s.title, "items": items})
    top["sections"] = secs
    return top


def canonical(cl: forms.Checklist) -> dict:
    """What a round trip must keep: everything parsed, not the text, its hash or the file name."""
    d = checklist_data(cl)
    d["plausible"] = {it.id: it.plausible for it in cl.items}  # floats, as the loader keeps them
    return d


# -- import ---------------------------------------------------------------------------------------------
def _yesno(v: str) -> bool | None:
    low = v.strip().lower()
    if low in _YES:
        return True
    if low in _NO:
        return False
    return None


def _number(s: str) -> int | float:
    return float(s) if any(c in s for c in ".eE") else int(s)


@dataclass
class _Ctx:
    probs: _Problems
    survey: _Sheet
    lists: dict[str, list[str]]
    list_rows: dict[str, int]
    item_types: dict[str, str]  # every item name of the sheet -> its item type ("" when unknown)
    where_item: dict[str, int] = field(default_factory=dict)  # item id -> survey row
    where_column: dict[tuple[str, str], int] = field(default_factory=dict)
    where_section: dict[str, int] = field(default_factory=dict)

    def err(self, row: int, col: str, msg: str) -> None:
        self.probs.add(SURVEY, row, col, msg, self.survey.letter(col))


def _split_type(t: str) -> tuple[str, str]:
    parts = t.split()
    if len(parts) >= 2 and parts[0].lower() in ("begin", "end"):
        return f"{parts[0].lower()}_{parts[1].lower()}", " ".join(parts[2:])
    return (parts[0].lower() if parts else ""), " ".join(parts[1:])


def _choices_of(ctx: _Ctx, row: int, list_name: str) -> list[str] | None:
    if not list_name:
        ctx.err(row, "type", "select_one / select_multiple 之后须写选项列表名（choices 表的 list_name）")
        return None
    if list_name not in ctx.lists:
        ctx.err(row, "type", f"choices 表中没有选项列表“{list_name}”")
        return None
    return list(ctx.lists[list_name])


def _item_fields(ctx: _Ctx, row: int, v: dict[str, str], d: dict[str, Any], typ: str) -> None:
    """The optional item columns of one row into the loader's keys."""
    if v.get("basis"):
        d["basis"] = v["basis"]
    if v.get("codes"):
        d["codes"] = [c for c in _CODE_SPLIT.split(v["codes"]) if c]
    if v.get("photo_required"):
        yn = _yesno(v["photo_required"])
        if yn is None:
            ctx.err(row, "photo_required", f"“{v['photo_required']}”无效，应为 yes 或 no（是/否）")
        elif yn:
            d["photo_required"] = True
    if v.get("required"):
        yn = _yesno(v["required"])
        if yn is None:
            ctx.err(row, "required", f"“{v['required']}”无效，应为 yes 或留空")
        elif not yn:
            ctx.err(row, "required", "检查项都须作答（未作答的检查不能完成），required 只能为 yes 或留空")
    for col, key in (("unit", "unit"), ("hint", "help"), ("constraint_message", "fail_text"), ("rule", "rule")):
        if v.get(col):
            d[key] = v[col]
    if v.get("plausible"):
        parts = [p.strip() for p in re.split(r"\.\.|,|，|~", v["plausible"]) if p.strip()]
        try:
            nums = [_number(p) for p in parts]
        except ValueError:
            nums = []
        if len(nums) != 2:
            ctx.err(row, "plausible", f"“{v['plausible']}”无效，应写成 最小值..最大值，例如 1..100000")
        else:
            d["plausible"] = nums
    if v.get("params"):
        try:
            params = tomllib.loads("p = {" + v["params"] + "}")["p"]
        except tomllib.TOMLDecodeError as e:
            ctx.err(row, "params", f"不是有效的“键 = 值”列表（例如 min_theory = 2, scope = \"department\"）：{e}")
        else:
            d.setdefault("params", {}).update(params)
    for col, parse, key in (("relevant", parse_relevant, "when"), ("constraint", parse_constraint, "threshold")):
        if v.get(col):
            try:
                d[key] = parse(v[col], ctx.item_types)
            except _ExprError as e:
                ctx.err(row, col, f"“{v[col]}”：{e}")


def _sheet_to_data(ctx: _Ctx, settings: dict[str, str]) -> dict[str, Any]:
    data: dict[str, Any] = {}
    for key, col in (("id", "form_id"), ("version", "version"), ("title", "form_title"), ("kind", "kind"),
                     ("basis", "basis"), ("description", "description")):
        if settings.get(col):
            data[key] = settings[col]
    sections: list[dict[str, Any]] = []
    section: dict[str, Any] | None = None
    table: dict[str, Any] | None = None
    table_row = 0
    seen: set[str] = set()
    for row, v in ctx.survey.rows:
        t, arg = _split_type(v.get("type", ""))
        name = v.get("name", "")
        if table is not None:  # inside begin repeat: the table's columns
            if t == "end_repeat":
                table = None
                continue
            extra = [h for h in v if v[h] and h not in ("type", "name", "label")]
            if extra:
                ctx.err(row, extra[0], "表格的列只填写 type、name、label")
                continue
            c: dict[str, Any] = {}
            if t in ("select_one", "select_multiple"):
                ch = _choices_of(ctx, row, arg)
                if t == "select_multiple":
                    ctx.err(row, "type", "表格的选择列只能单选（select_one）")
                    continue
                c = {"type": "choice"}
                if ch is not None:
                    c["choices"] = ch
            elif t in COLUMN_TYPE_OF:
                c = {"type": COLUMN_TYPE_OF[t]}
            else:
                ctx.err(row, "type", f"表格列的类型“{v.get('type', '')}”无效（可用：text、decimal、select_one 列表、bool、date）")
                continue
            if not name:
                ctx.err(row, "name", "表格列须填写 name（列标识）")
                continue
            c = {"id": name, "label": v.get("label") or name, **c}
            ctx.where_column[(table["id"], name)] = row
            table.setdefault("columns", []).append(c)
            continue
        if t == "begin_group":
            if section is not None:
                ctx.err(row, "type", f"分组不能嵌套：第{ctx.where_section.get(section['id'], '?')}行的分组还没有 end group")
            if not name:
                ctx.err(row, "name", "分组（begin group）须填写 name（分组标识，如 T-1）")
            extra = [h for h in v if v[h] and h not in ("type", "name", "label")]
            if extra:
                ctx.err(row, extra[0], "分组行只填写 type、name、label")
            section = {"id": name or f"#{row}", "title": v.get("label", ""), "items": []}
            if not v.get("label"):
                ctx.err(row, "label", "分组须填写 label（分组标题）")
            ctx.where_section[section["id"]] = row
            sections.append(section)
            continue
        if t == "end_group":
            if section is None:
                ctx.err(row, "type", "end group 前没有 begin group")
            section = None
            continue
        if t == "end_repeat":
            ctx.err(row, "type", "end repeat 前没有 begin repeat")
            continue
        # an item
        if t not in ITEM_TYPE_OF and t not in ("select_one", "select_multiple", "begin_repeat"):
            ctx.err(row, "type", f"未知类型“{v.get('type', '')}”（可用：check、integer、decimal、date、text、"
                                 "select_one 列表、select_multiple 列表、begin group、begin repeat）")
            continue
        if not name:
            ctx.err(row, "name", "检查项须填写 name（检查项编号，如 T-3-1）")
            continue
        if name in seen:
            ctx.err(row, "name", f"name “{name}”与第{ctx.where_item[name]}行重复")
            continue
        seen.add(name)
        if section is None:
            ctx.err(row, "type", "检查项须位于 begin group 与 end group 之间（每个分组是清单的一节）")
            continue
        d: dict[str, Any] = {"id": name}
        if t == "begin_repeat":
            d["type"] = "table"
            table, table_row = d, row
        elif t in ("select_one", "select_multiple"):
            d["type"] = "choice"
            ch = _choices_of(ctx, row, arg)
            if ch is not None:
                d["choices"] = ch
        else:
            d["type"] = ITEM_TYPE_OF[t]
        if v.get("label"):
            d["text"] = v["label"]
        _item_fields(ctx, row, v, d, d["type"])
        if t == "select_multiple":
            if "multiple" in d.get("params", {}):
                ctx.err(row, "params", "select_multiple 已表示多选，params 中不要再写 multiple")
            d.setdefault("params", {})["multiple"] = True
        ctx.where_item[name] = row
        section["items"].append(d)
    if table is not None:
        ctx.err(table_row, "type", f"begin repeat（{table['id']}）没有对应的 end repeat")
    if section is not None:
        ctx.err(ctx.where_section.get(section["id"], 2), "type", f"分组 {section['id']} 没有对应的 end group")
    if not sections and not any(r for r, _ in ctx.survey.rows if (SURVEY, r) in ctx.probs.rows):
        ctx.probs.add(SURVEY, 2, "type", "没有任何分组（begin group … end group）和检查项", ctx.survey.letter("type"))
    # items must be typed before the order of keys is fixed for the TOML text
    for s in sections:
        s["items"] = [{k: it[k] for k in _ITEM_ORDER if k in it} for it in s["items"]]
    data["sections"] = sections
    return data


# messages of the strict loader → (column, Chinese); the first match wins
_ZH: list[tuple[str, str, str]] = [
    (r"^missing key 'text'$", "label", "须填写 label（检查内容）"),
    (r"^missing key 'basis'$", "basis", "须填写 basis（依据：文件名称与条款）"),
    (r"^'(\w+)' must not be empty$", "", "{0} 不能为空"),
    (r"^missing key 'id'$", "form_id", "须填写 form_id（清单标识）"),
    (r"^missing key '(\w+)'$", "", "须填写 {0}"),
    (r"^unknown catalogue code '([^']*)'$", "codes", "失信行为目录中没有代码 {0}"),
    (r"^code '([^']*)' is for (\S+), not allowed", "codes", "代码 {0} 属于{1}，不能用于本清单的类型"),
    (r"^duplicate codes$", "codes", "codes 中有重复的代码"),
    (r"^missing 'codes'", "codes", "此项可能判为不符合，须填写失信行为目录代码（codes）"),
    (r"^has 'codes' but can never fail", "codes", "填写了 codes，但此项永远不会判为不符合（请加 constraint，或在 params 写 fail_on / require_all）"),
    (r"^'unit' is not used by a (\w+) item$", "unit", "{0} 类检查项不用 unit"),
    (r"^'threshold' is not used by a (\w+) item$", "constraint", "{0} 类检查项不能有 constraint（阈值只用于 integer、decimal、date）"),
    (r"^a table item needs a 'rule'", "rule", "表格（begin repeat）须填写 rule（计算规则：" + "、".join(forms.RULES) + "）"),
    (r"^unknown rule '([^']*)'", "rule", "未知的计算规则 {0}（可用：" + "、".join(forms.RULES) + "）"),
    (r"^'rule' is only for table items$", "rule", "rule 只用于表格（begin repeat）"),
    (r"^rule '(\w+)' needs column '(\w+)' \((\w+)\), not found$", "rule", "计算规则 {0} 需要列 {1}（{2}），表格中没有"),
    (r"^rule '(\w+)' needs column '(\w+)' to be (\w+), not (\w+)$", "rule", "计算规则 {0} 要求列 {1} 的类型为 {2}，不是 {3}"),
    (r"^column '(\w+)': rule '(\w+)' does not know choice\(s\) (.*) \(known", "rule", "列 {0}：计算规则 {1} 不认识选项 {2}"),
    (r"^column '(\w+)': rule '(\w+)' needs choice\(s\) (.*)$", "rule", "列 {0}：计算规则 {1} 需要选项 {2}"),
    (r"^a table item needs 'columns'$", "type", "表格（begin repeat）中没有列"),
    (r"^unknown param '([^']*)'", "params", "未知参数 {0}"),
    (r"^param '([^']*)' has a bad value (.*)$", "params", "参数 {0} 的值 {1} 无效"),
    (r"^param '([^']*)' is a share and must be ≤ 1", "params", "参数 {0} 是比例，不能大于 1"),
    (r"^param 'scope' must be", "params", "参数 scope 只能为 \"institution\" 或 \"department\""),
    (r"^fail_on names '?([^',]*)'?, which is not among the choices$", "params", "fail_on 中的“{0}”不是本题的选项"),
    (r"^require_all needs multiple = true$", "params", "require_all 只用于 select_multiple"),
    (r"^flag_codes names unknown flag '([^']*)'", "params", "flag_codes 中的 {0} 不是本规则的问题类别"),
    (r"^flag_codes\.(\w+): unknown catalogue code '([^']*)'$", "params", "flag_codes.{0}：失信行为目录中没有代码 {1}"),
    (r"^flag_codes", "params", "flag_codes 的每一项须为非空的代码列表"),
    (r"^a choice item needs 'choices'$", "type", "选择题须指定选项列表"),
    (r"^'choices' is only for choice items", "type", "只有选择题有选项"),
    (r"^choices must be non-empty strings$", "type", "选项不能为空"),
    (r"^duplicate choices$", "type", "选项列表中有重复的选项"),
    (r"^'na' is reserved", "type", "选项不能是 na（na 表示不适用）"),
    (r"^when must name a check or choice item; '([^']*)' is (\w+)$", "relevant", "跳题条件只能引用 check 或选择题，{0} 是 {1}"),
    (r"^when\.equals '?([^',]*)'? is not a possible answer of '([^']*)' \((.*)\)$", "relevant", "“{0}”不是 {1} 的可能答案（{2}）"),
    (r"^when cannot name the item itself$", "relevant", "跳题条件不能引用本项自身"),
    (r"^threshold value .* must be", "constraint", "约束的值与本项的类型不符（数字题用数字，count 用非负整数，日期题用 today() 或 date(\"YYYY-MM-DD\")）"),
    (r"^fail_text has a bad placeholder", "constraint_message", "constraint_message 中有无效的占位符（可用 {{value}} {{limit}} {{unit}} {{label}} {{missing}} {{text}} {{detail}}）"),
    (r"^'plausible'", "plausible", "plausible 只用于 integer/decimal，且须为 最小值..最大值（最小值 < 最大值）"),
    (r"^id may only use", "name", "name 只能使用字母、数字和 _ . -"),
    (r"^duplicate (item|section|column) id$", "name", "name 重复"),
    (r"^has no items$", "type", "分组中没有检查项"),
    (r"^id '([^']*)' may only use", "form_id", "form_id “{0}”只能使用字母、数字和 _ . -"),
    (r"^version '([^']*)' may only use", "version", "version “{0}”只能使用字母、数字和 _ . + -"),
    (r"^kind '([^']*)' is not one of", "kind", "kind “{0}”无效（可用：" + "、".join(forms.CHECKLIST_KINDS) + "）"),
    (r"^type '([^']*)' is not one of", "type", "类型“{0}”无效"),
    (r"^no sections$", "type", "没有任何分组"),
]
_TOP_COLUMN = {"id": "form_id", "title": "form_title", "version": "version", "kind": "kind", "basis": "basis",
               "description": "description"}


def _loader_problem(ctx: _Ctx, line: str, settings_row: int, settings_sheet: _Sheet | None) -> None:
    msg = line.split(": ", 1)[1] if ": " in line else line
    m = re.match(r"^item ([^:]+): column ([^:]+): (.*)$", msg)
    sheet, row, col = SURVEY, 0, ""
    if m:
        row = ctx.where_column.get((m.group(1), m.group(2)), ctx.where_item.get(m.group(1), 0))
        msg, col = m.group(3), "type"
    elif (m := re.match(r"^item ([^:]+): (?:threshold|when): (.*)$", msg)):
        row, msg = ctx.where_item.get(m.group(1), 0), m.group(2)
        col = "constraint" if ": threshold: " in line else "relevant"
    elif (m := re.match(r"^item ([^:]+): (.*)$", msg)):
        row, msg = ctx.where_item.get(m.group(1), 0), m.group(2)
    elif (m := re.match(r"^section ([^:]+): (.*)$", msg)):
        row, msg = ctx.where_section.get(m.group(1), 0), m.group(2)
    else:
        sheet, row = SETTINGS, settings_row
    if msg.startswith("when names unknown item"):
        return  # the relevant cell was checked against the sheet's names (or that row has its own error)
    if (sheet, row) in ctx.probs.rows and sheet == SURVEY:
        return  # one line per mistake: that row's own error is already reported
    zh = f"清单校验未通过：{msg}"
    for pat, c, tmpl in _ZH:
        mm = re.match(pat, msg)
        if mm:
            zh = tmpl.format(*mm.groups())
            if c:
                col = col or c
            elif mm.groups():
                col = col or mm.group(1)
            break
    if sheet == SETTINGS:
        col = _TOP_COLUMN.get(col, col or "form_id")
        letter = settings_sheet.letter(col) if settings_sheet else ""
        if not col.startswith(("form_", "version", "kind", "basis", "description")):
            col = "form_id"
        ctx.probs.add(SETTINGS, row, col, zh.replace("须填写 id", "须填写 form_id").replace("须填写 title", "须填写 form_title"),
                      letter)
        return
    if col in ("text",):
        col = "label"
    col = col or "name"
    ctx.probs.add(SURVEY, row or 1, col, zh, ctx.survey.letter(col))


def import_xlsx(path: str | os.PathLike[str]) -> tuple[str, forms.Checklist]:
    """A checklist workbook → (canonical TOML text, the checklist as the strict loader parsed it).
    Raises FormError whose ``problems`` are Chinese lines naming file, sheet, row and column."""
    import openpyxl

    fname = Path(path).name
    probs = _Problems(fname)
    try:
        wb = openpyxl.load_workbook(path, read_only=True, data_only=True)
    except Exception as e:  # noqa: BLE001 - zip/XML errors of a damaged or non-xlsx file
        msg = f"{fname}: 无法打开工作簿（{type(e).__name__}：{e}）"
        raise FormError(msg, [msg]) from e
    try:
        survey = _read_sheet(wb, SURVEY, SURVEY_COLUMNS, probs)
        choices = _read_sheet(wb, CHOICES, CHOICE_COLUMNS, probs, required=False)
        settings_sheet = _read_sheet(wb, SETTINGS, SETTINGS_COLUMNS, probs, aliases=_SETTINGS_ALIASES)
    finally:
        wb.close()
    if survey is None:
        raise FormError(probs.lines[0], probs.lines)
    for need in ("type", "name", "label"):
        if need not in survey.headers:
            probs.add(SURVEY, 1, need, f"缺少必需的列“{need}”")
    lists: dict[str, list[str]] = {}
    list_rows: dict[str, int] = {}
    for row, v in (choices.rows if choices else []):
        ln, nm, lb = v.get("list_name", ""), v.get("name", ""), v.get("label", "")
        if not ln:
            probs.add(CHOICES, row, "list_name", "须填写 list_name（选项列表名）", choices.letter("list_name") if choices else "")
            continue
        if not nm:
            probs.add(CHOICES, row, "name", "须填写 name（选项，即记录的答案）", choices.letter("name") if choices else "")
            continue
        if lb and lb != nm:
            probs.add(CHOICES, row, "label", f"label “{lb}”须与 name “{nm}”相同或留空（清单记录的答案就是显示的选项文字）",
                      choices.letter("label") if choices else "")
            continue
        if nm in lists.get(ln, []):
            probs.add(CHOICES, row, "name", f"选项“{nm}”在列表 {ln} 中重复", choices.letter("name") if choices else "")
            continue
        lists.setdefault(ln, []).append(nm)
        list_rows.setdefault(ln, row)
    settings: dict[str, str] = {}
    settings_row = 2
    if settings_sheet is not None:
        if not settings_sheet.rows:
            probs.add(SETTINGS, 2, "form_id", "settings 表第2行须填写 form_id、version、form_title、kind、basis")
        else:
            settings_row, settings = settings_sheet.rows[0]
            for extra_row, _ in settings_sheet.rows[1:]:
                probs.add(SETTINGS, extra_row, "form_id", "settings 表只能有一行设置（第2行）", settings_sheet.letter("form_id"))
    item_types: dict[str, str] = {}
    for _row, v in survey.rows:
        t, _arg = _split_type(v.get("type", ""))
        if v.get("name") and t not in ("begin_group", "end_group", "end_repeat"):
            item_types.setdefault(v["name"], ITEM_TYPE_OF.get(t, "choice" if t.startswith("select") else ""))
    # the columns of a repeat are not items: drop them from the names a rule may cite
    inside = False
    for _row, v in survey.rows:
        t, _arg = _split_type(v.get("type", ""))
        if t == "begin_repeat":
            inside = True
            continue
        if t == "end_repeat":
            inside = False
        elif inside and v.get("name") in item_types and item_types[v["name"]] != "table":
            item_types.pop(v["name"], None)
    ctx = _Ctx(probs, survey, lists, list_rows, item_types)
    data = _sheet_to_data(ctx, settings)
    toml_text = to_toml(data)
    try:
        cl = forms.parse_checklist(toml_text, fname)
    except FormError as e:
        for line in e.problems:
            _loader_problem(ctx, line, settings_row, settings_sheet)
        if not probs.lines:  # never silently accept what the loader refused
            probs.lines.extend(f"{fname}: {p}" for p in e.problems)
        cl = None
    if probs.lines:
        logger.info("%s: %d problem(s), nothing imported", fname, len(probs.lines))
        lines = probs.sorted() if len(probs.keys) == len(probs.lines) else probs.lines
        raise FormError(lines[0], lines)
    assert cl is not None
    return toml_text, cl


# -- export -----------------------------------------------------------------------------------------------
def export_xlsx(checklist: forms.Checklist, path: str | os.PathLike[str]) -> Path:
    """Write ``checklist`` as a workbook ``import_xlsx`` reads back to the same checklist."""
    import openpyxl
    from openpyxl.styles import Alignment, Font, PatternFill
    from openpyxl.worksheet.datavalidation import DataValidation

    data = checklist_data(checklist)
    wb = openpyxl.Workbook()
    ws = wb.active
    assert ws is not None
    ws.title = SURVEY
    ch = wb.create_sheet(CHOICES)
    st = wb.create_sheet(SETTINGS)
    ws.append(list(SURVEY_COLUMNS))
    ch.append(list(CHOICE_COLUMNS))
    lists: dict[tuple[str, ...], str] = {}

    def list_for(name: str, values: list[str]) -> str:
        key = tuple(values)
        if key not in lists:
            lists[key] = name
            for v in values:
                ch.append([name, v, v])
        return lists[key]

    def row(**kw: Any) -> None:
        ws.append([kw.get(c, "") for c in SURVEY_COLUMNS])

    for sec in data["sections"]:
        row(type="begin group", name=sec["id"], label=sec["title"])
        for it in sec["items"]:
            params = dict(it.get("params", {}))
            typ = it["type"]
            if typ == "choice":
                multi = params.get("multiple") is True
                if multi:
                    params.pop("multiple")
                xtype = f"{'select_multiple' if multi else 'select_one'} {list_for(it['id'], it['choices'])}"
            elif typ == "table":
                xtype = "begin repeat"
            else:
                xtype = XLS_TYPE_OF[typ]
            p = it.get("plausible")
            row(type=xtype, name=it["id"], label=it["text"], required="" if typ == "table" else "yes",
                relevant=format_relevant(it["when"]) if "when" in it else "",
                constraint=format_constraint(it["threshold"]) if "threshold" in it else "",
                constraint_message=it.get("fail_text", ""), hint=it.get("help", ""), basis=it["basis"],
                codes=", ".join(it.get("codes", [])), photo_required="yes" if it.get("photo_required") else "",
                unit=it.get("unit", ""), plausible=f"{_tv(p[0])}..{_tv(p[1])}" if p else "",
                rule=it.get("rule", ""), params=_tv(params)[2:-2] if params else "")
            if typ == "table":
                for c in it["columns"]:
                    ct = (f"select_one {list_for(it['id'] + '.' + c['id'], c['choices'])}" if c["type"] == "choice"
                          else XLS_COLUMN_TYPE[c["type"]])
                    row(type=ct, name=c["id"], label=c["label"])
                row(type="end repeat")
        row(type="end group")
    st.append(list(SETTINGS_COLUMNS))
    st.append([data["id"], data["version"], data["title"], data["kind"], data["basis"], data.get("description", "")])

    # readable for a clerk: bold header, frozen, wrapped, widths; yes/no lists
    widths = {"type": 22, "name": 12, "label": 48, "required": 8, "relevant": 24, "constraint": 22,
              "constraint_message": 24, "hint": 30, "basis": 40, "codes": 14, "photo_required": 10, "unit": 6,
              "plausible": 12, "rule": 12, "params": 30}
    head = PatternFill("solid", fgColor="DDEBF7")
    for sheet, cols in ((ws, SURVEY_COLUMNS), (ch, CHOICE_COLUMNS), (st, SETTINGS_COLUMNS)):
        sheet.freeze_panes = "A2"
        for i, c in enumerate(cols, 1):
            cell = sheet.cell(1, i)
            cell.font = Font(bold=True)
            cell.fill = head
            sheet.column_dimensions[_col_letter(i)].width = widths.get(c, 24 if sheet is not st else 30)
        for r in sheet.iter_rows(min_row=2):
            for cell in r:
                cell.alignment = Alignment(wrap_text=True, vertical="top")
                cell.number_format = "@"  # ids and versions stay text (2026.10 is not 2026.1)
    dv = DataValidation(type="list", formula1='"yes,no"', allow_blank=True)
    ws.add_data_validation(dv)
    for c in ("required", "photo_required"):
        letter = _col_letter(SURVEY_COLUMNS.index(c) + 1)
        dv.add(f"{letter}2:{letter}2000")
    out = Path(path)
    wb.save(out)
    return out


# -- jurisdiction profiles: a `profile` sheet of key/value rows ---------------------------------------------
PROFILE = "profile"
PROFILE_COLUMNS = ("key", "value", "note")
_PATH_RE = re.compile(r"^[A-Za-z_]\w*(?:\[\d*\])?(?:\.[A-Za-z_]\w*(?:\[\d*\])?)*$")
_SEG_RE = re.compile(r"([A-Za-z_]\w*)(?:\[(\d*)\])?")


def _flatten(d: dict, prefix: str = "") -> list[tuple[str, Any]]:
    """{"agency": {"name": …}, "own_documents": [a, b], "categories": [{…}]} → rows
    ("agency.name", …), ("own_documents[1]", a), ("categories[1].id", …); [] → ("code_prefixes[]", None)."""
    out: list[tuple[str, Any]] = []
    for k, v in d.items():
        path = prefix + k
        if isinstance(v, dict):
            out += _flatten(v, path + ".")
        elif isinstance(v, list):
            if not v:
                out.append((path + "[]", None))
            for i, x in enumerate(v, 1):
                if isinstance(x, dict):
                    out += _flatten(x, f"{path}[{i}].")
                else:
                    out.append((f"{path}[{i}]", x))
        else:
            out.append((path, v))
    return out


def _toml_doc(data: dict) -> str:
    """A profile's data as TOML: top-level values, then [tables], then [[arrays of tables]]."""
    lines: list[str] = []
    tables = {k: v for k, v in data.items() if isinstance(v, dict)}
    arrays = {k: v for k, v in data.items() if isinstance(v, list) and v and all(isinstance(x, dict) for x in v)}
    for k, v in data.items():
        if k not in tables and k not in arrays:
            lines.append(f"{_tk(k)} = {_tv(v)}")
    for k, t in tables.items():
        lines += ["", f"[{_tk(k)}]"] + [f"{_tk(kk)} = {_tv(vv)}" for kk, vv in t.items()]
    for k, arr in arrays.items():
        for x in arr:
            lines += ["", f"[[{_tk(k)}]]"] + [f"{_tk(kk)} = {_tv(vv)}" for kk, vv in x.items()]
    return "# Converted from a spreadsheet by `inspector forms import` (format: forms/profiles/README.md).\n" + \
        "\n".join(lines) + "\n"


def _cell_value(v: Any) -> Any:
    if isinstance(v, float) and v.is_integer():
        return int(v)
    if isinstance(v, str):
        return v.strip()
    return v


def is_profile_workbook(path: str | os.PathLike[str]) -> bool:
    """A workbook with a ``profile`` sheet and no ``survey`` sheet holds a jurisdiction profile."""
    import openpyxl

    try:
        wb = openpyxl.load_workbook(path, read_only=True)
    except Exception:  # noqa: BLE001 - import_xlsx reports the unreadable file with its reason
        return False
    try:
        names = {n.strip().lower() for n in wb.sheetnames}
    finally:
        wb.close()
    return PROFILE in names and SURVEY not in names


def import_profile_xlsx(path: str | os.PathLike[str]) -> tuple[str, Any]:
    """A profile workbook (sheet ``profile``: key, value[, note]) → (TOML text, Profile), validated by
    the strict profile loader. Problems as ``FILE: profile: 第N行: X列（key|value）: message``."""
    import openpyxl

    from inspector import profiles
    from inspector.errors import ValidationError

    fname = Path(path).name
    probs = _Problems(fname)
    try:
        wb = openpyxl.load_workbook(path, read_only=True, data_only=True)
    except Exception as e:  # noqa: BLE001 - a damaged or non-xlsx file
        msg = f"{fname}: 无法打开工作簿（{type(e).__name__}：{e}）"
        raise ValidationError(msg, [msg]) from e
    try:
        ws = {w.title.strip().lower(): w for w in wb.worksheets}.get(PROFILE)
        raw = list(ws.iter_rows(values_only=True)) if ws is not None else []
    finally:
        wb.close()
    if ws is None:
        msg = f"{fname}: {PROFILE}: 第1行: —: 工作簿中没有名为“{PROFILE}”的工作表"
        raise ValidationError(msg, [msg])
    head = [_text(h).lower() for h in (raw[0] if raw else ())]
    if head[:2] != ["key", "value"]:
        probs.add(PROFILE, 1, "key", "表头应为 key、value（可加 note）", "A")
        raise ValidationError(probs.lines[0], probs.lines)
    data: dict[str, Any] = {}
    where: dict[str, int] = {}  # flattened key -> row
    lists: dict[tuple[str, ...], dict[int, Any]] = {}
    for rn, r in enumerate(raw[1:], 2):
        key = _text(r[0]) if r else ""
        value = _cell_value(r[1]) if len(r) > 1 else None
        if not key and value in (None, ""):
            continue
        if not _PATH_RE.match(key):
            probs.add(PROFILE, rn, "key", f"键“{key}”无效（写成 agency.name、own_documents[1]、categories[2].id）", "A")
            continue
        if key in where:
            probs.add(PROFILE, rn, "key", f"键“{key}”与第{where[key]}行重复", "A")
            continue
        where[key] = rn
        _put(data, key, "" if value is None else value, lists)  # an empty cell is an empty text
    text = ""
    if not probs.lines:
        try:
            data = _finish_lists(data)
        except ValueError as e:
            k = str(e)
            probs.add(PROFILE, where.get(k, 2), "key", f"{k} 的序号须从 1 起连续", "A")
        text = _toml_doc(data)
    prof = None
    if not probs.lines:
        try:
            prof = profiles.parse_profile(text, fname)
        except ValidationError as e:
            for line in e.problems:
                _profile_problem(probs, line, fname, where)
    if probs.lines or prof is None:
        lines = probs.sorted() or [f"{fname}: 未能导入"]
        raise ValidationError(lines[0], lines)
    return text, prof


def _put(data: dict, key: str, value: Any, lists: dict) -> None:
    """Set a flattened key; list indices are collected as {index: value} and ordered later."""
    node: Any = data
    segs = _SEG_RE.findall(key)
    for n, (name, idx) in enumerate(segs):
        last = n == len(segs) - 1
        has_idx = f"{name}[" in key.split(".")[n]
        if not has_idx:
            if last:
                node[name] = value
            else:
                node = node.setdefault(name, {})
            continue
        slot = node.setdefault(name, {"__list__": {}})
        if idx == "":
            continue  # "code_prefixes[]": an empty list
        if last:
            slot["__list__"][int(idx)] = value
        else:
            node = slot["__list__"].setdefault(int(idx), {})


def _finish_lists(node: Any, path: str = "") -> Any:
    if isinstance(node, dict) and set(node) == {"__list__"}:
        items = node["__list__"]
        if sorted(items) != list(range(1, len(items) + 1)):
            raise ValueError(path)
        return [_finish_lists(items[i], f"{path}[{i}]") for i in sorted(items)]
    if isinstance(node, dict):
        return {k: _finish_lists(v, f"{path}.{k}" if path else k) for k, v in node.items()}
    return node


def _profile_problem(probs: _Problems, line: str, fname: str, where: dict[str, int]) -> None:
    """The profile loader's Chinese lines name a [table], 'categories 第N项' and/or a key: find its row."""
    msg = line[len(fname) + 2:] if line.startswith(fname + ": ") else line
    table = re.search(r"\[(\w+)\]", msg)
    item = re.search(r"(\w+) 第(\d+)项", msg)
    key = re.search(r"'(\w+)'|\] (\w+) ", msg)
    prefix = ""
    if item:
        prefix = f"{item.group(1)}[{item.group(2)}]."
    elif table:
        prefix = f"{table.group(1)}."
    field_ = (key.group(1) or key.group(2)) if key else ""
    row = where.get(prefix + field_) if field_ else None
    if row is None:
        row = min((r for k, r in where.items() if prefix and k.startswith(prefix)), default=None)
    missing = "缺少字段" in msg
    on_key = missing or "未知字段" in msg
    probs.add(PROFILE, row or 1, "key" if on_key else "value",
              msg + (f"（请加一行 key = {prefix}{field_}）" if missing and field_ else ""), "A" if on_key else "B")


def export_profile_xlsx(text: str, path: str | os.PathLike[str]) -> Path:
    """A profile's TOML text as a ``profile`` sheet that ``import_profile_xlsx`` reads back."""
    import openpyxl
    from openpyxl.styles import Alignment, Font

    wb = openpyxl.Workbook()
    ws = wb.active
    assert ws is not None
    ws.title = PROFILE
    ws.append(list(PROFILE_COLUMNS))
    for k, v in _flatten(tomllib.loads(text)):
        ws.append([k, v, ""])
    ws.freeze_panes = "A2"
    ws.column_dimensions["A"].width = 36
    ws.column_dimensions["B"].width = 80
    ws.column_dimensions["C"].width = 24
    for c in ws[1]:
        c.font = Font(bold=True)
    for r in ws.iter_rows(min_row=2):
        for cell in r:
            cell.alignment = Alignment(wrap_text=True, vertical="top")
    out = Path(path)
    wb.save(out)
    return out
