"""Names as the store compares them (the ``name_lc`` column): casefolded and without
the accents of Latin letters.

So "cafe" finds and names "Café", "muller" "Müller", and "Électricité" sorts among the
E's. Letters that are not a base letter and an accent (ø, ł), and the accents of other
scripts (Greek), stay as they are, as SQLite's trigram ``remove_diacritics`` keeps them.
"""

from __future__ import annotations

import re
import unicodedata

import apsw

#: The accents after a Latin letter, decomposed (é is e and U+0301): the letters
#: SQLite's ``remove_diacritics`` folds, so both ways of searching find the same names.
_ACCENTS = re.compile("(?<=[\x00-\u024f])[\u0300-\u036f]+")


def unaccented(text: str) -> str:
    """``text`` with its Latin letters' accents dropped: é -> e, ễ -> e; ASCII, and the
    letters of other scripts, as they are."""
    if text.isascii():
        return text
    # composed again: what keeps its accents (Greek) stays as typed, as SQLite keeps it
    return unicodedata.normalize("NFC", _ACCENTS.sub("", unicodedata.normalize("NFD", text)))


def name_key(name: str) -> str:
    """How a name is compared, sorted and searched: casefolded, Latin accents dropped."""
    return unaccented(name.casefold())


def name_key_sql(x: str) -> str:
    """SQL: :func:`name_key` of ``x``; printable ASCII (most names) by lower(), which is
    the same there, without a call back into Python per value (needs :func:`register`)."""
    return f"CASE WHEN {x} GLOB '*[^ -~]*' THEN name_key({x}) ELSE lower({x}) END"


def register(connection: apsw.Connection) -> None:
    """The SQL function ``name_key(text)`` on a connection."""
    connection.create_scalar_function("name_key", name_key, 1, deterministic=True)
