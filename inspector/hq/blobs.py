"""HQ's content-addressed files: ``blobs/ab/cd/<sha256>``; unfinished uploads in ``blobs/partial/``.

A blob is kept only once its bytes hash to its name. Uploads are coordinated through the
database, not process memory, so several HQ worker processes (or hosts sharing the folder) can
take parts of the same upload:

- each (blob, device) has its own partial file and a row in ``uploads`` that says how many of
  its bytes are real (``received``) and how big the blob is declared to be (``total``);
- a chunk is first received into its own file in ``blobs/incoming/`` (no lock held while the
  network is slow), then appended under the device's lock (PostgreSQL advisory lock; SQLite's
  write lock) only if the row still says the upload stands at the chunk's offset; bytes a crashed
  writer appended without committing are cut off first (the row is the truth);
- the last chunk moves the partial file aside and HQ hashes it outside the lock; only a file whose
  hash matches is fsynced and renamed into place (an atomic rename: never a wrong complete blob);
- quotas: a device's unfinished uploads may declare at most ``partial_quota`` bytes and number at
  most ``partial_max``; untouched ones expire after ``partial_hours`` (``gc``: at start-up, now and
  then while serving, and ``inspector-hq blobs gc``).
"""
from __future__ import annotations

import hashlib
import json
import logging
import os
import re
import secrets
import shutil
import threading
import time
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from inspector.hq import db as D
from inspector.hq.errors import HQError

logger = logging.getLogger(__name__)

SHA_RE = re.compile(r"^[0-9a-f]{64}$")
MAX_BLOB = 2 * 1024 ** 3
GRACE = 3600.0          # seconds a file in incoming/ (or an orphan partial) may sit before gc removes it
GC_EVERY = 600.0        # seconds between opportunistic clean-ups in one process


def check_sha(sha: str) -> str:
    if not isinstance(sha, str) or not SHA_RE.match(sha):
        raise HQError(422, "bad_sha256", f"文件标识 {sha!r} 不是 64 位小写十六进制 SHA-256")
    return sha


def _mb(n: int) -> str:
    return f"{n / 1024 / 1024:,.1f} MB"


class HQBlobs:
    def __init__(self, root: Path):
        self.root = Path(root)
        self.partial_dir = self.root / "partial"
        self.incoming_dir = self.root / "incoming"

    def path(self, sha: str) -> Path:
        return self.root / sha[:2] / sha[2:4] / sha

    def partial(self, sha: str, device_id: str | None = None) -> Path:
        """The partial file of ``device_id``'s upload of ``sha`` (without a device: the single
        partial file of HQ versions before per-device uploads)."""
        if device_id is None:
            return self.partial_dir / f"{sha}.part"
        return self.partial_dir / f"{sha}.{hashlib.sha256(device_id.encode()).hexdigest()[:16]}.part"

    def partials(self, sha: str) -> list[Path]:
        """Every partial file of ``sha`` (any device)."""
        return sorted(self.partial_dir.glob(f"{check_sha(sha)}.*part")) if self.partial_dir.exists() else []

    def incoming(self, sha: str, kind: str = "chunk") -> Path:
        self.incoming_dir.mkdir(parents=True, exist_ok=True)
        return self.incoming_dir / f"{sha}.{secrets.token_hex(8)}.{kind}"

    def has(self, sha: str) -> bool:
        return self.path(check_sha(sha)).is_file()

    def size(self, sha: str) -> int | None:
        p = self.path(check_sha(sha))
        return p.stat().st_size if p.is_file() else None

    def missing(self, shas: list[str]) -> list[str]:
        return [s for s in dict.fromkeys(shas) if not self.has(s)]

    def op_size_problems(self, op: dict[str, Any]) -> list[str]:
        """An op naming a blob must agree with the blob HQ holds: a photo row's ``size`` is the
        byte count of its ``sha256``. Chinese problems, empty when consistent."""
        data = op.get("data") if isinstance(op, dict) else None
        row = data.get("row") if isinstance(data, dict) else None
        if not isinstance(row, dict):
            return []
        sha, size = row.get("sha256"), row.get("size")
        if not (isinstance(sha, str) and SHA_RE.match(sha)) or not isinstance(size, int) or isinstance(size, bool):
            return []
        have = self.size(sha)
        if have is not None and have != size:
            return [f"记录写明文件 {sha[:12]}… 有 {size} 字节，而总部收到的文件有 {have} 字节"]
        return []


