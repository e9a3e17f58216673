"""``inspector-hq``: set up and run HQ, hand out enrolment codes, manage devices, draw.

    inspector-hq init [--home DIR] [--db URL]
    inspector-hq serve [--db URL] [--host 127.0.0.1] [--port 8750] [--workers N] [--uds PATH]
                       [--forwarded-allow-ips 127.0.0.1]   (behind nginx: packaging/hq/)
    inspector-hq enrol-code --badge 执法证号 [--name 姓名] [--minutes 60]
    inspector-hq devices list | revoke DEVICE_ID | retire DEVICE_ID
    inspector-hq blobs gc
    inspector-hq numbers list --prefix 新人社监 --year 2026 | void --prefix … --year … --first N --reason …
    inspector-hq import institutions|inspectors FILE [--partial]
    inspector-hq checklists publish [DIR]
    inspector-hq draw --seed SEED [...]
    inspector-hq rectification decide ID STATUS
    inspector-hq staff add USER --role admin|reviewer|viewer | list | disable USER | unlock [USER] [--addr IP]
"""
from __future__ import annotations

import argparse
import json
import os
import sys
from typing import Any

from inspector.draw_options import add_draw_arguments, draw_params
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
                  admin_password=args.password, agency=args.agency, profile=args.profile)
    pw = f"\n管理员 {r['admin_user']} 的初始口令：{r['admin_password']}（只显示这一次）" if r["admin_password"] else ""
    _out(args, r, f"总部数据目录：{r['home']}\n数据库：{r['db']}\n证书机构：{r['ca_subject']}{pw}")
    return 0


WORKER_HOME_ENV, WORKER_DB_ENV = "INSPECTOR_HQ_WORKER_HOME", "INSPECTOR_HQ_WORKER_DB"


def worker_app() -> Any:
    """The app of one ``serve --workers N`` process (uvicorn imports this factory in each worker;
    the parent passes HQ's folder and database through the environment)."""
    from inspector import logs
    from inspector.hq.app import create_app

    cfg = HQConfig.load(os.environ[WORKER_HOME_ENV], db_url=os.environ.get(WORKER_DB_ENV) or None)
    logs.setup(cfg.home, f"hq-worker-{os.getpid()}")  # one file per process: rotation is not shared safely
    return create_app(cfg)


def cmd_serve(args: argparse.Namespace) -> int:
    import uvicorn

    from inspector.hq.app import create_app

    cfg = _cfg(args)
    if not (cfg.ca_dir / "ca.cert.pem").exists():
        raise InspectorError(f"{cfg.home}: 还没有初始化，请先运行 inspector-hq init --home {cfg.home}")
    from inspector import logs

    print(f"日志文件：{logs.setup(cfg.home, 'hq')}", file=sys.stderr, flush=True)
    if args.workers < 1:
        raise InspectorError("--workers 至少为 1")
    if args.workers > 1 and cfg.url.startswith("sqlite"):
        # HQ's SQLite writers are ordered by an in-process lock; several processes need PostgreSQL
        raise InspectorError(f"--workers {args.workers}：多个工作进程需要 PostgreSQL 数据库（--db postgresql://…）；"
                             "SQLite 只能用一个工作进程")
    # X-Forwarded-For/-Proto count only from these addresses (a proxy on this host); none by default
    conf = cfg.trusted_proxies
    trusted = args.forwarded_allow_ips if args.forwarded_allow_ips is not None else (
        conf if isinstance(conf, str) else ",".join(str(x) for x in conf))
    where = f"unix:{args.uds}" if args.uds else f"http://{args.host}:{args.port}/"
    if not args.uds:  # certificates' AIA/CRL URLs default to the serve address (workers read it too)
        os.environ.setdefault("INSPECTOR_HQ_SERVE_URL", f"http://{args.host}:{args.port}")
    print(f"总部服务：{where}  （接口说明 /docs；{args.workers} 个工作进程"
          + (f"；信任 {trusted} 转发的客户端地址与协议" if trusted else "") + "）", file=sys.stderr, flush=True)
    common: dict[str, Any] = dict(host=args.host, port=args.port, uds=args.uds, log_level=args.log_level,
                                  timeout_keep_alive=30, proxy_headers=bool(trusted),
                                  forwarded_allow_ips=trusted or "")
    if args.workers == 1:
        uvicorn.run(create_app(cfg), **common)
        return 0
    _engine(args).dispose()  # schema made once here, not raced by N workers starting together
    os.environ[WORKER_HOME_ENV] = str(cfg.home)
    os.environ[WORKER_DB_ENV] = cfg.db_url or ""
    # uvicorn's supervisor: one listening socket, N processes, a dead worker is replaced
    uvicorn.run("inspector.hq.cli:worker_app", factory=True, workers=args.workers, **common)
    return 0


