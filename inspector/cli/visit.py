"""``inspector visit``: a whole field visit without the GUI, over the same core.

    inspector visit start --institution CODE --checklist ID [--task ID] [--inspector BADGE ...]
    inspector visit answer ID ITEM VALUE [--note TEXT] [--yes]
    inspector visit photo ID ITEM FILE [--caption TEXT]
    inspector visit check ID [--json]          # the same list the GUI shows before 完成检查
    inspector visit finish ID [--override KEY=REASON ...]
    inspector visit run FILE.json [--json]     # replay a whole visit (see ``RUN_KEYS``)

``run`` file (paths relative to the file)::

    {"institution": "91410700MA…", "checklists": ["training"], "task": null,
     "inspectors": ["豫07001", "豫07002"], "recorder": "豫07002", "place": "教学楼二层",
     "person_in_charge": {"name": "王校长", "position": "校长", "phone": "138…"},
     "ids_shown": true, "rights_explained": true,
     "answers": {"T-3-1": "280", "T-6-6": ["学员花名册", "教学计划"], …}, "notes": {"T-3-1": "实测"},
     "photos": [{"item": "T-3-1", "file": "area.jpg", "caption": "理论教室"}],
     "findings": [{"item": "T-3-1", "required_action": "扩充至 300 平方米以上", "deadline": "2027-01-31"},
                  {"description": "…", "codes": ["PX-QW-1"], "required_action": "…", "deadline": "…"}],
     "result": "发现问题已责令改正", "rectification": {"deadline": "2027-01-31"},
     "signatures": {"inspector1": "s1.png", "inspector2": "s2.png", "person_in_charge": "pic.png"},
     "overrides": {"photo:training@2026.2:T-3-1": "相机故障"}, "finish": true}

``signatures.person_in_charge`` may instead be ``{"refused": true, "reason": "…",
"witness": {"name": "…", "file": "w.png"}}``. Exit codes: 0 finished (or checked clean),
1 problems remain (listed), 2 an error (named: file, key, line).
"""
from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from inspector.cli import emit
from inspector.errors import InspectorError, ValidationError

RUN_KEYS = ("institution", "checklists", "task", "inspectors", "recorder", "place", "person_in_charge",
            "ids_shown", "rights_explained", "started_at", "ended_at", "answers", "notes", "photos", "findings",
            "result", "rectification", "signatures", "overrides", "finish")
_FINDING_KEYS = ("item", "description", "codes", "severity", "basis", "required_action", "deadline",
                 "people_involved", "amount")
_SIGN_ROLES = ("inspector1", "inspector2", "person_in_charge")


def register(sub: Any) -> None:
    p = sub.add_parser("visit", help="不用图形界面完成一次现场检查（开始、作答、照片、检查、完成、脚本回放）")
    vs = p.add_subparsers(dest="visit_command", metavar="ACTION")

    s = vs.add_parser("start", help="开始一次检查，输出检查编号")
    s.add_argument("--institution", required=True, help="统一社会信用代码或机构编号")
    s.add_argument("--checklist", action="append", required=True, help="检查表（如 training），可多次给出")
    s.add_argument("--task", help="任务编号")
    s.add_argument("--inspector", action="append", default=[], help="执法证号（至少 2 名），可多次给出")
    s.add_argument("--place", help="检查地点")
    s.add_argument("--json", action="store_true")
    s.set_defaults(func=cmd_start)

    a = vs.add_parser("answer", help="回答一个检查项（与界面同样校验）")
    a.add_argument("inspection_id")
    a.add_argument("item", help="检查项编号，如 T-3-1")
    a.add_argument("value", help="答案：符合/不符合/不适用、数字、日期、选项（多选用逗号分隔）、文字或表格 JSON")
    a.add_argument("--note", help="备注")
    a.add_argument("--yes", action="store_true", help="超出常见范围的数值也保存（不再询问）")
    a.add_argument("--json", action="store_true")
    a.set_defaults(func=cmd_answer)

    ph = vs.add_parser("photo", help="为检查项添加照片证据")
    ph.add_argument("inspection_id")
    ph.add_argument("item")
    ph.add_argument("file")
    ph.add_argument("--caption")
    ph.add_argument("--json", action="store_true")
    ph.set_defaults(func=cmd_photo)

    c = vs.add_parser("check", help="完成检查前的检查清单：缺什么、哪里不对（空 = 可以完成）")
    c.add_argument("inspection_id")
    c.add_argument("--json", action="store_true")
    c.set_defaults(func=cmd_check)

    f = vs.add_parser("finish", help="完成检查并锁定（检查清单不为空时拒绝）")
    f.add_argument("inspection_id")
    f.add_argument("--override", action="append", default=[], metavar="KEY=REASON",
                   help="确实无法现场完成的项及原因（KEY 见 visit check --json），写入审计记录")
    f.add_argument("--json", action="store_true")
    f.set_defaults(func=cmd_finish)

    r = vs.add_parser("run", help="按 JSON 文件回放一次完整检查（作答、照片、问题、签名），然后完成")
    r.add_argument("file")
    r.add_argument("--json", action="store_true")
    r.set_defaults(func=cmd_run)


