"""HQ's content-addressed files: ``blobs/ab/cd/<sha256>``; partial uploads in ``blobs/partial/``.

A blob is kept only once its bytes hash to its name; a broken upload resumes from the
size of its partial file.
"""
from __future__ import annotations

import hashlib
import os
import re
from pathlib import Path

from inspector.hq.errors import HQError

SHA_RE = re.compile(r"^[0-9a-f]{64}$")
MAX_BLOB = 2 * 1024 ** 3


def check_sha(sha: str) -> str:
    if not SHA_RE.match(sha):
        raise HQError(422, "bad_sha256", f"文件标识 {sha!r} 不是 64 位小写十六进制 SHA-256")
    return sha


class HQBlobs:
    def __init__(self, root: Path):
        self.root = Path(root)
        self.partial_dir = self.root / "partial"

    def path(self, sha: str) -> Path:
        return self.root / sha[:2] / sha[2:4] / sha

    def partial(self, sha: str) -> Path:
        return self.partial_dir / f"{sha}.part"

    def has(self, sha: str) -> bool:
        return self.path(check_sha(sha)).is_file()

    def missing(self, shas: list[str]) -> list[str]:
        return [s for s in dict.fromkeys(shas) if not self.has(s)]

    def offset(self, sha: str) -> tuple[bool, int]:
        """(complete, bytes held): a complete blob's size, or how far a partial upload got."""
        p = self.path(check_sha(sha))
        if p.is_file():
            return True, p.stat().st_size
        part = self.partial(sha)
        return False, part.stat().st_size if part.exists() else 0

    def open_partial(self, sha: str, offset: int, total: int):  # -> BinaryIO
        """Open the partial file for appending at ``offset`` (must equal what is held)."""
        check_sha(sha)
        if total < 0 or total > MAX_BLOB:
            raise HQError(422, "bad_total", f"文件 {sha[:12]}…：声明大小 {total} 无效")
        complete, have = self.offset(sha)
        if complete:
            raise HQError(409, "blob_exists", f"文件 {sha[:12]}… 已在总部", offset=have, complete=True)
        if offset != have:
            raise HQError(409, "offset_mismatch", f"文件 {sha[:12]}…：应从 {have} 字节处续传，而不是 {offset}",
                          offset=have, complete=False)
        self.partial_dir.mkdir(parents=True, exist_ok=True)
        f = open(self.partial(sha), "ab")
        f.seek(0, os.SEEK_END)
        return f

    def finish(self, sha: str, total: int) -> tuple[bool, int]:
        """Keep the partial file if it is whole and its hash matches; refuse (and drop it) if not."""
        part = self.partial(sha)
        size = part.stat().st_size if part.exists() else 0
        if size < total:
            return False, size
        h = hashlib.sha256()
        with open(part, "rb") as f:
            while chunk := f.read(1 << 20):
                h.update(chunk)
        if size > total or h.hexdigest() != sha:
            part.unlink(missing_ok=True)
            raise HQError(422, "blob_hash_mismatch",
                          f"文件 {sha[:12]}… 的内容与其 SHA-256 不符（收到 {size} 字节），未保存", offset=0)
        dest = self.path(sha)
        dest.parent.mkdir(parents=True, exist_ok=True)
        with open(part, "rb+") as f:
            os.fsync(f.fileno())
        os.replace(part, dest)
        return True, total
