"""``pipetrack login`` to another server address while the sync daemon runs: the daemon
switches to it (it said "uses it now" and went on pushing to the old address, which
then went away: offline until restarted by hand)."""

from __future__ import annotations

from tests.sync.faultproxy import FaultProxy
from tests.sync.synchelp import Device, audit_change_ids, wait_until


def test_the_daemon_follows_a_login_to_another_address(
    a: Device, server, token: str, proxy: FaultProxy, database_url: str
) -> None:
    a.connect(proxy.url, token)  # the old address
    daemon = a.start_daemon()
    wait_until(a.online, timeout=20, what="the daemon online by the old address")
    login = a.run("login", server.url, "--token", token)
    assert login.returncode == 0, login.stderr
    assert "uses it now" in login.stderr
    daemon.wait_log(f"now syncs with {server.url}.*switching", timeout=10)
    proxy.gate.clear()  # the old address answers no more
    with a.store() as store:
        device = store.device_id
        store.create_target("Moved Along", status="Hot")
    wait_until(
        lambda: audit_change_ids(database_url, device),
        timeout=15,
        what="the change on the server through the new address",
    )
    status = a.run("status")
    assert server.url in status.stdout and "online" in status.stdout.lower(), status.stdout
    assert daemon.terminate() == 0
