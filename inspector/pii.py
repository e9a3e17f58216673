"""Trainees' personal data encrypted at rest (个人信息保护法 §28/§51: ID numbers are sensitive).

Field-level, asymmetric: each laptop data folder has one X25519 key pair. Every name, ID number
and phone of a sampled trainee is sealed to the PUBLIC key as it is written (ephemeral X25519 +
HKDF-SHA256 + AES-256-GCM) and stored in its own column as ``enc1:<base64>``; a masked copy
(``张*``, ``410702********1234``, ``138****5678``) sits beside it for screens, CLI and documents.
So writing never needs an unlock. The same goes for the rows typed into a checklist table that has
an ID-number or phone column (学员抽查核实 S-04): each such cell (and the row's name) is stored as
``{"sealed": "enc1:…", "masked": "…"}`` in ``answers.value`` and therefore in the audit log entry,
the finish seal and the outbox body; screens, rules, documents and the CLI get the masked copies
(``MaskedCell``: a str that remembers its sealed original, so a row handed back unchanged keeps it).

Reading the real values needs the PRIVATE key unlocked in this process: only sync (HQ keeps the
real values) and an explicit "show unmasked" (``inspector pii show``) do. The private key is kept

- wrapped by each inspector's signing passphrase (scrypt + AES-GCM) in ``keys/pii/wrap-<badge>.json``,
  added whenever a passphrase is given (key created or unlocked for signing) while the key is
  available — so a co-inspector on a shared laptop gets their own wrapping;
- in the operating system's key store through ``keyring`` when a real backend exists (Windows
  Credential Locker/DPAPI, macOS Keychain, Secret Service); keyring's fail/null backends do not count;
- before any passphrase exists and with no OS key store, in ``keys/pii-pending.pem`` (0600),
  wrapped and deleted at the first passphrase.

Layout under ``<home>/keys/``: ``pii/public.pem`` (the current public key; its id is the first
8 bytes of SHA-256 of the raw key and prefixes every ciphertext), ``pii/wrap-<badge>.json``,
``pii/retired/<kid>.pem`` (public keys replaced by ``reset``), ``pii-pending.pem``.

A forgotten passphrase: ``reset`` makes a new pair; values sealed to the old one stay masked
here (HQ holds every synced value; signed documents only ever printed masked values).

Why field-level and not the whole database (SQLCipher), measured by ``make bench`` (bench_pii):
SQLCipher needs its key at every open of every connection — CLI commands, the GUI and its sync
worker, backups, tests — and on a fresh laptop the key has nowhere to come from before the first
passphrase; its key derivation costs ~0.2 s per open (≈ 400× a plain open) and a durable write
≈ 1.7×. Field-level sealing leaves ``set_answer`` and opening a 100,000-answer store at ≈ 1.0×;
the cost is where the personal data is, and is kept small by one ephemeral key agreement per run
of values (``_seal_with``): writing 1,000 trainee rows ≈ 1.2× the same rows in clear, ~0.06 ms per
row decrypted at sync.

The device token (``sync_enrolment.token``) and the device's Ed25519 key (audit checkpoints, QR
codes) are sealed to the same key (``seal_secret``): where there is an OS key store they open
without a prompt; otherwise the first sync (or document) of a session asks for a passphrase once.
Audit checkpoints due while it is locked are signed at the next unlock (store/integrity.py).

The on-site person in charge's phone and ID number (``inspections.person_in_charge``) are sealed
too, the masked copy beside them (``seal_contact``); their name and position, the signer named on
the 现场检查笔录, stay in clear.
"""
from __future__ import annotations

import base64
import json
import logging
import os
import secrets
import threading
import time
from collections import OrderedDict
from pathlib import Path
from typing import Any

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey, X25519PublicKey
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from cryptography.hazmat.primitives.kdf.scrypt import Scrypt

from inspector.errors import InspectorError
from inspector.idnumbers import mask_id, mask_phone
from inspector.util import dumps

log = logging.getLogger(__name__)

PREFIX = "enc1:"
FIELDS = ("name", "id_number", "phone")
MASKED = {"name": "name_masked", "id_number": "id_masked", "phone": "phone_masked"}
LOCKED_MESSAGE = "学员个人信息已加密，请输入签名口令后再同步"
KEYRING_SERVICE = "inspector-pii"
PENDING_FILE = "pii-pending.pem"
_INFO = b"inspector-pii-v1"
_SCRYPT_N = 1 << 14          # 16 MiB, the scrypt paper's interactive-login setting; one derivation per unlock

_lock = threading.RLock()
_unlocked: dict[tuple[str, str], X25519PrivateKey] = {}       # (home, kid) → private key
_public: dict[str, tuple[int, str, X25519PublicKey]] = {}     # home → (mtime_ns, kid, key)
_wrapped: set[tuple[str, str, str]] = set()                      # (home, kid, badge) checked in this process


class PiiError(InspectorError):
    """A PII key problem the inspector must act on (wrong passphrase, no key)."""


class Locked(PiiError):
    """The private key is not unlocked in this process."""


class Retired(PiiError):
    """Sealed to a key replaced by ``reset``: unreadable on this laptop."""


