"""Administration: devices (list, revoke, enrolment codes) and login lockouts."""
from __future__ import annotations

import urllib.parse
from typing import Any

import sqlalchemy as sa
from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from inspector.hq import db as D
from inspector.hq import service
from inspector.hq import throttle as TH
from inspector.hq.console import data
from inspector.hq.console.common import attempt, back, engine, error_page, hq, need, need_post, render

router = APIRouter(include_in_schema=False)


# -- devices ---------------------------------------------------------------------------------------------------
@router.get("/console/devices")
def devices_page(request: Request) -> HTMLResponse:
    need(request, "admin")
    e = engine(request)
    devices = service.list_devices(e)
    with e.connect() as conn:
        heads = {r.device_id: r for r in conn.execute(sa.select(D.audit_heads)).all()}
        codes = conn.execute(sa.select(D.enrol_codes).order_by(D.enrol_codes.c.created_at.desc()).limit(10)).all()
        insps = data.inspectors(conn)
    by_badge = {i["badge_no"]: i for i in insps.values()}
    new_code = request.query_params.get("code")
    return render(request, "devices.html", active="devices", devices=devices, heads=heads, codes=codes,
                  by_badge=by_badge, new_code=new_code, inspectors=list(insps.values()))


@router.post("/console/devices/{did}/revoke")
async def device_revoke(request: Request, did: str) -> Response:
    staff, _ = await need_post(request, "admin")

    def work() -> None:
        service.revoke_device(engine(request), did)
        with engine(request).begin() as conn:
            data.event(conn, staff.username, "吊销设备", "device", did)

    _, err = await attempt(request, work)
    return err or back("/console/devices", "设备已吊销，立即生效")


@router.post("/console/devices/enrol-code")
async def enrol_code(request: Request) -> Response:
    staff, form = await need_post(request, "admin")

    def work() -> dict[str, Any]:
        r = service.make_enrol_code(engine(request), hq(request).cfg, str(form.get("badge_no") or "").strip(),
                                    name=str(form.get("name") or "").strip() or None, created_by=staff.username)
        with engine(request).begin() as conn:
            data.event(conn, staff.username, "生成登记码", "inspector", r["badge_no"])
        return r

    r, err = await attempt(request, work)
    if err:
        return err
    return back("/console/devices?code=" + urllib.parse.quote(r["code"]), f"登记码已生成（执法证号 {r['badge_no']}）")


# -- lockouts (throttled logins and codes) ---------------------------------------------------------------------
@router.get("/console/lockouts")
def lockouts_page(request: Request) -> HTMLResponse:
    need(request, "admin")
    cfg = hq(request).cfg
    policy = TH.Policy.from_config(cfg)
    return render(request, "lockouts.html", active="lockouts", rows=TH.status(engine(request), policy),
                  policy=policy)


@router.post("/console/lockouts/unlock")
async def lockouts_unlock(request: Request) -> Response:
    staff, form = await need_post(request, "admin")
    scope, key = str(form.get("scope") or ""), str(form.get("key") or "")
    if scope not in TH.SCOPE_ZH or not key:
        return error_page(request, 422, "操作未完成", "缺少要解锁的对象（scope 与 key）")

    def work() -> int:
        n = TH.unlock(engine(request), scope, key, by=staff.username)
        with engine(request).begin() as conn:
            data.event(conn, staff.username, "解除登录锁定", scope, key)
        return n

    _, err = await attempt(request, work)
    return err or back("/console/lockouts", f"已解锁：{TH.SCOPE_ZH[scope]} {key}")
