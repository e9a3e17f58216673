"""Shared helpers for the forms / rules / grading tests: valid answers and row builders."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

from inspector import forms

ROOT = Path(__file__).resolve().parent.parent
FORMS = ROOT / "forms"


def run_cli(*args: str, cwd: Path = ROOT) -> subprocess.CompletedProcess:
    """The real CLI in a subprocess (python -m inspector …)."""
    py = ROOT / ".venv" / "bin" / "python"
    exe = str(py) if py.exists() else sys.executable
    return subprocess.run([exe, "-m", "inspector", *args], cwd=cwd, capture_output=True, text=True, timeout=120)


def shipped(cid: str) -> forms.Checklist:
    return forms.load_checklist(FORMS / f"{cid}.toml")


def teacher(name: str = "张三", trade: str = "电工", role: str = "理论", degree: str = "大专",
            qual: str = "中级职称", relevant_bachelor: bool = False, years: float = 3,
            teacher_cert: bool = True, contract: bool = True) -> dict[str, Any]:
    return {"name": name, "trade": trade, "role": role, "degree": degree, "qual": qual,
            "relevant_bachelor": relevant_bachelor, "years": years, "teacher_cert": teacher_cert,
            "contract": contract}


def good_teachers(trade: str = "电工", n_theory: int = 2, n_practical: int = 2) -> list[dict]:
    rows = [teacher(f"{trade}理论{i}", trade, "理论") for i in range(n_theory)]
    rows += [teacher(f"{trade}实训{i}", trade, "实训", qual="三级/高级工") for i in range(n_practical)]
    return rows


def admin_rows(n_admin: int = 3, principal_full_time: bool = True) -> list[dict]:
    rows = [{"name": "王校长", "position": "校长", "full_time": principal_full_time, "experience": 10}]
    rows += [{"name": f"行政{i}", "position": "行政管理人员", "full_time": True, "experience": 3}
             for i in range(n_admin)]
    return rows


def finance_rows(n_cert: int = 2, n_uncert: int = 0) -> list[dict]:
    return ([{"name": f"会计{i}", "employment": "专职", "accounting_cert": True} for i in range(n_cert)]
            + [{"name": f"出纳{i}", "employment": "兼职", "accounting_cert": False} for i in range(n_uncert)])


def hours_row(label: str = "学员甲", total: float = 100, attended: float = 100, online: float = 0,
              max_online_day: float = 0) -> dict:
    return {"label": label, "total": total, "attended": attended, "online": online,
            "max_online_day": max_online_day}


def trainee(name: str = "李四", reached: bool = True, confirms: bool = True, **kw: Any) -> dict:
    row = {"name": name, "id_no": kw.pop("id_no", ""), "trade": kw.pop("trade", "电工"),
           "method": kw.pop("method", "电话"), "reached": reached}
    if reached:
        row.update({"confirms_attending": confirms, "hours": 80, "hours_recorded": 80, "exam": True,
                    "certificate": True, "subsidised": True, "extra_fees": 0})
    row.update(kw)
    return row


def passing_value(item: forms.Item) -> Any:
    """An answer that passes the item (used to build fully answered checklists)."""
    if item.type == "check":
        return "pass"
    if item.type in ("number", "count"):
        th = item.threshold
        if th is None:
            return 10
        return {">=": th["value"], ">": th["value"] + 1, "<=": th["value"], "<": th["value"] - 1,
                "==": th["value"]}[th["op"]]
    if item.type == "date":
        return "2099-12-31"
    if item.type == "choice":
        if item.params.get("multiple"):
            return list(item.choices)
        return next(c for c in item.choices if c not in item.params.get("fail_on", []))
    if item.type == "text":
        return "无"
    rule = item.rule
    if rule == "teachers":
        return good_teachers("电工") + good_teachers("焊工")
    if rule == "admin_staff":
        return admin_rows()
    if rule == "finance_staff":
        return finance_rows()
    if rule == "class_hours":
        return [hours_row(f"学员{i}", 100, 98, 30, 6) for i in range(10)]
    if rule == "trainee_verification":
        return [trainee(f"学员{i}", id_no=f"11010519900101{i:04d}") for i in range(10)]
    raise AssertionError(rule)


def all_passing(cl: forms.Checklist) -> dict[str, Any]:
    return {it.id: passing_value(it) for it in cl.items}


MINIMAL = '''id = "mini"
version = "1"
title = "最小清单"
kind = "培训机构"
basis = "测试"

[[sections]]
id = "A"
title = "甲"

[[sections.items]]
id = "A-1"
type = "check"
text = "有办学许可证"
basis = "新人社办〔2023〕35号 附件1 第1项"
codes = ["PX-YZ-7"]
'''
