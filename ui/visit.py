"""One visit on screen: steps on the left (开始, each checklist section, 学员核查, 问题与整改, 签名,
文书), the page on the right, undo/redo for every verb, position saved as the inspector moves.

Every answer is validated before the handler returns and written by ``visits.set_answer`` on
the visit's background writer (inspector/store/writer.py: its own connection and thread, so the
fsync never blocks typing; a kill loses at most the keystroke in flight); the place on screen goes
to ``visits.save_ui_state`` the same way so a crash or kill reopens right here. Whatever reads
the store (pages, the finish check, documents) calls ``sync()`` first: read-your-writes.
"""
from __future__ import annotations

import logging
import sqlite3
from typing import Any

from inspector import visit_state
from inspector.errors import InspectorError
from inspector.store import Store, visits
from inspector.store.writer import StoreWriter
from ui import commands, core
from ui.items import ItemRow
from ui.qt import (
    QDialog, QFrame, QHBoxLayout, QKeySequence, QLabel, QListWidget, QListWidgetItem,
    QMessageBox, QPushButton, QScrollArea, QShortcut, QSizePolicy, QSplitter, QStackedWidget, Qt, QTimer, QUndoStack,
    QVBoxLayout, QWidget, Signal, QColor, QBrush, RED, GREEN, GREY,
)
from PySide6.QtWidgets import QInputDialog

# Problems of the finish check the inspector may finish anyway, with a recorded reason: what
# truly cannot be done on site (an item that cannot be checked, a photo that cannot be taken).
# Signatures, 出示证件/告知, findings and 检查结果 must be put right instead.
OVERRIDABLE = ("unanswered", "photo")

# Section counts and the progress figure lag an answer by at most this (ms): recomputing them on
# every keystroke (item states, a photo-count query, every step's label) blocked typing.
COUNTS_MS = 100


class FinishDialog(QDialog):
    """What stands between the draft and 完成检查并锁定; Enter/double-click jumps to the line."""

    def __init__(self, visit: "VisitWidget", problems: list[visit_state.Problem]):
        super().__init__(visit)
        self.visit, self.problems = visit, problems
        self.overrides: dict[str, str] = {}
        self.setWindowTitle("完成检查前还需处理")
        self.setMinimumSize(620, 380)
        lay = QVBoxLayout(self)
        self.head = QLabel(f"以下 {len(problems)} 项未完成，处理后才能完成检查并锁定。"
                           "选中一行按回车（或双击）转到该处。", self)
        self.head.setWordWrap(True)
        lay.addWidget(self.head)
        self.list = QListWidget(self)
        for p in problems:
            it = QListWidgetItem(p.message)
            it.setData(Qt.ItemDataRole.UserRole, p.key)
            it.setForeground(QBrush(QColor(RED)))
            self.list.addItem(it)
        self.list.setCurrentRow(0)
        self.list.itemActivated.connect(self.jump)
        self.list.currentRowChanged.connect(lambda _r: self._update())
        lay.addWidget(self.list, 1)
        bar = QHBoxLayout()
        self.go_btn = QPushButton("转到", self)
        self.go_btn.setDefault(True)
        self.go_btn.clicked.connect(lambda: self.jump(self.list.currentItem()))
        self.why_btn = QPushButton("无法现场完成，记录原因…", self)
        self.why_btn.setToolTip("仅限确实无法在现场作答或拍照的检查项；原因写入审计记录")
        self.why_btn.clicked.connect(self.record_reason)
        self.finish_btn = QPushButton("完成并锁定", self)
        self.finish_btn.clicked.connect(self.finish)
        close = QPushButton("关闭", self)
        close.clicked.connect(self.reject)
        for b in (self.why_btn, self.finish_btn, close):
            b.setAutoDefault(False)  # Enter in the list jumps; it never records a reason or finishes
        for b in (self.go_btn, self.why_btn):
            bar.addWidget(b)
        bar.addStretch(1)
        bar.addWidget(self.finish_btn)
        bar.addWidget(close)
        lay.addLayout(bar)
        self._update()

    def current(self) -> visit_state.Problem | None:
        it = self.list.currentItem()
        key = it.data(Qt.ItemDataRole.UserRole) if it else None
        return next((p for p in self.problems if p.key == key), None)

    def _update(self) -> None:
        p = self.current()
        self.why_btn.setEnabled(p is not None and p.kind in OVERRIDABLE)
        self.finish_btn.setEnabled(all(self.overrides.get(p.key) for p in self.problems))

    def jump(self, it: QListWidgetItem | None) -> None:
        key = it.data(Qt.ItemDataRole.UserRole) if it else None
        p = next((p for p in self.problems if p.key == key), None)
        if p is not None:
            self.accept()
            self.visit.goto_problem(p)

    def record_reason(self) -> None:
        p = self.current()
        if p is None or p.kind not in OVERRIDABLE:
            return
        text, ok = QInputDialog.getText(self, "无法现场完成", f"{p.message}\n\n无法现场完成的原因（将写入审计记录）：")
        if not ok or not text.strip():
            return
        self.overrides[p.key] = text.strip()
        it = self.list.currentItem()
        it.setText(f"{p.message}　〔原因：{text.strip()}〕")
        it.setForeground(QBrush(QColor(GREY)))
        self._update()

    def finish(self) -> None:
        self.accept()
        self.visit.finish(overrides=dict(self.overrides), confirmed=False)