# -- coordination through the database ---------------------------------------------------------------
def _lock_device(conn: Connection, device_id: str) -> None:
    """One upload step per device at a time across every HQ process (SQLite: the write lock of
    BEGIN IMMEDIATE already serialises all writers)."""
    if not D.is_sqlite(conn):
        key = int.from_bytes(hashlib.sha256(b"hq-upload:" + device_id.encode()).digest()[:8], "big", signed=True)
        conn.execute(sa.text("SELECT pg_advisory_xact_lock(:k)"), {"k": key})


def _row(conn: Connection, sha: str, device_id: str) -> Any:
    U = D.uploads
    return conn.execute(sa.select(U).where(U.c.sha256 == sha, U.c.device_id == device_id)).first()


def states(engine: Engine, blobs: HQBlobs, device_id: str, shas: list[str]) -> dict[str, dict[str, Any]]:
    """For each blob: complete (HQ has it), else how many bytes of this device's upload HQ holds."""
    out: dict[str, dict[str, Any]] = {}
    todo = []
    for s in dict.fromkeys(shas):
        size = blobs.size(check_sha(s))
        if size is not None:
            out[s] = {"complete": True, "offset": size}
        else:
            todo.append(s)
    if todo:
        U = D.uploads
        got: dict[str, int] = {}
        with engine.connect() as conn:
            for i in range(0, len(todo), 500):
                got.update({r.sha256: int(r.received) for r in conn.execute(
                    sa.select(U.c.sha256, U.c.received).where(U.c.device_id == device_id,
                                                              U.c.sha256.in_(todo[i:i + 500])))})
        for s in todo:
            out[s] = {"complete": False, "offset": got.get(s, 0)}
    return out


def state(engine: Engine, blobs: HQBlobs, device_id: str, sha: str) -> tuple[bool, int]:
    st = states(engine, blobs, device_id, [sha])[sha]
    return st["complete"], st["offset"]


def _sizes_named(conn: Connection, sha: str) -> set[int]:
    """Sizes that photo rows HQ already holds give for ``sha`` (kept in their ``extra``)."""
    out: set[int] = set()
    for r in conn.execute(sa.select(D.photos.c.extra).where(D.photos.c.sha256 == sha).limit(20)):
        try:
            size = json.loads(r.extra or "{}").get("size")
        except (ValueError, AttributeError):
            continue
        if isinstance(size, int) and not isinstance(size, bool):
            out.add(size)
    return out


def _drop(conn: Connection, blobs: HQBlobs, sha: str, device_id: str) -> None:
    U = D.uploads
    conn.execute(U.delete().where(U.c.sha256 == sha, U.c.device_id == device_id))
    blobs.partial(sha, device_id).unlink(missing_ok=True)


def _forget_done(engine: Engine, blobs: HQBlobs, sha: str, device_id: str) -> None:
    """HQ has the blob: this device's unfinished upload of it no longer holds quota."""
    with engine.connect() as conn:
        if _row(conn, sha, device_id) is None:
            return
    with D.write(engine) as conn:
        _lock_device(conn, device_id)
        _drop(conn, blobs, sha, device_id)


