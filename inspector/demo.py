"""A whole visit without the GUI, and demo data for the GUI's first start.

``run_demo(out)``: a demo institution, two inspectors with keys, an inspection
using the shipped training checklist with failing items and generated photos,
handwritten signatures, then the signed 笔录, 通知书, 送达回证 and the 台账 (PDF and
XLSX) written into ``out``. ``seed_demo(store)`` fills a fresh laptop store
(directory, a draw with tasks, one visit in progress, one finished with signed
documents and a rectification); idempotent through meta ``demo_seeded``.
"""
from __future__ import annotations

import datetime as _dt
import math
import random
import tempfile
from pathlib import Path
from typing import Any

from inspector import keys
from inspector.store import Store
from inspector.util import now_iso

DEMO_PASSPHRASES = ("demo-pass-1", "demo-pass-2")
FAIL = {"T-3-1": 180, "T-5-6": "fail", "T-5-10": "fail"}
# Every number of a finding comes from what was recorded on site (NOTES): the documents print where.
FAIL_EXTRA: dict[str, dict[str, Any]] = {
    "T-3-1": {"required_action": "扩充或调整理论教学场地，使理论课集中培训面积达到 300 平方米以上，并报送场地证明。"},
    "T-5-6": {"required_action": "停止向补贴性培训班学员另行收费，对已收取的费用予以清退并报送清退凭证。",
              "people_involved": 2, "amount": 600.0},
    "T-5-10": {"required_action": "在办学场所显著位置张贴办学许可证和培训收费标准。"},
}
NOTES = {"T-3-1": "现场测量理论教室两间，合计约 180 平方米。",
         "T-5-6": "抽查学员 6 人，其中 2 人称曾另行缴纳资料费各 300 元，合计 600 元。",
         "T-5-10": "前台及教室均未见张贴。"}


def strokes(seed: int, name_len: int = 3) -> list[list[tuple[float, float]]]:
    """A plausible handwritten scrawl: one wavy stroke per character plus a flourish."""
    rnd = random.Random(seed)
    out = []
    for c in range(name_len):
        x0 = c * 100.0
        pts = []
        for t in range(24):
            a = t / 23 * math.pi * rnd.uniform(1.5, 3.0)
            pts.append((x0 + 10 + t * 3.2 + 12 * math.sin(a * 1.7), 40 + 28 * math.sin(a + c) * rnd.uniform(0.6, 1)))
        out.append(pts)
    out.append([(x * 12.0, 85 - 4 * math.sin(x / 3)) for x in range(25)])
    return out


def _training_checklist() -> Any:
    from inspector import forms

    for cl in forms.load_all():
        if cl.id == "training":
            return cl
    raise LookupError("forms/training.toml 不存在")


def _checklist_for(kind: str | None) -> Any:
    """The shipped checklist for an institution kind (培训机构 / 评价机构); training otherwise."""
    from inspector import forms

    for cl in forms.load_all():
        if cl.kind == kind:
            return cl
    return _training_checklist()


def _answers(cl: Any) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for it in cl.items:
        if (it.when or {}).get("reason"):
            continue  # not inspected under the laptop's profile (visit_state.for_profile): 不适用, no answer
        if it.id in FAIL:
            out[it.id] = FAIL[it.id]
        elif it.type == "check":
            out[it.id] = "pass"
        elif it.type == "number":
            out[it.id] = (it.threshold or {}).get("value", 1) * 1.5 if it.threshold else 1
        elif it.type == "date":
            out[it.id] = "2028-12-31"
        elif it.type == "choice" and it.choices and it.params.get("multiple"):
            out[it.id] = list(it.choices)  # every required document seen
        elif it.type == "choice" and it.choices:
            out[it.id] = "否" if "否" in it.choices else it.choices[0]
        elif it.type == "text":
            out[it.id] = "无"
        elif it.type == "table" and it.rule in _TABLES:
            out[it.id] = _TABLES[it.rule]
    return out


def _teacher(name: str, role: str) -> dict[str, Any]:
    return {"name": name, "trade": "中式烹调师", "role": role, "degree": "本科", "qual": "三级/高级工",
            "relevant_bachelor": True, "years": 6, "teacher_cert": True, "contract": True}


# Passing registers for the demo's table items (a finished visit answers every item).
_TABLES: dict[str, list[dict[str, Any]]] = {
    "teachers": [_teacher("赵明", "理论"), _teacher("钱丽", "理论"), _teacher("孙强", "实训"),
                 _teacher("李静", "实训")],
    "admin_staff": [{"name": "周国华", "position": "校长", "full_time": True, "experience": 12}]
    + [{"name": n, "position": "行政管理人员", "full_time": True, "experience": 4} for n in ("吴芳", "郑伟", "王磊")],
    "finance_staff": [{"name": "冯敏", "employment": "专职", "accounting_cert": True},
                      {"name": "陈洁", "employment": "兼职", "accounting_cert": True}],
    "class_hours": [{"label": "2026年第3期中式烹调师班", "total": 120, "attended": 118, "online": 24,
                     "max_online_day": 4}],
}


