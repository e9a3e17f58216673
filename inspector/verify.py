"""Is this signed PDF the document the inspectors signed?

The rule (ARCHITECTURE.md): every signature intact and trusted; the last one
covers the whole file; earlier ones allow only form filling after them (pyHanko's
difference analysis — pdfsig alone misses appended content). Unsigned signature
fields (a signer missing or a signature stripped) and a file with no signature at
all are problems too. Certificates from the laptop's local CA are reported as
未经总部认证; they count as trusted only when the caller names that CA.
"""
from __future__ import annotations

import io
from pathlib import Path
from typing import Any, Iterable

from asn1crypto import x509 as asn1_x509
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign import fields
from pyhanko.sign.diff_analysis import ModificationLevel
from pyhanko.sign.validation import validate_pdf_signature, validate_pdf_timestamp
from pyhanko.sign.validation.pdf_embedded import _extract_docmdp_for_sig
from pyhanko.sign.validation.status import SignatureCoverageLevel
from pyhanko_certvalidator import ValidationContext

from inspector import keys


def _load_certs(paths: Iterable[str | Path]) -> list[asn1_x509.Certificate]:
    from cryptography import x509
    from cryptography.hazmat.primitives import serialization

    out = []
    for p in paths:
        data = Path(p).read_bytes()
        try:
            certs = x509.load_pem_x509_certificates(data)
        except ValueError:
            certs = [x509.load_der_x509_certificate(data)]
        out += [asn1_x509.Certificate.load(c.public_bytes(serialization.Encoding.DER)) for c in certs]
    return out


def _attr(name: asn1_x509.Name, key: str) -> str | None:
    v = name.native.get(key)
    return str(v) if v is not None else None


def _is_local(cert: asn1_x509.Certificate) -> bool:
    return _attr(cert.issuer, "organization_name") == "本机" or \
        _attr(cert.issuer, "common_name") == keys.LOCAL_CA_NAME


def verify_bytes(data: bytes, trust: Iterable[str | Path] = (), *, home: str | Path | None = None) -> dict[str, Any]:
    """Verify a PDF; returns {"valid", "signers", "problems", "warnings"}.

    Trust roots: the given CA files plus, with ``home``, the HQ CA installed at enrolment.
    """
    trust_paths = list(trust)
    if home is not None and keys.hq_ca_path(home).exists():
        trust_paths.append(keys.hq_ca_path(home))
    roots = _load_certs(trust_paths)
    problems: list[str] = []
    warnings: list[str] = []
    signers: list[dict[str, Any]] = []
    try:
        reader = PdfFileReader(io.BytesIO(data), strict=False)
        sigs = list(reader.embedded_signatures)
        field_status = [(n, v is not None) for n, v, _ in fields.enumerate_sig_fields(reader, filled_status=None)]
    except Exception as e:  # a damaged file can fail anywhere in the parser
        return {"valid": False, "signers": [], "problems": [f"无法解析 PDF：{e}"], "warnings": []}

    timestamps: list[dict[str, Any]] = []
    stamps = [s for s in sigs if s.sig_object_type == "/DocTimeStamp"]
    if not [s for s in sigs if s.sig_object_type != "/DocTimeStamp"]:
        problems.append("文书没有数字签名（未签名的副本，或签名已被剥离）")
    for name, filled in field_status:
        if not filled:
            problems.append(f"签名域 {name} 没有签名（签名不完整或已被剥离）")

    for i, sig in enumerate(sigs):
        last = i == len(sigs) - 1
        if sig.sig_object_type == "/DocTimeStamp":
            timestamps.append(_check_timestamp(sig, roots, last, problems))
            continue
        label = f"签名 {sig.field_name}"
        vc = ValidationContext(trust_roots=roots, allow_fetching=False, revocation_mode="soft-fail")
        try:
            st = validate_pdf_signature(sig, vc)
        except Exception as e:  # pyHanko raises many types on a damaged signature: reported as not verified
            problems.append(f"{label}：无法校验（{e}）")
            signers.append({"field": sig.field_name, "intact": False, "trusted": False})
            continue
        cert = st.signing_cert
        docmdp = _extract_docmdp_for_sig(sig.sig_object)
        certified = docmdp is not None and sig.sig_object.get("/Reference") is not None
        covers = st.coverage == SignatureCoverageLevel.ENTIRE_FILE
        level = st.modification_level
        hq = bool(st.trusted) and not _is_local(cert)
        info = {
            "field": sig.field_name,
            "name": _attr(cert.subject, "common_name"),
            "badge_no": _attr(cert.subject, "serial_number"),
            "issuer": _attr(cert.issuer, "common_name"),
            "signed_at": st.signer_reported_dt.isoformat() if st.signer_reported_dt else None,
            "certified": certified,
            "docmdp": docmdp.name if docmdp is not None else None,
            "covers_whole_file": covers,
            "modification_level": level.name if level is not None else None,
            "intact": bool(st.intact),
            "crypto_valid": bool(st.valid),
            "trusted": bool(st.trusted),
            "hq_certified": hq,
        }
        signers.append(info)
        who = f"{label}（{info['name']}）"
        if not st.intact:
            problems.append(f"{who}：摘要不符，文件在签名后被改动")
        elif not st.valid:
            problems.append(f"{who}：签名值无效")
        if not st.trusted:
            problems.append(f"{who}：证书不受信任（签发者：{info['issuer']}）")
        elif _is_local(cert):
            warnings.append(f"{who}：证书由本机临时证书机构签发，未经总部认证")
        if last:
            if not covers:
                problems.append(f"{who}：最后一个签名没有覆盖整个文件，签名后又追加了内容")
        else:
            if level is None or level > ModificationLevel.FORM_FILLING:
                problems.append(f"{who}：签名之后的修改超出了填写表单与签名的范围"
                                f"（{info['modification_level'] or '无法分析'}）")
        if st.docmdp_ok is False:
            problems.append(f"{who}：违反认证签名（DocMDP）允许的修改范围")
    if signers and not signers[0].get("certified"):
        problems.append("第一个签名不是认证签名（DocMDP）")
    ltv, why = (_ltv(reader, [s for s in sigs if s.sig_object_type != "/DocTimeStamp"], stamps, roots)
                if stamps and not problems else (False, "没有文档时间戳" if not stamps else "签名有问题"))
    if stamps and not ltv:
        warnings.append(f"文件未启用长期验证（LTV）：{why}")
    return {"valid": not problems, "signers": signers, "problems": problems, "warnings": warnings,
            "timestamps": timestamps, "ltv": ltv, "ltv_reason": None if ltv else why}


