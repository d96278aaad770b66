"""list, stale, history: reading targets, as tables and as JSON."""

from __future__ import annotations

import os
import re
import time
import tracemalloc
from collections.abc import Iterator
from pathlib import Path

import pytest

from .conftest import HISTORY_KEYS, TARGET_JSON_KEYS, TARGET_KEYS, Cli

RFC3339_UTC = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$")


@pytest.fixture
def pipeline(cli: Cli) -> dict[str, str]:
    """Four targets: Acme Hot (space), Globex Cold (EU, space), Initech none, Umbrella Closed."""
    return {
        "acme": cli("add", "Acme", "-s", "Hot", "-m", "space").stdout.strip(),
        "globex": cli("add", "Globex", "-s", "Cold", "-m", "EU", "-m", "space").stdout.strip(),
        "initech": cli("add", "Initech").stdout.strip(),
        "umbrella": cli("add", "Umbrella", "-s", "Closed", "-m", "EU").stdout.strip(),
    }


def names(cli: Cli, *args: str) -> list[str]:
    return [t["name"] for t in cli("list", "--json", *args).json()]


# ---- list --------------------------------------------------------------------------------
def test_list_json_is_an_array_of_targets_with_the_design_keys(cli: Cli, pipeline) -> None:
    listed = cli("list", "--json").json()
    assert [t["name"] for t in listed] == ["Acme", "Globex", "Initech", "Umbrella"]
    for target in listed:
        assert set(target) >= TARGET_KEYS
        assert set(target) == TARGET_JSON_KEYS
        assert RFC3339_UTC.match(target["status_since"])


def test_list_filters(cli: Cli, pipeline) -> None:
    assert names(cli, "--status", "hot", "--status", "COLD") == ["Acme", "Globex"]
    assert names(cli, "--status", "none") == ["Initech"]
    assert names(cli, "--market", "eu") == ["Globex", "Umbrella"]
    assert names(cli, "--search", "GLO") == ["Globex"]
    assert names(cli, "--market", "space", "--status", "Cold") == ["Globex"]


def test_list_sort_desc_and_limit(cli: Cli, pipeline) -> None:
    assert names(cli, "--sort", "name", "--desc", "--limit", "2") == ["Umbrella", "Initech"]
    by_status = names(cli, "--sort", "status")
    assert by_status.index("Globex") < by_status.index("Acme")  # Cold before Hot


def test_list_unknown_status_or_sort_exits_2(cli: Cli, pipeline) -> None:
    assert "'warm'" in cli("list", "--status", "warm", code=2).error
    assert "'size'" in cli("list", "--sort", "size", code=2).error


def test_list_table_is_aligned_one_line_per_target_when_piped(cli: Cli, pipeline) -> None:
    long_name = "Very Long Name " * 12
    cli("add", long_name.strip())
    lines = cli("list").stdout.splitlines()
    assert lines[0].split() == ["UID", "NAME", "STATUS", "DAYS", "STAGNATION", "SYNC", "MARKETS"]
    assert len(lines) == 1 + 5  # never wrapped, however long a name
    assert any(long_name.strip() in line for line in lines)
    status_col = lines[0].index("STATUS")
    statuses = {line[status_col:].split()[0] for line in lines[1:]}
    assert statuses == {"Hot", "Cold", "none", "Closed"}
    acme = next(line for line in lines if "Acme" in line)
    assert acme.startswith(pipeline["acme"][:8]) and "space" in acme


def test_list_table_holds_only_the_rows_text(cli: Cli, store) -> None:
    """A table's widths need every row before the first line, but not every target:
    the targets are read a row at a time and only their cells' text is kept (100,000
    targets held as views took 163 MB; their text ~15 MB)."""
    count = 4_000
    store.import_targets(
        [{"name": f"Target {n:05}", "markets": "EU;US", "status": "Hot"} for n in range(count)]
    )
    tracemalloc.start()
    try:
        lines = cli("list").stdout.splitlines()
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert len(lines) == 1 + count and lines[-1].split()[1:3] == ["Target", f"{count - 1:05}"]
    output = sum(len(line) + 1 for line in lines)  # the runner keeps what is printed
    assert (peak - 2 * output) / count < 600, f"{(peak - 2 * output) / count:.0f} bytes a target"


