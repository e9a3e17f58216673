"""``inspector verify FILE.pdf [--trust CA.pem ...] [--json]``: is this signed document genuine?"""
from __future__ import annotations

import logging
from typing import Any

from inspector.cli import emit


def register(sub: Any) -> None:
    p = sub.add_parser("verify", help="核验已签名文书（PDF）的数字签名",
                       description="每个签名完好且受信任；最后一个签名覆盖整个文件；此前的签名之后只允许填表与签名。")
    p.add_argument("file", help="PDF 文件")
    p.add_argument("--trust", action="append", default=[], metavar="CA.pem",
                   help="受信任的证书机构（可多次给出）；默认只信任本机登记的总部证书机构")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_verify)


def _text(r: dict[str, Any]) -> str:
    lines = [f"{r.get('file', '')}：{'有效' if r['valid'] else '无效'}"]
    for s in r["signers"]:
        lines.append(f"  签名人 {s.get('name')}（执法证号 {s.get('badge_no')}） 签发者 {s.get('issuer')}"
                     f" 时间 {s.get('signed_at')} {'认证签名' if s.get('certified') else '批准签名'}"
                     f" {'完好' if s.get('intact') else '已改动'} {'受信任' if s.get('trusted') else '不受信任'}"
                     f" {'总部认证' if s.get('hq_certified') else '未经总部认证'}")
    for t in r.get("timestamps", []):
        lines.append(f"  文档时间戳 {t.get('time') or '?'}（{_cst(t.get('time'))}）时间戳服务 {t.get('tsa')}"
                     f" {'完好' if t.get('intact') else '已改动'} {'受信任' if t.get('trusted') else '不受信任'}")
    if r.get("timestamps"):
        lines.append(f"  长期验证（LTV）：{'已启用' if r.get('ltv') else '未启用'}"
                     + (f"（{r['ltv_reason']}）" if r.get("ltv_reason") else ""))
    else:
        lines.append("  文档时间戳：无（PAdES-B-B，尚未经总部加盖时间戳）")
    lines += [f"  问题：{p}" for p in r["problems"]]
    lines += [f"  提示：{w}" for w in r.get("warnings", [])]
    return "\n".join(lines)


def _cst(iso: str | None) -> str:
    if not iso:
        return ""
    from inspector.render.common import to_cst

    return to_cst(iso) + " 北京时间"


def cmd_verify(args: Any) -> int:
    from inspector import paths, verify

    logging.getLogger("pyhanko").setLevel(logging.CRITICAL)
    logging.getLogger("pyhanko_certvalidator").setLevel(logging.CRITICAL)
    home = paths.home(args.home) if (args.home or __import__("os").environ.get("INSPECTOR_HOME")) else None
    r = verify.verify_file(args.file, args.trust, home=home)
    emit(args, r, _text)
    return 0 if r["valid"] else 1
