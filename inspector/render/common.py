"""Layout shared by the official forms: fonts, paragraphs, bordered field tables,
signature boxes, the 文号 line, the QR code and "第 x 页 共 y 页".

Everything is set in the shipped CJK face (WenQuanYi Micro Hei: CJK, Latin, digits, common
symbols). Only a character it lacks falls back to reportlab's bundled Bitstream Vera, which is
then embedded too; a document without such characters carries one font.

Importing this module teaches reportlab the Chinese punctuation rules for line breaks
(``_extend_kinsoku``); ``P`` paragraphs cache their line breaking per width (``Para``).
"""
from __future__ import annotations

import datetime as _dt
import io
import re
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any, Callable, Iterable, Sequence
from xml.sax.saxutils import escape

import reportlab
from reportlab import rl_config
from reportlab.lib import colors
from reportlab.lib.enums import TA_CENTER, TA_RIGHT
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.pdfgen import canvas as _canvas
from reportlab.platypus import Flowable, Image, Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

from inspector import pdfa
from inspector import pdfbase

# Binary image streams: reportlab's default ASCII85 wrapping runs in pure Python and costs
# ~0.1 s per photo; PDFs are binary anyway.
rl_config.useA85 = 0

LATIN = "InspectorLatin"
PAGE_W, PAGE_H = A4
MARGIN_X = 22 * mm  # landscape forms (the 台账)
# GB/T 9704: 订口 (binding gutter) 28 mm on the left of odd pages; the forms are printed one-sided,
# so every page keeps it
MARGIN_LEFT = 28 * mm
MARGIN_RIGHT = 20 * mm
MARGIN_TOP = 22 * mm
MARGIN_BOTTOM = 20 * mm
CONTENT_W = PAGE_W - MARGIN_LEFT - MARGIN_RIGHT
CST = _dt.timezone(_dt.timedelta(hours=8), "CST")
# a 文号 (新人社监〔2026〕L-0001号) is never broken across lines
NUMBER_RE = re.compile(r"[\u4e00-\u9fff]{1,10}〔\d{4}〕(?:L-)?\d+号")
GRID = colors.black
# Chinese line-breaking rules, applied to reportlab process-wide on import (its tables are
# Japanese-oriented): these marks must not start a line — without them "，合计" could open one;
# added to reportlab's list, the mark hangs at the end of the previous line instead. And an opening
# bracket must not end a line (``_dumb_split``).
_NO_LINE_START = "，；：？！》〉”’…％℃"


def _dumb_split(word: str, widths: list[float], maxWidths: Any) -> list[list[Any]]:  # noqa: N803
    """reportlab's ``textsplit.dumbSplit`` (fill each line, break anywhere between CJK characters,
    let a mark that cannot start a line hang), plus: an opening bracket or quote never ends a line,
    it moves down with what it opens."""
    from unicodedata import category

    from reportlab.lib import textsplit

    cannot_start, cannot_end, fuzz = textsplit.ALL_CANNOT_START, textsplit.ALL_CANNOT_END, 1e-6
    if not isinstance(maxWidths, (list, tuple)):
        maxWidths = [maxWidths]
    lines: list[list[Any]] = []
    i = line_start = 0
    used = 0.0
    max_w = maxWidths[0]
    n = len(word)
    spans = [m.span() for m in NUMBER_RE.finditer(word)]
    while i < n:
        w, c = widths[i], word[i]
        used += w
        i += 1
        if used > max_w + fuzz and used > 0:
            extra = max_w - used
            if ord(c) < 0x3000:  # inside a Latin run: go back to a space or a CJK character
                for j in range(i - 1, (line_start + i) >> 1, -1):
                    if category(word[j]) == "Zs" or ord(word[j]) >= 0x3000:
                        k = j + 1
                        if k < i:
                            extra += sum(widths[k + 1:i])
                            w, c, i = widths[k], word[k], k + 1
                            break
            if c not in cannot_start and i > line_start + 1:
                i -= 1
                extra += w
            if i - 1 > line_start + 1 and word[i - 1] in cannot_end:
                i -= 1
                extra += widths[i]
            while i < n and i > line_start + 1 and word[i] in cannot_start and extra >= -1.1 * widths[i]:
                # a second mark that cannot start a line ("）。") hangs with the first
                extra -= widths[i]
                i += 1
            for a, b in spans:  # never inside a 文号: the whole number moves down
                if a < i < b and a > line_start:
                    if a - 1 > line_start and word[a - 1] in cannot_end:
                        a -= 1  # with the bracket that opens it
                    extra += sum(widths[a:i])
                    i = a
                    break
            lines.append([extra, word[line_start:i].strip()])
            max_w = maxWidths[min(len(lines), len(maxWidths) - 1)]
            line_start = i
            used = 0.0
    if used > 0:
        lines.append([max_w - used, word[line_start:]])
    return lines


