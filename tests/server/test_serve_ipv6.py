"""``serve --host ::1`` logs its address as a URL writes it: ``http://[::1]:PORT`` (it
was ``http://::1:PORT``, which no browser or curl takes). ``--host '[::1]'`` is taken
as ``::1`` (it was "Name or service not known")."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time

import httpx
import pytest


def _free_ipv6_port() -> int:
    try:
        with socket.socket(socket.AF_INET6) as probe:
            probe.bind(("::1", 0))
            return probe.getsockname()[1]
    except OSError:
        pytest.skip("no IPv6 loopback here")


@pytest.mark.parametrize("host", ["::1", "[::1]"])  # also as a URL writes it
def test_an_ipv6_host_is_logged_in_brackets(database_url, tmp_path, host):
    port = _free_ipv6_port()
    log_path = tmp_path / "serve.log"
    with open(log_path, "wb") as log:
        proc = subprocess.Popen(
            [sys.executable, "-m", "pipetrack.server_cmd", "serve", "--host", host,
             "--port", str(port), "--database-url", database_url],
            stdout=log, stderr=subprocess.STDOUT, env={**os.environ, "PYTHONUNBUFFERED": "1"},
        )  # fmt: skip
    try:
        url = f"http://[::1]:{port}"
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"{url}/healthz", timeout=2).status_code == 200:
                    break
            except httpx.TransportError:
                time.sleep(0.1)
        else:
            raise AssertionError(log_path.read_text())
        text = log_path.read_text()
        assert f"pipetrack server on {url} (1 worker," in text, text
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(15)
