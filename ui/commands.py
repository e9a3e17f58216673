"""One QUndoCommand per user verb. ``redo`` writes through the core (durable on return) and
then refreshes the screen; ``undo`` writes the old value back the same way. Answers are the
exception: validated here, written by the visit's background writer (inspector/store/writer.py)
so a keystroke never waits for fsync.

Typing into one number/text item merges into one command (like a text editor), so Ctrl+Z
undoes the whole entry, not one digit.
"""
from __future__ import annotations

import logging
from typing import Any, Callable

from inspector.errors import InspectorError
from inspector.store import visits
from ui.qt import QUndoCommand

ANSWER_ID = 1001


class Failed(Exception):
    """Raised out of QUndoStack.push when the core refused the change (shown to the user)."""


class CoreCommand(QUndoCommand):
    """Base: remembers the error of the last redo/undo so the caller can show it."""

    error: Exception | None = None

    def _safe(self, fn: Callable[[], None]) -> None:
        self.error = None
        try:
            fn()
        except Exception as e:  # noqa: BLE001 - logged, and reported by the visit screen (the command is dropped)
            logging.getLogger(__name__).warning("%s failed: %s", self.text(), e,
                                                exc_info=not isinstance(e, InspectorError))  # a bug: its traceback
            self.error = e
            self.setObsolete(True)


class SetAnswer(CoreCommand):
    def __init__(self, visit: Any, cv_id: str, item_id: str, old: Any, new: Any, *, typing: bool = False,
                 label: str = ""):
        super().__init__(f"作答 {label or item_id}")
        self.visit, self.cv_id, self.item_id = visit, cv_id, item_id
        self.old, self.new, self.typing = old, new, typing

    def id(self) -> int:
        return ANSWER_ID

    def mergeWith(self, other: QUndoCommand) -> bool:
        if not isinstance(other, SetAnswer) or not (self.typing and other.typing) \
                or (other.cv_id, other.item_id) != (self.cv_id, self.item_id) or other.error:
            return False
        self.new = other.new
        return True

    def _write(self, value: Any) -> None:
        v = self.visit
        writer = getattr(v, "writer", None)
        if writer is None:
            visits.set_answer(v.store, v.inspection_id, self.cv_id, self.item_id, value, actor=v.actor)
        else:
            # validated here (a refusal shows at once); the fsync is the writer thread's (ui/visit.py)
            visits.validate_answer(v.store, self.cv_id, self.item_id, value)
            iid, cv, item, actor = v.inspection_id, self.cv_id, self.item_id, v.actor
            writer.submit(("answer", cv, item),
                          lambda s: visits.set_answer(s, iid, cv, item, value, actor=actor))
        v.answer_written(self.cv_id, self.item_id, value)

    def redo(self) -> None:
        self._safe(lambda: self._write(self.new))

    def undo(self) -> None:
        self._safe(lambda: self._write(self.old))


class UpdateInspection(CoreCommand):
    def __init__(self, visit: Any, old: dict[str, Any], new: dict[str, Any], label: str):
        super().__init__(label)
        self.visit, self.old, self.new = visit, old, new

    def _write(self, fields: dict[str, Any]) -> None:
        visits.update_inspection(self.visit.store, self.visit.inspection_id, actor=self.visit.actor, **fields)
        self.visit.inspection_written(fields)

    def redo(self) -> None:
        self._safe(lambda: self._write(self.new))

    def undo(self) -> None:
        self._safe(lambda: self._write(self.old))


class AddFindings(CoreCommand):
    """Add one or more findings (drafted from failed items, or a blank one)."""

    def __init__(self, visit: Any, drafts: list[dict[str, Any]], label: str = "添加问题"):
        super().__init__(label)
        self.visit, self.drafts = visit, drafts
        self.ids: list[str] = []

    def redo(self) -> None:
        def do() -> None:
            self.ids = [visits.add_finding(self.visit.store, self.visit.inspection_id, actor=self.visit.actor, **d)
                        for d in self.drafts]
            self.visit.findings_written()
        self._safe(do)

    def undo(self) -> None:
        def do() -> None:
            for fid in self.ids:
                visits.delete_finding(self.visit.store, fid, actor=self.visit.actor)
            self.visit.findings_written()
        self._safe(do)


_FINDING_KEYS = ("description", "codes", "severity", "checklist_version_id", "item_id", "basis",
                 "people_involved", "amount", "required_action", "deadline", "position")


def finding_fields(f: Any) -> dict[str, Any]:
    return {k: getattr(f, k) for k in _FINDING_KEYS}


class EditFinding(CoreCommand):
    def __init__(self, visit: Any, finding_id: str, old: dict[str, Any], new: dict[str, Any]):
        super().__init__("修改问题")
        self.visit, self.fid, self.old, self.new = visit, finding_id, old, new

    def _write(self, fields: dict[str, Any]) -> None:
        visits.update_finding(self.visit.store, self.fid, actor=self.visit.actor, **fields)
        self.visit.findings_written()

    def redo(self) -> None:
        self._safe(lambda: self._write(self.new))

    def undo(self) -> None:
        self._safe(lambda: self._write(self.old))


class DeleteFinding(CoreCommand):
    def __init__(self, visit: Any, finding: Any):
        super().__init__("删除问题")
        self.visit, self.fid, self.fields = visit, finding.id, finding_fields(finding)

    def redo(self) -> None:
        def do() -> None:
            visits.delete_finding(self.visit.store, self.fid, actor=self.visit.actor)
            self.visit.findings_written()
        self._safe(do)

    def undo(self) -> None:
        def do() -> None:
            self.fid = visits.add_finding(self.visit.store, self.visit.inspection_id, actor=self.visit.actor,
                                          **self.fields)
            self.visit.findings_written()
        self._safe(do)


class PhotoCommand(CoreCommand):
    """Add / remove photos or change a caption, through callables given by the photo panel."""

    def __init__(self, label: str, do: Callable[[], None], undo: Callable[[], None]):
        super().__init__(label)
        self._do, self._undo = do, undo

    def redo(self) -> None:
        self._safe(self._do)

    def undo(self) -> None:
        self._safe(self._undo)
