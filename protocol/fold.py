"""Text as both sides compare it: casefolded and without the accents of Latin letters.

"Zurich" and "Zürich" are one market, "cafe" finds "Café". Letters that are not a base
letter and an accent (ø, ł), and the accents of other scripts (Greek), stay as they
are, as SQLite's trigram ``remove_diacritics`` keeps them (the store's name index).
"""

from __future__ import annotations

import re
import unicodedata

#: The accents after a Latin letter, decomposed (é is e and U+0301): the ones SQLite's
#: ``remove_diacritics`` folds, so the store's two ways of searching agree.
_ACCENTS = re.compile("(?<=[\x00-\u024f])[\u0300-\u036f]+")


def unaccented(text: str) -> str:
    """``text`` with its Latin letters' accents dropped: é -> e, ễ -> e; ASCII, and the
    letters of other scripts, as they are."""
    if text.isascii():
        return text
    # composed again: what keeps its accents (Greek) stays as typed, as SQLite keeps it
    return unicodedata.normalize("NFC", _ACCENTS.sub("", unicodedata.normalize("NFD", text)))


def fold_key(text: str) -> str:
    """How a name or a market is compared: casefolded, Latin accents dropped."""
    return unaccented(text.casefold())