# where the demo's photos are taken (the region's city)
_GPS = {"xinxiang": (35.3030, 113.9268), "neimenggu": (40.8420, 111.7490)}


def _add_photos(store: Store, inspection_id: str, specs: list[tuple[str, str | None, int]], work: Path,
                start: _dt.datetime, inspector_ids: list[str], size: tuple[int, int] = (1600, 1200)) -> list[str]:
    """Generate, import and record photos; returns the recorded photo ids."""
    from inspector import demo_photos, evidence
    from inspector.store import photos

    ids = []
    lat, lon = _GPS.get(_region(store), _GPS["xinxiang"])
    work.mkdir(parents=True, exist_ok=True)
    for n, (kind, item_id, seed) in enumerate(specs):
        p = work / f"IMG_{seed:04d}.jpg"
        taken = (start + _dt.timedelta(minutes=20 + 9 * n)).replace(tzinfo=None)
        p.write_bytes(demo_photos.photo(*size, seed=seed, kind=kind, taken_at=taken,
                                        gps=(lat + n * 0.0001, lon)))
        res = evidence.import_file(store.home, p)
        if not res.ok:
            continue
        row = photos.add_photo(store, inspection_id, res, item_id=item_id,
                               inspector_id=inspector_ids[n % len(inspector_ids)], actor="demo")
        ids.append(row["id"])
    return ids


def _region(store: Store) -> str:
    """The demo region of the laptop's jurisdiction profile (新乡 unless another is applied)."""
    from inspector import demo_directory, profiles

    pid = profiles.active(store).id
    return pid if pid in demo_directory.REGIONS else "xinxiang"


def _setup_people(store: Store, seed: int) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    from inspector import demo_directory
    from inspector.store import directory

    region = _region(store)
    insts = [r for r in demo_directory.make_institutions(12, seed, region=region) if r["kind"] == "培训机构"]
    inspectors = demo_directory.make_inspectors(2, seed, region=region)
    directory.upsert_institutions(store, insts[:1], actor="demo")
    directory.upsert_inspectors(store, inspectors, actor="demo")
    inst = store.one("SELECT * FROM institutions WHERE credit_code = ?", (insts[0]["credit_code"],))
    ins = [store.one("SELECT * FROM inspectors WHERE badge_no = ?", (r["badge_no"],)) for r in inspectors]
    assert inst and all(ins)
    return inst, ins  # type: ignore[return-value]


def _ensure_keys(home: Path, inspectors: list[dict[str, Any]]) -> None:
    for i, r in enumerate(inspectors):
        if not keys.has_key(home, r["badge_no"]):
            keys.create_inspector_key(home, r["badge_no"], r["name"], DEMO_PASSPHRASES[i % 2], unit=r.get("unit"))


