"""Every console page, as every staff role, over an HQ filled the real way: directories imported from
CSV, checklists published, a draw run, a laptop enrolled over loopback HTTP (the co-inspector
certified on it), visits recorded on that laptop and synced — findings without an amount (T-3-1,
T-5-10 of the demo), photos, signed documents, a person in charge who refused to sign (reason and
witness, the receipt served by 留置送达) and an amended visit (revision 2 replacing a finished one).

The pages are enumerated from the app's routes, not listed by hand: a new GET page is requested
automatically, and a new page with path parameters fails here until ``concrete`` knows its ids.
SQLite and PostgreSQL (``console_dburl``: the ``hq_db`` parameters, module-scoped so the data is
made once per database)."""
from __future__ import annotations

import datetime as dt
import re
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from fastapi.routing import APIRoute

from inspector import visit_order
from inspector.hq import db as D
from inspector.hq import service
from tests.console_fixtures import PASSWORDS, console_dburl, login_session  # noqa: F401
from tests.hq_fixtures import postgresql_proc, start_hq  # noqa: F401

ROLES = {"admin": "admin", "rev": "reviewer", "view": "viewer"}
RANK = {"viewer": 0, "reviewer": 1, "admin": 2}
# pages that need more than the viewer role (every other GET page is for any staff member)
NEEDS = {"/console/devices": "admin", "/console/lockouts": "admin", "/console/credit/{iid}/{year}/review": "reviewer"}
REFUSAL_REASON = "负责人称须请示董事会，拒绝在笔录上签字"
WITNESS = "孙见证"
SERVE_REFUSAL = "受送达人拒绝签收通知书"
AMEND_NOTE = "（修订：补充现场测量记录）"


# -- the synced data ---------------------------------------------------------------------------------------
def _finish(store: Any, iid: str) -> None:
    from inspector.store import visits

    try:
        visits.finish_inspection(store, iid, actor="test")
    except visits.VisitIncomplete as e:  # say what the visit lacks, not just how many
        raise AssertionError("\n".join(e.problems)) from e


def _refusal_visit(store: Any, inst: dict[str, Any], people: list[dict[str, Any]], work: Path) -> str:
    """A finished visit whose person in charge refused to sign (reason, witness signature), findings
    without amounts, one photo, the record and notice signed and the receipt served by 留置送达."""
    from inspector import demo as laptop_demo
    from inspector import rules
    from inspector.store import checklists, visits
    from inspector.store import documents as docs

    cl = laptop_demo._training_checklist()
    cv = checklists.ensure_version(store, cl, actor="test")
    start = dt.datetime.now().astimezone().replace(second=0, microsecond=0) - dt.timedelta(hours=3)
    iid = visits.start_inspection(store, inst["id"], inspector_ids=[p["id"] for p in people],
                                  checklist_version_ids=[cv], place=inst.get("address"),
                                  recorder_id=people[1]["id"], actor="test")
    visits.update_inspection(store, iid, started_at=start.isoformat(), ids_shown=True, rights_explained=True,
                             person_in_charge={"name": "周负责", "position": "校长", "phone": "13900000001"},
                             actor="test")
    answers = laptop_demo._answers(cl)
    for item_id, value in answers.items():
        visits.set_answer(store, iid, cv, item_id, value, note=laptop_demo.NOTES.get(item_id), actor="test")
    shots = laptop_demo._add_photos(store, iid, [("classroom", "T-3-1", 51), ("wall", "T-5-10", 52)], work, start,
                                    [people[0]["id"]], (320, 240))
    assert len(shots) == 2, "the photos were not imported"
    ev = rules.evaluate(cl, answers, {"T-3-1": 1, "T-5-10": 1}, institution_kind=inst["kind"])
    deadline = (dt.date.today() + dt.timedelta(days=30)).isoformat()
    for f in ev.findings:  # no amount, no people count: what an inspector often leaves empty
        visits.add_finding(store, iid, description=f.description, codes=list(f.codes), severity=f.severity,
                           checklist_version_id=cv, item_id=f.item_id, basis=f.basis, deadline=deadline,
                           required_action=laptop_demo.FAIL_EXTRA.get(f.item_id, {}).get("required_action") or "立即整改",
                           actor="test")
    visits.update_inspection(store, iid, ended_at=(start + dt.timedelta(hours=2)).isoformat(),
                             result_category="发现问题已责令改正", actor="test")
    _read_record(store, iid)  # the order of the visit: read, the party refuses, witness, inspectors
    visit_order.sign(store, iid, "person_in_charge", refused=True, reason=REFUSAL_REASON, actor="test")
    visit_order.sign(store, iid, "witness", witness_name=WITNESS, strokes=laptop_demo.strokes(49), actor="test")
    for i, p in enumerate(people[:2], 1):
        visit_order.sign(store, iid, f"inspector{i}", strokes=laptop_demo.strokes(40 + i), actor="test")
    _finish(store, iid)
    visits.create_rectification(store, iid, deadline=deadline, actor="test")
    laptop_demo.sign_all(store, docs.make_document(store, iid, "record", actor="test")["id"], people)
    laptop_demo.sign_all(store, docs.make_document(store, iid, "notice", actor="test")["id"], people)
    served = {"method": "留置送达", "place": inst.get("address"), "time": (start + dt.timedelta(hours=2)).isoformat(),
              "copies": 1, "recipient": inst["name"], "refusal_reason": SERVE_REFUSAL, "witness": WITNESS}
    laptop_demo.sign_all(store, docs.make_document(store, iid, "receipt", served=served, actor="test")["id"], people)
    return iid


