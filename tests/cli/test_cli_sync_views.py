"""status, conflicts, resolve: what sync left for the user."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from pathlib import Path

import pytest

from storage import Store
from tests.storage.storehelp import result, state

from .conftest import (
    CONFLICT_KEYS,
    CONFLICT_NESTED,
    REJECTED_KEYS,
    STATUS_KEYS,
    TARGET_JSON_KEYS,
    Cli,
    make_conflict,
    push,
)

TOKEN = "tok-5ecret-never-shown-0123456789"


@pytest.fixture
def logged_in(home: Path) -> None:
    (home / "config.toml").write_text('[sync]\nserver = "https://pipe.example.com"\n')
    (home / "token").write_text(TOKEN + "\n")
    (home / "token").chmod(0o600)


# ---- status ------------------------------------------------------------------------------
def status_lines(cli: Cli) -> dict[str, str]:
    """``pipetrack status`` as label -> value."""
    return dict(line.split(":", 1) for line in cli("status").stdout.splitlines())


def test_status_json_has_the_design_keys(cli: Cli, logged_in: None) -> None:
    cli("add", "Acme", "--status", "Hot")
    state = cli("status", "--json").json()
    assert set(state) == STATUS_KEYS | {"offline_since"}
    assert state["server"] == "https://pipe.example.com"
    assert state["pending"] == 1 and state["oldest_pending_age_s"] >= 0
    assert (state["conflicts"], state["rejected"]) == (0, 0)
    assert state["online"] is False and state["last_sync_at"] is None


def test_status_says_changes_wait_while_everything_is_pulled_again(
    cli: Cli, store: Store, logged_in: None
) -> None:
    cli("add", "Acme", "--status", "Hot")
    store.restart_pull()  # the server refused the cursor: its database was restored
    assert "pulling everything again" in status_lines(cli)["Sync"]
    assert "your changes go out once it ends" in status_lines(cli)["Sync"]
    assert cli("status", "--json").json()["pulling_again"] is True
    store.apply_pull_json('{"targets": [], "history": [], "cursor": "c", "more": false}')
    assert "pulling" not in status_lines(cli)["Sync"]
    assert cli("status", "--json").json()["pulling_again"] is False


def test_status_is_not_online_when_no_daemon_runs(
    cli: Cli, store: Store, logged_in: None, home: Path
):
    """A daemon killed -9 last recorded "online": with its process gone that is not true.
    The hint names this profile: copied without --home it started another's daemon."""
    store.record_sync(online=True, synced=True)
    assert cli("status", "--json").json()["online"] is False
    lines = status_lines(cli)  # "offline" would read as "no network"
    assert lines["Sync"].strip() == (
        f"not syncing (no sync daemon runs: start one with pipetrack --home {home} sync)"
    )


def test_status_before_login_says_to_log_in_first(cli: Cli, home: Path) -> None:
    """'start pipetrack sync' would only fail with "not logged in"."""
    cli("add", "Acme")
    want = "not syncing (not logged in: log in first with pipetrack login URL --token T)"
    assert status_lines(cli)["Sync"].strip() == want
    (home / "config.toml").write_text('[sync]\nserver = "https://pipe.example.com"\n')
    assert status_lines(cli)["Sync"].strip() == want  # a server, but no token saved


def test_status_json_says_since_when_online_or_offline_honestly(
    cli: Cli, store: Store, logged_in: None, daemon_lock
) -> None:
    """``online_since`` is never the time the connection went away."""
    store.record_sync(online=True, synced=True)
    online = cli("status", "--json").json()
    assert online["online"] is True and online["online_since"].endswith("Z")
    assert online["offline_since"] is None
    store.record_sync(online=False, error="cannot reach https://pipe.example.com")
    offline = cli("status", "--json").json()
    assert offline["online"] is False and offline["online_since"] is None
    assert offline["offline_since"].endswith("Z")
    assert offline["offline_since"] >= online["online_since"]


