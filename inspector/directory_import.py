"""The two directories of 双随机: institutions (检查对象名录库) and inspectors (执法检查人员名录库).

Import from XLSX/CSV with the headers the bureaus use. Every bad row is reported with its Excel
row number; by default nothing is written when any row is bad (one transaction), with
``partial=True`` the good rows are written and the rest reported. Re-import updates by key
(统一社会信用代码 / 执法证号), never duplicates.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from inspector.errors import ImportRowsError
from inspector.idnumbers import credit_code_problem, normalize_credit_code
from inspector.tabular import Column, read_table

KINDS = ("培训机构", "评价机构")
CREDIT_GRADES = ("优秀", "良好", "合格", "不合格")

INSTITUTION_COLUMNS = (
    Column("name", "机构名称"),
    Column("credit_code", "统一社会信用代码"),
    Column("kind", "机构类型"),
    Column("county", "所属区县"),
    Column("address", "地址"),
    Column("legal_rep", "法定代表人"),
    Column("contact", "联系人"),
    Column("phone", "联系电话"),
    Column("trades", "职业工种"),
    Column("headcount", "培训或取证人数"),
    Column("licence_no", "许可证号或备案号", required=False),
    Column("credit_grade", "信用等级", required=False),
    Column("complaints", "投诉次数", required=False),
)

INSPECTOR_COLUMNS = (
    Column("name", "姓名"),
    Column("badge_no", "执法证号"),
    Column("unit", "工作单位"),
    Column("county", "所属区县"),
    Column("specialties", "专业领域"),
    Column("conflicts", "回避机构", required=False),
)

_SPLIT = re.compile(r"[；;,，、\n]+")


def split_list(text: str) -> list[str]:
    """'电工；焊工, 育婴员' → ['电工', '焊工', '育婴员'] (order kept, duplicates dropped)."""
    out: list[str] = []
    for part in _SPLIT.split(text or ""):
        p = part.strip()
        if p and p not in out:
            out.append(p)
    return out


def _int_cell(value: str) -> int | None:
    v = value.strip().replace(",", "")
    if not v:
        return None
    if not re.fullmatch(r"\d+", v):
        raise ValueError(v)
    return int(v)


@dataclass
class ImportReport:
    """What an import did; ``problems`` lists the rows that were not imported."""

    file: str
    directory: str                  # 'institutions' / 'inspectors'
    total: int = 0
    inserted: int = 0
    updated: int = 0
    unchanged: int = 0
    skipped: int = 0
    problems: list[str] = field(default_factory=list)

    @property
    def imported(self) -> int:
        return self.inserted + self.updated + self.unchanged

    def to_json(self) -> dict[str, Any]:
        return {"file": self.file, "directory": self.directory, "total": self.total,
                "imported": self.imported, "inserted": self.inserted, "updated": self.updated,
                "unchanged": self.unchanged, "skipped": self.skipped, "problems": self.problems}

    def text(self) -> str:
        lines = [f"{self.file}: 共 {self.total} 行，导入 {self.imported} 行（新增 {self.inserted}，"
                 f"更新 {self.updated}，未变 {self.unchanged}），跳过 {self.skipped} 行"]
        return "\n".join(lines + self.problems)


def _dupes(items: list[tuple[int, str]], name: str, label: str,
           bad: dict[int, list[str]]) -> None:
    """Every row sharing a key with another row is bad: we cannot tell which one is right."""
    rows_by_key: dict[str, list[int]] = {}
    for rowno, key in items:
        if key:
            rows_by_key.setdefault(key, []).append(rowno)
    for key, rows in rows_by_key.items():
        if len(rows) > 1:
            for r in rows:
                others = "、".join(str(o) for o in rows if o != r)
                bad.setdefault(r, []).append(f"{name}: 第 {r} 行: {label} \"{key}\" 与第 {others} 行重复")


def parse_institutions(path: str | Path) -> tuple[list[dict[str, Any]], list[str], int]:
    """Validated records, problems (one line each, in row order) and the number of data rows."""
    table = read_table(path, INSTITUTION_COLUMNS)
    name = table.name
    bad: dict[int, list[str]] = {}
    good: dict[int, dict[str, Any]] = {}
    keys = []
    for rowno, r in table.rows:
        msgs = []
        for c in INSTITUTION_COLUMNS:
            if c.required and not r[c.key]:
                msgs.append(f"{name}: 第 {rowno} 行: 缺少\"{c.header}\"")
        code = normalize_credit_code(r["credit_code"])
        if code:
            why = credit_code_problem(code)
            if why:
                msgs.append(f"{name}: 第 {rowno} 行: 统一社会信用代码 \"{r['credit_code']}\" {why}")
        keys.append((rowno, code))
        if r["kind"] and r["kind"] not in KINDS:
            msgs.append(f"{name}: 第 {rowno} 行: 机构类型 \"{r['kind']}\" 未知（应为 培训机构 或 评价机构）")
        if r["credit_grade"] and r["credit_grade"] not in CREDIT_GRADES:
            msgs.append(f"{name}: 第 {rowno} 行: 信用等级 \"{r['credit_grade']}\" 未知"
                        f"（应为 {'/'.join(CREDIT_GRADES)} 或留空）")
        nums = {}
        for key, header in (("headcount", "培训或取证人数"), ("complaints", "投诉次数")):
            try:
                nums[key] = _int_cell(r[key])
            except ValueError:
                msgs.append(f"{name}: 第 {rowno} 行: {header} \"{r[key]}\" 不是非负整数")
        if msgs:
            bad[rowno] = msgs
            continue
        good[rowno] = {
            "credit_code": code, "name": r["name"], "kind": r["kind"], "county": r["county"],
            "address": r["address"], "legal_rep": r["legal_rep"], "contact": r["contact"],
            "phone": r["phone"], "trades": split_list(r["trades"]), "headcount": nums["headcount"],
            "licence_no": r["licence_no"] or None, "credit_grade": r["credit_grade"] or None,
            "complaints": nums["complaints"] or 0,
        }
    _dupes(keys, name, "统一社会信用代码", bad)
    return _finish(good, bad, len(table.rows))


def parse_inspectors(path: str | Path) -> tuple[list[dict[str, Any]], list[str], int]:
    table = read_table(path, INSPECTOR_COLUMNS)
    name = table.name
    bad: dict[int, list[str]] = {}
    good: dict[int, dict[str, Any]] = {}
    keys = []
    for rowno, r in table.rows:
        msgs = [f"{name}: 第 {rowno} 行: 缺少\"{c.header}\""
                for c in INSPECTOR_COLUMNS if c.required and not r[c.key]]
        badge = "".join(r["badge_no"].split())
        keys.append((rowno, badge))
        if msgs:
            bad[rowno] = msgs
            continue
        conflicts = [normalize_credit_code(x) if credit_code_problem(x) is None else x
                     for x in split_list(r["conflicts"])]
        good[rowno] = {"badge_no": badge, "name": r["name"], "unit": r["unit"], "county": r["county"],
                       "specialties": split_list(r["specialties"]), "conflicts": conflicts}
    _dupes(keys, name, "执法证号", bad)
    return _finish(good, bad, len(table.rows))


def _finish(good: dict[int, dict[str, Any]], bad: dict[int, list[str]],
            total: int) -> tuple[list[dict[str, Any]], list[str], int]:
    records = [rec for rowno, rec in sorted(good.items()) if rowno not in bad]
    problems = [m for rowno in sorted(bad) for m in bad[rowno]]
    return records, problems, total


def _import(store: Any, path: str | Path, which: str, partial: bool, actor: str | None) -> ImportReport:
    from inspector.store import directory as repo

    parse = parse_institutions if which == "institutions" else parse_inspectors
    records, problems, total = parse(path)
    report = ImportReport(file=Path(path).name, directory=which, total=total, problems=problems)
    if problems and not partial:
        bad_rows = total - len(records)
        raise ImportRowsError(
            f"{report.file}: {bad_rows} 行有误，未导入任何数据（可用 --partial 只导入正确的行）", problems)
    upsert = repo.upsert_institutions if which == "institutions" else repo.upsert_inspectors
    with store.tx():
        counts = upsert(store, records, actor=actor)
    report.inserted, report.updated, report.unchanged = counts
    report.skipped = total - len(records)
    return report


def import_institutions(store: Any, path: str | Path, *, partial: bool = False,
                        actor: str | None = None) -> ImportReport:
    return _import(store, path, "institutions", partial, actor)


def import_inspectors(store: Any, path: str | Path, *, partial: bool = False,
                      actor: str | None = None) -> ImportReport:
    return _import(store, path, "inspectors", partial, actor)
