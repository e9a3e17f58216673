"""The UI's view of the core: small wrappers that shape core results for screens.

Only calls into ``inspector`` (never SQL). Core modules other than the visit store are imported
on first use (start-up time); they are part of the app and never missing.
"""
from __future__ import annotations

import datetime as _dt
import logging
from functools import lru_cache
from typing import Any

from inspector.errors import FormError, InspectorError, NotFound
from inspector.store import Store
from inspector.store import visits

logger = logging.getLogger(__name__)


class Unavailable(InspectorError):
    """What a screen needs is not on this laptop yet (e.g. no checklist for the task: sync first)."""


def directory() -> Any:
    from inspector.store import directory

    return directory


# -- institutions and inspectors ----------------------------------------------------
def institutions_page(store: Store, text: str, offset: int, limit: int) -> list[dict[str, Any]]:
    d = directory()
    text = text.strip()
    if text:
        rows = d.search(store, text, limit=offset + limit)
    else:
        rows = d.list_institutions(store)
    return rows[offset:offset + limit]


def institution(store: Store, institution_id: str) -> dict[str, Any]:
    return directory().get_institution(store, institution_id)


_name_cache: dict[tuple[int, str], str] = {}


def institution_name(store: Store, institution_id: str) -> str:
    key = (id(store), institution_id)
    if key not in _name_cache:
        try:
            _name_cache[key] = institution(store, institution_id)["name"]
        except NotFound:  # not in the directory yet (a sync brings it): shown as unknown, not cached
            return f"（未知机构 {institution_id[:8]}）"
    return _name_cache[key]


def inspectors(store: Store) -> list[dict[str, Any]]:
    return directory().list_inspectors(store)


def inspector_names(store: Store, ids: list[str], people: dict[str, str] | None = None) -> str:
    if people is None:
        people = {p["id"]: p["name"] for p in inspectors(store)}
    return "、".join(people.get(i, "?") for i in ids)


def institution_history(store: Store, institution_id: str) -> list[dict[str, Any]]:
    out = []
    for insp in visits.list_inspections(store, institution_id=institution_id):
        n = len(visits.list_findings(store, insp.id))
        out.append({"id": insp.id, "started_at": insp.started_at, "status": insp.status,
                    "status_text": "已完成" if insp.locked else "草稿", "findings": n,
                    "result": insp.result_category or "", "revision": insp.revision})
    return out


def institution_grade(store: Store, institution_id: str) -> tuple[str, list[str]]:
    """The proposed credit grade from this laptop's findings (HQ confirms): the core's
    ``visit_state.institution_grade``, the same grade function the reports use."""
    from inspector import visit_state

    g = visit_state.institution_grade(store, institution_id)
    return g.grade, list(g.reasons)


# -- tasks ------------------------------------------------------------------------
TASK_KINDS = {"draw": "双随机抽查", "adhoc": "专项检查", "reinspection": "整改复查"}
TASK_STATUS = {"open": "待检查", "in_progress": "检查中", "done": "已完成", "cancelled": "已取消"}


def checklist_for_kind(kind: str | None) -> str:
    return "training" if kind == "培训机构" else "evaluation"


def task_checklist_ids(store: Store, task: dict[str, Any]) -> list[str]:
    """The checklists a task names; an HQ 复查 task names none, so the institution's kind decides."""
    wanted = list(task.get("checklist_ids") or [])
    if wanted:
        return wanted
    kind = task.get("institution_kind")
    if kind is None:
        try:
            kind = institution(store, task["institution_id"]).get("kind")
        except InspectorError:
            return []
    return [checklist_for_kind(kind)]


def tasks(store: Store) -> list[dict[str, Any]]:
    d = directory()
    rows = d.list_tasks(store)
    cl = offline_checklist_ids(store)
    people = {p["id"]: p["name"] for p in inspectors(store)} if rows else {}
    kinds = {i["id"]: i.get("kind") for i in d.list_institutions(store)} if rows else {}
    for r in rows:
        r["known_institution"] = r["institution_id"] in kinds
        if not r["known_institution"]:
            r["institution_name"] = "（名录中暂无此机构，请先同步）"
        elif not r.get("institution_name"):
            r["institution_name"] = institution_name(store, r["institution_id"])
        r["institution_kind"] = kinds.get(r["institution_id"])
        ids = r.get("inspector_ids") or []
        r["inspectors_text"] = inspector_names(store, ids, people) if ids else ""
        wanted = task_checklist_ids(store, r) if r["known_institution"] else []
        r["offline_ready"] = bool(wanted) and all(c in cl for c in wanted)
        r["offline_text"] = "离线可用" if r["offline_ready"] else (
            "缺机构信息" if not r["known_institution"] else "缺检查表")
        r["due_text"] = f"{r.get('due_from') or ''} ~ {r.get('due_to') or ''}"
        r["status_text"] = TASK_STATUS.get(r.get("status"), r.get("status"))
        r["kind_text"] = TASK_KINDS.get(r.get("kind"), r.get("kind") or "")
    order = {"in_progress": 0, "open": 1, "done": 2, "cancelled": 3}
    rows.sort(key=lambda r: (order.get(r.get("status"), 9), r.get("due_to") or ""))
    return rows


def rectifications_of_task(store: Store, task_id: str) -> list[dict[str, Any]]:
    """The rectifications HQ ordered this 复查 task for."""
    return [r for r in visits.list_rectifications(store) if r.get("reinspection_task_id") == task_id]


def task(store: Store, task_id: str) -> dict[str, Any] | None:
    return next((t for t in tasks(store) if t["id"] == task_id), None)


