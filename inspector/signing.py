"""PAdES signatures with pyHanko.

A document gets empty signature fields for every signer before anyone signs
(``prepare``). The first signature certifies the document (DocMDP level 2: only
form filling and signing may follow); each later signer adds an incremental
revision that only fills their own field. Handwritten images are already part of
the page content (drawn by reportlab) before any digital signature is made.

Offline there is no timestamp authority: signatures are PAdES-B-B; HQ adds the
validation data and a document timestamp after sync (PAdES-B-LT, inspector/hq/pades_lt.py).

Every revision stays PDF 1.7 (the documents are PDF/A-2b, inspector/pdfa.py): pyHanko would
declare PDF 2.0 in the catalog for the ISO 32002 (ECDSA) extension, against the file's header;
ECDSA in PAdES needs no such declaration under PDF 1.7 with the ESIC extension.
"""
from __future__ import annotations

import io
from typing import Any, Sequence

from asn1crypto import keys as asn1_keys, x509 as asn1_x509
from cryptography.hazmat.primitives import serialization
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign import fields, signers
from pyhanko.sign.fields import MDPPerm, SigFieldSpec
from pyhanko.sign.general import SigningError
from pyhanko.sign.signers.pdf_cms import SimpleSigner
from pyhanko_certvalidator.registry import SimpleCertificateStore

from inspector.errors import DocumentError
from inspector.keys import SigningKey


class Pdf17Writer(IncrementalPdfFileWriter):
    """An incremental writer that keeps the document at PDF 1.7 (see the module notes)."""

    def ensure_output_version(self, version: tuple[int, int]) -> None:
        super().ensure_output_version(min(version, (1, 7)))

    def register_extension(self, ext: Any) -> None:
        if str(getattr(ext, "prefix_name", "")) == "/ISO_" and int(getattr(ext, "extension_level", 0)) == 32002:
            return  # the PDF 2.0 ECDSA declaration; not for a PDF/A-2 (1.7) file
        super().register_extension(ext)

    def _update_meta(self) -> None:
        # pyHanko would rewrite /Producer and /ModDate and replace the XMP (losing the PDF/A
        # identification, and disagreeing with the Info dictionary): a signature leaves both alone
        return


RESERVED = 8192  # hex digits kept for each CMS container: 4 KB of DER, ≈ 2.4× what one needs


def field_name(index: int) -> str:
    """Field for the n-th inspector (1-based)."""
    return f"Sig_inspector{index}"


def prepare(pdf: bytes, field_names: Sequence[str]) -> bytes:
    """Add empty (invisible) signature fields for every signer, as one incremental revision."""
    w = Pdf17Writer(io.BytesIO(pdf), strict=False)
    for name in field_names:
        fields.append_signature_field(w, SigFieldSpec(sig_field_name=name, on_page=0, box=None))
    out = io.BytesIO()
    w.write(out)
    return out.getvalue()


def signature_fields(pdf: bytes) -> list[tuple[str, bool]]:
    """[(field name, filled?)] for every signature field in the document."""
    r = PdfFileReader(io.BytesIO(pdf), strict=False)
    return [(name, value is not None) for name, value, _ref in fields.enumerate_sig_fields(r, filled_status=None)]


def _signer(sk: SigningKey) -> SimpleSigner:
    key_der = sk.key.private_bytes(serialization.Encoding.DER, serialization.PrivateFormat.PKCS8,
                                   serialization.NoEncryption())
    cert = asn1_x509.Certificate.load(sk.cert.public_bytes(serialization.Encoding.DER))
    chain = []
    if sk.ca_cert is not None:
        chain.append(asn1_x509.Certificate.load(sk.ca_cert.public_bytes(serialization.Encoding.DER)))
    return SimpleSigner(signing_cert=cert, signing_key=asn1_keys.PrivateKeyInfo.load(key_der),
                        cert_registry=SimpleCertificateStore.from_certs(chain))


def sign(pdf: bytes, sk: SigningKey, field: str, *, reason: str = "检查人员签名", location: str | None = None) -> bytes:
    """Sign ``field``; the first signature in the file certifies, later ones approve."""
    existing = signature_fields(pdf)
    names = {n: filled for n, filled in existing}
    if field not in names:
        raise DocumentError(f"文书中没有签名域 {field}（已有：{', '.join(names) or '无'}）")
    if names[field]:
        raise DocumentError(f"签名域 {field} 已经签过名")
    first = not any(names.values())
    meta = signers.PdfSignatureMetadata(
        field_name=field, md_algorithm="sha256", subfilter=fields.SigSeedSubFilter.PADES,
        reason=reason, location=location, name=sk.name,
        certify=first, docmdp_permissions=MDPPerm.FILL_FORMS,
    )
    signer = _signer(sk)
    try:
        try:
            # a fixed reservation spares pyHanko a dummy signature to estimate the size (≈ 1/3 of
            # the signing time); an ECDSA CMS with a two-certificate chain is ≈ 1.7 KB of DER
            out = signers.sign_pdf(Pdf17Writer(io.BytesIO(pdf), strict=False), meta, signer=signer,
                                   bytes_reserved=RESERVED)
        except SigningError as e:
            if "larger than expected" not in str(e):
                raise
            out = signers.sign_pdf(Pdf17Writer(io.BytesIO(pdf), strict=False), meta, signer=signer)
    except Exception as e:  # pyHanko raises several unrelated types
        raise DocumentError(f"签名失败（{field}，执法证号 {sk.badge_no}）：{e}") from e
    return out.getvalue()
