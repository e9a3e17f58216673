"""Rules engine speed: evaluating the largest checklist fully answered (tables of 30 rows),
and one table item per keystroke, against baselines measured in the same run.

Baselines (floors, not alternatives: nobody evaluates a checklist another way in the GUI): a
trivial loop over the items that only reads the answers (the floor any evaluation pays), and
decoding the same answers from the JSON text they are stored as (the CPU time of decoding alone,
which the GUI pays on every load before evaluating)."""
from __future__ import annotations

import json
import time
from typing import Any, Callable

from inspector import forms
from inspector.rules import evaluate, evaluate_item
from tests.forms_fixtures import (FORMS, admin_rows, all_passing, finance_rows, good_teachers, hours_row,
                                  trainee)

ROWS = 30


def _mean(fn: Callable[[], Any], seconds: float = 1.5, min_runs: int = 50) -> tuple[float, int]:
    fn()  # warm up
    n, t0 = 0, time.perf_counter()
    while n < min_runs or time.perf_counter() - t0 < seconds:
        fn()
        n += 1
    return (time.perf_counter() - t0) / n, n


def _answers(cl: forms.Checklist) -> dict[str, Any]:
    a = all_passing(cl)
    for it in cl.items:
        if it.rule == "teachers":
            a[it.id] = [r for t in ("电工", "焊工", "电子商务师", "养老护理员", "育婴员", "中式烹调师", "美发师", "保安员")
                        for r in good_teachers(t)][:ROWS - 2] + [good_teachers("叉车司机")[0]] * 2
        elif it.rule == "admin_staff":
            a[it.id] = admin_rows(ROWS - 1)
        elif it.rule == "finance_staff":
            a[it.id] = finance_rows(ROWS - 2, 2)
        elif it.rule == "class_hours":
            a[it.id] = [hours_row(f"学员{i}", 100, 90 + i % 11, 30 + i % 15, 6 + i % 4) for i in range(ROWS)]
        elif it.rule == "trainee_verification":
            a[it.id] = [trainee(f"学员{i}", reached=i % 5 != 0, id_no=f"1101051990010{i % 25:05d}")
                        for i in range(ROWS)]
    return a


def run() -> list[dict]:
    lists = {c.id: c for c in forms.load_all(FORMS)}
    # the most work per evaluation: the training form (4 computed tables), fully answered
    cl = lists["training"]
    answers = _answers(cl)
    items = cl.items

    def trivial() -> int:
        n = 0
        for it in items:
            if answers.get(it.id) is not None:
                n += 1
        return n

    ev = evaluate(cl, answers)
    t_eval, n_eval = _mean(lambda: evaluate(cl, answers))
    t_triv, _ = _mean(trivial)
    stored = {k: json.dumps(v, ensure_ascii=False) for k, v in answers.items()}  # answers.value as stored
    t_dec, n_dec = _mean(lambda: {k: json.loads(v) for k, v in stored.items()}, seconds=1.0)
    rows = [
        {"name": f"evaluate {cl.id} ({len(items)} items, tables of {ROWS} rows, {ev.counts['fail']} failing)",
         "seconds": t_eval, "baseline": "loop reading every answer", "baseline_seconds": t_triv,
         "ratio": t_eval / t_triv, "target": "< 0.005 s", "note": f"mean of {n_eval} runs",
         "meaning": "ratio = cost of judging every item over merely touching every answer"},
        {"name": f"evaluate {cl.id} vs decoding its answers", "seconds": t_eval,
         "baseline": "json.loads of the same answers as stored", "baseline_seconds": t_dec,
         "ratio": t_eval / t_dec, "target": "< 0.005 s", "note": f"decode mean of {n_dec} runs",
         "meaning": "ratio = evaluation time in units of the CPU time needed just to decode the answers "
                    "from the store; near 1 means evaluating costs about what loading the answers costs"},
    ]
    teachers = cl.item("T-2-1")
    t_key, n_key = _mean(lambda: evaluate_item(teachers, answers["T-2-1"]))
    rows.append({"name": f"evaluate_item teachers table ({ROWS} rows), per keystroke", "seconds": t_key,
                 "baseline": "loop reading every answer", "baseline_seconds": t_triv, "ratio": t_key / t_triv,
                 "target": "< 0.001 s", "note": f"mean of {n_key} runs",
                 "meaning": "ratio = one table item re-judged per keystroke over touching every answer once"})
    big = max(lists.values(), key=lambda c: len(c.items))
    if big.id != cl.id:
        ba = all_passing(big)
        t_big, n_big = _mean(lambda: evaluate(big, ba), seconds=1.0)
        t_bt, _ = _mean(lambda: [ba.get(i.id) for i in big.items], seconds=0.5)
        rows.append({"name": f"evaluate {big.id} (most items: {len(big.items)})", "seconds": t_big,
                     "baseline": "loop reading every answer", "baseline_seconds": t_bt, "ratio": t_big / t_bt,
                     "target": "< 0.005 s", "note": f"mean of {n_big} runs",
                     "meaning": "ratio = cost of judging every item over merely touching every answer"})
    return rows
