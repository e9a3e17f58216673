"""A whole visit driven by the keyboard, the way an inspector at a laptop does it: every event goes
to the widget that has the focus (QApplication.focusWidget()), never to a widget picked by the test,
and never a setter. Key presses, mouse clicks and signature strokes are counted, so the bench
(tests/bench/bench_ui_keyboard.py) reports what it costs to finish a shipped checklist.

Chinese text is what an input method commits (QInputMethodEvent): QTest types Latin-1 only. It is
counted as one key press per character (a pinyin typist presses more).

Used by tests/test_ui_keyboard_visit.py and the bench; no pytest fixtures in here.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

# -- what is answered, item by item ------------------------------------------------------------
# ("verdict", "1")            1/2/3 on a 符合/不符合/不适用 item
# ("type", "20271231")       Latin text typed into the field (numbers, dates)
# ("ime", "中文")            Chinese committed by the input method
# ("pick", 2)                the 2nd choice of a drop-down (digit key)
# ("ticks", [0, 1, ...])     a tick list: Space on the given boxes (Tab walks them)
# ("table", [[cell, ...]])   rows of a table; cell: ("type", "Zhang") / ("pick", 1) / ("ime", "王")
# ("skipped", None)          made 不适用 by the checklist's rule: no stop, nothing typed

TEACHERS = [  # T-2-1: two theory and two practical teachers who meet the conditions
    [("type", "Zhang Wei"), ("type", "Electrician"), ("pick", 1), ("pick", 5), ("pick", 3), ("pick", 1),
     ("type", "6"), ("pick", 1), ("pick", 1)],
    [("type", "Li Na"), ("type", "Electrician"), ("pick", 1), ("pick", 5), ("pick", 3), ("pick", 1),
     ("type", "4"), ("pick", 1), ("pick", 1)],
    [("type", "Wang Qiang"), ("type", "Electrician"), ("pick", 2), ("pick", 4), ("pick", 8), ("pick", 2),
     ("type", "9"), ("pick", 1), ("pick", 1)],
    [("type", "Zhao Min"), ("type", "Electrician"), ("pick", 2), ("pick", 4), ("pick", 8), ("pick", 2),
     ("type", "3"), ("pick", 1), ("pick", 1)],
]
ADMIN = [  # T-4-1: a full-time principal and three full-time administrators
    [("type", "Chen Jun"), ("pick", 1), ("pick", 1), ("type", "12")],
    [("type", "Sun Li"), ("pick", 2), ("pick", 1), ("type", "5")],
    [("type", "Zhou Yan"), ("pick", 2), ("pick", 1), ("type", "3")],
    [("type", "Wu Gang"), ("pick", 2), ("pick", 1), ("type", "7")],
]
FINANCE = [  # T-4-2: two with the accounting certificate
    [("type", "Zheng Hua"), ("pick", 1), ("pick", 1)],
    [("type", "Feng Xue"), ("pick", 2), ("pick", 1)],
]
HOURS = [  # T-6-1: one class, all hours in the classroom
    [("type", "Class 2026-03"), ("type", "120"), ("type", "118"), ("type", "0"), ("type", "0")],
]

EVALUATION_FAILS = {"E-03"}        # the one item found wanting: a finding with its 整改要求
EVALUATION_ACTION = "配齐专职工作人员，考评人员和专家须符合任职条件"
TRAINING_NOTE = "线上培训未开展，归档资料齐全，现场查验无异常"
EVALUATION_NOTE = "评价活动记录完整，考评员名册与现场一致"


def not_inspected(checklist_id: str) -> set[str]:
    """Items the visit's profile (the demo's default, 新乡) does not inspect: 不适用 by its rule
    (their basis cites only Inner Mongolia's notices), skipped like the items of a ``when`` rule."""
    from inspector import forms, profiles

    prof = profiles.load(profiles.DEFAULT)
    cl = next(c for c in forms.load_all() if c.id == checklist_id)
    return {it.id for it in cl.items if prof.not_applicable(it.basis)}


def training_plan() -> dict[str, tuple[str, Any]]:
    v = ("verdict", "1")
    plan: dict[str, tuple[str, Any]] = {f"T-1-{k}": v for k in range(1, 6)}
    plan["T-1-6"] = ("type", "20271231")
    plan["T-2-1"] = ("table", TEACHERS)
    plan.update({"T-2-2": v, "T-2-3": v, "T-3-1": ("type", "320")})
    plan.update({f"T-3-{k}": v for k in range(2, 7)})
    plan.update({"T-4-1": ("table", ADMIN), "T-4-2": ("table", FINANCE), "T-4-3": v})
    plan.update({f"T-5-{k}": v for k in range(1, 11)})
    plan["T-6-1"] = ("table", HOURS)
    plan["T-6-2"] = ("pick", 2)                       # 否: T-6-3…5 become 不适用 by the rule
    plan.update({f"T-6-{k}": ("skipped", None) for k in (3, 4, 5)})
    plan["T-6-6"] = ("ticks", list(range(10)))        # every archive document seen
    plan.update({"T-6-7": v, "T-6-8": v, "T-6-9": ("ime", TRAINING_NOTE)})
    plan.update({i: ("skipped", None) for i in not_inspected("training")})
    return plan


def evaluation_plan() -> dict[str, tuple[str, Any]]:
    v = ("verdict", "1")
    plan: dict[str, tuple[str, Any]] = {f"E-{k:02d}": v for k in range(1, 28)}
    plan["E-28"] = ("ticks", list(range(7)))
    plan.update({"E-29": v, "E-30": v, "E-31": ("type", "18")})
    plan.update({f"E-{k}": v for k in range(32, 38)})
    plan.update({"E-38": ("type", "2"), "E-39": ("type", "10"), "E-40": v, "E-41": v})
    plan["E-03"] = ("verdict", "2")                   # 不符合: the one finding
    import datetime as dt

    recent = dt.date.today() - dt.timedelta(days=40)
    plan["E-42"] = ("type", recent.strftime("%Y%m%d"))
    plan["E-43"] = ("ime", EVALUATION_NOTE)
    plan.update({i: ("skipped", None) for i in not_inspected("evaluation")})
    return plan


@dataclass
class Counts:
    keys: int = 0
    content: int = 0      # of the keys: characters of the answers themselves (names, figures, text)
    clicks: int = 0
    strokes: int = 0
    log: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, int]:
        return {"keys": self.keys, "content": self.content, "clicks": self.clicks, "strokes": self.strokes}


