"""Every editor works as a person expects — driven by key clicks only (QTest), never by setters:
tick lists, typed dates, a Chinese calendar at today, number refusals beside the field and the
是/否 plausibility question, tables that edit on typing and let Tab out, notes on every item,
＋照片 by keyboard, and the navigation keys of a 37-item checklist."""
from __future__ import annotations

import datetime as dt

import pytest

from tests.ui_fixtures import start_training_visit, visit, window, write_photos  # noqa: F401

pytest.importorskip("pytestqt")




def _cv(v) -> str:
    return v.insp.checklist_version_ids[0]


def _sec(v, sid: str) -> str:
    return f"sec:{_cv(v)}:{sid}"


def _row(v, iid):
    return v.row(_cv(v), iid)


def _stored(v) -> dict:
    from inspector.store import visits

    v.sync()  # answers are written by the visit's background writer
    return visits.get_answers(v.store, v.inspection_id).get(_cv(v), {})


def _focused():
    from ui.qt import QApplication

    return QApplication.focusWidget()


def _clear(qtbot, w) -> None:
    from ui.qt import Qt

    qtbot.keyClick(w, Qt.Key.Key_A, Qt.KeyboardModifier.ControlModifier)
    qtbot.keyClick(w, Qt.Key.Key_Backspace)


def _ime(w, text: str) -> None:
    """Chinese typed the way it arrives from a pinyin input method: a committed input-method event
    (QTest.keyClicks handles ASCII only)."""
    from PySide6.QtGui import QInputMethodEvent

    from ui.qt import QApplication

    ev = QInputMethodEvent("", [])
    ev.setCommitString(text)
    QApplication.sendEvent(w, ev)


def _answer_modal(qtbot, key, seen: dict) -> None:
    """Answer the next modal box by a key press (是 = Y, 否 = N), noting its buttons' texts."""
    from ui.qt import QApplication, QMessageBox, QTimer

    tries = [0]

    def answer() -> None:
        box = QApplication.activeModalWidget()
        if not isinstance(box, QMessageBox):
            tries[0] += 1
            if tries[0] < 100:  # ~2 s, then the test's own assertions say what is missing
                QTimer.singleShot(20, answer)
            return
        seen["text"] = box.text()
        seen["buttons"] = sorted(b.text() for b in box.buttons())
        qtbot.keyClick(box, key)

    QTimer.singleShot(0, answer)


# -- multi-select ---------------------------------------------------------------------------
def test_multi_select_is_a_tick_list(qtbot, window, store):
    from inspector import profiles
    from ui.items import MultiChoiceEditor
    from ui.qt import Qt

    profiles.apply(store, "neimenggu")  # T-6-6 rests on 内人社办发〔2023〕119号 alone: inspected under 内蒙古
    visit = window.open_visit(start_training_visit(store))
    visit.goto(_sec(visit, "T-6"), "T-6-6")
    ed = _row(visit, "T-6-6").editor
    assert isinstance(ed, MultiChoiceEditor) and len(ed.boxes) == 10
    assert _focused() is ed.boxes[0]
    qtbot.keyClick(_focused(), Qt.Key.Key_Space)            # 学员花名册
    qtbot.keyClick(_focused(), Qt.Key.Key_Tab)
    qtbot.keyClick(_focused(), Qt.Key.Key_Tab)
    qtbot.keyClick(_focused(), Qt.Key.Key_Space)            # 开班申请和审批材料
    assert _stored(visit)["T-6-6"] == ["学员花名册", "开班申请和审批材料"]
    row = _row(visit, "T-6-6")
    assert row.status == "fail" and "答案无效" not in row.feedback.text()  # require_all: the rest is missing


