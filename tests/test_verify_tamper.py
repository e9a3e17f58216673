"""Tampering is caught: a flipped byte, an appended incremental update that changes the
page, a stripped signature, an unsigned copy — each gives valid: false with the reason.
pdfsig alone still calls the appended file's signatures valid; pyHanko's difference
analysis is what catches it."""
from __future__ import annotations

import io
import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

from inspector import verify
from tests.docs_fixtures import demo_run, demo_store, first_revision_end, pdfsig  # noqa: F401


def _signed(demo_run) -> bytes:
    return Path(demo_run["files"]["record"]).read_bytes()


def _append_content(pdf: bytes) -> bytes:
    """An incremental update that paints a box over page 1 (what a forger would do)."""
    from pyhanko.pdf_utils import generic
    from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter

    w = IncrementalPdfFileWriter(io.BytesIO(pdf))
    page = w.root["/Pages"]["/Kids"][0].get_object()
    ref = w.add_object(generic.StreamObject(stream_data=b"q 1 1 1 rg 60 600 300 80 re f Q"))
    old = page.raw_get("/Contents")
    arr = generic.ArrayObject(list(old.get_object()) if isinstance(old.get_object(), generic.ArrayObject) else [old])
    arr.append(ref)
    page["/Contents"] = arr
    w.update_container(page)
    out = io.BytesIO()
    w.write(out)
    return out.getvalue()


def test_genuine_file_is_valid(demo_run):
    assert verify.verify_bytes(_signed(demo_run), [demo_run["trust"]])["valid"]


@pytest.mark.parametrize("where", [0.3, 0.6, 0.9])
def test_flipped_byte(demo_run, where):
    b = bytearray(_signed(demo_run))
    i = int(len(b) * where)
    b[i] ^= 0x01
    r = verify.verify_bytes(bytes(b), [demo_run["trust"]])
    assert not r["valid"]
    assert any("摘要不符" in p or "无法" in p or "签名值无效" in p for p in r["problems"]), r["problems"]


def test_appended_update_changing_content(demo_run, tmp_path):
    forged = _append_content(_signed(demo_run))
    r = verify.verify_bytes(forged, [demo_run["trust"]])
    assert not r["valid"]
    assert any("没有覆盖整个文件" in p for p in r["problems"])
    assert any("超出了填写表单" in p for p in r["problems"])
    # each signature is still intact on its own revision: only the policy rule catches it
    assert all(s["intact"] for s in r["signers"])
    f = tmp_path / "forged.pdf"
    f.write_bytes(forged)
    secs = re.split(r"^Signature #\d+:", pdfsig(f), flags=re.M)[1:]
    assert all("Signature is Valid." in s for s in secs)  # why pdfsig alone is not enough


def test_stripped_signature(demo_run):
    pdf = _signed(demo_run)
    stripped = pdf[:first_revision_end(pdf, 0)]  # the second inspector's revision cut off
    r = verify.verify_bytes(stripped, [demo_run["trust"]])
    assert not r["valid"]
    assert any("Sig_inspector2" in p and "没有签名" in p for p in r["problems"])


def test_unsigned_copy(demo_run, demo_store, tmp_path):
    from inspector.render import common

    copy = common.build([common.P("现场检查笔录（复印件）")], common.Page("现场检查笔录"))
    r = verify.verify_bytes(copy, [demo_run["trust"]])
    assert not r["valid"] and any("没有数字签名" in p for p in r["problems"])


def test_not_a_pdf(tmp_path):
    f = tmp_path / "x.pdf"
    f.write_bytes(b"hello")
    r = verify.verify_file(f)
    assert not r["valid"] and r["problems"]
    r = verify.verify_file(tmp_path / "missing.pdf")
    assert not r["valid"] and "无法读取" in r["problems"][0]


def test_cli_verify_json(demo_run, tmp_path):
    cmd = [sys.executable, "-m", "inspector", "verify", demo_run["files"]["notice"], "--trust", demo_run["trust"],
           "--json"]
    p = subprocess.run(cmd, capture_output=True, text=True, timeout=120)
    assert p.returncode == 0, p.stderr
    r = json.loads(p.stdout)
    assert r["valid"] is True and r["problems"] == []
    keys_ = {"name", "badge_no", "issuer", "signed_at", "certified", "docmdp", "covers_whole_file", "intact",
             "trusted", "hq_certified"}
    assert all(keys_ <= set(s) for s in r["signers"])
    forged = tmp_path / "forged.pdf"
    forged.write_bytes(_append_content(Path(demo_run["files"]["notice"]).read_bytes()))
    p = subprocess.run(cmd[:4] + [str(forged)] + cmd[5:], capture_output=True, text=True, timeout=120)
    assert p.returncode == 1
    r = json.loads(p.stdout)
    assert r["valid"] is False and r["problems"]
