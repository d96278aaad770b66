"""The HTTP client of the sync API (DESIGN.md, "Sync protocol").

Every failure becomes one of the exceptions below, so callers decide by type:
:class:`Transient` (network error, timeout, 5xx: retry later, the request may or may
not have been applied), :class:`Unauthorized` (401: the token was refused),
:class:`Refused` (any other 4xx: the request itself is wrong; :class:`PayloadTooLarge`
for 413, send less). The bearer token is read from a callable on every request, so
a new ``pipetrack login`` takes effect without a restart; it is never logged.
"""

from __future__ import annotations

import errno
import json
import socket
import ssl
import sys
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any, NotRequired, TypeVar
from urllib.parse import urlsplit

from pydantic import ConfigDict, TypeAdapter, ValidationError
from pydantic_core import to_json
from typing_extensions import TypedDict  # pydantic needs this one before Python 3.12

from protocol.wire import CURSOR_HEADER, Change, Me, Outcome, PullResponse
from storage import PushResult, WireChange


@contextmanager
def _hidden(module: str) -> Iterator[None]:
    """``import module`` fails inside the block (``None`` in ``sys.modules``), as if it
    were not installed; afterwards it imports normally again."""
    hide = module not in sys.modules
    if hide:
        sys.modules[module] = None  # type: ignore[assignment]
    try:
        yield
    finally:
        if hide and module in sys.modules and sys.modules[module] is None:
            del sys.modules[module]


# httpx/__init__ imports its command-line tool (httpx._main: click, rich, pygments,
# ~0.1-0.15 s, a third of httpx's import) when it can and a stub when it cannot.
with _hidden("httpx._main"):
    import httpx

CONNECT_TIMEOUT = 5.0
#: Time allowed for one push of up to 1,000 changes.
PUSH_TIMEOUT = 60.0
#: How much longer than ``wait`` a long-poll may take before it counts as lost.
PULL_GRACE = 15.0


class ApiError(Exception):
    """Any failure talking to the server; ``str()`` says what happened in one line."""


class Transient(ApiError):
    """Network error, timeout or 5xx: nothing is known about the request; retry later."""

    #: Retry at least this often (seconds), whatever the backoff's cap: None = the cap.
    retry_within: float | None = None


class ServerError(Transient):
    """The server answered 5xx (or an answer the protocol does not allow)."""


class NotTheServer(Transient):
    """Something on the way answered instead of the server: a redirect, or a page that
    is not the API's JSON, as a hotel's or an airport's Wi-Fi sign-in page does. Later,
    once signed in, the same request gets through.

    Retried every 10 s at most, not after up to a minute: signing in changes nothing
    the network watch sees, and these requests never reach the server."""

    retry_within = 10.0

    def __init__(self, where: str) -> None:
        super().__init__(
            f"something other than the pipetrack API answered ({where}): "
            "a Wi-Fi sign-in page (sign in, and sync carries on), or a wrong server URL?"
        )
        #: What answered, e.g. ``HTTP 200, text/html``.
        self.where = where


class Unauthorized(ApiError):
    """401: the server refused the token."""


class Refused(ApiError):
    """A 4xx other than 401: the server will never accept this request as it is."""

    def __init__(self, status_code: int, message: str) -> None:
        super().__init__(message)
        self.status_code = status_code


class PayloadTooLarge(Refused):
    """413: the push carried too many changes or bytes."""


class PullFirst(Refused):
    """409 to a push: the server's database was restored since our last pull (our cursor
    is not one of its own), so it decided nothing; pull everything again, then push."""


class UseHttps(Refused):
    """The server's address redirects plain http to https (a load balancer does): the
    profile must name the https address (it never follows a redirect with the token)."""

    def __init__(self, status_code: int, url: str) -> None:
        super().__init__(status_code, f"the server redirects to https: use {url}")
        self.url = url


class _StateHead(TypedDict):
    """A result's target state: ``version`` checked, the rest kept as JSON values (the
    store checks a whole state where it stores one)."""

    __pydantic_config__ = ConfigDict(extra="allow")  # type: ignore[misc]
    version: int


class _LeanResult(TypedDict):
    __pydantic_config__ = ConfigDict(extra="forbid")  # type: ignore[misc]
    change_id: str
    outcome: Outcome
    target: NotRequired[_StateHead | None]
    error: NotRequired[str | None]


class _LeanPushResponse(TypedDict):
    __pydantic_config__ = ConfigDict(extra="forbid")  # type: ignore[misc]
    results: list[_LeanResult]