def begin(engine: Engine, blobs: HQBlobs, cfg: Any, device_id: str, sha: str, offset: int, total: int,
          restart: bool = False) -> dict[str, Any]:
    """Before any byte is read: check the declared size and the offset, reserve the device's
    quota for a new upload (or reset it for a whole-file PUT). Raises HQError when refused."""
    check_sha(sha)
    if not isinstance(total, int) or total < 0 or total > MAX_BLOB:
        raise HQError(422, "bad_total", f"文件 {sha[:12]}…：声明大小 {total} 无效（应在 0 到 {MAX_BLOB} 字节之间）")
    if offset < 0 or offset > total:
        raise HQError(422, "bad_offset", f"文件 {sha[:12]}…：续传位置 {offset} 无效（文件共 {total} 字节）")
    maybe_gc(engine, blobs, cfg)
    size = blobs.size(sha)
    if size is not None:
        _forget_done(engine, blobs, sha, device_id)
        return {"sha256": sha, "complete": True, "offset": size}
    now = time.time()
    U = D.uploads
    with D.write(engine) as conn:
        _lock_device(conn, device_id)
        # this device's own abandoned uploads do not count against it
        for old in conn.execute(sa.select(U.c.sha256).where(
                U.c.device_id == device_id, U.c.updated_at < now - cfg.partial_hours * 3600)).all():
            _drop(conn, blobs, old.sha256, device_id)
        row = _row(conn, sha, device_id)
        if row is not None and not restart and row.total != total:
            if row.received:
                raise HQError(409, "total_mismatch",
                              f"文件 {sha[:12]}…：声明大小 {total} 与此前上传时声明的 {row.total} 字节不符；"
                              f"已收到的 {row.received} 字节保留，请按原大小续传", offset=int(row.received),
                              complete=False)
        if row is None or restart or row.total != total:
            named = _sizes_named(conn, sha)
            if named and total not in named:
                raise HQError(422, "total_mismatch",
                              f"文件 {sha[:12]}…：声明大小 {total} 字节与总部已收到的照片记录"
                              f"（{'、'.join(str(n) for n in sorted(named))} 字节）不符")
            others = conn.execute(sa.select(sa.func.count(), sa.func.coalesce(sa.func.sum(U.c.total), 0))
                                  .where(U.c.device_id == device_id, U.c.sha256 != sha)).one()
            count, held = int(others[0]), int(others[1])
            if count + 1 > cfg.partial_max:
                raise HQError(429, "too_many_uploads",
                              f"本设备已有 {count} 个未完成的上传，达到上限 {cfg.partial_max} 个；"
                              f"请先完成或等待其过期（{cfg.partial_hours} 小时）后再上传文件 {sha[:12]}…",
                              limit=cfg.partial_max)
            if held + total > cfg.partial_quota:
                raise HQError(413, "upload_quota",
                              f"文件 {sha[:12]}…（声明 {_mb(total)}）超出本设备未完成上传的配额："
                              f"已占用 {_mb(held)}，上限 {_mb(cfg.partial_quota)}；"
                              f"请先完成其他上传或等待其过期（{cfg.partial_hours} 小时）",
                              limit=cfg.partial_quota, held=held)
        if row is None:
            if offset != 0:
                raise HQError(409, "offset_mismatch", f"文件 {sha[:12]}…：应从 0 字节处上传，而不是 {offset}",
                              offset=0, complete=False)
            conn.execute(U.insert().values(sha256=sha, device_id=device_id, total=total, received=0,
                                           started_at=now, updated_at=now))
            blobs.partial(sha, device_id).unlink(missing_ok=True)  # a leftover of an expired upload
            return {"sha256": sha, "complete": False, "offset": 0}
        if restart or (row.total != total and not row.received):
            conn.execute(U.update().where(U.c.sha256 == sha, U.c.device_id == device_id)
                         .values(total=total, received=0, started_at=now, updated_at=now))
            blobs.partial(sha, device_id).unlink(missing_ok=True)
            return {"sha256": sha, "complete": False, "offset": 0}
        if offset != row.received:
            raise HQError(409, "offset_mismatch",
                          f"文件 {sha[:12]}…：应从 {row.received} 字节处续传，而不是 {offset}",
                          offset=int(row.received), complete=False)
        conn.execute(U.update().where(U.c.sha256 == sha, U.c.device_id == device_id).values(updated_at=now))
    return {"sha256": sha, "complete": False, "offset": offset}


