"""Wire messages: types by pydantic, business rules by change_problem (one change at a time)."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

import pytest
from pydantic import ValidationError

from protocol.wire import Change, ChangeFields, PushRequest, change_problem

AT = datetime(2026, 6, 1, tzinfo=UTC)


def change(**kwargs) -> Change:
    base = {"change_id": uuid.uuid4(), "target": uuid.uuid4(), "changed_at": AT}
    return Change(**{**base, **kwargs})


@pytest.mark.parametrize(
    "valid",
    [
        {"op": "set_status", "status": "hot", "base_version": 0},
        {"op": "set_status", "status": None, "base_version": 3, "note": "cleared"},
        {"op": "create", "fields": ChangeFields(name="Acme"), "status": "Cold"},
        {"op": "edit", "fields": ChangeFields(markets=["EU"]), "base_version": 1},
    ],
)
def test_valid_changes(valid):
    assert change_problem(change(**valid)) is None


@pytest.mark.parametrize(
    ("invalid", "words"),
    [
        ({"op": "set_status", "status": "warm", "base_version": 1}, "unknown status 'warm'"),
        ({"op": "set_status", "status": "Hot"}, "needs a base version"),
        ({"op": "set_status", "status": "Hot", "base_version": -1}, "negative"),
        (
            {"op": "set_status", "status": "Hot", "base_version": 1, "fields": ChangeFields()},
            "no fields",
        ),
        ({"op": "create", "base_version": 1, "fields": ChangeFields(name="A")}, "no base"),
        ({"op": "create", "fields": ChangeFields(description="d")}, "needs a name"),
        ({"op": "create", "fields": ChangeFields(name="x" * 256)}, "limit is 255"),
        ({"op": "edit", "base_version": 1, "fields": ChangeFields()}, "must change"),
        ({"op": "edit", "base_version": 1, "status": "Hot"}, "does not change the status"),
        (
            {"op": "set_status", "status": "Hot", "base_version": 1, "note": "n" * 1001},
            "note",
        ),
    ],
)
def test_invalid_changes_say_why(invalid, words):
    problem = change_problem(change(**invalid))
    assert problem is not None and words in problem


def test_types_are_checked_by_pydantic():
    with pytest.raises(ValidationError):
        change(op="delete")
    with pytest.raises(ValidationError):
        Change(
            change_id=uuid.uuid4(), target=uuid.uuid4(), op="edit", changed_at=datetime(2026, 1, 1)
        )
    with pytest.raises(ValidationError):
        PushRequest(device_id="", changes=[])


def test_a_change_round_trips_as_json():
    original = change(op="create", fields=ChangeFields(name="Acme", markets=["EU"]), status="Hot")
    assert Change.model_validate_json(original.model_dump_json()) == original
