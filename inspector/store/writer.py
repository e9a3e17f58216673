"""Write-behind for the GUI: answers typed on screen are written (and fsynced) by one thread with
its own SQLite connection, so a keystroke never waits for the disk on the GUI thread.

Guarantees (tests/test_ui_writer.py kills the app with SIGKILL to check them):

- Order: jobs run one at a time, in submission order, each in its own transaction (``synchronous
  =FULL``: on disk when it commits). ``acked`` is the sequence number of the last committed job;
  every job submitted up to it is on disk (or superseded by a newer job with the same key).
- Coalescing: a job still queued is dropped when a newer job with the same key arrives (only the
  newest answer of an item matters); the newer one goes to the end of the queue, so the final
  state is the state of applying every job in order.
- Loss on a kill: only what is submitted and not yet committed — while typing, the keystroke in
  flight (a commit takes milliseconds, keystrokes come tens of milliseconds apart).
- Read-your-writes: the GUI keeps what it submitted in memory (the visit's answers); any code that
  reads the store calls ``flush()`` first (the visit does so before pages, checks and documents).

WAL lets the GUI's own connection read while this thread commits, so reads do not wait either.
"""
from __future__ import annotations

import logging
import threading
import time
from collections import OrderedDict
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Hashable

logger = logging.getLogger(__name__)

Job = Callable[[Any], Any]          # called with the writer's own Store


@dataclass
class _Item:
    seq: int
    key: Hashable
    fn: Job
    submitted_at: float


def _background_priority() -> None:
    """A 1 ms GIL switch interval, so the GUI thread never waits the default 5 ms while the writer
    runs Python code between its I/O calls. (The thread's nice value is left alone: a descheduled
    writer holding the GIL would stall the GUI thread — priority inversion.)"""
    import sys

    if sys.getswitchinterval() > 0.001:
        sys.setswitchinterval(0.001)


BACKPRESSURE = 0.05  # seconds a new write waits for the previous one to commit


class StoreWriter:
    """One background writer over its own connection to the store at ``path``."""

    def __init__(self, path: str | Path, *, on_error: Callable[[Hashable, BaseException], None] | None = None,
                 on_done: Callable[[Hashable, Any], None] | None = None, name: str = "store-writer",
                 reader: Any = None):
        """``reader``: the GUI's own Store; its reads of answers/inspections wait for this writer
        (``Store.settle``), so whatever reads the store sees what was typed."""
        self.path = Path(path)
        self.reader = reader
        self.on_error, self.on_done = on_error, on_done
        self._cv = threading.Condition()
        self._queue: "OrderedDict[Hashable, _Item]" = OrderedDict()
        self._running: _Item | None = None
        self._seq = 0
        self.acked = 0                      # last committed sequence number
        self.committed_at: dict[int, float] = {}   # seq → perf_counter() at commit (last 1000)
        self.submitted_at: dict[int, float] = {}
        self.max_depth = 0                  # the deepest the queue has been (jobs waiting + running)
        self._closing = False
        self._store: Any = None
        self._thread = threading.Thread(target=self._run, name=name, daemon=True)
        self._thread.start()
        if reader is not None:
            reader.writers.add(self)

    # -- GUI side ----------------------------------------------------------------------
    def submit(self, key: Hashable, fn: Job) -> int:
        """Queue ``fn(store)``; returns its sequence number (waits only for the previous job, if any)."""
        with self._cv:
            if self._closing:
                raise RuntimeError("store writer is closed")
            # at most one write outstanding when the disk keeps up: a keystroke waits (at most
            # BACKPRESSURE) for the previous one, so a kill -9 loses only the keystroke in flight;
            # a stalled disk (a lock held elsewhere) never freezes typing for longer than that
            if threading.current_thread() is not self._thread:
                self._cv.wait_for(lambda: self.acked >= self._seq or not self._thread.is_alive(), BACKPRESSURE)
            self._seq += 1
            now = time.perf_counter()
            self._queue.pop(key, None)        # superseded: the newer job carries the final value
            self._queue[key] = _Item(self._seq, key, fn, now)
            self.submitted_at[self._seq] = now
            self.max_depth = max(self.max_depth, self.depth_locked())
            self._cv.notify_all()
            return self._seq

    def depth_locked(self) -> int:
        return len(self._queue) + (1 if self._running is not None else 0)

    def depth(self) -> int:
        """Jobs queued or being written right now."""
        with self._cv:
            return self.depth_locked()

    @property
    def submitted(self) -> int:
        return self._seq

    def flush(self, timeout: float | None = 30.0) -> bool:
        """Wait until everything submitted so far is on disk; False on timeout."""
        if threading.current_thread() is self._thread:
            return True  # a job reading through the GUI's store must not wait for itself
        with self._cv:
            target = self._seq
            return self._cv.wait_for(lambda: self.acked >= target or not self._thread.is_alive(), timeout)

    def close(self) -> None:
        """Write what is queued, then stop the thread and close its connection."""
        with self._cv:
            if self._closing:
                return
            self._closing = True
            self._cv.notify_all()
        if self.reader is not None:
            self.reader.writers.discard(self)
        if threading.current_thread() is not self._thread:
            self._thread.join(timeout=60)

    # -- writer thread -------------------------------------------------------------------
    def _open(self) -> Any:
        from inspector.store import Store

        return Store(self.path)

    def _run(self) -> None:
        _background_priority()
        try:
            self._store = self._open()
        except BaseException as e:  # noqa: BLE001 - reported to the GUI; jobs then fail one by one
            logger.exception("store writer cannot open %s", self.path)
            self._store = None
            open_error: BaseException | None = e
        else:
            open_error = None
        while True:
            with self._cv:
                self._cv.wait_for(lambda: bool(self._queue) or self._closing)
                if not self._queue and self._closing:
                    break
                _key, item = self._queue.popitem(last=False)
                self._running = item
            result: Any = None
            try:
                if self._store is None:
                    raise RuntimeError(f"无法打开数据库写入：{open_error}")
                result = item.fn(self._store)
            except BaseException as e:  # noqa: BLE001 - one failed write must not stop the writer
                logger.warning("background write %r failed: %s", item.key, e)
                if self.on_error is not None:
                    self.on_error(item.key, e)
            else:
                if self.on_done is not None:
                    self.on_done(item.key, result)
            with self._cv:
                self.acked = item.seq
                self._running = None
                self.committed_at[item.seq] = time.perf_counter()
                for d in (self.committed_at, self.submitted_at):  # keep the last 1000 (dicts keep order)
                    while len(d) > 1000:
                        d.pop(next(iter(d)))
                self._cv.notify_all()
        if self._store is not None:
            self._store.close()
