"""``inspector sample-trainees``: sample a trainee roster for verification (10 %, then 10 % of those)."""
from __future__ import annotations

import argparse
from typing import Any

from inspector.cli import emit


def register(sub: Any) -> None:
    p = sub.add_parser("sample-trainees", help="学员花名册抽样（抽取 10%%，其中 10%% 电话或实地核实）")
    p.add_argument("roster", help="花名册 XLSX / CSV：姓名, 身份证号, 培训职业工种, 联系电话[, 班级, 证书编号]")
    p.add_argument("--seed", required=True, help="随机种子（公开、可复核）")
    p.add_argument("--show-id", action="store_true", help="显示完整身份证号和电话（默认脱敏）")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_sample)


def _text(d: dict[str, Any]) -> str:
    lines = [f"花名册共 {d['total']} 人，抽取 {d['sample_size']} 人，其中 {d['verify_size']} 人电话或实地核实",
             f"随机种子 {d['seed']}，花名册 SHA-256 {d['roster_sha256']}", "", "抽取名单："]
    verify_rows = {v["row"] for v in d["verify"]}
    for s in d["sampled"]:
        mark = "【核实】" if s["row"] in verify_rows else ""
        lines.append(f"  第 {s['row']} 行\t{s['name']}\t{s['id_number']}\t{s['trade']}\t{s['phone']}\t{mark}")
    if d["flags"]:
        lines += ["", "疑点："] + [f"  {f['message']}" for f in d["flags"]]
    return "\n".join(lines)


def cmd_sample(args: argparse.Namespace) -> int:
    from inspector.sampling import sample_file

    result = sample_file(args.roster, args.seed)
    emit(args, result.to_json(show_id=args.show_id), _text)
    return 0
