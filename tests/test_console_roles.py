"""Console over HTTP against the real HQ server: role checks (403), CSRF refusals, rectification
tracking through the change log, 自评 import, a draw run and published, and the exports."""
from __future__ import annotations

import io
import json

import pytest
import sqlalchemy as sa

from tests.console_fixtures import *  # noqa: F401,F403
from tests.console_fixtures import PERIOD, login_session


@pytest.fixture(scope="module")
def clients(console_hq):
    cs = {u: login_session(console_hq.url, u) for u in ("admin", "rev", "view")}
    yield cs
    for c in cs.values():
        c.close()


def test_not_logged_in_is_sent_to_login(console_hq):
    import httpx

    r = httpx.get(console_hq.url + "/console/rectifications")
    assert r.status_code == 303 and r.headers["location"].startswith("/console/login")
    assert httpx.get(console_hq.url + "/console/ledger.xlsx").status_code == 303
    assert httpx.post(console_hq.url + "/console/devices/x/revoke", data={"csrf": "x"}).status_code == 401


@pytest.mark.parametrize("url,role", [
    ("/console/devices", "admin"), ("/console/credit/inst-A/2026/review", "reviewer")])
def test_viewer_gets_403_on_reviewer_and_admin_pages(clients, url, role):
    r = clients["view"].get(url)
    assert r.status_code == 403 and "无权访问" in r.text
    assert (clients["rev"].get(url).status_code == 200) == (role == "reviewer")
    assert clients["admin"].get(url).status_code == 200


def test_viewer_cannot_post_reviewer_actions_even_with_its_token(clients):
    v = clients["view"]
    r = v.post("/console/credit/inst-A/2026/review", data={"csrf": v.csrf, "action": "confirm"})
    assert r.status_code == 403
    r = clients["rev"].post("/console/devices/whatever/revoke", data={"csrf": clients["rev"].csrf})
    assert r.status_code == 403


def test_post_without_or_with_a_foreign_csrf_token_is_refused(console_hq, clients):
    a = clients["admin"]
    for data in ({}, {"csrf": "forged"}, {"csrf": clients["rev"].csrf}):
        r = a.post("/console/credit/inst-B/2026/review", data={**data, "action": "confirm"})
        assert r.status_code == 403 and "校验码" in r.text
    with console_hq.engine.connect() as conn:
        assert conn.execute(sa.text("SELECT count(*) FROM credit_decisions WHERE institution_id='inst-B'")).scalar() == 0
    # login itself needs the login form's token
    import httpx

    r = httpx.post(console_hq.url + "/console/login", data={"username": "admin", "password": "admin-pass-1"})
    assert r.status_code == 403


def test_rectification_reinspection_task_reaches_the_pull_log_and_closing_needs_evidence(console_hq, clients):
    rv = clients["rev"]
    page = rv.get("/console/rectifications?only=overdue")
    assert "红旗区华宇职业技能培训学校" in page.text and "新乡市就业训练中心" not in page.text
    r = rv.post("/console/rectifications/r1/reinspection", data={"csrf": rv.csrf, "inspector_ids": ["insp-1"]})
    assert r.status_code == 422 and "至少需要 2 名" in r.text
    r = rv.post("/console/rectifications/r1/reinspection",
                data={"csrf": rv.csrf, "inspector_ids": ["insp-2", "insp-3"]})
    assert r.status_code == 303
    with console_hq.engine.connect() as conn:
        tid = conn.execute(sa.text("SELECT reinspection_task_id FROM rectifications WHERE id='r1'")).scalar()
        task = conn.execute(sa.text("SELECT * FROM tasks WHERE id=:t"), {"t": tid}).mappings().first()
        aud = {r[0] for r in conn.execute(sa.text("SELECT audience FROM changes WHERE entity='task' AND entity_id=:t"),
                                          {"t": tid})}
    assert task["kind"] == "reinspection" and task["institution_id"] == "inst-A"
    assert json.loads(task["inspector_ids"]) == ["insp-2", "insp-3"] and aud == {"insp-2", "insp-3"}
    # no evidence, no re-inspection: refused
    r = rv.post("/console/rectifications/r1/close", data={"csrf": rv.csrf, "status": "逾期整改"})
    assert r.status_code == 422 and "复查记录或整改证据" in r.text
    r = rv.post("/console/rectifications/r1/close", data={"csrf": rv.csrf, "status": "逾期整改",
                                                           "evidence": "机构 5 月 10 日报送整改报告及考勤系统截图"})
    assert r.status_code == 303
    with console_hq.engine.connect() as conn:
        row = conn.execute(sa.text("SELECT status, closed_at, evidence FROM rectifications WHERE id='r1'")).first()
        ch = conn.execute(sa.text("SELECT data FROM changes WHERE entity='rectification' AND entity_id='r1' "
                                  "ORDER BY seq DESC")).first()
    assert row.status == "逾期整改" and row.closed_at and "整改报告" in row.evidence
    assert json.loads(ch.data)["status"] == "逾期整改"  # laptops of the original check pull the decision
    assert "逾期整改" in rv.get("/console/rectifications/r1").text
    assert "红旗区华宇" not in rv.get("/console/rectifications?only=overdue").text


