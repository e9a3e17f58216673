"""Security headers and the session cookie, against the real HQ on loopback: every kind of page
(console, device API, public /verify and /v/, static files, errors) carries the CSP without inline
script, frame-ancestors 'none' + X-Frame-Options, nosniff and Referrer-Policy; HSTS and the
cookie's Secure flag come with HTTPS — HQ's own TLS (uvicorn with a test certificate) or a
trusted proxy's X-Forwarded-Proto, never an untrusted one. The headers do not depend on the
database, so these run on SQLite only."""
from __future__ import annotations

import datetime as dt
import re
import ssl
import threading
import time
from pathlib import Path
from typing import Any

import httpx
import pytest

from inspector.hq.admin import init_home
from inspector.hq.app import create_app
from inspector.hq.config import HQConfig
from tests.hq_fixtures import free_port, start_hq

TEMPLATES = Path(__file__).resolve().parents[1] / "inspector" / "hq" / "console" / "templates"
WANT = {"x-frame-options": "DENY", "x-content-type-options": "nosniff", "referrer-policy": "no-referrer"}


def _csp(r: httpx.Response) -> dict[str, str]:
    out = {}
    for part in r.headers["content-security-policy"].split(";"):
        name, _, value = part.strip().partition(" ")
        out[name] = value
    return out


def _check(r: httpx.Response, where: str, obj: str = "'none'") -> None:
    for k, v in WANT.items():
        assert r.headers.get(k) == v, (where, k, r.headers.get(k))
    csp = _csp(r)
    assert csp["frame-ancestors"] == "'none'", where
    assert csp["default-src"] == "'self'" and csp["object-src"] == obj, where
    assert "unsafe-inline" not in csp["script-src"] and "unsafe-eval" not in csp["script-src"], where


class Server:
    """uvicorn serving an HQ app as ``inspector-hq serve`` does (no proxy headers believed unless
    ``trusted_proxies`` says so), optionally over TLS."""

    def __init__(self, home: Path, *, certs: tuple[Path, Path] | None = None, **cfg: Any):
        import uvicorn

        self.app = create_app(HQConfig.load(home, **cfg))
        self.port = free_port()
        self.url = f"{'https' if certs else 'http'}://127.0.0.1:{self.port}"
        trusted = ",".join(self.app.state.hq.cfg.trusted_proxies)
        kw: dict[str, Any] = dict(ssl_certfile=str(certs[0]), ssl_keyfile=str(certs[1])) if certs else {}
        self.server = uvicorn.Server(uvicorn.Config(self.app, host="127.0.0.1", port=self.port, log_level="warning",
                                                    lifespan="off", proxy_headers=bool(trusted),
                                                    forwarded_allow_ips=trusted or "", **kw))
        self.thread = threading.Thread(target=self.server.run, daemon=True)
        self.thread.start()
        for _ in range(500):
            if self.server.started:
                break
            time.sleep(0.01)

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(10)
        self.app.state.hq.engine.dispose()


def _cert(tmp: Path) -> tuple[Path, Path, Path]:
    """A self-signed certificate for 127.0.0.1 (cert, key, and the cert again as the trust anchor)."""
    import ipaddress

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = dt.datetime.now(dt.timezone.utc)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(x509.random_serial_number()).not_valid_before(now - dt.timedelta(minutes=5))
            .not_valid_after(now + dt.timedelta(days=1))
            .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), False)
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), True)
            .sign(key, hashes.SHA256()))
    c, k = tmp / "cert.pem", tmp / "key.pem"
    c.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    k.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                    serialization.NoEncryption()))
    return c, k, c


def _login(c: httpx.Client, headers: dict[str, str] | None = None) -> httpx.Response:
    r = c.get("/console/login", headers=headers)
    tok = re.search(r'name="csrf" value="([^"]+)"', r.text).group(1)
    # sent by hand: behind a TLS proxy the cookie is Secure, which a client on http:// keeps back
    return c.post("/console/login", headers={**(headers or {}), "Cookie": f"hq_login_csrf={tok}"},
                  data={"csrf": tok, "username": "admin", "password": "admin-pass-1", "next": "/console/"})


