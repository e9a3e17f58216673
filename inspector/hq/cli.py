"""``inspector-hq``: set up and run HQ, hand out enrolment codes, manage devices, draw.

    inspector-hq init [--home DIR] [--db URL]
    inspector-hq serve [--db URL] [--host 127.0.0.1] [--port 8750]
    inspector-hq enrol-code --badge 执法证号 [--name 姓名] [--minutes 60]
    inspector-hq devices list | revoke DEVICE_ID
    inspector-hq import institutions|inspectors FILE [--partial]
    inspector-hq checklists publish [DIR]
    inspector-hq draw --seed SEED [...]
    inspector-hq rectification decide ID STATUS
    inspector-hq staff add USER --role admin|reviewer|viewer | list | disable USER
"""
from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from inspector.errors import InspectorError
from inspector.hq.config import HQConfig
from inspector.hq.errors import HQError


def _cfg(args: argparse.Namespace) -> HQConfig:
    return HQConfig.load(args.home, db_url=getattr(args, "db", None))


def _engine(args: argparse.Namespace):  # -> Engine
    from inspector.hq import db as D

    eng = D.make_engine(_cfg(args).url)
    D.create_schema(eng)
    return eng


def _out(args: argparse.Namespace, data: Any, text: str) -> None:
    print(json.dumps(data, ensure_ascii=False, indent=2) if args.json else text)


def cmd_init(args: argparse.Namespace) -> int:
    from inspector.hq.admin import init_home

    r = init_home(args.home or str(HQConfig.load(None).home), db_url=args.db, admin_user=args.admin,
                  admin_password=args.password, agency=args.agency)
    pw = f"\n管理员 {r['admin_user']} 的初始口令：{r['admin_password']}（只显示这一次）" if r["admin_password"] else ""
    _out(args, r, f"总部数据目录：{r['home']}\n数据库：{r['db']}\n证书机构：{r['ca_subject']}{pw}")
    return 0


def cmd_serve(args: argparse.Namespace) -> int:
    import uvicorn

    from inspector.hq.app import create_app

    cfg = _cfg(args)
    if not (cfg.ca_dir / "ca.cert.pem").exists():
        raise InspectorError(f"{cfg.home}: 还没有初始化，请先运行 inspector-hq init --home {cfg.home}")
    app = create_app(cfg)
    print(f"总部服务：http://{args.host}:{args.port}/  （接口说明 /docs）", file=sys.stderr, flush=True)
    uvicorn.run(app, host=args.host, port=args.port, log_level=args.log_level, timeout_keep_alive=30)
    return 0


def cmd_enrol_code(args: argparse.Namespace) -> int:
    from inspector.hq import service

    r = service.make_enrol_code(_engine(args), _cfg(args), args.badge, name=args.name, minutes=args.minutes)
    _out(args, r, f"登记码：{r['code']}\n执法证号：{r['badge_no']}  有效至 {r['expires_at']}（只能使用一次）")
    return 0


def cmd_devices(args: argparse.Namespace) -> int:
    from inspector.hq import service

    eng = _engine(args)
    if args.action == "revoke":
        if not args.device:
            raise InspectorError("请给出要吊销的设备编号")
        service.revoke_device(eng, args.device)
        _out(args, {"revoked": args.device}, f"已吊销设备 {args.device}（立即生效）")
        return 0
    rows = service.list_devices(eng)
    lines = [f"{r['id']}  {r['badge_no']}  {r.get('name') or ''}  登记 {r['created_at']}"
             f"  最近 {r.get('last_seen_at') or '-'}  {'已吊销 ' + r['revoked_at'] if r.get('revoked_at') else '有效'}"
             for r in rows]
    _out(args, rows, "\n".join(lines) or "（还没有登记的设备）")
    return 0


def cmd_import(args: argparse.Namespace) -> int:
    from inspector.hq.admin import import_directory

    r = import_directory(_engine(args), args.file, args.which, partial=args.partial)
    _out(args, r, f"新增 {r['inserted']}，更新 {r['updated']}，未变 {r['unchanged']}，跳过 {r['skipped']}")
    return 0


