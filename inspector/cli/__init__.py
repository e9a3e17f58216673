"""The ``inspector`` command line: admin and automation over the same core the GUI uses.

Each module in this package adds its own sub-commands through ``register(sub)``;
a command's handler gets the parsed args and returns an exit code. Errors of the
core (InspectorError) become one message per problem on stderr, exit code 2.
"""
from __future__ import annotations

import argparse
import importlib
import json
import sqlite3
import pkgutil
import sys
from typing import Any, Callable

from inspector import __version__
from inspector.errors import InspectorError


def emit(args: argparse.Namespace, data: Any, text: Callable[[Any], str] | str | None = None) -> None:
    """Print ``data`` as JSON with --json, else as human text."""
    if getattr(args, "json", False) or text is None:
        print(json.dumps(data, ensure_ascii=False, indent=2))
    else:
        print(text(data) if callable(text) else text)


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="inspector", description="现场检查 — 命令行工具")
    p.add_argument("--version", action="version", version=f"inspector {__version__}")
    p.add_argument("--home", help="data folder (default: INSPECTOR_HOME or the user data folder)")
    sub = p.add_subparsers(dest="command", metavar="COMMAND")
    for mod in sorted(pkgutil.iter_modules(__path__), key=lambda m: m.name):
        module = importlib.import_module(f"{__name__}.{mod.name}")
        reg = getattr(module, "register", None)
        if reg:
            reg(sub)
    return p


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "func", None):
        parser.print_help()
        return 1
    from inspector import logs, paths

    try:
        logs.setup(paths.home(args.home), "inspector")
    except OSError as e:  # no writable data folder: the command may still work (e.g. forms check)
        print(f"（日志无法写入数据目录：{e}）", file=sys.stderr)
    try:
        rc = args.func(args)
    except InspectorError as e:
        problems = getattr(e, "problems", None) or [str(e)]
        if getattr(args, "json", False):
            print(json.dumps({"error": str(e), "problems": problems}, ensure_ascii=False, indent=2))
        for line in problems:
            print(line, file=sys.stderr)
        return 2
    except sqlite3.DatabaseError as e:  # a damaged file found mid-command: never a traceback
        print(f"本机数据库损坏或无法读取：{e}。文件未被改动；请不要删除它，联系技术支持或从备份恢复"
              "（inspector backup restore）。", file=sys.stderr)
        return 2
    except BrokenPipeError:
        return 1
    return int(rc or 0)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
