"""What HQ does, without HTTP: enrolment, token checks, ingest of pushed operations,
the audit-chain check, the pull log, and the admin actions that feed the pull log.

Exactly-once in effect: an applied operation's id and answer are stored in the same
transaction as its effect; a retry gets the stored answer back (status ``duplicate``).
"""
from __future__ import annotations

import datetime as dt
import json
import logging
import secrets
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import DataError, IntegrityError, ProgrammingError

from inspector.hq import db as D
from inspector.hq import ownership, schemas
from inspector.hq.blobs import HQBlobs
from inspector.hq.config import HQConfig
from inspector.hq.errors import HQError
from inspector.util import dumps, new_id, now_iso, sha256_hex

log = logging.getLogger(__name__)
GENESIS = "0" * 64
BOOKKEEPING = {"extra", "device_id", "received_at", "superseded_by"}

# entity name (as the laptop's outbox says) -> HQ table
ENTITY_TABLES: dict[str, sa.Table] = {
    "institution": D.institutions, "inspector": D.inspectors, "checklist_version": D.checklist_versions,
    "draw": D.draws, "task": D.tasks, "inspection": D.inspections, "finding": D.findings,
    "rectification": D.rectifications, "photo": D.photos, "document": D.documents,
}
# what laptops pull
PULLED = ("institution", "inspector", "checklist_version", "draw", "task", "rectification")


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc)


def iso(t: dt.datetime) -> str:
    return t.isoformat(timespec="seconds")


# -- rows ---------------------------------------------------------------------------------------
def split_row(table: sa.Table, row: dict[str, Any]) -> dict[str, Any]:
    """Laptop row → HQ columns; unknown keys into ``extra`` (nothing dropped)."""
    cols = set(table.c.keys()) - BOOKKEEPING
    known = {k: v for k, v in row.items() if k in cols}
    extra = {k: v for k, v in row.items() if k not in cols}
    known["extra"] = dumps(extra)
    return known


def join_row(table: sa.Table, rec: Any) -> dict[str, Any]:
    """HQ row → the row as the laptop had it (None values dropped: absent and NULL look alike)."""
    m = dict(rec._mapping)
    extra = json.loads(m.get("extra") or "{}")
    out = {k: v for k, v in m.items() if k not in BOOKKEEPING and v is not None}
    out.update({k: v for k, v in extra.items() if v is not None})
    return out


def change_data(table: sa.Table, rec: Any) -> dict[str, Any]:
    """HQ row → a pull-log body: the laptop's row, with HQ's empty columns as explicit nulls
    (so a column HQ cleared is cleared on the laptop too, not left at its old value)."""
    out = {c: None for c in table.c.keys() if c not in BOOKKEEPING}
    out.update(join_row(table, rec))
    return out


# -- enrolment and tokens --------------------------------------------------------------------------
_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"


def _norm_code(code: str) -> str:
    return "".join(ch for ch in code.upper() if ch.isalnum())


def make_enrol_code(engine: Engine, cfg: HQConfig, badge_no: str, *, name: str | None = None,
                    minutes: int | None = None, created_by: str | None = None) -> dict[str, Any]:
    """A one-time code for the inspector with 执法证号 ``badge_no``; only its hash is kept."""
    raw = "".join(secrets.choice(_ALPHABET) for _ in range(12))
    code = f"{raw[:4]}-{raw[4:8]}-{raw[8:]}"
    now = utcnow()
    exp = now + dt.timedelta(minutes=minutes or cfg.code_minutes)
    with D.write(engine) as conn:
        insp = conn.execute(sa.select(D.inspectors).where(D.inspectors.c.badge_no == badge_no)).first()
        if insp is None:
            if not name:
                raise HQError(404, "inspector_unknown",
                              f"执法证号 {badge_no} 不在总部的检查人员名录中；请先导入名录或用 --name 指定姓名")
            upsert_entity(conn, "inspector", {"id": new_id(), "badge_no": badge_no, "name": name,
                                              "specialties": "[]", "conflicts": "[]", "updated_at": now_iso()})
        conn.execute(D.enrol_codes.insert().values(code_hash=sha256_hex(_norm_code(code).encode()),
                                                   badge_no=badge_no, created_at=iso(now), expires_at=iso(exp),
                                                   created_by=created_by))
    return {"code": code, "badge_no": badge_no, "expires_at": iso(exp)}


