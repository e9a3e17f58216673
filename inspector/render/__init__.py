"""The legal documents of a visit, drawn with reportlab on A4.

Each builder takes the canonical record (``inspector.store.documents.gather`` plus
number, id and kind), the verification URL for the QR, and an image source for
photos and handwritten signatures; it returns PDF bytes. Builders never touch the
store, so the same record always gives the same document.
"""
from __future__ import annotations

TITLES = {"record": "现场检查笔录", "notice": "责令限期整改通知书", "receipt": "送达回证", "ledger": "专项整治行动检查问题台账"}
