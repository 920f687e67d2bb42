"""Midtrans notification signatures.

``signature_key = sha512(order_id + status_code + gross_amount + server_key)``
as lowercase hex, over the exact strings received (``"150000.00"`` and
``"150000"`` give different signatures).
"""

from __future__ import annotations

import base64
import hashlib
import hmac


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
