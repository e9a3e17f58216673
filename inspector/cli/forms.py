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
    im = fsub.add_parser("import", help="从 Excel 工作簿（survey/choices/settings 表）导入清单，校验通过才写出 TOML")
    im.add_argument("file", metavar="FILE.xlsx")
    im.add_argument("--out", metavar="NAME.toml", help="写到哪里（默认：工作簿旁的 <form_id>.toml）")
    im.add_argument("--force", action="store_true", help="覆盖内容不同的已有文件")
    im.set_defaults(func=cmd_import)
    ex = fsub.add_parser("export", help="把清单写成 Excel 工作簿（可编辑后再导入）")
    ex.add_argument("id", metavar="ID", help="清单 id（forms/ 中）或 TOML 文件路径")
    ex.add_argument("--xlsx", required=True, metavar="FILE", help="写出的工作簿")
    ex.add_argument("--dir", help="清单目录（默认 forms/）")
    ex.add_argument("--profile", action="store_true", help="ID 是地区档案（forms/profiles/ID.toml），写成 profile 表")
    ex.set_defaults(func=cmd_export)
    p.set_defaults(func=lambda args: (p.print_help(), 1)[1])


def cmd_check(args: argparse.Namespace) -> int:
    targets = args.paths or [paths.forms_dir()]
    problems = forms.check(targets)
    more, warnings = _check_profiles(targets)
    problems += more
    if args.json:
        import json
        print(json.dumps({"ok": not problems, "problems": problems, "warnings": warnings}, ensure_ascii=False,
                         indent=2))
    else:
        import sys
        for w in warnings:  # the bureau's data still to fill in: reported, not a failure
            print(f"警告：{w}", file=sys.stderr)
        if problems:
            print("\n".join(problems))
        else:
            n = sum(len(forms.checklist_files(t)) if _is_dir(t) else 1 for t in targets)
            print(f"OK: {n} 个清单文件全部有效")
    return 1 if problems else 0


def _check_profiles(targets: list[Any]) -> tuple[list[str], list[str]]:
    """The jurisdiction profiles (profiles/*.toml under a checked forms directory): problems fail the
    check; fields still waiting for the bureau's data and unverified citations are warnings."""
    from pathlib import Path

    from inspector import profiles
    from inspector.errors import ValidationError

    problems: list[str] = []
    warnings: list[str] = []
    for t in targets:
        d = Path(t) / profiles.PROFILE_DIR
        if not (_is_dir(t) and d.is_dir()):
            continue
        for f in sorted(d.glob("*.toml")):
            try:
                prof = profiles.parse_profile(f.read_text(encoding="utf-8"), str(f))
            except ValidationError as e:
                problems.extend(e.problems or [str(e)])
                continue
            warnings.extend(prof.pending())
    return problems, warnings


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


def cmd_import(args: argparse.Namespace) -> int:
    import sys
    from pathlib import Path

    from inspector import forms_xlsx
    from inspector.errors import FormError

    from inspector.errors import ValidationError

    try:
        if forms_xlsx.is_profile_workbook(args.file):
            text, prof = forms_xlsx.import_profile_xlsx(args.file)
            ident, what = prof.id, f"地区档案 {prof.ref}（{prof.title}）"
        else:
            text, cl = forms_xlsx.import_xlsx(args.file)
            ident, what = cl.id, f"{cl.version_id}（{cl.title}，{len(cl.sections)} 节 {len(cl.items)} 项）"
    except (FormError, ValidationError) as e:
        print("\n".join(e.problems), file=sys.stderr)
        print(f"未导入：共 {len(e.problems)} 处问题", file=sys.stderr)
        return 1
    out = Path(args.out) if args.out else Path(args.file).with_name(f"{ident}.toml")
    if out.exists() and out.read_text(encoding="utf-8") != text and not args.force:
        print(f"{out}: 文件已存在且内容不同，未覆盖（已发布的版本不能修改：请提高 version，或加 --force）", file=sys.stderr)
        return 1
    out.write_text(text, encoding="utf-8")
    print(f"已导入 {what} → {out}")
    return 0


def cmd_export(args: argparse.Namespace) -> int:
    import sys
    from pathlib import Path

    from inspector import forms_xlsx

    p = Path(args.id)
    if args.profile:
        from inspector import profiles

        src = p if p.suffix == ".toml" and p.exists() else profiles.profiles_dir() / f"{args.id}.toml"
        if not src.exists():
            print(f"没有地区档案 “{args.id}”（可用：{'、'.join(profiles.available())}）", file=sys.stderr)
            return 1
        text = src.read_text(encoding="utf-8")
        profiles.parse_profile(text, str(src))  # only a valid profile is exported
        print(f"已写出地区档案 {args.id} → {forms_xlsx.export_profile_xlsx(text, args.xlsx)}")
        return 0
    if p.suffix == ".toml" and p.exists():
        cl = forms.load_checklist(p)
    else:
        by_id = {c.id: c for c in forms.load_all(args.dir)}
        if args.id not in by_id:
            print(f"没有清单 “{args.id}”（可用：{'、'.join(sorted(by_id))}）", file=sys.stderr)
            return 1
        cl = by_id[args.id]
    out = forms_xlsx.export_xlsx(cl, args.xlsx)
    print(f"已写出 {cl.version_id} → {out}")
    return 0
