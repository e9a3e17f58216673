"""Photo evidence: import JPEG/PNG (HEIC when pillow-heif is installed) into the blob store.

The original bytes are the evidence: stored untouched and named by the sha256 of the
file as received. From one decode we derive an upright display copy (long side ≤ DISPLAY_MAX = 2000
px) and a thumbnail, both JPEG blobs too. Captions are metadata (see store.photos);
nothing is ever drawn into pixels.

A bad file (truncated, not an image, a decompression bomb) becomes an error result
naming that file; the rest of the batch still imports. Batches run over a process pool
with a progress callback and a cancel event; this module is pure file work, recording
rows is ``inspector.store.photos``.
"""
from __future__ import annotations

import concurrent.futures as cf
from concurrent.futures.process import BrokenProcessPool
import hashlib
import io
import logging
import math
import multiprocessing
import os
import sys
import threading
import warnings
import zlib
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Callable, Iterable

from PIL import Image, UnidentifiedImageError

from inspector import blobs
from inspector.errors import EvidenceError

logger = logging.getLogger(__name__)

# Long side of the display copy. The issue caps it at 2560; 2000 still prints A4 at ~280 dpi and fills
# any laptop screen, and lets a 12-MP JPEG (4000/4032 px wide) decode at 1/2 DCT scale: 2.7x less CPU
# per photo (measured: 81 vs 216 ms), which is what brings 50 photos under 8 s on 2 cores.
DISPLAY_MAX = 2000
THUMB_MAX = 320              # long side of the thumbnail
DISPLAY_QUALITY = 85
THUMB_QUALITY = 80
PIXEL_LIMIT = 200_000_000    # 108/200-MP phone modes are real photos; more is a bomb
MAX_FILE_BYTES = 200 << 20   # 200 MiB
# A bomb claims many pixels in few bytes. Real photos compress to a few pixels per byte (flat
# synthetic pictures to a few hundred); deflate cannot pass ~8000 px/byte even for 1-bit images.
BOMB_MIN_PIXELS = 25_000_000     # below this the ratio is not checked (small images are cheap)
BOMB_PIXELS_PER_BYTE = 2_000
MAX_SIDE = 65_535            # JPEG's own limit; longer sides are crafted, not photographed

# Pillow's own guard uses this global; raise its default (≈89 MP) to our limit so one
# number rules, and make its warning an error (see _open).
Image.MAX_IMAGE_PIXELS = PIXEL_LIMIT


def _megapixels(n: int) -> str:
    return f"{n / 1e6:,.0f}" if n >= 10_000_000 else f"{n / 1e6:.1f}"


def bomb_reason(width: int, height: int, size: int) -> str | None:
    """Why an image of width×height px in ``size`` bytes is a decompression bomb (Chinese), or None.
    Only true bombs: more than PIXEL_LIMIT pixels, a side no camera makes, or far more pixels per
    byte than any photo compresses to. Never Pillow's English text."""
    px = width * height
    if width < 1 or height < 1:
        return f"图片尺寸 {width}×{height} 无效"
    if px > PIXEL_LIMIT:
        return (f"图片尺寸 {width}×{height}（{_megapixels(px)} 百万像素）超过上限 "
                f"{PIXEL_LIMIT // 1_000_000} 百万像素，疑为解压炸弹，已拒绝")
    if max(width, height) > MAX_SIDE:
        return f"图片尺寸 {width}×{height} 的边长超过 {MAX_SIDE} 像素，疑为解压炸弹，已拒绝"
    if px >= BOMB_MIN_PIXELS and size and px / size > BOMB_PIXELS_PER_BYTE:
        return (f"文件仅 {size:,} 字节却声称 {width}×{height}（{_megapixels(px)} 百万像素），"
                f"压缩比异常，疑为解压炸弹，已拒绝")
    return None

MIME = {"JPEG": "image/jpeg", "MPO": "image/jpeg", "PNG": "image/png", "HEIF": "image/heic"}

# EXIF Orientation → the transpose that makes the pixels upright.
_UPRIGHT = {
    2: Image.Transpose.FLIP_LEFT_RIGHT,
    3: Image.Transpose.ROTATE_180,
    4: Image.Transpose.FLIP_TOP_BOTTOM,
    5: Image.Transpose.TRANSPOSE,
    6: Image.Transpose.ROTATE_270,
    7: Image.Transpose.TRANSVERSE,
    8: Image.Transpose.ROTATE_90,
}