#: A push answer as plain data: ~2.5x cheaper than :class:`~protocol.wire.PushResponse`
#: (no UUID, datetime or model per result).
_PUSH_ANSWER = TypeAdapter(_LeanPushResponse)

TokenSource = Callable[[], str | None]


def push_body(device_id: str, changes: Sequence[Change | WireChange]) -> bytes:
    """``PushRequest(device_id=..., changes=...).model_dump_json()``, byte for byte, from
    the changes' own JSON (a :class:`WireChange` carries it; a model writes it)."""
    items = ",".join(c.json if isinstance(c, WireChange) else c.model_dump_json() for c in changes)
    return b'{"device_id":' + to_json(device_id) + b',"changes":[' + items.encode() + b"]}"


class ApiClient:
    """A thin, blocking client of ``/v1`` for one thread (one connection pool)."""

    def __init__(
        self,
        base_url: str,
        token: TokenSource | str | None,
        *,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self._token = token if callable(token) else (lambda: token)
        self._http = httpx.Client(
            base_url=self.base_url,
            timeout=httpx.Timeout(PUSH_TIMEOUT, connect=CONNECT_TIMEOUT),
            transport=transport,
            headers={"User-Agent": "pipetrack-syncd"},
            verify=_tls_context(self.base_url),
        )

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> ApiClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # ---- the calls --------------------------------------------------------------------
    def push(
        self,
        device_id: str,
        changes: Sequence[Change | WireChange],
        cursor: str | None = None,
    ) -> list[PushResult]:
        """POST /v1/push; the results, checked to answer exactly ``changes`` in order.
        ``cursor``: our pull cursor, which a server restored since refuses (PullFirst)."""
        headers = {"Content-Type": "application/json"}
        if cursor is not None:
            headers[CURSOR_HEADER] = cursor
        response = self._request(
            "POST", "/v1/push", content=push_body(device_id, changes), headers=headers
        )
        try:
            answer = _PUSH_ANSWER.validate_json(response.content)
        except ValidationError as err:
            raise _unexpected(response, err) from None
        results = [
            PushResult(r["change_id"], r["outcome"], r.get("target"), r.get("error"))
            for r in answer["results"]
        ]
        if [r.change_id for r in results] != [str(c.change_id) for c in changes]:
            raise ServerError("the server's push results do not match the changes sent")
        return results

    def pull(self, cursor: str | None, *, limit: int, wait: float = 0.0) -> PullResponse:
        """GET /v1/pull; with ``wait`` > 0 the server holds the call until something new
        commits or ``wait`` seconds pass, so the read timeout is longer than ``wait``."""
        return _parse(PullResponse, self._pull(cursor, limit, wait))

    def pull_raw(self, cursor: str | None, *, limit: int, wait: float = 0.0) -> bytes:
        """:meth:`pull`'s answer as the server wrote it, unparsed: the store reads and
        checks the whole page itself (cursor and ``more`` included)."""
        return self._pull(cursor, limit, wait).content

    def has_target(self, uid: str) -> bool:
        """Whether the server holds the target ``uid`` (its history answers; 404: no)."""
        try:
            self._request("GET", f"/v1/targets/{uid}/history")
        except Refused as err:
            if err.status_code == 404:
                return False
            raise
        return True

    def me(self) -> str | None:
        """The name the server knows the token's user by; None from a server older than
        ``GET /v1/me`` (404)."""
        try:
            return _parse(Me, self._request("GET", "/v1/me")).user
        except Refused as err:
            if err.status_code == 404:
                return None
            raise

    def check(self) -> None:
        """Prove the URL answers the sync protocol and accepts the token (a 1-item pull)."""
        self.pull(None, limit=1)

    # ---- plumbing -------------------------------------------------------------------------
    def _pull(self, cursor: str | None, limit: int, wait: float) -> httpx.Response:
        params: dict[str, str | int | float] = {"limit": limit, "wait": wait}
        if cursor is not None:
            params["cursor"] = cursor
        timeout = httpx.Timeout(wait + PULL_GRACE, connect=CONNECT_TIMEOUT)
        return self._request("GET", "/v1/pull", params=params, timeout=timeout)

    def _request(
        self, method: str, path: str, *, headers: dict[str, str] | None = None, **kwargs: Any
    ) -> httpx.Response:
        headers = dict(headers or {})
        token = self._token()
        if token:
            headers["Authorization"] = f"Bearer {token}"
        try:
            response = self._http.request(method, path, headers=headers, **kwargs)
        except httpx.TimeoutException as err:
            raise Transient(f"{self.base_url} did not answer in time ({_kind(err)})") from None
        except httpx.TransportError as err:
            raise Transient(f"cannot reach {self.base_url}: {_kind(err)}") from None
        _raise_for_status(response)
        _raise_unless_api(response)
        return response


def _tls_context(base_url: str) -> ssl.SSLContext | bool:
    """httpx's default (CA bundle loaded, 30-100 ms at start) for an https server; for
    http, which never uses TLS, a context that trusts no certificate at all."""
    if urlsplit(base_url).scheme == "https":
        return True
    return ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)  # verifies, with no CA: fails closed