# -- masking -----------------------------------------------------------------------------------
def mask_name(name: str | None) -> str:
    s = (name or "").strip()
    return s[:1] + "*" * (len(s) - 1) if s else ""


def mask(field: str, value: str | None) -> str:
    if not value:
        return ""
    return mask_name(value) if field == "name" else mask_id(value) if field == "id_number" else mask_phone(value)


def is_sealed(v: Any) -> bool:
    return isinstance(v, str) and v.startswith(PREFIX)


# -- files -------------------------------------------------------------------------------------
_homes: dict[str, str] = {}


def _home(home: str | Path) -> str:
    # resolving costs a realpath per call; absolute folders are cached (called per sealed value)
    k = str(home)
    h = _homes.get(k)
    if h is None:
        h = str(Path(home).resolve())
        if os.path.isabs(k):
            _homes[k] = h
    return h


def _dir(home: str | Path) -> Path:
    from inspector.keys import keys_dir

    return keys_dir(home) / "pii"


def _pending(home: str | Path) -> Path:
    from inspector.keys import keys_dir

    return keys_dir(home) / PENDING_FILE


def _wrap_path(home: str | Path, badge: str) -> Path:
    from inspector.keys import _badge_dir  # same badge validation as the signing keys

    _badge_dir(home, badge)
    return _dir(home) / f"wrap-{badge}.json"


def _write_private(path: Path, data: bytes) -> None:
    """Owner-only from the first byte (no 0644 window), then atomically renamed into place."""
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    tmp = path.with_name(path.name + f".{secrets.token_hex(4)}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as f:
        f.write(data)
        f.flush()
        os.fsync(f.fileno())
    tmp.replace(path)


def _raw_pub(k: X25519PublicKey) -> bytes:
    return k.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)


def _raw_priv(k: X25519PrivateKey) -> bytes:
    return k.private_bytes(serialization.Encoding.Raw, serialization.PrivateFormat.Raw,
                           serialization.NoEncryption())


def key_id(k: X25519PublicKey) -> str:
    from hashlib import sha256

    return sha256(_raw_pub(k)).hexdigest()[:16]


# -- keyring -------------------------------------------------------------------------------------
def keyring_available() -> bool:
    """A real OS key store (not keyring's fail/null backends, nor an empty chain)."""
    try:
        import keyring
        from keyring.backends import chainer, fail, null
    except ImportError:
        return False
    kr = keyring.get_keyring()
    if isinstance(kr, (fail.Keyring, null.Keyring)):
        return False
    if isinstance(kr, chainer.ChainerBackend) and not kr.backends:
        return False
    return True


def _account(home: str, kid: str) -> str:
    return f"{home}#{kid}"


def _keyring_get(home: str, kid: str) -> X25519PrivateKey | None:
    if not keyring_available():
        return None
    import keyring
    from keyring.errors import KeyringError

    try:
        v = keyring.get_password(KEYRING_SERVICE, _account(home, kid))
    except KeyringError as e:
        log.warning("PII key: OS key store unreadable (%s)", e)
        return None
    return X25519PrivateKey.from_private_bytes(base64.b64decode(v)) if v else None


def _keyring_put(home: str, kid: str, k: X25519PrivateKey) -> bool:
    if not keyring_available():
        return False
    import keyring
    from keyring.errors import KeyringError

    try:
        keyring.set_password(KEYRING_SERVICE, _account(home, kid), base64.b64encode(_raw_priv(k)).decode())
        return True
    except KeyringError as e:
        log.warning("PII key: OS key store refused the key (%s); using the pending file", e)
        return False


def _keyring_delete(home: str, kid: str) -> None:
    if not keyring_available():
        return
    import keyring
    from keyring.errors import KeyringError

    try:
        keyring.delete_password(KEYRING_SERVICE, _account(home, kid))
    except KeyringError:
        pass  # nothing stored under this id


# -- the key pair ----------------------------------------------------------------------------------
def _new_pair(home: str) -> tuple[str, X25519PublicKey]:
    priv = X25519PrivateKey.generate()
    pub = priv.public_key()
    kid = key_id(pub)
    if not _keyring_put(home, kid, priv):
        _write_private(_pending(home), priv.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                                          serialization.NoEncryption()))
    d = _dir(home)
    d.mkdir(parents=True, exist_ok=True, mode=0o700)
    tmp = d / "public.pem.tmp"
    tmp.write_bytes(pub.public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo))
    tmp.replace(d / "public.pem")
    _unlocked[(home, kid)] = priv
    log.info("PII key %s made for %s (%s)", kid, home, "OS key store" if keyring_available() else "pending file")
    return kid, pub


def public_key(home: str | Path, *, create: bool = True) -> tuple[str, X25519PublicKey] | None:
    """The current public key and its id (made on first use when ``create``)."""
    h = _home(home)
    p = _dir(h) / "public.pem"
    with _lock:
        try:
            mt = p.stat().st_mtime_ns
        except FileNotFoundError:
            return _new_pair(h) if create else None
        c = _public.get(h)
        if c and c[0] == mt:
            return c[1], c[2]
        k = serialization.load_pem_public_key(p.read_bytes())
        if not isinstance(k, X25519PublicKey):
            raise PiiError(f"{p}：不是 X25519 公钥")
        _public[h] = (mt, key_id(k), k)
        return key_id(k), k


