"""Batch import over a process pool: progress, cancel, results in order, callable from a thread."""
from __future__ import annotations

import functools
import os
import threading
from pathlib import Path

import pytest

from inspector import blobs, evidence
from tests.evidence_fixtures import blob_files, photo_bytes, write


@pytest.fixture(scope="module")
def ten(tmp_path_factory: pytest.TempPathFactory) -> list[Path]:
    d = tmp_path_factory.mktemp("ten")
    return [write(d, f"IMG_{i:04d}.jpg", photo_bytes(1200, 900, seed=100 + i)) for i in range(10)]


@pytest.mark.parametrize("workers", [1, 2])
def test_progress_reaches_total_with_all_bytes(tmp_path: Path, ten: list[Path], workers: int) -> None:
    calls: list[tuple[int, int, int]] = []
    landed: list[str] = []
    results = evidence.import_photos(tmp_path / "home", ten, workers=workers, progress=lambda *a: calls.append(a),
                                     on_result=lambda r: landed.append(r.original_name))
    assert all(r.ok for r in results)
    assert sorted(landed) == [p.name for p in ten]
    assert [r.original_name for r in results] == [p.name for p in ten]
    assert calls[0] == (0, 10, 0)
    assert [c[0] for c in calls] == list(range(11))           # one call per file, in order of completion
    assert all(c[1] == 10 for c in calls)
    assert calls[-1][2] == sum(p.stat().st_size for p in ten)
    assert [c[2] for c in calls] == sorted(c[2] for c in calls)


@pytest.mark.parametrize("workers", [1, 2])
def test_cancel_stops_early_and_keeps_what_is_done(tmp_path: Path, ten: list[Path], workers: int) -> None:
    cancel = threading.Event()

    def progress(done: int, total: int, nbytes: int) -> None:
        if done == 2:
            cancel.set()

    home = tmp_path / "home"
    results = evidence.import_photos(home, ten, workers=workers, progress=progress, cancel=cancel)
    assert len(results) == 10
    ok = [r for r in results if r.ok]
    cancelled = [r for r in results if r.status == "cancelled"]
    assert len(ok) + len(cancelled) == 10
    if workers == 1:
        assert len(ok) == 2
    else:  # files already handed to a worker finish; at most 2 per worker were in flight
        assert 2 <= len(ok) <= 2 + 2 * workers
    assert cancelled and all("已取消" in r.error for r in cancelled)
    for r in ok:  # what was done stays done
        assert blobs.verify(home, r.sha256) and blobs.has(home, r.display_sha256) and blobs.has(home, r.thumb_sha256)
    assert len(blob_files(home)) == 3 * len(ok)


def test_cancel_before_start_imports_nothing(tmp_path: Path, ten: list[Path]) -> None:
    cancel = threading.Event()
    cancel.set()
    results = evidence.import_photos(tmp_path / "home", ten, workers=2, cancel=cancel)
    assert {r.status for r in results} == {"cancelled"}
    assert blob_files(tmp_path / "home") == []


def test_runs_from_a_worker_thread_like_the_gui(tmp_path: Path, ten: list[Path]) -> None:
    seen_threads: set[str] = set()
    out: list[list[evidence.ImportResult]] = []

    def job() -> None:
        out.append(evidence.import_photos(tmp_path / "home", ten[:4], workers=2,
                                          progress=lambda *a: seen_threads.add(threading.current_thread().name)))

    t = threading.Thread(target=job, name="import-worker")
    t.start()
    t.join(120)
    assert out and all(r.ok for r in out[0])
    assert seen_threads == {"import-worker"}  # callbacks come in the calling thread


def test_a_failing_pool_falls_back_to_this_process(tmp_path: Path, ten: list[Path],
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    def no_pool() -> object:
        raise OSError("no semaphores in this sandbox")

    monkeypatch.setattr(evidence, "_context", no_pool)
    results = evidence.import_photos(tmp_path / "home", ten[:3], workers=2)
    assert all(r.ok for r in results)


def test_workers_dying_at_start_fall_back_to_this_process(tmp_path: Path, ten: list[Path],
                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(evidence, "_init_worker", functools.partial(os._exit, 3))  # every worker dies
    calls: list[tuple[int, int, int]] = []
    results = evidence.import_photos(tmp_path / "home", ten[:4], workers=2, progress=lambda *a: calls.append(a))
    assert [r.status for r in results] == ["ok"] * 4
    assert [c[0] for c in calls] == [0, 1, 2, 3, 4]  # each file reported once


def test_warm_up_then_import(tmp_path: Path, ten: list[Path]) -> None:
    evidence.warm_up()
    evidence.warm_up()  # idempotent
    assert all(r.ok for r in evidence.import_photos(tmp_path / "home", ten[:2], workers=2))


def test_empty_batch(tmp_path: Path) -> None:
    calls: list[tuple[int, int, int]] = []
    assert evidence.import_photos(tmp_path / "home", [], progress=lambda *a: calls.append(a)) == []
    assert calls == [(0, 0, 0)]
