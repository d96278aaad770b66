"""Text as both sides compare it: casefolded and without the accents of Latin letters.

"Zurich" and "Zürich" are one market, "cafe" finds "Café". The Latin letters that are
not a base letter and an accent are written as a keyboard without them writes them
("Orsted" is Ørsted, "Lodz" Łódź, "Aeroe" Ærø); characters that show nothing (a zero
width space, a soft hyphen) are left out, so two names that look the same are one. The
accents of other scripts (Greek) stay.
"""

from __future__ import annotations

import re
import unicodedata

#: The accents after a Latin letter, decomposed (é is e and U+0301): the ones SQLite's
#: ``remove_diacritics`` folds, so the store's two ways of searching agree.
_ACCENTS = re.compile("(?<=[\x00-\u024f])[\u0300-\u036f]+")


#: Latin letters with no decomposition (a stroke, a ligature), lower case (after
#: casefold), as they are written without them.
_BASE_LETTERS = str.maketrans(
    {"ø": "o", "ł": "l", "đ": "d", "ð": "d", "þ": "th", "æ": "ae", "œ": "oe", "ħ": "h",
     "ı": "i", "ŧ": "t", "ŀ": "l"}
)  # fmt: skip


def unaccented(text: str) -> str:
    """``text`` with its Latin letters' accents dropped (é -> e, ễ -> e, ø -> o) and its
    invisible format characters (U+200B, U+00AD...) left out; ASCII, and the letters of
    other scripts, as they are."""
    if text.isascii():
        return text
    # composed again: what keeps its accents (Greek) stays as typed, as SQLite keeps it
    bare = _ACCENTS.sub("", unicodedata.normalize("NFD", text)).translate(_BASE_LETTERS)
    if any(unicodedata.category(c) == "Cf" for c in bare):
        bare = "".join(c for c in bare if unicodedata.category(c) != "Cf")
    return unicodedata.normalize("NFC", bare)


def fold_key(text: str) -> str:
    """How a name or a market is compared: casefolded, Latin accents dropped."""
    return unaccented(text.casefold())
