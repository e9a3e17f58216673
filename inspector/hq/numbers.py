"""The bureau's document-number series (文号) as HQ sees them: blocks handed to devices, how far
each device has used its blocks, numbers returned by retired devices and numbers voided.

- ``request_blocks``: a device asks for numbers; it gets a new block for (prefix, year) only
  when what it still holds runs low (``low_mark``), and at most ``doc_blocks_per_year`` blocks
  per prefix and year. How far a block is used is the larger of what the device reports and the
  highest number of a document HQ holds from that block; so asking again and again gets nothing.
- ``return_unused``: when a device is retired or revoked, the unused tail of each of its blocks
  is recorded as returned.
- ``series``: every number of (prefix, year) from 1 to the last one handed out, with its status:
  ``used`` (HQ holds the document), ``issued`` (the device reports it used; the document has not
  reached HQ), ``voided``, ``returned``, ``held`` (still with a device, unused) or ``gap``
  (never handed out: should not happen).
"""
from __future__ import annotations

import datetime as dt
import logging
import re
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from inspector.hq import db as D
from inspector.hq.errors import HQError
from inspector.util import now_iso

logger = logging.getLogger(__name__)

STATUS_ZH = {"used": "已使用（总部有文书）", "issued": "设备已使用（文书尚未同步到总部）", "voided": "已作废",
             "returned": "已退回", "held": "设备持有（未使用）", "gap": "空号（未发放）"}


def low_mark(block_size: int) -> int:
    """A device's numbers for a series run low below this many unused (10 % of a block, at least
    20, never more than a block)."""
    from inspector.numbering import low_mark as laptop_low_mark  # one rule for laptop and HQ

    return laptop_low_mark(block_size)


def _year(value: Any) -> int:
    this = dt.date.today().year
    if value is None or value == "":
        return this
    if isinstance(value, bool) or not isinstance(value, int) or not 2000 <= value <= this + 1:
        raise HQError(422, "bad_year", f"年份 {value!r} 无效（应为 2000 至 {this + 1} 之间的整数）")
    return value


def _prefixes(cfg: Any, body: dict[str, Any]) -> list[str]:
    known = list(dict.fromkeys(cfg.doc_prefixes.values()))
    asked = body.get("agencies")
    if asked is None and body.get("agency"):
        asked = [body["agency"]]
    if asked is None:
        return known
    if not isinstance(asked, list) or not all(isinstance(a, str) for a in asked) or len(asked) > len(known):
        raise HQError(422, "bad_request", "agencies 应为文号前缀的列表")
    bad = [a for a in asked if a not in known]
    if bad:
        raise HQError(422, "bad_prefix", f"总部没有文号前缀 {'、'.join(bad)}")
    return list(dict.fromkeys(asked))


def _document_seqs(conn: Connection, prefix: str, year: int) -> dict[int, dict[str, Any]]:
    """Numbers of (prefix, year) on documents HQ holds: seq -> the document."""
    Dc = D.documents
    out: dict[int, dict[str, Any]] = {}
    head = f"{prefix}〔{year}〕"
    for r in conn.execute(sa.select(Dc.c.id, Dc.c.number, Dc.c.kind, Dc.c.inspection_id, Dc.c.device_id)
                          .where(Dc.c.number.like(f"{head}%"))):
        rest = r.number[len(head):] if r.number.startswith(head) else ""
        m = re.fullmatch(r"(\d+)号", rest)  # 'L-…' numbers of an unenrolled laptop are another series
        if m:
            out[int(m.group(1))] = {"document_id": r.id, "kind": r.kind, "inspection_id": r.inspection_id,
                                    "device_id": r.device_id}
    return out


def _blocks(conn: Connection, prefix: str, year: int, device_id: str | None = None) -> list[Any]:
    B = D.doc_blocks
    q = sa.select(B).where(B.c.agency == prefix, B.c.year == year)
    if device_id is not None:
        q = q.where(B.c.device_id == device_id)
    return list(conn.execute(q.order_by(B.c.first)).all())


def _reported(conn: Connection, block_ids: list[int]) -> dict[int, int]:
    if not block_ids:
        return {}
    U = D.doc_block_usage
    return {r.block_id: r.used_through for r in conn.execute(sa.select(U).where(U.c.block_id.in_(block_ids)))}


def used_through(block: Any, reported: dict[int, int], docs: dict[int, Any]) -> int:
    """The last number of ``block`` known to be used (``first - 1``: none)."""
    hi = max(block.first - 1, min(block.last, reported.get(block.id, block.first - 1)))
    in_block = [s for s in docs if block.first <= s <= block.last]
    return max([hi, *in_block])


