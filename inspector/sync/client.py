"""Enrolment and sync: push the outbox (blobs first, resumable), send the audit chain,
pull HQ's change log. Every step is safe to interrupt: an op is marked sent only when HQ
says applied/duplicate; its body is frozen at first attempt so a retry is byte-identical;
a pulled page and its cursor commit together; a pulled record that cannot apply here is
quarantined (kept, reported, retried) instead of blocking every later page; an op too big
for any request is refused by name instead of failing every sync.
"""
from __future__ import annotations

import json
import logging
import sqlite3
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Callable

import httpx

from inspector.errors import StoreError, SyncError
from inspector.store import Store, integrity
from inspector.sync import serialize as S
from inspector.sync.http import NOTHING_LOST, HQClient, HQRefused
from inspector.util import dumps, now_iso, sha256_hex

log = logging.getLogger(__name__)

Progress = Callable[[dict[str, Any]], None]
HELD = ("conflict", "rejected")          # stay unsent until someone resolves them
PULL_TABLES = {"institution": "institutions", "inspector": "inspectors", "checklist_version": "checklist_versions",
               "task": "tasks", "draw": "draws", "rectification": "rectifications"}
IMMUTABLE = {"checklist_versions", "draws"}
NATURAL_KEYS = {"institutions": "credit_code", "inspectors": "badge_no"}
BATCH_OPS = 100
AUDIT_BATCH = 500


@dataclass
class SyncReport:
    ok: bool = True
    pushed: int = 0                 # ops HQ applied now
    duplicates: int = 0             # ops HQ had already applied (a retry)
    held: list[dict[str, Any]] = field(default_factory=list)   # conflicts / refusals / unknown types
    blobs_uploaded: int = 0
    bytes_uploaded: int = 0
    pulled: int = 0
    pull_skipped: int = 0
    quarantined: list[dict[str, Any]] = field(default_factory=list)  # pulled records this laptop could not apply
    quarantine_waiting: int = 0     # all records in quarantine after this sync (older ones included)
    numbers: list[str] = field(default_factory=list)  # document-number blocks received or refused
    audit: dict[str, Any] = field(default_factory=dict)
    error: str | None = None
    seconds: float = 0.0
    pii_locked: int = 0             # ops held because the trainees' personal-data key is locked (retried next sync)
    pii_retired: int = 0            # trainee values under a key reset since (sent masked; HQ has any synced original)
    key_locked: bool = False        # the device token is sealed and this process cannot open it: passphrase needed

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    def text(self) -> str:
        lines = [f"推送 {self.pushed} 条记录（重复确认 {self.duplicates}），上传文件 {self.blobs_uploaded} 个"
                 f"（{self.bytes_uploaded / 1e6:.1f} MB），拉取 {self.pulled} 条"
                 + (f"（{self.pull_skipped} 条因本机有未推送的修改而暂不覆盖）" if self.pull_skipped else "")
                 + f"，用时 {self.seconds:.1f} 秒"]
        if self.audit.get("status") == "flagged":
            lines.append("警告：总部发现本机审计链有缺口或被改写：" + "；".join(self.audit.get("problems") or []))
        for h in self.held:
            lines.append(f"未推送：{h['entity']} {h['entity_id']}：{h.get('error') or h.get('status')}")
        if self.quarantined:
            lines.append(f"总部发来的 {len(self.quarantined)} 条记录无法在本机应用，已单独保存（隔离），其余照常同步：")
        for q in self.quarantined:
            lines.append(f"已隔离：{q['entity']} {q['entity_id']}：{q['error']}")
        if self.quarantine_waiting > len(self.quarantined):
            lines.append(f"共有 {self.quarantine_waiting} 条总部记录在隔离中，每次同步会重试"
                         "（inspector sync status 查看原因）")
        if self.pii_locked:
            from inspector.pii import LOCKED_MESSAGE

            lines.append(f"{LOCKED_MESSAGE}（{self.pii_locked} 条检查记录暂未推送，其余已照常同步）")
        if self.pii_retired:
            lines.append(f"{self.pii_retired} 项学员信息在口令重置前加密、本机已无法解密，按脱敏值推送（总部保留此前同步的原值）")
        lines.extend(self.numbers)
        lines.append(f"同步失败：{self.error}" if self.error else "同步完成。")
        return "\n".join(lines)


# -- enrolment -------------------------------------------------------------------------------------
def enrolment(store: Store) -> dict[str, Any] | None:
    return store.one("SELECT * FROM sync_enrolment WHERE id = 1")


TLS_CA_FILE = "hq-tls-ca.pem"   # in the laptop's data folder: the bureau CA pinned at enrolment


def pinned_ca(store: Store) -> Path | None:
    """The bureau CA this laptop trusts for HQ's HTTPS (pinned at enrolment), or None: system store."""
    p = Path(store.home) / TLS_CA_FILE
    return p if p.is_file() else None


def _read_ca_file(ca_file: str | Path) -> bytes:
    """The PEM certificates of a bureau CA file, checked before anything is sent with it."""
    from cryptography import x509

    try:
        pem = Path(ca_file).read_bytes()
        certs = x509.load_pem_x509_certificates(pem)
    except OSError as e:
        raise SyncError(f"证书机构文件 {ca_file} 无法读取（{e.strerror or e}）") from e
    except ValueError as e:
        raise SyncError(f"证书机构文件 {ca_file} 不是 PEM 格式的证书（{e}）") from e
    if not certs:
        raise SyncError(f"证书机构文件 {ca_file} 中没有证书")
    return pem


