"""Every op of the wire has its words for people to read."""

from typing import get_args

from protocol import op_words
from protocol.ops import OP_WORDS
from protocol.wire import Op


def test_every_op_has_words_and_an_unknown_one_reads_as_it_is():
    assert set(OP_WORDS) == set(get_args(Op))
    assert [op_words(op) for op in ("set_status", "create")] == ["status change", "new target"]
    assert op_words("merge") == "merge"
