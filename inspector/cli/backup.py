"""``inspector backup list|create|restore``: rolling local backups (inspector/store/backup.py)."""
from __future__ import annotations

import argparse

from inspector.cli import emit
from inspector import paths
from inspector.store import Store, backup


def register(sub: argparse._SubParsersAction) -> None:
    b = sub.add_parser("backup", help="本机数据备份与恢复")
    bsub = b.add_subparsers(dest="backup_cmd", required=True)
    ls = bsub.add_parser("list", help="列出备份（最新在前）")
    ls.add_argument("--from", dest="where", help="另一位置的备份目录（如 U 盘上的 inspector-backups）")
    ls.add_argument("--json", action="store_true")
    ls.set_defaults(func=_list)
    mk = bsub.add_parser("create", help="立即备份")
    mk.add_argument("--to", dest="extra", help="另存一份到该目录（如 U 盘），并补齐照片和文书文件")
    mk.add_argument("--json", action="store_true")
    mk.set_defaults(func=_create)
    rs = bsub.add_parser("restore", help="从备份恢复（先检查备份的完整性与审计链）")
    rs.add_argument("name", help="备份名（见 backup list）")
    rs.add_argument("--from", dest="where", help="备份所在目录（默认本机数据目录下的 backups）")
    rs.add_argument("--force", action="store_true", help="即使本机数据比备份新也恢复（当前数据库改名保存，不删除）")
    rs.add_argument("--json", action="store_true")
    rs.set_defaults(func=_restore)
    cfg = bsub.add_parser("settings", help="保留份数、天数和第二备份位置")
    cfg.add_argument("--keep", type=int, help=f"至少保留最新的 N 份（默认 {backup.KEEP}）")
    cfg.add_argument("--days", type=int, help=f"保留 M 天内的全部备份（默认 {backup.DAYS}）")
    cfg.add_argument("--extra-dir", help="每次备份另存一份到该目录（空字符串取消）")
    cfg.set_defaults(func=_settings)


def _list(args: argparse.Namespace) -> int:
    rows = [b.as_dict() for b in backup.list_backups(paths.home(args.home), args.where)]
    emit(args, rows, lambda d: "\n".join(
        f"{b['name']}  {b['made_at']}  检查 {b['inspections']} 份  审计链至第 {b['audit_seq']} 条"
        f"  未同步 {b['unsent']} 项  {b['size'] // 1024} KB" for b in d) or "还没有备份")
    return 0


def _create(args: argparse.Namespace) -> int:
    with Store.open(args.home) as s:
        info = backup.create(s, "manual", extra_dir=args.extra)
    emit(args, info.as_dict(), lambda d: f"已备份：{d['name']}（{d['size'] // 1024} KB）")
    return 0


def _restore(args: argparse.Namespace) -> int:
    res = backup.restore(paths.home(args.home), args.name, force=args.force, where=args.where)
    emit(args, res, lambda d: f"已从备份 {d['restored']} 恢复（审计链至第 {d['audit_seq']} 条）；原数据库已改名保存")
    return 0


def _settings(args: argparse.Namespace) -> int:
    with Store.open(args.home) as s:
        if args.keep is not None:
            s.set_meta("backup_keep", str(max(1, args.keep)))
        if args.days is not None:
            s.set_meta("backup_days", str(max(0, args.days)))
        if args.extra_dir is not None:
            s.set_meta("backup_extra_dir", args.extra_dir)
        print(f"保留最新 {s.get_meta('backup_keep') or backup.KEEP} 份及 {s.get_meta('backup_days') or backup.DAYS} 天内的备份；"
              f"第二位置：{s.get_meta('backup_extra_dir') or '（无）'}")
    return 0