def _record_usage(conn: Connection, device_id: str, used: Any) -> None:
    """The device's report ``[{agency, year, first, next}]``: record how far each of its blocks is
    used (never backwards; entries that are not its blocks are ignored)."""
    if used is None:
        return
    if not isinstance(used, list) or len(used) > 1000:
        raise HQError(422, "bad_request", "used 应为不超过 1000 项的列表")
    B, U = D.doc_blocks, D.doc_block_usage
    for u in used:
        if not isinstance(u, dict):
            raise HQError(422, "bad_request", "used 的每一项应为 {agency, year, first, next}")
        agency, year, first, nxt = u.get("agency"), u.get("year"), u.get("first"), u.get("next")
        if not (isinstance(agency, str) and all(isinstance(x, int) and not isinstance(x, bool) and 0 <= x < 2 ** 31
                                                for x in (year, first, nxt))):
            raise HQError(422, "bad_request", f"used 项 {u!r} 无效：需要 agency（文字）与 year、first、next（整数）")
        blk = conn.execute(sa.select(B).where(B.c.agency == agency, B.c.year == year, B.c.first == first,
                                              B.c.device_id == device_id)).first()
        if blk is None:
            continue
        through = min(blk.last, int(nxt or 0) - 1)
        cur = conn.execute(sa.select(U.c.used_through).where(U.c.block_id == blk.id)).scalar()
        if cur is None:
            conn.execute(U.insert().values(block_id=blk.id, used_through=through, updated_at=now_iso()))
        elif through > cur:
            conn.execute(U.update().where(U.c.block_id == blk.id).values(used_through=through, updated_at=now_iso()))


def _held(conn: Connection, device_id: str, prefix: str, year: int) -> tuple[list[dict[str, Any]], int]:
    """The device's blocks of (prefix, year) with how far each is used, and the unused numbers in all."""
    blocks = _blocks(conn, prefix, year, device_id)
    rep = _reported(conn, [b.id for b in blocks])
    docs = _document_seqs(conn, prefix, year) if blocks else {}
    out, left = [], 0
    for b in blocks:
        u = used_through(b, rep, docs)
        left += b.last - u
        out.append({"agency": prefix, "year": year, "first": b.first, "last": b.last, "used_through": u})
    return out, left


def request_blocks(engine: Engine, cfg: Any, device_id: str, body: dict[str, Any]) -> dict[str, Any]:
    """A device asks for document numbers (``{"year", "agencies" | "agency", "used": [...]}``, all
    optional). Returns ``blocks`` (granted now), ``held`` (all its blocks of that year, so a lost
    reply is recovered by asking again) and per prefix what HQ decided and why."""
    from inspector.hq import service

    year = _year(body.get("year"))
    prefixes = _prefixes(cfg, body)
    mark = low_mark(cfg.doc_block_size)
    granted: list[dict[str, Any]] = []
    decisions: list[dict[str, Any]] = []
    refused: list[str] = []
    with D.write(engine) as conn:
        D.lock_changes(conn)  # one allocator at a time (PostgreSQL; SQLite writers are serial)
        _record_usage(conn, device_id, body.get("used"))
        for p in prefixes:
            held, left = _held(conn, device_id, p, year)
            d: dict[str, Any] = {"agency": p, "year": year, "unused": left, "blocks": len(held),
                                 "cap": cfg.doc_blocks_per_year, "granted": False}
            if left >= mark:
                d["reason"] = f"{p}〔{year}〕尚有 {left} 个未用号码，不少于 {mark} 个时不发新号段"
            elif len(held) >= cfg.doc_blocks_per_year:
                d["reason"] = (f"{p}〔{year}〕本设备已领取 {len(held)} 个号段，达到每年上限 "
                               f"{cfg.doc_blocks_per_year} 个；请联系总部管理员")
                refused.append(d["reason"])
                logger.warning("device %s: number block for %s/%d refused (cap %d)", device_id, p, year,
                               cfg.doc_blocks_per_year)
            else:
                blk = service.allocate_block(conn, cfg, device_id, year, p)
                granted.append(blk)
                d["granted"] = True
            decisions.append(d)
        held_all = [b for p in prefixes for b in _held(conn, device_id, p, year)[0]]
    if refused and not granted and all(not d["granted"] and d["unused"] < mark for d in decisions):
        raise HQError(429, "doc_block_cap", "；".join(refused), decisions=decisions)
    return {"blocks": granted, "held": held_all, "series": decisions}