def cmd_checklists(args: argparse.Namespace) -> int:
    from inspector.hq.admin import publish_checklists

    r = publish_checklists(_engine(args), args.dir)
    _out(args, r, "已发布：" + ("、".join(r) if r else "（没有新版本）"))
    return 0


def cmd_draw(args: argparse.Namespace) -> int:
    from inspector.hq.admin import check_params, run_draw

    params = check_params(dict(per_county=args.per_county, ratio=args.ratio, kind=args.kind,
                               inspectors_per_task=args.inspectors_per_task,
                               exclude_home_county=args.exclude_home_county, weighted=args.weighted))
    rec = run_draw(_engine(args), args.seed, params, due_days=args.due_days, actor=args.actor, save=not args.dry_run)
    lines = [f"抽取编号 {rec.get('draw_id') or '（未保存）'}  随机种子 {rec['seed']}  结果 SHA-256 {rec['result_sha256']}"]
    for n, t in enumerate(rec["tasks"], 1):
        team = "、".join(f"{x['name']}（{x['badge_no']}）" for x in t["inspectors"])
        lines.append(f"{n:>4}. {t['institution']['county']}  {t['institution']['name']}  {team}")
    _out(args, rec, "\n".join(lines))
    return 0


def cmd_rectification(args: argparse.Namespace) -> int:
    from inspector.hq import service

    r = service.decide_rectification(_engine(args), args.id, args.status)
    _out(args, r, f"整改 {args.id}：{args.status}（已发布给相关检查人员）")
    return 0