# -- dates ----------------------------------------------------------------------------------
def test_date_typed_compact_or_iso_and_tab_leaves(qtbot, visit):
    from ui.qt import Qt

    visit.goto(_sec(visit, "T-1"), "T-1-6")
    ed = _row(visit, "T-1-6").editor
    assert _focused() is ed.edit
    qtbot.keyClicks(ed.edit, "20271231")
    assert _stored(visit)["T-1-6"] == "2027-12-31"
    qtbot.keyClick(ed.edit, Qt.Key.Key_Tab)
    assert _focused() is not ed.edit and not ed.isAncestorOf(_focused())   # Tab is not trapped
    assert ed.edit.text() == "2027-12-31"
    visit.goto(_sec(visit, "T-1"), "T-1-6")  # Tab from the section's last item went on into the next section
    _clear(qtbot, ed.edit)
    qtbot.keyClicks(ed.edit, "2028-01-15")
    assert _stored(visit)["T-1-6"] == "2028-01-15"
    _clear(qtbot, ed.edit)
    qtbot.keyClicks(ed.edit, "2027-13-01")
    assert "T-1-6" not in _stored(visit) or _stored(visit)["T-1-6"] is None
    assert ed.problem.isVisible() and "没有这一天" in ed.problem.text()


def test_calendar_opens_at_today_in_chinese(qtbot, visit):
    from ui.qt import QTableView, QTimer, Qt

    visit.goto(_sec(visit, "T-1"), "T-1-6")
    ed = _row(visit, "T-1-6").editor
    seen: dict = {}

    def look() -> None:
        pop = ed.popup
        if pop is None or not pop.isVisible():
            QTimer.singleShot(20, look)
            return
        cal = pop.cal
        seen["date"] = cal.selectedDate().toPython()
        seen["locale"] = cal.locale().name()
        seen["month"] = cal.locale().monthName(cal.monthShown())
        qtbot.keyClick(cal.findChild(QTableView), Qt.Key.Key_Return)   # the day grid: Enter picks

    QTimer.singleShot(0, look)
    qtbot.keyClick(ed.edit, Qt.Key.Key_F4)
    assert seen["date"] == dt.date.today()
    assert seen["locale"] == "zh_CN" and "月" in seen["month"]
    assert _stored(visit)["T-1-6"] == dt.date.today().isoformat()


# -- numbers --------------------------------------------------------------------------------
@pytest.mark.parametrize("typed, words", [("28a", "不是数字"), ("-50", "负数"), ("nan", "不是数字"),
                                          ("inf", "不是数字")])
def test_number_refusal_shows_beside_the_field(qtbot, visit, typed, words):
    visit.goto(_sec(visit, "T-3"), "T-3-1")
    ed = _row(visit, "T-3-1").editor
    qtbot.keyClicks(ed.edit, "280")
    assert _stored(visit)["T-3-1"] == 280
    _clear(qtbot, ed.edit)
    qtbot.keyClicks(ed.edit, typed)
    assert ed.edit.text() == typed
    assert ed.problem.isVisible() and words in ed.problem.text()
    assert ed.problem.parentWidget() is ed       # next to the field, not only in the status bar
    assert _stored(visit).get("T-3-1") is None   # nothing stale (no 28 behind a "28a") stays saved


def test_implausible_number_asks_yes_no(qtbot, visit):
    from ui.qt import Qt

    visit.goto(_sec(visit, "T-3"), "T-3-1")
    ed = _row(visit, "T-3-1").editor
    qtbot.keyClicks(ed.edit, "1000000")
    assert _stored(visit).get("T-3-1") is None    # not saved before the answer (nor 100000 on the way)
    seen: dict = {}
    _answer_modal(qtbot, Qt.Key.Key_N, seen)      # 否
    qtbot.keyClick(ed.edit, Qt.Key.Key_Tab)
    assert "1,000,000" in seen["text"] and "㎡" in seen["text"]
    assert any("是" in b for b in seen["buttons"]) and any("否" in b for b in seen["buttons"])
    qtbot.waitUntil(lambda: _focused() is ed.edit and ed.edit.selectedText() == "1000000")  # 否: back, selected
    assert _stored(visit).get("T-3-1") is None
    _answer_modal(qtbot, Qt.Key.Key_Y, seen)      # leaving again asks again: 是
    qtbot.keyClick(ed.edit, Qt.Key.Key_Tab)
    assert _stored(visit)["T-3-1"] == 1_000_000


