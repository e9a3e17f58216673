"""inspector: the headless core of the on-site inspection app.

Never imports Qt: the GUI (``ui/``), the CLI and the HQ service all stand on it.
"""
from importlib.metadata import PackageNotFoundError, version as _version

try:
    __version__ = _version("inspector")
except PackageNotFoundError:  # running from a source tree without install
    __version__ = "0.0.0+src"