def enrol(engine: Engine, cfg: HQConfig, code: str, public_key_pem: str, device_name: str | None,
          qr_key_pem: str | None = None, badge_no: str | None = None) -> dict[str, Any]:
    """Trade a one-time code for a device token, a certificate and a block of document numbers."""
    from inspector.pki import CA

    h = sha256_hex(_norm_code(code).encode())
    now = utcnow()
    with D.write(engine) as conn:
        rec = conn.execute(sa.select(D.enrol_codes).where(D.enrol_codes.c.code_hash == h)).first()
        if rec is None:
            raise HQError(401, "code_invalid", "登记码无效")
        if dt.datetime.fromisoformat(rec.expires_at) < now:
            raise HQError(401, "code_expired", "登记码已过期；请向总部重新申请")
        if rec.used_at:
            again = _enrol_again(conn, cfg, rec, public_key_pem, qr_key_pem, now)
            if again is None:
                raise HQError(401, "code_used", "登记码已使用过（一次性）；请向总部重新申请")
            return again
        if badge_no and badge_no != rec.badge_no:
            raise HQError(401, "code_badge_mismatch", f"登记码不是发给执法证号 {badge_no} 的")
        insp = conn.execute(sa.select(D.inspectors).where(D.inspectors.c.badge_no == rec.badge_no)).first()
        if insp is None:
            raise HQError(404, "inspector_unknown", f"执法证号 {rec.badge_no} 不在总部名录中")
        ca = CA.load(cfg.ca_dir)
        try:
            cert = ca.issue(public_key_pem.encode(), common_name=insp.name, org=cfg.agency, serial=insp.badge_no,
                           base_url=cfg.base_url)
        except (ValueError, TypeError) as e:
            raise HQError(422, "bad_public_key", f"公钥无法读取（应为 PEM 格式的 ECDSA 公钥）：{e}") from e
        device_id = new_id()
        secret = secrets.token_urlsafe(32)
        res = conn.execute(D.enrol_codes.update().where(D.enrol_codes.c.code_hash == h,
                                                         D.enrol_codes.c.used_at.is_(None))
                           .values(used_at=iso(now), device_id=device_id))
        if res.rowcount != 1:
            raise HQError(401, "code_used", "登记码已使用过（一次性）")
        conn.execute(D.devices.insert().values(
            id=device_id, inspector_id=insp.id, badge_no=insp.badge_no, name=device_name,
            token_hash=sha256_hex(secret.encode()), public_key_pem=public_key_pem, cert_pem=cert.decode(),
            qr_key_pem=qr_key_pem,
            created_at=iso(now), expires_at=iso(now + dt.timedelta(days=cfg.token_days))))
        blocks = [allocate_block(conn, cfg, device_id, now.year, p) for p in dict.fromkeys(cfg.doc_prefixes.values())]
    return {"device_id": device_id, "token": f"{device_id}.{secret}", "inspector": join_row(D.inspectors, insp),
            "cert_pem": cert.decode(), "ca_pem": ca.cert_pem.decode(), "doc_blocks": blocks,
            "hq": {"agency": cfg.agency, "doc_prefixes": cfg.doc_prefixes, "profile": published_profile(cfg)}}


def _enrol_again(conn: Connection, cfg: HQConfig, rec: Any, public_key_pem: str, qr_key_pem: str | None,
                 now: dt.datetime) -> dict[str, Any] | None:
    """The reply to an enrolment was lost: the same code from the same device (same keys), while
    the code is valid and the device has never used its token, gets the same enrolment back (same
    device, certificate and number blocks) with a fresh token; the unseen old token stops working."""
    from inspector.pki import CA

    dev = conn.execute(sa.select(D.devices).where(D.devices.c.id == rec.device_id)).first()
    if (dev is None or dev.revoked_at or dev.last_seen_at or dev.public_key_pem != public_key_pem
            or (dev.qr_key_pem or None) != (qr_key_pem or None)):
        return None
    secret = secrets.token_urlsafe(32)
    res = conn.execute(D.devices.update().where(D.devices.c.id == dev.id, D.devices.c.last_seen_at.is_(None))
                       .values(token_hash=sha256_hex(secret.encode())))
    if res.rowcount != 1:
        return None
    insp = conn.execute(sa.select(D.inspectors).where(D.inspectors.c.id == dev.inspector_id)).first()
    blocks = [{"agency": b.agency, "year": b.year, "first": b.first, "last": b.last} for b in conn.execute(
        sa.select(D.doc_blocks).where(D.doc_blocks.c.device_id == dev.id).order_by(D.doc_blocks.c.id))]
    return {"device_id": dev.id, "token": f"{dev.id}.{secret}", "inspector": join_row(D.inspectors, insp),
            "cert_pem": dev.cert_pem, "ca_pem": CA.load(cfg.ca_dir).cert_pem.decode(), "doc_blocks": blocks,
            "hq": {"agency": cfg.agency, "doc_prefixes": cfg.doc_prefixes, "profile": published_profile(cfg)},
            "repeated": True}


def published_profile(cfg: HQConfig, *, text: bool = True) -> dict[str, Any] | None:
    """The jurisdiction profile HQ publishes ({id, version[, text]}), or None when it names none."""
    if not cfg.profile:
        return None
    from inspector import profiles

    if cfg.profile.endswith(".toml"):  # the bureau's own edition, kept in HQ's data folder
        path = cfg.home / cfg.profile
        try:
            prof = profiles.parse_profile(path.read_text(encoding="utf-8"), str(path))
        except OSError as e:
            raise HQError(500, "profile_unreadable", f"总部地区档案 {path} 无法读取：{e}") from e
    else:
        prof = profiles.load(cfg.profile)
    out: dict[str, Any] = {"id": prof.id, "version": prof.version}
    if text:
        out["text"] = prof.source_text
    return out


CERTIFIED = "certified:"   # hq_meta key prefix + code hash -> what certify issued with that code


