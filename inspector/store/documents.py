"""Documents of a visit in the local store: gather what a document shows, number it,
render it, keep the PDF as a blob, sign it, record printing and service (送达).

Flow: handwritten signatures are captured first (``add_signature``), then
``make_document`` numbers and renders the draft with empty signature fields, then
each inspector signs with their own passphrase (``sign_document``; the first
certifies). A draft with no digital signature yet may be re-made (same id and
number) when a handwritten signature arrives late.

The canonical record (the JSON the document was rendered from) is kept as a blob;
its sha256 is ``record_sha256`` and is what the QR's device signature covers.
"""
from __future__ import annotations

import json
import re
from typing import Any, Callable

from inspector import blobs, idnumbers, keys, numbering, qr, signing
from inspector.errors import DocumentError, FormError, NotFound
from inspector.store import Store
from inspector.util import canonical_json, new_id, now_iso, sha256_hex

KIND_TITLES = {"record": "现场检查笔录", "notice": "责令限期整改通知书", "receipt": "送达回证"}
ROLES = ("inspector1", "inspector2", "person_in_charge", "witness", "recipient")
SERVICE_METHODS = ("直接送达", "留置送达", "邮寄送达", "电子送达")

# what is not the jurisdiction profile's (inspector.profiles): where the QR points
DEFAULT_SETTINGS = {"verify_base_url": qr.DEFAULT_BASE}


def settings(store: Store) -> dict[str, str]:
    """The document texts of the laptop's jurisdiction profile, plus the QR base URL (meta
    ``doc.verify_base_url``). Agency, citations and remedy bodies come only from the profile, so a
    document never mixes two jurisdictions."""
    from inspector import profiles

    out = profiles.active(store).settings()
    for k, v in DEFAULT_SETTINGS.items():
        out[k] = store.get_meta(f"doc.{k}", v) or v
    return out


def _blobs(store: Store) -> blobs.BlobStore:
    return blobs.store(store.home)


# -- handwritten signatures ------------------------------------------------------
def add_signature(store: Store, inspection_id: str, role: str, *, name: str | None = None,
                  png: bytes | None = None, strokes: list | None = None, refused: bool = False,
                  reason: str | None = None, actor: str | None = None) -> str:
    """Record a handwritten signature (PNG or strokes) or a refusal to sign (with reason)."""
    if role not in ROLES:
        raise DocumentError(f"签名角色无效：{role}（应为 {' / '.join(ROLES)}）")
    if refused and not reason:
        raise DocumentError(f"{role}：拒绝签名时须写明原因")
    if not refused and png is None and not strokes:
        raise DocumentError(f"{role}：没有签名笔迹")
    if not store.scalar("SELECT 1 FROM inspections WHERE id = ?", (inspection_id,)):
        raise NotFound(f"检查 {inspection_id} 不存在")
    sid = new_id()
    png_sha = _blobs(store).put_bytes(png) if png is not None else None
    with store.tx() as db:
        db.table("signatures").insert({
            "id": sid, "inspection_id": inspection_id, "role": role, "signer_name": name, "png_sha256": png_sha,
            "strokes": json.dumps(strokes) if strokes else None, "refused": int(refused),
            "refusal_reason": reason, "created_at": now_iso()})
        # logged on the inspection: sync sends signatures as a child table of the inspection
        store.log("inspection", inspection_id, "signature", {"signature_id": sid, "role": role, "name": name,
                                                             "png_sha256": png_sha, "refused": refused,
                                                             "reason": reason}, actor=actor)
    return sid


def signatures(store: Store, inspection_id: str) -> dict[str, dict[str, Any]]:
    """The latest handwritten signature per role (withdrawn ones left out: inspector.visit_order
    voids a signature when the record changed after it was given)."""
    out: dict[str, dict[str, Any]] = {}
    for r in store.rows("SELECT * FROM signatures WHERE inspection_id = ? AND id NOT IN"
                        " (SELECT signature_id FROM signature_voids WHERE inspection_id = ?) ORDER BY created_at, id",
                        (inspection_id, inspection_id)):
        r["strokes"] = json.loads(r["strokes"]) if r["strokes"] else None
        r["refused"] = bool(r["refused"])
        out[r["role"]] = r
    return out