#: What the socket errors a user meets most often mean, in words (not ``[Errno 111]``).
_SOCKET_WORDS = {
    errno.ECONNREFUSED: "connection refused",
    errno.ECONNRESET: "connection reset",
    errno.ENETUNREACH: "network unreachable",
    errno.EHOSTUNREACH: "host unreachable",
}


def _kind(err: Exception) -> str:
    """A transport error in a few words: ``connection refused``, ``unknown host name``;
    else its type and text (``ConnectTimeout``, ``ReadError: ...``)."""
    cause: BaseException | None = err
    while cause is not None:  # httpx's error wraps httpcore's, which wraps the OSError
        if isinstance(cause, socket.gaierror):
            return "unknown host name (or no network to look it up)"
        if isinstance(cause, OSError) and cause.errno in _SOCKET_WORDS:
            return _SOCKET_WORDS[cause.errno]
        cause = cause.__cause__ or cause.__context__
    detail = str(err)
    return f"{type(err).__name__}: {detail}" if detail else type(err).__name__


def _message(response: httpx.Response) -> str:
    try:
        body = response.json()
    except (json.JSONDecodeError, UnicodeDecodeError):
        body = None
    if isinstance(body, dict):
        message = body.get("message") or body.get("detail")
        if message:
            return message if isinstance(message, str) else json.dumps(message)
    return response.reason_phrase or "no reason given"


def _raise_for_status(response: httpx.Response) -> None:
    code = response.status_code
    if code < 400:
        return
    message = f"HTTP {code} from {response.request.url.path}: {_message(response)}"
    if code == 401:
        raise Unauthorized(message)
    if code == 413:
        raise PayloadTooLarge(code, message)
    if code == 409 and response.request.url.path.endswith("/v1/push"):
        raise PullFirst(code, message)
    if code == NETWORK_AUTHENTICATION_REQUIRED:
        raise _not_the_server(f"HTTP {code}, network authentication required")
    if code >= 500 or code in (408, 429):
        err = ServerError(message)
        err.retry_within = _retry_after(response)  # the server's word, within the cap
        raise err
    raise Refused(code, message)


def _retry_after(response: httpx.Response) -> float | None:
    """``Retry-After`` in seconds (1 to an hour), None when absent or a date."""
    value = response.headers.get("retry-after", "").strip()
    return float(min(max(int(value), 1), 3600)) if value.isdigit() else None


#: What the network says when it wants a sign-in first (RFC 6585).
NETWORK_AUTHENTICATION_REQUIRED = 511


def _raise_unless_api(response: httpx.Response) -> None:
    """The API answers every call with JSON and never redirects; anything else came from
    something on the way (its errors, 4xx and 5xx, are read as they are)."""
    kind = response.headers.get("content-type", "").split(";")[0].strip().lower()
    if response.is_redirect:
        location = response.headers.get("location", "?")
        asked, to = response.request.url, urlsplit(location)
        if (asked.scheme, to.scheme, to.hostname) == ("http", "https", asked.host):
            raise UseHttps(response.status_code, f"https://{to.netloc}")
        where = f"HTTP {response.status_code} to {location}"
    elif kind != "application/json":
        where = f"HTTP {response.status_code}, {kind or 'no content type'}"
    else:
        return
    raise _not_the_server(where)


def _not_the_server(where: str) -> NotTheServer:
    return NotTheServer(where)


_Answer = TypeVar("_Answer", PullResponse, Me)


def _unexpected(response: httpx.Response, err: ValidationError) -> ServerError:
    return ServerError(
        f"unexpected answer from {response.request.url.path}: {err.error_count()} "
        "problem(s) with the message"
    )


def _parse(model: type[_Answer], response: httpx.Response) -> _Answer:
    try:
        return model.model_validate_json(response.content)
    except ValidationError as err:
        raise _unexpected(response, err) from None
