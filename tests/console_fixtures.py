"""A known HQ data set for the console and report tests (numbers pinned in the tests), a real
HQ server with staff of every role, a genuine signed PDF on record with its QR token, and a
headless Chromium (Debian's, driven by Playwright).

``from tests.console_fixtures import *``.
"""
from __future__ import annotations

import hashlib
import io
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from inspector.hq import db as D
from inspector.hq import service
from inspector.util import dumps, now_iso

from tests.hq_fixtures import postgresql_proc  # noqa: F401  (the console also runs on a real PostgreSQL)

__all__ = ["console_hq", "console_dburl", "postgresql_proc", "browser", "page_for", "seed_dataset", "INST", "PERIOD", "PASSWORDS", "login_session",
           "signed_document"]

PERIOD = ("2026-01-01", "2026-06-30")
PASSWORDS = {"admin": "admin-pass-1", "rev": "reviewer-pass-1", "view": "viewer-pass-1"}
XSS_NAME = "<script>alert('x')</script>牧野区培训学校"
INST = {  # key -> (name, kind, sub_kind, county, trades)
    "A": ("红旗区华宇职业技能培训学校", "培训机构", None, "红旗区", ["电工", "焊工"]),
    "B": ("新乡市就业训练中心", "培训机构", "主管部门所属单位", "卫滨区", ["育婴员"]),
    "C": ("新乡市启明职业技能等级认定中心", "评价机构", None, "红旗区", ["电工"]),
    "D": ("卫滨区职业技能鉴定站", "评价机构", "职业资格鉴定机构", "卫滨区", []),
    "E": ("新乡市美发美容行业协会", "评价机构", "行业协会", "牧野区", []),
    "F": (XSS_NAME, "培训机构", None, "牧野区", []),
}


def _inst_row(key: str) -> dict[str, Any]:
    name, kind, sub, county, trades = INST[key]
    return {"id": f"inst-{key}", "credit_code": f"52410700MA00000{ord(key) - 64:03d}", "name": name, "kind": kind,
            "sub_kind": sub, "county": county, "city": "新乡市", "trades": dumps(trades), "legal_rep": f"法人{key}",
            "contact": f"联系人{key}", "phone": f"1380000000{ord(key) - 64}", "updated_at": now_iso()}