def signature_png(store: Store, sig: dict[str, Any] | None) -> bytes | None:
    if not sig or sig.get("refused"):
        return None
    if sig.get("png_sha256"):
        return _blobs(store).read(sig["png_sha256"])
    if sig.get("strokes"):
        from inspector.render.common import strokes_to_png

        return strokes_to_png(sig["strokes"])
    return None


# -- gather ---------------------------------------------------------------------
def _inspector(store: Store, iid: str | None, strict: bool = True) -> dict[str, Any] | None:
    if not iid:
        return None
    r = store.one("SELECT id, badge_no, name, unit FROM inspectors WHERE id = ?", (iid,))
    if r is None and strict:  # never print an id where a document names an inspector
        raise DocumentError(f"检查人员 {iid} 不在本机名录库中，无法制作文书")
    return r or {"id": iid, "badge_no": "", "name": iid, "unit": None}  # the content hash (gather strict=False)


def answer_text(it: Any, value: Any) -> str:
    """An answer as the record prints it: text verbatim, numbers with their unit, choices by name."""
    if value is None:
        return ""
    if value == "na":
        return "不适用"
    t = getattr(it, "type", "")
    if t == "check":
        return {"pass": "符合", "fail": "不符合"}.get(str(value), str(value))
    if t in ("number", "count") and isinstance(value, (int, float)) and not isinstance(value, bool):
        v = int(value) if float(value).is_integer() else value
        return f"{v} {it.unit}".strip() if getattr(it, "unit", None) else str(v)
    if isinstance(value, list) and t == "choice":
        return "、".join(str(x) for x in value)
    if t == "date" and isinstance(value, str) and re.fullmatch(r"\d{4}-\d{2}-\d{2}", value):
        y, mo, d = value.split("-")  # as the documents print dates (GB/T 9704: 月、日不编虚位)
        return f"{y}年{int(mo)}月{int(d)}日"
    if t == "table" and isinstance(value, list):
        cols = {c.id: c.label for c in (getattr(it, "columns", None) or ())}
        rows = []
        for r in value:
            if isinstance(r, dict):
                rows.append("，".join(f"{cols.get(k, k)}：{answer_text(None, v)}" for k, v in r.items()
                                     if v not in (None, "")))
        return "；".join(f"{n}. {r}" for n, r in enumerate(rows, 1)) or "（空表）"
    if isinstance(value, bool):
        return "是" if value else "否"
    if isinstance(value, (dict, list)):
        return json.dumps(value, ensure_ascii=False)
    return idnumbers.mask_in_text(str(value))  # an ID or mobile number typed as text prints masked


