"""PDF/A-2b for the documents (archives keep them 5 years electronically, 193号).

What reportlab does not write by itself, added to its catalog before it saves:

- the XMP metadata stream with the PDF/A identification (pdfaid:part 2, conformance B) and
  the same title, author, subject, keywords, tools and dates as the Info dictionary;
- an output intent (GTS_PDFA1) with an sRGB ICC profile (made by Pillow's littleCMS), so
  the DeviceRGB/DeviceGray content has a defined colour meaning;
- the header ``%PDF-1.7`` (PDF/A-2 is based on PDF 1.7); signing keeps to 1.7 too
  (inspector/signing.py), so header and catalog never disagree.

Fonts are embedded already (inspector/pdfbase.py, render/common.py). ``check`` is the
structural self-check the tests use (veraPDF is not available from this project's registries).
"""
from __future__ import annotations

import io
import re
from functools import lru_cache
from typing import Any
from xml.sax.saxutils import escape

PDF_VERSION = (1, 7)
ICC_NAME = "sRGB IEC61966-2.1"


@lru_cache(maxsize=1)
def srgb_icc() -> bytes:
    """An sRGB ICC profile (littleCMS's built-in sRGB, through Pillow)."""
    from PIL import ImageCms

    return ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()


def _xmp_date(ts: Any) -> str:
    y, mo, d, h, mi, s = ts.YMDhms
    sign = "+" if ts.dhh >= 0 else "-"
    return f"{y:04d}-{mo:02d}-{d:02d}T{h:02d}:{mi:02d}:{s:02d}{sign}{abs(ts.dhh):02d}:{ts.dmm:02d}"


def xmp(*, title: str, author: str, subject: str, keywords: str, creator: str, producer: str, date: str) -> str:
    e = escape
    return f"""<?xpacket begin="\ufeff" id="W5M0MpCehiHzreSzNTczkc9d"?>
<x:xmpmeta xmlns:x="adobe:ns:meta/">
 <rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">
  <rdf:Description rdf:about="" xmlns:pdfaid="http://www.aiim.org/pdfa/ns/id/"
    xmlns:dc="http://purl.org/dc/elements/1.1/" xmlns:xmp="http://ns.adobe.com/xap/1.0/"
    xmlns:pdf="http://ns.adobe.com/pdf/1.3/">
   <pdfaid:part>2</pdfaid:part>
   <pdfaid:conformance>B</pdfaid:conformance>
   <dc:format>application/pdf</dc:format>
   <dc:title><rdf:Alt><rdf:li xml:lang="x-default">{e(title)}</rdf:li></rdf:Alt></dc:title>
   <dc:creator><rdf:Seq><rdf:li>{e(author)}</rdf:li></rdf:Seq></dc:creator>
   <dc:description><rdf:Alt><rdf:li xml:lang="x-default">{e(subject)}</rdf:li></rdf:Alt></dc:description>
   <pdf:Keywords>{e(keywords)}</pdf:Keywords>
   <pdf:Producer>{e(producer)}</pdf:Producer>
   <pdf:Trapped>False</pdf:Trapped>
   <xmp:CreatorTool>{e(creator)}</xmp:CreatorTool>
   <xmp:CreateDate>{date}</xmp:CreateDate>
   <xmp:ModifyDate>{date}</xmp:ModifyDate>
  </rdf:Description>
 </rdf:RDF>
</x:xmpmeta>
<?xpacket end="w"?>"""


def apply(canvas: Any) -> None:
    """Make ``canvas``'s document PDF/A-2b: call once, just before ``save``."""
    from reportlab.pdfbase.pdfdoc import PDFArray, PDFDictionary, PDFName, PDFStream, PDFString

    doc = canvas._doc
    info = doc.info
    # Info entries with an XMP twin must match it; an empty Author/Subject/Keywords would be
    # an empty XMP property, so give every one a value
    info.author = info.author if info.author and info.author != "anonymous" else "inspector"
    info.subject = info.subject if info.subject and info.subject != "unspecified" else info.title
    info.keywords = info.keywords or info.title
    meta = xmp(title=info.title, author=info.author, subject=info.subject, keywords=info.keywords,
               creator=info.creator, producer=info.producer, date=_xmp_date(doc._timeStamp))
    md = PDFStream(PDFDictionary({"Type": PDFName("Metadata"), "Subtype": PDFName("XML")}),
                   meta.encode("utf-8"), filters=[])  # XMP stays readable without a PDF parser
    icc = PDFStream(PDFDictionary({"N": 3}), srgb_icc())
    intent = PDFDictionary({"Type": PDFName("OutputIntent"), "S": PDFName("GTS_PDFA1"),
                            "OutputConditionIdentifier": PDFString(ICC_NAME), "Info": PDFString(ICC_NAME),
                            "DestOutputProfile": doc.Reference(icc)})
    cat = doc.Catalog
    cat.__NoDefault__ = [*type(cat).__NoDefault__, "OutputIntents"]  # reportlab's catalog knows no such key
    cat.Metadata = md
    cat.OutputIntents = PDFArray([intent])


