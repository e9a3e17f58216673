"""Pieces the three forms share: the institution table, inspector lines, photo
numbering and captions, the photo appendix, and signature boxes from the record."""
from __future__ import annotations

import re
from typing import Any, Protocol

from PIL import Image as PILImage
from reportlab.lib.units import mm
from reportlab.platypus import Flowable, Image, KeepTogether, PageBreak, Spacer, Table

from inspector.render.common import CONTENT_W, P, SignBox, fmt_date, fmt_dt, grid_style, no_widows

STATUS_TEXT = {"pass": "符合", "fail": "不符合", "na": "不适用", "unanswered": "未答", "answered": "已记录"}
_NEGATED = ("经现场检查，未达到以下要求：", "未达到以下要求：", "未达到要求：")


class Images(Protocol):
    def photo(self, p: dict[str, Any]) -> bytes | None: ...
    def photo_path(self, p: dict[str, Any]) -> str | None: ...
    def signature(self, role: str) -> bytes | None: ...


def inspector_line(rec: dict[str, Any]) -> str:
    return "、".join(f"{i['name']}（执法证号 {i['badge_no']}）" for i in rec["inspectors"] if i)


def institution_rows(inst: dict[str, Any]) -> list[list[Any]]:
    return [
        ["被检查单位", inst.get("name"), None, None],
        ["统一社会信用代码", inst.get("credit_code"), "许可证/备案号", inst.get("licence_no") or "—"],
        ["地址", inst.get("address") or "—", None, None],
        ["法定代表人", inst.get("legal_rep") or "—", "机构类型", "／".join(x for x in (inst.get("kind"),
                                                                            inst.get("sub_kind")) if x)],
    ]


WIDTHS4 = [34 * mm, (CONTENT_W - 64 * mm) / 2 + 6 * mm, 30 * mm, (CONTENT_W - 64 * mm) / 2 - 6 * mm]


def photo_index(rec: dict[str, Any]) -> list[dict[str, Any]]:
    """Photos in document order (by finding, then the rest), each with its number and finding number."""
    by_sha = {p["sha256"]: p for p in rec.get("photos", []) if p.get("sha256")}
    out, seen = [], set()
    for n, f in enumerate(rec.get("findings", []), 1):
        for sha in f.get("photos", []):
            if sha in by_sha and sha not in seen:
                seen.add(sha)
                out.append({**by_sha[sha], "finding_no": n, "item_text": f.get("description")})
    for p in rec.get("photos", []):
        if p.get("sha256") and p["sha256"] not in seen:
            seen.add(p["sha256"])
            out.append({**p, "finding_no": None})
    for i, p in enumerate(out, 1):
        p["no"] = i
    return out


def _item_text(rec: dict[str, Any], item_id: str | None) -> str:
    """The requirement as the reader knows it ("第 5 项 理论课集中培训面积"), never the internal id."""
    if not item_id:
        return ""
    for cl in rec.get("checklists", []):
        for it in cl["items"]:
            if it["item_id"] == item_id:
                return f"第 {it.get('no', '')} 项 {it['text']}"
    return ""


def mask_id(id_no: str | None) -> str:
    """An ID number as printed on any copy that leaves the bureau: first 4 and last 4 kept."""
    s = (id_no or "").strip()
    if len(s) <= 8:
        return "*" * len(s)
    return s[:4] + "*" * (len(s) - 8) + s[-4:]


def _where(f: dict[str, Any]) -> str:
    it = f.get("item")
    if not it:
        return "现场检查笔录"
    return f"现场检查笔录“检查情况”第 {it['no']} 项"


