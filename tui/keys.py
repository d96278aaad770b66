"""Keys in one burst are handled in the order they were read, by the widget each went to.

Textual routes a key to the focused widget as it reads it (posted to that widget's
queue) but resolves the bindings that are not priority (an Input's Backspace and
arrows, an OptionList's Down, a screen's letters) only when the key comes back to the
app after bubbling up, against whatever is focused by then. Keys read in one burst (a
fast typist over a slow link, tmux send-keys, a key macro) were thus handled out of
order: in ``Zeta Two⌫⌫⌫Test`` the Input typed ``Test`` before the Backspaces came back,
and after a Tab (a priority binding: it moves the focus as it is read) they ran in the
next field; in the status dialog ``Down Down Tab`` the arrows came back when the note
had the focus, which has no Down, and were lost.

:func:`route_to_binding` takes such a key as the app reads it: when the widget it goes
to would not type it itself and a binding in that widget's chain has the key, the
binding runs in the widget's own queue, behind the keys routed there before it, with
the chain of that widget (not of the focus at that later moment).

While such a binding waits to run, the keys read after it are held (:class:`KeyHold`)
and read again in order once it has run: a binding may open a dialog or move the
focus, and ``n`` followed by a name in one read typed the name's letters as pipeline
keys on the table behind the form still mounting (``s`` opened the status dialog).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar

from textual import events
from textual.binding import BindingsMap
from textual.keys import key_to_character

if TYPE_CHECKING:
    from textual.app import App
    from textual.dom import DOMNode
    from textual.widget import Widget


def binding_chain(app: App[object], target: Widget) -> list[tuple[DOMNode, BindingsMap]]:
    """The bindings a key routed to ``target`` is checked against, as Textual's
    ``Screen._modal_binding_chain`` computes them for the focused widget: ``target`` up
    to its screen (and the app, unless the screen is modal); a key that a widget
    nearer ``target`` types itself (an Input's letters) is not an ancestor's binding."""
    nodes: list[DOMNode] = [target.screen, app] if target.loading else [*target.ancestors_with_self]
    chain: list[tuple[DOMNode, BindingsMap]] = []
    for node in nodes:
        bindings = node._bindings.copy()  # noqa: SLF001 - what Textual's chain reads
        for nearer, _ in chain:
            for key in list(bindings.key_to_bindings):
                if nearer.check_consume_key(key, key_to_character(key)):
                    del bindings.key_to_bindings[key]
        if app._keymap:  # noqa: SLF001 - the [keys] of config.toml, as Textual applies it
            clashed = bindings.apply_keymap(app._keymap).clashed_bindings  # noqa: SLF001
            if clashed:
                app.handle_bindings_clash(clashed, node)
        chain.append((node, bindings))
        if node.is_modal:
            break
    return chain


class KeyHold:
    """The keys read while a routed binding waits in its widget's queue, read again (in
    order, from the start: priority bindings first) once it has run, and once the screen
    it opened has mounted. A binding that never runs (its widget went away) lets them go
    after :attr:`AT_MOST` seconds."""

    AT_MOST: ClassVar[float] = 2.0

    def __init__(self, app: App[object]) -> None:
        self.app = app
        self.keys: list[events.Key] | None = None  # None: not holding
        self._holds = 0  # counts holds, so a late timer leaves a newer hold alone

    def take(self, event: events.Key) -> bool:
        """Hold ``event`` if a binding is waiting (True)."""
        if self.keys is None:
            return False
        self.keys.append(event)
        return True

    def start(self) -> None:
        self.keys = [] if self.keys is None else self.keys
        self._holds += 1
        hold = self._holds
        self.app.set_timer(self.AT_MOST, lambda: self._give_up(hold))

    async def release(self) -> None:
        keys, self.keys = self.keys or [], None
        for i, key in enumerate(keys):
            if self.keys is not None:  # a key read again queued a binding: the rest wait
                self.keys.extend(keys[i:])
                return
            await self.app.on_event(key)

    async def _give_up(self, hold: int) -> None:
        if hold == self._holds and self.keys is not None:
            await self.release()


def route_to_binding(app: App[object], event: events.Key, hold: KeyHold) -> bool:
    """``event`` was read and no priority binding took it: Textual would now post it to
    the focused widget. When that widget does not type the key and its chain binds
    it, queue the binding behind the keys already routed to the widget, and hold the
    keys read after it until it has run (True); otherwise Textual routes it as ever
    (False)."""
    target = app.focused or app.screen
    if target.check_consume_key(event.key, event.character):
        return False  # typed by the widget itself: the key goes to it
    if not any(event.key in bindings.key_to_bindings for _, bindings in binding_chain(app, target)):
        return False  # no binding: the widget's own key handling, as ever
    hold.start()
    target.call_later(_run_binding, app, target, event, hold)
    return True


async def _run_binding(app: App[object], target: Widget, event: events.Key, hold: KeyHold) -> None:
    """In ``target``'s queue: the first binding of its chain that runs (Textual's order:
    the widget first, then up); none enabled now, the key goes to the widget as ever.
    Then the keys held meanwhile, after the screen it opened (if any) has mounted."""
    screen = app.screen
    try:
        for namespace, bindings in binding_chain(app, target):
            for binding in bindings.key_to_bindings.get(event.key, ()):
                if not binding.priority and await app.run_action(binding.action, namespace):
                    return
        target._forward_event(event)  # noqa: SLF001 - as Textual routes a key read
    finally:
        if app.screen is screen:
            await hold.release()
        else:  # behind its mounting in its queue: its focus is set by then
            app.screen.call_later(hold.release)
