"""Reads of HQ's tables as plain dicts (what inspector.reports takes), and the console's writes:
处理情况, re-inspection tasks and rectification decisions (through the sync helper's change log,
so laptops pull them), 自评, grade decisions, publications, an audit trail."""
from __future__ import annotations

import datetime as dt
import json
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from inspector.hq import console_db as C
from inspector.hq import db as D
from inspector.hq import service
from inspector.hq.errors import HQError
from inspector.util import dumps, new_id, now_iso

RECT_STATUSES = ("待整改", "已按期整改", "逾期整改", "拒不整改或敷衍整改")


def full_row(table: sa.Table, rec: Any) -> dict[str, Any]:
    """A synced row as the console reads it: every column of ``table`` (None where NULL) plus the
    laptop's extra fields. ``service.join_row`` drops NULL columns (absent and NULL look alike on the
    wire); the templates read fields by name under StrictUndefined, so a NULL must read as None."""
    out: dict[str, Any] = {c: None for c in table.c.keys() if c not in service.BOOKKEEPING}
    out.update(service.join_row(table, rec))
    return out


def row_or_empty(table: sa.Table, rec: Any) -> dict[str, Any]:
    """``full_row``, or every column None when the row is missing (e.g. an institution not in the directory)."""
    if rec is None:
        return {c: None for c in table.c.keys() if c not in service.BOOKKEEPING}
    return full_row(table, rec)


def _rows(conn: Connection, table: sa.Table, where: Any = None, order: Any = None) -> list[dict[str, Any]]:
    q = sa.select(table)
    if where is not None:
        q = q.where(where)
    if order is not None:
        q = q.order_by(order)
    return [full_row(table, r) for r in conn.execute(q).all()]


def _plain(table: sa.Table, conn: Connection, where: Any = None, order: Any = None) -> list[dict[str, Any]]:
    q = sa.select(table)
    if where is not None:
        q = q.where(where)
    if order is not None:
        q = q.order_by(order)
    return [dict(r._mapping) for r in conn.execute(q).all()]


def decode(v: Any) -> Any:
    if isinstance(v, str) and v[:1] in "[{":
        try:
            return json.loads(v)
        except ValueError:
            return v
    return v


def institutions(conn: Connection) -> dict[str, dict[str, Any]]:
    out = {}
    for r in _rows(conn, D.institutions, order=D.institutions.c.name):
        r["trades"] = decode(r.get("trades")) or []
        out[r["id"]] = r
    return out


def inspectors(conn: Connection) -> dict[str, dict[str, Any]]:
    return {r["id"]: r for r in _rows(conn, D.inspectors, order=D.inspectors.c.badge_no)}


def inspections(conn: Connection, where: Any = None) -> list[dict[str, Any]]:
    """Inspections with HQ's ``superseded_by`` (join_row drops it as bookkeeping)."""
    q = sa.select(D.inspections)
    if where is not None:
        q = q.where(where)
    out = []
    for r in conn.execute(q.order_by(D.inspections.c.started_at.desc())).all():
        d = full_row(D.inspections, r)
        d["superseded_by"] = r.superseded_by
        out.append(d)
    return out


def findings(conn: Connection, inspection_id: str | None = None) -> list[dict[str, Any]]:
    w = D.findings.c.inspection_id == inspection_id if inspection_id else None
    return _rows(conn, D.findings, w, D.findings.c.position)


def rectifications(conn: Connection) -> list[dict[str, Any]]:
    return _rows(conn, D.rectifications, order=D.rectifications.c.deadline)


def handling(conn: Connection) -> dict[str, dict[str, Any]]:
    return {r["finding_id"]: r for r in _plain(C.finding_handling, conn)}


def report_inputs(engine: Engine) -> dict[str, Any]:
    with engine.connect() as conn:
        return {"institutions": institutions(conn), "inspections": inspections(conn), "findings": findings(conn),
                "rectifications": rectifications(conn), "handling": handling(conn), "inspectors": inspectors(conn)}


def event(conn: Connection, staff: str | None, action: str, entity: str | None = None, entity_id: str | None = None,
          detail: Any = None) -> None:
    conn.execute(C.console_events.insert().values(at=now_iso(), staff=staff, action=action, entity=entity,
                                                  entity_id=entity_id,
                                                  detail=dumps(detail) if detail is not None else None))