def _checklists(store: Store, inspection: Any, answers: dict[str, dict[str, Any]],
                notes: dict[tuple[str, str], str], photo_counts: dict[str, int], kind: str,
                prof: Any, strict: bool = True) -> list[dict[str, Any]]:
    """Every item of every checklist of the visit, in checklist order: unanswered items are kept
    (未答, with the reason), skipped ones are 不适用 with the rule; the basis is the profile's. A checklist
    version that is missing or does not parse raises DocumentError: a document is never made from raw
    answers. Only ``strict=False`` (the visit's content hash, which must cover every answer whatever the
    state of its checklist; the finish check reports the unreadable checklist itself) lists them raw."""
    from inspector import forms, rules, visit_state

    out = []
    cv_ids = list(dict.fromkeys(list(inspection.checklist_version_ids) + list(answers)))
    for cv in cv_ids:
        row = store.one("SELECT id, title, source FROM checklist_versions WHERE id = ?", (cv,))
        try:
            if row is None:
                raise DocumentError(f"检查表版本 {cv} 不在本机数据库中")
            # as inspected under the profile: items it has no provision for are 不适用 by its rule
            cl = visit_state.for_profile(forms.parse_checklist(row["source"], f"checklist_versions:{cv}"), prof)
        except (DocumentError, FormError) as e:
            if strict:
                raise DocumentError(f"{e}，无法制作文书") from e
            out.append({"id": cv, "title": prof.clean(row["title"] if row else cv), "basis": "",
                        "items": [{"no": n, "item_id": item_id, "section": "", "text": "（检查表版本无法读取，原样记录答复）",
                                   "type": "", "status": "answered", "reason": "", "answer": answer_text(None, value),
                                   "codes": [], "provision": "", "note": notes.get((cv, item_id))}
                                  for n, (item_id, value) in enumerate(sorted(answers.get(cv, {}).items()), 1)]})
            continue
        items: list[dict[str, Any]] = []
        title = row["title"]
        basis = prof.own_basis(cl.basis) or prof.law["policy_basis"]
        given = answers.get(cv, {})
        ev = rules.evaluate(cl, given, photo_counts, institution_kind=kind)
        sections = {s.id: s.title for s in cl.sections}
        for n, (it, res) in enumerate(zip(cl.items, ev.results), 1):
            value = given.get(it.id)
            status, reason = res.status, res.reason
            if status == "unanswered":
                reason = ("答复无法采信（格式不符），视为未答" if value is not None
                          else "检查人员未记录答复")
            elif status == "na":  # the profile's reason names other jurisdictions' notices on screen only
                reason = prof.clean(reason)
            cite = prof.cite(it.id, it.basis, list(getattr(it, "codes", ()) or ()))
            items.append({"no": n, "item_id": it.id, "section": prof.clean(sections.get(it.section_id, "")),
                          "text": it.text, "type": it.type, "status": status, "reason": reason,
                          "answer": answer_text(it, value) if status != "unanswered" else "",
                          "codes": prof.codes_for(list(res.codes)), "provision": cite["provision"],
                          "note": notes.get((cv, it.id))})
        out.append({"id": cv, "title": prof.clean(title), "basis": basis, "items": items})
    return out


def _finding_context(findings: list[dict[str, Any]], checklists: list[dict[str, Any]], prof: Any) -> None:
    """Per finding: the profile's citation and the item as recorded (answer, note, its number in
    the record), so the documents state facts from the record, not the requirement negated."""
    where = {}
    for ci, cl in enumerate(checklists, 1):
        for it in cl["items"]:
            where[(cl["id"], it["item_id"])] = (ci, cl["title"], it)
    for f in findings:
        hit = where.get((f.get("checklist_version_id"), f.get("item_id")))
        if hit is None and f.get("item_id"):
            hit = next((v for (cv, iid), v in where.items() if iid == f["item_id"]), None)
        f["cite"] = prof.cite(f.get("item_id"), f.get("basis"), f.get("codes"))
        if hit:
            ci, title, it = hit
            f["item"] = {"checklist_no": ci, "checklist": title, "no": it["no"], "text": it["text"],
                         "answer": it["answer"], "note": it["note"], "reason": it["reason"], "status": it["status"]}
        else:
            f["item"] = None


def _photos(store: Store, inspection_id: str) -> list[dict[str, Any]]:
    from inspector.store import photos as photos_mod

    out = []
    for p in photos_mod.list_photos(store, inspection_id):
        d = p if isinstance(p, dict) else getattr(p, "__dict__", {})
        out.append({str(k): d.get(k) for k in ("id", "sha256", "display_sha256", "thumb_sha256", "taken_at", "item_id",
                                           "finding_id", "caption", "place", "inspector_id", "checklist_version_id",
                                           "gps_lat", "gps_lon", "width", "height") if k in d})
    return out