Progress = Callable[[int, int, int], object]


@dataclass
class ImportResult:
    """What happened to one file. ``status`` is ok, error or cancelled (never started)."""

    path: str
    status: str
    error: str | None = None
    original_name: str | None = None
    size: int | None = None            # bytes of the original
    sha256: str | None = None          # of the original file, as received
    display_sha256: str | None = None
    thumb_sha256: str | None = None
    mime: str | None = None
    width: int | None = None           # upright (orientation applied), full size
    height: int | None = None
    taken_at: str | None = None        # EXIF DateTimeOriginal, ISO 8601
    gps_lat: float | None = None
    gps_lon: float | None = None
    orientation: int = 1
    photo_id: str | None = None        # set once recorded by store.photos
    duplicate: bool = False            # store.photos: was already attached there (one row)

    @property
    def ok(self) -> bool:
        return self.status == "ok"

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


# -- formats ------------------------------------------------------------------------
_heif_state: bool | None = None


def heif_supported() -> bool:
    """True when a HEIF plugin is installed (registered once, lazily): pi-heif (decode only,
    no GPL encoder: the one to ship) or pillow-heif (same API, also encodes)."""
    global _heif_state
    if _heif_state is None:
        _heif_state = False
        for name in ("pi_heif", "pillow_heif"):
            try:
                mod = __import__(name)
                mod.register_heif_opener()
                _heif_state = True
                break
            except ImportError:  # not installed: JPEG/PNG still work
                continue
            except Exception:  # installed but broken (a native library): logged; JPEG/PNG still work
                logger.exception("HEIF plugin %s does not load", name)
                continue
    return _heif_state


def supported_names() -> str:
    return "JPEG、PNG" + ("、HEIC" if heif_supported() else "")


def _looks_heif(head: bytes | bytearray) -> bool:
    return head[4:8] == b"ftyp" and head[8:12] in (b"heic", b"heix", b"heim", b"heis", b"hevc", b"hevx", b"mif1", b"msf1")


# -- metadata -----------------------------------------------------------------------
def _exif_time(exif: Image.Exif) -> str | None:
    sub = exif.get_ifd(0x8769)
    raw = sub.get(0x9003) or sub.get(0x9004) or exif.get(0x0132)
    if not raw:
        return None
    s = str(raw).strip().strip("\x00")
    try:
        date, time = s.split(" ", 1)
        y, mo, d = (int(x) for x in date.split(":"))
        hh, mm, ss = (int(float(x)) for x in time.strip().split(":")[:3])
        import datetime as dt

        value = dt.datetime(y, mo, d, hh, mm, ss)
    except (ValueError, TypeError):
        return None  # "0000:00:00 00:00:00" and other junk: no capture time
    iso = value.isoformat(timespec="seconds")
    off = sub.get(0x9011)
    if isinstance(off, str) and len(off.strip()) == 6 and off.strip()[0] in "+-":
        iso += off.strip()
    return iso


def _rational(v: Any) -> float:
    try:
        return float(v)
    except (TypeError, ValueError, ZeroDivisionError):
        return math.nan


def _dms(v: Any) -> float | None:
    try:
        parts = [_rational(x) for x in v]
    except TypeError:
        return None
    if not parts or any(math.isnan(p) for p in parts):
        return None
    parts = (parts + [0.0, 0.0])[:3]
    return parts[0] + parts[1] / 60 + parts[2] / 3600


def _exif_gps(exif: Image.Exif) -> tuple[float | None, float | None]:
    g = exif.get_ifd(0x8825)
    lat, lon = _dms(g.get(2)), _dms(g.get(4))
    if lat is None or lon is None:
        return None, None
    if str(g.get(1, "N")).strip("\x00 ").upper().startswith("S"):
        lat = -lat
    if str(g.get(3, "E")).strip("\x00 ").upper().startswith("W"):
        lon = -lon
    if not (-90 <= lat <= 90 and -180 <= lon <= 180) or (lat == 0 and lon == 0):
        return None, None  # out of range, or the 0/0 some phones write without a fix
    return round(lat, 7), round(lon, 7)


