"""``inspector pii``: the trainees' personal-data key (inspector/pii.py).

- ``status``: key id, who can unlock it, whether a pending file or the OS key store holds it;
- ``show INSPECTION_ID``: the sampled trainees with their real name, ID number and phone
  (needs a passphrase; everything else shows the masked copies);
- ``grant --badge B2``: give a co-inspector on this laptop their own way in (an inspector who can
  already unlock it types their passphrase, then B2 types theirs);
- ``reset``: a forgotten passphrase — a new key; data sealed to the old one stays masked here
  (what was synced is at HQ; signed documents only ever printed masked values).
"""
from __future__ import annotations

import argparse
import getpass
import os
import sys
from typing import Any

from inspector.cli import emit
from inspector.errors import InspectorError


def register(sub: Any) -> None:
    p = sub.add_parser("pii", help="学员个人信息密钥：状态、查看原值、为同行人员授权、忘记口令时重置")
    ps = p.add_subparsers(dest="pii_command", metavar="ACTION", required=True)
    st = ps.add_parser("status", help="密钥状态：由哪些执法证号的签名口令保护")
    st.add_argument("--json", action="store_true")
    st.set_defaults(func=cmd_status)
    sh = ps.add_parser("show", help="显示某次检查抽查学员的完整姓名、身份证号、电话（需签名口令）")
    sh.add_argument("inspection_id")
    sh.add_argument("--passphrase-env", help="从该环境变量读取签名口令（默认在终端提示输入）")
    sh.add_argument("--json", action="store_true")
    sh.set_defaults(func=cmd_show)
    g = ps.add_parser("grant", help="为本机的同行检查人员加入其签名口令（需已加入人员的口令解锁）")
    g.add_argument("--badge", required=True, help="同行检查人员的执法证号（本机已有其签名密钥）")
    g.add_argument("--passphrase-env", help="已加入人员的签名口令所在环境变量（默认在终端提示输入）")
    g.add_argument("--new-passphrase-env", help="同行人员本人签名口令所在环境变量（默认在终端提示输入）")
    g.set_defaults(func=cmd_grant)
    r = ps.add_parser("reset", help="忘记签名口令：生成新的学员信息密钥（未同步的学员原值将无法在本机解密）")
    r.add_argument("--yes", action="store_true", help="确认重置")
    r.add_argument("--json", action="store_true")
    r.set_defaults(func=cmd_reset)


def _secret(env: str | None, prompt: str) -> str:
    if env:
        v = os.environ.get(env)
        if not v:
            raise InspectorError(f"环境变量 {env} 未设置签名口令")
        return v
    if not sys.stdin.isatty():
        raise InspectorError("需要签名口令：请在终端运行，或用 --passphrase-env 给出保存口令的环境变量名")
    return getpass.getpass(prompt)


def cmd_status(args: argparse.Namespace) -> int:
    from inspector import paths, pii

    st = pii.status(paths.home(args.home))

    def text(s: dict[str, Any]) -> str:
        if not s["key_id"]:
            return "本机尚未记录学员个人信息，还没有学员信息密钥。"
        how = [f"执法证号 {b} 的签名口令" for b in s["wrapped_for"]]
        if s["os_key_store"]:
            how.append("操作系统密钥库")
        if s["pending_file"]:
            how.append("待保护文件 keys/pii-pending.pem（首次输入签名口令后删除）")
        return "\n".join([f"学员信息密钥 {s['key_id']}：由{'、'.join(how) or '（无）'}保护",
                          *([f"已重置的旧密钥：{'、'.join(s['retired'])}（其加密的学员信息在本机只显示脱敏值）"]
                            if s["retired"] else [])])

    emit(args, st, text)
    return 0