def _cookie(r: httpx.Response, name: str) -> str:
    got = [h for h in r.headers.get_list("set-cookie") if h.startswith(name + "=")]
    assert got, (name, r.headers.get_list("set-cookie"))
    return got[0].lower()


@pytest.fixture(scope="module")
def hq(tmp_path_factory: pytest.TempPathFactory):
    s = start_hq(tmp_path_factory.mktemp("headers") / "hq", None)
    yield s
    s.stop()


def test_every_kind_of_page_has_the_headers(hq):
    with httpx.Client(base_url=hq.url, timeout=30) as c:
        pages = {
            "console login": c.get("/console/login"),
            "console redirect": c.get("/console/ledger"),
            "console static": c.get("/console/static/console.css"),
            "console script": c.get("/console/static/console.js"),
            "device API refusal": c.get("/api/v1/changes"),
            "API health": c.get("/api/v1/health"),
            "public verify API": c.get("/api/v1/verify/no-such-doc"),
            "public /verify": c.get("/verify"),
            "public /v/": c.get("/v/garbage"),
            "404": c.get("/no/such/page"),
            "413": c.post("/api/v1/push", content=b"x" * (hq.cfg.max_body + 10)),
            "public verify upload": c.post("/verify", files={"file": ("a.pdf", b"%PDF-1.4 nothing", "application/pdf")}),
        }
        assert pages["console login"].status_code == 200 and pages["console redirect"].status_code == 303
        assert pages["413"].status_code == 413 and pages["device API refusal"].status_code == 401
        assert pages["console script"].headers["content-type"].startswith("text/javascript")
        for where, r in pages.items():
            _check(r, where)
            assert "strict-transport-security" not in r.headers, where  # plain HTTP: no HSTS
        # the interactive API page: CDN + the hash of its one inline script, still no 'unsafe-inline'
        docs = c.get("/docs")
        _check(docs, "/docs")
        inline = re.findall(r"<script>(.*?)</script>", docs.text, re.S)
        assert inline and _csp(docs)["script-src"].count("'sha256-") == len(inline)


def test_console_pages_carry_no_inline_script_handlers_or_styles():
    """What the CSP would block in a browser: inline <script>, on*= handlers, javascript: links,
    style attributes or <style> blocks."""
    bad = re.compile(r"<script(?![^>]*\ssrc=)[^>]*>|\son[a-z]+\s*=\s*[\"']|javascript:|\sstyle\s*=\s*[\"']|<style", re.I)
    found = {p.name: bad.findall(p.read_text(encoding="utf-8")) for p in TEMPLATES.glob("*.html")}
    assert {k: v for k, v in found.items() if v} == {}
    assert '<script src="/console/static/console.js"' in (TEMPLATES / "base.html").read_text(encoding="utf-8")


def test_session_cookie_is_httponly_samesite_and_not_secure_over_plain_http(hq):
    with httpx.Client(base_url=hq.url, timeout=30) as c:
        r = _login(c)
    assert r.status_code == 303
    ck = _cookie(r, "hq_console")
    assert "httponly" in ck and "samesite=lax" in ck and "secure" not in ck.replace("samesite", "")


def test_over_tls_the_cookie_is_secure_and_hsts_is_sent(tmp_path: Path):
    cert, key, ca = _cert(tmp_path)
    init_home(tmp_path / "hq", admin_password="admin-pass-1")
    s = Server(tmp_path / "hq", certs=(cert, key))
    try:
        with httpx.Client(base_url=s.url, verify=ssl.create_default_context(cafile=str(ca)), timeout=30) as c:
            r = _login(c)
            assert r.status_code == 303
            ck = _cookie(r, "hq_console")
            assert "; secure" in ck and "httponly" in ck and "samesite=lax" in ck
            assert r.headers["strict-transport-security"] == "max-age=31536000"
            page = c.get("/console/login")
            _check(page, "login over TLS")
            assert "; secure" in _cookie(page, "hq_login_csrf")
            assert c.get("/api/v1/health").headers["strict-transport-security"] == "max-age=31536000"
    finally:
        s.stop()


