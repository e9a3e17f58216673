"""Logging to a rotating file in the data folder (``<data>/logs/``), set up once per process by
the entry points (GUI, CLI, HQ); library modules only call ``logging.getLogger(__name__)``."""
from __future__ import annotations

import logging
import logging.handlers
import os
from pathlib import Path

FORMAT = "%(asctime)s %(levelname)s %(process)d %(name)s: %(message)s"
_done: dict[str, Path] = {}


def setup(home: str | os.PathLike[str], name: str = "inspector", level: int = logging.INFO) -> Path:
    """Send this process's log records to ``<home>/logs/<name>.log`` (1 MB × 5 files); returns the path."""
    folder = Path(home) / "logs"
    path = folder / f"{name}.log"
    if name in _done:
        return _done[name]
    try:
        folder.mkdir(parents=True, exist_ok=True, mode=0o700)
        handler: logging.Handler = logging.handlers.RotatingFileHandler(path, maxBytes=1 << 20, backupCount=5,
                                                                       encoding="utf-8")
    except OSError as e:  # a read-only data folder: log to stderr rather than not at all
        handler = logging.StreamHandler()
        logging.getLogger(__name__).warning("cannot write the log file %s: %s", path, e)
    handler.setFormatter(logging.Formatter(FORMAT))
    root = logging.getLogger()
    root.addHandler(handler)
    if root.level > level or root.level == logging.NOTSET:
        root.setLevel(level)
    _done[name] = path
    return path
