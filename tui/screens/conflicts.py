"""Conflicts (base / mine / theirs) and rejected changes, and how to settle each."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from rich import box
from rich.console import Group
from rich.table import Table
from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, VerticalScroll
from textual.widgets import Footer, OptionList, Static
from textual.widgets.option_list import Option

from protocol import Status, note_words, op_words
from storage import ConflictView, RejectedView, TargetView

from ..display import local_time, status_label
from .base import SubScreen
from .status_picker import StatusChoice, StatusPicker

CONFLICT_ACTIONS = {"keep_mine", "take_theirs", "another_status"}
REJECTED_ACTIONS = {"drop", "correct"}


def _value(value: Any) -> str:
    return ", ".join(map(str, value)) if isinstance(value, list | tuple) else str(value)


def _fields(fields: dict[str, Any] | None) -> str:
    """``key: value`` lines of the fields a change sets; empty ones left out."""
    return "\n".join(f"{key}: {_value(value)}" for key, value in (fields or {}).items() if value)


def _what(op: str, status: str | None, fields: dict[str, Any] | None) -> str:
    if op == "set_status":
        return status_label(status)
    return f"{op_words(op)}\n{_fields(fields)}".strip()


#: A detail one side left as the edit's base had it.
UNCHANGED = "not changed"

#: Narrower than this, the list sits above the panel (side by side, the values were cut
#: to "Mi…" at 50 columns and left out at 40).
NARROW = 72


def conflict_panel(conflict: ConflictView) -> Group:
    """Base, mine and theirs side by side. An edit's fields get a row each (the values
    are sentences: three columns of them wrap into a word a line on 80 columns), and no
    Base column: a side that left a detail as it was says "not changed" instead."""
    edit = conflict.op == "edit"  # the details met a teammate's, not the status
    table = Table(expand=True, box=box.SIMPLE_HEAD, show_edge=False, pad_edge=False)
    table.add_column("", style="bold", no_wrap=True)
    for title in ("Mine", "Theirs") if edit else ("Base", "Mine", "Theirs"):
        table.add_column(title, ratio=1)

    def row(label: str, base: str, mine: str, theirs: str) -> None:
        table.add_row(label, *((mine, theirs) if edit else (base, mine, theirs)))

    if edit:  # the details either side changed, each "not changed" on the side that did not
        mine, theirs = conflict.mine_fields or {}, conflict.theirs_fields or {}
        kept = conflict.theirs_unchanged()
        for key in sorted(mine.keys() | theirs.keys()):
            mine_value = (_value(mine[key]) or "—") if key in mine else UNCHANGED
            theirs_value = UNCHANGED if key in kept else _value(theirs.get(key)) or "—"
            row(key, "", mine_value, theirs_value)
        row("Version", "", f"on v{conflict.base_version or '—'}", f"v{conflict.theirs_version}")
    else:
        base, theirs = status_label(conflict.base_status), status_label(conflict.theirs_status)
        row("Status", base, _what(conflict.op, conflict.mine_status, conflict.mine_fields), theirs)
        if conflict.then:  # waiting behind it, as `pipetrack conflicts` says "Hot, then Cold"
            row("", "", f"then {_statuses(conflict.then)}", "")
        row("Version", str(conflict.base_version or "—"), "", str(conflict.theirs_version))
    if conflict.undone:
        row("", "", "undone since", "")
    row("Who", "", "you", conflict.theirs_changed_by or "?")
    row("When", "", local_time(conflict.mine_changed_at), local_time(conflict.theirs_changed_at))
    row("Note", "", note_words(conflict.mine_note), note_words(conflict.theirs_note))
    title = Text.assemble((conflict.name, "bold"), f"  conflicting {op_words(conflict.op)}")
    # … as in the footer: asks first (see ConfirmDialog)
    choices = "m keep mine · t take theirs…"
    choices += "" if edit else " · a other status"
    if conflict.undone:
        choices += "\nyou undid this change since: settling drops the undo"
        if not edit:
            choices += f"; a → {status_label(conflict.base_status)} keeps it undone"
    follows = _follows_hint(conflict)
    if follows:
        choices += f"\n{follows}"
    hint = Text(choices, style="dim")
    return Group(title, Text(""), table, Text(""), hint)


def _statuses(statuses: tuple[str | None, ...]) -> str:
    return ", ".join(status_label(status) for status in statuses)


def _follows_hint(conflict: ConflictView) -> str:
    """What waits behind the conflict follows whatever is chosen (one line at 100
    columns): taking theirs still ends at the user's later status, or sends the later
    edit of its fields."""
    said = []
    if conflict.then:
        said.append(f"it ends at {status_label(conflict.then[-1])}")
    if conflict.later_fields:
        said.append(f"edited again: {', '.join(conflict.later_fields)}")
    return f"later changes follow any choice: {'; '.join(said)}" if said else ""


def settled_text(
    conflict: ConflictView, after: TargetView, choice: str, drop_later: bool = False
) -> str:
    """What settling did, as `pipetrack resolve` says it (:meth:`ConflictView.settled_text`)."""
    return conflict.settled_text(after.name, after.status, choice, status_label, drop_later)


#: What ``e`` does with a rejected change, by its op (an edit is only dropped).
CORRECT_HINTS = {
    "set_status": "d drop… · e correct (set another status)",
    "create": "d drop… · e keep it: make it again as a new target (a new id)",
}


def rejected_panel(rejected: RejectedView) -> Group:
    table = Table(expand=True, show_edge=False, show_header=False, pad_edge=False)
    table.add_column("", style="bold", no_wrap=True)
    table.add_column("", ratio=1)
    what = _what(rejected.op, rejected.status, rejected.fields)
    if rejected.op == "create":  # the status it was made with is not among its fields
        what += f"\nstatus: {status_label(rejected.status)}"
    table.add_row("Change", what)
    table.add_row("When", local_time(rejected.changed_at))
    table.add_row("Reason", Text(rejected.reason, style="bold red"))
    title = Text.assemble((rejected.name, "bold"), "  rejected by the server")
    hint = CORRECT_HINTS.get(rejected.op, "d drop…")
    return Group(title, Text(""), table, Text(""), Text(hint, style="dim"))


class ConflictsScreen(SubScreen):
    """Left: what needs attention; right: the one highlighted, side by side."""

    AUTO_FOCUS = "#items"

    BINDINGS = [
        Binding("m", "keep_mine", "Keep mine", id="keep_mine"),
        # ask first (…): they discard the user's change (t is "stale only" on the list)
        Binding("t", "take_theirs", "Take theirs…", id="take_theirs"),
        Binding("a", "another_status", "Other status", id="another_status"),
        Binding("d", "drop", "Drop…", id="drop_rejected"),
        Binding("e", "correct", "Correct", id="correct_rejected"),
    ]

    def __init__(self) -> None:
        super().__init__()
        self.items: dict[str, ConflictView | RejectedView] = {}

    def compose(self) -> ComposeResult:
        with Horizontal(id="conflicts"):
            yield OptionList(id="items")
            with VerticalScroll(id="conflict-side"):
                yield Static(id="compare")
        yield Footer()

    def on_mount(self) -> None:
        self.reload_data()

    def on_resize(self) -> None:
        # side by side, the panel got 16 columns at 40: the list above it there instead
        self.query_one("#conflicts").set_class(self.size.width < NARROW, "-narrow")

    @property
    def selected(self) -> ConflictView | RejectedView | None:
        items = self.query_one("#items", OptionList)
        if items.highlighted is None:
            return None
        return self.items.get(items.get_option_at_index(items.highlighted).id or "")

    def reload_data(self) -> None:
        conflicts = self.attempt(self.store.conflicts)
        rejected = self.attempt(self.store.rejected)
        if conflicts is None or rejected is None:
            return
        items = self.query_one("#items", OptionList)
        keep = items.highlighted
        self.items = {f"c-{c.change_id}": c for c in conflicts}
        self.items |= {f"r-{r.change_id}": r for r in rejected}
        items.clear_options()
        if conflicts:
            items.add_option(Option(f"Conflicts ({len(conflicts)})", disabled=True))
            items.add_options(
                Option(f"{c.name}: {self._short(c)}", id=f"c-{c.change_id}") for c in conflicts
            )
        if rejected:
            items.add_option(Option(f"Rejected ({len(rejected)})", disabled=True))
            items.add_options(
                Option(f"{r.name}: {r.reason}", id=f"r-{r.change_id}") for r in rejected
            )
        if self.items:
            items.highlighted = min(keep or 1, items.option_count - 1)
            if items.get_option_at_index(items.highlighted).disabled:
                items.action_cursor_down()
        self.show_selected()

    @staticmethod
    def _short(conflict: ConflictView) -> str:
        mine = _what(conflict.op, conflict.mine_status, conflict.mine_fields).splitlines()[0]
        # an edit met a teammate's edit of the details, whatever the status is
        theirs = "an edit" if conflict.op == "edit" else status_label(conflict.theirs_status)
        then = f", then {_statuses(conflict.then)}" if conflict.then else ""
        return f"mine {mine}{then} / theirs {theirs}"

    @on(OptionList.OptionHighlighted)
    def show_selected(self) -> None:
        item = self.selected
        compare = self.query_one("#compare", Static)
        if item is None:
            compare.update("Nothing to resolve: no conflicts and no rejected changes.")
        elif isinstance(item, ConflictView):
            compare.update(conflict_panel(item))
        else:
            compare.update(rejected_panel(item))
        self.refresh_bindings()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "another_status":  # an edit's details are mine or theirs
            item = self.selected
            return isinstance(item, ConflictView) and item.op != "edit"
        if action in CONFLICT_ACTIONS:
            return isinstance(self.selected, ConflictView)
        if action == "drop":
            return isinstance(self.selected, RejectedView)
        if action == "correct":
            item = self.selected
            return isinstance(item, RejectedView) and item.op in CORRECT_HINTS
        return True

    # ---- conflict choices ---------------------------------------------------------------
    def _resolve(self, choice: str, note: str | None = None) -> None:
        item = self.selected
        if isinstance(item, ConflictView):
            self._write(  # on the side shown: changed meanwhile, the user looks again
                lambda: self.store.resolve_conflict(
                    item.change_id, choice, note, seen_version=item.theirs_version
                ),
                lambda after: settled_text(item, after, choice),
            )

    def _write(self, write: Callable[[], object], told: str | Callable[[Any], str]) -> None:
        """Queued in the app's write thread; once done, ``told`` (or what it makes of the
        result) and the lists read again (after a failure too: they may be out of date)."""

        def done(result: object) -> None:
            self.notify(told if isinstance(told, str) else told(result))
            self.pipetrack.data_changed()

        self.pipetrack.writes.later(write, done, self.pipetrack.data_changed)

    def action_keep_mine(self) -> None:
        self._resolve("mine")

    def action_take_theirs(self) -> None:
        item = self.selected
        if not isinstance(item, ConflictView):
            return
        name = item.name
        if item.op == "edit":
            mine = "Your edit of its details (" + ", ".join(item.mine_fields or {}) + ")"
            theirs = "details"
            name = (item.theirs_fields or {}).get("name") or name  # not the name discarded
        else:
            mine = f"Your change to {status_label(item.mine_status)}"
            theirs = status_label(item.theirs_status)
        if item.mine_note:
            mine += f' and its note "{note_words(item.mine_note)}"'
        who = item.theirs_changed_by or "the teammate"
        loses = f"{mine} will be discarded; {name} takes {who}'s {theirs}"
        if item.later_fields:  # it does not end there: the user's later changes follow
            loses += f", then your later edit of {', '.join(item.later_fields)}"
        if item.then:
            ends = status_label(item.then[-1])
            loses += f", then your later change to {ends}: it ends at {ends}"
        loses += "."
        also = "Theirs, drop later" if item.then or item.later_fields else None
        self._confirm(f"Take theirs for {item.name}?", loses, "Take theirs", "theirs", also)

    def _confirm(
        self, title: str, loses: str, button: str, choice: str, also: str | None = None
    ) -> None:
        """Ask before a step that discards the user's change; ``choice`` settles the
        item highlighted now (``drop`` for a rejected change, else a resolution);
        ``also``: a second way on, the user's later changes dropped with it."""
        item = self.selected

        def answered(go_on: bool | str | None) -> None:
            if not go_on or item is None:
                return
            drop_later = go_on == "also"
            if isinstance(item, RejectedView):
                self._write(
                    lambda: self.store.drop_rejected(item.change_id),
                    f"{item.name}: rejected change dropped",
                )
            else:
                self._write(  # on the side the dialog told of (it may have been open a while)
                    lambda: self.store.resolve_conflict(
                        item.change_id, choice, None, drop_later, item.theirs_version
                    ),
                    lambda after: settled_text(item, after, choice, drop_later),
                )

        from .confirm import ConfirmDialog

        self.app.push_screen(ConfirmDialog(title, loses, button, also), answered)

    def action_another_status(self) -> None:
        item = self.selected
        if not isinstance(item, ConflictView):
            return

        def chosen(choice: StatusChoice | None) -> None:
            if choice is not None:  # "none": no status, as resolve --status none
                self._resolve(choice.status or "none", choice.note)

        picker = StatusPicker(
            f"Another status for {item.name}", current=item.theirs_status, allow_none=True
        )
        self.app.push_screen(picker, chosen)

    # ---- rejected changes --------------------------------------------------------------
    def action_drop(self) -> None:
        item = self.selected
        if not isinstance(item, RejectedView):
            return
        if item.op == "create":
            what = f"{item.name}, the new target made here, and the changes made on it"
        elif item.op == "set_status":
            what = f"Your change of {item.name} to {status_label(item.status)}"
        else:
            what = f"Your {op_words(item.op)} of {item.name}"
        loses = f"{what} will be dropped for good: undo cannot bring it back."
        self._confirm(f"Drop the rejected change to {item.name}?", loses, "Drop", "drop")

    def action_correct(self) -> None:
        item = self.selected
        if not isinstance(item, RejectedView):
            return
        if item.op == "create":
            self._write(
                lambda: self.store.recreate_rejected(item.change_id),
                lambda again: f"{again.name}: made again as a new target",
            )
            return

        def chosen(choice: StatusChoice | None) -> None:
            if choice is None:
                return
            self.correct(item, choice.status, choice.note)

        self.app.push_screen(StatusPicker(f"Correct {item.name}", allow_none=True), chosen)

    def correct(self, item: RejectedView, status: Status | None, note: str | None) -> None:
        """Drop the rejected change and set the status the user chose instead, in one
        transaction (a crash between the two would lose the correction)."""
        self._write(
            lambda: self.store.correct_rejected(item.change_id, status, note),
            f"{item.name}: corrected to {status_label(status)}",
        )