def read_exif(img: Image.Image) -> tuple[int, str | None, float | None, float | None]:
    """(orientation, taken_at, lat, lon); bad EXIF never fails an import, it just reads as absent."""
    try:
        exif = img.getexif()
    except Exception:  # Pillow's EXIF parser raises many types on a bad block: read as absent (docstring)
        logger.info("EXIF block unreadable; read as absent", exc_info=True)
        return 1, None, None, None
    try:
        orientation = int(exif.get(0x0112, 1))
    except (TypeError, ValueError):
        orientation = 1
    if orientation not in range(1, 9):
        orientation = 1
    try:
        taken = _exif_time(exif)
    except Exception:  # a malformed time tag reads as absent (docstring)
        logger.info("EXIF time unreadable; read as absent", exc_info=True)
        taken = None
    try:
        lat, lon = _exif_gps(exif)
    except Exception:  # a malformed GPS block reads as absent (docstring)
        logger.info("EXIF GPS unreadable; read as absent", exc_info=True)
        lat = lon = None
    return orientation, taken, lat, lon


def format_gps(lat: float | None, lon: float | None) -> str:
    """'N 35.30322°, E 113.92672°' for captions ('' without a fix). WGS-84 as the camera wrote it."""
    if lat is None or lon is None:
        return ""
    return f"{'N' if lat >= 0 else 'S'} {abs(lat):.5f}°, {'E' if lon >= 0 else 'W'} {abs(lon):.5f}°"


# -- one file -------------------------------------------------------------------------
def _read(path: Path) -> tuple[bytearray, str]:
    """The file's bytes and their sha256, hashed while reading (one pass, no copies)."""
    try:
        size = path.stat().st_size
        if size > MAX_FILE_BYTES:
            raise EvidenceError(f"{path}: 文件过大（{size / 2**20:.0f} MiB，上限 {MAX_FILE_BYTES >> 20} MiB）")
        h = hashlib.sha256()
        buf = bytearray(size)
        view = memoryview(buf)
        pos = 0
        with open(path, "rb") as f:
            while pos < size and (n := f.readinto(view[pos:pos + (1 << 20)])):
                h.update(view[pos:pos + n])
                pos += n
            grew = pos == size and f.read(1)
        del view
        if pos < size or grew:  # a camera/sync tool still writing it: the hash would lie
            raise EvidenceError(f"{path}: 文件在读取时被改动，请重试")
    except EvidenceError:
        raise
    except IsADirectoryError:
        raise EvidenceError(f"{path}: 是文件夹，不是图片文件") from None
    except OSError as e:
        raise EvidenceError(f"{path}: 无法读取文件（{e.strerror or e}）") from e
    if not buf:
        raise EvidenceError(f"{path}: 文件为空")
    return buf, h.hexdigest()


def _open(path: Path, data: bytes | bytearray) -> Image.Image:
    if _looks_heif(data[:16]):
        heif_supported()
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            img = Image.open(io.BytesIO(data))
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise EvidenceError(f"{path}: 图片像素数超过上限 {PIXEL_LIMIT // 1_000_000} 百万像素，疑为解压炸弹，已拒绝") from None
    except UnidentifiedImageError:
        hint = "；HEIC 需要安装 pi-heif 或 pillow-heif" if _looks_heif(data[:16]) and not heif_supported() else ""
        raise EvidenceError(f"{path}: 不是可识别的图片文件（支持 {supported_names()}{hint}）") from None
    except Exception as e:  # a broken header can raise nearly anything inside a plugin
        logger.info("%s: unreadable image header: %s", path, e)
        raise EvidenceError(f"{path}: 图片文件头已损坏，无法识别") from None
    if img.format not in MIME:
        raise EvidenceError(f"{path}: 不支持的图片格式 {img.format}（支持 {supported_names()}）")
    w, h = img.size
    reason = bomb_reason(w, h, len(data))
    if reason:
        raise EvidenceError(f"{path}: {reason}")
    return img


def _fit(w: int, h: int, limit: int) -> tuple[int, int]:
    s = min(1.0, limit / max(w, h))
    return max(1, round(w * s)), max(1, round(h * s))


def _to_jpeg_mode(img: Image.Image) -> Image.Image:
    """JPEG holds L or RGB; transparency goes onto white, as it would print."""
    if img.mode in ("RGB", "L"):
        return img
    if img.mode in ("I;16", "I;16B", "I;16L", "I"):
        return img.point(lambda v: v * (1 / 256)).convert("L")
    if (img.mode == "P" and "transparency" in img.info) or img.mode in ("RGBA", "LA", "PA", "RGBa", "La"):
        rgba = img.convert("RGBA")
        bg = Image.new("RGB", rgba.size, (255, 255, 255))
        bg.paste(rgba, mask=rgba.getchannel("A"))
        return bg
    return img.convert("RGB")