def _extend_kinsoku() -> None:
    from reportlab.lib import textsplit
    from reportlab.platypus import paragraph

    extra = "".join(c for c in _NO_LINE_START if c not in textsplit.ALL_CANNOT_START)
    if extra:
        textsplit.ALL_CANNOT_START += extra
        paragraph.ALL_CANNOT_START = textsplit.ALL_CANNOT_START
    textsplit.dumbSplit = _dumb_split  # wordSplit (single-run paragraphs) looks it up at call time


_extend_kinsoku()


@lru_cache(maxsize=1)
def fonts() -> tuple[str, str]:
    """(cjk, fallback) font names. The CJK face (WenQuanYi Micro Hei) also has Latin, digits and
    the usual symbols; the fallback (Bitstream Vera) is registered, and so embedded, only when
    some text holds a character the CJK face lacks."""
    return pdfbase.register_fonts(), LATIN


@lru_cache(maxsize=1)
def _cjk_coverage() -> frozenset[int]:
    return frozenset(pdfmetrics.getFont(fonts()[0]).face.charToGlyph)


@lru_cache(maxsize=1)
def _fallback_coverage() -> frozenset[int]:
    """Registers the fallback font on first need; its code points."""
    vera = Path(reportlab.__file__).parent / "fonts" / "Vera.ttf"
    pdfmetrics.registerFont(TTFont(LATIN, str(vera)))
    from reportlab.lib.fonts import addMapping

    for b in (0, 1):
        for i in (0, 1):
            addMapping(LATIN, b, i, LATIN)
    return frozenset(pdfmetrics.getFont(LATIN).face.charToGlyph)


def _latin_char(ch: str) -> bool:
    """Set this character in the fallback font: the CJK face lacks it and the fallback has it."""
    o = ord(ch)
    return o not in _cjk_coverage() and o in _fallback_coverage()


def _all_cjk(text: str) -> bool:
    cover = _cjk_coverage()
    return all(ord(ch) in cover for ch in text)


def runs(text: str) -> list[tuple[bool, str]]:
    """Split into (is_fallback, run) pieces; one CJK run when the CJK face covers everything."""
    if _all_cjk(text):
        return [(False, text)] if text else []
    out: list[tuple[bool, str]] = []
    for ch in text:
        lat = _latin_char(ch)
        if out and out[-1][0] == lat:
            out[-1] = (lat, out[-1][1] + ch)
        else:
            out.append((lat, ch))
    return out


_HALF_PAREN = re.compile(r"(?<=[\u3000-\u9fff])\(([^()\n]{1,40})\)|\(([^()\n]{0,40}[\u3000-\u9fff][^()\n]{0,40})\)")


def zh_punct(text: str) -> str:
    """Half-width brackets in Chinese text become full-width (GB/T 9704 / GB/T 15834): "行为(4)" →
    "行为（4）"; brackets in Latin text (URLs, hashes) stay as they are."""
    if "(" not in text:
        return text
    return _HALF_PAREN.sub(lambda m: f"（{m.group(1) if m.group(1) is not None else m.group(2)}）", text)


def mixed(text: Any) -> str:
    """Escape ``text`` for a Paragraph; characters only the fallback font has are set in it."""
    s = zh_punct("" if text is None else str(text))
    if _all_cjk(s.replace("\n", "")):
        return escape(s).replace("\n", "<br/>")
    out = []
    for lat, part in runs(s):
        if lat:
            out.append(f'<font name="{LATIN}">{escape(part)}</font>')
        else:
            out.append(escape(part))
    return "".join(out).replace("\n", "<br/>")


