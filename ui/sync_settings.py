"""同步 and 设置: talk to HQ through ``inspector.sync`` (in the background), keys and profile; the
co-inspector's certificate (设置) and the pulled records kept aside (同步), in plain words."""
from __future__ import annotations

import logging
from typing import Any

from inspector.errors import InspectorError
from inspector.store import Store
from ui import core
from ui.operations import Operation
from ui.qt import (
    QComboBox, QFormLayout, QFrame, QGridLayout, QGroupBox, QHBoxLayout, QLabel, QLineEdit, QListWidget,
    QListWidgetItem, QProgressBar, QPushButton, QScrollArea, QVBoxLayout, QWidget, Signal, AMBER, GREEN, GREY,
    RED,
)
from ui.screens import Screen

HQ_URL_KEY = "sync.hq_url"


def _human_bytes(n: int) -> str:
    for unit in ("B", "KB", "MB", "GB"):
        if n < 1024 or unit == "GB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1024  # type: ignore[assignment]
    return str(n)


class SyncScreen(Screen):
    """Status from ``sync.status``; a sync runs in the background with records and bytes shown."""

    PHASES = {"push": "上传记录", "upload": "上传照片和文书", "pull": "下载名录、检查表和任务"}

    def __init__(self, store: Store, parent: QWidget | None = None):
        super().__init__(store, "同步", "与总部交换数据：上传检查、照片和文书，下载名录、检查表和任务", parent)
        self.sync_btn = QPushButton("立即同步", self)
        self.sync_btn.setObjectName("primary")
        self.sync_btn.clicked.connect(self.start_sync)
        self.bar.addWidget(self.sync_btn)
        card = QGroupBox("同步状态", self)
        f = QFormLayout(card)
        self.state = QLabel("", card)
        self.hq = QLabel("", card)
        self.last = QLabel("", card)
        self.pending = QLabel("", card)
        self.audit = QLabel("", card)
        for label, w in (("状态", self.state), ("总部地址", self.hq), ("上次成功同步", self.last),
                         ("待上传", self.pending), ("审计链", self.audit)):
            f.addRow(label, w)
        self.lay.addWidget(card)
        card.setMaximumWidth(820)
        self.bar_progress = QProgressBar(self)
        self.bar_progress.hide()
        self.lay.addWidget(self.bar_progress)
        self.detail = QLabel("", self)
        self.detail.setWordWrap(True)
        self.lay.addWidget(self.detail)
        self.error = QLabel("", self)
        self.error.setWordWrap(True)
        self.error.setStyleSheet(f"color:{RED}")
        self.lay.addWidget(self.error)
        qbox = QGroupBox("暂未应用的总部记录（已隔离）", self)
        qbox.setMaximumWidth(820)
        ql = QVBoxLayout(qbox)
        self.quarantine_note = QLabel("", qbox)
        self.quarantine_note.setWordWrap(True)
        ql.addWidget(self.quarantine_note)
        self.quarantine = QListWidget(qbox)
        ql.addWidget(self.quarantine)
        self.quarantine_box = qbox
        qbox.hide()
        self.lay.addWidget(qbox)
        self.lay.addStretch(1)
        self.op: Operation | None = None

    def refresh(self) -> None:
        from inspector import sync

        try:
            st = sync.status(self.store)
        except Exception as e:  # noqa: BLE001 - shown in plain words, the screen stays up
            self.state.setText(f"<span style='color:{RED}'>无法读取同步状态：{e}</span>")
            self.sync_btn.setEnabled(False)
            return
        enrolled = st.get("enrolled")
        self.state.setText(f"<span style='color:{GREEN}'>已登记，可同步</span>" if enrolled else
                           f"<span style='color:{GREY}'>未配置：请在“设置”中填写总部地址和登记码，登记本机</span>")
        self.hq.setText(st.get("hq_url") or "—")
        self.last.setText(str(st.get("last_ok_at") or "从未同步").replace("T", " ")[:19])
        held = st.get("held") or []
        self.pending.setText(f"{st.get('unsent', 0)} 项操作" + (f"（其中 {len(held)} 项被总部退回，需处理）"
                                                               if held else ""))
        quarantined = st.get("quarantined") or []
        if quarantined:
            self.pending.setText(self.pending.text() + f"<br><span style='color:{RED}'>总部发来的 {len(quarantined)} 条记录"
                                 "本机暂时无法应用（已隔离，每次同步自动重试）</span>")
        self._show_quarantine()
        hq_st = st.get("audit_hq_status")
        self.audit.setText(f"本机 {st.get('audit_local_seq')} 条，总部已确认 {st.get('audit_hq_seq') or 0} 条"
                           + (f"　<b style='color:{RED}'>总部发现缺口或改写</b>" if hq_st == "flagged" else ""))
        if st.get("last_error"):
            self.error.setText(f"上次同步失败：{st['last_error']}")
        self.sync_btn.setEnabled(bool(enrolled) and self.op is None)

    def _show_quarantine(self) -> None:
        """Records the last pulls could not apply: what each is and why, in plain words."""
        from inspector.sync.client import quarantine_explained

        rows = quarantine_explained(self.store)
        self.quarantine.clear()
        self.quarantine_box.setVisible(bool(rows))
        if not rows:
            return
        self.quarantine_note.setText(
            f"<span style='color:{AMBER}'>总部发来的以下 {len(rows)} 条记录本机暂时无法使用，已单独保存，"
            "其余数据照常同步。每次同步都会自动重试；本机的检查记录不受影响。若长期不消失，请联系总部管理员。</span>")
        for r in rows:
            it = QListWidgetItem(f"{r['what']}：{r['why']}")
            it.setToolTip(f"收到时间 {str(r['at'] or '').replace('T', ' ')[:19]}\n技术原因：{r['error']}")
            self.quarantine.addItem(it)
        row = max(self.quarantine.sizeHintForRow(0), 18)
        self.quarantine.setFixedHeight(min(180, row * len(rows) + 2 * self.quarantine.frameWidth() + 12))

    def start_sync(self) -> None:
        from inspector import sync

        self.error.setText("")
        self.bar_progress.setRange(0, 0)
        self.bar_progress.show()
        self.sync_btn.setEnabled(False)
        path = self.store.path
        state = {"records": 0, "total": 0, "bytes": 0}

        def work(progress: Any) -> Any:
            s = Store(path)  # the worker's own connection; the GUI keeps the main one

            def prog(ev: dict[str, Any]) -> None:
                state["records"] = int(ev.get("records", state["records"]) or 0)
                state["total"] = int(ev.get("records_total", state["total"]) or 0)
                state["bytes"] = int(ev.get("bytes", state["bytes"]) or 0)
                self._phase = self.PHASES.get(ev.get("phase", ""), "")
                progress(state["records"], state["total"], state["bytes"])
            try:
                return sync.sync(s, progress=prog)
            finally:
                s.close()

        self._phase = ""
        self.op = Operation(work, self)
        self.op.progressed.connect(self._progress)
        self.op.succeeded.connect(self._done)
        self.op.failed.connect(self._failed)
        self.op.start()

    def _progress(self, done: int, total: int, nbytes: int) -> None:
        if total:
            self.bar_progress.setRange(0, total)
            self.bar_progress.setValue(done)
        self.detail.setText(f"{self._phase}：{done}{'/' + str(total) if total else ''} 条记录，"
                            f"已发送 {_human_bytes(nbytes)}")

    def _done(self, report: Any) -> None:
        self.op = None
        self.bar_progress.hide()
        self.detail.setText(report.text() if hasattr(report, "text") else "同步完成")
        if getattr(report, "error", None):
            self.error.setText(report.error)
        self.refresh()
        if (getattr(report, "pii_locked", 0) or getattr(report, "key_locked", False)) and self.unlock_pii():
            self.start_sync()  # the held records go now; the rest went already

    def unlock_pii(self) -> bool:
        """Ask for a passphrase until the personal-data key opens or the inspector gives up."""
        from ui.qt import ask_unlock

        return ask_unlock(self, self.store.home, "学员个人信息和本机密钥已加密，同步前须解锁", self.error.setText)

    def _failed(self, e: Any) -> None:
        self.op = None
        self.bar_progress.hide()
        plain = str(e) if isinstance(e, InspectorError) else f"同步失败：{e}"
        self.error.setText(plain + "\n本机数据没有丢失，可稍后重试。")
        self.refresh()