def return_unused(engine: Engine, device_id: str, reason: str = "设备停用") -> list[dict[str, Any]]:
    """Record the unused tail of each of the device's blocks as returned (once per block)."""
    B, M = D.doc_blocks, D.doc_number_marks
    out: list[dict[str, Any]] = []
    with D.write(engine) as conn:
        D.lock_changes(conn)
        blocks = conn.execute(sa.select(B).where(B.c.device_id == device_id).order_by(B.c.agency, B.c.year,
                                                                                      B.c.first)).all()
        rep = _reported(conn, [b.id for b in blocks])
        docs_cache: dict[tuple[str, int], dict[int, Any]] = {}
        for b in blocks:
            docs = docs_cache.setdefault((b.agency, b.year), _document_seqs(conn, b.agency, b.year))
            first = used_through(b, rep, docs) + 1
            if first > b.last:
                continue
            done = conn.execute(sa.select(M.c.id).where(M.c.agency == b.agency, M.c.year == b.year,
                                                        M.c.status == "returned", M.c.device_id == device_id,
                                                        M.c.first <= b.last, M.c.last >= b.first)).first()
            if done is not None:
                continue
            conn.execute(M.insert().values(agency=b.agency, year=b.year, first=first, last=b.last, status="returned",
                                           device_id=device_id, reason=reason, at=now_iso()))
            out.append({"agency": b.agency, "year": b.year, "first": first, "last": b.last})
    if out:
        logger.info("device %s: returned unused numbers %s", device_id, out)
    return out


def void_numbers(engine: Engine, prefix: str, year: int, first: int, last: int, reason: str,
                 device_id: str | None = None) -> dict[str, Any]:
    """Record numbers first..last of (prefix, year) as voided (a cancelled document, a misprint)."""
    if not reason or not reason.strip():
        raise HQError(422, "bad_request", "作废号码需要说明原因")
    if not 1 <= first <= last:
        raise HQError(422, "bad_request", f"号码范围 {first}–{last} 无效")
    with D.write(engine) as conn:
        top = conn.execute(sa.select(sa.func.max(D.doc_blocks.c.last)).where(
            D.doc_blocks.c.agency == prefix, D.doc_blocks.c.year == year)).scalar() or 0
        if last > top:
            raise HQError(422, "bad_request", f"{prefix}〔{year}〕只发放到第 {top} 号，不能作废第 {last} 号")
        conn.execute(D.doc_number_marks.insert().values(agency=prefix, year=year, first=first, last=last,
                                                        status="voided", device_id=device_id,
                                                        reason=reason.strip(), at=now_iso()))
    return {"agency": prefix, "year": year, "first": first, "last": last, "status": "voided"}


def series(engine: Engine, prefix: str, year: int) -> list[dict[str, Any]]:
    """Every number of (prefix, year) from 1 to the last handed out: ``{seq, number, status,
    device_id, document_id?, reason?}`` (for the CLI and, later, the console)."""
    from inspector.numbering import format_number

    M, Dv = D.doc_number_marks, D.devices
    with engine.connect() as conn:
        blocks = _blocks(conn, prefix, year)
        rep = _reported(conn, [b.id for b in blocks])
        docs = _document_seqs(conn, prefix, year)
        marks = conn.execute(sa.select(M).where(M.c.agency == prefix, M.c.year == year).order_by(M.c.id)).all()
        revoked = {r.id: r.revoked_at for r in conn.execute(sa.select(Dv.c.id, Dv.c.revoked_at)
                                                            .where(Dv.c.revoked_at.is_not(None)))}
    top = max([b.last for b in blocks] + [0])
    out: list[dict[str, Any]] = []
    owner: dict[int, Any] = {}
    for b in blocks:
        u = used_through(b, rep, docs)
        for s in range(b.first, b.last + 1):
            owner[s] = (b, u)
    for s in range(1, top + 1):
        e: dict[str, Any] = {"seq": s, "number": format_number(prefix, year, s, "hq")}
        ob = owner.get(s)
        if ob is not None:
            e["device_id"] = ob[0].device_id
        if s in docs:
            e.update(status="used", **{k: v for k, v in docs[s].items() if k != "device_id"})
        else:
            mk = next((m for m in reversed(marks) if m.first <= s <= m.last), None)
            if mk is not None:
                e.update(status=mk.status, reason=mk.reason, at=mk.at)
            elif ob is None:
                e["status"] = "gap"
            elif s <= ob[1]:
                e["status"] = "issued"
            elif ob[0].device_id in revoked:  # revoked without the tail being recorded: nobody can use it
                e.update(status="returned", reason="设备已吊销", at=revoked[ob[0].device_id])
            else:
                e["status"] = "held"
        out.append(e)
    return out


def ranges(entries: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Consecutive numbers with the same status and device, as ranges (for printing)."""
    out: list[dict[str, Any]] = []
    for e in entries:
        last = out[-1] if out else None
        if (last and last["status"] == e["status"] and last.get("device_id") == e.get("device_id")
                and e["status"] != "used" and last["last"] == e["seq"] - 1):
            last["last"] = e["seq"]
            continue
        out.append({"first": e["seq"], "last": e["seq"], "status": e["status"], "device_id": e.get("device_id"),
                    **{k: e[k] for k in ("document_id", "kind", "reason") if e.get(k)}})
    return out
