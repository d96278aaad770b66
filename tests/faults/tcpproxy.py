"""A TCP proxy on 127.0.0.1 that breaks HTTP exchanges the way networks do.

Bytes are forwarded unchanged in both directions. Per exchange (a request, then the
first bytes of its answer) ``choose()`` picks a fault:

- ``pass``: nothing happens;
- ``refuse``: the connection is reset (RST) before the request reaches the server;
- ``drop``: the request reaches the server, which answers; the answer is thrown away and
  the connection closed (the client sees no response: a lost response);
- ``reset``: as ``drop``, but the client gets a TCP reset;
- ``truncate``: the client gets part of the answer, then the connection closes;
- ``delay``: the answer is held ``delay_s`` seconds, then forwarded.

``proxy.calm()`` stops injecting (for the final sync to quiescence).
"""

from __future__ import annotations

import contextlib
import random
import socket
import struct
import threading
import time
from collections import Counter
from collections.abc import Callable

FAULTS = ("pass", "refuse", "drop", "reset", "truncate", "delay")


def random_faults(rng: random.Random, rate: float) -> Callable[[], str]:
    """With probability ``rate`` a fault other than ``pass``, chosen uniformly."""
    lock = threading.Lock()

    def choose() -> str:
        with lock:
            return rng.choice(FAULTS[1:]) if rng.random() < rate else "pass"

    return choose


def _rst_close(sock: socket.socket) -> None:
    """Close with a TCP reset instead of an orderly FIN. ``shutdown(SHUT_RD)`` first wakes
    a thread blocked reading the socket (which would otherwise delay the close forever)."""
    with contextlib.suppress(OSError):
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    with contextlib.suppress(OSError):
        sock.shutdown(socket.SHUT_RD)
    with contextlib.suppress(OSError):
        sock.close()


class _Pair:
    """One client connection and its upstream connection."""

    def __init__(self, proxy: TcpFaultProxy, client: socket.socket) -> None:
        self.proxy = proxy
        self.client = client
        self.upstream = socket.create_connection(proxy.upstream, timeout=10)
        self.upstream.settimeout(None)
        self.fault = "pass"
        self.awaiting_answer = False
        self.closed = threading.Event()
        self.lock = threading.Lock()

    def run(self) -> None:
        for target in (self._requests, self._answers):
            threading.Thread(target=target, daemon=True).start()

    def close(self, reset: bool = False) -> None:
        with self.lock:
            if self.closed.is_set():
                return
            self.closed.set()
        if reset:
            _rst_close(self.client)
        for sock in (self.client, self.upstream):
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)
            with contextlib.suppress(OSError):
                sock.close()

    def _requests(self) -> None:
        try:
            while not self.closed.is_set():
                data = self.client.recv(65536)
                if not data:
                    break
                if not self.awaiting_answer:  # the first bytes of a new request
                    self.fault = self.proxy.choose()
                    self.proxy.count(self.fault)
                    if self.fault == "refuse":
                        self.close(reset=True)
                        return
                    self.awaiting_answer = True
                self.upstream.sendall(data)
        except OSError:
            pass
        self.close()

    def _answers(self) -> None:
        try:
            while not self.closed.is_set():
                data = self.upstream.recv(65536)
                if not data:
                    break
                if self.awaiting_answer:  # the first bytes of the answer
                    self.awaiting_answer = False
                    if self._fault_answer(data):
                        return
                    continue
                self.client.sendall(data)
        except OSError:
            pass
        self.close()

    def _fault_answer(self, data: bytes) -> bool:
        """Apply this exchange's fault to the first bytes of its answer; True when the
        connection is gone."""
        fault = self.fault
        if fault == "drop":
            self.close()
        elif fault == "reset":
            self.close(reset=True)
        elif fault == "truncate":
            self.client.sendall(data[: max(1, len(data) // 2)])
            self.close()
        else:
            if fault == "delay":
                time.sleep(self.proxy.delay_s)
            self.client.sendall(data)
            return False
        return True


class TcpFaultProxy:
    def __init__(
        self,
        upstream_port: int,
        choose: Callable[[], str] = lambda: "pass",
        delay_s: float = 0.5,
    ) -> None:
        self.upstream = ("127.0.0.1", upstream_port)
        self.choose = choose
        self.delay_s = delay_s
        #: How many exchanges got each fault.
        self.faults: Counter[str] = Counter()
        self._count_lock = threading.Lock()
        self._listener = socket.create_server(("127.0.0.1", 0))
        self._pairs: list[_Pair] = []
        self._stopping = threading.Event()
        self._thread = threading.Thread(target=self._accept, daemon=True)

    @property
    def port(self) -> int:
        return self._listener.getsockname()[1]

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def count(self, fault: str) -> None:
        with self._count_lock:
            self.faults[fault] += 1

    def calm(self) -> None:
        """No more faults from now on."""
        self.choose = lambda: "pass"

    def __enter__(self) -> TcpFaultProxy:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stopping.set()
        with contextlib.suppress(OSError):
            self._listener.close()
        for pair in self._pairs:
            pair.close()
        self._thread.join(5)

    def _accept(self) -> None:
        while not self._stopping.is_set():
            try:
                client, _ = self._listener.accept()
            except OSError:
                return
            try:
                pair = _Pair(self, client)
            except OSError:  # the server is down: the client sees a reset
                _rst_close(client)
                continue
            self._pairs = [p for p in self._pairs if not p.closed.is_set()] + [pair]
            pair.run()