def test_status_shows_online_last_sync_and_last_error(
    cli: Cli, store: Store, logged_in: None, daemon_lock
) -> None:
    store.record_sync(online=True, synced=True)
    store.record_sync(online=True, error="server answered 503")
    lines = status_lines(cli)
    assert lines["Sync"].strip().startswith("online since ")
    assert lines["Server"].strip() == "https://pipe.example.com"
    assert re.fullmatch(r"\d{4}-\d\d-\d\d \d\d:\d\d \(\d+s ago\)", lines["Last sync"].strip())
    assert lines["Last error"].strip() == "server answered 503"
    assert lines["Pending"].strip() == "0"
    assert cli("status", "--json").json()["user"] is None  # not learnt yet
    store.set_user_name("priya")  # as login learns it from the server
    assert status_lines(cli)["Server"].strip() == "https://pipe.example.com (as priya)"
    assert cli("status", "--json").json()["user"] == "priya"


def test_status_says_connecting_until_the_running_daemon_reports(
    cli: Cli, store: Store, logged_in: None, daemon_lock, dead_daemons_error
) -> None:
    """What an earlier daemon recorded does not count for the one that runs; once it
    reports, its own state shows."""
    dead_daemons_error("cannot reach the server (the old daemon)")
    lines = status_lines(cli)
    assert lines["Sync"].strip() == "connecting (the sync daemon has not reached the server yet)"
    assert lines["Last error"].strip() == (
        "cannot reach the server (the old daemon) (before the sync daemon started)"
    )
    assert cli("status", "--json").json()["connection"] == "connecting"
    store.record_sync(online=False, error="cannot reach https://pipe.example.com")
    lines = status_lines(cli)
    assert lines["Sync"].strip().startswith("offline since ")
    assert lines["Last error"].strip() == "cannot reach https://pipe.example.com"
    assert cli("status", "--json").json()["connection"] == "offline"
    store.record_sync(online=False, error="HTTP 302 to the portal", hint="Wi-Fi sign-in?")
    assert status_lines(cli)["Sync"].strip().endswith(" (Wi-Fi sign-in?)")


def test_status_runs_with_a_config_error_and_names_the_file(
    cli: Cli, home: Path, logged_in: None
) -> None:
    """The command that says how sync stands still runs; the others refuse, naming the
    file to fix."""
    config = home / "config.toml"
    config.write_text(config.read_text() + "[stagnation]\nHot = 0\n")
    lines = status_lines(cli)
    assert lines["Server"].strip() == "https://pipe.example.com"
    assert lines["Config"].strip() == (
        f"{config}: [stagnation] Hot = 0: days must be a whole number >= 1"
        " (other commands refuse to run until it is fixed)"
    )
    assert cli("status", "--json").json()["server"] == "https://pipe.example.com"
    assert str(config) in cli("conflicts", code=2).error


def test_status_never_prints_the_token(cli: Cli, logged_in: None) -> None:
    cli("add", "Acme")
    for args in (("status",), ("status", "--json")):
        run = cli(*args)
        assert TOKEN not in run.stdout + run.stderr
        assert "5ecret" not in run.stdout + run.stderr


def test_status_without_a_server(cli: Cli) -> None:
    assert cli("status", "--json").json()["server"] is None
    assert "pipetrack login" in cli("status").stdout


# ---- conflicts ---------------------------------------------------------------------------
def test_conflicts_json_shape(cli: Cli, conflict: dict[str, str]) -> None:
    (found,) = cli("conflicts", "--json").json()
    assert set(found) == CONFLICT_KEYS
    for part, keys in CONFLICT_NESTED.items():
        assert set(found[part]) == keys
    assert (found["change_id"], found["target"], found["name"]) == (
        conflict["change_id"],
        conflict["uid"],
        "Acme",
    )
    assert found["base"] == {"status": "Cold", "version": 1, "fields": None}  # a status change
    assert (found["mine"]["status"], found["mine"]["note"]) == ("Hot", "call went well")
    theirs = found["theirs"]
    assert (theirs["status"], theirs["changed_by"], theirs["version"]) == ("Active", "bob", 2)
    assert theirs["changed_at"].endswith("Z") and found["mine"]["changed_at"].endswith("Z")