# -- tables ---------------------------------------------------------------------------------
def test_table_cells_edit_on_typing_and_tab_leaves(qtbot, visit):
    from ui.qt import Qt

    visit.goto(_sec(visit, "T-4"), "T-4-1")
    ed = _row(visit, "T-4-1").editor
    ed.add_btn.setFocus()
    qtbot.keyClick(ed.add_btn, Qt.Key.Key_Space)          # ＋ 添加一行: the cursor goes to its first cell
    assert _focused() is ed.view
    _ime(_focused(), "王")                                # typing opens the cell editor (no F2)
    _ime(_focused(), "校长")
    qtbot.keyClick(_focused(), Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: ed.model.rows[0].get("name") is not None)  # Qt commits a cell queued
    assert _stored(visit)["T-4-1"][0]["name"] == "王校长"
    cols = [c.id for c in ed.model.columns]
    for _ in range(cols.index("experience")):
        qtbot.keyClick(ed.view, Qt.Key.Key_Right)
    qtbot.keyClicks(ed.view, "1")                        # digits too open the editor at once
    qtbot.keyClicks(_focused(), "2")                     # the rest goes where the keyboard is: the editor
    qtbot.keyClick(_focused(), Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: ed.model.rows[0].get("experience") is not None)
    assert _stored(visit)["T-4-1"][0]["experience"] == 12
    # the last cell, then Tab: out of the table
    qtbot.keyClick(ed.view, Qt.Key.Key_End, Qt.KeyboardModifier.ControlModifier)
    assert ed.view.currentIndex().column() == len(cols) - 1
    qtbot.keyClick(ed.view, Qt.Key.Key_Tab)
    assert not (ed.view is _focused() or ed.view.isAncestorOf(_focused()))


def test_letters_in_a_numeric_cell_are_refused_visibly(qtbot, visit):
    from ui.qt import Qt

    visit.goto(_sec(visit, "T-4"), "T-4-1")
    ed = _row(visit, "T-4-1").editor
    ed.add_btn.setFocus()
    qtbot.keyClick(ed.add_btn, Qt.Key.Key_Space)
    cols = [c.id for c in ed.model.columns]
    for _ in range(cols.index("experience")):
        qtbot.keyClick(ed.view, Qt.Key.Key_Right)
    _ime(_focused(), "五年")
    qtbot.keyClick(_focused(), Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: ed.problem.isVisible())
    assert ed.problem.isVisible() and "第 1 行" in ed.problem.text() and "未保存" in ed.problem.text()
    qtbot.keyClicks(ed.view, "5")
    qtbot.keyClick(_focused(), Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: not ed.problem.isVisible())
    assert _stored(visit)["T-4-1"][0]["experience"] == 5 and not ed.problem.isVisible()


# -- notes, photos ----------------------------------------------------------------------------
def test_every_item_has_a_note_that_survives_answers(qtbot, visit):
    from inspector.store import visits
    from ui.qt import Qt

    visit.goto(_sec(visit, "T-3"), "T-3-2")
    rows = [_row(visit, it.id) for sec in visit.checklists[_cv(visit)].sections for it in sec.items]
    assert all(r.note.placeholderText() for r in rows)
    row = _row(visit, "T-3-2")
    qtbot.keyClick(row.editor, Qt.Key.Key_M, Qt.KeyboardModifier.AltModifier)
    assert _focused() is row.note
    _ime(row.note, "灭火器过期两个月")
    key = (_cv(visit), "T-3-2")
    visit.sync()
    assert visits.get_notes(visit.store, visit.inspection_id)[key] == "灭火器过期两个月"
    row.editor.setFocus()
    qtbot.keyClick(row.editor, Qt.Key.Key_2)           # answering keeps the note
    assert _stored(visit)["T-3-2"] == "fail"
    assert visits.get_notes(visit.store, visit.inspection_id)[key] == "灭火器过期两个月"


