"""HQ: the central service laptops enrol with and sync to (``inspector-hq``).

- ``config``   HQ's data folder (config.json, ca/, blobs/, hq.db) and settings
- ``db``       the schema in SQLAlchemy Core: the same code on SQLite and PostgreSQL
- ``service``  what HQ does, without HTTP: enrolment, tokens, push (idempotent ops, revision
               heads, audit-chain check), the pull log, HQ decisions, canonical export
- ``blobs``    content-addressed files with resumable, hash-checked uploads
- ``admin``    init, directory import, checklist publication, the draw
- ``app``      ``create_app(config)``; routers in ``routes_public`` / ``routes_sync`` /
               ``routes_blobs`` (device token via ``auth.require_device``); the console adds its own
- ``cli``      the ``inspector-hq`` command
"""
