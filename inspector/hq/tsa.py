"""HQ's time-stamping authority: RFC 3161 requests in, signed time-stamp tokens out.

The TSA has its own ECDSA key and a certificate from HQ's CA (EKU timeStamping, critical),
kept next to the CA in ``<home>/ca/`` and made on first use. ``respond`` is what
``POST /api/v1/tsa`` runs (application/timestamp-query → application/timestamp-reply);
HQ's own B-LT step (inspector/hq/pades_lt.py) calls the same function through
``LocalTimeStamper``. Built with asn1crypto and cryptography; the ESS signing-certificate-v2
attribute comes from pyHanko's CMS helpers.
"""
from __future__ import annotations

import datetime as dt
import fcntl
import logging
import secrets
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from asn1crypto import algos, cms, core, tsp, x509 as asn1_x509
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from pyhanko.sign.general import as_signing_certificate_v2, simple_cms_attribute
from pyhanko.sign.timestamps.api import TimeStamper

from inspector import pki

log = logging.getLogger(__name__)

# the TSA's policy (RFC 3161 §2.4.2 reqPolicy/policy): an OID under 2.25 (X.667, UUID-based)
POLICY = "2.25.218409618932871239120348123907561209134"
DIGESTS = {"sha256": 32, "sha384": 48, "sha512": 64}
_HASH = {"sha256": hashes.SHA256, "sha384": hashes.SHA384, "sha512": hashes.SHA512}


@dataclass
class TSA:
    key: ec.EllipticCurvePrivateKey
    cert: asn1_x509.Certificate
    ca_cert: asn1_x509.Certificate


def _asn1(c: x509.Certificate) -> asn1_x509.Certificate:
    return asn1_x509.Certificate.load(c.public_bytes(serialization.Encoding.DER))


def load_or_create(ca_dir: Path, *, agency: str, base_url: str | None) -> TSA:
    """The TSA of HQ's CA in ``ca_dir``; the first caller (any worker process) makes it under a lock."""
    key_p, cert_p = ca_dir / pki.TSA_KEY_FILE, ca_dir / pki.TSA_CERT_FILE
    if not cert_p.exists():
        with open(ca_dir / ".tsa.lock", "w") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            if not cert_p.exists():
                ca = pki.CA.load(ca_dir)
                key = pki.new_key()
                cert = ca.issue_tsa(key, common_name=f"{agency} 时间戳服务", org=agency, base_url=base_url)
                pki._write_private(key_p, pki.key_to_pem(key, None))
                tmp = cert_p.with_suffix(f".{secrets.token_hex(8)}.tmp")
                tmp.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
                tmp.replace(cert_p)
                log.info("TSA certificate made in %s (serial %x)", ca_dir, cert.serial_number)
    return _load(str(ca_dir))


@lru_cache(maxsize=4)
def _load(ca_dir: str) -> TSA:
    d = Path(ca_dir)
    key = pki.load_key((d / pki.TSA_KEY_FILE).read_bytes(), None, where=str(d / pki.TSA_KEY_FILE))
    cert = x509.load_pem_x509_certificate((d / pki.TSA_CERT_FILE).read_bytes())
    ca = x509.load_pem_x509_certificate((d / pki.CERT_FILE).read_bytes())
    return TSA(key, _asn1(cert), _asn1(ca))


class _Refusal(core.Sequence):
    """TimeStampResp without its (optional) token: asn1crypto's class insists on one."""

    _fields = [("status", tsp.PKIStatusInfo)]


def _reject(failure: str, text: str) -> bytes:
    status = tsp.PKIStatusInfo({"status": "rejection", "status_string": [text],
                                "fail_info": tsp.PKIFailureInfo({failure})})
    return _Refusal({"status": status}).dump()


def respond(tsa: TSA, request_der: bytes, *, now: dt.datetime | None = None) -> bytes:
    """A DER TimeStampResp for a DER TimeStampReq: a token, or a rejection that says why."""
    try:
        req = tsp.TimeStampReq.load(request_der)
        imprint = req["message_imprint"]
        alg = imprint["hash_algorithm"]["algorithm"].native
        digest = imprint["hashed_message"].native
        policy = req["req_policy"].native
        nonce = req["nonce"].native
        want_certs = bool(req["cert_req"].native)
    except (ValueError, TypeError, KeyError) as e:
        log.info("TSA: unreadable request (%s)", e)
        return _reject("bad_data_format", f"bad request: {e}")
    if alg not in DIGESTS:
        return _reject("bad_alg", f"unsupported hash algorithm {alg}")
    if not isinstance(digest, bytes) or len(digest) != DIGESTS[alg]:
        return _reject("bad_data_format", "message imprint length does not match its algorithm")
    if policy is not None and policy != POLICY:
        return _reject("unaccepted_policy", f"policy {policy} is not offered (only {POLICY})")
    when = (now or dt.datetime.now(dt.timezone.utc)).replace(microsecond=0)
    info = {
        "version": "v1", "policy": POLICY, "message_imprint": imprint,
        "serial_number": secrets.randbits(63), "gen_time": core.GeneralizedTime(when),
        "accuracy": {"seconds": 1},
        "tsa": asn1_x509.GeneralName(name="directory_name", value=tsa.cert.subject),
    }
    if nonce is not None:
        info["nonce"] = nonce
    tst_der = tsp.TSTInfo(info).dump()
    h = hashes.Hash(hashes.SHA256())
    h.update(tst_der)
    signed_attrs = cms.CMSAttributes([
        simple_cms_attribute("content_type", "tst_info"),
        simple_cms_attribute("signing_time", cms.Time({"utc_time": core.UTCTime(when)})),
        simple_cms_attribute("signing_certificate_v2", as_signing_certificate_v2(tsa.cert, "sha256")),
        simple_cms_attribute("message_digest", h.finalize()),
    ])
    signature = tsa.key.sign(signed_attrs.dump(), ec.ECDSA(hashes.SHA256()))
    digest_alg = algos.DigestAlgorithm({"algorithm": "sha256"})
    signer = cms.SignerInfo({
        "version": "v1",
        "sid": cms.SignerIdentifier({"issuer_and_serial_number": cms.IssuerAndSerialNumber(
            {"issuer": tsa.cert.issuer, "serial_number": tsa.cert.serial_number})}),
        "digest_algorithm": digest_alg,
        "signature_algorithm": algos.SignedDigestAlgorithm({"algorithm": "sha256_ecdsa"}),
        "signed_attrs": signed_attrs, "signature": signature,
    })
    signed = cms.SignedData({
        "version": "v3", "digest_algorithms": [digest_alg],
        "encap_content_info": {"content_type": "tst_info", "content": cms.ParsableOctetString(tst_der)},
        "certificates": [tsa.cert, tsa.ca_cert] if want_certs else [],
        "signer_infos": [signer],
    })
    token = cms.ContentInfo({"content_type": "signed_data", "content": signed})
    return tsp.TimeStampResp({"status": {"status": "granted"}, "time_stamp_token": token}).dump()


class LocalTimeStamper(TimeStamper):
    """pyHanko's client side, answered by ``respond`` in this process (the HTTP route's code path)."""

    def __init__(self, tsa: TSA):
        super().__init__(include_nonce=True)
        self.tsa = tsa

    async def async_request_tsa_response(self, req: tsp.TimeStampReq) -> tsp.TimeStampResp:
        return tsp.TimeStampResp.load(respond(self.tsa, req.dump()))
