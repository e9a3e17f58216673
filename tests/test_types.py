"""The code is type-checked in CI: mypy over inspector/ and ui/ (settings in pyproject.toml)."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_code_type_checks_clean() -> None:
    # mypy's incremental cache in the repository's (git-ignored) .mypy_cache, shared with `make lint`: a fresh
    # clone checks everything (~35 s), a later run only the modules that changed and their dependents (a few s).
    # mypy keys the cache on its version and options and replaces cache files atomically.
    r = subprocess.run([sys.executable, "-m", "mypy", "--cache-dir", str(ROOT / ".mypy_cache"), "--no-error-summary"],
                       cwd=ROOT, capture_output=True, text=True)
    assert r.returncode == 0, r.stdout[-4000:] + r.stderr[-2000:]
