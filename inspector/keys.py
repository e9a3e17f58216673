"""Signing keys on the laptop.

Layout under ``<home>/keys/``::

    <badge_no>/key.pem     the inspector's ECDSA P-256 key, encrypted with their passphrase
    <badge_no>/cert.pem    their certificate (local CA before enrolment, HQ's CA after)
    local-ca/              the laptop's own CA (pki.CA) used before enrolment
    hq-ca.pem              HQ's CA certificate, written at enrolment
    device-ed25519.sealed  the device key that signs QR verification URLs and audit checkpoints,
                           sealed like the trainees' data (pii.seal_secret; OS key store or passphrase)
    device-ed25519.pub.pem its public key (checks checkpoints without an unlock)

Only the inspector knows the passphrase (电子签名法 §13: signing data under the
signer's sole control). The local CA key is encrypted with the passphrase of the
inspector it was made for (``local-ca/<key id>.key.pem``); an inspector who cannot
unlock an existing local CA key gets a new local CA of their own, whose certificate
joins ``local-ca/ca.cert.pem`` (a PEM bundle: the laptop's trust anchors).
"""
from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519

from inspector import pki
from inspector.errors import DocumentError

LOCAL_CA_DIR = "local-ca"
LOCAL_CA_NAME = "本机临时证书机构（未经总部认证）"
HQ_CA_FILE = "hq-ca.pem"
DEVICE_KEY_FILE = "device-ed25519.pem"            # unencrypted, before issue 14: sealed at first use, removed
DEVICE_SEALED_FILE = "device-ed25519.sealed"       # the private key sealed like the trainees' data (pii.py)
DEVICE_PUBLIC_FILE = "device-ed25519.pub.pem"
DEVICE_RETIRED_DIR = "device-retired"              # public keys of device keys retired by a passphrase reset
MIN_PASSPHRASE = 6
_BADGE = re.compile(r"^[^/\\\x00.:*?\"<>|\s][^/\\\x00:*?\"<>|\s]{0,59}$")


def keys_dir(home: str | Path) -> Path:
    return Path(home) / "keys"


def _badge_dir(home: str | Path, badge_no: str) -> Path:
    if not _BADGE.match(badge_no or ""):
        raise DocumentError(f"执法证号 {badge_no!r} 不能用作密钥目录名（不能含路径分隔符或空白）")
    return keys_dir(home) / badge_no


def _pw(passphrase: str | bytes) -> bytes:
    return passphrase.encode("utf-8") if isinstance(passphrase, str) else passphrase


@dataclass
class SigningKey:
    """An unlocked inspector key with its certificate chain."""

    badge_no: str
    key: ec.EllipticCurvePrivateKey
    cert: x509.Certificate
    ca_cert: x509.Certificate | None
    hq_certified: bool

    @property
    def name(self) -> str:
        attrs = self.cert.subject.get_attributes_for_oid(x509.oid.NameOID.COMMON_NAME)
        return str(attrs[0].value) if attrs else self.badge_no


def _ski(cert: x509.Certificate) -> str:
    return x509.SubjectKeyIdentifier.from_public_key(cert.public_key()).digest.hex()  # type: ignore[arg-type]


def local_ca_certs(home: str | Path) -> list[x509.Certificate]:
    """Every local CA this laptop has made (the trust bundle)."""
    p = keys_dir(home) / LOCAL_CA_DIR / pki.CERT_FILE
    return x509.load_pem_x509_certificates(p.read_bytes()) if p.exists() else []


def local_ca(home: str | Path, passphrase: str | bytes) -> pki.CA:
    """A local CA whose key ``passphrase`` unlocks; made (and added to the bundle) when none does.
    A key left unencrypted by an older version is encrypted with the first passphrase that uses it."""
    d = keys_dir(home) / LOCAL_CA_DIR
    pw = _pw(passphrase)
    certs = {_ski(c): c for c in local_ca_certs(home)}
    legacy = d / pki.KEY_FILE
    if legacy.exists() and certs:
        key = pki.load_key(legacy.read_bytes(), None, where=str(legacy))
        for ski, c in certs.items():
            if pki.public_pem(key) == c.public_key().public_bytes(serialization.Encoding.PEM,
                                                                  serialization.PublicFormat.SubjectPublicKeyInfo):
                pki._write_private(d / f"{ski}.key.pem", pki.key_to_pem(key, pw))
                legacy.unlink()
                return pki.CA(d, key, c)
    for ski, c in certs.items():
        kp = d / f"{ski}.key.pem"
        if not kp.exists():
            continue
        try:
            return pki.CA(d, pki.load_key(kp.read_bytes(), pw, where=str(kp)), c)
        except DocumentError:
            continue  # another inspector's local CA
    key = pki.new_key()
    name = pki._name(LOCAL_CA_NAME, "本机")
    cert = pki.self_signed(key, name)
    pki._write_private(d / f"{_ski(cert)}.key.pem", pki.key_to_pem(key, pw))
    bundle = d / pki.CERT_FILE
    with open(bundle, "ab") as f:
        f.write(cert.public_bytes(serialization.Encoding.PEM))
    return pki.CA(d, key, cert)


