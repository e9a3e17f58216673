"""设置 → 同行检查人员证书 and 同步 → 已隔离的总部记录, against a real HQ on loopback: the
co-inspector gets HQ's certificate from the settings screen (in the background), and records the
last pulls could not apply are listed in plain words."""
from __future__ import annotations

from pathlib import Path

from tests.ui_fixtures import seed_directory


def _enrolled(store, tmp_path: Path, me: dict):
    from inspector import sync
    from tests.hq_fixtures import service, start_hq

    hq = start_hq(tmp_path / "hq")
    code = service.make_enrol_code(hq.engine, hq.cfg, me["badge_no"], name=me["name"])["code"]
    sync.enrol(store, hq.url, code, badge_no=me["badge_no"], passphrase="secret-pass-1")
    return hq


def test_co_inspector_gets_hq_certificate_from_settings(qtbot, store, tmp_path: Path):
    from inspector import keys
    from tests.hq_fixtures import service
    from ui.qt import Qt
    from ui.sync_settings import SettingsScreen

    _insts, people = seed_directory(store)
    me, co = people[0], people[1]
    st = SettingsScreen(store)
    qtbot.addWidget(st)
    st.resize(1366 - 160, 768 - 60)
    st.show()
    qtbot.waitExposed(st)
    st.refresh()
    assert st.cosign_box.isHidden()  # not enrolled: nothing to certify against
    hq = _enrolled(store, tmp_path, me)
    try:
        code = service.make_enrol_code(hq.engine, hq.cfg, co["badge_no"], name=co["name"])["code"]
        st.refresh()
        assert not st.cosign_box.isHidden()
        assert "总部认证" in st.co_keys.text() and co["badge_no"] not in st.co_keys.text()
        st.co_badge.setText(co["badge_no"])
        assert co["name"] in st.co_who.text() and st.co_pw.isEnabled()  # no key yet: passphrase asked
        st.co_code.setText(code)
        st.co_pw.setText("co-pass-1")
        st.co_pw2.setText("co-pass-2")
        qtbot.mouseClick(st.co_btn, Qt.MouseButton.LeftButton)
        assert "不一致" in st.co_state.text() and st.cosign_op is None  # nothing sent to HQ
        st.co_pw.setText("co-pass-1")
        st.co_pw2.setText("co-pass-1")
        with qtbot.waitSignal(st.certified, timeout=30000):
            qtbot.mouseClick(st.co_btn, Qt.MouseButton.LeftButton)
        assert "已获总部证书" in st.co_state.text(), st.co_state.text()
        assert st.co_pw.text() == "" and st.co_code.text() == ""
        assert keys.load_signing_key(store.home, co["badge_no"], "co-pass-1").hq_certified
        assert f"{co['name']}（{co['badge_no']}）<span style='color:#1e7b34'>总部认证" in st.co_keys.text()
        assert not st.co_pw.isEnabled()  # the key exists now

        # a wrong code: refused in plain words, the form stays usable
        st.co_code.setText("AAAA-BBBB-CCCC")
        qtbot.mouseClick(st.co_btn, Qt.MouseButton.LeftButton)
        with qtbot.waitSignal(st.cosign_op.done, timeout=30000):
            pass
        assert "申请失败" in st.co_state.text() and "登记码无效" in st.co_state.text()
        assert st.co_btn.isEnabled()
    finally:
        hq.stop()


def test_sync_screen_lists_quarantined_records_in_plain_words(qtbot, store, tmp_path: Path):
    from inspector import sync
    from inspector.util import dumps, new_id, now_iso
    from tests.hq_fixtures import service
    from ui.sync_settings import SyncScreen

    _insts, people = seed_directory(store)
    hq = _enrolled(store, tmp_path, people[0])
    try:
        sc = SyncScreen(store)
        qtbot.addWidget(sc)
        sc.refresh()
        assert sc.quarantine_box.isHidden()
        task = new_id()
        with hq.engine.begin() as c:  # a task naming an institution this laptop has never received
            service.upsert_entity(c, "task", {"id": task, "kind": "draw", "institution_id": "nope",
                                              "inspector_ids": "[]", "checklist_ids": "[]", "status": "open",
                                              "created_at": now_iso()})
        assert sync.sync(store, push=False).ok
        sc.refresh()
        assert not sc.quarantine_box.isHidden() and sc.quarantine.count() == 1
        line = sc.quarantine.item(0).text()
        assert line.startswith("检查任务") and "机构本机还没有" in line, line
        assert "Error" not in line and "institutions" not in line  # plain words; details in the tooltip
        assert "nope" in sc.quarantine.item(0).toolTip()
        assert "1 条" in sc.quarantine_note.text() and "自动重试" in sc.quarantine_note.text()
        # the institution arrives: the task applies and the list empties
        with hq.engine.begin() as c:
            service.upsert_entity(c, "institution", {
                "id": "nope", "credit_code": "CC9999", "name": "后到的机构", "kind": "培训机构",
                "county": "红旗区", "trades": dumps([]), "complaints": 0, "updated_at": now_iso()})
        assert sync.sync(store, push=False).ok
        sc.refresh()
        assert sc.quarantine_box.isHidden() and sc.quarantine.count() == 0
    finally:
        hq.stop()