def _store(args: Any) -> Any:
    from inspector.store import Store

    return Store.open(args.home)


# -- shared steps ------------------------------------------------------------------------------
def _checklist_versions(store: Any, ids: list[str], where: str = "--checklist") -> list[str]:
    from inspector import forms
    from inspector.store import checklists

    shipped = {c.id: c for c in forms.load_all()}
    versions = checklists.list_versions(store)
    stored = {v["id"] for v in versions}
    out = []
    for cid in ids:
        if cid in stored:                 # an exact version (id@version)
            out.append(cid)
            continue
        if cid in shipped:
            checklists.ensure_version(store, shipped[cid])
        newest = checklists.current_version_id(store, cid)   # HQ's newer publication, or HQ's own checklist
        if newest is None:
            known = sorted(set(shipped) | {v["checklist_id"] for v in versions})
            raise ValidationError(f"{where}：没有检查表 “{cid}”（可用：{'、'.join(known)}）")
        out.append(newest)
    return out


def _start(store: Any, institution: str, checklist_ids: list[str], *, task: str | None, inspectors: list[str],
           recorder: str | None = None, place: str | None = None) -> str:
    from inspector.store import directory, visits

    inst = directory.get_institution(store, institution)
    people = [directory.get_inspector(store, b)["id"] for b in inspectors]
    rec = directory.get_inspector(store, recorder)["id"] if recorder else (people[-1] if people else None)
    return visits.start_inspection(store, inst["id"], inspector_ids=people, task_id=task,
                                   checklist_version_ids=_checklist_versions(store, checklist_ids),
                                   place=place, recorder_id=rec, actor="cli")


def _locate(store: Any, inspection_id: str, item: str) -> tuple[str, Any]:
    """(checklist version, Item) of ``item`` in the inspection; ``cv:item`` picks one of several."""
    from inspector import visit_state

    cls, bad = visit_state.load_checklists(store, inspection_id)
    if ":" in item and item.split(":")[0] in {cv.split("@")[0] for cv in cls} | set(cls):
        want, item = item.split(":", 1)
        cls = {cv: cl for cv, cl in cls.items() if cv == want or cv.split("@")[0] == want}
    hits = [(cv, cl._index[item]) for cv, cl in cls.items() if item in cl._index]
    if not hits:
        extra = f"（无法载入：{'；'.join(bad.values())}）" if bad else ""
        raise ValidationError(f"本次检查的检查表中没有检查项 “{item}”{extra}")
    if len(hits) > 1:
        raise ValidationError(f"检查项 “{item}” 在多张检查表中都有，请写成 检查表:编号（如 {hits[0][0]}:{item}）")
    return hits[0]


def _answer(store: Any, inspection_id: str, item: str, raw: Any, *, note: str | None = None,
            yes: bool = False) -> tuple[str, Any, Any, str | None]:
    """Check like the GUI does, then store; returns (cv, Item, stored value, confirm question)."""
    from inspector import visit_state
    from inspector.store import visits

    cv, it = _locate(store, inspection_id, item)
    got = visit_state.check_answer(it, raw)
    if got.problem:
        raise ValidationError(f"{it.id} {it.text}：{got.problem}")
    if got.confirm and not yes:
        raise ValidationError(f"{it.id}：{got.confirm} 如确认无误，请加 --yes 再保存")
    kw: dict[str, Any] = {"note": note} if note is not None else {}
    value = visits.set_answer(store, inspection_id, cv, it.id, got.value, actor="cli", **kw)
    return cv, it, value, got.confirm


