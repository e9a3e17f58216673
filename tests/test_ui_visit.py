"""A whole field visit driven through the real widgets (pytest-qt): answers with live threshold
feedback, keyboard, undo/redo, photos, roster sample, findings, signatures, preview, print to PDF,
finish and the lock."""
from __future__ import annotations

import math
import subprocess

import pytest

from tests.ui_fixtures import start_training_visit, visit, window, write_photos, write_roster  # noqa: F401

pytest.importorskip("pytestqt")




def _cv(visit) -> str:
    return visit.insp.checklist_version_ids[0]


def _row(visit, item_id):
    return visit.row(_cv(visit), item_id)


def _stored(visit) -> dict:
    from inspector.store import visits

    return visits.get_answers(visit.store, visit.inspection_id).get(_cv(visit), {})


def _stroke(qtbot, pad, points):
    from ui.qt import QApplication, QEvent, QPointF, Qt
    from PySide6.QtGui import QMouseEvent

    def ev(kind, p, buttons):
        pos = QPointF(*p)
        return QMouseEvent(kind, pos, pad.mapToGlobal(pos), Qt.MouseButton.LeftButton, buttons,
                           Qt.KeyboardModifier.NoModifier)

    QApplication.sendEvent(pad, ev(QEvent.Type.MouseButtonPress, points[0], Qt.MouseButton.LeftButton))
    for p in points[1:]:
        QApplication.sendEvent(pad, ev(QEvent.Type.MouseMove, p, Qt.MouseButton.LeftButton))
    QApplication.sendEvent(pad, ev(QEvent.Type.MouseButtonRelease, points[-1], Qt.MouseButton.NoButton))


def _scrawl(qtbot, pad, seed: int) -> None:
    for k in range(3):
        pts = [(30 + 40 * k + 8 * math.sin(i / 2 + seed), 40 + 3 * i) for i in range(15)]
        _stroke(qtbot, pad, pts)


def _read_record(qtbot, visit) -> None:
    """The person in charge reads the 笔录 page by page before anyone signs (issue 11 item 6)."""
    from ui.qt import Qt

    sg = visit.sign_page
    visit.goto("sign")
    qtbot.mouseClick(sg.read_btn, Qt.MouseButton.LeftButton)
    r = sg.reader
    while r.next_btn.isEnabled():
        qtbot.mouseClick(r.next_btn, Qt.MouseButton.LeftButton)
    qtbot.mouseClick(r.done_btn, Qt.MouseButton.LeftButton)
    assert sg.complete_reading


def test_threshold_turns_red_with_reason_and_basis(qtbot, visit):
    from ui.qt import Qt

    visit.goto(f"sec:{_cv(visit)}:T-3", "T-3-1")
    row = _row(visit, "T-3-1")
    with qtbot.waitSignal(visit.answered):
        qtbot.keyClicks(row.editor.edit, "280")
    assert row.status == "fail"
    assert row.property("state") == "fail"
    assert row.editor.edit.property("state") == "fail"
    text = row.feedback.text()
    assert "280" in text and "300" in text and "依据" in text and "问题类别 培训场地" in text and "PX-" not in text
    assert row.feedback.isVisibleTo(visit)
    assert _stored(visit)["T-3-1"] == 280
    # typing on to 320 passes; the whole entry is one undo step
    for _ in range(3):
        qtbot.keyClick(row.editor.edit, Qt.Key.Key_Backspace)
    qtbot.keyClicks(row.editor.edit, "320")
    assert _stored(visit)["T-3-1"] == 320 and row.status == "pass"
    assert "red" not in (row.property("state") or "")
    visit.undo_stack.undo()
    assert "T-3-1" not in _stored(visit) and row.editor.edit.text() == ""
    visit.undo_stack.redo()
    assert _stored(visit)["T-3-1"] == 320 and row.editor.edit.text() == "320"