def cmd_enrol_code(args: argparse.Namespace) -> int:
    from inspector.hq import service

    r = service.make_enrol_code(_engine(args), _cfg(args), args.badge, name=args.name, minutes=args.minutes)
    _out(args, r, f"登记码：{r['code']}\n执法证号：{r['badge_no']}  有效至 {r['expires_at']}（只能使用一次）")
    return 0


def cmd_devices(args: argparse.Namespace) -> int:
    from inspector.hq import service

    eng = _engine(args)
    if args.action in ("revoke", "retire"):
        if not args.device:
            raise InspectorError("请给出要吊销或停用的设备编号")
        back = service.revoke_device(eng, args.device, "设备吊销" if args.action == "revoke" else "设备停用")
        tail = "；".join(f"{b['agency']}〔{b['year']}〕{b['first']}–{b['last']}" for b in back)
        verb = "吊销" if args.action == "revoke" else "停用"
        _out(args, {args.action + "d": args.device, "returned": back},
             f"已{verb}设备 {args.device}（立即生效）" + (f"\n未使用的文号已退回：{tail}" if tail else ""))
        return 0
    rows = service.list_devices(eng)
    lines = [f"{r['id']}  {r['badge_no']}  {r.get('name') or ''}  登记 {r['created_at']}"
             f"  最近 {r.get('last_seen_at') or '-'}  {'已吊销 ' + r['revoked_at'] if r.get('revoked_at') else '有效'}"
             for r in rows]
    _out(args, rows, "\n".join(lines) or "（还没有登记的设备）")
    return 0


def cmd_blobs(args: argparse.Namespace) -> int:
    from inspector.hq import blobs

    cfg = _cfg(args)
    r = blobs.gc(_engine(args), blobs.HQBlobs(cfg.blob_dir), cfg)
    _out(args, r, f"清理过期上传 {r['expired']} 个、无主的部分文件 {r['orphans']} 个、临时文件 {r['incoming']} 个，"
                  f"释放 {r['bytes']} 字节")
    return 0


def cmd_numbers(args: argparse.Namespace) -> int:
    from inspector.hq import numbers

    eng = _engine(args)
    if args.action == "void":
        if args.first is None or not args.reason:
            raise InspectorError("作废号码需要 --first（及可选的 --last）和 --reason")
        r = numbers.void_numbers(eng, args.prefix, args.year, args.first, args.last or args.first, args.reason)
        _out(args, r, f"已作废 {args.prefix}〔{args.year}〕{r['first']}–{r['last']}")
        return 0
    entries = numbers.series(eng, args.prefix, args.year)
    if args.json:
        _out(args, entries, "")
        return 0
    lines = []
    for g in numbers.ranges(entries):
        span = f"{g['first']:04d}" if g["first"] == g["last"] else f"{g['first']:04d}–{g['last']:04d}"
        extra = "  ".join(str(g[k]) for k in ("kind", "document_id", "reason") if g.get(k))
        lines.append(f"{span}  {numbers.STATUS_ZH[g['status']]}  设备 {g.get('device_id') or '-'}  {extra}".rstrip())
    print("\n".join(lines) or f"{args.prefix}〔{args.year}〕还没有发放任何号码")
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
    from inspector.hq.admin import run_draw

    params = draw_params(args)
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
    if args.action == "unlock":
        from inspector.hq import throttle

        if not args.user and not args.addr:
            raise InspectorError("请给出要解锁的用户名，或用 --addr 给出客户端地址")
        n = (throttle.unlock(engine, "login_user", args.user, by="cli") if args.user else 0) + \
            (throttle.unlock(engine, None, args.addr, by="cli") if args.addr else 0)
        who = "、".join(x for x in (args.user and f"账户 {args.user}", args.addr and f"地址 {args.addr}") if x)
        _out(args, {"username": args.user, "addr": args.addr, "cleared": n},
             f"已解锁{who}（清除 {n} 条失败记录）" if n else f"{who}：没有锁定或失败记录")
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