# -- self-check ----------------------------------------------------------------------------------
_XMP_KEYS = {"/Title": r"<dc:title>.*?<rdf:li[^>]*>(.*?)</rdf:li>", "/Author": r"<dc:creator>.*?<rdf:li>(.*?)</rdf:li>",
             "/Subject": r"<dc:description>.*?<rdf:li[^>]*>(.*?)</rdf:li>", "/Keywords": r"<pdf:Keywords>(.*?)<",
             "/Producer": r"<pdf:Producer>(.*?)<", "/Creator": r"<xmp:CreatorTool>(.*?)<"}


def check(pdf: bytes) -> list[str]:
    """What keeps ``pdf`` from PDF/A-2b, as far as a structural check sees (empty: nothing found):
    header version and binary marker, catalog /Version, XMP identification and its agreement with
    the Info dictionary, the output intent's ICC profile, embedded fonts, no encryption, trailer
    /ID, annotation flags. Not a full validator (no veraPDF here)."""
    from xml.sax.saxutils import unescape

    from pyhanko.pdf_utils import generic
    from pyhanko.pdf_utils.reader import PdfFileReader

    out: list[str] = []
    m = re.match(rb"%PDF-1\.([0-7])\r?\n%([\x80-\xff]{4})", pdf)
    if not m:
        out.append("文件头不是 %PDF-1.n（n≤7）加四个高位字节的注释行")
    r = PdfFileReader(io.BytesIO(pdf), strict=False)
    root = r.root
    if "/Version" in root:
        v = str(root["/Version"]).lstrip("/")
        if v > "1.7" or (m and v < f"1.{m.group(1).decode()}"):
            out.append(f"目录的 /Version {v} 与文件头或 PDF/A-2（基于 PDF 1.7）不一致")
    if r.encrypted:
        out.append("文件加密")
    if "/ID" not in r.trailer:
        out.append("文件尾没有 /ID")
    meta = root.get("/Metadata")
    x = meta.get_object().data.decode("utf-8") if meta is not None else ""
    if "<pdfaid:part>2</pdfaid:part>" not in x or "<pdfaid:conformance>B</pdfaid:conformance>" not in x:
        out.append("XMP 元数据中没有 PDF/A-2b 标识")
    info = r.trailer["/Info"].get_object() if "/Info" in r.trailer else {}
    for key, rx in _XMP_KEYS.items():
        if key in info:
            got = re.search(rx, x, re.S)
            if got is None or unescape(got.group(1)) != str(info[key]):
                out.append(f"Info {key} 与 XMP 不一致（{info[key]!s} / {got.group(1) if got else '无'}）")
    if "/CreationDate" in info and x:
        d = str(info["/CreationDate"])
        want = f"{d[2:6]}-{d[6:8]}-{d[8:10]}T{d[10:12]}:{d[12:14]}:{d[14:16]}"
        if f"<xmp:CreateDate>{want}" not in x:
            out.append("Info /CreationDate 与 XMP 不一致")
    intents = root.get("/OutputIntents")
    ok = False
    for it in (intents.get_object() if intents is not None else []):
        it = it.get_object()
        prof = it.get("/DestOutputProfile")
        if it.get("/S") == "/GTS_PDFA1" and prof is not None and int(prof.get_object().get("/N", 0)) == 3:
            ok = b"acsp" in prof.get_object().data[:128]
    if not ok:
        out.append("没有带 sRGB ICC 配置文件的输出意图（GTS_PDFA1）")
    seen: set[int] = set()
    for page in r.root["/Pages"].get_object().get("/Kids", []):
        _fonts_and_annots(page.get_object(), out, seen, generic)
    return out


def _fonts_and_annots(node: Any, out: list[str], seen: set[int], generic: Any) -> None:
    if node.get("/Type") == "/Pages":
        for k in node.get("/Kids", []):
            _fonts_and_annots(k.get_object(), out, seen, generic)
        return
    res = node.get("/Resources")
    fonts = res.get_object().get("/Font") if res is not None else None
    for _name, f in (fonts.get_object().items() if fonts is not None else []):
        f = f.get_object()
        if id(f) in seen:
            continue
        seen.add(id(f))
        desc = f
        if f.get("/Subtype") == "/Type0":
            desc = f["/DescendantFonts"][0].get_object()
        fd = desc.get("/FontDescriptor")
        if fd is None or not any(k in fd.get_object() for k in ("/FontFile", "/FontFile2", "/FontFile3")):
            out.append(f"字体 {f.get('/BaseFont')} 没有嵌入")
    for a in node.get("/Annots", []) or []:
        a = a.get_object()
        if a.get("/Subtype") == "/Popup":
            continue
        flags = int(a.get("/F", 0))
        if not flags & 4 or flags & (1 | 2 | 32 | 256):
            out.append(f"注释 {a.get('/T', a.get('/Subtype'))} 的 /F={flags}：应可打印且不隐藏")