def test_forwarded_proto_counts_only_from_a_trusted_proxy(tmp_path: Path):
    init_home(tmp_path / "hq", admin_password="admin-pass-1")
    https = {"X-Forwarded-Proto": "https"}
    plain = Server(tmp_path / "hq")  # trusted_proxies empty: anyone could send the header
    try:
        with httpx.Client(base_url=plain.url, timeout=30) as c:
            r = _login(c, https)
            assert "; secure" not in _cookie(r, "hq_console")
            assert "strict-transport-security" not in c.get("/api/v1/health", headers=https).headers
    finally:
        plain.stop()
    proxied = Server(tmp_path / "hq", trusted_proxies=["127.0.0.1"])  # nginx on this host
    try:
        with httpx.Client(base_url=proxied.url, timeout=30) as c:
            r = _login(c, https)
            assert "; secure" in _cookie(r, "hq_console")
            assert c.get("/api/v1/health", headers=https).headers["strict-transport-security"]
            assert "strict-transport-security" not in c.get("/api/v1/health").headers
    finally:
        proxied.stop()


@pytest.mark.parametrize("mode,https,secure", [("always", False, True), ("never", True, False)])
def test_cookie_secure_setting(tmp_path: Path, mode: str, https: bool, secure: bool):
    init_home(tmp_path / "hq", admin_password="admin-pass-1")
    s = Server(tmp_path / "hq", cookie_secure=mode, trusted_proxies=["127.0.0.1"])
    try:
        with httpx.Client(base_url=s.url, timeout=30) as c:
            r = _login(c, {"X-Forwarded-Proto": "https"} if https else None)
        assert ("; secure" in _cookie(r, "hq_console")) is secure
    finally:
        s.stop()


def test_a_bad_cookie_secure_value_is_refused(tmp_path: Path):
    from inspector.errors import ValidationError

    init_home(tmp_path / "hq", admin_password="admin-pass-1")
    with pytest.raises(ValidationError, match="cookie_secure"):
        create_app(HQConfig.load(tmp_path / "hq", cookie_secure="yes"))


# -- in a real browser: the console works under its CSP ------------------------------------------------
from tests.console_fixtures import browser, console_hq, page_for  # noqa: E402,F401


@pytest.fixture(scope="module")
def console_dburl():
    return None


def test_console_in_chromium_breaks_no_csp_rule_and_confirms_through_console_js(browser, console_hq):
    from inspector.hq import throttle as T

    pol = T.Policy(login_lock_after=1)
    keys = [("login_user", "ghost")]
    T.claim(console_hq.engine, pol, keys)
    T.failed(pol, console_hq.engine, keys, "test")  # a locked account for the lockouts page
    page = page_for(browser, console_hq, "admin")
    blocked: list[str] = []
    page.on("console", lambda m: blocked.append(m.text) if "Content Security Policy" in m.text else None)
    for url in ("/console/", "/console/inspections", "/console/inspections/i1", "/console/rectifications",
                "/console/ledger", "/console/devices", "/console/lockouts", "/console/no-such-page",
                "/v/" + console_hq.doc["token"], "/verify"):
        page.goto(console_hq.url + url)
    assert blocked == []
    # data-confirm (console.js): dismissing keeps the lockout, accepting lifts it
    page.goto(console_hq.url + "/console/lockouts")
    answers = iter([False, True])
    asked: list[str] = []
    page.on("dialog", lambda d: (asked.append(d.message), d.accept() if next(answers) else d.dismiss()))
    row = page.locator("#lockouts tr", has_text="ghost")
    row.locator("button").click()
    page.wait_for_timeout(300)
    assert page.url.endswith("/console/lockouts") and "ghost" in page.inner_text("#lockouts")
    row.locator("button").click()
    page.wait_for_url("**/console/lockouts?msg=*")
    assert "ghost" not in page.inner_text("#lockouts") and len(asked) == 2 and "ghost" in asked[0]
    page.context.close()


def test_a_signed_pdf_from_the_console_has_the_headers_and_may_show_in_the_viewer(console_hq):
    import hashlib

    from tests.console_fixtures import login_session

    c = login_session(console_hq.url, "admin")
    r = c.get("/console/blob/" + hashlib.sha256(console_hq.doc["pdf"]).hexdigest())
    c.close()
    assert r.status_code == 200 and r.headers["content-type"].startswith("application/pdf")
    _check(r, "PDF", obj="'self'")  # the browser's PDF viewer is an embedded object