def local_ca_for(home: str | Path, cert: x509.Certificate) -> x509.Certificate | None:
    """The local CA certificate that issued ``cert`` (matched by key identifier)."""
    try:
        aki = cert.extensions.get_extension_for_class(x509.AuthorityKeyIdentifier).value.key_identifier
    except x509.ExtensionNotFound:
        aki = None
    for c in local_ca_certs(home):
        if c.subject == cert.issuer and (aki is None or aki.hex() == _ski(c)):
            return c
    return None


def local_ca_cert_path(home: str | Path) -> Path:
    return keys_dir(home) / LOCAL_CA_DIR / pki.CERT_FILE


def hq_ca_path(home: str | Path) -> Path:
    return keys_dir(home) / HQ_CA_FILE


def has_key(home: str | Path, badge_no: str) -> bool:
    return (_badge_dir(home, badge_no) / "key.pem").exists()


def create_inspector_key(home: str | Path, badge_no: str, name: str, passphrase: str | bytes,
                         *, unit: str | None = None, overwrite: bool = False) -> Path:
    """Make the inspector's key and a local-CA certificate; returns the key folder."""
    pw = _pw(passphrase)
    if len(pw) < MIN_PASSPHRASE:
        raise DocumentError(f"{badge_no}：签名口令至少 {MIN_PASSPHRASE} 个字符")
    d = _badge_dir(home, badge_no)
    if (d / "key.pem").exists() and not overwrite:
        raise DocumentError(f"{d / 'key.pem'}：该执法证号已有签名密钥，不覆盖")
    key = pki.new_key()
    ca = local_ca(home, pw)
    cert = ca.issue(pki.public_pem(key), common_name=name, org=unit or "本机", serial=badge_no)
    pki._write_private(d / "key.pem", pki.key_to_pem(key, pw))
    (d / "cert.pem").write_bytes(cert)
    _pii_passphrase(home, badge_no, pw)
    return d


def _pii_passphrase(home: str | Path, badge_no: str, pw: bytes) -> None:
    """A proven passphrase also wraps (or unlocks) the trainees' personal-data key (inspector/pii.py)."""
    from inspector import pii

    pii.on_passphrase(home, badge_no, pw)


def public_key_pem(home: str | Path, badge_no: str) -> bytes:
    """The public key HQ needs to issue a certificate at enrolment (read from cert.pem, no passphrase)."""
    cert = x509.load_pem_x509_certificate((_badge_dir(home, badge_no) / "cert.pem").read_bytes())
    return cert.public_key().public_bytes(serialization.Encoding.PEM,
                                          serialization.PublicFormat.SubjectPublicKeyInfo)


def install_hq_certificate(home: str | Path, badge_no: str, cert_pem: bytes, hq_ca_pem: bytes) -> None:
    """Called at enrolment: HQ's certificate for the inspector's existing key, and HQ's CA."""
    d = _badge_dir(home, badge_no)
    try:
        cert = x509.load_pem_x509_certificate(cert_pem)
        ca = x509.load_pem_x509_certificate(hq_ca_pem)
    except ValueError as e:
        raise DocumentError(f"{badge_no}：总部证书无法解析（{e}）") from e
    if (d / "cert.pem").exists():
        old = x509.load_pem_x509_certificate((d / "cert.pem").read_bytes())
        if old.public_key().public_bytes(serialization.Encoding.DER,
                                         serialization.PublicFormat.SubjectPublicKeyInfo) != \
                cert.public_key().public_bytes(serialization.Encoding.DER,
                                               serialization.PublicFormat.SubjectPublicKeyInfo):
            raise DocumentError(f"{badge_no}：总部证书的公钥与本机私钥不匹配")
    if cert.issuer != ca.subject:
        raise DocumentError(f"{badge_no}：证书不是由所给的总部证书机构签发")
    d.mkdir(parents=True, exist_ok=True)
    (d / "cert.pem").write_bytes(cert_pem)
    hq_ca_path(home).write_bytes(hq_ca_pem)


def _hq_ca(home: str | Path) -> x509.Certificate | None:
    p = hq_ca_path(home)
    return x509.load_pem_x509_certificate(p.read_bytes()) if p.exists() else None


def load_signing_key(home: str | Path, badge_no: str, passphrase: str | bytes) -> SigningKey:
    """Unlock an inspector's key; a wrong passphrase raises DocumentError naming the file."""
    d = _badge_dir(home, badge_no)
    key_path = d / "key.pem"
    if not key_path.exists():
        raise DocumentError(f"{key_path}：执法证号 {badge_no} 没有签名密钥，请先创建")
    try:
        key = pki.load_key(key_path.read_bytes(), _pw(passphrase), where=str(key_path))
    except DocumentError:
        raise DocumentError(f"{key_path}：签名口令错误（执法证号 {badge_no}），无法解开私钥") from None
    _pii_passphrase(home, badge_no, _pw(passphrase))
    cert = x509.load_pem_x509_certificate((d / "cert.pem").read_bytes())
    hq = _hq_ca(home)
    if hq is not None and cert.issuer == hq.subject:
        return SigningKey(badge_no, key, cert, hq, True)
    return SigningKey(badge_no, key, cert, local_ca_for(home, cert), False)