def _read_record(store: Any, iid: str) -> None:
    """The person in charge reads the previewed 笔录 page by page (inspector/visit_order.py)."""
    _doc, reading = visit_order.make_preview(store, iid, actor="test")
    for page in range(1, reading.pages + 1):
        visit_order.page_shown(store, reading.id, page, actor="test")


def seed_synced(hq: Any, tmp: Path) -> dict[str, Any]:
    """Fill ``hq`` the way a bureau's HQ fills up; returns the ids the pages are requested with."""
    from inspector import demo as laptop_demo
    from inspector import keys, qr
    from inspector.demo_directory import write_demo_directories
    from inspector.draw import DrawParams
    from inspector.hq.admin import import_directory, publish_checklists, run_draw
    from inspector.hq.console import data
    from inspector.store import Store, visits
    from inspector.store import documents as docs
    from inspector.sync import certify_inspector, enrol, sync

    files = write_demo_directories(tmp / "in", institutions=16, inspectors=6, roster=4, seed=11, suffix=".csv")
    import_directory(hq.engine, files["institutions"], "institutions")
    import_directory(hq.engine, files["inspectors"], "inspectors")
    publish_checklists(hq.engine)
    record = run_draw(hq.engine, "pages-11", DrawParams(per_county=2), actor="admin")
    task = next(t for t in record["tasks"] if t["institution"]["kind"] == "培训机构")
    pair = task["inspectors"][:2]
    home = tmp / "laptop"
    store = Store.open(home)
    with hq.engine.connect() as conn:
        unit = {r.badge_no: r.unit for r in conn.execute(sa.select(D.inspectors.c.badge_no, D.inspectors.c.unit))}
    for i, p in enumerate(pair):
        keys.create_inspector_key(home, p["badge_no"], p["name"], laptop_demo.DEMO_PASSPHRASES[i],
                                  unit=unit.get(p["badge_no"]))
    enrol(store, hq.url, service.make_enrol_code(hq.engine, hq.cfg, pair[0]["badge_no"])["code"],
          badge_no=pair[0]["badge_no"], device_name="测试笔记本")
    certify_inspector(store, service.make_enrol_code(hq.engine, hq.cfg, pair[1]["badge_no"])["code"],
                      pair[1]["badge_no"], passphrase=laptop_demo.DEMO_PASSPHRASES[1])
    assert sync(store).ok
    inst = store.one("SELECT * FROM institutions WHERE credit_code = ?", (task["institution"]["credit_code"],))
    people = [store.one("SELECT * FROM inspectors WHERE badge_no = ?", (p["badge_no"],)) for p in pair]
    tid = store.scalar("SELECT id FROM tasks WHERE institution_id = ? AND kind = 'draw'", (inst["id"],))
    # 1: the demo's visit (T-3-1 and T-5-10 without an amount, four photos), documents signed by both
    first = laptop_demo.visit(store, inst, people, seed=3, task_id=tid, work=home / "photos", photo_size=(320, 240))
    laptop_demo.documents_for(store, first, people)
    # 2: another institution, the person in charge refused to sign
    other = store.one("SELECT * FROM institutions WHERE kind = '培训机构' AND id != ? ORDER BY credit_code", (inst["id"],))
    refused = _refusal_visit(store, other, people, home / "photos")
    rep = sync(store)
    assert rep.ok, rep
    # 3: the first visit amended after it was synced: revision 2 replaces it at HQ
    amended = visits.amend_inspection(store, first, actor="test")
    f0 = visits.list_findings(store, amended)[0]
    visits.update_finding(store, f0.id, description=f0.description + AMEND_NOTE, actor="test")
    _read_record(store, amended)  # the revision is read and signed anew, in order
    for n, role in enumerate(("person_in_charge", "inspector1", "inspector2")):
        visit_order.sign(store, amended, role, strokes=laptop_demo.strokes(60 + n), actor="test")
    _finish(store, amended)
    rep = sync(store)
    assert rep.ok, rep
    tokens = [qr.make_url(home, d["id"], d["record_sha256"]).rpartition("/")[2]
              for d in docs.list_documents(store) if d["status"] == "signed"][:2]
    store.close()
    # HQ staff at work: a reviewer records 处理情况 and confirms a grade, the admin publishes the draw
    with hq.engine.connect() as conn:
        fids = [r.id for r in conn.execute(sa.select(D.findings.c.id).where(D.findings.c.inspection_id == amended)
                                           .order_by(D.findings.c.position))]
        rect_ids = [r.id for r in conn.execute(sa.select(D.rectifications.c.id))]
        photo_shas = [r.sha256 for r in conn.execute(sa.select(D.photos.c.sha256))]
        pdf_shas = [r.sha256 for r in conn.execute(sa.select(D.documents.c.sha256)) if r.sha256]
        superseded = conn.execute(sa.select(D.inspections.c.superseded_by).where(
            D.inspections.c.id == first)).scalar()
    assert superseded == amended, "HQ did not record the amendment"
    data.save_handling(hq.engine, fids[0], {"category": None, "project": "电工", "certificates": 0, "recovered": 0.0,
                                            "removed_project": 0, "removed_institution": 0, "measures": None,
                                            "result_note": None, "note": "已约谈负责人"}, "rev")
    year = dt.date.today().year
    data.decide_grade(hq.engine, inst["id"], year, "合格", ["测试"], "override", "合格", "复核改定（测试）", "rev")
    data.publish(hq.engine, "draw", record["draw_id"], "随机抽取结果", "admin")
    return {"first": first, "amended": amended, "refused": refused, "inst": inst, "other": other, "year": year,
            "draw_id": record["draw_id"], "seed": record["seed"], "rects": rect_ids, "findings": fids,
            "blobs": photo_shas[:2] + pdf_shas[:2], "tokens": tokens, "photos": photo_shas}


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory, console_dburl: str | None):
    from inspector.hq.console.auth import add_staff

    tmp = tmp_path_factory.mktemp("pages")
    hq = start_hq(tmp / "hq", console_dburl)
    try:
        add_staff(hq.engine, "rev", PASSWORDS["rev"], "reviewer", "赵审核")
        add_staff(hq.engine, "view", PASSWORDS["view"], "viewer", "钱查看")
        w = seed_synced(hq, tmp)
        w["hq"] = hq
        w["clients"] = {u: login_session(hq.url, u) for u in ROLES}
        yield w
        for c in w["clients"].values():
            c.close()
    finally:
        hq.stop()


