"""责令限期整改通知书 (rectification notice): numbered problems with evidence, code and
breached provision; legal basis; actions; calendar deadline; reporting; consequences;
re-inspection; the right to state and defend; signatures and the recipient's receipt."""
from __future__ import annotations

from typing import Any

from reportlab.lib.units import mm
from reportlab.platypus import Flowable, Spacer, Table

from inspector.documents import parts
from inspector.documents.common import CONTENT_W, P, Page, build as _build, field_table, fmt_date, grid_style, head, \
    signature_table


def build(rec: dict[str, Any], *, qr_url: str | None, images: parts.Images) -> bytes:
    insp, inst, cfg = rec["inspection"], rec["institution"], rec["settings"]
    photos = parts.photo_index(rec)
    by_f: dict[int, list[int]] = {}
    for p in photos:
        if p.get("finding_no"):
            by_f.setdefault(p["finding_no"], []).append(p["no"])
    story: list[Flowable] = head(rec["title"], rec["number"], qr_url, cfg["agency_name"])
    story.append(P(f"{inst.get('name')}：", "body"))
    story.append(field_table(parts.institution_rows(inst)[1:], parts.WIDTHS4))
    story.append(Spacer(1, 3 * mm))
    story.append(P(f"{fmt_date(insp.get('started_at'))}，本机关检查人员{parts.inspector_line(rec)}依法对你单位进行了"
                   f"现场检查（现场检查笔录 {rec.get('record_number') or '另附'}），发现你单位存在以下问题：", "indent"))
    rows = [[P("序号", "cellc"), P("问题事实", "cellc"), P("证据", "cellc"), P("失信行为代码", "cellc"),
             P("违反的规定", "cellc")]]
    for n, f in enumerate(rec["findings"], 1):
        ev = by_f.get(n)
        rows.append([P(str(n), "cellc"), P(f["description"], "cell"),
                     P("照片 " + "、".join(map(str, ev)) if ev else "现场检查笔录", "cell"),
                     P("、".join(f.get("codes") or []) or "—", "cellc"), P(f.get("basis") or "—", "cell")])
    t = Table(rows, colWidths=[12 * mm, 56 * mm, 26 * mm, 26 * mm, CONTENT_W - 120 * mm], repeatRows=1)
    t.setStyle(grid_style([("VALIGN", (0, 0), (-1, -1), "TOP")]))
    story += [t, Spacer(1, 3 * mm)]
    deadline = fmt_date(rec["deadline"])
    story.append(P(f"根据{cfg['notice_basis']}的规定，现责令你单位对上述问题予以改正，并于 {deadline} 前整改完毕。",
                   "indent"))
    story.append(P("整改要求：", "body"))
    for n, f in enumerate(rec["findings"], 1):
        story.append(P(f"{n}. {f.get('required_action') or '针对问题 ' + str(n) + ' 制定整改措施并落实到位'}"
                       + (f"（期限：{fmt_date(f['deadline'])}）" if f.get("deadline") else ""), "indent"))
    story.append(P(f"整改情况报告：{cfg['report_how']}", "indent"))
    story.append(P(f"逾期后果：{cfg['consequence']}", "indent"))
    story.append(P(f"复查安排：{cfg['reinspection']}", "indent"))
    story.append(P("你单位对本通知认定的事实有异议的，有权自收到本通知之日起三个工作日内向本机关提出陈述、申辩，"
                   "本机关将认真听取并复核。" + (f"联系方式：{cfg['contact']}。" if cfg.get("contact") else ""),
                   "indent"))
    story += [Spacer(1, 3 * mm), parts.keep(signature_table(parts.inspector_boxes(rec, images, "检查人员签名")))]
    story += parts.closing(rec, insp.get("ended_at") or insp.get("started_at"))
    rcpt = parts.sig_box(rec, images, "recipient", "被检查单位签收（签名或盖章）")
    story += [Spacer(1, 4 * mm), parts.keep(P("签收栏", "h2"), signature_table([rcpt], cols=1))]
    story += parts.photo_appendix(rec, [p for p in photos if p.get("finding_no")], images)
    page = Page(title=f"{rec['title']}｜{inst.get('name')}", number=rec["number"])
    return _build(story, page, author=cfg["agency_name"], subject=rec["number"] or "")
