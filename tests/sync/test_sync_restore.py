"""The server's database restored from a backup of an earlier point (into a new
database, as ``pg_restore`` does): the server notices at its start, every device pulls
everything again and takes the server's state, even where a target's version went back,
and sends again, under their own change ids, its changes the server lost, unless the
server holds a later status."""

from __future__ import annotations

import json
import subprocess
import sys
import threading
from collections.abc import Callable

import psycopg

from storage import TargetQuery
from syncd.client import ApiClient
from syncd.pull import Puller
from syncd.push import Pusher
from syncd.retry import Backoff, Wakeable
from tests.support.fixtures import server_on_new_database
from tests.support.pg import PgCluster
from tests.sync.faultproxy import FaultProxy
from tests.sync.synchelp import Device, wait_until


def _backup(cluster: PgCluster, server) -> str:
    """Stop the server, copy its database aside, start it again; the copy's URL."""
    server.stop()
    try:
        return cluster.copy_database(server.database_url, f"{_name(server)}_backup")
    finally:
        server.start()


def _restore(cluster: PgCluster, server, backup: str) -> None:
    """Stop the server, replace its database with a new copy of ``backup``, start it."""
    server.stop()
    cluster.copy_database(backup, _name(server))
    server.start()


def _name(server) -> str:
    return psycopg.conninfo.conninfo_to_dict(server.database_url)["dbname"]


def _listed(device: Device, name: str) -> tuple[str | None, int | None]:
    result = device.run("list", "--json")
    assert result.returncode == 0, result.stderr
    [row] = [t for t in json.loads(result.stdout) if t["name"] == name]
    return row["status"], row["version"]


def _set(device: Device, name: str, status: str) -> None:
    result = device.run("set", name, status)
    assert result.returncode == 0, result.stderr


def _audit(url: str, name: str) -> list[tuple[str, str]]:
    with psycopg.connect(url) as conn:
        return conn.execute(
            "SELECT a.new_status, a.change_id::text FROM audit_log a"
            " JOIN targets t ON t.id = a.target_id WHERE t.name = %s ORDER BY a.version",
            (name,),
        ).fetchall()


def test_after_a_restore_devices_send_again_what_the_server_lost(
    pg_cluster: PgCluster, devices: Callable[[str], Device]
) -> None:
    """Backed up with Acme, Kilo and Zeta Cold (version 1); then ann moved Acme and Kilo
    to Hot and made Nova, ben moved Zeta to Hot; the database is restored from the
    backup. Cat, after the restore, moves Kilo to Passed. Ann's Acme change comes back
    (the server's Acme is older than it), and Nova is made again with its move; her Kilo
    change meets cat's later one as a conflict (it was dropped without a word); Zeta goes
    back to Cold until ben's laptop syncs and sends his change again."""
    with server_on_new_database(pg_cluster) as server:
        ann, ben, cat = devices("ann"), devices("ben"), devices("cat")
        for device in (ann, ben, cat):
            device.connect(server.url, server.add_user(device.name))
        for name in ("Acme", "Kilo", "Mira", "Orla", "Pax"):
            assert ann.run("add", name, "--status", "Cold").returncode == 0
        assert ben.run("add", "Zeta", "--status", "Cold").returncode == 0
        for device in (ann, ben, ann, cat):
            device.sync_once()

        backup = _backup(pg_cluster, server)  # the nightly backup
        try:
            _after_the_backup(pg_cluster, server, ann, ben, cat, backup)
        finally:
            pg_cluster.drop_database(backup)