def _in_file_dialog(qtbot, steps: list[str | None], seen: dict) -> None:
    """Once Qt's own file dialog is up with the keyboard in it: note its title, folder, buttons and
    focused field, then type each step into the focused field and press Enter (None: Escape).
    Runs from the event loop: the dialog is modal, so the key that opens it returns when it closes."""
    from ui.qt import QApplication, QDialogButtonBox, QFileDialog, Qt, QTimer

    def up() -> bool:
        dlg, field = QApplication.activeModalWidget(), QApplication.focusWidget()
        return isinstance(dlg, QFileDialog) and field is not None and dlg.isAncestorOf(field)

    def rescue(dlg) -> None:
        """A name the dialog refused leaves it (and its warning box) open, which would hang the
        test in the key press that opened it: Escape out of both, and the test fails instead."""
        seen["rescued"] = True
        for _ in range(3):
            w = QApplication.activeModalWidget()
            if w is None or not (w is dlg or w.parentWidget() is dlg):
                break
            qtbot.keyClick(w, Qt.Key.Key_Escape)

    def drive() -> None:
        qtbot.waitUntil(up, timeout=10000)
        dlg = QApplication.activeModalWidget()
        guard = QTimer(dlg)  # dies with the dialog
        guard.setSingleShot(True)
        guard.timeout.connect(lambda: rescue(dlg))
        guard.start(15000)
        seen.update(title=dlg.windowTitle(), folder=dlg.directory().absolutePath(),
                    buttons=sorted(b.text() for box in dlg.findChildren(QDialogButtonBox) for b in box.buttons()),
                    field=QApplication.focusWidget().objectName())
        for text in steps:
            if text is not None:
                qtbot.keyClicks(QApplication.focusWidget(), text)   # ASCII only (QTest)
            qtbot.keyClick(QApplication.focusWidget(), Qt.Key.Key_Return if text is not None else Qt.Key.Key_Escape)
        seen["closed"] = not dlg.isVisible() and not seen.get("rescued")

    QTimer.singleShot(0, drive)


def test_photo_by_keyboard_through_qts_file_dialog_and_the_warning_clears(qtbot, visit, tmp_path):
    """Tab to ＋照片, Space, the path typed into Qt's own (Chinese) file dialog, Enter: the photo is
    the item's and 须附照片证据 goes; Alt+P reopens in that folder; Escape adds nothing."""
    import os

    from inspector.store import photos
    from ui.qt import Qt

    first, second = write_photos(tmp_path / "site-photos", 2)
    visit.goto(_sec(visit, "T-3"), "T-3-2")
    row = _row(visit, "T-3-2")
    strip = row.photo_strip
    qtbot.keyClick(row.editor, Qt.Key.Key_2)                       # 不符合, photo required
    assert "须附照片证据" in row.feedback.text()
    qtbot.keyClick(row.editor, Qt.Key.Key_Tab)                     # Tab lands on ＋照片
    assert _focused() is strip.add_btn
    seen: dict = {}
    _in_file_dialog(qtbot, [str(first)], seen)                     # the whole path, then Enter
    with qtbot.waitSignal(strip.imported, timeout=30000, raising=False) as imported:
        qtbot.keyClick(_focused(), Qt.Key.Key_Space)
    assert seen["closed"] and imported.signal_triggered
    assert seen["field"] == "fileNameEdit" and seen["title"] == "添加照片"
    assert "取消" in seen["buttons"] and "打开(&O)" in seen["buttons"]          # qtbase zh_CN
    assert seen["folder"] != os.getcwd()                           # Pictures or home, not the program's folder
    assert [p["original_name"] for p in photos.list_photos(visit.store, visit.inspection_id, "T-3-2")] \
        == [first.name]
    assert row.photo_count == 1 and strip.add_btn.text() == "＋照片（1）"
    assert "须附照片证据" not in row.feedback.text()
    qtbot.waitUntil(lambda: _focused() is strip.add_btn)           # the keyboard is still on ＋照片

    # Alt+P reopens it in the folder the last photo came from: the bare file name is enough
    seen.clear()
    _in_file_dialog(qtbot, [second.name], seen)
    with qtbot.waitSignal(strip.imported, timeout=30000, raising=False) as imported:
        qtbot.keyClick(_focused(), Qt.Key.Key_P, Qt.KeyboardModifier.AltModifier)
    assert seen["folder"] == str(second.parent)
    assert seen["closed"] and imported.signal_triggered
    assert sorted(p["original_name"] for p in photos.list_photos(visit.store, visit.inspection_id, "T-3-2")) \
        == sorted([first.name, second.name])

    # Escape: nothing added
    seen.clear()
    qtbot.waitUntil(lambda: _focused() is strip.add_btn)
    _in_file_dialog(qtbot, [None], seen)
    qtbot.keyClick(_focused(), Qt.Key.Key_P, Qt.KeyboardModifier.AltModifier)
    assert seen["closed"] and row.photo_count == 2
    assert len(photos.list_photos(visit.store, visit.inspection_id, "T-3-2")) == 2


