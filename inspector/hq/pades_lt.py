"""PAdES-B-LT at HQ: the laptop signs PAdES-B-B on site; when the signed PDF reaches HQ, HQ adds
the validation data (DSS: every signer's chain and HQ's CRL, and the same for its TSA) and then
a document timestamp from its own TSA (inspector/hq/tsa.py), as one incremental revision.

The result is a new blob linked to the document in ``document_lt``; the laptop's original stays
as it was (the document's id, its QR and the public check of either file keep working).
Work is claimed row by row (``status``: pending → working → done / failed / skipped) with a
conditional UPDATE, so several HQ processes on one PostgreSQL never stamp the same document
twice; a claim older than ``STALE`` is taken over (a worker died). HQ's CRL is made from the
devices table (a revoked device's certificates, and the co-inspector keys certified on it).
"""
from __future__ import annotations

import asyncio
import datetime as dt
import hashlib
import io
import json
import logging
import os
import secrets
import socket
import time
from typing import Any

import sqlalchemy as sa
from asn1crypto import crl as asn1_crl
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from sqlalchemy.engine import Connection, Engine

from inspector import pki
from inspector.hq import db as D
from inspector.hq import tsa as T
from inspector.hq.blobs import HQBlobs
from inspector.hq.config import HQConfig
from inspector.util import now_iso

log = logging.getLogger(__name__)

STALE = dt.timedelta(minutes=5)   # a claim this old belongs to a worker that died
MAX_ATTEMPTS = 3
CRL_STALE_KEY = "crl_revision"    # hq_meta: changes whenever the revocation list must change
TS_FIELD = "HQ_DocTimeStamp"
TS_RESERVED = 8192                # hex digits for the timestamp token (≈ 1.3 KB of DER used)
_WORKER = f"{socket.gethostname()}:{os.getpid()}"


# -- CRL ------------------------------------------------------------------------------------------
def mark_crl_stale(engine: Engine) -> None:
    """A device was revoked: the next CRL request or B-LT step makes a new list."""
    with D.write(engine) as conn:
        # a fresh token, not a time: a CRL made in the same second must not pass for the new one
        D.upsert(conn, D.meta, {"key": CRL_STALE_KEY, "value": secrets.token_hex(8)}, ["key"])


def _revoked(conn: Connection) -> list[tuple[int, dt.datetime]]:
    out: dict[int, dt.datetime] = {}
    rows = conn.execute(sa.select(D.devices.c.id, D.devices.c.cert_pem, D.devices.c.revoked_at)
                        .where(D.devices.c.revoked_at.is_not(None))).all()
    revoked_at = {r.id: dt.datetime.fromisoformat(r.revoked_at) for r in rows}
    for r in rows:
        if r.cert_pem:
            out[x509.load_pem_x509_certificate(r.cert_pem.encode()).serial_number] = revoked_at[r.id]
    if revoked_at:  # co-inspectors' certificates issued onto a revoked device (service.certify)
        for m in conn.execute(sa.select(D.meta.c.value).where(D.meta.c.key.like("certified:%"))).scalars():
            try:
                rec = json.loads(m)
                if rec.get("device_id") in revoked_at:
                    serial = x509.load_pem_x509_certificate(rec["reply"]["cert_pem"].encode()).serial_number
                    out[serial] = revoked_at[rec["device_id"]]
            except (ValueError, KeyError, TypeError) as e:
                log.error("hq_meta certified entry unreadable, not in the CRL: %s", e)
    return sorted((s, w if w.tzinfo else w.replace(tzinfo=dt.timezone.utc)) for s, w in out.items())


