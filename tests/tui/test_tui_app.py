"""App-wide behaviour: keys and remaps, help, palette, live updates, greeting, errors."""

from __future__ import annotations

import inspect

import pytest
from textual.binding import Binding
from textual.command import CommandPalette
from textual.widget import Widget
from tuihelp import (
    holding_the_write_lock,
    make_app,
    make_conflict,
    make_rejected,
    notifications,
    push_all,
    server_state,
    settle,
    shown,
    until,
)

import tui.screens
import tui.widgets
from protocol.wire import PullResponse
from storage import StoreError
from storage.profile import Profile
from tui import run
from tui.app import PipetrackApp
from tui.screens import HelpScreen, SummaryScreen
from tui.widgets import SyncBar, TargetTable


def our_classes():
    for module in (tui.screens, tui.widgets):
        for _name, cls in inspect.getmembers(module, inspect.isclass):
            if issubclass(cls, Widget) and cls.__module__.startswith("tui."):
                yield cls
    yield PipetrackApp


def test_every_binding_has_an_id():
    for cls in our_classes():
        for binding in cls.BINDINGS:
            assert isinstance(binding, Binding) and binding.id, (cls.__name__, binding)


async def test_keys_remapped_from_config_and_shown_in_help(store, uids):
    app = make_app(store, keys={"set_hot": "h", "summary": "S"})
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        await pilot.press("4")  # no longer bound
        assert store.get(uids["Acme Robotics"]).status == "Cold"
        await pilot.press("h")
        assert store.get(uids["Acme Robotics"]).status == "Hot"

        await pilot.press("question_mark")
        assert isinstance(app.screen, HelpScreen)
        text = "\n".join(shown(s) for s in app.screen.query("Static"))
        assert "⚠ stale" in text and "↑ pending" in text
        assert "(esc, ?, F1 or q closes)" in text.splitlines()[0]
        hot = next(line for line in text.splitlines() if "Set status: Hot" in line)
        assert hot.split()[0] == "h" and "set_hot" in hot
        await pilot.press("question_mark")
        assert not isinstance(app.screen, HelpScreen)

        await pilot.press("S")
        assert isinstance(app.screen, SummaryScreen)


async def test_f1_opens_the_help_anywhere_even_in_a_form(store, uids):
    app = make_app(store)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("f1")
        assert isinstance(app.screen, HelpScreen)
        text = "\n".join(shown(s) for s in app.screen.query("Static"))
        assert "F1" in text.splitlines()[0]  # the title says it closes the help too
        assert any(line.split()[:2] == ["f1", "Help"] for line in text.splitlines()), text
        await pilot.press("f1")
        assert not isinstance(app.screen, HelpScreen)

        await pilot.press("n")  # the new target form: its name field has the focus
        await pilot.pause()
        form = app.screen
        await pilot.press("f1")
        assert isinstance(app.screen, HelpScreen)
        await pilot.press("escape")
        assert app.screen is form


async def test_0_picks_no_status_in_the_status_picker(store, uids):
    from textual.widgets import OptionList

    from tui.screens import StatusPicker

    app = make_app(store)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("enter", "s")  # the first target's status, in its detail
        await pilot.pause()
        assert isinstance(app.screen, StatusPicker)
        options = app.screen.query_one(OptionList)
        last = options.get_option_at_index(options.option_count - 1)
        assert str(last.prompt).startswith("0 ")  # the key is said beside the choice
        await pilot.press("0")
        assert options.highlighted == options.option_count - 1
        await pilot.press("enter")
        await settle(pilot)
    assert store.get(uids["Acme Robotics"]).status is None


async def test_greeting_names_new_stale_targets_and_unknown_keys_are_reported(store, uids, clock):
    make_conflict(store, clock, uids["Acme Robotics"], "Closed", "Passed")
    keys = {"launch_rockets": "x", "set_hot": "1", "set_passed": "5", "set_closed": "0"}
    app = make_app(store, keys=keys, greet=True)
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.pause()
        await settle(pilot)  # the first sync state is read in a worker
        shown_messages = notifications(app)
        assert "1 change of yours met a teammate's: c to keep yours or take theirs" in (
            shown_messages
        )  # while the app was closed: said at start
        assert not any("refused" in n for n in shown_messages)
        assert any("became stale since you last opened" in n for n in shown_messages)
        [keymap] = [n for n in app._notifications if "launch_rockets" in n.message]  # noqa: SLF001
        assert keymap.timeout >= 15  # read at start, while the eye is on the list
        # 1 is taken from set_passed, which moved to 5, which set_closed left: no clash
        assert not any("bound to both" in n for n in shown_messages), shown_messages