def _photo_counts(photos: list[dict[str, Any]]) -> dict[str, int]:
    c: dict[str, int] = {}
    for p in photos:
        if p.get("item_id"):
            c[p["item_id"]] = c.get(p["item_id"], 0) + 1
    return c


def gather(store: Store, inspection_id: str, *, strict: bool = True) -> dict[str, Any]:
    """Everything the documents of one inspection show, JSON-safe (photos and signatures by sha).
    Strict (documents): an unreadable checklist version or an inspector missing from the directory
    raises DocumentError. ``strict=False`` is for the visit's content hash only (visit_order)."""
    from inspector import profiles
    from inspector.store import visits

    prof = profiles.active(store)
    insp = visits.get_inspection(store, inspection_id)
    inst = store.one("SELECT * FROM institutions WHERE id = ?", (insp.institution_id,))
    if not inst:
        raise NotFound(f"机构 {insp.institution_id} 不存在")
    inspectors = [_inspector(store, i, strict) for i in insp.inspector_ids]
    task = store.one("SELECT * FROM tasks WHERE id = ?", (insp.task_id,)) if insp.task_id else None
    draw = None
    if task and task.get("draw_id"):
        draw = store.one("SELECT id, seed, created_at FROM draws WHERE id = ?", (task["draw_id"],))
    photos = _photos(store, inspection_id)
    answers = visits.get_answers(store, inspection_id)
    # the inspector's own words print as typed, but for an ID or mobile number in them (masked)
    notes = {k: idnumbers.mask_in_text(v) for k, v in visits.get_notes(store, inspection_id).items()}
    findings = [dict(f.__dict__) for f in visits.list_findings(store, inspection_id)]
    for f in findings:
        for k in ("description", "required_action"):
            if isinstance(f.get(k), str):
                f[k] = idnumbers.mask_in_text(f[k])
        f["photos"] = [p["sha256"] for p in photos
                       if p.get("finding_id") == f["id"] or (p.get("item_id") and p.get("item_id") == f["item_id"])]
    rect = store.one("SELECT * FROM rectifications WHERE inspection_id = ? ORDER BY created_at DESC LIMIT 1",
                     (inspection_id,))
    sigs = signatures(store, inspection_id)
    checklists = _checklists(store, insp, answers, notes, _photo_counts(photos), inst["kind"], prof, strict)
    _finding_context(findings, checklists, prof)
    return {
        "profile": prof.as_dict(),
        "inspection": {k: v for k, v in insp.__dict__.items() if k != "ui_state"},
        "institution": {k: inst.get(k) for k in ("id", "name", "credit_code", "licence_no", "address", "legal_rep",
                                                 "contact", "phone", "kind", "sub_kind", "county", "city")},
        "inspectors": inspectors,
        "recorder": _inspector(store, insp.recorder_id, strict),
        "task": {k: task.get(k) for k in ("id", "kind", "draw_id", "due_from", "due_to")} if task else None,
        "draw": draw,
        "checklists": checklists,
        "findings": findings,
        "photos": photos,
        "rectification": {k: rect.get(k) for k in ("id", "deadline", "notice_number", "status")} if rect else None,
        "signatures": {role: {k: s.get(k) for k in ("signer_name", "png_sha256", "refused", "refusal_reason",
                                                    "created_at")}
                       | {"strokes_sha256": sha256_hex(canonical_json(s["strokes"])) if s.get("strokes") else None}
                       for role, s in sigs.items()},
        "settings": settings(store),
    }


# -- documents -------------------------------------------------------------------
def _row(r: dict[str, Any]) -> dict[str, Any]:
    r = dict(r)
    r["signers"] = json.loads(r["signers"] or "[]")
    r["served"] = json.loads(r["served"]) if r.get("served") else None
    return r


def get_document(store: Store, doc_id: str) -> dict[str, Any]:
    r = store.one("SELECT * FROM documents WHERE id = ?", (doc_id,))
    if not r:
        raise NotFound(f"文书 {doc_id} 不存在")
    return _row(r)