def test_conflicts_table_shows_base_mine_theirs_and_who(cli: Cli, conflict: dict) -> None:
    run = cli("conflicts")
    header, row = run.stdout.splitlines()
    assert header.split()[:4] == ["CHANGE", "TARGET", "BASE", "MINE"]
    assert row.startswith(conflict["change_id"][:8] + "  Acme")
    for text in ("Acme", "Cold v1", "Hot", "Active v2", "bob"):
        assert text in row
    assert row.endswith("mine: call went well")  # the note, as --json has it
    assert "pipetrack resolve" in run.stderr
    assert cli("status", "--json").json()["conflicts"] == 1


def test_the_notes_cell_says_whose_each_note_is() -> None:
    from pipetrack.commands.sync_views import notes_text

    assert notes_text("call went well", "they signed") == (
        "mine: call went well · theirs: they signed"
    )
    assert notes_text(None, "they signed") == "theirs: they signed"
    assert notes_text(None, None) == ""


def test_a_conflict_undone_since_says_so_and_what_settling_did(cli: Cli, store: Store) -> None:
    """Hot, then undone, both unsent; the server refuses Hot: settling drops the undo, so
    the table says the change was undone, and resolve says the undo went."""
    t = store.create_target("Fjord", status="Cold")
    now = datetime.now(UTC)
    push(store, "applied", state(t.uid, 1, now, name="Fjord", status="Cold", by="me"))
    store.set_status(t.uid, "Hot")
    store.undo_last()
    [hot, undo] = store.take_batch()
    theirs = state(t.uid, 2, now, name="Fjord", status="Active", by="bob")
    store.apply_push_results([result(hot, "conflict", theirs), result(undo, "blocked")])
    (row,) = cli("conflicts").stdout.splitlines()[1:]
    assert "Hot (undone since)" in row, row
    said = cli("resolve", str(hot.change_id), "--mine").stdout.strip()
    assert said == "Fjord: resolved, now Hot (your undo of it dropped)"


def hot_then_cold(store: Store) -> str:
    """Tarn synced Passed (v1); offline Hot, then Cold; bob made it Active (v2): Hot's
    conflict (its change id) with Cold held behind it."""
    t = store.create_target("Tarn", status="Passed")
    now = datetime.now(UTC)
    push(store, "applied", state(t.uid, 1, now, name="Tarn", status="Passed", by="me"))
    store.set_status(t.uid, "Hot")
    store.set_status(t.uid, "Cold")
    [hot, cold] = store.take_batch()
    theirs = state(t.uid, 2, now, name="Tarn", status="Active", by="bob")
    store.apply_push_results([result(hot, "conflict", theirs), result(cold, "blocked")])
    return str(hot.change_id)


def test_a_conflict_shows_the_later_changes_that_follow_it(cli: Cli, store: Store) -> None:
    """Offline: Hot, then Cold; bob made it Active. The conflict is on Hot, but Cold waits
    behind it and follows whatever is chosen: the table and --json say so before the
    choice, and resolve says where the target ends (a tester took theirs, was told
    only "resolved", and the team ended at Cold)."""
    hot = hot_then_cold(store)
    (row,) = cli("conflicts").stdout.splitlines()[1:]
    assert "Hot, then Cold" in row, row
    (found,) = cli("conflicts", "--json").json()
    assert found["mine"]["then"] == ["Cold"]
    said = cli("resolve", hot[:8], "--theirs").stdout.strip()
    assert said == "Tarn: resolved, now Cold (your later change to Cold follows it)"


def test_resolve_drop_later_ends_at_the_choice(cli: Cli, store: Store) -> None:
    """Take theirs followed by the user's later changes ended elsewhere than theirs;
    --drop-later drops them with it (two testers expected that of take theirs)."""
    hot = hot_then_cold(store)
    assert "--drop-later goes with" in cli("resolve", hot, "--mine", "--drop-later", code=2).error
    said = cli("resolve", hot[:8], "--theirs", "--drop-later").stdout.strip()
    assert said == "Tarn: resolved, now Active (your later changes dropped)"
    [target] = cli("list", "--json").json()
    assert (target["status"], target["sync"]) == ("Active", "synced")


