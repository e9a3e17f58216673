"""现场检查笔录 (on-site record): the legal basis of the inspection, who inspected whom and when
(China Standard Time), credentials shown, the 回避 question and the unit's answer, every checklist
item with its answer verbatim (未答 / 不适用 with the reason, never dropped), the findings with their
sources, the party's confirmation in the profile's wording, signature boxes of the party and both
inspectors on EVERY page, and a seal box for the inspected unit."""
from __future__ import annotations

import re
from typing import Any

from reportlab.lib.units import mm
from reportlab.platypus import Flowable, Spacer, Table, TableStyle

from inspector.render import parts
from inspector.render.common import CONTENT_W, H2, P, Page, SignBox, build as _build, checkbox, field_table, fmt_dt, \
    fonts, grid_style, head, no_widows, signature_table


def _facts(rec: dict[str, Any]) -> list[Flowable]:
    out: list[Flowable] = H2("三、检查情况（逐项记录）")
    for cl in rec["checklists"]:
        # the checklist's title and basis head the table (repeated on every page with the column heads)
        rows = [[P(f"《{cl['title']}》　依据：{cl.get('basis') or '—'}", "cell"), "", "", ""],
                [P("序号", "cellc"), P("检查事项及依据", "cellc"), P("结论", "cellc"), P("答复及检查情况", "cellc")]]
        for it in cl["items"]:
            status = it["status"]
            concl = "—" if it.get("type") == "text" and status == "pass" else parts.STATUS_TEXT.get(status, status)
            detail: list[str] = []
            more: list[str] = []
            if status == "unanswered":
                detail.append(f"未答：{it.get('reason') or '未记录答复'}")
            elif status == "na":
                detail.append(it.get("reason") if it.get("reason") not in (None, "", "不适用") else "不适用")
            else:
                if it.get("answer") and it.get("type") == "table":
                    # one table line per row: a tall row cannot break across pages
                    lines = re.split(r"；(?=\d+\. )", it["answer"])
                    detail.append(f"答复：{lines[0]}")
                    more = lines[1:]
                elif it.get("answer"):
                    detail.append(f"答复：{it['answer']}")
                r = it.get("reason") or ""
                if status == "fail" and r and not r.startswith(parts._NEGATED) and r != it.get("answer"):
                    detail.append(r)
            if it.get("note"):
                detail.append(f"检查人员记录：{it['note']}")
            basis = it.get("provision")
            rows.append([P(str(it.get("no", "")), "cellc"),
                         [P(it["text"], "cell"), *([P(f"依据：{basis}", "small")] if basis else [])],
                         P(concl, "cellc"), [P(d, "cell") for d in detail] or [P("—", "cell")]])
            for line in more:
                rows.append(["", P("（续）", "small"), "", P(line, "cell")])
        if len(rows) == 2:
            rows.append([P("—", "cellc"), P("（未记录检查事项）", "cell"), "", ""])
        t = Table(rows, colWidths=[12 * mm, 69 * mm, 15 * mm, CONTENT_W - 96 * mm], repeatRows=2)
        t.setStyle(grid_style([("VALIGN", (0, 0), (-1, -1), "TOP"), ("SPAN", (0, 0), (-1, 0)),
                               ("BACKGROUND", (0, 0), (-1, 0), (0.94, 0.94, 0.94)),
                               *no_widows(len(rows), header=2)[-1:]]))
        out += [t, Spacer(1, 3 * mm)]
    return out


def _findings(rec: dict[str, Any], photos: list[dict[str, Any]]) -> list[Flowable]:
    out: list[Flowable] = H2("四、发现的问题")
    if not rec["findings"]:
        return out + [P("本次检查未发现问题。", "indent")]
    by_f: dict[int, list[int]] = {}
    for p in photos:
        if p.get("finding_no"):
            by_f.setdefault(p["finding_no"], []).append(p["no"])
    for n, f in enumerate(rec["findings"], 1):
        provision, labels = parts.cited(f)
        extra = parts.numbers(f)
        cat = "失信行为代码" if (rec.get("profile") or {}).get("id") and f.get("cite", {}).get("labels") and \
            not f.get("cite", {}).get("category") else "问题类别"
        if labels != "—":
            extra.append(f"{cat}：{labels}")
        extra.append(f"依据：{provision}")
        ev = by_f.get(n)
        extra.append(("证据：照片 " + "、".join(map(str, ev)) + "；" if ev else "证据：") + parts._where(f))
        out.append(P(f"{n}. {parts.facts(f)}", "body"))
        out.append(P("（" + "；".join(extra) + "）", "small"))
    return out