def enrol(store: Store, hq_url: str, code: str, *, badge_no: str | None = None, passphrase: str | None = None,
          device_name: str | None = None, transport: httpx.BaseTransport | None = None,
          ca_file: str | Path | None = None) -> dict[str, Any]:
    """Enrol this laptop: device token, HQ-issued certificate for the inspector's key, number blocks.
    ``ca_file``: the bureau CA that signed HQ's HTTPS certificate; pinned (copied into the data folder)
    and the only CA trusted for HQ from then on. Without it the system's trust store is used."""
    from inspector import keys, numbering

    home = store.home
    ca_pem = _read_ca_file(ca_file) if ca_file is not None else None
    badge = badge_no or _only_badge(home)
    if not keys.has_key(home, badge):
        if not passphrase:
            raise SyncError(f"执法证号 {badge} 在本机还没有签名密钥；请先创建密钥，或用 --passphrase 设定签名口令后再登记")
        r = store.one("SELECT name, unit FROM inspectors WHERE badge_no = ?", (badge,))
        keys.create_inspector_key(home, badge, (r or {}).get("name") or badge, passphrase, unit=(r or {}).get("unit"))
    body = {"code": code, "badge_no": badge, "public_key_pem": keys.public_key_pem(home, badge).decode(),
            "qr_public_key_pem": keys.device_public_pem(home).decode(), "device_name": device_name}
    with HQClient(hq_url, transport=transport, ca_file=ca_file) as api:
        resp = api.post("/api/v1/enrol", "设备登记", json=body)
    keys.install_hq_certificate(home, badge, resp["cert_pem"].encode(), resp["ca_pem"].encode())
    pin = Path(home) / TLS_CA_FILE
    if ca_pem is not None:  # pinned only once HQ answered through it; a new enrolment replaces the pin
        tmp = pin.with_suffix(".tmp")
        tmp.write_bytes(ca_pem)
        tmp.replace(pin)
    else:
        pin.unlink(missing_ok=True)
    with store.tx() as db:
        db.execute("INSERT OR REPLACE INTO sync_enrolment (id, hq_url, device_id, token, badge_no, inspector_id,"
                   " hq_ca_sha256, enrolled_at) VALUES (1, ?, ?, ?, ?, ?, ?, ?)",
                   (hq_url.rstrip("/"), resp["device_id"], _seal_token(home, resp["token"]), badge,
                    resp["inspector"].get("id"),
                    sha256_hex(resp["ca_pem"].encode()), now_iso()))
        db.execute("UPDATE sync_state SET pull_cursor = 0, hq_audit_seq = 0, hq_audit_hash = NULL,"
                   " hq_audit_status = NULL WHERE id = 1")
        prof = (resp.get("hq") or {}).get("profile")
        if isinstance(prof, dict) and isinstance(prof.get("text"), str):
            # the laptop works under the profile its HQ publishes (law, wording, prefixes)
            from inspector import profiles

            profiles.install(store, prof["text"])
        for kind, prefix in (resp.get("hq", {}).get("doc_prefixes") or {}).items():
            store.set_meta(f"doc_prefix.{kind}", prefix)
        for b in resp.get("doc_blocks") or []:
            numbering.install_block(store, b["agency"], int(b["year"]), int(b["first"]), int(b["last"]), "hq")
        store.set_meta("enrolled", "1")
        store.log("device", resp["device_id"], "enrol", {"hq_url": hq_url, "badge_no": badge,
                                                          **({"tls_ca_sha256": sha256_hex(ca_pem)} if ca_pem else {})},
                  push=False)
    return {"device_id": resp["device_id"], "badge_no": badge, "inspector": resp["inspector"],
            "doc_blocks": resp.get("doc_blocks") or [], "hq_url": hq_url}


def certify_inspector(store: Store, code: str, badge_no: str, passphrase: str | None = None, *,
                      transport: httpx.BaseTransport | None = None) -> dict[str, Any]:
    """On an enrolled laptop: get a co-inspector's key certified by HQ's CA with their own one-time
    code, so documents both sign here verify as 总部认证. Makes their key first if this laptop has none
    (``passphrase`` then needed). The device token, number blocks and pull cursor stay as they are."""
    from inspector import keys

    home = store.home
    badge = (badge_no or "").strip()
    if not badge:
        raise SyncError("请填写同行检查人员的执法证号")
    if not (code or "").strip():
        raise SyncError(f"请填写总部发给执法证号 {badge} 的一次性登记码")
    if enrolment(store) is None:
        raise SyncError("本机还没有在总部登记；请先用本机使用人的登记码登记本机，再为同行检查人员申请证书")
    created = False
    if not keys.has_key(home, badge):
        if not passphrase:
            raise SyncError(f"执法证号 {badge} 在本机还没有签名密钥；请由本人设定签名口令后再申请证书")
        r = store.one("SELECT name, unit FROM inspectors WHERE badge_no = ?", (badge,))
        keys.create_inspector_key(home, badge, (r or {}).get("name") or badge, passphrase, unit=(r or {}).get("unit"))
        created = True
    body = {"code": code.strip(), "badge_no": badge, "public_key_pem": keys.public_key_pem(home, badge).decode()}
    with client_for(store, transport) as api:
        resp = api.post("/api/v1/certify", f"为执法证号 {badge} 申请总部证书", json=body)
    e = enrolment(store) or {}
    if e.get("hq_ca_sha256") and e["hq_ca_sha256"] != sha256_hex(resp["ca_pem"].encode()):
        raise SyncError(f"执法证号 {badge}：总部返回的证书机构与本机登记时的不同，未安装该证书")
    keys.install_hq_certificate(home, badge, resp["cert_pem"].encode(), resp["ca_pem"].encode())
    with store.tx():
        store.log("inspector_key", badge, "certify", {"device_id": resp.get("device_id"), "key_created": created},
                  push=False)
    return {"badge_no": badge, "inspector": resp.get("inspector") or {}, "key_created": created,
            "device_id": resp.get("device_id"), "repeated": bool(resp.get("repeated"))}


