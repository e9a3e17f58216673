"""Who may write and read what at HQ: the one place where a device's rights are decided.

The model (docs/ownership.md says the same in prose):

- A device acts for its enrolled inspector and for every co-inspector whose key HQ certified
  on it (their one-time codes were spent by this device) — its *principals*.
- An inspection is the device's when HQ's row was sent by this device or names one of its
  principals in ``inspector_ids``. A new inspection (HQ has never seen it) must name one of
  the principals; a revision may replace only an inspection that is the device's.
- Answers, findings, photos, documents, trainee checks and signatures hang on an inspection:
  writable only through an inspection that is the device's, both before (HQ's current row)
  and after (the row sent) — a record cannot be moved into or out of someone else's visit.
- Rectifications: only for the device's inspections; ``inspection_id`` and
  ``institution_id`` never change, and HQ's decisions (``HQ_DECIDED`` fields) stay HQ's.
- Directory, inspector, draw, task and checklist entities are HQ's: never accepted from a
  device.
- A device reads a blob only when it is a photo or document of one of its inspections.

Every refusal is a :class:`Forbidden` with the reason in Chinese; callers turn it into a
per-op ``forbidden`` result, log it and record an alert, and apply the rest of the batch.
"""
from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from inspector.hq import db as D

log = logging.getLogger(__name__)

# entities a laptop may push at all; everything else in service.ENTITY_TABLES is HQ's
DEVICE_WRITABLE = frozenset({"inspection", "finding", "photo", "document", "rectification"})
ENTITY_ZH = {"institution": "机构名录", "inspector": "检查人员名录", "checklist_version": "检查表版本",
             "draw": "抽取记录", "task": "检查任务", "inspection": "检查记录", "finding": "问题",
             "photo": "照片", "document": "文书", "rectification": "整改记录"}
# rectification fields only HQ sets (its decision on a re-inspection); a laptop's value is ignored
HQ_DECIDED = ("reinspection_task_id",)
# rectification fields fixed at creation
RECT_FIXED = ("inspection_id", "institution_id")
CHILD_TABLES = {"finding": D.findings, "photo": D.photos, "document": D.documents}


class Forbidden(Exception):
    """The device may not do this; ``str(e)`` is the reason in Chinese."""


class ParentUnknown(Forbidden):
    """The op hangs on an inspection HQ has not received: not allowed yet, asked again later."""


@dataclass(frozen=True)
class Principal:
    """A device and the inspectors it acts for."""

    device_id: str
    inspector_ids: frozenset[str]
    badge_no: str
    badges: frozenset[str] = frozenset()


def principal(conn: Connection, device_id: str, inspector_id: str | None, badge_no: str) -> Principal:
    """The device's enrolled inspector plus the co-inspectors HQ certified on it."""
    E, I = D.enrol_codes, D.inspectors
    badges = {badge_no, *(r.badge_no for r in conn.execute(
        sa.select(E.c.badge_no).where(E.c.device_id == device_id, E.c.used_at.is_not(None))))}
    ids = {r.id for r in conn.execute(sa.select(I.c.id).where(I.c.badge_no.in_(sorted(badges))))}
    if inspector_id:
        ids.add(inspector_id)
    return Principal(device_id, frozenset(ids), badge_no, frozenset(badges))


def _ids(value: Any) -> set[str]:
    """``inspector_ids`` as stored (JSON text) or sent (list) → a set of ids; junk → empty."""
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except ValueError:
            return set()
    if isinstance(value, list):
        return {v for v in value if isinstance(v, str)}
    return set()


def _names_principal(p: Principal, inspector_ids: Any, badges: Any = None) -> bool:
    """The row names one of the device's inspectors: by HQ's inspector id, or by 执法证号 (a laptop
    whose directory was imported locally before enrolment knows its inspectors by other ids; the
    badge is the identity both sides share)."""
    return bool(_ids(inspector_ids) & p.inspector_ids) or bool(_ids(badges) & p.badges)


def owns_inspection_row(p: Principal, rec: Any) -> bool:
    """HQ's inspection row is the device's (sent by it, or naming one of its inspectors)."""
    return rec.device_id == p.device_id or _names_principal(p, rec.inspector_ids)


def _inspection(conn: Connection, iid: Any) -> Any:
    if not isinstance(iid, str):
        return None
    I = D.inspections
    return conn.execute(sa.select(I.c.id, I.c.device_id, I.c.inspector_ids).where(I.c.id == iid)).first()


def owns_inspection(conn: Connection, p: Principal, iid: Any) -> bool:
    rec = _inspection(conn, iid)
    return rec is not None and owns_inspection_row(p, rec)


def _no(entity: str, entity_id: str, why: str) -> Forbidden:
    return Forbidden(f"本设备无权修改{ENTITY_ZH.get(entity, entity)} {entity_id}：{why}")


