"""Log formatting: ``PAYMENTS_LOG_FORMAT=text`` (default) or ``json``.

text: ``2026-01-01 12:00:00,000 INFO payments.webhook notification order_id=A-1 outcome=applied ...``
json: one object per line: ``ts`` (UTC, ISO 8601), ``level``, ``logger``, ``message``,
then every field passed with ``extra=`` (``order_id``, ``outcome``, ``http_status`` ...)
and ``exc_info`` when an exception is logged.

Fields whose name says they hold a secret are replaced by ``"[redacted]"``: the
code never passes one, this is the second line of defence.
"""

from __future__ import annotations

import json
import logging
import os
import sys
from datetime import UTC, datetime
from typing import Any

# attributes every LogRecord has; anything else on a record came from extra=
_STANDARD = set(vars(logging.LogRecord("x", logging.INFO, "x", 0, "x", None, None))) | {
    "message", "asctime", "taskName"}
SECRET_FIELDS = frozenset({"signature_key", "server_key", "password", "authorization", "secret",
                           "ticket_code", "pickup_code"})
TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s %(message)s"


def extra_fields(record: logging.LogRecord) -> dict[str, Any]:
    fields = {}
    for key, value in vars(record).items():
        if key in _STANDARD or key.startswith("_"):
            continue
        fields[key] = "[redacted]" if key.lower() in SECRET_FIELDS else value
    return fields


def _text_value(value: Any) -> str:
    if isinstance(value, dict | list | tuple):  # compact JSON, as is
        return json.dumps(value, default=str, separators=(",", ":"), ensure_ascii=False)
    text = "-" if value is None else str(value)
    if not text or any(c in text for c in ' "=\n\t'):
        return json.dumps(text, ensure_ascii=False)
    return text


class TextFormatter(logging.Formatter):
    """The classic line, then the extra fields as key=value."""

    def __init__(self) -> None:
        super().__init__(TEXT_FORMAT)

    def format(self, record: logging.LogRecord) -> str:
        line = super().format(record)
        fields = extra_fields(record)
        if fields:
            head, sep, tail = line.partition("\n")  # keep a traceback below the fields
            line = head + " " + " ".join(f"{k}={_text_value(v)}" for k, v in fields.items()) + sep + tail
        return line


class JsonFormatter(logging.Formatter):
    """One JSON object per line."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "ts": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        for key, value in extra_fields(record).items():
            entry.setdefault(key, value)
        if record.exc_info:
            entry["exc_info"] = self.formatException(record.exc_info)
        if record.stack_info:
            entry["stack_info"] = self.formatStack(record.stack_info)
        return json.dumps(entry, default=str, ensure_ascii=False)


class RedactFilter(logging.Filter):
    """Every message, whoever logs it (psycopg's pool quotes a malformed
    connection URL's token), leaves without the database password or the
    server key of this process's environment."""

    def __init__(self, env: dict[str, str] | None = None) -> None:
        super().__init__()
        from runner.settings import environment_secrets

        self.secrets = environment_secrets(os.environ if env is None else env)

    def filter(self, record: logging.LogRecord) -> bool:
        from runner.settings import redact_message

        message = record.getMessage()
        redacted = redact_message(message, self.secrets)
        if redacted != message:
            record.msg, record.args = redacted, None
        return True


def configure(fmt: str = "text", level: str = "INFO", stream: Any = None) -> None:
    """Route every logger (uvicorn's too) through one stderr handler in the chosen format."""
    handler = logging.StreamHandler(stream or sys.stderr)
    handler.addFilter(RedactFilter())
    handler.setFormatter(JsonFormatter() if fmt == "json" else TextFormatter())
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(level)
    for name in ("uvicorn", "uvicorn.error", "uvicorn.access"):
        logger = logging.getLogger(name)
        logger.handlers.clear()
        logger.propagate = True
    # httpx logs every request at INFO, with the URL; keep it for DEBUG
    logging.getLogger("httpx").setLevel(logging.WARNING if level != "DEBUG" else logging.DEBUG)
    logging.getLogger("httpcore").setLevel(logging.WARNING)
