"""HQ's data folder and settings (``<home>/config.json``), strict about unknown keys."""
from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path

import platformdirs

from inspector.errors import ValidationError

DEFAULT_PREFIXES = {"notice": "新人社监", "record": "新人社监录", "receipt": "新人社监送"}

CONFIG_FILE = "config.json"


def default_home() -> Path:
    return Path(os.environ.get("INSPECTOR_HQ_HOME") or platformdirs.user_data_dir("inspector-hq", appauthor=False))


@dataclass
class HQConfig:
    """Settings of one HQ. ``home`` holds config.json, ca/, blobs/ and (by default) hq.db."""

    home: Path
    db_url: str | None = None            # None: SQLite file hq.db in home
    agency: str = "人力资源和社会保障局"
    profile: str = ""                    # profile HQ publishes: a shipped name (forms/profiles/) or NAME.toml in home
    doc_prefixes: dict = field(default_factory=lambda: dict(DEFAULT_PREFIXES))  # kind -> 文号 prefix
    doc_block_size: int = 1000           # document numbers handed to each device per year
    token_days: int = 365                # device tokens expire
    code_minutes: int = 60               # enrolment codes expire
    max_body: int = 8 * 1024 * 1024      # request size limit (bytes)
    chunk_size: int = 1024 * 1024        # blob chunk a client sends (a broken upload re-sends at most one)
    page_size: int = 500                 # changes per pull page
    partial_quota: int = 2 * 1024 ** 3   # per device: bytes its unfinished uploads may declare in total
    partial_max: int = 100               # per device: unfinished uploads at once
    partial_hours: int = 24              # an unfinished upload untouched this long is removed
    doc_blocks_per_year: int = 5         # per device, prefix and year (the enrolment block included)
    # addresses of reverse proxies whose X-Forwarded-For/-Proto HQ believes (e.g. ["127.0.0.1"] behind
    # nginx on the same host); empty: nobody's, the client address and scheme are the connection's own
    trusted_proxies: list = field(default_factory=list)
    # console logins and enrolment/certify codes (inspector/hq/throttle.py): backoff_after failures
    # cost no wait, each further one a wait doubling from backoff_base_seconds up to
    # backoff_max_seconds before the next attempt; a lockout after
    # login_lock_after wrong passwords on one account or addr_lock_after failures from one client
    # address, for lock_seconds (or until an admin lifts it)
    backoff_after: int = 3
    backoff_base_seconds: float = 1.0
    backoff_max_seconds: float = 60.0
    login_lock_after: int = 10
    addr_lock_after: int = 30
    lock_seconds: int = 900
    refusal_hold_seconds: float = 1.0    # a throttled attempt's 429 is held this long (a flood slows itself)
    argon2_workers: int = 1              # password checks at once per HQ process (each on one core)
    cookie_secure: str = "auto"          # session cookie Secure: "auto" (when reached over HTTPS), "always", "never"
    hsts_seconds: int = 365 * 24 * 3600  # Strict-Transport-Security max-age, sent only over HTTPS
    # the address laptops and validators reach HQ at: certificates name its /ca/ca.der (AIA) and
    # /ca/crl.der (CRL distribution point); empty: the serve address (http://HOST:PORT)
    public_url: str = ""
    extra: dict = field(default_factory=dict)

    @property
    def url(self) -> str:
        return normalise_db_url(self.db_url) if self.db_url else f"sqlite:///{self.home / 'hq.db'}"

    @property
    def base_url(self) -> str:
        return (self.public_url or os.environ.get("INSPECTOR_HQ_SERVE_URL") or "http://127.0.0.1:8750").rstrip("/")

    @property
    def blob_dir(self) -> Path:
        return self.home / "blobs"

    @property
    def ca_dir(self) -> Path:
        return self.home / "ca"

    @classmethod
    def load(cls, home: str | Path | None = None, **overrides: object) -> "HQConfig":
        h = Path(home) if home else default_home()
        data: dict = {}
        path = h / CONFIG_FILE
        if path.exists():
            try:
                data = json.loads(path.read_text(encoding="utf-8"))
            except ValueError as e:
                raise ValidationError(f"{path}: 不是有效的 JSON（{e}）") from e
        known = {f.name for f in fields(cls)} - {"home"}
        bad = sorted(set(data) - known)
        if bad:
            raise ValidationError(f"{path}: 未知的设置项 {', '.join(repr(b) for b in bad)}")
        data.update({k: v for k, v in overrides.items() if v is not None})
        return cls(home=h, **data)

    def save(self) -> None:
        self.home.mkdir(parents=True, exist_ok=True)
        d = asdict(self)
        d.pop("home")
        (self.home / CONFIG_FILE).write_text(json.dumps(d, ensure_ascii=False, indent=2), encoding="utf-8")


def normalise_db_url(url: str) -> str:
    """``postgresql://`` → psycopg 3 driver; everything else as given."""
    for p in ("postgresql://", "postgres://"):
        if url.startswith(p):
            return "postgresql+psycopg://" + url[len(p):]
    return url
