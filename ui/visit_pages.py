"""The non-checklist pages of a visit: 开始, 学员核查, 问题与整改, 签名, 文书."""
from __future__ import annotations

import datetime as _dt
from typing import Any

from inspector.errors import InspectorError
from inspector.store import visits
from ui import commands, core
from ui.models import Col, ListModel
from ui.qt import (
    QAbstractItemView, QCheckBox, QComboBox, QDate, QDateEdit, QDoubleSpinBox, QFileDialog, QFormLayout, QFrame,
    QGridLayout, QGroupBox, QHBoxLayout, QHeaderView, QLabel, QLineEdit, QListWidget, QListWidgetItem,
    QPlainTextEdit, QPushButton, QScrollArea, QSpinBox, QSplitter, QTableView, Qt, QVBoxLayout, QWidget, GREY, RED,
)

RIGHTS_TEXT = ("已向被检查单位告知：检查人员不少于两人并已出示执法证件；被检查单位有陈述、申辩的权利；"
               "认为检查人员与本单位有直接利害关系或其他可能影响公正检查的关系的，有权申请检查人员回避。")


def _page(parent: QWidget, title: str) -> tuple[QScrollArea, QVBoxLayout]:
    area = QScrollArea(parent)
    area.setWidgetResizable(True)
    area.setFrameShape(QFrame.Shape.NoFrame)
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

    def set_locked(self, locked: bool) -> None:
        self.locked = locked
        for w in self.findChildren(QWidget):
            if isinstance(w, (QLineEdit, QPlainTextEdit, QCheckBox, QComboBox, QDateEdit, QSpinBox, QDoubleSpinBox)):
                w.setEnabled(not locked)
            if isinstance(w, QPushButton) and w.property("edits"):
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
        rl.addWidget(self.ids_shown)
        rl.addWidget(self.rights)
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
        self.load()

    def _next(self) -> None:
        nav = self.visit.nav
        for i in range(nav.count()):
            if (nav.item(i).data(Qt.ItemDataRole.UserRole) or "").startswith("sec:"):
                nav.setCurrentRow(i)
                return

    def load(self) -> None:
        self._loading = True
        try:
            insp = self.visit.insp
            self.place.setText(insp.place or "")
            for k, w in self.pic.items():
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
            for c in core.shipped_checklists():
                it = QListWidgetItem(f"{c.title}（{c.id} 版本 {c.version}）")
                it.setData(Qt.ItemDataRole.UserRole, c.id)
                it.setFlags(it.flags() | Qt.ItemFlag.ItemIsUserCheckable)
                it.setCheckState(Qt.CheckState.Checked if c.id in used else Qt.CheckState.Unchecked)
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
        new = {k: w.text().strip() for k, w in self.pic.items() if w.text().strip()}
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
            new.append(keep.get(cid) or core.ensure_version(self.visit.store, by_id[cid]))
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
        self.import_btn.setProperty("edits", True)
        self.import_btn.clicked.connect(self.choose_roster)
        self.draw_btn = QPushButton("抽取样本", self)
        self.draw_btn.setObjectName("primary")
        self.draw_btn.setProperty("edits", True)
        self.draw_btn.clicked.connect(self.draw_sample)
        self.draw_btn.setEnabled(False)
        self.info = QLabel("抽样规则：花名册人数的 10%（向上取整）；其中 10%（至少 1 人）电话或实地核实。", self)
        self.info.setWordWrap(True)
        bar.addWidget(self.import_btn)
        bar.addWidget(self.draw_btn)
        bar.addWidget(self.info, 1)
        self.lay.addLayout(bar)
        self.flags = QLabel("", self)
        self.flags.setWordWrap(True)
        self.flags.setStyleSheet(f"color:{RED}")
        self.lay.addWidget(self.flags)
        cols = [Col("roster_row", "行", 40), Col("name", "姓名"), Col("id_number", "身份证号", fmt=lambda v, r: _mask(v, "id")),
                Col("trade", "职业工种"), Col("phone", "电话", fmt=lambda v, r: _mask(v, "phone")),
                Col("selected_for", "类别", fmt=lambda v, r: "需核实" if v == "verify" else "抽查"),
                Col("method", "核查方式"), Col("reached", "联系上",
                                            fmt=lambda v, r: "" if v is None else ("是" if v else "否")),
                Col("checked_at", "核查时间", fmt=lambda v, r: (v or "")[:16].replace("T", " "))]
        self.model = ListModel(cols, lambda: visits.list_trainee_checks(self.visit.store, self.visit.inspection_id),
                               self)
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
        self.save_btn.setProperty("edits", True)
        self.save_btn.clicked.connect(self.save_check)
        g.addWidget(self.save_btn, 3, 5)
        self.lay.addWidget(rec)
        self.roster: list[dict[str, Any]] | None = None
        self.roster_name = ""

    def shown(self) -> None:
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
        self.draft_btn.setProperty("edits", True)
        self.draft_btn.clicked.connect(self.draft_from_failures)
        self.add_btn = QPushButton("手动添加问题", self)
        self.add_btn.setProperty("edits", True)
        self.add_btn.clicked.connect(self.add_blank)
        self.del_btn = QPushButton("删除所选问题", self)
        self.del_btn.setProperty("edits", True)
        self.del_btn.clicked.connect(self.delete_selected)
        for b in (self.draft_btn, self.add_btn, self.del_btn):
            bar.addWidget(b)
        bar.addStretch(1)
        bar.addWidget(QLabel("检查结果", self))
        self.result = QComboBox(self)
        self.result.addItem("—", None)
        for c in visits.RESULT_CATEGORIES:
            self.result.addItem(c, c)
        self.result.activated.connect(
            lambda _i: self.visit.update_fields("检查结果", result_category=self.result.currentData()))
        bar.addWidget(self.result)
        self.lay.addLayout(bar)
        cols = [Col("position", "序号", 40), Col("codes", "失信代码", fmt=lambda v, r: "、".join(v or [])),
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
        self.table.selectionModel().currentRowChanged.connect(lambda *_: self._select())
        self.lay.addWidget(self.table, 1)

        ed = QGroupBox("编辑所选问题", self)
        f = QFormLayout(ed)
        self.codes = QLabel("", ed)
        self.codes.setWordWrap(True)
        self.codes.setStyleSheet(f"color:{GREY}")
        f.addRow("失信代码", self.codes)
        self.desc = QPlainTextEdit(ed)
        self.desc.setMaximumHeight(70)
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
        self.save_btn.setProperty("edits", True)
        self.save_btn.clicked.connect(self.save_selected)
        line.addWidget(self.save_btn)
        f.addRow(line)
        self.lay.addWidget(ed)

        rect = QGroupBox("责令限期整改", self)
        rl = QHBoxLayout(rect)
        self.rect_deadline = QDateEdit(rect)
        self.rect_deadline.setCalendarPopup(True)
        self.rect_deadline.setDisplayFormat("yyyy-MM-dd")
        self.rect_deadline.setDate(QDate.currentDate().addDays(30))
        self.rect_btn = QPushButton("生成整改要求", rect)
        self.rect_btn.setProperty("edits", True)
        self.rect_btn.clicked.connect(self.create_rectification)
        self.rect_state = QLabel("", rect)
        rl.addWidget(QLabel("整改期限"))
        rl.addWidget(self.rect_deadline)
        rl.addWidget(self.rect_btn)
        rl.addWidget(self.rect_state, 1)
        self.lay.addWidget(rect)
        self.reload()

    def _rows(self) -> list[dict[str, Any]]:
        return [{**commands.finding_fields(f), "id": f.id}
                for f in visits.list_findings(self.visit.store, self.visit.inspection_id)]

    def shown(self) -> None:
        self.reload()

    def reload(self) -> None:
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
        v = self.visit
        existing = {(f["checklist_version_id"], f["item_id"]) for f in self._rows()}
        drafts: list[dict[str, Any]] = []
        counts = {}
        try:
            counts = core.photos_mod().photo_counts(v.store, v.inspection_id)
        except Exception:  # noqa: BLE001 - photos are optional for drafting
            pass
        deadline = self.rect_deadline.date().toString("yyyy-MM-dd")
        for cv, cl in v.checklists.items():
            ev = core.evaluate(cl, v.answers.get(cv, {}), counts)
            for d in ev.findings:
                if (cv, d.item_id) in existing:
                    continue
                drafts.append({"description": d.description, "codes": list(d.codes), "severity": d.severity,
                               "checklist_version_id": cv, "item_id": d.item_id, "basis": d.basis,
                               "deadline": deadline})
        if not drafts:
            v.refuse("没有新的不符合项可生成问题。")
            return
        v.push(commands.AddFindings(v, drafts, f"生成 {len(drafts)} 个问题"))

    def add_blank(self) -> None:
        self.visit.push(commands.AddFindings(self.visit, [{"description": "（请填写问题事实）"}]))

    def selected(self) -> Any:
        r = self.model.row(self.table.currentIndex().row())
        return visits.get_finding(self.visit.store, r["id"]) if r else None

    def _select(self) -> None:
        f = self.selected()
        if not f:
            return
        self.codes.setText("；".join(f"{c} {core.catalogue_text(c)}" for c in f.codes) or "（无）")
        self.desc.setPlainText(f.description)
        self.action.setText(f.required_action or "")
        if f.deadline:
            self.deadline.setDate(QDate.fromString(f.deadline[:10], "yyyy-MM-dd"))
        self.people.setValue(f.people_involved or 0)
        self.amount.setValue(f.amount or 0)

    def save_selected(self) -> None:
        f = self.selected()
        if not f:
            return
        new = {"description": self.desc.toPlainText().strip() or f.description,
               "required_action": self.action.text().strip() or None,
               "deadline": self.deadline.date().toString("yyyy-MM-dd"),
               "people_involved": self.people.value() or None, "amount": self.amount.value() or None}
        old = {k: getattr(f, k) for k in new}
        if old != new:
            self.visit.push(commands.EditFinding(self.visit, f.id, old, new))

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
        visits.create_rectification(v.store, v.inspection_id, deadline=self.rect_deadline.date().toString("yyyy-MM-dd"),
                                    actor=v.actor)
        self.reload()


# -- 签名 -----------------------------------------------------------------------------------------
class SignPage(_Page):
    """Both inspectors and the institution's person in charge sign; or the refusal with a witness."""

    ROLES = (("inspector1", "检查人员（一）"), ("inspector2", "检查人员（二）"),
             ("person_in_charge", "被检查单位负责人（以上记录属实）"))

    def __init__(self, visit: Any):
        super().__init__(visit, "签名")
        from ui.signature import SignatureBox

        hint = QLabel("用鼠标、手写笔或触屏在框内签名。签名会写入笔录和通知书；完成后再由检查人员进行数字签名。", self)
        hint.setWordWrap(True)
        hint.setStyleSheet(f"color:{GREY}")
        self.lay.addWidget(hint)
        grid = QGridLayout()
        self.boxes: dict[str, Any] = {}
        for k, (role, title) in enumerate(self.ROLES):
            b = SignatureBox(title, self)
            b.changed.connect(self.visit._schedule_save)
            self.boxes[role] = b
            grid.addWidget(b, k // 2, k % 2, Qt.AlignmentFlag.AlignTop)
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
        grid.addWidget(ref, 1, 1, Qt.AlignmentFlag.AlignTop)
        self.lay.addLayout(grid)
        bar = QHBoxLayout()
        self.save_btn = QPushButton("确认签名", self)
        self.save_btn.setObjectName("primary")
        self.save_btn.setProperty("edits", True)
        self.save_btn.clicked.connect(self.commit)
        self.state = QLabel("", self)
        bar.addWidget(self.save_btn)
        bar.addWidget(self.state, 1)
        self.lay.addLayout(bar)
        self.lay.addStretch(1)
        self.refused.toggled.connect(self._refusal_toggled)
        self._refusal_toggled(False)

    def _refusal_toggled(self, on: bool) -> None:
        self.boxes["person_in_charge"].setEnabled(not on)
        for w in (self.reason, self.witness, self.witness_box):
            w.setEnabled(on and not self.locked)

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
        """Store the handwritten signatures (PNG + strokes) so the documents carry them."""
        from inspector.store import documents as docs

        v = self.visit
        names = self._names()
        try:
            for role in ("inspector1", "inspector2"):
                pad = self.boxes[role].pad
                if pad.is_empty():
                    raise InspectorError(f"{dict(self.ROLES)[role]}尚未签名")
                docs.add_signature(v.store, v.inspection_id, role, name=names.get(role), png=pad.png_bytes(),
                                   strokes=pad.strokes(), actor=v.actor)
            if self.refused.isChecked():
                if not self.reason.text().strip() or not self.witness.text().strip() \
                        or self.witness_box.pad.is_empty():
                    raise InspectorError("拒绝签名须写明原因，并由见证人签名")
                docs.add_signature(v.store, v.inspection_id, "person_in_charge",
                                   name=v.insp.person_in_charge.get("name"), refused=True,
                                   reason=self.reason.text().strip(), actor=v.actor)
                docs.add_signature(v.store, v.inspection_id, "witness", name=self.witness.text().strip(),
                                   png=self.witness_box.pad.png_bytes(), strokes=self.witness_box.pad.strokes(),
                                   actor=v.actor)
            else:
                pad = self.boxes["person_in_charge"].pad
                if pad.is_empty():
                    raise InspectorError("被检查单位负责人尚未签名（如拒绝签名，请勾选拒绝签名）")
                docs.add_signature(v.store, v.inspection_id, "person_in_charge",
                                   name=v.insp.person_in_charge.get("name"), png=pad.png_bytes(),
                                   strokes=pad.strokes(), actor=v.actor)
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
            except Exception:  # noqa: BLE001
                pass
        return out

    def set_locked(self, locked: bool) -> None:
        super().set_locked(locked)
        for b in (*self.boxes.values(), self.witness_box):
            b.set_locked(locked)


from ui.docs_page import DocsPage  # noqa: E402,F401 - re-exported for visit.py
