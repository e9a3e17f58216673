"""Inspections, answers, findings, rectifications and trainee checks in the local store.

Every write is its own transaction and is on disk when the call returns
(autosave: a crash or kill costs at most the keystroke in flight). Every write
also lands in the audit chain and the outbox via ``Store.log``.
"""
from __future__ import annotations

import json
import sqlite3
from dataclasses import dataclass, field
from typing import Any, Iterable

from inspector.errors import NotFound, StoreError, ValidationError
from inspector.store import Store
from inspector.util import new_id, now_iso

RESULT_CATEGORIES = ("未发现问题", "发现问题已责令改正", "无法联系", "不配合")
RECT_STATUSES = ("待整改", "已按期整改", "逾期整改", "拒不整改或敷衍整改")
_LOCKED = "检查已完成并锁定，不能修改；如需更正请创建修订版本"


@dataclass
class Inspection:
    id: str
    institution_id: str
    status: str
    revision: int
    started_at: str
    task_id: str | None = None
    replaces_id: str | None = None
    ended_at: str | None = None
    place: str | None = None
    inspector_ids: list[str] = field(default_factory=list)
    recorder_id: str | None = None
    ids_shown: bool = False
    rights_explained: bool = False
    person_in_charge: dict[str, Any] = field(default_factory=dict)
    checklist_version_ids: list[str] = field(default_factory=list)
    result_category: str | None = None
    ui_state: dict[str, Any] = field(default_factory=dict)
    created_at: str = ""
    updated_at: str = ""

    @classmethod
    def from_row(cls, r: dict[str, Any]) -> "Inspection":
        d = dict(r)
        for k in ("inspector_ids", "person_in_charge", "checklist_version_ids", "ui_state"):
            d[k] = json.loads(d[k]) if d.get(k) else ({} if k in ("person_in_charge", "ui_state") else [])
        d["ids_shown"] = bool(d["ids_shown"])
        d["rights_explained"] = bool(d["rights_explained"])
        return cls(**d)

    @property
    def locked(self) -> bool:
        return self.status == "finished"


@dataclass
class Finding:
    id: str
    inspection_id: str
    description: str
    codes: list[str] = field(default_factory=list)
    severity: str | None = None
    checklist_version_id: str | None = None
    item_id: str | None = None
    basis: str | None = None
    people_involved: int | None = None
    amount: float | None = None
    required_action: str | None = None
    deadline: str | None = None
    position: int = 0
    created_at: str = ""
    updated_at: str = ""

    @classmethod
    def from_row(cls, r: dict[str, Any]) -> "Finding":
        d = dict(r)
        d["codes"] = json.loads(d["codes"] or "[]")
        return cls(**d)


def _wrap_locked(e: sqlite3.DatabaseError) -> Exception:
    return StoreError(_LOCKED) if "locked" in str(e) and "finished" in str(e) else StoreError(str(e))


# -- inspections --------------------------------------------------------------
def start_inspection(
    store: Store,
    institution_id: str,
    *,
    inspector_ids: Iterable[str] = (),
    task_id: str | None = None,
    checklist_version_ids: Iterable[str] = (),
    place: str | None = None,
    recorder_id: str | None = None,
    actor: str | None = None,
) -> str:
    if not store.scalar("SELECT 1 FROM institutions WHERE id = ?", (institution_id,)):
        raise NotFound(f"机构 {institution_id} 不存在")
    iid, ts = new_id(), now_iso()
    row = {
        "id": iid, "revision": 1, "task_id": task_id, "institution_id": institution_id, "status": "draft",
        "started_at": ts, "place": place, "inspector_ids": json.dumps(list(inspector_ids)),
        "recorder_id": recorder_id, "checklist_version_ids": json.dumps(list(checklist_version_ids)),
        "created_at": ts, "updated_at": ts,
    }
    with store.tx() as db:
        db.table("inspections").insert(row)
        if task_id:
            db.execute("UPDATE tasks SET status = 'in_progress' WHERE id = ? AND status = 'open'", (task_id,))
        store.log("inspection", iid, "start", {"institution_id": institution_id, "task_id": task_id}, actor=actor)
    return iid