def _derive(path: Path, img: Image.Image, orientation: int) -> tuple[bytes, bytes]:
    """One decode (at the smallest JPEG scale still ≥ the display size) → display and thumbnail JPEGs."""
    target = _fit(*img.size, DISPLAY_MAX)
    icc = img.info.get("icc_profile")
    try:
        if img.format in ("JPEG", "MPO"):
            img.draft(None, target)  # DCT scaling: decode 1/2, 1/4, 1/8 when that still covers target
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            img.load()
        was_cmyk = img.mode == "CMYK"
        img = _to_jpeg_mode(img)
        if was_cmyk:
            icc = None  # a CMYK profile does not describe RGB pixels
        if img.size != target:
            # BOX = area averaging, the classic filter for shrinking: at 12 MP → 2000 it is
            # ~2× faster than bicubic and looks the same at 1:1 (measured); huge PNGs reduce() first.
            img = img.resize(target, Image.Resampling.BOX, reducing_gap=3.0)
        if orientation in _UPRIGHT:
            img = img.transpose(_UPRIGHT[orientation])  # after shrinking: cheaper
        disp = io.BytesIO()
        img.save(disp, "JPEG", quality=DISPLAY_QUALITY, optimize=False, icc_profile=icc)
        thumb_img = img.resize(_fit(*img.size, THUMB_MAX), Image.Resampling.BICUBIC, reducing_gap=2.0)
        thumb = io.BytesIO()
        thumb_img.save(thumb, "JPEG", quality=THUMB_QUALITY, optimize=False, icc_profile=icc)
    except EvidenceError:
        raise
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise EvidenceError(f"{path}: 图片像素数超过上限，疑为解压炸弹，已拒绝") from None
    except MemoryError:
        raise EvidenceError(f"{path}: 图片太大，内存不足以解码") from None
    except (OSError, SyntaxError, ValueError, EOFError, zlib.error, IndexError, TypeError) as e:
        # Pillow's English text goes to the log, not to the inspector
        logger.info("%s: decode failed: %s", path, e)
        raise EvidenceError(f"{path}: 图片已损坏或不完整，无法解码") from None
    return disp.getvalue(), thumb.getvalue()


def import_file(home: str | os.PathLike[str], path: str | os.PathLike[str]) -> ImportResult:
    """Import one file into ``<home>/blobs``; raises EvidenceError naming the file.
    Nothing is stored for a file that fails."""
    p = Path(path)
    data, sha = _read(p)
    img = _open(p, data)
    orientation, taken, lat, lon = read_exif(img)
    fmt = img.format or ""
    w, h = img.size
    if orientation in (5, 6, 7, 8):
        w, h = h, w
    display, thumb = _derive(p, img, orientation)
    store = blobs.store(home)
    try:
        store.put_prehashed(data, sha)
        disp_sha = store.put_bytes(display)
        thumb_sha = store.put_bytes(thumb)
    except OSError as e:
        raise EvidenceError(f"{p}: 无法写入证据库 {store.root}（{e.strerror or e}）") from e
    return ImportResult(
        path=str(path), status="ok", original_name=p.name, size=len(data), sha256=sha,
        display_sha256=disp_sha, thumb_sha256=thumb_sha, mime=MIME[fmt], width=w, height=h,
        taken_at=taken, gps_lat=lat, gps_lon=lon, orientation=orientation,
    )


def _work(home: str, path: str) -> ImportResult:
    """Worker body: never raises, so one bad file cannot break the batch."""
    try:
        return import_file(home, path)
    except EvidenceError as e:
        return ImportResult(path=path, status="error", error=str(e), original_name=Path(path).name)
    except Exception as e:  # a bug or an exotic file: logged, reported against this file only
        logger.exception("import of %s failed", path)
        return ImportResult(path=path, status="error", original_name=Path(path).name,
                            error=f"{path}: 导入失败（{type(e).__name__}: {e}）")


# -- batches --------------------------------------------------------------------------
def _init_worker() -> None:
    heif_supported()


def _context() -> multiprocessing.context.BaseContext:
    """forkserver on Linux: workers come from a clean single-threaded server, so a batch
    started from a GUI worker thread never forks a process holding Qt's locks.
    Windows/macOS spawn (their default); a frozen app must call multiprocessing.freeze_support()."""
    if sys.platform.startswith("linux"):
        ctx = multiprocessing.get_context("forkserver")
        ctx.set_forkserver_preload(["inspector.evidence"])
        return ctx
    return multiprocessing.get_context("spawn")