def check_op(conn: Connection, p: Principal, entity: str, entity_id: str, kind: str, data: Any) -> None:
    """Raise :class:`Forbidden` unless device ``p`` may apply this push op. Shape errors (missing
    row, id mismatch) are left to the caller's own checks."""
    if entity not in DEVICE_WRITABLE:
        raise _no(entity, entity_id, f"{ENTITY_ZH.get(entity, entity)}由总部维护，不接受设备推送")
    row = data.get("row") if isinstance(data, dict) else None
    if entity == "inspection":
        _check_inspection(conn, p, entity_id, kind, data, row)
    elif entity == "rectification":
        _check_rectification(conn, p, entity_id, kind, row)
    else:
        _check_child(conn, p, entity, entity_id, kind, row)


def _check_inspection(conn: Connection, p: Principal, iid: str, kind: str, data: Any, row: Any) -> None:
    cur = _inspection(conn, iid)
    if cur is not None and not owns_inspection_row(p, cur):
        raise _no("inspection", iid, "该检查记录属于其他设备，且未列本机的检查人员")
    if kind == "delete":
        return
    if not isinstance(row, dict):
        return
    badges = data.get("inspector_badges") if isinstance(data, dict) else None
    if not _names_principal(p, row.get("inspector_ids"), badges) and (cur is None or cur.device_id != p.device_id):
        raise _no("inspection", iid, "检查人员中没有本机登记的检查人员（或在本机认证的协同检查人员）")
    rep = row.get("replaces_id")
    if rep and (base := _inspection(conn, rep)) is not None and not owns_inspection_row(p, base):
        raise _no("inspection", iid, f"所修订的检查记录 {rep} 属于其他设备")
    # findings carried in the inspection op must not take over another visit's finding ids
    fnds = data.get("findings") if isinstance(data, dict) else None
    ids = [f.get("id") for f in fnds or [] if isinstance(f, dict) and isinstance(f.get("id"), str)]
    F = D.findings
    for i in range(0, len(ids), 500):
        for r in conn.execute(sa.select(F.c.id, F.c.inspection_id).where(F.c.id.in_(ids[i:i + 500]),
                                                                         F.c.inspection_id != iid)):
            raise _no("inspection", iid, f"问题 {r.id} 属于另一份检查记录")


def _check_child(conn: Connection, p: Principal, entity: str, eid: str, kind: str, row: Any) -> None:
    table = CHILD_TABLES[entity]
    cur = conn.execute(sa.select(table.c.inspection_id).where(table.c.id == eid)).first()
    if cur is not None and not owns_inspection(conn, p, cur.inspection_id):
        raise _no(entity, eid, "它所属的检查记录不是本设备的")
    if kind == "delete" or not isinstance(row, dict):
        return
    target = _inspection(conn, row.get("inspection_id"))
    if target is None:
        raise ParentUnknown(f"{ENTITY_ZH[entity]} {eid} 所属的检查记录 {row.get('inspection_id')} 总部尚未收到；下次同步时重试")
    if not owns_inspection_row(p, target):
        raise _no(entity, eid, f"检查记录 {target.id} 不是本设备的")


def _check_rectification(conn: Connection, p: Principal, rid: str, kind: str, row: Any) -> None:
    R = D.rectifications
    cur = conn.execute(sa.select(R).where(R.c.id == rid)).first()
    if cur is not None and not owns_inspection(conn, p, cur.inspection_id):
        raise _no("rectification", rid, "它所属的检查记录不是本设备的")
    if kind == "delete":
        if cur is not None and any(getattr(cur, f) for f in HQ_DECIDED):
            raise _no("rectification", rid, "总部已对该整改作出决定，不能删除")
        return
    if not isinstance(row, dict):
        return
    target = _inspection(conn, row.get("inspection_id"))
    if target is None:
        raise ParentUnknown(f"整改记录 {rid} 所属的检查记录 {row.get('inspection_id')} 总部尚未收到；下次同步时重试")
    if not owns_inspection_row(p, target):
        raise _no("rectification", rid, f"检查记录 {target.id} 不是本设备的")
    if cur is not None:
        for f in RECT_FIXED:
            if row.get(f) != getattr(cur, f):
                raise _no("rectification", rid, f"字段 {f} 创建后不能修改")
    else:
        inst = conn.execute(sa.select(D.inspections.c.institution_id).where(
            D.inspections.c.id == target.id)).scalar()
        if row.get("institution_id") != inst:
            raise _no("rectification", rid, "整改记录的机构与其检查记录的机构不符")


def keep_hq_decisions(conn: Connection, rid: str, vals: dict[str, Any]) -> dict[str, Any]:
    """A laptop's rectification row with HQ's decided fields put back as HQ has them."""
    R = D.rectifications
    cur = conn.execute(sa.select(*(R.c[f] for f in HQ_DECIDED)).where(R.c.id == rid)).first()
    out = dict(vals)
    for f in HQ_DECIDED:
        out[f] = getattr(cur, f) if cur is not None else None
    return out


def may_read_blob(conn: Connection, p: Principal, sha: str) -> bool:
    """A device downloads a blob only when it is a photo or document of one of its inspections."""
    for table in (D.photos, D.documents):
        for r in conn.execute(sa.select(table.c.inspection_id).where(table.c.sha256 == sha).limit(50)):
            if owns_inspection(conn, p, r.inspection_id):
                return True
    return False
