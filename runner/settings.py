"""Runner settings: environment variables, overridable by CLI options.

A missing or malformed setting fails at start with one clear line
(:class:`SettingsError`). The Midtrans server key is held in a
:class:`Secret` so it never shows in a repr, a log line or an error.

Secret-bearing variables (:data:`SECRET_VARIABLES`) can also come from a file:
``X_FILE=/run/secrets/x`` reads X from that file (one trailing newline
stripped), as Docker / Kubernetes secrets are mounted. Setting both X and
X_FILE is an error, so is a file that cannot be read (the message names the
variable and the path, never the content).
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from datetime import timedelta
from urllib.parse import quote, unquote, urlsplit

import psycopg
from psycopg.conninfo import conninfo_to_dict

MIDTRANS_BASE_URLS = {
    "sandbox": "https://api.sandbox.midtrans.com",
    "production": "https://api.midtrans.com",
}
#: Snap (POST /snap/v1/transactions) lives on another host than the merchant API.
MIDTRANS_SNAP_BASE_URLS = {
    "sandbox": "https://app.sandbox.midtrans.com",
    "production": "https://app.midtrans.com",
}
#: The shortest shop API token accepted (PAYMENTS_SHOP_API_TOKEN).
MIN_SHOP_API_TOKEN = 16

_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h|d)?\s*$")
_UNITS = {"ms": 0.001, "s": 1, "m": 60, "h": 3600, "d": 86400, None: 1}


class SettingsError(ValueError):
    """A setting is missing or malformed; the message is one line for the operator."""


class Secret:
    """A string that does not reveal itself in repr/str/format."""

    __slots__ = ("_value",)

    def __init__(self, value: str) -> None:
        self._value = value

    def reveal(self) -> str:
        return self._value

    def __repr__(self) -> str:
        return "Secret('********')"

    __str__ = __repr__

    def __bool__(self) -> bool:
        return bool(self._value)


def parse_duration(text: str, name: str) -> float:
    """'90' / '90s' / '5m' / '1h' / '250ms' -> seconds."""
    match = _DURATION.match(str(text))
    if not match:
        raise SettingsError(f"{name} must be a duration like 30s, 5m or 1h (got {text!r})")
    return float(match.group(1)) * _UNITS[match.group(2)]


def _check_database_url(url: str, name: str) -> str:
    try:
        parts = urlsplit(url)
    except ValueError:   # e.g. "Invalid IPv6 URL"; the URL itself is not repeated
        raise SettingsError(f"{name} is not a valid URL") from None
    if parts.scheme not in ("postgres", "postgresql"):
        raise SettingsError(f"{name} must be a postgresql:// URL")
    try:   # what libpq would refuse at every connection attempt, refused once here
        conninfo_to_dict(url)
    except psycopg.ProgrammingError:
        raise SettingsError(f"{name} is not a valid connection URL (a password with %, @, / or : "
                            "must be percent-encoded)") from None
    return url


@dataclass(frozen=True)
class Settings:
    database_url: str | None = None
    server_key: Secret = field(default_factory=lambda: Secret(""))
    midtrans_env: str = "sandbox"
    midtrans_api_base_url: str = MIDTRANS_BASE_URLS["sandbox"]
    host: str = "127.0.0.1"
    port: int = 8080
    # a notification that would move money or goods is only a trigger: the
    # Status API's answer for that transaction is applied instead. Off means
    # trusting the unsigned transaction_status / fraud_status of a notification
    # (docs: "Trust model"); `serve` warns at start.
    confirm_with_status_api: bool = True
    confirm_concurrency: int = 32      # Status API calls in flight per process for confirmations
    confirm_timeout: float = 5.0       # seconds for one confirmation (Midtrans waits 15 s for us)
    max_body_bytes: int = 64 * 1024
    sync_interval: float = 60.0
    sync_min_age: float = 120.0
    sync_recheck_after: float = 300.0
    sync_batch: int = 200
    reconcile_interval: float = 3600.0
    expiry_grace: float = 900.0
    expire_at_midtrans: bool = True
    reconcile_batch: int = 500
    prune_interval: float = 3600.0
    prune_batch: int = 10000
    http_concurrency: int = 8
    http_timeout: float = 10.0
    http_retries: int = 3
    db_pool_size: int = 10
    log_format: str = "text"
    log_level: str = "INFO"
    lease_ttl: float = 60.0            # a sync / reconcile / prune lease, renewed every ttl/3
    # checkout: Snap's base URL, and the bearer token of `POST /checkout` on
    # `serve` (empty: the endpoint is off and answers 404)
    midtrans_snap_base_url: str = MIDTRANS_SNAP_BASE_URLS["sandbox"]
    shop_api_token: Secret = field(default_factory=lambda: Secret(""))
    # card pre-authorisations: Midtrans releases an uncaptured authorisation
    # after seven days (docs: "Feature: Pre-Authorization"); with auto_capture
    # on, sync captures one auto_capture_before that runs out
    auto_capture: bool = False
    authorization_validity: float = 7 * 86400.0
    auto_capture_before: float = 86400.0

    def __repr__(self) -> str:  # the key is a Secret already; keep the URL password out too
        shown = []
        for f in fields(self):
            value = getattr(self, f.name)
            if f.name == "database_url" and value:
                value = redact_url(value)
            shown.append(f"{f.name}={value!r}")
        return f"Settings({', '.join(shown)})"

    def require_database(self) -> str:
        if not self.database_url:
            raise SettingsError("PAYMENTS_DATABASE_URL is not set (or pass --database-url)")
        return self.database_url

    def require_server_key(self) -> str:
        if not self.server_key:
            raise SettingsError("MIDTRANS_SERVER_KEY is not set")
        return self.server_key.reveal()

    @property
    def expiry_grace_interval(self) -> timedelta:
        return timedelta(seconds=self.expiry_grace)


def url_secrets(url: str) -> list[str]:
    """The password of a database URL as written and decoded (to keep out of messages)."""
    netloc = url.partition("//")[2].partition("/")[0].partition("?")[0]
    userinfo = netloc.rpartition("@")[0] if "@" in netloc else ""
    password = userinfo.partition(":")[2]
    return [p for p in {password, unquote(password)} if p]


def environment_secrets(env: Mapping[str, str]) -> list[str]:
    """What no message may carry: the database URL's password (as written and
    decoded), the database password, libpq's PGPASSWORD and the server key."""
    secrets = url_secrets(env.get("PAYMENTS_DATABASE_URL", ""))
    return secrets + [env[k] for k in ("PAYMENTS_DATABASE_PASSWORD", "PGPASSWORD", "MIDTRANS_SERVER_KEY",
                                       "PAYMENTS_SHOP_API_TOKEN")
                      if env.get(k)]


