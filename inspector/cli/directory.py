"""``inspector directory``: import, list and search the institution and inspector directories."""
from __future__ import annotations

import argparse
from typing import Any

from inspector.cli import emit


def register(sub: Any) -> None:
    p = sub.add_parser("directory", help="检查对象 / 执法检查人员名录库")
    dsub = p.add_subparsers(dest="directory_command", metavar="ACTION")
    dsub.required = True

    imp = dsub.add_parser("import", help="从 XLSX / CSV 导入名录（按信用代码 / 执法证号更新）")
    imp.add_argument("which", choices=["institutions", "inspectors"])
    imp.add_argument("file")
    imp.add_argument("--partial", action="store_true", help="只导入正确的行，报告其余的行（默认：有错误行时全部不导入）")
    imp.add_argument("--actor", help="记录在审计日志中的操作人")
    imp.add_argument("--json", action="store_true")
    imp.set_defaults(func=cmd_import)

    tp = dsub.add_parser("template", help="写出导入模板（表头、示例行、下拉选项、列说明）")
    tp.add_argument("which", choices=["institutions", "inspectors"])
    tp.add_argument("file", help="输出的 .xlsx 文件")
    tp.add_argument("--json", action="store_true")
    tp.set_defaults(func=cmd_template)

    ls = dsub.add_parser("list", help="列出名录")
    ls.add_argument("which", choices=["institutions", "inspectors"])
    ls.add_argument("--county")
    ls.add_argument("--kind", choices=["培训机构", "评价机构"])
    ls.add_argument("--json", action="store_true")
    ls.set_defaults(func=cmd_list)

    se = dsub.add_parser("search", help="按名称、信用代码、区县搜索")
    se.add_argument("text")
    se.add_argument("--inspectors", action="store_true", help="搜索检查人员而不是检查对象")
    se.add_argument("--limit", type=int, default=20)
    se.add_argument("--json", action="store_true")
    se.set_defaults(func=cmd_search)


def cmd_import(args: argparse.Namespace) -> int:
    from inspector import directory_import
    from inspector.store import Store

    with Store.open(args.home) as store:
        fn = directory_import.import_institutions if args.which == "institutions" else directory_import.import_inspectors
        report = fn(store, args.file, partial=args.partial, actor=args.actor)
    emit(args, report.to_json(), report.text())
    return 0


def cmd_template(args: argparse.Namespace) -> int:
    from inspector.cli.template import cmd_template as write

    args.kind = args.which
    return write(args)


def _line(r: dict[str, Any]) -> str:
    if "credit_code" in r:
        return f"{r['county']}\t{r['kind']}\t{r['credit_code']}\t{r['name']}"
    return f"{r.get('county') or ''}\t{r['badge_no']}\t{r['name']}\t{r.get('unit') or ''}"


def cmd_list(args: argparse.Namespace) -> int:
    from inspector.store import Store
    from inspector.store import directory as repo

    with Store.open(args.home) as store:
        if args.which == "institutions":
            rows = repo.list_institutions(store, county=args.county, kind=args.kind)
        else:
            rows = repo.list_inspectors(store, county=args.county)
    emit(args, rows, lambda rs: "\n".join(_line(r) for r in rs) or "（空）")
    return 0


def cmd_search(args: argparse.Namespace) -> int:
    from inspector.store import Store
    from inspector.store import directory as repo

    with Store.open(args.home) as store:
        fn = repo.search_inspectors if args.inspectors else repo.search
        rows = fn(store, args.text, args.limit)
    emit(args, rows, lambda rs: "\n".join(_line(r) for r in rs) or "没有找到")
    return 0
