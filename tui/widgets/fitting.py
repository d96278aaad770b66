"""A one-line label that shows the longest of its texts that fits its width."""

from __future__ import annotations

from collections.abc import Sequence

from rich.cells import cell_len
from textual.content import Content
from textual.widgets import Label


class FittingLabel(Label):
    """One line with several versions of its text, longest first: it shows the first
    that fits, else the last (which the CSS may cut with "…"). ``content`` stays the
    longest, whatever is shown."""

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self._texts: tuple[str, ...] = ("",)

    def show_texts(self, texts: Sequence[str], *, layout: bool = True) -> None:
        texts = tuple(texts) or ("",)
        resized = [cell_len(t) for t in texts] != [cell_len(t) for t in self._texts]
        self._texts = texts
        self.update(texts[0], layout=layout or resized)
        if resized:
            # What sits beside on the line may size itself from this label's texts (a
            # SyncBar does); Textual keeps a widget's size until it is refreshed itself.
            for sibling in self.siblings:
                sibling.refresh(layout=True)

    @property
    def least_width(self) -> int:
        """The width of the shortest version (the last), gutter and margin included."""
        return cell_len(self._texts[-1]) + self.styles.gutter.width + self.styles.margin.width

    def fitting(self, width: int) -> str:
        return next((text for text in self._texts if cell_len(text) <= width), self._texts[-1])

    def render(self) -> Content:
        return Content(self.fitting(self.content_size.width))