def commit(engine: Engine, blobs: HQBlobs, device_id: str, sha: str, offset: int, chunk: Path) -> dict[str, Any]:
    """Append the received chunk at ``offset`` (under the device's lock, only if the upload still
    stands there); when the declared size is reached, check the hash and keep the blob."""
    with D.write(engine) as conn:
        _lock_device(conn, device_id)
        row = _row(conn, sha, device_id)
        exists = blobs.size(sha)
        if exists is not None:  # another upload finished the same bytes meanwhile: this one is moot
            if row is not None:
                _drop(conn, blobs, sha, device_id)
            outcome: tuple[str, Any] = ("exists", exists)
        elif row is None:  # expired or reset meanwhile (nothing to change: the refusal may roll back)
            raise HQError(409, "offset_mismatch", f"文件 {sha[:12]}…：上传已失效，请从 0 字节处重新上传",
                          offset=0, complete=False)
        else:
            outcome = _append(conn, blobs, device_id, sha, offset, chunk, row)
    # refusals after the block: what the transaction changed (a dropped or reset upload) stays
    kind, val = outcome
    if kind == "exists":
        raise HQError(409, "blob_exists", f"文件 {sha[:12]}… 已在总部", offset=val, complete=True)
    if kind == "lost":
        raise HQError(409, "offset_mismatch", f"文件 {sha[:12]}…：总部的部分文件已失效，请从 0 字节处重新上传",
                      offset=0, complete=False)
    if kind == "partial":
        return {"sha256": sha, "complete": False, "offset": val}
    done, received = val
    return _keep(blobs, sha, done, received)


def _append(conn: Connection, blobs: HQBlobs, device_id: str, sha: str, offset: int, chunk: Path,
            row: Any) -> tuple[str, Any]:
    """Inside the locked transaction: ('partial', received) | ('done', (file, size)) | ('lost', 0)."""
    U = D.uploads
    n = chunk.stat().st_size
    have = int(row.received)
    if offset != have:
        raise HQError(409, "offset_mismatch", f"文件 {sha[:12]}…：应从 {have} 字节处续传，而不是 {offset}",
                      offset=have, complete=False)
    if offset + n > row.total:
        raise HQError(422, "too_long", f"文件 {sha[:12]}…：收到的字节超出声明大小 {row.total}",
                      offset=have, complete=False)
    part = blobs.partial(sha, device_id)
    blobs.partial_dir.mkdir(parents=True, exist_ok=True)
    with open(part, "a+b") as f:
        on_disk = f.seek(0, os.SEEK_END)
        if on_disk < have:  # the file lost bytes the row counts: start this upload over
            logger.warning("upload %s of device %s: partial file has %d bytes, row says %d; restarting",
                           sha, device_id, on_disk, have)
            f.truncate(0)
            conn.execute(U.update().where(U.c.sha256 == sha, U.c.device_id == device_id)
                         .values(received=0, updated_at=time.time()))
            return ("lost", 0)
        if on_disk > have:  # bytes of a writer that died before its commit: not part of the upload
            f.truncate(have)
        with open(chunk, "rb") as src:  # O_APPEND: written at the end, which is now ``have``
            shutil.copyfileobj(src, f, 1 << 20)
        f.flush()
        os.fsync(f.fileno())
    received = have + n
    if received < row.total:
        conn.execute(U.update().where(U.c.sha256 == sha, U.c.device_id == device_id)
                     .values(received=received, updated_at=time.time()))
        return ("partial", received)
    done = blobs.incoming(sha, "verify")
    os.replace(part, done)  # out of the partial's name: nobody appends to it any more
    conn.execute(U.delete().where(U.c.sha256 == sha, U.c.device_id == device_id))
    return ("done", (done, received))


