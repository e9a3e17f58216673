"""``inspector demo --out DIR``: a whole visit headless, documents written into DIR."""
from __future__ import annotations

from typing import Any

from inspector.cli import emit


def register(sub: Any) -> None:
    p = sub.add_parser("demo", help="无界面演示：生成一次完整检查及其签名文书",
                       description="建立演示机构、两名检查人员和一次发现问题的检查，"
                                   "把签名后的笔录、通知书、送达回证和问题台账（PDF、XLSX）写入 DIR。")
    p.add_argument("--out", required=True, help="输出目录")
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--profile", default=None,
                   help="地区档案（forms/profiles/NAME.toml），如 xinxiang、neimenggu；默认新乡")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_demo)


def cmd_demo(args: Any) -> int:
    import logging

    from inspector import demo

    logging.getLogger("pyhanko").setLevel(logging.ERROR)
    # an explicit --home is used as given; otherwise a fresh store beside the output, never the
    # user's real data folder (INSPECTOR_HOME is deliberately not consulted)
    from pathlib import Path

    home = args.home or Path(args.out) / "demo-home"
    r = demo.run_demo(args.out, home=home, seed=args.seed, profile=args.profile)
    emit(args, r, lambda d: "\n".join(d["files"].values())
         + f"\n# 核验：inspector verify 文件.pdf --trust {d['trust']}")
    return 0
