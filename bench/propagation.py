"""4. propagation: two live daemons (``pipetrack sync``, devices A and B). The bench makes
200 status changes on A's store 50 ms apart (``Store.set_status``, in this process) and
times each until B's store shows it (B's ``data_version`` polled every 2 ms, the target
read when it moves).

Baseline: the server's own path without daemons or SQLite — one HTTP client pushes a
change, another is parked in a long-poll (``wait``) on the same server; the time until
the long-poll returns it. What the daemons add on top is theirs (file events, SQLite).
"""

from __future__ import annotations

import threading
import time
import uuid
from datetime import UTC, datetime

import httpx

from protocol.wire import Change, PullResponse, PushRequest, PushResponse
from storage import Store

from .context import Context
from .env import Env
from .harness import Report, now, percentile
from .local import server_state, synced_profile
from .push import seeded_database
from .seed import STATUSES

NAME = "propagation"
SPACING = 0.05


def wait_online(db, timeout: float = 60.0) -> None:
    deadline = now() + timeout
    with Store.open(db) as store:
        while not (state := store.sync_state()).online or state.last_sync_at is None:
            if now() > deadline:
                raise RuntimeError(f"daemon of {db.parent.name} not online: {state}")
            time.sleep(0.1)


def next_status(current: str | None) -> str:
    return STATUSES[(STATUSES.index(current) + 1) % len(STATUSES) if current else 0]


def propagate(a: Store, b: Store, uids: list[str]) -> list[float]:
    """Make one change per uid on A, SPACING apart; the delay until B has each."""
    made: dict[str, tuple[float, str]] = {}
    delays: list[float] = []
    seen = b.data_version()
    due = now()
    todo = list(uids)
    deadline = now() + len(uids) * SPACING + 30
    while (todo or made) and now() < deadline:
        if todo and now() >= due:
            uid = todo.pop(0)
            status = next_status(a.get(uid).status)
            a.set_status(uid, status)
            made[uid] = (now(), status)
            due += SPACING
        version = b.data_version()
        if version != seen and made:
            seen = version
            for uid, (at, status) in list(made.items()):
                if b.get(uid).status == status:
                    delays.append(now() - at)
                    del made[uid]
        time.sleep(0.002)
    if made:
        raise RuntimeError(f"{len(made)} changes never reached B")
    return delays


def protocol_floor(url: str, token: str, uids: list[str]) -> list[float]:
    """Push one change at a time over HTTP; time until a parked long-poll returns it."""
    auth = {"Authorization": f"Bearer {token}"}
    _, cursor = server_state(url, token)
    arrived: dict[uuid.UUID, float] = {}
    stop = threading.Event()

    def listen() -> None:
        nonlocal cursor
        with httpx.Client(base_url=url, headers=auth, timeout=60) as http:
            while not stop.is_set():
                page = PullResponse.model_validate_json(
                    http.get("/v1/pull", params={"cursor": cursor, "wait": 5}).content
                )
                for entry in page.history:
                    arrived.setdefault(entry.change_id, now())
                cursor = page.cursor

    listener = threading.Thread(target=listen, daemon=True)
    listener.start()
    time.sleep(0.5)
    delays = []
    with httpx.Client(base_url=url, headers=auth, timeout=60) as http:
        for uid in uids:
            change = Change(
                change_id=uuid.uuid4(),
                target=uuid.UUID(uid),
                op="set_status",
                base_version=1,
                status=next_status(STATUSES[0]),  # seeded targets are Cold at version 1
                changed_at=datetime.now(UTC),
            )
            body = PushRequest(device_id="floor", changes=[change]).model_dump_json()
            sent = now()
            response = http.post(
                "/v1/push", content=body, headers={"Content-Type": "application/json"}
            )
            if PushResponse.model_validate_json(response.content).results[0].outcome != "applied":
                raise RuntimeError(f"baseline push not applied: {response.text}")
            while change.change_id not in arrived and now() - sent < 10:
                time.sleep(0.001)
            delays.append(arrived.get(change.change_id, now()) - sent)
            time.sleep(SPACING / 2)
    stop.set()
    listener.join(10)
    return delays


def run(ctx: Context) -> Report:
    changes = ctx.size(200)
    report = Report(
        NAME,
        "a change on A until B's store has it (two live daemons)",
        {"changes": changes, "spacing_ms": SPACING * 1e3, "baseline": "HTTP push -> long-poll"},
    )
    with Env(ctx.cluster, NAME) as env:
        with report.phase("server"):
            url = seeded_database(env, changes * 2)
            srv = env.server(url)
            token = env.token(srv, "bench")
        with report.phase("devices"):
            homes = [env.profile(name, srv, token) for name in ("a", "b")]
            uids = [synced_profile(home, srv.url, token) for home in homes][0]
            daemons = [env.daemon(home) for home in homes]
            for home in homes:
                wait_online(home / "pipetrack.db")
        with (
            report.phase("measure"),
            Store.open(homes[0] / "pipetrack.db") as a,
            Store.open(homes[1] / "pipetrack.db") as b,
        ):
            delays = propagate(a, b, uids[:changes])
        for daemon in daemons:
            daemon.stop()
        with report.phase("baseline"):
            floor = protocol_floor(srv.url, token, uids[changes : changes + changes // 2])
    for p, goal in ((50, 0.1), (99, 0.5)):
        ours = percentile(delays, p)
        report.versus(
            f"p{p} delay",
            ours,
            percentile(floor, p),
            "ms",
            scale=1e3,
            goal=f"< {goal * 1e3:.0f} ms",
            met=ours < goal,
        )
    report.versus("max delay", max(delays), max(floor), "ms", scale=1e3)
    report.details = {"delays_ms": [round(d * 1e3, 2) for d in delays]}
    return report
