"""PDF/A-2b: the demo's documents (signed or not) and HQ's timestamped B-LT copy carry the PDF/A
identification in XMP (agreeing with the Info dictionary), an sRGB output intent, embedded fonts
and one PDF version (header 1.7, no catalog /Version beyond it), while every signature stays valid.

Checked with inspector.pdfa.check (structural), qpdf --check and poppler; veraPDF could not be
installed here (it is not on PyPI, npm or Debian)."""
from __future__ import annotations

import datetime as dt
import io
import re
import shutil
import subprocess
from pathlib import Path

import pytest
from pyhanko.pdf_utils.reader import PdfFileReader

from inspector import keys, pdfa, pki, signing, verify
from tests.docs_fixtures import demo_run, pdffonts_rows  # noqa: F401

KINDS = ("record", "notice", "receipt", "ledger_pdf")


@pytest.mark.parametrize("kind", KINDS)
def test_demo_documents_are_pdfa_2b_and_signatures_still_valid(demo_run, kind):
    data = Path(demo_run["files"][kind]).read_bytes()
    assert data.startswith(b"%PDF-1.7\n")
    assert pdfa.check(data) == []
    root = PdfFileReader(io.BytesIO(data), strict=False).root
    assert "/Version" not in root or str(root["/Version"]) == "/1.7"
    assert all(r[-5] == "yes" for r in pdffonts_rows(demo_run["files"][kind]))
    if kind != "ledger_pdf":
        v = verify.verify_bytes(data, [demo_run["trust"]])
        assert v["valid"], v["problems"]


@pytest.mark.skipif(shutil.which("qpdf") is None, reason="qpdf not installed (make deps)")
@pytest.mark.parametrize("kind", KINDS)
def test_qpdf_finds_no_structural_error(demo_run, kind):
    p = subprocess.run(["qpdf", "--check", demo_run["files"][kind]], capture_output=True, text=True)
    assert p.returncode == 0 and "No syntax or stream encoding errors" in p.stdout, p.stdout + p.stderr


def test_xmp_and_output_intent_contents(demo_run):
    from PIL import ImageCms

    r = PdfFileReader(io.BytesIO(Path(demo_run["files"]["notice"]).read_bytes()), strict=False)
    x = r.root["/Metadata"].get_object().data.decode("utf-8")
    assert "<pdfaid:part>2</pdfaid:part>" in x and "<pdfaid:conformance>B</pdfaid:conformance>" in x
    title = str(r.trailer["/Info"].get_object()["/Title"])
    assert "责令限期整改通知书" in title and re.search(rf"<dc:title>.*{re.escape(title)}", x, re.S)
    intent = r.root["/OutputIntents"][0].get_object()
    assert intent["/S"] == "/GTS_PDFA1"
    icc = intent["/DestOutputProfile"].get_object().data
    prof = ImageCms.ImageCmsProfile(io.BytesIO(icc))
    assert "sRGB" in ImageCms.getProfileDescription(prof)


def test_the_check_sees_what_is_missing(demo_run):
    """The self-check is not a rubber stamp: a plain reportlab PDF and a PDF 2.0 catalog fail it."""
    from reportlab.pdfgen import canvas

    buf = io.BytesIO()
    c = canvas.Canvas(buf)
    c.drawString(100, 700, "plain")
    c.save()
    problems = pdfa.check(buf.getvalue())
    assert any("PDF/A-2b 标识" in p for p in problems) and any("输出意图" in p for p in problems)
    assert any("没有嵌入" in p for p in problems)  # Helvetica
    data = Path(demo_run["files"]["ledger_pdf"]).read_bytes()
    from pyhanko.pdf_utils.generic import pdf_name
    from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter

    w = IncrementalPdfFileWriter(io.BytesIO(data), strict=False)
    w.root["/Version"] = pdf_name("/2.0")
    w.update_root()
    out = io.BytesIO()
    w.write(out)
    assert any("/Version" in p for p in pdfa.check(out.getvalue()))


def test_hq_b_lt_copy_stays_pdfa_and_valid(tmp_path):
    """HQ's DSS + document timestamp revision keeps the file PDF/A-2b (and the signature valid)."""
    from inspector.render import common
    from inspector.hq import pades_lt, tsa as T

    ca_dir = tmp_path / "ca"
    ca = pki.CA.create(ca_dir, "测试总部证书机构", org="测试局")
    key = pki.new_key()
    cert_pem = ca.issue(pki.public_pem(key), common_name="张三", org="测试局", serial="B1",
                        base_url="http://127.0.0.1:9")
    from cryptography import x509

    sk = keys.SigningKey("B1", key, x509.load_pem_x509_certificate(cert_pem), ca.cert, True)
    pdf = signing.prepare(common.build([common.P("测试文书")], common.Page("测试", "X〔2026〕1号")),
                          [signing.field_name(1)])
    pdf = signing.sign(pdf, sk, signing.field_name(1))
    tsa = T.load_or_create(ca_dir, agency="测试局", base_url="http://127.0.0.1:9")
    lt, when = pades_lt.make_lt(pdf, tsa, ca.crl([], number=1))
    assert dt.datetime.fromisoformat(when).tzinfo is not None
    assert pdfa.check(lt) == []
    v = verify.verify_bytes(lt, [ca_dir / pki.CERT_FILE])
    assert v["valid"] and v["ltv"], (v["problems"], v["ltv_reason"])
