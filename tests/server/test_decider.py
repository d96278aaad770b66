"""The push decider (server/push.py) against a plain reading of its rules, over random
pushes: outcomes, the target state in each result, the audit rows and the targets
written. The reference below applies the numbered rules of push.py's docstring one
change at a time, copying whole targets; it is slow and obviously in order, the decider
is fast."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta, timezone

from hypothesis import given, settings
from hypothesis import strategies as st

from protocol import clean_description, clean_markets, clean_name, clean_note, parse_status
from protocol.wire import Change, ChangeFields, change_problem
from server.push import DETAILS, STATUS, Decider
from server.records import Target

NOW = datetime(2026, 5, 1, 12, 0, tzinfo=UTC)
UIDS = [uuid.UUID(int=i + 1) for i in range(4)]
CHANGE_IDS = [uuid.UUID(int=1000 + i) for i in range(12)]
STATUSES = [None, "Hot", "hot ", "Cold", "Lost", "bogus", "none"]
NAMES = [None, "A", " A ", "B", "", "x" * 300]
MARKETS = [None, [], ["DE"], ["de", "DE"], ["FR", ""]]


def _status(value):
    status = parse_status(value)
    return None if status is None else status.value


def _received(at: datetime, now: datetime) -> datetime:
    """A device's time, or now when its clock is in the future or before 2000 (dead)."""
    return now if at > now or at < datetime(2000, 1, 1, tzinfo=UTC) else at


def _state(t: dict) -> dict:
    return {k: v for k, v in t.items() if k != "id"}


def reference(user, now, targets, seen, conflicts, changes):
    """(results, audit rows, final states of written targets) by the docstring's rules."""
    work = {uid: {"id": t.id, **t.state_values()} for uid, t in targets.items()}
    seen, failed, written, audit, results = dict(seen), set(), {}, [], []
    accepted = set()  # (target, group) a converged change of the push accepted

    def result(c, outcome, state=None, error=None):
        results.append((c.change_id, outcome, None if state is None else _state(state), error))
        if outcome in ("conflict", "rejected", "blocked"):
            failed.add(c.target)

    for c in changes:
        cur = work.get(c.target)
        if c.change_id in seen:
            result(c, "duplicate", work.get(seen[c.change_id]))
            continue
        if c.target in failed:
            result(c, "blocked", error="an earlier change to this target was not applied")
            continue
        problem = change_problem(c)
        if problem:
            result(c, "rejected", cur, problem)
            continue
        stamp = _received(c.changed_at, now)
        if c.op == "create":
            status = _status(c.status)
            new = {
                "id": None,
                "uid": c.target,
                "name": clean_name(c.fields.name),
                "description": clean_description(c.fields.description),
                "markets": clean_markets(c.fields.markets),
                "status": status,
                "version": 1,
                "status_changed_at": stamp if status else None,
                "status_changed_by": user if status else None,
                "created_at": stamp,
                "last_updated": now,
                "updated_by": user,
            }
            if cur is not None:
                same = all(cur[k] == new[k] for k in ("name", "description", "markets", "status"))
                if same:  # later changes of this push build on it (base 0)
                    accepted.update({(c.target, "status"), (c.target, "details")})
                    result(c, "converged", cur)
                else:
                    result(c, "rejected", cur, "a different target with this id already exists")
                continue
            old_status = None
        else:
            if cur is None:
                result(c, "rejected", error="unknown target: it does not exist")
                continue
            if c.base_version > cur["version"]:
                msg = (
                    f"base version {c.base_version} is ahead of the server's {cur['version']}"
                    " (was the server restored from a backup?)"
                )
                result(c, "rejected", cur, msg)
                continue
            new = dict(cur)
            if c.op == "set_status":
                new["status"] = _status(c.status)
                group = STATUS
            else:
                f = c.fields
                if f.name is not None:
                    new["name"] = clean_name(f.name)
                if f.description is not None:
                    new["description"] = clean_description(f.description)
                if f.markets is not None:
                    new["markets"] = clean_markets(f.markets)
                group = DETAILS
            if new == cur:
                accepted.add((c.target, group))
                result(c, "converged", cur)
                continue
            if (c.target, group) not in accepted and (c.target, c.base_version, group) in conflicts:
                result(c, "conflict", cur)
                continue
            stamp = max(stamp, cur["created_at"])  # never before the target existed
            if c.op == "set_status":
                if cur["status_changed_at"] is not None:  # nor the status it follows
                    stamp = max(stamp, cur["status_changed_at"])
                new["status_changed_at"], new["status_changed_by"] = stamp, user
            new.update(version=cur["version"] + 1, last_updated=now, updated_by=user)
            old_status = cur["status"]
        work[c.target] = written[c.target] = new
        seen[c.change_id] = c.target
        audit.append(
            (c.target, c.change_id, c.op, old_status, new["status"], new["version"], stamp)
            + (clean_note(c.note), c.op != "edit", c.op != "set_status")
        )
        result(c, "applied", new)
    return results, audit, {uid: _state(s) for uid, s in written.items()}


#: Clients' clocks: about right; behind (between the targets' creation and last status
#: change, or before their creation); dead (1970, year 1 far east: year 0 in UTC); just
#: before and at 2000-01-01Z, the earliest time taken as the device says.
TIMES = [
    NOW - timedelta(seconds=5),
    NOW,
    NOW + timedelta(seconds=5),
    NOW - timedelta(hours=36),
    NOW - timedelta(days=3),
    datetime(1970, 1, 1, tzinfo=UTC),
    datetime(1, 1, 1, tzinfo=timezone(timedelta(hours=14))),
    datetime(1999, 12, 31, 23, 59, 59, tzinfo=UTC),
    datetime(2000, 1, 1, tzinfo=UTC),
]