def _photo(store: Any, inspection_id: str, item: str, file: str, caption: str | None = None) -> dict[str, Any]:
    from inspector.errors import EvidenceError
    from inspector.store import photos

    cv, it = _locate(store, inspection_id, item)
    [res] = photos.import_into(store, inspection_id, [file], it.id, checklist_version_id=cv, actor="cli", workers=1)
    if not res.ok:
        raise EvidenceError(f"{file}：{res.error}")
    d = res.to_dict()
    if caption:
        row = next((p for p in photos.list_photos(store, inspection_id) if p.get("sha256") == res.sha256), None)
        if row:
            photos.set_caption(store, row["id"], caption, actor="cli")
    return d


def _problems_text(problems: list[Any]) -> str:
    if not problems:
        return "检查清单为空：可以完成检查"
    return "\n".join([f"尚有 {len(problems)} 项未完成："] + [f"  - {p.message}　［{p.key}］" for p in problems])


# -- commands -----------------------------------------------------------------------------------
def cmd_start(args: Any) -> int:
    with _store(args) as store:
        iid = _start(store, args.institution, args.checklist, task=args.task, inspectors=args.inspector,
                     place=args.place)
    emit(args, {"inspection_id": iid}, iid)
    return 0


def cmd_answer(args: Any) -> int:
    with _store(args) as store:
        cv, it, value, confirm = _answer(store, args.inspection_id, args.item, args.value, note=args.note,
                                         yes=args.yes)
    emit(args, {"checklist_version_id": cv, "item": it.id, "value": value},
         f"{it.id} {it.text}：{json.dumps(value, ensure_ascii=False)}")
    return 0


def cmd_photo(args: Any) -> int:
    with _store(args) as store:
        d = _photo(store, args.inspection_id, args.item, args.file, args.caption)
    emit(args, d, f"{args.item}：已添加照片 {Path(args.file).name}（{str(d.get('sha256'))[:12]}…）")
    return 0


def cmd_check(args: Any) -> int:
    from inspector import visit_state

    with _store(args) as store:
        problems = visit_state.visit_problems(store, args.inspection_id)
    emit(args, [p.as_dict() for p in problems], lambda _d: _problems_text(problems))
    return 1 if problems else 0


def _overrides(pairs: list[str]) -> dict[str, str]:
    out = {}
    for s in pairs:
        key, sep, reason = s.partition("=")
        if not sep or not key.strip() or not reason.strip():
            raise ValidationError(f"--override {s!r}：应为 KEY=原因（原因不能为空）")
        out[key.strip()] = reason.strip()
    return out


def cmd_finish(args: Any) -> int:
    from inspector.store import visits

    with _store(args) as store:
        visits.finish_inspection(store, args.inspection_id, actor="cli", overrides=_overrides(args.override))
    emit(args, {"inspection_id": args.inspection_id, "status": "finished"}, f"{args.inspection_id} 已完成并锁定")
    return 0


