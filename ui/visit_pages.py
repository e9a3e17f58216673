"""The non-checklist pages of a visit: 开始, 学员核查, 问题与整改, 签名, 文书."""
from __future__ import annotations

import logging
from typing import Any

from inspector import visit_state
from inspector.errors import InspectorError, NotFound
from inspector.store import visits
from ui import commands, core
from ui.models import Col, ListModel
from ui.qt import (
    QAbstractItemView, QCheckBox, QComboBox, QDate, QDateEdit, QDoubleSpinBox, QFileDialog, QFormLayout, QFrame,
    QGridLayout, QGroupBox, QHBoxLayout, QHeaderView, QLabel, QLineEdit, QListWidget, QListWidgetItem,
    QPlainTextEdit, QPushButton, QScrollArea, QSpinBox, QTableView, Qt, QTimer, QVBoxLayout, QWidget,
    GREY, RED, prop, set_prop,
)

RIGHTS_TEXT = ("已向被检查单位告知：检查人员不少于两人并已出示执法证件；被检查单位有陈述、申辩的权利；"
               "认为检查人员与本单位有直接利害关系或其他可能影响公正检查的关系的，有权申请检查人员回避。")


def _page(parent: QWidget, title: str) -> tuple[QScrollArea, QVBoxLayout]:
    area = QScrollArea(parent)
    area.setWidgetResizable(True)
    area.setFrameShape(QFrame.Shape.NoFrame)
    area.setFocusPolicy(Qt.FocusPolicy.NoFocus)  # no Tab stop on the scroll area itself
    body = QWidget(area)
    lay = QVBoxLayout(body)
    lay.setContentsMargins(12, 8, 12, 12)
    lay.setSpacing(8)
    t = QLabel(title, body)
    t.setObjectName("title")
    lay.addWidget(t)
    area.setWidget(body)
    return area, lay


class _Page(QWidget):
    def __init__(self, visit: Any, title: str):
        super().__init__(visit)
        self.visit = visit
        outer = QVBoxLayout(self)
        outer.setContentsMargins(0, 0, 0, 0)
        area, self.lay = _page(self, title)
        outer.addWidget(area)
        self.locked = False

    def focus_first(self) -> None:
        """Where the keyboard starts when the page is opened by Ctrl+PgDn or a 下一节 button."""
        w = getattr(self, "first_field", None)
        if w is not None and w.isEnabled() and w.isVisible():
            w.setFocus(Qt.FocusReason.OtherFocusReason)
            return
        self.focusNextPrevChild(True)

    def set_locked(self, locked: bool) -> None:
        self.locked = locked
        for w in self.findChildren(QWidget):
            if isinstance(w, (QLineEdit, QPlainTextEdit, QCheckBox, QComboBox, QDateEdit, QSpinBox, QDoubleSpinBox)):
                w.setEnabled(not locked)
            if isinstance(w, QPushButton) and prop(w, "edits"):
                w.setEnabled(not locked)


