"""Small shared helpers: ids, canonical JSON, hashing, time."""
from __future__ import annotations

import datetime as _dt
import hashlib
import json
import os
import secrets
import time
from typing import Any


def new_id() -> str:
    """A UUIDv7 string: time-ordered, made on the laptop, unique across devices."""
    ms = int(time.time() * 1000)
    rand = secrets.token_bytes(10)
    b = bytearray(ms.to_bytes(6, "big") + rand)
    b[6] = (b[6] & 0x0F) | 0x70
    b[8] = (b[8] & 0x3F) | 0x80
    h = b.hex()
    return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"


def canonical_json(obj: Any) -> bytes:
    """Deterministic JSON bytes (sorted keys, no spaces, UTF-8) for hashing and signing."""
    return json.dumps(obj, ensure_ascii=False, sort_keys=True, separators=(",", ":")).encode("utf-8")


def sha256_hex(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def sha256_file(path: str | os.PathLike[str], bufsize: int = 1 << 20) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        while chunk := f.read(bufsize):
            h.update(chunk)
    return h.hexdigest()


def now_iso() -> str:
    """Local wall-clock time with offset, to the second (inspections are local events)."""
    return _dt.datetime.now().astimezone().isoformat(timespec="seconds")


def dumps(obj: Any) -> str:
    return json.dumps(obj, ensure_ascii=False)
