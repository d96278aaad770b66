"""Bearer-token authentication of every ``/v1`` route."""

from __future__ import annotations

from fastapi import Depends, HTTPException, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from .users import hash_token

_bearer = HTTPBearer(auto_error=False, description="a token from `pipetrack admin add-user`")


async def current_user(
    request: Request, credentials: HTTPAuthorizationCredentials | None = Depends(_bearer)
) -> str:
    """The name of the user whose enabled token the request carries; 401 otherwise."""
    if credentials is None or credentials.scheme.lower() != "bearer":
        raise HTTPException(401, "missing bearer token", headers={"WWW-Authenticate": "Bearer"})
    pool = request.app.state.pool
    async with pool.connection() as conn:
        cur = await conn.execute(
            "SELECT name FROM users WHERE token_hash = %s AND NOT disabled",
            (hash_token(credentials.credentials),),
        )
        row = await cur.fetchone()
    if row is None:
        raise HTTPException(
            401, "invalid or disabled token", headers={"WWW-Authenticate": "Bearer"}
        )
    return row[0]
