"""What HQ accepts from a device or the public, as typed models: request bodies and replies of the
device API and the public routes (they make HQ's OpenAPI document, which schemathesis tests against),
the JSON parser with bounded nesting every JSON body goes through, and the per-op row check
(``check_op_row``/``check_op_data``) that keeps a column of the wrong type, an over-long string or a
number out of range from reaching the database.

Everything here refuses with a Chinese message naming the field; nothing raises past a route as a 500.
"""
from __future__ import annotations

import functools
import json
import math
import re
from typing import Annotated, Any, Literal

import sqlalchemy as sa
from pydantic import AfterValidator, BaseModel, ConfigDict, Field, StrictInt, StrictStr, ValidationError

from inspector.hq.errors import HQError

MAX_DEPTH = 64          # JSON nesting HQ parses (a laptop's deepest body is about 6)
MAX_OPS = 5000          # ops in one push (a laptop sends at most 100)
MAX_AUDIT = 5000        # audit entries in one push (a laptop sends at most 500)
INT32 = 2**31 - 1       # HQ's INTEGER columns are 32-bit on PostgreSQL
INT64 = 2**63 - 1       # BIGINT cursors
MAX_TEXT = 256 * 1024   # characters in one text column of a pushed row
MAX_ID = 128            # characters in an id (laptops make 36-character UUIDs)
PAGE_MAX = 5000         # rows in one pull page
YEAR_MIN, YEAR_MAX = 2000, 2100


# -- JSON with bounded nesting ------------------------------------------------------------------------
_NOT_BRACKET_OR_QUOTE = bytes(b for b in range(256) if b not in b'[]{}"')
_MAYBE_SURROGATE = re.compile(rb"\\u[dD][89a-fA-F]")


@functools.lru_cache(maxsize=8)
def _opener_run(limit: int) -> re.Pattern[bytes]:
    return re.compile(rb"[\[{]{%d}" % (limit + 1))


def _depth_bound(raw: bytes, limit: int) -> bool | None:
    """Whether ``raw`` nests arrays/objects deeper than ``limit``, found without parsing it (the
    parser recurses: 100,000 ``[`` exhaust Python's stack): True, False, or None when only a parse
    can tell. String contents are taken out, then each round drops every innermost ``[]`` and
    ``{}`` pair — at least one level and at most two — with C-speed replaces only, so this costs
    a few milliseconds for a 1 MB push and stays linear for any input."""
    s = raw.replace(b"\\\\", b"").replace(b'\\"', b"")  # escaped backslashes, then escaped quotes
    # adjacent quotes enclose nothing (or close one string and open the next): dropping them keeps
    # every other character's inside/outside, and leaves only strings that hold a bracket to split
    s = s.translate(None, _NOT_BRACKET_OR_QUOTE).replace(b'""', b"")
    if b'"' in s:
        s = b"".join(s.split(b'"')[0::2])  # what lies between quotes is string content
    if _opener_run(limit).search(s):  # limit + 1 openers in a row: the plain attack, answered at once
        return True
    for rounds in range(limit):
        if not s:  # depth is between rounds and 2 * rounds
            return False if 2 * rounds <= limit else None
        peeled = s.replace(b"[]", b"").replace(b"{}", b"")
        if peeled == s:
            return None  # unbalanced: not JSON, the parser will say why (or hit its own limit)
        s = peeled
    return True if s else None


def json_depth(value: Any) -> int:
    """How deeply a parsed JSON value nests arrays/objects (iteratively: no recursion to exhaust)."""
    deepest = 0
    stack = [(value, 1)]
    while stack:
        v, d = stack.pop()
        kids = v.values() if isinstance(v, dict) else v if isinstance(v, list) else None
        if kids is None:
            continue
        deepest = max(deepest, d)
        stack.extend((k, d + 1) for k in kids if isinstance(k, (dict, list)))
    return deepest


def json_depth_over(raw: bytes, limit: int = MAX_DEPTH) -> bool:
    """True when the JSON text ``raw`` nests deeper than ``limit`` (False for text that is not JSON)."""
    verdict = _depth_bound(raw, limit)
    if verdict is not None:
        return verdict
    try:
        return json_depth(json.loads(raw)) > limit
    except RecursionError:
        return True
    except ValueError:
        return False


def _no_constant(name: str) -> Any:
    raise ValueError(f"JSON 不允许 {name}")


