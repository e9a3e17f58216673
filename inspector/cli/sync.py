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
    p = sub.add_parser(
        "enrol", help="在总部登记本机；已登记的本机上为同行检查人员申请总部证书（一次性登记码）",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        description="登记本机：inspector enrol --hq https://总部地址 --code 登记码 [--badge 执法证号]\n"
                    "同行检查人员证书（本机已登记，两人共用一台笔记本签名）：\n"
                    "  inspector enrol --code 同行人员的登记码 --badge 同行人员执法证号\n"
                    "  登记码由总部用 inspector-hq enrol-code --badge 同行人员执法证号 生成；本机的设备令牌不变，\n"
                    "  该人员的签名密钥改由总部证书机构认证（本机尚无其密钥时先生成，口令从 --passphrase-env 读取）。\n"
                    "  本机已登记且 --badge 与登记时的执法证号不同（或省略 --hq）时即为此用法；\n"
                    "  要换用另一总部或重新登记本机，请给出 --hq 与本机使用人的执法证号。")
    p.add_argument("--hq", help="总部地址，如 https://hq.example.gov.cn（首次登记时必填；为同行人员申请证书时可省略）")
    p.add_argument("--code", required=True, help="总部发给你（或同行检查人员本人）的一次性登记码")
    p.add_argument("--badge", help="执法证号（本机只有一把签名密钥时可省略；为同行人员申请证书时必填）")
    p.add_argument("--device-name", help="设备名称（默认主机名）")
    p.add_argument("--ca-file", help="本局证书机构文件（PEM）：总部的 https 证书由它签发时给出；登记后保存在本机数据目录，"
                   "此后与总部的每次连接只信任它（不给出则使用操作系统信任的证书机构）")
    p.add_argument("--passphrase-env", default="INSPECTOR_PASSPHRASE",
                   help="本机还没有该执法证号的签名密钥时，从该环境变量读取新密钥的签名口令（默认 INSPECTOR_PASSPHRASE）")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_enrol)

    s = sub.add_parser("sync", help="与总部同步（推送检查记录和文件，拉取名录、检查表和任务）",
                       description="inspector sync [--json]；inspector sync status")
    s.add_argument("--json", action="store_true")
    s.add_argument("--quiet", action="store_true", help="不显示进度")
    s.add_argument("--push-only", action="store_true")
    s.add_argument("--pull-only", action="store_true")
    s.add_argument("--passphrase-env", metavar="NAME",
                   help="从该环境变量读取签名口令，解锁加密的学员个人信息后推送（不给出时在终端提示输入；"
                        "不输入则含学员信息的记录暂不推送，其余照常同步）")
    s.set_defaults(func=cmd_sync)
    ss = s.add_subparsers(dest="sync_command", metavar="ACTION")
    st = ss.add_parser("status", help="同步状态：是否登记、待推送、上次同步")
    st.add_argument("--json", action="store_true")
    st.set_defaults(func=cmd_status)


def _certify_mode(args: argparse.Namespace, e: dict[str, Any] | None) -> bool:
    """An enrolled laptop, and the badge is not the enrolled one (or no --hq): certify a co-inspector."""
    if e is None:
        return False
    if not args.hq:
        return True
    same_hq = args.hq.rstrip("/") == (e.get("hq_url") or "").rstrip("/")
    return same_hq and bool(args.badge) and args.badge != e.get("badge_no")


def cmd_enrol(args: argparse.Namespace) -> int:
    from inspector.errors import SyncError
    from inspector.store import Store
    from inspector.sync import certify_inspector, enrol
    from inspector.sync.client import enrolment

    pw = os.environ.get(args.passphrase_env) if args.passphrase_env else None
    with Store.open(args.home) as store:
        e = enrolment(store)
        certify = _certify_mode(args, e)
        if not certify and not args.hq:
            raise SyncError("本机还没有在总部登记：请用 --hq 给出总部地址")
        if certify and args.ca_file:
            raise SyncError("--ca-file 只在登记本机（给出 --hq 与本机使用人的执法证号）时使用；本机已固定登记时的证书机构文件")
        if certify and not args.badge:
            raise SyncError("为同行检查人员申请总部证书时请用 --badge 给出其执法证号")
        if pw is None and args.badge and sys.stdin.isatty():
            from inspector import keys

            if not keys.has_key(store.home, args.badge):
                pw = getpass.getpass(f"为执法证号 {args.badge} 设定签名口令（由本人输入）：")
        if certify:
            r = certify_inspector(store, args.code, args.badge, passphrase=pw)
            name = (r["inspector"] or {}).get("name") or ""
            emit(args, {"certified": True, **r},
                 f"执法证号 {r['badge_no']}{'（' + name + '）' if name else ''} 的签名证书已由总部签发"
                 f"{'（已在本机生成其签名密钥）' if r['key_created'] else ''}；本机登记不变（设备 {r['device_id']}）。"
                 "此后两人在本机签署的文书都验证为总部认证。")
            return 0
        r = enrol(store, args.hq, args.code, badge_no=args.badge, passphrase=pw,
                  device_name=args.device_name or os.uname().nodename, ca_file=args.ca_file)
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
        _unlock_pii(args, store, push=not args.pull_only)
        rep = sync(store, progress=prog, push=not args.pull_only, pull=not args.push_only)
    prog.done()
    emit(args, rep.to_json(), rep.text())
    return 0 if rep.ok else 2


def _unlock_pii(args: argparse.Namespace, store: Any, *, push: bool = True) -> None:
    """HQ needs the trainees' real values and the device token: unlock their key with a passphrase when
    ops carry them or the token is sealed (no OS key store): once per run, never per record."""
    from inspector import pii
    from inspector.errors import InspectorError

    if args.passphrase_env:
        pw = os.environ.get(args.passphrase_env)
        if not pw:
            raise InspectorError(f"环境变量 {args.passphrase_env} 未设置签名口令")
        pii.unlock(store.home, pw)
    elif sys.stdin.isatty() and not pii.is_unlocked(store.home):
        from inspector.sync.client import enrolment

        e = enrolment(store)
        if e and not pii.secret_available(store.home, e["token"]):  # the device token is sealed: no sync without it
            pii.unlock(store.home, getpass.getpass(f"{pii.SECRET_LOCKED_MESSAGE}。签名口令："))
        elif push and pii.unsynced_sealed(store):
            pw = getpass.getpass(f"{pii.LOCKED_MESSAGE}。签名口令（直接回车则只同步其他记录）：")
            if pw:
                pii.unlock(store.home, pw)


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
        lines += [f"签名密钥 {k['badge_no']}{'（' + k['name'] + '）' if k.get('name') else ''}："
                  + ("总部认证" if k["hq_certified"] else "仅本机临时证书（用 inspector enrol --code 登记码 --badge "
                     f"{k['badge_no']} 申请总部证书）") for k in s.get("keys") or []]
        if s["last_error"]:
            lines.append(f"上次错误：{s['last_error']}")
        lines += [f"未推送：{h['entity']} {h['entity_id']}：{h.get('error') or h.get('status')}" for h in s["held"]]
        if s["quarantined"]:
            lines.append(f"已隔离 {len(s['quarantined'])} 条总部记录（本机无法应用，每次同步会重试）：")
            lines += [f"已隔离：{q['entity']} {q['entity_id']}：{q['error']}" for q in s["quarantined"]]
        return "\n".join(lines)

    emit(args, st, text)
    return 0
