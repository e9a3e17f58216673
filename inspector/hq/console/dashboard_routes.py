"""The console's home page: this year's counts, overdue rectifications, recent syncs, alerts and events."""
from __future__ import annotations

import datetime as dt

import sqlalchemy as sa
from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from inspector.hq import console_db as C
from inspector.hq import db as D
from inspector.hq import service
from inspector.hq.console import data
from inspector.hq.console.common import engine, need, render
from inspector.reports import progress as PG

router = APIRouter(include_in_schema=False)


# -- dashboard ----------------------------------------------------------------------------------------------
@router.get("/console/")
@router.get("/console")
def dashboard(request: Request) -> HTMLResponse:
    need(request)
    inp = data.report_inputs(engine(request))
    rects = inp["rectifications"]
    overdue = [r for r in rects if data.is_overdue(r)]
    year = dt.date.today().year
    counted = PG.counted_inspections(inp["inspections"], f"{year}-01-01", f"{year}-12-31")
    with engine(request).connect() as conn:
        devices = service.list_devices(engine(request))
        syncs = conn.execute(sa.select(D.applied_ops.c.device_id, sa.func.count().label("n"),
                                       sa.func.max(D.applied_ops.c.applied_at).label("last"))
                             .group_by(D.applied_ops.c.device_id)
                             .order_by(sa.func.max(D.applied_ops.c.applied_at).desc()).limit(8)).all()
        alerts = conn.execute(sa.select(D.audit_alerts).order_by(D.audit_alerts.c.id.desc()).limit(5)).all()
        events = conn.execute(sa.select(C.console_events).order_by(C.console_events.c.id.desc()).limit(8)).all()
    dev = {d["id"]: d for d in devices}
    stats = {"institutions": len(inp["institutions"]), "inspectors": len(inp["inspectors"]),
             "inspections": len(counted), "findings": sum(1 for f in inp["findings"]
                                                          if f["inspection_id"] in {i["id"] for i in counted}),
             "open": sum(1 for r in rects if r.get("status") == "待整改"), "overdue": len(overdue),
             "devices": sum(1 for d in devices if not d.get("revoked_at"))}
    return render(request, "dashboard.html", active="dashboard", stats=stats, year=year,
                  overdue=overdue[:10], insts=inp["institutions"], syncs=syncs, dev=dev, alerts=alerts, events=events)
