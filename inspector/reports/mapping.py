"""Which catalogue codes count under which column of the Shandong progress tables, and which
institution sub-kinds land on which row. docs/reports.md explains every choice; a test keeps
the two in step.
"""
from __future__ import annotations

from typing import Any, Mapping

# 附件1 (职业技能培训): 已核实 categories ← training catalogue codes (内人社办发〔2024〕58号 annex)
TRAINING_CATEGORIES: dict[str, tuple[str, ...]] = {
    "低效无效": ("PX-QW-2", "PX-YB-3", "PX-YB-4", "PX-YZ-10"),
    "造假骗补冒领": ("PX-YZ-5", "PX-YZ-8", "PX-YZ-9", "PX-YZ-13", "PX-YZ-15"),
    "违规转包": ("PX-YZ-7",),
}
# 附件2 (职业技能评价)
EVALUATION_CATEGORIES: dict[str, tuple[str, ...]] = {
    "编造材料虚假评价发证": ("PJ-YB-10", "PJ-YZ-6", "PJ-YZ-8", "PJ-YZ-12"),
    "不考试发证": ("PJ-YZ-7",),
    "制售山寨证书": ("PJ-YZ-10", "PJ-YZ-11"),
    "内外勾结倒卖证书": ("PJ-YZ-5", "PJ-YZ-9"),
}
ALL_CATEGORIES = {**TRAINING_CATEGORIES, **EVALUATION_CATEGORIES}

TRAINING_ROWS = ("补贴性培训项目", "承担补贴性培训任务的机构", "主管部门所属单位")
EVALUATION_ROWS = ("经人社部门备案的职业资格鉴定机构", "经人社部门备案的职业技能等级认定机构",
                   "自行开展能力水平评价活动的机构")

# sub_kind words that move an institution off the default row
_DEPT_WORDS = ("主管部门", "政府部门所属", "部门所属")
_APPRAISAL_WORDS = ("职业资格鉴定", "鉴定机构", "鉴定站", "鉴定所", "鉴定中心")
_SELF_WORDS = ("自行", "能力水平评价", "行业协会", "学会", "未备案")


def categories_of(codes: list[str], kind: str) -> list[str]:
    """The progress-table categories a finding's codes fall under (kind 培训机构/评价机构)."""
    table = TRAINING_CATEGORIES if kind == "培训机构" else EVALUATION_CATEGORIES
    return [cat for cat, cs in table.items() if any(c in cs for c in codes)]


def institution_row(inst: Mapping[str, Any]) -> int:
    """Row index (0-based) of an institution in its table; training row 0 is projects, never an institution."""
    sub = str(inst.get("sub_kind") or "")
    if inst.get("kind") == "培训机构":
        return 2 if any(w in sub for w in _DEPT_WORDS) else 1
    if any(w in sub for w in _APPRAISAL_WORDS):
        return 0
    if any(w in sub for w in _SELF_WORDS):
        return 2
    return 1