def certify(engine: Engine, cfg: HQConfig, device: Device, code: str, badge_no: str,
            public_key_pem: str) -> dict[str, Any]:
    """A co-inspector's key on an enrolled laptop, certified by HQ's CA: their own one-time code
    (for their badge, unused, unexpired) is spent; the code's row records the device that now holds
    their key, and ``hq_meta`` keeps the key's fingerprint and certificate. The device token stays as
    it is (authenticated by the caller). A reply lost on the way: the same device asking again with
    the same code and the same key, while the code is valid, gets the same certificate back."""
    from inspector.pki import CA

    if not isinstance(badge_no, str) or not badge_no.strip():
        raise HQError(422, "bad_request", "需要执法证号 badge_no")
    h = sha256_hex(_norm_code(code).encode())
    now = utcnow()
    with D.write(engine) as conn:
        rec = conn.execute(sa.select(D.enrol_codes).where(D.enrol_codes.c.code_hash == h)).first()
        if rec is None:
            raise HQError(401, "code_invalid", "登记码无效")
        if rec.badge_no != badge_no:
            raise HQError(401, "code_badge_mismatch", f"登记码不是发给执法证号 {badge_no} 的；"
                                                      "请使用该检查人员本人的登记码")
        if dt.datetime.fromisoformat(rec.expires_at) < now:
            raise HQError(401, "code_expired", "登记码已过期；请向总部重新申请")
        key_sha = sha256_hex(public_key_pem.strip().encode())
        if rec.used_at:
            done = conn.execute(sa.select(D.meta.c.value).where(D.meta.c.key == CERTIFIED + h)).scalar()
            again = json.loads(done) if done else None
            if again and rec.device_id == device.id and again.get("public_key_sha256") == key_sha:
                return {**again["reply"], "repeated": True}
            raise HQError(401, "code_used", "登记码已使用过（一次性）；请向总部重新申请")
        insp = conn.execute(sa.select(D.inspectors).where(D.inspectors.c.badge_no == badge_no)).first()
        if insp is None:
            raise HQError(404, "inspector_unknown", f"执法证号 {badge_no} 不在总部名录中")
        ca = CA.load(cfg.ca_dir)
        try:
            cert = ca.issue(public_key_pem.encode(), common_name=insp.name, org=cfg.agency, serial=insp.badge_no,
                           base_url=cfg.base_url)
        except (ValueError, TypeError, AttributeError) as e:
            raise HQError(422, "bad_public_key", f"公钥无法读取（应为 PEM 格式的 ECDSA 公钥）：{e}") from e
        res = conn.execute(D.enrol_codes.update().where(D.enrol_codes.c.code_hash == h,
                                                         D.enrol_codes.c.used_at.is_(None))
                           .values(used_at=iso(now), device_id=device.id))
        if res.rowcount != 1:
            raise HQError(401, "code_used", "登记码已使用过（一次性）")
        reply = {"badge_no": insp.badge_no, "inspector": join_row(D.inspectors, insp), "device_id": device.id,
                 "cert_pem": cert.decode(), "ca_pem": ca.cert_pem.decode()}
        conn.execute(D.meta.insert().values(key=CERTIFIED + h, value=dumps(
            {"device_id": device.id, "badge_no": insp.badge_no, "public_key_sha256": key_sha, "at": iso(now),
             "reply": reply})))
    return reply


def allocate_block(conn: Connection, cfg: HQConfig, device_id: str, year: int, prefix: str) -> dict[str, Any]:
    """The next free range of document numbers for (prefix, year); ranges never overlap. At most
    ``cfg.doc_blocks_per_year`` blocks per device, prefix and year (``numbers.request_blocks``
    decides whether a device needs one at all)."""
    if prefix not in cfg.doc_prefixes.values():
        raise HQError(422, "bad_prefix", f"总部没有文号前缀 {prefix!r}")
    D.lock_changes(conn)  # one allocator at a time on PostgreSQL (SQLite is serial anyway)
    have = conn.execute(sa.select(sa.func.count()).select_from(D.doc_blocks).where(
        D.doc_blocks.c.agency == prefix, D.doc_blocks.c.year == year, D.doc_blocks.c.device_id == device_id)).scalar()
    if (have or 0) >= cfg.doc_blocks_per_year:
        raise HQError(429, "doc_block_cap", f"{prefix}〔{year}〕本设备已领取 {have} 个号段，达到每年上限"
                                            f" {cfg.doc_blocks_per_year} 个；请联系总部管理员")
    top = conn.execute(sa.select(sa.func.max(D.doc_blocks.c.last)).where(
        D.doc_blocks.c.agency == prefix, D.doc_blocks.c.year == year)).scalar() or 0
    first, last = top + 1, top + cfg.doc_block_size
    conn.execute(D.doc_blocks.insert().values(agency=prefix, year=year, first=first, last=last,
                                              device_id=device_id, created_at=now_iso()))
    return {"agency": prefix, "year": year, "first": first, "last": last}


@dataclass
class Device:
    id: str
    inspector_id: str | None
    badge_no: str


def authenticate(engine: Engine, authorization: str | None) -> Device:
    """Bearer ``<device_id>.<secret>`` → the device, or a 401/403 HQError. No caching: revocation is immediate."""
    if not authorization:
        raise HQError(401, "token_missing", "缺少设备令牌（Authorization: Bearer …）；请先登记设备")
    scheme, _, token = authorization.partition(" ")
    device_id, _, secret = token.strip().partition(".")
    if scheme.lower() != "bearer" or not device_id or not secret:
        raise HQError(401, "token_invalid", "设备令牌格式错误")
    with engine.connect() as conn:
        rec = conn.execute(sa.select(D.devices).where(D.devices.c.id == device_id)).first()
    if rec is None or not secrets.compare_digest(rec.token_hash, sha256_hex(secret.encode())):
        raise HQError(401, "token_invalid", "设备令牌无效")
    if rec.revoked_at:
        raise HQError(403, "device_revoked", f"设备 {device_id} 已被总部吊销")
    if dt.datetime.fromisoformat(rec.expires_at) < utcnow():
        raise HQError(401, "token_expired", "设备令牌已过期；请重新登记")
    if rec.last_seen_at is None:  # first use: the enrolment reply arrived (no repeat of the code after this)
        touch_device(engine, rec.id)
    return Device(rec.id, rec.inspector_id, rec.badge_no)


def touch_device(engine: Engine, device_id: str) -> None:
    with D.write(engine) as conn:
        conn.execute(D.devices.update().where(D.devices.c.id == device_id).values(last_seen_at=now_iso()))


def list_devices(engine: Engine) -> list[dict[str, Any]]:
    """Devices (no secrets); ``co_inspectors``: the other badges whose keys HQ certified on each."""
    E = D.enrol_codes
    with engine.connect() as conn:
        rows = conn.execute(sa.select(D.devices).order_by(D.devices.c.created_at)).all()
        co: dict[str, list[str]] = {}
        for c in conn.execute(sa.select(E.c.device_id, E.c.badge_no).where(E.c.used_at.is_not(None),
                                                                           E.c.device_id.is_not(None))
                              .order_by(E.c.used_at)).all():
            co.setdefault(c.device_id, []).append(c.badge_no)
    return [{**{k: v for k, v in r._mapping.items() if k not in ("token_hash", "public_key_pem", "cert_pem")},
             "co_inspectors": [b for b in dict.fromkeys(co.get(r.id, [])) if b != r.badge_no]} for r in rows]


