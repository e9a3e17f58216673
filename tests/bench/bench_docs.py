"""Documents: a 现场检查笔录 with 40 photos and two PAdES signatures, and a 责令限期整改通知书,
each produced (numbered, rendered, stored) and signed by both inspectors.

Baselines, measured in the same run: for the record, a bare reportlab canvas with the
same font and the same 40 print JPEGs (no tables, no QR, unsigned); for the notice, a
bare one-page reportlab PDF with the same font (unsigned). ``ratio`` = ours / baseline.
Photos are camera-like 4000×3000 JPEGs; the PDF carries 1280 px print copies derived once
from the display copies (timed in their own row, with a naive Pillow loop as baseline).
"""
from __future__ import annotations

import io
import logging
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

N_PHOTOS = 40
REPEAT = 3
NOTICE_REPEAT = 5
BASE_REPEAT = 15  # the baselines take milliseconds: more runs for a steadier median


def _timed(fn: Any) -> float:
    t = time.perf_counter()
    fn()
    return time.perf_counter() - t


def _setup(home: Path) -> dict[str, Any]:
    from inspector import demo, demo_photos, evidence
    from inspector.store import Store

    store = Store.open(home)
    inst, ins = demo._setup_people(store, 11)
    demo._ensure_keys(home, ins)
    folder = home / "camera"
    folder.mkdir()
    for i in range(N_PHOTOS):
        (folder / f"IMG_{i:04d}.jpg").write_bytes(
            demo_photos.photo(4000, 3000, seed=i, taken_at=demo_photos.default_time(i), gps=demo_photos.PLACES[0]))
    results = [r for r in evidence.import_photos(home, sorted(folder.glob("*.jpg"))) if r.ok]
    assert len(results) == N_PHOTOS
    return {"store": store, "inst": inst, "ins": ins, "photos": results}


def _inspection(ctx: dict[str, Any], n_photos: int, seed: int) -> str:
    """A finished inspection whose failed items carry ``n_photos`` photos."""
    from inspector import demo
    from inspector.store import photos

    store = ctx["store"]
    iid = demo.visit(store, ctx["inst"], ctx["ins"], seed=seed, work=store.home / f"w{seed}", finish=False)
    items = ["T-3-1", "T-5-6", "T-5-10"]
    for k, r in enumerate(ctx["photos"][:n_photos]):
        photos.add_photo(store, iid, r, item_id=items[k % 3], inspector_id=ctx["ins"][k % 2]["id"])
    from inspector import visit_order
    from inspector.store import visits

    # the photos changed the record after it was signed: read again and signed again, in order
    _doc, reading = visit_order.make_preview(store, iid)
    for page in range(1, reading.pages + 1):
        visit_order.page_shown(store, reading.id, page)
    for n, role in enumerate(("person_in_charge", "inspector1", "inspector2")):
        visit_order.sign(store, iid, role, strokes=demo.strokes(seed * 7 + n))
    visits.finish_inspection(store, iid)
    return iid


def _make_and_sign(ctx: dict[str, Any], iid: str, kind: str) -> None:
    from inspector import demo
    from inspector.store import documents

    d = documents.make_document(ctx["store"], iid, kind)
    demo.sign_all(ctx["store"], d["id"], ctx["ins"])


def _naive_resize(paths: list[str]) -> None:
    from PIL import Image

    for p in paths:
        with Image.open(p) as im:
            im = im.convert("RGB")
            im.thumbnail((1280, 1280), Image.Resampling.LANCZOS)
            im.save(io.BytesIO(), "JPEG", quality=82)


def _bare_page() -> bytes:
    from reportlab.lib.pagesizes import A4
    from reportlab.platypus import Paragraph, SimpleDocTemplate

    from inspector.render.common import fonts, styles

    fonts()
    buf = io.BytesIO()
    SimpleDocTemplate(buf, pagesize=A4, initialFontName=fonts()[0]).build(
        [Paragraph("责令限期整改通知书 新乡市卫河职业技术培训学校", styles()["body"])])
    return buf.getvalue()