class SettingsScreen(Screen):
    """Who I am, my signing key and passphrase, HQ address, enrolment."""

    enrolled = Signal(object)   # sync.enrol's result, after a successful enrolment
    certified = Signal(object)  # sync.certify_inspector's result (a co-inspector's HQ certificate)

    def __init__(self, store: Store, parent: QWidget | None = None):
        super().__init__(store, "设置", "检查人员资料、签名密钥、总部地址与设备登记", parent)
        scroll = QScrollArea(self)  # the boxes scroll on a 1366×768 screen instead of being squeezed
        scroll.setWidgetResizable(True)
        scroll.setFrameShape(QFrame.Shape.NoFrame)
        inner = QWidget(scroll)
        self.body = QVBoxLayout(inner)
        self.body.setContentsMargins(0, 0, 0, 0)
        scroll.setWidget(inner)
        self.lay.addWidget(scroll, 1)
        prof = QGroupBox("本机使用人", self)
        pf = QFormLayout(prof)
        self.me = QComboBox(prof)
        self.me.activated.connect(self._me_changed)
        pf.addRow("检查人员", self.me)
        self.me_info = QLabel("", prof)
        pf.addRow("", self.me_info)
        self.body.addWidget(prof)

        keys = QGroupBox("签名密钥（电子签名法第十三条：签名数据仅由本人控制）", self)
        kf = QFormLayout(keys)
        self.key_state = QLabel("", keys)
        kf.addRow("状态", self.key_state)
        self.pw1 = QLineEdit(keys)
        self.pw1.setEchoMode(QLineEdit.EchoMode.Password)
        self.pw2 = QLineEdit(keys)
        self.pw2.setEchoMode(QLineEdit.EchoMode.Password)
        kf.addRow("签名口令", self.pw1)
        kf.addRow("再次输入", self.pw2)
        self.key_btn = QPushButton("生成签名密钥", keys)
        self.key_btn.clicked.connect(self.create_key)
        krow = QHBoxLayout()
        krow.addWidget(self.key_btn)
        krow.addStretch(1)
        kf.addRow("", krow)
        self.body.addWidget(keys)

        hq = QGroupBox("总部与设备登记", self)
        self.hq_box = hq
        hf = QFormLayout(hq)
        self.url = QLineEdit(hq)
        self.url.setPlaceholderText("例如 https://hq.example.gov.cn（向总部管理员索取）")
        self.url.editingFinished.connect(lambda: self.store.set_meta(HQ_URL_KEY, self.url.text().strip()))
        hf.addRow("总部地址", self.url)
        self.badge = QLineEdit(hq)
        self.badge.setPlaceholderText("登记码是发给哪个执法证号的，就填哪个")
        hf.addRow("执法证号", self.badge)
        self.code = QLineEdit(hq)
        self.code.setPlaceholderText("总部发放的一次性登记码")
        hf.addRow("登记码", self.code)
        self.enrol_pw = QLineEdit(hq)
        self.enrol_pw.setEchoMode(QLineEdit.EchoMode.Password)
        self.enrol_pw.setPlaceholderText("本机尚无签名密钥时：设定签名口令（至少 8 个字符）")
        self.enrol_pw2 = QLineEdit(hq)
        self.enrol_pw2.setEchoMode(QLineEdit.EchoMode.Password)
        self.enrol_pw2.setPlaceholderText("再次输入签名口令")
        hf.addRow("签名口令", self.enrol_pw)
        hf.addRow("再次输入", self.enrol_pw2)
        self.badge.textChanged.connect(self._enrol_key_fields)
        self.enrol_btn = QPushButton("登记本机", hq)
        self.enrol_btn.setObjectName("primary")
        self.enrol_btn.clicked.connect(self.enrol)
        row = QHBoxLayout()
        row.addWidget(self.enrol_btn)
        row.addStretch(1)
        hf.addRow("", row)
        self.enrol_state = QLabel("", hq)
        self.enrol_state.setWordWrap(True)
        hf.addRow("登记状态", self.enrol_state)
        self.body.addWidget(hq)
        self.cosign_box = self._cosign_box()
        self.body.addWidget(self.cosign_box)
        self.body.addStretch(1)
        self.enrol_op: Operation | None = None
        self.cosign_op: Operation | None = None
        for box in (prof, keys, hq, self.cosign_box):
            box.setMaximumWidth(820)
        self.boxes = [prof, keys, hq]

    def _cosign_box(self) -> QGroupBox:
        """同行检查人员证书: on an enrolled laptop, the co-inspector's key certified by HQ with their
        own one-time code, so documents both sign here verify as 总部认证."""
        box = QGroupBox("同行检查人员证书", self)
        g = QGridLayout(box)
        note = QLabel("两人共用本机签名时，同行检查人员用总部发给本人的一次性登记码，在此为自己的签名密钥"
                      "申请总部证书（本机登记不变）。否则其签名在总部验证为“证书不受信任”。", box)
        note.setWordWrap(True)
        note.setStyleSheet(f"color:{GREY}")
        g.addWidget(note, 0, 0, 1, 4)
        self.co_badge = QLineEdit(box)
        self.co_badge.setPlaceholderText("同行人员的执法证号")
        self.co_badge.textChanged.connect(self._cosign_fields)
        self.co_code = QLineEdit(box)
        self.co_code.setPlaceholderText("总部发给该人员的登记码")
        self.co_pw = QLineEdit(box)
        self.co_pw.setEchoMode(QLineEdit.EchoMode.Password)
        self.co_pw2 = QLineEdit(box)
        self.co_pw2.setEchoMode(QLineEdit.EchoMode.Password)
        self.co_pw2.setPlaceholderText("再次输入签名口令")
        for r, c, label, w in ((1, 0, "执法证号", self.co_badge), (1, 2, "登记码", self.co_code),
                               (2, 0, "签名口令", self.co_pw), (2, 2, "再次输入", self.co_pw2)):
            g.addWidget(QLabel(label, box), r, c)
            g.addWidget(w, r, c + 1)
        self.co_who = QLabel("", box)
        g.addWidget(self.co_who, 3, 1, 1, 3)
        self.co_btn = QPushButton("申请总部证书", box)
        self.co_btn.clicked.connect(self.certify_co_inspector)
        g.addWidget(self.co_btn, 4, 1)
        self.co_state = QLabel("", box)
        self.co_state.setWordWrap(True)
        g.addWidget(self.co_state, 5, 0, 1, 4)
        self.co_keys = QLabel("", box)
        self.co_keys.setWordWrap(True)
        g.addWidget(self.co_keys, 6, 0, 1, 4)
        g.setColumnStretch(1, 1)
        g.setColumnStretch(3, 1)
        box.hide()
        return box

    def _cosign_fields(self, badge: str = "") -> None:
        """The passphrase is asked only when this laptop has no key for that badge yet."""
        from inspector import keys

        badge = (badge or self.co_badge.text()).strip()
        try:
            has = bool(badge) and keys.has_key(self.store.home, badge)
        except InspectorError:
            has = False
        for w in (self.co_pw, self.co_pw2):
            w.setEnabled(not has)
        self.co_pw.setPlaceholderText("本机已有其签名密钥，无需填写" if has else
                                      f"由本人设定签名口令（至少 {keys.MIN_PASSPHRASE} 个字符）")
        who = None
        if badge:
            try:
                who = core.directory().get_inspector(self.store, badge)
            except InspectorError:  # not in the directory (yet)
                who = None
        self.co_who.setText(f"{who['name']}　{who.get('unit') or ''}" if who else
                            ("<span style='color:%s'>名录中没有这个执法证号（同步后再试，或核对号码）</span>" % GREY
                             if badge else ""))

    def _show_keys(self) -> None:
        from inspector import sync

        rows = sync.inspector_keys(self.store)
        self.co_keys.setText("本机签名密钥：" + "；".join(
            f"{k.get('name') or ''}（{k['badge_no']}）" + (f"<span style='color:{GREEN}'>总部认证</span>"
                                                          if k["hq_certified"] else
                                                          f"<span style='color:{RED}'>仅本机临时证书</span>")
            for k in rows) if rows else "本机还没有签名密钥。")

    def certify_co_inspector(self) -> None:
        """Certify in the background (network, key generation); the window stays usable."""
        from inspector import keys, sync

        badge, code = self.co_badge.text().strip(), self.co_code.text().strip()
        pw = self.co_pw.text()
        problem = "请填写同行检查人员的执法证号。" if not badge else "请填写总部发给该人员的登记码。" if not code else ""
        if not problem and not keys.has_key(self.store.home, badge):
            if not pw:
                problem = f"执法证号 {badge} 在本机还没有签名密钥：请由本人设定签名口令。"
            elif pw != self.co_pw2.text():
                problem = "两次输入的签名口令不一致。"
            elif len(pw) < keys.MIN_PASSPHRASE:
                problem = f"签名口令至少 {keys.MIN_PASSPHRASE} 个字符。"
        if problem:
            self.co_state.setText(f"<span style='color:{RED}'>{problem}</span>")
            return
        self.co_pw.clear()
        self.co_pw2.clear()
        self.co_btn.setEnabled(False)
        self.co_state.setText("正在向总部申请证书……")
        path = self.store.path

        def work(_progress: Any) -> Any:
            s = Store(path)  # the worker's own connection
            try:
                return sync.certify_inspector(s, code, badge, passphrase=pw or None)
            finally:
                s.close()

        self.cosign_op = Operation(work, self)
        self.cosign_op.succeeded.connect(self._certified)
        self.cosign_op.failed.connect(self._certify_failed)
        self.cosign_op.start()

    def _certified(self, res: dict[str, Any]) -> None:
        self.cosign_op = None
        self.co_btn.setEnabled(True)
        self.co_code.clear()
        name = (res.get("inspector") or {}).get("name") or ""
        self._show_keys()
        self._cosign_fields()
        self.co_state.setText(f"<span style='color:{GREEN}'>已获总部证书：{name}（{res['badge_no']}）"
                              f"{'，已生成其签名密钥' if res.get('key_created') else ''}。此后两人在本机签署的文书"
                              "都验证为总部认证。</span>")
        self.message.emit(f"执法证号 {res['badge_no']} 的签名证书已由总部签发。")
        self.certified.emit(res)

    def _certify_failed(self, e: Any) -> None:
        self.cosign_op = None
        self.co_btn.setEnabled(True)
        plain = str(e) if isinstance(e, InspectorError) else f"{type(e).__name__}: {e}"
        self.co_state.setText(f"<span style='color:{RED}'>申请失败：{plain}</span>")

    def refresh(self) -> None:
        self.me.clear()
        self.me.addItem("—（未选择）", None)
        try:
            for p in core.inspectors(self.store):
                self.me.addItem(f"{p['name']}（{p['badge_no']}）", p["id"])
        except InspectorError:  # logged; the list stays at 未选择 and enrolment still works
            logging.getLogger(__name__).exception("inspectors cannot be listed")
        self.me.setCurrentIndex(max(0, self.me.findData(self.store.get_meta("ui.me"))))
        self.url.setText(self.store.get_meta(HQ_URL_KEY) or "")
        self._show_me()
        from inspector import sync

        e = sync.status(self.store)
        # a laptop not yet enrolled sees the enrolment form first (it also makes the signing key)
        order = self.boxes if e.get("enrolled") else [self.hq_box, *self.boxes[:2]]
        for i, box in enumerate(order):
            if self.body.indexOf(box) != i:
                self.body.insertWidget(i, box)
        self.cosign_box.setVisible(bool(e.get("enrolled")))
        if e.get("enrolled"):
            self._show_keys()
            self._cosign_fields()
        if e.get("enrolled"):
            self.url.setText(e.get("hq_url") or self.url.text())
            self.badge.setText(e.get("badge_no") or "")
            self.enrol_state.setText(f"<span style='color:{GREEN}'>本机已登记（执法证号 {e.get('badge_no')}，"
                                     f"设备 {e.get('device_id')}）</span>")
            self.enrol_btn.setText("重新登记")
        elif self.enrol_op is None:
            self.enrol_state.setText(f"<span style='color:{GREY}'>本机尚未登记。不登记也能离线检查；"
                                     "登记后才能下载任务、名录和检查表，并上传检查结果。</span>")

    def _enrol_key_fields(self, badge: str) -> None:
        """The passphrase is only asked for when enrolment has to make the signing key."""
        from inspector import keys

        need = not (badge.strip() and keys.has_key(self.store.home, badge.strip()))
        for w in (self.enrol_pw, self.enrol_pw2):
            w.setEnabled(need)
        self.enrol_pw.setPlaceholderText("本机尚无该执法证号的签名密钥：设定签名口令（至少 8 个字符）" if need
                                         else "本机已有该执法证号的签名密钥，无需填写")
        self.enrol_pw2.setPlaceholderText("再次输入签名口令" if need else "")

    def focus_enrolment(self) -> None:
        """From the first-start offer: the first empty field of the enrolment form gets the cursor."""
        for w in (self.url, self.badge, self.code):
            if not w.text().strip():
                w.setFocus()
                return
        self.enrol_pw.setFocus()

    def _me(self) -> dict[str, Any] | None:
        iid = self.me.currentData()
        if not iid:
            return None
        try:
            return core.directory().get_inspector(self.store, iid)
        except InspectorError:
            return None

    def _me_changed(self, _i: int) -> None:
        self.store.set_meta("ui.me", self.me.currentData() or "")
        self._show_me()

    def _show_me(self) -> None:
        from inspector import keys

        p = self._me()
        if not p:
            self.me_info.setText("选择本机使用人后可生成签名密钥。")
            self.key_state.setText("—")
            self.key_btn.setEnabled(False)
            for w in (self.pw1, self.pw2):
                w.setEnabled(False)
            return
        self.me_info.setText(f"{p.get('unit') or ''}　{p.get('county') or ''}")
        if not self.badge.text().strip():
            self.badge.setText(p.get("badge_no") or "")
        has = keys.has_key(self.store.home, p["badge_no"])
        self.key_state.setText(f"<span style='color:{GREEN}'>已有签名密钥</span>" if has
                               else f"<span style='color:{RED}'>尚无签名密钥</span>")
        self.key_btn.setEnabled(not has)
        for w in (self.pw1, self.pw2):
            w.setEnabled(not has)
        self._enrol_key_fields(self.badge.text())

    def create_key(self) -> None:
        from inspector import keys

        p = self._me()
        if not p:
            return
        if self.pw1.text() != self.pw2.text():
            self.message.emit("两次输入的签名口令不一致。")
            return
        try:
            keys.create_inspector_key(self.store.home, p["badge_no"], p["name"], self.pw1.text(), unit=p.get("unit"))
        except InspectorError as e:
            self.message.emit(str(e))
            return
        self.pw1.clear()
        self.pw2.clear()
        self.message.emit("签名密钥已生成。口令只保存在您的记忆中，请勿告诉他人。")
        self._show_me()

    def enrol(self) -> None:
        """Enrol in the background (network, key generation); the window stays usable."""
        from inspector import keys, sync

        url = self.url.text().strip()
        self.store.set_meta(HQ_URL_KEY, url)
        p = self._me()
        badge = self.badge.text().strip() or (p["badge_no"] if p else "")
        code = self.code.text().strip()
        problem = ("请填写总部地址。" if not url else "请填写执法证号。" if not badge
                   else "请填写总部发放的登记码。" if not code else "")
        pw = self.enrol_pw.text()
        if not problem and not keys.has_key(self.store.home, badge):
            if not pw:
                problem = f"执法证号 {badge} 在本机还没有签名密钥：请设定签名口令（登记时生成密钥）。"
            elif pw != self.enrol_pw2.text():
                problem = "两次输入的签名口令不一致。"
        if problem:
            self.enrol_state.setText(f"<span style='color:{RED}'>{problem}</span>")
            return
        self.enrol_pw.clear()
        self.enrol_pw2.clear()
        self.enrol_btn.setEnabled(False)
        self.enrol_state.setText("正在连接总部并登记……")
        path = self.store.path

        def work(_progress: Any) -> Any:
            s = Store(path)  # the worker's own connection
            try:
                return sync.enrol(s, url, code, badge_no=badge, passphrase=pw or None)
            finally:
                s.close()

        self.enrol_op = Operation(work, self)
        self.enrol_op.succeeded.connect(self._enrolled)
        self.enrol_op.failed.connect(self._enrol_failed)
        self.enrol_op.start()

    def _enrolled(self, res: dict[str, Any]) -> None:
        self.enrol_op = None
        self.enrol_btn.setEnabled(True)
        me = (res.get("inspector") or {}).get("id")
        if me and not self.store.get_meta("ui.me"):
            self.store.set_meta("ui.me", me)  # HQ's id for this inspector; the directory arrives at the next sync
        self.code.clear()
        self.refresh()
        self.enrol_state.setText(f"<span style='color:{GREEN}'>登记成功，本机已登记：设备 {res['device_id']}，"
                                 f"执法证号 {res['badge_no']}。请到“同步”下载任务、名录和检查表。</span>")
        self.message.emit("本机已在总部登记。")
        self.enrolled.emit(res)

    def _enrol_failed(self, e: Any) -> None:
        self.enrol_op = None
        self.enrol_btn.setEnabled(True)
        plain = str(e) if isinstance(e, InspectorError) else f"{type(e).__name__}: {e}"
        self.enrol_state.setText(f"<span style='color:{RED}'>登记失败：{plain}</span>")