@lru_cache(maxsize=1)
def styles() -> dict[str, ParagraphStyle]:
    cjk, _ = fonts()
    base = pdfbase.styles()
    body = ParagraphStyle("doc_body", parent=base["body"], fontName=cjk, fontSize=11, leading=18)
    return {
        "body": body,
        "indent": ParagraphStyle("doc_indent", parent=body, firstLineIndent=22),
        "title": ParagraphStyle("doc_title", parent=body, fontSize=20, leading=30, alignment=TA_CENTER,
                                spaceAfter=2),
        "number": ParagraphStyle("doc_number", parent=body, alignment=TA_CENTER, spaceAfter=8),
        "right": ParagraphStyle("doc_right", parent=body, alignment=TA_RIGHT),
        "center": ParagraphStyle("doc_center", parent=body, alignment=TA_CENTER),
        "cell": ParagraphStyle("doc_cell", parent=body, fontSize=10, leading=14),
        "cell9": ParagraphStyle("doc_cell9", parent=body, fontSize=9, leading=12.5),
        "cell9c": ParagraphStyle("doc_cell9c", parent=body, fontSize=9, leading=12.5, alignment=TA_CENTER),
        "cell9r": ParagraphStyle("doc_cell9r", parent=body, fontSize=9, leading=12.5, alignment=TA_RIGHT),
        "cellc": ParagraphStyle("doc_cellc", parent=body, fontSize=10, leading=14, alignment=TA_CENTER),
        "small": ParagraphStyle("doc_small", parent=body, fontSize=8.5, leading=11),
        "smallc": ParagraphStyle("doc_smallc", parent=body, fontSize=8.5, leading=11, alignment=TA_CENTER),
        "h2": ParagraphStyle("doc_h2", parent=body, fontSize=12, leading=20, spaceBefore=8, spaceAfter=2),
        "caption": ParagraphStyle("doc_caption", parent=body, keepWithNext=1),
    }


_NO_HANG = ("doc_cell", "doc_small")  # styles set in table cells


def _extra(line: Any) -> float:
    """A wrapped line's spare width (negative: it runs past the width it was broken for)."""
    return float(line[0] if isinstance(line, tuple) else getattr(line, "extraSpace", 0.0))


class Para(Paragraph):
    """A Paragraph that remembers its line breaking per width. Tables wrap every cell several
    times at the same width (row heights, page splits, drawing): the CJK line breaker, which
    measures each character, then runs once per width instead of ~8 times."""

    def wrap(self, availWidth: float, availHeight: float) -> tuple[float, float]:  # noqa: N803
        cache = self.__dict__.setdefault("_wrap_cache", {})
        hit = cache.get(availWidth)
        if hit is not None:
            self.width, self._wrapWidths, self.blPara, self.height = hit
            return self.width, self.height
        w, h = super().wrap(availWidth, availHeight)
        if self.style.name.startswith(_NO_HANG) and hasattr(self, "blPara"):
            # reportlab's CJK breaker hangs every ，”）。 that may not start a line past the line's end
            # (two in a row: two characters); in a table cell they then cross the rule. Break such a
            # paragraph a little narrower so nothing passes the cell's edge.
            width = availWidth
            for _ in range(8):
                longest = width - min([_extra(ln) for ln in self.blPara.lines] or [0.0])
                if longest <= availWidth + 0.5 or width <= availWidth / 2:
                    break
                width -= longest - availWidth + 0.5
                _, h = super().wrap(width, availHeight)
            self.width = w = availWidth
            self.height = h
        if hasattr(self, "blPara"):
            cache[availWidth] = (self.width, self._wrapWidths, self.blPara, self.height)
        return w, h


def H2(text: str, room: float = 40 * mm) -> list[Flowable]:
    """A section heading that never ends a page: with less than ``room`` left, it starts the next."""
    from reportlab.platypus import CondPageBreak

    return [CondPageBreak(room), P(text, "h2")]


def P(text: Any, style: str = "body", *, raw: bool = False) -> Paragraph:
    return Para(text if raw else mixed(text), styles()[style])


def grid_style(extra: Iterable[tuple] = ()) -> TableStyle:
    cjk, _ = fonts()
    return TableStyle([
        ("FONTNAME", (0, 0), (-1, -1), cjk),
        ("GRID", (0, 0), (-1, -1), 0.6, GRID),
        ("VALIGN", (0, 0), (-1, -1), "MIDDLE"),
        ("TOPPADDING", (0, 0), (-1, -1), 3),
        ("BOTTOMPADDING", (0, 0), (-1, -1), 3),
        *extra,
    ])


