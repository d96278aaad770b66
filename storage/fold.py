"""Names as the search compares them: casefolded (by the caller) and without accents.

The trigram index of names folds accents itself (``remove_diacritics``); a search walked
along the name index (many matches, or under 3 characters) compares through
:func:`unaccented`, registered as the SQL function ``unaccent`` on every connection.
So "cafe" finds "Café", "muller" "Müller", either way. Letters that are not a base
letter and an accent (ø, ł), and the accents of other scripts (Greek), stay as they
are, in both.
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
    return _ACCENTS.sub("", unicodedata.normalize("NFD", text))


def register(connection: apsw.Connection) -> None:
    """``unaccent(text)`` on a connection."""
    connection.create_scalar_function("unaccent", unaccented, 1, deterministic=True)