def get_inspection(store: Store, inspection_id: str) -> Inspection:
    store.settle()  # the position may be queued on the GUI's background writer
    r = store.one("SELECT * FROM inspections WHERE id = ?", (inspection_id,))
    if not r:
        raise NotFound(f"检查 {inspection_id} 不存在")
    return Inspection.from_row(r)


def list_inspections(store: Store, *, status: str | None = None, institution_id: str | None = None,
                     limit: int | None = None, offset: int = 0) -> list[Inspection]:
    sql, params = "SELECT * FROM inspections WHERE 1=1", []
    if status:
        sql += " AND status = ?"
        params.append(status)
    if institution_id:
        sql += " AND institution_id = ?"
        params.append(institution_id)
    sql += " ORDER BY updated_at DESC, id DESC"
    if limit:
        sql += f" LIMIT {int(limit)} OFFSET {int(offset)}"
    return [Inspection.from_row(r) for r in store.rows(sql, params)]


_EDITABLE = {"place", "inspector_ids", "recorder_id", "ids_shown", "rights_explained", "person_in_charge",
             "checklist_version_ids", "result_category", "ended_at", "started_at"}


def update_inspection(store: Store, inspection_id: str, *, actor: str | None = None, **fields: Any) -> None:
    bad = set(fields) - _EDITABLE
    if bad:
        raise StoreError(f"检查字段不可修改：{', '.join(sorted(bad))}")
    if "result_category" in fields and fields["result_category"] not in (None, *RESULT_CATEGORIES):
        raise StoreError(f"检查结果类别无效：{fields['result_category']}")
    insp = get_inspection(store, inspection_id)
    if insp.locked:
        raise StoreError(_LOCKED)
    if isinstance(fields.get("person_in_charge"), dict):
        from inspector import pii

        # phone and ID number sealed before the row and the audit entry see them (pii.py)
        fields = {**fields, "person_in_charge": pii.seal_contact(store.home, fields["person_in_charge"],
                                                                 insp.person_in_charge)}
    row = {k: (json.dumps(v, ensure_ascii=False) if isinstance(v, (list, dict)) else v) for k, v in fields.items()}
    row["updated_at"] = now_iso()
    with store.tx() as db:
        db.table("inspections").update(inspection_id, row)
        store.log("inspection", inspection_id, "update", fields, actor=actor)


def save_ui_state(store: Store, inspection_id: str, state: dict[str, Any]) -> None:
    """Where the inspector was (section, item): restored after a crash; not audited or pushed."""
    with store.tx() as db:
        db.execute("UPDATE inspections SET ui_state = ? WHERE id = ?",
                   (json.dumps(state, ensure_ascii=False), inspection_id))


class VisitIncomplete(StoreError):
    """完成检查 refused: ``items`` are the visit_state.Problem lines still open."""

    def __init__(self, items: list[Any]):
        self.items = list(items)
        super().__init__(f"尚有 {len(self.items)} 项未完成，不能完成检查并锁定")
        self.problems = [f"{self}："] + [f"  - {p.message}" for p in self.items]


def finish_inspection(store: Store, inspection_id: str, *, actor: str | None = None,
                      overrides: dict[str, str] | None = None) -> None:
    """Lock the inspection; from now on only an amendment (new revision) can change it.

    Refused (VisitIncomplete, listing them) while ``visit_state.visit_problems`` finds
    anything, except problems named in ``overrides`` {problem key: reason} with a non-empty
    reason — for what truly cannot be done on site; each is recorded in the audit log."""
    from inspector.visit_state import visit_problems

    insp = get_inspection(store, inspection_id)
    if insp.locked:
        return
    overrides = {str(k): str(v).strip() for k, v in (overrides or {}).items()}
    problems = visit_problems(store, inspection_id)
    open_ = [p for p in problems if not overrides.get(p.key)]
    if open_:
        raise VisitIncomplete(open_)
    used = [{"key": p.key, "kind": p.kind, "message": p.message, "reason": overrides[p.key]} for p in problems]
    ts = now_iso()
    with store.tx() as db:
        db.execute("UPDATE inspections SET status = 'finished', ended_at = COALESCE(ended_at, ?), updated_at = ?"
                   " WHERE id = ?", (ts, ts, inspection_id))
        if insp.task_id:
            db.execute("UPDATE tasks SET status = 'done' WHERE id = ?", (insp.task_id,))
        from inspector.store.integrity import inspection_state

        # the sealed state lets `inspector audit verify` name any later direct edit of these rows
        payload: dict[str, Any] = {"ended_at": ts, "seal": inspection_state(store, inspection_id)}
        if used:
            payload["overrides"] = used
        store.log("inspection", inspection_id, "finish", payload, actor=actor)
    from inspector.store import backup

    backup.auto(store, "finish")  # a finished visit is at once in a backup (never fails the finish)


