"""The dishonesty catalogue (失信行为等级分类指导目录, annex of 内人社办发〔2024〕58号).

Checklists, findings, documents, the ledger and the credit grade all cite these
codes, so they are loaded once from ``forms/catalogue.toml`` and never renumbered:
``PX``/``PJ`` (培训机构/评价机构) - ``QW``/``YB``/``YZ`` (轻微/一般/严重) - n.
"""
from __future__ import annotations

import functools
import tomllib
from dataclasses import dataclass
from pathlib import Path

from inspector import paths
from inspector.errors import ValidationError

KINDS = {"PX": "培训机构", "PJ": "评价机构"}
SEVERITIES = {"QW": "轻微", "YB": "一般", "YZ": "严重"}
SEVERITY_RANK = {"轻微": 1, "一般": 2, "严重": 3}
CATALOGUE_FILE = "catalogue.toml"


@dataclass(frozen=True)
class Entry:
    code: str
    kind: str       # 培训机构 / 评价机构
    severity: str   # 轻微 / 一般 / 严重
    number: int     # n as the seed numbers it within kind + severity
    row: int        # 序号 1..55 in the seed
    text: str

    def as_dict(self) -> dict:
        return {"code": self.code, "kind": self.kind, "severity": self.severity,
                "number": self.number, "row": self.row, "text": self.text}


def catalogue_path() -> Path:
    return paths.forms_dir() / CATALOGUE_FILE


def parse_catalogue(text: str, filename: str = "forms/catalogue.toml") -> dict[str, Entry]:
    """Parse and check the catalogue file; every problem is collected."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as e:
        raise ValidationError(f"{filename}: TOML syntax error: {e}") from e
    problems: list[str] = []
    out: dict[str, Entry] = {}
    rows_seen: set[int] = set()
    for i, raw in enumerate(data.get("entry", []), 1):
        where = f"{filename}: entry {raw.get('code', i)}"
        extra = set(raw) - {"code", "kind", "severity", "number", "row", "text"}
        if extra:
            problems.append(f"{where}: unknown key(s) {sorted(extra)}")
        try:
            code, kind, sev = str(raw["code"]), str(raw["kind"]), str(raw["severity"])
            number, row, body = int(raw["number"]), int(raw["row"]), str(raw["text"]).strip()
        except (KeyError, TypeError, ValueError) as e:
            problems.append(f"{where}: missing or bad field {e}")
            continue
        parts = code.split("-")
        if (len(parts) != 3 or KINDS.get(parts[0]) != kind or SEVERITIES.get(parts[1]) != sev
                or parts[2] != str(number)):
            problems.append(f"{where}: code does not match kind {kind}, severity {sev}, number {number}")
        if code in out:
            problems.append(f"{where}: duplicate code")
        if row in rows_seen:
            problems.append(f"{where}: duplicate row {row}")
        if not body:
            problems.append(f"{where}: empty text")
        rows_seen.add(row)
        out[code] = Entry(code, kind, sev, number, row, body)
    if problems:
        raise ValidationError(problems[0], problems)
    return dict(sorted(out.items(), key=lambda kv: kv[1].row))


@functools.lru_cache(maxsize=1)
def catalogue() -> dict[str, Entry]:
    """All 55 entries, ordered by seed row (cached for the process)."""
    p = catalogue_path()
    try:
        text = p.read_text(encoding="utf-8")
    except OSError as e:
        raise ValidationError(f"{p}: 无法读取失信行为目录（{e.strerror}）") from e
    return parse_catalogue(text, str(p))


def entry(code: str) -> Entry:
    try:
        return catalogue()[code]
    except KeyError:
        raise ValidationError(f"未知的失信行为代码 '{code}'（目录中没有此代码）") from None


def worst(severities: "list[str] | tuple[str, ...]") -> str | None:
    """The most serious of 轻微/一般/严重, or None for an empty list."""
    return max(severities, key=SEVERITY_RANK.__getitem__) if severities else None