def revoke_device(engine: Engine, device_id: str, reason: str = "设备吊销") -> list[dict[str, Any]]:
    """Revoke at once; the unused tail of its number blocks is recorded as returned (returned here)."""
    from inspector.hq import numbers, pades_lt

    _revoke(engine, device_id)
    pades_lt.mark_crl_stale(engine)  # the CRL HQ publishes lists the device's certificates at once
    return numbers.return_unused(engine, device_id, reason)


def _revoke(engine: Engine, device_id: str) -> None:
    with D.write(engine) as conn:
        res = conn.execute(D.devices.update().where(D.devices.c.id == device_id, D.devices.c.revoked_at.is_(None))
                           .values(revoked_at=now_iso()))
        if res.rowcount != 1:
            found = conn.execute(sa.select(D.devices.c.id).where(D.devices.c.id == device_id)).first()
            if not found:
                raise HQError(404, "device_unknown", f"没有设备 {device_id}")


# -- push ----------------------------------------------------------------------------------------
class _Retry(Exception):
    """An op failed in the fast pass: redo the request with one savepoint per op."""


# what the database (or a row's conversion) may refuse for one op's data; the op is then answered
# "rejected" on its own. DataError/ProgrammingError: psycopg on a NUL, a wrong type, a number out of range
REFUSED = (IntegrityError, DataError, ProgrammingError, ValueError, TypeError, KeyError)


def push(engine: Engine, blobs: HQBlobs, device: Device, body: dict[str, Any]) -> dict[str, Any]:
    """Apply a batch of operations and check the device's audit chain, in one transaction.

    Fast pass without savepoints; if any op is refused by the database, the whole
    transaction is rolled back and redone with a savepoint per op, so one bad op
    costs only itself."""
    ops = body.get("ops") or []
    if not isinstance(ops, list):
        raise HQError(422, "bad_request", "ops 应为列表")
    for careful in (False, True):
        try:
            with D.write(engine) as conn:
                if not D.is_sqlite(conn):  # one push per device at a time
                    conn.execute(sa.select(D.devices.c.id).where(D.devices.c.id == device.id).with_for_update())
                audit = check_audit(conn, device.id, body.get("audit") or {})
                who = ownership.principal(conn, device.id, device.inspector_id, device.badge_no)
                ids = [o["op_id"] for o in ops if isinstance(o, dict) and isinstance(o.get("op_id"), str)]
                done: dict[str, str] = {}
                for i in range(0, len(ids), 500):
                    done.update({r.op_id: r.response for r in conn.execute(
                        sa.select(D.applied_ops.c.op_id, D.applied_ops.c.response)
                        .where(D.applied_ops.c.op_id.in_(ids[i:i + 500])))})
                applied: list[dict[str, Any]] = []
                fresh = _new_inspections(conn, ops)
                bulk = {} if careful else _bulk_new_inspections(conn, blobs, device, who, ops, done, applied, fresh)
                results = [bulk.get(i) or _one_op(conn, blobs, device, who, op, done, applied, careful, fresh)
                           for i, op in enumerate(ops)]
                if applied:
                    conn.execute(D.applied_ops.insert(), applied)
                conn.execute(D.devices.update().where(D.devices.c.id == device.id).values(last_seen_at=now_iso()))
            return {"results": results, "audit": audit}
        except _Retry:
            continue
    raise AssertionError("unreachable")


def _new_inspections(conn: Connection, ops: list[Any]) -> set[str]:
    """Inspections of this request HQ has never seen: they need no delete-before-insert of children."""
    ids = list({o["entity_id"] for o in ops if isinstance(o, dict) and o.get("entity") == "inspection"
                and isinstance(o.get("entity_id"), str)})
    have: set[str] = set()
    for i in range(0, len(ids), 500):
        have.update(r.id for r in conn.execute(sa.select(D.inspections.c.id).where(
            D.inspections.c.id.in_(ids[i:i + 500]))))
    return set(ids) - have