def field_table(rows: Sequence[Sequence[Any]], widths: Sequence[float]) -> Table:
    """A bordered table of label/value cells; labels (even columns) centred on light grey."""
    data = []
    for row in rows:
        cells = []
        for i, c in enumerate(row):
            if isinstance(c, Flowable) or isinstance(c, list):
                cells.append(c)
            elif c is None:
                cells.append("")
            else:
                cells.append(P(c, "cellc" if i % 2 == 0 else "cell"))
        data.append(cells)
    t = Table(data, colWidths=widths)
    extra: list[tuple] = []
    for r, row in enumerate(rows):
        for i in range(0, len(row), 2):
            extra.append(("BACKGROUND", (i, r), (i, r), colors.Color(0.94, 0.94, 0.94)))
    # spans: a value cell followed by None cells extends over them
    for r, row in enumerate(rows):
        i = 0
        while i < len(row):
            j = i
            while j + 1 < len(row) and row[j + 1] is None:
                j += 1
            if j > i:
                extra.append(("SPAN", (i, r), (j, r)))
                for k in range(i + 1, j + 1):
                    extra.append(("BACKGROUND", (k, r), (k, r), colors.white))
            i = j + 1
    t.setStyle(grid_style(extra))
    return t


def signature_image(png: bytes | None, width: float = 42 * mm, height: float = 15 * mm) -> Flowable | None:
    if not png:
        return None
    from PIL import Image as PILImage

    with PILImage.open(io.BytesIO(png)) as im:
        w, h = im.size
    scale = min(width / w, height / h)
    return Image(io.BytesIO(png), width=w * scale, height=h * scale)


def strokes_to_png(strokes: Sequence[Sequence[Sequence[float]]], size: tuple[int, int] = (480, 180),
                   width: int = 5) -> bytes:
    """Render strokes captured on screen ([[(x, y), ...], ...], any units) to a transparent PNG."""
    from PIL import Image as PILImage, ImageDraw

    pts = [p for s in strokes for p in s]
    im = PILImage.new("RGBA", size, (255, 255, 255, 0))
    if pts:
        xs, ys = [p[0] for p in pts], [p[1] for p in pts]
        x0, y0, x1, y1 = min(xs), min(ys), max(xs), max(ys)
        pad = 10
        sc = min((size[0] - 2 * pad) / max(x1 - x0, 1e-9), (size[1] - 2 * pad) / max(y1 - y0, 1e-9))
        d = ImageDraw.Draw(im)
        for s in strokes:
            line = [(pad + (x - x0) * sc, pad + (y - y0) * sc) for x, y in s]
            if len(line) == 1:
                (x, y), r = line[0], width / 2
                d.ellipse([x - r, y - r, x + r, y + r], fill=(10, 10, 60, 255))
            else:
                d.line(line, fill=(10, 10, 60, 255), width=width, joint="curve")
    buf = io.BytesIO()
    im.save(buf, "PNG", optimize=False, compress_level=3)
    return buf.getvalue()


@dataclass
class SignBox:
    """One signature slot: label, signer's printed name, handwritten PNG or a refusal note."""

    label: str
    name: str | None = None
    png: bytes | None = None
    note: str | None = None
    date: str | None = None


def signature_table(boxes: Sequence[SignBox], cols: int = 2, width: float | None = None) -> Table:
    cells: list[Any] = []
    rows: list[list[Any]] = []
    w = (width or CONTENT_W) / cols
    for b in boxes:
        inner: list[Any] = [P(b.label, "cell")]
        img = signature_image(b.png)
        if img is not None:
            inner.append(img)
        elif b.note:
            inner.append(P(b.note, "small"))
        else:
            inner.append(Spacer(1, 15 * mm))
        inner.append(P(f"姓名：{b.name or '＿＿＿＿'}　　日期：{b.date or '　　年　月　日'}", "small"))
        cells.append(inner)
        if len(cells) == cols:
            rows.append(cells)
            cells = []
    if cells:
        rows.append(cells + [""] * (cols - len(cells)))
    t = Table(rows, colWidths=[w] * cols)
    t.setStyle(grid_style([("VALIGN", (0, 0), (-1, -1), "TOP"), ("LEFTPADDING", (0, 0), (-1, -1), 6)]))
    return t