def _bare_images(paths: list[str]) -> bytes:
    """The floor: the same JPEGs placed by file name on a canvas with one line of the same font."""
    from reportlab.lib.pagesizes import A4
    from reportlab.lib.units import mm
    from reportlab.pdfgen.canvas import Canvas

    from inspector.render.common import fonts

    cjk = fonts()[0]
    buf = io.BytesIO()
    c = Canvas(buf, pagesize=A4, initialFontName=cjk)
    for i, p in enumerate(paths):
        if i % 4 == 0:
            if i:
                c.showPage()
            c.setFont(cjk, 11)
            c.drawString(20 * mm, 285 * mm, "现场检查笔录 照片证据")
        c.drawImage(p, (20 + (i % 2) * 90) * mm, (150 - (i % 4 // 2) * 70) * mm, 80 * mm, 60 * mm)
    c.save()
    return buf.getvalue()


def run() -> list[dict]:
    from inspector import blobs

    logging.getLogger("pyhanko").setLevel(logging.ERROR)
    with tempfile.TemporaryDirectory(prefix="bench-docs-") as tmp:
        home = Path(tmp)
        ctx = _setup(home)
        bs = blobs.store(home)
        display = [str(bs.path(r.display_sha256)) for r in ctx["photos"]]
        prints: list[str] = []
        big = [_inspection(ctx, N_PHOTOS, 20 + i) for i in range(REPEAT)]
        small = [_inspection(ctx, 4, 40 + i) for i in range(NOTICE_REPEAT)]
        _bare_page()  # warm fonts and imports once for both sides
        _make_and_sign(ctx, _inspection(ctx, 1, 60), "record")

        from inspector.store import documents

        pc = _timed(lambda: documents.prepare_print_copies(ctx["store"], big[0]))
        pc_base = _timed(lambda: _naive_resize(display))
        rec = statistics.median(_timed(lambda i=i: _make_and_sign(ctx, i, "record")) for i in big)
        prints = [str(bs.path(ctx["store"].scalar("SELECT print_sha256 FROM print_copies WHERE display_sha256 = ?",
                                                  (d,)))) for d in (r.display_sha256 for r in ctx["photos"])]
        rec_base = statistics.median(_timed(lambda: _bare_images(prints)) for _ in range(BASE_REPEAT))
        note = statistics.median(_timed(lambda i=i: _make_and_sign(ctx, i, "notice")) for i in small)
        note_base = statistics.median(_timed(_bare_page) for _ in range(BASE_REPEAT))
        size = ctx["store"].one("SELECT blob_sha256 FROM documents WHERE kind = 'record' ORDER BY created_at DESC")
        mb = bs.size(size["blob_sha256"]) / 1e6
        ctx["store"].close()
    return [
        {"name": f"print copies of {N_PHOTOS} photos (1280 px, made once, e.g. when the visit ends)", "seconds": pc,
         "baseline": "naive loop: full decode, LANCZOS resize, save, one thread", "baseline_seconds": pc_base,
         "ratio": pc / pc_base, "target": "-", "note": "not part of the record row below"},
        {"name": f"record: {N_PHOTOS} photos, numbered, rendered, stored, 2 PAdES signatures", "seconds": rec,
         "baseline": f"bare reportlab canvas, same font + same {N_PHOTOS} print JPEGs, unsigned", "baseline_seconds": rec_base,
         "ratio": rec / rec_base, "target": "< 1.5 s", "note": f"median of {REPEAT}; PDF {mb:.1f} MB; "
                                                                         f"+ print copies if not made yet: {rec + pc:.2f} s"},
        {"name": "notice: numbered, rendered (4 photos), stored, 2 PAdES signatures", "seconds": note,
         "baseline": "bare one-page reportlab PDF, same font, unsigned", "baseline_seconds": note_base,
         "ratio": note / note_base, "target": "< 0.5 s", "note": f"median of {NOTICE_REPEAT}"},
    ]