def list_documents(store: Store, inspection_id: str | None = None, kind: str | None = None) -> list[dict[str, Any]]:
    sql, params = "SELECT * FROM documents WHERE 1=1", []
    if inspection_id:
        sql += " AND inspection_id = ?"
        params.append(inspection_id)
    if kind:
        sql += " AND kind = ?"
        params.append(kind)
    return [_row(r) for r in store.rows(sql + " ORDER BY created_at, id", params)]


def pdf_bytes(store: Store, doc_id: str) -> bytes:
    d = get_document(store, doc_id)
    return _blobs(store).read(d["blob_sha256"])


def _builder(kind: str) -> Callable[..., bytes]:
    from inspector.render import notice, receipt, record

    return {"record": record.build, "notice": notice.build, "receipt": receipt.build}[kind]


def make_document(store: Store, inspection_id: str, kind: str, *, served: dict[str, Any] | None = None,
                  deadline: str | None = None, year: int | None = None, actor: str | None = None) -> dict[str, Any]:
    """Number (in the same transaction), render and store a draft with empty signature fields.

    ``served`` (receipt only): {method, place, time, recipient, copies, refusal_reason, witness}.
    ``deadline`` (notice only): the calendar deadline; default the latest finding deadline.
    """
    if kind not in KIND_TITLES:
        raise DocumentError(f"文书类型无效：{kind}（应为 record / notice / receipt）")
    data = gather(store, inspection_id)
    if len(data["inspectors"]) < 2:
        raise DocumentError(f"检查 {inspection_id}：检查人员不足 2 名，不能制作{KIND_TITLES[kind]}")
    if kind == "notice" and not data["findings"]:
        raise DocumentError(f"检查 {inspection_id}：未发现问题，无需制作责令限期整改通知书")
    extra: dict[str, Any] = {}
    if kind == "notice":
        dl = deadline or (data["rectification"] or {}).get("deadline") or max(
            (f["deadline"] for f in data["findings"] if f.get("deadline")), default=None)
        if not dl:
            raise DocumentError(f"检查 {inspection_id}：通知书需要整改期限（deadline）")
        extra["deadline"] = dl
        recs = list_documents(store, inspection_id, "record")
        extra["record_number"] = recs[-1]["number"] if recs else None
    if kind == "receipt":
        notices = [d for d in list_documents(store, inspection_id, "notice")]
        if not notices:
            raise DocumentError(f"检查 {inspection_id}：还没有通知书，无法制作送达回证")
        n = notices[-1]
        extra["served_document"] = {"id": n["id"], "title": KIND_TITLES["notice"], "number": n["number"]}
        if not served or not served.get("method"):
            raise DocumentError("送达回证需要送达方式（served.method）")
        if served["method"] not in SERVICE_METHODS:
            raise DocumentError(f"送达方式无效：{served['method']}（应为 {' / '.join(SERVICE_METHODS)}）")
        served = dict(served)
        # the receipt's own time of service: when it is made, not the inspection's end
        served.setdefault("time", None)
        served["time"] = served["time"] or now_iso()
        pic = data["inspection"].get("person_in_charge") or {}
        if not served.get("recipient_capacity") and served.get("recipient_person") and \
                served.get("recipient_person") == pic.get("name"):
            served["recipient_capacity"] = pic.get("position")
        extra["served"] = served
    existing = [d for d in list_documents(store, inspection_id, kind)]
    reuse = next((d for d in reversed(existing) if d["status"] == "draft" and not d["signers"]), None)
    if existing and not reuse and kind != "receipt":
        raise DocumentError(f"检查 {inspection_id} 的{KIND_TITLES[kind]}已签署（{existing[-1]['number']}），"
                            "如需更正请修订检查")
    prepare_print_copies(store, inspection_id)
    home = store.home
    fields = [signing.field_name(i + 1) for i in range(len(data["inspectors"]))]
    bs = _blobs(store)
    with store.tx() as db:
        if reuse:
            doc_id, number = reuse["id"], reuse["number"]
        else:
            doc_id = new_id()
            number = numbering.allocate(store, kind, year=year, document_id=doc_id).text
        record = {"doc_id": doc_id, "kind": kind, "title": KIND_TITLES[kind], "number": number, **data, **extra}
        canon = canonical_json(record)
        record_sha = bs.put_bytes(canon)
        url = qr.make_url(home, doc_id, record_sha, data["settings"]["verify_base_url"])
        pdf = _builder(kind)(record, qr_url=url, images=_ImageSource(store, record))
        pdf = signing.prepare(pdf, fields)
        sha = bs.put_bytes(pdf)
        ts = now_iso()
        row = {"id": doc_id, "inspection_id": inspection_id, "kind": kind, "number": number, "sha256": sha,
               "record_sha256": record_sha, "status": "draft", "signers": "[]", "blob_sha256": sha,
               "served": json.dumps(extra.get("served"), ensure_ascii=False) if extra.get("served") else None,
               "created_at": reuse["created_at"] if reuse else ts, "updated_at": ts}
        db.table("documents").upsert(row, pk="id")
        if kind == "notice":
            db.execute("UPDATE rectifications SET notice_number = ? WHERE inspection_id = ? AND notice_number IS NULL",
                       (number, inspection_id))
        if kind == "receipt":
            db.execute("UPDATE documents SET served = ?, updated_at = ? WHERE id = ?",
                       (json.dumps(served, ensure_ascii=False), ts, extra["served_document"]["id"]))
        store.log("document", doc_id, "remake" if reuse else "make",
                  {"inspection_id": inspection_id, "kind": kind, "number": number, "sha256": sha,
                   "record_sha256": record_sha}, actor=actor)
    return get_document(store, doc_id)


