"""Shared PDF basics: the embedded CJK font and paragraph styles.

Every style names the CJK font explicitly, so no un-embedded Helvetica sneaks in;
pass ``initialFontName=FONT`` to SimpleDocTemplate/Canvas too, or reportlab's canvas
declares an (unused, un-embedded) Helvetica on each page.
"""
from __future__ import annotations

from functools import lru_cache

from reportlab.lib.enums import TA_CENTER
from reportlab.lib.styles import ParagraphStyle
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont

from inspector import paths

FONT = "WenQuanYiMicroHei"


@lru_cache(maxsize=1)
def register_fonts() -> str:
    """Register the shipped TrueType CJK font once; returns its reportlab name."""
    pdfmetrics.registerFont(TTFont(FONT, str(paths.cjk_font()), subfontIndex=0))
    # bold/italic map to the same face: the font has one weight, and an unmapped
    # <b> would otherwise fall back to a base-14 font that is not embedded.
    from reportlab.lib.fonts import addMapping

    for bold in (0, 1):
        for italic in (0, 1):
            addMapping(FONT, bold, italic, FONT)
    return FONT


@lru_cache(maxsize=1)
def styles() -> dict[str, ParagraphStyle]:
    font = register_fonts()
    base = ParagraphStyle("body", fontName=font, fontSize=10.5, leading=15, wordWrap="CJK")
    return {
        "body": base,
        "small": ParagraphStyle("small", parent=base, fontSize=8.5, leading=11),
        "title": ParagraphStyle("title", parent=base, fontSize=18, leading=26, alignment=TA_CENTER, spaceAfter=6),
        "subtitle": ParagraphStyle("subtitle", parent=base, fontSize=11, leading=16, alignment=TA_CENTER),
        "h2": ParagraphStyle("h2", parent=base, fontSize=12, leading=18, spaceBefore=6, spaceAfter=3),
        "cell": ParagraphStyle("cell", parent=base, fontSize=9, leading=12),
    }
