"""Shared helpers for the evidence and blob tests: photo files and bad files, an inspection."""
from __future__ import annotations

import datetime as dt
import struct
import zlib
from functools import lru_cache
from pathlib import Path

from inspector import demo_photos
from inspector.store import Store

TAKEN = dt.datetime(2026, 4, 14, 9, 31, 7)
XINXIANG = (35.303218, 113.926718)


@lru_cache(maxsize=32)
def photo_bytes(width: int = 1600, height: int = 1200, seed: int = 0, orientation: int = 1, fmt: str = "JPEG",
                with_exif: bool = True) -> bytes:
    """A camera-like photo; cached, since several tests reuse the same picture."""
    return demo_photos.photo(width, height, seed=seed, orientation=orientation, fmt=fmt,
                             taken_at=TAKEN if with_exif else None, gps=XINXIANG if with_exif else None)


def write(folder: Path, name: str, data: bytes) -> Path:
    p = folder / name
    p.write_bytes(data)
    return p


def png_chunk(kind: bytes, body: bytes) -> bytes:
    return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body) & 0xFFFFFFFF)


def png_claiming(width: int, height: int) -> bytes:
    """A tiny PNG whose header claims ``width``×``height`` (a decompression bomb's calling card)."""
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + png_chunk(b"IHDR", ihdr)
            + png_chunk(b"IDAT", zlib.compress(b"\x00" * 64)) + png_chunk(b"IEND", b""))


def start_inspection(store: Store, institution_id: str = "inst-ev") -> str:
    """An institution and a draft inspection to hang photos on."""
    from inspector.store import visits
    from inspector.util import now_iso

    with store.tx() as db:
        db.table("institutions").insert({"id": institution_id, "credit_code": f"CC-{institution_id}",
                                   "name": "新乡市某某职业技能培训学校", "kind": "培训机构", "county": "红旗区",
                                   "updated_at": now_iso()}, ignore=True)
    return visits.start_inspection(store, institution_id, inspector_ids=["insp-a", "insp-b"], place="教学楼")


def blob_files(home: Path) -> list[Path]:
    root = home / "blobs"
    return sorted(p for p in root.rglob("*") if p.is_file() and ".tmp" not in p.parts)