def finish_overrides(store: Store, inspection_id: str) -> list[dict[str, Any]]:
    """The problems finished anyway, with their reasons (from the audit log's finish entry)."""
    r = store.one("SELECT payload FROM audit_log WHERE entity = 'inspection' AND entity_id = ? AND action = 'finish'"
                  " ORDER BY seq DESC LIMIT 1", (inspection_id,))
    return list(json.loads(r["payload"]).get("overrides") or []) if r else []


def amend_inspection(store: Store, inspection_id: str, *, actor: str | None = None) -> str:
    """A new draft revision copying answers and findings; it names the revision it replaces."""
    old = get_inspection(store, inspection_id)
    if not old.locked:
        raise StoreError("只有已完成的检查才需要修订")
    nid, ts = new_id(), now_iso()
    with store.tx() as db:
        row = store.one("SELECT * FROM inspections WHERE id = ?", (inspection_id,))
        assert row
        row.update(id=nid, revision=old.revision + 1, replaces_id=inspection_id, status="draft",
                   created_at=ts, updated_at=ts)
        db.table("inspections").insert(row)
        db.execute("INSERT INTO answers (inspection_id, checklist_version_id, item_id, value, note, updated_at)"
                   " SELECT ?, checklist_version_id, item_id, value, note, ? FROM answers WHERE inspection_id = ?",
                   (nid, ts, inspection_id))
        fmap: dict[str, str] = {}
        for f in store.rows("SELECT * FROM findings WHERE inspection_id = ? ORDER BY position", (inspection_id,)):
            fmap[f["id"]] = new_id()
            f.update(id=fmap[f["id"]], inspection_id=nid, created_at=ts, updated_at=ts)
            db.table("findings").insert(f)
        from inspector.store import photos  # photos build on visits; import late to keep the layering one-way

        photos.copy_photos(store, inspection_id, nid, fmap, actor=actor)
        store.log("inspection", nid, "amend", {"replaces_id": inspection_id, "revision": old.revision + 1},
                  actor=actor)
    return nid


# -- answers ------------------------------------------------------------------
_CL_CACHE: dict[str, Any] = {}  # sha256 of a stored checklist text → parsed Checklist (versions are immutable)


def _stored_checklist(store: Store, checklist_version_id: str) -> Any | None:
    """The inspection's checklist version as stored; None for a placeholder row without text
    (test fixtures, a sync stub): then only the JSON shape can be checked."""
    from inspector.forms import parse_checklist

    row = store.one("SELECT sha256, length(trim(source)) AS n FROM checklist_versions WHERE id = ?",
                    (checklist_version_id,))
    if row is None:
        raise NotFound(f"没有检查表版本 {checklist_version_id}")
    if not row["n"]:
        return None
    key = f"{row['sha256']}:{checklist_version_id}"
    if key not in _CL_CACHE:  # parsed once per version: this runs on every keystroke
        src = store.scalar("SELECT source FROM checklist_versions WHERE id = ?", (checklist_version_id,))
        _CL_CACHE[key] = parse_checklist(str(src), f"checklist_versions:{checklist_version_id}")
    return _CL_CACHE[key]


def _strict_json(value: Any, what: str) -> str:
    """JSON for the store and the audit log; NaN/Infinity are not JSON and are refused."""
    try:
        return json.dumps(value, ensure_ascii=False, allow_nan=False)
    except (ValueError, TypeError) as e:
        raise ValidationError(f"{what}：答案无效（{e}）") from None


