"""Bearer-token authentication of every ``/v1`` route."""

from __future__ import annotations

from fastapi import Depends, HTTPException, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from .users import hash_token

_bearer = HTTPBearer(auto_error=False, description="a token from `pipetrack admin add-user`")

UNAUTHORIZED_HEADERS = {"WWW-Authenticate": "Bearer"}


async def authenticate(request: Request) -> str | None:
    """The name of the enabled user whose token the request carries, else None (a
    disabled user's token: named for the log line, :func:`refused_as`)."""
    credentials = await _bearer(request)
    if credentials is None:
        return None
    return await _user_of(request, credentials)


#: ``users.last_seen_at`` moves at most this often (s): a device long-polls every few
#: seconds, and a write per request would be most of an idle server's work.
SEEN_EVERY_S = 60

# The user, and (a data-modifying WITH runs whether or not it is read) their last-seen
# time moved when it is older than SEEN_EVERY_S and they are enabled: one round trip
# either way. A disabled user's row is found too, to name them in the log line of the 401.
_USER_SQL = """
WITH found AS (
    SELECT id, name, disabled, last_seen_at FROM users WHERE token_hash = %(hash)s
), seen AS (
    UPDATE users SET last_seen_at = now() FROM found
    WHERE users.id = found.id AND NOT found.disabled AND (found.last_seen_at IS NULL
        OR found.last_seen_at < now() - make_interval(secs => %(every)s))
)
SELECT name, disabled FROM found
"""


#: Whose token it was, when ``admin new-token`` replaced it.
_REPLACED_SQL = (
    "SELECT u.name FROM replaced_tokens r JOIN users u ON u.id = r.user_id"
    " WHERE r.token_hash = %(hash)s"
)


async def _user_of(request: Request, credentials: HTTPAuthorizationCredentials) -> str | None:
    params = {"hash": hash_token(credentials.credentials), "every": SEEN_EVERY_S}
    async with request.app.state.pool.connection() as conn:
        row = await (await conn.execute(_USER_SQL, params)).fetchone()
        if row is None:  # no user's now: one whose token it was is named in the log line
            replaced = await (await conn.execute(_REPLACED_SQL, params)).fetchone()
            if replaced is not None:
                refused_as(request, replaced[0], "token replaced")
    if row is None:
        return None
    name, disabled = row
    if disabled:
        refused_as(request, name, "disabled")
        return None
    return name


def refused_as(request: Request, name: str, why: str) -> None:
    """Name the user whose token a refused request carried (``why``: ``disabled``,
    ``token replaced``) in the log line of its 401 (ErrorLog); never the token, and
    never in the answer: the device is told only that its token is refused."""
    request.state.refused_user = name
    request.state.refused_why = why


#: Why a token that passed the check at a request's start no longer does (the request
#: waited: a parked long-poll, a push waiting for a lock): its user disabled, or no user
#: holds it any more (``admin new-token`` replaced it).
_REVOKED_SQL = "SELECT disabled FROM users WHERE token_hash = %s"


async def why_revoked(request: Request) -> str | None:
    """``disabled`` or ``token replaced``, for the log line of a request answered 401
    after its token passed :func:`current_user` (:class:`Revoked`); None when that
    cannot be told (no token, the database unavailable)."""
    credentials = await _bearer(request)
    if credentials is None:
        return None
    try:
        async with request.app.state.pool.connection() as conn:
            cur = await conn.execute(_REVOKED_SQL, (hash_token(credentials.credentials),))
            row = await cur.fetchone()
    except Exception:  # only the log line's detail is lost
        return None
    if row is None:
        return "token replaced"
    return "disabled" if row[0] else None


class Revoked(Exception):
    """The request's token was disabled or replaced while the request ran (a parked
    long-poll, a push waiting for a lock): answered 401, with nothing read or written."""


def token_valid(placeholder: str, *, hold: bool = False) -> str:
    """SQL, true while the token whose hash ``placeholder`` stands for is an enabled
    user's: a long request checks it again in its own transaction, so nothing committed
    after a revocation reaches it. ``hold``: the user's row stays share-locked until the
    transaction ends, so a revocation waits for it (nothing a push writes lands after)."""
    lock = " FOR SHARE" if hold else ""
    return f"EXISTS (SELECT 1 FROM users WHERE token_hash = {placeholder} AND NOT disabled{lock})"


async def current_user(
    request: Request, credentials: HTTPAuthorizationCredentials | None = Depends(_bearer)
) -> str:
    """Dependency of every /v1 route: the user's name, or 401."""
    if credentials is None:
        raise HTTPException(401, "missing bearer token", headers=UNAUTHORIZED_HEADERS)
    user = await _user_of(request, credentials)
    if user is None:
        raise HTTPException(401, "invalid or disabled token", headers=UNAUTHORIZED_HEADERS)
    request.state.user = user  # named in the log line of a refused request (ErrorLog)
    return user


async def current_token(
    credentials: HTTPAuthorizationCredentials | None = Depends(_bearer),
) -> str:
    """Dependency: the hash of the request's token (which :func:`current_user` checks),
    for the routes that check it again in their transaction (:func:`token_valid`)."""
    if credentials is None:
        raise HTTPException(401, "missing bearer token", headers=UNAUTHORIZED_HEADERS)
    return hash_token(credentials.credentials)