def visit(store: Store, inst: dict[str, Any], inspectors: list[dict[str, Any]], *, seed: int = 1,
          task_id: str | None = None, work: Path | None = None, finish: bool = True,
          photo_size: tuple[int, int] = (1600, 1200)) -> str:
    """One inspection with answers, failing items, findings, photos and handwritten signatures."""
    from inspector import rules
    from inspector.store import checklists, visits

    cl = _training_checklist()
    cv = checklists.ensure_version(store, cl, actor="demo")
    start = _dt.datetime.now().astimezone().replace(second=0, microsecond=0) - _dt.timedelta(hours=2, minutes=10)
    iid = visits.start_inspection(store, inst["id"], inspector_ids=[r["id"] for r in inspectors], task_id=task_id,
                                  checklist_version_ids=[cv], place=inst.get("address"),
                                  recorder_id=inspectors[1]["id"], actor="demo")
    from inspector.idnumbers import make_id_number

    rng = random.Random(f"pic|{seed}")
    area = (inst.get("licence_no") or "410702")[:6] if (inst.get("licence_no") or "")[:6].isdigit() else "410702"
    id_no = make_id_number(area, _dt.date(1975, 1, 1) + _dt.timedelta(days=rng.randrange(365 * 20)),
                           rng.randrange(1000))
    visits.update_inspection(store, iid, started_at=start.isoformat(), ids_shown=True, rights_explained=True,
                             person_in_charge={"name": inst.get("contact") or "王经理", "position": "校长",
                                               "phone": inst.get("phone"), "id_no": id_no,
                                               "recusal": "检查人员与本单位无利害关系，不申请回避。"}, actor="demo")
    from inspector import profiles, visit_state

    seen = visit_state.for_profile(cl, profiles.active(store))  # as inspected under the laptop's profile
    answers = _answers(seen)
    for item_id, value in answers.items():
        visits.set_answer(store, iid, cv, item_id, value, note=NOTES.get(item_id), actor="demo")
    work = work or Path(tempfile.mkdtemp(prefix="inspector-demo-"))
    photo_ids = _add_photos(store, iid, [("classroom", "T-3-1", seed * 10 + 1), ("classroom", "T-3-1", seed * 10 + 2),
                                         ("wall", "T-5-10", seed * 10 + 3), ("sign", None, seed * 10 + 4)], work,
                            start, [r["id"] for r in inspectors], photo_size)
    counts = {"T-3-1": 2, "T-5-10": 1} if photo_ids else None
    ev = rules.evaluate(seen, answers, counts, institution_kind=inst["kind"])
    deadline = (_dt.date.today() + _dt.timedelta(days=30)).isoformat()
    for f in ev.findings:
        visits.add_finding(store, iid, description=f.description, codes=list(f.codes), severity=f.severity,
                           checklist_version_id=cv, item_id=f.item_id, basis=f.basis, deadline=deadline,
                           actor="demo", **FAIL_EXTRA.get(f.item_id, {}))
    visits.update_inspection(store, iid, ended_at=(start + _dt.timedelta(hours=2)).isoformat(),
                             result_category="发现问题已责令改正" if ev.findings else "未发现问题", actor="demo")
    # the order of the visit (inspector/visit_order.py): the record is previewed and read page by
    # page, then the person in charge signs, then the inspectors
    from inspector import visit_order

    _doc, reading = visit_order.make_preview(store, iid, actor="demo")
    for page in range(1, reading.pages + 1):
        visit_order.page_shown(store, reading.id, page, actor="demo")
    visit_order.sign(store, iid, "person_in_charge", strokes=strokes(seed * 7 + 5), actor="demo")
    for i, r in enumerate(inspectors[:2], 1):
        visit_order.sign(store, iid, f"inspector{i}", strokes=strokes(seed * 7 + i), actor="demo")
    if finish:
        visits.finish_inspection(store, iid, actor="demo")
        if ev.findings:
            visits.create_rectification(store, iid, deadline=deadline, actor="demo")
    return iid


def sign_all(store: Store, doc_id: str, inspectors: list[dict[str, Any]]) -> dict[str, Any]:
    from inspector.store import documents as docs

    d: dict[str, Any] = {}
    for i, r in enumerate(inspectors[:2]):
        d = docs.sign_document(store, doc_id, r["badge_no"], DEMO_PASSPHRASES[i % 2], actor="demo")
    return d