def _after_the_backup(pg_cluster, server, ann, ben, cat, backup: str) -> None:
    _set(ann, "Acme", "Hot")
    _set(ann, "Kilo", "Hot")
    _set(ann, "Mira", "Hot")
    _set(ann, "Orla", "Hot")
    _set(ann, "Orla", "Active")
    _set(ann, "Pax", "Hot")
    _set(ben, "Zeta", "Hot")
    assert ann.run("add", "Nova", "--status", "Cold", "--market", "EU").returncode == 0
    _set(ann, "Nova", "Active")
    for device in (ann, ben, ann):
        device.sync_once()
    lost = _audit(server.database_url, "Acme")[-1]
    made = _audit(server.database_url, "Nova")
    names = ("Acme", "Kilo", "Zeta", "Mira", "Pax")
    assert [_listed(ann, name) for name in names] == [("Hot", 2)] * 5
    assert _listed(ann, "Orla") == ("Active", 3)

    _restore(pg_cluster, server, backup)  # the database is lost; restored into a new one
    assert "this database is a copy of another" in server.log_path.read_text()
    assert len(_audit(server.database_url, "Acme")) == 1  # as backed up

    # ann, offline through the restore, queues changes on the versions it took away
    _set(ann, "Mira", "Closed")  # on version 2: the server's Mira is version 1 again
    _set(ann, "Orla", "Closed")  # on version 3
    _set(ann, "Pax", "Closed")  # on version 2, a number the server gives again (to cat)
    cat.sync_once()
    _set(cat, "Kilo", "Passed")  # after the restore, later than ann's lost change
    _set(cat, "Orla", "Passed")  # later than ann's queued change: Orla version 2
    _set(cat, "Pax", "Passed")  # Pax version 2 again, later than ann's
    cat.sync_once()

    synced = ann.sync_once()
    assert "the server had lost 4 changes of ours" in synced.stderr
    # its cursor is from before the restore: nothing decided until it pulled again
    assert "the server refused our push (HTTP 409" in synced.stderr
    assert _listed(ann, "Acme") == ("Hot", 2)  # sent again, under its own change id
    assert _audit(server.database_url, "Acme")[-1] == lost
    # cat's later change stands on the server; ann's lost one meets it as a conflict
    assert _listed(ann, "Kilo") == ("Hot", 2)
    assert _listed(ann, "Zeta") == ("Cold", 1)  # the server's, though ann had version 2
    assert _audit(server.database_url, "Nova") == made  # made again, the same changes
    # then sent on the server's versions: later than the server's status, applied;
    assert _listed(ann, "Mira") == ("Closed", 2)
    # else a conflict with cat's later change, however its version compares with ann's base
    conflicts = json.loads(ann.run("conflicts", "--json").stdout)
    assert sorted((c["name"], c["mine"]["status"], c["theirs"]["status"]) for c in conflicts) == [
        ("Kilo", "Hot", "Passed"), ("Orla", "Closed", "Passed"), ("Pax", "Closed", "Passed")
    ]  # fmt: skip
    cat.sync_once()
    assert _listed(cat, "Nova") == ("Active", 2)

    ben.sync_once()  # ben's laptop comes back: its lost change goes out again
    ann.sync_once()
    assert _listed(ann, "Zeta") == ("Hot", 2)
    with ann.store() as store:
        assert (store.sync_state().pending, store.sync_state().rejected) == (0, 0)


def test_running_daemons_recover_from_a_restore_by_themselves(
    pg_cluster: PgCluster, devices: Callable[[str], Device]
) -> None:
    """The same with both laptops' daemons running through it: nobody runs a command."""
    with server_on_new_database(pg_cluster) as server:
        ann, ben = devices("ann"), devices("ben")
        for device in (ann, ben):
            device.connect(server.url, server.add_user(device.name))
            device.start_daemon(PIPETRACK_SYNC_BACKOFF_MAX="1")
        assert ann.run("add", "Acme", "--status", "Cold").returncode == 0
        wait_until(lambda: _status(ben, "Acme") == "Cold", timeout=30, what="ben has Acme")

        backup = _backup(pg_cluster, server)  # the daemons still running
        try:
            _set(ann, "Acme", "Hot")
            assert ann.run("add", "Nova", "--status", "Active").returncode == 0
            wait_until(lambda: _status(ben, "Nova") == "Active", timeout=30, what="ben has Nova")
            before = {n: _audit(server.database_url, n) for n in ("Acme", "Nova")}

            _restore(pg_cluster, server, backup)

            def settled() -> bool:
                return {n: _audit(server.database_url, n) for n in before} == before

            wait_until(settled, timeout=60, what="the server has ann's changes again")
            wait_until(
                lambda: (_status(ben, "Acme"), _status(ben, "Nova")) == ("Hot", "Active"),
                timeout=30,
                what="ben has them again",
            )
        finally:
            pg_cluster.drop_database(backup)


