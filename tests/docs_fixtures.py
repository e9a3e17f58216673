"""Fixtures for the documents area: one headless demo visit (run through the real CLI)
shared by the document, signing, QR and verification tests, plus poppler helpers."""
from __future__ import annotations

import io
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

PY = sys.executable


def run(cmd: list[str], **kw: Any) -> subprocess.CompletedProcess:
    return subprocess.run(cmd, capture_output=True, text=True, timeout=300, **kw)


def pdftext(path: str | Path, *, layout: bool = True) -> str:
    return run(["pdftotext", *(["-layout"] if layout else []), str(path), "-"]).stdout


def pdffonts_rows(path: str | Path) -> list[list[str]]:
    out = run(["pdffonts", str(path)]).stdout.splitlines()[2:]
    return [line.split() for line in out if line.strip()]


def pdf_pages(path: str | Path) -> int:
    for line in run(["pdfinfo", str(path)]).stdout.splitlines():
        if line.startswith("Pages:"):
            return int(line.split()[1])
    raise AssertionError(f"pdfinfo gave no page count for {path}")


def pdfsig(path: str | Path) -> str:
    return run(["pdfsig", str(path)]).stdout


def first_revision_end(pdf: bytes, n: int = 0) -> int:
    """Byte offset where the revision signed by the n-th signature ends."""
    from pyhanko.pdf_utils.reader import PdfFileReader

    s = PdfFileReader(io.BytesIO(pdf), strict=False).embedded_signatures[n]
    br = s.byte_range
    return br[2] + br[3]


@pytest.fixture(scope="session")
def demo_run(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """``inspector demo --out DIR --json`` through a subprocess, as a newcomer runs it."""
    base = tmp_path_factory.mktemp("docs-demo")
    home, out = base / "home", base / "out"
    env = {**os.environ, "INSPECTOR_HOME": str(home)}
    p = run([PY, "-m", "inspector", "demo", "--out", str(out), "--json"], env=env)
    assert p.returncode == 0, p.stderr
    data = json.loads(p.stdout)
    data["out"] = str(out)
    data["stdout"] = p.stdout
    return data


@pytest.fixture(scope="session")
def demo_store(demo_run: dict[str, Any]):
    from inspector.store import Store

    s = Store.open(demo_run["home"])
    yield s
    s.close()