def parse_json(raw: bytes, *, limit: int = MAX_DEPTH) -> Any:
    """A request body → Python, or HQError 400 with a Chinese reason: not JSON, nested deeper than
    ``limit``, NaN/Infinity, or a lone UTF-16 surrogate (no database can store one)."""
    if not raw.strip():
        raise HQError(400, "bad_json", "请求正文为空；应为 JSON")
    try:  # RFC 8259: JSON between systems is UTF-8 (the checks below read its bytes as such)
        text = raw.decode("utf-8")
    except UnicodeDecodeError as e:
        raise HQError(400, "bad_json", f"请求正文应为 UTF-8 编码的 JSON（第 {e.start} 字节起无法解码）") from None
    too_deep = HQError(400, "json_too_deep", f"请求正文的 JSON 嵌套超过 {limit} 层，总部不予解析")
    verdict = _depth_bound(raw, limit)
    if verdict:
        raise too_deep
    try:
        body = json.loads(text, parse_constant=_no_constant)
    except RecursionError:  # the parser's own limit (about 1,000 levels) on what the scan left open
        raise too_deep from None
    except ValueError as e:  # JSONDecodeError (and the NaN/Infinity refusal) are ValueErrors
        raise HQError(400, "bad_json", f"请求正文不是有效的 JSON：{e}") from None
    if verdict is None and json_depth(body) > limit:
        raise too_deep
    if _MAYBE_SURROGATE.search(raw):
        try:
            json.dumps(body, ensure_ascii=False).encode("utf-8")
        except UnicodeEncodeError:
            raise HQError(400, "bad_json", "请求正文含有孤立的 Unicode 代理字符（\\ud800–\\udfff），无法保存") from None
    return body


# -- field types ----------------------------------------------------------------------------------------
def _no_nul(v: str) -> str:
    if "\x00" in v:
        raise ValueError("不能含有 NUL 字符（\\u0000）")
    return v


def Text(max_length: int, min_length: int = 0) -> Any:
    """A string (no coercion from numbers) of bounded length without NUL characters."""
    return Annotated[StrictStr, Field(min_length=min_length, max_length=max_length), AfterValidator(_no_nul)]


Sha256 = Annotated[StrictStr, Field(pattern=r"^[0-9a-f]{64}$", description="SHA-256，64 位小写十六进制")]
Seq = Annotated[StrictInt, Field(ge=1, le=INT32)]


class _In(BaseModel):
    model_config = ConfigDict(extra="ignore")


class _Out(BaseModel):
    """Replies: the fields named are typed; anything else HQ adds is allowed through."""
    model_config = ConfigDict(extra="allow")


# -- requests -------------------------------------------------------------------------------------------
class Op(_In):
    """One pushed operation (idempotent by ``op_id``)."""
    op_id: Text(64, 1)  # type: ignore[valid-type]
    entity: Text(64, 1)  # type: ignore[valid-type]
    entity_id: Text(MAX_ID, 1)  # type: ignore[valid-type]
    op: Literal["upsert", "delete"] = "upsert"
    data: dict[str, Any] | None = None
    blobs: list[Sha256] = Field(default_factory=list, max_length=10000)


class AuditEntry(_In):
    """One entry of the device's append-only audit chain, as the laptop's ``audit_log`` holds it."""
    seq: Seq
    ts: Text(64) | None = None  # type: ignore[valid-type]
    actor: Text(256) | None = None  # type: ignore[valid-type]
    entity: Text(256) | None = None  # type: ignore[valid-type]
    entity_id: Text(256) | None = None  # type: ignore[valid-type]
    action: Text(256) | None = None  # type: ignore[valid-type]
    payload: Any = None
    prev_hash: Sha256
    hash: Sha256


class AuditHead(_In):
    seq: Annotated[StrictInt, Field(ge=0, le=INT32)]
    hash: Sha256


class AuditBlock(_In):
    entries: list[AuditEntry] = Field(default_factory=list, max_length=MAX_AUDIT)
    head: AuditHead | None = None


class PushRequest(_In):
    ops: list[Op] = Field(default_factory=list, max_length=MAX_OPS)
    audit: AuditBlock | None = None


class EnrolRequest(_In):
    code: Text(64, 1)  # type: ignore[valid-type]
    public_key_pem: Text(16384, 1)  # type: ignore[valid-type]
    qr_public_key_pem: Text(16384) | None = None  # type: ignore[valid-type]
    device_name: Text(200) | None = None  # type: ignore[valid-type]
    badge_no: Text(64) | None = None  # type: ignore[valid-type]


class CertifyRequest(_In):
    code: Text(64, 1)  # type: ignore[valid-type]
    badge_no: Text(64, 1)  # type: ignore[valid-type]
    public_key_pem: Text(16384, 1)  # type: ignore[valid-type]


