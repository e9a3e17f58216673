"""The content-addressed blob store: layout, dedupe, atomic writes, corruption detection."""
from __future__ import annotations

import hashlib
import os
import threading
from pathlib import Path

import pytest

from inspector import blobs
from inspector.blobs import BlobError, BlobStore
from inspector.errors import NotFound


def test_put_bytes_layout_and_round_trip(tmp_path: Path) -> None:
    data = b"\x89PNG fake evidence \x00\xff" * 100
    sha = blobs.put_bytes(tmp_path, data)
    assert sha == hashlib.sha256(data).hexdigest()
    p = blobs.path(tmp_path, sha)
    assert p == tmp_path / "blobs" / sha[:2] / sha[2:4] / sha
    assert p.read_bytes() == data
    assert blobs.has(tmp_path, sha)
    with blobs.open(tmp_path, sha) as f:
        assert f.read() == data
    assert blobs.verify(tmp_path, sha)


def test_duplicate_is_stored_once_and_not_rewritten(tmp_path: Path) -> None:
    bs = BlobStore(tmp_path / "b")
    sha = bs.put_bytes(b"same photo")
    before = bs.path(sha).stat()
    src = tmp_path / "copy.jpg"
    src.write_bytes(b"same photo")
    assert bs.put_file(src) == sha
    assert bs.put_bytes(b"same photo") == sha
    after = bs.path(sha).stat()
    assert (after.st_ino, after.st_mtime_ns) == (before.st_ino, before.st_mtime_ns)
    assert list(bs) == [sha]
    assert not list((bs.root / ".tmp").iterdir())  # no temp files left behind


def test_put_file_streams_large_files(tmp_path: Path) -> None:
    data = os.urandom(3 * blobs.CHUNK + 12345)
    src = tmp_path / "big.pdf"
    src.write_bytes(data)
    bs = BlobStore(tmp_path / "b")
    sha = bs.put_file(src)
    assert sha == hashlib.sha256(data).hexdigest()
    assert bs.size(sha) == len(data)
    assert bs.read(sha) == data


def test_verify_detects_a_corrupted_blob_on_disk(tmp_path: Path) -> None:
    bs = BlobStore(tmp_path / "b")
    good = bs.put_bytes(b"photo A" * 1000)
    bad = bs.put_bytes(b"photo B" * 1000)
    p = bs.path(bad)
    raw = bytearray(p.read_bytes())
    raw[100] ^= 0x01  # one flipped bit
    p.write_bytes(bytes(raw))
    assert bs.verify(good)
    assert not bs.verify(bad)
    assert bs.verify_all() == [bad]


def test_expected_hash_mismatch_stores_nothing(tmp_path: Path) -> None:
    bs = BlobStore(tmp_path / "b")
    wrong = "0" * 64
    with pytest.raises(BlobError, match="sha256 不符"):
        bs.put_bytes(b"upload", expected=wrong)
    src = tmp_path / "x"
    src.write_bytes(b"upload")
    with pytest.raises(BlobError, match="sha256 不符"):
        bs.put_file(src, expected=wrong)
    assert list(bs) == []
    assert bs.put_file(src, expected=hashlib.sha256(b"upload").hexdigest())


@pytest.mark.parametrize("sha", ["../../etc/passwd", "ABC", "g" * 64, "A" * 64, "a" * 63, ""])
def test_names_that_are_not_sha256_are_refused(tmp_path: Path, sha: str) -> None:
    bs = BlobStore(tmp_path / "b")
    with pytest.raises(BlobError):
        bs.path(sha)
    with pytest.raises(BlobError):
        bs.has(sha)


def test_missing_blob_is_not_found(tmp_path: Path) -> None:
    bs = BlobStore(tmp_path / "b")
    with pytest.raises(NotFound):
        bs.open("a" * 64)
    assert not bs.has("a" * 64)
    assert list(bs) == []


def test_concurrent_writers_of_the_same_blob_agree(tmp_path: Path) -> None:
    bs = BlobStore(tmp_path / "b")
    data = os.urandom(2 * blobs.CHUNK)
    out: list[str] = []
    threads = [threading.Thread(target=lambda: out.append(bs.put_bytes(data))) for _ in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(set(out)) == 1 and len(out) == 6
    assert bs.verify(out[0])
    assert list(bs) == [out[0]]


def test_a_stale_temp_file_is_not_a_blob(tmp_path: Path) -> None:
    bs = BlobStore(tmp_path / "b")
    sha = bs.put_bytes(b"x")
    (bs.root / ".tmp" / "put-crashed").write_bytes(b"half")
    assert list(bs) == [sha]


def test_a_failed_write_leaves_no_blob_under_a_real_name(tmp_path: Path) -> None:
    """A stream that breaks half-way (disk full, unplugged card) stores nothing, leaks nothing."""
    class Breaks:
        def __init__(self) -> None:
            self.n = 0

        def read(self, size: int) -> bytes:
            self.n += 1
            if self.n > 2:
                raise OSError(5, "Input/output error")
            return b"x" * size

    bs = BlobStore(tmp_path / "b")
    with pytest.raises(OSError):
        bs.put_stream(Breaks())  # type: ignore[arg-type]
    assert list(bs) == []
    assert not list((bs.root / ".tmp").iterdir())
