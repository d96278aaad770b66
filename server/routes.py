"""The HTTP routes: ``/v1/push``, ``/v1/pull``, ``/v1/targets/{uid}/history``, ``/healthz``."""

from __future__ import annotations

import json
import logging
from collections import Counter
from collections.abc import Callable, Coroutine
from typing import Any
from uuid import UUID

from fastapi import APIRouter, Depends, Header, HTTPException, Query, Request
from fastapi.responses import JSONResponse, Response
from fastapi.routing import APIRoute
from pydantic import BaseModel, ValidationError
from pydantic_core import to_json

from protocol import installed_version
from protocol.wire import (
    CURSOR_HEADER,
    PULL_LIMIT_DEFAULT,
    PULL_LIMIT_MAX,
    PULL_WAIT_MAX,
    ErrorBody,
    HistoryResponse,
    Me,
    PullResponse,
    PushRequest,
    PushResponse,
)

from . import pull as pull_mod
from . import push_store
from .auth import current_token, current_user
from .errors import one_line
from .records import AUDIT_COLUMNS, TARGET_COLUMNS, audit_entry_from_row, target_from_row

log = logging.getLogger("pipetrack.server")

_ERRORS = {
    code: {"model": ErrorBody, "description": text}
    for code, text in {
        400: "malformed JSON or cursor",
        401: "missing, wrong or disabled token",
        413: "body over 2 MiB or more than 1,000 changes",
        422: "the request does not match the schema",
        503: "the database is unavailable",
    }.items()
}

v1 = APIRouter(prefix="/v1", dependencies=[Depends(current_user)], responses=_ERRORS)
public = APIRouter()


class _PushBody(Request):
    """A push's body read by pydantic in one pass (``model_validate_json``: half the time
    of FastAPI's ``json.loads`` then model validation, ~4 of 8 ms per 1,000 changes);
    FastAPI then takes the model as it is. A body pydantic refuses goes FastAPI's usual
    way (``json.loads``, its validation), so bad input is answered exactly as before."""

    async def json(self) -> Any:
        if not hasattr(self, "_json"):
            body = await self.body()
            try:
                self._json = PushRequest.model_validate_json(body)
            except ValidationError:
                self._json = json.loads(body)
        return self._json


class _PushRoute(APIRoute):
    """The push route, reading its body as :class:`_PushBody` (FastAPI's documented way
    of a custom Request class)."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def push_handler(request: Request) -> Response:
            return await handler(_PushBody(request.scope, request.receive))

        return push_handler


async def push(
    body: PushRequest,
    request: Request,
    user: str = Depends(current_user),
    token: str = Depends(current_token),
    cursor: str | None = Header(
        None,
        alias=CURSOR_HEADER,
        description="the device's pull cursor: refused (409) when this database did not"
        " give it out (restored from a backup since), before anything is decided",
    ),
):
    """Apply a device's changes in order; one result per change, same order."""
    results = await push_store.push(request.app.state.pool, body, user, token, cursor)
    outcomes = Counter(result["outcome"] for result in results)
    log.info(  # who pushed what, for an admin asked why a change did not arrive
        "push by %s from device %s: %d change%s, %s%s",
        user,
        body.device_id,
        len(results),
        "" if len(results) == 1 else "s",
        ", ".join(f"{count} {outcome}" for outcome, count in sorted(outcomes.items())),
        _rejections(body, results),
    )
    # plain values serialized once (a PushResponse's JSON; no model per result)
    return Response(to_json({"results": results}), media_type="application/json")


#: Rejected changes whose reasons a push's log line gives (the rest are counted).
LOGGED_REJECTIONS = 3


def _rejections(body: PushRequest, results: list[dict]) -> str:
    """``; rejected: set_status on UID: reason, ...`` for a push's log line: why the
    first :data:`LOGGED_REJECTIONS` rejected changes were refused (one line: a reason's
    control characters are spaces, a long one is cut)."""
    said = [
        f"{change.op} on {change.target}: {one_line(result.get('error') or 'no reason', 200)}"
        for change, result in zip(body.changes, results, strict=False)
        if result["outcome"] == "rejected"
    ]
    if not said:
        return ""
    more = len(said) - LOGGED_REJECTIONS
    return (
        "; rejected: "
        + "; ".join(said[:LOGGED_REJECTIONS])
        + (f"; and {more} more" if more > 0 else "")
    )


v1.add_api_route(
    "/push",
    push,
    methods=["POST"],
    response_model=PushResponse,
    route_class_override=_PushRoute,
    responses={
        409: {
            "model": ErrorBody,
            "description": "the push's cursor is not this database's (restored from a"
            " backup since the device last pulled): nothing decided; pull again, then push",
        }
    },
)


@v1.get("/pull", response_model=PullResponse)
async def pull(
    request: Request,
    cursor: str | None = Query(None, description="from the previous pull; none = from start"),
    limit: int = Query(PULL_LIMIT_DEFAULT, ge=1, le=PULL_LIMIT_MAX),
    wait: float = Query(0, ge=0, le=PULL_WAIT_MAX, description="long-poll seconds"),
    token: str = Depends(current_token),
):
    """Target states and audit entries after the cursor; ``more`` when a page is full."""
    position = pull_mod.Cursor.decode(cursor) if cursor else None
    state = request.app.state
    page = await pull_mod.pull(state.pool, state.notifier, position, limit, wait, token)
    return Response(page.json(), media_type="application/json")  # JSON made by PostgreSQL


@v1.get("/me", response_model=Me)
async def me(user: str = Depends(current_user)):
    """The user the token belongs to (the device shows its own changes under this name)."""
    return Me(user=user)


@v1.get(
    "/targets/{uid}/history",
    response_model=HistoryResponse,
    responses={404: {"model": ErrorBody, "description": "unknown target"}},
)
async def history(uid: UUID, request: Request):
    """One target's state and its whole audit history, oldest first."""
    async with request.app.state.pool.connection() as conn:
        cur = await conn.execute(f"SELECT {TARGET_COLUMNS} FROM targets t WHERE t.uid = %s", (uid,))
        row = await cur.fetchone()
        if row is None:
            raise HTTPException(404, f"no target {uid}")
        cur = await conn.execute(
            f"SELECT {AUDIT_COLUMNS} FROM audit_log a JOIN targets t ON t.id = a.target_id"
            " WHERE t.uid = %s ORDER BY a.version",
            (uid,),
        )
        entries = [audit_entry_from_row(r) for r in await cur.fetchall()]
    return _json(HistoryResponse(target=target_from_row(row).state(), history=entries))


def _json(model: BaseModel) -> Response:
    """The model as JSON, serialized once (``response_model`` only documents it)."""
    return Response(model.model_dump_json(), media_type="application/json")


#: The installed pipetrack's version: which build answers, during a rolling upgrade.
VERSION = installed_version()


@public.get("/healthz")
async def healthz(request: Request):
    """200 when PostgreSQL answers, 503 otherwise; with the server's version."""
    try:
        async with request.app.state.pool.connection(timeout=2.0) as conn:
            await conn.execute("SELECT 1")
    except Exception:  # noqa: BLE001 - any failure means "not healthy"
        return JSONResponse(
            {"status": "error", "database": "unavailable", "version": VERSION}, status_code=503
        )
    return {"status": "ok", "database": "ok", "version": VERSION}


@public.head("/healthz", include_in_schema=False)
async def healthz_head(request: Request):
    """``HEAD /healthz`` (load balancers' checks often use it): GET's status and headers,
    no body. Apart from GET's route, so the OpenAPI document keeps one operation."""
    return await healthz(request)
