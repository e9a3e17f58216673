"""Shipped checklists and profiles: the package ``inspector.assets.forms`` (see inspector/assets)."""
