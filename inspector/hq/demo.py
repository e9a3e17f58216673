"""Demo data for an HQ a newcomer can click through (``make hq``), made the real way: directories
imported from CSV, checklists published, a draw run, a laptop enrolled over loopback HTTP (the
co-inspector's key certified by HQ with their own code), visits recorded and signed by both on that
laptop and synced back: every document verifies as 总部认证 against HQ's CA.

    python -m inspector.hq.demo --home .hq-demo [--serve]
"""
from __future__ import annotations

import argparse
import sys
import threading
import time
from pathlib import Path
from typing import Any

DEMO_ADMIN_PASSWORD = "demo-admin-1"
MARKER = "demo-seeded"


def _server(cfg: Any) -> tuple[Any, threading.Thread, str]:
    import socket

    import uvicorn

    from inspector.hq.app import create_app

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(create_app(cfg), host="127.0.0.1", port=port, log_level="warning",
                                           lifespan="off", proxy_headers=False))  # no proxy in front
    t = threading.Thread(target=server.run, daemon=True)
    t.start()
    for _ in range(1000):
        if server.started:
            break
        time.sleep(0.01)
    else:
        raise RuntimeError("总部演示服务没有启动")
    return server, t, f"http://127.0.0.1:{port}"


def _row(store: Any, sql: str, *params: Any) -> dict[str, Any]:
    r = store.one(sql, params)
    if r is None:
        raise RuntimeError(f"演示数据缺少记录：{sql} {params}")
    return r


def seed_hq_demo(home: str | Path, *, seed: int = 7) -> dict[str, Any]:
    """Fill a new HQ data folder; a folder already seeded is left alone."""
    import sqlalchemy as sa

    from inspector import demo as laptop_demo
    from inspector import keys
    from inspector.demo_directory import write_demo_directories
    from inspector.draw import DrawParams
    from inspector.hq import db as D
    from inspector.hq import service
    from inspector.hq.admin import import_directory, init_home, publish_checklists, run_draw
    from inspector.hq.config import HQConfig
    from inspector.store import Store
    from inspector.sync import certify_inspector, enrol, sync

    home = Path(home)
    if (home / MARKER).exists():
        return {"seeded": False, "home": str(home)}
    init_home(home, admin_password=DEMO_ADMIN_PASSWORD, profile="xinxiang")  # one coherent jurisdiction
    cfg = HQConfig.load(home)
    engine = D.make_engine(cfg.url)
    files = write_demo_directories(home / "demo-input", institutions=60, inspectors=12, roster=40, seed=seed,
                                   suffix=".csv")
    import_directory(engine, files["institutions"], "institutions")
    import_directory(engine, files["inspectors"], "inspectors")
    publish_checklists(engine)
    record = run_draw(engine, f"demo-{seed}", DrawParams(per_county=2), actor="admin")
    # the laptop of the first task's first inspector: enrol, pull, visit, sign, push
    task = next(t for t in record["tasks"] if t["institution"]["kind"] == "培训机构")
    pair = task["inspectors"][:2]
    server, thread, url = _server(cfg)
    try:
        laptop = home / "demo-laptop"
        with Store.open(laptop) as store:
            with engine.connect() as conn:
                unit = {r.badge_no: r.unit for r in conn.execute(sa.select(D.inspectors.c.badge_no,
                                                                           D.inspectors.c.unit))}
            for i, p in enumerate(pair):
                if not keys.has_key(laptop, p["badge_no"]):
                    keys.create_inspector_key(laptop, p["badge_no"], p["name"], laptop_demo.DEMO_PASSPHRASES[i],
                                              unit=unit.get(p["badge_no"]))
            code = service.make_enrol_code(engine, cfg, pair[0]["badge_no"])["code"]
            enrol(store, url, code, badge_no=pair[0]["badge_no"], device_name="演示笔记本")
            # the co-inspector signs on the same laptop: their key certified by HQ with their own code
            code2 = service.make_enrol_code(engine, cfg, pair[1]["badge_no"])["code"]
            certify_inspector(store, code2, pair[1]["badge_no"], passphrase=laptop_demo.DEMO_PASSPHRASES[1])
            rep = sync(store)
            if not rep.ok:
                raise RuntimeError(f"演示同步失败：{rep}")
            inst = _row(store, "SELECT * FROM institutions WHERE credit_code = ?", task["institution"]["credit_code"])
            people = [_row(store, "SELECT * FROM inspectors WHERE badge_no = ?", p["badge_no"]) for p in pair]
            tid = store.scalar("SELECT id FROM tasks WHERE institution_id = ? AND kind = 'draw'", (inst["id"],))
            iid = laptop_demo.visit(store, inst, people, seed=3, task_id=tid, work=laptop / "demo-photos",
                                    photo_size=(960, 720))
            laptop_demo.documents_for(store, iid, people)
            # a second visit, ad hoc (complaint-driven), to another training institution
            other = _row(store, "SELECT * FROM institutions WHERE kind = '培训机构' AND id != ? ORDER BY credit_code",
                         inst["id"])
            iid2 = laptop_demo.visit(store, other, people, seed=5, work=laptop / "demo-photos", photo_size=(960, 720))
            laptop_demo.documents_for(store, iid2, people)
            rep = sync(store)
            if not rep.ok:
                raise RuntimeError(f"演示同步失败：{rep}")
    finally:
        server.should_exit = True
        thread.join(10)
        engine.dispose()
    (home / MARKER).write_text(time.strftime("%Y-%m-%d %H:%M:%S"), encoding="utf-8")
    return {"seeded": True, "home": str(home), "admin": "admin", "password": DEMO_ADMIN_PASSWORD,
            "draw_tasks": len(record["tasks"]), "inspections": [iid, iid2]}


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m inspector.hq.demo", description="总部演示数据")
    p.add_argument("--home", required=True, help="总部数据目录（新建）")
    p.add_argument("--serve", action="store_true", help="填充后启动总部服务")
    p.add_argument("--port", type=int, default=8750)
    args = p.parse_args(argv)
    r = seed_hq_demo(args.home)
    if r["seeded"]:
        print(f"总部演示数据已建立：{args.home}（抽取任务 {r['draw_tasks']} 个，检查 {len(r['inspections'])} 次）")
    print(f"控制台：http://127.0.0.1:{args.port}/console/  用户 admin  口令 {DEMO_ADMIN_PASSWORD}")
    if args.serve:
        from inspector.hq.cli import main as hq_main

        return hq_main(["--home", args.home, "serve", "--port", str(args.port)])
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