def _bulk_new_inspections(conn: Connection, blobs: HQBlobs, device: Device, who: ownership.Principal,
                          ops: list[Any], done: dict[str, str], applied: list[dict[str, Any]],
                          fresh: set[str]) -> dict[int, dict[str, Any]]:
    """First sync of new inspections (the bulk of ingest): insert them, their answers, findings and
    children with one executemany per table for the whole request instead of a few statements per
    op — on PostgreSQL each statement is a round trip. Only plain cases: an inspection HQ has never
    seen, named by one op of the request, not a revision. Anything the database refuses sends the
    request to the careful pass (one savepoint per op), as before."""
    count: dict[str, int] = {}
    for o in ops:
        if isinstance(o, dict) and isinstance(o.get("entity_id"), str):
            count[o["entity_id"]] = count.get(o["entity_id"], 0) + 1
    picked: list[tuple[int, dict[str, Any], dict[str, Any]]] = []
    for i, o in enumerate(ops):
        if not (isinstance(o, dict) and o.get("entity") == "inspection" and o.get("op", "upsert") == "upsert"
                and isinstance(o.get("op_id"), str) and o["op_id"] not in done and o.get("entity_id") in fresh
                and count.get(o["entity_id"]) == 1 and isinstance(o.get("data"), dict)):
            continue
        row = o["data"].get("row")
        if not isinstance(row, dict) or row.get("id") != o["entity_id"] or row.get("replaces_id"):
            continue
        if blobs.missing([str(x) for x in o.get("blobs") or []]):
            continue
        if schemas.check_op_data("inspection", o["entity_id"], "upsert", o["data"]):
            continue  # _one_op answers it
        try:  # a refused op goes through _one_op, which answers it
            ownership.check_op(conn, who, "inspection", o["entity_id"], "upsert", o["data"])
        except ownership.Forbidden:
            continue
        picked.append((i, o, row))
    if len(picked) < 2:
        return {}
    ts = now_iso()
    groups: dict[tuple[Any, tuple[str, ...]], list[dict[str, Any]]] = {}

    def add(table: sa.Table, vals: dict[str, Any]) -> None:
        groups.setdefault((table, tuple(vals)), []).append(vals)

    for _i, o, row in picked:
        iid, data = o["entity_id"], o["data"]
        add(D.inspections, {**split_row(D.inspections, row), "device_id": device.id, "received_at": ts})
        for a in data.get("answers") or []:
            add(D.answers, split_row(D.answers, {**a, "inspection_id": iid}))
        for f in data.get("findings") or []:
            add(D.findings, {**split_row(D.findings, {**f, "inspection_id": iid}), "device_id": device.id,
                             "received_at": ts})
        for kind, rows in (data.get("children") or {}).items():
            for j, c in enumerate(rows):
                add(D.inspection_children, {"inspection_id": iid, "kind": kind, "child_id": str(c.get("id") or j),
                                            "data": dumps(c)})
    order = [D.inspections, D.answers, D.findings, D.inspection_children]
    try:
        for (table, _cols), rows in sorted(groups.items(), key=lambda g: order.index(g[0][0])):
            if table is D.findings:
                D.upsert(conn, table, rows, ["id"])
            else:
                conn.execute(table.insert(), rows)
    except REFUSED as e:  # the database refused a row: redo the request op by op, so it costs only itself
        raise _Retry() from e
    out: dict[int, dict[str, Any]] = {}
    for i, o, _row in picked:
        res = {"op_id": o["op_id"], "entity": "inspection", "entity_id": o["entity_id"], "status": "applied"}
        done[o["op_id"]] = dumps(res)
        applied.append({"op_id": o["op_id"], "device_id": device.id, "entity": "inspection",
                        "entity_id": o["entity_id"], "status": "applied", "response": done[o["op_id"]],
                        "applied_at": ts})
        fresh.discard(o["entity_id"])
        out[i] = res
    return out


def _one_op(conn: Connection, blobs: HQBlobs, device: Device, who: ownership.Principal, op: Any,
            done: dict[str, str], applied: list[dict[str, Any]], careful: bool, fresh: set[str]) -> dict[str, Any]:
    if not isinstance(op, dict) or not isinstance(op.get("op_id"), str):
        return {"op_id": op.get("op_id") if isinstance(op, dict) else None, "status": "error",
                "error": "操作缺少 op_id", "code": "bad_op"}
    op_id = op["op_id"]
    if op_id in done:
        return {**json.loads(done[op_id]), "status": "duplicate"}
    entity, entity_id, kind = op.get("entity"), op.get("entity_id"), op.get("op", "upsert")
    base = {"op_id": op_id, "entity": entity, "entity_id": entity_id}
    if entity not in ENTITY_TABLES or not isinstance(entity_id, str) or kind not in ("upsert", "delete"):
        return {**base, "status": "error", "code": "bad_op",
                "error": f"操作 {op_id}：未知的实体类型 {entity!r} 或操作 {kind!r}"}
    missing = blobs.missing([str(s) for s in op.get("blobs") or []])
    if missing:
        return {**base, "status": "missing_blobs", "missing": missing,
                "error": f"操作 {op_id}：总部缺少 {len(missing)} 个文件，请先上传"}
    bad_shape = schemas.check_op_data(entity, entity_id, kind, op.get("data"))
    if bad_shape:  # the route checks too; direct callers (the bench, admin tools) get the same answer
        return {**base, "status": "error", "code": "bad_row", "error": f"操作 {op_id}：{bad_shape}"}
    bad_size = blobs.op_size_problems(op) if kind == "upsert" else []
    if bad_size:
        return {**base, "status": "error", "code": "blob_size_mismatch", "error": f"操作 {op_id}：{bad_size[0]}"}
    try:
        ownership.check_op(conn, who, entity, entity_id, kind, op.get("data"))
    except ownership.ParentUnknown as e:  # its inspection has not reached HQ yet: the laptop retries later
        return {**base, "status": "pending", "code": "inspection_unknown", "error": str(e)}
    except ownership.Forbidden as e:
        return _forbidden(conn, device, base, str(e))
    try:
        if careful:
            with conn.begin_nested():
                res = _apply(conn, device, entity, entity_id, kind, op.get("data"), fresh)
        else:
            res = _apply(conn, device, entity, entity_id, kind, op.get("data"), fresh)
    except REFUSED as e:
        if not careful:
            raise _Retry() from e
        return {**base, "status": "error", "code": "rejected", "error": f"操作 {op_id}（{entity} {entity_id}）被拒绝：{e}"}
    if res is not None:
        return {**base, **res}
    res = {**base, "status": "applied"}
    done[op_id] = dumps(res)
    applied.append({"op_id": op_id, "device_id": device.id, "entity": entity, "entity_id": entity_id,
                    "status": "applied", "response": done[op_id], "applied_at": now_iso()})
    return res


def _forbidden(conn: Connection, device: Device, base: dict[str, Any], reason: str) -> dict[str, Any]:
    """A per-op refusal by the ownership rules: logged, kept as an alert for HQ's staff, not stored
    as applied (the rest of the batch goes on)."""
    log.warning("device %s: forbidden %s %s: %s", device.id, base.get("entity"), base.get("entity_id"), reason)
    conn.execute(D.audit_alerts.insert().values(device_id=device.id, kind="forbidden_op",
                                                detail=f"{base.get('entity')} {base.get('entity_id')}：{reason}"[:2000],
                                                at=now_iso()))
    return {**base, "status": "forbidden", "code": "forbidden", "error": reason}