def private_key(home: str | Path, kid: str) -> X25519PrivateKey | None:
    """The private key for ``kid`` if this process can use it now (unlocked, pending file or OS key store)."""
    h = _home(home)
    with _lock:
        k = _unlocked.get((h, kid))
        if k is not None:
            return k
        pf = _pending(h)
        if pf.exists():
            pk = serialization.load_pem_private_key(pf.read_bytes(), password=None)
            if isinstance(pk, X25519PrivateKey) and key_id(pk.public_key()) == kid:
                _unlocked[(h, kid)] = pk
                return pk
        k = _keyring_get(h, kid)
        if k is not None and key_id(k.public_key()) == kid:
            _unlocked[(h, kid)] = k
            return k
        return None


def is_unlocked(home: str | Path) -> bool:
    cur = public_key(home, create=False)
    return cur is not None and private_key(home, cur[0]) is not None


def lock(home: str | Path | None = None) -> None:
    """Forget unlocked keys (of ``home``, or all): what a new process starts with."""
    with _lock:
        for key in list(_unlocked):
            if home is None or key[0] == _home(home):
                del _unlocked[key]
        for w in list(_wrapped):
            if home is None or w[0] == _home(home):
                _wrapped.discard(w)
        for ck in list(_opened):
            if home is None or ck[0] == _home(home):
                del _opened[ck]
        if home is None:
            _public.clear()
        else:
            _public.pop(_home(home), None)


# -- passphrase wrappings --------------------------------------------------------------------------
def _kek(passphrase: str | bytes, salt: bytes, n: int) -> bytes:
    pw = passphrase.encode("utf-8") if isinstance(passphrase, str) else passphrase
    return Scrypt(salt=salt, length=32, n=n, r=8, p=1).derive(pw)


def _wrap(priv: X25519PrivateKey, kid: str, badge: str, passphrase: str | bytes) -> dict[str, Any]:
    salt, nonce = os.urandom(16), os.urandom(12)
    ct = AESGCM(_kek(passphrase, salt, _SCRYPT_N)).encrypt(nonce, _raw_priv(priv), f"{kid}|{badge}".encode())
    b = lambda x: base64.b64encode(x).decode()  # noqa: E731
    return {"v": 1, "kid": kid, "badge_no": badge, "kdf": "scrypt", "n": _SCRYPT_N, "r": 8, "p": 1,
            "salt": b(salt), "nonce": b(nonce), "ct": b(ct)}


def _unwrap(w: dict[str, Any], passphrase: str | bytes) -> X25519PrivateKey | None:
    d = base64.b64decode
    try:
        raw = AESGCM(_kek(passphrase, d(w["salt"]), int(w["n"]))).decrypt(
            d(w["nonce"]), d(w["ct"]), f"{w['kid']}|{w['badge_no']}".encode())
    except InvalidTag:
        return None
    k = X25519PrivateKey.from_private_bytes(raw)
    return k if key_id(k.public_key()) == w["kid"] else None


def wrappings(home: str | Path) -> list[dict[str, Any]]:
    d = _dir(home)
    out = []
    for p in sorted(d.glob("wrap-*.json")) if d.exists() else []:
        try:
            out.append(json.loads(p.read_text(encoding="utf-8")))
        except (OSError, ValueError) as e:
            log.warning("PII key wrapping %s unreadable: %s", p, e)
    return out


def add_wrapping(home: str | Path, badge: str, passphrase: str | bytes) -> bool:
    """Wrap the current private key with ``badge``'s passphrase (needs the key available);
    the pending plaintext file is deleted once a wrapping exists."""
    h = _home(home)
    cur = public_key(h)
    assert cur is not None
    kid = cur[0]
    priv = private_key(h, kid)
    if priv is None:
        return False
    _write_private(_wrap_path(h, badge), json.dumps(_wrap(priv, kid, badge, passphrase)).encode())
    pf = _pending(h)
    if pf.exists():
        pf.unlink()
        log.info("PII key %s: pending file removed, now wrapped by %s's passphrase", kid, badge)
    return True


def unlock(home: str | Path, passphrase: str | bytes, badge: str | None = None) -> bool:
    """Unlock the current private key in this process with an inspector's passphrase (any inspector's
    wrapping, or ``badge``'s). True when unlocked (also when it already was, or needs no passphrase);
    raises PiiError with a Chinese message when the passphrase opens no wrapping."""
    h = _home(home)
    cur = public_key(h, create=False)
    if cur is None:
        return True  # no personal data sealed yet
    kid = cur[0]
    if private_key(h, kid) is not None:
        if badge:
            _ensure_wrapping(h, badge, passphrase)
        return True
    ws = [w for w in wrappings(h) if w.get("kid") == kid and (badge is None or w.get("badge_no") == badge)]
    if not ws:
        raise PiiError("本机没有可用签名口令解开的学员个人信息密钥"
                       + (f"（执法证号 {badge} 尚未加入）" if badge else "")
                       + "；请由已加入的检查人员输入口令，忘记口令时用 inspector pii reset 重置")
    for w in ws:
        k = _unwrap(w, passphrase)
        if k is not None:
            with _lock:
                _unlocked[(h, kid)] = k
                _wrapped.add((h, kid, str(w.get("badge_no"))))
            log.info("PII key %s unlocked with %s's passphrase", kid, w.get("badge_no"))
            return True
    raise PiiError("签名口令错误，无法解开学员个人信息密钥"
                   + (f"（执法证号 {badge}）" if badge else ""))


