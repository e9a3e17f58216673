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


def _adhoc_training_visit(qtbot, window, store) -> dict:
    """机构 → click a 培训机构 → 临时检查: the visit a user starts without a drawn task."""
    from inspector.store import directory
    from ui.qt import Qt

    screen = window.get_screen("institutions")
    window.show_screen("institutions")
    screen.refresh()
    inst = next(i for i in directory.list_institutions(store) if i["kind"] == "培训机构")
    row = next(r for r in range(screen.model.rowCount()) if screen.model.data(screen.model.index(r, 0)) == inst["name"])
    view = screen.table
    qtbot.mouseClick(view.viewport(), Qt.MouseButton.LeftButton, pos=view.visualRect(screen.model.index(row, 0)).center())
    assert screen.selected()["id"] == inst["id"]
    qtbot.mouseClick(screen.adhoc_btn, Qt.MouseButton.LeftButton)
    assert window.visit is not None and window.visit.insp.institution_id == inst["id"]
    return inst


def test_a_new_visit_uses_the_checklist_received_from_hq(qtbot, window, store) -> None:
    from inspector.store import visits
    from ui.qt import Qt

    seed_directory(store)
    newer = _publish_newer(store)
    assert newer == "training@2026.9"
    inst = _adhoc_training_visit(qtbot, window, store)
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


def test_a_checklist_only_hq_sent_is_offered_and_ticked_by_keyboard(qtbot, window, store) -> None:
    """HQ may publish a checklist the laptop's files do not have: the start page offers it beside
    the shipped ones, and ticking it (arrow keys, Space) adds it to the visit with its own pages."""
    from inspector import paths
    from inspector.forms import parse_checklist
    from inspector.store import checklists, visits
    from ui.qt import Qt

    seed_directory(store)
    src = (paths.forms_dir() / "training.toml").read_text(encoding="utf-8")
    src = src.replace('id = "training"', 'id = "hq_special"', 1).replace(
        'title = "培训机构现场检查"', 'title = "培训机构专项检查（总部）"', 1)
    hq_only = checklists.ensure_version(store, parse_checklist(src, "hq:hq_special@2026.2"))
    _adhoc_training_visit(qtbot, window, store)
    v = window.visit
    lst = v.start_page.checklists
    labels = [lst.item(i).text() for i in range(lst.count())]
    assert "培训机构专项检查（总部）（版本 2026.2）（总部下发）" in labels, labels
    assert hq_only not in v.insp.checklist_version_ids
    # by keyboard: into the list, down to the HQ checklist, Space ticks it
    window.activateWindow()
    lst.setFocus(Qt.FocusReason.TabFocusReason)
    qtbot.keyClick(lst, Qt.Key.Key_Home)
    for _ in range(labels.index("培训机构专项检查（总部）（版本 2026.2）（总部下发）")):
        qtbot.keyClick(lst, Qt.Key.Key_Down)
    qtbot.keyClick(lst, Qt.Key.Key_Space)
    assert hq_only in visits.get_inspection(store, v.inspection_id).checklist_version_ids
    assert hq_only in v.insp.checklist_version_ids
    assert v.row(hq_only, "T-3-1") is not None