def _keep(blobs: HQBlobs, sha: str, done: Path, size: int) -> dict[str, Any]:
    """Hash the whole upload (outside any lock); keep it under its name only if it matches."""
    h = hashlib.sha256()
    try:
        with open(done, "rb") as f:
            while chunk := f.read(1 << 20):
                h.update(chunk)
            if h.hexdigest() == sha:
                os.fsync(f.fileno())
        if h.hexdigest() != sha:
            raise HQError(422, "blob_hash_mismatch",
                          f"文件 {sha[:12]}… 的内容与其 SHA-256 不符（收到 {size} 字节），未保存", offset=0)
        dest = blobs.path(sha)
        dest.parent.mkdir(parents=True, exist_ok=True)
        os.replace(done, dest)  # atomic; a second upload of the same bytes replaces it with the same bytes
        fd = os.open(dest.parent, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)
    finally:
        done.unlink(missing_ok=True)
    return {"sha256": sha, "complete": True, "offset": size}


# -- clean-up ----------------------------------------------------------------------------------------
_last_gc = 0.0
_gc_lock = threading.Lock()


def maybe_gc(engine: Engine, blobs: HQBlobs, cfg: Any) -> None:
    """Clean up now and then while serving (at most every GC_EVERY seconds per process)."""
    global _last_gc
    now = time.time()
    with _gc_lock:
        if now - _last_gc < GC_EVERY:
            return
        _last_gc = now
    try:
        gc(engine, blobs, cfg)
    except Exception:  # a failed clean-up must not fail the upload that triggered it
        logger.exception("clean-up of abandoned uploads failed")


def gc(engine: Engine, blobs: HQBlobs, cfg: Any, *, now: float | None = None) -> dict[str, int]:
    """Remove uploads untouched for ``partial_hours`` (row and file), partial files no upload owns,
    and leftovers in ``incoming/`` older than an hour. Safe while other processes upload."""
    global _last_gc
    now = time.time() if now is None else now
    _last_gc = max(_last_gc, min(now, time.time()))
    cutoff = now - cfg.partial_hours * 3600
    U = D.uploads
    out = {"expired": 0, "orphans": 0, "incoming": 0, "bytes": 0}
    with engine.connect() as conn:
        stale = conn.execute(sa.select(U.c.sha256, U.c.device_id).where(U.c.updated_at < cutoff)).all()
    for s in stale:
        with D.write(engine) as conn:
            _lock_device(conn, s.device_id)
            row = _row(conn, s.sha256, s.device_id)
            if row is None or row.updated_at >= cutoff:
                continue
            p = blobs.partial(s.sha256, s.device_id)
            out["bytes"] += p.stat().st_size if p.exists() else 0
            _drop(conn, blobs, s.sha256, s.device_id)
            out["expired"] += 1
            logger.info("removed abandoned upload %s of device %s (%d of %d bytes)", s.sha256, s.device_id,
                        row.received, row.total)
    if blobs.partial_dir.exists():
        with engine.connect() as conn:
            owned = {blobs.partial(r.sha256, r.device_id).name for r in conn.execute(
                sa.select(U.c.sha256, U.c.device_id))}
        for p in blobs.partial_dir.iterdir():
            try:
                st = p.stat()
            except FileNotFoundError:
                continue
            if p.name not in owned and st.st_mtime < now - min(GRACE, cfg.partial_hours * 3600):
                out["bytes"] += st.st_size
                p.unlink(missing_ok=True)
                out["orphans"] += 1
    if blobs.incoming_dir.exists():
        for p in blobs.incoming_dir.iterdir():
            try:
                st = p.stat()
            except FileNotFoundError:
                continue
            if st.st_mtime < now - GRACE:
                out["bytes"] += st.st_size
                p.unlink(missing_ok=True)
                out["incoming"] += 1
    if any(out[k] for k in ("expired", "orphans", "incoming")):
        logger.info("blob clean-up: %s", out)
    return out
