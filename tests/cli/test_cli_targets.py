"""add, set, edit, snooze: the commands that change targets."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest

from protocol import InvalidInput, parse_since, parse_until
from storage import Store
from tests.storage.storehelp import pull_target

from .conftest import TARGET_JSON_KEYS, Cli, counts, new_uid


def targets(cli: Cli) -> list[dict]:
    return cli("list", "--json").json()


def history(cli: Cli, ref: str) -> list[dict]:
    return cli("history", ref, "--json").json()


# ---- add ---------------------------------------------------------------------------------
def test_add_prints_the_uid_and_stores_every_field(cli: Cli) -> None:
    uid = cli("add", "Acme", "-d", "Rockets", "-m", "space", "-m", "EU", "--status", " hot").stdout
    uid = uid.strip()
    (target,) = targets(cli)
    assert target["uid"] == uid
    assert (target["name"], target["description"]) == ("Acme", "Rockets")
    assert (target["markets"], target["status"]) == (["space", "EU"], "Hot")
    assert target["sync"] == "pending" and target["version"] is None


def test_add_json_prints_the_target_shape(cli: Cli) -> None:
    target = cli("add", "Acme", "--json").json()
    assert set(target) == TARGET_JSON_KEYS
    assert target["status"] is None
    assert target["stagnation"] == "fresh"


def test_add_with_a_note_keeps_it_in_the_history(cli: Cli) -> None:
    uid = cli("add", "Acme", "--status", "Cold", "--note", "met at expo").stdout.strip()
    (entry,) = history(cli, uid)
    assert (entry["new_status"], entry["note"]) == ("Cold", "met at expo")


def test_add_unknown_status_names_it_and_lists_the_valid_ones(cli: Cli) -> None:
    err = cli("add", "Acme", "--status", "Warm", code=2).error
    assert "'Warm'" in err
    for status in ("Passed", "Cold", "Active", "Hot", "Closed"):
        assert status in err
    assert targets(cli) == []


def test_add_over_long_name_is_refused_and_nothing_written(cli: Cli) -> None:
    err = cli("add", "x" * 256, code=2).error
    assert "256" in err and "255" in err
    assert targets(cli) == []


def test_add_empty_name_is_refused(cli: Cli) -> None:
    assert "empty" in cli("add", "   ", code=2).error
    assert targets(cli) == []


def test_add_without_a_name_is_a_one_line_usage_error(cli: Cli) -> None:
    err = cli("add", code=2).error
    assert "'NAME'" in err and "pipetrack add --help" in err  # the help's name for it


# ---- set ---------------------------------------------------------------------------------
def test_set_changes_the_status_and_says_from_what(cli: Cli) -> None:
    uid = cli("add", "Acme", "--status", "Cold").stdout.strip()
    out = cli("set", "acme", "HOT", "--note", "budget approved").stdout
    assert out.strip() == "Acme: Cold -> Hot"
    entries = history(cli, uid)
    assert [(e["old_status"], e["new_status"]) for e in entries] == [
        (None, "Cold"),
        ("Cold", "Hot"),
    ]
    assert entries[-1]["note"] == "budget approved"


def test_set_same_status_writes_nothing_and_says_so(cli: Cli) -> None:
    uid = cli("add", "Acme", "--status", "Hot").stdout.strip()
    out = cli("set", uid, "hot").stdout
    assert "already Hot, nothing changed" in out
    assert len(history(cli, uid)) == 1


def test_set_none_clears_the_status(cli: Cli) -> None:
    uid = cli("add", "Acme", "--status", "Hot").stdout.strip()
    target = cli("set", uid, "none", "--json").json()
    assert set(target) == TARGET_JSON_KEYS
    assert target["status"] is None


def test_set_unknown_status_writes_nothing(cli: Cli) -> None:
    uid = cli("add", "Acme", "--status", "Cold").stdout.strip()
    err = cli("set", uid, "Warm", code=2).error
    assert "'Warm'" in err and "Passed, Cold, Active, Hot, Closed" in err
    assert len(history(cli, uid)) == 1
    assert targets(cli)[0]["status"] == "Cold"


def test_set_by_unique_uid_prefix(cli: Cli) -> None:
    uid = cli("add", "Acme").stdout.strip()
    cli("set", uid[:6], "Active")
    assert targets(cli)[0]["status"] == "Active"


def test_set_unknown_target_exits_2_naming_it(cli: Cli) -> None:
    cli("add", "Acme")
    err = cli("set", "Globex", "Hot", code=2).error
    assert "Globex" in err


def test_set_ambiguous_prefix_exits_2_listing_the_candidates(cli: Cli, tmp_path) -> None:
    a, b = new_uid("abcd"), new_uid("abcd")
    csv = tmp_path / "two.csv"
    csv.write_text(f"uid,name\n{a},Acme\n{b},Globex\n", encoding="utf-8")
    cli("import", str(csv))
    err = cli("set", "abcd", "Hot", code=2).error
    assert "Acme" in err and "Globex" in err
    assert all(t["status"] is None for t in targets(cli))


def test_set_ambiguous_name_exits_2(cli: Cli, store: Store) -> None:
    cli("add", "Acme")
    pull_target(store, "ACME")  # a teammate's of the same name
    err = cli("set", "acme", "Hot", code=2).error
    assert "2 targets" in err


def test_add_or_rename_to_a_name_taken_in_any_case_exits_2(cli: Cli) -> None:
    uid = cli("add", "Acme").stdout.strip()
    for args in (("add", "ACME"), ("add", " acme ")):
        assert f"target {uid[:8]} is already named 'Acme'" in cli(*args, code=2).error
    cli("add", "Globex")
    assert "already named 'Acme'" in cli("edit", "Globex", "--name", "ACME", code=2).error
    assert [t["name"] for t in targets(cli)] == ["Acme", "Globex"]
    cli("edit", "Acme", "--name", "ACME")  # its own name in another case is fine
    assert [t["name"] for t in targets(cli)] == ["ACME", "Globex"]


def test_names_and_markets_are_single_spaced(cli: Cli) -> None:
    """ "Acme  Robotics" beside "ACME Robotics" is a name no one can tell apart in a list:
    runs of spaces are one space, so it is the same name, taken, and found either way."""
    uid = cli("add", "ACME Robotics", "--market", "New  York").stdout.strip()
    err = cli("add", "Acme  Robotics", code=2).error
    assert f"target {uid[:8]} is already named 'ACME Robotics'" in err
    cli("set", "acme\u3000\u3000robotics", "Hot")  # any width of space
    [target] = targets(cli)
    assert (target["name"], target["markets"], target["status"]) == (
        "ACME Robotics",
        ["New York"],
        "Hot",
    )
    found = cli("list", "--search", "acme  robotics", "--market", "new  york", "--json")
    assert [t["uid"] for t in found.json()] == [uid]


def test_set_over_long_note_is_refused(cli: Cli) -> None:
    uid = cli("add", "Acme").stdout.strip()
    assert "1000" in cli("set", uid, "Hot", "--note", "n" * 1001, code=2).error.replace(",", "")
    assert history(cli, uid) == []


# ---- undo --------------------------------------------------------------------------------
def test_undo_walks_back_this_devices_status_changes(cli: Cli) -> None:
    uid = cli("add", "Acme", "--status", "Cold").stdout.strip()
    cli("set", uid, "Hot")
    cli("set", uid, "Closed")
    assert cli("undo").stdout == "undone: Acme is Hot again\n"
    assert cli("undo").stdout == "undone: Acme is Cold again\n"
    assert cli("undo").stdout == "undone: Acme has no status again\n"
    nothing = cli("undo")
    assert nothing.stdout == "" and "nothing to undo" in nothing.stderr
    assert [(h["old_status"], h["new_status"]) for h in history(cli, uid)][3:] == [
        ("Closed", "Hot"),
        ("Hot", "Cold"),
        ("Cold", None),
    ]


def test_an_undo_reads_undo_in_tables_and_keeps_the_undone_id_in_json(cli: Cli) -> None:
    uid = cli("add", "Acme", "--status", "Cold").stdout.strip()
    cli("set", uid, "Hot", "--note", "call went well")
    cli("undo")
    last = history(cli, uid)[-1]
    assert last["note"] == f"undo of {history(cli, uid)[-2]['change_id']}"
    notes = [line.split()[-1] for line in cli("history", uid).stdout.splitlines()[-2:]]
    assert notes == ["well", "undo"]  # the NOTE column; no 36-character id in a table
    newest = cli("activity").stdout.splitlines()[1]
    assert newest.endswith(" undo"), newest


def test_undo_takes_back_a_bulk_change_whole(cli: Cli, store: Store) -> None:
    uids = [cli("add", f"T{i}", "--status", "Cold").stdout.strip() for i in range(3)]
    store.set_status_many(uids, "Hot")  # as the terminal UI's bulk change does
    undone = cli("undo").stdout
    assert undone.startswith("undone: the bulk change to Hot of 3 targets")
    assert {t["status"] for t in targets(cli)} == {"Cold"}


def test_undo_takes_back_an_imports_status_changes_whole(cli: Cli, tmp_path: Path) -> None:
    """A spreadsheet imported by mistake: one undo puts every status it set back, each
    to its own (a new target's to none: it stays, as the protocol deletes nothing);
    what came before the import stays."""
    for name, status in (("Acme", "Cold"), ("Globex", "Active"), ("Initech", "Hot")):
        cli("add", name, "--status", status)
    cli("set", "Acme", "Active")  # before the import: stays
    sheet = tmp_path / "wrong.csv"
    sheet.write_text("name,status\nAcme,Closed\nGlobex,Passed\nInitech,Hot\nNew One,Cold\n")
    assert counts(cli("import", str(sheet), "--json").json()) == (1, 2)
    undone = cli("undo").stdout
    assert undone.startswith("undone: an import's status changes of 3 targets; each has")
    statuses = {t["name"]: t["status"] for t in targets(cli)}
    assert statuses == {"Acme": "Active", "Globex": "Active", "Initech": "Hot", "New One": None}
    assert cli("undo").stdout == "undone: Acme is Cold again\n"  # then further back


# ---- edit --------------------------------------------------------------------------------
def test_edit_changes_only_what_is_given(cli: Cli) -> None:
    uid = cli("add", "Acme", "-d", "Rockets", "-m", "space").stdout.strip()
    cli("edit", uid, "--name", "Acme Corp")
    (target,) = targets(cli)
    assert (target["name"], target["description"], target["markets"]) == (
        "Acme Corp",
        "Rockets",
        ["space"],
    )


def test_edit_replaces_and_clears_markets(cli: Cli) -> None:
    uid = cli("add", "Acme", "-m", "space").stdout.strip()
    target = cli("edit", uid, "-m", "EU", "-m", "US", "-d", "", "--json").json()
    assert target["markets"] == ["EU", "US"] and target["description"] == ""
    assert cli("edit", uid, "--clear-markets", "--json").json()["markets"] == []


@pytest.mark.parametrize(
    "args",
    [(), ("-m", "EU", "--clear-markets")],
    ids=["nothing-to-change", "market-and-clear"],
)
def test_edit_contradictory_or_empty_is_refused(cli: Cli, args: tuple[str, ...]) -> None:
    uid = cli("add", "Acme", "-m", "space").stdout.strip()
    cli("edit", uid, *args, code=2)
    assert targets(cli)[0]["markets"] == ["space"]


def test_edit_over_long_name_writes_nothing(cli: Cli) -> None:
    uid = cli("add", "Acme").stdout.strip()
    assert "255" in cli("edit", uid, "--name", "y" * 300, code=2).error
    assert targets(cli)[0]["name"] == "Acme"


# ---- snooze ------------------------------------------------------------------------------
def test_parse_until_accepts_dates_and_offsets() -> None:
    today = date(2026, 6, 1)
    assert parse_until("2026-07-01", today) == date(2026, 7, 1)
    assert parse_until("+7d", today) == today + timedelta(days=7)
    assert parse_until(" +2W ", today) == today + timedelta(days=14)
    with pytest.raises(InvalidInput, match="'next week'"):
        parse_until("next week", today)
    for past in ("2026-06-01", "2020-01-01", "+0d"):  # a snooze of nothing
        with pytest.raises(InvalidInput, match="is not after today"):
            parse_until(past, today)


def test_parse_since_accepts_spans_back_and_days() -> None:
    now = datetime(2026, 6, 10, 15, 30, tzinfo=UTC)
    assert parse_since("7d", now) == now - timedelta(days=7)
    assert parse_since(" -2W ", now) == now - timedelta(days=14)
    start = parse_since("2026-06-01", now)
    local = start.astimezone()
    assert (local.date(), local.hour, local.minute) == (date(2026, 6, 1), 0, 0)
    assert start.tzinfo == UTC
    for bad in ("+7d", "last week", "7 days", "2026-13-01"):
        with pytest.raises(InvalidInput, match="bad span"):
            parse_since(bad, now)


def test_snooze_hides_a_stale_target_until_the_date_and_clear_ends_it(cli: Cli, old_store) -> None:
    uid = old_store.create_target("Acme", status="Hot").uid
    assert [t["uid"] for t in cli("stale", "--json").json()] == [uid]
    target = cli("snooze", "Acme", "+7d", "--json").json()
    assert target["stagnation"] == "snoozed"
    assert target["snoozed_until"] == (date.today() + timedelta(days=7)).isoformat()
    assert cli("stale", "--json").json() == []
    assert "snooze cleared" in cli("snooze", uid, "--clear").stdout
    assert [t["uid"] for t in cli("stale", "--json").json()] == [uid]


def test_a_snooze_taken_ahead_of_a_fresh_target_shows_in_the_list(cli: Cli) -> None:
    cli("add", "Acme", "--status", "Hot")
    cli("snooze", "Acme", "+7d")
    until = (date.today() + timedelta(days=7)).isoformat()
    (row,) = cli("list").stdout.splitlines()[1:]
    assert f"fresh, snoozed to {until}" in row, row  # it read "fresh": as if not taken


@pytest.mark.parametrize(
    ("args", "says"),
    [
        (("31/12/2026",), "31/12/2026"),
        ((), "give a date (YYYY-MM-DD, +7d or +2w) or --clear"),
        (("+7d", "--clear"), "or --clear, not both"),
        (("2020-01-01",), "2020-01-01 is not after today"),
    ],
    ids=["bad-date", "none", "both", "past"],
)
def test_snooze_bad_input_exits_2(cli: Cli, args: tuple[str, ...], says: str) -> None:
    cli("add", "Acme")
    error = cli("snooze", "Acme", *args, code=2).error
    assert says in error and (args or "both" not in error), error
    assert targets(cli)[0]["stagnation"] == "fresh"


@pytest.mark.parametrize("tz", ["UTC", "America/Los_Angeles", "Asia/Tokyo"])
def test_activity_since_the_first_or_last_day_a_date_holds_is_no_traceback(
    script: Cli, monkeypatch: pytest.MonkeyPatch, tz: str
) -> None:
    """0001-01-01's local midnight is before year 1 in UTC west of Greenwich (and
    9999-12-31's after 9999 east of it): everything, or nothing, is shown."""
    monkeypatch.setenv("TZ", tz)
    script("add", "Acme", "-s", "Hot")
    (entry,) = script("activity", "--since", "0001-01-01", "--json").json()
    assert (entry["name"], entry["new_status"]) == ("Acme", "Hot")
    assert script("activity", "--since", "9999-12-31", "--json").json() == []


# ---- an empty status is not "none" ---------------------------------------------------------
@pytest.mark.parametrize("empty", ["", "  "])
def test_an_empty_status_is_refused_not_taken_for_none(cli: Cli, empty: str) -> None:
    """A script's unset variable (``pipetrack set "$T" "$S"``) must not clear statuses:
    ``none`` is the one way to say no status."""
    cli("add", "Acme", "-s", "Hot")
    err = cli("set", "Acme", empty, code=2).error
    assert f"unknown status {empty!r}" in err and "(or none)" in err
    assert "unknown status" in cli("add", "Beta", "-s", empty, code=2).error
    assert "unknown status" in cli("list", "--status", empty, code=2).error
    assert [(t["name"], t["status"]) for t in targets(cli)] == [("Acme", "Hot")]
    assert cli("set", "Acme", "none").stdout.strip() == "Acme: Hot -> none"
    assert targets(cli)[0]["status"] is None


# ---- spans of any length ---------------------------------------------------------------------
def test_snooze_takes_any_span_that_gives_a_date_and_names_the_last_day(cli: Cli) -> None:
    cli("add", "Acme", "-s", "Hot")
    far = date.today() + timedelta(days=36500)
    assert cli("snooze", "Acme", "+36500d").stdout.strip() == f"Acme: snoozed until {far}"
    assert cli("snooze", "Acme", "+5200w", "--json").json()["snoozed_until"] == (
        (date.today() + timedelta(weeks=5200)).isoformat()
    )
    err = cli("snooze", "Acme", "+99999999d", code=2).error
    assert err == ("pipetrack: error: '+99999999d' is after 9999-12-31, the last day a date can be")
    assert (
        "'+9999999999999999999999w' is after 9999-12-31"
        in cli("snooze", "Acme", "+9999999999999999999999w", code=2).error
    )
    assert targets(cli)[0]["snoozed_until"] == (date.today() + timedelta(weeks=5200)).isoformat()


def test_activity_since_more_days_than_dates_go_back_shows_everything(cli: Cli) -> None:
    cli("add", "Acme", "-s", "Hot")
    for span in ("36500d", "99999999d", "9999999999999999999999w"):
        assert [e["name"] for e in cli("activity", "--since", span, "--json").json()] == ["Acme"]
