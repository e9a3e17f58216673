"""The main screens: 任务, 机构, 检查, 整改, 同步, 设置. Lists are models over core reads."""
from __future__ import annotations

from typing import Any

from inspector.errors import InspectorError
from inspector.store import Store, visits
from ui import core
from ui.models import (
    Col, InspectionsModel, ListModel, RectificationsModel, RowsModel, TasksModel, fmt_list, fmt_time,
)
from ui.qt import (
    QAbstractItemView, QFrame, QHBoxLayout, QHeaderView, QLabel, QLineEdit, QPushButton,
    QSplitter, QTableView, Qt, QVBoxLayout, QWidget, Signal, GREEN, GREY, RED, AMBER,
)

GRADE_COLOURS = {"优秀": GREEN, "良好": GREEN, "合格": AMBER, "不合格": RED}


def make_table(model: Any, parent: QWidget, stretch: int | None = None) -> QTableView:
    t = QTableView(parent)
    t.setModel(model)
    t.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
    t.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
    t.setAlternatingRowColors(True)
    t.verticalHeader().hide()
    t.verticalHeader().setDefaultSectionSize(26)
    hh = t.horizontalHeader()
    hh.setHighlightSections(False)
    for i, c in enumerate(model.columns):
        if c.width:
            t.setColumnWidth(i, c.width)
    if stretch is not None:
        hh.setSectionResizeMode(stretch, QHeaderView.ResizeMode.Stretch)
    else:
        hh.setStretchLastSection(True)
    return t


class Screen(QWidget):
    """A titled page with a toolbar row."""

    open_inspection = Signal(str)
    message = Signal(str)

    def __init__(self, store: Store, title: str, subtitle: str = "", parent: QWidget | None = None):
        super().__init__(parent)
        self.store = store
        self.lay = QVBoxLayout(self)
        self.lay.setContentsMargins(14, 10, 14, 10)
        head = QHBoxLayout()
        t = QLabel(title, self)
        t.setObjectName("title")
        head.addWidget(t)
        self.sub = QLabel(subtitle, self)
        self.sub.setObjectName("subtitle")
        head.addWidget(self.sub)
        head.addStretch(1)
        self.bar = head
        self.lay.addLayout(head)

    def refresh(self) -> None:
        pass

    def actor(self) -> str | None:
        return self.store.get_meta("ui.me") or None


def start_visit(store: Store, institution_id: str, *, task: dict[str, Any] | None = None,
                actor: str | None = None) -> str:
    """A new inspection from a task (its inspectors and checklists) or ad hoc. A 复查 task also
    links the rectifications it was ordered for to the new inspection."""
    shipped = {c.id: c for c in core.shipped_checklists()}
    me = store.get_meta("ui.me")
    if task:
        wanted = core.task_checklist_ids(store, task)
        people = list(task.get("inspector_ids") or [])
        if not people and me:
            people = [me]
    else:
        kind = core.institution(store, institution_id).get("kind")
        wanted = [core.checklist_for_kind(kind)]
        people = [me] if me else []
    cvs = []
    for c in wanted:
        if c in shipped:
            core.ensure_version(store, shipped[c])  # the bundled text is kept too (first start, offline)
        # the newest version in the store: one received from HQ supersedes the bundled file
        cv = core.current_version(store, c)
        if cv:
            cvs.append(cv)
    if not cvs:
        raise core.Unavailable("没有可用的检查表（" + "、".join(wanted or ["未指定"]) + "），请先同步检查表")
    iid = visits.start_inspection(store, institution_id, inspector_ids=people,
                                  task_id=task["id"] if task else None, checklist_version_ids=cvs,
                                  recorder_id=people[0] if people else None, actor=actor)
    if task and task.get("kind") == "reinspection":
        for r in core.rectifications_of_task(store, task["id"]):
            if not r.get("reinspection_inspection_id"):
                visits.set_rectification_status(store, r["id"], r["status"], reinspection_inspection_id=iid,
                                                actor=actor)
    return iid


