"""``inspector enrol`` and ``inspector sync``: enrol this laptop with HQ; push and pull.

Progress (records and bytes) goes to stderr; the summary (or ``--json``) to stdout. A
failed sync says what failed and that nothing was lost; the next one continues.
"""
from __future__ import annotations

import argparse
import getpass
import os
import sys
import time
from typing import Any

from inspector.cli import emit


def register(sub: Any) -> None:
    p = sub.add_parser("enrol", help="在总部登记本机（一次性登记码）",
                       description="inspector enrol --hq https://总部地址 --code 登记码 [--badge 执法证号]")
    p.add_argument("--hq", required=True, help="总部地址，如 https://hq.example.gov.cn")
    p.add_argument("--code", required=True, help="总部发给你的一次性登记码")
    p.add_argument("--badge", help="执法证号（本机只有一把签名密钥时可省略）")
    p.add_argument("--device-name", help="设备名称（默认主机名）")
    p.add_argument("--passphrase-env", default="INSPECTOR_PASSPHRASE",
                   help="本机还没有签名密钥时，从该环境变量读取新密钥的签名口令（默认 INSPECTOR_PASSPHRASE）")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_enrol)

    s = sub.add_parser("sync", help="与总部同步（推送检查记录和文件，拉取名录、检查表和任务）",
                       description="inspector sync [--json]；inspector sync status")
    s.add_argument("--json", action="store_true")
    s.add_argument("--quiet", action="store_true", help="不显示进度")
    s.add_argument("--push-only", action="store_true")
    s.add_argument("--pull-only", action="store_true")
    s.set_defaults(func=cmd_sync)
    ss = s.add_subparsers(dest="sync_command", metavar="ACTION")
    st = ss.add_parser("status", help="同步状态：是否登记、待推送、上次同步")
    st.add_argument("--json", action="store_true")
    st.set_defaults(func=cmd_status)


def cmd_enrol(args: argparse.Namespace) -> int:
    from inspector.store import Store
    from inspector.sync import enrol

    pw = os.environ.get(args.passphrase_env) if args.passphrase_env else None
    with Store.open(args.home) as store:
        if pw is None and args.badge and sys.stdin.isatty():
            from inspector import keys

            if not keys.has_key(store.home, args.badge):
                pw = getpass.getpass(f"为执法证号 {args.badge} 设定签名口令：")
        r = enrol(store, args.hq, args.code, badge_no=args.badge, passphrase=pw,
                  device_name=args.device_name or os.uname().nodename)
    blocks = "；".join(f"{b['agency']}〔{b['year']}〕{b['first']}–{b['last']}" for b in r["doc_blocks"])
    emit(args, r, f"已在总部登记：设备 {r['device_id']}，执法证号 {r['badge_no']}（证书由总部签发）\n文号段：{blocks}")
    return 0


class _Progress:
    """Progress lines on stderr, at most a few per second."""

    def __init__(self, quiet: bool):
        self.quiet = quiet
        self.last = 0.0
        self.state: dict[str, Any] = {}

    def __call__(self, ev: dict[str, Any]) -> None:
        self.state.update(ev)
        now = time.monotonic()
        if self.quiet or now - self.last < 0.3:
            return
        self.last = now
        s = self.state
        msg = f"\r推送 {s.get('records', 0)}/{s.get('records_total', 0)} 条，已上传 {s.get('bytes', 0) / 1e6:.1f} MB"
        if s.get("phase") == "pull":
            msg = f"\r拉取 {s.get('records', 0)} 条，已上传 {s.get('bytes', 0) / 1e6:.1f} MB"
        print(msg, end="", file=sys.stderr, flush=True)

    def done(self) -> None:
        if not self.quiet and self.last:
            print(file=sys.stderr)


def cmd_sync(args: argparse.Namespace) -> int:
    from inspector.store import Store
    from inspector.sync import sync

    prog = _Progress(args.quiet)
    with Store.open(args.home) as store:
        rep = sync(store, progress=prog, push=not args.pull_only, pull=not args.push_only)
    prog.done()
    emit(args, rep.to_json(), rep.text())
    return 0 if rep.ok else 2


def cmd_status(args: argparse.Namespace) -> int:
    from inspector.store import Store
    from inspector.sync import status

    with Store.open(args.home) as store:
        st = status(store)

    def text(s: dict[str, Any]) -> str:
        if not s["enrolled"]:
            return f"本机尚未在总部登记（待推送 {s['unsent']} 条）。"
        lines = [f"总部 {s['hq_url']}  设备 {s['device_id']}  执法证号 {s['badge_no']}",
                 f"待推送 {s['unsent']} 条；审计链 本机 {s['audit_local_seq']} / 总部 {s['audit_hq_seq']}"
                 + ("（总部标记异常）" if s["audit_hq_status"] == "flagged" else ""),
                 f"上次成功同步 {s['last_ok_at'] or '从未'}"]
        if s["last_error"]:
            lines.append(f"上次错误：{s['last_error']}")
        lines += [f"未推送：{h['entity']} {h['entity_id']}：{h.get('error') or h.get('status')}" for h in s["held"]]
        if s["quarantined"]:
            lines.append(f"已隔离 {len(s['quarantined'])} 条总部记录（本机无法应用，每次同步会重试）：")
            lines += [f"已隔离：{q['entity']} {q['entity_id']}：{q['error']}" for q in s["quarantined"]]
        return "\n".join(lines)

    emit(args, st, text)
    return 0
