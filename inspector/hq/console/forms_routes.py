"""Console: checklists authored in XLSX. Upload → validation report (one line per problem, naming
sheet, row and column) → preview as the laptop shows it → publish an immutable version that laptops
pull on their next sync. The preview's publish form carries the canonical TOML text; publishing
parses it again with the strict loader, so nothing unvalidated is ever stored."""
from __future__ import annotations

import logging
import tempfile
from pathlib import Path
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import UploadFile

from inspector import forms
from inspector.errors import FormError, ValidationError
from inspector.hq import checklists as HC
from inspector.hq.console import common as R

logger = logging.getLogger(__name__)
router = APIRouter(include_in_schema=False)
MAX_UPLOAD = 5 * 1024 * 1024

TYPE_ZH = {"check": "符合 / 不符合 / 不适用", "number": "数字", "count": "整数", "date": "日期", "choice": "单选",
           "text": "文字记录", "table": "表格"}
COLUMN_ZH = {"text": "文字", "number": "数字", "choice": "单选", "bool": "是/否", "date": "日期"}
ANSWER_ZH = {"pass": "符合", "fail": "不符合", "na": "不适用"}


def _date_zh(v: str) -> str:
    m = forms._DATE_REL_RE.match(v)
    if not m:
        return v
    if not m.group(1):
        return "检查当日"
    return f"检查日{'前' if m.group(1) == '-' else '后'} {int(m.group(2))} 天"


def preview(cl: forms.Checklist) -> list[dict[str, Any]]:
    """Sections and items numbered as the laptop numbers them ("3.1"), with what the inspector
    answers and the rules that judge it."""
    numbers = {it.id: f"{sn}.{k}" for sn, s in enumerate(cl.sections, 1) for k, it in enumerate(s.items, 1)}
    out = []
    for sn, s in enumerate(cl.sections, 1):
        items = []
        for it in s.items:
            answer = TYPE_ZH[it.type]
            if it.type == "choice":
                answer = ("多选" if it.params.get("multiple") else "单选") + "：" + " / ".join(it.choices)
            elif it.type in ("number", "count") and it.unit:
                answer += f"（{it.unit}）"
            rules: list[str] = []
            if it.threshold is not None:
                v = it.threshold["value"]
                shown = _date_zh(v) if isinstance(v, str) else f"{v}{it.unit or ''}"
                rules.append(f"要求 {it.threshold['op']} {shown}")
            if it.when:
                target = cl.item(it.when["item"])
                eq = ANSWER_ZH.get(it.when["equals"], it.when["equals"]) if target.type == "check" else it.when["equals"]
                rules.append(f"仅当 {numbers[target.id]}「{target.text}」答“{eq}”时检查，否则不适用")
            if it.params.get("fail_on"):
                rules.append("选“" + "”“".join(it.params["fail_on"]) + "”即不符合")
            if it.params.get("require_all"):
                rules.append("须全部具备")
            if it.rule:
                spec = forms.RULES[it.rule]
                ps = "，".join(f"{k} = {it.param(k)}" for k in spec.params)
                rules.append(f"计算规则 {it.rule}：{spec.doc}（{ps}）")
            if it.plausible:
                rules.append(f"超出 {it.plausible[0]:g}–{it.plausible[1]:g} 时请检查人员确认")
            if it.scope == "department":
                rules.append("人社部门职责：只记录，不形成问题")
            items.append({"number": numbers[it.id], "id": it.id, "text": it.text, "type": it.type, "answer": answer,
                          "rules": rules, "codes": list(it.codes), "basis": it.basis, "photo": it.photo_required,
                          "help": it.help or "",
                          "columns": [{"label": c.label, "type": COLUMN_ZH[c.type], "choices": list(c.choices)}
                                      for c in it.columns]})
        out.append({"number": sn, "id": s.id, "title": s.title, "items": items})
    return out


def _page(request: Request, status: int = 200, **ctx: Any) -> HTMLResponse:
    ctx.setdefault("problems", [])
    ctx.setdefault("cl", None)
    ctx.setdefault("filename", "")
    return R.render(request, "forms.html", status=status, active="forms", versions=HC.versions(R.engine(request)),
                    can_admin=request.state.staff.can("admin"), **ctx)


@router.get("/console/forms")
def forms_page(request: Request) -> HTMLResponse:
    R.need(request)
    return _page(request)


@router.get("/console/forms/v/{version_id}")
def version_page(request: Request, version_id: str) -> HTMLResponse:
    R.need(request)
    row = HC.stored(R.engine(request), version_id)
    if row is None:
        return R.error_page(request, 404, "没有该检查表版本", f"没有检查表版本 {version_id}")
    cl = forms.parse_checklist(row["source"], f"checklist_versions:{version_id}")
    return _page(request, cl=cl, sections=preview(cl), published=row)


@router.post("/console/forms/upload")
async def upload(request: Request) -> Response:
    staff, form = await R.need_post(request, "admin")
    up = form.get("file")
    if not isinstance(up, UploadFile) or not up.filename:
        return await run_in_threadpool(lambda: _page(request, 422, problems=["请选择 XLSX 工作簿"]))
    body = await up.read(MAX_UPLOAD + 1)
    name = Path(up.filename).name
    if len(body) > MAX_UPLOAD:
        return await run_in_threadpool(lambda: _page(request, 422, filename=name,
                                                     problems=[f"{name}: 文件超过 5 MB，未处理"]))

    def work() -> HTMLResponse:
        from inspector import forms_xlsx

        with tempfile.TemporaryDirectory() as tmp:
            p = Path(tmp) / name
            p.write_bytes(body)
            try:
                text, cl = forms_xlsx.import_xlsx(p)
            except FormError as e:
                logger.info("upload %s by %s: %d problem(s)", name, staff.username, len(e.problems))
                return _page(request, 422, filename=name, problems=e.problems)
        return _page(request, filename=name, cl=cl, sections=preview(cl), toml=text,
                     blocked=HC.check_new(R.engine(request), cl))

    return await run_in_threadpool(work)


@router.post("/console/forms/publish")
async def publish(request: Request) -> Response:
    staff, form = await R.need_post(request, "admin")
    text = str(form.get("toml") or "")

    def work() -> Response:
        try:
            cl = forms.parse_checklist(text, "上传的检查表")
            vid = HC.publish(R.engine(request), cl, staff.username)
        except ValidationError as e:
            return R.error_page(request, 422, "未发布", "；".join(e.problems[:20]))
        return R.back(f"/console/forms/v/{vid}", f"已发布 {vid}，检查人员下次同步时收到")

    return await run_in_threadpool(work)
