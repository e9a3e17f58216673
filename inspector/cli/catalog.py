"""``inspector catalog`` (the dishonesty catalogue) and ``inspector grade FILE`` (credit grade)."""
from __future__ import annotations

import argparse
import json
from pathlib import Path

from inspector.errors import ValidationError


def register(sub: argparse._SubParsersAction) -> None:
    c = sub.add_parser("catalog", help="失信行为等级分类指导目录（55 条及其代码）")
    c.add_argument("--json", action="store_true", help="以 JSON 输出")
    c.set_defaults(func=cmd_catalog)
    g = sub.add_parser("grade", help="由问题及整改情况计算信用评估等级")
    g.add_argument("file", metavar="FILE",
                   help='JSON 文件：{"findings": [{"code": "PX-QW-1", "rectification": "on_time"}]}')
    g.add_argument("--json", action="store_true", help="以 JSON 输出")
    g.set_defaults(func=cmd_grade)


def cmd_catalog(args: argparse.Namespace) -> int:
    from inspector.catalogue import catalogue
    from inspector.cli import emit

    data = [e.as_dict() for e in catalogue().values()]
    emit(args, data, lambda d: "\n".join(
        f"{e['code']:<9} {e['row']:>2}  {e['kind']} {e['severity']}  {e['text']}" for e in d))
    return 0


def read_findings(path: str) -> list:
    """The findings list of a grade input file; every failure names the file."""
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    except OSError as e:
        raise ValidationError(f"{path}: 无法读取文件（{e.strerror or e}）") from e
    except (UnicodeDecodeError, json.JSONDecodeError) as e:
        raise ValidationError(f"{path}: 不是有效的 JSON（{e}）") from e
    if not isinstance(data, dict) or not isinstance(data.get("findings"), list):
        raise ValidationError(f'{path}: 应为 {{"findings": [...]}} 形式的 JSON 对象')
    return data["findings"]


def cmd_grade(args: argparse.Namespace) -> int:
    from inspector.cli import emit
    from inspector.grading import grade

    findings = read_findings(args.file)
    try:
        result = grade(findings)
    except ValidationError as e:
        raise ValidationError(f"{args.file}: {e}") from None
    emit(args, result.as_dict(), lambda d: f"信用评估等级：{d['grade']}\n" + "\n".join(f"- {r}" for r in d["reasons"]))
    return 0