def test_a_daemon_pulls_again_before_it_pushes_what_it_queued_across_a_restore(
    pg_cluster: PgCluster, devices: Callable[[str], Device]
) -> None:
    """Ann's laptop sleeps through the restore with a change queued on Acme's version 2,
    which the restore took away; ben, after the restore, moves Acme on: version 2 again.
    Ann's daemon starts: it pulls everything again before it pushes (its push refused with
    409, a cursor from before the restore, or its pull cursor refused first), and sends
    the change on version 0, so ben's later change makes it a conflict for ann; before,
    version 2 matched and hers went over his without one."""
    with server_on_new_database(pg_cluster) as server:
        ann, ben = devices("ann"), devices("ben")
        for device in (ann, ben):
            device.connect(server.url, server.add_user(device.name))
        assert ann.run("add", "Acme", "--status", "Cold").returncode == 0
        ann.sync_once()
        backup = _backup(pg_cluster, server)
        try:
            _set(ann, "Acme", "Hot")
            ann.sync_once()  # version 2, lost with the restore
            _set(ann, "Acme", "Closed")  # queued on version 2; the laptop sleeps
            _restore(pg_cluster, server, backup)
            daemon = ben.start_daemon(PIPETRACK_SYNC_BACKOFF_MAX="1")
            wait_until(lambda: _status(ben, "Acme") == "Cold", timeout=30, what="ben has Acme")
            _set(ben, "Acme", "Passed")  # later than ann's queued change
            wait_until(lambda: ben.pending() == 0, timeout=30, what="ben's change is out")
            daemon.terminate()

            # its push loop meets a 409, or its pull loop a refused cursor first: either way
            # nothing is pushed until everything is pulled again
            ann.start_daemon(PIPETRACK_SYNC_BACKOFF_MAX="1")

            def settled() -> bool:
                with ann.store() as store:
                    return len(store.conflicts()) == 1 and store.sync_state().pending == 0

            wait_until(settled, timeout=30, what="ann's change meets ben's")
            with ann.store() as store:
                [conflict] = store.conflicts()
            assert (conflict.mine_status, conflict.theirs_status) == ("Closed", "Passed")
            assert [s for s, _ in _audit(server.database_url, "Acme")] == ["Cold", "Passed"]
        finally:
            pg_cluster.drop_database(backup)


def _status(device: Device, name: str) -> str | None:
    with device.store() as store:
        found = [t for t in store.list_targets(TargetQuery()) if t.name == name]
    return found[0].status if found else None


def test_a_daemon_killed_part_way_through_pulling_again_still_sends_the_lost_change(
    pg_cluster: PgCluster, devices: Callable[[str], Device]
) -> None:
    """Killed (-9) after the first page of the pull from the start: the next daemon
    carries on from that page and, at the end, sends the lost change again."""
    with server_on_new_database(pg_cluster) as server, FaultProxy(server.url) as proxy:
        ann = devices("ann")
        ann.connect(proxy.url, server.add_user("ann"))
        for i in range(6):
            assert ann.run("add", f"Team {i}", "--status", "Cold").returncode == 0
        ann.sync_once()
        backup = _backup(pg_cluster, server)
        try:
            _set(ann, "Team 3", "Hot")
            ann.sync_once()
            lost = _audit(server.database_url, "Team 3")
            with ann.store() as store:
                refused = store.pull_cursor()
            _restore(pg_cluster, server, backup)

            proxy.pull_limit = 2  # pages of 2 targets
            proxy.pass_pulls = 2  # the refused cursor, the first page; then held
            daemon = ann.start_daemon()
            wait_until(lambda: proxy.pulls_held >= 1, timeout=30, what="a page held")
            daemon.kill()
            with ann.store() as store:  # part way: the first page from the start stored
                assert store.pull_cursor() not in (None, refused)
            proxy.pass_pulls = None
            proxy.pulls_released.set()

            ann.start_daemon()
            wait_until(
                lambda: _audit(server.database_url, "Team 3") == lost,
                timeout=30,
                what="the lost change sent again",
            )
        finally:
            pg_cluster.drop_database(backup)


class _PullLoopFirst(ApiClient):
    """The real client; before its first push leaves, ``meanwhile()`` runs: what the
    daemon's pull loop may do while a push is being sent."""

    def __init__(self, url: str, token: str, meanwhile: Callable[[], object]) -> None:
        super().__init__(url, token)
        self.meanwhile: Callable[[], object] | None = meanwhile

    def push(self, device_id, changes, cursor=None):
        if self.meanwhile is not None:
            self.meanwhile, meanwhile = None, self.meanwhile
            meanwhile()
        return super().push(device_id, changes, cursor)


