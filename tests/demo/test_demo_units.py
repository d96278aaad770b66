"""The demo's pieces that need no server: the seed, and where it may write."""

from __future__ import annotations

import random
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from typer.testing import CliRunner

from pipetrack.cli import app
from pipetrack.demo_dirs import DemoDirs
from pipetrack.demo_seed import MARKETS, SEED, TARGETS, TEAMMATES, build_seed, pushes
from pipetrack.demo_text import waiting
from protocol import InvalidInput
from storage import ConflictView, RejectedView
from syncd import ProfileLock

NOW = datetime(2026, 6, 1, 12, 0, tzinfo=UTC)


def test_the_seed_is_the_same_every_time():
    assert build_seed(NOW) == build_seed(NOW, random.Random(SEED))


def test_the_seed_is_a_year_of_a_plausible_pipeline():
    seed = build_seed(NOW)
    assert len(seed) == TARGETS == len({t.name for t in seed}) == len({t.uid for t in seed})
    assert {m for t in seed for m in t.markets} == set(MARKETS)
    assert set(Counter(t.status for t in seed)) == {
        None,
        "Passed",
        "Cold",
        "Active",
        "Hot",
        "Closed",
    }
    assert 0.05 * TARGETS < sum(t.is_stale(NOW) for t in seed) < 0.25 * TARGETS
    times = [s.at for t in seed for s in t.steps]
    assert NOW - timedelta(days=366) < min(times) < NOW - timedelta(days=300)
    assert max(times) <= NOW
    for t in seed:
        assert [s.at for s in t.steps] == sorted(s.at for s in t.steps)
        statuses = [s.status for s in t.steps]
        assert all(a != b for a, b in zip(statuses, statuses[1:], strict=False)), t
    notes = {(s.status, s.note) for t in seed for s in t.steps if s.note}
    assert len(notes) > 10
    # a note fits the move it came with: no contract signed on a move to Cold
    for status, note in notes:
        assert ("signed" in note or "purchase order" in note) == (status == "Closed"), note
        assert ("competitor" in note or "no reply" in note) <= (status == "Passed"), note


def test_the_pushes_replay_each_target_in_order_on_the_version_it_reached():
    seed = build_seed(NOW)
    version: dict = {}
    for user, changes in pushes(seed, random.Random(1)):
        assert user in TEAMMATES
        assert len({c.target for c in changes}) == len(changes)  # one change per target
        for change in changes:
            if change.op == "create":
                assert change.target not in version
                version[change.target] = 1
            else:
                assert change.base_version == version[change.target]
                version[change.target] += 1
    assert sum(version.values()) == sum(len(t.steps) for t in seed)


def test_a_directory_that_is_not_a_demo_is_refused_and_left_alone(tmp_path: Path):
    data = tmp_path / "precious"
    data.mkdir()
    (data / "notes.txt").write_text("mine")
    done = CliRunner().invoke(app, ["demo", "--data-dir", str(data), "--seed-only"])
    assert done.exit_code == 2
    assert "holds no pipetrack demo" in done.output
    assert (data / "notes.txt").read_text() == "mine"


def test_an_unfinished_demo_is_wiped_a_finished_one_reused(tmp_path: Path):
    dirs = DemoDirs.choose(tmp_path / "demo", None)
    for path in (dirs.data, dirs.home, dirs.second):
        path.mkdir()
        (path / "leftover").write_text("x")
    dirs.write(state="seeding")
    assert dirs.prepare(fresh=False) is None
    assert not any(p.exists() for p in (dirs.data, dirs.home, dirs.second))
    record = dirs.write(state="ready", tokens={})
    assert dirs.prepare(fresh=False) == record
    assert dirs.prepare(fresh=True) is None and not dirs.data.exists()


def test_a_demo_that_is_running_is_not_touched(tmp_path: Path):
    dirs = DemoDirs.choose(tmp_path / "demo", None)
    dirs.home.mkdir(parents=True)
    dirs.write(state="ready", tokens={})
    with ProfileLock(dirs.home), pytest.raises(InvalidInput, match="already runs"):
        dirs.prepare(fresh=True)
    assert dirs.read() is not None


def test_a_demo_running_with_another_home_or_sams_daemon_is_not_wiped(tmp_path: Path):
    """QA: a second demo on the data dir of one running with another --home wiped the
    running one's profile and database, and --fresh wiped sam's profile under his daemon.
    Both are refused now, and nothing is wiped."""
    running = DemoDirs.choose(tmp_path / "demo", tmp_path / "elsewhere")
    for path in (running.data, running.home, running.second):
        path.mkdir(parents=True)
    running.write(state="ready", tokens={})
    second = DemoDirs.choose(tmp_path / "demo", None)  # another --home, the same data dir
    with ProfileLock(running.home), pytest.raises(InvalidInput, match="already runs on"):
        second.prepare(fresh=False)
    with ProfileLock(running.second), pytest.raises(InvalidInput, match="sam's sync daemon"):
        running.prepare(fresh=True)
    assert running.read() is not None and running.home.is_dir() and running.second.is_dir()


def test_the_demo_says_what_waits_now_not_what_it_staged_once():
    at = datetime(2026, 6, 1, tzinfo=UTC)
    conflict = ConflictView(
        "c1", "u1", "Driftwood Optics", "set_status", "Hot", 2, "Closed", None, at, None,
        "Passed", "sam", at, 3,
    )  # fmt: skip
    rejected = RejectedView(
        "r1",
        "u2",
        "Saltmarsh",
        "create",
        None,
        {},
        at,
        "a different target with this id already exists",
    )
    text = waiting([conflict], [rejected])
    assert "a conflict on 'Driftwood Optics' (you: Closed, sam: Passed)" in text
    assert "a rejected change to 'Saltmarsh': a different target with this id" in text
    assert waiting([], []).startswith("nothing: the conflict and the rejected change are resolved")