# -- the pages -------------------------------------------------------------------------------------------------
def _walk(routes: list[Any], prefix: str = "") -> Any:
    """(path, methods) of every APIRoute, through included routers (FastAPI ≥ 0.16x keeps an included
    router as one ``_IncludedRouter`` entry holding ``original_router`` and its ``include_context``)."""
    for r in routes:
        sub = getattr(r, "original_router", None)
        if sub is not None:
            yield from _walk(sub.routes, prefix + (getattr(getattr(r, "include_context", None), "prefix", "") or ""))
        elif isinstance(r, APIRoute):
            yield prefix + r.path, r.methods


def page_routes(app: Any) -> list[str]:
    """Every GET page the app serves outside the device API (/api/…): the console and public verification."""
    return sorted({p for p, methods in _walk(app.routes) if "GET" in methods and not p.startswith("/api/")})


def concrete(path: str, w: dict[str, Any], cells: list[str]) -> list[str]:
    """The URLs requested for a route: itself, or one per id from the synced data."""
    if "{" not in path:
        return [path]
    year = w["year"]
    insts = [w["inst"]["id"], w["other"]["id"]]
    fill = {
        "/console/inspections/{iid}": [f"/console/inspections/{i}" for i in (w["first"], w["amended"], w["refused"])],
        "/console/institutions/{iid}": [f"/console/institutions/{i}" for i in insts],
        "/console/credit/{iid}": [f"/console/credit/{i}" for i in insts],
        "/console/credit/{iid}/{year}/review": [f"/console/credit/{i}/{year}/review" for i in insts],
        "/console/credit/public.{ext}": [f"/console/credit/public.{e}?year={year}" for e in ("xlsx", "pdf")],
        "/console/rectifications/{rid}": [f"/console/rectifications/{r}" for r in w["rects"]],
        "/console/draws/{did}": [f"/console/draws/{w['draw_id']}"],
        "/console/draws/{did}/record.{ext}": [f"/console/draws/{w['draw_id']}/record.{e}" for e in ("xlsx", "pdf")],
        "/console/progress/{annex}.{ext}": [f"/console/progress/{a}.{e}" for a in "12" for e in ("xlsx", "pdf")],
        "/console/progress/{annex}/{row}/{key}": cells,
        "/console/publication/results.{ext}": [f"/console/publication/results.{e}" for e in ("xlsx", "pdf")],
        "/console/blob/{sha}": [f"/console/blob/{s}" for s in w["blobs"]],
        "/console/templates/{kind}.xlsx": [f"/console/templates/{k}.xlsx"
                                           for k in ("institutions", "inspectors", "roster", "self-assessment")],
        "/v/{token}": [f"/v/{t}" for t in w["tokens"]],
        "/console/forms/v/{version_id}": [f"/console/forms/v/{c.version_id}" for c in _shipped_checklists()],
    }
    if path not in fill:
        pytest.fail(f"new console page {path}: add the ids to request it with to concrete() in this test")
    assert fill[path], f"no synced ids for {path}"
    return fill[path]