def documents_for(store: Store, iid: str, inspectors: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """Make and sign the record, the notice (if findings) and its receipt."""
    from inspector.store import documents as docs
    from inspector.store import visits

    out = {"record": sign_all(store, docs.make_document(store, iid, "record", actor="demo")["id"], inspectors)}
    if visits.list_findings(store, iid):
        out["notice"] = sign_all(store, docs.make_document(store, iid, "notice", actor="demo")["id"], inspectors)
        insp = visits.get_inspection(store, iid)
        pic = insp.person_in_charge or {}
        # the notice is served after it is signed: the recipient signs then, and the receipt's time
        # of service is its own (make_document stamps it), not the inspection's end
        docs.add_signature(store, iid, "recipient", name=pic.get("name"), strokes=strokes(len(iid) * 7 + 6),
                           actor="demo")
        served = {"method": "直接送达", "place": insp.place, "copies": 1,
                  "recipient": store.scalar("SELECT name FROM institutions WHERE id = ?", (insp.institution_id,)),
                  "recipient_person": pic.get("name"), "recipient_capacity": pic.get("position")}
        out["receipt"] = sign_all(store, docs.make_document(store, iid, "receipt", served=served, actor="demo")["id"],
                                  inspectors)
    return out


def run_demo(out: str | Path, *, home: str | Path | None = None, seed: int = 1,
             profile: str | None = None) -> dict[str, Any]:
    """The whole visit headless under one jurisdiction profile (default: the store's, else 新乡);
    returns {"files": {...}, "home": ..., "inspection_id": ..., "profile": ...}."""
    from inspector import profiles
    from inspector.render import ledger_sheet
    from inspector.store import documents as docs

    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    home = Path(home) if home else Path(tempfile.mkdtemp(prefix="inspector-demo-home-"))
    with Store.open(home) as store:
        prof = profiles.apply(store, profile or store.get_meta(profiles.META_KEY) or profiles.DEFAULT)
        inst, inspectors = _setup_people(store, seed)
        _ensure_keys(home, inspectors)
        iid = visit(store, inst, inspectors, seed=seed, work=home / "demo-photos")
        made = documents_for(store, iid, inspectors)
        files: dict[str, str] = {}
        names = {"record": "现场检查笔录", "notice": "责令限期整改通知书", "receipt": "送达回证"}
        for kind, d in made.items():
            files[kind] = docs.export(store, d["id"], out / f"{names[kind]}.pdf")
        rows = ledger_sheet.rows_from_store(store, institution_id=inst["id"], profile=prof)
        cfg = docs.settings(store)
        footer = {"联系人": inspectors[0]["name"], "填报人": inspectors[1]["name"], "审核人": ""}
        annex = prof.wording["ledger_annex"]
        title = prof.wording["ledger_title"]
        files["ledger_xlsx"] = ledger_sheet.write_xlsx(out / "问题台账.xlsx", rows, unit=cfg["agency_name"], footer=footer,
                                                 annex=annex, title=title)
        (out / "问题台账.pdf").write_bytes(ledger_sheet.build_pdf(rows, unit=cfg["agency_name"], footer=footer, annex=annex,
                                                                  title=title))
        files["ledger_pdf"] = str(out / "问题台账.pdf")
        ca = keys.local_ca_cert_path(home)
        return {"files": files, "home": str(home), "inspection_id": iid, "trust": str(ca),
                "numbers": {k: d["number"] for k, d in made.items()}, "profile": prof.ref}


def seed_demo(store: Store) -> bool:
    """Demo data for the GUI's first start; returns False when already seeded."""
    if store.get_meta("demo_seeded"):
        return False
    from inspector import demo_directory
    from inspector.store import directory, visits

    home = store.home
    region = _region(store)
    insts = demo_directory.make_institutions(40, 7, region=region)
    inspectors = demo_directory.make_inspectors(12, 7, insts, region=region)
    directory.upsert_institutions(store, insts, actor="demo")
    directory.upsert_inspectors(store, inspectors, actor="demo")
    all_inst = store.rows("SELECT * FROM institutions ORDER BY name")
    all_ins = store.rows("SELECT * FROM inspectors ORDER BY badge_no")
    task_ids = _demo_draw(store, all_inst, all_ins)
    training = [i for i in all_inst if i["kind"] == "培训机构"]
    pair = all_ins[:2]
    _ensure_keys(home, pair)
    task_inst = [(t, store.one("SELECT i.* FROM tasks t JOIN institutions i ON i.id = t.institution_id"
                               " WHERE t.id = ?", (t,))) for t in task_ids]
    # one finished visit with signed documents and a rectification: visit() answers the training
    # checklist, so it goes to the first drawn 培训机构
    tid, done_inst = next(((t, i) for t, i in task_inst if i and i["kind"] == "培训机构"), (None, training[0]))
    iid = visit(store, done_inst, pair, seed=3, task_id=tid, work=home / "demo-photos", photo_size=(960, 720))
    documents_for(store, iid, pair)
    # one visit in progress with some answers, on the checklist for that institution's kind
    from inspector.store import checklists

    tid2, inst2 = next(((t, i) for t, i in task_inst if i and t != tid), (None, training[1]))
    cl = _checklist_for(inst2.get("kind"))
    cv = checklists.ensure_version(store, cl, actor="demo")
    iid2 = visits.start_inspection(store, inst2["id"], inspector_ids=[r["id"] for r in pair], task_id=tid2,
                                   checklist_version_ids=[cv], place=inst2.get("address"),
                                   recorder_id=pair[1]["id"], actor="demo")
    visits.update_inspection(store, iid2, ids_shown=True, rights_explained=True,
                             person_in_charge={"name": inst2.get("contact") or "李主任", "position": "负责人",
                                               "phone": inst2.get("phone"),
                                               "recusal": "检查人员与本单位无利害关系，不申请回避。"}, actor="demo")
    for it in list(cl.items)[:6]:
        if it.type == "check":
            visits.set_answer(store, iid2, cv, it.id, "pass", actor="demo")
    store.set_meta("demo_seeded", now_iso())
    return True


def _demo_draw(store: Store, insts: list[dict[str, Any]], inspectors: list[dict[str, Any]]) -> list[str]:
    """A draw over the demo directory, saved with its tasks; returns the task ids."""
    from inspector import draw as drawmod
    from inspector.store import directory

    rec = drawmod.draw(insts, inspectors, "demo-seed-2026", drawmod.DrawParams())
    did = directory.save_draw(store, rec, actor="demo")
    # the draw's institutions in credit-code order: the same demo visits on every fresh laptop
    # (task ids are random, so ordering by id picked a different first task each time)
    return [r["id"] for r in store.rows("SELECT t.id FROM tasks t JOIN institutions i ON i.id = t.institution_id"
                                        " WHERE t.draw_id = ? ORDER BY i.credit_code, t.id", (did,))]
