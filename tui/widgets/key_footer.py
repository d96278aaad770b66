"""A footer that fits its keys to its width: the ones that matter most always show."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import ClassVar

from rich.cells import cell_len
from textual import events
from textual.app import ComposeResult
from textual.binding import Binding
from textual.widgets import Footer

# Textual's own footer pieces, so the keys look as in every other footer
from textual.widgets._footer import FooterKey, FooterLabel, KeyGroup  # noqa: PLC2701


@dataclass
class _Item:
    """One thing in the footer: a key, or a group of keys with one label ("12345 Set status")."""

    keys: list[tuple[Binding, bool, str]]  # binding, enabled, tooltip
    rank: float  # lower: shown before the others when room is short
    last: bool = False  # kept at the right end (quit)
    width: int = field(default=0)


class KeyFooter(Footer, inherit_bindings=False):
    """Textual's footer, fitted to its width. It lays its keys out past the right edge,
    where they are cut: at 80 columns "q Quit" was never seen. Here the keys that do not
    fit whole are left out, the least important first: ``keep`` (binding ids, such as
    quit) always show, at the right end; then ``first``; then the other shown bindings
    in their order; then ``extras``, bindings the footer leaves out (``show=False``),
    shown when a wide terminal has room for them. Those shown keep their order.

    Widths are worked out as Textual's non-compact footer draws its keys (" q Quit ", a
    compact group " 12345 Set status ").

    No keys of its own: it never has the focus (a scrolling container's unnamed ones
    are not inherited)."""

    BINDINGS: ClassVar[list[Binding]] = []

    def __init__(
        self,
        *,
        keep: Sequence[str] = ("quit",),
        first: Sequence[str] = (),
        extras: Sequence[str] = (),
        show_command_palette: bool = True,
        id: str | None = None,
    ) -> None:
        super().__init__(show_command_palette=show_command_palette, id=id)
        self.keep = tuple(keep)
        self.first = tuple(first)
        self.extras = tuple(extras)
        self._composed_width = 0

    def _items(self) -> list[_Item]:
        """Every key the footer may show, grouped as Textual's footer groups them."""
        by_action: dict[str, list[tuple[Binding, bool, str]]] = {}
        for _node, binding, enabled, tooltip in self.screen.active_bindings.values():
            if binding.show or binding.id in self.extras:
                by_action.setdefault(binding.action, []).append((binding, enabled, tooltip))
        items: list[_Item] = []
        for order, keys in enumerate(by_action.values()):
            binding = keys[0][0]
            last = binding.id in self.keep
            rank: float
            if last:
                rank = -2
            elif binding.id in self.first:
                rank = self.first.index(binding.id or "") / (len(self.first) + 1) - 1
            elif binding.show:
                rank = order
            else:
                rank = len(by_action) + self.extras.index(binding.id or "")
            before = items[-1] if items else None
            group = binding.group
            if before is not None and group is not None and before.keys[0][0].group is group:
                before.keys.append(keys[0])
                before.rank = min(before.rank, rank)
                continue
            items.append(_Item([keys[0]], rank, last))
        for item in items:
            item.width = self._width(item)
        return items

    def _width(self, item: _Item) -> int:
        """Cells the item takes, as Textual's footer CSS lays it out."""
        binding = item.keys[0][0]
        if binding.group is not None and len(item.keys) > 1:
            keys = sum(cell_len(self.app.get_key_display(b)) for b, _, _ in item.keys)
            if binding.group.compact:  # KeyGroup.-compact: padding-left 1, margin-right 1
                keys += 2
            else:  # each key: margin 0 1
                keys += 2 * len(item.keys)
            return keys + cell_len(binding.group.description) + 1  # the label: margin-right 1
        # " q " (key padding 0 1) + "Quit " (description padding-right 1)
        return cell_len(self.app.get_key_display(binding)) + 2 + cell_len(binding.description) + 1

    def _fitted(self, items: list[_Item], width: int) -> list[_Item]:
        """The items that fit whole in ``width``, least important left out first; the
        kept ones in any case, at the end."""
        shown = list(items)
        for item in sorted(items, key=lambda each: each.rank, reverse=True):
            if sum(each.width for each in shown) <= width:
                break
            if not item.last:
                shown.remove(item)
        return [each for each in shown if not each.last] + [each for each in shown if each.last]

    def compose(self) -> ComposeResult:
        if not self._bindings_ready:
            return
        width = self.size.width or self.app.size.width
        self._composed_width = width
        palette = self._palette_key()
        # docked right: border-left 1, " ^p " and "palette " (padding-right 1)
        room = width - (
            cell_len(palette.key_display) + len(palette.description) + 5 if palette else 0
        )
        yield from self._keys(self._fitted(self._items(), room))
        if palette is not None:
            yield palette

    def _keys(self, items: Iterable[_Item]) -> ComposeResult:
        for item in items:
            binding = item.keys[0][0]
            group = binding.group
            if group is not None and len(item.keys) > 1:
                with KeyGroup(classes="-compact" if group.compact else ""):
                    for each, enabled, tooltip in item.keys:
                        yield FooterKey(
                            each.key,
                            self.app.get_key_display(each),
                            "",
                            each.action,
                            disabled=not enabled,
                            tooltip=tooltip or each.description,
                            classes="-grouped",
                        ).data_bind(compact=Footer.compact)
                yield FooterLabel(group.description)
                continue
            _, enabled, tooltip = item.keys[0]
            yield FooterKey(
                binding.key,
                self.app.get_key_display(binding),
                binding.description,
                binding.action,
                disabled=not enabled,
                tooltip=tooltip,
            ).data_bind(compact=Footer.compact)

    def _palette_key(self) -> FooterKey | None:
        """The command palette's key at the right, as Textual's footer shows it."""
        if not (self.show_command_palette and self.app.ENABLE_COMMAND_PALETTE):
            return None
        found = self.screen.active_bindings.get(self.app.COMMAND_PALETTE_BINDING)
        if found is None:
            return None
        _node, binding, enabled, _tooltip = found
        return FooterKey(
            binding.key,
            self.app.get_key_display(binding),
            binding.description,
            binding.action,
            classes="-command-palette",
            disabled=not enabled,
            tooltip=binding.tooltip or binding.description,
        )

    def on_resize(self, event: events.Resize) -> None:
        if self._bindings_ready and event.size.width != self._composed_width:
            self.call_after_refresh(self.recompose)
