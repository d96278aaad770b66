"""Stopping the server (a deploy, a restart) while devices are parked in long-polls."""

from __future__ import annotations

import signal
import threading
import time

import httpx
import pytest

from tests.support.server import ServerProcess


@pytest.mark.parametrize("workers", [1, 2])
def test_sigterm_ends_long_polls_at_once_and_stops_cleanly(
    database_url: str, tmp_path, workers: int
):
    """Long-polls answer at once, as if nothing new came (200, the same cursor: the
    device simply asks again, of another server or of this one once it is back), and
    the process exits 0 with no error in its log. Before, they were cut after uvicorn's
    5 s grace: a 500 with a traceback, and the pool's close failed in the log too."""
    server = ServerProcess(database_url, log_dir=tmp_path, workers=workers).start()
    try:
        headers = server.auth(server.add_user(f"parked-{workers}"))
        with httpx.Client(base_url=server.url, headers=headers, timeout=60) as http:
            cursor = http.get("/v1/pull").json()["cursor"]  # nothing after it: they wait
        answers: list[httpx.Response | Exception] = []

        def park() -> None:
            with httpx.Client(base_url=server.url, headers=headers, timeout=60) as http:
                try:
                    answers.append(http.get("/v1/pull", params={"cursor": cursor, "wait": 25}))
                except httpx.HTTPError as err:
                    answers.append(err)

        parked = [threading.Thread(target=park) for _ in range(3)]
        for thread in parked:
            thread.start()
        time.sleep(1.0)  # in their wait
        stopping = time.monotonic()
        server._proc.send_signal(signal.SIGTERM)
        for thread in parked:
            thread.join(30)
        answered_s = time.monotonic() - stopping
        code = server._proc.wait(30)
    finally:
        server.stop()

    assert [a.status_code if isinstance(a, httpx.Response) else a for a in answers] == [200] * 3
    assert all(a.json()["cursor"] == cursor and not a.json()["targets"] for a in answers)
    assert answered_s < 2.0, answered_s
    assert code == 0
    log = server.log_text()
    assert "Traceback" not in log and "ERROR" not in log, log[-3000:]
