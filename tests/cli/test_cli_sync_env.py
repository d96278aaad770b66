"""PIPETRACK_SYNC_*: a bad value is refused in one line, exit 2, before anything runs."""

from __future__ import annotations

from pathlib import Path

import pytest

from pipetrack import sync_cmd
from protocol import InvalidInput

from .conftest import Cli


@pytest.fixture
def logged_in(home: Path) -> None:
    (home / "config.toml").write_text('[sync]\nserver = "https://pipe.example.com"\n')
    (home / "token").write_text("t0ken\n")
    (home / "token").chmod(0o600)


@pytest.mark.parametrize("value", ["bogus", "pol", "polling", "1"])
def test_a_bad_watch_mode_is_refused_like_the_other_variables(
    cli: Cli, logged_in: None, monkeypatch: pytest.MonkeyPatch, value: str
) -> None:
    """(--once here: with the old check missing, the daemon would run on.)"""
    monkeypatch.setenv("PIPETRACK_SYNC_WATCH", value)
    assert cli("sync", "--once", code=2).error == (
        f"pipetrack: error: PIPETRACK_SYNC_WATCH={value!r}: expected poll or events"
    )


def test_the_other_variables_refuse_the_same_way(
    cli: Cli, logged_in: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PIPETRACK_SYNC_WAIT", "soon")
    assert "PIPETRACK_SYNC_WAIT='soon'" in cli("sync", "--once", code=2).error


@pytest.mark.parametrize("value", [None, "", " ", "poll", "POLL ", "events", "Events"])
def test_poll_events_or_nothing_pass(monkeypatch: pytest.MonkeyPatch, value: str | None) -> None:
    if value is None:
        monkeypatch.delenv("PIPETRACK_SYNC_WATCH", raising=False)
    else:
        monkeypatch.setenv("PIPETRACK_SYNC_WATCH", value)
    sync_cmd._check_watch_mode()  # noqa: SLF001


def test_a_bad_watch_mode_raises_invalid_input(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PIPETRACK_SYNC_WATCH", "bogus")
    with pytest.raises(InvalidInput):
        sync_cmd._check_watch_mode()  # noqa: SLF001
