"""What waits for the user when the demo opens: one conflict and one rejected change.

Both are made the way they happen in the field, on a profile that synced once:

- **conflict** — sam (on the server) marks a Hot target Passed while this profile,
  not yet aware, marks it Closed; the next sync's push is answered ``conflict``.
- **rejected** — sam adds a trade-fair lead; this profile imports the same row of the
  shared lead list (same uid) spelled differently; the server refuses the create
  ("a different target with this id already exists").

:func:`stage` makes the local and the server side; the caller then syncs once.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import datetime, timedelta

from protocol.wire import Change, ChangeFields
from storage import Store

from .demo_seed import SeedTarget, seeded_uuid
from .demo_team import SECOND, push


@dataclass(frozen=True)
class Story:
    conflict: str  # the target's name
    rejected: str  # the name the server kept (sam's)


def stage(
    store: Store,
    url: str,
    sam_token: str,
    seed: list[SeedTarget],
    now: datetime,
    rng: random.Random,
) -> Story:
    """Sam's changes on the server, this profile's changes locally (not pushed yet)."""
    hot = next(t for t in seed if t.status == "Hot" and not t.is_stale(now))
    version = store.get(str(hot.uid)).version
    theirs = Change(
        change_id=seeded_uuid(rng),
        target=hot.uid,
        op="set_status",
        base_version=version,
        status="Passed",
        changed_at=now - timedelta(hours=1),
        note="they chose a competitor",
    )
    push(url, sam_token, SECOND, [theirs])
    store.set_status(str(hot.uid), "Closed", note="signed this morning!")

    lead = seeded_uuid(rng)
    kept = "Saltmarsh Aquaculture"
    sams = Change(
        change_id=seeded_uuid(rng),
        target=lead,
        op="create",
        status="Cold",
        fields=ChangeFields(
            name=kept, description="Lead from the Oslo fair list.", markets=["Nordics"]
        ),
        changed_at=now - timedelta(minutes=30),
    )
    push(url, sam_token, SECOND, [sams])
    row = {"uid": str(lead), "name": "Salt Marsh Aqua AS", "markets": "Nordics", "status": "Active"}
    store.import_targets([row])
    return Story(conflict=hot.name, rejected=kept)