def test_an_edit_conflict_says_what_waits_behind_it(cli: Cli, store: Store) -> None:
    """Later edits (of any details) and status changes wait behind an edit conflict and
    follow any choice: a tester took theirs, was told only that the server's markets
    were kept, and the target ended with the later edit and status."""
    made = edit_conflict(store)
    store.edit_target(made["uid"], markets=["US", "Energy", "APAC"], name="Globex Two")
    store.set_status(made["uid"], "Hot")
    (found,) = cli("conflicts", "--json").json()
    assert (found["mine"]["later_fields"], found["mine"]["then"]) == (["markets", "name"], ["Hot"])
    (row,) = cli("conflicts").stdout.splitlines()[1:]
    assert "(edited again since: markets, name)" in row, row
    said = cli("resolve", made["change_id"][:8], "--theirs").stdout
    assert said == (
        "Globex Two: resolved, the server's markets kept (your edit dropped; your later edit of"
        " markets, name goes out after it; your later change to Hot follows it)\n"
    )


def test_an_edit_conflict_reads_as_details_in_the_table(cli: Cli, store: Store) -> None:
    made = make_conflict(store, "Globex", edit=True)
    (row,) = cli("conflicts").stdout.splitlines()[1:]
    assert row.startswith(made["change_id"][:8] + "  Globex")
    cells = [cell.strip() for cell in row.split("  ") if cell.strip()]
    assert "v1" in cells and "description: from the trade show" in cells, row
    # the server's value is the one the edit was made on: bob changed another detail
    assert "description not changed (server v2)" in cells, row
    assert "Cold" not in row and "Active" not in row  # the statuses are not what met
    (found,) = cli("conflicts", "--json").json()
    assert found["mine"]["fields"] == {"description": "from the trade show"}
    assert found["theirs"]["fields"] == {"description": ""}  # bob's, as the server has it


def edit_conflict(store: Store) -> dict[str, str]:
    """Globex in markets EU, US (v1); I set its markets to US, Energy while bob changed
    only its description on the server (v3)."""
    target = store.create_target("Globex", markets=["EU", "US"])
    now = datetime.now(UTC)
    push(store, "applied", state(target.uid, 1, now, name="Globex", markets=("EU", "US")))
    store.edit_target(target.uid, markets=["US", "Energy"])
    theirs = state(
        target.uid, 3, now, name="Globex", markets=("EU", "US"), description="bigger now"
    )
    return {"uid": target.uid, "change_id": push(store, "conflict", theirs)}


def test_an_edit_conflict_shows_both_values_and_claims_no_teammate_edit(
    cli: Cli, store: Store
) -> None:
    """bob changed the description only: the row must not say he edited the markets, and
    says what he did change (it showed "markets: EU, US", the values I had started from,
    and nothing of why it conflicted)."""
    made = edit_conflict(store)
    (row,) = cli("conflicts").stdout.splitlines()[1:]
    cells = [cell.strip() for cell in row.split("  ") if cell.strip()]
    assert "markets: US, Energy" in cells, row
    assert "description: bigger now; markets not changed (server v3)" in cells, row
    assert "edit markets" not in row
    said = cli("resolve", made["change_id"][:8], "--mine").stdout
    assert said == "Globex: resolved, your edit of markets goes out\n"
    assert cli("list", "--json").json()[0]["markets"] == ["US", "Energy"]


def test_taking_theirs_on_an_edit_says_the_servers_values_stay(cli: Cli, store: Store) -> None:
    made = edit_conflict(store)
    said = cli("resolve", made["change_id"][:8], "--theirs").stdout
    assert said == "Globex: resolved, the server's markets kept (your edit dropped)\n"
    assert cli("list", "--json").json()[0]["markets"] == ["EU", "US"]


def test_no_conflicts(cli: Cli) -> None:
    assert cli("conflicts", "--json").json() == []
    run = cli("conflicts")
    assert run.stdout == "" and "no conflicts" in run.stderr