def current_crl(cfg: HQConfig, engine: Engine, *, fresh: bool = False) -> bytes:
    """HQ's CRL (DER), remade when a revocation happened after it, when it is a day old, or ``fresh``."""
    path = cfg.ca_dir / "crl.der"
    with engine.connect() as conn:
        revision = conn.execute(sa.select(D.meta.c.value).where(D.meta.c.key == CRL_STALE_KEY)).scalar() or ""
    try:
        cached = path.read_bytes()
        made_for = (cfg.ca_dir / "crl.revision").read_text()
        age = time.time() - path.stat().st_mtime
    except OSError:
        cached, made_for, age = b"", None, 0.0
    if cached and not fresh and made_for == revision and age < 86400:
        return cached
    ca = pki.CA.load(cfg.ca_dir)
    with engine.connect() as conn:
        revoked = _revoked(conn)
    der = ca.crl(revoked, number=time.time_ns() // 1000)
    for name, data in (("crl.der", der), ("crl.revision", revision.encode())):
        tmp = cfg.ca_dir / f"{name}.{secrets.token_hex(8)}.tmp"  # threads of one process write at once too
        tmp.write_bytes(data)
        tmp.replace(cfg.ca_dir / name)
    return der


# -- producing the B-LT file ----------------------------------------------------------------------
def make_lt(pdf: bytes, tsa: T.TSA, crl_der: bytes) -> tuple[bytes, str]:
    """``pdf`` with a DSS (chains + CRL for every signature and for the TSA) and a document
    timestamp over all of it; returns (bytes, the timestamp's time ISO). Raises ValueError when a
    signature's certificate does not chain to HQ's CA or its revocation status is not known."""
    from pyhanko.pdf_utils.reader import PdfFileReader
    from pyhanko.sign.signers.pdf_signer import PdfTimeStamper
    from pyhanko.sign.validation.dss import DocumentSecurityStore, collect_validation_info
    from pyhanko_certvalidator import CertificateValidator, ValidationContext
    from pyhanko_certvalidator.errors import PathBuildingError, PathValidationError

    from inspector.signing import Pdf17Writer

    vc = ValidationContext(trust_roots=[tsa.ca_cert], crls=[crl_der], allow_fetching=False,
                           revocation_mode="hard-fail")
    reader = PdfFileReader(io.BytesIO(pdf), strict=False)
    sigs = [s for s in reader.embedded_signatures if s.sig_object_type == "/Sig"]
    if not sigs:
        raise ValueError("文书没有签名")

    async def paths() -> list[Any]:
        out = []
        for s in sigs:
            out += await collect_validation_info(s, vc)
        out.append(await CertificateValidator(tsa.cert, validation_context=vc)
                   .async_validate_usage(set(), {"time_stamping"}))
        return out

    try:
        found = asyncio.run(paths())
    except (PathBuildingError, PathValidationError) as e:
        raise ValueError(f"签名证书无法用总部证书机构与吊销列表验证：{e}") from e
    w = Pdf17Writer(io.BytesIO(pdf), strict=False)  # PDF/A-2b: stays PDF 1.7
    DocumentSecurityStore.supply_dss_in_writer(w, None, paths=found, validation_context=vc)
    stamper = T.LocalTimeStamper(tsa)
    out = PdfTimeStamper(stamper, field_name=TS_FIELD).timestamp_pdf(w, "sha256", bytes_reserved=TS_RESERVED)
    data = out.getvalue()
    ts = PdfFileReader(io.BytesIO(data), strict=False).embedded_signatures[-1]
    gen = ts.signed_data["encap_content_info"]["content"].parsed["gen_time"].native
    return data, gen.astimezone(dt.timezone.utc).isoformat()


def _store_blob(blobs: HQBlobs, data: bytes) -> str:
    sha = hashlib.sha256(data).hexdigest()
    dest = blobs.path(sha)
    if not dest.exists():
        dest.parent.mkdir(parents=True, exist_ok=True)
        tmp = dest.with_suffix(f".{secrets.token_hex(8)}.tmp")
        with open(tmp, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        tmp.replace(dest)
    return sha


# -- claims ---------------------------------------------------------------------------------------
def enqueue(engine: Engine, blobs: HQBlobs) -> int:
    """A ``pending`` row for each signed document whose blob HQ holds and that has none yet
    (or whose laptop file changed since)."""
    with engine.connect() as conn:
        rows = conn.execute(
            sa.select(D.documents.c.id, D.documents.c.sha256, D.document_lt.c.source_sha)
            .select_from(D.documents.outerjoin(D.document_lt, D.document_lt.c.document_id == D.documents.c.id))
            .where(D.documents.c.sha256.is_not(None), D.documents.c.sha256 != "",
                   sa.or_(D.document_lt.c.source_sha.is_(None), D.document_lt.c.source_sha != D.documents.c.sha256))
        ).all()
    todo = [r for r in rows if blobs.has(r.sha256)]
    if not todo:
        return 0
    L = D.document_lt
    with D.write(engine) as conn:
        if D.is_sqlite(conn):
            from sqlalchemy.dialects.sqlite import insert
        else:
            from sqlalchemy.dialects.postgresql import insert  # type: ignore[assignment]
        ins = insert(L).values([{"document_id": r.id, "source_sha": r.sha256, "sha256": None, "status": "pending",
                                 "attempts": 0, "error": None} for r in todo])
        # a row another worker made meanwhile stays as it is; only a changed laptop file restarts it
        conn.execute(ins.on_conflict_do_update(
            index_elements=["document_id"],
            set_={"source_sha": ins.excluded.source_sha, "sha256": None, "status": "pending", "attempts": 0,
                  "error": None},
            where=L.c.source_sha != ins.excluded.source_sha))
    return len(todo)


def _claim(engine: Engine, doc_id: str) -> tuple[str, str] | None:
    """(source sha, claim token) when this call now owns the document's row."""
    now = dt.datetime.now(dt.timezone.utc)
    token = f"{_WORKER}:{secrets.token_hex(6)}"
    L = D.document_lt
    with D.write(engine) as conn:
        res = conn.execute(L.update().where(
            L.c.document_id == doc_id,
            sa.or_(L.c.status == "pending",
                   sa.and_(L.c.status == "working", L.c.claimed_at < (now - STALE).isoformat()),
                   sa.and_(L.c.status == "failed", L.c.attempts < MAX_ATTEMPTS)))
            .values(status="working", claimed_at=now.isoformat(), claimed_by=token, attempts=L.c.attempts + 1))
        if res.rowcount != 1:
            return None
        return str(conn.execute(sa.select(L.c.source_sha).where(L.c.document_id == doc_id)).scalar()), token


def _finish(engine: Engine, doc_id: str, claim: tuple[str, str], **values: Any) -> None:
    L = D.document_lt
    with D.write(engine) as conn:  # only this claim (not one that took over a stale one) writes the result
        conn.execute(L.update().where(L.c.document_id == doc_id, L.c.source_sha == claim[0],
                                      L.c.status == "working", L.c.claimed_by == claim[1]).values(**values))


def process(cfg: HQConfig, engine: Engine, blobs: HQBlobs, *, limit: int = 50) -> dict[str, int]:
    """Stamp what is pending (this call's share); returns counts by outcome."""
    enqueue(engine, blobs)
    L = D.document_lt
    with engine.connect() as conn:
        ids = conn.execute(sa.select(L.c.document_id).where(
            sa.or_(L.c.status.in_(("pending", "working")),
                   sa.and_(L.c.status == "failed", L.c.attempts < MAX_ATTEMPTS)))
            .order_by(L.c.document_id).limit(limit)).scalars().all()
    counts = {"done": 0, "failed": 0, "skipped": 0}
    tsa = crl = None
    for doc_id in ids:
        claim = _claim(engine, doc_id)
        if claim is None:
            continue  # another worker has it, or it was finished meanwhile
        source = claim[0]
        try:
            if tsa is None:
                tsa = T.load_or_create(cfg.ca_dir, agency=cfg.agency, base_url=cfg.base_url)
                crl = current_crl(cfg, engine, fresh=True)
            assert crl is not None
            data, when = make_lt(blobs.path(source).read_bytes(), tsa, crl)
            sha = _store_blob(blobs, data)
            _finish(engine, doc_id, claim, status="done", sha256=sha, timestamp_at=when, done_at=now_iso(),
                    error=None)
            counts["done"] += 1
        except ValueError as e:  # not something a retry fixes: unsigned, or not HQ's certificates
            log.warning("document %s: no B-LT copy: %s", doc_id, e)
            _finish(engine, doc_id, claim, status="skipped", error=str(e)[:500])
            counts["skipped"] += 1
        except Exception as e:  # pyHanko and I/O fail in many types; logged and retried later
            log.exception("document %s: B-LT step failed", doc_id)
            _finish(engine, doc_id, claim, status="failed", error=f"{type(e).__name__}: {e}"[:500])
            counts["failed"] += 1
    return counts


def after_push(cfg: HQConfig, engine: Engine, blobs: HQBlobs) -> None:
    """Run after a push's reply has gone out (FastAPI background task): never raises."""
    try:
        c = process(cfg, engine, blobs)
        if any(c.values()):
            log.info("B-LT: %s", c)
    except Exception:  # a background task after the reply: logged; the next push retries
        log.exception("B-LT step after push failed")


# -- lookups --------------------------------------------------------------------------------------
def lt_info(conn: Connection, doc_id: str) -> dict[str, Any] | None:
    r = conn.execute(sa.select(D.document_lt).where(D.document_lt.c.document_id == doc_id)).first()
    return dict(r._mapping) if r is not None else None


def document_id_for_sha(conn: Connection, sha: str) -> str | None:
    """The document whose HQ B-LT copy has this SHA-256 (the laptop's original is documents.sha256)."""
    return conn.execute(sa.select(D.document_lt.c.document_id).where(D.document_lt.c.sha256 == sha,
                                                                     D.document_lt.c.status == "done")).scalar()


def ca_der(cfg: HQConfig) -> bytes:
    return x509.load_pem_x509_certificate((cfg.ca_dir / pki.CERT_FILE).read_bytes()).public_bytes(
        serialization.Encoding.DER)


def crl_serials(der: bytes) -> set[int]:
    return {int(r["user_certificate"].native) for r in asn1_crl.CertificateList.load(der)["tbs_cert_list"]
            ["revoked_certificates"]}