# -- run: a whole visit from a JSON file ------------------------------------------------------------
class _Doc:
    """The run file: its text (to name lines) and typed access that names the key on error."""

    def __init__(self, path: Path):
        self.path = path
        try:
            self.text = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as e:
            raise ValidationError(f"{path}：无法读取（{e}）") from None
        try:
            self.data = json.loads(self.text)
        except json.JSONDecodeError as e:
            raise ValidationError(f"{path}：第 {e.lineno} 行第 {e.colno} 列：JSON 格式错误（{e.msg}）") from None
        if not isinstance(self.data, dict):
            raise ValidationError(f"{path}：第 1 行：顶层应为对象 {{…}}")
        unknown = [k for k in self.data if k not in RUN_KEYS]
        if unknown:
            raise self.error(unknown[0], f"未知的键 “{unknown[0]}”（可用：{'、'.join(RUN_KEYS)}）")

    def line(self, key: str) -> int | None:
        m = re.search(r'"' + re.escape(key.split(".")[-1].split("[")[0]) + r'"\s*:', self.text)
        return self.text.count("\n", 0, m.start()) + 1 if m else None

    def error(self, key: str, msg: str) -> ValidationError:
        n = self.line(key)
        return ValidationError(f"{self.path}：{'第 %d 行：' % n if n else ''}键 “{key}”：{msg}")

    def get(self, key: str, typ: type | tuple[type, ...], default: Any = None, required: bool = False) -> Any:
        if key not in self.data:
            if required:
                raise ValidationError(f"{self.path}：缺少键 “{key}”")
            return default
        v = self.data[key]
        if not isinstance(v, typ) or (isinstance(v, bool) and typ is not bool and bool not in (
                typ if isinstance(typ, tuple) else (typ,))):
            names = {str: "字符串", bool: "true/false", list: "数组 […]", dict: "对象 {…}"}
            want = "或".join(names.get(t, t.__name__) for t in (typ if isinstance(typ, tuple) else (typ,)))
            raise self.error(key, f"应为{want}，得到 {json.dumps(v, ensure_ascii=False)[:40]}")
        return v

    def file(self, key: str, name: Any) -> str:
        if not isinstance(name, str) or not name:
            raise self.error(key, "应为文件名")
        p = (self.path.parent / name)
        if not p.is_file():
            raise self.error(key, f"文件不存在：{p}")
        return str(p)


def _run(store: Any, doc: _Doc) -> dict[str, Any]:
    from inspector import visit_state
    from inspector.store import visits

    d = doc
    try:
        iid = _start(store, d.get("institution", str, required=True), d.get("checklists", list, required=True),
                     task=d.get("task", (str, type(None))), inspectors=d.get("inspectors", list, []),
                     recorder=d.get("recorder", (str, type(None))), place=d.get("place", (str, type(None))))
    except ValidationError:
        raise
    except InspectorError as e:
        raise ValidationError(f"{d.path}：{e}") from None
    fields: dict[str, Any] = {}
    for k, typ in (("person_in_charge", dict), ("ids_shown", bool), ("rights_explained", bool),
                   ("started_at", str), ("ended_at", str)):
        if k in d.data:
            fields[k] = d.get(k, typ)
    if fields:
        visits.update_inspection(store, iid, actor="cli", **fields)

    def step(key: str, fn: Any) -> Any:
        try:
            return fn()
        except InspectorError as e:
            raise d.error(key, str(e)) from None

    notes = d.get("notes", dict, {})
    for item, raw in d.get("answers", dict, {}).items():
        note = notes.get(item)
        step(f"answers.{item}", lambda: _answer(store, iid, item, raw, note=note, yes=True))
    for item, note in notes.items():
        if item not in d.get("answers", dict, {}):
            cv, it = step(f"notes.{item}", lambda: _locate(store, iid, item))
            visits.set_note(store, iid, cv, it.id, str(note), actor="cli")
    for n, ph in enumerate(d.get("photos", list, [])):
        key = f"photos[{n}]"
        if not isinstance(ph, dict) or not isinstance(ph.get("item"), str):
            raise d.error("photos", f"第 {n + 1} 项应为 {{\"item\": …, \"file\": …}}")
        path = d.file(f"{key}.file", ph.get("file"))
        step("photos", lambda: _photo(store, iid, ph["item"], path, ph.get("caption")))
    _run_findings(store, d, iid)
    if "result" in d.data:
        result = d.get("result", (str, type(None)))
        step("result", lambda: visits.update_inspection(store, iid, result_category=result, actor="cli"))
    if "rectification" in d.data:
        rect = d.get("rectification", dict)
        step("rectification", lambda: visits.create_rectification(
            store, iid, deadline=str(rect.get("deadline") or ""), notice_number=rect.get("notice_number"),
            actor="cli"))
    sigs = d.get("signatures", dict, {})
    for role in sigs:
        if role not in _SIGN_ROLES:
            raise d.error("signatures", f"未知的签名角色 “{role}”（可用：{'、'.join(_SIGN_ROLES)}）")
    if sigs:
        # the order of the visit (inspector/visit_order.py): the printed draft is handed to the person
        # in charge to read, who signs (or refuses) first; the inspectors sign after
        from inspector import visit_order

        step("signatures", lambda: visit_order.handed_over(store, iid, actor="cli"))
    order = {"person_in_charge": 0, "inspector1": 1, "inspector2": 2}
    for role, spec in sorted(sigs.items(), key=lambda kv: order[kv[0]]):
        key = f"signatures.{role}"
        if role == "person_in_charge" and isinstance(spec, dict):
            if not spec.get("refused"):
                raise d.error(key, "对象形式仅用于拒绝签名：{\"refused\": true, \"reason\": …, \"witness\": …}")
            w = spec.get("witness")
            if not isinstance(w, dict) or not isinstance(w.get("name"), str):
                raise d.error(key, "拒绝签名须有见证人：\"witness\": {\"name\": …, \"file\": …}")
            wpng = Path(d.file(f"{key}.witness.file", w.get("file"))).read_bytes()
            reason = str(spec.get("reason") or "")
            step(key, lambda: visit_order.sign(store, iid, "person_in_charge", refused=True, reason=reason,
                                               actor="cli"))
            step(key, lambda: visit_order.sign(store, iid, "witness", witness_name=w["name"], png=wpng,
                                               actor="cli"))
            continue
        png = Path(d.file(key, spec)).read_bytes()
        if not png.startswith(b"\x89PNG"):
            raise d.error(key, "签名应为 PNG 图片")
        step(key, lambda: visit_order.sign(store, iid, role, png=png, actor="cli"))
    overrides = {str(k): str(v) for k, v in d.get("overrides", dict, {}).items()}
    problems = visit_state.visit_problems(store, iid)
    out: dict[str, Any] = {"inspection_id": iid, "finished": False,
                           "problems": [p.as_dict() for p in problems if not overrides.get(p.key)]}
    if d.get("finish", bool, True) and not out["problems"]:
        visits.finish_inspection(store, iid, actor="cli", overrides=overrides)
        out["finished"] = True
    return out