def _apply(conn: Connection, device: Device, entity: str, entity_id: str, kind: str,
           data: Any, fresh: set[str] = frozenset()) -> dict[str, Any] | None:  # type: ignore[assignment]
    """Apply one operation; None when applied, else a refusal (conflict)."""
    table = ENTITY_TABLES[entity]
    if entity == "inspection":
        res = _apply_inspection(conn, device, entity_id, kind, data, entity_id in fresh)
        fresh.discard(entity_id)
        return res
    if kind == "delete":
        before = conn.execute(sa.select(table).where(table.c.id == entity_id)).first() if entity in PULLED else None
        conn.execute(table.delete().where(table.c.id == entity_id))
        if before is not None:
            D.add_change(conn, entity, entity_id, None, audience_for(conn, entity, join_row(table, before), device))
        return None
    row = data.get("row") if isinstance(data, dict) else None
    if not isinstance(row, dict) or row.get("id") != entity_id:
        raise ValueError(f"{entity} 的数据缺少 row 或 id 不符")
    vals = split_row(table, row)
    vals.update(device_id=device.id, received_at=now_iso())
    if entity == "rectification":
        vals = ownership.keep_hq_decisions(conn, entity_id, vals)
    D.upsert(conn, table, vals, ["id"])
    if entity in PULLED:
        # Every write to what laptops pull goes through the pull log, so its last entry is HQ's row.
        # Without this, an HQ decision logged earlier (while this change waited unsent on the laptop)
        # is pulled after the push and overwrites the laptop's copy, and HQ and laptop disagree.
        rec = conn.execute(sa.select(table).where(table.c.id == entity_id)).first()
        data_out = change_data(table, rec)
        D.add_change(conn, entity, entity_id, data_out, audience_for(conn, entity, data_out, device))
    return None


def audience_for(conn: Connection, entity: str, row: dict[str, Any], device: Device) -> list[str] | None:
    """Who pulls a pushed entity: rectifications and tasks go to their inspectors (and the pusher),
    directory rows to everyone."""
    if entity == "rectification":
        return rect_audience(conn, row.get("inspection_id"), device.inspector_id)
    if entity == "task":
        ids = task_audience(row)
        if ids is not None and device.inspector_id and device.inspector_id not in ids:
            ids.append(device.inspector_id)
        return ids
    return None


def rect_audience(conn: Connection, inspection_id: Any, pusher_inspector_id: str | None) -> list[str] | None:
    """The inspection's inspectors plus the inspector whose laptop sent the rectification."""
    insp = conn.execute(sa.select(D.inspections.c.inspector_ids).where(
        D.inspections.c.id == inspection_id)).first() if inspection_id else None
    audience = task_audience({"inspector_ids": insp.inspector_ids}) if insp else None
    if pusher_inspector_id:
        audience = audience or []
        if pusher_inspector_id not in audience:
            audience.append(pusher_inspector_id)  # the laptop that sent it hears back too
    return audience or None


def _apply_inspection(conn: Connection, device: Device, iid: str, kind: str, data: Any,
                      new: bool = False) -> dict[str, Any] | None:
    I = D.inspections

    def not_head() -> dict[str, Any] | None:
        cur = conn.execute(sa.select(I.c.superseded_by).where(I.c.id == iid)).first()
        if cur is not None and cur.superseded_by:
            return {"status": "conflict", "code": "not_head", "head": cur.superseded_by,
                    "error": f"检查记录 {iid} 已被修订 {cur.superseded_by} 替换，不能再修改；请基于最新修订另行修订"}
        return None

    if kind == "delete":
        if (c := not_head()) is not None:
            return c
        conn.execute(D.answers.delete().where(D.answers.c.inspection_id == iid))
        conn.execute(D.findings.delete().where(D.findings.c.inspection_id == iid))
        conn.execute(D.inspection_children.delete().where(D.inspection_children.c.inspection_id == iid))
        conn.execute(I.delete().where(I.c.id == iid))
        return None
    row = data.get("row") if isinstance(data, dict) else None
    if not isinstance(row, dict) or row.get("id") != iid:
        raise ValueError("inspection 的数据缺少 row 或 id 不符")
    rep = row.get("replaces_id")
    if rep and (c := not_head()) is not None:
        return c
    if rep:
        base = conn.execute(sa.select(I.c.id, I.c.superseded_by).where(I.c.id == rep)).first()
        if base is None:
            return {"status": "conflict", "code": "base_unknown",
                    "error": f"修订 {iid} 所替换的检查记录 {rep} 在总部不存在"}
        if base.superseded_by not in (None, iid):
            return {"status": "conflict", "code": "not_head", "head": base.superseded_by,
                    "error": f"修订 {iid} 替换的 {rep} 已不是最新修订（已被 {base.superseded_by} 替换）"}
        conn.execute(I.update().where(I.c.id == rep).values(superseded_by=iid))
    vals = split_row(I, row)
    vals.update(device_id=device.id, received_at=now_iso())
    if D.upsert(conn, I, vals, ["id"], where=I.c.superseded_by.is_(None)) == 0:
        return not_head()  # the row exists and a later revision replaced it: nothing was written
    answers = data.get("answers") or []
    if not new:
        conn.execute(D.answers.delete().where(D.answers.c.inspection_id == iid))
    if answers:
        conn.execute(D.answers.insert(), [split_row(D.answers, {**a, "inspection_id": iid}) for a in answers])
    fnds = data.get("findings") or []
    keep = [f["id"] for f in fnds]
    if not new:
        conn.execute(D.findings.delete().where(D.findings.c.inspection_id == iid, D.findings.c.id.not_in(keep)))
    groups: dict[tuple[str, ...], list[dict[str, Any]]] = {}
    for f in fnds:  # one executemany per column set (rows from one laptop share it)
        fv = split_row(D.findings, {**f, "inspection_id": iid})
        fv.update(device_id=device.id, received_at=vals["received_at"])
        groups.setdefault(tuple(fv), []).append(fv)
    for g in groups.values():
        D.upsert(conn, D.findings, g, ["id"])
    IC = D.inspection_children
    if not new:
        conn.execute(IC.delete().where(IC.c.inspection_id == iid))
    kids = [{"inspection_id": iid, "kind": kind, "child_id": str(c.get("id") or i), "data": dumps(c)}
            for kind, rows in (data.get("children") or {}).items() for i, c in enumerate(rows)]
    if kids:
        conn.execute(IC.insert(), kids)
    return None