# -- 开始检查 ------------------------------------------------------------------------------------
class StartPage(_Page):
    """Place, inspectors, person in charge, IDs shown, rights explained (incl. recusal), checklists."""

    def __init__(self, visit: Any):
        super().__init__(visit, "开始检查")
        v = visit
        box = QGroupBox("检查信息", self)
        form = QFormLayout(box)
        self.place = QLineEdit(box)
        self.place.setPlaceholderText("如：机构教学楼二层")
        self.place.editingFinished.connect(lambda: v.update_fields("修改检查地点", place=self.place.text() or None))
        form.addRow("检查地点", self.place)
        self.inspectors = QListWidget(box)
        self.inspectors.setMaximumHeight(110)
        self.inspectors.itemChanged.connect(self._inspectors_changed)
        form.addRow("检查人员（至少 2 名）", self.inspectors)
        self.recorder = QComboBox(box)
        self.recorder.activated.connect(
            lambda _i: v.update_fields("修改记录人", recorder_id=self.recorder.currentData()))
        form.addRow("记录人", self.recorder)
        self.lay.addWidget(box)

        pic = QGroupBox("被检查单位现场负责人", self)
        pf = QHBoxLayout(pic)
        self.pic = {k: QLineEdit(pic) for k in ("name", "position", "phone")}
        for k, label in (("name", "姓名"), ("position", "职务"), ("phone", "电话")):
            pf.addWidget(QLabel(label, pic))
            pf.addWidget(self.pic[k])
            self.pic[k].editingFinished.connect(self._pic_changed)
        self.lay.addWidget(pic)

        rights = QGroupBox("出示证件与权利告知", self)
        rl = QVBoxLayout(rights)
        self.ids_shown = QCheckBox("已出示执法证件（检查人员不少于 2 名）", rights)
        self.ids_shown.clicked.connect(lambda c: v.update_fields("出示证件", ids_shown=bool(c)))
        self.rights = QCheckBox("已告知权利（含陈述、申辩权和申请回避的权利）", rights)
        self.rights.clicked.connect(lambda c: v.update_fields("告知权利", rights_explained=bool(c)))
        expl = QLabel(RIGHTS_TEXT, rights)
        expl.setWordWrap(True)
        expl.setStyleSheet(f"color:{GREY}")
        # the 笔录 asks the party whether it applies for recusal (二、回避) and records the answer
        self.recusal = QLineEdit(rights)
        self.recusal.setPlaceholderText("如：检查人员与本单位无利害关系，不申请回避")
        self.recusal.editingFinished.connect(self._pic_changed)
        rec = QHBoxLayout()
        rec.addWidget(QLabel("负责人对是否申请回避的答复", rights))
        rec.addWidget(self.recusal, 1)
        rl.addWidget(self.ids_shown)
        rl.addWidget(self.rights)
        rl.addLayout(rec)
        rl.addWidget(expl)
        self.lay.addWidget(rights)

        cl = QGroupBox("使用的检查表", self)
        cll = QVBoxLayout(cl)
        self.checklists = QListWidget(cl)
        self.checklists.setMaximumHeight(110)
        self.checklists.itemChanged.connect(self._checklists_changed)
        cll.addWidget(self.checklists)
        self.lay.addWidget(cl)
        nxt = QPushButton("开始逐项检查 →", self)
        nxt.setObjectName("primary")
        nxt.clicked.connect(self._next)
        row = QHBoxLayout()
        row.addStretch(1)
        row.addWidget(nxt)
        self.lay.addLayout(row)
        self.lay.addStretch(1)
        self._loading = False
        self.first_field = self.place
        self.load()

    def _next(self) -> None:
        """To the first section with the keyboard on its first item."""
        v = self.visit
        for key, (_cv, _cl, sec, _n) in v.sections.items():
            v.goto(key, sec.items[0].id if sec.items else None)
            return

    def load(self) -> None:
        self._loading = True
        try:
            insp = self.visit.insp
            self.place.setText(insp.place or "")
            for k, w in (*self.pic.items(), ("recusal", self.recusal)):
                w.setText(str(insp.person_in_charge.get(k) or ""))
            self.ids_shown.setChecked(insp.ids_shown)
            self.rights.setChecked(insp.rights_explained)
            self.inspectors.clear()
            try:
                people = core.inspectors(self.visit.store)
            except InspectorError:
                people = []
            chosen = list(insp.inspector_ids)
            people.sort(key=lambda p: (p["id"] not in chosen, chosen.index(p["id"]) if p["id"] in chosen else 0))
            for p in people[:300]:
                it = QListWidgetItem(f"{p['name']}　执法证号 {p['badge_no']}　{p.get('unit') or ''}")
                it.setData(Qt.ItemDataRole.UserRole, p["id"])
                it.setFlags(it.flags() | Qt.ItemFlag.ItemIsUserCheckable)
                it.setCheckState(Qt.CheckState.Checked if p["id"] in chosen else Qt.CheckState.Unchecked)
                self.inspectors.addItem(it)
            self.recorder.clear()
            self.recorder.addItem("—", None)
            for p in people:
                if p["id"] in chosen:
                    self.recorder.addItem(p["name"], p["id"])
            self.recorder.setCurrentIndex(max(0, self.recorder.findData(insp.recorder_id)))
            self.checklists.clear()
            used = {cv.split("@")[0]: cv for cv in insp.checklist_version_ids}
            for c in core.checklist_choices(self.visit.store):
                # the title, not the internal id; the version this visit uses (HQ's may be newer, and
                # HQ may have sent checklists this laptop's files do not have)
                ver = used[c["id"]].split("@", 1)[-1] if c["id"] in used else c["version"]
                it = QListWidgetItem(f"{c['title']}（版本 {ver}）" + ("" if c["shipped"] else "（总部下发）"))
                it.setData(Qt.ItemDataRole.UserRole, c["id"])
                it.setFlags(it.flags() | Qt.ItemFlag.ItemIsUserCheckable)
                it.setCheckState(Qt.CheckState.Checked if c["id"] in used else Qt.CheckState.Unchecked)
                self.checklists.addItem(it)
        finally:
            self._loading = False

    def _inspectors_changed(self, _it: Any) -> None:
        if self._loading:
            return
        ids = [self.inspectors.item(i).data(Qt.ItemDataRole.UserRole) for i in range(self.inspectors.count())
               if self.inspectors.item(i).checkState() == Qt.CheckState.Checked]
        self.visit.update_fields("修改检查人员", inspector_ids=ids)

    def _pic_changed(self) -> None:
        if self._loading:
            return
        form = (*self.pic.items(), ("recusal", self.recusal))
        # keys the form does not show (an ID number recorded by the CLI, the sealed originals) are kept
        new = {k: v for k, v in self.visit.insp.person_in_charge.items() if k not in dict(form)}
        new.update({k: w.text().strip() for k, w in form if w.text().strip()})
        self.visit.update_fields("修改现场负责人", person_in_charge=new)

    def _checklists_changed(self, _it: Any) -> None:
        if self._loading:
            return
        by_id = {c.id: c for c in core.shipped_checklists()}
        old = list(self.visit.insp.checklist_version_ids)
        keep = {cv.split("@")[0]: cv for cv in old}
        new = []
        for i in range(self.checklists.count()):
            it = self.checklists.item(i)
            if it.checkState() != Qt.CheckState.Checked:
                continue
            cid = it.data(Qt.ItemDataRole.UserRole)
            if cid not in keep and cid in by_id:   # a shipped file; HQ's are stored already
                core.ensure_version(self.visit.store, by_id[cid])
            new.append(keep.get(cid) or core.current_version(self.visit.store, cid))
        self.visit.update_fields("选择检查表", checklist_version_ids=new)


