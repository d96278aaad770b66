"""Reading a table's rows again without losing the user's place in it."""

from __future__ import annotations

from collections.abc import Sequence

from textual.coordinate import Coordinate
from textual.widgets import DataTable


def refill(table: DataTable[str], keys: Sequence[str], rows: Sequence[Sequence[str]]) -> None:
    """Replace ``table``'s rows by ``rows`` (``keys``: one unique key each, such as a
    change id), the cursor kept on the row of the key it was on, if that is still there.
    Screens read their rows again at every data change (the daemon's pulls, the minute's
    refresh): without this the highlighted row jumped to the top, and Enter opened
    another target than the one the user had chosen."""
    was = None
    if 0 <= table.cursor_row < table.row_count:
        was = table.coordinate_to_cell_key(Coordinate(table.cursor_row, 0)).row_key.value
    table.clear()
    for key, row in zip(keys, rows, strict=True):
        table.add_row(*row, key=key)
    if was is not None and was in keys:
        table.move_cursor(row=list(keys).index(was), animate=False)
