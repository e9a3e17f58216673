"""Content-addressed blob store: ``<root>/ab/cd/<sha256>``.

Photos and PDFs are evidence, kept byte for byte and named by their sha256, so a
duplicate is stored once, sync can skip what the other side already has, and
``verify`` can prove a file was not altered. Writes are atomic (temp file, fsync,
rename, fsync of the folder): a crash leaves either the whole blob or nothing,
never a half file under a real name. An existing blob is never rewritten.

The laptop keeps its blobs in ``<home>/blobs``; HQ uses ``BlobStore`` on its own
folder. Safe across threads and processes (the parallel photo import writes from
worker processes): each writer has its own temp file and ``os.replace`` is atomic.
"""
from __future__ import annotations

import builtins
import hashlib
import os
import re
import tempfile
from pathlib import Path
from typing import IO, BinaryIO, Callable, Iterator

from inspector.errors import NotFound, StoreError

CHUNK = 1 << 20
_SHA = re.compile(r"[0-9a-f]{64}")


class BlobError(StoreError):
    """A blob is malformed, missing its expected hash, or could not be written."""


def check_sha(sha: str) -> str:
    """Reject anything but 64 lowercase hex digits (the name becomes a path; HQ gets it from the network)."""
    if not isinstance(sha, str) or not _SHA.fullmatch(sha):
        raise BlobError(f"不是有效的 sha256：{sha!r}")
    return sha


class BlobStore:
    """Blobs under one folder; creates the folder on first write."""

    def __init__(self, root: str | os.PathLike[str]):
        self.root = Path(root)

    def __repr__(self) -> str:
        return f"BlobStore({str(self.root)!r})"

    # -- names --------------------------------------------------------------
    def path(self, sha: str) -> Path:
        check_sha(sha)
        return self.root / sha[:2] / sha[2:4] / sha

    def has(self, sha: str) -> bool:
        return self.path(sha).is_file()

    def size(self, sha: str) -> int:
        try:
            return self.path(sha).stat().st_size
        except FileNotFoundError:
            raise NotFound(f"blob {sha} 不存在（{self.root}）") from None

    def open(self, sha: str) -> BinaryIO:
        """The blob for reading; NotFound if absent."""
        try:
            return builtins.open(self.path(sha), "rb")
        except FileNotFoundError:
            raise NotFound(f"blob {sha} 不存在（{self.root}）") from None

    def read(self, sha: str) -> bytes:
        with self.open(sha) as f:
            return f.read()

    def __iter__(self) -> Iterator[str]:
        """Every stored sha (temp files skipped)."""
        if not self.root.is_dir():
            return
        for a in sorted(self.root.iterdir()):
            if len(a.name) != 2 or not a.is_dir():
                continue
            for b in sorted(a.iterdir()):
                if not b.is_dir():
                    continue
                for f in sorted(b.iterdir()):
                    if _SHA.fullmatch(f.name) and f.name[:2] == a.name and f.name[2:4] == b.name:
                        yield f.name

    # -- writes -------------------------------------------------------------
    def put_bytes(self, data: bytes, *, expected: str | None = None) -> str:
        """Store ``data``; returns its sha256. Cheap for a blob that is already there."""
        sha = hashlib.sha256(data).hexdigest()
        self._expect(sha, expected, "数据")
        if not self.has(sha):
            self._commit(sha, lambda f: f.write(data))
        return sha

    def put_prehashed(self, data: bytes | bytearray, sha: str) -> str:
        """Store ``data`` whose sha256 the caller computed while reading it (saves a second pass)."""
        check_sha(sha)
        if not self.has(sha):
            self._commit(sha, lambda f: f.write(data))
        return sha

    def put_file(self, src: str | os.PathLike[str], *, expected: str | None = None) -> str:
        """Copy a file in, hashing while copying (one read, constant memory)."""
        try:
            fin = builtins.open(src, "rb")
        except OSError as e:
            raise BlobError(f"{src}: 无法读取（{e.strerror or e}）") from e
        with fin:
            return self.put_stream(fin, expected=expected, name=str(src))

    def put_stream(self, fin: IO[bytes], *, expected: str | None = None, name: str = "stream") -> str:
        """Store everything read from ``fin``; with ``expected`` a mismatch stores nothing."""
        tmp = self._tmp()
        h = hashlib.sha256()
        try:
            with builtins.open(tmp, "wb") as out:
                while chunk := fin.read(CHUNK):
                    h.update(chunk)
                    out.write(chunk)
                out.flush()
                os.fsync(out.fileno())
            sha = h.hexdigest()
            self._expect(sha, expected, name)
            if self.has(sha):
                return sha
            self._place(tmp, sha)
            return sha
        finally:
            if os.path.exists(tmp):
                os.unlink(tmp)

    # -- checks -------------------------------------------------------------
    def verify(self, sha: str) -> bool:
        """Rehash the stored file: True when it still has the content its name promises."""
        h = hashlib.sha256()
        with self.open(sha) as f:
            while chunk := f.read(CHUNK):
                h.update(chunk)
        return h.hexdigest() == sha

    def verify_all(self) -> list[str]:
        """The shas whose files no longer match (empty when all are intact)."""
        return [sha for sha in self if not self.verify(sha)]

    # -- internals ----------------------------------------------------------
    @staticmethod
    def _expect(sha: str, expected: str | None, name: str) -> None:
        if expected is not None and sha != expected:
            raise BlobError(f"{name}: sha256 不符（应为 {expected}，实为 {sha}）")

    def _tmp(self) -> str:
        d = self.root / ".tmp"
        d.mkdir(parents=True, exist_ok=True)
        fd, name = tempfile.mkstemp(dir=d, prefix="put-")
        os.close(fd)
        return name

    def _commit(self, sha: str, write: Callable[[BinaryIO], object]) -> None:
        tmp = self._tmp()
        try:
            with builtins.open(tmp, "wb") as out:
                write(out)
                out.flush()
                os.fsync(out.fileno())
            self._place(tmp, sha)
        finally:
            if os.path.exists(tmp):
                os.unlink(tmp)

    def _place(self, tmp: str, sha: str) -> None:
        final = self.path(sha)
        final.parent.mkdir(parents=True, exist_ok=True)
        try:
            os.replace(tmp, final)  # same content if a racing writer got there first
        except OSError as e:
            if final.is_file():
                return
            raise BlobError(f"{final}: 无法写入（{e.strerror or e}）") from e
        _fsync_dir(final.parent)


def _fsync_dir(d: Path) -> None:
    """Make the rename durable (POSIX); Windows has no directory handles to sync."""
    if os.name != "posix":
        return
    fd = os.open(d, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


# -- the laptop's store, addressed by the app home ------------------------------
def store(home: str | os.PathLike[str]) -> BlobStore:
    return BlobStore(Path(home) / "blobs")


def put_bytes(home: str | os.PathLike[str], data: bytes) -> str:
    return store(home).put_bytes(data)


def put_file(home: str | os.PathLike[str], src: str | os.PathLike[str]) -> str:
    return store(home).put_file(src)


def path(home: str | os.PathLike[str], sha: str) -> Path:
    return store(home).path(sha)


def has(home: str | os.PathLike[str], sha: str) -> bool:
    return store(home).has(sha)


def open(home: str | os.PathLike[str], sha: str) -> BinaryIO:  # noqa: A001 - mirrors BlobStore.open
    return store(home).open(sha)


def verify(home: str | os.PathLike[str], sha: str) -> bool:
    return store(home).verify(sha)
