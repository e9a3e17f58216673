"""现场检查笔录 (on-site record): every field of DOMAIN.md §7, facts item by item in
neutral wording, the findings with their photo evidence, signatures, appendix."""
from __future__ import annotations

from typing import Any

from reportlab.lib.units import mm
from reportlab.platypus import Flowable, Spacer, Table

from inspector.documents import parts
from inspector.documents.common import CONTENT_W, P, Page, build as _build, checkbox, field_table, fmt_dt, grid_style, \
    head, signature_table


def _facts(rec: dict[str, Any]) -> list[Flowable]:
    out: list[Flowable] = [P("二、检查情况（逐项记录）", "h2")]
    for cl in rec["checklists"]:
        out.append(P(f"《{cl['title']}》", "body"))
        rows = [[P("序号", "cellc"), P("检查事项", "cellc"), P("结论", "cellc"), P("检查情况", "cellc")]]
        for n, it in enumerate(cl["items"], 1):
            detail = it.get("reason") or ""
            if it.get("note"):
                detail = f"{detail}；{it['note']}" if detail else it["note"]
            rows.append([P(str(n), "cellc"), P(f"{it['item_id']} {it['text']}", "cell"),
                         P(parts.STATUS_TEXT.get(it["status"], it["status"]), "cellc"), P(detail, "cell")])
        if len(rows) == 1:
            rows.append([P("—", "cellc"), P("（未记录检查事项）", "cell"), "", ""])
        t = Table(rows, colWidths=[12 * mm, 77 * mm, 16 * mm, CONTENT_W - 105 * mm], repeatRows=1)
        t.setStyle(grid_style([("VALIGN", (0, 0), (-1, -1), "TOP")]))
        out += [t, Spacer(1, 3 * mm)]
    return out


def _findings(rec: dict[str, Any], photos: list[dict[str, Any]]) -> list[Flowable]:
    out: list[Flowable] = [P("三、发现的问题", "h2")]
    if not rec["findings"]:
        return out + [P("本次检查未发现问题。", "indent")]
    by_f: dict[int, list[int]] = {}
    for p in photos:
        if p.get("finding_no"):
            by_f.setdefault(p["finding_no"], []).append(p["no"])
    for n, f in enumerate(rec["findings"], 1):
        bits = [f"{n}. {f['description']}"]
        extra = []
        if f.get("people_involved"):
            extra.append(f"涉及人数 {f['people_involved']} 人")
        if f.get("amount"):
            extra.append(f"涉及资金 {f['amount']:.2f} 元")
        if f.get("codes"):
            extra.append("失信行为代码 " + "、".join(f["codes"]))
        ev = by_f.get(n)
        extra.append("证据：照片 " + "、".join(map(str, ev)) if ev else "证据：现场检查记录")
        bits.append("（" + "；".join(extra) + "）")
        out.append(P("".join(bits), "body"))
    return out


def build(rec: dict[str, Any], *, qr_url: str | None, images: parts.Images) -> bytes:
    insp, inst = rec["inspection"], rec["institution"]
    pic = insp.get("person_in_charge") or {}
    photos = parts.photo_index(rec)
    task = rec.get("task")
    if task:
        src = {"draw": "双随机抽查", "adhoc": "专项检查", "reinspection": "整改复查"}.get(task.get("kind"), "检查任务")
        source = f"{src}（任务编号 {task['id'][:8]}" + (f"，摇号记录 {task['draw_id'][:8]}" if task.get("draw_id") else "") + "）"
    else:
        source = "临时检查（无摇号任务）"
    recorder = rec.get("recorder") or (rec["inspectors"][0] if rec["inspectors"] else None)
    rows = parts.institution_rows(inst) + [
        ["现场负责人", pic.get("name") or "—", "职务", pic.get("position") or "—"],
        ["联系电话", pic.get("phone") or inst.get("phone") or "—", "记录人", recorder["name"] if recorder else "—"],
        ["检查地点", insp.get("place") or inst.get("address") or "—", None, None],
        ["检查时间", f"{fmt_dt(insp.get('started_at'))} 至 {fmt_dt(insp.get('ended_at'))}", None, None],
        ["检查人员", parts.inspector_line(rec), None, None],
        ["任务来源", source, None, None],
        ["检查依据", "；".join(f"《{c['title']}》（{c['id']}）" for c in rec["checklists"]) or "—", None, None],
    ]
    story: list[Flowable] = head(rec["title"], rec["number"], qr_url, rec["settings"]["agency_name"])
    story += [field_table(rows, parts.WIDTHS4), Spacer(1, 3 * mm)]
    story.append(P("一、告知事项", "h2"))
    story.append(P(f"{checkbox(insp.get('ids_shown'))} 检查人员已向被检查单位出示执法证件，表明身份。", "indent"))
    story.append(P(f"{checkbox(insp.get('rights_explained'))} 已告知被检查单位依法享有陈述、申辩的权利；"
                   "检查人员与被检查单位有直接利害关系的，被检查单位有权申请回避。", "indent"))
    story += _facts(rec)
    story += _findings(rec, photos)
    if photos:
        story += [P("四、照片证据清单", "h2"), parts.photo_list_table(rec, photos)]
    # institution's statement and signatures
    s = rec.get("signatures", {}).get("person_in_charge") or {}
    story.append(P("五、被检查单位意见", "h2"))
    if s.get("refused"):
        story.append(P(f"被检查单位负责人拒绝签名，原因：{s.get('refusal_reason')}。由见证人在场见证。", "indent"))
    else:
        story.append(P("以上记录属实。", "indent"))
    boxes = [parts.sig_box(rec, images, "person_in_charge", "被检查单位负责人签名", pic.get("name"))]
    boxes.append(parts.sig_box(rec, images, "witness", "见证人签名（被检查单位拒绝签名时）"))
    story += [Spacer(1, 2 * mm), parts.keep(signature_table(boxes), Spacer(1, 3 * mm),
                                            signature_table(parts.inspector_boxes(rec, images)))]
    story += parts.closing(rec, insp.get("ended_at") or insp.get("started_at"))
    story += parts.photo_appendix(rec, photos, images)
    page = Page(title=f"{rec['title']}｜{inst.get('name')}", number=rec["number"])
    return _build(story, page, author=rec["settings"]["agency_name"], subject=rec["number"] or "")