def test_list_empty_says_so_on_stderr_only(cli: Cli) -> None:
    run = cli("list")
    assert run.stdout == "" and "no targets" in run.stderr
    assert cli("list", "--json").json() == []


# ---- stale -------------------------------------------------------------------------------
@pytest.fixture
def stale_acme(cli: Cli, old_store) -> str:
    """Acme Hot for 100 days (stale), Globex Closed for 100 days (never stale), Fresh Hot now."""
    uid = old_store.create_target("Acme", status="Hot").uid
    old_store.create_target("Globex", status="Closed")
    cli("add", "Fresh", "--status", "Hot")
    return uid


def test_stale_lists_stale_targets_and_exits_0(cli: Cli, stale_acme: str) -> None:
    (target,) = cli("stale", "--json").json()
    assert target["uid"] == stale_acme and target["stagnation"] == "stale"
    assert target["days_in_status"] >= 99
    assert set(target) == TARGET_JSON_KEYS
    assert "Acme" in cli("stale").stdout
    assert names(cli, "--stale") == ["Acme"]


def test_stale_fail_exits_3_when_any_is_stale(cli: Cli, stale_acme: str) -> None:
    run = cli("stale", "--fail", code=3)
    assert "Acme" in run.stdout and run.stderr == ""
    assert [t["name"] for t in cli("stale", "--fail", "--json", code=3).json()] == ["Acme"]


def test_stale_fail_exits_0_when_none_is(cli: Cli) -> None:
    cli("add", "Fresh", "--status", "Hot")
    run = cli("stale", "--fail")
    assert run.stdout == "" and "no stale" in run.stderr
    assert cli("stale", "--fail", "--json").json() == []


def test_stale_thresholds_come_from_config(cli: Cli, home: Path, old_store) -> None:
    old_store.create_target("Globex", status="Cold")  # 100 days: stale only past Cold 60
    assert cli("stale", "--json").json()[0]["name"] == "Globex"
    (home / "config.toml").write_text("[stagnation]\nCold = 365\n", encoding="utf-8")
    assert cli("stale", "--json").json() == []


def test_bad_config_exits_2_naming_the_setting(cli: Cli, home: Path) -> None:
    (home / "config.toml").write_text("[stagnation]\nHot = 0\n", encoding="utf-8")
    assert "Hot = 0" in cli("stale", code=2).error
    path = home / "config.toml"  # which file to fix: the user may never have seen it
    assert cli("list", code=2).error == (
        f"pipetrack: error: {path}: [stagnation] Hot = 0: days must be a whole number >= 1"
    )
    (home / "config.toml").write_text("[stagnation\n", encoding="utf-8")
    assert "config.toml" in cli("list", code=2).error


# ---- history -----------------------------------------------------------------------------
@pytest.fixture
def in_tz() -> Iterator[None]:
    """The machine's local time zone is UTC+05:30 (no DST) for this test."""
    before = os.environ.get("TZ")
    os.environ["TZ"] = "Asia/Kolkata"
    time.tzset()
    yield
    if before is None:
        del os.environ["TZ"]
    else:
        os.environ["TZ"] = before
    time.tzset()


def test_history_json_entries_oldest_first(cli: Cli) -> None:
    uid = cli("add", "Acme", "--status", "Cold").stdout.strip()
    cli("set", uid, "Hot", "--note", "go")
    entries = cli("history", "Acme", "--json").json()
    assert [(e["old_status"], e["new_status"]) for e in entries] == [
        (None, "Cold"),
        ("Cold", "Hot"),
    ]
    for entry in entries:
        assert set(entry) == HISTORY_KEYS
        assert RFC3339_UTC.match(entry["changed_at"])
        assert entry["origin"] == "local" and entry["sync"] == "pending"
    assert entries[1]["note"] == "go" and entries[1]["days_in_previous"] == 0


