"""inspector: the headless core of the on-site inspection app.

Never imports Qt: the GUI (``ui/``), the CLI and the HQ service all stand on it.
"""
from __future__ import annotations


def __getattr__(name: str) -> str:
    # Lazy: importlib.metadata costs ~30 ms at start-up and only the About box and --version need it.
    if name == "__version__":
        from importlib.metadata import PackageNotFoundError, version

        try:
            return version("inspector")
        except PackageNotFoundError:  # a source tree without install
            return "0.0.0+src"
    raise AttributeError(name)