def _target(uid: uuid.UUID, version: int, status: str | None, dated: bool = True) -> Target:
    """Made two days ago; its status (``dated``: and its time) one day ago."""
    made, at = NOW - timedelta(days=2), NOW - timedelta(days=1)
    since = at if dated else None
    return Target(1, uid, "A", "", ["DE"], status, version, since, "bob", made, at, "bob")


@st.composite
def change(draw) -> Change:
    """Mostly well-formed changes of each op; one in five with one part wrong."""
    op = draw(st.sampled_from(["create", "set_status", "edit"]))
    parts = {
        "base_version": None if op == "create" else draw(st.integers(0, 3)),
        "status": None if op == "edit" else draw(st.sampled_from(STATUSES[:4])),
        "fields": None,
        "note": draw(st.sampled_from([None, " n "])),
    }
    if op != "set_status":
        names = NAMES[1:4] if op == "create" else NAMES[:4]
        fields = ChangeFields(
            name=draw(st.sampled_from(names)),
            description=draw(st.sampled_from([None, "", "d"])),
            markets=draw(st.sampled_from(MARKETS[:4])),
        )
        if op == "edit" and fields == ChangeFields():
            fields = ChangeFields(name="B")
        parts["fields"] = fields
    if draw(st.integers(0, 4)) == 0:  # one part wrong (or, by chance, still right)
        wrong = {
            "base_version": st.sampled_from([None, -1, 0, 9]),
            "status": st.sampled_from(STATUSES),
            "fields": st.sampled_from(
                [
                    None,
                    ChangeFields(),
                    ChangeFields(name=NAMES[4]),
                    ChangeFields(name=NAMES[5]),
                    ChangeFields(name="A", description="d\x00"),
                    ChangeFields(name="A", markets=MARKETS[4]),
                ]
            ),
            "note": st.sampled_from(["", "a\x01"]),
        }
        key = draw(st.sampled_from(sorted(wrong)))
        parts[key] = draw(wrong[key])
    return Change(
        change_id=draw(st.sampled_from(CHANGE_IDS)),
        target=draw(st.sampled_from(UIDS)),
        op=op,
        changed_at=draw(st.sampled_from(TIMES)),
        **parts,
    )


@st.composite
def push_case(draw):
    targets = {}
    for uid in draw(st.sets(st.sampled_from(UIDS))):
        status = draw(st.sampled_from([None, "Hot", "Closed"]))
        # no status: made without one (no status time) or cleared since
        dated = status is not None or draw(st.booleans())
        targets[uid] = _target(uid, draw(st.integers(1, 3)), status, dated)
    seen = draw(st.dictionaries(st.sampled_from(CHANGE_IDS), st.sampled_from(UIDS), max_size=3))
    seen = {cid: uid for cid, uid in seen.items() if uid in targets}
    conflicts = draw(
        st.sets(
            st.tuples(st.sampled_from(UIDS), st.integers(0, 3), st.sampled_from([STATUS, DETAILS])),
            max_size=12,
        )
    )
    changes = draw(st.lists(change(), max_size=25))
    # mostly well-formed status changes on existing targets, based on their version
    for uid in targets:
        for k in range(draw(st.integers(0, 4))):
            changes.insert(
                draw(st.integers(0, len(changes))),
                Change(
                    change_id=uuid.uuid4(),
                    target=uid,
                    op="set_status",
                    base_version=targets[uid].version + k,
                    status=draw(st.sampled_from(["Hot", "Cold", "Closed"])),
                    changed_at=draw(st.sampled_from([NOW - timedelta(seconds=k), *TIMES])),
                ),
            )
    return targets, seen, conflicts, changes


@settings(max_examples=400, deadline=None)
@given(push_case())
def test_decider_follows_the_rules(case) -> None:
    targets, seen, conflicts, changes = case
    decider = Decider(user="alice", now=NOW, targets=targets, seen=seen, conflicts=conflicts)
    plan = decider.decide_all(changes)
    results, audit, written = reference("alice", NOW, targets, seen, conflicts, changes)

    assert [(r["change_id"], r["outcome"], r["target"], r["error"]) for r in plan.results] == (
        results
    )
    assert [
        (a["target"], a["change_id"], a["op"], a["old_status"], a["new_status"], a["version"])
        + (a["change_timestamp"], a["note"], a["touches_status"], a["touches_details"])
        for a in plan.audit
    ] == audit
    assert {**plan.created, **plan.updated} == written
    assert set(plan.created) == {uid for uid in written if uid not in targets}
    assert set(plan.updated) == {uid for uid in written if uid in targets}
    # every result's state is a wire TargetState (what routes.push serializes as is)
    for r in plan.results:
        assert r["target"] is None or list(r["target"]) == list(Target.__dataclass_fields__)[1:]


def test_a_state_in_a_result_is_not_changed_by_later_changes() -> None:
    uid = UIDS[0]
    changes = [
        Change(
            change_id=uuid.uuid4(),
            target=uid,
            op="set_status",
            base_version=1 + k,
            status=s,
            changed_at=NOW,
        )
        for k, s in enumerate(["Hot", "Cold", "Closed"])
    ]
    plan = Decider(
        user="alice", now=NOW, targets={uid: _target(uid, 1, None)}, seen={}, conflicts=set()
    ).decide_all(changes)
    assert [(r["target"]["status"], r["target"]["version"]) for r in plan.results] == [
        ("Hot", 2),
        ("Cold", 3),
        ("Closed", 4),
    ]
    assert plan.updated[uid]["version"] == 4