def test_history_table_shows_local_time(cli: Cli, in_tz: None) -> None:
    uid = cli("add", "Acme", "--status", "Cold").stdout.strip()
    entry = cli("history", uid, "--json").json()[0]
    hh, mm = (int(x) for x in entry["changed_at"][11:16].split(":"))
    minutes = (hh * 60 + mm + 330) % (24 * 60)
    local = f"{minutes // 60:02d}:{minutes % 60:02d}"
    lines = cli("history", uid).stdout.splitlines()
    assert lines[0].split()[:3] == ["WHEN", "FROM", "TO"]
    assert f" {local}" in lines[1] and "Cold" in lines[1]


def test_activity_lists_every_targets_changes_newest_first(cli: Cli) -> None:
    cli("add", "Acme", "--status", "Cold")
    cli("add", "Globex", "--status", "Hot")
    cli("set", "Acme", "Active", "--note", "second call")
    entries = cli("activity", "--json").json()
    assert [(e["name"], e["old_status"], e["new_status"]) for e in entries] == [
        ("Acme", "Cold", "Active"),
        ("Globex", None, "Hot"),
        ("Acme", None, "Cold"),
    ]
    for entry in entries:
        assert set(entry) == HISTORY_KEYS | {"target", "name"}
    assert entries[0]["note"] == "second call" and entries[0]["days_in_previous"] == 0
    assert len(cli("activity", "--since", "2w", "--limit", "2", "--json").json()) == 2
    assert len(cli("activity", "--since", "2020-01-31", "--json").json()) == 3
    assert cli("activity", "--since", "2099-01-01", "--json").json() == []
    me = entries[0]["changed_by"]
    assert len(cli("activity", "--by", me, "--json").json()) == 3
    assert cli("activity", "--by", "somebody-else", "--json").json() == []
    table = cli("activity").stdout.splitlines()
    assert table[0].split() == ["WHEN", "TARGET", "FROM", "TO", "BY", "SYNC", "NOTE"]
    assert "Acme" in table[1] and "second call" in table[1]
    assert "no status changes in that time" in cli("activity", "--since", "2099-01-01").stderr
    for bad in ("yesterday", "3 days", "2026-02-30"):
        assert "bad span" in cli("activity", "--since", bad, code=2).error


def test_activity_by_a_name_nobody_has_says_so(cli: Cli) -> None:
    cli("add", "Acme", "-s", "Hot")
    me = cli("activity", "--json").json()[0]["changed_by"]
    nobody = cli("activity", "--by", "nobody")
    assert nobody.stdout == ""
    assert nobody.stderr == (
        "no status changes by 'nobody' in that time, nor ever: no user 'nobody' appears in"
        " the history (names are matched exactly, as in the BY column)\n"
    )
    # a real user, quiet lately: only the time span is said
    quiet = cli("activity", "--by", me, "--since", "2099-01-01")
    assert quiet.stderr == f"no status changes by {me!r} in that time\n"


def test_list_on_a_new_profile_says_how_to_get_targets(cli: Cli) -> None:
    run = cli("list")
    assert run.stdout == ""
    assert "no targets yet: add one with pipetrack add NAME" in run.stderr
    assert "pipetrack import FILE.csv" in run.stderr
    assert "pipetrack login URL --token T, then pipetrack sync" in run.stderr
    cli("add", "Acme", "-s", "Hot")
    assert cli("list", "--status", "cold").stderr == "no targets match\n"


def test_history_of_a_target_without_changes(cli: Cli) -> None:
    cli("add", "Acme")
    assert cli("history", "Acme", "--json").json() == []
    assert "no status changes" in cli("history", "Acme").stderr


def test_history_unknown_target_exits_2(cli: Cli) -> None:
    assert "nope" in cli("history", "nope", code=2).error
