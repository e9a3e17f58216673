"""同步 and 设置 against a real HQ on loopback: enrol from the settings screen, sync in the
background with progress, status in plain words; before enrolment a clear 未配置 state."""
from __future__ import annotations

from pathlib import Path


from tests.ui_fixtures import seed_directory


def test_not_configured_state(qtbot, store):
    from ui.sync_settings import SyncScreen

    s = SyncScreen(store)
    qtbot.addWidget(s)
    s.refresh()
    assert "未配置" in s.state.text() and not s.sync_btn.isEnabled()


def test_enrol_and_sync_through_the_screens(qtbot, store, tmp_path: Path):
    from tests.hq_fixtures import service, start_hq
    from inspector import sync
    from inspector.store import visits
    from ui.qt import Qt
    from ui.screens import start_visit
    from ui.sync_settings import SettingsScreen, SyncScreen

    insts, people = seed_directory(store)
    me = people[0]
    hq = start_hq(tmp_path / "hq")
    try:
        code = service.make_enrol_code(hq.engine, hq.cfg, me["badge_no"], name=me["name"])["code"]
        st = SettingsScreen(store)
        qtbot.addWidget(st)
        st.refresh()
        st.me.setCurrentIndex(st.me.findData(me["id"]))
        st.me.activated.emit(st.me.currentIndex())
        assert store.get_meta("ui.me") == me["id"]
        st.url.setText(hq.url)
        st.code.setText(code)
        assert st.badge.text() == me["badge_no"]  # filled from the chosen inspector
        st.enrol_pw.setText("secret-pass-1")
        st.enrol_pw2.setText("secret-pass-2")
        qtbot.mouseClick(st.enrol_btn, Qt.MouseButton.LeftButton)
        assert "不一致" in st.enrol_state.text() and st.enrol_op is None  # nothing sent to HQ
        st.enrol_pw.setText("secret-pass-1")
        st.enrol_pw2.setText("secret-pass-1")
        with qtbot.waitSignal(st.enrolled, timeout=30000):
            qtbot.mouseClick(st.enrol_btn, Qt.MouseButton.LeftButton)
        assert "登记成功" in st.enrol_state.text(), st.enrol_state.text()
        assert sync.status(store)["enrolled"] and st.enrol_pw.text() == ""

        iid = start_visit(store, insts[0]["id"])
        cv = visits.get_inspection(store, iid).checklist_version_ids[0]
        visits.set_answer(store, iid, cv, "T-3-1", 280)
        sc = SyncScreen(store)
        qtbot.addWidget(sc)
        sc.refresh()
        assert "已登记" in sc.state.text() and sc.sync_btn.isEnabled()
        before = sync.status(store)["unsent"]
        assert before > 0
        qtbot.mouseClick(sc.sync_btn, Qt.MouseButton.LeftButton)
        with qtbot.waitSignal(sc.op.done, timeout=60000):
            pass
        assert "同步完成" in sc.detail.text(), sc.detail.text() + sc.error.text()
        import re

        pushed = int(re.search(r"推送 (\d+) 条记录", sc.detail.text()).group(1))
        assert pushed >= 1 and not sync.status(store)["held"]
        assert "项操作" in sc.pending.text() and "从未同步" not in sc.last.text()
        assert sc.sync_btn.isEnabled()
    finally:
        hq.stop()
