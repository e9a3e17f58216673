"""``make bench``: runs every tests/bench/bench_*.py ``run()`` and prints a table.

Each ``run()`` returns rows: {"name", "seconds", "baseline", "baseline_seconds",
"ratio", "target", "note", "meaning"} ("meaning" says what the ratio tells a reader); the baseline is measured in the same run, so the
ratio means something on any machine. Timings are never asserted in tests.
"""
from __future__ import annotations

import importlib
import json
import pkgutil
import sys
import time
from pathlib import Path


def main(argv: list[str]) -> int:
    only = set(argv)
    rows = []
    here = Path(__file__).parent
    for mod in sorted(pkgutil.iter_modules([str(here)]), key=lambda m: m.name):
        if not mod.name.startswith("bench_"):
            continue
        short = mod.name.removeprefix("bench_")
        if only and short not in only:
            continue
        t0 = time.perf_counter()
        m = importlib.import_module(f"tests.bench.{mod.name}")
        try:
            got = m.run()
        except Exception as e:  # one broken bench must not hide the others
            got = [{"name": f"{short}: FAILED", "note": repr(e)}]
        for r in got:
            r.setdefault("group", short)
            rows.append(r)
            _print_row(r)
        print(f"  ({short} took {time.perf_counter() - t0:.1f} s)", flush=True)
    out = Path("bench-results.json")
    out.write_text(json.dumps(rows, ensure_ascii=False, indent=2), encoding="utf-8")
    print(f"\nwrote {out}")
    return 0


def _print_row(r: dict) -> None:
    def f(x: object) -> str:
        return f"{x:.4f}" if isinstance(x, float) else str(x if x is not None else "-")

    print(f"[{r.get('group')}] {r.get('name')}: {f(r.get('seconds'))} s"
          f" | baseline {r.get('baseline', '-')}: {f(r.get('baseline_seconds'))} s"
          f" | ratio {f(r.get('ratio'))} | target {r.get('target', '-')}"
          + (f" | {r['note']}" if r.get("note") else "")
          + (f"\n    meaning: {r['meaning']}" if r.get("meaning") else ""), flush=True)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
