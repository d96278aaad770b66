"""The demo's team history: ~300 targets over a year, as the changes teammates pushed.

Pure and deterministic (``random.Random(42)``, times relative to ``now``): the same
targets, statuses and notes every run. :func:`build_seed` makes the history and
:func:`pushes` turns it into the ``/v1/push`` bodies of the teammates' devices, in
rounds (round k holds the k-th change of every target), so each change's
``base_version`` is the version the server has when it arrives and nothing conflicts.
"""

from __future__ import annotations

import random
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta

from protocol.wire import Change, ChangeFields
from storage.profile import DEFAULT_THRESHOLDS

SEED = 42
TARGETS = 300
MARKETS = ("Nordics", "DACH", "UK & Ireland", "France", "Benelux", "Iberia", "US East", "US West")
#: The teammates whose devices pushed the history: user -> device id.
TEAMMATES = {"alex": "alex-laptop", "priya": "priya-laptop"}
YEAR_DAYS = 365
#: Share of Cold / Active / Hot targets left longer than their threshold (stale).
STALE_SHARE = 0.2

_LADDER = ("Cold", "Active", "Hot", "Closed")
_FINAL = (("Cold", 25), ("Active", 24), ("Hot", 14), ("Closed", 14), ("Passed", 18), (None, 5))
_FIRST = [
    "Northwind",
    "Aurora",
    "Bluefin",
    "Copperleaf",
    "Driftwood",
    "Ember",
    "Fjord",
    "Granite",
    "Harbor",
    "Ironbark",
    "Juniper",
    "Kestrel",
    "Lumen",
    "Meridian",
    "Nimbus",
    "Oakridge",
    "Pinecrest",
    "Quarry",
    "Redwood",
    "Saltmarsh",
    "Tidewater",
    "Umbra",
    "Vantage",
    "Willow",
    "Xylo",
    "Yarrow",
    "Zephyr",
    "Alder",
    "Beacon",
    "Cinder",
]
_SECOND = [
    "Analytics",
    "Logistics",
    "Robotics",
    "Foods",
    "Health",
    "Energy",
    "Systems",
    "Labs",
    "Freight",
    "Textiles",
    "Software",
    "Biotech",
    "Mobility",
    "Payments",
    "Materials",
    "Security",
    "Media",
    "Water",
    "Farms",
    "Optics",
]
_WHAT = (
    "cold-chain software",
    "fleet telematics",
    "B2B payments",
    "industrial sensors",
    "clinic scheduling",
    "battery recycling",
    "warehouse robots",
    "food traceability",
    "grid forecasting",
    "freight marketplace",
)
#: Notes a teammate might leave with a change to each status (a note that reads
#: "signed the contract" on a move to Active would make the demo look random).
_NOTES: dict[str, tuple[str, ...]] = {
    "Passed": (
        "went with a competitor",
        "no reply after three follow-ups",
        "champion left the company",
    ),
    "Cold": ("met at the trade fair", "budget frozen until next quarter", "follow up in spring"),
    "Active": ("intro call went well", "asked for a pilot proposal", "second meeting booked"),
    "Hot": ("pricing accepted in principle", "legal review started", "pilot went well"),
    "Closed": ("signed the contract", "purchase order received"),
}


@dataclass(frozen=True)
class Step:
    """One change of a target's history: the status it set, when, by whom."""

    status: str | None
    at: datetime
    user: str
    note: str | None


@dataclass(frozen=True)
class SeedTarget:
    uid: uuid.UUID
    name: str
    description: str
    markets: tuple[str, ...]
    steps: tuple[Step, ...]  # steps[0] is the create

    @property
    def status(self) -> str | None:
        return self.steps[-1].status

    def is_stale(self, now: datetime) -> bool:
        threshold = DEFAULT_THRESHOLDS.get(self.status or "")
        return threshold is not None and (now - self.steps[-1].at).days > threshold


