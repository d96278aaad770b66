"""Helpers for the storage tests: server states and push results as the server sends them."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from protocol.wire import AuditEntry, Change, Result, TargetState

if TYPE_CHECKING:
    from storage import Store


def state(
    uid: str,
    version: int,
    at: datetime,
    *,
    name: str = "Acme",
    description: str = "",
    markets: tuple[str, ...] = (),
    status: str | None = None,
    status_at: datetime | None = None,
    by: str = "bob",
) -> TargetState:
    return TargetState(
        uid=uuid.UUID(uid),
        name=name,
        description=description,
        markets=list(markets),
        status=status,
        version=version,
        status_changed_at=status_at or (at if status else None),
        status_changed_by=by if status else None,
        created_at=at,
        last_updated=at,
        updated_by=by,
    )


def result(
    change: Change | str,
    outcome: str,
    target: TargetState | None = None,
    error: str | None = None,
) -> Result:
    change_id = change.change_id if isinstance(change, Change) else uuid.UUID(change)
    return Result(change_id=change_id, outcome=outcome, target=target, error=error)


def entry(
    change_id: str,
    uid: str,
    at: datetime,
    *,
    old: str | None,
    new: str | None,
    version: int,
    by: str = "bob",
    op: str = "set_status",
    entry_id: int = 1,
    note: str | None = None,
) -> AuditEntry:
    return AuditEntry(
        id=entry_id,
        change_id=uuid.UUID(change_id),
        target=uuid.UUID(uid),
        op=op,
        old_status=old,
        new_status=new,
        changed_at=at,
        recorded_at=at,
        changed_by=by,
        device_id="other-device",
        version=version,
        note=note,
    )


def pull_target(store: Store, name: str, uid: str | None = None) -> str:
    """A teammate's target named ``name``, pulled from the server: how two targets come to
    share a name (the store refuses a second one made here). Returns its uid."""
    uid = uid or str(uuid.uuid4())
    store.apply_pull([state(uid, 1, datetime.now(UTC), name=name)], [], f"after-{uid}")
    return uid


def acknowledge(store: Store, names: dict[str, str], status: str, version: int) -> None:
    """The server applied every pending change (each target now at ``version``)."""
    at = datetime.now(UTC)
    results = []
    for change in store.take_batch():
        uid = str(change.target)
        results.append(
            result(change, "applied", state(uid, version, at, name=names[uid], status=status))
        )
    store.apply_push_results(results)


def new_id() -> str:
    return str(uuid.uuid4())


def change_statuses(path: str, uids: list[str], worker: int, count: int, start) -> None:
    """A process making ``count`` real status changes over the shared targets, as soon as
    ``start`` (a multiprocessing Event) is set. Notes say "w<worker>-<n>"."""
    from pathlib import Path

    from protocol import STATUS_ORDER
    from storage import Store

    with Store.open(Path(path), user=f"worker{worker}") as store:
        start.wait(30)
        made = attempt = 0
        while made < count:
            uid = uids[attempt % len(uids)]
            status = STATUS_ORDER[(attempt // len(uids) + worker) % len(STATUS_ORDER)]
            attempt += 1
            # the other process may have just set this very status: then nothing is written
            if store.set_status(uid, status, note=f"w{worker}-{made}").changed:
                made += 1


def open_new(path: str, start, device_ids) -> None:
    """Open (creating) the store at ``path`` once ``start`` is set; report its device id."""
    import os
    from pathlib import Path

    from storage import Store

    start.wait(30)
    with Store.open(Path(path)) as store:
        store.create_target(f"made by process {os.getpid()}")
        device_ids.put(store.device_id)