def build(rec: dict[str, Any], *, qr_url: str | None, images: parts.Images) -> bytes:
    insp, inst, cfg = rec["inspection"], rec["institution"], rec["settings"]
    prof = rec.get("profile") or {}
    law, wording = prof.get("law", {}), prof.get("wording", {})
    pic = insp.get("person_in_charge") or {}
    photos = parts.photo_index(rec)
    task = rec.get("task")
    if task:
        src = {"draw": "双随机抽查", "adhoc": "专项检查", "reinspection": "整改复查"}.get(task.get("kind"), "检查任务")
        source = f"{src}（任务编号 {task['id'][:8]}" + (f"，摇号记录 {task['draw_id'][:8]}" if task.get("draw_id") else "") + "）"
    else:
        source = "临时检查（无摇号任务）"
    recorder = rec.get("recorder") or (rec["inspectors"][0] if rec["inspectors"] else None)
    id_no = pic.get("id_no")
    rows = parts.institution_rows(inst) + [
        ["现场负责人", pic.get("name") or "—", "职务（身份）", pic.get("position") or "—"],
        ["身份证件号码", parts.mask_id(id_no) if id_no else "未记录", "联系电话", pic.get("phone") or inst.get("phone") or "—"],
        ["检查地点", insp.get("place") or inst.get("address") or "—", None, None],
        ["检查时间", f"{fmt_dt(insp.get('started_at'))} 至 {fmt_dt(insp.get('ended_at'))}（北京时间）", None, None],
        ["检查人员", parts.inspector_line(rec), None, None],
        ["记录人", recorder["name"] if recorder else "—", "任务来源", source],
        ["检查依据", law.get("inspection_basis") or "—", None, None],
    ]
    story: list[Flowable] = head(rec["title"], rec["number"], qr_url, cfg["agency_name"])
    story += [field_table(rows, parts.WIDTHS4), Spacer(1, 3 * mm)]
    story += H2("一、告知事项")
    story.append(P(f"{checkbox(insp.get('ids_shown'))} {wording.get('ids_shown', '检查人员已出示执法证件，表明身份。')}"
                   f"（{law.get('inspection_basis', '')}）", "indent"))
    story.append(P(f"{checkbox(insp.get('rights_explained'))} {wording.get('rights', '')}", "indent"))
    story += H2("二、回避")
    recusal = (pic.get("recusal") or "").strip()
    story.append(P(f"问：{wording.get('recusal_question', '你单位是否申请检查人员回避？')}", "indent"))
    story.append(P(f"答：{recusal}" if recusal else "答：未答（未记录被检查单位的答复）", "indent"))
    story.append(P(f"（依据：{law.get('recusal_basis', '')}）", "small"))
    story += _facts(rec)
    story += _findings(rec, photos)
    if photos:
        story += [*H2("五、照片证据清单"), parts.photo_list_table(rec, photos)]
    # the party's confirmation (the profile's wording, typed, then signed), seal, inspectors
    s = rec.get("signatures", {}).get("person_in_charge") or {}
    # the heading, the confirmation, the signatures, the seal box and the agency's closing: one page
    opinion: list[Flowable] = [P("六、被检查单位意见", "h2")]
    if s.get("refused"):
        opinion.append(P(f"被检查单位负责人拒绝签名，原因：{s.get('refusal_reason')}。由见证人在场见证。", "indent"))
    else:
        opinion.append(P(f"{wording.get('party_confirmation', '以上笔录我已看过，与事实相符。')}", "indent"))
    label = f"被检查单位负责人签名（{pic.get('position') or '职务未记录'}）"
    boxes = [parts.sig_box(rec, images, "person_in_charge", label, pic.get("name")),
             parts.sig_box(rec, images, "witness", "见证人签名（被检查单位拒绝签名时）")]
    seal = parts.seal_box("被检查单位（盖章）")
    # the signature box as wide as its column (it overlapped the seal box) and no rules of the
    # layout table over the boxes' own borders
    sign_row = Table([[signature_table(boxes[:1], cols=1, width=CONTENT_W - 64 * mm), seal]],
                     colWidths=[CONTENT_W - 64 * mm, 64 * mm])
    sign_row.setStyle(TableStyle([("FONTNAME", (0, 0), (-1, -1), fonts()[0]),  # else Helvetica, not embedded
                                  ("VALIGN", (0, 0), (-1, -1), "TOP"), ("ALIGN", (1, 0), (1, 0), "RIGHT"),
                                  ("LEFTPADDING", (0, 0), (-1, -1), 0), ("RIGHTPADDING", (0, 0), (-1, -1), 0),
                                  ("TOPPADDING", (0, 0), (-1, -1), 0), ("BOTTOMPADDING", (0, 0), (-1, -1), 0)]))
    story += [parts.keep(*opinion, Spacer(1, 2 * mm), sign_row, Spacer(1, 2 * mm),
                         signature_table(boxes[1:], cols=1), Spacer(1, 3 * mm),
                         signature_table(parts.inspector_boxes(rec, images)),
                         *parts.closing_block(rec, insp.get("ended_at") or insp.get("started_at")))]
    story += parts.photo_appendix(rec, photos, images)
    # every page carries the party's and both inspectors' signatures
    strip = [SignBox("被检查单位负责人（每页签名）", pic.get("name"), images.signature("person_in_charge"),
                     "拒绝签名" if s.get("refused") else None)]
    for i, ins in enumerate(rec["inspectors"][:2], 1):
        strip.append(SignBox(f"检查人员（{i}）", ins["name"] if ins else None, images.signature(f"inspector{i}")))
    page = Page(title=f"{rec['title']}｜{inst.get('name')}", number=rec["number"], strip=strip)
    return _build(story, page, author=cfg["agency_name"], subject=rec["number"] or "")