def seed_dataset(engine: sa.Engine) -> None:
    """Institutions A–F, two inspectors, nine inspections (one superseded, one draft, one out of the
    period), seven counted findings with 处理情况, three rectifications. Expected numbers: see tests."""
    from inspector.hq import console_db as C

    with engine.begin() as conn:
        for k in INST:
            service.upsert_entity(conn, "institution", _inst_row(k))
        for n, (iid, badge, name) in enumerate((("insp-1", "B001", "张三"), ("insp-2", "B002", "李四"),
                                                 ("insp-3", "B003", "王五")), 1):
            service.upsert_entity(conn, "inspector", {"id": iid, "badge_no": badge, "name": name, "unit": "市人社局",
                                                      "county": "红旗区", "specialties": "[]", "conflicts": "[]",
                                                      "updated_at": now_iso()})

        def insp(iid: str, inst: str, day: str, status: str = "finished", superseded_by: str | None = None,
                 result: str | None = None) -> None:
            conn.execute(D.inspections.insert().values(
                id=iid, institution_id=f"inst-{inst}", status=status, started_at=f"{day}T09:00:00+08:00",
                ended_at=f"{day}T11:30:00+08:00", place="机构办公地点", inspector_ids=dumps(["insp-1", "insp-2"]),
                person_in_charge=dumps({"name": f"负责人{inst}", "position": "校长", "phone": "13900000000"}),
                checklist_version_ids="[]", result_category=result, created_at=now_iso(), updated_at=now_iso(),
                superseded_by=superseded_by, extra="{}"))

        def finding(fid: str, iid: str, code: str, desc: str, people: int, amount: float, pos: int = 0) -> None:
            conn.execute(D.findings.insert().values(
                id=fid, inspection_id=iid, codes=dumps([code]), description=desc, people_involved=people,
                amount=amount, required_action="立即整改并报送整改报告", deadline="2026-04-30", position=pos,
                created_at=now_iso(), updated_at=now_iso(), extra="{}"))

        insp("i1old", "A", "2026-03-02", superseded_by="i1")
        insp("i1", "A", "2026-03-02", result="发现问题已责令改正")
        insp("i2", "B", "2026-03-10", result="发现问题已责令改正")
        insp("i4", "C", "2026-03-15", result="发现问题已责令改正")
        insp("i5", "D", "2026-03-16", result="发现问题已责令改正")
        insp("i6", "E", "2026-03-20", result="发现问题已责令改正")
        insp("i7", "F", "2026-03-21", result="未发现问题")
        insp("i8", "C", "2026-03-25", status="draft")
        insp("i9", "A", "2026-07-05", result="发现问题已责令改正")
        finding("f0", "i1old", "PX-YB-3", "旧修订中的问题（不计）", 1, 1.0)
        finding("f1", "i1", "PX-YZ-10", "焊工班拼凑人数开展滥竽充数式培训", 12, 3600.0, 0)
        finding("f2", "i1", "PX-YZ-9", "伪造电工班考勤骗取培训补贴", 5, 15000.0, 1)
        finding("f3", "i2", "PX-YZ-7", "将育婴员培训转包给无资质机构", 0, 0.0)
        finding("f4", "i4", "PJ-YZ-8", "上传证书数据与考试记录不符", 30, 9000.0, 0)
        finding("f5", "i4", "PJ-YZ-7", "未组织考试即发放证书", 10, 0.0, 1)
        finding("f6", "i5", "PJ-QW-3", "评价档案保存不完整", 0, 0.0)
        finding("f7", "i6", "PJ-YZ-10", "证书使用“国家职业资格”字样", 50, 0.0)
        finding("f8", "i8", "PJ-YZ-9", "草稿中的问题（不计）", 1, 1.0)
        finding("f9", "i9", "PX-YZ-15", "期间外的问题（不计）", 1, 1.0)
        hand = {"f1": {"project": "焊工", "removed_project": 1},
                "f2": {"recovered": 15000.0, "removed_institution": 1},
                "f3": {"recovered": 2000.5},
                "f4": {"certificates": 30, "recovered": 9000.0},
                "f5": {"certificates": 10},
                "f7": {"certificates": 50, "note": "已移送市场监管部门"}}
        for fid, h in hand.items():
            conn.execute(C.finding_handling.insert().values(finding_id=fid, updated_at=now_iso(), **h))
        for rid, iid, inst, deadline, status, number in (
                ("r1", "i1", "A", "2026-04-01", "待整改", "新人社监〔2026〕0001"),
                ("r2", "i2", "B", "2099-01-01", "待整改", "新人社监〔2026〕0002"),
                ("r4", "i4", "C", "2026-04-15", "已按期整改", "新人社监〔2026〕0003")):
            conn.execute(D.rectifications.insert().values(
                id=rid, inspection_id=iid, institution_id=f"inst-{inst}", notice_number=number, deadline=deadline,
                status=status, created_at=now_iso(), updated_at=now_iso(), extra="{}"))


def login_session(base_url: str, user: str) -> Any:
    """An httpx client logged in as ``user`` (cookie set), plus its CSRF token."""
    import re

    import httpx

    c = httpx.Client(base_url=base_url, follow_redirects=False, timeout=30)
    r = c.get("/console/login")
    tok = re.search(r'name="csrf" value="([^"]+)"', r.text).group(1)
    r = c.post("/console/login", data={"csrf": tok, "username": user, "password": PASSWORDS[user], "next": "/console/"})
    assert r.status_code == 303, r.text
    page = c.get("/console/")
    c.csrf = re.search(r'name="csrf" value="([^"]+)"', page.text).group(1)  # type: ignore[attr-defined]
    return c