def _shipped_checklists() -> list[Any]:
    from inspector import forms

    return forms.load_all()  # publish_checklists put every one of them on HQ


def progress_cells(w: dict[str, Any]) -> list[str]:
    """Drill-down links of both progress tables: every non-zero cell and one zero cell."""
    html = w["clients"]["admin"].get("/console/progress").text
    links = re.findall(r'href="(/console/progress/\d/\d+/\w+)\?[^"]*">([^<]*)<', html)
    assert links, "the progress page links no cell"
    nonzero = [u for u, v in links if v.strip() not in ("0", "0.00")]
    zero = [u for u, v in links if v.strip() in ("0", "0.00")]
    assert nonzero, "the synced findings show in no progress cell"
    return nonzero + zero[:1]


def _text(html: str) -> str:
    return " ".join(re.findall(r">([^<]*)<", html))


def expected(url: str, w: dict[str, Any]) -> list[str]:
    """Content a page must show (besides answering 200)."""
    if url.startswith(f"/console/inspections/{w['first']}"):
        return [w["inst"]["name"], "资金金额 —", f'href="/console/inspections/{w["amended"]}"', "本记录已被修订",
                "现场照片", "/console/blob/"]
    if url.startswith(f"/console/inspections/{w['amended']}"):
        return [AMEND_NOTE, "第 2 版", f'href="/console/inspections/{w["first"]}"', "本记录修订并取代", "已约谈负责人"]
    if url.startswith(f"/console/inspections/{w['refused']}"):
        return [w["other"]["name"], "拒绝签名", REFUSAL_REASON, WITNESS, "留置送达", SERVE_REFUSAL, "资金金额 —",
                "/console/blob/"]
    if url.startswith("/console/inspections"):
        return [w["inst"]["name"], w["other"]["name"], "修订2"]
    if url.startswith("/console/ledger") and not url.endswith(("xlsx", "pdf")):
        return [w["other"]["name"], AMEND_NOTE]
    if url.startswith("/console/rectifications/"):
        return ["责令整改的问题"]
    if url.startswith("/console/draws/") and not url.endswith(("xlsx", "pdf")):
        return [w["seed"], "已于"]
    if url.startswith("/console/credit/") and url.endswith("/review"):
        return ["拟定等级"]
    if url.startswith("/console/credit/" + w["inst"]["id"]):
        return [w["inst"]["name"], "复核改定（测试）"]
    if url.startswith("/v/"):
        return ["二维码有效"]
    if url == "/console/devices":
        return ["测试笔记本"]
    if url == "/console/forms":
        return ["现行", "training"]
    if url.startswith("/console/forms/v/"):
        return ["不可修改", "1.1"]
    return []


