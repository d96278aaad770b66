"""Model-based test: three devices (three profiles) against one real server.

A hypothesis state machine makes random creates, status changes and edits on each
device, takes devices offline and online, loses push responses (the server applied
the push, the device never heard: a crash between sending and recording), reopens
stores, and resolves conflicts as their users would. The sync runs in this process
with syncd's own engine (Pusher, Puller, ApiClient) over HTTP to the real server.

After every step: each device shows exactly the conflicts its own pushes got (no other
device's). After quiescence: every device equals the server; the server's audit holds
every applied change exactly once and nothing else; every change a user made was
applied, converged with someone else's identical change, or dropped by its user's
decision ("take theirs") — none vanished otherwise.
"""

from __future__ import annotations

import shutil
import sqlite3
import tempfile
import threading
import zlib
from collections import Counter, defaultdict
from collections.abc import Sequence
from contextlib import closing
from pathlib import Path

import psycopg
import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    precondition,
    rule,
    run_state_machine_as_test,
)

from protocol.wire import Change, Result
from storage import Store
from syncd import ApiClient, Transient
from syncd.pull import Puller
from syncd.push import Pusher
from syncd.retry import Backoff, Wakeable
from tests.support.server import ServerProcess

from .central import audit_rows, server_errors
from .conftest import Figures, Sizes
from .ledger import MARKETS, STATUSES, state_mismatches

DEVICES = 3
#: Device i belongs to USERS[i]: alice has two devices, bob one.
USERS = ("alice", "alice", "bob")

statuses = st.sampled_from(STATUSES)
device_ix = st.integers(0, DEVICES - 1)


def outbox_ids(db: Path) -> set[str]:
    """Every change id in a store's outbox (pending, held, conflict or rejected), read
    from the file itself: the store's API only lists what is pushable or shown."""
    with closing(sqlite3.connect(f"file:{db}?mode=ro", uri=True)) as conn:
        return {row[0] for row in conn.execute("SELECT change_id FROM outbox")}


class Link(ApiClient):
    """The device's real API client, recording every push outcome the server decided;
    ``lose_next`` throws the next push's answer away after the server acted on it."""

    def __init__(self, url: str, token: str, outcomes: dict[str, list[str]]) -> None:
        super().__init__(url, token)
        self.outcomes = outcomes
        self.lose_next = False

    def push(
        self, device_id: str, changes: Sequence[Change], cursor: str | None = None
    ) -> list[Result]:
        results = super().push(device_id, changes, cursor)
        for result in results:
            self.outcomes[str(result.change_id)].append(result.outcome)
        if self.lose_next:
            self.lose_next = False
            raise Transient("the answer was lost (test)")
        return results


class Device:
    def __init__(self, ix: int, root: Path, url: str, token: str, outcomes) -> None:
        self.ix = ix
        self.db = root / f"device{ix}" / "pipetrack.db"
        self.db.parent.mkdir()
        self.store = Store.open(self.db, user=USERS[ix])
        self.link = Link(url, token, outcomes)
        self.online = True
        #: Conflicts this device's pushes got and its user has not settled yet.
        self.open_conflicts: set[str] = set()
        #: Every change id this device's user minted.
        self.minted: set[str] = set()

    def backoff(self) -> Backoff:
        return Backoff(threading.Event(), Wakeable(), cap=0.1, attempts=1)

    def act(self, action) -> None:
        before = outbox_ids(self.db)
        action(self.store)
        self.minted |= outbox_ids(self.db) - before

    def push(self, lose_answer: bool = False) -> None:
        """Push everything pushable; with ``lose_answer`` the first push's answer is lost
        (the server applied it, this device records nothing)."""
        before = self.conflict_ids()
        self.link.lose_next = lose_answer
        try:
            Pusher(self.store, self.link, self.backoff()).push_pending()
        except Transient:
            if not lose_answer or self.link.lose_next:
                raise
        self.open_conflicts |= self.conflict_ids() - before

    def pull(self) -> None:
        Puller(self.store, self.link, self.backoff()).pull_available()

    def conflict_ids(self) -> set[str]:
        return {c.change_id for c in self.store.conflicts()}

    def close(self) -> None:
        self.store.close()
        self.link.close()