# -- 任务 -------------------------------------------------------------------------------------
class TasksScreen(Screen):
    def __init__(self, store: Store, parent: QWidget | None = None):
        super().__init__(store, "任务", "总部分配给本机的检查任务", parent)
        self.start_btn = QPushButton("开始 / 继续检查", self)
        self.start_btn.setObjectName("primary")
        self.start_btn.clicked.connect(self.start_selected)
        self.bar.addWidget(self.start_btn)
        cols = [Col("institution_name", "检查对象", 236), Col("kind_text", "任务类型", 80),
                Col("county", "区县", 64), Col("inspectors_text", "检查人员", 130), Col("due_text", "检查期限", 176),
                Col("status_text", "状态", 64), Col("offline_text", "离线可用", 84), Col("note", "说明")]
        self.model = TasksModel(cols, lambda off, lim: core.tasks(store)[off:off + lim], autoload=False, parent=self)
        self.table = make_table(self.model, self)
        self.table.doubleClicked.connect(lambda _i: self.start_selected())
        self.empty = QLabel("", self)
        self.empty.setObjectName("hint")
        self.empty.setWordWrap(True)
        self.lay.addWidget(self.empty)
        self.lay.addWidget(self.table, 1)

    def refresh(self) -> None:
        self.model.reload()
        rows = [self.model.row(i) for i in range(len(self.model.ids))]
        counts = {k: sum(1 for r in rows if r and r.get("kind") == k) for k in core.TASK_KINDS}
        parts = "　".join(f"{label} {counts[k]}" for k, label in core.TASK_KINDS.items() if counts[k])
        self.sub.setText(f"总部分配给本机的检查任务　共 {len(rows)} 项" + (f"（{parts}）" if parts else ""))
        self.empty.setText("" if rows else "暂无任务。登记本机并与总部同步后，这里会列出总部抽取的双随机抽查、"
                                           "专项检查和整改复查任务。收到投诉举报需要临时检查时，请在“机构”中选择机构。")
        self.empty.setVisible(not rows)

    def select_task(self, task_id: str) -> bool:
        if task_id in self.model.ids:
            self.table.selectRow(self.model.ids.index(task_id))
            return True
        return False

    def start_selected(self) -> None:
        r = self.model.row(self.table.currentIndex().row())
        if not r:
            self.message.emit("请先选择一项任务。")
            return
        if not r.get("known_institution", True):
            self.message.emit("名录中还没有这个机构，请先在“同步”中与总部同步。")
            return
        mine = [i for i in visits.list_inspections(self.store, institution_id=r["institution_id"])
                if i.task_id == r["id"]]
        going = next((i for i in mine if not i.locked), None)
        if going or (mine and r.get("status") == "done"):  # continue it, or show the finished one
            self.open_inspection.emit((going or mine[0]).id)
            return
        if r.get("status") == "cancelled":
            self.message.emit("该任务已被总部取消，不能开始检查。")
            return
        try:
            iid = start_visit(self.store, r["institution_id"], task=r, actor=self.actor())
        except InspectorError as e:
            self.message.emit(str(e))
            return
        self.refresh()
        self.open_inspection.emit(iid)


