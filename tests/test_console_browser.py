"""The console driven in a real headless Chromium (Debian's, through Playwright) against the real
HQ server on 127.0.0.1: login, a reviewer confirming a grade, an admin revoking a device (whose
token the sync API then refuses), the public verify page for a genuine and a tampered PDF, the
XSS case, and the README screenshots."""
from __future__ import annotations

from pathlib import Path

import httpx
import pytest
import sqlalchemy as sa

from tests.console_fixtures import *  # noqa: F401,F403
from tests.console_fixtures import PERIOD, page_for


@pytest.fixture(scope="module")
def console_dburl():
    """The browser tests drive the pages on SQLite only (the role and report tests cover PostgreSQL)."""
    return None


def test_login_wrong_password_then_right_then_logout(browser, console_hq):
    page = page_for(browser, console_hq)
    page.goto(console_hq.url + "/console/ledger")
    assert page.url.startswith(console_hq.url + "/console/login")
    page.fill("input[name=username]", "view")
    page.fill("input[name=password]", "wrong-password")
    page.click("button[type=submit]")
    assert "用户名或口令错误" in page.inner_text("main")
    page.fill("input[name=username]", "view")
    page.fill("input[name=password]", "viewer-pass-1")
    page.click("button[type=submit]")
    page.wait_for_url("**/console/ledger")  # back where the login started
    assert "问题台账" in page.inner_text("h1")
    assert "设备管理" not in page.inner_text("nav")  # a viewer sees no admin pages
    page.click("text=退出登录")
    page.wait_for_url("**/console/login")
    page.goto(console_hq.url + "/console/")
    assert "/console/login" in page.url  # the session ended on the server
    page.context.close()


def test_reviewer_confirms_a_grade_and_overrides_one_with_a_reason(browser, console_hq):
    page = page_for(browser, console_hq, "rev")
    page.goto(console_hq.url + "/console/credit/inst-D/2026/review")
    assert page.inner_text("#proposed") == "良好"
    page.click("#confirm-form button")
    page.wait_for_url("**/console/credit/inst-D?*")
    assert "2026年度信用等级已确认为良好" in page.inner_text(".flash")
    # the archive row: time, the reviewer's login (the account that decided), proposed, decision, reason
    cells = page.locator("tr", has_text="良好（确认）").locator("td").all_inner_texts()
    assert [c.strip() for c in cells[1:]] == ["rev", "良好", "良好（确认）", ""], cells
    # override needs a written reason; it is kept in the archive
    page.goto(console_hq.url + "/console/credit/inst-D/2026/review")
    page.select_option("#override-form select[name=grade]", "合格")
    page.fill("#override-form textarea[name=reason]", "公示期间收到实名投诉，经核实档案管理问题未整改到位")
    page.click("#override-form button")
    page.wait_for_url("**/console/credit/inst-D?*")
    text = page.inner_text("main")
    assert "合格（改定）" in text and "实名投诉" in text and "良好（确认）" in text  # history kept
    with console_hq.engine.connect() as conn:
        grade = conn.execute(sa.text("SELECT credit_grade FROM institutions WHERE id = 'inst-D'")).scalar()
        pulled = conn.execute(sa.text("SELECT count(*) FROM changes WHERE entity = 'institution' "
                                      "AND entity_id = 'inst-D'")).scalar()
    assert grade == "合格" and pulled >= 3  # the directory changed and laptops will pull it
    page.context.close()


def test_admin_revokes_a_device_and_its_token_is_refused(browser, console_hq):
    tok = console_hq.doc["device_token"]
    hdr = {"Authorization": f"Bearer {tok}"}
    assert httpx.get(console_hq.url + "/api/v1/changes?since=0", headers=hdr).status_code == 200
    page = page_for(browser, console_hq, "admin")
    page.goto(console_hq.url + "/console/devices")
    row = page.locator(f"#dev-{console_hq.doc['device_id']}")
    assert "有效" in row.inner_text()
    page.on("dialog", lambda d: d.accept())
    row.locator("button.danger").click()
    page.wait_for_url("**/console/devices?msg=*")
    assert "已吊销" in page.locator(f"#dev-{console_hq.doc['device_id']}").inner_text()
    r = httpx.get(console_hq.url + "/api/v1/changes?since=0", headers=hdr)
    assert r.status_code == 403 and r.json()["code"] == "device_revoked"
    page.context.close()


def test_public_verify_page_genuine_and_tampered(browser, console_hq, tmp_path):
    doc = console_hq.doc
    good = tmp_path / "通知书.pdf"
    good.write_bytes(doc["pdf"])
    bad = tmp_path / "通知书-改.pdf"
    bad.write_bytes(doc["pdf"].replace(b"0001", b"0009", 1) if b"0001" in doc["pdf"]
                    else doc["pdf"][:-200] + b"%tampered\n" + doc["pdf"][-190:])
    page = page_for(browser, console_hq)  # no login
    page.goto(console_hq.url + "/v/" + doc["token"])
    assert "二维码有效" in page.inner_text("#qr-verdict")
    main = page.inner_text("main")
    assert "责令限期整改通知书" in main and "新人社监〔2026〕0001" in main and "张三" in main
    page.set_input_files("input[type=file]", str(good))
    page.click("form button[type=submit]")
    assert "文件真实" in page.inner_text("#file-verdict")
    page.set_input_files("input[type=file]", str(bad))
    page.click("form button[type=submit]")
    assert "不一致" in page.inner_text("#file-verdict")
    # a QR whose signature does not verify
    t = doc["token"]
    forged = t[:-3] + ("AAA" if not t.endswith("AAA") else "BBB")
    page.goto(console_hq.url + "/v/" + forged)
    assert "无法确认" in page.inner_text("#qr-verdict")
    page.context.close()


def test_script_in_an_institution_name_is_shown_not_run(browser, console_hq):
    page = page_for(browser, console_hq, "admin")
    dialogs: list[str] = []
    page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    for url in ("/console/directories", "/console/inspections", "/console/credit?year=2026",
                "/console/progress/1/0/total?since=%s&until=%s" % PERIOD, "/console/credit/inst-F",
                "/console/institutions/inst-F"):
        page.goto(console_hq.url + url)
        assert "<script>alert('x')</script>" in page.inner_text("main"), url
        assert page.locator("main script").count() == 0
    assert dialogs == []
    page.context.close()


def test_screenshots_of_the_main_pages(browser, console_hq, tmp_path):
    """hq-*.png at 1366×768; INSPECTOR_SCREENSHOTS=docs/screenshots refreshes the README's copies."""
    import os

    shots = Path(os.environ["INSPECTOR_SCREENSHOTS"]) if os.environ.get("INSPECTOR_SCREENSHOTS") else tmp_path
    shots.mkdir(parents=True, exist_ok=True)
    q = "?since=%s&until=%s" % PERIOD
    pages = {"dashboard": "/console/", "inspection": "/console/inspections/i1",
             "rectifications": "/console/rectifications", "ledger": "/console/ledger" + q,
             "progress": "/console/progress" + q, "drill": "/console/progress/2/1/certificates" + q,
             "credit": "/console/credit?year=2026", "review": "/console/credit/inst-D/2026/review",
             "devices": "/console/devices", "verify": "/v/" + console_hq.doc["token"]}
    page = page_for(browser, console_hq, "admin")
    for name, url in pages.items():
        page.goto(console_hq.url + url)
        assert page.locator("h1").count() >= 1
        page.screenshot(path=str(shots / f"hq-{name}.png"))
    page.context.close()
    assert all((shots / f"hq-{n}.png").stat().st_size > 10_000 for n in pages)