def _check_timestamp(sig: Any, roots: list[asn1_x509.Certificate], last: bool, problems: list[str]) -> dict[str, Any]:
    """A document timestamp (RFC 3161, added by HQ): intact, signed by a trusted TSA; the last one
    in the file must cover all of it like a signature would."""
    label = f"文档时间戳 {sig.field_name}"
    vc = ValidationContext(trust_roots=roots, allow_fetching=False, revocation_mode="soft-fail")
    try:
        st = validate_pdf_timestamp(sig, validation_context=vc)
    except Exception as e:  # a damaged token fails anywhere in pyHanko
        problems.append(f"{label}：无法校验（{e}）")
        return {"field": sig.field_name, "time": None, "intact": False, "trusted": False}
    info = {"field": sig.field_name, "time": st.timestamp.isoformat() if st.timestamp else None,
            "tsa": _attr(st.signing_cert.subject, "common_name") if st.signing_cert else None,
            "intact": bool(st.intact), "crypto_valid": bool(st.valid), "trusted": bool(st.trusted),
            "covers_whole_file": st.coverage == SignatureCoverageLevel.ENTIRE_FILE}
    if not st.intact:
        problems.append(f"{label}：摘要不符，文件在加盖时间戳后被改动")
    elif not st.valid:
        problems.append(f"{label}：时间戳签名无效")
    elif not st.trusted:
        problems.append(f"{label}：时间戳服务的证书不受信任（{info['tsa']}）")
    if last and not info["covers_whole_file"]:
        problems.append(f"{label}：时间戳之后又追加了内容")
    return info


def _ltv(reader: PdfFileReader, sigs: list[Any], stamps: list[Any], roots: list[asn1_x509.Certificate]
         ) -> tuple[bool, str | None]:
    """LTV-enabled: every signature and timestamp validates, revocation checked (hard-fail), with
    nothing but what the file's DSS holds (no fetching) and the given trust roots."""
    from pyhanko.sign.validation import DocumentSecurityStore
    from pyhanko.sign.validation.errors import NoDSSFoundError

    if not roots:
        return False, "没有给出信任的根证书，无法判断"
    try:
        dss = DocumentSecurityStore.read_dss(reader)
    except NoDSSFoundError:
        return False, "文件中没有验证数据（DSS）"
    kw = {"trust_roots": roots, "allow_fetching": False, "revocation_mode": "hard-fail"}
    for sig in sigs:
        try:
            st = validate_pdf_signature(sig, dss.as_validation_context(kw))
        except Exception as e:  # as above: the answer is "not verifiable from the file alone", with why
            return False, f"{sig.field_name}：{e}"
        if not st.trusted:
            return False, f"{sig.field_name}：仅凭文件内的证书链与吊销信息无法验证"
    for ts in stamps:
        try:
            tst = validate_pdf_timestamp(ts, validation_context=dss.as_validation_context(kw))
        except Exception as e:  # as above
            return False, f"{ts.field_name}：{e}"
        if not tst.trusted:
            return False, f"{ts.field_name}：时间戳证书仅凭文件内的验证数据无法验证"
    return True, None


def verify_file(path: str | Path, trust: Iterable[str | Path] = (), *, home: str | Path | None = None) -> dict[str, Any]:
    p = Path(path)
    try:
        data = p.read_bytes()
    except OSError as e:
        return {"valid": False, "signers": [], "problems": [f"{p}：无法读取（{e.strerror}）"], "warnings": []}
    out = verify_bytes(data, trust, home=home)
    out["file"] = str(p)
    return out