def inspector_keys(store: Store) -> list[dict[str, Any]]:
    """The signing keys on this laptop and whether HQ's CA certified each (no passphrase needed)."""
    from cryptography import x509

    from inspector import keys

    d = keys.keys_dir(store.home)
    hq = keys.hq_ca_path(store.home)
    hq_subject = x509.load_pem_x509_certificate(hq.read_bytes()).subject if hq.exists() else None
    out = []
    for p in sorted(d.iterdir()) if d.exists() else []:
        if not (p / "key.pem").exists() or not (p / "cert.pem").exists():
            continue
        cert = x509.load_pem_x509_certificate((p / "cert.pem").read_bytes())
        r = store.one("SELECT name FROM inspectors WHERE badge_no = ?", (p.name,)) or {}
        out.append({"badge_no": p.name, "name": r.get("name"),
                    "hq_certified": hq_subject is not None and cert.issuer == hq_subject})
    return out


def _only_badge(home: Any) -> str:
    from inspector import keys

    d = keys.keys_dir(home)
    found = [p.name for p in d.iterdir() if p.is_dir() and (p / "key.pem").exists()] if d.exists() else []
    if len(found) != 1:
        raise SyncError("请用 --badge 指明执法证号" + (f"（本机有 {len(found)} 把签名密钥）" if found else ""))
    return found[0]


def _seal_token(home: Any, token: str) -> str:
    """The device token sealed like the trainees' data (pii.seal_secret): a copied database file
    does not carry a usable bearer token."""
    from inspector import pii

    return pii.seal_secret(home, "device-token", token.encode("utf-8"))


def device_token(store: Store) -> str:
    """The device token in clear, for this request only. Raises pii.Locked (passphrase needed: no OS key
    store) or SyncError (sealed before a passphrase reset: enrol again). A token an earlier version
    stored in clear is sealed now."""
    from inspector import pii

    e = enrolment(store)
    if e is None:
        raise SyncError("本机还没有在总部登记；请先运行 inspector enrol --hq 地址 --code 登记码")
    tok = e["token"]
    if not pii.is_sealed(tok):
        was = store.scalar("PRAGMA secure_delete")
        store.conn.execute("PRAGMA secure_delete=ON")  # the clear bytes must not stay in a freed cell
        try:
            with store.tx() as db:
                db.execute("UPDATE sync_enrolment SET token = ? WHERE id = 1", (_seal_token(store.home, tok),))
            store.conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")  # nor in the WAL's old frames
        finally:
            store.conn.execute(f"PRAGMA secure_delete={int(was or 0)}")
        log.warning("device token stored in clear by an earlier version: sealed")
        return str(tok)
    try:
        return pii.open_secret(store.home, "device-token", tok).decode("utf-8")
    except pii.Retired:
        raise SyncError("本机的总部登记凭据在签名口令重置前加密，已无法解密；请向总部申请新的登记码，"
                        "用 inspector enrol 重新登记本机（已同步的记录在总部，登记后可重新同步）") from None


def client_for(store: Store, transport: httpx.BaseTransport | None = None) -> HQClient:
    e = enrolment(store)
    if e is None:
        raise SyncError("本机还没有在总部登记；请先运行 inspector enrol --hq 地址 --code 登记码")
    return HQClient(e["hq_url"], device_token(store), transport=transport, ca_file=pinned_ca(store))


# -- sync --------------------------------------------------------------------------------------------
def sync(store: Store, *, transport: httpx.BaseTransport | None = None, progress: Progress | None = None,
         pull: bool = True, push: bool = True) -> SyncReport:
    """Push, then pull, then send the audit entries the pull added. Never raises for network
    trouble: the report says what failed (and nothing local is lost)."""
    rep = SyncReport()
    t0 = time.perf_counter()
    prog = progress or (lambda _e: None)
    from inspector import pii

    try:  # a damaged or tampered store is never sent on: HQ would take it as the record
        integrity.require_sound(store)
        integrity.sign_pending(store)  # checkpoints left while the device key was locked, if it opens now
    except StoreError as e:
        rep.ok = False
        rep.error = "\n".join(getattr(e, "problems", None) or [str(e)])
        log.error("sync refused: %s", rep.error)
        return rep
    try:
        api = client_for(store, transport)
    except pii.Locked as e:  # no OS key store, no passphrase yet in this process: ask once, then retry
        rep.ok, rep.key_locked, rep.error = False, True, str(e)
        log.info("sync waits for a passphrase: %s", e)
        return rep
    with store.tx() as db:
        run_id = db.execute("INSERT INTO sync_runs (started_at) VALUES (?)", (now_iso(),)).lastrowid
        db.execute("UPDATE sync_state SET last_attempt_at = ? WHERE id = 1", (now_iso(),))
    try:
        st = api.get("/api/v1/sync/state", "读取总部同步状态")
        _follow_profile(store, api, st.get("profile"))
        _set_audit(store, st["audit"])
        rep.audit = st["audit"]
        limits = st.get("limits") or {}
        # audit entries per request take at most a quarter of HQ's limit; ops get half
        store.__dict__["_sync_audit_budget"] = int(limits.get("max_body") or 8 << 20) // 4
        if push:
            _push(store, api, rep, prog, limits)
            _top_up_numbers(store, api, rep)
        if pull:
            _pull(store, api, rep, prog)
            _push_audit_only(store, api, rep)
    except SyncError as e:
        rep.ok = False
        rep.error = str(e) if NOTHING_LOST in str(e) or "没有丢失" in str(e) else f"{e}；{NOTHING_LOST}"
    except (KeyError, TypeError, ValueError, httpx.InvalidURL) as e:
        rep.ok = False
        rep.error = f"同步中断：总部的回答无法理解或地址无效（{type(e).__name__}: {e}）；{NOTHING_LOST}"
    finally:
        api.close()
        rep.bytes_uploaded = api.bytes_sent
        rep.seconds = time.perf_counter() - t0
        with store.tx() as db:
            db.execute("UPDATE sync_runs SET finished_at = ?, ok = ?, summary = ? WHERE id = ?",
                       (now_iso(), int(rep.ok), dumps(rep.to_json()), run_id))
            db.execute("UPDATE sync_state SET last_error = ?" + (", last_ok_at = ?" if rep.ok else "") + " WHERE id = 1",
                       (rep.error, now_iso()) if rep.ok else (rep.error,))
    return rep


