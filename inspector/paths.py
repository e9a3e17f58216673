"""Where the app keeps its data (``--home`` / ``INSPECTOR_HOME`` or the platform's user data folder) and
where the files it ships live.

Shipped files (checklists, profiles, fonts, icons) are package data of :mod:`inspector.assets`, read
through :mod:`importlib.resources`: the same call finds them in a wheel install, in the editable
install of a source tree (pyproject.toml maps ``forms/`` and ``resources/`` into the package) and in
the frozen bundle (packaging/inspector.spec puts them at the same package path).
"""
from __future__ import annotations

import os
from importlib import resources
from pathlib import Path

import platformdirs

APP_NAME = "inspector"


def home(explicit: str | os.PathLike[str] | None = None) -> Path:
    p = explicit or os.environ.get("INSPECTOR_HOME") or platformdirs.user_data_dir(APP_NAME, appauthor=False)
    path = Path(p).expanduser()
    path.mkdir(parents=True, exist_ok=True)
    return path


def package_dir(package: str) -> Path:
    """The folder of an installed package's data as a real path (fonts, Qt and Jinja need file names).

    Wheels, editable installs and PyInstaller bundles all keep package data as plain files, so
    ``importlib.resources`` hands back a :class:`pathlib.Path`; a zip import would not, and is refused.
    """
    found = resources.files(package)
    if not isinstance(found, Path):
        raise RuntimeError(f"程序文件 {package} 不在文件系统上（{found!r}），请以普通方式安装本程序")
    return found


def forms_dir() -> Path:
    """Shipped checklists (``forms/`` in the source tree); ``INSPECTOR_FORMS`` points elsewhere."""
    override = os.environ.get("INSPECTOR_FORMS")
    return Path(override) if override else package_dir("inspector.assets.forms")


def resources_dir() -> Path:
    """Shipped fonts and icons (``resources/`` in the source tree)."""
    return package_dir("inspector.assets.resources")


def cjk_font() -> Path:
    """The shipped TrueType font covering CJK and Latin (PDFs and the Qt UI both use it)."""
    return resources_dir() / "fonts" / "wqy-microhei.ttc"
