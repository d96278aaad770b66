"""Every error answer is JSON ``{"message": ..., "field": ...}`` (protocol.wire.ErrorBody)."""

from __future__ import annotations

import json
import logging

import psycopg
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from psycopg_pool import PoolTimeout
from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Receive, Scope, Send

from protocol.wire import MAX_CHANGES_PER_PUSH, MAX_PUSH_BYTES, PULL_WAIT_MAX, ErrorBody

from .auth import UNAUTHORIZED_HEADERS, Revoked, authenticate, why_revoked
from .pull import BadCursor, StaleCursor

log = logging.getLogger("pipetrack.server")


def error_response(status: int, message: str, field: str | None = None, headers=None):
    body = ErrorBody(message=message, field=field).model_dump()
    return JSONResponse(body, status_code=status, headers=headers)


def _field(loc: tuple) -> str | None:
    parts = [str(p) for p in loc if p not in ("body", "query", "path", "header")]
    return ".".join(parts) or None


#: What a parameter must be, said instead of pydantic's words about the value given
#: (``wait=nan`` was "Input should be less than or equal to 60").
_SAID = {("query", "wait"): f"must be a number of seconds from 0 to {PULL_WAIT_MAX:g}"}


async def _validation(request: Request, exc: RequestValidationError):
    errors = exc.errors()
    for err in errors:
        if err.get("type") == "json_invalid":
            # the body is parsed before the auth dependency runs: check the token first
            if request.url.path.startswith("/v1/") and await authenticate(request) is None:
                return error_response(401, "invalid or missing token", headers=UNAUTHORIZED_HEADERS)
            return error_response(400, "the request body is not valid JSON")
        if tuple(err.get("loc", ())) == ("body", "changes") and err.get("type") == "too_long":
            return error_response(
                413,
                f"a push carries at most {MAX_CHANGES_PER_PUSH} changes; send the rest next",
                "changes",
            )
    first = errors[0] if errors else {}
    field = _field(tuple(first.get("loc", ())))
    message = _SAID.get(tuple(first.get("loc", ())), first.get("msg", "invalid request"))
    more = f" (and {len(errors) - 1} more problems)" if len(errors) > 1 else ""
    return error_response(422, f"{field}: {message}{more}" if field else message, field)


async def _http(request: Request, exc: HTTPException):
    return error_response(exc.status_code, str(exc.detail), headers=exc.headers)


async def _bad_cursor(request: Request, exc: BadCursor):
    status = 409 if isinstance(exc, StaleCursor) else 400
    return error_response(status, str(exc), "cursor")


async def _revoked(request: Request, exc: Revoked):
    why = await why_revoked(request)  # for the log line (ErrorLog); the user is known
    if why:
        request.state.refused_why = why
    return error_response(401, "invalid or disabled token", headers=UNAUTHORIZED_HEADERS)


#: When a device should ask again while the database is down (``Retry-After``): the
#: API answers again within a second or two of its return (server/db.py), and a device
#: backing off up to its cap (a minute) stayed behind that long after it.
RETRY_AFTER_S = 10


async def _database_down(request: Request, exc: Exception):
    log.warning("database unavailable: %s", type(exc).__name__)
    return error_response(
        503,
        "the database is unavailable; try again shortly",
        headers={"Retry-After": str(RETRY_AFTER_S)},
    )


async def _internal(request: Request, exc: Exception):
    log.exception("internal error")
    return error_response(500, "internal server error")


def install_error_handlers(app: FastAPI) -> None:
    app.add_exception_handler(RequestValidationError, _validation)
    app.add_exception_handler(HTTPException, _http)
    app.add_exception_handler(BadCursor, _bad_cursor)
    app.add_exception_handler(Revoked, _revoked)
    app.add_exception_handler(psycopg.OperationalError, _database_down)
    app.add_exception_handler(PoolTimeout, _database_down)
    app.add_exception_handler(Exception, _internal)


class ErrorLog:
    """ASGI middleware: a line for each 4xx answer (method, path, status, the user when
    the token was known, also a disabled user's or one revoked while the request waited,
    with why: ``to carol (disabled)``; the answer's message; never the token nor the
    query string),
    at WARNING for a 401, INFO for the others: ``serve --no-access-log`` drops uvicorn's
    line per request, and a refused request must still be seen (5xx are logged where
    they happen)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        status = 0
        body = b""

        async def logged_send(message) -> None:
            nonlocal status, body
            if message["type"] == "http.response.start":
                status = message["status"]
            elif message["type"] == "http.response.body" and 400 <= status < 500:
                if len(body) < 4096:
                    body += message.get("body", b"")
                if not message.get("more_body", False):
                    _log_refusal(scope, status, body)
            await send(message)

        await self.app(scope, receive, logged_send)


def one_line(text: str, most: int) -> str:
    """``text`` fit for a log line: control characters as spaces, cut at ``most`` (…)."""
    text = "".join(c if c.isprintable() else " " for c in str(text))
    return text if len(text) <= most else text[: most - 1] + "…"


def _log_refusal(scope: Scope, status: int, body: bytes) -> None:
    try:
        message = str(json.loads(body).get("message") or "")
    except (ValueError, AttributeError):
        message = ""
    message = one_line(message, 300)
    state = scope.get("state") or {}
    user = state.get("user") or state.get("refused_user")
    why = state.get("refused_why") if user else None
    client = scope.get("client")
    log.log(
        logging.WARNING if status == 401 else logging.INFO,
        "%s %s answered %d%s%s%s%s",
        scope.get("method", "?"),
        scope.get("path", "?"),
        status,
        f" to {one_line(user, 100)}" if user else "",
        f" ({why})" if why else "",
        f" (from {client[0]})" if client else "",
        f": {message}" if message else "",
    )


class BodyLimit:
    """ASGI middleware: a request body over ``max_bytes`` is answered 413 unread."""

    def __init__(self, app: ASGIApp, max_bytes: int = MAX_PUSH_BYTES) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] in ("GET", "HEAD", "OPTIONS"):
            await self.app(scope, receive, send)
            return
        length = dict(scope["headers"]).get(b"content-length")
        if length is not None and length.isdigit() and int(length) > self.max_bytes:
            await self._too_large(scope, receive, send)
            return
        chunks, size, more = [], 0, True
        while more:
            message = await receive()
            if message["type"] != "http.request":
                return  # client went away
            chunks.append(message.get("body", b""))
            size += len(chunks[-1])
            if size > self.max_bytes:
                await self._too_large(scope, receive, send)
                return
            more = message.get("more_body", False)
        body = b"".join(chunks)
        replayed = False

        async def replay():
            nonlocal replayed
            if replayed:
                return await receive()
            replayed = True
            return {"type": "http.request", "body": body, "more_body": False}

        await self.app(scope, replay, send)

    async def _too_large(self, scope: Scope, receive: Receive, send: Send) -> None:
        mib = self.max_bytes / (1024 * 1024)
        response = error_response(
            413, f"the request body is larger than {mib:g} MiB; push fewer changes at once"
        )
        await response(scope, receive, send)