def facts(f: dict[str, Any]) -> str:
    """What the institution did or lacked, from the record: the inspector's own finding text, else
    the recorded answer and the inspector's note — never the requirement negated."""
    desc = (f.get("description") or "").strip()
    it = f.get("item") or {}
    note = (it.get("note") or "").strip()
    own = desc and not desc.startswith(_NEGATED)
    parts: list[str] = []
    if own:
        parts.append(desc.rstrip("。") + "。")
    if it:
        reason = (it.get("reason") or "").strip()
        seen = reason and not reason.startswith(_NEGATED) and reason not in ("不符合", "已记录")
        if it.get("type") in ("check", "choice", "") and it.get("answer") and not seen:
            head = f"现场检查“{it['text']}”，记录为“{it['answer']}”"
        else:
            head = f"现场检查“{it['text']}”，{reason}" if seen else f"现场检查“{it['text']}”，记录为“{it.get('answer')}”"
        if not own:
            parts.append(head.rstrip("。") + "。")
        if note and note not in " ".join(parts):
            parts.append(f"检查人员现场记录：{note.rstrip('。')}。")
    elif not own:
        parts.append("检查人员认定存在问题，具体情况见现场检查笔录。")
    return "".join(parts)


def _num_str(v: float) -> list[str]:
    out = [str(int(v))] if float(v).is_integer() else []
    out += [f"{v:g}", f"{v:,.0f}" if float(v).is_integer() else f"{v:,.2f}"]
    return list(dict.fromkeys(out))


def numbers(f: dict[str, Any]) -> list[str]:
    """涉及人数 / 资金金额 with where each number comes from: the recorded answer or note that holds
    it, else the inspector's own entry. No number is printed without a source."""
    it = f.get("item") or {}
    recorded = " ".join(str(x) for x in (it.get("answer"), it.get("note")) if x)
    out = []
    for key, label, unit in (("people_involved", "涉及人数", "人"), ("amount", "涉及资金", "元")):
        v = f.get(key)
        if v is None or v == "":
            continue
        shown = f"{int(v)}" if float(v).is_integer() else f"{v:,.2f}"
        if recorded and any(re.search(rf"(?<![\d.]){re.escape(n)}(?![\d.])", recorded) for n in _num_str(float(v))):
            src = f"见{_where(f)}的记录"
        else:
            src = "检查人员录入，现场记录中未载明"
        out.append(f"{label} {shown} {unit}（来源：{src}）")
    return out


def cited(f: dict[str, Any]) -> tuple[str, str]:
    """(provision violated, labels: catalogue codes or the bureau's problem category) per the profile."""
    c = f.get("cite") or {}
    return c.get("provision") or "—", "、".join(c.get("labels") or []) or "—"


def _inspector_name(rec: dict[str, Any], iid: str | None) -> str:
    for i in rec["inspectors"]:
        if i and i["id"] == iid:
            return i["name"]
    return "、".join(i["name"] for i in rec["inspectors"] if i)


def caption(rec: dict[str, Any], p: dict[str, Any]) -> str:
    place = p.get("place") or rec["inspection"].get("place") or rec["institution"].get("address") or ""
    parts = [f"照片 {p['no']}" + (f"（问题 {p['finding_no']}）" if p.get("finding_no") else ""),
             f"拍摄时间：{fmt_dt(p.get('taken_at')) if p.get('taken_at') else '未记录'}",
             f"地点：{place}", f"检查人员：{_inspector_name(rec, p.get('inspector_id'))}"]
    item = _item_text(rec, p.get("item_id"))
    if item:
        parts.append(f"检查事项：{item}")
    if p.get("caption"):
        parts.append(f"说明：{p['caption']}")
    return "\n".join(parts)


def photo_list_table(rec: dict[str, Any], photos: list[dict[str, Any]]) -> Table:
    rows = [[P("编号", "cellc"), P("对应问题", "cellc"), P("拍摄时间", "cellc"), P("检查事项", "cellc")]]
    for p in photos:
        rows.append([P(f"照片 {p['no']}", "cellc"), P(f"问题 {p['finding_no']}" if p.get("finding_no") else "—", "cellc"),
                     P(fmt_dt(p.get("taken_at")) if p.get("taken_at") else "未记录", "cell"),
                     P(_item_text(rec, p.get("item_id")) or p.get("caption") or "—", "cell")])
    t = Table(rows, colWidths=[17 * mm, 20 * mm, 49 * mm, CONTENT_W - 86 * mm], repeatRows=1)
    t.setStyle(grid_style(no_widows(len(rows))))
    return t


