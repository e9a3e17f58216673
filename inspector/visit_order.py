"""The order of a visit as the law has it (no Qt; the GUI, the CLI and the finish check use it):

    record (answers, findings) → preview of the 笔录 → the person in charge reads it page by page
    → signs, or refuses with reason and witness → the inspectors sign → finish.

The rule for changes (stated here, enforced by ``sign`` and reported by ``order_problems``):
every handwritten signature of the record is bound to the *content* it was given for — the
SHA-256 of everything the 笔录 shows except the signatures themselves, the document number, the
end time (stamped when the record is closed) and bookkeeping timestamps. If that content changes
after a signature (an answer, a finding, a photo, the person in charge's details…), every
signature given for the old content is invalid: the next preview withdraws it (``signature_voids``,
audited), a new preview must be read page by page again, and the party, then the inspectors, sign
again. Finishing is refused until that is done (``visit_state.visit_problems`` lists it).
"""
from __future__ import annotations

import io
import logging
from dataclasses import dataclass, field
from typing import Any

from inspector.errors import DocumentError
from inspector.util import canonical_json, new_id, now_iso, sha256_hex

logger = logging.getLogger(__name__)

PARTY = "person_in_charge"
INSPECTORS = ("inspector1", "inspector2")
_VOLATILE = ("status", "updated_at", "created_at", "ended_at")


# -- the content a signature is given for ---------------------------------------------------------
def record_content(store: Any, inspection_id: str) -> dict[str, Any]:
    """What the 笔录 shows, minus signatures, number, end time and bookkeeping timestamps."""
    from inspector.store import documents

    data = documents.gather(store, inspection_id, strict=False)  # the hash covers a degraded visit too
    data.pop("signatures", None)
    data["inspection"] = {k: v for k, v in data["inspection"].items() if k not in _VOLATILE}
    data["findings"] = [{k: v for k, v in f.items() if k not in ("created_at", "updated_at")}
                        for f in data["findings"]]
    return data


def content_sha(store: Any, inspection_id: str) -> str:
    return sha256_hex(canonical_json(record_content(store, inspection_id)))


# -- who signs, in what capacity -------------------------------------------------------------------
@dataclass(frozen=True)
class Signer:
    role: str
    title: str          # 被检查单位现场负责人 / 检查人员（一） / 见证人
    name: str | None
    capacity: str       # 校长 / 执法证号 410…
    label: str          # "被检查单位现场负责人 王某（校长）" — shown on the pad and bound to the signature


def signers(store: Any, inspection_id: str, witness_name: str | None = None) -> dict[str, Signer]:
    """The signature boxes of the record: who signs and in what capacity."""
    from inspector.store import visits

    insp = visits.get_inspection(store, inspection_id)
    pic = insp.person_in_charge or {}
    name = (pic.get("name") or "").strip() or None
    position = (pic.get("position") or "").strip()
    out = {PARTY: Signer(PARTY, "被检查单位现场负责人", name, position or "职务未记录",
                         f"被检查单位现场负责人 {name or '（未填写姓名）'}（{position or '职务未记录'}）")}
    for i, role in enumerate(INSPECTORS):
        iid = insp.inspector_ids[i] if i < len(insp.inspector_ids) else None
        r = store.one("SELECT name, badge_no FROM inspectors WHERE id = ?", (iid,)) if iid else None
        who = "检查人员（一）" if i == 0 else "检查人员（二）"
        if r:
            out[role] = Signer(role, who, r["name"], f"执法证号 {r['badge_no']}",
                               f"检查人员 {r['name']}（执法证号 {r['badge_no']}）")
        else:
            out[role] = Signer(role, who, None, "未选择", f"{who}（未选择检查人员）")
    w = (witness_name or "").strip() or None
    out["witness"] = Signer("witness", "见证人", w, "被检查单位负责人拒绝签名时在场见证",
                            f"见证人 {w or '（未填写姓名）'}（被检查单位负责人拒绝签名时在场见证）")
    return out


