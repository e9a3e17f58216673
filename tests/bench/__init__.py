"""``make bench``: each module's ``run()`` returns rows (a figure, its baseline in the same run, the ratio)."""
from __future__ import annotations

import time
from typing import Any, Callable


def best(fn: Callable[[], Any], n: int = 5) -> float:
    """The fastest of ``n`` runs of ``fn`` in seconds: the figure least disturbed by the shared machine."""
    times = []
    for _ in range(n):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return min(times)