# -- navigation -------------------------------------------------------------------------------
def test_tab_from_a_sections_last_item_enters_the_next_section(qtbot, visit):
    from ui.qt import Qt

    visit.goto(_sec(visit, "T-1"), "T-1-5")
    last = _row(visit, "T-1-6").editor
    qtbot.keyClick(_focused(), Qt.Key.Key_Tab)     # T-1-5 → T-1-6 (date)
    assert _focused() is last.edit
    qtbot.keyClick(_focused(), Qt.Key.Key_Tab)     # → 不适用 of T-1-6
    qtbot.keyClick(_focused(), Qt.Key.Key_Tab)     # → next section, first item (not the main menu)
    assert visit.current_page_key() == _sec(visit, "T-2")
    first = _row(visit, "T-2-1").editor
    assert _focused() is first.view or first.isAncestorOf(_focused())
    page = visit.pages[_sec(visit, "T-1")]
    assert page.next_button.text().startswith("下一节 → 2.")


def test_next_unanswered_and_next_failed_keys(qtbot, visit):
    from ui.qt import Qt

    visit.goto(_sec(visit, "T-1"), "T-1-1")
    qtbot.keyClick(_focused(), Qt.Key.Key_1)       # T-1-1 符合
    qtbot.keyClick(_focused(), Qt.Key.Key_F8)      # 下一未答
    assert visit.current_item == (_cv(visit), "T-1-2")
    qtbot.keyClick(_focused(), Qt.Key.Key_2)       # T-1-2 不符合
    visit.goto(_sec(visit, "T-3"), "T-3-3")
    qtbot.keyClick(_focused(), Qt.Key.Key_F9)      # 下一不符合: wraps round to T-1-2
    assert visit.current_item == (_cv(visit), "T-1-2")
    assert visit.current_page_key() == _sec(visit, "T-1")


def test_filter_shows_only_unanswered(qtbot, visit):
    from ui.qt import Qt

    visit.goto(_sec(visit, "T-1"), "T-1-1")
    qtbot.keyClick(_focused(), Qt.Key.Key_1)
    nav = visit.navigator
    nav.filter.setFocus()
    qtbot.keyClick(nav.filter, Qt.Key.Key_Down)    # 未答
    assert nav.filter.currentData() == "unanswered"
    assert _row(visit, "T-1-1").isHidden() and not _row(visit, "T-1-2").isHidden()