class ElidedLabel(QLabel):
    """One line of plain text that shrinks with its window, ending in … (the full text as tooltip)."""

    def __init__(self, text: str, parent: QWidget | None = None):
        super().__init__(text, parent)
        self.setToolTip(text)
        self.setTextFormat(Qt.TextFormat.PlainText)
        self.setMinimumWidth(40)
        self.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)

    def minimumSizeHint(self) -> Any:
        h = super().minimumSizeHint()
        h.setWidth(40)
        return h

    def paintEvent(self, e: Any) -> None:
        from ui.qt import QPainter

        p = QPainter(self)
        r = self.contentsRect()
        p.setPen(self.palette().color(self.foregroundRole()))
        p.drawText(r, int(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter),
                   self.fontMetrics().elidedText(self.text(), Qt.TextElideMode.ElideRight, r.width()))
        p.end()


class SectionPage(QScrollArea):
    """A checklist section: its items one under the other; Tab walks them in order."""

    def __init__(self, visit: "VisitWidget", cv_id: str, checklist: Any, section: Any, number: int):
        super().__init__(visit)
        self.cv_id, self.checklist, self.section = cv_id, checklist, section
        self.setWidgetResizable(True)
        self.setFrameShape(QFrame.Shape.NoFrame)
        # a wide item (a tick list, a table) scrolls sideways rather than being cut off at 150 %
        self.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAsNeeded)
        body = QWidget(self)
        lay = QVBoxLayout(body)
        lay.setContentsMargins(12, 8, 12, 12)
        lay.setSpacing(6)
        head = QLabel(f"{checklist.title} · {section.title}", body)
        head.setObjectName("title")
        lay.addWidget(head)
        keys = QLabel("键盘：Tab 下一项　1 / 2 / 3 或 Alt+1 / 2 / 3 = 符合 / 不符合 / 不适用　选项按数字键　"
                      "Ctrl+PgDn 下一步　Ctrl+Z 撤销　Ctrl+Y 重做　每次修改立即保存", body)
        keys.setWordWrap(True)
        keys.setObjectName("subtitle")
        lay.addWidget(keys)
        self.rows: dict[str, ItemRow] = {}
        for k, item in enumerate(section.items, start=1):
            row = ItemRow(item, f"{number}.{k}", body,
                          cite=lambda i, b, c: core.cited_labels(visit.store, i, b, c))
            row.answered.connect(lambda iid, v, cv=cv_id: visit.on_answer(cv, iid, v))
            if hasattr(row, "noted"):
                row.noted.connect(lambda iid, t, cv=cv_id: visit.on_note(cv, iid, t))
            row.editor.installEventFilter(visit)
            for w in row.findChildren(QWidget):
                w.installEventFilter(visit)
            self.rows[item.id] = row
            lay.addWidget(row)
        lay.addStretch(1)
        self.setWidget(body)


