"""HQ as deployed, for tests and benches: a test CA and server certificate (cryptography), HQ's
``serve --workers N`` in its own process, and Debian's nginx started in the foreground with the
shipped site configuration (packaging/hq/nginx-inspector-hq.conf) — only ports and file paths
substituted, each substitution checked so a changed shipped file fails loudly here.
"""
from __future__ import annotations

import datetime as dt
import ipaddress
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent
SITE_CONF = ROOT / "packaging" / "hq" / "nginx-inspector-hq.conf"


def nginx_bin() -> str | None:
    return shutil.which("nginx") or next((p for p in ("/usr/sbin/nginx", "/sbin/nginx") if os.path.exists(p)), None)


# -- certificates -----------------------------------------------------------------------------------
def make_ca(folder: Path, name: str) -> tuple[Path, Path]:
    """A self-signed CA (EC P-256): (cert.pem, key.pem) in ``folder``."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    folder.mkdir(parents=True, exist_ok=True)
    key = ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name([x509.NameAttribute(NameOID.COUNTRY_NAME, "CN"),
                         x509.NameAttribute(NameOID.ORGANIZATION_NAME, name),
                         x509.NameAttribute(NameOID.COMMON_NAME, f"{name} 测试证书机构")])
    now = dt.datetime.now(dt.timezone.utc)
    ski = x509.SubjectKeyIdentifier.from_public_key(key.public_key())
    cert = (x509.CertificateBuilder().subject_name(subject).issuer_name(subject).public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - dt.timedelta(minutes=5)).not_valid_after(now + dt.timedelta(days=30))
            .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
            .add_extension(x509.KeyUsage(digital_signature=True, key_cert_sign=True, crl_sign=True,
                                         content_commitment=False, key_encipherment=False, data_encipherment=False,
                                         key_agreement=False, encipher_only=False, decipher_only=False), critical=True)
            .add_extension(ski, critical=False)
            .add_extension(x509.AuthorityKeyIdentifier.from_issuer_subject_key_identifier(ski), critical=False)
            .sign(key, hashes.SHA256()))
    cp, kp = folder / "ca.pem", folder / "ca.key.pem"
    cp.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    kp.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                     serialization.NoEncryption()))
    return cp, kp


def make_server_cert(folder: Path, ca_cert: Path, ca_key: Path, names: tuple[str, ...] = ("127.0.0.1", "localhost")
                     ) -> tuple[Path, Path]:
    """A server certificate for ``names`` (IP addresses or DNS names) signed by the CA: (fullchain, key)."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

    ca = x509.load_pem_x509_certificate(ca_cert.read_bytes())
    ca_k = serialization.load_pem_private_key(ca_key.read_bytes(), password=None)
    key = ec.generate_private_key(ec.SECP256R1())
    alt: list[x509.GeneralName] = []
    for n in names:
        try:
            alt.append(x509.IPAddress(ipaddress.ip_address(n)))
        except ValueError:
            alt.append(x509.DNSName(n))
    now = dt.datetime.now(dt.timezone.utc)
    cert = (x509.CertificateBuilder()
            .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, names[0])]))
            .issuer_name(ca.subject).public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now - dt.timedelta(minutes=5)).not_valid_after(now + dt.timedelta(days=30))
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(x509.SubjectAlternativeName(alt), critical=False)
            .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
            .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
            .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(ca.public_key()),  # type: ignore[arg-type]
                           critical=False)
            .sign(ca_k, hashes.SHA256()))  # type: ignore[arg-type]
    folder.mkdir(parents=True, exist_ok=True)
    chain, kp = folder / "server.fullchain.pem", folder / "server.key.pem"
    chain.write_bytes(cert.public_bytes(serialization.Encoding.PEM) + ca_cert.read_bytes())
    kp.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                     serialization.NoEncryption()))
    return chain, kp


# -- HQ workers -------------------------------------------------------------------------------------
def serve_workers(home: Path, port: int, db_url: str | None, workers: int, *, trusted: str | None = None,
                  log: Path | None = None) -> subprocess.Popen:
    """``inspector-hq serve --workers N`` (uvicorn's supervisor and N worker processes), once all N
    workers are up and it answers. ``trusted``: --forwarded-allow-ips (None: config.json decides)."""
    cmd = [sys.executable, "-m", "inspector.hq.cli", "--home", str(home)] + (["--db", db_url] if db_url else []) + [
        "serve", "--port", str(port), "--workers", str(workers), "--log-level", "warning"] + (
        ["--forwarded-allow-ips", trusted] if trusted is not None else [])
    out = open(log, "ab") if log else subprocess.DEVNULL
    p = subprocess.Popen(cmd, stdout=out, stderr=out, start_new_session=True)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if p.poll() is not None:
            raise RuntimeError(f"inspector-hq serve exited with {p.returncode}"
                               + (f": {log.read_text(errors='replace')[-2000:]}" if log else ""))
        try:
            if httpx.get(f"http://127.0.0.1:{port}/api/v1/health", timeout=2).status_code == 200 \
                    and (workers == 1 or len(worker_pids(p.pid)) >= workers):  # 1: uvicorn serves in-process
                return p
        except httpx.HTTPError:
            pass
        time.sleep(0.1)
    stop_process(p)
    raise RuntimeError("HQ workers did not start")


