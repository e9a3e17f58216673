"""Shipped fonts and icons: the package ``inspector.assets.resources`` (see inspector/assets)."""