def test_keyboard_verdicts_tab_and_undo_redo(qtbot, visit):
    from ui.qt import Qt

    visit.goto(f"sec:{_cv(visit)}:T-3", "T-3-2")
    first, second = _row(visit, "T-3-2"), _row(visit, "T-3-3")
    first.editor.setFocus()
    assert first.editor.hasFocus()
    qtbot.keyClick(first.editor, Qt.Key.Key_1)          # 符合
    assert _stored(visit)["T-3-2"] == "pass"
    assert first.editor.buttons["pass"].isChecked()
    qtbot.keyClick(first.editor, Qt.Key.Key_Tab)        # next item
    assert second.editor.hasFocus()
    qtbot.keyClick(second.editor, Qt.Key.Key_2)         # 不符合
    assert _stored(visit)["T-3-3"] == "fail" and second.status == "fail"
    assert visit.current_item == (_cv(visit), "T-3-3")
    qtbot.keyClick(second.editor, Qt.Key.Key_3, Qt.KeyboardModifier.AltModifier)  # Alt+3 = 不适用
    assert _stored(visit)["T-3-3"] == "na"
    qtbot.keyClick(second.editor, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)
    assert _stored(visit)["T-3-3"] == "fail" and second.editor.buttons["fail"].isChecked()
    qtbot.keyClick(second.editor, Qt.Key.Key_Y, Qt.KeyboardModifier.ControlModifier)
    assert _stored(visit)["T-3-3"] == "na"
    # Alt+3 on a number item (its editor has the focus) marks it 不适用 through the shortcut
    area = _row(visit, "T-3-1")
    area.editor.edit.setFocus()
    qtbot.keyClick(area.editor.edit, Qt.Key.Key_3, Qt.KeyboardModifier.AltModifier)
    assert _stored(visit)["T-3-1"] == "na" and area.na_btn.buttons["na"].isChecked()
    assert area.editor.edit.text() == ""
    # a click on the chosen verdict clears it (and that too is saved)
    qtbot.mouseClick(first.editor.buttons["pass"], Qt.MouseButton.LeftButton)
    assert "T-3-2" not in _stored(visit)


def test_teacher_table_computes_verdict(qtbot, visit):
    row = _row(visit, "T-2-1")
    ed = row.editor
    cols = [c.id for c in ed.model.columns]
    qtbot.mouseClick(ed.add_btn, __import__("ui.qt", fromlist=["Qt"]).Qt.MouseButton.LeftButton)
    m = ed.model
    m.setData(m.index(0, cols.index("name")), "张老师")
    assert _stored(visit)["T-2-1"][0]["name"] == "张老师"
    assert row.status == "unanswered" and "未填写完整" in row.feedback.text()
    teacher = {"trade": "电工", "role": "理论", "degree": "本科", "qual": "中级职称", "relevant_bachelor": "是",
               "years": "5", "teacher_cert": "是", "contract": "是"}
    for k, v in teacher.items():
        m.setData(m.index(0, cols.index(k)), v)
    stored = _stored(visit)["T-2-1"]
    assert stored[0]["years"] == 5 and stored[0]["teacher_cert"] is True
    assert row.status == "fail" and "少于 2 名" in row.feedback.text()  # one theory teacher, no practical ones