def worker_pids(parent: int) -> list[int]:
    """The uvicorn worker processes under ``parent`` (not multiprocessing's resource tracker)."""
    out = []
    for d in Path("/proc").iterdir():
        if not d.name.isdigit():
            continue
        try:
            ppid = int((d / "stat").read_text().rsplit(")", 1)[1].split()[1])
            cmd = (d / "cmdline").read_bytes()
        except (OSError, IndexError, ValueError):
            continue
        if ppid == parent and b"spawn_main" in cmd and b"resource_tracker" not in cmd:
            out.append(int(d.name))
    return sorted(out)


def cpu_ticks(pid: int) -> int:
    """User + system CPU ticks a process has used."""
    f = (Path("/proc") / str(pid) / "stat").read_text().rsplit(")", 1)[1].split()
    return int(f[11]) + int(f[12])


def tree_cpu_seconds(pid: int) -> float:
    """CPU seconds used by a process and its direct children (uvicorn's or nginx's workers)."""
    pids = [pid]
    for d in Path("/proc").iterdir():
        if d.name.isdigit():
            try:
                if int((d / "stat").read_text().rsplit(")", 1)[1].split()[1]) == pid:
                    pids.append(int(d.name))
            except (OSError, IndexError, ValueError):
                continue
    total = 0
    for q in pids:
        try:
            total += cpu_ticks(q)
        except (OSError, IndexError, ValueError):
            pass
    return total / os.sysconf("SC_CLK_TCK")


def stop_process(p: subprocess.Popen) -> None:
    """SIGTERM the process group we started (uvicorn's supervisor stops its workers), SIGKILL if stuck."""
    if p.poll() is None:
        try:
            os.killpg(p.pid, signal.SIGTERM)
        except ProcessLookupError:
            pass
        try:
            p.wait(15)
        except subprocess.TimeoutExpired:
            os.killpg(p.pid, signal.SIGKILL)
            p.wait(5)
    for w in worker_pids(p.pid):  # orphans of a killed supervisor (should be none)
        os.kill(w, signal.SIGKILL)


# -- nginx ------------------------------------------------------------------------------------------
def render_site(https_port: int, http_port: int, upstream: list[str], cert: Path, key: Path) -> str:
    """The shipped site configuration with test ports, upstream servers and certificate paths."""
    text = SITE_CONF.read_text(encoding="utf-8")
    subs = [
        ("    listen 443 ssl http2;\n", f"    listen 127.0.0.1:{https_port} ssl http2;\n"),
        ("    listen [::]:443 ssl http2;\n", ""),
        ("    listen 80;\n", f"    listen 127.0.0.1:{http_port};\n"),
        ("    listen [::]:80;\n", ""),
        ("/etc/inspector-hq/tls/hq.fullchain.pem", str(cert)),
        ("/etc/inspector-hq/tls/hq.key.pem", str(key)),
        ("    server 127.0.0.1:8751;\n", "".join(f"    server {u};\n" for u in upstream)),
    ]
    for old, new in subs:
        if text.count(old) != 1:
            raise AssertionError(f"{SITE_CONF}: expected exactly one {old.strip()!r} to substitute")
        text = text.replace(old, new)
    return text


class Nginx:
    """nginx in the foreground (``daemon off``), its pid file, logs and temp folders in ``folder``."""

    def __init__(self, folder: Path, upstream: list[str], cert: Path, key: Path, *, workers: int = 1):
        from tests.hq_fixtures import free_port

        binary = nginx_bin()
        if binary is None:
            raise RuntimeError("nginx is not installed (make system-deps installs Debian's nginx)")
        self.folder = folder
        folder.mkdir(parents=True, exist_ok=True)
        self.port, self.http_port = free_port(), free_port()
        self.url = f"https://127.0.0.1:{self.port}"
        (folder / "site.conf").write_text(render_site(self.port, self.http_port, upstream, cert, key), encoding="utf-8")
        temps = "\n".join(f"    {k}_temp_path {folder / k};" for k in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi"))
        user = "user root root;\n" if os.geteuid() == 0 else ""  # workers must reach the temp folders here
        (folder / "nginx.conf").write_text(
            f"{user}daemon off;\nworker_processes {workers};\npid {folder / 'nginx.pid'};\n"
            f"error_log {folder / 'error.log'} warn;\nevents {{ worker_connections 1024; }}\n"
            f"http {{\n    access_log off;\n    default_type application/octet-stream;\n{temps}\n"
            f"    include {folder / 'site.conf'};\n}}\n", encoding="utf-8")
        self.cmd = [binary, "-p", str(folder), "-c", str(folder / "nginx.conf"), "-e", str(folder / "error.log")]
        test = subprocess.run(self.cmd + ["-t"], capture_output=True, text=True)
        if test.returncode != 0:
            raise RuntimeError(f"nginx -t refused the configuration: {test.stderr}")
        self.proc = subprocess.Popen(self.cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"nginx exited with {self.proc.returncode}: {self.error_log()}")
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=1).close()
                return
            except OSError:
                time.sleep(0.05)
        self.stop()
        raise RuntimeError(f"nginx did not listen on {self.port}: {self.error_log()}")

    def error_log(self) -> str:
        p = self.folder / "error.log"
        return p.read_text(errors="replace")[-3000:] if p.exists() else ""

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)  # fast shutdown; the master ends its workers
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)