class Keyboard:
    """Sends events to the focus widget and counts them."""

    def __init__(self, app: Any, main: Any = None):
        self.app, self.main = app, main
        self.n = Counts()

    def focus(self) -> Any:
        # what the event loop does between two keystrokes of a person (a window shown is activated,
        # a timer fires); no sleeping
        self.app.processEvents()
        if self.app.activeWindow() is None and self.main is not None:
            # a dialog closed: a window manager gives the main window back the keyboard; the
            # offscreen platform has none, so do what it would
            self.main.activateWindow()
            self.app.processEvents()
        w = self.app.focusWidget()
        assert w is not None, "no widget has the keyboard focus: " + " | ".join(self.n.log[-5:])
        return w

    def key(self, key: Any, mod: Any = None, times: int = 1) -> None:
        from PySide6.QtTest import QTest
        from ui.qt import Qt

        for _ in range(times):
            QTest.keyClick(self.focus(), key, mod or Qt.KeyboardModifier.NoModifier)
            self.n.keys += 1
        self.n.log.append(f"key {key} x{times}")

    def tab(self, times: int = 1) -> None:
        from ui.qt import Qt

        self.key(Qt.Key.Key_Tab, times=times)

    def type(self, text: str) -> None:
        from PySide6.QtTest import QTest

        assert text.isascii(), text
        for ch in text:
            QTest.keyClick(self.focus(), ch)
        self.n.keys += len(text)
        self.n.content += len(text)
        self.n.log.append(f"type {text!r}")

    def ime(self, text: str) -> None:
        """What a Chinese input method commits into the focus widget."""
        from PySide6.QtGui import QInputMethodEvent

        ev = QInputMethodEvent("", [])
        ev.setCommitString(text)
        self.app.sendEvent(self.focus(), ev)
        self.n.keys += len(text)
        self.n.content += len(text)
        self.n.log.append(f"ime {text!r}")

    def click(self, widget: Any) -> None:
        """A mouse click where the keyboard cannot do it (counted)."""
        from PySide6.QtTest import QTest
        from ui.qt import Qt

        QTest.mouseClick(widget, Qt.MouseButton.LeftButton)
        self.n.clicks += 1
        self.n.log.append(f"click {type(widget).__name__}")

    def sign(self, pad: Any, seed: int) -> None:
        """Three pen strokes on a signature pad (no keyboard equivalent for a handwritten signature)."""
        from PySide6.QtGui import QMouseEvent
        from ui.qt import QApplication, QEvent, QPointF, Qt

        def ev(kind: Any, p: tuple[float, float], buttons: Any) -> Any:
            pos = QPointF(*p)
            return QMouseEvent(kind, pos, pad.mapToGlobal(pos), Qt.MouseButton.LeftButton, buttons,
                               Qt.KeyboardModifier.NoModifier)

        for k in range(3):
            pts = [(30 + 40 * k + 8 * math.sin(i / 2 + seed), 40 + 3 * i) for i in range(15)]
            QApplication.sendEvent(pad, ev(QEvent.Type.MouseButtonPress, pts[0], Qt.MouseButton.LeftButton))
            for p in pts[1:]:
                QApplication.sendEvent(pad, ev(QEvent.Type.MouseMove, p, Qt.MouseButton.LeftButton))
            QApplication.sendEvent(pad, ev(QEvent.Type.MouseButtonRelease, pts[-1], Qt.MouseButton.NoButton))
            self.n.strokes += 1
        self.n.log.append("sign")

    def when_asked(self, key: Any) -> None:
        """Press ``key`` in the next question box (QMessageBox) once it is up and has the keyboard;
        the box runs its own event loop, so the press is queued from a timer in that loop."""
        from ui.qt import QMessageBox, QTimer

        timer = QTimer(self.app)
        timer.setInterval(10)

        def poll() -> None:
            box = self.app.activeModalWidget()
            if isinstance(box, QMessageBox) and self.app.focusWidget() is not None \
                    and box.isAncestorOf(self.app.focusWidget()):
                timer.stop()
                self.asked.append(box.text())
                self.key(key)

        self.asked: list[str] = []
        timer.timeout.connect(poll)
        timer.start()

    def wait_active(self, window: Any) -> None:
        """A window just opened takes the keyboard once the window system activates it."""
        from PySide6.QtTest import QTest

        QTest.qWaitForWindowActive(window, 5000)

    def expect(self, cond: bool, what: str) -> None:
        if not cond:
            w = self.app.focusWidget()
            raise AssertionError(f"{what}; focus on {type(w).__name__ if w else None} "
                                 f"{getattr(w, 'objectName', lambda: '')()!r}; last: {self.n.log[-6:]}")