PRINT_MAX = 1280  # long side: 80 mm wide at ~400 dpi, plenty for paper


def _print_copy(bs: blobs.BlobStore, display_sha: str) -> tuple[str, int, int]:
    """A smaller JPEG for the PDF. JPEG draft mode decodes at 1/2, 1/4… scale directly, so
    this costs a fraction of a full decode."""
    import io

    from PIL import Image

    with Image.open(bs.path(display_sha)) as im:
        if im.format == "JPEG":
            w, h = im.size
            k = PRINT_MAX / max(w, h)
            im.draft("RGB", (int(w * k), int(h * k)))  # draft keeps both sides ≥ the request
        rgb = im.convert("RGB")
        if max(rgb.size) > PRINT_MAX:
            rgb.thumbnail((PRINT_MAX, PRINT_MAX), Image.Resampling.BILINEAR)
        buf = io.BytesIO()
        rgb.save(buf, "JPEG", quality=82)
        return bs.put_bytes(buf.getvalue()), rgb.size[0], rgb.size[1]


def prepare_print_copies(store: Store, inspection_id: str) -> int:
    """Make the missing print copies of an inspection's photos (two threads); returns how many.
    ``make_document`` calls it; the GUI may call it early, when the visit is finished."""
    from concurrent.futures import ThreadPoolExecutor

    bs = _blobs(store)
    todo = []
    for p in _photos(store, inspection_id):
        d = p.get("display_sha256")
        if d and not store.scalar("SELECT 1 FROM print_copies WHERE display_sha256 = ?", (d,)) and bs.has(d):
            todo.append(d)
    todo = list(dict.fromkeys(todo))
    if not todo:
        return 0
    with ThreadPoolExecutor(max_workers=2) as ex:
        made = list(ex.map(lambda d: (d, *_print_copy(bs, d)), todo))
    with store.tx() as db:
        for d, sha, w, h in made:
            db.execute("INSERT OR IGNORE INTO print_copies (display_sha256, print_sha256, width, height, created_at)"
                       " VALUES (?, ?, ?, ?, ?)", (d, sha, w, h, now_iso()))
    return len(made)