def build_seed(now: datetime, rng: random.Random | None = None) -> list[SeedTarget]:
    """:data:`TARGETS` targets in :data:`MARKETS`, each with its history up to ``now``."""
    rng = rng or random.Random(SEED)
    names = rng.sample([f"{a} {b}" for a in _FIRST for b in _SECOND], TARGETS)
    return [_target(rng, name, now) for name in names]


def _target(rng: random.Random, name: str, now: datetime) -> SeedTarget:
    path = _path(rng)
    ages = _ages(rng, path[-1], len(path))
    owner = rng.choice(list(TEAMMATES))
    other = next(u for u in TEAMMATES if u != owner)
    steps = tuple(
        Step(
            status=status,
            at=now - timedelta(days=age, minutes=rng.randint(0, 9 * 60)),
            user=other if i and rng.random() < 0.25 else owner,
            note=rng.choice(_NOTES[status]) if i and status and rng.random() < 0.4 else None,
        )
        for i, (status, age) in enumerate(zip(path, ages, strict=True))
    )
    size = rng.choice((12, 40, 85, 250, 1200))
    return SeedTarget(
        uid=seeded_uuid(rng),
        name=name,
        description=f"{rng.choice(_WHAT).capitalize()}, about {size} people.",
        markets=tuple(rng.sample(MARKETS, rng.choice((1, 1, 1, 2, 2, 3)))),
        steps=steps,
    )


def _path(rng: random.Random) -> list[str | None]:
    """The statuses a target went through, never the same one twice in a row."""
    final = rng.choices([s for s, _ in _FINAL], weights=[w for _, w in _FINAL])[0]
    if final is None:
        return [None]
    end = _LADDER.index(final) if final in _LADDER else rng.randint(0, 3)
    path: list[str | None] = [s for s in _LADDER[:end] if rng.random() < 0.85]
    if final == "Active" and rng.random() < 0.15:
        path += ["Hot"]  # was hot once, cooled down again
    path.append(final)
    if rng.random() < 0.3:
        path.insert(0, None)  # created without a status at first
    return path


def _ages(rng: random.Random, final: str | None, count: int) -> list[int]:
    """Days before now of each step, oldest first; the last decides staleness."""
    room = YEAR_DAYS - 3 * count
    threshold = DEFAULT_THRESHOLDS.get(final or "")
    if threshold is None:
        last = rng.randint(0, 200)
    elif rng.random() < STALE_SHARE:
        last = rng.randint(threshold + 3, min(4 * threshold, room))
    else:
        last = rng.randint(0, threshold - 3)
    if count == 1:
        return [last]
    first = rng.randint(last + 3 * count, YEAR_DAYS)
    between = sorted(rng.sample(range(last + 1, first), count - 2), reverse=True)
    return [first, *between, last]


def seeded_uuid(rng: random.Random) -> uuid.UUID:
    return uuid.UUID(int=rng.getrandbits(128), version=4)


def pushes(seed: list[SeedTarget], rng: random.Random) -> Iterator[tuple[str, list[Change]]]:
    """(user, changes) of each push that replays ``seed``, round by round."""
    rounds = max(len(t.steps) for t in seed)
    for k in range(rounds):
        for user in TEAMMATES:
            changes = [
                _change(rng, t, k) for t in seed if len(t.steps) > k and t.steps[k].user == user
            ]
            if changes:
                yield user, changes


def _change(rng: random.Random, target: SeedTarget, k: int) -> Change:
    step = target.steps[k]
    common = {"change_id": seeded_uuid(rng), "target": target.uid, "changed_at": step.at}
    if k == 0:
        fields = ChangeFields(
            name=target.name, description=target.description, markets=list(target.markets)
        )
        return Change(op="create", status=step.status, fields=fields, **common)
    # the create made version 1 and every earlier round one more
    return Change(op="set_status", status=step.status, base_version=k, note=step.note, **common)
