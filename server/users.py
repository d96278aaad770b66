"""API users and their tokens (used by the admin commands and by auth).

A token is ``secrets.token_urlsafe(32)`` (32 random bytes); only its sha256 is stored.
"""

from __future__ import annotations

import hashlib
import secrets
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
    name = value.strip()
    if not name:
        raise InvalidInput("name", "user name must not be empty")
    if len(name) > USER_NAME_MAX:
        raise InvalidInput("name", f"user name is longer than {USER_NAME_MAX} characters")
    if any(ch.isspace() or not ch.isprintable() for ch in name):
        raise InvalidInput("name", f"user name {name!r} must not contain spaces")
    return name


def add_user(database_url: str, name: str) -> str:
    """Create a user; returns the new token (the only time it exists in clear)."""
    name = clean_user_name(name)
    token = secrets.token_urlsafe(32)
    try:
        with psycopg.connect(database_url) as conn:
            conn.execute(
                "INSERT INTO users (name, token_hash) VALUES (%s, %s)", (name, hash_token(token))
            )
    except errors.UniqueViolation:
        raise InvalidInput("name", f"user {name!r} already exists") from None
    return token


def new_token(database_url: str, name: str) -> tuple[str, bool]:
    """Replace a user's token (the old one stops working at once) and enable the user;
    returns the new token and whether the user was disabled."""
    token = secrets.token_urlsafe(32)
    with psycopg.connect(database_url) as conn:
        row = conn.execute(
            "UPDATE users u SET token_hash = %s, disabled = false"
            " FROM (SELECT id, disabled FROM users WHERE name = %s FOR UPDATE) old"
            " WHERE u.id = old.id RETURNING old.disabled",
            (hash_token(token), name),
        ).fetchone()
    if row is None:
        raise InvalidInput("name", f"no user named {name!r}")
    return token, row[0]


def list_users(database_url: str) -> list[User]:
    with psycopg.connect(database_url) as conn:
        rows = conn.execute(
            "SELECT name, created_at, disabled, last_seen_at FROM users ORDER BY name"
        ).fetchall()
    return [User(*row) for row in rows]


def disable_user(database_url: str, name: str) -> None:
    with psycopg.connect(database_url) as conn:
        cur = conn.execute("UPDATE users SET disabled = true WHERE name = %s", (name,))
        if cur.rowcount == 0:
            raise InvalidInput("name", f"no user named {name!r}")
