"""Bearer-token authentication of every ``/v1`` route."""

from __future__ import annotations

from fastapi import Depends, HTTPException, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from .users import hash_token

_bearer = HTTPBearer(auto_error=False, description="a token from `pipetrack admin add-user`")

UNAUTHORIZED_HEADERS = {"WWW-Authenticate": "Bearer"}


async def authenticate(request: Request) -> str | None:
    """The name of the enabled user whose token the request carries, else None."""
    credentials = await _bearer(request)
    if credentials is None:
        return None
    return await _user_of(request, credentials)


async def _user_of(request: Request, credentials: HTTPAuthorizationCredentials) -> str | None:
    async with request.app.state.pool.connection() as conn:
        cur = await conn.execute(
            "SELECT name FROM users WHERE token_hash = %s AND NOT disabled",
            (hash_token(credentials.credentials),),
        )
        row = await cur.fetchone()
    return row[0] if row else None


async def current_user(
    request: Request, credentials: HTTPAuthorizationCredentials | None = Depends(_bearer)
) -> str:
    """Dependency of every /v1 route: the user's name, or 401."""
    if credentials is None:
        raise HTTPException(401, "missing bearer token", headers=UNAUTHORIZED_HEADERS)
    user = await _user_of(request, credentials)
    if user is None:
        raise HTTPException(401, "invalid or disabled token", headers=UNAUTHORIZED_HEADERS)
    return user
