"""Devices' stores prepared for a benchmark, quickly, through the store's own writers.

Setting up is not what these benchmarks measure, and the public paths take minutes at
these sizes (one durable transaction per status change; a real pull of 10,000 targets):
so the rows are written in one transaction by the functions ``Store.set_status`` and
``Store.apply_pull`` use (``storage.actions``, ``storage.view``). A store prepared here
holds exactly what those would have left. The real paths are what the ``commit`` and
``catchup`` benchmarks measure.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx

from protocol.wire import PullResponse, TargetState
from storage import Store, actions, query
from storage.fold import name_key
from storage.view import base_columns, compute_view, refresh, start_of

from .seed import STATUSES, WORDS, change_plan, target_uid

PAGE = 10_000


def raw_pages(url: str, token: str, page: int = PAGE) -> Iterator[bytes]:
    """The server's pull pages from the start (``page`` rows each), as the bytes it sends,
    until one says there is no more. Not parsed: the cursor and ``more`` are read from
    the page's tail, where the server writes them (server/pull.py ``Page.json``)."""
    cursor: str | None = None
    with httpx.Client(base_url=url, headers={"Authorization": f"Bearer {token}"}) as http:
        while True:
            params: dict[str, str | int] = {"limit": page}
            if cursor:
                params["cursor"] = cursor
            response = http.get("/v1/pull", params=params, timeout=120)
            response.raise_for_status()
            body = response.content
            yield body
            tail = _TAIL.search(body[-1024:])
            if tail is None:
                raise RuntimeError(f"a pull page ends unexpectedly: {body[-200:]!r}")
            if tail["more"] == b"false":
                return
            cursor = tail["cursor"].decode()


_TAIL = re.compile(rb'"cursor":"(?P<cursor>[^"]*)","more":(?P<more>true|false)\}$')


def pull_pages(url: str, token: str, page: int = PAGE) -> Iterator[PullResponse]:
    """:func:`raw_pages` parsed into the wire models."""
    for body in raw_pages(url, token, page):
        yield PullResponse.model_validate_json(body)


def server_state(url: str, token: str) -> tuple[list[TargetState], str]:
    """Every target the server holds, and the pull cursor after all of it."""
    targets: list[TargetState] = []
    cursor = ""
    for answer in pull_pages(url, token):
        targets += answer.targets
        cursor = answer.cursor
    return targets, cursor


def team_targets(count: int) -> list[TargetState]:
    """``count`` targets as a server would send them: names as seeded (``Target 000042
    charlie``), 20 markets, the five statuses and none, in them for 0-89 days."""
    now = datetime.now(UTC)
    return [
        TargetState(
            uid=target_uid(i),
            name=f"Target {i:06d} {WORDS[i % len(WORDS)]}",
            description="seeded by the benchmark",
            markets=[f"market-{i % 20}"],
            status=([*STATUSES, None])[i % (len(STATUSES) + 1)],
            version=1,
            status_changed_at=now - timedelta(days=i % 90),
            status_changed_by="seed",
            created_at=now - timedelta(days=400),
            last_updated=now,
            updated_by="seed",
        )
        for i in range(1, count + 1)
    ]


def adopt(db_path: Path, targets: Sequence[TargetState], cursor: str | None = None) -> None:
    """The store as a finished pull of ``targets`` leaves it (synced, cursor saved);
    history rows are left out (the benchmarks using this do not read them)."""
    with Store.open(db_path) as store:
        ctx = store._ctx  # noqa: SLF001 - the bench seeds through the store's own writers
        rows, markets = [], []
        for state in targets:
            base = base_columns(state)
            target = ctx.m.target(uid=str(state.uid), **base)
            view = compute_view(*start_of(target), [])
            rows.append({"uid": target.uid, **base, **view})
            markets += [
                {"uid": target.uid, "market_lc": name_key(m), "market": m} for m in view["markets"]
            ]
        with ctx.write():
            actions.insert_rows(ctx, ctx.m.target, rows)
            actions.insert_rows(ctx, ctx.m.market, markets)
            ctx.set_meta("pull_cursor", cursor)


def synced_profile(home: Path, url: str, token: str) -> list[str]:
    """Fill the profile at ``home`` with the server's targets; their uids, in seed order."""
    targets, cursor = server_state(url, token)
    adopt(home / "pipetrack.db", targets, cursor)
    return [str(t.uid) for t in sorted(targets, key=lambda t: t.name)]


def queue_changes(db_path: Path, uids: Sequence[str], per_target: int) -> int:
    """Queue ``per_target`` offline status changes on each target (rounds over ``uids``),
    the rows ``Store.set_status`` writes, in one transaction; returns the pending count."""
    with Store.open(db_path) as store:
        ctx = store._ctx  # noqa: SLF001
        now = ctx.now()
        with ctx.write():
            targets = {uid: query.load(ctx, uid) for uid in uids}
            current = {uid: t.status for uid, t in targets.items()}
            changes = []
            for uid, status in change_plan(uids, per_target, dict(current)):
                change = actions.make_change(
                    ctx,
                    uid,
                    "set_status",
                    now,
                    base_version=actions.base_version_of(targets[uid]),
                    status=status,
                    old_status=current[uid],
                    audited=True,
                )
                changes.append(change)
                current[uid] = status
            actions.write_changes(ctx, changes)
            for target in targets.values():
                refresh(ctx, target)
        return store.sync_state().pending