def _row_of(widget: Any) -> Any:
    from ui.items import ItemRow

    w = widget
    while w is not None and not isinstance(w, ItemRow):
        w = w.parentWidget()
    return w


def answer_checklist(kb: Keyboard, visit: Any, cv: str, plan: dict[str, tuple[str, Any]]) -> Counts:
    """From the focus on the checklist's first item to past its last one: answer and Tab on.
    Returns the counts spent on the checklist alone."""
    from ui.qt import Qt

    start = Counts(kb.n.keys, kb.n.content, kb.n.clicks, kb.n.strokes)
    cl = visit.checklists[cv]
    for item in cl.items:
        how, what = plan[item.id]
        if how == "skipped":
            row = visit.row(cv, item.id)
            kb.expect(not row.editor.isEnabled(), f"{item.id} should be skipped by the rule")
            continue
        row = _row_of(kb.focus())
        kb.expect(row is not None and row.item.id == item.id, f"focus should be on {item.id}")
        if how == "verdict":
            kb.type(what)
            kb.tab()
        elif how in ("type",):
            kb.type(what)
            kb.tab()
        elif how == "ime":
            kb.ime(what)
            kb.tab()
        elif how == "pick":
            kb.type(str(what))
            kb.tab()
        elif how == "ticks":
            boxes = row.editor.boxes
            for i in range(len(boxes)):
                if i in what:
                    kb.key(Qt.Key.Key_Space)
                kb.tab()
        elif how == "table":
            _fill_table(kb, row, what)
        else:  # pragma: no cover - a plan typo
            raise ValueError(how)
    return Counts(kb.n.keys - start.keys, kb.n.content - start.content, kb.n.clicks - start.clicks,
                  kb.n.strokes - start.strokes)