def _top_up_numbers(store: Store, api: HQClient, rep: SyncReport) -> None:
    """Ask HQ for document numbers only where this laptop's run low (or a new year has none yet),
    telling it how far each block is used; install what HQ grants or holds for us."""
    import datetime as _dt

    from inspector import numbering

    year = _dt.date.today().year
    low = numbering.low_series(store, year)
    if not low:
        return
    try:
        r = api.post("/api/v1/doc-blocks", "领取文号号段",
                     json={"year": year, "agencies": low, "used": numbering.hq_usage(store)})
    except HQRefused as e:  # e.g. the yearly cap: documents still work until the numbers are used up
        rep.numbers.append(f"总部未发放新的文号号段：{e}")
        return
    got = numbering.install_missing(store, [*(r.get("blocks") or []), *(r.get("held") or [])])
    for b in r.get("blocks") or []:
        rep.numbers.append(f"已领取文号号段 {b['agency']}〔{b['year']}〕{b['first']}–{b['last']}")
    if got > len(r.get("blocks") or []):
        rep.numbers.append(f"补装了此前未收到的 {got - len(r.get('blocks') or [])} 个文号号段")


def _set_audit(store: Store, a: dict[str, Any]) -> None:
    with store.tx() as db:
        db.execute("UPDATE sync_state SET hq_audit_seq = ?, hq_audit_hash = ?, hq_audit_status = ? WHERE id = 1",
                   (int(a.get("seq", 0)), a.get("hash"), a.get("status")))


def _audit_segment(store: Store, budget: int = 1 << 20) -> dict[str, Any]:
    """The next audit entries for HQ: at most AUDIT_BATCH of them and about ``budget`` bytes
    (at least one), so a push stays under HQ's request limit."""
    seq = int(store.scalar("SELECT hq_audit_seq FROM sync_state WHERE id = 1") or 0)
    rows = store.rows("SELECT * FROM audit_log WHERE seq > ? ORDER BY seq LIMIT ?", (seq, AUDIT_BATCH))
    size = 0
    for i, r in enumerate(rows):
        size += len(r["payload"]) + 400
        if i and size > budget:
            rows = rows[:i]
            break
    for r in rows:
        r["payload"] = json.loads(r["payload"])
    hseq, hhash = store.audit_head()
    return {"head": {"seq": hseq, "hash": hhash}, "entries": rows}


def _candidates(store: Store, after: int) -> list[dict[str, Any]]:
    return store.rows(
        "SELECT * FROM outbox WHERE sent_at IS NULL AND seq > ? AND (result IS NULL OR"
        f" json_extract(result, '$.status') NOT IN ({', '.join('?' * len(HELD))})) ORDER BY seq LIMIT ?",
        (after, *HELD, BATCH_OPS))


def _prepare(store: Store, op: dict[str, Any], rep: SyncReport) -> dict[str, Any] | None:
    """The op's body; frozen into the outbox row at its first attempt (retries send the same bytes)."""
    with store.tx() as db:
        cur = store.one("SELECT attempts, payload FROM outbox WHERE op_id = ?", (op["op_id"],))
        if cur and cur["attempts"] > 0:
            body = json.loads(cur["payload"])
            db.execute("UPDATE outbox SET attempts = attempts + 1 WHERE op_id = ?", (op["op_id"],))
        else:
            try:
                body = S.serialize(store, op["entity"], op["entity_id"])
            except S.UnknownEntity:
                res = {"status": "unknown_entity", "error": f"未知的实体类型 {op['entity']!r}，本机无法推送（保留在待推送队列中）"}
                db.execute("UPDATE outbox SET result = ? WHERE op_id = ?", (dumps(res), op["op_id"]))
                rep.held.append({"entity": op["entity"], "entity_id": op["entity_id"], **res})
                return None
            db.execute("UPDATE outbox SET payload = ?, attempts = 1 WHERE op_id = ?", (dumps(body), op["op_id"]))
    return {"op_id": op["op_id"], "entity": op["entity"], "entity_id": op["entity_id"], **body}