class _ImageSource:
    """Bytes for photos (display copies) and handwritten signatures the builders draw."""

    def __init__(self, store: Store, record: dict[str, Any]):
        self.store, self.record = store, record

    def photo(self, p: dict[str, Any]) -> bytes | None:
        sha = p.get("display_sha256") or p.get("sha256")
        try:
            return _blobs(self.store).read(sha) if sha else None
        except NotFound:
            return None

    def photo_path(self, p: dict[str, Any]) -> str | None:
        sha = p.get("display_sha256") or p.get("sha256")
        if p.get("display_sha256"):
            pr = self.store.scalar("SELECT print_sha256 FROM print_copies WHERE display_sha256 = ?",
                                   (p["display_sha256"],))
            sha = pr or sha
        if not sha:
            return None
        path = _blobs(self.store).path(sha)
        return str(path) if path.exists() else None

    def signature(self, role: str) -> bytes | None:
        sigs = signatures(self.store, self.record["inspection"]["id"])
        return signature_png(self.store, sigs.get(role))


def sign_document(store: Store, doc_id: str, badge_no: str, passphrase: str | bytes, *,
                  location: str | None = None, actor: str | None = None) -> dict[str, Any]:
    """Add ``badge_no``'s PAdES signature in its own field; the first signer certifies."""
    doc = get_document(store, doc_id)
    if doc["status"] == "signed":
        raise DocumentError(f"文书 {doc['number']} 已全部签署")
    insp = store.one("SELECT inspector_ids, status FROM inspections WHERE id = ?", (doc["inspection_id"],))
    if insp and insp["status"] != "finished":
        # a signed document must not drift from answers that can still change
        raise DocumentError(f"检查 {doc['inspection_id']} 尚未完成锁定，不能签署文书 {doc['number']}；请先完成检查")
    ids = json.loads(insp["inspector_ids"]) if insp else []
    badges = [store.scalar("SELECT badge_no FROM inspectors WHERE id = ?", (i,)) for i in ids]
    if badge_no not in badges:
        raise DocumentError(f"执法证号 {badge_no} 不是文书 {doc['number']} 的检查人员")
    field = signing.field_name(badges.index(badge_no) + 1)
    sk = keys.load_signing_key(store.home, badge_no, passphrase)
    pdf = signing.sign(pdf_bytes(store, doc_id), sk, field, reason=f"{KIND_TITLES[doc['kind']]} 检查人员签名",
                       location=location)
    sha = _blobs(store).put_bytes(pdf)
    signed = [(n, f) for n, f in signing.signature_fields(pdf)]
    done = all(f for _, f in signed)
    signers = doc["signers"] + [{"badge_no": badge_no, "name": sk.name, "field": field, "signed_at": now_iso(),
                                 "hq_certified": sk.hq_certified}]
    with store.tx() as db:
        db.table("documents").update(doc_id, {"sha256": sha, "blob_sha256": sha, "signers": json.dumps(signers,
                                                                                                ensure_ascii=False),
                                        "status": "signed" if done else "draft", "updated_at": now_iso()})
        store.log("document", doc_id, "sign", {"badge_no": badge_no, "field": field, "sha256": sha,
                                               "complete": done}, actor=actor)
    return get_document(store, doc_id)


def mark_printed(store: Store, doc_id: str, *, actor: str | None = None) -> None:
    get_document(store, doc_id)
    ts = now_iso()
    with store.tx() as db:
        db.execute("UPDATE documents SET printed_at = ?, updated_at = ? WHERE id = ?", (ts, ts, doc_id))
        store.log("document", doc_id, "printed", {"printed_at": ts}, actor=actor)


def export(store: Store, doc_id: str, path: Any) -> str:
    from pathlib import Path

    p = Path(path)
    p.parent.mkdir(parents=True, exist_ok=True)
    p.write_bytes(pdf_bytes(store, doc_id))
    return str(p)
