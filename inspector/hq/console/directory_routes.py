"""Directories: import templates, institution/inspector directory import and editing an institution."""
from __future__ import annotations

from pathlib import Path

import sqlalchemy as sa
from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response
from starlette.concurrency import run_in_threadpool

from inspector.errors import InspectorError
from inspector.hq import db as D
from inspector.hq import service
from inspector.hq.console import data
from inspector.hq.console.common import (attempt, back, download, engine, error_page, need, need_post, query_filters,
                                         render)
from inspector.hq.errors import HQError

router = APIRouter(include_in_schema=False)


# -- import templates ------------------------------------------------------------------------------------------
@router.get("/console/templates/{kind}.xlsx")
def import_template(request: Request, kind: str) -> Response:
    """The template workbook of an import (inspector/import_templates.py), for the clerk to fill."""
    need(request)
    from inspector import import_templates as T

    if kind not in T.KINDS:
        return error_page(request, 404, "没有这个模板", kind)
    return download(T.build(kind), T.FILE_NAMES[kind])


# -- directories -----------------------------------------------------------------------------------------------
@router.get("/console/directories")
def directories_page(request: Request) -> HTMLResponse:
    staff = need(request)
    f = query_filters(request)
    with engine(request).connect() as conn:
        insts = list(data.institutions(conn).values())
        insps = list(data.inspectors(conn).values())
    if f["q"]:
        insts = [i for i in insts if f["q"] in (i.get("name") or "") or f["q"] in (i.get("credit_code") or "")]
        insps = [i for i in insps if f["q"] in (i.get("name") or "") or f["q"] in (i.get("badge_no") or "")]
    if f["county"]:
        insts = [i for i in insts if i.get("county") == f["county"]]
    if f["kind"]:
        insts = [i for i in insts if i.get("kind") == f["kind"]]
    return render(request, "directories.html", active="directories", insts=insts, insps=insps, f=f,
                  can_admin=staff.can("admin"), counties=sorted({i.get("county") for i in insts if i.get("county")}))


@router.post("/console/directories/import")
async def directories_import(request: Request) -> Response:
    staff, form = await need_post(request, "admin")
    upload = form.get("file")
    which = "inspectors" if form.get("which") == "inspectors" else "institutions"
    if upload is None or not getattr(upload, "filename", ""):
        return error_page(request, 422, "未导入", "请选择 CSV 或 XLSX 文件")
    content = await upload.read()

    def work() -> dict[str, int]:
        import tempfile

        from inspector.hq.admin import import_directory

        with tempfile.TemporaryDirectory() as tmp:
            p = Path(tmp) / Path(upload.filename).name
            p.write_bytes(content)
            r = import_directory(engine(request), p, which, partial=bool(form.get("partial")))
        with engine(request).begin() as conn:
            data.event(conn, staff.username, "导入名录", which, None, r)
        return r

    try:
        r = await run_in_threadpool(work)
    except (InspectorError, ValueError) as e:  # bad file or rows (ImportRowsError names them): a 422 page
        problems = getattr(e, "problems", None)
        return error_page(request, 422, "名录未导入", str(e) + ("：" + "；".join(map(str, problems[:10])) if problems else ""))
    return back("/console/directories", f"新增 {r['inserted']}，更新 {r['updated']}，未变 {r['unchanged']}，跳过 {r['skipped']}")


INST_FIELDS = (("name", "机构名称"), ("credit_code", "统一社会信用代码"), ("kind", "机构类型"), ("sub_kind", "机构子类"),
               ("county", "区县"), ("city", "城市"), ("address", "地址"), ("legal_rep", "法定代表人"),
               ("contact", "联系人"), ("phone", "联系电话"), ("licence_no", "办学许可证号/备案号"))


@router.get("/console/institutions/{iid}")
def institution_edit(request: Request, iid: str) -> HTMLResponse:
    staff = need(request)
    with engine(request).connect() as conn:
        r = conn.execute(sa.select(D.institutions).where(D.institutions.c.id == iid)).first()
    if r is None:
        return error_page(request, 404, "没有这个机构", iid)
    inst = service.join_row(D.institutions, r)
    inst["trades_text"] = "、".join(data.decode(inst.get("trades")) or [])
    return render(request, "institution.html", active="directories", inst=inst, fields=INST_FIELDS,
                  can_admin=staff.can("admin"))


@router.post("/console/institutions/{iid}")
async def institution_save(request: Request, iid: str) -> Response:
    staff, form = await need_post(request, "admin")

    def work() -> None:
        from inspector.directory_import import split_list
        from inspector.util import dumps, now_iso

        with engine(request).begin() as conn:
            r = conn.execute(sa.select(D.institutions).where(D.institutions.c.id == iid)).first()
            if r is None:
                raise HQError(404, "not_found", f"没有机构 {iid}")
            row = service.join_row(D.institutions, r)
            for k, _ in INST_FIELDS:
                v = str(form.get(k) or "").strip()
                if k in ("name", "credit_code", "kind", "county") and not v:
                    raise HQError(422, "bad_request", f"{dict(INST_FIELDS)[k]} 不能为空")
                if k == "kind" and v not in ("培训机构", "评价机构"):
                    raise HQError(422, "bad_request", "机构类型应为 培训机构 或 评价机构")
                row[k] = v or None
            row["trades"] = dumps(split_list(str(form.get("trades") or "")))
            row["updated_at"] = now_iso()
            service.upsert_entity(conn, "institution", {k: v for k, v in row.items() if v is not None})
            data.event(conn, staff.username, "修改机构", "institution", iid, {"name": row["name"]})

    _, err = await attempt(request, work)
    return err or back(f"/console/institutions/{iid}", "已保存，检查人员同步后即可收到")