def test_page_routes_are_enumerated_from_the_app(world):
    paths = page_routes(world["hq"].app)
    # the known pages are all there (a route renamed or lost would drop out of the sweep silently)
    for p in ("/console/", "/console/inspections", "/console/inspections/{iid}", "/console/ledger",
              "/console/progress/{annex}/{row}/{key}", "/console/devices", "/verify", "/v/{token}"):
        assert p in paths, p
    assert not any(p.startswith("/api/") for p in paths)


@pytest.mark.parametrize("user", list(ROLES))
def test_every_page_answers_for_every_role(world, user):
    c = world["clients"][user]
    role = ROLES[user]
    cells = progress_cells(world)
    problems: list[str] = []
    seen = 0
    for path in page_routes(world["hq"].app):
        for url in concrete(path, world, cells):
            r = c.get(url)
            seen += 1
            need = NEEDS.get(path, "viewer")
            if RANK[role] < RANK[need]:
                if r.status_code != 403 or "无权访问" not in r.text:
                    problems.append(f"{url}: {r.status_code} for {user}, expected 403")
                continue
            if r.status_code != 200:
                problems.append(f"{url}: {r.status_code} {r.text[-300:]!r}")
                continue
            ctype = r.headers.get("content-type", "")
            if url.split("?")[0].endswith(".pdf") or (path == "/console/blob/{sha}" and "pdf" in ctype):
                ok = r.content[:5] == b"%PDF-"
            elif url.split("?")[0].endswith(".xlsx"):
                ok = r.content[:2] == b"PK"
            elif path == "/console/blob/{sha}":
                ok = r.content[:3] == b"\xff\xd8\xff" or r.content[:4] == b"\x89PNG"
            elif url.endswith(".der"):  # HQ's CA certificate and CRL (public, DER: an ASN.1 SEQUENCE)
                ok = r.content[:1] == b"\x30" and "pkix" in ctype
            else:
                ok = "text/html" in ctype
                text = _text(r.text)
                if re.search(r"\bNone\b", text):  # a NULL printed as the word None
                    problems.append(f"{url}: shows 'None': …{text[max(0, text.find('None') - 80):][:160]}…")
                missing = [x for x in expected(url, world) if x not in r.text]
                if missing:
                    problems.append(f"{url}: missing {missing}")
            if not ok:
                problems.append(f"{url}: body is not what {ctype} says ({r.content[:8]!r})")
    assert seen > 40
    assert not problems, "\n".join(problems)