# -- readings ------------------------------------------------------------------------------------
@dataclass
class Reading:
    id: str
    content_sha256: str
    pages: int
    document_id: str | None
    medium: str
    shown: set[int] = field(default_factory=set)
    current: bool = False       # made for the record as it stands now

    @property
    def complete(self) -> bool:
        return self.current and self.pages > 0 and self.shown >= set(range(1, self.pages + 1))

    @property
    def text(self) -> str:
        return f"已阅 {len(self.shown & set(range(1, self.pages + 1)))}/{self.pages} 页"


def _page_count(pdf: bytes) -> int:
    from pyhanko.pdf_utils.reader import PdfFileReader

    r = PdfFileReader(io.BytesIO(pdf), strict=False)
    return int(r.root["/Pages"]["/Count"])


def reading(store: Any, inspection_id: str, sha: str | None = None) -> Reading | None:
    """The latest reading of the record (``current`` when made for its present content)."""
    r = store.one("SELECT * FROM record_readings WHERE inspection_id = ? ORDER BY created_at DESC, rowid DESC"
                  " LIMIT 1", (inspection_id,))
    if not r:
        return None
    shown = {int(x["page"]) for x in store.rows("SELECT page FROM record_page_views WHERE reading_id = ?",
                                                (r["id"],))}
    sha = sha or content_sha(store, inspection_id)
    return Reading(r["id"], r["content_sha256"], int(r["pages"]), r["document_id"], r["medium"], shown,
                   r["content_sha256"] == sha)


def _check_draft(store: Any, inspection_id: str) -> None:
    from inspector.store import visits

    if visits.get_inspection(store, inspection_id).locked:
        raise DocumentError("检查已完成并锁定，笔录不能再交阅或签名")


def make_preview(store: Any, inspection_id: str, *, medium: str = "screen", actor: str | None = None
                 ) -> tuple[dict[str, Any], Reading]:
    """Render the 笔录 as it stands (a numbered draft) for the person in charge to read.

    Signatures given for other content are withdrawn first (the rule above), so the preview never
    shows a signature that no longer holds. The same content keeps its reading (pages already
    shown stay shown); new content starts a new reading from page 1."""
    from inspector.store import documents

    _check_draft(store, inspection_id)
    sha = content_sha(store, inspection_id)
    void_stale(store, inspection_id, sha, actor=actor)
    doc = documents.make_document(store, inspection_id, "record", actor=actor)
    cur = reading(store, inspection_id, sha)
    pdf = documents.pdf_bytes(store, doc["id"])
    if cur is not None and cur.current:
        with store.tx() as db:
            db.execute("UPDATE record_readings SET document_id = ?, pdf_sha256 = ? WHERE id = ?",
                       (doc["id"], doc["sha256"], cur.id))
        return doc, cur
    rid = new_id()
    pages = _page_count(pdf)
    with store.tx() as db:
        db.table("record_readings").insert({"id": rid, "inspection_id": inspection_id, "document_id": doc["id"],
                                            "content_sha256": sha, "pdf_sha256": doc["sha256"], "pages": pages,
                                            "medium": medium, "created_at": now_iso()})
        store.log("inspection", inspection_id, "record_preview",
                  {"reading_id": rid, "document_id": doc["id"], "number": doc["number"], "pages": pages,
                   "content_sha256": sha, "medium": medium}, actor=actor)
    got = reading(store, inspection_id, sha)
    assert got is not None
    return doc, got


