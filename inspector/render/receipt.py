"""送达回证 (proof of service): the document served, recipient, place, time and method,
the recipient's signature or the refusal with reason and witness, two servers."""
from __future__ import annotations

from typing import Any

from reportlab.lib.units import mm
from reportlab.platypus import Flowable, Spacer, Table

from inspector.render import parts
from inspector.render.common import CONTENT_W, P, Page, build as _build, checkbox, fmt_dt, grid_style, head, \
    signature_image

METHODS = ("直接送达", "留置送达", "邮寄送达", "电子送达")


def _sig_cell(rec: dict[str, Any], images: parts.Images, role: str, fallback: str | None = None,
              capacity: str | None = None) -> list[Flowable]:
    s = rec.get("signatures", {}).get(role) or {}
    out: list[Flowable] = []
    img = signature_image(images.signature(role))
    if img is not None:
        out.append(img)
    elif s.get("refused"):
        out.append(P(f"拒绝签名：{s.get('refusal_reason')}", "cell"))
    else:
        out.append(Spacer(1, 12 * mm))
    name = s.get("signer_name") or fallback
    out.append(P(f"{name or ''}　{fmt_dt(s.get('created_at')) if s else ''}", "small"))
    if role == "recipient" and capacity:
        out.append(P(f"身份：{capacity}", "small"))
    return out


def build(rec: dict[str, Any], *, qr_url: str | None, images: parts.Images) -> bytes:
    inst, cfg, served, doc = rec["institution"], rec["settings"], rec["served"], rec["served_document"]
    refused = bool(served.get("refusal_reason"))
    method_line = "　".join(f"{checkbox(served['method'] == m)} {m}" + ("（经受送达人同意）" if m == "电子送达" else "")
                           for m in METHODS)
    lab = lambda s: P(s, "cellc")  # noqa: E731
    servers = []
    for i, ins in enumerate(rec["inspectors"][:2], 1):
        servers.append(_sig_cell(rec, images, f"inspector{i}", ins["name"] if ins else None))
    rows = [
        [lab("送达文书名称"), P(doc["title"], "cell"), "", ""],
        [lab("文书编号"), P(doc["number"], "cell"), lab("份数"), P(f"{served.get('copies') or 1} 份", "cell")],
        [lab("受送达人"), P(served.get("recipient") or inst.get("name"), "cell"), "", ""],
        [lab("签收人"), P(served.get("recipient_person") or "—", "cell"), lab("签收人身份"),
         P(served.get("recipient_capacity") or "未记录", "cell")],
        [lab("送达地点"), P(served.get("place") or rec["inspection"].get("place") or inst.get("address"), "cell"), "", ""],
        [lab("送达时间"), P(f"{fmt_dt(served.get('time'))}（北京时间）", "cell"), "", ""],
        [lab("送达方式"), P(method_line, "cell"), "", ""],
        [lab("受送达人签名或盖章"),
         _sig_cell(rec, images, "recipient", served.get("recipient_person"), served.get("recipient_capacity"))
         if not refused else
         P("受送达人拒绝签收", "cell"), "", ""],
        [lab("拒收事由"), P(served.get("refusal_reason") or "—", "cell"), "", ""],
        [lab("见证人签名"), _sig_cell(rec, images, "witness", served.get("witness")) if refused else P("—", "cell"),
         "", ""],
        [lab("送达人签名"), servers[0] if servers else "", lab("送达人签名"), servers[1] if len(servers) > 1 else ""],
        [lab("备注"), P(served.get("note") or ("受送达人拒绝签收，已将文书留置送达并由见证人见证。" if refused else ""),
                       "cell"), "", ""],
    ]
    w = [32 * mm, (CONTENT_W - 64 * mm) / 2, 32 * mm, (CONTENT_W - 64 * mm) / 2]
    t = Table(rows, colWidths=w)
    spans = [("SPAN", (1, r), (3, r)) for r in range(len(rows)) if r not in (1, 3, 10)]
    t.setStyle(grid_style(spans + [("TOPPADDING", (0, 0), (-1, -1), 7), ("BOTTOMPADDING", (0, 0), (-1, -1), 7)]))
    story: list[Flowable] = head(rec["title"], rec["number"], qr_url, cfg["agency_name"])
    story += [Spacer(1, 2 * mm), t]
    story += parts.closing(rec, served.get("time"))
    page = Page(title=f"{rec['title']}｜{inst.get('name')}", number=rec["number"])
    return _build(story, page, author=cfg["agency_name"], subject=rec["number"] or "")
