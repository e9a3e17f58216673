"""The exception tree of the core. Messages are user-facing (Chinese or plain
English naming the file/row/field); the CLI and GUI only print them.

InspectorError
├── ValidationError      bad input: names the file, row/item and field
│   ├── FormError        a checklist file is invalid (collects many problems)
│   └── ImportRowsError  a directory/roster import had bad rows (collects them)
├── StoreError           the local database refused or is damaged
├── NotFound             an id that does not exist
├── EvidenceError        a photo could not be imported
├── DocumentError        a PDF could not be produced, signed or verified
├── DrawError            no valid draw/assignment exists
└── SyncError            talking to HQ failed (nothing local is lost)
    └── AuthError        HQ refused the token / enrolment code
"""
from __future__ import annotations


class InspectorError(Exception):
    """Base of every error the core raises on purpose."""


class ValidationError(InspectorError):
    """Input that breaks a rule; ``problems`` lists one line per problem."""

    def __init__(self, message: str, problems: list[str] | None = None):
        super().__init__(message)
        self.problems: list[str] = list(problems or [message])


class FormError(ValidationError):
    """A checklist (forms/) file failed validation."""


class ImportRowsError(ValidationError):
    """An import found bad rows; nothing was imported unless asked."""


class StoreError(InspectorError):
    """The local store could not do what was asked."""


class NotFound(InspectorError):
    """No record with that id."""


class EvidenceError(InspectorError):
    """A photo or evidence file could not be imported."""


class DocumentError(InspectorError):
    """A document could not be produced, signed or verified."""


class DrawError(InspectorError):
    """The random draw cannot be made with these parameters."""


class SyncError(InspectorError):
    """Sync with HQ failed; local data is untouched."""


class AuthError(SyncError):
    """HQ refused the credentials."""