# ---- resolve -----------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("args", "status"),
    [(("--theirs",), "Active"), (("--mine",), "Hot"), (("--status", "closed"), "Closed")],
    ids=["theirs", "mine", "another"],
)
def test_resolve_each_way(cli: Cli, conflict: dict, args: tuple[str, ...], status: str) -> None:
    target = cli("resolve", conflict["change_id"], *args, "--json").json()
    assert set(target) == TARGET_JSON_KEYS
    assert target["status"] == status
    assert cli("conflicts", "--json").json() == []
    assert cli("list", "--json").json()[0]["status"] == status


def test_another_status_takes_its_own_note(cli: Cli, conflict: dict) -> None:
    cli("resolve", conflict["change_id"], "--status", "Active", "--note", "met halfway")
    [entry] = [h for h in cli("history", "Acme", "--json").json() if h["new_status"] == "Active"]
    assert entry["note"] == "met halfway"


def test_a_note_goes_only_with_another_status(cli: Cli, conflict: dict) -> None:
    err = cli("resolve", conflict["change_id"], "--mine", "--note", "x", code=2).error
    assert "--note goes with --status" in err
    assert len(cli("conflicts", "--json").json()) == 1


def test_resolve_by_a_change_id_prefix_says_what_it_did(cli: Cli, conflict: dict) -> None:
    assert cli("resolve", conflict["change_id"][:8], "--theirs").stdout.strip() == (
        "Acme: resolved, now Active"
    )


@pytest.mark.parametrize(
    "args",
    [
        (),
        ("--mine", "--theirs"),
        ("--theirs", "--status", "Hot"),
        ("--status", "Warm"),
        ("--status", ""),  # a script's unset variable: not "no status"
    ],
    ids=["none", "mine-and-theirs", "theirs-and-status", "unknown-status", "empty-status"],
)
def test_resolve_needs_exactly_one_valid_choice(cli: Cli, conflict: dict, args) -> None:
    cli("resolve", conflict["change_id"], *args, code=2)
    assert len(cli("conflicts", "--json").json()) == 1


def test_resolve_of_an_empty_change_id_says_it_is_empty(cli: Cli, conflict: dict) -> None:
    assert cli("resolve", " ", "--theirs", code=2).error == (
        "pipetrack: error: the change id is empty: give one from pipetrack conflicts, or --all"
    )
    assert len(cli("conflicts", "--json").json()) == 1


def test_resolve_unknown_change_exits_2(cli: Cli, conflict: dict) -> None:
    assert "0000" in cli("resolve", "00000000-0000-4000-8000-000000000000", "--mine", code=2).error
    assert len(cli("conflicts", "--json").json()) == 1


def test_resolve_all_takes_one_choice_for_every_conflict(cli: Cli, store: Store) -> None:
    """Back from a long time offline with many conflicts: one command for all of them."""
    for name in ("Acme", "Globex", "Initech"):
        make_conflict(store, name)
    assert cli("resolve", "--all", "--theirs").stdout == "3 conflicts resolved: took theirs\n"
    assert cli("conflicts", "--json").json() == []
    assert {t["status"] for t in cli("list", "--json").json()} == {"Active"}
    assert cli("resolve", "--all", "--mine").stdout == "no conflicts to resolve\n"


def test_list_sync_shows_what_is_not_on_the_server_yet(cli: Cli, store: Store) -> None:
    make_conflict(store, "Acme")
    cli("add", "Globex")  # pending: never synced
    listed = {t["name"]: t["sync"] for t in cli("list", "--json").json()}
    assert listed == {"Acme": "conflict", "Globex": "pending"}
    assert [t["name"] for t in cli("list", "--sync", "PENDING", "--json").json()] == ["Globex"]
    both = cli("list", "--sync", "pending", "--sync", "conflict", "--json").json()
    assert [t["name"] for t in both] == ["Acme", "Globex"]
    assert cli("list", "--sync", "synced", "--json").json() == []
    assert "unknown sync 'sent'" in cli("list", "--sync", "sent", code=2).error


def test_resolve_all_is_all_or_none(cli: Cli, store: Store) -> None:
    make_conflict(store, "Acme")
    globex = make_conflict(store, "Globex", edit=True)  # a status cannot settle an edit
    err = cli("resolve", "--all", "--status", "Closed", code=2).error
    assert f"Globex ({globex['change_id'][:8]}): a conflicting edit is settled with" in err
    assert "nothing was resolved" in err
    assert len(cli("conflicts", "--json").json()) == 2
    targets = cli("resolve", "--all", "--mine", "--json").json()
    assert [t["name"] for t in targets] == ["Acme", "Globex"]
    assert cli("conflicts", "--json").json() == []


