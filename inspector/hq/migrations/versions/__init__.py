"""Alembic revisions of the HQ schema, oldest first (down_revision chains them)."""