def test_photos_import_in_background_with_progress(qtbot, visit, tmp_path):
    from inspector.store import photos

    visit.goto(f"sec:{_cv(visit)}:T-3", "T-3-1")
    row = _row(visit, "T-3-1")
    strip = row.photo_strip
    paths = [str(p) for p in write_photos(tmp_path / "pics", 3)]
    with qtbot.waitSignal(strip.imported, timeout=60000) as sig:
        strip.import_files(paths)
        assert not strip.bar.isHidden()  # progress shown while the worker runs
    assert sig.args == [3]
    assert len(photos.list_photos(visit.store, visit.inspection_id, "T-3-1")) == 3
    assert strip.list.count() == 3 and strip.bar.isHidden()
    # print copies for the documents are made in the background right after the import
    pc = visit.print_copies
    assert pc.op is not None
    with qtbot.waitSignal(pc.prepared, timeout=60000) as made:
        pass
    assert made.args == [3]
    from inspector.blobs import BlobStore
    from PIL import Image

    blobs = BlobStore(visit.store.home / "blobs")
    for p in photos.list_photos(visit.store, visit.inspection_id, "T-3-1"):
        pr = visit.store.one("SELECT * FROM print_copies WHERE display_sha256 = ?", (p["display_sha256"],))
        assert pr is not None, p
        with Image.open(blobs.path(pr["print_sha256"])) as im:
            assert max(im.size) <= 1280 and im.size == (pr["width"], pr["height"])
    from inspector.store import documents

    assert documents.prepare_print_copies(visit.store, visit.inspection_id) == 0  # nothing left for the 笔录
    visit.undo_stack.undo()
    assert photos.list_photos(visit.store, visit.inspection_id, "T-3-1") == []
    visit.undo_stack.redo()
    assert strip.list.count() == 3
    # drag and drop a file onto the item
    from PySide6.QtGui import QDropEvent
    from ui.qt import QMimeData, QPointF, Qt, QUrl

    extra = write_photos(tmp_path / "more", 1)[0]
    renamed = extra.with_name("dropped.jpg")
    extra.rename(renamed)
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(renamed))])
    drop = QDropEvent(QPointF(10, 10), Qt.DropAction.CopyAction, mime, Qt.MouseButton.LeftButton,
                      Qt.KeyboardModifier.NoModifier)
    # QApplication delivers Drop only inside a real drag session, so hand the event to the
    # row's drop handler directly (the same code a real drop runs)
    with qtbot.waitSignal(strip.imported, timeout=20000) as sig:
        assert strip.eventFilter(row, drop)
    # write_photos makes the same first picture again: same content on the same item is one photo
    assert sig.args == [0] and strip.list.count() == 3


def test_roster_sample_and_trainee_checks(qtbot, visit, tmp_path):
    from inspector.store import visits
    from ui.qt import Qt

    page = visit.trainee_page
    visit.goto("trainees")
    page.load_roster(str(write_roster(tmp_path / "roster.csv", 40)))
    assert page.draw_btn.isEnabled()
    qtbot.mouseClick(page.draw_btn, Qt.MouseButton.LeftButton)
    checks = visits.list_trainee_checks(visit.store, visit.inspection_id)
    assert len(checks) == 4 and sum(c["selected_for"] == "verify" for c in checks) == 1
    assert page.model.rowCount() == 4
    shown = page.model.data(page.model.index(0, 2))
    assert "*" in shown  # ID numbers masked on screen
    page.table.selectRow(0)
    page.method.setCurrentText("实地")
    page.reached.setChecked(True)
    page.answer_boxes["attended"].setCurrentText("否")
    qtbot.mouseClick(page.save_btn, Qt.MouseButton.LeftButton)
    first = visits.list_trainee_checks(visit.store, visit.inspection_id)[0]
    assert first["method"] == "实地" and first["reached"] == 1 and first["answers"]["attended"] is False
    qtbot.mouseClick(page.draw_btn, Qt.MouseButton.LeftButton)  # a second draw is refused
    assert len(visits.list_trainee_checks(visit.store, visit.inspection_id)) == 4