def warm_up() -> None:
    """Start the Linux fork server now (an interpreter plus Pillow, ~0.3 s) so the first batch
    does not pay for it; the GUI may call this at startup. No-op elsewhere."""
    if sys.platform.startswith("linux"):
        _context()
        from multiprocessing import forkserver

        forkserver.ensure_running()


def default_workers() -> int:
    return max(1, os.cpu_count() or 1)


def import_photos(
    home: str | os.PathLike[str],
    paths: Iterable[str | os.PathLike[str]],
    *,
    workers: int | None = None,
    progress: Progress | None = None,
    cancel: threading.Event | None = None,
    on_result: Callable[[ImportResult], object] | None = None,
) -> list[ImportResult]:
    """Import files into ``<home>/blobs``; one result per path, in input order.

    ``progress(done, total, bytes)`` is called in the calling thread after each file
    (and once with 0 at the start); ``on_result(result)`` too, so a viewer can show each
    thumbnail as it lands. ``cancel`` is checked between files: files already imported
    stay, files not started come back as ``cancelled``.
    """
    home_s = str(home)
    todo = [str(p) for p in paths]
    total = len(todo)
    results: list[ImportResult | None] = [None] * total
    state = {"done": 0, "bytes": 0}

    def record(i: int, r: ImportResult) -> None:
        results[i] = r
        state["done"] += 1
        state["bytes"] += r.size or 0
        if on_result:
            on_result(r)
        if progress:
            progress(state["done"], total, state["bytes"])

    if progress:
        progress(0, total, 0)
    n = min(workers or default_workers(), total)
    if n <= 1:
        for i, p in enumerate(todo):
            if cancel is not None and cancel.is_set():
                break
            record(i, _work(home_s, p))
    else:
        _run_pool(home_s, todo, n, record, cancel)
    return [r if r is not None else ImportResult(path=p, status="cancelled", original_name=Path(p).name,
                                                 error=f"{p}: 已取消，未导入")
            for p, r in zip(todo, results)]


def _run_pool(home: str, todo: list[str], n: int, record: Callable[[int, ImportResult], None],
              cancel: threading.Event | None) -> None:
    """Keep 2 files per worker in flight (no idle gaps); submit more only while not cancelled.

    If the pool cannot start or dies (no semaphores in a sandbox, a frozen app without
    freeze_support, a worker killed), the files it did not finish are imported in this
    process, so a batch never fails as a whole. Only when the pool had already worked are
    the files in flight at its death reported as errors (one of them may have killed it)."""
    handled: set[int] = set()

    def put(i: int, r: ImportResult) -> None:
        handled.add(i)
        record(i, r)

    try:
        ex: cf.ProcessPoolExecutor | None = cf.ProcessPoolExecutor(
            max_workers=n, mp_context=_context(), initializer=_init_worker)
    except (OSError, ValueError, ImportError):
        ex = None
    pending: dict[cf.Future[ImportResult], int] = {}
    nxt, worked, broken = 0, False, ex is None
    try:
        while not broken:
            assert ex is not None
            stop = cancel is not None and cancel.is_set()
            if stop:
                for f in list(pending):
                    if f.cancel():  # queued but not started: drop it
                        del pending[f]
            try:
                while not stop and nxt < len(todo) and len(pending) < 2 * n:
                    pending[ex.submit(_work, home, todo[nxt])] = nxt
                    nxt += 1
            except BrokenProcessPool:
                broken = True
            if not pending:
                break
            done, _ = cf.wait(pending, timeout=0.2 if cancel is not None else None,
                              return_when=cf.FIRST_COMPLETED)
            for f in done:
                i = pending.pop(f)
                try:
                    r = f.result()
                except BrokenProcessPool:
                    broken = True
                    pending[f] = i
                    continue
                except cf.CancelledError:
                    continue
                worked = True
                put(i, r)
        if broken and worked:
            for i in sorted(pending.values()):
                put(i, ImportResult(path=todo[i], status="error", original_name=Path(todo[i]).name,
                                    error=f"{todo[i]}: 导入进程异常退出，请单独重试该文件"))
    finally:
        if ex is not None:
            ex.shutdown(wait=True, cancel_futures=True)
    if broken:  # fallback: whatever the pool did not finish
        for i in range(len(todo)):
            if cancel is not None and cancel.is_set():
                break
            if i not in handled:
                put(i, _work(home, todo[i]))