def test_a_push_refused_after_the_pull_loop_pulled_again_is_sent_again_at_once(
    pg_cluster: PgCluster, devices: Callable[[str], Device]
) -> None:
    """The push leaves with the cursor from before the restore while the pull loop, on
    its own connection, pulls everything again: the 409 that follows starts no second
    pull from the start; the push goes again with the new cursor."""
    with server_on_new_database(pg_cluster) as server:
        ann = devices("ann")
        token = server.add_user("ann")
        ann.connect(server.url, token)
        assert ann.run("add", "Acme", "--status", "Cold").returncode == 0
        ann.sync_once()
        reset = subprocess.run(
            [sys.executable, "-m", "pipetrack", "admin", "reset-cursors"]
            + ["--database-url", server.database_url],
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert reset.returncode == 0, reset.stderr
        _set(ann, "Acme", "Hot")
        backoff = Backoff(threading.Event(), Wakeable(), cap=1, attempts=3)

        def pull_loop() -> None:
            with ann.store() as other, ApiClient(server.url, token) as client:
                other.restart_pull()
                Puller(other, client, backoff).pull_available()

        with ann.store() as store, _PullLoopFirst(server.url, token, pull_loop) as client:
            before = store.pull_cursor()
            tally = Pusher(store, client, backoff).push_pending()
            assert tally.outcomes.applied == 1
            assert not store.pulling_again() and store.pull_cursor() != before
        assert [s for s, _ in _audit(server.database_url, "Acme")] == ["Cold", "Hot"]


def test_a_teammates_lost_target_made_again_is_taken_as_the_server_has_it(
    pg_cluster: PgCluster, devices: Callable[[str], Device]
) -> None:
    """After the backup ann made Lost (Active), ben moved it to Closed (version 2). The
    restore loses both; ben pulls again first (Lost is not on the server), then ann's
    laptop makes Lost again (version 1, Active). Ben takes it: he kept version 2, ahead
    of the server's, and ignored it as older for good, "synced" (QA, 2026-12-05)."""
    with server_on_new_database(pg_cluster) as server:
        ann, ben, fresh = devices("ann"), devices("ben"), devices("fresh")
        for device in (ann, ben, fresh):
            device.connect(server.url, server.add_user(device.name))
        assert ann.run("add", "Old", "--status", "Cold").returncode == 0
        for device in (ann, ben):
            device.sync_once()
        backup = _backup(pg_cluster, server)
        try:
            assert ann.run("add", "Lost", "--status", "Active").returncode == 0
            ann.sync_once()
            ben.sync_once()
            _set(ben, "Lost", "Closed")
            ben.sync_once()
            _restore(pg_cluster, server, backup)
            ben.sync_once()  # pulls again: Lost is not on the server
            ann.sync_once()  # makes Lost again
            ben.sync_once()
            fresh.sync_once()
            assert _listed(fresh, "Lost") == ("Active", 1)
            assert _listed(ben, "Lost") == ("Active", 1)
            with ben.store() as store:
                assert store.sync_state().pending == 0
        finally:
            pg_cluster.drop_database(backup)


def _details(device: Device, name: str) -> tuple[str, list[str]]:
    result = device.run("list", "--json")
    assert result.returncode == 0, result.stderr
    [row] = [t for t in json.loads(result.stdout) if t["name"] == name]
    return row["description"], row["markets"]


def test_an_edit_the_restored_server_lost_is_sent_again(
    pg_cluster: PgCluster, devices: Callable[[str], Device]
) -> None:
    """Bob's edit of Borealis (and his status change) reached the server after the
    backup; the restore lost both. The status came back, the edit vanished from his own
    laptop without a word (edits were not kept). Now it comes back too; an edit of
    Cobalt the server lost, whose details cat changed after the restore, meets cat's
    as a conflict, not overwriting it; one the server kept is not sent twice."""
    with server_on_new_database(pg_cluster) as server:
        bob, cat = devices("bob"), devices("cat")
        for device in (bob, cat):
            device.connect(server.url, server.add_user(device.name))
        for name in ("Borealis", "Cobalt", "Kept"):
            assert bob.run("add", name, "--status", "Cold").returncode == 0
        assert bob.run("edit", "Kept", "--description", "before the backup").returncode == 0
        bob.sync_once()
        cat.sync_once()
        backup = _backup(pg_cluster, server)
        try:
            for name in ("Borealis", "Cobalt"):
                edited = bob.run("edit", name, "--description", "met the CFO", "--market", "EU")
                assert edited.returncode == 0, edited.stderr
            _set(bob, "Borealis", "Hot")
            bob.sync_once()
            _restore(pg_cluster, server, backup)
            cat.sync_once()
            assert cat.run("edit", "Cobalt", "--description", "cat's, after").returncode == 0
            cat.sync_once()

            synced = bob.sync_once()
            assert "the server had lost 3 changes of ours" in synced.stderr, synced.stderr
            assert _details(bob, "Borealis") == ("met the CFO", ["EU"])
            assert _listed(bob, "Borealis")[0] == "Hot"
            assert _details(bob, "Kept") == ("before the backup", [])
            cat.sync_once()
            assert _details(cat, "Borealis") == ("met the CFO", ["EU"])
            assert _details(cat, "Cobalt") == ("cat's, after", [])  # not overwritten
            [conflict] = json.loads(bob.run("conflicts", "--json").stdout)
            assert conflict["name"] == "Cobalt", conflict
            assert conflict["mine"]["fields"]["description"] == "met the CFO", conflict
            with psycopg.connect(server.database_url) as conn:
                [(edits,)] = conn.execute(
                    "SELECT count(*) FROM audit_log a JOIN targets t ON t.id = a.target_id"
                    " WHERE t.name = 'Kept' AND a.op = 'edit'"
                ).fetchall()
            assert edits == 1  # the edit the server kept: never sent again
        finally:
            pg_cluster.drop_database(backup)