def redact_message(message: str, secrets: list[str]) -> str:
    """A message without the given secrets, nor libpq's quote of a malformed
    percent-encoded token (which is usually part of a password)."""
    for secret in sorted(secrets, key=len, reverse=True):
        if len(secret) >= 3:
            message = message.replace(secret, "****")
    message = re.sub(r"postgres(?:ql)?://[^\s\"']+", lambda m: redact_url(m.group(0)), message)
    return re.sub(r'(invalid percent-encoded token: )"[^"]*"', r"\1[redacted]", message)


def redact_url(url: str) -> str:
    try:
        parts = urlsplit(url)
    except ValueError:
        return "(malformed URL)"
    if parts.password:
        netloc = parts.netloc.replace(f":{parts.password}@", ":****@")
        return parts._replace(netloc=netloc).geturl()
    return url


def _bool(text: str, name: str) -> bool:
    lowered = text.strip().lower()
    if lowered in ("1", "true", "yes", "on"):
        return True
    if lowered in ("0", "false", "no", "off"):
        return False
    raise SettingsError(f"{name} must be true or false (got {text!r})")


def _int(text: str, name: str, low: int, high: int) -> int:
    try:
        value = int(str(text).strip())
    except ValueError:
        raise SettingsError(f"{name} must be an integer (got {text!r})") from None
    if not low <= value <= high:
        raise SettingsError(f"{name} must be between {low} and {high} (got {value})")
    return value


def _bounded_duration(text: str, name: str, low: float, high: float) -> float:
    value = parse_duration(text, name)
    if not low <= value <= high:
        raise SettingsError(f"{name} must be between {low:g}s and {high:g}s (got {text!r})")
    return value


