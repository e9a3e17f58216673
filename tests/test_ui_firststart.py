"""First start of the app (issue 8): the data folder is created, a non-blocking offer to enrol
with HQ appears; 以后再说 is remembered across starts; enrolling through the offer against a real
HQ on loopback makes it go away and 设置 shows 已登记. Qt's own arguments don't break start-up."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from tests.conftest import ROOT


def _start(home: Path):
    from ui.app import build

    _app, store, win = build(["--home", str(home)])
    win.show()
    return store, win


def test_first_start_offers_enrolment_and_later_is_remembered(qtbot, tmp_path: Path):
    home = tmp_path / "fresh" / "inspector"  # does not exist yet
    store, win = _start(home)
    qtbot.addWidget(win)
    assert (home / "inspector.db").exists() or any(home.iterdir())
    offer = win.enrol_offer
    assert offer.isVisible() and "尚未在总部登记" in offer.text.text()
    assert not offer.isWindow() and offer.window() is win  # a bar in the window, not a dialog
    # the app is fully usable with the offer showing
    win.show_screen("institutions")
    assert win.stack.currentWidget() is win.screens["institutions"] and offer.isVisible()
    qtbot.mouseClick(offer.later_btn, win_button())
    assert not offer.isVisible() and "设置" in win._status.text()
    win.close()
    store.close()

    store, win = _start(home)  # the next start does not nag
    qtbot.addWidget(win)
    assert not win.enrol_offer.isVisible()
    win.show_screen("settings")
    assert "尚未登记" in win.screens["settings"].enrol_state.text()
    win.close()
    store.close()


def win_button():
    from ui.qt import Qt

    return Qt.MouseButton.LeftButton


def test_enrolling_through_the_offer_against_a_real_hq(qtbot, tmp_path: Path):
    from inspector import sync
    from tests.hq_fixtures import service, start_hq

    hq = start_hq(tmp_path / "hq")
    try:
        code = service.make_enrol_code(hq.engine, hq.cfg, "B0427", name="李明")["code"]
        home = tmp_path / "laptop"
        store, win = _start(home)  # a fresh laptop: empty directory, no key
        qtbot.addWidget(win)
        assert win.enrol_offer.isVisible()
        qtbot.mouseClick(win.enrol_offer.enrol_btn, win_button())
        st = win.screens["settings"]
        assert win.stack.currentWidget() is st
        assert "尚未登记" in st.enrol_state.text()
        qtbot.keyClicks(st.url, hq.url)
        qtbot.keyClicks(st.badge, "B0427")
        qtbot.keyClicks(st.code, code)
        qtbot.keyClicks(st.enrol_pw, "secret-pass-1")
        qtbot.keyClicks(st.enrol_pw2, "secret-pass-1")
        with qtbot.waitSignal(st.enrolled, timeout=30000):
            qtbot.mouseClick(st.enrol_btn, win_button())
        assert not win.enrol_offer.isVisible()
        assert "已登记" in st.enrol_state.text() and "B0427" in st.enrol_state.text()
        assert sync.status(store)["enrolled"] and sync.status(store)["hq_url"] == hq.url
        assert store.get_meta("ui.me")  # HQ's id for this inspector, for new visits
        win.close()
        store.close()

        store, win = _start(home)  # enrolled: no offer, 设置 and 同步 say so
        qtbot.addWidget(win)
        assert not win.enrol_offer.isVisible()
        win.show_screen("settings")
        assert "本机已登记" in win.screens["settings"].enrol_state.text()
        win.show_screen("sync")
        assert "已登记" in win.screens["sync"].state.text()
        win.close()
        store.close()
    finally:
        hq.stop()


def test_wrong_code_through_the_offer_says_why_and_keeps_the_offer(qtbot, tmp_path: Path):
    from tests.hq_fixtures import start_hq

    hq = start_hq(tmp_path / "hq")
    try:
        store, win = _start(tmp_path / "laptop")
        qtbot.addWidget(win)
        win.enrol_from_offer()
        st = win.screens["settings"]
        st.url.setText(hq.url)
        st.badge.setText("B0001")
        st.code.setText("AAAA-BBBB-CCCC")
        st.enrol_pw.setText("secret-pass-1")
        st.enrol_pw2.setText("secret-pass-1")
        qtbot.mouseClick(st.enrol_btn, win_button())
        qtbot.waitUntil(lambda: st.enrol_op is None, timeout=30000)
        assert "登记失败" in st.enrol_state.text() and "登记码无效" in st.enrol_state.text()
        assert win.enrol_offer.isVisible() and st.enrol_btn.isEnabled()
        win.close()
        store.close()
    finally:
        hq.stop()


def test_qt_arguments_pass_through_and_self_test_runs(tmp_path: Path):
    env = {k: v for k, v in os.environ.items() if k not in ("QT_QPA_PLATFORM", "DISPLAY", "WAYLAND_DISPLAY")}
    code = ("import sys; from ui.app import build; "
            "app, store, win = build(sys.argv[1:]); print(app.platformName(), store.home); store.close()")
    out = subprocess.run([sys.executable, "-c", code, "-platform", "offscreen", "--home", str(tmp_path / "h")],
                         capture_output=True, text=True, env=env, cwd=ROOT, timeout=120)
    assert out.returncode == 0, out.stderr
    assert out.stdout.split()[0] == "offscreen" and out.stdout.split()[1] == str(tmp_path / "h")
    st = subprocess.run([sys.executable, "-m", "ui.app", "-platform", "offscreen", "--self-test", "--only", "version",
                         "--only", "window"], capture_output=True, text=True, env=env, cwd=ROOT, timeout=120)
    assert st.returncode == 0, st.stdout + st.stderr
    assert "自检通过" in st.stdout
