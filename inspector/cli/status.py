"""``inspector status`` and ``inspector audit verify``: what the local store holds and whether it is sound."""
from __future__ import annotations

import argparse

from inspector.cli import emit
from inspector.store import Store, integrity

_COUNTED = ("institutions", "inspectors", "tasks", "inspections", "answers", "findings", "rectifications")


def _status(args: argparse.Namespace) -> int:
    s = Store.open(args.home)
    bad = integrity.quick_check(s)
    if bad:  # counting rows of a damaged file could fail anywhere: say what is wrong first
        raise integrity.StoreDamaged(s.path, "；".join(bad[:3]))
    data = {
        "home": str(s.home),
        "database": str(s.path),
        "schema": s.schema_version(),
        "counts": {t: s.scalar(f"SELECT COUNT(*) FROM {t}") for t in _COUNTED},
        "outbox_unsent": s.scalar("SELECT COUNT(*) FROM outbox WHERE sent_at IS NULL"),
        "audit_head": dict(zip(("seq", "hash"), s.audit_head())),
        "integrity": s.integrity_check(),
        "audit_ok": integrity.verify(s, full=False).ok,
    }
    emit(args, data, lambda d: "\n".join([
        f"数据目录：{d['home']}",
        *(f"  {k}: {v}" for k, v in d["counts"].items()),
        f"待同步操作：{d['outbox_unsent']}",
        f"审计链：第 {d['audit_head']['seq']} 条 {d['audit_head']['hash'][:16]}…",
        f"数据库完整性：{d['integrity']}",
        "审计链（快速检查）：" + ("完好" if d["audit_ok"] else "发现改动，请运行 inspector audit verify 查看"),
    ]))
    return 0 if data["integrity"] == "ok" and data["audit_ok"] else 1


def _audit_verify(args: argparse.Namespace) -> int:
    """The whole check: hash chain, signed checkpoints, sealed finished inspections, documents."""
    s = Store.open(args.home)
    rep = integrity.verify(s, full=True)
    seq, h = s.audit_head()
    emit(args, {"ok": rep.ok, "entries": seq, "checkpoints": rep.checkpoints, "head": h, "problems": rep.problems},
         lambda d: ("审计链完整（%d 条，%d 个签名检查点），已完成的检查与封存时一致" % (d["entries"], d["checkpoints"]))
         if d["ok"] else "\n".join(["发现本机数据被改动：", *d["problems"]]))
    return 0 if rep.ok else 1


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("status", help="本机数据概况")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=_status)
    a = sub.add_parser("audit", help="审计日志")
    asub = a.add_subparsers(dest="audit_cmd", required=True)
    v = asub.add_parser("verify", help="重算哈希链，检查是否被改写")
    v.add_argument("--json", action="store_true")
    v.set_defaults(func=_audit_verify)