def cmd_staff(args: argparse.Namespace) -> int:
    import secrets

    import sqlalchemy as sa

    from inspector.hq import console_db as C
    from inspector.hq import db as D
    from inspector.hq.console import auth
    from inspector.util import now_iso

    engine = _engine(args)
    if args.action == "list":
        with engine.connect() as conn:
            rows = [dict(r._mapping) for r in conn.execute(
                sa.select(D.staff.c.username, D.staff.c.name, D.staff.c.role, D.staff.c.disabled_at)
                .order_by(D.staff.c.username))]
        lines = ["\t".join([r["username"], r["name"] or "", r["role"]] + (["已停用"] if r["disabled_at"] else []))
                 for r in rows]
        _out(args, rows, "\n".join(lines) or "（无）")
        return 0
    if not args.user:
        raise InspectorError("请给出用户名")
    if args.action == "disable":
        with engine.begin() as conn:
            n = conn.execute(D.staff.update().where(D.staff.c.username == args.user)
                             .values(disabled_at=now_iso())).rowcount
            conn.execute(C.console_sessions.update().where(C.console_sessions.c.staff_id.in_(
                sa.select(D.staff.c.id).where(D.staff.c.username == args.user)))
                .where(C.console_sessions.c.ended_at.is_(None)).values(ended_at=now_iso()))
        if not n:
            raise InspectorError(f"没有用户 {args.user}")
        _out(args, {"username": args.user, "disabled": True}, f"已停用 {args.user}，其登录会话已失效")
        return 0
    if not args.role:
        raise InspectorError("请用 --role 指定角色：admin、reviewer 或 viewer")
    password = args.password or secrets.token_urlsafe(12)
    try:
        auth.add_staff(engine, args.user, password, args.role, args.name)
    except ValueError as e:
        raise InspectorError(str(e)) from None
    shown = None if args.password else password
    _out(args, {"username": args.user, "role": args.role, "password": shown},
         f"已添加 {args.user}（{args.role}）" + (f"\n初始口令：{shown}（只显示这一次）" if shown else ""))
    return 0


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="inspector-hq", description="现场检查 — 总部服务")
    p.add_argument("--home", help="总部数据目录（默认 INSPECTOR_HQ_HOME 或用户数据目录）")
    p.add_argument("--db", help="数据库地址：默认数据目录中的 SQLite；或 postgresql://用户@主机/库名")
    p.add_argument("--json", action="store_true", help="以 JSON 输出")
    common = argparse.ArgumentParser(add_help=False)  # the same options after the command
    common.add_argument("--home", default=argparse.SUPPRESS, help=argparse.SUPPRESS)
    common.add_argument("--db", default=argparse.SUPPRESS, help=argparse.SUPPRESS)
    common.add_argument("--json", action="store_true", default=argparse.SUPPRESS, help=argparse.SUPPRESS)
    sub = p.add_subparsers(dest="command", metavar="COMMAND")
    _add = sub.add_parser
    sub.add_parser = lambda *a, **kw: _add(*a, parents=[common], **kw)  # type: ignore[method-assign]

    s = sub.add_parser("init", help="创建总部数据目录、证书机构和管理员")
    s.add_argument("--admin", default="admin")
    s.add_argument("--password", help="管理员口令（默认随机生成并显示一次）")
    s.add_argument("--agency", help="机关名称（证书和文书上使用）")
    s.set_defaults(func=cmd_init)

    s = sub.add_parser("serve", help="运行总部服务")
    s.add_argument("--host", default="127.0.0.1")
    s.add_argument("--port", type=int, default=8750)
    s.add_argument("--log-level", default="info")
    s.set_defaults(func=cmd_serve)

    s = sub.add_parser("enrol-code", help="为一名检查人员生成一次性登记码（也用于同行检查人员：在已登记的笔记本上运行 inspector enrol --code 登记码 --badge 其执法证号，为其签名密钥申请总部证书）")
    s.add_argument("--badge", required=True, help="执法证号")
    s.add_argument("--name", help="姓名（该执法证号不在名录中时新建）")
    s.add_argument("--minutes", type=int, help="有效分钟数（默认 60）")
    s.set_defaults(func=cmd_enrol_code)

    s = sub.add_parser("devices", help="列出或吊销设备")
    s.add_argument("action", choices=["list", "revoke"])
    s.add_argument("device", nargs="?")
    s.set_defaults(func=cmd_devices)

    s = sub.add_parser("import", help="导入检查对象或检查人员名录（CSV/XLSX）")
    s.add_argument("which", choices=["institutions", "inspectors"])
    s.add_argument("file")
    s.add_argument("--partial", action="store_true", help="只导入正确的行")
    s.set_defaults(func=cmd_import)

    s = sub.add_parser("checklists", help="发布检查表版本（forms/）给各设备")
    s.add_argument("action", choices=["publish"])
    s.add_argument("dir", nargs="?")
    s.set_defaults(func=cmd_checklists)

    s = sub.add_parser("draw", help="双随机抽取（与 inspector draw 同一算法），生成任务")
    s.add_argument("--seed", required=True)
    s.add_argument("--per-county", type=int, default=15)
    s.add_argument("--ratio", type=float, default=0.0)
    s.add_argument("--kind", choices=["培训机构", "评价机构"])
    s.add_argument("--inspectors-per-task", type=int, default=2)
    s.add_argument("--exclude-home-county", action="store_true")
    s.add_argument("--weighted", action="store_true")
    s.add_argument("--due-days", type=int, default=30)
    s.add_argument("--dry-run", action="store_true")
    s.add_argument("--actor")
    s.set_defaults(func=cmd_draw)

    s = sub.add_parser("rectification", help="总部对整改情况的认定（同步给检查人员）")
    s.add_argument("action", choices=["decide"])
    s.add_argument("id")
    s.add_argument("status", choices=["待整改", "已按期整改", "逾期整改", "拒不整改或敷衍整改"])
    s.set_defaults(func=cmd_rectification)

    s = sub.add_parser("staff", help="总部控制台账号：添加、列出、停用")
    s.add_argument("action", choices=["add", "list", "disable"])
    s.add_argument("user", nargs="?", help="用户名")
    s.add_argument("--role", choices=["admin", "reviewer", "viewer"])
    s.add_argument("--name", help="姓名")
    s.add_argument("--password", help="口令（至少 8 位；默认随机生成并显示一次）")
    s.set_defaults(func=cmd_staff)
    return p


def main(argv: list[str] | None = None) -> int:
    p = build_parser()
    args = p.parse_args(argv)
    if not getattr(args, "func", None):
        p.print_help()
        return 1
    try:
        return int(args.func(args) or 0)
    except HQError as e:
        print(e.message, file=sys.stderr)
        return 2
    except InspectorError as e:
        for line in getattr(e, "problems", None) or [str(e)]:
            print(line, file=sys.stderr)
        return 2


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