def choices_for(op: str) -> list[str]:
    """What a user may answer to a conflict: keep mine, take theirs, or (for a status
    change) choose another status."""
    return ["mine", "theirs"] + ([s or "none" for s in STATUSES] if op != "edit" else [])


def truncate(database_url: str) -> None:
    with psycopg.connect(database_url) as conn:
        conn.execute("TRUNCATE audit_log, targets RESTART IDENTITY")


def make_machine(server: ServerProcess, tokens: dict[str, str], figures: Figures):
    class ThreeDevices(RuleBasedStateMachine):
        def __init__(self) -> None:
            super().__init__()
            truncate(server.database_url)
            self.root = Path(tempfile.mkdtemp(prefix="pipetrack-model-"))
            self.outcomes: dict[str, list[str]] = defaultdict(list)
            self.devices = [
                Device(i, self.root, server.url, tokens[USERS[i]], self.outcomes)
                for i in range(DEVICES)
            ]
            #: change id -> the user's decision on its conflict (mine/theirs/a status).
            self.decided: dict[str, list[str]] = defaultdict(list)
            figures.add("examples")

        def known(self, d: Device, data) -> str | None:
            # by name: uids are random, so their order would differ when hypothesis
            # replays the same steps (names are made from the steps alone)
            known = sorted(d.store.list_targets(), key=lambda t: t.name)
            return data.draw(st.sampled_from([t.uid for t in known])) if known else None

        @initialize(statuses=st.lists(statuses, min_size=1, max_size=3))
        def shared_targets(self, statuses):
            """A few targets every device knows, so that their users collide."""
            first = self.devices[0]
            for n, status in enumerate(statuses):
                first.act(
                    lambda s, n=n, status=status: s.create_target(f"Shared {n}", status=status)
                )
            first.push()
            for d in self.devices:
                d.pull()

        # ---- what users do ------------------------------------------------------------
        @rule(ix=device_ix, status=statuses, markets=st.lists(st.sampled_from(MARKETS)))
        def create(self, ix, status, markets):
            name = f"T{len(self.devices[ix].minted)}-{ix}"
            self.devices[ix].act(lambda s: s.create_target(name, "", markets, status))

        @rule(ix=device_ix, status=statuses, data=st.data())
        def set_status(self, ix, status, data):
            d = self.devices[ix]
            uid = self.known(d, data)
            if uid is not None:
                d.act(lambda s: s.set_status(uid, status, note=f"d{ix}"))

        @rule(ix=device_ix, data=st.data(), text=st.sampled_from(["", "call back", "lost"]))
        def edit(self, ix, data, text):
            d = self.devices[ix]
            uid = self.known(d, data)
            if uid is not None:
                d.act(lambda s: s.edit_target(uid, description=text))

        @rule(ix=device_ix)
        def undo(self, ix):
            self.devices[ix].act(lambda s: s.undo_last())
            figures.add("undos")

        @precondition(lambda self: any(d.open_conflicts for d in self.devices))
        @rule(data=st.data())
        def resolve(self, data):
            d = data.draw(st.sampled_from([d for d in self.devices if d.open_conflicts]))
            c = data.draw(st.sampled_from(d.store.conflicts()))
            self.settle_one(d, c.change_id, data.draw(st.sampled_from(choices_for(c.op))))

        def settle_one(self, d: Device, change_id: str, choice: str) -> None:
            before = outbox_ids(d.db)
            d.store.resolve_conflict(change_id, choice)
            d.open_conflicts.discard(change_id)
            self.decided[change_id].append(choice)
            for undo in before - outbox_ids(d.db) - {change_id}:  # undos waiting behind it
                self.decided[undo].append("theirs")  # dropped with it, by the user's choice
            figures.add(f"resolved_{'status' if choice not in ('mine', 'theirs') else choice}")

        # ---- the network and crashes ---------------------------------------------------
        @rule(ix=device_ix)
        def toggle_online(self, ix):
            self.devices[ix].online = not self.devices[ix].online

        @rule(ix=device_ix)
        def sync(self, ix):
            d = self.devices[ix]
            if d.online:
                d.push()
                d.pull()

        @rule(ix=device_ix)
        def pull_only(self, ix):
            if self.devices[ix].online:
                self.devices[ix].pull()

        @rule(ix=device_ix)
        def push_answer_lost(self, ix):
            d = self.devices[ix]
            if d.online and d.store.take_batch(1):
                d.push(lose_answer=True)
                figures.add("lost_responses")

        @rule(ix=device_ix)
        def reopen(self, ix):
            d = self.devices[ix]
            d.store.close()
            d.store = Store.open(d.db, user=USERS[ix])

        # ---- after every step ----------------------------------------------------------
        @invariant()
        def conflicts_shown_to_their_author_only_once(self):
            for d in self.devices:
                shown = [c.change_id for c in d.store.conflicts()]
                assert len(shown) == len(set(shown)), f"device {d.ix} lists a conflict twice"
                assert set(shown) == d.open_conflicts, (d.ix, shown, d.open_conflicts)
                assert set(shown) <= d.minted, "a device shows another device's conflict"

        # ---- quiescence and the final checks ---------------------------------------------
        def quiesce(self) -> None:
            for d in self.devices:
                d.online = True
            for _ in range(20):
                for d in self.devices:
                    for c in d.store.conflicts():  # each user decides, as in the UI
                        choices = choices_for(c.op)
                        choice = choices[zlib.crc32(c.change_id.encode()) % len(choices)]
                        self.settle_one(d, c.change_id, choice)
                    d.push()
                    d.pull()
                if all(
                    (s := d.store.sync_state()).pending + s.conflicts + s.rejected == 0
                    for d in self.devices
                ):
                    break
            for d in self.devices:
                d.pull()

        def teardown(self) -> None:
            try:
                self.quiesce()
                self.check()
            finally:
                for d in self.devices:
                    d.close()
                shutil.rmtree(self.root, ignore_errors=True)

        def check(self) -> None:
            rows = audit_rows(server.database_url)
            per_change = Counter(r.change_id for r in rows)
            minted = {c: d for d in self.devices for c in d.minted}
            applied = {c for c, seen in self.outcomes.items() if "applied" in seen}
            figures.add("changes", len(minted))
            figures.add("steps_audited", len(rows))
            figures.add("duplicated", sum(n - 1 for n in per_change.values()))
            figures.add("conflicts", sum(s.count("conflict") for s in self.outcomes.values()))
            figures.add("converged", sum("converged" in s for s in self.outcomes.values()))
            assert set(per_change) == applied, "the audit differs from what the server applied"
            assert set(per_change) <= set(minted), "the audit holds a change nobody made"
            for row in rows:
                d = minted[row.change_id]
                assert row.changed_by == USERS[d.ix], row
                assert row.device_id == d.store.device_id, row
            vanished = [
                c
                for c in minted
                if c not in per_change
                and "converged" not in self.outcomes.get(c, [])
                and "theirs" not in self.decided.get(c, [])
            ]
            figures.add("lost", len(vanished))
            assert not vanished, f"changes gone without a decision: {vanished[:5]}"
            for d in self.devices:
                state = d.store.sync_state()
                assert (state.pending, state.conflicts, state.rejected) == (0, 0, 0), state
                problems = state_mismatches(d.store, server.database_url)
                assert not problems, f"device {d.ix} differs from the server: {problems[:5]}"

    return ThreeDevices


@pytest.mark.slow
def test_three_devices_model(server: ServerProcess, make_user, sizes: Sizes, figures: Figures):
    tokens = {name: make_user(name) for name in sorted(set(USERS))}
    machine = make_machine(server, tokens, figures)
    run_state_machine_as_test(
        machine,
        settings=settings(
            max_examples=sizes.model_examples,
            stateful_step_count=sizes.model_steps,
            deadline=None,
            suppress_health_check=list(HealthCheck),
            derandomize=False,
            database=None,
        ),
    )
    figures["rounds"] = figures.get("examples", 0)
    figures["server_errors"] = server_errors(server.log_text())[0]
    assert figures["server_errors"] == 0, server.log_text()[-3000:]