def _ensure_wrapping(h: str, badge: str, passphrase: str | bytes) -> None:
    """``badge`` has a wrapping of the current key that this passphrase opens (scrypt at most once
    per process and badge: signing unlocks the signing key every time)."""
    p = _wrap_path(h, badge)
    cur = public_key(h)
    assert cur is not None
    if (h, cur[0], badge) in _wrapped and p.exists():
        return
    if p.exists():
        try:
            w = json.loads(p.read_text(encoding="utf-8"))
        except ValueError:
            w = {}
        if w.get("kid") == cur[0] and _unwrap(w, passphrase) is not None:
            _wrapped.add((h, cur[0], badge))
            return
    if add_wrapping(h, badge, passphrase):
        _wrapped.add((h, cur[0], badge))


def on_passphrase(home: str | Path, badge: str, passphrase: str | bytes) -> None:
    """Called whenever an inspector's passphrase is proven (key created, or unlocked to sign): unlocks
    the PII key with their wrapping, or gives them one if the key is available now. Never fails the
    signing it rides on: problems are logged."""
    h = _home(home)
    try:
        cur = public_key(h)
        assert cur is not None
        kid = cur[0]
        if private_key(h, kid) is not None:
            _ensure_wrapping(h, badge, passphrase)
            return
        p = _wrap_path(h, badge)
        if p.exists():
            unlock(h, passphrase, badge)
        else:
            log.info("PII key %s locked: %s gets a wrapping the next time the key is unlocked with them", kid, badge)
    except PiiError as e:
        log.warning("PII key not unlocked for %s: %s", badge, e)
    except OSError as e:
        log.error("PII key files under %s could not be written: %s", _dir(h), e)


# -- sealing ------------------------------------------------------------------------------------------
def _derive(shared: bytes, eph: bytes, rcpt: bytes) -> bytes:
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=eph + rcpt, info=_INFO).derive(shared)


def seal(home: str | Path, value: str | None, field: str) -> str | None:
    """``value`` sealed to the current public key (None and "" stay as they are)."""
    if not value:
        return value
    cur = public_key(home)
    assert cur is not None
    return _seal_with(cur[0], cur[1], value, field)


# One ephemeral key agreement serves a run of values (at most _EPH_USES values or _EPH_SECONDS),
# each with its own random nonce and its field as associated data: the token format and opening
# are unchanged, but a 1,000-row roster costs 1 X25519 agreement instead of 3,000 (bench_pii).
# 4,096 random 96-bit nonces per AES-GCM key is far inside NIST SP 800-38D's 2^32 bound.
_EPH_USES = 4096
_EPH_SECONDS = 300.0
_eph: dict[str, tuple[AESGCM, bytes, int, float]] = {}                 # kid → (cipher, eph public, uses, since)
_opened: OrderedDict[tuple[str, str, bytes], AESGCM] = OrderedDict()  # (home, kid, eph) → cipher, while unlocked
_OPENED_MAX = 256


def _seal_with(kid: str, pub: X25519PublicKey, value: str, field: str) -> str:
    now = time.monotonic()
    with _lock:
        cur = _eph.get(kid)
        if cur is None or cur[2] >= _EPH_USES or now - cur[3] > _EPH_SECONDS:
            eph = X25519PrivateKey.generate()
            e = _raw_pub(eph.public_key())
            cur = (AESGCM(_derive(eph.exchange(pub), e, _raw_pub(pub))), e, 0, now)
        _eph[kid] = (cur[0], cur[1], cur[2] + 1, cur[3])
    cipher, e = cur[0], cur[1]
    nonce = os.urandom(12)
    ct = cipher.encrypt(nonce, value.encode("utf-8"), field.encode())
    return PREFIX + base64.b64encode(bytes.fromhex(kid) + e + nonce + ct).decode("ascii")


def sealed_kid(token: str) -> str:
    return base64.b64decode(token[len(PREFIX):])[:8].hex()


def open_(home: str | Path, token: str | None, field: str) -> str | None:
    """The plaintext of a sealed value (plain values pass through). Raises Locked or Retired."""
    if not is_sealed(token):
        return token
    assert token is not None
    raw = base64.b64decode(token[len(PREFIX):])
    kid, e, nonce, ct = raw[:8].hex(), raw[8:40], raw[40:52], raw[52:]
    priv = private_key(home, kid)
    if priv is None:
        cur = public_key(home, create=False)
        if cur is None or cur[0] != kid:
            raise Retired(f"该信息由已重置的密钥 {kid} 加密，本机无法解密（总部保存已同步的原值）")
        raise Locked(LOCKED_MESSAGE)
    ck = (_home(home), kid, e)
    with _lock:
        cipher = _opened.get(ck)
        if cipher is not None:
            _opened.move_to_end(ck)
    if cipher is None:
        cipher = AESGCM(_derive(priv.exchange(X25519PublicKey.from_public_bytes(e)), e, _raw_pub(priv.public_key())))
        with _lock:
            _opened[ck] = cipher
            while len(_opened) > _OPENED_MAX:
                _opened.popitem(last=False)
    try:
        return cipher.decrypt(nonce, ct, field.encode()).decode("utf-8")
    except InvalidTag:
        raise PiiError(f"学员个人信息（{field}）密文已损坏，无法解密") from None