# -- 处理情况 ---------------------------------------------------------------------------------------------
def save_handling(engine: Engine, finding_id: str, values: dict[str, Any], staff: str) -> None:
    with engine.begin() as conn:
        if conn.execute(sa.select(D.findings.c.id).where(D.findings.c.id == finding_id)).first() is None:
            raise HQError(404, "not_found", f"没有问题记录 {finding_id}")
        D.upsert(conn, C.finding_handling, {"finding_id": finding_id, **values, "updated_by": staff,
                                             "updated_at": now_iso()}, ["finding_id"])
        event(conn, staff, "处理情况", "finding", finding_id, values)


# -- rectifications ---------------------------------------------------------------------------------------
def today() -> str:
    return dt.date.today().isoformat()


def is_overdue(r: dict[str, Any], day: str | None = None) -> bool:
    return r.get("status") == "待整改" and (r.get("deadline") or "9999") < (day or today())


def create_reinspection(engine: Engine, rect_id: str, inspector_ids: list[str], staff: str, *,
                        due_days: int = 15) -> dict[str, Any]:
    """A 复查 task for the rectification, assigned to ``inspector_ids``, published to their laptops."""
    if len(inspector_ids) < 2:
        raise HQError(422, "bad_request", "复查任务至少需要 2 名检查人员")
    with engine.connect() as conn:
        rec = conn.execute(sa.select(D.rectifications).where(D.rectifications.c.id == rect_id)).first()
    if rec is None:
        raise HQError(404, "not_found", f"没有整改记录 {rect_id}")
    start = max(rec.deadline or today(), today())
    due_to = (dt.date.fromisoformat(start[:10]) + dt.timedelta(days=due_days)).isoformat()
    task = {"id": new_id(), "kind": "reinspection", "institution_id": rec.institution_id,
            "inspector_ids": dumps(inspector_ids), "checklist_ids": dumps([]), "due_from": start[:10],
            "due_to": due_to, "status": "open", "created_at": now_iso(),
            "note": f"复查：整改通知 {rec.notice_number or rec.id}，整改期限 {rec.deadline}"}
    row = service.decide_rectification(engine, rect_id, rec.status, reinspection_task=task)
    with engine.begin() as conn:
        event(conn, staff, "创建复查任务", "rectification", rect_id, {"task": task["id"], "inspectors": inspector_ids})
    return row


def close_rectification(engine: Engine, rect_id: str, status: str, staff: str, *, evidence: str = "",
                        reinspection_inspection_id: str | None = None) -> dict[str, Any]:
    """Decide a rectification; closing needs the re-inspection's result or written evidence."""
    if status not in RECT_STATUSES:
        raise HQError(422, "bad_request", f"整改状态无效：{status}")
    evidence = (evidence or "").strip()
    if status != "待整改" and not evidence and not reinspection_inspection_id:
        raise HQError(422, "evidence_required", "结案需要复查记录或整改证据说明")
    R = D.rectifications
    with engine.begin() as conn:
        rec = conn.execute(sa.select(R).where(R.c.id == rect_id)).first()
        if rec is None:
            raise HQError(404, "not_found", f"没有整改记录 {rect_id}")
        if reinspection_inspection_id:
            ri = conn.execute(sa.select(D.inspections).where(D.inspections.c.id == reinspection_inspection_id)).first()
            if ri is None or ri.institution_id != rec.institution_id:
                raise HQError(422, "bad_request", "所选复查记录不是该机构的检查记录")
        row = service.join_row(R, rec)
        ev = decode(row.get("evidence")) or []
        if evidence:
            ev = list(ev) + [evidence]
        row.update(status=status, evidence=dumps(ev), updated_at=now_iso())
        if reinspection_inspection_id:
            row["reinspection_inspection_id"] = reinspection_inspection_id
        if status != "待整改":
            row["closed_at"] = now_iso()
        else:
            row.pop("closed_at", None)
            conn.execute(R.update().where(R.c.id == rect_id).values(closed_at=None))
        pusher = conn.execute(sa.select(D.devices.c.inspector_id).where(D.devices.c.id == rec.device_id)).first()
        audience = service.rect_audience(conn, rec.inspection_id, pusher.inspector_id if pusher else None)
        service.upsert_entity(conn, "rectification", row, audience=audience)
        conn.execute(C.rect_reviews.insert().values(rectification_id=rect_id, status=status, evidence=evidence or None,
                                                    reinspection_inspection_id=reinspection_inspection_id,
                                                    decided_by=staff, decided_at=now_iso()))
        event(conn, staff, "整改结案" if status != "待整改" else "整改状态", "rectification", rect_id,
              {"status": status, "evidence": evidence, "reinspection": reinspection_inspection_id})
    return row


