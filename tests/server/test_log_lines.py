"""Every line of the server's log starts with its time and level. psycopg_pool's warning
about a database it cannot reach quotes libpq's two-line reason ("... Connection
refused" then "Is the server running on that host ..."); its second line had neither."""

from __future__ import annotations

import re
import subprocess
import sys
import textwrap

from tests.support.server import free_port

STAMPED = re.compile(r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d{3} (DEBUG|INFO|WARNING|ERROR|CRITICAL) ")


def test_a_pool_that_cannot_connect_logs_one_stamped_line_a_warning():
    script = textwrap.dedent(
        f"""
        import time
        from psycopg_pool import ConnectionPool
        from server.settings import setup_logging

        setup_logging()
        pool = ConnectionPool(
            "postgresql://nobody@127.0.0.1:{free_port()}/none?connect_timeout=2",
            min_size=1, open=True, reconnect_timeout=0.5,
        )
        time.sleep(1.5)
        pool.close(timeout=1)
        """
    )
    run = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=60, check=True
    )
    lines = run.stderr.splitlines()
    assert any("Connection refused" in line for line in lines), run.stderr
    assert any("Is the server running" in line for line in lines), run.stderr
    assert [line for line in lines if not STAMPED.match(line)] == [], run.stderr
