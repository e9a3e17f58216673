"""The desktop app (PySide6): a thin layer over ``inspector``; never SQL, never reportlab."""