def validate_answer(store: Store, checklist_version_id: str, item_id: str, value: Any) -> Any:
    """The normalised answer ``set_answer`` would store (``visit_state.check_answer``), or
    ValidationError naming the item and why."""
    from inspector.visit_state import check_answer

    cl = _stored_checklist(store, checklist_version_id)
    if cl is None:
        _strict_json(value, item_id)
        return value
    item = cl._index.get(item_id)
    if item is None:
        raise ValidationError(f"检查表 {cl.title} 中没有检查项 {item_id}")
    got = check_answer(item, value)
    if got.problem:
        raise ValidationError(f"{item.text}：{got.problem}")
    return got.value


KEEP: Any = object()  # set_answer(note=KEEP): leave the item's note as it is


def set_answer(store: Store, inspection_id: str, checklist_version_id: str, item_id: str, value: Any,
               *, note: Any = KEEP, actor: str | None = None) -> Any:
    """Validate, normalise and write one answer; it is on disk when this returns. ``value=None``
    clears it. Returns the stored (normalised) value; an invalid value is refused
    (ValidationError) and nothing is written. The item's note is kept unless ``note`` is given."""
    from inspector import pii

    value = validate_answer(store, checklist_version_id, item_id, value)
    sealed = pii.is_pii_table(value)
    if sealed:  # trainees' names/ID/phone of a table: sealed cells in the row, the log and the seal (pii.py)
        value = pii.seal_table(store.home, value,
                               _table_versions(store, inspection_id, checklist_version_id, item_id))
    stored = _strict_json(value, item_id)
    ts = now_iso()
    try:
        with store.tx() as db:
            if note is KEEP:
                note = store.scalar("SELECT note FROM answers WHERE inspection_id = ? AND checklist_version_id = ?"
                                    " AND item_id = ?", (inspection_id, checklist_version_id, item_id))
            if value is None and note is None:
                db.execute("DELETE FROM answers WHERE inspection_id = ? AND checklist_version_id = ? AND item_id = ?",
                           (inspection_id, checklist_version_id, item_id))
            else:
                db.execute(
                    "INSERT INTO answers (inspection_id, checklist_version_id, item_id, value, note, updated_at)"
                    " VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (inspection_id, checklist_version_id, item_id)"
                    " DO UPDATE SET value = excluded.value, note = excluded.note, updated_at = excluded.updated_at",
                    (inspection_id, checklist_version_id, item_id, stored, note, ts))
            db.execute("UPDATE inspections SET updated_at = ? WHERE id = ?", (ts, inspection_id))
            store.log("inspection", inspection_id, "answer",
                      {"checklist_version_id": checklist_version_id, "item_id": item_id, "value": value,
                       "note": note}, actor=actor)
    except sqlite3.IntegrityError as e:
        raise _wrap_locked(e) from e
    return pii.mask_table(value) if sealed else value


def _table_versions(store: Store, inspection_id: str, checklist_version_id: str, item_id: str) -> Iterable[Any]:
    """The stored versions of a table answer, newest first: the row, then the audit log (an undo
    hands back the masked cells of an older version). Lazy: read only when a masked cell comes back."""
    cur = store.scalar("SELECT value FROM answers WHERE inspection_id = ? AND checklist_version_id = ? AND item_id = ?",
                       (inspection_id, checklist_version_id, item_id))
    if cur:
        yield json.loads(cur)
    needle = json.dumps(item_id, ensure_ascii=False)
    for r in store.rows("SELECT payload FROM audit_log WHERE entity = 'inspection' AND entity_id = ?"
                        " AND action = 'answer' AND instr(payload, ?) > 0 AND instr(payload, 'enc1:') > 0"
                        " ORDER BY seq DESC", (inspection_id, needle)):
        p = json.loads(r["payload"])
        if p.get("item_id") == item_id and p.get("checklist_version_id") == checklist_version_id:
            yield p.get("value")


