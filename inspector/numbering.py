"""Document numbers (文号): agency prefix + 〔year〕 + sequence, e.g. 新人社监〔2026〕0001号.

Numbers never repeat and never leave a hole within a series: HQ hands each laptop
its own blocks (``install_block``), and a number is taken inside the same
transaction that records the document, so a failed document gives its number
back. Before enrolment the laptop numbers from a local block; such numbers carry
an ``L`` marker (新人社监〔2026〕L-0001号) and form their own series.
"""
from __future__ import annotations

import datetime as _dt
from dataclasses import dataclass

from inspector.errors import DocumentError
from inspector.store import Store
from inspector.util import new_id, now_iso

DEFAULT_PREFIXES = {"notice": "新人社监", "record": "新人社监录", "receipt": "新人社监送"}
LOCAL_BLOCK_SIZE = 9999


@dataclass(frozen=True)
class Number:
    text: str
    agency: str
    year: int
    seq: int
    source: str

    @property
    def local(self) -> bool:
        return self.source == "local"


def agency_prefix(store: Store, kind: str) -> str:
    """The configured prefix for a document kind (meta ``doc_prefix.<kind>``)."""
    if kind not in DEFAULT_PREFIXES:
        raise DocumentError(f"文书类型 {kind!r} 没有文号")
    return store.get_meta(f"doc_prefix.{kind}", DEFAULT_PREFIXES[kind]) or DEFAULT_PREFIXES[kind]


def format_number(agency: str, year: int, seq: int, source: str) -> str:
    mark = "L-" if source == "local" else ""
    return f"{agency}〔{year}〕{mark}{seq:04d}号"


def install_block(store: Store, agency: str, year: int, first: int, last: int, source: str = "hq") -> str:
    """Record a block of numbers (from HQ at sync); refuses one overlapping an existing block."""
    if source not in ("hq", "local"):
        raise DocumentError(f"号段来源无效：{source}")
    if not (1 <= first <= last):
        raise DocumentError(f"号段 {agency}〔{year}〕{first}–{last} 无效")
    with store.tx() as db:
        clash = store.one(
            "SELECT first, last FROM doc_number_blocks WHERE agency = ? AND year = ? AND source = ?"
            " AND NOT (last < ? OR first > ?)", (agency, year, source, first, last))
        if clash:
            raise DocumentError(f"号段 {agency}〔{year}〕{first}–{last} 与已有号段 {clash['first']}–{clash['last']} 重叠")
        bid = new_id()
        db.table("doc_number_blocks").insert({"id": bid, "agency": agency, "year": year, "first": first, "last": last,
                                        "next": first, "source": source, "created_at": now_iso()})
        store.log("number_block", bid, "install", {"agency": agency, "year": year, "first": first, "last": last,
                                                   "source": source}, push=False)
    return bid


def _enrolled(store: Store) -> bool:
    return store.get_meta("enrolled") in ("1", "true", "yes") or bool(
        store.scalar("SELECT 1 FROM doc_number_blocks WHERE source = 'hq' LIMIT 1"))


def allocate(store: Store, kind: str, *, year: int | None = None, document_id: str | None = None) -> Number:
    """Take the next number for ``kind``; call inside the transaction that records the document.

    HQ blocks are used first; a laptop without any HQ block (not enrolled) uses its
    local block. An enrolled laptop whose HQ blocks are used up gets an error rather
    than silently switching to local numbers.
    """
    agency = agency_prefix(store, kind)
    year = year or _dt.date.today().year
    with store.tx() as db:
        blk = store.one("SELECT * FROM doc_number_blocks WHERE agency = ? AND year = ? AND source = 'hq'"
                        " AND next <= last ORDER BY first LIMIT 1", (agency, year))
        if blk is None:
            if _enrolled(store):
                raise DocumentError(f"{agency}〔{year}〕的总部号段已用完，请联网同步领取新号段")
            blk = store.one("SELECT * FROM doc_number_blocks WHERE agency = ? AND year = ? AND source = 'local'"
                            " AND next <= last ORDER BY first LIMIT 1", (agency, year))
            if blk is None:
                top = store.scalar("SELECT MAX(last) FROM doc_number_blocks WHERE agency = ? AND year = ?"
                                   " AND source = 'local'", (agency, year)) or 0
                bid = install_block(store, agency, year, top + 1, top + LOCAL_BLOCK_SIZE, source="local")
                blk = store.one("SELECT * FROM doc_number_blocks WHERE id = ?", (bid,))
                assert blk
        seq = int(blk["next"])
        text = format_number(agency, year, seq, blk["source"])
        db.execute("UPDATE doc_number_blocks SET next = next + 1 WHERE id = ?", (blk["id"],))
        db.table("doc_numbers").insert({"agency": agency, "year": year, "source": blk["source"], "seq": seq,
                                  "number": text, "block_id": blk["id"], "document_id": document_id,
                                  "issued_at": now_iso()})
    return Number(text, agency, year, seq, blk["source"])


def issued(store: Store, agency: str, year: int, source: str = "hq") -> list[int]:
    return [r["seq"] for r in store.rows("SELECT seq FROM doc_numbers WHERE agency = ? AND year = ? AND source = ?"
                                         " ORDER BY seq", (agency, year, source))]


def low_mark(block_size: int) -> int:
    """Numbers of a series run low below this many unused: 10 % of a block, at least 20, at most a
    block. HQ applies the same rule, so asking for a block early gets nothing."""
    return min(block_size, max(20, block_size // 10))


def hq_usage(store: Store) -> list[dict[str, object]]:
    """How far each HQ block is used (``next``), for HQ: ``[{agency, year, first, last, next}]``."""
    return [dict(r) for r in store.rows("SELECT agency, year, first, last, next FROM doc_number_blocks"
                                        " WHERE source = 'hq' ORDER BY agency, year, first")]


def low_series(store: Store, year: int) -> list[str]:
    """Agencies (HQ prefixes this laptop numbers with) whose HQ numbers for ``year`` run low, or
    that have none for ``year`` yet (a new year)."""
    out = []
    for a in [r["agency"] for r in store.rows("SELECT DISTINCT agency FROM doc_number_blocks WHERE source = 'hq'"
                                              " ORDER BY agency")]:
        size = store.scalar("SELECT last - first + 1 FROM doc_number_blocks WHERE source = 'hq' AND agency = ?"
                            " ORDER BY year DESC, first DESC LIMIT 1", (a,))
        left = store.scalar("SELECT COALESCE(SUM(last - next + 1), 0) FROM doc_number_blocks"
                            " WHERE source = 'hq' AND agency = ? AND year = ?", (a, year))
        if int(left or 0) < low_mark(int(size or 1)):
            out.append(a)
    return out


def install_missing(store: Store, blocks: list[dict[str, object]]) -> int:
    """Install HQ blocks this laptop lacks (a reply lost earlier is recovered); returns how many."""
    n = 0
    for b in blocks:
        agency, year, first, last = str(b["agency"]), int(str(b["year"])), int(str(b["first"])), int(str(b["last"]))
        if store.scalar("SELECT 1 FROM doc_number_blocks WHERE source = 'hq' AND agency = ? AND year = ?"
                        " AND first = ?", (agency, year, first)):
            continue
        install_block(store, agency, year, first, last, "hq")
        n += 1
    return n