class UsedNumbers(_In):
    """How far the device used one of its number blocks: numbers ``first`` … ``next - 1``."""
    agency: Text(64, 1)  # type: ignore[valid-type]
    year: Annotated[StrictInt, Field(ge=0, le=INT32)]
    first: Annotated[StrictInt, Field(ge=0, le=INT32)]
    next: Annotated[StrictInt, Field(ge=0, le=INT32)]


class DocBlockRequest(_In):
    """All optional: ``year`` (this year when absent), ``agency`` or ``agencies`` (HQ's document-number
    prefixes; all of them when absent), ``used`` (how far the device used its blocks)."""
    year: Annotated[StrictInt, Field(ge=YEAR_MIN, le=YEAR_MAX)] | None = None
    agency: Text(64, 1) | None = None  # type: ignore[valid-type]
    agencies: list[Text(64, 1)] | None = Field(None, max_length=100)  # type: ignore[valid-type]
    used: list[UsedNumbers] | None = Field(None, max_length=1000)


class BlobsCheckRequest(_In):
    shas: list[Sha256] = Field(max_length=10000)


# -- replies --------------------------------------------------------------------------------------------
class ErrorBody(_Out):
    """Every refusal: a Chinese message and a stable English code."""
    error: str
    code: str


class Health(_Out):
    ok: bool
    version: str


class DocBlock(_Out):
    agency: str
    year: int
    first: int
    last: int


class EnrolReply(_Out):
    device_id: str
    token: str
    inspector: dict[str, Any]
    cert_pem: str
    ca_pem: str
    doc_blocks: list[DocBlock]
    hq: dict[str, Any]


class CertifyReply(_Out):
    badge_no: str
    inspector: dict[str, Any]
    device_id: str
    cert_pem: str
    ca_pem: str


class VerifyReply(_Out):
    found: bool
    genuine: bool
    message: str | None = None


class OpResult(_Out):
    op_id: str | None
    status: str


class AuditReply(_Out):
    seq: int
    hash: str
    status: str
    problems: list[str] = []


class PushReply(_Out):
    results: list[OpResult]
    audit: AuditReply


class Change(_Out):
    seq: int
    entity: str
    entity_id: str
    op: str
    data: dict[str, Any] | None


class ChangesPage(_Out):
    changes: list[Change]
    cursor: int
    more: bool


class SyncState(_Out):
    device_id: str
    badge_no: str
    audit: dict[str, Any]
    limits: dict[str, Any]


class DocBlocks(_Out):
    blocks: list[DocBlock]


