"""A user who makes random changes on one device and remembers each one, and the checks
that compare what users did with what the server's audit and every device hold.

The ledger keeps, per target, the ops in the order the user made them with the status
after each: ``[("create", "Cold"), ("set_status", "Hot"), ("edit", "Hot")]``. The
server's audit of that device must hold exactly that sequence (audit rows of an edit
carry the unchanged status), so a lost change and a change applied twice both show.
"""

from __future__ import annotations

import random
import threading
from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field

from protocol import STATUS_ORDER
from storage import Store
from syncd import Settings, run_once
from tests.sync.synchelp import Device, wait_until

from .central import AuditRow, audit_rows, server_targets

STATUSES: tuple[str | None, ...] = (*(s.value for s in STATUS_ORDER), None)
MARKETS = ("EU", "US", "APAC", "Nordics", "LatAm")

Op = tuple[str, str | None]


@dataclass
class Ledger:
    """What one device's user did, per target uid."""

    ops: dict[str, list[Op]] = field(default_factory=lambda: defaultdict(list))
    lock: threading.Lock = field(default_factory=threading.Lock)

    def record(self, uid: str, op: str, status: str | None) -> None:
        with self.lock:
            self.ops[uid].append((op, status))

    @property
    def total(self) -> int:
        return sum(len(v) for v in self.ops.values())


class RandomUser:
    """Creates targets, changes their status and edits them, on one store."""

    def __init__(self, store: Store, rng: random.Random, tag: str, ledger: Ledger | None = None):
        self.store = store
        self.rng = rng
        self.tag = tag
        self.ledger = ledger if ledger is not None else Ledger()
        self.mine: list[str] = []
        self.status: dict[str, str | None] = {}

    def act(self) -> None:
        roll = self.rng.random()
        if not self.mine or roll < 0.2:
            self.create()
        elif roll < 0.8:
            self.set_status(self.rng.choice(self.mine))
        else:
            self.edit(self.rng.choice(self.mine))

    def create(self) -> str:
        status = self.rng.choice(STATUSES)
        markets = self.rng.sample(MARKETS, self.rng.randint(0, 2))
        name = f"{self.tag} {len(self.mine)} {self.rng.randrange(10**6)}"
        uid = self.store.create_target(name, "", markets, status).uid
        self.mine.append(uid)
        self.status[uid] = status
        self.ledger.record(uid, "create", status)
        return uid

    def set_status(self, uid: str) -> None:
        status = self.rng.choice([s for s in STATUSES if s != self.status[uid]])
        change = self.store.set_status(uid, status, note=f"{self.tag} says {status}")
        assert change.changed
        self.status[uid] = status
        self.ledger.record(uid, "set_status", status)

    def edit(self, uid: str) -> None:
        self.store.edit_target(uid, description=f"edited {self.rng.randrange(10**9)}")
        self.ledger.record(uid, "edit", self.status[uid])


# ---- checks -------------------------------------------------------------------------------
@dataclass
class Reconciled:
    """How the server's audit of a device differs from what its user did."""

    lost: int = 0
    duplicated: int = 0
    misordered: int = 0
    details: list[str] = field(default_factory=list)

    @property
    def exact(self) -> bool:
        return not (self.lost or self.duplicated or self.misordered)


def reconcile(ledger: Ledger, rows: Iterable[AuditRow]) -> Reconciled:
    """Compare a device's audit rows on the server with its user's ledger."""
    got: dict[str, list[Op]] = defaultdict(list)
    for row in rows:
        got[row.target].append((row.op, row.new_status))
    out = Reconciled()
    for uid in sorted(set(ledger.ops) | set(got)):
        expected, seen = ledger.ops.get(uid, []), got.get(uid, [])
        lost = sum((Counter(expected) - Counter(seen)).values())
        dup = sum((Counter(seen) - Counter(expected)).values())
        out.lost += lost
        out.duplicated += dup
        if not lost and not dup and expected != seen:
            out.misordered += 1
        if expected != seen:
            out.details.append(f"{uid}: made {expected}, server has {seen}")
    return out


def history_mismatches(store: Store, rows: Iterable[AuditRow], uids: Iterable[str]) -> list[str]:
    """Targets whose local status history (change ids, in order) differs from the server's."""
    by_target: dict[str, list[str]] = defaultdict(list)
    for row in rows:
        if row.op == "edit" or (row.op == "create" and row.new_status is None):
            continue  # the local audit holds status changes only
        by_target[row.target].append(row.change_id)
    out = []
    for uid in uids:
        local = [h.change_id for h in store.history(uid)]
        if local != by_target.get(uid, []):
            out.append(f"{uid}: local history {local}, server {by_target.get(uid, [])}")
    return out


def state_mismatches(store: Store, database_url: str) -> list[str]:
    """Where the device's local view differs from the server (or is not synced)."""
    server = server_targets(database_url)
    local = {t.uid: t for t in store.list_targets()}
    out = []
    for uid in sorted(set(server) | set(local)):
        s, mine = server.get(uid), local.get(uid)
        if s is None or mine is None:
            out.append(f"{uid}: only {'on the server' if mine is None else 'here'}")
            continue
        here = (mine.name, mine.description, tuple(mine.markets), mine.status, mine.version)
        there = (s.name, s.description, s.markets, s.status, s.version)
        if s.status is not None:  # since when: what days in status and stagnation count from
            here, there = (*here, mine.status_since), (*there, s.status_changed_at)
        if here != there or mine.sync != "synced":
            out.append(f"{uid}: here {here} {mine.sync}, server {there}")
    return out


def quiet(store: Store) -> bool:
    state = store.sync_state()
    return state.pending == 0 and state.conflicts == 0 and state.rejected == 0


def wait_converged(device: Device, database_url: str, timeout: float = 60.0) -> None:
    """Until the device has nothing queued and equals the server (its daemon syncing)."""
    last: list[str] = []

    def converged() -> bool:
        with device.store() as store:
            if not quiet(store):
                last[:] = [f"sync state {store.sync_state()}"]
                return False
            last[:] = state_mismatches(store, database_url)
            return not last

    try:
        wait_until(converged, timeout, interval=0.2, what=f"{device.name} to converge")
    except AssertionError as err:
        raise AssertionError(f"{err}; still different: {last[:5]}") from None


def sync_in_process(store: Store, url: str, token: str) -> None:
    """The real sync engine (syncd.run_once: push then pull) in this process."""
    code = run_once(store, Settings(server=url, backoff_max=1.0), lambda: token)
    assert code == 0, store.sync_state().last_error


@dataclass
class DeviceCheck:
    lost: int
    duplicated: int
    problems: list[str]


def check_device(device: Device, ledger: Ledger, database_url: str) -> DeviceCheck:
    """Everything the fault tests assert about one device after quiescence: its audit on
    the server is exactly its user's changes, its history and state equal the server's."""
    with device.store() as store:
        rows = audit_rows(database_url, store.device_id)
        result = reconcile(ledger, rows)
        problems = list(result.details)
        problems += history_mismatches(store, rows, ledger.ops)
        problems += state_mismatches(store, database_url)
        if not quiet(store):
            problems.append(f"{device.name} not quiet: {store.sync_state()}")
    return DeviceCheck(result.lost, result.duplicated, problems)