@pytest.mark.parametrize(
    ("args", "said"),
    [
        (("--all",), "give a CHANGE_ID or --all, not both"),
        ((), "give a CHANGE_ID (see pipetrack conflicts) or --all"),  # it said "not both"
    ],
    ids=["id-and-all", "neither"],
)
def test_resolve_takes_a_change_id_or_all(cli: Cli, conflict: dict, args, said) -> None:
    ids = (conflict["change_id"],) if args else ()
    assert cli("resolve", *ids, *args, "--mine", code=2).error == f"pipetrack: error: {said}"
    assert len(cli("conflicts", "--json").json()) == 1


@pytest.mark.parametrize("command", ["drop", "correct"])
def test_an_empty_change_id_is_said_to_be_empty(cli: Cli, rejected: dict, command) -> None:
    assert cli(command, " ", code=2).error == (
        "pipetrack: error: the change id is empty: give one, or a prefix of it"
    )
    assert len(cli("rejected", "--json").json()) == 1


def test_resolve_all_says_where_targets_with_later_changes_end(cli: Cli, store: Store) -> None:
    """--all said only "took theirs" while later changes took two targets elsewhere."""
    hot_then_cold(store)
    make_conflict(store, "Acme")
    assert "(changes listed 'then …' follow any choice)" in cli("conflicts").stderr
    said = cli("resolve", "--all", "--theirs").stdout
    assert said == "2 conflicts resolved: took theirs\nyour later changes follow: Tarn now Cold\n"


# ---- rejected / drop ---------------------------------------------------------------------
def test_rejected_lists_the_change_and_the_reason(cli: Cli, rejected: dict) -> None:
    (found,) = cli("rejected", "--json").json()
    assert set(found) == REJECTED_KEYS
    assert (found["change_id"], found["target"], found["status"]) == (
        rejected["change_id"],
        rejected["uid"],
        "Hot",
    )
    assert found["reason"] == "Hot is closed for this market"
    run = cli("rejected")
    row = run.stdout.splitlines()[1]
    assert row.startswith(rejected["change_id"][:8] + "  Acme")
    assert "Hot is closed for this market" in row and "pipetrack drop" in run.stderr
    assert cli("status", "--json").json()["rejected"] == 1


def test_a_rejected_new_target_is_called_so(cli: Cli, store: Store) -> None:
    store.create_target("Saltmarsh", status="Active")
    push(store, "rejected", None, error="a different target with this id already exists")
    row = cli("rejected").stdout.splitlines()[1]
    assert "new target, Active" in row and "create" not in row, row


def test_drop_a_rejected_change(cli: Cli, rejected: dict) -> None:
    target = cli("drop", rejected["change_id"][:8], "--json").json()
    assert set(target) == TARGET_JSON_KEYS
    assert target["status"] == "Cold"  # back to what the server has
    assert cli("rejected", "--json").json() == []
    assert "no rejected changes" in cli("rejected").stderr
    assert cli("status", "--json").json()["rejected"] == 0


def test_drop_unknown_change_exits_2(cli: Cli, rejected: dict) -> None:
    assert cli("drop", "ffffffff", code=2).error == (
        "pipetrack: error: no rejected change matches 'ffffffff'; see pipetrack rejected"
    )
    assert "see pipetrack conflicts" in cli("resolve", "ffffffff", "--mine", code=2).error
    assert len(cli("rejected", "--json").json()) == 1


# ---- correct -----------------------------------------------------------------------------
def test_correct_a_rejected_status_change_with_another_status(cli: Cli, rejected: dict) -> None:
    assert "pipetrack correct CHANGE_ID --status S" in cli("rejected").stderr  # the hint
    fixed = cli("correct", rejected["change_id"][:8], "--status", "active", "-n", "not Hot")
    assert fixed.stdout == "Acme: corrected, now Active\n"
    assert cli("rejected", "--json").json() == []
    [target] = cli("list", "--json").json()
    assert (target["status"], target["sync"]) == ("Active", "pending")
    last = cli("history", rejected["uid"], "--json").json()[-1]
    assert (last["old_status"], last["new_status"], last["note"]) == ("Cold", "Active", "not Hot")


