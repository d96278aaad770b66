"""6. load: 200 simulated devices (async httpx, one connection each) against 1, then 2
server processes on the same database (devices alternate between them).

Each device starts at a random moment of a ramp (200 devices over 5 s), in sync with
the team (the newest pull cursor, kept by an unmeasured long-polling follower), pushes
its 20 status changes (one ``POST /v1/push``, on 20 targets of its own) and then pulls
what the team changed since it started (``GET /v1/pull``, one page of up to 1,000). Goals: no
error, p99 request latency < 250 ms, nothing lost (every change ``applied``, and the
server's audit rows grew by exactly that many).

Baseline: the same requests made by one device at a time, sequentially, against one
server process (the unloaded latency), measured in the same run.
"""

from __future__ import annotations

import asyncio
import json
import random
import uuid
from contextlib import AsyncExitStack
from dataclasses import dataclass, field
from datetime import UTC, datetime

import httpx

from protocol.wire import Change, PushRequest, PushResponse

from .context import Context
from .env import Env
from .harness import Report, now, percentile
from .local import server_state
from .push import seeded_database
from .seed import target_uid
from .watch import AuditCount, max_audit_id

NAME = "load"
CHANGES = 20
RAMP_S = 5.0
USERS = 10
BASELINE_DEVICES = 10
HEADERS = {"Content-Type": "application/json"}


@dataclass
class Tally:
    latencies: list[float] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    applied: set[uuid.UUID] = field(default_factory=set)
    span: list[float] = field(default_factory=list)  # start and end of every request

    @property
    def served_per_s(self) -> float:
        """Requests answered per second, first request sent to last answer."""
        return len(self.latencies) / (max(self.span) - min(self.span)) if self.span else 0.0


def device_changes(device: int) -> list[Change]:
    """Active on this device's own 20 targets (seeded Cold at version 1)."""
    stamp = datetime.now(UTC)
    return [
        Change(
            change_id=uuid.uuid4(),
            target=uuid.UUID(target_uid(device * CHANGES + k + 1)),
            op="set_status",
            base_version=1,
            status="Active",
            changed_at=stamp,
        )
        for k in range(CHANGES)
    ]


async def request(tally: Tally, call) -> httpx.Response | None:
    start = now()
    try:
        response = await call()
    except httpx.HTTPError as err:
        tally.errors.append(f"{type(err).__name__}: {err}")
        return None
    tally.latencies.append(now() - start)
    tally.span += [start, now()]
    if response.status_code != 200:
        tally.errors.append(f"HTTP {response.status_code}: {response.text[:200]}")
        return None
    return response


class Tracker:
    """Keeps the team's newest pull cursor (its own long-polls are not measured): a device
    starting now was in sync up to it, as a live daemon is."""

    def __init__(self, cursor: str) -> None:
        self.cursor = cursor
        self.done = asyncio.Event()

    async def run(self, http: httpx.AsyncClient) -> None:
        while not self.done.is_set():
            try:
                response = await http.get(
                    "/v1/pull", params={"cursor": self.cursor, "limit": 10_000, "wait": 0.2}
                )
            except httpx.HTTPError:
                response = None
            if response is None or response.status_code != 200:
                await asyncio.sleep(0.1)  # an overloaded server: the devices' figures say so
                continue
            self.cursor = json.loads(response.content)["cursor"]


async def device(n: int, http: httpx.AsyncClient, tracker: Tracker, delay: float, tally: Tally):
    await asyncio.sleep(delay)
    cursor = tracker.cursor
    body = PushRequest(device_id=f"device-{n}", changes=device_changes(n)).model_dump_json()
    pushed = await request(tally, lambda: http.post("/v1/push", content=body, headers=HEADERS))
    if pushed is not None:
        for result in PushResponse.model_validate_json(pushed.content).results:
            if result.outcome == "applied":
                tally.applied.add(result.change_id)
    # The page is not parsed here: parsing large pages would stall this event loop and
    # show up as latency of the other devices' requests.
    await request(tally, lambda: http.get("/v1/pull", params={"cursor": cursor, "limit": 1000}))