def set_note(store: Store, inspection_id: str, checklist_version_id: str, item_id: str, note: str | None,
             *, actor: str | None = None) -> None:
    """The inspector's note on one item (现场情况、依据的材料); the answer is kept. Durable on return."""
    note = (note or "").strip() or None
    ts = now_iso()
    try:
        with store.tx() as db:
            db.execute(
                "INSERT INTO answers (inspection_id, checklist_version_id, item_id, value, note, updated_at)"
                " VALUES (?, ?, ?, 'null', ?, ?) ON CONFLICT (inspection_id, checklist_version_id, item_id)"
                " DO UPDATE SET note = excluded.note, updated_at = excluded.updated_at",
                (inspection_id, checklist_version_id, item_id, note, ts))
            db.execute("DELETE FROM answers WHERE inspection_id = ? AND checklist_version_id = ? AND item_id = ?"
                       " AND note IS NULL AND (value IS NULL OR value = 'null')",
                       (inspection_id, checklist_version_id, item_id))
            db.execute("UPDATE inspections SET updated_at = ? WHERE id = ?", (ts, inspection_id))
            store.log("inspection", inspection_id, "answer_note",
                      {"checklist_version_id": checklist_version_id, "item_id": item_id, "note": note}, actor=actor)
    except sqlite3.IntegrityError as e:
        raise _wrap_locked(e) from e


def get_answers(store: Store, inspection_id: str, checklist_version_id: str | None = None, *,
                unmasked: bool = False) -> dict[str, dict[str, Any]]:
    """{checklist_version_id: {item_id: value}} (read-your-writes: queued answers are written first).
    Sealed table cells (trainees' name/ID/phone) come as their masked copies unless ``unmasked``
    (needs the personal-data key unlocked: pii.Locked otherwise)."""
    from inspector import pii

    store.settle()
    sql, params = "SELECT checklist_version_id, item_id, value FROM answers WHERE inspection_id = ?", [inspection_id]
    if checklist_version_id:
        sql += " AND checklist_version_id = ?"
        params.append(checklist_version_id)
    out: dict[str, dict[str, Any]] = {}
    for r in store.rows(sql, params):
        v = json.loads(r["value"]) if r["value"] else None
        if r["value"] and pii.PREFIX in r["value"]:
            v = pii.reveal_table(store.home, v)[0] if unmasked else pii.mask_table(v)
        out.setdefault(r["checklist_version_id"], {})[r["item_id"]] = v
    return out


def get_notes(store: Store, inspection_id: str) -> dict[tuple[str, str], str]:
    return {(r["checklist_version_id"], r["item_id"]): r["note"] for r in store.rows(
        "SELECT checklist_version_id, item_id, note FROM answers WHERE inspection_id = ? AND note IS NOT NULL",
        (inspection_id,))}


# -- findings -----------------------------------------------------------------
_FINDING_FIELDS = {"description", "codes", "severity", "checklist_version_id", "item_id", "basis",
                   "people_involved", "amount", "required_action", "deadline", "position"}


def _clean_finding(fields: dict[str, Any]) -> dict[str, Any]:
    """Refuse what cannot be true of a finding (NaN amount, negative people, bad date or code)."""
    import math

    from inspector.visit_state import parse_date

    out = dict(fields)
    amount = out.get("amount")
    if amount is not None:
        if isinstance(amount, bool) or not isinstance(amount, (int, float)) or not math.isfinite(amount) \
                or amount < 0:
            raise ValidationError(f"问题的资金金额无效：{amount!r}（应为不小于 0 的数字）")
    people = out.get("people_involved")
    if people is not None and (isinstance(people, bool) or not isinstance(people, int) or people < 0):
        raise ValidationError(f"问题的涉及人数无效：{people!r}（应为不小于 0 的整数）")
    if out.get("deadline"):
        day, why = parse_date(out["deadline"], what="整改期限")
        if why:
            raise ValidationError(why)
        out["deadline"] = day
    if out.get("codes") is not None:
        from inspector.catalogue import catalogue

        cat = catalogue()
        unknown = [c for c in out["codes"] if c not in cat]
        if unknown:
            raise ValidationError(f"失信行为代码不在目录中：{'、'.join(map(str, unknown))}")
    if isinstance(out.get("required_action"), str):
        out["required_action"] = out["required_action"].strip() or None
    return out