# -- audit chain -----------------------------------------------------------------------------------
def check_audit(conn: Connection, device_id: str, audit: dict[str, Any]) -> dict[str, Any]:
    """Extend HQ's copy of the device's audit chain; flag gaps and rewrites (and re-anchor on the claim).
    A malformed block (an entry without ``seq``, ``entries`` not a list, ``head.seq`` not a number…)
    is a 422 naming the field, checked here too so no caller can turn it into a 500."""
    from inspector.hq.schemas import parse_audit
    from inspector.store import chain_hash

    audit = parse_audit(audit)

    A, H = D.audit_entries, D.audit_heads
    head = conn.execute(sa.select(H).where(H.c.device_id == device_id)).first()
    hseq, hhash = (head.seq, head.hash) if head else (0, GENESIS)
    seq, h = hseq, hhash
    problems: list[str] = []
    for e in sorted(audit.get("entries") or [], key=lambda e: e["seq"]):
        if e["seq"] <= hseq:
            old = conn.execute(sa.select(A.c.hash).where(A.c.device_id == device_id, A.c.seq == e["seq"])).first()
            if old is not None and old.hash != e["hash"]:
                problems.append(f"审计链第 {e['seq']} 条与总部已收到的不同（被改写）")
                break
            continue
        if e["seq"] != seq + 1:
            problems.append(f"审计链缺失第 {seq + 1}–{e['seq'] - 1} 条")
            break
        entry = {k: e.get(k) for k in ("ts", "actor", "entity", "entity_id", "action", "payload")}
        if e["prev_hash"] != h or chain_hash(e["prev_hash"], entry) != e["hash"]:
            problems.append(f"审计链第 {e['seq']} 条未接续上一条或内容与哈希不符（被改写）")
            break
        conn.execute(A.insert().values(device_id=device_id, seq=e["seq"], ts=e.get("ts"), actor=e.get("actor"),
                                       entity=e.get("entity"), entity_id=e.get("entity_id"),
                                       action=e.get("action"), payload=dumps(e.get("payload")),
                                       prev_hash=e["prev_hash"], hash=e["hash"]))
        seq, h = e["seq"], e["hash"]
    claim = audit.get("head") or {}
    cseq, chash = int(claim.get("seq", seq)), str(claim.get("hash", h))
    if not problems:
        if cseq < hseq:
            problems.append(f"设备审计链变短：总部已有第 {hseq} 条，设备只报到第 {cseq} 条（被重置或改写）")
        elif cseq == seq and chash != h:
            problems.append(f"设备报告的审计链头（第 {cseq} 条）与其内容不符（被改写）")
    status = "ok"
    if problems:
        status = "flagged"
        conn.execute(D.audit_alerts.insert().values(device_id=device_id, kind="audit_chain",
                                                    detail="；".join(problems), at=now_iso()))
        seq, h = cseq, chash  # re-anchor on the device's claim so later pushes can continue
    D.upsert(conn, H, {"device_id": device_id, "seq": seq, "hash": h,
                       "status": status if problems or not head else (head.status if head.status != "ok" else "ok"),
                       "detail": "；".join(problems) if problems else (head.detail if head else None),
                       "updated_at": now_iso()}, ["device_id"])
    return {"seq": seq, "hash": h, "status": status, "problems": problems}


def audit_head(engine: Engine, device_id: str) -> dict[str, Any]:
    with engine.connect() as conn:
        r = conn.execute(sa.select(D.audit_heads).where(D.audit_heads.c.device_id == device_id)).first()
    return {"seq": r.seq, "hash": r.hash, "status": r.status} if r else {"seq": 0, "hash": GENESIS, "status": "ok"}


def device_may_read_blob(engine: Engine, device: Device, sha: str) -> bool:
    with engine.connect() as conn:
        who = ownership.principal(conn, device.id, device.inspector_id, device.badge_no)
        return ownership.may_read_blob(conn, who, sha)


# -- pull ----------------------------------------------------------------------------------------
def changes_page(engine: Engine, device: Device, since: int, limit: int) -> dict[str, Any]:
    C = D.changes
    q = (sa.select(C).where(C.c.seq > since, sa.or_(C.c.audience.is_(None), C.c.audience == device.inspector_id))
         .order_by(C.c.seq).limit(limit + 1))
    with engine.connect() as conn:
        rows = conn.execute(q).all()
    more = len(rows) > limit
    rows = rows[:limit]
    out = [{"seq": r.seq, "entity": r.entity, "entity_id": r.entity_id, "op": r.op,
            "data": json.loads(r.data) if r.op == "upsert" else None} for r in rows]
    return {"changes": out, "cursor": rows[-1].seq if rows else since, "more": more}


