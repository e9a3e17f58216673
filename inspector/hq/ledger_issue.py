"""HQ issues the 问题台账: the PDF gets a number from HQ's own sequence (per year), HQ's signature
(a document-signing certificate of HQ's CA, kept next to it in ``<home>/ca/``) and then the same
DSS + document timestamp as every synced document (inspector/hq/pades_lt.py). Each issue is
recorded in ``hq_meta`` (number → SHA-256 of the issued file, time, who) and the file is kept as
a blob. A ledger PDF made on a laptop has no number and says it is a draft."""
from __future__ import annotations

import datetime as dt
import fcntl
import hashlib
import json
import logging
from typing import Any

import sqlalchemy as sa
from cryptography import x509
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError

from inspector import keys, pki, signing
from inspector.hq import db as D
from inspector.hq import pades_lt
from inspector.hq import tsa as T
from inspector.hq.blobs import HQBlobs
from inspector.hq.config import HQConfig
from inspector.util import dumps, now_iso

log = logging.getLogger(__name__)
KEY_FILE, CERT_FILE = "hq-sign.key.pem", "hq-sign.cert.pem"
FIELD = "Sig_hq"
SEQ = "ledger_seq:"      # hq_meta: last ledger number issued in a year
ISSUED = "ledger_issued:"  # hq_meta: number -> what was issued
CONTENT = "ledger_content:"  # hq_meta: SHA-256 of a ledger's content -> the number it was issued under


def _signing_key(cfg: HQConfig) -> keys.SigningKey:
    d = cfg.ca_dir
    if not (d / CERT_FILE).exists():
        with open(d / ".hq-sign.lock", "w") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            if not (d / CERT_FILE).exists():
                ca = pki.CA.load(d)
                key = pki.new_key()
                pem = ca.issue(pki.public_pem(key), common_name=f"{cfg.agency}（台账签发）", org=cfg.agency,
                               days=3650, base_url=cfg.base_url)
                pki._write_private(d / KEY_FILE, pki.key_to_pem(key, None))
                tmp = d / (CERT_FILE + ".tmp")
                tmp.write_bytes(pem)
                tmp.replace(d / CERT_FILE)
    key = pki.load_key((d / KEY_FILE).read_bytes(), None, where=str(d / KEY_FILE))
    cert = x509.load_pem_x509_certificate((d / CERT_FILE).read_bytes())
    ca_cert = x509.load_pem_x509_certificate((d / pki.CERT_FILE).read_bytes())
    return keys.SigningKey("HQ", key, cert, ca_cert, True)


def prefix(cfg: HQConfig) -> str:
    p = cfg.doc_prefixes.get("ledger") if isinstance(cfg.doc_prefixes, dict) else None
    return str(p or (str(cfg.doc_prefixes.get("notice") or "") + "台"))


def next_number(cfg: HQConfig, engine: Engine, year: int) -> str:
    """``<prefix>〔year〕NNNN号`` from HQ's sequence; several processes never get the same one."""
    key = f"{SEQ}{year}"
    for _ in range(5):
        try:
            with D.write(engine) as conn:
                q = sa.select(D.meta.c.value).where(D.meta.c.key == key)
                cur = conn.execute(q if D.is_sqlite(conn) else q.with_for_update()).scalar()
                n = int(cur or 0) + 1
                if cur is None:
                    conn.execute(D.meta.insert().values(key=key, value=str(n)))
                else:
                    conn.execute(D.meta.update().where(D.meta.c.key == key).values(value=str(n)))
            return f"{prefix(cfg)}〔{year}〕{n:04d}号"
        except IntegrityError:  # another process made the year's first number at the same moment
            continue
    raise RuntimeError("台账编号分配冲突，请重试")


def form(cfg: HQConfig) -> dict[str, str]:
    """The ledger's annex label and title from the profile HQ publishes: "附件3" and the 35号 title only
    under 新乡's; no annex label and a plain title when HQ names no profile."""
    from inspector import profiles
    from inspector.hq import service

    pub = service.published_profile(cfg)
    if not pub:
        return {"annex": "", "title": "职业技能培训和评价机构检查问题台账"}
    w = profiles.parse_profile(pub["text"], f"profile {pub['id']}").wording
    return {"annex": w["ledger_annex"], "title": w["ledger_title"]}


def issue(cfg: HQConfig, engine: Engine, blobs: HQBlobs, rows: list[dict[str, Any]], *, date: str, unit: str,
          footer: dict[str, str], issued_by: str) -> tuple[bytes, str]:
    """Number, build, sign (HQ) and timestamp the ledger; returns (PDF, number). The same ledger
    (same rows, date, unit and footer) asked for again gets the copy already issued, not a new
    number: downloads must not leave gaps in the series."""
    from inspector.render import ledger_sheet

    sheet = form(cfg)  # a new profile edition (another title or annex label) is a new issue
    content = hashlib.sha256(json.dumps({"rows": rows, "date": date, "unit": unit, "footer": footer, **sheet},
                                        ensure_ascii=False, sort_keys=True, default=str).encode()).hexdigest()
    with engine.connect() as conn:
        prior = conn.execute(sa.select(D.meta.c.value).where(D.meta.c.key == CONTENT + content)).scalar()
    if prior:
        done = issued(engine, prior)
        if done and blobs.has(done["sha256"]):
            log.info("ledger %s handed out again (same content)", prior)
            return blobs.path(done["sha256"]).read_bytes(), prior
    number = next_number(cfg, engine, dt.date.today().year)
    pdf = ledger_sheet.build_pdf(rows, date=date, unit=unit, footer=footer, number=number, **sheet)
    pdf = signing.prepare(pdf, [FIELD])
    pdf = signing.sign(pdf, _signing_key(cfg), FIELD, reason=f"总部签发 {number}", location=cfg.agency)
    tsa = T.load_or_create(cfg.ca_dir, agency=cfg.agency, base_url=cfg.base_url)
    pdf, when = pades_lt.make_lt(pdf, tsa, pades_lt.current_crl(cfg, engine, fresh=True))
    sha = pades_lt._store_blob(blobs, pdf)
    with D.write(engine) as conn:
        conn.execute(D.meta.insert().values(key=ISSUED + number, value=dumps(
            {"sha256": sha, "issued_at": now_iso(), "timestamp_at": when, "issued_by": issued_by, "rows": len(rows)})))
        D.upsert(conn, D.meta, {"key": CONTENT + content, "value": number}, ["key"])
    log.info("ledger %s issued by %s (%d rows)", number, issued_by, len(rows))
    return pdf, number


def issued(engine: Engine, number: str) -> dict[str, Any] | None:
    with engine.connect() as conn:
        v = conn.execute(sa.select(D.meta.c.value).where(D.meta.c.key == ISSUED + number)).scalar()
    return json.loads(v) if v else None

