"""The laptop's side of sync with HQ.

- ``serialize`` turns an outbox entry into the entity's current state (one small function
  per entity type; unknown types stay unsent with a clear error)
- ``http``      ``HQClient``: JSON over httpx with an injectable transport; errors become
  ``SyncError`` / ``AuthError`` that say what failed and that nothing local was lost
- ``client``    ``enrol()``, ``certify_inspector()`` (a co-inspector's key certified by HQ on an
  enrolled laptop), ``sync()`` (push, blobs, audit chain, pull), ``status()``

Exceptions (inspector.errors): SyncError ─ AuthError; ``HQRefused`` (a SyncError) carries
HQ's status and English code.
"""
from inspector.sync.client import certify_inspector, enrol, inspector_keys, status, sync  # noqa: F401