async def test_a_key_given_to_two_bindings_of_a_screen_is_reported(store, uids):
    app = make_app(store, keys={"set_hot": "1", "undo": "n,ctrl+z"})
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.pause()
        clashes = [n for n in notifications(app) if "bound to both" in n]
        assert clashes == [
            "config.toml [keys]: 1 is bound to both set_passed and set_hot (Pipeline)",
            "config.toml [keys]: n is bound to both undo and new_target (Pipeline)",
        ]


async def test_command_palette_lists_and_runs_the_actions(store, uids):
    app = make_app(store)
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        titles = [c.title for c in app.get_system_commands(app.screen)]
        for expected in ("Set status: Hot", "Search", "Conflicts", "Bulk change", "Undo", "Help"):
            assert expected in titles
        await pilot.press("ctrl+p")
        assert isinstance(app.screen, CommandPalette)
        await pilot.press(*"summary")
        await pilot.pause(0.3)
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, SummaryScreen)
        text = shown(app.screen.query_one("#chart"))
        assert "10 targets" in text
        hot = next(line for line in text.splitlines() if line.strip().startswith("Hot"))
        assert hot.split()[1] == "2" and hot.split()[-4:] == ["1", "0", "1", "0"]


async def test_live_update_when_another_process_writes(store, other, uids, daemon_lock):
    app = make_app(store)
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        table = app.screen.query_one(TargetTable)
        other.set_status(uids["Acme Robotics"], "Closed")
        other.record_sync(online=True)
        await until(pilot, lambda: table.current.status == "Closed")
        assert table.current.status == "Closed"
        assert "online · 1 pending" in shown(app.screen.query_one(SyncBar))


async def test_sync_bar_says_connecting_then_catching_up(
    store, other, uids, daemon_lock, dead_daemons_error
):
    """The running daemon has reported nothing yet: "connecting", not "offline", and not
    the error a dead daemon left; then it stores a pull page that says more follows:
    "catching up" until the last one."""
    dead_daemons_error("cannot reach the server (the old daemon)")
    app = make_app(store)
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        bar = app.screen.query_one(SyncBar)
        assert shown(bar).startswith("connecting · 0 pending")
        assert (bar.has_class("-error"), bar.tooltip) == (False, None)

        async def bar_shows(text: str) -> str:
            await until(pilot, lambda: shown(bar).startswith(text))
            return shown(bar)

        other.record_sync(online=True, synced=True)
        other.apply_pull_json('{"targets": [], "history": [], "cursor": "c1", "more": true}')
        assert (await bar_shows("online · catching up")).startswith("online · catching up · 0")
        other.apply_pull_json('{"targets": [], "history": [], "cursor": "c2", "more": false}')
        assert (await bar_shows("online · 0 pending")).startswith("online · 0 pending")
        other.restart_pull()  # the server's database was restored: nothing pushed meanwhile
        assert (await bar_shows("online · pulling again")).startswith("online · pulling again")
        other.apply_pull_json('{"targets": [], "history": [], "cursor": "c3", "more": false}')
        # (the page sent none of our targets: the server lost them; they go out again)
        assert (await bar_shows("online · 9 pending")).startswith("online · 9 pending")


async def test_sync_bar_says_what_the_user_can_do_about_an_error(store, other, daemon_lock):
    app = make_app(store)
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        bar = app.screen.query_one(SyncBar)
        other.record_sync(online=False, error="HTTP 302 to the portal", hint="Wi-Fi sign-in?")
        await until(pilot, lambda: shown(bar).startswith("offline"))
        assert shown(bar).startswith("offline (Wi-Fi sign-in?) · 0 pending")
        assert bar.has_class("-error") and bar.tooltip == "HTTP 302 to the portal"


async def test_conflicts_and_refusals_the_sync_brings_are_told_once(store, other, uids, clock):
    """The daemon (another connection) records a conflict, then a refused change: each
    is told in a notification, with the key that opens the conflicts screen (remapped
    here); what was there at start and what the user settles are not."""
    make_rejected(store, uids["Delta Freight"], "Cold", "a change from before")
    app = make_app(store, keys={"conflicts": "x"})
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)

        async def told(count: int) -> list[str]:
            await until(pilot, lambda: len(sync_notes()) >= count)
            return sync_notes()

        def sync_notes() -> list[str]:
            return [n for n in notifications(app) if "teammate" in n or "refused" in n]

        assert sync_notes() == []  # the rejected change from before is not news
        make_conflict(other, clock, uids["Acme Robotics"], "Closed", "Passed")
        assert await told(1) == [
            "1 change of yours met a teammate's: x to keep yours or take theirs"
        ]
        make_rejected(other, uids["Cobalt Labs"], "Closed", "unknown target")
        assert (await told(2))[1] == "1 change was refused by the server: x to see why"
        [rejected] = [r for r in other.rejected() if r.reason == "unknown target"]
        other.drop_rejected(rejected.change_id)
        other.set_status(uids["Cobalt Labs"], "Active")
        await pilot.pause(0.5)
        assert len(sync_notes()) == 2