class FileImage(Flowable):
    """A JPEG placed by file name: reportlab then copies the bytes (DCTDecode) instead of
    decoding them to RGB and hashing the pixels, as its Image flowable does."""

    def __init__(self, path: str, width: float, height: float):
        super().__init__()
        self.path, self.width, self.height = path, width, height

    def draw(self) -> None:
        self.canv.drawImage(self.path, 0, 0, self.width, self.height)


def _image(path: str | None, max_w: float, max_h: float) -> Flowable:
    if not path:
        return P("（照片文件缺失）", "small")
    with PILImage.open(path) as im:  # header only: no decode
        w, h = im.size
        fmt = im.format
    s = min(max_w / w, max_h / h)
    if fmt == "JPEG":
        return FileImage(path, w * s, h * s)
    return Image(path, width=w * s, height=h * s)


def photo_appendix(rec: dict[str, Any], photos: list[dict[str, Any]], images: Images) -> list[Flowable]:
    """Photos two per row with their captions below; the originals stay untouched."""
    if not photos:
        return []
    out: list[Flowable] = [PageBreak(), P("附：照片证据", "h2"),
                           P("照片为原始照片的缩小副本，说明文字由本文书添加，未改动原始照片。原始照片以 SHA-256 "
                             "校验值留存。", "small"), Spacer(1, 3 * mm)]
    cw = (CONTENT_W - 4 * mm) / 2
    cells = []
    for p in photos:
        # one paragraph per caption line: reportlab breaks single-run paragraphs far faster
        # than ones holding <br/>, and it looks the same
        cells.append([_image(images.photo_path(p), cw - 6, 50 * mm), Spacer(1, 2),
                      *(P(line, "small") for line in caption(rec, p).split("\n")),
                      P(f"原始照片 SHA-256：{p['sha256']}", "small")])
    rows = [cells[i:i + 2] + ([""] if len(cells[i:i + 2]) == 1 else []) for i in range(0, len(cells), 2)]
    t = Table(rows, colWidths=[cw, cw])
    t.setStyle(grid_style([("VALIGN", (0, 0), (-1, -1), "TOP"), ("ALIGN", (0, 0), (-1, -1), "CENTER"),
                           *no_widows(len(rows), header=0)]))
    out.append(t)
    return out


def sig_box(rec: dict[str, Any], images: Images, role: str, label: str, name: str | None = None) -> SignBox:
    s = rec.get("signatures", {}).get(role) or {}
    note = f"拒绝签名。原因：{s.get('refusal_reason')}" if s.get("refused") else None
    return SignBox(label=label, name=name or s.get("signer_name"), png=images.signature(role), note=note,
                   date=fmt_date(s.get("created_at")) if s else None)


def inspector_boxes(rec: dict[str, Any], images: Images, label: str = "检查人员签名") -> list[SignBox]:
    out = []
    for i, ins in enumerate(rec["inspectors"][:2], 1):
        out.append(sig_box(rec, images, f"inspector{i}", f"{label}（{i}）", ins["name"] if ins else None))
    return out


def closing_block(rec: dict[str, Any], date: str | None = None) -> list[Flowable]:
    """Agency name, its seal and the date, right-aligned, as on the paper forms."""
    agency = rec["settings"]["agency_name"]
    return [Spacer(1, 6 * mm), P(agency, "right"), P("（行政机关印章）", "right"), P(fmt_date(date), "right")]


def closing(rec: dict[str, Any], date: str | None = None) -> list[Flowable]:
    return [keep(*closing_block(rec, date))]


def seal_box(label: str, width: float = 60 * mm, height: float = 42 * mm) -> Table:
    """An empty box where the unit presses its seal (公章 is ~42 mm across)."""
    t = Table([[P(label, "smallc")], [""]], colWidths=[width], rowHeights=[7 * mm, height])
    t.setStyle(grid_style([("BOX", (0, 0), (-1, -1), 0.6, (0, 0, 0)), ("GRID", (0, 0), (-1, -1), 0, (1, 1, 1)),
                           ("BOX", (0, 0), (-1, -1), 0.6, (0, 0, 0))]))
    return t


def keep(*fl: Flowable) -> KeepTogether:
    return KeepTogether(list(fl))
