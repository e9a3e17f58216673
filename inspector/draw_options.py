"""The draw's command-line options, declared once for ``inspector draw`` (laptop) and ``inspector-hq draw``
(HQ): the same flags, defaults and checks on both, turned into the same ``DrawParams``."""
from __future__ import annotations

import argparse

from inspector.draw import DrawParams
from inspector.errors import ValidationError


def add_draw_arguments(p: argparse.ArgumentParser, *, seed_required: bool = False) -> None:
    """--seed, the DrawParams flags, --due-days, --dry-run and --actor. ``seed_required=False`` where the
    command has sub-actions that need no seed (``inspector draw verify``): ``draw_params`` then asks for it."""
    p.add_argument("--seed", required=seed_required, help="随机种子（公开摇号时当场确定）")
    p.add_argument("--per-county", type=int, default=15, help="每区县至少抽取的机构数（默认 15）")
    p.add_argument("--ratio", type=float, default=0.0, help="抽取比例，如 0.05（默认 0：只按数量）")
    p.add_argument("--kind", choices=["培训机构", "评价机构"], help="只抽取一种机构类型")
    p.add_argument("--inspectors-per-task", type=int, default=2, help="每个检查对象的检查人员数（默认 2）")
    p.add_argument("--exclude-home-county", action="store_true", help="异地检查：不派本区县的检查人员")
    p.add_argument("--weighted", action="store_true", help="信用等级差、投诉多的机构被抽中的机会更大")
    p.add_argument("--due-days", type=int, default=30, help="任务完成期限（天，默认 30）")
    p.add_argument("--dry-run", action="store_true", help="只计算，不保存任务")
    p.add_argument("--actor", help="记录在审计日志中的操作人")


def draw_params(args: argparse.Namespace) -> DrawParams:
    """The parameters the options name, checked (ValidationError names the bad option)."""
    if not args.seed:
        raise ValidationError("请用 --seed 给出随机种子")
    if args.due_days < 1:
        raise ValidationError(f"--due-days 应为正整数（实际 {args.due_days}）")
    return DrawParams(per_county=args.per_county, ratio=args.ratio, kind=args.kind,
                      inspectors_per_task=args.inspectors_per_task,
                      exclude_home_county=args.exclude_home_county, weighted=args.weighted)