def client(url: str, token: str) -> httpx.AsyncClient:
    return httpx.AsyncClient(
        base_url=url, headers={"Authorization": f"Bearer {token}"}, timeout=60, verify=False
    )


async def swarm(
    urls: list[str], tokens: list[str], cursor: str, devices: range, ramp: float
) -> Tally:
    """Every device at once (each at its random moment of the ramp); clients made first."""
    tally = Tally()
    rng = random.Random(6)
    tracker = Tracker(cursor)
    async with AsyncExitStack() as stack:
        clients = [
            await stack.enter_async_context(client(urls[n % len(urls)], tokens[n % len(tokens)]))
            for n in devices
        ]
        follow = asyncio.create_task(
            tracker.run(await stack.enter_async_context(client(urls[0], tokens[0])))
        )
        await asyncio.gather(
            *(
                device(n, http, tracker, rng.uniform(0, ramp), tally)
                for n, http in zip(devices, clients, strict=True)
            )
        )
        tracker.done.set()
        await follow
    return tally


def sequential(url: str, token: str, cursor: str, devices: range) -> Tally:
    """The same device work, one device at a time: the unloaded latency."""

    async def one_by_one() -> Tally:
        tally = Tally()
        for n in devices:
            async with client(url, token) as http:
                await device(n, http, Tracker(cursor), 0.0, tally)
        return tally

    return asyncio.run(one_by_one())


def run(ctx: Context) -> Report:
    devices = ctx.size(200)
    ramp = RAMP_S * devices / 200
    report = Report(
        NAME,
        "simulated devices pushing and pulling",
        {
            "devices": devices,
            "changes_each": CHANGES,
            "ramp_s": ramp,
            "baseline": "1 device at a time",
        },
    )
    spare = range(devices, devices + BASELINE_DEVICES)
    baseline: Tally | None = None
    for processes in (1, 2):
        with Env(ctx.cluster, f"{NAME}{processes}") as env, report.phase(f"{processes} process"):
            url = seeded_database(env, (devices + BASELINE_DEVICES) * CHANGES)
            servers = [env.server(url) for _ in range(processes)]
            tokens = [env.token(servers[0], f"user{i}") for i in range(USERS)]
            _, cursor = server_state(servers[0].url, tokens[0])
            if baseline is None:
                baseline = sequential(servers[0].url, tokens[0], cursor, spare)
            since = max_audit_id(url)
            urls = [s.url for s in servers]
            tally = asyncio.run(swarm(urls, tokens, cursor, range(devices), ramp))
            written = AuditCount(url, since)()
        add_figures(report, processes, tally, written, devices * CHANGES, baseline)
    return report


def add_figures(
    report: Report, processes: int, tally: Tally, written: int, expected: int, base: Tally
) -> None:
    tag = f"{processes} proc"
    report.figure(f"{tag}: errors", len(tally.errors), "", goal="= 0", met=not tally.errors)
    for p in (50, 99):
        ours = percentile(tally.latencies, p)
        report.versus(
            f"{tag}: p{p} latency",
            ours,
            percentile(base.latencies, p),
            "ms",
            scale=1e3,
            goal="< 250 ms" if p == 99 else "",
            met=ours < 0.25 if p == 99 else None,
        )
    # Offered: two requests per device over the ramp; the baseline is one device alone.
    report.versus(f"{tag}: requests/s served", tally.served_per_s, base.served_per_s, "req/s")
    lost = expected - min(len(tally.applied), written)
    report.figure(
        f"{tag}: changes lost",
        lost,
        "",
        goal="= 0",
        met=lost == 0 and written == len(tally.applied) == expected,
    )
    if tally.errors:
        report.note(f"{tag}: first error: {tally.errors[0]}")
    report.details[tag] = {
        "requests": len(tally.latencies) + len(tally.errors),
        "applied": len(tally.applied),
        "audit_rows_written": written,
        "errors": tally.errors[:20],
    }
