"""A Wi-Fi sign-in page on loopback: what a hotel's network answers to every request
until the user signs in (a redirect to its page, the page itself, or 511)."""

from __future__ import annotations

from http.server import BaseHTTPRequestHandler

from tests.sync.loopback import LoopbackServer

PAGE = b"<html><body>Welcome to Hotel Wi-Fi. Accept the terms to go online.</body></html>"
ANSWERS = ("redirect", "page", "511")
#: Not a sign-in page: a load balancer sending plain http to its https address.
TO_HTTPS = "https"


class Portal(LoopbackServer):
    def __init__(self, answer: str) -> None:
        assert answer in (*ANSWERS, TO_HTTPS), answer
        super().__init__(_Handler)
        self.answer = answer


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def do_GET(self) -> None:
        self._answer()

    def do_POST(self) -> None:
        self.rfile.read(int(self.headers.get("Content-Length") or 0))
        self._answer()

    def log_message(self, format: str, *args: object) -> None:
        pass

    def _answer(self) -> None:
        answer = self.server.owner.answer  # type: ignore[attr-defined]
        code = {"redirect": 302, "page": 200, "511": 511, TO_HTTPS: 301}[answer]
        self.send_response(code)
        if answer == "redirect":
            self.send_header("Location", "http://portal.hotel.example/login")
        elif answer == TO_HTTPS:
            host, port = self.server.server_address[:2]
            self.send_header("Location", f"https://{host}:{port}{self.path}")
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Content-Length", str(len(PAGE)))
        self.end_headers()
        self.wfile.write(PAGE)
