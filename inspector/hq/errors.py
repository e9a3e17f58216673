"""Errors HQ answers with: an HTTP status, a stable English code and a Chinese message."""
from __future__ import annotations

from typing import Any


class HQError(Exception):
    """Refusal that becomes ``{"error": <zh>, "code": <en>, ...}`` with ``status``."""

    def __init__(self, status: int, code: str, message: str, **extra: Any):
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.extra = extra

    def body(self) -> dict[str, Any]:
        return {"error": self.message, "code": self.code, **self.extra}
