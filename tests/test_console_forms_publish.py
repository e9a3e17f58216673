"""HQ publishes a checklist authored in Excel, driven in a real headless Chromium against the real HQ
on 127.0.0.1: upload → validation report → preview as the laptop shows it → publish; a published
version is never changed and a newer one supersedes it; an enrolled laptop receives both by sync and
starts a visit with the new one."""
from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.console_fixtures import browser, page_for  # noqa: F401  (module-scoped Chromium)
from tests.test_forms_xlsx import SETTINGS, authored_rows, workbook


@pytest.fixture(scope="module")
def hq(tmp_path_factory: pytest.TempPathFactory) -> Any:
    from tests.hq_fixtures import start_hq

    s = start_hq(tmp_path_factory.mktemp("forms") / "hq")
    yield s
    s.stop()


def _upload(page: Any, hq: Any, path: Path) -> None:
    page.goto(hq.url + "/console/forms")
    page.set_input_files("#upload-form input[type=file]", str(path))
    page.click("#upload-form button[type=submit]")
    page.wait_for_load_state()


def test_upload_report_preview_publish_and_sync(browser: Any, hq: Any, tmp_path: Path) -> None:  # noqa: F811
    from inspector import visit_state
    from inspector.store import checklists, visits
    from inspector.sync import sync
    from tests.hq_fixtures import enrolled_laptop
    from tests.store_fixtures import seed_minimal

    page = page_for(browser, hq, "admin")
    dialogs: list[str] = []
    page.on("dialog", lambda d: (dialogs.append(d.message), d.accept()))

    # 1. a workbook with mistakes: the report names sheet, row and column; nothing can be published
    bad = authored_rows()
    bad[4][5] = ". >= now()"
    bad[3][8] = "PX-ZZ-1"
    _upload(page, hq, workbook(tmp_path / "有误.xlsx", bad))
    lines = page.locator("#report li").all_inner_texts()
    assert lines == ["有误.xlsx: survey: 第4行: I列（codes）: 失信行为目录中没有代码 PX-ZZ-1",
                     "有误.xlsx: survey: 第5行: F列（constraint）: “. >= now()”：未知函数 now()（可用：today()、date(\"YYYY-MM-DD\")）"]
    assert page.locator("#publish-form").count() == 0

    # 2. the corrected workbook: preview as the laptop numbers and shows it, then publish
    good = workbook(tmp_path / "线上培训.xlsx", authored_rows())
    _upload(page, hq, good)
    assert "校验通过" in page.inner_text("#report-ok") and "online_check@2027.1" in page.inner_text("#report-ok")
    skip = page.inner_text("#item-O-1-2")
    assert "1.2" in skip and "仅当 1.1「是否开展线上培训」答“是”时检查" in skip and "不符合时须拍照" in skip
    area = page.inner_text("#item-O-1-3")
    assert "要求 >= 300㎡" in area and "数字（㎡）" in area and "PX-YB-3" in area
    table = page.inner_text("#item-O-1-4")
    assert "姓名" in table and "财会人员资格证书" in table and "finance_staff" in table and "min_finance = 2" in table
    assert "单选：是 / 否" in page.inner_text("#item-O-1-1")
    page.click("#publish-form button")
    page.wait_for_url("**/console/forms/v/online_check@2027.1?msg=*")
    assert dialogs and "online_check@2027.1" in dialogs[0]
    assert "已发布 online_check@2027.1" in page.inner_text(".flash")
    assert "现行" in page.inner_text("#versions")

    # 3. the laptop receives it on its next sync and starts a visit with it
    store = enrolled_laptop(tmp_path / "laptop", hq)
    assert sync(store).ok
    assert checklists.current_version_id(store, "online_check") == "online_check@2027.1"
    cl = checklists.load_version(store, "online_check@2027.1")
    # the authored checklist rests on Inner Mongolia's 119号: a laptop of that region inspects it
    # (under 新乡 its items are 不适用, tests/test_profile_applicability.py)
    from inspector import paths, profiles

    profiles.install(store, (paths.forms_dir() / "profiles" / "neimenggu.toml").read_text(encoding="utf-8"))
    inst, _ = seed_minimal(store)
    iid = visits.start_inspection(store, inst, checklist_version_ids=[cl.version_id])
    visits.set_answer(store, iid, cl.version_id, "O-1-1", "否")
    visits.set_answer(store, iid, cl.version_id, "O-1-3", 250)
    st = {s.item.id: s for s in visit_state.visit_states(store, iid)[cl.version_id]}
    assert st["O-1-2"].skipped and st["O-1-3"].status == "fail"

    # 4. the same version with other content is refused; a new version supersedes the old one
    changed = authored_rows()
    changed[4][5] = ". >= 200"
    _upload(page, hq, workbook(tmp_path / "改.xlsx", changed))
    assert "已发布且内容不同" in page.inner_text("#blocked") and page.locator("#publish-form").count() == 0
    newer = [SETTINGS[0], [*SETTINGS[1][:1], "2027.2", *SETTINGS[1][2:]]]
    _upload(page, hq, workbook(tmp_path / "新版.xlsx", changed, settings=newer))
    page.click("#publish-form button")
    page.wait_for_url("**/console/forms/v/online_check@2027.2?msg=*")
    page.goto(hq.url + "/console/forms")
    rows = {r.split("\t")[1]: r for r in page.locator("#versions tr").all_inner_texts()[1:]}
    assert "现行" in rows["2027.2"] and "已被新版本取代" in rows["2027.1"]
    assert sync(store).ok
    assert checklists.current_version_id(store, "online_check") == "online_check@2027.2"
    assert checklists.load_version(store, "online_check@2027.2").item("O-1-3").threshold == {"op": ">=", "value": 200}
    assert checklists.load_version(store, "online_check@2027.1").sha256 == cl.sha256  # never changed
    page.context.close()
    store.close()