# -- inspections ---------------------------------------------------------------------
def inspections_page(store: Store, offset: int, limit: int) -> list[dict[str, Any]]:
    rows = visits.list_inspections(store, limit=limit, offset=offset)
    return [{"id": i.id, "institution": institution_name(store, i.institution_id), "started_at": i.started_at,
             "status": i.status, "status_text": "已完成" if i.locked else "草稿", "revision": i.revision,
             "result": i.result_category or "", "place": i.place or ""} for i in rows]


def rectifications(store: Store) -> list[dict[str, Any]]:
    rows = visits.list_rectifications(store)
    today = _dt.date.today()
    for r in rows:
        try:
            left = (_dt.date.fromisoformat(r["deadline"][:10]) - today).days
        except (ValueError, TypeError):
            left = None
        r["days_left"] = left
        if r["status"] != "待整改":
            r["days_text"] = "已关闭"
        elif left is None:
            r["days_text"] = ""
        elif left < 0:
            r["days_text"] = f"逾期 {-left} 天"
        else:
            r["days_text"] = f"剩 {left} 天"
        if r.get("reinspection_inspection_id"):
            try:
                done = visits.get_inspection(store, r["reinspection_inspection_id"]).locked
            except InspectorError:
                done = False
            r["reinspection_text"] = "复查已完成" if done else "复查中"
        elif r.get("reinspection_task_id"):
            r["reinspection_text"] = "总部已派复查任务"
        else:
            r["reinspection_text"] = "待复查" if r["status"] == "待整改" else ""
    return rows


# -- checklists and rules -------------------------------------------------------------
@lru_cache(maxsize=1)
def _shipped() -> tuple[Any, ...]:
    from inspector import forms

    return tuple(forms.load_all())


def shipped_checklists() -> list[Any]:
    try:
        return list(_shipped())
    except FormError:  # logged; the laptop still works from the versions HQ sent (screens say 请先同步检查表)
        logger.exception("the shipped checklists do not load")
        return []


def offline_checklist_ids(store: Store) -> set[str]:
    """Checklists usable without network: shipped files and versions already in the store.
    Cheap (no parsing), so the 任务 screen can show 离线可用 at start-up."""
    from inspector import paths

    out = {p.stem for p in paths.forms_dir().glob("*.toml") if p.name != "catalogue.toml"}
    import sys

    if "inspector.store.checklists" in sys.modules:  # already loaded: stored versions count too
        out |= {r["checklist_id"] for r in sys.modules["inspector.store.checklists"].list_versions(store)}
    return out


def shipped_checklist_ids() -> list[str]:
    return [c.id for c in shipped_checklists()]


def ensure_version(store: Store, checklist: Any) -> str:
    from inspector.store import checklists

    return checklists.ensure_version(store, checklist)


def checklist_choices(store: Store) -> list[dict[str, Any]]:
    """The checklists a visit can tick: shipped ones and those only HQ sent (store.checklists.choices)."""
    from inspector.store import checklists

    return checklists.choices(store, shipped_checklists())


def current_version(store: Store, checklist_id: str) -> str | None:
    """The version a new visit uses: the newest stored (HQ's latest publication), not the bundled file."""
    from inspector.store import checklists

    return checklists.current_version_id(store, checklist_id)


_cl_cache: dict[tuple[str, str], Any] = {}


def load_version(store: Store, version_id: str) -> Any:
    """A stored checklist version as inspected under the laptop's jurisdiction profile (items the
    profile has no provision for are 不适用 by its rule: ``visit_state.for_profile``)."""
    from inspector import profiles, visit_state

    key = (version_id, profiles.active(store).ref)
    if key not in _cl_cache:
        _cl_cache[key] = visit_state.load_checklist(store, version_id)
    return _cl_cache[key]


def cited_labels(store: Store, item_id: str | None, basis: str | None, codes: list[str] | None) -> tuple[str, str]:
    """(heading, text) of what a finding on this item cites under the laptop's profile: 失信代码 of the
    catalogue where the profile has one (内蒙古), else the bureau's 问题类别 (新乡) — never another
    jurisdiction's codes."""
    from inspector import profiles

    prof = profiles.active(store)
    labels = prof.cite(item_id, basis, list(codes or []))["labels"]
    return ("失信代码" if prof.uses_catalogue else "问题类别"), "、".join(labels)


def evaluate_item(item: Any, value: Any) -> Any:
    from inspector import rules

    return rules.evaluate_item(item, value)


def evaluate(checklist: Any, answers: dict[str, Any], photo_counts: dict[str, int] | None = None, *,
             institution_kind: str | None = None) -> Any:
    from inspector import rules

    return rules.evaluate(checklist, answers, photo_counts=photo_counts, institution_kind=institution_kind)


def catalogue_text(code: str) -> str:
    """The catalogue's text of a 失信行为 code; '' for a code the catalogue does not have (an older
    checklist may name one): the code itself is still shown."""
    from inspector import catalogue
    from inspector.errors import ValidationError

    try:
        return catalogue.entry(code).text
    except ValidationError:
        return ""


# -- enrolment ------------------------------------------------------------------------
def enrolled(store: Store) -> bool:
    """Whether this laptop is enrolled with HQ."""
    from inspector.sync import client

    return client.enrolment(store) is not None  # one row: cheap at start-up


# -- core modules the screens use ----------------------------------------------------
def photos_mod() -> Any:
    from inspector.store import photos

    return photos


def evidence_mod() -> Any:
    from inspector import evidence

    return evidence


def documents_mod() -> Any:
    from inspector.store import documents

    return documents


def sampling() -> Any:
    from inspector import sampling

    return sampling