# environment variable -> (settings field, parser)
ENVIRONMENT = {
    "PAYMENTS_DATABASE_URL": ("database_url", _check_database_url),
    "MIDTRANS_SERVER_KEY": ("server_key", lambda v, n: Secret(v.strip())),
    "MIDTRANS_ENV": ("midtrans_env", None),
    "MIDTRANS_API_BASE_URL": ("midtrans_api_base_url", None),
    "PAYMENTS_HOST": ("host", lambda v, n: v.strip()),
    "PAYMENTS_PORT": ("port", lambda v, n: _int(v, n, 1, 65535)),
    "PAYMENTS_CONFIRM_WITH_STATUS_API": ("confirm_with_status_api", _bool),
    "PAYMENTS_CONFIRM_CONCURRENCY": ("confirm_concurrency", lambda v, n: _int(v, n, 1, 1024)),
    "PAYMENTS_CONFIRM_TIMEOUT": ("confirm_timeout", lambda v, n: _bounded_duration(v, n, 0.1, 10.0)),
    "PAYMENTS_MAX_BODY_BYTES": ("max_body_bytes", lambda v, n: _int(v, n, 1024, 10 * 1024 * 1024)),
    "PAYMENTS_SYNC_INTERVAL": ("sync_interval", parse_duration),
    "PAYMENTS_SYNC_MIN_AGE": ("sync_min_age", parse_duration),
    "PAYMENTS_SYNC_RECHECK_AFTER": ("sync_recheck_after", parse_duration),
    "PAYMENTS_SYNC_BATCH": ("sync_batch", lambda v, n: _int(v, n, 1, 100000)),
    "PAYMENTS_RECONCILE_INTERVAL": ("reconcile_interval", parse_duration),
    "PAYMENTS_EXPIRY_GRACE": ("expiry_grace", parse_duration),
    "PAYMENTS_EXPIRE_AT_MIDTRANS": ("expire_at_midtrans", _bool),
    "PAYMENTS_RECONCILE_BATCH": ("reconcile_batch", lambda v, n: _int(v, n, 1, 100000)),
    "PAYMENTS_PRUNE_INTERVAL": ("prune_interval", parse_duration),
    "PAYMENTS_PRUNE_BATCH": ("prune_batch", lambda v, n: _int(v, n, 1, 100000)),
    "PAYMENTS_HTTP_CONCURRENCY": ("http_concurrency", lambda v, n: _int(v, n, 1, 256)),
    "PAYMENTS_HTTP_TIMEOUT": ("http_timeout", parse_duration),
    "PAYMENTS_HTTP_RETRIES": ("http_retries", lambda v, n: _int(v, n, 0, 10)),
    "PAYMENTS_DB_POOL_SIZE": ("db_pool_size", lambda v, n: _int(v, n, 1, 200)),
    "PAYMENTS_LOG_FORMAT": ("log_format", lambda v, n: _log_format(v, n)),
    "PAYMENTS_LOG_LEVEL": ("log_level", lambda v, n: _log_level(v, n)),
    "PAYMENTS_DATABASE_PASSWORD": ("database_password", lambda v, n: v),
    "PAYMENTS_LEASE_TTL": ("lease_ttl", lambda v, n: _bounded_duration(v, n, 1.0, 3600.0)),
    "MIDTRANS_SNAP_BASE_URL": ("midtrans_snap_base_url", None),
    "PAYMENTS_SHOP_API_TOKEN": ("shop_api_token", lambda v, n: _shop_api_token(v, n)),
    "PAYMENTS_AUTO_CAPTURE": ("auto_capture", _bool),
    "PAYMENTS_AUTHORIZATION_VALIDITY": ("authorization_validity",
                                        lambda v, n: _bounded_duration(v, n, 3600.0, 30 * 86400.0)),
    "PAYMENTS_AUTO_CAPTURE_BEFORE": ("auto_capture_before",
                                     lambda v, n: _bounded_duration(v, n, 0.0, 30 * 86400.0)),
}

LOG_FORMATS = ("text", "json")
LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")

#: Variables that may hold a secret: each can also be given as ``<NAME>_FILE``.
SECRET_VARIABLES = ("MIDTRANS_SERVER_KEY", "PAYMENTS_DATABASE_URL", "PAYMENTS_DATABASE_PASSWORD",
                    "PAYMENTS_SHOP_API_TOKEN")


def _shop_api_token(text: str, name: str) -> Secret:
    value = text.strip()
    if len(value) < MIN_SHOP_API_TOKEN:   # the message never repeats the value
        raise SettingsError(f"{name} must be at least {MIN_SHOP_API_TOKEN} characters "
                            "(e.g. openssl rand -hex 32)")
    return Secret(value)


def _log_format(text: str, name: str) -> str:
    value = text.strip().lower()
    if value not in LOG_FORMATS:
        raise SettingsError(f"{name} must be text or json (got {text!r})")
    return value


def _log_level(text: str, name: str) -> str:
    value = text.strip().upper()
    if value == "WARN":
        value = "WARNING"
    if value not in LOG_LEVELS:
        raise SettingsError(f"{name} must be one of {', '.join(LOG_LEVELS)} (got {text!r})")
    return value


