"""Certificates for signing: a small certificate authority and key files.

The laptop makes a local CA before it is enrolled (documents then verify as
未经总部认证); HQ runs the same class as its CA and issues the inspector's
certificate at enrolment. Keys are ECDSA P-256 (poppler and pyHanko both check
it); private keys on disk are encrypted with the owner's passphrase.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.name import _ASN1Type
from cryptography.x509.oid import AuthorityInformationAccessOID, ExtendedKeyUsageOID, NameOID, ObjectIdentifier

from inspector.errors import DocumentError

KEY_FILE = "ca.key.pem"
CERT_FILE = "ca.cert.pem"
TSA_KEY_FILE = "tsa.key.pem"
TSA_CERT_FILE = "tsa.cert.pem"
# RFC 9336 id-kp-documentSigning: what these certificates are for (not code signing or e-mail)
DOCUMENT_SIGNING = ObjectIdentifier("1.3.6.1.5.5.7.3.36")
CA_CERT_PATH = "/ca/ca.der"      # AIA caIssuers, relative to HQ's public URL
CRL_PATH = "/ca/crl.der"         # CRL distribution point


def new_key() -> ec.EllipticCurvePrivateKey:
    return ec.generate_private_key(ec.SECP256R1())


def key_to_pem(key: ec.EllipticCurvePrivateKey, passphrase: bytes | None) -> bytes:
    enc = serialization.BestAvailableEncryption(passphrase) if passphrase else serialization.NoEncryption()
    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, enc)


def load_key(pem: bytes, passphrase: bytes | None, *, where: str = "key") -> ec.EllipticCurvePrivateKey:
    try:
        key = serialization.load_pem_private_key(pem, password=passphrase or None)
    except (ValueError, TypeError) as e:
        raise DocumentError(f"{where}: 无法解开私钥（口令错误或文件损坏）") from e
    if not isinstance(key, ec.EllipticCurvePrivateKey):
        raise DocumentError(f"{where}: 不是 ECDSA 私钥")
    return key


def public_pem(key: ec.EllipticCurvePrivateKey) -> bytes:
    return key.public_key().public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)


def _fit(text: str, limit: int = 64) -> str:
    """X.509 name attributes hold at most 64 (counted in UTF-8 bytes by cryptography): a long
    agency name (内蒙古自治区人力资源和社会保障厅 …) is cut at a character boundary, not refused."""
    while len(text.encode("utf-8")) > limit:
        text = text[:-1]
    return text


def _name(common_name: str, org: str | None = None, serial: str | None = None) -> x509.Name:
    attrs = [x509.NameAttribute(NameOID.COUNTRY_NAME, "CN")]
    if org:
        attrs.append(x509.NameAttribute(NameOID.ORGANIZATION_NAME, _fit(org)))
    attrs.append(x509.NameAttribute(NameOID.COMMON_NAME, _fit(common_name)))
    if serial:
        # badge numbers may hold CJK (豫0701…): PrintableString cannot, UTF8String can
        printable = all(c.isascii() and (c.isalnum() or c in " '()+,-./:=?") for c in serial)
        attrs.append(x509.NameAttribute(NameOID.SERIAL_NUMBER, serial,
                                        _type=None if printable else _ASN1Type.UTF8String))
    return x509.Name(attrs)


def _write_private(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(path.suffix + ".tmp")
    tmp.write_bytes(data)
    tmp.chmod(0o600)
    tmp.replace(path)


def self_signed(key: ec.EllipticCurvePrivateKey, name: x509.Name, days: int = 3650) -> x509.Certificate:
    """A CA certificate (path length 0: it issues end-entity certificates only)."""
    now = dt.datetime.now(dt.timezone.utc)
    return (
        x509.CertificateBuilder()
        .subject_name(name).issuer_name(name).public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5)).not_valid_after(now + dt.timedelta(days=days))
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(x509.KeyUsage(digital_signature=False, content_commitment=False, key_encipherment=False,
                                     data_encipherment=False, key_agreement=False, key_cert_sign=True,
                                     crl_sign=True, encipher_only=False, decipher_only=False), critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .sign(key, hashes.SHA256())
    )


@dataclass
class CA:
    """A certificate authority whose key and certificate live in ``directory``."""

    directory: Path
    key: ec.EllipticCurvePrivateKey
    cert: x509.Certificate

    @classmethod
    def create(cls, directory: str | Path, common_name: str, *, org: str | None = None,
               passphrase: bytes | None = None, days: int = 3650) -> "CA":
        d = Path(directory)
        if (d / CERT_FILE).exists():
            raise DocumentError(f"{d}: 已存在证书机构，不覆盖")
        key = new_key()
        cert = self_signed(key, _name(common_name, org), days)
        _write_private(d / KEY_FILE, key_to_pem(key, passphrase))
        (d / CERT_FILE).write_bytes(cert.public_bytes(serialization.Encoding.PEM))
        return cls(d, key, cert)

    @classmethod
    def load(cls, directory: str | Path, passphrase: bytes | None = None) -> "CA":
        d = Path(directory)
        try:
            key_pem = (d / KEY_FILE).read_bytes()
            cert = x509.load_pem_x509_certificate((d / CERT_FILE).read_bytes())
        except FileNotFoundError as e:
            raise DocumentError(f"{d}: 没有证书机构（{e.filename}）") from e
        return cls(d, load_key(key_pem, passphrase, where=str(d / KEY_FILE)), cert)

    @classmethod
    def load_or_create(cls, directory: str | Path, common_name: str, **kw: object) -> "CA":
        d = Path(directory)
        if (d / CERT_FILE).exists():
            return cls.load(d, kw.get("passphrase"))  # type: ignore[arg-type]
        return cls.create(d, common_name, **kw)  # type: ignore[arg-type]

    @property
    def cert_pem(self) -> bytes:
        return self.cert.public_bytes(serialization.Encoding.PEM)

    def _leaf(self, pub: object, subject: x509.Name, days: int, eku: list[ObjectIdentifier], *,
              eku_critical: bool, base_url: str | None) -> x509.Certificate:
        now = dt.datetime.now(dt.timezone.utc)
        b = (
            x509.CertificateBuilder()
            .subject_name(subject).issuer_name(self.cert.subject)
            .public_key(pub)  # type: ignore[arg-type]
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - dt.timedelta(minutes=5)).not_valid_after(now + dt.timedelta(days=days))
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(x509.KeyUsage(digital_signature=True, content_commitment=True, key_encipherment=False,
                                         data_encipherment=False, key_agreement=False, key_cert_sign=False,
                                         crl_sign=False, encipher_only=False, decipher_only=False), critical=True)
            .add_extension(x509.ExtendedKeyUsage(eku), critical=eku_critical)
            .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(self.key.public_key()), critical=False)
            .add_extension(x509.SubjectKeyIdentifier.from_public_key(pub), critical=False)  # type: ignore[arg-type]
        )
        if base_url:  # where a validator finds the issuer and the revocation list (HQ publishes both)
            base = base_url.rstrip("/")
            b = b.add_extension(x509.AuthorityInformationAccess([x509.AccessDescription(
                AuthorityInformationAccessOID.CA_ISSUERS, x509.UniformResourceIdentifier(base + CA_CERT_PATH))]),
                critical=False)
            b = b.add_extension(x509.CRLDistributionPoints([x509.DistributionPoint(
                full_name=[x509.UniformResourceIdentifier(base + CRL_PATH)], relative_name=None, reasons=None,
                crl_issuer=None)]), critical=False)
        return b.sign(self.key, hashes.SHA256())

    def issue(self, public_key_pem: bytes, *, common_name: str, org: str | None = None,
              serial: str | None = None, days: int = 1825, base_url: str | None = None) -> bytes:
        """Issue a document-signing certificate (PEM) for an inspector's public key: key usage
        digitalSignature + nonRepudiation, EKU documentSigning (RFC 9336), AIA/CRL at ``base_url``."""
        pub = serialization.load_pem_public_key(public_key_pem)
        cert = self._leaf(pub, _name(common_name, org, serial), days, [DOCUMENT_SIGNING], eku_critical=False,
                          base_url=base_url)
        return cert.public_bytes(serialization.Encoding.PEM)

    def issue_tsa(self, key: ec.EllipticCurvePrivateKey, *, common_name: str, org: str | None = None,
                  days: int = 3650, base_url: str | None = None) -> x509.Certificate:
        """The time-stamping authority's certificate: EKU timeStamping only, critical (RFC 3161 §2.3)."""
        return self._leaf(key.public_key(), _name(common_name, org), days, [ExtendedKeyUsageOID.TIME_STAMPING],
                          eku_critical=True, base_url=base_url)

    def crl(self, revoked: list[tuple[int, dt.datetime]], *, number: int, days: int = 7) -> bytes:
        """A DER CRL of this CA listing ``revoked`` (serial, revocation time); valid ``days``."""
        now = dt.datetime.now(dt.timezone.utc)
        b = (x509.CertificateRevocationListBuilder().issuer_name(self.cert.subject)
             .last_update(now - dt.timedelta(minutes=5)).next_update(now + dt.timedelta(days=days))
             .add_extension(x509.CRLNumber(number), critical=False)
             .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(self.key.public_key()),
                            critical=False))
        for serial, when in revoked:
            b = b.add_revoked_certificate(x509.RevokedCertificateBuilder().serial_number(serial)
                                          .revocation_date(when).build())
        return b.sign(self.key, hashes.SHA256()).public_bytes(serialization.Encoding.DER)