def _fill_table(kb: Keyboard, row: Any, rows: list[list[tuple[str, Any]]]) -> None:
    """Tab from the (empty) table to ＋添加一行, Space: the new row's first cell has the focus;
    typing opens the cell, Tab goes on to the next cell and out of the table after the last one."""
    from ui.qt import Qt

    ed = row.editor
    kb.tab()  # the empty table → ＋ 添加一行
    for cells in rows:
        kb.expect(kb.focus() is ed.add_btn, "Tab should reach ＋ 添加一行")
        kb.key(Qt.Key.Key_Space)
        for how, what in cells:
            if how == "type":
                kb.type(what)
            elif how == "ime":
                kb.ime(what)
            else:
                kb.type(str(what))
            kb.tab()
    # after the last cell the focus is on ＋ 添加一行 again: one more Tab leaves the item
    kb.tab()


START = {"place": "教学楼二层", "name": "王校长", "position": "校长", "phone": "13800000000",
         "recusal": "检查人员与本单位无利害关系，不申请回避"}


def drive_visit(kb: Keyboard, visit: Any, plan: dict[str, tuple[str, Any]],
                action: str | None = None) -> dict[str, dict[str, int]]:
    """开始检查 → every item → 问题与整改 (the findings drafted from failed items with ``action`` as
    their 整改要求, or none; 检查结果) → preview read page by page → the person in charge signs →
    the inspectors sign → 完成检查并锁定 (是). Returns the counts per phase."""
    from ui.qt import Qt

    phases: dict[str, dict[str, int]] = {}

    def now() -> Counts:
        return Counts(kb.n.keys, kb.n.content, kb.n.clicks, kb.n.strokes)

    def phase(name: str, since: Counts) -> Counts:
        phases[name] = {k: v - since.as_dict()[k] for k, v in kb.n.as_dict().items()}
        return now()

    mark = now()
    sp = visit.start_page
    # 开始检查: the visit opens with the keyboard in 检查地点
    kb.expect(kb.focus() is sp.place, "the visit should open in 检查地点")
    kb.ime(START["place"])
    kb.tab(3)                                    # → 检查人员 → 记录人 → 负责人姓名
    kb.expect(kb.focus() is sp.pic["name"], "Tab should reach 负责人姓名")
    kb.ime(START["name"])
    kb.tab()
    kb.ime(START["position"])
    kb.tab()
    kb.type(START["phone"])
    kb.tab()
    kb.expect(kb.focus() is sp.ids_shown, "Tab should reach 已出示执法证件")
    kb.key(Qt.Key.Key_Space)
    kb.tab()
    kb.key(Qt.Key.Key_Space)                     # 已告知权利
    kb.tab()
    kb.expect(kb.focus() is sp.recusal, "Tab should reach the answer on recusal")
    kb.ime(START["recusal"])
    kb.tab(2)                                    # → 检查表 → 开始逐项检查 →
    kb.key(Qt.Key.Key_Space)
    mark = phase("start", mark)
    # the checklists, item after item; Tab from a section's last item goes on into the next
    for cv in visit.insp.checklist_version_ids:
        answer_checklist(kb, visit, cv, plan)
    mark = phase("checklist", mark)
    # past the last item: 学员抽查核实 (not part of this visit) → Ctrl+PgDn → 问题与整改
    kb.expect(visit.current_page_key() == "trainees", "Tab after the last item should lead to 学员抽查核实")
    kb.key(Qt.Key.Key_PageDown, Qt.KeyboardModifier.ControlModifier)
    fp = visit.findings_page
    kb.expect(kb.focus() is fp.draft_btn, "问题与整改 should open on 从不符合项生成问题")
    if action is None:
        kb.tab(3)                                # → 手动添加 → 删除所选 → 检查结果
        kb.expect(kb.focus() is fp.result, "Tab should reach 检查结果")
        kb.type("1")                             # 未发现问题
    else:
        kb.key(Qt.Key.Key_Space)                 # 从不符合项生成问题: the keyboard lands in 整改要求
        kb.expect(kb.focus() is fp.action, "after drafting the keyboard should be in 整改要求")
        kb.ime(action)
        kb.key(Qt.Key.Key_Backtab, times=3)      # ← 问题描述 ← the findings ← 检查结果
        kb.expect(kb.focus() is fp.result, "Shift+Tab should reach 检查结果")
        kb.type("2")                             # 发现问题已责令改正
    kb.key(Qt.Key.Key_PageDown, Qt.KeyboardModifier.ControlModifier)
    mark = phase("findings", mark)
    # 签名: preview, read page by page, sign in order
    sg = visit.sign_page
    kb.expect(kb.focus() is sg.read_btn, "签名 should open on 生成笔录预览")
    kb.key(Qt.Key.Key_Space)
    r = sg.reader
    kb.expect(r is not None and r.isVisible(), "the reader should be open")
    kb.wait_active(r)
    kb.key(Qt.Key.Key_PageDown, times=r.pages - 1)
    kb.expect(r.done_btn.isEnabled(), "every page shown: 阅读完毕 enabled")
    kb.key(Qt.Key.Key_Return)                    # 阅读完毕 (the default button once all is read)
    kb.expect(not r.isVisible() and sg.complete_reading, "the reading should be complete")
    for seed, role in enumerate(("person_in_charge", "inspector1", "inspector2")):
        kb.sign(sg.boxes[role].pad, seed)
    kb.expect(kb.focus() is sg.read_btn, "the keyboard should be back on the preview button")
    n = 0
    while kb.focus() is not sg.save_btn and n < 12:
        kb.tab()
        n += 1
    kb.key(Qt.Key.Key_Space)                     # 确认签名
    mark = phase("sign", mark)
    # 文书: 完成检查并锁定, then 是 in the question
    kb.key(Qt.Key.Key_PageDown, Qt.KeyboardModifier.ControlModifier)
    dp = visit.docs_page
    kb.expect(kb.focus() is dp.finish_btn, "文书 should open on 完成检查并锁定")
    kb.when_asked(Qt.Key.Key_Return)  # 是 is the question's default button
    kb.key(Qt.Key.Key_Space)
    kb.expect(bool(kb.asked), "完成检查并锁定 should ask 是/否")
    kb.expect(visit.insp.locked, "the visit should be finished and locked")
    kb.expect(kb.focus() is dp.make_btn or kb.focus() is dp.sign_btn, "the keyboard stays on the documents")
    phase("finish", mark)
    return phases
