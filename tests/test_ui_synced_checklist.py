"""A checklist version received from HQ (synced into the store, newer than the bundled file) is the
one a visit started in the desktop app uses (issue 11): the new visit's pages show its wording."""
from __future__ import annotations

import pytest

from tests.ui_fixtures import seed_directory, window  # noqa: F401 - fixture

pytest.importorskip("pytestqt")

NEW_TEXT = "理论课集中培训面积（总部 2026.2 版）"


def _publish_newer(store) -> str:
    """What a sync brings: HQ's newer publication of the training checklist, stored as is."""
    from inspector import paths
    from inspector.forms import parse_checklist
    from inspector.store import checklists

    src = (paths.forms_dir() / "training.toml").read_text(encoding="utf-8")
    assert 'version = "2026.2"' in src and 'text = "理论课集中培训面积"' in src
    src = src.replace('version = "2026.2"', 'version = "2026.9"', 1)
    src = src.replace('text = "理论课集中培训面积"', f'text = "{NEW_TEXT}"', 1)
    return checklists.ensure_version(store, parse_checklist(src, "hq:training@2026.9"))


def test_a_new_visit_uses_the_checklist_received_from_hq(qtbot, window, store) -> None:
    from inspector.store import directory, visits
    from ui.qt import Qt

    seed_directory(store)
    newer = _publish_newer(store)
    assert newer == "training@2026.9"
    screen = window.get_screen("institutions")
    window.show_screen("institutions")
    screen.refresh()
    inst = next(i for i in directory.list_institutions(store) if i["kind"] == "培训机构")
    row = next(r for r in range(screen.model.rowCount()) if screen.model.data(screen.model.index(r, 0)) == inst["name"])
    view = screen.table
    qtbot.mouseClick(view.viewport(), Qt.MouseButton.LeftButton, pos=view.visualRect(screen.model.index(row, 0)).center())
    assert screen.selected()["id"] == inst["id"]
    qtbot.mouseClick(screen.adhoc_btn, Qt.MouseButton.LeftButton)
    v = window.visit
    assert v is not None and v.insp.institution_id == inst["id"]
    assert v.insp.checklist_version_ids == [newer]
    assert visits.get_inspection(store, v.inspection_id).checklist_version_ids == [newer]
    # the bundled version is kept in the store, but not used
    assert store.scalar("SELECT count(*) FROM checklist_versions WHERE id = 'training@2026.2'") == 1
    assert v.row(newer, "T-3-1").text.text() == NEW_TEXT
    ticked = [v.start_page.checklists.item(i).text() for i in range(v.start_page.checklists.count())
              if v.start_page.checklists.item(i).checkState() == Qt.CheckState.Checked]
    assert ticked == ["培训机构现场检查（版本 2026.9）"]