# -- 机构 -------------------------------------------------------------------------------------
class InstitutionsScreen(Screen):
    def __init__(self, store: Store, parent: QWidget | None = None):
        super().__init__(store, "机构", "检查对象名录库", parent)
        self.search = QLineEdit(self)
        self.search.setPlaceholderText("搜索：机构名称 / 统一社会信用代码 / 区县")
        self.search.setClearButtonEnabled(True)
        self.search.setMinimumWidth(360)
        self.search.textChanged.connect(self._search)
        self.bar.addWidget(self.search)
        self.adhoc_btn = QPushButton("临时检查（投诉举报）", self)
        self.adhoc_btn.clicked.connect(self.start_adhoc)
        self.bar.addWidget(self.adhoc_btn)
        split = QSplitter(Qt.Orientation.Horizontal, self)
        cols = [Col("name", "机构名称", 250), Col("credit_code", "统一社会信用代码", 170), Col("kind", "类型", 70),
                Col("county", "区县", 70), Col("credit_grade", "信用等级", 60)]
        self.model = RowsModel(cols, self._fetch, autoload=False, parent=self)
        self.table = make_table(self.model, split, stretch=0)
        self.table.selectionModel().currentRowChanged.connect(lambda *_: self.show_selected())
        split.addWidget(self.table)
        detail = QFrame(split)
        detail.setObjectName("card")
        dl = QVBoxLayout(detail)
        self.d_title = QLabel("选择一个机构查看详情", detail)
        self.d_title.setObjectName("title")
        self.d_title.setWordWrap(True)
        dl.addWidget(self.d_title)
        self.d_info = QLabel("", detail)
        self.d_info.setWordWrap(True)
        self.d_info.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        dl.addWidget(self.d_info)
        self.d_grade = QLabel("", detail)
        self.d_grade.setWordWrap(True)
        dl.addWidget(self.d_grade)
        dl.addWidget(QLabel("<b>检查历史</b>", detail))
        self._hist_rows: list[dict[str, Any]] = []
        self.hist = ListModel([Col("started_at", "日期", fmt=fmt_time), Col("status_text", "状态"),
                               Col("findings", "问题数"), Col("result", "结果")], lambda: self._hist_rows, self)
        self.hist_view = make_table(self.hist, detail)
        self.hist_view.doubleClicked.connect(self._open_hist)
        dl.addWidget(self.hist_view, 1)
        split.addWidget(detail)
        split.setSizes([640, 480])
        self.lay.addWidget(split, 1)

    def _fetch(self, offset: int, limit: int) -> list[dict[str, Any]]:
        return core.institutions_page(self.store, self.search.text(), offset, limit)

    def _search(self, _text: str) -> None:
        self.model.reload()
        self.sub.setText(f"检查对象名录库　{len(self.model.ids)}{'+' if self.model.canFetchMore() else ''} 个")
        if self.model.ids:
            self.table.selectRow(0)

    def refresh(self) -> None:
        self._search(self.search.text())

    def selected(self) -> dict[str, Any] | None:
        return self.model.row(self.table.currentIndex().row())

    def show_selected(self) -> None:
        r = self.selected()
        if not r:
            return
        self.d_title.setText(r["name"])
        trades = fmt_list(r.get("trades"))
        self.d_info.setText(
            f"统一社会信用代码：{r.get('credit_code')}<br>类型：{r.get('kind')} {r.get('sub_kind') or ''}"
            f"<br>区县：{r.get('county')}　地址：{r.get('address') or ''}<br>法定代表人：{r.get('legal_rep') or ''}"
            f"　联系人：{r.get('contact') or ''} {r.get('phone') or ''}<br>许可证/备案号：{r.get('licence_no') or ''}"
            f"<br>职业工种：{trades}<br>培训或取证人数：{r.get('headcount') or ''}　投诉：{r.get('complaints') or 0} 次")
        try:
            grade, reasons = core.institution_grade(self.store, r["id"])
            colour = GRADE_COLOURS.get(grade, GREY)
            self.d_grade.setText(f"信用评估等级（本机拟评）：<b style='color:{colour}'>{grade}</b>"
                                 f"　名录登记：{r.get('credit_grade') or '—'}<br><span style='color:{GREY}'>"
                                 + "；".join(reasons) + "</span>")
        except InspectorError as e:
            self.d_grade.setText(f"信用评估等级：无法计算（{e}）")
        self._hist_rows = core.institution_history(self.store, r["id"])
        self.hist.reload()

    def _open_hist(self, idx: Any) -> None:
        iid = self.hist.id_at(idx.row())
        if iid:
            self.open_inspection.emit(iid)

    def start_adhoc(self) -> None:
        r = self.selected()
        if not r:
            self.message.emit("请先选择一个机构。")
            return
        try:
            iid = start_visit(self.store, r["id"], actor=self.actor())
        except InspectorError as e:
            self.message.emit(str(e))
            return
        self.open_inspection.emit(iid)