def seal_row(home: str | Path, row: dict[str, Any]) -> dict[str, Any]:
    """A trainee row's name/ID/phone sealed, with their masked copies."""
    return seal_rows(home, [row])[0]


def seal_rows(home: str | Path, rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    cur = public_key(home)
    assert cur is not None
    return [_seal_row(cur, r) for r in rows]


def _seal_row(cur: tuple[str, X25519PublicKey], row: dict[str, Any]) -> dict[str, Any]:
    out = dict(row)
    for f in FIELDS:
        v = row.get(f)
        if v and not is_sealed(v):
            out[MASKED[f]] = mask(f, str(v))
            out[f] = _seal_with(cur[0], cur[1], str(v), f)
    return out


def reveal_row(home: str | Path, row: dict[str, Any]) -> dict[str, Any]:
    """The row with real values (Locked propagates; values under a retired key show masked)."""
    out = dict(row)
    for f in FIELDS:
        try:
            out[f] = open_(home, row.get(f), f)
        except Retired:
            out[f] = row.get(MASKED[f])
            out.setdefault("_retired", []).append(f)
    return out


# -- the on-site person in charge (inspections.person_in_charge) ------------------------------------
# Their phone and ID number are sealed like a trainee's: the JSON keeps the masked copy under the
# usual key (what screens, the CLI and the printed 笔录 show) and the sealed original beside it under
# "<key>_sealed"; sync sends HQ the real value. Their name and position stay in clear: they are the
# signer named on the record.
CONTACT_FIELDS = {"phone": "phone", "id_no": "id_number"}     # JSON key → field (mask rule, AAD)


def seal_contact(home: str | Path, new: dict[str, Any], old: dict[str, Any] | None = None) -> dict[str, Any]:
    """``new`` as stored: phone/ID sealed with a masked copy; a masked value handed back unchanged keeps
    the sealed original of ``old`` (the form shows only the masked copy)."""
    old = old or {}
    out = {k: v for k, v in new.items() if not k.endswith("_sealed")}
    for key, field in CONTACT_FIELDS.items():
        v = str(new.get(key) or "").strip()
        if not v:
            out.pop(key, None)
            continue
        if v == old.get(key) and is_sealed(old.get(f"{key}_sealed")):
            out[key], out[f"{key}_sealed"] = v, old[f"{key}_sealed"]
            continue
        mine = new.get(f"{key}_sealed")
        if "*" in v and _ours(home, mine):     # an earlier stored state handed back whole (undo)
            out[key], out[f"{key}_sealed"] = v, mine
            continue
        token = seal(home, v, f"contact:{key}")
        assert token is not None
        out[key], out[f"{key}_sealed"] = mask(field, v), token
    return out


def _ours(home: str | Path, token: Any) -> bool:
    """A well-formed token sealed to this laptop's current or a retired key."""
    if not is_sealed(token):
        return False
    try:
        raw = base64.b64decode(token[len(PREFIX):], validate=True)
    except ValueError:
        return False
    if len(raw) < 8 + 32 + 12 + 16:
        return False
    kid = raw[:8].hex()
    cur = public_key(home, create=False)
    return (cur is not None and cur[0] == kid) or (_dir(home) / "retired" / f"{kid}.pem").is_file()


def reveal_contact(home: str | Path, pic: dict[str, Any]) -> tuple[dict[str, Any], int]:
    """The real phone/ID (sync only; Locked propagates). Values under a retired key stay masked."""
    out, retired = dict(pic), 0
    for key in CONTACT_FIELDS:
        token = out.pop(f"{key}_sealed", None)
        if not is_sealed(token):
            continue
        try:
            out[key] = open_(home, token, f"contact:{key}")
        except Retired:
            retired += 1
    return out, retired


def _plain_contact(pic: Any) -> bool:
    return isinstance(pic, dict) and any(pic.get(k) and not is_sealed(pic.get(f"{k}_sealed")) for k in CONTACT_FIELDS)


# -- the laptop's other secrets: device token, device Ed25519 key (audit checkpoints, QR codes) -------------
# Sealed to the same key pair as the trainees' data, so they are protected exactly as it is (OS key
# store, else the inspectors' passphrase wrappings; the pending file before the first passphrase):
# one unlock per process opens them all, a co-inspector's own wrapping opens them too, and a reset
# (forgotten passphrase) retires them with the key — the laptop is then enrolled again (new token,
# new device key; the old public key is kept, so the checkpoints it signed still verify).
SECRET_LOCKED_MESSAGE = ("本机的设备密钥和总部登记凭据已加密保护（本机没有可用的操作系统密钥库），"
                         "请输入签名口令解锁后再继续")


def seal_secret(home: str | Path, name: str, secret: bytes) -> str:
    token = seal(home, base64.b64encode(secret).decode("ascii"), f"secret:{name}")
    assert token is not None
    return token


def open_secret(home: str | Path, name: str, token: str) -> bytes:
    """Raises Locked (with SECRET_LOCKED_MESSAGE) or Retired (sealed before a reset)."""
    try:
        v = open_(home, token, f"secret:{name}")
    except Retired:
        raise
    except Locked:
        raise Locked(SECRET_LOCKED_MESSAGE) from None
    assert v is not None
    return base64.b64decode(v)


def secret_available(home: str | Path, token: str) -> bool:
    """Whether ``token`` can be opened in this process now, without asking anyone."""
    return not is_sealed(token) or private_key(home, sealed_kid(token)) is not None


# -- checklist table answers (学员抽查核实 S-04: name, 身份证号, phone typed row by row) -------------------
# column id → field (the AAD and the mask). A table is personal data when it has an ID or phone
# column; its "name" column is then sealed too (the name tied to them). Teachers/staff tables are not.
TABLE_FIELDS = {"name": "name", "id_no": "id_number", "id_number": "id_number", "phone": "phone"}
_TABLE_TRIGGERS = frozenset({"id_no", "id_number", "phone"})


def is_sealed_cell(v: Any) -> bool:
    """A sealed table cell as stored: ``{"sealed": "enc1:…", "masked": "410702********1234"}``."""
    return isinstance(v, dict) and is_sealed(v.get("sealed"))


class MaskedCell(str):
    """A masked table cell as handed to screens: the masked text, carrying its sealed original, so a
    row handed back unchanged (another cell edited, a row removed, an undo) keeps its real value."""

    cell: dict[str, Any]

    def __new__(cls, cell: dict[str, Any]) -> "MaskedCell":
        o = super().__new__(cls, str(cell.get("masked") or ""))
        o.cell = dict(cell)
        return o

    def __reduce__(self) -> Any:
        return (MaskedCell, (self.cell,))


def is_pii_table(value: Any) -> bool:
    return isinstance(value, list) and any(isinstance(r, dict) and _TABLE_TRIGGERS & r.keys() for r in value)


def _masked_cells(versions: list[Any]) -> list[list[dict[str, Any]]]:
    return [[r for r in v if isinstance(r, dict)] for v in versions if isinstance(v, list)]


def seal_table(home: str | Path, value: Any, known: Any = ()) -> Any:
    """A table answer with its personal-data cells sealed (with their masked copies).

    Screens get masked cells back (``mask_table``) and hand them back unchanged when another cell of
    the row is edited (or an edit is undone): a cell equal to the masked copy of a sealed cell of an
    earlier version of this answer (``known``: iterable of stored versions, newest first — the
    current row, then the audit log) keeps that sealed original; preferred: the same row, then a row
    whose other masked cells match too, then the newest. Typed values are sealed afresh."""
    if not is_pii_table(value):
        return value
    cur = public_key(home)
    assert cur is not None
    known_iter = iter(known)
    versions: list[list[dict[str, Any]]] = []

    def candidates() -> Any:  # the stored versions, loaded only when a masked cell needs one
        yield from versions
        for v in known_iter:
            rows = _masked_cells([v])
            if rows:
                versions.append(rows[0])
                yield rows[0]

    out = []
    for i, r in enumerate(value):
        if not isinstance(r, dict):
            out.append(r)
            continue
        rr = dict(r)
        shown = {c: r.get(c) for c in TABLE_FIELDS if isinstance(r.get(c), str)}
        for col, field in TABLE_FIELDS.items():
            v = r.get(col)
            if v is None or v == "" or is_sealed_cell(v) or col not in r:
                continue
            if isinstance(v, MaskedCell) and str(v) == v.cell.get("masked") and is_sealed_cell(v.cell):
                rr[col] = dict(v.cell)
                continue
            # a masked text without its original (e.g. typed back through the CLI): best match
            v = str(v)
            hit = _find_masked(candidates(), i, col, v, shown) if "*" in v else None
            if hit is None and "*" in v:
                log.warning("table cell %s looks masked but matches no sealed original; stored as typed", col)
            rr[col] = hit or {"sealed": _seal_with(cur[0], cur[1], v, field), "masked": mask(field, v)}
        out.append(rr)
    return out


def _find_masked(versions: Any, i: int, col: str, v: str, shown: dict[str, Any]) -> dict[str, Any] | None:
    def same(r: dict[str, Any], c: str, x: str) -> bool:
        cell: Any = r.get(c)
        return is_sealed_cell(cell) and cell.get("masked") == x

    first = None
    row_match = None
    for n, rows in enumerate(versions):
        if n == 0 and i < len(rows) and same(rows[i], col, v):
            return dict(rows[i][col])
        for r in rows:
            if same(r, col, v):
                first = first or r
                if row_match is None and all(same(r, c, x) for c, x in shown.items() if "*" in x):
                    row_match = r
        if row_match is not None:
            break
    r = row_match or first
    return dict(r[col]) if r else None


def mask_table(value: Any) -> Any:
    """A stored table answer as screens, the CLI, rules and documents see it: masked copies."""
    if not isinstance(value, list):
        return value
    return [{k: (MaskedCell(c) if is_sealed_cell(c) else c) for k, c in r.items()} if isinstance(r, dict) else r
            for r in value]


def reveal_table(home: str | Path, value: Any) -> tuple[Any, int]:
    """The real values (Locked propagates); cells under a retired key stay masked (counted)."""
    if not isinstance(value, list):
        return value, 0
    retired = 0
    out = []
    for r in value:
        if not isinstance(r, dict):
            out.append(r)
            continue
        rr = {}
        for k, c in r.items():
            if is_sealed_cell(c):
                try:
                    c = open_(home, c["sealed"], TABLE_FIELDS.get(k) or k)
                except Retired:
                    c, retired = c["masked"], retired + 1
            rr[k] = c
        out.append(rr)
    return out, retired


def _answer_json(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, allow_nan=False)  # as visits.set_answer stores it


def reveal_answer_rows(home: str | Path, rows: list[dict[str, Any]]) -> tuple[list[dict[str, Any]], int]:
    """``answers`` rows (value as JSON text) with their sealed table cells opened, for HQ."""
    retired = 0
    out = []
    for a in rows:
        v = a.get("value") if isinstance(a, dict) else None
        if isinstance(v, str) and PREFIX in v:
            plain, n = reveal_table(home, json.loads(v))
            retired += n
            a = {**a, "value": _answer_json(plain)}
        out.append(a)
    return out, retired


# -- store-level helpers --------------------------------------------------------------------------------
def seal_existing(store: Any) -> int:
    """One-off at the migration that brought encryption: trainee rows written in plaintext are sealed."""
    rows = store.rows("SELECT id, name, id_number, phone FROM trainee_checks WHERE name NOT LIKE 'enc1:%'"
                      " OR id_number NOT LIKE 'enc1:%' OR phone NOT LIKE 'enc1:%'")
    rows = [r for r in rows if any(r[f] and not is_sealed(r[f]) for f in FIELDS)]
    # op bodies frozen (or kept after sending) by an earlier version hold the same values in clear
    ops = []
    for o in store.rows("SELECT op_id, payload FROM outbox WHERE payload LIKE '%trainee_checks%'"):
        try:
            body = json.loads(o["payload"])
        except ValueError:
            continue
        if _plain_trainees(body):
            ops.append((o["op_id"], body))
    if not rows and not ops:
        return 0
    # freed cell space must not keep the old bytes (off by default in some SQLite builds, e.g. Windows)
    was = store.scalar("PRAGMA secure_delete")
    store.conn.execute("PRAGMA secure_delete=ON")
    with store.tx() as db:
        for r in rows:
            s = seal_row(store.home, r)
            db.execute("UPDATE trainee_checks SET name = ?, id_number = ?, phone = ?, name_masked = ?, id_masked = ?,"
                       " phone_masked = ? WHERE id = ?",
                       (s["name"], s["id_number"], s["phone"], s.get("name_masked"), s.get("id_masked"),
                        s.get("phone_masked"), r["id"]))
        for op_id, body in ops:
            kids = body["data"]["children"]["trainee_checks"]
            body["data"]["children"]["trainee_checks"] = [seal_row(store.home, r) for r in kids]
            db.execute("UPDATE outbox SET payload = ? WHERE op_id = ?", (dumps(body), op_id))
    log.warning("sealed %d trainee rows and %d outbox bodies stored in plaintext by an earlier version (%s)",
                len(rows), len(ops), store.path)
    # the database file keeps the old pages until the WAL is checkpointed into it
    store.conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    store.conn.execute(f"PRAGMA secure_delete={int(was or 0)}")
    return len(rows)


def seal_existing_drafts(store: Any) -> int:
    """One-off at migration 0620: in visits still open, a person in charge's phone/ID number and
    table cells an earlier build wrote in clear are sealed through the normal write path (so the
    audit log records the change and the tamper check agrees). Finished visits are not touched: the
    clear values are in their signed audit chain, and rewriting it is what the tamper check refuses."""
    from inspector.store import visits

    n = 0
    was = store.scalar("PRAGMA secure_delete")
    store.conn.execute("PRAGMA secure_delete=ON")   # the replaced row versions leave no clear bytes
    for r in store.rows("SELECT id, person_in_charge FROM inspections WHERE status != 'finished'"):
        try:
            pic = json.loads(r["person_in_charge"] or "{}")
        except ValueError:
            continue
        if _plain_contact(pic):
            visits.update_inspection(store, r["id"], person_in_charge=pic, actor="migration")
            n += 1
    for a in store.rows("SELECT a.inspection_id, a.checklist_version_id, a.item_id, a.value FROM answers a"
                        " JOIN inspections i ON i.id = a.inspection_id WHERE i.status != 'finished'"
                        " AND (a.value LIKE '%\"phone\"%' OR a.value LIKE '%\"id_no%')"):
        try:
            value = json.loads(a["value"])
        except ValueError:
            continue
        if is_pii_table(value) and any(isinstance(row, dict) and isinstance(row.get(c), str) and row.get(c)
                                       for row in value for c in TABLE_FIELDS):
            visits.set_answer(store, a["inspection_id"], a["checklist_version_id"], a["item_id"], value,
                              actor="migration")
            n += 1
    if n:
        log.warning("sealed personal data an earlier version wrote in clear in %d open visits' fields (%s)",
                    n, store.path)
        store.conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    store.conn.execute(f"PRAGMA secure_delete={int(was or 0)}")
    return n


def _plain_trainees(body: Any) -> bool:
    data = body.get("data") if isinstance(body, dict) else None
    kids = (data.get("children") or {}).get("trainee_checks") if isinstance(data, dict) else None
    return any(isinstance(r, dict) and r.get(f) and not is_sealed(r.get(f)) for r in kids or [] for f in FIELDS)


def unsynced_sealed(store: Any, kid: str | None = None) -> int:
    """Trainee rows sealed (to ``kid``, default the current key) whose inspection still waits to be sent."""
    rows = store.rows(
        "SELECT t.name, t.id_number, t.phone FROM trainee_checks t WHERE EXISTS (SELECT 1 FROM outbox o"
        " WHERE o.entity = 'inspection' AND o.entity_id = t.inspection_id AND o.sent_at IS NULL)")
    if kid is None:
        cur = public_key(store.home, create=False)
        if cur is None:
            return 0
        kid = cur[0]
    return sum(1 for r in rows if any(is_sealed(r[f]) and sealed_kid(r[f]) == kid for f in FIELDS))


def reveal_body(home: str | Path, body: dict[str, Any]) -> tuple[dict[str, Any], int]:
    """An outbox op body with the trainees' real values (trainee rows and the sealed cells of table
    answers), in memory only, just before it is sent; masked copies are dropped (HQ keeps the shape
    it always had). Raises Locked. Returns the body and how many values were under a retired key
    (sent masked: their real value is only at HQ)."""
    data = body.get("data")
    if not isinstance(data, dict):
        return body, 0
    retired = 0
    out = dict(data)
    answers = data.get("answers")
    if isinstance(answers, list) and any(isinstance(a, dict) and PREFIX in str(a.get("value")) for a in answers):
        out["answers"], retired = reveal_answer_rows(home, answers)
    kids = (data.get("children") or {}).get("trainee_checks")
    if kids:
        rows = []
        for r in kids:
            rr = reveal_row(home, r)
            retired += len(rr.pop("_retired", []))
            for m in MASKED.values():
                rr.pop(m, None)
            rows.append(rr)
        out["children"] = {**data["children"], "trainee_checks": rows}
    row = data.get("row")
    pic = _contact_of(row)
    if isinstance(row, dict) and pic is not None and any(is_sealed(pic.get(f"{k}_sealed")) for k in CONTACT_FIELDS):
        plain, n = reveal_contact(home, pic)
        retired += n
        out["row"] = {**row, "person_in_charge": dumps(plain)}
    if out == data:
        return body, retired
    return {**body, "data": out}, retired


def carries_sealed(body: dict[str, Any]) -> bool:
    data = body.get("data")
    kids = (data or {}).get("children", {}).get("trainee_checks") if isinstance(data, dict) else None
    answers = data.get("answers") if isinstance(data, dict) else None
    pic = _contact_of(data.get("row")) if isinstance(data, dict) else None
    return any(is_sealed(r.get(f)) for r in kids or [] for f in FIELDS) \
        or any(isinstance(a, dict) and PREFIX in str(a.get("value")) for a in answers or []) \
        or any(is_sealed((pic or {}).get(f"{k}_sealed")) for k in CONTACT_FIELDS)


def _contact_of(row: Any) -> dict[str, Any] | None:
    """The person_in_charge JSON of an inspection row (an op body's ``row``), or None."""
    v = row.get("person_in_charge") if isinstance(row, dict) else None
    if isinstance(v, str) and PREFIX in v:
        try:
            v = json.loads(v)
        except ValueError:
            return None
    return v if isinstance(v, dict) else None


def reset(home: str | Path) -> tuple[str | None, str]:
    """A forgotten passphrase: retire the current key pair (its public key is kept to name it) and make
    a new one. Returns (old kid, new kid)."""
    h = _home(home)
    d = _dir(h)
    cur = public_key(h, create=False)
    old = cur[0] if cur else None
    with _lock:
        if cur is not None:
            (d / "retired").mkdir(parents=True, exist_ok=True, mode=0o700)
            (d / "public.pem").replace(d / "retired" / f"{old}.pem")
            _keyring_delete(h, old or "")
        for p in d.glob("wrap-*.json"):
            p.unlink()
        _pending(h).unlink(missing_ok=True)
        lock(h)
        kid, _ = _new_pair(h)
    log.warning("PII key reset in %s: %s retired, %s made", h, old, kid)
    return old, kid


def status(home: str | Path) -> dict[str, Any]:
    cur = public_key(home, create=False)
    d = _dir(home)
    return {"key_id": cur[0] if cur else None, "unlocked": is_unlocked(home),
            "wrapped_for": [w.get("badge_no") for w in wrappings(home) if cur and w.get("kid") == cur[0]],
            "pending_file": _pending(home).exists(), "os_key_store": keyring_available(),
            "retired": sorted(p.stem for p in (d / "retired").glob("*.pem")) if (d / "retired").exists() else []}