def cmd_db(args: argparse.Namespace) -> int:
    """Schema version of HQ's database: show it, upgrade it, or (developers) write a new revision."""
    from inspector.hq import db as D
    from inspector.hq import migrations as M

    url = _cfg(args).url
    if args.action == "revision":
        if not args.message:
            raise InspectorError("db revision 需要 -m 说明这次结构变化")
        path = M.revision(url, args.message)
        _out(args, {"file": str(path)}, f"已生成迁移脚本：{path}（请检查后再提交）")
        return 0
    eng = D.make_engine(url)
    try:
        if args.action == "upgrade":
            before, after = M.upgrade(eng)
            _out(args, {"before": before, "after": after, "head": M.head()},
                 f"数据库结构：{before or '（空库）'} → {after}" if before != after else f"数据库结构已是最新：{after}")
        else:
            with eng.connect() as conn:
                have = M.current(conn)
            _out(args, {"current": have, "head": M.head()},
                 f"数据库结构版本：{have or '（空库）'}；本程序需要：{M.head()}"
                 + ("" if have == M.head() else "（请运行 inspector-hq db upgrade）"))
    finally:
        eng.dispose()
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
    s.add_argument("--agency", help="机关名称（证书和文书上使用；给出 --profile 时默认取自地区档案）")
    s.add_argument("--profile", help="发布给检查终端的地区档案（forms/profiles/ 中的名称，如 xinxiang、neimenggu）")
    s.set_defaults(func=cmd_init)

    s = sub.add_parser("db", help="数据库结构版本：查看（current）或升级到本程序所需版本（upgrade，先备份）")
    s.add_argument("action", choices=["current", "upgrade", "revision"],
                   help="current 查看；upgrade 升级；revision 开发用：按代码与数据库的差异生成迁移脚本")
    s.add_argument("-m", "--message", help="revision：这次结构变化的说明")
    s.set_defaults(func=cmd_db)

    s = sub.add_parser("serve", help="运行总部服务")
    s.add_argument("--host", default="127.0.0.1")
    s.add_argument("--port", type=int, default=8750)
    s.add_argument("--log-level", default="info")
    s.add_argument("--workers", type=int, default=1,
                   help="工作进程数（多于 1 个时须用 PostgreSQL；默认 1）")
    s.add_argument("--uds", help="改为监听 Unix 套接字（例如 /run/inspector-hq/hq.sock，供本机 nginx 转发）")
    s.add_argument("--forwarded-allow-ips", help="只采信这些地址（逗号分隔；反向代理所在地址，如 127.0.0.1）"
                   "发来的 X-Forwarded-For/X-Forwarded-Proto；默认取设置项 trusted_proxies，为空则一概不采信")
    s.set_defaults(func=cmd_serve)

    s = sub.add_parser("enrol-code", help="为一名检查人员生成一次性登记码（也用于同行检查人员：在已登记的笔记本上运行 inspector enrol --code 登记码 --badge 其执法证号，为其签名密钥申请总部证书）")
    s.add_argument("--badge", required=True, help="执法证号")
    s.add_argument("--name", help="姓名（该执法证号不在名录中时新建）")
    s.add_argument("--minutes", type=int, help="有效分钟数（默认 60）")
    s.set_defaults(func=cmd_enrol_code)

    s = sub.add_parser("devices", help="列出、吊销或停用设备（吊销与停用都会退回其未使用的文号）")
    s.add_argument("action", choices=["list", "revoke", "retire"])
    s.add_argument("device", nargs="?")
    s.set_defaults(func=cmd_devices)

    s = sub.add_parser("blobs", help="清理过期的未完成上传")
    s.add_argument("action", choices=["gc"])
    s.set_defaults(func=cmd_blobs)

    s = sub.add_parser("numbers", help="文号：列出某一序列每个号码的去向，或作废号码")
    s.add_argument("action", choices=["list", "void"])
    s.add_argument("--prefix", required=True, help="文号前缀，如 新人社监")
    s.add_argument("--year", type=int, required=True)
    s.add_argument("--first", type=int, help="void：起始号")
    s.add_argument("--last", type=int, help="void：截止号（默认同起始号）")
    s.add_argument("--reason", help="void：作废原因")
    s.set_defaults(func=cmd_numbers)

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
    add_draw_arguments(s, seed_required=True)  # the same options as inspector draw (inspector/draw_options.py)
    s.set_defaults(func=cmd_draw)

    s = sub.add_parser("rectification", help="总部对整改情况的认定（同步给检查人员）")
    s.add_argument("action", choices=["decide"])
    s.add_argument("id")
    s.add_argument("status", choices=["待整改", "已按期整改", "逾期整改", "拒不整改或敷衍整改"])
    s.set_defaults(func=cmd_rectification)

    s = sub.add_parser("staff", help="总部控制台账号：添加、列出、停用、解除登录锁定")
    s.add_argument("action", choices=["add", "list", "disable", "unlock"])
    s.add_argument("--addr", help="unlock：同时解除这个客户端地址的锁定")
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
