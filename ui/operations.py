"""Background work over QThreadPool (after Anki's ``aqt.operations``).

A worker runs ``fn`` off the GUI thread; success, failure and progress come back as queued
signals, so callbacks run on the GUI thread and workers never touch widgets.

    op = Operation(lambda progress: import_photos(..., progress=progress))
    op.succeeded.connect(show); op.failed.connect(report); op.start()
"""
from __future__ import annotations

import traceback
from typing import Any, Callable

from ui.qt import QObject, QRunnable, QThreadPool, Qt, Signal, Slot

_running: set["Operation"] = set()  # keep Python objects alive until they report


class Operation(QObject):
    """One background job. ``fn(progress)`` may call ``progress(done, total, bytes)``."""

    succeeded = Signal(object)
    failed = Signal(object)        # the exception
    progressed = Signal(int, int, int)
    done = Signal()                # after succeeded/failed

    # worker-side signals, relayed by slots of this (GUI-thread) object: a queued hop that
    # makes the public signals fire on the GUI thread whatever is connected to them
    _w_ok = Signal(object)
    _w_err = Signal(object)
    _w_prog = Signal(int, int, int)

    def __init__(self, fn: Callable[[Callable[[int, int, int], None]], Any], parent: QObject | None = None):
        super().__init__(parent)
        self._fn = fn
        self._w_ok.connect(self._relay_ok, Qt.ConnectionType.QueuedConnection)
        self._w_err.connect(self._relay_err, Qt.ConnectionType.QueuedConnection)
        self._w_prog.connect(self._relay_prog, Qt.ConnectionType.QueuedConnection)

    @Slot(object)
    def _relay_ok(self, result: object) -> None:
        self.succeeded.emit(result)
        self.done.emit()
        _running.discard(self)

    @Slot(object)
    def _relay_err(self, exc: object) -> None:
        self.failed.emit(exc)
        self.done.emit()
        _running.discard(self)

    @Slot(int, int, int)
    def _relay_prog(self, done: int, total: int, nbytes: int) -> None:
        self.progressed.emit(done, total, nbytes)

    def start(self, pool: QThreadPool | None = None) -> "Operation":
        _running.add(self)
        (pool or QThreadPool.globalInstance()).start(_Runner(self))
        return self

    # called from the worker thread: only emits (queued to the GUI thread)
    def _run(self) -> None:
        def progress(done: int, total: int, nbytes: int = 0) -> None:
            self._w_prog.emit(int(done), int(total), int(nbytes))

        try:
            result = self._fn(progress)
        except BaseException as e:  # noqa: BLE001 - reported to the GUI, never swallowed
            e.__traceback_text__ = traceback.format_exc()  # type: ignore[attr-defined]
            self._w_err.emit(e)
        else:
            self._w_ok.emit(result)


class _Runner(QRunnable):
    def __init__(self, op: Operation):
        super().__init__()
        self.op = op

    def run(self) -> None:
        self.op._run()


def run_in_background(fn: Callable[..., Any], *, on_success: Callable[[Any], None] | None = None,
                      on_failure: Callable[[BaseException], None] | None = None,
                      on_progress: Callable[[int, int, int], None] | None = None,
                      parent: QObject | None = None) -> Operation:
    """Builder-style helper: start ``fn(progress)`` and wire the callbacks (GUI thread)."""
    op = Operation(fn, parent)
    if on_success:
        op.succeeded.connect(on_success)
    if on_failure:
        op.failed.connect(on_failure)
    if on_progress:
        op.progressed.connect(on_progress)
    return op.start()
