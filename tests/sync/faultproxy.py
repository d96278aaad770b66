"""An HTTP proxy between a daemon and the real server that injects network faults.

Everything is forwarded unchanged (long-polls included) unless a test asks for a fault:

- ``fail_pushes``: answer the next pushes with these status codes (e.g. 503), without
  forwarding them;
- ``max_body``: answer 413 to a push whose body is larger, without forwarding it;
- ``poison``: rewrite the status changes to these target uids with an unknown status,
  so the real server rejects them;
- ``bad_cursors``: replace the cursor of that many pulls with one the server refuses
  (as after a restore of its database);
- ``hold_pushes``: forward a push, let the server answer, then hold that answer until
  ``release`` is set (``push_answered`` says the server has applied it) — a test kills
  the daemon in between to lose the response;
- ``gate``: while cleared, every request waits here before it is forwarded;
- ``pull_limit``: pulls ask for pages of at most this many rows (a catch-up in pages);
- ``pass_pulls``: forward that many more pulls, then hold the next ones until
  ``pulls_released`` is set (a catch-up stopped part way; with ``pass_pulls`` set to
  None again, a connection that died: the held ones stay, later ones pass);
  ``pulls_held`` counts those held now;
- ``unknown_paths``: forward these to a route the server does not have (404), as a
  server of an older version answers.
"""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import httpx

from tests.sync.loopback import LoopbackServer

PUSH = "/v1/push"
PULL = "/v1/pull"
BAD_STATUS = "Lukewarm"


class FaultProxy(LoopbackServer):
    def __init__(self, upstream: str) -> None:
        super().__init__(_Handler)
        self.upstream = upstream.rstrip("/")
        self.fail_pushes: list[int] = []
        self.max_body: int | None = None
        self.poison: set[str] = set()
        self.bad_cursors = 0
        self.hold_pushes = False
        self.push_answered = threading.Event()
        self.release = threading.Event()
        self.gate = threading.Event()
        self.gate.set()
        self.pull_limit: int | None = None
        #: Paths sent on to a route the server does not have, as an older server's.
        self.unknown_paths: set[str] = set()
        self.pass_pulls: int | None = None
        self.pulls_released = threading.Event()
        self.pulls_held = 0
        self._counting = threading.Lock()  # pass_pulls, across the handler threads
        #: Number of changes in each push forwarded to the server.
        self.push_sizes: list[int] = []
        #: Body sizes of pushes answered 413 here.
        self.refused_sizes: list[int] = []
        self._http = httpx.Client(timeout=120)

    def __exit__(self, *exc: object) -> None:
        self.release.set()
        self.gate.set()
        self.pulls_released.set()
        super().__exit__(*exc)
        self._http.close()

    def rewrite_path(self, path: str) -> str:
        parts = urlsplit(path)
        query = dict(parse_qsl(parts.query))
        if parts.path in self.unknown_paths:
            return "/v1/not-in-this-version"
        if parts.path != PULL:
            return path
        changed = dict(query)
        if self.pull_limit is not None:
            changed["limit"] = str(self.pull_limit)
        if "cursor" in query and self.bad_cursors > 0:
            self.bad_cursors -= 1
            changed["cursor"] = "bm90LWEtY3Vyc29y"
        if changed == query:
            return path
        return urlunsplit(parts._replace(query=urlencode(changed)))

    def hold_pull(self) -> None:
        """Wait here if ``pass_pulls`` are used up (see the module docstring)."""
        with self._counting:
            if self.pass_pulls is None:
                return
            if self.pass_pulls > 0:
                self.pass_pulls -= 1
                return
            self.pulls_held += 1
        self.pulls_released.wait()
        with self._counting:
            self.pulls_held -= 1

    def rewrite(self, body: bytes) -> bytes:
        request = json.loads(body)
        self.push_sizes.append(len(request["changes"]))
        if not self.poison:
            return body
        for change in request["changes"]:
            if change["target"] in self.poison and change["op"] == "set_status":
                change["status"] = BAD_STATUS
        return json.dumps(request).encode()


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: ThreadingHTTPServer

    def do_GET(self) -> None:
        self._forward()

    def do_POST(self) -> None:
        self._forward()

    def log_message(self, format: str, *args: object) -> None:
        pass

    def _forward(self) -> None:
        proxy: FaultProxy = self.server.owner  # type: ignore[attr-defined]
        proxy.gate.wait()
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        push = self.command == "POST" and self.path == PUSH
        if push and proxy.fail_pushes:
            self._reply(proxy.fail_pushes.pop(0), b'{"message": "injected failure"}', None)
            return
        if push and proxy.max_body is not None and len(body) > proxy.max_body:
            proxy.refused_sizes.append(len(body))
            self._reply(413, b'{"message": "request body too large (proxy)"}', None)
            return
        if push:
            body = proxy.rewrite(body)
        elif urlsplit(self.path).path == PULL:
            proxy.hold_pull()
        headers = {k: v for k, v in self.headers.items() if k.lower() in _PASSED}
        try:
            answer = proxy._http.request(
                self.command,
                proxy.upstream + proxy.rewrite_path(self.path),
                content=body,
                headers=headers,
            )
        except httpx.TransportError:
            self._reply(502, b'{"message": "upstream unreachable (proxy)"}', None)
            return
        if push and proxy.hold_pushes:
            proxy.push_answered.set()
            proxy.release.wait()
        self._reply(answer.status_code, answer.content, answer.headers.get("content-type"))

    def _reply(self, code: int, body: bytes, content_type: str | None) -> None:
        try:
            self.send_response(code)
            self.send_header("Content-Type", content_type or "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)
        except OSError:
            self.close_connection = True  # the client is gone (killed)


_PASSED = frozenset({"authorization", "content-type", "accept"})