# -- admin actions that feed the pull log -------------------------------------------------------------
def upsert_entity(conn: Connection, entity: str, row: dict[str, Any], *, audience: list[str] | None = None,
                  publish: bool = True) -> None:
    """HQ-side write of a pulled entity (directory row, task, decision…) plus its change-log row."""
    table = ENTITY_TABLES[entity]
    vals = split_row(table, row)
    vals.setdefault("received_at", now_iso())
    if entity == "checklist_version":
        _insert_ignore(conn, table, vals)  # versions are immutable
    else:
        D.upsert(conn, table, vals, ["id"])
    if publish:
        rec = conn.execute(sa.select(table).where(table.c.id == row["id"])).first()
        D.add_change(conn, entity, row["id"], change_data(table, rec), audience)


def _insert_ignore(conn: Connection, table: sa.Table, vals: dict[str, Any]) -> None:
    if conn.execute(sa.select(table.c.id).where(table.c.id == vals["id"])).first() is None:
        conn.execute(table.insert().values(**vals))


def task_audience(task: dict[str, Any]) -> list[str] | None:
    ids = task.get("inspector_ids")
    ids = json.loads(ids) if isinstance(ids, str) else ids
    return list(ids) if ids else None


def save_task(engine: Engine, task: dict[str, Any]) -> None:
    with D.write(engine) as conn:
        upsert_entity(conn, "task", task, audience=task_audience(task))


def decide_rectification(engine: Engine, rect_id: str, status: str, *, reinspection_task: dict[str, Any] | None = None,
                         note: str | None = None) -> dict[str, Any]:
    """HQ's decision on a rectification (and an optional 复查 task), published to the inspectors concerned."""
    R = D.rectifications
    with D.write(engine) as conn:
        rec = conn.execute(sa.select(R).where(R.c.id == rect_id)).first()
        if rec is None:
            raise HQError(404, "not_found", f"没有整改记录 {rect_id}")
        row = join_row(R, rec)
        pusher = conn.execute(sa.select(D.devices.c.inspector_id).where(D.devices.c.id == rec.device_id)).first()
        audience = rect_audience(conn, rec.inspection_id, pusher.inspector_id if pusher else None)
        if reinspection_task:
            upsert_entity(conn, "task", reinspection_task, audience=task_audience(reinspection_task) or audience)
            row["reinspection_task_id"] = reinspection_task["id"]
        row["status"] = status
        row["updated_at"] = now_iso()
        if status != "待整改":
            row.setdefault("closed_at", now_iso())
        upsert_entity(conn, "rectification", row, audience=audience)
        return row


# -- public verification ---------------------------------------------------------------------------
def check_qr(conn: Connection, token: str) -> dict[str, Any]:
    """A QR token (``id.record-sha.signature``) against HQ's record: the document exists, the record
    hash matches, and the Ed25519 signature verifies with the QR key of the device that sent the
    document (as enrolled). ``problems`` is empty only when all hold."""
    from inspector import qr
    from inspector.errors import DocumentError

    try:
        parsed = qr.parse_url("x/" + token)
    except DocumentError as e:
        return {"doc_id": None, "qr_valid": False, "problems": [str(e)]}
    out: dict[str, Any] = {"doc_id": parsed.doc_id, "qr_valid": False, "problems": []}
    r = conn.execute(sa.select(D.documents).where(D.documents.c.id == parsed.doc_id)).first()
    if r is None:
        out["problems"].append("总部没有这份文书的记录（尚未同步，或二维码不是本机关签发的）")
        return out
    doc = join_row(D.documents, r)
    if doc.get("record_sha256") and doc["record_sha256"] != parsed.record_sha256:
        out["problems"].append("二维码中的记录摘要与总部存档不一致")
    dev = conn.execute(sa.select(D.devices).where(D.devices.c.id == r.device_id)).first() if r.device_id else None
    if dev is None or not dev.qr_key_pem:
        out["problems"].append("总部没有签发设备的核验公钥")
    else:
        try:
            qr.check_url("x/" + token, dev.qr_key_pem.encode())
        except (DocumentError, ValueError) as ex:
            out["problems"].append(str(ex) if isinstance(ex, DocumentError) else f"设备核验公钥无法读取：{ex}")
    out["qr_valid"] = not out["problems"]
    return out


# -- export (canonical dumps; the console reads the same shapes) ----------------------------------------
def export_entity(conn: Connection, entity: str, entity_id: str) -> dict[str, Any] | None:
    """An entity as the laptop sent it: ``{"row": …}``, for inspections with answers, findings and children."""
    table = ENTITY_TABLES[entity]
    rec = conn.execute(sa.select(table).where(table.c.id == entity_id)).first()
    if rec is None:
        return None
    if entity != "inspection":
        return {"row": join_row(table, rec)}
    A, F, IC = D.answers, D.findings, D.inspection_children
    answers = [{k: v for k, v in join_row(A, r).items() if k != "inspection_id"} for r in conn.execute(
        sa.select(A).where(A.c.inspection_id == entity_id).order_by(A.c.checklist_version_id, A.c.item_id)).all()]
    fnds = [join_row(F, r) for r in conn.execute(sa.select(F).where(F.c.inspection_id == entity_id)
                                                 .order_by(F.c.id)).all()]
    kids: dict[str, list[Any]] = {}
    for r in conn.execute(sa.select(IC).where(IC.c.inspection_id == entity_id)
                          .order_by(IC.c.kind, IC.c.child_id)).all():
        kids.setdefault(r.kind, []).append(json.loads(r.data))
    return {"row": join_row(table, rec), "answers": answers, "findings": fnds, "children": kids}


def device_entities(engine: Engine, device_id: str) -> dict[tuple[str, str], dict[str, Any] | None]:
    """Everything a device pushed, keyed by (entity, id): the HQ side of a canonical comparison."""
    out: dict[tuple[str, str], dict[str, Any] | None] = {}
    with engine.connect() as conn:
        for entity, table in ENTITY_TABLES.items():
            for r in conn.execute(sa.select(table.c.id).where(table.c.device_id == device_id)).all():
                out[(entity, r.id)] = export_entity(conn, entity, r.id)
    return out
