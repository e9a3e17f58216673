"""Synthetic but realistic-looking site photos, made in memory.

Tests, benches and ``inspector demo`` need camera-like JPEGs (classroom, door sign,
certificate wall) with sensor noise, so file sizes and decode costs resemble real
12-megapixel photos, and with the EXIF a phone writes: DateTimeOriginal, GPS and
Orientation. With ``orientation=6`` the pixels are stored rotated, as a phone held
upright stores them, so only a viewer that honours the tag shows the scene upright.
"""
from __future__ import annotations

import datetime as _dt
import io
import random
import re
from functools import lru_cache
from pathlib import Path

from PIL import Image, ImageChops, ImageDraw, ImageFont

from inspector import paths

KINDS = ("classroom", "sign", "wall")

# Colours that let a test tell "up" from "down" after orientation is applied.
CEILING = (236, 232, 222)
FLOOR = (120, 86, 60)

# Orientation tag → how the stored pixels relate to the upright scene.
_STORE = {
    1: None,
    3: Image.Transpose.ROTATE_180,
    6: Image.Transpose.ROTATE_90,   # stored turned left; viewer turns it right
    8: Image.Transpose.ROTATE_270,
}


@lru_cache(maxsize=8)
def _font(size: int) -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
    try:
        return ImageFont.truetype(str(paths.cjk_font()), size)
    except OSError:  # a stripped install still gets pictures, just without CJK text
        return ImageFont.load_default()


@lru_cache(maxsize=8)
def _latin(size: int) -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
    return ImageFont.load_default(size=size)


def _text(d: ImageDraw.ImageDraw, xy: tuple[int, int], text: str, fill: tuple[int, int, int], size: int) -> None:
    """Draw mixed text: the CJK font has no Latin digits, so ASCII runs use Pillow's own font."""
    x, y = xy
    for run in re.findall(r"[\x20-\x7e]+|[^\x20-\x7e]+", text):
        font = _latin(size) if run.isascii() else _font(size)
        d.text((x, y), run, fill=fill, font=font)
        x += int(d.textlength(run, font=font))


@lru_cache(maxsize=4)
def _noise(width: int, height: int, sigma: float) -> Image.Image:
    """One grain field per size, reused with random offsets (generating it is the slow part)."""
    g = Image.effect_noise((width, height), sigma)
    return Image.merge("RGB", (g, ImageChops.offset(g, 7, 3), ImageChops.offset(g, 3, 11)))


