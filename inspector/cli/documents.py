"""``inspector documents``: make, sign, list and export the documents of an inspection."""
from __future__ import annotations

import getpass
import json
import os
import sys
from typing import Any

from inspector.cli import emit
from inspector.errors import DocumentError


def register(sub: Any) -> None:
    p = sub.add_parser("documents", help="制作、签署、导出检查文书")
    ds = p.add_subparsers(dest="documents_command", metavar="ACTION")

    m = ds.add_parser("make", help="制作文书草稿（编号并生成 PDF）")
    m.add_argument("inspection_id")
    m.add_argument("--kind", choices=["record", "notice", "receipt"], required=True)
    m.add_argument("--deadline", help="通知书的整改期限 YYYY-MM-DD")
    m.add_argument("--served", help="送达回证的送达信息 JSON：{method, place, time, recipient, ...}")
    m.add_argument("--json", action="store_true")
    m.set_defaults(func=cmd_make)

    s = ds.add_parser("sign", help="检查人员数字签名（口令从 INSPECTOR_PASSPHRASE 或终端读取）")
    s.add_argument("document_id")
    s.add_argument("--badge", required=True, help="执法证号")
    s.add_argument("--json", action="store_true")
    s.set_defaults(func=cmd_sign)

    ls = ds.add_parser("list", help="列出文书")
    ls.add_argument("--inspection")
    ls.add_argument("--json", action="store_true")
    ls.set_defaults(func=cmd_list)

    e = ds.add_parser("export", help="导出 PDF")
    e.add_argument("document_id")
    e.add_argument("--out", required=True)
    e.add_argument("--json", action="store_true")
    e.set_defaults(func=cmd_export)

    k = ds.add_parser("key", help="为检查人员创建签名密钥（本机证书机构签发，未经总部认证）")
    k.add_argument("--badge", required=True)
    k.add_argument("--name", required=True)
    k.add_argument("--json", action="store_true")
    k.set_defaults(func=cmd_key)


def _store(args: Any) -> Any:
    from inspector.store import Store

    return Store.open(args.home)


def _passphrase(prompt: str) -> str:
    pw = os.environ.get("INSPECTOR_PASSPHRASE")
    return pw if pw is not None else getpass.getpass(prompt)


def _unlock_device_key(store: Any) -> None:
    """The QR code is signed with the device key; without an OS key store it opens with an inspector's
    signing passphrase (INSPECTOR_PASSPHRASE, or asked on a terminal), once per command."""
    from inspector import keys, pii

    if keys.device_key_available(store.home):
        return
    pw = os.environ.get("INSPECTOR_PASSPHRASE")
    if pw is None and sys.stdin.isatty():
        pw = getpass.getpass(f"{pii.SECRET_LOCKED_MESSAGE}。签名口令：")
    if pw:
        pii.unlock(store.home, pw)


def _line(d: dict[str, Any]) -> str:
    return f"{d['id']}  {d['kind']}  {d['number'] or ''}  {d['status']}  {len(d['signers'])} 个签名"


def cmd_make(args: Any) -> int:
    from inspector.store import documents

    served = None
    if args.served:
        try:
            served = json.loads(args.served)
        except ValueError as e:
            raise DocumentError(f"--served 不是有效的 JSON：{e}") from e
    with _store(args) as store:
        _unlock_device_key(store)
        d = documents.make_document(store, args.inspection_id, args.kind, served=served, deadline=args.deadline)
    emit(args, d, _line)
    return 0


def cmd_sign(args: Any) -> int:
    from inspector.store import documents

    with _store(args) as store:
        d = documents.sign_document(store, args.document_id, args.badge, _passphrase(f"{args.badge} 签名口令："))
    emit(args, d, _line)
    return 0


def cmd_list(args: Any) -> int:
    from inspector.store import documents

    with _store(args) as store:
        rows = documents.list_documents(store, args.inspection)
    emit(args, rows, lambda r: "\n".join(_line(d) for d in r) or "（没有文书）")
    return 0


def cmd_export(args: Any) -> int:
    from inspector.store import documents

    with _store(args) as store:
        path = documents.export(store, args.document_id, args.out)
    emit(args, {"path": path}, path)
    return 0


def cmd_key(args: Any) -> int:
    from inspector import keys, paths

    pw = _passphrase(f"{args.badge} 新签名口令：")
    d = keys.create_inspector_key(paths.home(args.home), args.badge, args.name, pw)
    emit(args, {"dir": str(d)}, str(d))
    return 0