class QRFlowable(Flowable):
    """The QR drawn as vector squares from the qrcode library's matrix (same encoder that
    checks the version limit); no fonts involved."""

    def __init__(self, url: str, size: float):
        super().__init__()
        import qrcode

        q = qrcode.QRCode(error_correction=qrcode.constants.ERROR_CORRECT_M, border=2)
        q.add_data(url.encode("utf-8"), optimize=0)
        q.make(fit=True)
        self.version = q.version
        self.matrix = q.get_matrix()
        self.size = size
        self.width = self.height = size

    def draw(self) -> None:
        n = len(self.matrix)
        m = self.size / n
        c = self.canv
        c.setFillColor(colors.white)
        c.rect(0, 0, self.size, self.size, stroke=0, fill=1)
        c.setFillColor(colors.black)
        for r, row in enumerate(self.matrix):
            y = self.size - (r + 1) * m
            x = 0
            while x < n:
                if row[x]:
                    x2 = x
                    while x2 < n and row[x2]:
                        x2 += 1
                    c.rect(x * m, y - 0.03, (x2 - x) * m + 0.03, m + 0.03, stroke=0, fill=1)
                    x = x2
                else:
                    x += 1


def qr_flowable(url: str, size: float = 30 * mm) -> Flowable:
    """30 mm: ≈ 0.5 mm per module at version 10 with its quiet zone, easy for a phone."""
    return QRFlowable(url, size)


@dataclass
class Page:
    """What every page carries: title for the running footer, number, QR, agency."""

    title: str
    number: str | None = None
    qr_url: str | None = None
    footer_note: str = ""
    extra: dict[str, Any] = field(default_factory=dict)
    # signature boxes drawn at the foot of EVERY page (the 笔录 is signed page by page)
    strip: list["SignBox"] = field(default_factory=list)
    left: float = MARGIN_LEFT
    right: float = MARGIN_RIGHT
    strip_h: float = 19 * mm

    @property
    def bottom(self) -> float:
        return MARGIN_BOTTOM + (self.strip_h + 3 * mm if self.strip else 0)


def _numbered_canvas(page: Page) -> type:
    cjk, latin = fonts()

    class NumberedCanvas(_canvas.Canvas):
        """Two passes over the pages so each can say 共 y 页."""

        def __init__(self, *a: Any, **kw: Any) -> None:
            kw["initialFontName"] = cjk  # else an un-embedded Helvetica lands in every page
            kw["pdfVersion"] = pdfa.PDF_VERSION  # PDF/A-2b: header 1.7, like the signed revisions
            super().__init__(*a, **kw)
            self._saved: list[dict] = []

        def showPage(self) -> None:  # noqa: N802 - reportlab's name
            self._saved.append(dict(self.__dict__))
            self._startPage()

        def save(self) -> None:
            total = len(self._saved)
            for state in self._saved:
                self.__dict__.update(state)
                self._footer(total)
                super().showPage()
            pdfa.apply(self)  # XMP identification + sRGB output intent (PDF/A-2b)
            super().save()

        def _text(self, x: float, y: float, text: str, size: float, align: str = "left") -> None:
            pieces = [(latin if lat else cjk, t) for lat, t in runs(text)]
            width = sum(pdfmetrics.stringWidth(t, f, size) for f, t in pieces)
            x = {"left": x, "center": x - width / 2, "right": x - width}[align]
            for f, t in pieces:
                self.setFont(f, size)
                self.drawString(x, y, t)
                x += pdfmetrics.stringWidth(t, f, size)

        def _footer(self, total: int) -> None:
            w = self._pagesize[0]
            self.setFillColor(colors.black)
            self._text(w / 2, 10 * mm, f"第 {self._pageNumber} 页  共 {total} 页", 9, "center")
            if page.number:
                self._text(w - page.right, 10 * mm, page.number, 8, "right")
            self._text(page.left, 10 * mm, page.title, 8)
            if page.strip:
                self._strip(w)

        def _strip(self, w: float) -> None:
            """One row of signature boxes above the footer: label, handwriting, printed name."""
            n = len(page.strip)
            bw = (w - page.left - page.right) / n
            y0, h = 15 * mm, page.strip_h
            self.setLineWidth(0.6)
            self.setStrokeColor(GRID)
            for k, box in enumerate(page.strip):
                x0 = page.left + k * bw
                self.rect(x0, y0, bw, h, stroke=1, fill=0)
                self._text(x0 + 2 * mm, y0 + h - 4 * mm, box.label, 7.5)
                if box.png:
                    img = _image_reader(box.png)
                    iw, ih = img.getSize()
                    sc = min((bw - 4 * mm) / iw, (h - 9 * mm) / ih)
                    self.drawImage(img, x0 + 2 * mm, y0 + 4 * mm, iw * sc, ih * sc, mask="auto")
                elif box.note:
                    self._text(x0 + 2 * mm, y0 + 8 * mm, box.note[:24], 7)
                self._text(x0 + 2 * mm, y0 + 1.5 * mm, f"姓名：{box.name or ''}", 7)

    return NumberedCanvas


