"""API users and their tokens (used by the admin commands and by auth).

A token is ``secrets.token_urlsafe(32)`` (32 random bytes); only its sha256 is stored.
"""

from __future__ import annotations

import hashlib
import secrets
import unicodedata
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import psycopg
from psycopg import errors

from protocol import InvalidInput

USER_NAME_MAX = 64


@dataclass(frozen=True)
class User:
    name: str
    created_at: datetime
    disabled: bool
    #: When the user's token was last used, to the minute (auth.SEEN_EVERY_S); None: never.
    last_seen_at: datetime | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "created_at": _utc_text(self.created_at),
            "disabled": self.disabled,
            "last_seen_at": None if self.last_seen_at is None else _utc_text(self.last_seen_at),
        }


def _utc_text(at: datetime) -> str:
    return at.astimezone(UTC).isoformat().replace("+00:00", "Z")


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def clean_user_name(value: str) -> str:
    """A user name as stored: stripped, NFC (``Zoe`` + combining diaeresis is ``Zoë``);
    InvalidInput when empty, too long, or holding a control character, a space or an
    invisible character."""
    name = unicodedata.normalize("NFC", value.strip())
    if not name:
        raise InvalidInput("name", "user name must not be empty")
    if len(name) > USER_NAME_MAX:
        raise InvalidInput("name", f"user name is longer than {USER_NAME_MAX} characters")
    if any(unicodedata.category(ch) == "Cc" for ch in name):
        raise InvalidInput("name", f"user name {name!r} must not contain control characters")
    if any(ch.isspace() for ch in name):
        raise InvalidInput("name", f"user name {name!r} must not contain spaces")
    if not name.isprintable():
        raise InvalidInput("name", f"user name {name!r} must contain only visible characters")
    return name


def name_key(name: str) -> str:
    """What two names that are one to a person share: NFC, case folded (``Alice``,
    ``alice``; ``Zoë`` in either Unicode form)."""
    return unicodedata.normalize("NFC", unicodedata.normalize("NFC", name).casefold())


#: Arbitrary constant naming the lock that makes ``add_user``'s look for a name that
#: differs only in case and its insert one step (two admins adding Alice and alice).
ADD_USER_LOCK_KEY = 0x70697065_75736572  # "pipeuser"


def add_user(database_url: str, name: str) -> str:
    """Create a user; returns the new token (the only time it exists in clear). A name
    equal to another one's ignoring case (:func:`name_key`) is refused."""
    name = clean_user_name(name)
    token = secrets.token_urlsafe(32)
    try:
        with psycopg.connect(database_url) as conn:
            conn.execute("SELECT pg_advisory_xact_lock(%s)", (ADD_USER_LOCK_KEY,))
            key = name_key(name)
            for (existing,) in conn.execute("SELECT name FROM users"):
                if name_key(existing) == key:
                    raise InvalidInput("name", f"a user named {existing!r} exists")
            conn.execute(
                "INSERT INTO users (name, token_hash) VALUES (%s, %s)", (name, hash_token(token))
            )
    except errors.UniqueViolation:
        raise InvalidInput("name", f"a user named {name!r} exists") from None
    return token


def find_user(conn: psycopg.Connection, name: str) -> tuple[int, str]:
    """(id, name as stored) of the user ``name`` means: its stored spelling, else the
    same stripped and NFC, else the same ignoring case (as ``add_user`` compares), when
    one user matches. Users added before names were compared so can differ only in
    case: each is found by its own spelling."""
    given = name.strip()
    users = conn.execute("SELECT id, name FROM users").fetchall()
    nfc = unicodedata.normalize("NFC", given)
    for same in (
        lambda stored: stored == given,
        lambda stored: unicodedata.normalize("NFC", stored) == nfc,
        lambda stored: name_key(stored) == name_key(given),
    ):
        found = [(uid, stored) for uid, stored in users if same(stored)]
        if len(found) == 1:
            return found[0]
        if found:
            spellings = ", ".join(repr(stored) for _, stored in found)
            raise InvalidInput(
                "name", f"{given!r} could be any of {spellings}: give it as list-users shows it"
            )
    raise InvalidInput("name", f"no user named {given!r}")


def new_token(database_url: str, name: str) -> tuple[str, bool, str]:
    """Replace a user's token (the old one stops working at once) and enable the user;
    returns the new token, whether the user was disabled, and the user's name."""
    token = secrets.token_urlsafe(32)
    with psycopg.connect(database_url) as conn:
        user_id, stored = find_user(conn, name)
        conn.execute(  # kept to name the user when the old token is still used
            "INSERT INTO replaced_tokens (token_hash, user_id)"
            " SELECT token_hash, id FROM users WHERE id = %s ON CONFLICT DO NOTHING",
            (user_id,),
        )
        row = conn.execute(
            "UPDATE users u SET token_hash = %s, disabled = false"
            " FROM (SELECT id, disabled FROM users WHERE id = %s FOR UPDATE) old"
            " WHERE u.id = old.id RETURNING old.disabled",
            (hash_token(token), user_id),
        ).fetchone()
    if row is None:  # removed meanwhile
        raise InvalidInput("name", f"no user named {stored!r}")
    return token, row[0], stored


def list_users(database_url: str) -> list[User]:
    with psycopg.connect(database_url) as conn:
        rows = conn.execute(
            "SELECT name, created_at, disabled, last_seen_at FROM users ORDER BY name"
        ).fetchall()
    return [User(*row) for row in rows]


def disable_user(database_url: str, name: str) -> tuple[str, bool]:
    """Disable a user (found as :func:`find_user` finds one); returns the user's name
    and whether it was disabled already."""
    with psycopg.connect(database_url) as conn:
        user_id, stored = find_user(conn, name)
        row = conn.execute(
            "UPDATE users u SET disabled = true"
            " FROM (SELECT id, disabled FROM users WHERE id = %s FOR UPDATE) old"
            " WHERE u.id = old.id RETURNING old.disabled",
            (user_id,),
        ).fetchone()
    if row is None:  # removed meanwhile
        raise InvalidInput("name", f"no user named {stored!r}")
    return stored, row[0]