def _run_findings(store: Any, d: _Doc, iid: str) -> None:
    from inspector import visit_state
    from inspector.store import visits

    drafts = None
    for n, f in enumerate(d.get("findings", list, [])):
        key = f"findings[{n}]"
        if not isinstance(f, dict):
            raise d.error("findings", f"第 {n + 1} 项应为对象")
        bad = [k for k in f if k not in _FINDING_KEYS]
        if bad:
            raise d.error("findings", f"第 {n + 1} 项：未知的键 “{bad[0]}”（可用：{'、'.join(_FINDING_KEYS)}）")
        extra = {k: v for k, v in f.items() if k != "item"}
        try:
            if "item" in f:
                if drafts is None:
                    drafts = {x["item_id"]: x for x in visit_state.draft_findings(store, iid)}
                base = drafts.get(f["item"])
                if base is None:
                    raise d.error("findings", f"第 {n + 1} 项：检查项 “{f['item']}” 不是不符合项（或已列为问题），"
                                              "不能由它生成问题")
                visits.add_finding(store, iid, actor="cli", **{**base, **extra})
            else:
                if not extra.get("description"):
                    raise d.error("findings", f"第 {n + 1} 项：手动添加的问题须有 description（问题描述）")
                visits.add_finding(store, iid, actor="cli", **extra)
        except ValidationError as e:
            if str(e).startswith(str(d.path)):
                raise
            raise d.error("findings", f"第 {n + 1} 项：{e}") from None
        except InspectorError as e:
            raise d.error(key, str(e)) from None


def cmd_run(args: Any) -> int:
    doc = _Doc(Path(args.file))
    with _store(args) as store:
        out = _run(store, doc)

    def text(o: dict[str, Any]) -> str:
        if o["finished"]:
            return o["inspection_id"]
        lines = [f"检查 {o['inspection_id']} 未完成，尚有 {len(o['problems'])} 项："]
        lines += [f"  - {p['message']}　［{p['key']}］" for p in o["problems"]]
        return "\n".join(lines)

    emit(args, out, text)
    return 0 if out["finished"] or (not out["problems"]) else 1