def test_inspection_page_shows_findings_without_amount(world):
    """The issue's page: a synced visit whose findings have no amount answers 200 with every finding."""
    c = world["clients"]["view"]
    with world["hq"].engine.connect() as conn:
        rows = conn.execute(sa.select(D.findings.c.description, D.findings.c.amount).where(
            D.findings.c.inspection_id == world["first"])).all()
    assert any(r.amount is None for r in rows) and any(r.amount is not None for r in rows)
    r = c.get(f"/console/inspections/{world['first']}")
    assert r.status_code == 200, r.text[-500:]
    for f in rows:
        assert f.description in r.text
    for f in rows:  # the demo's T-5-6 has an amount; T-3-1 and T-5-10 show —
        assert f.amount is None or f"资金金额 {f.amount:,.2f} 元" in r.text
    # an id HQ does not hold: the error page (rendered without a page's own context) in Chinese, not a 500
    missing = c.get("/console/inspections/no-such-id")
    assert missing.status_code == 404 and "总部没有检查记录 no-such-id" in missing.text
    assert r.text.count("资金金额 —") == sum(1 for f in rows if f.amount is None)


def test_inspection_page_masks_the_person_in_charges_phone(world):
    """HQ holds the real phone (synced from the laptop, where it is sealed); the page shows it masked."""
    with world["hq"].engine.connect() as conn:
        pic = conn.execute(sa.select(D.inspections.c.person_in_charge).where(
            D.inspections.c.id == world["refused"])).scalar_one()
    assert "13900000001" in str(pic)
    r = world["clients"]["view"].get(f"/console/inspections/{world['refused']}")
    assert r.status_code == 200 and "周负责" in r.text
    assert "13900000001" not in r.text and "139****0001" in r.text


@pytest.mark.parametrize("fmt", ["csv-gb18030", "xlsx"])
def test_self_assessment_import_reads_gb18030_csv_and_xlsx(world, tmp_path, fmt):
    """自评 goes through the shared tabular reader: a GB18030 CSV (Excel in China) and an XLSX import,
    a full-width code is folded, and a bad row is refused naming the file and the row."""
    from inspector.hq import console_db as C
    from inspector.tabular import write_table

    rv = world["clients"]["rev"]
    inst, year = world["other"], world["year"]
    wide = "".join(chr(ord(ch) + 0xFEE0) for ch in inst["credit_code"])
    head = ["序号", "机构名称", "统一社会信用代码", "年度", "自评等级", "失信行为代码", "整改情况", "说明"]
    suffix, enc = (".csv", "gb18030") if fmt.startswith("csv") else (".xlsx", "utf-8")
    good = write_table(tmp_path / f"自评{suffix}", head,
                       [[1, inst["name"], wide, year, "良好", "PX-QW-1", "已按期整改", "招生简章已备案（自评）"]], encoding=enc)
    if fmt.startswith("csv"):
        with pytest.raises(UnicodeDecodeError):  # really GB18030, not UTF-8 in disguise
            good.read_bytes().decode("utf-8")
    r = rv.post("/console/credit/self", data={"csrf": rv.csrf},
                files={"file": (good.name, good.read_bytes(), "application/octet-stream")})
    assert r.status_code == 303, r.text[-600:]
    with world["hq"].engine.connect() as conn:
        row = conn.execute(sa.select(C.credit_self).where(C.credit_self.c.institution_id == inst["id"],
                                                          C.credit_self.c.year == year)).first()
    assert row is not None and row.grade == "良好" and row.note == "招生简章已备案（自评）" and row.source == good.name
    assert "良好（自评" in rv.get(f"/console/credit/{inst['id']}").text
    bad = write_table(tmp_path / f"自评有误{suffix}", head,
                      [[1, inst["name"], inst["credit_code"], "20²6", "良好", "", "", ""]], encoding=enc)
    r = rv.post("/console/credit/self", data={"csrf": rv.csrf},
                files={"file": (bad.name, bad.read_bytes(), "application/octet-stream")})
    assert r.status_code == 422 and f"自评有误{suffix}: 第 2 行" in r.text and "年度" in r.text, r.text[-600:]