def suggest_status(rect: dict[str, Any], reinspection: dict[str, Any] | None, n_findings: int) -> str:
    """What the re-inspection suggests: no new problem by the deadline → 已按期整改, later → 逾期整改."""
    if reinspection is None:
        return "已按期整改" if not is_overdue(rect) else "逾期整改"
    if n_findings:
        return "拒不整改或敷衍整改"
    day = (reinspection.get("started_at") or "")[:10]
    return "已按期整改" if day <= (rect.get("deadline") or day) else "逾期整改"


# -- credit ----------------------------------------------------------------------------------------------
def self_assessment(conn: Connection, institution_id: str, year: int) -> dict[str, Any] | None:
    r = conn.execute(sa.select(C.credit_self).where(C.credit_self.c.institution_id == institution_id,
                                                     C.credit_self.c.year == year)).first()
    if r is None:
        return None
    d = dict(r._mapping)
    d["codes"] = decode(d["codes"]) or []
    return d


def save_self_assessment(conn: Connection, institution_id: str, year: int, grade: str, codes: list[str],
                         rectification: str | None, note: str | None, source: str, staff: str) -> None:
    D.upsert(conn, C.credit_self, {"institution_id": institution_id, "year": year, "grade": grade,
                                   "codes": dumps(codes), "rectification": rectification, "note": note,
                                   "source": source, "created_by": staff, "created_at": now_iso()},
             ["institution_id", "year"])
    event(conn, staff, "导入自评", "institution", institution_id, {"year": year, "grade": grade, "codes": codes})


def decisions(conn: Connection, institution_id: str | None = None, year: int | None = None) -> list[dict[str, Any]]:
    T = C.credit_decisions
    q = sa.select(T)
    if institution_id:
        q = q.where(T.c.institution_id == institution_id)
    if year:
        q = q.where(T.c.year == year)
    out = []
    for r in conn.execute(q.order_by(T.c.decided_at, T.c.id)).all():
        d = dict(r._mapping)
        d["proposed_reasons"] = decode(d["proposed_reasons"]) or []
        out.append(d)
    return out


def decide_grade(engine: Engine, institution_id: str, year: int, proposed: str, reasons: list[str], action: str,
                 grade: str, reason: str, staff: str) -> dict[str, Any]:
    from inspector.grading import GRADES

    reason = (reason or "").strip()
    if action not in ("confirm", "override"):
        raise HQError(422, "bad_request", "操作应为确认或改定")
    if action == "confirm":
        grade = proposed
    elif grade not in GRADES:
        raise HQError(422, "bad_request", f"等级无效：{grade}")
    elif not reason:
        raise HQError(422, "reason_required", "改定等级必须填写书面理由")
    row = {"id": new_id(), "institution_id": institution_id, "year": year, "proposed_grade": proposed,
           "proposed_reasons": dumps(reasons), "grade": grade, "action": action, "reason": reason or None,
           "reviewer": staff, "decided_at": now_iso()}
    with engine.begin() as conn:
        inst = conn.execute(sa.select(D.institutions).where(D.institutions.c.id == institution_id)).first()
        if inst is None:
            raise HQError(404, "not_found", f"没有机构 {institution_id}")
        conn.execute(C.credit_decisions.insert().values(**row))
        if year >= dt.date.today().year - 1:  # the directory carries the latest grade (draw weights read it)
            cur = service.join_row(D.institutions, inst)
            cur.update(credit_grade=grade, updated_at=now_iso())
            service.upsert_entity(conn, "institution", cur)
        event(conn, staff, "确认信用等级" if action == "confirm" else "改定信用等级", "institution", institution_id,
              {"year": year, "proposed": proposed, "grade": grade, "reason": reason})
    return row


