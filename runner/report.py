"""Plain-text tables for the operator commands (alerts, runs, audit, order)."""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

import psycopg
from psycopg import sql
from psycopg.rows import dict_row

from runner import db

AUDIT_VIEWS = [
    ("audit_paid_orders_missing_tickets", "Paid ticket orders missing tickets"),
    ("audit_released_orders_holding_capacity", "Released ticket orders still holding capacity"),
    ("audit_paid_products_missing_pickup_code", "Paid product orders missing pickup code / stock"),
    ("audit_stock_held_by_dead_orders", "Stock held by failed / expired / refunded orders"),
    ("audit_counter_drift", "Counter drift (slots / variants vs orders)"),
    ("audit_open_reviews", "Open reviews"),
    ("audit_recent_repairs", "Repairs in the last 7 days"),
]


def cell(value: Any, width: int = 60) -> str:
    if value is None:
        text = "-"
    elif isinstance(value, datetime):
        text = value.strftime("%Y-%m-%d %H:%M:%S")
    elif isinstance(value, timedelta):
        text = str(value)
    elif isinstance(value, Decimal):
        text = format(value.normalize(), "f") if value == value.to_integral() else str(value)
    elif isinstance(value, dict | list):
        text = json.dumps(value, default=str, separators=(",", ":"))
    elif isinstance(value, bool):
        text = "yes" if value else "no"
    else:
        text = str(value)
    return text if len(text) <= width else text[: width - 1] + "…"


def table(rows: Sequence[dict[str, Any]], columns: Sequence[str] | None = None, width: int = 60) -> str:
    """Rows as an aligned text table; each cell is cut at `width` characters."""
    if not rows:
        return "(none)"
    columns = list(columns or rows[0].keys())
    cells = [[cell(row.get(c), width) for c in columns] for row in rows]
    widths = [max(len(c), *(len(r[i]) for r in cells)) for i, c in enumerate(columns)]
    lines = ["  ".join(c.ljust(w) for c, w in zip(columns, widths, strict=True)),
             "  ".join("-" * w for w in widths)]
    lines += ["  ".join(v.ljust(w) for v, w in zip(r, widths, strict=True)) for r in cells]
    return "\n".join(line.rstrip() for line in lines)


def connect(database_url: str) -> psycopg.Connection:
    return db.connect(database_url, autocommit=True, row_factory=dict_row)


def fetch(conn: psycopg.Connection, name: str, **params: Any) -> list[dict[str, Any]]:
    """Rows of a named query of runner/reports.sql."""
    return conn.execute(db.query(name, db.REPORTS_FILE), params).fetchall()


def audit(conn: psycopg.Connection, limit: int = 50) -> dict[str, list[dict[str, Any]]]:
    """Rows of every audit view (at most `limit` each)."""
    out = {}
    for view, _ in AUDIT_VIEWS:
        out[view] = conn.execute(sql.SQL("SELECT * FROM payments.{} LIMIT %s").format(sql.Identifier(view)),
                                 (limit,)).fetchall()
    return out
