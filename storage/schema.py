"""peewee models over the tables the migrations create.

The models describe the *latest* schema; the migrations (raw SQL, frozen) build it.
Each :class:`Store` binds its own copies of the models to its own database
(:func:`bind_models`), so several stores can live in one process.
"""

from __future__ import annotations

import functools
import json
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

from peewee import AutoField, CompositeKey, IntegerField, Model, TextField

_TIME_FORMAT = "%Y-%m-%dT%H:%M:%S.%fZ"


def to_utc(value: datetime) -> datetime:
    """Aware UTC; a naive datetime is taken to be UTC already."""
    if value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    return value.astimezone(UTC)


@functools.lru_cache(maxsize=256)  # bulk writes repeat the same "now" many times
def time_text(value: datetime) -> str:
    """Fixed-width UTC text (``_TIME_FORMAT``): compares in SQL exactly like the times it
    stands for. isoformat writes the same text as strftime, several times faster."""
    return to_utc(value).replace(tzinfo=None).isoformat(timespec="microseconds") + "Z"


def time_from_text(text: str) -> datetime:
    """The aware UTC datetime of :func:`time_text`'s text (fromisoformat reads the ``Z``;
    50x faster than strptime, which every row read paid)."""
    return datetime.fromisoformat(text)


def time_or_none(text: str | None) -> datetime | None:
    """:func:`time_from_text`, None kept (a time not known)."""
    return None if text is None else time_from_text(text)


class UtcField(TextField):
    """An aware UTC datetime stored as fixed-width text (see :func:`time_text`)."""

    def db_value(self, value: datetime | str | None) -> str | None:
        if value is None or isinstance(value, str):
            return value
        return time_text(value)

    def python_value(self, value: str | None) -> datetime | None:
        return None if value is None else time_from_text(value)


class DayField(TextField):
    """A calendar date stored as ``YYYY-MM-DD``."""

    def db_value(self, value: date | str | None) -> str | None:
        if value is None or isinstance(value, str):
            return value
        return value.isoformat()

    def python_value(self, value: str | None) -> date | None:
        return None if value is None else date.fromisoformat(value)


# One encoder for all: json.dumps with options builds a new encoder at every call.
_encode = json.JSONEncoder(ensure_ascii=False, separators=(",", ":")).encode


class JSONField(TextField):
    def db_value(self, value: Any) -> str | None:
        return None if value is None else _encode(value)

    def python_value(self, value: str | None) -> Any:
        return None if value is None else json.loads(value)


class Target(Model):
    """Local view (what the user sees) + server base (what the server last said)."""

    id = AutoField()
    uid = TextField(unique=True)
    name = TextField()
    name_lc = TextField()  # fold.name_key: exact-name lookup, sort, substring search
    description = TextField(default="")
    markets = JSONField(default=list)
    markets_sort = TextField(default="")  # fold.name_key of each, joined: the "markets" sort
    status = TextField(null=True)
    status_since = UtcField()
    created_at = UtcField()
    updated_at = UtcField()
    sync = TextField(default="synced")  # synced | pending | conflict | rejected
    snoozed_until = DayField(null=True)
    server_version = IntegerField(null=True)
    server_name = TextField(null=True)
    server_description = TextField(null=True)
    server_markets = JSONField(null=True)
    server_status = TextField(null=True)
    server_status_changed_at = UtcField(null=True)
    server_status_changed_by = TextField(null=True)
    server_updated_at = UtcField(null=True)

    class Meta:
        table_name = "targets"


class TargetMarket(Model):
    uid = TextField()
    market_lc = TextField()  # fold.name_key of the market
    market = TextField()

    class Meta:
        table_name = "target_markets"
        primary_key = CompositeKey("market_lc", "uid")


class Audit(Model):
    """One row per status change, local (made here) or server (pulled)."""

    id = AutoField()
    change_id = TextField(unique=True)
    target = TextField()
    old_status = TextField(null=True)
    new_status = TextField(null=True)
    changed_at = UtcField()
    changed_by = TextField()
    note = TextField(null=True)
    origin = TextField()  # local | server
    server_version = IntegerField(null=True)  # set once the server confirmed the change
    batch = TextField(null=True)  # local: the bulk change the row is part of (undone whole)
    converged = IntegerField(null=True)  # 1: the server had it already, from a teammate
    old_since = UtcField(null=True)  # local: since when old_status was held (undo restores it)

    class Meta:
        table_name = "audit"


class Outbox(Model):
    """Changes not yet done on the server; ``id`` is creation order."""

    id = AutoField()
    change_id = TextField(unique=True)
    target = TextField()
    op = TextField()  # create | set_status | edit
    base_version = IntegerField(null=True)  # None for create; 0 = "before creation"
    status = TextField(null=True)
    fields = JSONField(null=True)
    changed_at = UtcField()
    note = TextField(null=True)
    state = TextField(default="pending")  # pending | conflict | rejected
    attempts = IntegerField(default=0)
    last_error = TextField(null=True)
    server_state = JSONField(null=True)  # the server's TargetState beside a conflict
    status_since = UtcField(null=True)  # an undo's: since when its status was held before
    # an edit's: the server's details at base_version (set by triggers, migrations._v12)
    base_fields = JSONField(null=True)

    class Meta:
        table_name = "outbox"


class Setting(Model):
    """Key/value rows of the ``meta`` table (device id, pull cursor, sync state...)."""

    key = TextField(primary_key=True)
    value = TextField(null=True)

    class Meta:
        table_name = "meta"


@dataclass(frozen=True)
class Models:
    target: type[Target]
    market: type[TargetMarket]
    audit: type[Audit]
    outbox: type[Outbox]
    meta: type[Setting]


def bind_models(db: Any) -> Models:
    """Subclasses of the models bound to ``db`` alone (binding the originals is global)."""

    def bound(model: type[Model]) -> Any:
        meta = type("Meta", (), {"database": db, "table_name": model._meta.table_name})
        if model is TargetMarket:
            meta.primary_key = CompositeKey("market_lc", "uid")
        return type(model.__name__, (model,), {"Meta": meta, "__module__": __name__})

    return Models(
        target=bound(Target),
        market=bound(TargetMarket),
        audit=bound(Audit),
        outbox=bound(Outbox),
        meta=bound(Setting),
    )