def page_shown(store: Any, reading_id: str, page: int, *, actor: str | None = None) -> None:
    """Page ``page`` (1-based) of a preview was on screen in front of the person in charge."""
    r = store.one("SELECT inspection_id, pages FROM record_readings WHERE id = ?", (reading_id,))
    if not r:
        raise DocumentError(f"没有笔录预览 {reading_id}")
    if not 1 <= int(page) <= int(r["pages"]):
        raise DocumentError(f"笔录预览只有 {r['pages']} 页，没有第 {page} 页")
    if store.scalar("SELECT 1 FROM record_page_views WHERE reading_id = ? AND page = ?", (reading_id, int(page))):
        return
    with store.tx() as db:
        db.execute("INSERT INTO record_page_views (reading_id, page, shown_at) VALUES (?, ?, ?)",
                   (reading_id, int(page), now_iso()))
        store.log("inspection", r["inspection_id"], "record_page_shown",
                  {"reading_id": reading_id, "page": int(page), "pages": int(r["pages"])}, actor=actor, push=False)


def handed_over(store: Any, inspection_id: str, *, actor: str | None = None) -> Reading:
    """A headless visit (``inspector visit run``): the printed draft was handed to the person in
    charge to read; every page is recorded as read on paper."""
    _doc, r = make_preview(store, inspection_id, medium="paper", actor=actor)
    for p in range(1, r.pages + 1):
        page_shown(store, r.id, p, actor=actor)
    got = reading(store, inspection_id)
    assert got is not None
    return got


# -- signing in order --------------------------------------------------------------------------
def _bindings(store: Any, inspection_id: str) -> dict[str, dict[str, Any]]:
    return {r["signature_id"]: r for r in store.rows("SELECT * FROM signature_bindings WHERE inspection_id = ?",
                                                     (inspection_id,))}


def _bound(store: Any, inspection_id: str, sha: str) -> dict[str, dict[str, Any]]:
    """role → the current signature row, only when it was given (in order) for content ``sha``."""
    from inspector.store import documents

    b = _bindings(store, inspection_id)
    out = {}
    for role, s in documents.signatures(store, inspection_id).items():
        bind = b.get(s["id"])
        if bind and bind["content_sha256"] == sha:
            out[role] = {**s, "binding": bind}
    return out


def void_stale(store: Any, inspection_id: str, sha: str | None = None, *, actor: str | None = None) -> list[str]:
    """Withdraw every current signature not given for the record's present content; the roles."""
    from inspector.store import documents

    sha = sha or content_sha(store, inspection_id)
    b = _bindings(store, inspection_id)
    stale = [(role, s) for role, s in documents.signatures(store, inspection_id).items()
             if role in (PARTY, "witness", *INSPECTORS)
             and (b.get(s["id"]) is None or b[s["id"]]["content_sha256"] != sha)]
    if not stale:
        return []
    with store.tx() as db:
        for role, s in stale:
            why = "笔录在签名后已修改" if s["id"] in b else "签名早于笔录预览和阅读"
            db.execute("INSERT OR IGNORE INTO signature_voids (signature_id, inspection_id, reason, created_at)"
                       " VALUES (?, ?, ?, ?)", (s["id"], inspection_id, why, now_iso()))
            store.log("inspection", inspection_id, "signature_void",
                      {"signature_id": s["id"], "role": role, "reason": why}, actor=actor)
    return [r for r, _s in stale]


