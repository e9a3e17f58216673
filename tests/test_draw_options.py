"""The draw's options are declared once (inspector/draw_options.py): ``inspector draw`` and ``inspector-hq draw``
read the same flags into the same parameters."""
from __future__ import annotations

import argparse

import pytest

from inspector.cli import build_parser as laptop_parser
from inspector.draw import DrawParams
from inspector.draw_options import add_draw_arguments, draw_params
from inspector.errors import ValidationError
from inspector.hq.cli import build_parser as hq_parser

FLAGS = ["--seed", "2026 第一次", "--per-county", "4", "--ratio", "0.25", "--kind", "评价机构",
         "--inspectors-per-task", "3", "--exclude-home-county", "--weighted", "--due-days", "12", "--dry-run",
         "--actor", "张三"]


def _draw_actions(parser):
    sub = next(a for a in parser._actions if a.dest == "command")  # the sub-command table
    return {a.dest: a for a in sub.choices["draw"]._actions}


def _shape(a):
    return a.option_strings, a.default, a.type, a.choices, a.help, a.nargs, type(a).__name__


def test_both_commands_offer_the_same_draw_options():
    declared = argparse.ArgumentParser()
    add_draw_arguments(declared)
    names = {a.dest for a in declared._actions} - {"help"}
    assert names == {"seed", "per_county", "ratio", "kind", "inspectors_per_task", "exclude_home_county",
                     "weighted", "due_days", "dry_run", "actor"}
    laptop, hq = _draw_actions(laptop_parser()), _draw_actions(hq_parser())
    for name in names:
        assert _shape(laptop[name]) == _shape(hq[name]), name
    assert not laptop["seed"].required and hq["seed"].required  # see test_missing_seed_…


def test_both_commands_read_the_same_parameters():
    laptop = laptop_parser().parse_args(["draw", *FLAGS])
    hq = hq_parser().parse_args(["draw", *FLAGS])
    expected = DrawParams(per_county=4, ratio=0.25, kind="评价机构", inspectors_per_task=3,
                          exclude_home_county=True, weighted=True)
    assert draw_params(laptop) == draw_params(hq) == expected
    for a in (laptop, hq):
        assert (a.seed, a.due_days, a.dry_run, a.actor) == ("2026 第一次", 12, True, "张三")
    defaults = laptop_parser().parse_args(["draw", "--seed", "s"])
    assert draw_params(defaults) == draw_params(hq_parser().parse_args(["draw", "--seed", "s"])) == DrawParams()
    assert defaults.due_days == 30


def test_missing_seed_and_bad_due_days_are_refused():
    with pytest.raises(SystemExit):  # HQ's draw has no sub-actions: argparse asks for --seed
        hq_parser().parse_args(["draw"])
    with pytest.raises(ValidationError, match="--seed"):  # the laptop's has (draw verify …): asked when drawing
        draw_params(laptop_parser().parse_args(["draw"]))
    for parser in (laptop_parser, hq_parser):
        with pytest.raises(ValidationError, match="--due-days"):
            draw_params(parser().parse_args(["draw", "--seed", "s", "--due-days", "0"]))
