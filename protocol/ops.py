"""What each kind of change (the wire's ``op``) is called where people read it."""

OP_WORDS = {"set_status": "status change", "create": "new target", "edit": "edit"}


def op_words(op: str) -> str:
    """``op`` in words (an op this version does not know: as it is)."""
    return OP_WORDS.get(op, op)
