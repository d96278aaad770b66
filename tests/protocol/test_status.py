"""Status parsing: case-insensitive, trimmed, none/empty = no status, clear errors."""

from __future__ import annotations

import pytest

from protocol import STATUS_ORDER, InvalidInput, Status, parse_status


def test_exactly_five_statuses_in_pipeline_order():
    assert [s.value for s in STATUS_ORDER] == ["Passed", "Cold", "Active", "Hot", "Closed"]
    assert set(STATUS_ORDER) == set(Status)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("Hot", Status.HOT),
        (" hot", Status.HOT),
        ("HOT\t", Status.HOT),
        ("passed", Status.PASSED),
        ("cOLD", Status.COLD),
        ("active ", Status.ACTIVE),
        ("Closed", Status.CLOSED),
        (Status.CLOSED, Status.CLOSED),
        (None, None),
        ("", None),
        ("  ", None),
        ("none", None),
        (" NONE ", None),
    ],
)
def test_parse(raw, expected):
    assert parse_status(raw) is expected


@pytest.mark.parametrize("bad", ["warm", "hott", "h", "Hot Cold", "null", "0", "Closed."])
def test_unknown_status_names_the_value_and_the_valid_ones(bad):
    with pytest.raises(InvalidInput) as err:
        parse_status(bad)
    message = str(err.value)
    assert repr(bad) in message
    assert "Passed, Cold, Active, Hot, Closed" in message
    assert err.value.field == "status"