def signed_document(hq: Any) -> dict[str, Any]:
    """A device enrolled at HQ and a PDF signed by an inspector whose certificate HQ's CA issued,
    recorded in ``documents`` (sha256 of the signed file) with its QR token."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import ed25519
    from cryptography.x509 import load_pem_x509_certificate
    from reportlab.pdfgen import canvas

    from inspector import qr, signing
    from inspector.keys import SigningKey
    from inspector.pdfbase import register_fonts
    from inspector.pki import CA, new_key, public_pem
    from inspector.util import new_id

    code = service.make_enrol_code(hq.engine, hq.cfg, "B001")["code"]
    key = new_key()
    qk = ed25519.Ed25519PrivateKey.generate()
    qpub = qk.public_key().public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    enr = service.enrol(hq.engine, hq.cfg, code, public_pem(key).decode(), "测试笔记本", qpub.decode())
    ca = CA.load(hq.cfg.ca_dir)
    sk = SigningKey("B001", key, load_pem_x509_certificate(enr["cert_pem"].encode()), ca.cert, True)
    buf = io.BytesIO()
    font = register_fonts()
    c = canvas.Canvas(buf, initialFontName=font)
    c.setFont(font, 14)
    c.drawString(100, 750, "责令限期整改通知书 新人社监〔2026〕0001")
    c.showPage()
    c.save()
    pdf = signing.prepare(buf.getvalue(), [signing.field_name(1)])
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(1) as ex:  # pyHanko uses asyncio.run; Playwright's loop may run in this thread
        pdf = ex.submit(signing.sign, pdf, sk, signing.field_name(1)).result()
    sha = hashlib.sha256(pdf).hexdigest()
    p = hq.app.state.hq.blobs.path(sha)
    p.parent.mkdir(parents=True, exist_ok=True)
    p.write_bytes(pdf)
    doc_id = new_id()
    record_sha = hashlib.sha256(b"canonical record").hexdigest()
    with hq.engine.begin() as conn:
        conn.execute(D.documents.insert().values(
            id=doc_id, kind="notice", number="新人社监〔2026〕0001", inspection_id="i1", sha256=sha,
            created_at=now_iso(), device_id=enr["device_id"], received_at=now_iso(),
            extra=dumps({"record_sha256": record_sha, "status": "signed", "blob_sha256": sha,
                         "signers": [{"badge_no": "B001", "name": "张三", "signed_at": "2026-03-02T11:20:00+08:00"}]})))
    sig = qk.sign(qr.message(doc_id, record_sha))
    token = f"{qr._b64(__import__('uuid').UUID(doc_id).bytes)}.{qr._b64(bytes.fromhex(record_sha))}.{qr._b64(sig)}"
    return {"doc_id": doc_id, "pdf": pdf, "sha256": sha, "token": token, "device_id": enr["device_id"],
            "device_token": enr["token"]}


@pytest.fixture(scope="module", params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def console_dburl(request: pytest.FixtureRequest) -> str | None:
    """None (SQLite) or the URL of a fresh database on the session's PostgreSQL server. A test module
    may override it (the browser tests run on SQLite only)."""
    from tests.hq_fixtures import pg_url

    return None if request.param == "sqlite" else pg_url(request.getfixturevalue("postgresql_proc"))


@pytest.fixture(scope="module")
def console_hq(tmp_path_factory: pytest.TempPathFactory, console_dburl: str | None):
    """A real HQ server (uvicorn on 127.0.0.1) with the known data set, staff admin/rev/view and a signed document."""
    from inspector.hq.console.auth import add_staff
    from tests.hq_fixtures import start_hq

    home = tmp_path_factory.mktemp("console") / "hq"
    hq = start_hq(home, console_dburl)
    add_staff(hq.engine, "rev", PASSWORDS["rev"], "reviewer", "赵审核")
    add_staff(hq.engine, "view", PASSWORDS["view"], "viewer", "钱查看")
    seed_dataset(hq.engine)
    hq.doc = signed_document(hq)
    yield hq
    hq.stop()


CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run"]


@pytest.fixture(scope="module")
def browser():
    from playwright.sync_api import sync_playwright

    if not Path("/usr/bin/chromium").exists():
        pytest.skip("!!! /usr/bin/chromium missing: browser tests did NOT run !!!")
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)
        yield b
        b.close()


def page_for(browser: Any, hq: Any, user: str | None = None) -> Any:
    """A fresh browser context (own cookies) at 1366×768, logged in as ``user`` through the form."""
    ctx = browser.new_context(viewport={"width": 1366, "height": 768}, locale="zh-CN")
    page = ctx.new_page()
    page.set_default_timeout(15000)
    if user:
        page.goto(hq.url + "/console/login")
        page.fill("input[name=username]", user)
        page.fill("input[name=password]", PASSWORDS[user])
        page.click("button[type=submit]")
        page.wait_for_url(hq.url + "/console/")
    return page
