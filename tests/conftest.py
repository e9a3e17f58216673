"""Shared test setup: Qt offscreen, and every test gets its own data folder."""
from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
os.environ.setdefault("QT_QUICK_BACKEND", "software")

ROOT = Path(__file__).resolve().parent.parent
PYTHON = sys.executable


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A fresh INSPECTOR_HOME for this test (also seen by subprocesses)."""
    h = tmp_path / "home"
    h.mkdir()
    monkeypatch.setenv("INSPECTOR_HOME", str(h))
    return h


@pytest.fixture
def store(home: Path):
    from inspector.store import Store

    s = Store.open(home)
    yield s
    s.close()


def pytest_collection_finish(session: pytest.Session) -> None:
    """A session that will test the frozen bundle starts building it now (tests/packaging_fixtures.py)."""
    if session.config.option.collectonly:
        return
    from tests.packaging_fixtures import start_background_build

    start_background_build(session.items)


def pytest_unconfigure(config: pytest.Config) -> None:
    fixtures = sys.modules.get("tests.packaging_fixtures")
    if fixtures is not None:
        fixtures.stop_background_build()
