"""HQ publishes its jurisdiction profile to its laptops (issue 12 item 1): enrolment installs it,
and a later version reaches the laptop on the next sync; the agency and 文号 prefixes agree."""
from __future__ import annotations

import dataclasses

from inspector import profiles
from inspector.hq.config import HQConfig
from inspector.sync import sync
from tests.hq_fixtures import *  # noqa: F401,F403
from tests.hq_fixtures import HQServer, enrolled_laptop


def test_enrolment_installs_hq_profile_and_sync_follows_a_new_version(tmp_path):
    from inspector.hq.admin import init_home

    home = tmp_path / "hq"
    init_home(home, admin_password="admin-pass-1", profile="neimenggu")
    cfg = HQConfig.load(home)
    prof = profiles.load("neimenggu")
    assert cfg.profile == "neimenggu" and cfg.agency == prof.agency["name"]
    assert cfg.doc_prefixes == dict(prof.numbers)
    hq = HQServer(home).start()
    try:
        store = enrolled_laptop(tmp_path / "laptop", hq)
        assert profiles.active(store).id == "neimenggu"
        assert store.get_meta("profile.version") == prof.version
        assert {k: store.get_meta(f"doc_prefix.{k}") for k in prof.numbers} == dict(prof.numbers)
        # the bureau edits its profile (a new phone number) and HQ publishes its own edition
        changed = prof.source_text + "\n# 修订：联系电话更新\n"
        (home / "profile.toml").write_text(changed, encoding="utf-8")
        hq.app.state.hq.cfg = dataclasses.replace(cfg, profile="profile.toml")
        new = profiles.parse_profile(changed)
        rep = sync(store)
        assert rep.ok, rep.error
        assert store.get_meta("profile.version") == new.version != prof.version
        assert profiles.active(store).source_text == changed
        store.close()
    finally:
        hq.stop()