class VisitWidget(QWidget):
    """The visit screen for one inspection."""

    answered = Signal(str, str, object)     # cv_id, item_id, value — after it is on disk
    locked_changed = Signal(bool)
    open_inspection = Signal(str)            # an amendment opened a new revision
    closed = Signal()
    message = Signal(str)
    write_failed = Signal(object, str)       # the writer's job key, why (emitted from its thread)

    def __init__(self, store: Store, inspection_id: str, *, actor: str | None = None,
                 parent: QWidget | None = None):
        super().__init__(parent)
        self.store, self.inspection_id, self.actor = store, inspection_id, actor
        self.insp = visits.get_inspection(store, inspection_id)
        self.undo_stack = QUndoStack(self)
        self.answers: dict[str, dict[str, Any]] = visits.get_answers(store, inspection_id)
        self.rows: dict[tuple[str, str], ItemRow] = {}
        self.pages: dict[str, QWidget] = {}
        self.current_item: tuple[str, str] | None = None
        self.finish_dialog: FinishDialog | None = None
        self._restoring = False
        self._save_timer = QTimer(self)
        self._save_timer.setSingleShot(True)
        self._save_timer.setInterval(300)
        self._save_timer.timeout.connect(lambda: self.save_position(wait=False))
        # section counts and the progress figure: recomputed at most once per COUNTS_MS while
        # typing (a throttle, not a debounce: fresh within COUNTS_MS even during a long entry)
        self._counts_timer = QTimer(self)
        self._counts_timer.setSingleShot(True)
        self._counts_timer.setInterval(COUNTS_MS)
        self._counts_timer.timeout.connect(self._deferred_counts)
        self.write_failed.connect(self._write_failed)
        self.writer = StoreWriter(store.path, on_error=lambda key, e: self.write_failed.emit(key, str(e)),
                                  name=f"writer-{inspection_id[:8]}", reader=store)
        self.destroyed.connect(self.writer.close)
        self._build()
        self._rebuild_sections()
        self._apply_lock()

    # -- layout -------------------------------------------------------------------------
    def _build(self) -> None:
        from ui import visit_pages as vp

        outer = QVBoxLayout(self)
        outer.setContentsMargins(0, 0, 0, 0)
        outer.setSpacing(0)
        header = QFrame(self)
        header.setObjectName("card")
        hl = QHBoxLayout(header)
        hl.setContentsMargins(12, 6, 12, 6)
        inst = core.institution(self.store, self.insp.institution_id)
        self.inst = inst
        # name over code/county, both elided when the window is narrow (1366×768 at 150 %): the
        # buttons on the right always keep their room
        names = QVBoxLayout()
        names.setSpacing(0)
        self.title = ElidedLabel(f"{inst['name']}", header)
        self.title.setObjectName("title")
        names.addWidget(self.title)
        self.sub = ElidedLabel(f"{inst.get('credit_code', '')}　{inst.get('county', '')}　第 {self.insp.revision} 版",
                               header)
        self.sub.setObjectName("subtitle")
        names.addWidget(self.sub)
        hl.addLayout(names, 1)
        self.progress = QLabel("", header)
        hl.addWidget(self.progress)
        self.badge = QLabel("", header)
        hl.addWidget(self.badge)
        self.undo_btn = QPushButton("撤销", header)
        self.redo_btn = QPushButton("重做", header)
        self.undo_btn.setToolTip("Ctrl+Z")
        self.redo_btn.setToolTip("Ctrl+Y")
        self.undo_btn.clicked.connect(self.undo_stack.undo)
        self.redo_btn.clicked.connect(self.undo_stack.redo)
        self.undo_stack.canUndoChanged.connect(self.undo_btn.setEnabled)
        self.undo_stack.canRedoChanged.connect(self.redo_btn.setEnabled)
        self.undo_btn.setEnabled(False)
        self.redo_btn.setEnabled(False)
        for b in (self.undo_btn, self.redo_btn):
            b.setFocusPolicy(Qt.FocusPolicy.NoFocus)
            hl.addWidget(b)
        self.amend_btn = QPushButton("创建修订版", header)
        self.amend_btn.clicked.connect(self.amend)
        hl.addWidget(self.amend_btn)
        self.close_btn = QPushButton("返回列表", header)
        self.close_btn.clicked.connect(self.closed.emit)
        hl.addWidget(self.close_btn)
        outer.addWidget(header)

        split = QSplitter(Qt.Orientation.Horizontal, self)
        self.nav = QListWidget(split)
        self.nav.setObjectName("steps")
        self.nav.setMinimumWidth(220)
        self.nav.setMaximumWidth(300)
        self.nav.setStyleSheet("QListWidget#steps { background: white; border: none; border-right: 1px solid "
                               "#e3e6ea; } QListWidget#steps::item { padding: 6px 6px; } "
                               "QListWidget#steps::item:selected { background: #d6e6f8; color: black; }")
        self.stack = QStackedWidget(split)
        split.addWidget(self.nav)
        split.addWidget(self.stack)
        split.setStretchFactor(1, 1)
        split.setSizes([240, 1100])
        outer.addWidget(split, 1)
        self.nav.currentRowChanged.connect(self._nav_changed)

        self.start_page = vp.StartPage(self)
        self.trainee_page = vp.TraineePage(self)
        self.findings_page = vp.FindingsPage(self)
        self.sign_page = vp.SignPage(self)
        self.docs_page = vp.DocsPage(self)

        # shortcuts: undo/redo; Alt+1/2/3 = 符合/不符合/不适用 on the current item
        for seq, fn in ((QKeySequence("Ctrl+Z"), self.undo_stack.undo),
                        (QKeySequence("Ctrl+Y"), self.undo_stack.redo),
                        (QKeySequence("Ctrl+Shift+Z"), self.undo_stack.redo)):
            sc = QShortcut(seq, self)
            sc.setContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
            sc.activated.connect(fn)
        # Ctrl+PgDn / Ctrl+PgUp: the next / previous step, the keyboard on its first field
        for keys, step in (("Ctrl+PgDown", 1), ("Ctrl+PgUp", -1)):
            sc = QShortcut(QKeySequence(keys), self)
            sc.setContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
            sc.activated.connect(lambda d=step: self.step(d))
        for n, key in ((1, "pass"), (2, "fail"), (3, "na")):
            sc = QShortcut(QKeySequence(f"Alt+{n}"), self)
            sc.setContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
            sc.activated.connect(lambda k=key: self.verdict_shortcut(k))

    def _add_page(self, key: str, label: str, page: QWidget | None) -> None:
        if page is not None:
            self.pages[key] = page
            self.stack.addWidget(page)
        it = QListWidgetItem(label)
        it.setData(Qt.ItemDataRole.UserRole, key)
        self.nav.addItem(it)

    def _rebuild_sections(self) -> None:
        """(Re)build the page list from the inspection's checklist versions."""
        current = self.current_page_key()
        self.nav.blockSignals(True)
        self.nav.clear()
        while self.stack.count():
            w = self.stack.widget(0)
            if w is None:
                break
            self.stack.removeWidget(w)
            if isinstance(w, SectionPage):
                w.deleteLater()
        self.pages.clear()
        self.rows.clear()
        self.sections: dict[str, tuple[str, Any, Any, int]] = {}
        self._add_page("start", "① 开始检查", self.start_page)
        self.checklists: dict[str, Any] = {}
        n = 0
        for cv in self.insp.checklist_version_ids:
            try:
                cl = core.load_version(self.store, cv)
            except InspectorError as e:  # said on screen and logged; the visit's other checklists stay usable
                logging.getLogger(__name__).warning("checklist %s of %s does not load: %s", cv, self.inspection_id, e)
                self.message.emit(f"无法载入检查表 {cv}：{e}")
                continue
            self.checklists[cv] = cl
            head = QListWidgetItem(cl.title)
            head.setFlags(Qt.ItemFlag.NoItemFlags)
            head.setForeground(QBrush(QColor(GREY)))
            self.nav.addItem(head)
            for sec in cl.sections:
                n += 1
                key = f"sec:{cv}:{sec.id}"
                self.sections[key] = (cv, cl, sec, n)
                self._add_page(key, f"　{n}. {sec.title}", None)  # built when first shown
        self._add_page("trainees", "② 学员抽查核实", self.trainee_page)
        self._add_page("findings", "③ 问题与整改", self.findings_page)
        self._add_page("sign", "④ 签名", self.sign_page)
        self._add_page("docs", "⑤ 文书、打印与完成", self.docs_page)
        self.nav.blockSignals(False)
        self.refresh_counts()
        self.goto(current or "start")
        self._apply_lock()

    def page_for(self, key: str) -> QWidget | None:
        """The page for a nav key; checklist sections are built on first use (fast visit opening)."""
        if key in self.pages or key not in self.sections:
            return self.pages.get(key)
        cv, cl, sec, n = self.sections[key]
        page = SectionPage(self, cv, cl, sec, n)
        from ui.photos import PhotoStrip

        self.sync()  # notes queued on the writer are read back
        notes = visits.get_notes(self.store, self.inspection_id)
        for iid, row in page.rows.items():
            self.rows[(cv, iid)] = row
            row.set_value(self.answers.get(cv, {}).get(iid))
            if hasattr(row, "set_note"):
                row.set_note(notes.get((cv, iid)))
            strip = PhotoStrip(self, cv, iid, row)
            row.photos_slot.addWidget(strip)
            row.photo_strip = strip  # type: ignore[attr-defined]
            row.set_locked(self.insp.locked)
        if any(r.item.when for r in page.rows.values()):
            self._apply_skips(cv)
        self.pages[key] = page
        self.stack.addWidget(page)
        return page

    def row(self, cv: str, item_id: str) -> ItemRow:
        """The row widget of an item (building its section page if needed)."""
        if (cv, item_id) not in self.rows:
            sec_id = self.checklists[cv].item(item_id).section_id
            self.page_for(f"sec:{cv}:{sec_id}")
        return self.rows[(cv, item_id)]

    # -- navigation and position ---------------------------------------------------------------
    def current_page_key(self) -> str | None:
        it = self.nav.currentItem()
        return it.data(Qt.ItemDataRole.UserRole) if it else None

    def goto(self, key: str, item_id: str | None = None) -> None:
        for i in range(self.nav.count()):
            if self.nav.item(i).data(Qt.ItemDataRole.UserRole) == key:
                self.nav.setCurrentRow(i)
                break
        if not key.startswith("sec:"):
            page = self.pages.get(key)
            if page is not None and hasattr(page, "focus_first") and not self.nav.hasFocus():
                page.focus_first()  # the keyboard carries on on the page (not while browsing the steps)
        if item_id and key.startswith("sec:"):
            cv = key.split(":")[1]
            row = self.row(cv, item_id) if cv in self.checklists else None
            if row:
                page = self.pages[key]
                if isinstance(page, QScrollArea):
                    page.ensureWidgetVisible(row, 50, 80)
                row.editor.setFocus(Qt.FocusReason.OtherFocusReason)
                self.set_current((cv, item_id))

    def step(self, delta: int) -> None:
        """The next (``delta`` 1) or previous (-1) step of the visit, as listed on the left."""
        keys = [self.nav.item(i).data(Qt.ItemDataRole.UserRole) for i in range(self.nav.count())]
        keys = [k for k in keys if k]
        cur = self.current_page_key()
        i = keys.index(cur) + delta if cur in keys else 0
        if not 0 <= i < len(keys):
            return
        key = keys[i]
        if key in self.sections:
            sec = self.sections[key][2]
            self.goto(key, sec.items[0].id if sec.items else None)
        else:
            self.goto(key)

    def _nav_changed(self, row: int) -> None:
        it = self.nav.item(row)
        if not it:
            return
        key = it.data(Qt.ItemDataRole.UserRole)
        page = self.page_for(key)
        if page is None:
            return
        self.stack.setCurrentWidget(page)
        self.sync()  # the page reads the store: the answers just typed must be there
        if hasattr(page, "shown"):
            page.shown()
        self._schedule_save()

    def eventFilter(self, obj: Any, event: Any) -> bool:
        if event.type() == event.Type.FocusIn:
            w = obj
            while w is not None and not isinstance(w, ItemRow):
                w = w.parentWidget()
            if isinstance(w, ItemRow):
                for key, row in self.rows.items():
                    if row is w:
                        if self.current_item != key:
                            self.set_current(key)
                            self._schedule_save()
                        break
        return False

    def set_current(self, key: tuple[str, str]) -> None:
        if key == self.current_item:
            return  # every keystroke lands here: no repolish of a row already marked
        old = self.rows.get(self.current_item) if self.current_item else None
        if old is not None:
            old.set_current(False)
        self.current_item = key
        if key in self.rows:
            self.rows[key].set_current(True)

    def position(self) -> dict[str, Any]:
        pos: dict[str, Any] = {"page": self.current_page_key()}
        if self.current_item:
            pos["checklist_version_id"], pos["item"] = self.current_item
        sig = self.sign_page.strokes_state()
        if sig:
            pos["signatures"] = sig
        return pos

    def _schedule_save(self) -> None:
        if not self._restoring:
            self._save_timer.start()

    def sync(self) -> None:
        """Wait until every queued write is on disk (before reading the store or writing directly)."""
        if not self.writer.flush():
            self.message.emit("数据写入磁盘超时，请检查磁盘空间后重试")

    def _write_failed(self, key: Any, why: str) -> None:
        """A background write was refused: say so and show what the store holds."""
        self.refuse(f"未能保存：{why}")
        if isinstance(key, tuple) and key and key[0] == "answer":
            _k, cv, item_id = key
            self.writer.flush()
            stored = visits.get_answers(self.store, self.inspection_id, cv).get(cv, {}).get(item_id)
            self.answer_written(cv, item_id, stored)

    def save_position(self, wait: bool = True) -> None:
        """Where the inspector is (page, item, unfinished signatures): restored after a crash.
        Written by the background writer; ``wait`` (closing the visit or the app) until on disk."""
        self._save_timer.stop()
        try:
            self.findings_page.flush()  # a finding being edited is saved too (autosave)
            iid, pos = self.inspection_id, self.position()
            self.writer.submit(("ui_state",), lambda s: visits.save_ui_state(s, iid, pos))
            if wait:
                self.sync()
        except InspectorError as e:
            self.message.emit(str(e))
        except sqlite3.ProgrammingError:  # store already closed (app shutting down)
            pass

    def restore_position(self) -> None:
        st = visits.get_inspection(self.store, self.inspection_id).ui_state or {}
        self._restoring = True
        try:
            if st.get("signatures"):
                self.sign_page.restore_strokes(st["signatures"])
            page = st.get("page") or "start"
            self.goto(page, st.get("item") if st.get("checklist_version_id") else None)
            if st.get("item") and st.get("checklist_version_id"):
                self.goto(page, st["item"])
        finally:
            self._restoring = False

    # -- answering ------------------------------------------------------------------------
    def on_answer(self, cv: str, item_id: str, value: Any) -> None:
        """A user edit from an item row: one undoable, durable write."""
        row = self.rows.get((cv, item_id))
        old = self.answers.get(cv, {}).get(item_id)
        if self.insp.locked:
            if row:
                row.set_value(old)
            self.refuse("检查已完成并锁定，不能修改；如需更正请创建修订版本。")
            return
        if old == value:
            return
        typing = bool(row and row.item.type in ("number", "count", "text"))
        cmd = commands.SetAnswer(self, cv, item_id, old, value, typing=typing,
                                 label=row.item.text[:12] if row else item_id)
        self.undo_stack.push(cmd)
        if cmd.error:
            if row:
                row.set_value(old)
            self.refuse(str(cmd.error))
        self.set_current((cv, item_id))
        self._schedule_save()

    def answer_written(self, cv: str, item_id: str, value: Any) -> None:
        """Called by the command once the value is on disk (also on undo/redo)."""
        if value is None:
            self.answers.get(cv, {}).pop(item_id, None)
        else:
            self.answers.setdefault(cv, {})[item_id] = value
        row = self.rows.get((cv, item_id))
        if row and row.value() != value:
            row.set_value(value)
        self.schedule_counts()
        cl = self.checklists.get(cv)
        if cl is not None and any(it.when and it.when.get("item") == item_id for it in cl.items):
            self._apply_skips(cv)  # only an answer some ``when`` rule depends on changes what is skipped
        self.answered.emit(cv, item_id, value)

    def answer(self, cv: str, item_id: str) -> Any:
        return self.answers.get(cv, {}).get(item_id)

    def verdict_shortcut(self, key: str) -> None:
        if self.current_item and self.current_item in self.rows:
            self.rows[self.current_item].choose(key)

    def states(self, cv: str) -> list[visit_state.ItemState]:
        """The core's view of one checklist: statuses with skip rules, valid answers only."""
        cl = self.checklists.get(cv)
        if cl is None:
            return []
        return visit_state.item_states(cl, self.answers.get(cv, {}), self._photo_counts(),
                                       checklist_version_id=cv, institution_kind=self.inst.get("kind"))

    def _photo_counts(self) -> dict[str, int]:
        try:
            return visit_state.photo_counts(self.store, self.inspection_id)
        except InspectorError:
            return {}

    def schedule_counts(self) -> None:
        """Section counts and progress after an answer: within COUNTS_MS, once for a burst of keys."""
        if not self._counts_timer.isActive():
            self._counts_timer.start()

    def _deferred_counts(self) -> None:
        try:
            self.refresh_counts()
        except sqlite3.ProgrammingError:  # store already closed (app shutting down): nothing to show
            logging.getLogger(__name__).debug("section counts skipped: store closed")

    def refresh_counts(self, only_cv: str | None = None) -> None:
        """Per-section figures from the core (``visit_state.progress``): only valid answers count,
        an item skipped by the checklist's rule counts as 不适用. Labels are set only when they
        change (each set repaints the step list)."""
        self._counts_timer.stop()
        total = answered = fails = 0
        states = {cv: self.states(cv) for cv in self.checklists}
        for i in range(self.nav.count()):
            it = self.nav.item(i)
            key = it.data(Qt.ItemDataRole.UserRole) or ""
            if not key.startswith("sec:"):
                continue
            cv, _cl, sec, _n = self.sections[key]
            pr = visit_state.progress(states.get(cv, []), sec.id)
            total, answered, fails = total + pr.total, answered + pr.answered, fails + pr.failed
            old = it.text()
            text = f"{old.split('（')[0]}（{pr.answered}/{pr.total}）" + (f" ✗{pr.failed}" if pr.failed else "")
            if text != old:
                it.setText(text)
            colour = QColor(RED if pr.failed else (GREEN if pr.answered == pr.total else "#1f2d3d"))
            if it.foreground().color() != colour:
                it.setForeground(QBrush(colour))
        text = f"已答 {answered}/{total}　不符合 <b style='color:{RED}'>{fails}</b>　"
        if self.progress.text() != text:
            self.progress.setText(text)

    def _apply_skips(self, cv: str) -> None:
        """Rows the checklist's ``when`` rule makes 不适用 show it (and the rule) instead of an editor."""
        for st in self.states(cv):
            row = self.rows.get((cv, st.item.id))
            if row is not None and st.item.when:
                self._show_skip(row, st.reason if st.skipped else None)

    def _show_skip(self, row: ItemRow, reason: str | None) -> None:
        if hasattr(row, "set_skipped"):  # the row's own presentation, when it has one
            row.set_skipped(reason)
            return
        from ui.qt import prop, set_prop

        was = bool(prop(row, "skipped"))
        set_prop(row, "skipped", reason is not None)
        for w in (row.editor, getattr(row, "na_btn", None)):
            if w is not None:
                w.setEnabled(reason is None)
        if reason is not None:
            row.feedback.setText(f"— {reason}")
            row.feedback.setStyleSheet(f"color:{GREY}")
            row.feedback.show()
        elif was:
            row.set_value(row.value())  # back to its own verdict

    def on_note(self, cv: str, item_id: str, text: str) -> None:
        """The item's note, per keystroke: written by the background writer like an answer (its
        fsync never blocks typing; a kill loses at most the keystroke in flight)."""
        if self.insp.locked:
            self.refuse("检查已完成并锁定，不能修改；如需更正请创建修订版本。")
            return
        iid, actor = self.inspection_id, self.actor
        try:
            self.writer.submit(("note", cv, item_id),
                               lambda s: visits.set_note(s, iid, cv, item_id, text, actor=actor))
        except RuntimeError as e:  # the writer is closed: the visit is closing
            self.refuse(f"未能保存备注：{e}")

    # -- inspection fields, findings ---------------------------------------------------------------
    def update_fields(self, label: str, **new: Any) -> bool:
        if self.insp.locked:
            self.refuse("检查已完成并锁定，不能修改。")
            return False
        old = {k: getattr(self.insp, k) for k in new}
        if old == new:
            return True
        self.sync()
        cmd = commands.UpdateInspection(self, old, new, label)
        self.undo_stack.push(cmd)
        if cmd.error:
            self.refuse(str(cmd.error))
            return False
        return True

    def inspection_written(self, fields: dict[str, Any]) -> None:
        self.insp = visits.get_inspection(self.store, self.inspection_id)
        self.start_page.load()
        if "checklist_version_ids" in fields:
            self._rebuild_sections()

    def findings_written(self) -> None:
        self.findings_page.reload()

    def push(self, cmd: commands.CoreCommand) -> bool:
        if self.insp.locked:
            self.refuse("检查已完成并锁定，不能修改。")
            return False
        self.sync()
        self.undo_stack.push(cmd)
        if cmd.error:
            self.refuse(str(cmd.error))
            return False
        return True

    def refuse(self, text: str) -> None:
        self.message.emit(text)
        self.last_refusal = text

    # -- finishing ------------------------------------------------------------------------
    def problems(self) -> list[visit_state.Problem]:
        self.findings_page.flush()
        self.sync()
        return visit_state.visit_problems(self.store, self.inspection_id)

    def request_finish(self) -> None:
        """完成检查并锁定: the finish check first; the problem list while anything is open."""
        if self.insp.locked:
            return
        problems = self.problems()
        if problems:
            self.show_problems(problems)
            return
        self.finish()

    def show_problems(self, problems: list[visit_state.Problem]) -> None:
        if self.finish_dialog is not None:
            self.finish_dialog.close()
            self.finish_dialog.deleteLater()
        self.finish_dialog = FinishDialog(self, problems)
        self.finish_dialog.open()  # window-modal, does not block the event loop
        self.finish_dialog.list.setFocus()
        self.message.emit(f"尚有 {len(problems)} 项未完成，不能完成检查")
        self.last_refusal = f"尚有 {len(problems)} 项未完成"

    def goto_problem(self, p: visit_state.Problem) -> None:
        if p.checklist_version_id and p.item_id and p.page.startswith("sec:"):
            self.goto(p.page, p.item_id)
            return
        self.goto(p.page)
        if p.finding_id:
            self.findings_page.select_finding(p.finding_id)

    def finish(self, overrides: dict[str, str] | None = None, *, confirmed: bool = False) -> None:
        if not confirmed and QMessageBox.question(
                self, "完成检查", "完成后本次检查将锁定，不能再修改（更正须创建修订版）。确定完成？") \
                != QMessageBox.StandardButton.Yes:
            return
        self.sync()
        try:
            visits.finish_inspection(self.store, self.inspection_id, actor=self.actor, overrides=overrides)
        except visits.VisitIncomplete as e:
            self.show_problems(e.items)
            return
        except InspectorError as e:
            self.refuse(str(e))
            return
        self.insp = visits.get_inspection(self.store, self.inspection_id)
        self.undo_stack.clear()
        self._apply_lock()
        self.message.emit("检查已完成并锁定。")

    def amend(self) -> None:
        self.sync()
        nid = visits.amend_inspection(self.store, self.inspection_id, actor=self.actor)
        self.open_inspection.emit(nid)

    def _apply_lock(self) -> None:
        locked = self.insp.locked
        for row in self.rows.values():
            row.set_locked(locked)
        for p in (self.start_page, self.trainee_page, self.findings_page, self.sign_page, self.docs_page):
            p.set_locked(locked)
        self.badge.setText(" 已完成·锁定 " if locked else " 草稿·自动保存 ")
        self.badge.setStyleSheet(f"color:white; background:{GREY if locked else GREEN}; border-radius:3px;"
                                 " padding:2px 6px;")
        self.amend_btn.setVisible(locked)
        self.locked_changed.emit(locked)