def refusals(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """``responses=`` for a route: these statuses answer HQ's refusal body."""
    zh = {400: "请求正文无法解析", 401: "未认证（令牌或登记码无效）", 403: "设备已吊销或无权操作", 404: "没有这项记录",
          409: "冲突", 413: "请求过大", 422: "请求参数无效", 429: "请求过于频繁"}
    return {s: {"model": ErrorBody, "description": zh.get(s, "拒绝")} for s in statuses}


# -- validation messages in Chinese ------------------------------------------------------------------------
def _where(loc: Any) -> str:
    parts = list(loc or ())
    head = parts.pop(0) if parts and parts[0] in ("body", "query", "path", "header") else None
    out = ""
    for p in parts:
        out += f"[{p}]" if isinstance(p, int) else (f".{p}" if out else str(p))
    kind = {"query": "查询参数", "path": "路径参数", "header": "请求头"}.get(str(head), "字段")
    return f"{kind} {out}" if out else ("请求正文" if head == "body" else kind)


def _what(e: dict[str, Any]) -> str:
    t, ctx = e.get("type", ""), e.get("ctx") or {}
    if t == "missing":
        return "缺少"
    if t.startswith("int_") or t == "int_type":
        return "应为整数"
    if t.startswith("float_"):
        return "应为数字"
    if t.startswith("bool_"):
        return "应为 true 或 false"
    if t.startswith("string_type") or t == "str_type":
        return "应为字符串"
    if t in ("dict_type", "model_type", "model_attributes_type"):
        return "应为 JSON 对象"
    if t == "list_type":
        return "应为列表"
    if t == "greater_than_equal":
        return f"不能小于 {ctx.get('ge')}"
    if t == "greater_than":
        return f"应大于 {ctx.get('gt')}"
    if t == "less_than_equal":
        return f"不能大于 {ctx.get('le')}"
    if t == "less_than":
        return f"应小于 {ctx.get('lt')}"
    if t == "string_too_long":
        return f"长度不能超过 {ctx.get('max_length')} 个字符"
    if t == "string_too_short":
        return "不能为空" if ctx.get("min_length") == 1 else f"长度至少 {ctx.get('min_length')} 个字符"
    if t == "too_long":
        return f"最多 {ctx.get('max_length')} 项"
    if t == "too_short":
        return f"至少 {ctx.get('min_length')} 项"
    if t == "string_pattern_mismatch":
        return "格式不符" + ("（应为 64 位小写十六进制 SHA-256）" if "{64}" in str(ctx.get("pattern")) else "")
    if t == "literal_error":
        return f"应为 {ctx.get('expected')}"
    if t == "value_error":
        return str(ctx.get("error") or e.get("msg", "")).removeprefix("Value error, ")
    if t == "json_invalid":
        return f"不是有效的 JSON（{ctx.get('error')}）"
    return f"无效（{e.get('msg')}）"


def validation_problems(errors: Any) -> tuple[str, list[dict[str, Any]]]:
    """pydantic/FastAPI validation errors → a Chinese sentence naming each field (the first five)
    and a JSON-safe list without the offending input (which may be huge)."""
    errs = [dict(e) for e in errors]
    parts = [f"{_where(e.get('loc'))}{_what(e)}" for e in errs[:5]]
    more = f"（另有 {len(errs) - 5} 处）" if len(errs) > 5 else ""
    problems = [{"loc": [p if isinstance(p, (int, str)) else str(p) for p in e.get("loc") or ()],
                 "type": str(e.get("type")), "message": f"{_where(e.get('loc'))}{_what(e)}"} for e in errs[:50]]
    return "请求参数无效：" + "；".join(parts) + more, problems


def parse_audit(audit: Any) -> dict[str, Any]:
    """A push's ``audit`` block, typed (``AuditBlock``), or HQError 422 naming the field."""
    try:
        return AuditBlock.model_validate(audit if audit is not None else {}).model_dump()
    except ValidationError as e:
        errs = [{**err, "loc": ("body", "audit", *err.get("loc", ()))} for err in e.errors()]
        message, problems = validation_problems(errs)
        raise HQError(422, "bad_request", message, problems=problems) from None


# -- rows of pushed ops ------------------------------------------------------------------------------------
def _is_id(col: str) -> bool:
    return col == "id" or col.endswith("_id") or col == "sha256"


# HQ's bookkeeping columns: set by HQ, never taken from the laptop's row
_BOOKKEEPING = {"extra", "device_id", "received_at", "superseded_by"}
_Spec = tuple[str, type, int, bool]  # column, Python type HQ stores, text limit, required
_specs: dict[str, list[_Spec]] = {}


def _columns(table: sa.Table) -> list[_Spec]:
    """What each column of ``table`` a laptop may fill takes (worked out once per table: the check
    runs for every row of every push)."""
    spec = _specs.get(table.name)
    if spec is None:
        spec = [(c.name, c.type.python_type, MAX_ID if _is_id(c.name) else MAX_TEXT,
                 not c.nullable and c.server_default is None)
                for c in table.c if c.name not in _BOOKKEEPING]
        _specs[table.name] = spec
    return spec


def _check_value(table: sa.Table, col: str, py: type, limit: int, v: Any) -> str | None:
    name = f"{table.name}.{col}"
    if py is str:
        if type(v) is not str:
            return f"字段 {name} 应为文本，收到的是{_kind(v)}"
        if len(v) > limit:
            return f"字段 {name} 过长（{len(v)} 个字符，上限 {limit}）"
        if "\x00" in v:
            return f"字段 {name} 含有 NUL 字符（\\u0000），无法保存"
        return None
    if py is int:
        if type(v) is not int:
            return f"字段 {name} 应为整数，收到的是{_kind(v)}"
        if not -INT32 - 1 <= v <= INT32:
            return f"字段 {name} 的数值 {v} 超出范围（±{INT32}）"
        return None
    if py is float:
        if type(v) is not int and type(v) is not float:
            return f"字段 {name} 应为数字，收到的是{_kind(v)}"
        if type(v) is int and abs(v) > INT64 or type(v) is float and not math.isfinite(v):
            return f"字段 {name} 的数值超出范围"
        return None
    return None  # pragma: no cover - HQ's pushed tables have only text, integer and float columns


def _kind(v: Any) -> str:
    if isinstance(v, bool):
        return "布尔值"
    if isinstance(v, (int, float)):
        return f"数字 {v!r}"[:40]
    if isinstance(v, str):
        return "文本"
    if isinstance(v, dict):
        return "对象"
    if isinstance(v, list):
        return "列表"
    return type(v).__name__


def _plain(py: type, limit: int, v: Any) -> bool:
    """``v`` (already of type ``py``) fits its column."""
    if py is str:
        return len(v) <= limit and "\x00" not in v
    if py is int:
        return bool(-INT32 - 1 <= v <= INT32)
    return py is not float or math.isfinite(v)


def check_table_row(table: sa.Table, row: Any, *, where: str = "", fixed: tuple[str, ...] = ()) -> str | None:
    """A row for ``table``: each column HQ stores has the column's type, length and range, and the
    columns HQ requires are there. Unknown keys go to the row's ``extra`` JSON and are not checked.
    ``fixed``: columns HQ fills in itself (e.g. ``inspection_id`` of an inspection's answers)."""
    pre = f"{where}：" if where else ""
    if not isinstance(row, dict):
        return f"{pre}{table.name} 的行应为 JSON 对象，收到的是{_kind(row)}"
    for col, py, limit, required in _columns(table):
        v = row.get(col)
        if v is None:
            if required and col not in fixed:
                return f"{pre}缺少必填字段 {table.name}.{col}"
            continue
        if type(v) is py and _plain(py, limit, v):
            continue  # the common case, without building a message
        if col in fixed:
            continue
        problem = _check_value(table, col, py, limit, v)
        if problem:
            return pre + problem
    return None


def _tables() -> dict[str, sa.Table]:
    from inspector.hq.service import ENTITY_TABLES  # late: service may import this module

    return ENTITY_TABLES


def check_op_row(entity: str, row: Any) -> str | None:
    """The ``row`` of an upsert of ``entity`` → a Chinese problem, or None when HQ can store it.
    Unknown entities are not this function's business (None)."""
    table = _tables().get(entity)
    if table is None:
        return None
    return check_table_row(table, row)


def check_op_data(entity: str, entity_id: Any, kind: str, data: Any) -> str | None:
    """The whole ``data`` of one op → a Chinese problem or None: the row (its ``id`` must be the op's
    ``entity_id``) and, for an inspection, its answers, findings and child rows."""
    from inspector.hq import db as D

    if kind == "delete" or entity not in _tables():
        return None
    if not isinstance(data, dict):
        return f"{entity} {entity_id} 的数据应为 JSON 对象（含 row），收到的是{_kind(data)}"
    row = data.get("row")
    if not isinstance(row, dict):
        return f"{entity} {entity_id} 的数据缺少 row（应为 JSON 对象）"
    if row.get("id") != entity_id:
        return f"{entity} {entity_id} 的 row.id 与操作的 entity_id 不符"
    problem = check_op_row(entity, row)
    if problem or entity != "inspection":
        return problem
    for key in ("answers", "findings"):
        items = data.get(key)
        if items is None:
            continue
        if not isinstance(items, list):
            return f"检查记录 {entity_id} 的 {key} 应为列表，收到的是{_kind(items)}"
        table = D.answers if key == "answers" else D.findings
        for i, r in enumerate(items):
            problem = check_table_row(table, r, where=f"检查记录 {entity_id} 的 {key}[{i}]", fixed=("inspection_id",))
            if problem:
                return problem
    kids = data.get("children")
    if kids is not None:
        if not isinstance(kids, dict):
            return f"检查记录 {entity_id} 的 children 应为 JSON 对象，收到的是{_kind(kids)}"
        for k, rows in kids.items():
            if len(k) > 64 or "\x00" in k:
                return f"检查记录 {entity_id} 的 children 类别名 {k[:64]!r} 无效"
            if not isinstance(rows, list):
                return f"检查记录 {entity_id} 的 children.{k} 应为列表，收到的是{_kind(rows)}"
            for i, c in enumerate(rows):
                if not isinstance(c, dict):
                    return f"检查记录 {entity_id} 的 children.{k}[{i}] 应为 JSON 对象，收到的是{_kind(c)}"
                cid = c.get("id")
                if cid is not None and not (isinstance(cid, (str, int)) and not isinstance(cid, bool)
                                            and len(str(cid)) <= MAX_ID and "\x00" not in str(cid)):
                    return f"检查记录 {entity_id} 的 children.{k}[{i}].id 应为不超过 {MAX_ID} 个字符的文本"
    return None


def check_op(op: dict[str, Any]) -> str | None:
    """A validated op's envelope (``Op`` dumped) → the problem with its data, or None."""
    return check_op_data(op["entity"], op["entity_id"], op.get("op", "upsert"), op.get("data"))
