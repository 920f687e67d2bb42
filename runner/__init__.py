"""Payment finality for Midtrans shops.

The business rules live in PL/pgSQL (``db/functions``); this package is the thin
runner around them: migrations, Midtrans HTTP, scheduling, metrics and the CLI.
"""

__version__ = "0.1.0"