# -- 学员抽查核实 ----------------------------------------------------------------------------------
def _mask(v: Any, kind: str) -> str:
    from inspector import idnumbers

    return idnumbers.mask_id(v) if kind == "id" else idnumbers.mask_phone(v)


class TraineePage(_Page):
    """Import the roster, draw the sample (inspector.sampling), record each phone/on-site check."""

    ANSWERS = (("attended", "确认参加培训"), ("hours", "确认培训学时"), ("exam", "确认参加考试"),
               ("certificate", "确认取得证书"), ("extra_fees", "被额外收费"))

    def __init__(self, visit: Any):
        super().__init__(visit, "学员抽查核实")
        bar = QHBoxLayout()
        self.import_btn = QPushButton("导入花名册…", self)
        set_prop(self.import_btn, "edits", True)
        self.import_btn.clicked.connect(self.choose_roster)
        self.draw_btn = QPushButton("抽取样本", self)
        self.draw_btn.setObjectName("primary")
        set_prop(self.draw_btn, "edits", True)
        self.draw_btn.clicked.connect(self.draw_sample)
        self.draw_btn.setEnabled(False)
        # the real name, ID number and phone are sealed (inspector/pii.py): shown on request, with a passphrase
        self.unmasked = False
        self.reveal_btn = QPushButton("显示完整身份信息", self)
        self.reveal_btn.setCheckable(True)
        self.reveal_btn.toggled.connect(self.toggle_unmasked)
        self.info = QLabel("抽样规则：花名册人数的 10%（向上取整）；其中 10%（至少 1 人）电话或实地核实。", self)
        self.info.setWordWrap(True)
        bar.addWidget(self.import_btn)
        bar.addWidget(self.draw_btn)
        bar.addWidget(self.reveal_btn)
        bar.addWidget(self.info, 1)
        self.lay.addLayout(bar)
        self.flags = QLabel("", self)
        self.flags.setWordWrap(True)
        self.flags.setStyleSheet(f"color:{RED}")
        self.lay.addWidget(self.flags)
        # name, ID number and phone arrive as the masked copies (inspector/pii.py); masked again for old rows
        cols = [Col("roster_row", "行", 40), Col("name", "姓名"),
                Col("id_number", "身份证号", fmt=lambda v, r: v if self.unmasked else _mask(v, "id")),
                Col("trade", "职业工种"), Col("phone", "电话", fmt=lambda v, r: v if self.unmasked else _mask(v, "phone")),
                Col("selected_for", "类别", fmt=lambda v, r: "需核实" if v == "verify" else "抽查"),
                Col("method", "核查方式"), Col("reached", "联系上",
                                            fmt=lambda v, r: "" if v is None else ("是" if v else "否")),
                Col("checked_at", "核查时间", fmt=lambda v, r: (v or "")[:16].replace("T", " "))]
        self.model = ListModel(cols, lambda: visits.list_trainee_checks(self.visit.store, self.visit.inspection_id,
                                                                        unmasked=self.unmasked), self)
        self.table = QTableView(self)
        self.table.setModel(self.model)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        self.table.horizontalHeader().setStretchLastSection(True)
        self.table.setMinimumHeight(200)
        self.table.selectionModel().currentRowChanged.connect(lambda *_: self._select())
        self.lay.addWidget(self.table, 1)
        rec = QGroupBox("记录核查结果（所选学员）", self)
        g = QGridLayout(rec)
        self.method = QComboBox(rec)
        self.method.addItems(["电话", "实地"])
        self.reached = QCheckBox("已联系上本人", rec)
        g.addWidget(QLabel("核查方式"), 0, 0)
        g.addWidget(self.method, 0, 1)
        g.addWidget(self.reached, 0, 2)
        self.answer_boxes: dict[str, QComboBox] = {}
        for k, (key, label) in enumerate(self.ANSWERS):
            cb = QComboBox(rec)
            cb.addItems(["未问", "是", "否"])
            self.answer_boxes[key] = cb
            g.addWidget(QLabel(label), 1 + k // 3, (k % 3) * 2)
            g.addWidget(cb, 1 + k // 3, (k % 3) * 2 + 1)
        self.note = QLineEdit(rec)
        self.note.setPlaceholderText("备注（如：学员称未参加考试）")
        g.addWidget(self.note, 3, 0, 1, 5)
        self.save_btn = QPushButton("保存核查结果", rec)
        set_prop(self.save_btn, "edits", True)
        self.save_btn.clicked.connect(self.save_check)
        g.addWidget(self.save_btn, 3, 5)
        self.lay.addWidget(rec)
        self.first_field = self.import_btn
        self.roster: list[dict[str, Any]] | None = None
        self.roster_name = ""

    def shown(self) -> None:
        self.model.reload()

    def ask_passphrase(self) -> str | None:
        from PySide6.QtWidgets import QInputDialog

        pw, ok = QInputDialog.getText(self, "显示完整身份信息", "学员个人信息已加密，请输入签名口令：",
                                      QLineEdit.EchoMode.Password)
        return pw if ok and pw else None

    def toggle_unmasked(self, on: bool) -> None:
        from inspector import pii

        if on and not pii.is_unlocked(self.visit.store.home):
            pw = self.ask_passphrase()
            try:
                if pw is None or not pii.unlock(self.visit.store.home, pw):
                    raise pii.PiiError("未输入签名口令，仍显示脱敏信息")
            except pii.PiiError as e:
                self.reveal_btn.blockSignals(True)
                self.reveal_btn.setChecked(False)
                self.reveal_btn.blockSignals(False)
                self.visit.refuse(str(e))
                return
        if on:
            logging.getLogger(__name__).info("trainees' personal data shown unmasked: inspection %s",
                                             self.visit.inspection_id)
        self.unmasked = on
        self.reveal_btn.setText("隐藏完整身份信息" if on else "显示完整身份信息")
        self.model.reload()

    def choose_roster(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "导入花名册", "", "花名册 (*.xlsx *.csv)")
        if path:
            self.load_roster(path)

    def load_roster(self, path: str) -> None:
        from pathlib import Path

        try:
            self.roster = core.sampling().read_roster(path)
        except InspectorError as e:
            self.visit.refuse(f"花名册无法导入：{e}")
            return
        self.roster_name = Path(path).name
        n = len(self.roster)
        s = core.sampling().sample_size(n)
        self.info.setText(f"已导入 {self.roster_name}：{n} 人；将抽取 {s} 人，其中 {core.sampling().sample_size(s)}"
                          " 人须电话或实地核实。")
        self.draw_btn.setEnabled(not self.locked)

    def draw_sample(self) -> None:
        if self.roster is None:
            return
        if visits.list_trainee_checks(self.visit.store, self.visit.inspection_id):
            self.visit.refuse("本次检查已抽取过样本，不能重复抽取。")
            return
        res = core.sampling().sample_roster(self.roster, self.visit.inspection_id, source=self.roster_name)
        verify = set(res.verify)
        rows = [{**res.rows[i], "selected_for": "verify" if i in verify else "sample"} for i in res.sampled]
        visits.add_trainee_checks(self.visit.store, self.visit.inspection_id, rows, actor=self.visit.actor)
        self.flags.setText("\n".join(f["message"] for f in res.to_json()["flags"]))
        self.info.setText(f"{self.roster_name}：{res.total} 人，抽取 {len(res.sampled)} 人，须核实 "
                          f"{len(res.verify)} 人（随机种子 {res.seed[:8]}…，花名册摘要 {res.roster_sha256[:12]}…）")
        self.draw_btn.setEnabled(False)
        self.model.reload()

    def _select(self) -> None:
        r = self.model.row(self.table.currentIndex().row())
        if not r:
            return
        self.method.setCurrentText(r.get("method") or "电话")
        self.reached.setChecked(bool(r.get("reached")))
        ans = r.get("answers") or {}
        for key, cb in self.answer_boxes.items():
            v = ans.get(key)
            cb.setCurrentText("是" if v is True else "否" if v is False else "未问")
        self.note.setText(ans.get("note") or "")

    def save_check(self) -> None:
        r = self.model.row(self.table.currentIndex().row())
        if not r:
            self.visit.refuse("请先在表中选择一名学员。")
            return
        ans: dict[str, Any] = {k: {"是": True, "否": False}.get(cb.currentText())
                               for k, cb in self.answer_boxes.items() if cb.currentText() != "未问"}
        if self.note.text().strip():
            ans["note"] = self.note.text().strip()
        try:
            visits.record_trainee_check(self.visit.store, r["id"], method=self.method.currentText(),
                                        reached=self.reached.isChecked(), answers=ans, actor=self.visit.actor)
        except InspectorError as e:
            self.visit.refuse(str(e))
            return
        row = self.table.currentIndex().row()
        self.model.reload()
        self.table.selectRow(row)


# -- 问题与整改 ---------------------------------------------------------------------------------
class FindingsPage(_Page):
    """Findings drafted from failed items (wording editable, catalogue code shown); rectification."""

    def __init__(self, visit: Any):
        super().__init__(visit, "问题与整改")
        bar = QHBoxLayout()
        self.draft_btn = QPushButton("从不符合项生成问题", self)
        self.draft_btn.setObjectName("primary")
        set_prop(self.draft_btn, "edits", True)
        self.draft_btn.clicked.connect(self.draft_from_failures)
        self.add_btn = QPushButton("手动添加问题", self)
        set_prop(self.add_btn, "edits", True)
        self.add_btn.clicked.connect(self.add_blank)
        self.del_btn = QPushButton("删除所选问题", self)
        set_prop(self.del_btn, "edits", True)
        self.del_btn.clicked.connect(self.delete_selected)
        for b in (self.draft_btn, self.add_btn, self.del_btn):
            bar.addWidget(b)
        bar.addStretch(1)
        bar.addWidget(QLabel("检查结果", self))
        from ui.items import DigitCombo

        self.result = DigitCombo(self, first=1)  # 1 未发现问题, 2 发现问题已责令改正 … by the digit keys
        self.result.addItem("—", None)
        for c in visits.RESULT_CATEGORIES:
            self.result.addItem(c, c)
        self.result.activated.connect(
            lambda _i: self.visit.update_fields("检查结果", result_category=self.result.currentData()))
        bar.addWidget(self.result)
        self.lay.addLayout(bar)
        store = self.visit.store
        heading = core.cited_labels(store, None, None, [])[0]  # 失信代码 (catalogue) or 问题类别, by profile
        self._catalogue = heading == "失信代码"
        cols = [Col("position", "序号", 40),
                Col("codes", heading, fmt=lambda v, r: core.cited_labels(store, r.get("item_id"), r.get("basis"), v)[1]),
                Col("severity", "程度"), Col("description", "问题描述（中性陈述事实）"),
                Col("deadline", "整改期限")]
        self.model = ListModel(cols, self._rows, self)
        self.table = QTableView(self)
        self.table.setModel(self.model)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        hh = self.table.horizontalHeader()
        hh.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        hh.setSectionResizeMode(3, QHeaderView.ResizeMode.Stretch)
        self.table.setMinimumHeight(160)
        self.table.setTabKeyNavigation(False)  # arrows choose a finding, Tab goes on to its fields
        self.table.selectionModel().currentRowChanged.connect(lambda *_: self._select())
        self.lay.addWidget(self.table, 1)

        ed = QGroupBox("编辑所选问题", self)
        f = QFormLayout(ed)
        self.codes = QLabel("", ed)
        self.codes.setWordWrap(True)
        self.codes.setStyleSheet(f"color:{GREY}")
        f.addRow(heading, self.codes)
        self.desc = QPlainTextEdit(ed)
        self.desc.setMaximumHeight(70)
        self.desc.setTabChangesFocus(True)  # Tab leaves the text (a fact statement needs no tab stops)
        f.addRow("问题描述", self.desc)
        self.action = QLineEdit(ed)
        self.action.setPlaceholderText("如：补充配备理论课教室，面积不少于 300 平方米")
        f.addRow("整改要求", self.action)
        line = QHBoxLayout()
        self.deadline = QDateEdit(ed)
        self.deadline.setCalendarPopup(True)
        self.deadline.setDisplayFormat("yyyy-MM-dd")
        self.deadline.setDate(QDate.currentDate().addDays(30))
        self.people = QSpinBox(ed)
        self.people.setRange(0, 100000)
        self.amount = QDoubleSpinBox(ed)
        self.amount.setRange(0, 1e9)
        self.amount.setDecimals(2)
        self.amount.setSuffix(" 元")
        for w, label in ((self.deadline, "整改期限"), (self.people, "涉及人数"), (self.amount, "资金金额")):
            line.addWidget(QLabel(label))
            line.addWidget(w)
        line.addStretch(1)
        self.save_btn = QPushButton("保存修改", ed)
        set_prop(self.save_btn, "edits", True)
        self.save_btn.setToolTip("修改会自动保存；此按钮立即保存")
        self.save_btn.clicked.connect(self.save_selected)
        line.addWidget(self.save_btn)
        f.addRow(line)
        self.lay.addWidget(ed)
        # autosave: every edit of the selected finding is written shortly after typing stops,
        # and at once when another finding is selected, the page is left or the visit closed
        self._loaded_id: str | None = None
        self._loading = False
        self._autosave = QTimer(self)
        self._autosave.setSingleShot(True)
        self._autosave.setInterval(400)
        self._autosave.timeout.connect(self.save_selected)
        self.desc.textChanged.connect(self._edited)
        self.action.textEdited.connect(self._edited)
        self.deadline.dateChanged.connect(self._edited)
        self.people.valueChanged.connect(self._edited)
        self.amount.valueChanged.connect(self._edited)

        rect = QGroupBox("责令限期整改", self)
        rl = QHBoxLayout(rect)
        self.rect_deadline = QDateEdit(rect)
        self.rect_deadline.setCalendarPopup(True)
        self.rect_deadline.setDisplayFormat("yyyy-MM-dd")
        self.rect_deadline.setDate(QDate.currentDate().addDays(30))
        self.rect_btn = QPushButton("生成整改要求", rect)
        set_prop(self.rect_btn, "edits", True)
        self.rect_btn.clicked.connect(self.create_rectification)
        self.rect_state = QLabel("", rect)
        rl.addWidget(QLabel("整改期限"))
        rl.addWidget(self.rect_deadline)
        rl.addWidget(self.rect_btn)
        rl.addWidget(self.rect_state, 1)
        self.lay.addWidget(rect)
        self.first_field = self.draft_btn
        self.reload()

    def _rows(self) -> list[dict[str, Any]]:
        return [{**commands.finding_fields(f), "id": f.id}
                for f in visits.list_findings(self.visit.store, self.visit.inspection_id)]

    def shown(self) -> None:
        self.reload()

    def _edited(self, *_a: Any) -> None:
        if not self._loading and self._loaded_id and not self.locked:
            self._autosave.start()

    def flush(self) -> None:
        """Write a pending finding edit now (leaving the page, closing the visit, finishing)."""
        if self._autosave.isActive():
            self._autosave.stop()
            self.save_selected()

    def hideEvent(self, e: Any) -> None:
        self.flush()
        super().hideEvent(e)

    def select_finding(self, finding_id: str) -> None:
        for r in range(self.model.rowCount()):
            row = self.model.row(r)
            if row and row.get("id") == finding_id:
                self.table.selectRow(r)
                self.table.setFocus()
                return

    def reload(self) -> None:
        if hasattr(self, "_autosave"):
            self.flush()
        cur = self.table.currentIndex().row() if hasattr(self, "table") else -1
        self.model.reload()
        if 0 <= cur < self.model.rowCount():
            self.table.selectRow(cur)
        insp = self.visit.insp
        self.result.setCurrentIndex(max(0, self.result.findData(insp.result_category)))
        rects = [r for r in visits.list_rectifications(self.visit.store) if r["inspection_id"] == insp.id]
        self.rect_state.setText("；".join(f"已要求整改，期限 {r['deadline']}（{r['status']}）" for r in rects)
                                or "尚未生成整改要求")

    def draft_from_failures(self) -> None:
        """Findings for failed items without one yet, drafted by the core (codes of the
        institution's kind only)."""
        v = self.visit
        deadline = self.rect_deadline.date().toString("yyyy-MM-dd")
        try:
            drafts = visit_state.draft_findings(v.store, v.inspection_id, deadline=deadline)
        except InspectorError as e:
            v.refuse(str(e))
            return
        if not drafts:
            v.refuse("没有新的不符合项可生成问题。")
            return
        if v.push(commands.AddFindings(v, drafts, f"生成 {len(drafts)} 个问题")):
            # on to the first finding still without 整改要求: the keyboard is where the inspector types next
            todo = next((r for r in self._rows() if not (r.get("required_action") or "").strip()), None)
            if todo is not None:
                self.select_finding(todo["id"])
                self.action.setFocus(Qt.FocusReason.OtherFocusReason)

    def add_blank(self) -> None:
        self.visit.push(commands.AddFindings(self.visit, [{"description": "（请填写问题事实）"}]))

    def selected(self) -> Any:
        r = self.model.row(self.table.currentIndex().row())
        return visits.get_finding(self.visit.store, r["id"]) if r else None

    def _select(self) -> None:
        f = self.selected()
        if f is not None and f.id == self._loaded_id and \
                self._form(f) == {k: getattr(f, k) for k in self._form(f)}:
            return  # the same finding, already shown as stored: keep the cursor where it is
        self.flush()  # the edit of the finding selected before goes to disk first
        if not f:
            self._loaded_id = None
            return
        self._loading = True
        try:
            labels = core.cited_labels(self.visit.store, f.item_id, f.basis, f.codes)[1]
            self.codes.setText(("；".join(f"{c} {core.catalogue_text(c)}" for c in labels.split("、"))
                                if labels and self._catalogue else labels) or "（无）")
            self.desc.setPlainText(f.description)
            self.action.setText(f.required_action or "")
            if f.deadline:
                self.deadline.setDate(QDate.fromString(f.deadline[:10], "yyyy-MM-dd"))
            self.people.setValue(f.people_involved or 0)
            self.amount.setValue(f.amount or 0)
        finally:
            self._loading = False
        self._loaded_id = f.id

    def save_selected(self) -> None:
        self._autosave.stop()
        if not self._loaded_id or self.locked:
            return
        try:
            f = visits.get_finding(self.visit.store, self._loaded_id)
        except InspectorError:
            self._loaded_id = None
            return
        new = self._form(f)
        old = {k: getattr(f, k) for k in new}
        if old != new:
            self.visit.push(commands.EditFinding(self.visit, f.id, old, new))

    def _form(self, f: Any) -> dict[str, Any]:
        """The editable fields as the editors show them."""
        return {"description": self.desc.toPlainText().strip() or f.description,
                "required_action": self.action.text().strip() or None,
                "deadline": self.deadline.date().toString("yyyy-MM-dd"),
                "people_involved": self.people.value() or None, "amount": self.amount.value() or None}

    def delete_selected(self) -> None:
        f = self.selected()
        if f:
            self.visit.push(commands.DeleteFinding(self.visit, f))

    def create_rectification(self) -> None:
        v = self.visit
        if v.insp.locked:
            v.refuse("检查已完成并锁定。")
            return
        if not self._rows():
            v.refuse("没有问题，无需整改。")
            return
        before = {r["id"] for r in visits.list_rectifications(v.store) if r["inspection_id"] == v.inspection_id}
        try:  # idempotent in the core: a second click returns the rectification already there
            rid = visits.create_rectification(v.store, v.inspection_id,
                                              deadline=self.rect_deadline.date().toString("yyyy-MM-dd"), actor=v.actor)
        except InspectorError as e:
            v.refuse(str(e))
            return
        if rid in before:
            v.refuse("已生成过整改要求（一份整改通知涵盖本次检查的全部问题），未重复生成。")
        self.reload()


# -- 签名 -----------------------------------------------------------------------------------------
class SignPage(_Page):
    """In the order of the visit (inspector/visit_order.py): the 笔录 is previewed and the person in
    charge reads it page by page; then signs, or refuses with reason and witness; then both
    inspectors sign. Each pad names who signs and in what capacity."""

    ROLES = (("inspector1", "检查人员（一）"), ("inspector2", "检查人员（二）"),
             ("person_in_charge", "被检查单位负责人（以上记录属实）"))

    def __init__(self, visit: Any):
        super().__init__(visit, "签名")
        from ui.signature import SignatureBox

        hint = QLabel("顺序：① 生成笔录预览，交被检查单位现场负责人逐页阅读 → ② 负责人签名（或拒签，写明原因并由见证人签名）"
                      " → ③ 检查人员签名。笔录在签名后如有修改，签名作废，须重新阅读并签名。", self)
        hint.setWordWrap(True)
        hint.setStyleSheet(f"color:{GREY}")
        self.lay.addWidget(hint)
        rb = QHBoxLayout()
        self.read_btn = QPushButton("① 生成笔录预览，交负责人逐页阅读…", self)
        set_prop(self.read_btn, "edits", True)
        self.read_btn.clicked.connect(self.read_record)
        self.read_state = QLabel("", self)
        self.read_state.setWordWrap(True)
        rb.addWidget(self.read_btn)
        rb.addWidget(self.read_state, 1)
        self.lay.addLayout(rb)
        self.reader: Any = None
        self.complete_reading = False
        grid = QGridLayout()
        self.boxes: dict[str, Any] = {}
        for k, (role, title) in enumerate(self.ROLES):
            b = SignatureBox(title, self)
            b.changed.connect(self.visit._schedule_save)
            self.boxes[role] = b
        ref = QGroupBox("被检查单位负责人拒绝签名", self)
        rl = QFormLayout(ref)
        self.refused = QCheckBox("拒绝签名（须写明原因并由见证人签名）", ref)
        self.reason = QLineEdit(ref)
        self.witness = QLineEdit(ref)
        self.witness.setPlaceholderText("见证人姓名")
        rl.addRow(self.refused)
        rl.addRow("拒签原因", self.reason)
        rl.addRow("见证人", self.witness)
        self.witness_box = SignatureBox("见证人签名", ref)
        self.witness_box.changed.connect(self.visit._schedule_save)
        rl.addRow(self.witness_box)
        # in the order of signing: the person in charge (or the refusal), then the inspectors; two
        # columns when there is room, one when the window is narrow (1366×768 at 150 %)
        self.grid, self.refusal_box, self._cols = grid, ref, 0
        self._place_pads(2)
        self.lay.addLayout(grid)
        bar = QHBoxLayout()
        self.save_btn = QPushButton("确认签名", self)
        self.save_btn.setObjectName("primary")
        set_prop(self.save_btn, "edits", True)
        self.save_btn.clicked.connect(self.commit)
        self.state = QLabel("", self)
        bar.addWidget(self.save_btn)
        bar.addWidget(self.state, 1)
        self.lay.addLayout(bar)
        self.lay.addStretch(1)
        self.first_field = self.read_btn
        self.refused.toggled.connect(self._refusal_toggled)
        self.witness.textEdited.connect(lambda _t: self.refresh_titles())
        self._refusal_toggled(False)
        self.refresh_titles()  # the reading state is read when the page is shown (keeps opening fast)

    def _place_pads(self, cols: int) -> None:
        if cols == self._cols:
            return
        self._cols = cols
        order = [self.boxes["person_in_charge"], self.refusal_box, self.boxes["inspector1"], self.boxes["inspector2"]]
        for w in order:
            self.grid.removeWidget(w)
        for k, w in enumerate(order):
            self.grid.addWidget(w, k // cols, k % cols, Qt.AlignmentFlag.AlignTop)

    def resizeEvent(self, e: Any) -> None:
        super().resizeEvent(e)
        pad = self.boxes["inspector1"].pad.minimumWidth()
        self._place_pads(2 if self.width() >= 2 * pad + 80 else 1)

    def _refusal_toggled(self, on: bool) -> None:
        ready = self.complete_reading and not self.locked
        self.boxes["person_in_charge"].setEnabled(ready and not on)
        self.refused.setEnabled(ready)
        for w in (self.reason, self.witness, self.witness_box):
            w.setEnabled(on and ready)

    def shown(self) -> None:
        self.refresh()

    def refresh_titles(self) -> None:
        """Each pad names who signs and in what capacity (visit_order.signers)."""
        from inspector import visit_order

        try:
            who = visit_order.signers(self.visit.store, self.visit.inspection_id, self.witness.text())
        except InspectorError:
            return
        for role, box in (*self.boxes.items(), ("witness", self.witness_box)):
            box.title.setText(f"<b>{who[role].label}</b>")

    def refresh(self) -> None:
        """Titles, and whether the record as it stands has been read page by page."""
        from inspector import visit_order

        self.refresh_titles()
        try:
            r = visit_order.reading(self.visit.store, self.visit.inspection_id)
        except InspectorError as e:
            self.read_state.setText(f"<span style='color:{RED}'>{e}</span>")
            return
        self.complete_reading = bool(r and r.complete)
        if r is None:
            text = "尚未生成笔录预览：负责人须先逐页阅读笔录，才能签名或拒签。"
        elif not r.current:
            text = "笔录在上次预览后已修改：须重新生成预览并逐页阅读，已有签名作废。"
        else:
            text = f"笔录预览 {r.pages} 页，{r.text}" + ("，可以签名。" if r.complete else "，阅读完毕后才能签名。")
        self.read_state.setText(f"<span style='color:{'#1e7b34' if self.complete_reading else RED}'>{text}</span>")
        self._refusal_toggled(self.refused.isChecked())

    def read_record(self) -> None:
        """Render the 笔录 as it stands and show it to the person in charge page by page."""
        from inspector import visit_order
        from inspector.store import documents as docs
        from ui.reading import RecordReader

        v = self.visit
        v.sync()
        try:
            doc, reading = visit_order.make_preview(v.store, v.inspection_id, actor=v.actor)
        except InspectorError as e:
            v.refuse(str(e))
            self.read_state.setText(f"<span style='color:{RED}'>{e}</span>")
            return
        self.reader = RecordReader(self, v.store, v.inspection_id, reading, docs.pdf_bytes(v.store, doc["id"]),
                                   actor=v.actor)
        self.reader.finished.connect(lambda _r: self.refresh())
        self.reader.open()
        self.refresh()

    def strokes_state(self) -> dict[str, Any]:
        out: dict[str, Any] = {r: b.pad.strokes() for r, b in self.boxes.items() if not b.pad.is_empty()}
        if not self.witness_box.pad.is_empty():
            out["witness"] = self.witness_box.pad.strokes()
        return out

    def restore_strokes(self, state: dict[str, Any]) -> None:
        for r, strokes in state.items():
            box = self.witness_box if r == "witness" else self.boxes.get(r)
            if box is not None and isinstance(strokes, list):
                box.pad.set_strokes(strokes)

    def commit(self) -> None:
        """Store the handwritten signatures (PNG + strokes) in the order of the visit: the person in
        charge (or the refusal and the witness) first, then the inspectors (visit_order.sign)."""
        from inspector import visit_order

        v = self.visit
        v.sync()
        try:
            self.refresh()
            if not self.complete_reading:
                raise InspectorError("被检查单位现场负责人须先逐页阅读当前笔录（点“① 生成笔录预览，交负责人逐页阅读”），"
                                     "才能签名或拒签")
            for role in ("person_in_charge", "inspector1", "inspector2"):
                if role != "person_in_charge" or not self.refused.isChecked():
                    if self.boxes[role].pad.is_empty():
                        raise InspectorError(f"{dict(self.ROLES)[role].split('（以上')[0]}尚未签名"
                                             + ("（如拒绝签名，请勾选拒绝签名）" if role == "person_in_charge" else ""))
            if self.refused.isChecked():
                if not self.reason.text().strip() or not self.witness.text().strip() \
                        or self.witness_box.pad.is_empty():
                    raise InspectorError("拒绝签名须写明原因，并由见证人签名")
                visit_order.sign(v.store, v.inspection_id, "person_in_charge", refused=True,
                                 reason=self.reason.text().strip(), actor=v.actor)
                visit_order.sign(v.store, v.inspection_id, "witness", witness_name=self.witness.text().strip(),
                                 png=self.witness_box.pad.png_bytes(), strokes=self.witness_box.pad.strokes(),
                                 actor=v.actor)
            else:
                pad = self.boxes["person_in_charge"].pad
                visit_order.sign(v.store, v.inspection_id, "person_in_charge", png=pad.png_bytes(),
                                 strokes=pad.strokes(), actor=v.actor)
            for role in ("inspector1", "inspector2"):
                pad = self.boxes[role].pad
                visit_order.sign(v.store, v.inspection_id, role, png=pad.png_bytes(), strokes=pad.strokes(),
                                 actor=v.actor)
        except InspectorError as e:
            v.refuse(str(e))
            self.state.setText(f"<span style='color:{RED}'>{e}</span>")
            return
        self.state.setText("<span style='color:#1e7b34'>签名已保存。</span>")
        v.message.emit("签名已保存")

    def _names(self) -> dict[str, str]:
        out = {}
        for k, iid in enumerate(self.visit.insp.inspector_ids[:2], start=1):
            try:
                out[f"inspector{k}"] = core.directory().get_inspector(self.visit.store, iid)["name"]
            except NotFound:  # not in the directory: the pad asks for the signature without a printed name
                logging.getLogger(__name__).warning("inspector %s of the visit is not in the directory", iid)
        return out

    def set_locked(self, locked: bool) -> None:
        super().set_locked(locked)
        for b in (*self.boxes.values(), self.witness_box):
            b.set_locked(locked)
        if hasattr(self, "read_btn"):
            self._refusal_toggled(self.refused.isChecked())


from ui.docs_page import DocsPage  # noqa: E402,F401 - re-exported for visit.py
