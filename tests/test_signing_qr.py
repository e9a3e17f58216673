"""The QR on each document: decoded by zxing-cpp from a pdftoppm render, a short URL
(QR version ≤ 10) carrying the document id and the canonical record's hash, signed by
the device's Ed25519 key."""
from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from inspector import keys, qr
from inspector.errors import DocumentError
from inspector.util import canonical_json, sha256_hex
from tests.docs_fixtures import demo_run, demo_store  # noqa: F401


def _decode(pdf: str, tmp_path: Path):
    import zxingcpp
    from PIL import Image

    prefix = tmp_path / "page"
    subprocess.run(["pdftoppm", "-png", "-r", "150", "-f", "1", "-l", "1", pdf, str(prefix)], check=True)
    png = next(tmp_path.glob("page*.png"))
    results = [r for r in zxingcpp.read_barcodes(Image.open(png)) if r.format == zxingcpp.BarcodeFormat.QRCode]
    assert len(results) == 1
    return results[0]


@pytest.mark.parametrize("kind", ["record", "notice", "receipt"])
def test_qr_decodes_and_its_signature_checks_out(demo_run, demo_store, kind, tmp_path):
    from inspector import blobs
    from inspector.store import documents

    res = _decode(demo_run["files"][kind], tmp_path)
    url = res.text
    assert url.startswith(qr.DEFAULT_BASE + "/")
    assert int(res.extra["Version"]) <= 10 and qr.qr_version(url) <= 10
    parsed = qr.check_url(url, keys.device_public_pem(demo_run["home"]))
    doc = documents.get_document(demo_store, parsed.doc_id)
    assert doc["kind"] == kind and doc["number"] == demo_run["numbers"][kind]
    assert parsed.record_sha256 == doc["record_sha256"]
    # the canonical record is kept as a blob whose name is that hash
    record = blobs.store(demo_run["home"]).read(doc["record_sha256"])
    assert sha256_hex(record) == doc["record_sha256"]
    import json

    rec = json.loads(record)
    assert rec["doc_id"] == doc["id"] and rec["number"] == doc["number"]
    assert canonical_json(rec) == record


def test_tampered_url_or_other_device_fails(demo_run, tmp_path):
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import ed25519

    url = _decode(demo_run["files"]["record"], tmp_path).text
    head, sha, sig = url.rsplit("/", 1)[1].split(".")
    bad = url.replace(f".{sha}.", f".{('A' if sha[0] != 'A' else 'B') + sha[1:]}.")
    with pytest.raises(DocumentError, match="设备签名无效"):
        qr.check_url(bad, keys.device_public_pem(demo_run["home"]))
    other = ed25519.Ed25519PrivateKey.generate().public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    with pytest.raises(DocumentError):
        qr.check_url(url, other)
    with pytest.raises(DocumentError, match="不是文书核验网址"):
        qr.parse_url("https://hq.example/v/nothing")


def test_long_base_url_is_refused(tmp_path):
    from inspector.util import new_id

    with pytest.raises(DocumentError, match="版本"):
        qr.make_url(tmp_path, new_id(), "ab" * 32, "https://" + "very-long-host-name." * 6 + "example/verify")
