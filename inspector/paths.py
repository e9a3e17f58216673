"""Where the app keeps its data: ``--home`` / ``INSPECTOR_HOME`` or the platform's user data folder."""
from __future__ import annotations

import os
from pathlib import Path

import platformdirs

APP_NAME = "inspector"
REPO_ROOT = Path(__file__).resolve().parent.parent


def home(explicit: str | os.PathLike[str] | None = None) -> Path:
    p = explicit or os.environ.get("INSPECTOR_HOME") or platformdirs.user_data_dir(APP_NAME, appauthor=False)
    path = Path(p).expanduser()
    path.mkdir(parents=True, exist_ok=True)
    return path


def forms_dir() -> Path:
    """Shipped checklists: next to the package in a source tree, or bundled (PyInstaller sets _MEIPASS)."""
    import sys

    base = Path(getattr(sys, "_MEIPASS", REPO_ROOT))
    return Path(os.environ.get("INSPECTOR_FORMS", base / "forms"))


def cjk_font() -> Path:
    """The shipped TrueType font covering CJK and Latin (PDFs and the Qt UI both use it)."""
    return resources_dir() / "fonts" / "wqy-microhei.ttc"


def resources_dir() -> Path:
    import sys

    base = Path(getattr(sys, "_MEIPASS", REPO_ROOT))
    return base / "resources"
