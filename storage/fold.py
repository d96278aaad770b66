"""Names and markets as the store keeps their keys (``name_lc``, ``market_lc``,
``markets_sort``): :func:`protocol.fold.fold_key`, casefolded and without the accents of
Latin letters, so "cafe" finds and names "Café", "Électricité" sorts among the E's and
"zurich" filters Zürich. Here: the same key in SQL, for the pull's statements.
"""

from __future__ import annotations

import apsw

from protocol.fold import fold_key as name_key

__all__ = ["name_key", "name_key_sql", "register"]


def name_key_sql(x: str) -> str:
    """SQL: :func:`name_key` of ``x``; printable ASCII (most names) by lower(), which is
    the same there, without a call back into Python per value (needs :func:`register`)."""
    return f"CASE WHEN {x} GLOB '*[^ -~]*' THEN name_key({x}) ELSE lower({x}) END"


def register(connection: apsw.Connection) -> None:
    """The SQL function ``name_key(text)`` on a connection."""
    connection.create_scalar_function("name_key", name_key, 1, deterministic=True)