def publish(engine: Engine, kind: str, ref: str | None, title: str, staff: str) -> str:
    pid = new_id()
    with engine.begin() as conn:
        conn.execute(C.publications.insert().values(id=pid, kind=kind, ref=ref, title=title, published_by=staff,
                                                    published_at=now_iso()))
        event(conn, staff, "公开", kind, ref, {"title": title})
    return pid


def publications(conn: Connection, kind: str | None = None) -> list[dict[str, Any]]:
    P = C.publications
    w = P.c.kind == kind if kind else None
    return _plain(P, conn, w, P.c.published_at.desc())


# -- one inspection, as the console's inspection page shows it ------------------------------------------
SIGNATURE_ROLES = {"inspector1": "检查人员（一）", "inspector2": "检查人员（二）", "person_in_charge": "被检查单位负责人",
                   "witness": "见证人", "recipient": "受送达人"}


def _revision_ref(conn: Connection, iid: str | None) -> dict[str, Any] | None:
    """Id, revision number and date of another revision (a link target); None when there is none."""
    if not iid:
        return None
    I = D.inspections
    r = conn.execute(sa.select(I.c.id, I.c.revision, I.c.started_at, I.c.status).where(I.c.id == iid)).first()
    if r is None:  # named by the laptop but not (yet) at HQ: still show the id
        return {"id": iid, "revision": None, "started_at": None, "status": None, "at_hq": False}
    return {**dict(r._mapping), "at_hq": True}


def latest_signatures(children: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The latest handwritten signature or refusal per role (the laptop prints the same one), in role order."""
    latest: dict[str, dict[str, Any]] = {}
    for s in sorted((c for c in children if isinstance(c, dict)),
                    key=lambda c: (str(c.get("created_at") or ""), str(c.get("id") or ""))):
        latest[str(s.get("role") or "")] = s
    order = list(SIGNATURE_ROLES)
    out = []
    for role, s in sorted(latest.items(), key=lambda kv: order.index(kv[0]) if kv[0] in order else len(order)):
        out.append({"role": role, "role_zh": SIGNATURE_ROLES.get(role, role), "name": s.get("signer_name") or "",
                    "refused": bool(s.get("refused")), "reason": s.get("refusal_reason") or "",
                    "at": s.get("created_at") or ""})
    return out


def inspection_detail(conn: Connection, iid: str) -> dict[str, Any] | None:
    """An inspection with its answers, findings, photos, documents, rectifications, signatures and the
    revisions it replaces / is replaced by; every row complete (``full_row``). None if HQ has no such id."""
    I = D.inspections
    rec = conn.execute(sa.select(I).where(I.c.id == iid)).first()
    if rec is None:
        return None
    row = full_row(I, rec)
    row["superseded_by"] = rec.superseded_by
    A = D.answers
    answers = [full_row(A, r) for r in conn.execute(
        sa.select(A).where(A.c.inspection_id == iid).order_by(A.c.checklist_version_id, A.c.item_id)).all()]
    kids: dict[str, list[Any]] = {}
    IC = D.inspection_children
    for r in conn.execute(sa.select(IC).where(IC.c.inspection_id == iid).order_by(IC.c.kind, IC.c.child_id)).all():
        kids.setdefault(r.kind, []).append(decode(r.data))
    docs = _rows(conn, D.documents, D.documents.c.inspection_id == iid, D.documents.c.created_at)
    for d in docs:
        served = decode(d.get("served"))
        d["served"] = served if isinstance(served, dict) else None  # receipts: method, refusal reason, witness
        d["status"] = d.get("status")  # a laptop field (extra), absent on rows older laptops sent
    return {"row": row, "answers": answers, "findings": findings(conn, iid), "children": kids,
            "signatures": latest_signatures(kids.get("signatures") or []),
            "photos": _rows(conn, D.photos, D.photos.c.inspection_id == iid, D.photos.c.created_at),
            "docs": docs,
            "rects": _rows(conn, D.rectifications, D.rectifications.c.inspection_id == iid),
            "replaces": _revision_ref(conn, row.get("replaces_id")),
            "superseded_by": _revision_ref(conn, rec.superseded_by)}
