"""``inspector template KIND FILE.xlsx``: the template workbook of an import (header row, an
example row, drop-down lists, column notes) for a clerk to fill."""
from __future__ import annotations

import argparse
from typing import Any

from inspector.cli import emit

HELP = {"institutions": "检查对象名录", "inspectors": "执法检查人员名录", "roster": "学员花名册（抽查学员）",
        "self-assessment": "信用自评表"}


def register(sub: Any) -> None:
    from inspector.import_templates import KINDS

    p = sub.add_parser("template", help="导入模板：" + "、".join(f"{k}（{HELP[k]}）" for k in KINDS))
    p.add_argument("kind", choices=KINDS)
    p.add_argument("file", help="输出的 .xlsx 文件")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_template)


def cmd_template(args: argparse.Namespace) -> int:
    from inspector import import_templates as T

    p = T.write(args.kind, args.file)
    t = T.template(args.kind)
    emit(args, {"kind": args.kind, "file": str(p), "headers": [f.header for f in t.fields]},
         f"已写出{t.title}：{p}（第 1 行表头，第 2 行示例，填写前请删除示例行）")
    return 0