# -- device key (QR signatures, audit checkpoints) ------------------------------
def _device_paths(home: str | Path) -> tuple[Path, Path, Path]:
    d = keys_dir(home)
    return d / DEVICE_SEALED_FILE, d / DEVICE_PUBLIC_FILE, d / DEVICE_KEY_FILE


def _raw_ed(k: ed25519.Ed25519PrivateKey) -> bytes:
    return k.private_bytes(serialization.Encoding.Raw, serialization.PrivateFormat.Raw, serialization.NoEncryption())


def _pub_pem(k: ed25519.Ed25519PublicKey) -> bytes:
    return k.public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)


def _store_device_key(home: str | Path, k: ed25519.Ed25519PrivateKey) -> None:
    """Sealed to the laptop's personal-data key (pii.seal_secret: needs no unlock) + the public key."""
    from inspector import pii

    sealed, public, _plain = _device_paths(home)
    pii._write_private(sealed, pii.seal_secret(home, "device-ed25519", _raw_ed(k)).encode("ascii"))
    pii._write_private(public, _pub_pem(k.public_key()))


def _migrate_device_key(home: str | Path) -> None:
    """An unencrypted PEM left by an earlier version is sealed, then removed."""
    sealed, _public, plain = _device_paths(home)
    if not plain.exists():
        return
    if not sealed.exists():
        k = serialization.load_pem_private_key(plain.read_bytes(), password=None)
        if not isinstance(k, ed25519.Ed25519PrivateKey):
            raise DocumentError(f"{plain}：不是 Ed25519 私钥")
        _store_device_key(home, k)
    plain.unlink()


def device_key(home: str | Path) -> ed25519.Ed25519PrivateKey:
    """The laptop's Ed25519 key, made on first use. Kept sealed (pii.seal_secret): raises pii.Locked
    when this process cannot open it now (no OS key store and no passphrase given yet). A key sealed
    before a passphrase reset is retired (its public key kept, for the checkpoints it signed) and a
    new one made: QR codes then verify at HQ after the laptop is enrolled again."""
    from inspector import pii

    _migrate_device_key(home)
    sealed, public, _plain = _device_paths(home)
    if sealed.exists():
        try:
            return ed25519.Ed25519PrivateKey.from_private_bytes(
                pii.open_secret(home, "device-ed25519", sealed.read_text(encoding="ascii").strip()))
        except pii.Retired:
            old = public.read_bytes() if public.exists() else None
            if old:
                from hashlib import sha256

                rd = keys_dir(home) / DEVICE_RETIRED_DIR
                rd.mkdir(parents=True, exist_ok=True, mode=0o700)
                (rd / f"{sha256(old).hexdigest()[:16]}.pub.pem").write_bytes(old)
            logging.getLogger(__name__).warning("device key sealed before a passphrase reset: retired, new one made")
    k = ed25519.Ed25519PrivateKey.generate()
    _store_device_key(home, k)
    return k


def device_public_keys(home: str | Path) -> list[ed25519.Ed25519PublicKey]:
    """The device's public key and those it had before a reset (no unlock needed; [] when none)."""
    _migrate_device_key(home)
    _sealed, public, _plain = _device_paths(home)
    rd = keys_dir(home) / DEVICE_RETIRED_DIR
    files = ([public] if public.exists() else []) + (sorted(rd.glob("*.pub.pem")) if rd.exists() else [])
    out = []
    for f in files:
        k = serialization.load_pem_public_key(f.read_bytes())
        if isinstance(k, ed25519.Ed25519PublicKey):
            out.append(k)
    return out


def device_key_available(home: str | Path) -> bool:
    """Whether the device key can sign in this process now, without asking anyone."""
    from inspector import pii

    _migrate_device_key(home)
    sealed, _public, _plain = _device_paths(home)
    return not sealed.exists() or pii.secret_available(home, sealed.read_text(encoding="ascii").strip())


def device_public_pem(home: str | Path) -> bytes:
    """What HQ stores at enrolment to check this laptop's QR codes (the key is made if none, and
    replaced if it was sealed before a passphrase reset: an enrolment must not register a key
    this laptop can no longer use)."""
    from inspector import pii

    _migrate_device_key(home)
    sealed, public, _plain = _device_paths(home)
    if sealed.exists():
        tok = sealed.read_text(encoding="ascii").strip()
        cur = pii.public_key(home, create=False)
        if pii.is_sealed(tok) and (cur is None or pii.sealed_kid(tok) != cur[0]):
            device_key(home)  # retired: rotated (needs no unlock)
    if not public.exists():
        device_key(home)
    return public.read_bytes()

