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
        self._texts = tuple(texts) or ("",)
        self.update(self._texts[0], layout=layout)

    def fitting(self, width: int) -> str:
        return next((text for text in self._texts if cell_len(text) <= width), self._texts[-1])

    def render(self) -> Content:
        return Content(self.fitting(self.content_size.width))