def cmd_show(args: argparse.Namespace) -> int:
    from inspector import pii
    from inspector.store import Store, visits

    with Store.open(args.home) as store:
        if not pii.is_unlocked(store.home):
            pii.unlock(store.home, _secret(args.passphrase_env, "签名口令（查看学员个人信息原值）："))
        rows = visits.list_trainee_checks(store, args.inspection_id, unmasked=True)
        tables = [(item, v) for per_cv in visits.get_answers(store, args.inspection_id, unmasked=True).values()
                  for item, v in per_cv.items() if pii.is_pii_table(v)]
    out = [{k: r.get(k) for k in ("roster_row", "name", "id_number", "trade", "phone", "selected_for")}
           for r in rows]
    # rows typed into a checklist table (学员抽查核实 S-04): same shape, named by item and row number
    out += [{"roster_row": f"{item}#{n}", "name": r.get("name"), "id_number": r.get("id_no") or r.get("id_number"),
             "trade": r.get("trade"), "phone": r.get("phone"), "selected_for": "table"}
            for item, v in tables for n, r in enumerate(v, 1) if isinstance(r, dict)]

    def text(rs: list[dict[str, Any]]) -> str:
        if not rs:
            return f"检查 {args.inspection_id} 没有抽查学员记录。"
        # a table row is named "S-04#2" (item, row); a roster row by its number
        return "\n".join(f"第 {r['roster_row']} 行\t{r['name']}\t{r['id_number'] or ''}\t{r['trade'] or ''}\t"
                         f"{r['phone'] or ''}\t{'【核实】' if r['selected_for'] == 'verify' else ''}" for r in rs)

    emit(args, out, text)
    return 0


def cmd_grant(args: argparse.Namespace) -> int:
    from inspector import keys, paths, pii

    home = paths.home(args.home)
    if not keys.has_key(home, args.badge):
        raise InspectorError(f"执法证号 {args.badge} 在本机还没有签名密钥；请先登记或创建其密钥")
    if not pii.is_unlocked(home):
        pii.unlock(home, _secret(args.passphrase_env, "已加入人员的签名口令（解锁学员信息密钥）："))
    pw = _secret(args.new_passphrase_env, f"执法证号 {args.badge} 本人的签名口令：")
    keys.load_signing_key(home, args.badge, pw)   # proves the passphrase; adds the wrapping (pii.on_passphrase)
    if args.badge not in pii.status(home)["wrapped_for"]:
        raise InspectorError(f"未能为执法证号 {args.badge} 加入学员信息密钥（详见日志）")
    print(f"执法证号 {args.badge} 已可用本人签名口令解锁学员个人信息。")
    return 0


def cmd_reset(args: argparse.Namespace) -> int:
    from inspector import pii
    from inspector.store import Store

    with Store.open(args.home) as store:
        cur = pii.public_key(store.home, create=False)
        n = pii.unsynced_sealed(store) if cur else 0
        warn = (f"本机有 {n} 名抽查学员的个人信息尚未同步到总部；重置后这些原值在本机和总部都将无法恢复，"
                "只保留脱敏值。" if n else "本机所有学员个人信息均已同步到总部（总部保留原值）。")
        # the device token and device key are sealed to the same key (pii.seal_secret): they go with it
        enrolled = bool(store.scalar("SELECT 1 FROM sync_enrolment WHERE id = 1"))
        again = ("本机的总部登记凭据和设备密钥随旧密钥作废：请向总部申请新的登记码，用 inspector enrol 重新登记本机"
                 "（已签署的文书和审计签名不受影响）。" if enrolled else "")
        if not args.yes:
            print(warn + "已签署的文书不受影响（文书只印脱敏值）。" + again + "确认重置请加 --yes。", file=sys.stderr)
            return 1
        old, new = pii.reset(store.home)
    emit(args, {"old_key_id": old, "new_key_id": new, "unsynced_lost": n, "enrol_again": enrolled},
         f"{warn}\n已生成新的学员信息密钥 {new}（旧密钥 {old or '无'} 已停用）；下次输入签名口令时自动受其保护。"
         + (f"\n{again}" if again else ""))
    return 0
