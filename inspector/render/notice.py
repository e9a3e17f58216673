"""责令限期整改通知书 (rectification notice), from the jurisdiction profile: the facts per finding as
what the institution did or lacked (from the record), the evidence, the provision violated, the
责令 clause with its legal basis, the deadline, how and where to report back, the consequence of not
complying, the right to state and defend, the 行政复议 (60 days) / 行政诉讼 (6 months) notice with
the bodies, signatures, the agency's seal and the recipient's receipt."""
from __future__ import annotations

from typing import Any

from reportlab.lib.units import mm
from reportlab.platypus import Flowable, Spacer, Table

from inspector.render import parts
from inspector.render.common import CONTENT_W, P, Page, build as _build, field_table, fmt_date, fmt_dt, \
    grid_style, head, no_widows, signature_table

_CN_NUM = "零一二三四五六七八九十"


def _days(n: int) -> str:
    return {60: "六十"}.get(n, str(n))


def _months(n: int) -> str:
    return _CN_NUM[n] if 0 < n <= 10 else str(n)


def build(rec: dict[str, Any], *, qr_url: str | None, images: parts.Images) -> bytes:
    insp, inst, cfg = rec["inspection"], rec["institution"], rec["settings"]
    prof = rec.get("profile") or {}
    law, rem, wording, agency = prof.get("law", {}), prof.get("remedy", {}), prof.get("wording", {}), \
        prof.get("agency", {})
    photos = parts.photo_index(rec)
    by_f: dict[int, list[int]] = {}
    for p in photos:
        if p.get("finding_no"):
            by_f.setdefault(p["finding_no"], []).append(p["no"])
    story: list[Flowable] = head(rec["title"], rec["number"], qr_url, cfg["agency_name"])
    story.append(P(f"{inst.get('name')}：", "body"))
    story.append(field_table(parts.institution_rows(inst)[1:], parts.WIDTHS4))
    story.append(Spacer(1, 3 * mm))
    story.append(P(f"{fmt_dt(insp.get('started_at'))}（北京时间），本机关检查人员{parts.inspector_line(rec)}依据"
                   f"{law.get('inspection_basis', '')}的规定，出示执法证件后对你单位进行了现场检查"
                   f"（现场检查笔录 {rec.get('record_number') or '另附'}）。经查，你单位存在以下问题：", "indent"))
    catalogue = any((f.get("cite") or {}).get("labels") and not (f.get("cite") or {}).get("category")
                    for f in rec["findings"])
    rows = [[P("序号", "cellc"), P("事实（你单位的做法或欠缺）", "cellc"), P("证据", "cellc"),
             P("违反的规定", "cellc"), P("失信行为代码" if catalogue else "问题类别", "cellc")]]
    for n, f in enumerate(rec["findings"], 1):
        provision, labels = parts.cited(f)
        ev = by_f.get(n)
        evidence = ("照片 " + "、".join(map(str, ev)) + "；" if ev else "") + parts._where(f)
        fact = [P(parts.facts(f), "cell"), *(P(x, "small") for x in parts.numbers(f))]
        rows.append([P(str(n), "cellc"), fact, P(evidence, "cell"), P(provision, "cell"), P(labels, "cellc")])
    t = Table(rows, colWidths=[10 * mm, 56 * mm, 24 * mm, CONTENT_W - 116 * mm, 26 * mm], repeatRows=1)
    t.setStyle(grid_style([("VALIGN", (0, 0), (-1, -1), "TOP"), *no_widows(len(rows))]))
    story += [t, Spacer(1, 3 * mm)]
    deadline = fmt_date(rec["deadline"])
    story.append(P(f"上述行为不符合{law.get('policy_basis', '')}及上表所列规定。根据{law.get('order_basis', '')}的规定，"
                   f"现责令你单位对上述问题立即改正，并于 {deadline} 前整改完毕。", "indent"))
    story.append(P("整改要求：", "caption"))
    for n, f in enumerate(rec["findings"], 1):
        story.append(P(f"{n}．{f.get('required_action') or '针对问题 ' + str(n) + ' 制定整改措施并落实到位'}"
                       + (f"（期限：{fmt_date(f['deadline'])}）" if f.get("deadline") else ""), "indent"))
    addr = agency.get("address", "")
    # "新乡市人力资源和社会保障局职业能力建设科（地址以本机关公布为准）": no comma inside the bureau's own name
    sep = "" if agency.get("contact_unit") and addr.startswith(agency["contact_unit"]) else "，"
    post = f"（邮编 {agency['postcode']}）" if agency.get("postcode") else ""
    story.append(P(f"整改情况报告：{cfg['report_how']}报送地址：{cfg['agency_name']}{sep}{addr}{post}"
                   f"；联系方式：{cfg.get('contact', '')}。", "indent"))
    story.append(P(f"逾期后果：{cfg['consequence']}", "indent"))
    story.append(P(f"复查安排：{cfg['reinspection']}", "indent"))
    story.append(P(f"你单位对本通知认定的事实有异议的，有权自收到本通知之日起{wording.get('statement_days', '三个工作日')}"
                   "内向本机关提出陈述、申辩，本机关将认真听取并复核。", "indent"))
    remedy = P(f"{law.get('remedy_intro', '')}你单位如对本通知不服，可以自收到本通知之日起"
               f"{_days(int(rem.get('reconsideration_days', 60)))}日内向{rem.get('reconsideration_body', '')}"
               f"申请行政复议，也可以自收到本通知之日起{_months(int(rem.get('litigation_months', 6)))}个月内直接向"
               f"{rem.get('court', '')}提起行政诉讼（{rem.get('reconsideration_article', '')}、"
               f"{rem.get('litigation_article', '')}）。", "indent")
    rcpt = parts.sig_box(rec, images, "recipient", "被检查单位签收（签名或盖章，并注明签收人身份及签收时间）")
    served = rec.get("served") or {}
    who = served.get("recipient_person") or rcpt.name
    cap = served.get("recipient_capacity") or ((insp.get("person_in_charge") or {}).get("position")
                                               if who == (insp.get("person_in_charge") or {}).get("name") else None)
    rcpt.name = f"{who or ''}（{cap or '身份未记录'}）" if who else None
    # the remedy notice, the signatures with the seal and the 签收栏 stay on one page: no page carries
    # only a seal or only the recipient's signature without text of the notice (GB/T 9704 7.3.5)
    story.append(parts.keep(remedy, Spacer(1, 3 * mm), signature_table(parts.inspector_boxes(rec, images, "检查人员签名")),
                            *parts.closing_block(rec, insp.get("ended_at") or insp.get("started_at")),
                            Spacer(1, 4 * mm), P("签收栏", "h2"), signature_table([rcpt], cols=1)))
    story += parts.photo_appendix(rec, [p for p in photos if p.get("finding_no")], images)
    page = Page(title=f"{rec['title']}｜{inst.get('name')}", number=rec["number"])
    return _build(story, page, author=cfg["agency_name"], subject=rec["number"] or "")
