"""``inspector draw``: the 双随机 draw, its verification and its publication."""
from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

from inspector.cli import emit
from inspector.draw_options import add_draw_arguments, draw_params
from inspector.errors import ValidationError


def register(sub: Any) -> None:
    p = sub.add_parser("draw", help="双随机抽取检查对象和检查人员，并生成检查任务",
                       description="inspector draw --seed SEED [...]；或 draw verify / export / show / list")
    add_draw_arguments(p)  # the same options as inspector-hq draw (inspector/draw_options.py)
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_draw)
    dsub = p.add_subparsers(dest="draw_command", metavar="ACTION")

    v = dsub.add_parser("verify", help="按当前名录库重新计算，核对抽取记录")
    v.add_argument("record", help="抽取记录 JSON（draw --json 的输出）")
    v.add_argument("--json", action="store_true")
    v.set_defaults(func=cmd_verify)

    e = dsub.add_parser("export", help="导出公示文件（XLSX / PDF）")
    e.add_argument("draw", help="抽取编号，或抽取记录 JSON 文件")
    e.add_argument("--xlsx")
    e.add_argument("--pdf")
    e.add_argument("--agency", default="", help="公示单位名称（PDF 副标题）")
    e.add_argument("--json", action="store_true")
    e.set_defaults(func=cmd_export)

    s = dsub.add_parser("show", help="显示一次抽取的记录")
    s.add_argument("draw")
    s.add_argument("--json", action="store_true")
    s.set_defaults(func=cmd_show)

    ls = dsub.add_parser("list", help="列出已保存的抽取")
    ls.add_argument("--json", action="store_true")
    ls.set_defaults(func=cmd_list)


def _record_text(d: dict[str, Any]) -> str:
    lines = [f"抽取编号 {d.get('draw_id') or '（未保存）'}  随机种子 {d['seed']}",
             f"检查对象名录库 SHA-256 {d['institutions_sha256']}",
             f"执法检查人员名录库 SHA-256 {d['inspectors_sha256']}",
             f"抽取结果 SHA-256 {d.get('result_sha256', '')}",
             "各区县：" + "；".join(f"{c['county']} {c['drawn']}/{c['candidates']}" for c in d.get("counties", [])),
             ""]
    for n, t in enumerate(d["tasks"], start=1):
        i = t["institution"]
        team = "、".join(f"{x['name']}（{x['badge_no']}）" for x in t["inspectors"])
        lines.append(f"{n:>4}. {i['county']}  {i['name']}（{i['credit_code']}）  {team}")
    return "\n".join(lines)


def cmd_draw(args: argparse.Namespace) -> int:
    from inspector.store import Store
    from inspector.store import directory as repo

    params = draw_params(args)
    with Store.open(args.home) as store:
        record = repo.draw_and_save(store, args.seed, params, due_days=args.due_days, actor=args.actor,
                                    save=not args.dry_run)
    emit(args, record.to_json(), _record_text)
    return 0


def _load_record(path: str) -> dict[str, Any]:
    p = Path(path)
    try:
        data = json.loads(p.read_text(encoding="utf-8-sig"))
    except (OSError, ValueError) as e:
        raise ValidationError(f"{p.name}: 无法读取抽取记录（{e}）") from e
    missing = [k for k in ("seed", "params", "institutions_sha256", "inspectors_sha256", "tasks")
               if not isinstance(data, dict) or k not in data]
    if missing:
        raise ValidationError(f"{p.name}: 不是抽取记录，缺少 {', '.join(missing)}")
    return data


def cmd_verify(args: argparse.Namespace) -> int:
    from inspector.store import Store
    from inspector.store import directory as repo

    published = _load_record(args.record)
    with Store.open(args.home) as store:
        diffs, again = repo.verify_record(store, published)
    now = {} if again is None else {"institutions_sha256": again.institutions_sha256,
                                    "inspectors_sha256": again.inspectors_sha256,
                                    "result_sha256": again.result_sha256}
    data = {"match": not diffs, "differences": diffs, "recomputed": now}
    emit(args, data, "抽取记录与按当前名录库重新计算的结果一致" if not diffs
         else "抽取记录与重新计算的结果不一致：\n" + "\n".join(f"  {d}" for d in diffs))
    return 0 if not diffs else 1


def cmd_export(args: argparse.Namespace) -> int:
    from inspector import publish
    from inspector.store import Store
    from inspector.store import directory as repo

    if not args.xlsx and not args.pdf:
        raise ValidationError("请用 --xlsx 和/或 --pdf 指定输出文件")
    if args.draw.lower().endswith(".json") and Path(args.draw).exists():
        record = _load_record(args.draw)
    else:
        with Store.open(args.home) as store:
            record = repo.get_draw(store, args.draw)
    out = {}
    if args.xlsx:
        out["xlsx"] = str(publish.export_xlsx(record, args.xlsx))
    if args.pdf:
        out["pdf"] = str(publish.export_pdf(record, args.pdf, agency=args.agency))
    emit(args, out, "\n".join(f"已导出 {v}" for v in out.values()))
    return 0


def cmd_show(args: argparse.Namespace) -> int:
    from inspector.store import Store
    from inspector.store import directory as repo

    with Store.open(args.home) as store:
        record = repo.get_draw(store, args.draw)
    emit(args, record, _record_text)
    return 0


def cmd_list(args: argparse.Namespace) -> int:
    from inspector.store import Store
    from inspector.store import directory as repo

    with Store.open(args.home) as store:
        rows = repo.list_draws(store)
    emit(args, rows, lambda rs: "\n".join(f"{r['id']}  {r['created_at']}  种子 {r['seed']}  {r['tasks']} 个任务"
                                          for r in rs) or "（没有抽取记录）")
    return 0
