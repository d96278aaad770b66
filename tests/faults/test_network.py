"""Network faults between the daemons and the API: a TCP proxy drops answers after the
server acted on the request, resets connections, truncates answers and delays them."""

from __future__ import annotations

import time

import pytest

from tests.support.server import ServerProcess

from .conftest import Figures, Sizes
from .harness import Team, check_fleet, seeded, settle, start_daemon
from .tcpproxy import FAULTS, TcpFaultProxy, random_faults


@pytest.mark.slow
def test_dropped_reset_truncated_and_delayed_exchanges_lose_and_duplicate_nothing(
    team: Team, server: ServerProcess, sizes: Sizes, figures: Figures
):
    rng = seeded(figures)
    with TcpFaultProxy(server.port, random_faults(rng, rate=0.5), delay_s=0.3) as proxy:
        team.connect(proxy.url)
        # a short long-poll, so pulls cross the proxy often too
        daemons = [start_daemon(d, PIPETRACK_SYNC_WAIT="1") for d in team.devices]
        with team.users(rng) as users:
            for _ in range(sizes.proxy_rounds):
                figures.add("rounds")
                for _ in range(rng.randint(1, 8)):
                    rng.choice(users).act()
                time.sleep(rng.uniform(0.05, 0.4))
            figures["changes"] = sum(u.ledger.total for u in users)
        proxy.calm()
        settle(team.fleet(users), server, daemons)
        for fault in FAULTS:
            figures[fault] = proxy.faults[fault]
    assert sum(proxy.faults[f] for f in FAULTS[1:]) > 0, "no fault was injected"
    check_fleet(team.fleet(users), server, figures)