def sign(store: Any, inspection_id: str, role: str, *, png: bytes | None = None, strokes: list | None = None,
         refused: bool = False, reason: str | None = None, witness_name: str | None = None,
         actor: str | None = None) -> str:
    """Collect one handwritten signature in the order of the visit; refused (DocumentError, in
    Chinese, naming what must come first) when out of order. Returns the signature id."""
    from inspector.store import documents

    _check_draft(store, inspection_id)
    sha = content_sha(store, inspection_id)
    who = signers(store, inspection_id, witness_name)
    cur = reading(store, inspection_id, sha)
    bound = _bound(store, inspection_id, sha)
    if role == PARTY:
        if cur is None or not cur.current:
            raise DocumentError("须先生成笔录预览，交被检查单位现场负责人逐页阅读后，才能签名或拒签"
                                + ("（笔录在上次预览后已修改）" if cur is not None else ""))
        if not cur.complete:
            raise DocumentError(f"被检查单位现场负责人尚未逐页阅读笔录（{cur.text}），不能签名或拒签")
        if refused and not (reason or "").strip():
            raise DocumentError("拒绝签名须写明原因")
    elif role == "witness":
        p = bound.get(PARTY)
        if not p or not p["refused"]:
            raise DocumentError("见证人仅在被检查单位现场负责人拒绝签名（已记录原因）后签名")
        if not (witness_name or "").strip():
            raise DocumentError("见证人须写明姓名")
    elif role in INSPECTORS:
        p = bound.get(PARTY)
        if not p:
            raise DocumentError(f"{who[role].title}须在被检查单位现场负责人签名（或拒签并由见证人签名）之后签名")
        if p["refused"] and "witness" not in bound:
            raise DocumentError("被检查单位现场负责人拒绝签名：须先由见证人签名，检查人员再签名")
        if who[role].name is None:
            raise DocumentError(f"{who[role].title}：未选择检查人员")
    else:
        raise DocumentError(f"签名角色无效：{role}")
    name = who[role].name if role != "witness" else (witness_name or "").strip()
    sid = documents.add_signature(store, inspection_id, role, name=name, png=png, strokes=strokes, refused=refused,
                                  reason=(reason or "").strip() or None, actor=actor)
    with store.tx() as db:
        db.table("signature_bindings").insert({"signature_id": sid, "inspection_id": inspection_id, "role": role,
                                               "reading_id": cur.id if cur else None, "content_sha256": sha,
                                               "capacity": who[role].label, "created_at": now_iso()})
        store.log("inspection", inspection_id, "signature_bound",
                  {"signature_id": sid, "role": role, "content_sha256": sha, "capacity": who[role].label,
                   "reading_id": cur.id if cur else None}, actor=actor, push=False)
    return sid


# -- what the finish check says about the order ----------------------------------------------------
def order_problems(store: Any, inspection_id: str) -> list[Any]:
    """visit_state.Problem lines when the order was not followed (empty when it was)."""
    from inspector.store import documents
    from inspector.visit_state import Problem

    sha = content_sha(store, inspection_id)
    cur = reading(store, inspection_id, sha)
    sigs = documents.signatures(store, inspection_id)
    b = _bindings(store, inspection_id)
    out: list[Any] = []

    def ok(role: str) -> bool:
        s = sigs.get(role)
        return bool(s and s["id"] in b and b[s["id"]]["content_sha256"] == sha)

    if not ok(PARTY):
        if cur is None or not cur.current:
            out.append(Problem("order", "order:preview",
                               "笔录未经被检查单位现场负责人阅读/签名：尚未生成当前笔录的预览"
                               + ("（笔录在上次预览后已修改）" if cur is not None else ""), "sign"))
        elif not cur.complete:
            out.append(Problem("order", "order:read",
                               f"笔录未经被检查单位现场负责人逐页阅读（{cur.text}）", "sign"))
        if PARTY in sigs:
            why = "笔录在其签名后已修改" if sigs[PARTY]["id"] in b else "签名早于笔录预览和阅读"
            out.append(Problem("order", "order:person_in_charge",
                               f"被检查单位现场负责人的签名无效（{why}），须阅读当前笔录后重新签名", "sign"))
    if PARTY in sigs and sigs[PARTY].get("refused") and "witness" in sigs and not ok("witness"):
        out.append(Problem("order", "order:witness", "见证人签名无效（笔录已修改或未按顺序签名），须重新签名", "sign"))
    for role, who in (("inspector1", "检查人员（一）"), ("inspector2", "检查人员（二）")):
        if role in sigs and not ok(role):
            out.append(Problem("order", f"order:{role}",
                               f"{who}的签名无效（早于被检查单位现场负责人签名，或笔录在签名后已修改），须重新签名",
                               "sign"))
    return out
