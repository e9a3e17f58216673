"""HQ's web console: server-rendered pages (Jinja2, autoescaped) for HQ staff, plus the public
document verification page the QR code opens. ``mount(app, config)`` adds it to create_app."""
from __future__ import annotations

from typing import Any


def mount(app: Any, config: Any = None) -> None:
    from pathlib import Path

    from fastapi.staticfiles import StaticFiles

    from inspector.hq import console_db  # noqa: F401  (registers the tables on metadata)
    from inspector.hq import db as D
    from inspector.hq.console import routes

    D.metadata.create_all(app.state.hq.engine)
    app.mount("/console/static", StaticFiles(directory=Path(__file__).parent / "static"), name="console-static")
    routes.install(app)