def add_finding(store: Store, inspection_id: str, *, description: str, actor: str | None = None,
                **fields: Any) -> str:
    bad = set(fields) - _FINDING_FIELDS
    if bad:
        raise StoreError(f"问题字段无效：{', '.join(sorted(bad))}")
    fields = _clean_finding(fields)
    fid, ts = new_id(), now_iso()
    pos = fields.pop("position", None)
    if pos is None:
        pos = int(store.scalar("SELECT COALESCE(MAX(position), 0) + 1 FROM findings WHERE inspection_id = ?",
                               (inspection_id,)))
    row = {"id": fid, "inspection_id": inspection_id, "description": description, "position": pos,
           "created_at": ts, "updated_at": ts,
           **{k: (json.dumps(v, ensure_ascii=False) if k == "codes" else v) for k, v in fields.items()}}
    try:
        with store.tx() as db:
            db.table("findings").insert(row)
            store.log("inspection", inspection_id, "finding_add", {"finding_id": fid, "description": description,
                                                                   **fields}, actor=actor)
    except sqlite3.IntegrityError as e:
        raise _wrap_locked(e) from e
    return fid


def update_finding(store: Store, finding_id: str, *, actor: str | None = None, **fields: Any) -> None:
    bad = set(fields) - _FINDING_FIELDS
    if bad:
        raise StoreError(f"问题字段无效：{', '.join(sorted(bad))}")
    fields = _clean_finding(fields)
    if "description" in fields and not (fields["description"] or "").strip():
        raise ValidationError("问题描述不能为空")
    f = get_finding(store, finding_id)
    row = {k: (json.dumps(v, ensure_ascii=False) if k == "codes" else v) for k, v in fields.items()}
    row["updated_at"] = now_iso()
    try:
        with store.tx() as db:
            db.table("findings").update(finding_id, row)
            store.log("inspection", f.inspection_id, "finding_update", {"finding_id": finding_id, **fields},
                      actor=actor)
    except sqlite3.IntegrityError as e:
        raise _wrap_locked(e) from e


def delete_finding(store: Store, finding_id: str, *, actor: str | None = None) -> None:
    f = get_finding(store, finding_id)
    try:
        with store.tx() as db:
            db.execute("DELETE FROM findings WHERE id = ?", (finding_id,))
            store.log("inspection", f.inspection_id, "finding_delete", {"finding_id": finding_id}, actor=actor)
    except sqlite3.IntegrityError as e:
        raise _wrap_locked(e) from e


def get_finding(store: Store, finding_id: str) -> Finding:
    r = store.one("SELECT * FROM findings WHERE id = ?", (finding_id,))
    if not r:
        raise NotFound(f"问题 {finding_id} 不存在")
    return Finding.from_row(r)


def list_findings(store: Store, inspection_id: str) -> list[Finding]:
    return [Finding.from_row(r) for r in store.rows(
        "SELECT * FROM findings WHERE inspection_id = ? ORDER BY position, created_at", (inspection_id,))]


# -- rectifications -------------------------------------------------------------
def create_rectification(store: Store, inspection_id: str, *, deadline: str, notice_number: str | None = None,
                         actor: str | None = None) -> str:
    """The rectification ordered for the inspection's findings. Idempotent: a second
    生成整改要求 for the same inspection returns the one already there (one notice covers them)."""
    from inspector.visit_state import parse_date

    insp = get_inspection(store, inspection_id)
    day, why = parse_date(deadline, what="整改期限")
    if why:
        raise ValidationError(why)
    rid, ts = new_id(), now_iso()
    with store.tx() as db:
        existing = store.scalar("SELECT id FROM rectifications WHERE inspection_id = ? ORDER BY created_at, id LIMIT 1",
                                (inspection_id,))
        if existing:
            return str(existing)
        db.table("rectifications").insert({
            "id": rid, "inspection_id": inspection_id, "institution_id": insp.institution_id,
            "notice_number": notice_number, "deadline": day, "status": "待整改",
            "created_at": ts, "updated_at": ts})
        store.log("rectification", rid, "create", {"inspection_id": inspection_id, "deadline": day,
                                                   "notice_number": notice_number}, actor=actor)
    return rid


