"""The verification URL printed as a QR code on every document.

The QR cannot carry the hash of the final signed PDF (the QR is inside it), so it
carries what is fixed before signing: the document id, the sha256 of the
canonical record the document shows, and an Ed25519 signature over both by the
laptop's device key. HQ records the signed PDF's sha256 at sync; its page at the
URL says whether a presented file is genuine. Layout::

    <base>/<id: 22 b64url>.<record sha256: 43 b64url>.<signature: 86 b64url>

≈ 175 characters with a short base URL: QR version ≤ 10 at error correction M.
"""
from __future__ import annotations

import base64
import uuid
from dataclasses import dataclass
from pathlib import Path

import qrcode
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ed25519

from inspector import keys
from inspector.errors import DocumentError

DEFAULT_BASE = "https://hq.example/v"
MAX_VERSION = 10
DOMAIN = b"inspector-doc-v1|"


def _b64(b: bytes) -> str:
    return base64.urlsafe_b64encode(b).rstrip(b"=").decode("ascii")


def _unb64(s: str) -> bytes:
    return base64.urlsafe_b64decode(s + "=" * (-len(s) % 4))


def message(doc_id: str, record_sha256: str) -> bytes:
    """The bytes the device signs (domain-separated)."""
    return DOMAIN + uuid.UUID(doc_id).bytes + bytes.fromhex(record_sha256)


def make_url(home: str | Path, doc_id: str, record_sha256: str, base: str = DEFAULT_BASE) -> str:
    sig = keys.device_key(home).sign(message(doc_id, record_sha256))
    url = f"{base.rstrip('/')}/{_b64(uuid.UUID(doc_id).bytes)}.{_b64(bytes.fromhex(record_sha256))}.{_b64(sig)}"
    v = qr_version(url)
    if v > MAX_VERSION:
        raise DocumentError(f"核验网址过长（二维码版本 {v} > {MAX_VERSION}），请缩短 verify_base_url：{base}")
    return url


def qr_version(url: str) -> int:
    q = qrcode.QRCode(error_correction=qrcode.constants.ERROR_CORRECT_M, border=2)
    q.add_data(url.encode("utf-8"), optimize=0)
    return int(q.best_fit())  # version only; no mask search


@dataclass
class Parsed:
    base: str
    doc_id: str
    record_sha256: str
    signature: bytes


def parse_url(url: str) -> Parsed:
    base, _, token = url.rpartition("/")
    parts = token.split(".")
    if len(parts) != 3:
        raise DocumentError(f"不是文书核验网址：{url}")
    try:
        did, sha, sig = (_unb64(p) for p in parts)
    except ValueError as e:
        raise DocumentError(f"核验网址无法解码：{url}") from e
    if len(did) != 16 or len(sha) != 32 or len(sig) != 64:
        raise DocumentError(f"核验网址长度不符：{url}")
    return Parsed(base, str(uuid.UUID(bytes=did)), sha.hex(), sig)


def check_url(url: str, device_public_pem: bytes) -> Parsed:
    """Parse and check the device signature; raises DocumentError when it does not verify."""
    p = parse_url(url)
    pub = serialization.load_pem_public_key(device_public_pem)
    if not isinstance(pub, ed25519.Ed25519PublicKey):
        raise DocumentError("设备公钥不是 Ed25519")
    try:
        pub.verify(p.signature, message(p.doc_id, p.record_sha256))
    except InvalidSignature:
        raise DocumentError(f"核验网址的设备签名无效：文书 {p.doc_id}") from None
    return p
