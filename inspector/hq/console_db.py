"""The web console's own HQ tables, on the same ``metadata`` as inspector.hq.db (so
``create_schema`` makes them on SQLite and PostgreSQL alike). Staff accounts are the sync
helper's ``staff`` table (username, argon2 hash, role); these hold what only the console
writes: web sessions, the clerk's per-finding 处理情况, 自评, grade decisions, publications,
rectification reviews and an audit trail of console actions.
"""
from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from inspector.hq.db import BigId, metadata

T = sa.Text


def _c(name: str, type_: sa.types.TypeEngine | type = T, **kw: Any) -> sa.Column:
    return sa.Column(name, type_, **kw)


console_sessions = sa.Table(
    "console_sessions", metadata,
    _c("token_hash", primary_key=True), _c("staff_id", nullable=False), _c("csrf", nullable=False),
    _c("created_at", nullable=False), _c("expires_at", nullable=False), _c("ended_at"),
)
# 处理情况 a clerk records per finding (what laptops do not know): see docs/reports.md
finding_handling = sa.Table(
    "finding_handling", metadata,
    _c("finding_id", primary_key=True), _c("category"), _c("project"),
    _c("certificates", sa.Integer, nullable=False, server_default="0"),
    _c("recovered", sa.Float, nullable=False, server_default="0"),
    _c("removed_project", sa.Integer, nullable=False, server_default="0"),
    _c("removed_institution", sa.Integer, nullable=False, server_default="0"),
    _c("measures"), _c("result_note"), _c("note"), _c("updated_by"), _c("updated_at", nullable=False),
)
credit_self = sa.Table(  # 自评 (one per institution and year; a re-import replaces it, history in events)
    "credit_self_assessments", metadata,
    _c("institution_id", primary_key=True), _c("year", sa.Integer, primary_key=True), _c("grade", nullable=False),
    _c("codes", nullable=False, server_default="[]"), _c("rectification"), _c("note"), _c("source"),
    _c("created_by"), _c("created_at", nullable=False),
)
credit_decisions = sa.Table(  # every decision kept; the latest per (institution, year) is the grade
    "credit_decisions", metadata,
    _c("id", primary_key=True), _c("institution_id", nullable=False), _c("year", sa.Integer, nullable=False),
    _c("proposed_grade", nullable=False), _c("proposed_reasons", nullable=False, server_default="[]"),
    _c("grade", nullable=False), _c("action", nullable=False),  # confirm / override
    _c("reason"), _c("reviewer", nullable=False), _c("decided_at", nullable=False),
    sa.Index("console_credit_decisions_inst", "institution_id", "year"),
)
publications = sa.Table(
    "publications", metadata,
    _c("id", primary_key=True), _c("kind", nullable=False),  # draw / results / credit
    _c("ref"), _c("title", nullable=False), _c("published_by"), _c("published_at", nullable=False),
    _c("withdrawn_at"),
)
rect_reviews = sa.Table(  # how a rectification was closed (the synced row carries status + re-inspection)
    "rect_reviews", metadata,
    _c("id", BigId, primary_key=True, autoincrement=True), _c("rectification_id", nullable=False),
    _c("status", nullable=False), _c("evidence"), _c("reinspection_inspection_id"), _c("decided_by"),
    _c("decided_at", nullable=False),
)
console_events = sa.Table(
    "console_events", metadata,
    _c("id", BigId, primary_key=True, autoincrement=True), _c("at", nullable=False), _c("staff"),
    _c("action", nullable=False), _c("entity"), _c("entity_id"), _c("detail"),
)