def test_full_visit_sign_preview_print_finish(qtbot, visit, tmp_path, monkeypatch):
    from PySide6.QtPrintSupport import QPrinter
    from PySide6.QtWidgets import QInputDialog

    from tests.visit_fixtures import passing_answers

    from inspector.store import documents, visits
    from ui.qt import QMessageBox, QPoint, Qt

    # start: IDs shown, rights explained, place
    sp = visit.start_page
    for box in (sp.ids_shown, sp.rights):  # click on the box itself
        qtbot.mouseClick(box, Qt.MouseButton.LeftButton, pos=QPoint(8, box.height() // 2))
    sp.place.setFocus()
    sp.place.insert("教学楼二层")  # what an input method commits (QTest types ASCII only)
    qtbot.keyClick(sp.place, Qt.Key.Key_Return)
    insp = visits.get_inspection(visit.store, visit.inspection_id)
    assert insp.ids_shown and insp.rights_explained and insp.place == "教学楼二层"
    for k, w in sp.pic.items():
        w.setText({"name": "王校长", "position": "校长", "phone": "13800000000"}[k])
    sp._pic_changed()

    # answers: the failing area and a failed check item
    row = _row(visit, "T-3-1")
    qtbot.keyClicks(row.editor.edit, "280")
    _row(visit, "T-3-2").editor.choose("pass")

    # findings drafted from failed items, wording edited
    fp = visit.findings_page
    visit.goto("findings")
    qtbot.mouseClick(fp.draft_btn, Qt.MouseButton.LeftButton)
    fs = visits.list_findings(visit.store, visit.inspection_id)
    assert [f.codes for f in fs] == [["PX-YB-3"]]
    fp.table.selectRow(0)
    assert "培训场地" in fp.codes.text() and "PX-" not in fp.codes.text()  # 新乡 cites its 问题类别, no catalogue
    fp.desc.setPlainText("经现场测量，理论课集中培训面积约 280 平方米。")
    fp.action.setText("扩充理论教学场地至 300 平方米以上")
    qtbot.mouseClick(fp.save_btn, Qt.MouseButton.LeftButton)
    f = visits.list_findings(visit.store, visit.inspection_id)[0]
    assert f.description.startswith("经现场测量") and f.required_action.startswith("扩充")
    fp.result.setCurrentIndex(fp.result.findData("发现问题已责令改正"))
    fp.result.activated.emit(fp.result.currentIndex())
    qtbot.mouseClick(fp.rect_btn, Qt.MouseButton.LeftButton)
    assert len(visits.list_rectifications(visit.store)) == 1

    # signatures with synthetic strokes, after the person in charge has read the record
    sg = visit.sign_page
    _read_record(qtbot, visit)
    for seed, role in enumerate(("inspector1", "inspector2", "person_in_charge")):
        _scrawl(qtbot, sg.boxes[role].pad, seed)
        assert not sg.boxes[role].pad.is_empty()
    pad = sg.boxes["inspector1"].pad
    n = len(pad.strokes())
    qtbot.mouseClick(sg.boxes["inspector1"].undo_btn, Qt.MouseButton.LeftButton)
    assert len(pad.strokes()) == n - 1
    qtbot.mouseClick(sg.boxes["inspector1"].redo_btn, Qt.MouseButton.LeftButton)
    assert len(pad.strokes()) == n
    assert pad.png_bytes().startswith(b"\x89PNG")
    qtbot.mouseClick(sg.save_btn, Qt.MouseButton.LeftButton)
    sigs = documents.signatures(visit.store, visit.inspection_id)
    assert set(sigs) == {"inspector1", "inspector2", "person_in_charge"}
    assert sigs["inspector1"]["strokes"]

    # preview the record (QtPdf) and print it to a PDF file through QPrinter
    dp = visit.docs_page
    visit.goto("docs")
    with qtbot.waitSignal(dp.preview_ready):
        qtbot.mouseClick(dp.make_btn, Qt.MouseButton.LeftButton)
    assert dp.view.document().pageCount() >= 1
    assert "状态：草稿（检查未完成，内容仍可修改）" in dp.state.text()
    out = tmp_path / "printed.pdf"
    printer = QPrinter(QPrinter.PrinterMode.HighResolution)
    printer.setOutputFormat(QPrinter.OutputFormat.PdfFormat)
    printer.setOutputFileName(str(out))
    # the PDF printer's own 1200 dpi: print_pdf renders at most MAX_PRINT_DPI (~6 s a page at 1200)
    from ui.docs_page import MAX_PRINT_DPI

    assert printer.resolution() > MAX_PRINT_DPI
    with qtbot.waitSignal(dp.printed):
        pages = dp.print_to(printer)
    assert pages >= 1 and out.stat().st_size > 10_000
    text = subprocess.run(["pdftotext", str(out), "-"], capture_output=True, text=True, check=True).stdout
    assert "现场检查笔录" in text and visit.inst["name"] in text
    assert documents.get_document(visit.store, dp.doc["id"])["printed_at"]

    # finishing is a check, not a click: the incomplete visit is refused with the list of what is open
    monkeypatch.setattr(QMessageBox, "question", lambda *a, **k: QMessageBox.StandardButton.Yes)
    assert not dp.sign_btn.isEnabled()  # digital signatures only on the finished record
    qtbot.mouseClick(dp.finish_btn, Qt.MouseButton.LeftButton)
    dlg = visit.finish_dialog
    assert dlg is not None and dlg.isVisible()
    assert not visits.get_inspection(visit.store, visit.inspection_id).locked
    lines = [dlg.list.item(i).text() for i in range(dlg.list.count())]
    assert any(t.startswith("3.1 ") and "须附照片证据" in t for t in lines), lines
    # under 新乡 the nine items of 内人社办发 alone are 不适用 by the profile (tests/test_profile_applicability.py)
    na = {it.id for it in visit.checklists[_cv(visit)].items if (it.when or {}).get("reason")}
    assert len(na) == 9 and sum("未作答" in t for t in lines) == 37 - 2 - len(na)
    assert not dlg.finish_btn.isEnabled()
    # Enter on a line jumps to that item
    dlg.list.setCurrentRow(next(i for i, t in enumerate(lines) if t.startswith("5.2 ")))
    qtbot.keyClick(dlg.list, Qt.Key.Key_Return)
    assert not dlg.isVisible() and visit.current_item == (_cv(visit), "T-5-2")
    # the inspector answers every remaining item (T-6-2 否: the online items are skipped by the rule)
    cl = visit.checklists[_cv(visit)]
    for item_id, value in passing_answers(cl).items():
        if _stored(visit).get(item_id) is None and item_id not in ("T-6-3", "T-6-4", "T-6-5"):
            visit.on_answer(_cv(visit), item_id, value)
    # the counts follow within ui.visit.COUNTS_MS (coalesced, not recomputed per keystroke)
    qtbot.waitUntil(lambda: visit.progress.text().startswith("已答 37/37"), timeout=2000)
    # the record changed after signing: read again, sign again (the pads still hold the strokes)
    _read_record(qtbot, visit)
    qtbot.mouseClick(sg.save_btn, Qt.MouseButton.LeftButton)
    # the photo of 3.1 cannot be taken on site: finished with a recorded reason
    qtbot.mouseClick(dp.finish_btn, Qt.MouseButton.LeftButton)
    dlg = visit.finish_dialog
    assert [dlg.list.item(i).text() for i in range(dlg.list.count())] == [
        "3.1 理论课集中培训面积：不符合，须附照片证据"]
    monkeypatch.setattr(QInputDialog, "getText", lambda *a, **k: ("相机故障，无法拍照", True))
    qtbot.mouseClick(dlg.why_btn, Qt.MouseButton.LeftButton)
    assert dlg.finish_btn.isEnabled()
    with qtbot.waitSignal(visit.locked_changed):
        qtbot.mouseClick(dlg.finish_btn, Qt.MouseButton.LeftButton)
    assert visits.get_inspection(visit.store, visit.inspection_id).locked
    assert [o["reason"] for o in visits.finish_overrides(visit.store, visit.inspection_id)] == ["相机故障，无法拍照"]
    assert not row.editor.isEnabled()
    visit.on_answer(_cv(visit), "T-3-1", 400)
    assert "锁定" in visit.last_refusal
    assert _stored(visit)["T-3-1"] == 280 and row.editor.edit.text() == "280"
    assert not sp.place.isEnabled() and visit.amend_btn.isVisible()
    # once locked, both inspectors sign digitally with their own key and passphrase
    from inspector import keys
    from inspector.store import directory

    people = [directory.get_inspector(visit.store, i) for i in visit.insp.inspector_ids[:2]]
    for k, p in enumerate(people):
        keys.create_inspector_key(visit.store.home, p["badge_no"], p["name"], f"pass-phrase-{k}")
    for k, p in enumerate(people):
        answers = iter([(p["badge_no"], True), (f"pass-phrase-{k}", True)])
        monkeypatch.setattr(QInputDialog, "getText", lambda *a, **kw: next(answers))
        qtbot.mouseClick(dp.sign_btn, Qt.MouseButton.LeftButton)
    assert dp.doc["status"] == "signed" and "已签署" in dp.state.text(), dp.state.text()

    # an amendment is a new draft revision with the answers copied
    with qtbot.waitSignal(visit.open_inspection) as sig:
        qtbot.mouseClick(visit.amend_btn, Qt.MouseButton.LeftButton)
    new = visits.get_inspection(visit.store, sig.args[0])
    assert new.revision == 2 and new.replaces_id == visit.inspection_id


def test_refusal_to_sign_needs_reason_and_witness(qtbot, visit):
    from inspector.store import documents
    from ui.qt import Qt

    sg = visit.sign_page
    _read_record(qtbot, visit)
    _scrawl(qtbot, sg.boxes["inspector1"].pad, 1)
    _scrawl(qtbot, sg.boxes["inspector2"].pad, 2)
    sg.refused.setChecked(True)
    assert not sg.boxes["person_in_charge"].isEnabled()
    qtbot.mouseClick(sg.save_btn, Qt.MouseButton.LeftButton)
    assert "见证人" in visit.last_refusal
    sg.reason.setText("负责人称需请示上级")
    sg.witness.setText("李见证")
    _scrawl(qtbot, sg.witness_box.pad, 3)
    qtbot.mouseClick(sg.save_btn, Qt.MouseButton.LeftButton)
    sigs = documents.signatures(visit.store, visit.inspection_id)
    assert sigs["person_in_charge"]["refused"] and sigs["person_in_charge"]["refusal_reason"]
    assert sigs["witness"]["signer_name"] == "李见证"


def test_finding_edits_autosave_without_the_save_button(qtbot, window, visit):
    """Typing into a finding's text and 整改要求 is on disk after a pause, and at once when the
    visit is closed — 保存修改 is not needed (nothing typed is lost)."""
    from inspector import visit_state
    from inspector.store import visits

    cv = _cv(visit)
    visit.on_answer(cv, "T-3-1", 280)
    [d] = visit_state.draft_findings(visit.store, visit.inspection_id)
    fid = visits.add_finding(visit.store, visit.inspection_id, **d)
    fp = visit.findings_page
    visit.goto("findings")
    fp.table.selectRow(0)
    fp.action.setFocus()
    qtbot.keyClicks(fp.action, "300 m2")
    qtbot.waitUntil(lambda: visits.get_finding(visit.store, fid).required_action == "300 m2", timeout=3000)
    fp.desc.setFocus()
    fp.desc.moveCursor(fp.desc.textCursor().MoveOperation.End)
    qtbot.keyClicks(fp.desc, " (ok)")
    store = visit.store
    window.close_visit(remember=False)  # closed before the pause: flushed on the way out
    assert visits.get_finding(store, fid).description.endswith("(ok)")
    assert visits.get_finding(store, fid).required_action == "300 m2"


def test_skip_rule_shows_not_applicable_and_counts_as_answered(qtbot, window, store):
    from inspector import profiles

    profiles.apply(store, "neimenggu")  # T-6 (内人社办发〔2023〕119号) is inspected there: the checklist's own rule
    visit = window.open_visit(start_training_visit(store))
    cv = _cv(visit)
    visit.goto(f"sec:{cv}:T-6", "T-6-2")
    before = visit.nav.currentItem().text()
    assert "（0/9）" in before
    visit.on_answer(cv, "T-6-2", "否")
    for k in ("T-6-3", "T-6-4", "T-6-5"):
        row = _row(visit, k)
        assert not row.editor.isEnabled() and "“是否开展线上培训”为“否”" in row.feedback.text()
        assert "T-6-2" not in row.feedback.text()
    # T-6-2 and the three skipped items; the counts follow within ui.visit.COUNTS_MS
    qtbot.waitUntil(lambda: "（4/9）" in visit.nav.currentItem().text(), timeout=2000)
    visit.on_answer(cv, "T-6-2", "是")
    assert _row(visit, "T-6-3").editor.isEnabled()  # the skip rule itself applies at once
    qtbot.waitUntil(lambda: "（1/9）" in visit.nav.currentItem().text(), timeout=2000)