def _push(store: Store, api: HQClient, rep: SyncReport, prog: Progress, limits: dict[str, Any]) -> None:
    max_body = int(limits.get("max_body") or 8 << 20)
    chunk = min(int(limits.get("chunk_size") or 4 << 20), max_body // 2)
    budget = _budget(store)
    total = int(store.scalar("SELECT count(*) FROM outbox WHERE sent_at IS NULL") or 0)
    done = 0
    after = 0
    while True:
        ops = _candidates(store, after)
        if not ops:
            break
        after = ops[-1]["seq"]
        bodies: list[dict[str, Any]] = []
        size = 0
        for op in ops:
            b = _prepare(store, op, rep)
            if b is None:
                continue
            n = len(dumps(b).encode())
            if n > max_body - budget - 16384:  # can never fit in one request: refuse it here, send the others
                _refuse_oversize(store, b, n, max_body, rep)
                continue
            if bodies and size + n > max_body // 2:
                _send(store, api, bodies, rep, prog, chunk)
                done += len(bodies)
                prog({"phase": "push", "records": done, "records_total": total, "bytes": api.bytes_sent})
                bodies, size = [], 0
            bodies.append(b)
            size += n
        if bodies:
            _send(store, api, bodies, rep, prog, chunk)
            done += len(bodies)
        prog({"phase": "push", "records": done, "records_total": total, "bytes": api.bytes_sent})
    _push_audit_only(store, api, rep)


def _follow_profile(store: Store, api: HQClient, announced: Any) -> None:
    """HQ published a different version of its jurisdiction profile: fetch and install it."""
    if not isinstance(announced, dict) or not announced.get("version"):
        return
    if store.get_meta("profile.version") == announced["version"] and store.get_meta("profile.text"):
        return
    from inspector import profiles

    got = api.get("/api/v1/profile", "读取总部发布的地区档案")
    prof = profiles.install(store, got["text"])
    log.info("profile %s version %s installed from HQ", prof.id, prof.version)


def _push_audit_only(store: Store, api: HQClient, rep: SyncReport) -> None:
    """Send what is left of the audit chain (pushes carry at most AUDIT_BATCH entries)."""
    for _ in range(10000):
        seg = _audit_segment(store, _budget(store))
        st = store.one("SELECT hq_audit_seq, hq_audit_hash FROM sync_state WHERE id = 1") or {}
        if not seg["entries"] and (seg["head"]["seq"], seg["head"]["hash"]) == (st.get("hq_audit_seq"),
                                                                                 st.get("hq_audit_hash")):
            return
        r = api.post("/api/v1/push", "上传审计链", json={"ops": [], "audit": seg})
        _after_audit(store, r["audit"], rep)
        if not seg["entries"]:
            return


def _budget(store: Store) -> int:
    return int(store.__dict__.get("_sync_audit_budget") or 1 << 20)


def _after_audit(store: Store, a: dict[str, Any], rep: SyncReport) -> None:
    _set_audit(store, a)
    if a.get("status") == "flagged" or rep.audit.get("status") != "flagged":
        rep.audit = a


def _send(store: Store, api: HQClient, bodies: list[dict[str, Any]], rep: SyncReport, prog: Progress,
          chunk: int) -> None:
    from inspector import pii

    root = store.home / "blobs"
    keep = []
    for b in bodies:
        # the frozen body holds trainees' data sealed; the real values exist only in this request's memory
        try:
            plain, retired = pii.reveal_body(store.home, b)
        except pii.Locked:
            held = {"status": "pii_locked", "error": pii.LOCKED_MESSAGE}   # not in HELD: retried next sync
            with store.tx() as db:
                db.execute("UPDATE outbox SET result = ? WHERE op_id = ?", (dumps(held), b["op_id"]))
            rep.pii_locked += 1
            rep.held.append({"entity": b["entity"], "entity_id": b["entity_id"], **held})
            continue
        rep.pii_retired += retired
        keep.append(plain)
    bodies, keep = keep, []
    for b in bodies:  # an op whose file is gone from this laptop cannot be completed: hold it, go on
        gone = [s for s in b.get("blobs") or [] if not (root / s[:2] / s[2:4] / s).is_file()]
        if gone:
            held = {"status": "rejected", "error": f"本机缺少文件 {', '.join(g[:12] for g in gone)}…，该记录暂不推送"}
            with store.tx() as db:
                db.execute("UPDATE outbox SET result = ? WHERE op_id = ?", (dumps(held), b["op_id"]))
            rep.held.append({"entity": b["entity"], "entity_id": b["entity_id"], **held})
        else:
            keep.append(b)
    bodies = keep
    if not bodies:
        return
    shas = list(dict.fromkeys(s for b in bodies for s in b.get("blobs") or []))
    if shas:
        _upload(store, api, shas, prog, chunk, rep)
    for attempt in range(3):
        try:
            r = api.post("/api/v1/push", "推送记录", json={"ops": bodies, "audit": _audit_segment(store, _budget(store))})
        except HQRefused as e:
            if e.code != "too_large":
                raise
            # HQ's limit is lower than it said (or the audit segment tipped it over): halve the batch;
            # a single op that still does not fit is refused, the others go on
            limit = int(e.body.get("limit") or 0)
            if len(bodies) == 1:
                n = len(dumps(bodies[0]).encode())
                if limit and n + 16384 < limit:  # the op fits: what tipped it over is the audit segment
                    raise
                _refuse_oversize(store, bodies[0], n, limit, rep)
                return
            half = len(bodies) // 2
            _send(store, api, bodies[:half], rep, prog, chunk)
            _send(store, api, bodies[half:], rep, prog, chunk)
            return
        _after_audit(store, r["audit"], rep)
        retry: list[dict[str, Any]] = []
        missing: list[str] = []
        with store.tx() as db:
            for b, res in zip(bodies, r["results"]):
                st = res.get("status")
                if st in ("applied", "duplicate"):
                    db.execute("UPDATE outbox SET sent_at = ?, result = ? WHERE op_id = ? AND sent_at IS NULL",
                               (now_iso(), dumps(res), b["op_id"]))
                    rep.pushed += st == "applied"
                    rep.duplicates += st == "duplicate"
                elif st == "missing_blobs":
                    retry.append(b)
                    missing.extend(res.get("missing") or [])
                elif st == "pending":  # its inspection is not at HQ yet (held or later in the queue): next sync
                    db.execute("UPDATE outbox SET result = ? WHERE op_id = ?", (dumps(res), b["op_id"]))
                else:
                    held = {"status": "conflict" if st == "conflict" else "rejected", "hq": res,
                            "error": res.get("error")}
                    db.execute("UPDATE outbox SET result = ? WHERE op_id = ?", (dumps(held), b["op_id"]))
                    rep.held.append({"entity": b["entity"], "entity_id": b["entity_id"], **held})
        if not retry:
            return
        _upload(store, api, list(dict.fromkeys(missing)), prog, chunk, rep)
        bodies = retry
    raise SyncError(f"推送记录失败：总部仍缺少文件 {', '.join(s[:12] for s in missing[:5])}…；{NOTHING_LOST}")


def _refuse_oversize(store: Store, b: dict[str, Any], n: int, limit: int, rep: SyncReport) -> None:
    """Mark an op too big for any request as refused (held with the reason, not retried)."""
    held = {"status": "rejected", "code": "too_large",
            "error": f"记录 {b['entity']} {b['entity_id']} 的数据有 {n / 1e6:.1f} MB，超过总部每个请求的上限"
                     f" {limit / 1e6:.1f} MB，无法推送（其他记录照常推送）；请联系总部管理员调整上限"}
    with store.tx() as db:
        db.execute("UPDATE outbox SET result = ? WHERE op_id = ?", (dumps(held), b["op_id"]))
    rep.held.append({"entity": b["entity"], "entity_id": b["entity_id"], **held})


def _upload(store: Store, api: HQClient, shas: list[str], prog: Progress, chunk: int, rep: SyncReport) -> None:
    """Upload what HQ lacks, each from the offset HQ already holds."""
    root = store.home / "blobs"
    state = api.post("/api/v1/blobs/check", "检查总部已有的文件", json={"shas": shas})["blobs"]
    for sha in shas:
        st = state.get(sha) or {"complete": False, "offset": 0}
        if st["complete"]:
            continue
        path = root / sha[:2] / sha[2:4] / sha
        if not path.is_file():
            raise SyncError(f"上传文件失败：本机缺少文件 {path}；该记录暂不推送。{NOTHING_LOST}")
        size = path.stat().st_size
        offset = int(st["offset"])
        busy = 0
        with open(path, "rb") as f:
            while True:
                f.seek(offset)
                data = f.read(chunk)
                api.bytes_sent += len(data)
                try:
                    r = api.request("PATCH", f"/api/v1/blobs/{sha}", f"上传文件 {sha[:12]}…",
                                    params={"offset": offset, "total": size}, content=data,
                                    headers={"Content-Type": "application/octet-stream"})
                except HQRefused as e:
                    if e.code == "blob_exists":
                        break
                    if e.code == "offset_mismatch":
                        offset = int(e.body.get("offset", 0))
                        continue
                    if e.code == "upload_busy" and busy < 3:  # a dropped earlier attempt still holds it
                        busy += 1
                        continue
                    raise
                offset = int(r.get("offset", offset + len(data)))
                prog({"phase": "upload", "bytes": api.bytes_sent, "blob": sha})
                if r.get("complete"):
                    rep.blobs_uploaded += 1
                    break
                if offset >= size:
                    raise SyncError(f"上传文件 {sha[:12]}… 失败：总部未确认完整；{NOTHING_LOST}")


# -- pull ------------------------------------------------------------------------------------------
class _Again(Exception):
    """A page's references found more records to quarantine: apply the page again without them."""


def _pull(store: Store, api: HQClient, rep: SyncReport, prog: Progress) -> None:
    while True:
        cursor = int(store.scalar("SELECT pull_cursor FROM sync_state WHERE id = 1") or 0)
        page = api.get("/api/v1/changes", "拉取总部数据", params={"since": cursor})
        changes = page.get("changes") or []
        applied, skipped, bad = _apply_page(store, changes, cursor=(cursor, int(page["cursor"])))
        rep.pulled += applied
        rep.pull_skipped += skipped
        rep.quarantined += [{"entity": c.get("entity"), "entity_id": c.get("entity_id"), "error": bad[c.get("seq")]}
                            for c in changes if c.get("seq") in bad]
        prog({"phase": "pull", "records": rep.pulled})
        if not page.get("more") or not changes:
            break
    _retry_quarantine(store, rep)


def _retry_quarantine(store: Store, rep: SyncReport) -> None:
    """Records quarantined earlier may apply now (their missing parent arrived since)."""
    rows = store.rows("SELECT * FROM sync_quarantine ORDER BY change_seq")
    if not rows:
        return
    changes = [{**json.loads(r["data"]), "seq": r["change_seq"]} for r in rows]
    applied, skipped, bad = _apply_page(store, changes, cursor=None)
    rep.pulled += applied
    rep.pull_skipped += skipped
    rep.quarantine_waiting = len(bad)


def _apply_page(store: Store, changes: list[dict[str, Any]], *,
                cursor: tuple[int, int] | None) -> tuple[int, int, dict[Any, str]]:
    """Apply a page and move the cursor in one transaction. A record that fails to apply (or
    points at a row nobody has) is quarantined — kept with its reason — and the rest applies, so
    one bad record cannot stop every later sync. ``cursor=None``: a retry of the quarantine."""
    bad: dict[Any, str] = {}
    for _round in range(len(changes) + 2):
        try:
            with store.tx() as db:
                db.execute("PRAGMA defer_foreign_keys = ON")
                applied = skipped = 0
                for ch in changes:
                    if ch.get("seq") in bad:
                        continue
                    try:
                        with store.tx():  # a savepoint: one bad record costs only itself
                            ok = _apply_change(store, ch)
                    except (sqlite3.Error, KeyError, TypeError, ValueError, AttributeError) as e:
                        bad[ch.get("seq")] = f"本机无法保存该记录（{type(e).__name__}: {e}）"
                        continue
                    applied += ok
                    skipped += not ok
                more = _dangling(store, changes, bad)
                if more:
                    bad.update(more)
                    raise _Again()
                _record_quarantine(store, changes, bad, retry=cursor is None)
                if cursor is not None:
                    db.execute("UPDATE sync_state SET pull_cursor = ? WHERE id = 1 AND pull_cursor = ?",
                               (cursor[1], cursor[0]))
                    if changes:
                        store.log("sync", "pull", "pull", {"from": cursor[0], "to": cursor[1], "applied": applied,
                                                           "skipped": skipped, "quarantined": len(bad)}, push=False)
            return applied, skipped, bad
        except _Again:
            continue
    raise SyncError(f"拉取总部数据失败：这一页的记录相互引用无法理清；这一页没有应用，{NOTHING_LOST}")


def _record_quarantine(store: Store, changes: list[dict[str, Any]], bad: dict[Any, str], *, retry: bool) -> None:
    c = store.conn
    for ch in changes:
        seq = ch.get("seq")
        if seq in bad:
            c.execute("INSERT OR REPLACE INTO sync_quarantine (change_seq, entity, entity_id, data, error, at)"
                      " VALUES (?, ?, ?, ?, ?, ?)", (seq, str(ch.get("entity")), ch.get("entity_id"),
                                                     dumps({k: v for k, v in ch.items() if k != "seq"}),
                                                     bad[seq], now_iso()))
        elif retry:
            c.execute("DELETE FROM sync_quarantine WHERE change_seq = ?", (seq,))
        elif ch.get("entity_id") is not None:  # a newer change for the record replaces a quarantined one
            c.execute("DELETE FROM sync_quarantine WHERE entity = ? AND entity_id = ? AND change_seq < ?",
                      (ch.get("entity"), ch["entity_id"], seq))


_fk_cache: dict[str, dict[str, list[tuple[str, dict[int, tuple[str, str]]]]]] = {}


def _fk_children(store: Store) -> dict[str, list[tuple[str, dict[int, tuple[str, str]]]]]:
    """parent table → [(child table, {fk id: (child column, parent table)})]."""
    key = str(store.path)
    if key not in _fk_cache:
        out: dict[str, list[tuple[str, dict[int, tuple[str, str]]]]] = {}
        for t in store.rows("SELECT name FROM sqlite_master WHERE type = 'table'"):
            fks = store.rows(f"PRAGMA foreign_key_list({t['name']})")
            info = {int(f["id"]): (f["from"], f["table"]) for f in fks}
            for parent in {f["table"] for f in fks}:
                out.setdefault(parent, []).append((t["name"], info))
            out.setdefault("*" + t["name"], []).append((t["name"], info))
        _fk_cache[key] = out
    return _fk_cache[key]


def _dangling(store: Store, changes: list[dict[str, Any]], bad: dict[Any, str]) -> dict[Any, str]:
    """Changes of this page that leave a reference dangling (checked before COMMIT): the row
    itself points at nothing, or the page deleted a row that local rows point at."""
    by_key: dict[tuple[str | None, Any], Any] = {}
    for c in changes:
        if c.get("seq") not in bad:
            by_key[(PULL_TABLES.get(str(c.get("entity"))), c.get("entity_id"))] = c.get("seq")
    touched = {t for t, _ in by_key if t}
    if not touched:
        return {}
    kids = _fk_children(store)
    tables: dict[str, dict[int, tuple[str, str]]] = {}
    for t in touched:
        for child, info in kids.get("*" + t, []) + kids.get(t, []):
            tables[child] = info
    out: dict[Any, str] = {}
    for t in sorted(tables):
        cols = _columns(store, t)
        for v in store.rows(f"PRAGMA foreign_key_check({t})"):
            rid = store.scalar(f"SELECT id FROM {t} WHERE rowid = ?", (v["rowid"],)) if "id" in cols else None
            seq = by_key.get((t, rid))
            col, parent = tables[t].get(int(v["fkid"]), (None, v["parent"]))
            ref = store.scalar(f"SELECT {col} FROM {t} WHERE rowid = ?", (v["rowid"],)) if col else None
            why = f"{t} {rid or v['rowid']} 引用的 {parent} {ref or ''} 在本机不存在"
            if seq is None:  # not a row of this page: the page removed what it points at
                seq = by_key.get((parent, ref))
                why = f"{parent} {ref} 仍被本机的 {t} {rid or v['rowid']} 引用，不能按总部的要求删除"
            if seq is not None and seq not in out:
                out[seq] = why
    return out


_cols_cache: dict[tuple[str, str], list[str]] = {}
_nullable_cache: dict[tuple[str, str], set[str]] = {}


def _columns(store: Store, table: str) -> list[str]:
    key = (str(store.path), table)
    if key not in _cols_cache:
        info = store.rows(f"PRAGMA table_info({table})")
        _cols_cache[key] = [r["name"] for r in info]
        _nullable_cache[key] = {r["name"] for r in info if not r["notnull"] and not r["pk"]}
    return _cols_cache[key]


# pulled rows that hang on a local row this laptop may not have (a co-inspector's laptop does
# not hold the inspection another laptop recorded): not ours, the cursor moves on
LOCAL_PARENT = {"rectifications": ("inspection_id", "inspections")}


def _apply_change(store: Store, ch: dict[str, Any]) -> bool:
    """Apply one pulled change; False when a local unsent change to the same entity wins."""
    entity, eid = ch["entity"], ch["entity_id"]
    table = PULL_TABLES.get(entity)
    if table is None or not S.table_exists(store, table):
        return True  # nothing of ours to update (a newer HQ); the cursor moves on
    unsent = store.scalar("SELECT 1 FROM outbox WHERE entity = ? AND entity_id = ? AND sent_at IS NULL LIMIT 1",
                          (entity, eid))
    if unsent:
        store.conn.execute("INSERT INTO sync_pull_skipped (change_seq, entity, entity_id, reason, data, at)"
                           " VALUES (?, ?, ?, ?, ?, ?)", (ch["seq"], entity, eid, "本机有未推送的修改",
                                                          dumps(ch.get("data")), now_iso()))
        return False
    if ch.get("op") == "delete":
        store.conn.execute(f"DELETE FROM {table} WHERE id = ?", (eid,))
        return True
    cols = _columns(store, table)
    nullable = _nullable_cache[(str(store.path), table)]
    # an explicit null clears the column (HQ cleared it); a NOT NULL column keeps its value or default
    row = {k: v for k, v in (ch.get("data") or {}).items() if k in cols and (v is not None or k in nullable)}
    row["id"] = eid
    lp = LOCAL_PARENT.get(table)
    if lp and not store.scalar(f"SELECT 1 FROM {lp[1]} WHERE id = ?", (row.get(lp[0]),)) \
            and not store.scalar(f"SELECT 1 FROM {table} WHERE id = ?", (eid,)):
        return True
    nk = NATURAL_KEYS.get(table)
    if nk and row.get(nk) is not None:
        other = store.scalar(f"SELECT id FROM {table} WHERE {nk} = ? AND id <> ?", (row[nk], eid))
        if other:
            _rekey(store, table, other, eid)
    names = list(row)
    sql = f"INSERT INTO {table} ({', '.join(names)}) VALUES ({', '.join('?' for _ in names)})"
    if table in IMMUTABLE:
        sql = sql.replace("INSERT INTO", "INSERT OR IGNORE INTO", 1)
    else:
        sets = ", ".join(f"{c} = excluded.{c}" for c in names if c != "id")
        sql += f" ON CONFLICT(id) DO UPDATE SET {sets}" if sets else " ON CONFLICT(id) DO NOTHING"
    store.conn.execute(sql, [row[c] for c in names])
    return True


REFERENCING = {"tasks": "task", "inspections": "inspection", "rectifications": "rectification"}


def _rekey(store: Store, table: str, old: str, new: str) -> None:
    """A directory row imported locally gets HQ's id (same credit code / badge); the rows that
    pointed at it follow, and are queued so HQ gets them with the new id too."""
    c = store.conn
    c.execute(f"UPDATE {table} SET id = ? WHERE id = ?", (new, old))
    touched: list[tuple[str, str]] = []
    if table == "institutions":
        for t in REFERENCING:
            ids = [r["id"] for r in store.rows(f"SELECT id FROM {t} WHERE institution_id = ?", (old,))]
            c.execute(f"UPDATE {t} SET institution_id = ? WHERE institution_id = ?", (new, old))
            touched += [(t, i) for i in ids]
    else:
        for t in ("tasks", "inspections"):
            ids = [r["id"] for r in store.rows(f"SELECT id FROM {t} WHERE instr(inspector_ids, ?)", (f'"{old}"',))]
            c.execute(f"UPDATE {t} SET inspector_ids = replace(inspector_ids, ?, ?) WHERE instr(inspector_ids, ?)",
                      (f'"{old}"', f'"{new}"', f'"{old}"'))
            touched += [(t, i) for i in ids]
        ids = [r["id"] for r in store.rows("SELECT id FROM inspections WHERE recorder_id = ?", (old,))]
        c.execute("UPDATE inspections SET recorder_id = ? WHERE recorder_id = ?", (new, old))
        touched += [("inspections", i) for i in ids]
    for t, i in dict.fromkeys(touched):
        store.log(REFERENCING[t], i, "rekey", {"table": table, "old": old, "new": new})


# -- status ------------------------------------------------------------------------------------------
ENTITY_ZH = {"institution": "机构", "inspector": "检查人员", "checklist_version": "检查表", "task": "检查任务",
             "draw": "抽取记录", "rectification": "整改记录"}
TABLE_ZH = {t: ENTITY_ZH[e] for e, t in PULL_TABLES.items()} | {"inspections": "检查记录"}


def quarantine_explained(store: Store) -> list[dict[str, Any]]:
    """The pulled records in quarantine, in plain words for the inspector: what the record is
    (kind and name), why this laptop could not take it, and the technical reason for support."""
    out = []
    for r in store.rows("SELECT change_seq, entity, entity_id, data, error, at FROM sync_quarantine"
                        " ORDER BY change_seq"):
        try:
            data = (json.loads(r["data"] or "{}").get("data")) or {}
        except ValueError:
            data = {}
        kind = ENTITY_ZH.get(r["entity"], r["entity"])
        label = data.get("name") or data.get("title") or data.get("institution_name") or data.get("badge_no")
        if not label and r["entity"] in ("task", "rectification") and data.get("institution_id"):
            label = store.scalar("SELECT name FROM institutions WHERE id = ?", (data["institution_id"],))
        err = r["error"] or ""
        if "不能按总部的要求删除" in err:
            why = "总部已删除这条记录，但本机还有记录用到它，所以暂不删除"
        elif "在本机不存在" in err:
            missing = next((zh for t, zh in TABLE_ZH.items() if f"引用的 {t} " in err), "相关记录")
            why = f"它用到的{missing}本机还没有（可能总部尚未下发），等收到后会自动补上"
        else:
            why = "本机无法保存这条记录（可能是软件版本与总部不一致，请联系管理员）"
        out.append({"change_seq": r["change_seq"], "entity": r["entity"], "entity_id": r["entity_id"],
                    "what": f"{kind}“{label}”" if label else f"{kind}（编号 {str(r['entity_id'])[:8]}…）",
                    "why": why, "error": err, "at": r["at"]})
    return out


def status(store: Store) -> dict[str, Any]:
    e = enrolment(store)
    st = store.one("SELECT * FROM sync_state WHERE id = 1") or {}
    unsent = store.scalar("SELECT count(*) FROM outbox WHERE sent_at IS NULL") or 0
    held = store.rows("SELECT entity, entity_id, result FROM outbox WHERE sent_at IS NULL AND result IS NOT NULL"
                      " ORDER BY seq")
    seq, _h = store.audit_head()
    return {
        "enrolled": e is not None,
        "hq_url": e["hq_url"] if e else None, "device_id": e["device_id"] if e else None,
        "badge_no": e["badge_no"] if e else None,
        "unsent": unsent, "held": [{"entity": h["entity"], "entity_id": h["entity_id"], **json.loads(h["result"])}
                                   for h in held],
        "pull_cursor": st.get("pull_cursor"), "audit_local_seq": seq, "audit_hq_seq": st.get("hq_audit_seq"),
        "audit_hq_status": st.get("hq_audit_status"),
        "last_ok_at": st.get("last_ok_at"), "last_attempt_at": st.get("last_attempt_at"),
        "last_error": st.get("last_error"),
        "pull_skipped": store.scalar("SELECT count(*) FROM sync_pull_skipped") or 0,
        "quarantined": store.rows("SELECT change_seq, entity, entity_id, error, at FROM sync_quarantine"
                                  " ORDER BY change_seq"),
        "keys": inspector_keys(store),
    }
