"""``inspector forms check|list``: validate and list the checklists (forms/*.toml)."""
from __future__ import annotations

import argparse
from typing import Any

from inspector import forms, paths


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("forms", help="检查清单：校验与列出")
    fsub = p.add_subparsers(dest="forms_command", metavar="ACTION")
    c = fsub.add_parser("check", help="校验清单文件（默认 forms/ 目录），有问题时逐行列出并以 1 退出")
    c.add_argument("paths", nargs="*", metavar="PATH", help="文件或目录")
    c.add_argument("--json", action="store_true", help="以 JSON 输出")
    c.set_defaults(func=cmd_check)
    ls = fsub.add_parser("list", help="列出清单及其检查项")
    ls.add_argument("--json", action="store_true", help="以 JSON 输出")
    ls.add_argument("--dir", help="清单目录（默认 forms/）")
    ls.set_defaults(func=cmd_list)
    p.set_defaults(func=lambda args: (p.print_help(), 1)[1])


def cmd_check(args: argparse.Namespace) -> int:
    targets = args.paths or [paths.forms_dir()]
    problems = forms.check(targets)
    if args.json:
        import json
        print(json.dumps({"ok": not problems, "problems": problems}, ensure_ascii=False, indent=2))
    elif problems:
        print("\n".join(problems))
    else:
        n = sum(len(forms.checklist_files(t)) if _is_dir(t) else 1 for t in targets)
        print(f"OK: {n} 个清单文件全部有效")
    return 1 if problems else 0


def _is_dir(p: object) -> bool:
    from pathlib import Path
    return Path(str(p)).is_dir()


def checklist_summary(cl: forms.Checklist) -> dict:
    """The JSON shape of ``forms list --json`` (also handy for the GUI and HQ)."""
    def item(it: forms.Item) -> dict:
        d: dict[str, Any] = {"id": it.id, "section": it.section_id, "text": it.text, "type": it.type, "unit": it.unit,
             "codes": list(it.codes), "basis": it.basis, "photo_required": it.photo_required}
        if it.threshold is not None:
            d["threshold"] = it.threshold
        if it.choices:
            d["choices"] = list(it.choices)
        if it.rule:
            d["rule"] = it.rule
            d["columns"] = [{"id": c.id, "label": c.label, "type": c.type, **({"choices": list(c.choices)}
                             if c.choices else {})} for c in it.columns]
        if it.when:
            d["when"] = it.when
        if it.help:
            d["help"] = it.help
        return d
    return {"id": cl.id, "version": cl.version, "title": cl.title, "kind": cl.kind, "basis": cl.basis,
            "sha256": cl.sha256, "sections": [{"id": s.id, "title": s.title} for s in cl.sections],
            "items": [item(i) for i in cl.items]}


def cmd_list(args: argparse.Namespace) -> int:
    from inspector.cli import emit

    lists = forms.load_all(args.dir)
    data = [checklist_summary(c) for c in lists]

    def text(d: list[dict]) -> str:
        lines = []
        for c in d:
            lines.append(f"{c['id']}@{c['version']}  {c['title']}（{c['kind']}，{len(c['items'])} 项）")
            for it in c["items"]:
                th = f" {it['threshold']['op']} {it['threshold']['value']}{it['unit'] or ''}" if "threshold" in it else ""
                lines.append(f"  {it['id']:<7} [{it['type']}{th}] {it['text'][:40]}  {','.join(it['codes'])}")
        return "\n".join(lines)
    emit(args, data, text)
    return 0