_READERS: dict[bytes, Any] = {}


def _image_reader(png: bytes) -> Any:
    """One ImageReader per signature image, so reportlab embeds it once however many pages show it."""
    from reportlab.lib.utils import ImageReader

    r = _READERS.get(png)
    if r is None:
        if len(_READERS) > 32:
            _READERS.clear()
        r = _READERS[png] = ImageReader(io.BytesIO(png))
    return r


def build(flowables: list[Flowable], page: Page, *, author: str = "", subject: str = "") -> bytes:
    """Lay out the story on A4 with the running footer; returns the PDF bytes."""
    fonts()
    buf = io.BytesIO()
    doc = SimpleDocTemplate(buf, pagesize=A4, leftMargin=page.left, rightMargin=page.right, topMargin=MARGIN_TOP,
                            bottomMargin=page.bottom, title=page.title, author=author, subject=subject,
                            creator="inspector", invariant=1)
    doc.build(flowables, canvasmaker=_numbered_canvas(page))
    return buf.getvalue()


def head(title: str, number: str | None, qr_url: str | None, agency: str | None = None) -> list[Flowable]:
    """Agency line, centred title, 文号 line; the QR sits at the top right of page one."""
    out: list[Flowable] = []
    title_p = P(title, "title")
    if qr_url:
        qr = qr_flowable(qr_url)
        caption = P("扫码核验", "smallc")
        left = [P(agency or "", "center"), title_p] if agency else [title_p]
        qw = 34 * mm
        t = Table([[left, [qr, caption]]], colWidths=[CONTENT_W - qw, qw])
        # left padding = QR column width, so the title stays centred on the page
        t.setStyle(TableStyle([("VALIGN", (0, 0), (-1, -1), "MIDDLE"), ("ALIGN", (1, 0), (1, 0), "CENTER"),
                               ("LEFTPADDING", (0, 0), (0, 0), qw), ("FONTNAME", (0, 0), (-1, -1), fonts()[0])]))
        out.append(t)
    else:
        if agency:
            out.append(P(agency, "center"))
        out.append(title_p)
    if number:
        out.append(P(number, "number"))
    return out


def to_cst(value: str) -> str:
    """An ISO instant in China Standard Time (UTC+8), whatever zone it was stored in; a naive
    value is the laptop's local time. Dates without a time stay as they are."""
    if not re.match(r"\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}", value):
        return value
    try:
        t = _dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return value
    if t.tzinfo is None:
        t = t.astimezone()
    return t.astimezone(CST).isoformat(timespec="seconds")


def fmt_dt(value: str | None, *, minutes: bool = True) -> str:
    """'2026-03-05T01:07:00+00:00' → '2026年3月5日 09时07分' (China Standard Time; 月、日不编虚位 as
    GB/T 9704—2012 7.3.5.3 sets dates in official documents)."""
    if not value:
        return "　　年　月　日"
    value = to_cst(value)
    m = re.match(r"(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2}))?", value)
    if not m:
        return value
    y, mo, d, h, mi = m.groups()
    s = f"{y}年{int(mo)}月{int(d)}日"
    if minutes and h:
        s += f" {h}时{mi}分"
    return s


def fmt_date(value: str | None) -> str:
    return fmt_dt(value, minutes=False)


def checkbox(on: bool) -> str:
    """【√】 ticked, 【　】 not: the shipped face has no ☑/☐, and its □/■ are small Latin-sized
    shapes that look like specks next to CJK text."""
    return "【√】" if on else "【　】"


Builder = Callable[..., bytes]


def no_widows(n_rows: int, header: int = 1) -> list[tuple]:
    """Table style commands: the (repeated) header never stands alone with its first row on the
    next page, and the last row never goes to a page by itself."""
    out: list[tuple] = []
    if n_rows > header:
        out.append(("NOSPLIT", (0, 0), (-1, header)))
    if n_rows - header >= 2:
        out.append(("NOSPLIT", (0, n_rows - 2), (-1, n_rows - 1)))
    return out
