"""What each kind of change (the wire's ``op``) is called where people read it."""

OP_WORDS = {"set_status": "status change", "create": "new target", "edit": "edit"}


def op_words(op: str) -> str:
    """``op`` in words (an op this version does not know: as it is)."""
    return OP_WORDS.get(op, op)


#: An undo's note, followed by the id of the change it takes back: undo reads it back,
#: so that no change is undone twice.
UNDO_NOTE = "undo of "


def undone_id(note: str | None) -> str | None:
    """The id of the change an undo's note names; None for any other note."""
    return note[len(UNDO_NOTE) :] if note and note.startswith(UNDO_NOTE) else None


def note_words(note: str | None) -> str:
    """A change's note as a table shows it: an undo's reads "undo" (the id after it is
    for undo itself; the row beside it says which status came back)."""
    if note is None:
        return ""
    return "undo" if note.startswith(UNDO_NOTE) else note
