"""Signatures against the Midtrans test vectors vendored in
tests/data/signature_vectors.json (computed from Midtrans' documented formula)
-- never hand-copied hashes."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from runner.signature import basic_auth, signature, verify

VECTORS_FILE = Path(__file__).resolve().parent / "data" / "signature_vectors.json"


def load_vectors() -> dict:
    return json.loads(VECTORS_FILE.read_text())


VECTORS = load_vectors()


@pytest.mark.parametrize("vector", VECTORS["vectors"], ids=lambda v: v["order_id"] + "/" + v["gross_amount"])
def test_signature_matches_vector(vector: dict) -> None:
    args = (vector["order_id"], vector["status_code"], vector["gross_amount"], vector["server_key"])
    assert signature(*args) == vector["signature_key"]
    assert verify(*args[:3], vector["signature_key"], vector["server_key"])
    assert verify(*args[:3], vector["signature_key"].upper(), vector["server_key"]), "hex case-insensitive"


@pytest.mark.parametrize("vector", VECTORS["vectors"], ids=lambda v: v["order_id"] + "/" + v["gross_amount"])
def test_any_changed_field_breaks_the_signature(vector: dict) -> None:
    order_id, status_code, amount, key = (vector["order_id"], vector["status_code"],
                                          vector["gross_amount"], vector["server_key"])
    expected = vector["signature_key"]
    assert not verify(order_id + "x", status_code, amount, expected, key)
    assert not verify(order_id, "201" if status_code != "201" else "200", amount, expected, key)
    assert not verify(order_id, status_code, amount + "1", expected, key)
    assert not verify(order_id, status_code, amount, expected, key + "x")
    assert not verify(order_id, status_code, amount, expected[:-1], key)


def test_amount_strings_are_signed_as_received() -> None:
    """'150000' and '150000.00' are different inputs (two vectors prove it)."""
    by_amount = {v["gross_amount"]: v for v in VECTORS["vectors"] if v["order_id"].startswith("TKT")}
    assert by_amount["150000"]["signature_key"] != by_amount["150000.00"]["signature_key"]


def test_basic_auth_example() -> None:
    example = VECTORS["basic_auth_example"]
    assert basic_auth(example["server_key"]) == example["authorization"]