async def test_days_in_status_move_with_the_clock_while_the_list_is_open(store, uids, clock):
    """Offline, nothing changes in the file: the list is read again all the same, so
    days in status and stale marks stay true in a TUI left open for days."""
    app = make_app(store, refresh_every=0.2)
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        table = app.screen.query_one(TargetTable)

        def shown_rows() -> dict[str, tuple[int, str]]:
            rows = [table.pager.row(i) for i in range(table.row_count)]
            return {row.name: (row.days_in_status, row.stagnation) for row in rows}

        before = shown_rows()
        clock.advance(days=40)
        for _ in range(20):
            await pilot.pause(0.05)
            await settle(pilot)
            if shown_rows() != before:
                break
        after = shown_rows()
    assert {name: days + 40 for name, (days, _) in before.items()} == {
        name: days for name, (days, _) in after.items()
    }
    assert sum(mark == "stale" for _, mark in after.values()) > sum(
        mark == "stale" for _, mark in before.values()
    )


async def test_at_80_by_24_and_a_failing_write_is_a_message(store, uids, monkeypatch):
    def locked(*args, **kwargs):
        raise StoreError("pipetrack.db stayed locked by another pipetrack process for 10 s")

    monkeypatch.setattr(store, "set_status", locked)
    app = make_app(store)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        table = app.screen.query_one(TargetTable)
        assert table.visible_rows >= 15
        await pilot.press("4")
        await pilot.pause()
        assert "stayed locked" in notifications(app)[-1] and app.is_running
        for key in ("enter", "c", "g"):
            await pilot.press(key)
            await pilot.press("escape")
        assert app.screen.query_one(TargetTable) is table


def test_run_with_a_bad_config_prints_one_line_and_returns_2(home, capsys):
    (home / "config.toml").write_text("[stagnation]\nHot = 0\n")
    assert run(Profile(home)) == 2
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0 and "days must be a whole number" in err
    assert str(home / "config.toml") in err  # which file to fix


@pytest.mark.parametrize(
    "content", [b"this is not a database" * 100, b"SQLite format 3\x00" + b"\xff" * 5000]
)
def test_run_with_a_corrupt_database_prints_the_problem_and_returns_1(home, capsys, content):
    (home / "pipetrack.db").write_bytes(content)
    assert run(Profile(home)) == 1
    err = capsys.readouterr().err
    assert "Traceback" not in err and "pipetrack.db" in err


async def test_changes_a_restored_server_lost_are_told_when_sent_again(store, other, uids, clock):
    """The daemon pulls everything again from a server restored from a backup, which
    lacks a change of ours: the notification says it is sent again."""
    acme = uids["Acme Robotics"]
    views = [store.get(uid) for uid in uids.values()]
    before = [server_state(view, view.version) for view in views]
    clock.advance(minutes=5)
    store.set_status(acme, "Closed" if store.get(acme).status != "Closed" else "Cold")
    push_all(store)
    app = make_app(store)
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        other.restart_pull()  # as the daemon does when the server refuses its cursor
        page = PullResponse(targets=before, history=[], cursor="c", more=False)
        assert other.apply_pull_json(page.model_dump_json()).resent == 1
        await until(pilot, lambda: any("sent again" in n for n in notifications(app)))
        assert (
            "The server had lost 1 change of yours (restored from a backup?): sent again"
            in notifications(app)
        )


async def test_the_list_shows_while_another_process_holds_the_database(store, uids, home, clock):
    """At start the app records its opening (for the stale greeting): a write, queued, so
    the list is there at once even while an import holds the file."""
    app = make_app(store, greet=True)
    with holding_the_write_lock(home, 2.0) as holder:
        async with app.run_test(size=(100, 30)) as pilot:
            for _ in range(20):  # not settle(): it would wait for the queued write
                await pilot.pause(0.05)
                if app.screen.query(TargetTable) and app.screen.query_one(TargetTable).row_count:
                    break
            assert app.screen.query_one(TargetTable).row_count == 10
            assert holder.poll() is None  # still holding: the list did not wait for it
            await until(pilot, lambda: any("became stale" in n for n in notifications(app)))
            assert any("became stale since you last opened" in n for n in notifications(app))
