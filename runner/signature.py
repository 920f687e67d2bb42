"""Midtrans notification signatures.

``signature_key = sha512(order_id + status_code + gross_amount + server_key)``
as lowercase hex, over the exact strings received (``"150000.00"`` and
``"150000"`` give different signatures).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
from typing import Any

_SIGNATURE_IN_TEXT = re.compile(r'(signature_key\\?"\s*:\s*\\?")[A-Za-z0-9+/=_-]+')
#: How deep scrub() walks; anything deeper is left to the SQL API's scrub_secrets.
SCRUB_DEPTH = 8


def signature(order_id: str, status_code: str, gross_amount: str, server_key: str) -> str:
    raw = f"{order_id}{status_code}{gross_amount}{server_key}".encode()
    return hashlib.sha512(raw).hexdigest()


def verify(order_id: str, status_code: str, gross_amount: str, signature_key: str,
           server_key: str) -> bool:
    """Constant-time comparison of a received signature_key with the expected one."""
    expected = signature(order_id, status_code, gross_amount, server_key)
    return hmac.compare_digest(expected.encode(), signature_key.strip().lower().encode())


def basic_auth(server_key: str) -> str:
    """The Authorization header value for the Midtrans API: Basic base64(server_key + ":")."""
    return "Basic " + base64.b64encode(f"{server_key}:".encode()).decode()


def scrub(value: Any, depth: int = SCRUB_DEPTH) -> Any:
    """A copy of a JSON value without secrets: no ``signature_key`` member, and
    the string after "signature_key" inside text (a malformed body's prefix)
    replaced. Walks ``depth`` levels; the SQL API scrubs again, at any depth,
    before anything is stored. This keeps signatures off the wire and out of
    statement logs."""
    if isinstance(value, str):
        return _SIGNATURE_IN_TEXT.sub(r"\1[scrubbed]", value) if "signature_key" in value else value
    if depth <= 0:
        return value
    if isinstance(value, dict):
        return {k: scrub(v, depth - 1) for k, v in value.items() if k != "signature_key"}
    if isinstance(value, list):
        return [scrub(v, depth - 1) for v in value]
    return value