def set_rectification_status(store: Store, rect_id: str, status: str, *, evidence: list[str] | None = None,
                             reinspection_inspection_id: str | None = None, actor: str | None = None) -> None:
    if status not in RECT_STATUSES:
        raise StoreError(f"整改状态无效：{status}（应为 {' / '.join(RECT_STATUSES)}）")
    ts = now_iso()
    with store.tx() as db:
        row: dict[str, Any] = {"status": status, "updated_at": ts}
        if evidence is not None:
            row["evidence"] = json.dumps(evidence, ensure_ascii=False)
        if reinspection_inspection_id:
            row["reinspection_inspection_id"] = reinspection_inspection_id
        if status != "待整改":
            row["closed_at"] = ts
        db.table("rectifications").update(rect_id, row)
        store.log("rectification", rect_id, "status", {"status": status, "evidence": evidence,
                                                       "reinspection_inspection_id": reinspection_inspection_id},
                  actor=actor)


def list_rectifications(store: Store, *, open_only: bool = False, institution_id: str | None = None) -> list[dict[str, Any]]:
    sql = ("SELECT r.*, i.name AS institution_name FROM rectifications r JOIN institutions i ON i.id = r.institution_id"
           " WHERE 1=1")
    params: list[Any] = []
    if open_only:
        sql += " AND r.status = '待整改'"
    if institution_id:
        sql += " AND r.institution_id = ?"
        params.append(institution_id)
    return store.rows(sql + " ORDER BY r.deadline", params)


# -- trainee checks -------------------------------------------------------------
def add_trainee_checks(store: Store, inspection_id: str, rows: Iterable[dict[str, Any]],
                       *, actor: str | None = None) -> list[str]:
    """Record the sampled trainees (selected_for 'sample' or 'verify')."""
    from inspector import pii

    ids, ts = [], now_iso()
    # sealed before the transaction: name, ID number and phone never reach the file in clear (pii.py)
    todo = list(rows)
    sealed = pii.seal_rows(store.home, [{"name": r["name"], "id_number": r.get("id_number"), "phone": r.get("phone")}
                                        for r in todo])
    with store.tx() as db:
        for r, s in zip(todo, sealed):
            tid = new_id()
            db.table("trainee_checks").insert({
                "id": tid, "inspection_id": inspection_id, "roster_row": r.get("row"), "name": s["name"],
                "id_number": s.get("id_number"), "trade": r.get("trade"), "phone": s.get("phone"),
                "name_masked": s.get("name_masked"), "id_masked": s.get("id_masked"),
                "phone_masked": s.get("phone_masked"),
                "selected_for": r.get("selected_for", "sample"), "created_at": ts})
            ids.append(tid)
        store.log("inspection", inspection_id, "trainees_sampled", {"count": len(ids)}, actor=actor)
    return ids


def record_trainee_check(store: Store, check_id: str, *, method: str, reached: bool,
                         answers: dict[str, Any], actor: str | None = None) -> None:
    if method not in ("电话", "实地"):
        raise StoreError(f"核查方式无效：{method}（应为 电话 或 实地）")
    r = store.one("SELECT inspection_id FROM trainee_checks WHERE id = ?", (check_id,))
    if not r:
        raise NotFound(f"学员核查记录 {check_id} 不存在")
    with store.tx() as db:
        db.table("trainee_checks").update(check_id, {"method": method, "reached": int(reached),
                                               "answers": json.dumps(answers, ensure_ascii=False),
                                               "checked_at": now_iso()})
        store.log("inspection", r["inspection_id"], "trainee_check",
                  {"check_id": check_id, "method": method, "reached": reached, "answers": answers}, actor=actor)


def list_trainee_checks(store: Store, inspection_id: str, *, unmasked: bool = False) -> list[dict[str, Any]]:
    """The sampled trainees; name, id_number and phone are the masked copies unless ``unmasked``
    (which needs the personal-data key unlocked in this process: pii.Locked otherwise)."""
    from inspector import pii

    rows = store.rows("SELECT * FROM trainee_checks WHERE inspection_id = ? ORDER BY selected_for DESC, roster_row",
                      (inspection_id,))
    for i, r in enumerate(rows):
        r["answers"] = json.loads(r["answers"] or "{}")
        if unmasked:
            rows[i] = pii.reveal_row(store.home, r)
        else:
            for f, m in pii.MASKED.items():
                r[f] = r[m] if pii.is_sealed(r[f]) or r[m] else r[f]
    return rows