def test_self_assessment_import_joins_the_proposal(console_hq, clients):
    rv = clients["rev"]
    bad = "统一社会信用代码,年度,自评等级,失信行为代码\n52410700MA00000006,2026,很好,PX-QW-9\n"
    r = rv.post("/console/credit/self", data={"csrf": rv.csrf},
                files={"file": ("自评.csv", bad.encode(), "text/csv")})
    assert r.status_code == 422 and "第 2 行" in r.text and "自评等级" in r.text
    good = "统一社会信用代码,年度,自评等级,失信行为代码,整改情况,说明\n52410700MA00000006,2026,优秀,PX-QW-1,已按期整改,招生简章已备案\n"
    r = rv.post("/console/credit/self", data={"csrf": rv.csrf},
                files={"file": ("自评.csv", good.encode("utf-8-sig"), "text/csv")})
    assert r.status_code == 303
    page = rv.get("/console/credit/inst-F/2026/review").text
    assert 'id="proposed">良好<' in page and "PX-QW-1" in page and "自评等级“优秀”高于" in page


def test_admin_runs_a_draw_and_publishes_it(console_hq, clients):
    a = clients["admin"]
    r = a.post("/console/draws", data={"csrf": a.csrf, "seed": "2026-公开摇号-01", "per_county": "1", "ratio": "0",
                                       "inspectors_per_task": "2", "due_days": "20"})
    assert r.status_code == 303, r.text
    did = r.headers["location"].split("/console/draws/")[1].split("?")[0]
    page = a.get(f"/console/draws/{did}").text
    assert "2026-公开摇号-01" in page
    r = a.post(f"/console/draws/{did}/publish", data={"csrf": a.csrf})
    assert r.status_code == 303
    assert "已公开" in a.get("/console/draws").text
    x = a.get(f"/console/draws/{did}/record.xlsx")
    assert x.status_code == 200 and x.content[:2] == b"PK"
    with console_hq.engine.connect() as conn:
        n = conn.execute(sa.text("SELECT count(*) FROM tasks WHERE draw_id=:d"), {"d": did}).scalar()
    assert n == 3  # one institution per county (红旗区, 卫滨区, 牧野区)


def test_exports_are_real_files_with_the_pinned_numbers(clients):
    from openpyxl import load_workbook

    v = clients["view"]
    q = "?since=%s&until=%s" % PERIOD
    r = v.get("/console/ledger.xlsx" + q)
    ws = load_workbook(io.BytesIO(r.content)).active
    head = next(i for i in range(1, 10) if ws.cell(i, 1).value == "序号")
    assert [ws.cell(head, c).value for c in range(1, 11)] == ["序号", "机构名称", "问题简述", "涉及人数", "资金金额",
                                                               "责任人", "整改措施", "整改期限", "整改结果", "机构联系人及电话"]
    assert ws.max_row - head >= 7
    r = v.get("/console/progress/2.xlsx" + q)
    ws = load_workbook(io.BytesIO(r.content)).active
    assert [ws.cell(8, c).value for c in range(2, 10)] == ["经人社部门备案的职业技能等级认定机构", 1, 1, 1, 0, 0, 40, 9000]
    for url in ("/console/ledger.pdf", "/console/progress/1.pdf", "/console/credit/public.pdf?year=2026",
                "/console/publication/results.pdf"):
        r = v.get(url + ("&" if "?" in url else "?") + q[1:])
        assert r.status_code == 200 and r.content[:5] == b"%PDF-", url
    page = v.get("/console/progress/1/1/recovered" + q).text
    assert "15,000.00" in page and "伪造电工班考勤骗取培训补贴" in page


def test_staff_command_adds_lists_and_disables_console_accounts(tmp_path):
    import subprocess
    import sys

    from inspector.hq import db as D
    from inspector.hq.config import HQConfig
    from inspector.hq.console import auth

    def hq(*a: str) -> subprocess.CompletedProcess:
        return subprocess.run([sys.executable, "-m", "inspector.hq.cli", "--home", str(tmp_path / "hq"), "--json", *a],
                              capture_output=True, text=True)

    assert hq("init", "--password", "admin-pass-1").returncode == 0
    r = hq("staff", "add", "wang", "--role", "reviewer", "--name", "王审核")
    assert r.returncode == 0, r.stderr
    pw = json.loads(r.stdout)["password"]
    assert pw and len(pw) >= 8  # generated and shown once
    assert hq("staff", "add", "wang", "--role", "viewer").returncode == 2  # username taken
    r = hq("staff", "add", "li", "--role", "viewer", "--password", "short")
    assert r.returncode == 2 and "8" in r.stderr
    rows = json.loads(hq("staff", "list").stdout)
    assert [(x["username"], x["role"]) for x in rows] == [("admin", "admin"), ("wang", "reviewer")]
    engine = D.make_engine(HQConfig.load(str(tmp_path / "hq")).url)
    assert auth.login(engine, "wang", pw)
    assert hq("staff", "disable", "wang").returncode == 0
    assert auth.login(engine, "wang", pw) is None
