"""What a failed item and its finding cite on screen follows the laptop's profile: 新乡 has no
catalogue, so the bureau's 问题类别 (35号 附件 item); 内蒙古 cites its 58号 失信代码. Inner Mongolia's
codes never show on a 新乡 laptop."""
from __future__ import annotations

import pytest

from tests.ui_fixtures import start_training_visit, window  # noqa: F401


@pytest.mark.parametrize("profile, heading, shown, hidden", [
    ("xinxiang", "问题类别", "培训场地", "PX-"),
    ("neimenggu", "失信代码", "PX-YB-3", "问题类别"),
])
def test_item_and_finding_cite_what_the_profile_cites(qtbot, window, store, profile, heading, shown, hidden):  # noqa: F811
    from inspector import profiles
    from ui.qt import Qt

    profiles.apply(store, profile)
    visit = window.open_visit(start_training_visit(store))
    cv = visit.insp.checklist_version_ids[0]
    visit.goto(f"sec:{cv}:T-3", "T-3-1")
    row = visit.row(cv, "T-3-1")
    qtbot.keyClicks(row.editor.edit, "280")                       # below 300 ㎡: fails
    assert row.status == "fail"
    text = row.feedback.text()
    assert f"{heading} " in text and shown in text and hidden not in text, text
    fp = visit.findings_page
    visit.goto("findings")
    fp.draft_btn.setFocus()
    qtbot.keyClick(fp.draft_btn, Qt.Key.Key_Space)
    assert fp.model.headerData(1, Qt.Orientation.Horizontal, Qt.ItemDataRole.DisplayRole) == heading
    cell = fp.model.data(fp.model.index(0, 1))
    assert shown in cell and "PX-" not in cell if profile == "xinxiang" else shown in cell
    fp.table.setFocus()
    qtbot.keyClick(fp.table, Qt.Key.Key_Down)
    qtbot.keyClick(fp.table, Qt.Key.Key_Up)
    assert shown in fp.codes.text() and hidden not in fp.codes.text(), fp.codes.text()