def test_correct_a_rejected_new_target_makes_it_again(cli: Cli, store: Store) -> None:
    first = store.create_target("Saltmarsh", description="oysters", status="Active")
    push(store, "rejected", None, error="a different target with this id already exists")
    again = cli("correct", cli("rejected", "--json").json()[0]["change_id"], "--json").json()
    assert again["uid"] != first.uid
    assert (again["name"], again["description"], again["status"]) == (
        "Saltmarsh",
        "oysters",
        "Active",
    )
    assert [t["uid"] for t in cli("list", "--json").json()] == [again["uid"]]
    assert cli("rejected", "--json").json() == []


def test_a_new_target_whose_name_the_servers_has_is_made_again_under_another(
    cli: Cli, store: Store
) -> None:
    """Two devices imported one row (its uid, its name) offline: the server has the
    other's Twin Lead under the uid, so making mine again under its name is refused; the
    error says how (it named no way out), and --name makes it."""
    first = store.create_target("Twin Lead", description="mine", status="Hot")
    theirs = state(first.uid, 1, datetime.now(UTC), name="Twin Lead", description="alice's")
    push(store, "rejected", theirs, error="a different target with this id already exists")
    store.apply_pull([theirs], [], "c1")
    change = cli("rejected", "--json").json()[0]["change_id"][:8]
    refused = cli("correct", change, code=2).error
    assert refused.endswith(f"(give it another: pipetrack correct {change} --name NEW)"), refused
    assert "already named 'Twin Lead'" in refused
    again = cli("correct", change, "--name", "Twin Lead (mine)", "--json").json()
    assert (again["name"], again["description"], again["status"]) == (
        "Twin Lead (mine)",
        "mine",
        "Hot",
    )
    names = sorted(t["name"] for t in cli("list", "--json").json())
    assert names == ["Twin Lead", "Twin Lead (mine)"]
    assert cli("rejected", "--json").json() == []
    assert (
        "--name goes with a new target"
        in cli("correct", change, "-s", "Hot", "--name", "X", code=2).error
    )


def test_correct_refuses_what_does_not_fit_and_changes_nothing(cli: Cli, rejected: dict) -> None:
    change = rejected["change_id"][:8]
    no_status = cli("correct", change, code=2).error
    assert "a status change takes --status S" in no_status
    assert "--status" in cli("correct", change, "--note", "why", code=2).error
    assert "Lukewarm" in cli("correct", change, "--status", "Lukewarm", code=2).error
    assert "unknown status ''" in cli("correct", change, "--status", "", code=2).error
    assert "ffff" in cli("correct", "ffffffff", "--status", "Hot", code=2).error
    [still] = cli("rejected", "--json").json()
    assert still["change_id"] == rejected["change_id"]
    assert cli("list", "--json").json()[0]["status"] == "Hot"


def test_changes_behind_a_conflict_are_not_counted_as_waiting_to_go(
    cli: Cli, store: Store, conflict: dict[str, str], logged_in: None
) -> None:
    """Hot met a conflict, then Closed was set: "Pending: 1" stayed, its age growing, the
    TUI's bar said 1 pending, while list --sync pending listed nothing: Closed waits for
    the conflict to be settled, not for the network."""
    from tui.display import describe_sync

    cli("set", "Acme", "Closed")
    state_ = cli("status", "--json").json()
    assert (state_["pending"], state_["held"], state_["conflicts"]) == (1, 1, 1)
    assert status_lines(cli)["Pending"].strip() == (
        "0; 1 more waiting behind a conflict or a refusal"
    )
    assert "0 pending · 1 conflict" in describe_sync(store.sync_state(), last_sync=False)
    cli("add", "Beta")  # one that can go: counted, with its age
    assert status_lines(cli)["Pending"].strip().startswith("1 (oldest queued")