# -- 检查 -------------------------------------------------------------------------------------
class InspectionsScreen(Screen):
    def __init__(self, store: Store, parent: QWidget | None = None):
        super().__init__(store, "检查", "草稿与已完成的检查", parent)
        self.open_btn = QPushButton("打开", self)
        self.open_btn.setObjectName("primary")
        self.open_btn.clicked.connect(self._open)
        self.bar.addWidget(self.open_btn)
        cols = [Col("institution", "检查对象", 300), Col("started_at", "开始时间", 140, fmt=fmt_time),
                Col("status_text", "状态", 70), Col("revision", "版本", 50), Col("result", "检查结果", 180),
                Col("place", "地点")]
        self.model = InspectionsModel(cols, lambda off, lim: core.inspections_page(store, off, lim), page=60,
                                      autoload=False, parent=self)
        self.table = make_table(self.model, self)
        self.table.doubleClicked.connect(lambda _i: self._open())
        self.lay.addWidget(self.table, 1)

    def refresh(self) -> None:
        self.model.reload()

    def _open(self) -> None:
        iid = self.model.id_at(self.table.currentIndex().row())
        if iid:
            self.open_inspection.emit(iid)


# -- 整改 -------------------------------------------------------------------------------------
class RectificationsScreen(Screen):
    def __init__(self, store: Store, parent: QWidget | None = None):
        super().__init__(store, "整改", "责令限期整改的跟踪：逾期的标红，7 天内到期的标黄", parent)
        self.status_btns: dict[str, QPushButton] = {}
        for status in ("已按期整改", "逾期整改", "拒不整改或敷衍整改"):
            b = QPushButton(f"标记{status}", self)
            b.clicked.connect(lambda _c=False, s=status: self.set_status(s))
            self.bar.addWidget(b)
            self.status_btns[status] = b
        self.reinspect_btn = QPushButton("开始复查", self)
        self.reinspect_btn.setObjectName("primary")
        self.reinspect_btn.clicked.connect(self.reinspect)
        self.bar.addWidget(self.reinspect_btn)
        self._rows: list[dict[str, Any]] = []
        cols = [Col("institution_name", "机构", 300), Col("notice_number", "通知书文号", 200),
                Col("deadline", "整改期限", 96), Col("days_text", "剩余", 90), Col("status", "状态", 150),
                Col("reinspection_text", "复查")]
        self.model = RectificationsModel(cols, lambda off, lim: self._rows[off:off + lim], autoload=False,
                                         parent=self)
        self.table = make_table(self.model, self)
        self.lay.addWidget(self.table, 1)

    def refresh(self) -> None:
        try:
            self._rows = core.rectifications(self.store)
        except InspectorError as e:
            self._rows = []
            self.message.emit(str(e))
        self.model.reload()
        overdue = sum(1 for r in self._rows if r["status"] == "待整改" and (r["days_left"] or 0) < 0)
        self.sub.setText(f"待整改 {sum(1 for r in self._rows if r['status'] == '待整改')} 项，其中逾期 "
                         f"<b style='color:{RED}'>{overdue}</b> 项")

    def selected(self) -> dict[str, Any] | None:
        return self.model.row(self.table.currentIndex().row())

    def set_status(self, status: str) -> None:
        r = self.selected()
        if not r:
            self.message.emit("请先选择一项整改。")
            return
        try:
            visits.set_rectification_status(self.store, r["id"], status, actor=self.actor())
        except InspectorError as e:
            self.message.emit(str(e))
            return
        self.refresh()
        self.select(r["id"])
        self.message.emit(f"{r.get('institution_name') or ''}：整改状态已改为“{status}”，同步后报总部。")

    def select(self, rect_id: str) -> None:
        if rect_id in self.model.ids:
            self.table.selectRow(self.model.ids.index(rect_id))

    def reinspect(self) -> None:
        """A re-inspection: from HQ's 复查 task when one was pulled, else ad hoc; the rectification
        then names it (HQ closes the rectification on its result)."""
        r = self.selected()
        if not r:
            self.message.emit("请先选择一项整改。")
            return
        if r.get("reinspection_inspection_id"):
            self.open_inspection.emit(r["reinspection_inspection_id"])
            return
        task = core.task(self.store, r["reinspection_task_id"]) if r.get("reinspection_task_id") else None
        try:
            iid = start_visit(self.store, r["institution_id"], task=task, actor=self.actor())
            if not task:
                visits.set_rectification_status(self.store, r["id"], r["status"], reinspection_inspection_id=iid,
                                                actor=self.actor())
        except InspectorError as e:
            self.message.emit(str(e))
            return
        self.refresh()
        self.open_inspection.emit(iid)
