"""The documents page on a laptop without an OS key store, in a new process: the device key that
signs the document's QR code is sealed, so making a document asks for a signing passphrase in a
dialog (typed into, wrong first), then makes it; giving up makes nothing and says why."""
from __future__ import annotations

import pytest

from inspector import keys, pii
from tests.ui_fixtures import type_into_dialogs as _type_into_dialogs, visit, window  # noqa: F401

PASS = "b1-pass-11"


@pytest.fixture
def locked_visit(qtbot, visit):  # noqa: F811
    keys.create_inspector_key(visit.store.home, "B1", "张三", PASS)    # wraps the laptop's PII key
    keys.device_key(visit.store.home)                                   # made and sealed while open
    pii.lock()                                                          # the app was restarted
    with pytest.raises(pii.Locked):
        keys.device_key(visit.store.home)
    return visit


def test_docs_page_asks_the_passphrase_then_makes_the_document(qtbot, locked_visit):
    from ui.qt import Qt

    v = locked_visit
    dp = v.docs_page
    v.goto("docs")
    seen = _type_into_dialogs(qtbot, ["wrong-pass-0", PASS])
    with qtbot.waitSignal(dp.preview_ready, timeout=30000):
        dp.make_btn.setFocus()
        qtbot.keyClick(dp.make_btn, Qt.Key.Key_Space)
    assert len(seen) == 2 and "签名口令" in seen[0]
    assert dp.doc is not None and dp.view.document().pageCount() >= 1
    assert pii.is_unlocked(v.store.home)


def test_docs_page_gives_up_without_the_passphrase(qtbot, locked_visit):
    from ui.qt import Qt

    v = locked_visit
    dp = v.docs_page
    v.goto("docs")
    seen = _type_into_dialogs(qtbot, [None])
    dp.make_btn.setFocus()
    qtbot.keyClick(dp.make_btn, Qt.Key.Key_Space)
    qtbot.waitUntil(lambda: "未解锁" in dp.state.text(), timeout=10000)
    assert len(seen) == 1 and dp.doc is None and not pii.is_unlocked(v.store.home)