def scene(width: int, height: int, *, seed: int = 0, kind: str = "classroom", noise: float = 10.0) -> Image.Image:
    """An upright RGB scene of ``kind`` with sensor-like grain; ``noise`` 0 gives a clean drawing."""
    if kind not in KINDS:
        raise ValueError(f"unknown scene kind {kind!r}; one of {KINDS}")
    rnd = random.Random(seed)
    img = Image.new("RGB", (width, height), CEILING)
    d = ImageDraw.Draw(img)
    u = max(1, min(width, height) // 100)  # 1 % of the short side
    horizon = int(height * rnd.uniform(0.58, 0.66))
    # wall with a gradient of light, floor with boards
    for y in range(int(height * 0.12), horizon, 4):
        t = (y - height * 0.12) / max(1, horizon - height * 0.12)
        c = (int(225 - 35 * t), int(222 - 30 * t), int(205 - 28 * t))
        d.rectangle([0, y, width, y + 4], fill=c)
    d.rectangle([0, horizon, width, height], fill=FLOOR)
    for x in range(-width, width * 2, max(8, u * 9)):
        d.line([(width // 2, horizon), (x, height)], fill=(104, 74, 52), width=max(1, u // 3))
    if kind == "classroom":
        _classroom(d, rnd, width, height, horizon, u)
    elif kind == "sign":
        _sign(d, rnd, width, height, horizon, u)
    else:
        _wall(d, rnd, width, height, horizon, u)
    if noise > 0:
        grain = _noise(width, height, noise)
        grain = ImageChops.offset(grain, rnd.randrange(width), rnd.randrange(height))
        img = ImageChops.add(img, grain, scale=1.0, offset=-128)
    return img


def _classroom(d: ImageDraw.ImageDraw, rnd: random.Random, w: int, h: int, horizon: int, u: int) -> None:
    bx0, by0 = int(w * rnd.uniform(0.18, 0.26)), int(h * 0.2)
    d.rectangle([bx0, by0, w - bx0, int(h * 0.46)], fill=(38, 66, 52), outline=(150, 120, 80), width=u * 2)
    _text(d, (bx0 + u * 4, by0 + u * 3), f"电工（四级）理论课  第{rnd.randint(1, 40)}课时", (235, 235, 225), u * 5)
    for i in range(3):  # windows on the left wall
        x = int(w * 0.02) + i * u * 2
        d.rectangle([x, int(h * 0.18) + i * u * 12, x + u * 9, int(h * 0.3) + i * u * 12], fill=(190, 215, 235))
    rows = rnd.randint(3, 5)
    for r in range(rows):  # desks get bigger towards the camera
        y = horizon + int((h - horizon) * (r + 0.3) / rows)
        size = u * (4 + 3 * r)
        for c in range(-2, 3):
            x = w // 2 + c * int(size * 2.6)
            d.rectangle([x - size, y - size // 3, x + size, y + size // 3], fill=(175, 140, 95))
            head = (x, y - size // 2 - size // 3)
            d.ellipse([head[0] - size // 3, head[1] - size // 3, head[0] + size // 3, head[1] + size // 3],
                      fill=rnd.choice([(40, 32, 28), (60, 44, 36), (30, 28, 30)]))


def _sign(d: ImageDraw.ImageDraw, rnd: random.Random, w: int, h: int, horizon: int, u: int) -> None:
    x0, y0 = int(w * 0.2), int(h * 0.18)
    d.rectangle([x0 - u * 6, y0 - u * 4, w - x0 + u * 6, horizon], fill=(170, 160, 150))  # door frame
    d.rectangle([x0, y0, w - x0, int(h * 0.42)], fill=(196, 160, 60), outline=(120, 90, 20), width=u)
    name = rnd.choice(["新乡市某某职业技能培训学校", "呼和浩特市某某职业培训中心", "某某职业技能等级认定站"])
    _text(d, (x0 + u * 3, y0 + u * 4), name, (150, 20, 20), u * 5)
    _text(d, (x0 + u * 3, y0 + u * 13), f"办学许可证号 1410700000{rnd.randint(1000, 9999)}", (60, 40, 10), u * 3)


def _wall(d: ImageDraw.ImageDraw, rnd: random.Random, w: int, h: int, horizon: int, u: int) -> None:
    for i in range(rnd.randint(3, 6)):  # framed certificates and rules on the wall
        x = int(w * 0.08) + i * int(w * 0.15)
        y = int(h * 0.2) + (i % 2) * u * 4
        d.rectangle([x, y, x + int(w * 0.12), y + int(h * 0.2)], fill=(250, 248, 240), outline=(90, 60, 30), width=u)
        for line in range(6):
            ly = y + u * (4 + line * 3)
            d.line([(x + u * 2, ly), (x + int(w * 0.12) - u * 2, ly)], fill=(120, 120, 120), width=max(1, u // 2))
        _text(d, (x + u * 2, y + u), "制度", (160, 30, 30), u * 3)


def exif_bytes(*, taken_at: _dt.datetime | None = None, gps: tuple[float, float] | None = None,
               orientation: int = 1, make: str = "DemoCam") -> bytes:
    """The EXIF block a phone writes (IFD0, Exif IFD and GPS IFD)."""
    ex = Image.Exif()
    ex[0x010F] = make
    ex[0x0110] = "Inspector Demo"
    if orientation != 1:
        ex[0x0112] = orientation
    if taken_at is not None:
        ex.get_ifd(0x8769)[0x9003] = taken_at.strftime("%Y:%m:%d %H:%M:%S")
        ex[0x0132] = taken_at.strftime("%Y:%m:%d %H:%M:%S")
    if gps is not None:
        lat, lon = gps
        g = ex.get_ifd(0x8825)
        g[0x0000] = b"\x02\x03\x00\x00"
        g[0x0001] = "N" if lat >= 0 else "S"
        g[0x0002] = _dms(abs(lat))
        g[0x0003] = "E" if lon >= 0 else "W"
        g[0x0004] = _dms(abs(lon))
    return ex.tobytes()


def _dms(v: float) -> tuple[float, float, float]:
    deg = int(v)
    minutes = int((v - deg) * 60)
    seconds = round(((v - deg) * 60 - minutes) * 60, 4)
    return (float(deg), float(minutes), seconds)


def photo(width: int = 4000, height: int = 3000, *, seed: int = 0, kind: str | None = None, fmt: str = "JPEG",
          orientation: int = 1, taken_at: _dt.datetime | None = None, gps: tuple[float, float] | None = None,
          quality: int = 92, noise: float = 10.0) -> bytes:
    """Encoded photo bytes. ``width``×``height`` is the upright scene; with orientation 6/8 the
    stored pixels are height×width, as a camera held upright writes them."""
    kind = kind or KINDS[seed % len(KINDS)]
    img = scene(width, height, seed=seed, kind=kind, noise=noise)
    turn = _STORE.get(orientation)
    if orientation not in _STORE:
        raise ValueError(f"orientation {orientation} not supported by the generator")
    if turn is not None:
        img = img.transpose(turn)
    buf = io.BytesIO()
    exif = exif_bytes(taken_at=taken_at, gps=gps, orientation=orientation)
    if fmt.upper() == "JPEG":
        img.save(buf, "JPEG", quality=quality, exif=exif, subsampling=0 if quality >= 95 else 2)
    elif fmt.upper() == "PNG":
        img.save(buf, "PNG", exif=exif, compress_level=1)
    else:
        img.save(buf, fmt.upper(), exif=exif)
    return buf.getvalue()


def default_time(seed: int) -> _dt.datetime:
    return _dt.datetime(2026, 4, 14, 9, 30, 0) + _dt.timedelta(minutes=3 * seed)


# A training school's yard in Xinxiang, and one in Hohhot (WGS-84 as phones record it).
PLACES = ((35.303218, 113.926718), (40.842585, 111.749181))


def write_samples(folder: str | Path, n: int, *, width: int = 4000, height: int = 3000,
                  start_seed: int = 0, **kw: object) -> list[Path]:
    """Write ``n`` distinct JPEGs named ``IMG_0001.jpg``…; returns their paths."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    out = []
    for i in range(n):
        seed = start_seed + i
        data = photo(width, height, seed=seed, taken_at=default_time(seed), gps=PLACES[seed % 2], **kw)  # type: ignore[arg-type]
        p = folder / f"IMG_{seed + 1:04d}.jpg"
        p.write_bytes(data)
        out.append(p)
    return out
