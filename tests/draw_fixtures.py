"""Shared helpers for the directory, draw and sampling tests."""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

from inspector.idnumbers import make_credit_code

ROOT = Path(__file__).resolve().parent.parent


def cli(home: Path, *args: str, check: bool = False) -> subprocess.CompletedProcess:
    """Run ``python -m inspector --home HOME ARGS`` as the user would."""
    p = subprocess.run([sys.executable, "-m", "inspector", "--home", str(home), *args],
                       capture_output=True, text=True, cwd=ROOT, timeout=120)
    if check and p.returncode != 0:
        raise AssertionError(f"exit {p.returncode}\nstdout:\n{p.stdout}\nstderr:\n{p.stderr}")
    return p


def cli_json(home: Path, *args: str) -> Any:
    p = cli(home, *args, "--json", check=True)
    return json.loads(p.stdout)


def code(n: int, area: str = "410702") -> str:
    """A valid, distinct credit code for test number ``n``."""
    return make_credit_code("5", "2", area, f"MA{n:06d}")


def inst(n: int, county: str, *, kind: str = "培训机构", grade: str | None = None,
         complaints: int = 0, name: str | None = None) -> dict[str, Any]:
    return {"credit_code": code(n), "name": name or f"测试机构{n:04d}", "kind": kind, "county": county,
            "credit_grade": grade, "complaints": complaints}


def insp(n: int, county: str, conflicts: list[str] | None = None) -> dict[str, Any]:
    return {"badge_no": f"T{n:05d}", "name": f"检查员{n}", "county": county, "conflicts": conflicts or []}


INST_HEADER = ["机构名称", "统一社会信用代码", "机构类型", "所属区县", "地址", "法定代表人", "联系人", "联系电话",
               "职业工种", "培训或取证人数", "许可证号或备案号", "信用等级", "投诉次数"]


def inst_row(n: int, county: str = "红旗区", **over: Any) -> list[Any]:
    row = {"机构名称": f"新乡市测试{n}职业培训学校", "统一社会信用代码": code(n), "机构类型": "培训机构",
           "所属区县": county, "地址": f"新乡市{county}人民路{n}号", "法定代表人": "王伟", "联系人": "李娜",
           "联系电话": "13800000000", "职业工种": "电工；焊工", "培训或取证人数": 120,
           "许可证号或备案号": "", "信用等级": "良好", "投诉次数": 0}
    row.update(over)
    return [row[h] for h in INST_HEADER]