def read_secret_files(env: Mapping[str, str]) -> dict[str, str]:
    """The environment with every ``X_FILE`` of :data:`SECRET_VARIABLES` resolved into X.

    Raises SettingsError (one line naming the variable, never the secret) when
    both X and X_FILE are set or the file cannot be read."""
    resolved = dict(env)
    for var in SECRET_VARIABLES:
        path = env.get(f"{var}_FILE")
        if not path:
            continue
        if env.get(var):
            raise SettingsError(f"{var} and {var}_FILE are both set; set only one")
        try:
            with open(path, encoding="utf-8") as handle:
                value = handle.read()
        except (OSError, UnicodeError) as exc:
            reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else type(exc).__name__
            raise SettingsError(f"{var}_FILE: cannot read {path!r} ({reason})") from None
        value = value.removesuffix("\n").removesuffix("\r")
        if not value:
            raise SettingsError(f"{var}_FILE: {path!r} is empty")
        resolved[var] = value
    return resolved


def log_settings(env: Mapping[str, str] | None = None) -> tuple[str, str]:
    """(format, level) from PAYMENTS_LOG_FORMAT / PAYMENTS_LOG_LEVEL (defaults text, INFO)."""
    env = os.environ if env is None else env
    fmt = env.get("PAYMENTS_LOG_FORMAT") or "text"
    level = env.get("PAYMENTS_LOG_LEVEL") or "INFO"
    return _log_format(fmt, "PAYMENTS_LOG_FORMAT"), _log_level(level, "PAYMENTS_LOG_LEVEL")


def with_password(url: str, password: str) -> str:
    """The URL with its password set (percent-encoded), e.g. from PAYMENTS_DATABASE_PASSWORD_FILE."""
    parts = urlsplit(url)
    user = parts.username or ""
    host = parts.netloc.rpartition("@")[2]
    netloc = f"{quote(unquote(user), safe='')}:{quote(password, safe='')}@{host}"
    return parts._replace(netloc=netloc).geturl()


def load(env: Mapping[str, str] | None = None, **overrides: object) -> Settings:
    """Build settings from the environment, then CLI overrides (None = not given)."""
    env = read_secret_files(os.environ if env is None else env)
    values: dict[str, object] = {}
    for var, (name, parse) in ENVIRONMENT.items():
        raw = env.get(var)
        if raw is None or raw == "":
            continue
        values[name] = parse(raw, var) if parse else raw.strip()
    for name, value in overrides.items():
        if value is None:
            continue
        if name == "server_key":
            value = Secret(str(value))
        elif name == "database_url":
            value = _check_database_url(str(value), "--database-url")
        values[name] = value

    password = values.pop("database_password", None)
    if password and values.get("database_url"):
        if urlsplit(str(values["database_url"])).password is not None:
            raise SettingsError("PAYMENTS_DATABASE_PASSWORD is set but the database URL has a password too")
        values["database_url"] = with_password(str(values["database_url"]), str(password))

    midtrans_env = str(values.get("midtrans_env", "sandbox")).lower()
    if midtrans_env not in MIDTRANS_BASE_URLS:
        raise SettingsError(f"MIDTRANS_ENV must be sandbox or production (got {midtrans_env!r})")
    values["midtrans_env"] = midtrans_env
    api_overridden = bool(values.get("midtrans_api_base_url"))
    base = str(values.get("midtrans_api_base_url") or MIDTRANS_BASE_URLS[midtrans_env]).rstrip("/")
    if urlsplit(base).scheme not in ("http", "https") or not urlsplit(base).netloc:
        raise SettingsError(f"MIDTRANS_API_BASE_URL must be an http(s) URL (got {base!r})")
    values["midtrans_api_base_url"] = base
    # Snap: its own setting, else the overridden API base (the simulator serves
    # both), else the environment's Snap host
    snap = str(values.get("midtrans_snap_base_url") or (base if api_overridden else "")
               or MIDTRANS_SNAP_BASE_URLS[midtrans_env]).rstrip("/")
    if urlsplit(snap).scheme not in ("http", "https") or not urlsplit(snap).netloc:
        raise SettingsError(f"MIDTRANS_SNAP_BASE_URL must be an http(s) URL (got {snap!r})")
    values["midtrans_snap_base_url"] = snap
    validity = float(values.get("authorization_validity", Settings.authorization_validity))  # type: ignore[arg-type]
    if float(values.get("auto_capture_before", Settings.auto_capture_before)) > validity:  # type: ignore[arg-type]
        raise SettingsError("PAYMENTS_AUTO_CAPTURE_BEFORE must not be longer than "
                            "PAYMENTS_AUTHORIZATION_VALIDITY")
    return Settings(**values)  # type: ignore[arg-type]
