"""Annual credit grade (信用评估等级, 内人社办发〔2024〕58号 §四–五): the institution's 自评 plus
HQ's findings of the year → a proposed grade (``inspector.grading``), which a reviewer confirms
or overrides with a written reason; the confirmed grades form the 公示 list.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable, Mapping

from inspector.errors import ImportRowsError, ValidationError
from inspector.grading import GRADES, RECTIFICATION_STATUS, grade, normalise_status
from inspector.idnumbers import normalize_credit_code
from inspector.reports.progress import _list, counted_inspections

PUBLIC_COLUMNS = ("序号", "机构名称", "统一社会信用代码", "机构类型", "区县", "自评等级", "评估等级", "备注")
SELF_COLUMNS = ("统一社会信用代码", "年度", "自评等级", "失信行为代码", "整改情况", "说明")


@dataclass
class Proposal:
    institution_id: str
    year: int
    grade: str
    reasons: list[str]
    provisional: bool
    self_grade: str | None
    findings: list[dict[str, Any]] = field(default_factory=list)  # [{code, rectification, source, ref}]


def findings_for_year(institution_id: str, year: int, inspections: Iterable[Mapping[str, Any]],
                      findings: Iterable[Mapping[str, Any]], rectifications: Iterable[Mapping[str, Any]]
                      ) -> list[dict[str, Any]]:
    """[{code, rectification, source: 检查, ref: finding id}] for the institution's checks in ``year``."""
    insps = {i["id"]: i for i in counted_inspections(inspections, f"{year}-01-01", f"{year}-12-31")
             if i["institution_id"] == institution_id}
    status: dict[str, str] = {}
    for r in sorted(rectifications, key=lambda r: r.get("created_at") or ""):
        if r.get("inspection_id") in insps:
            status[r["inspection_id"]] = r.get("status") or "待整改"
    out = []
    for f in findings:
        if f.get("inspection_id") not in insps:
            continue
        st = normalise_status(status.get(f["inspection_id"], "待整改"))
        for c in _list(f.get("codes")):
            out.append({"code": str(c), "rectification": st, "source": "检查", "ref": f["id"],
                        "description": f.get("description")})
    return out


def propose(institution_id: str, year: int, found: list[dict[str, Any]],
            self_assessment: Mapping[str, Any] | None = None) -> Proposal:
    """Grade over HQ's findings plus the codes the institution reported itself."""
    sa = self_assessment or {}
    own = [{"code": c, "rectification": normalise_status(sa.get("rectification") or "on_time"), "source": "自评",
            "ref": None, "description": sa.get("note")} for c in _list(sa.get("codes"))]
    all_f = found + own
    g = grade([{"code": f["code"], "rectification": f["rectification"]} for f in all_f])
    reasons = list(g.reasons)
    sg = sa.get("grade")
    if sg and sg in GRADES and GRADES.index(sg) < GRADES.index(g.grade):
        reasons.append(f"自评等级“{sg}”高于依据检查结果拟定的“{g.grade}”")
    return Proposal(institution_id, year, g.grade, reasons, g.provisional, sg, all_f)


def parse_self_assessments(path: str | Path) -> list[dict[str, Any]]:
    """自评 rows from CSV (UTF-8 or GB18030) or XLSX with the columns of ``SELF_COLUMNS``, read by the
    shared tabular reader like every other import; errors name row and field."""
    from inspector.tabular import Column, read_table

    cols = [Column(c, c, required=c in SELF_COLUMNS[:3]) for c in SELF_COLUMNS]
    cols.append(Column("机构名称", "机构名称", required=False))  # sheets often carry the name: read, not used
    t = read_table(path, cols)
    return _parse_records([(n, rec) for n, rec in t.rows], t.name)


def parse_rows(table: list[list[str]], name: str = "自评表") -> list[dict[str, Any]]:
    """自评 rows from a table whose first row is the header (the console's one-institution form)."""
    if not table:
        raise ImportRowsError(f"{name}: 文件是空的", [f"{name}: 没有表头"])
    head = table[0]
    missing = [c for c in SELF_COLUMNS[:3] if c not in head]
    if missing:
        raise ImportRowsError(f"{name}: 缺少列 {'、'.join(missing)}", [f"{name}: 第 1 行缺少列 {m}" for m in missing])
    idx = {c: head.index(c) for c in SELF_COLUMNS if c in head}
    recs = [(n, {c: (r[idx[c]] if c in idx and idx[c] < len(r) else "") for c in SELF_COLUMNS})
            for n, r in enumerate(table[1:], 2) if any(r)]
    return _parse_records(recs, name)


def _parse_records(records: list[tuple[int, dict[str, str]]], name: str) -> list[dict[str, Any]]:
    out, problems = [], []
    for n, r in records:
        get = lambda c: (r.get(c) or "").strip()  # noqa: E731
        code, year, sg = normalize_credit_code(get("统一社会信用代码")), get("年度"), get("自评等级")
        rect = get("整改情况") or "已按期整改"
        codes = [c for c in (get("失信行为代码").replace("；", "、").replace(";", "、").replace(",", "、")
                             .replace("，", "、").split("、")) if c.strip()]
        bad = []
        if not code:
            bad.append("统一社会信用代码为空")
        if not (year.isascii() and year.isdigit()):  # '²'.isdigit() is true and int('²') fails
            bad.append(f"年度 {year!r} 不是年份")
        if sg not in GRADES:
            bad.append(f"自评等级 {sg!r} 应为 {'/'.join(GRADES)}")
        if rect not in RECTIFICATION_STATUS.values() and rect not in RECTIFICATION_STATUS:
            bad.append(f"整改情况 {rect!r} 无效")
        if codes:
            from inspector.catalogue import entry

            for c in codes:
                try:
                    entry(c.strip())
                except ValidationError:  # an unknown code: a problem of this row
                    bad.append(f"失信行为代码 {c!r} 不在目录中")
        if bad:
            problems += [f"{name}: 第 {n} 行：{b}" for b in bad]
            continue
        out.append({"credit_code": code, "year": int(year), "grade": sg, "codes": [c.strip() for c in codes],
                    "rectification": rect, "note": get("说明")})
    if problems:
        raise ImportRowsError(f"{name}: {len(problems)} 处错误，未导入", problems)
    return out


def public_rows(decided: list[Mapping[str, Any]]) -> list[list[Any]]:
    """公示 list rows from [{name, credit_code, kind, county, self_grade, grade, note}]."""
    ordered = sorted(decided, key=lambda d: (GRADES.index(d["grade"]) if d["grade"] in GRADES else 9,
                                             d.get("county") or "", d.get("name") or ""))
    return [[n, d.get("name"), d.get("credit_code"), d.get("kind"), d.get("county"), d.get("self_grade") or "",
             d["grade"], d.get("note") or ""] for n, d in enumerate(ordered, 1)]
