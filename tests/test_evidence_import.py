"""Importing good photos: originals kept byte for byte, upright derived copies, EXIF read."""
from __future__ import annotations

import hashlib
import io
from pathlib import Path

import pytest
from PIL import Image, ImageChops

from inspector import blobs, demo_photos, evidence
from inspector.util import sha256_file
from tests.evidence_fixtures import TAKEN, XINXIANG, blob_files, photo_bytes, write


def _open(home: Path, sha: str) -> Image.Image:
    with blobs.open(home, sha) as f:
        img = Image.open(io.BytesIO(f.read()))
        img.load()
    return img


def _is_upright(img: Image.Image) -> bool:
    """The demo scenes have a pale ceiling on top and a brown floor at the bottom."""
    rgb = img.convert("RGB")
    w, h = rgb.size
    top = rgb.crop((0, 0, w, max(1, h // 20))).resize((1, 1), Image.Resampling.BOX).getpixel((0, 0))
    bottom = rgb.crop((0, h - max(1, h // 20), w, h)).resize((1, 1), Image.Resampling.BOX).getpixel((0, 0))
    return sum(top) > 600 and sum(bottom) < 350  # type: ignore[arg-type]


def test_orientation_6_gives_portrait_copies_and_keeps_the_original(tmp_path: Path) -> None:
    # A phone held upright: the sensor writes 2800×2100 landscape pixels and Orientation=6.
    data = photo_bytes(2100, 2800, seed=1, orientation=6)
    src = write(tmp_path, "IMG_0006.jpg", data)
    with Image.open(src) as raw:
        assert raw.size == (2800, 2100) and raw.getexif()[0x0112] == 6
    r = evidence.import_file(tmp_path / "home", src)

    assert r.ok and r.mime == "image/jpeg" and r.orientation == 6
    assert (r.width, r.height) == (2100, 2800)            # upright size of the original
    assert r.sha256 == sha256_file(src)                    # sha of the file as received
    assert blobs.path(tmp_path / "home", r.sha256).read_bytes() == data  # untouched, EXIF and all

    disp = _open(tmp_path / "home", r.display_sha256)
    thumb = _open(tmp_path / "home", r.thumb_sha256)
    assert disp.format == "JPEG" and disp.height > disp.width and max(disp.size) == evidence.DISPLAY_MAX
    assert thumb.height > thumb.width and max(thumb.size) <= 320
    assert _is_upright(disp) and _is_upright(thumb)
    assert disp.getexif().get(0x0112, 1) == 1              # nothing left for a viewer to rotate again


@pytest.mark.parametrize("orientation", [3, 8])
def test_other_orientations_come_out_upright(tmp_path: Path, orientation: int) -> None:
    src = write(tmp_path, f"o{orientation}.jpg", photo_bytes(1200, 900, seed=2, orientation=orientation))
    r = evidence.import_file(tmp_path / "home", src)
    assert (r.width, r.height) == (1200, 900)
    assert _is_upright(_open(tmp_path / "home", r.display_sha256))


def test_capture_time_and_gps_are_read(tmp_path: Path) -> None:
    src = write(tmp_path, "a.jpg", photo_bytes(1600, 1200, seed=3))
    r = evidence.import_file(tmp_path / "home", src)
    assert r.taken_at == TAKEN.isoformat()
    assert r.gps_lat == pytest.approx(XINXIANG[0], abs=1e-5)
    assert r.gps_lon == pytest.approx(XINXIANG[1], abs=1e-5)
    assert evidence.format_gps(r.gps_lat, r.gps_lon) == "N 35.30322°, E 113.92672°"


def test_southern_western_gps_and_missing_exif(tmp_path: Path) -> None:
    data = demo_photos.photo(800, 600, seed=4, gps=(-33.8688, -70.6693), taken_at=None)
    r = evidence.import_file(tmp_path / "home", write(tmp_path, "s.jpg", data))
    assert r.gps_lat == pytest.approx(-33.8688, abs=1e-5) and r.gps_lon == pytest.approx(-70.6693, abs=1e-5)
    assert r.taken_at is None
    bare = evidence.import_file(tmp_path / "home", write(tmp_path, "bare.jpg", photo_bytes(800, 600, 5, with_exif=False)))
    assert bare.ok and bare.taken_at is None and bare.gps_lat is None and bare.orientation == 1


def test_display_and_thumbnail_sizes(tmp_path: Path) -> None:
    big = write(tmp_path, "big.jpg", photo_bytes(4000, 3000, seed=6))
    small = write(tmp_path, "small.jpg", photo_bytes(1024, 768, seed=7))
    rb = evidence.import_file(tmp_path / "home", big)
    rs = evidence.import_file(tmp_path / "home", small)
    assert (rb.width, rb.height) == (4000, 3000)
    assert _open(tmp_path / "home", rb.display_sha256).size == (evidence.DISPLAY_MAX, evidence.DISPLAY_MAX * 3 // 4)
    assert _open(tmp_path / "home", rb.thumb_sha256).size == (320, 240)
    assert _open(tmp_path / "home", rs.display_sha256).size == (1024, 768)  # never enlarged
    assert _open(tmp_path / "home", rs.thumb_sha256).size == (320, 240)


def test_png_with_transparency_is_imported(tmp_path: Path) -> None:
    img = Image.new("RGBA", (3000, 1000), (0, 0, 0, 0))
    img.paste((200, 30, 30, 255), (0, 0, 1500, 1000))
    buf = io.BytesIO()
    img.save(buf, "PNG")
    src = write(tmp_path, "scan.png", buf.getvalue())
    r = evidence.import_file(tmp_path / "home", src)
    assert r.ok and r.mime == "image/png" and (r.width, r.height) == (3000, 1000)
    assert r.sha256 == hashlib.sha256(buf.getvalue()).hexdigest()
    disp = _open(tmp_path / "home", r.display_sha256).convert("RGB")
    assert disp.size == (evidence.DISPLAY_MAX, round(evidence.DISPLAY_MAX / 3))
    assert disp.getpixel((evidence.DISPLAY_MAX * 19 // 20, 400)) == pytest.approx((255, 255, 255), abs=3)  # transparent → white paper
    assert disp.getpixel((100, 400))[0] > 180


def test_png_from_demo_keeps_exif_time(tmp_path: Path) -> None:
    src = write(tmp_path, "p.png", photo_bytes(900, 600, seed=8, fmt="PNG"))
    r = evidence.import_file(tmp_path / "home", src)
    assert r.ok and r.mime == "image/png" and r.taken_at == TAKEN.isoformat()


def test_duplicate_file_is_stored_once(tmp_path: Path) -> None:
    data = photo_bytes(1600, 1200, seed=9)
    a = write(tmp_path, "a.jpg", data)
    b = write(tmp_path, "copy of a.jpg", data)
    home = tmp_path / "home"
    results = evidence.import_photos(home, [a, b], workers=1)
    assert [r.ok for r in results] == [True, True]
    assert results[0].sha256 == results[1].sha256
    assert results[0].display_sha256 == results[1].display_sha256
    assert len(blob_files(home)) == 3  # original, display, thumbnail: once each


def test_captions_are_never_burnt_in(tmp_path: Path) -> None:
    # The display copy is the picture only: its pixels match a plain resize of the original.
    src = write(tmp_path, "c.jpg", photo_bytes(1000, 750, seed=10))
    r = evidence.import_file(tmp_path / "home", src)
    disp = _open(tmp_path / "home", r.display_sha256).convert("L")
    ref = Image.open(src).convert("L")
    lo, hi = ImageChops.difference(disp.resize((100, 75)), ref.resize((100, 75))).getextrema()
    assert hi < 40  # type: ignore[operator]


def test_heic_when_a_heif_plugin_is_installed(tmp_path: Path) -> None:
    if not evidence.heif_supported():
        pytest.skip("no HEIF plugin installed: HEIC import is off (JPEG/PNG still work)")
    # HEIF rotation boxes (irot) plus an EXIF Orientation=6 that, per the HEIF spec, is only
    # informational (iPhones write both). The decoder applies irot; we must not rotate again.
    upright = Image.open(io.BytesIO(photo_bytes(480, 640, seed=11)))
    upright.load()
    exif = upright.getexif()
    exif[0x0112] = 6
    upright.info["exif"] = exif.tobytes()
    buf = io.BytesIO()
    try:  # the encoder comes with pillow-heif only; pi-heif (what ships) just decodes
        import pillow_heif

        pillow_heif.from_pillow(upright).save(buf, quality=50)
    except ImportError:
        pytest.skip("no HEIF encoder (pillow-heif) to make a test file")
    assert b"irot" in buf.getvalue()
    src = write(tmp_path, "IMG_0001.HEIC", buf.getvalue())
    r = evidence.import_file(tmp_path / "home", src)
    with Image.open(src) as ref:  # what every HEIF viewer shows: the decoder with irot applied
        ref = ref.convert("RGB")
    assert r.ok and r.mime == "image/heic" and r.orientation == 1 and (r.width, r.height) == ref.size
    assert r.taken_at == TAKEN.isoformat()
    assert blobs.path(tmp_path / "home", r.sha256).read_bytes() == buf.getvalue()
    disp = _open(tmp_path / "home", r.display_sha256).convert("RGB")
    assert disp.size == ref.size  # rotated once (irot), not again by the EXIF tag
    _, hi = ImageChops.difference(disp.resize((48, 64)), ref.resize((48, 64))).convert("L").getextrema()
    assert hi < 40  # type: ignore[operator]


@pytest.mark.parametrize("name, make", [
    ("gray16.png", lambda: Image.linear_gradient("L").resize((300, 200)).convert("I").point(lambda v: v * 256)
     .convert("I;16")),
    ("palette.png", lambda: Image.new("RGB", (300, 200), (20, 120, 200)).convert("P")),
    ("bilevel.png", lambda: Image.new("1", (300, 200), 1)),
    ("cmyk.jpg", lambda: Image.new("CMYK", (2800, 200), (0, 100, 0, 0))),
    ("gray.jpg", lambda: Image.new("L", (2800, 1000), 90)),
])
def test_other_pixel_formats_import(tmp_path: Path, name: str, make) -> None:  # type: ignore[no-untyped-def]
    src = tmp_path / name
    make().save(src)
    r = evidence.import_file(tmp_path / "home", src)
    disp = _open(tmp_path / "home", r.display_sha256)
    assert r.ok and disp.format == "JPEG" and disp.mode in ("RGB", "L") and max(disp.size) <= evidence.DISPLAY_MAX
