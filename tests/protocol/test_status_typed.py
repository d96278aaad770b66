"""A status a person typed: as parse_status, but empty is refused (``none`` says none)."""

from __future__ import annotations

import pytest

from protocol import InvalidInput, Status, parse_status, parse_typed_status


@pytest.mark.parametrize("empty", ["", "  ", "\t"])
def test_an_empty_typed_status_is_refused_naming_it(empty: str) -> None:
    with pytest.raises(InvalidInput) as err:
        parse_typed_status(empty)
    assert f"unknown status {empty!r}" in str(err.value)
    assert "(or none)" in str(err.value) and err.value.field == "status"


def test_typed_status_otherwise_parses_as_parse_status() -> None:
    assert parse_typed_status(" hot") is Status.HOT
    assert parse_typed_status("NONE") is None
    with pytest.raises(InvalidInput, match="'warm'"):
        parse_typed_status("warm")


def test_parse_status_still_takes_empty_as_no_status() -> None:
    """The wire's and the store's parsing is unchanged (the server, an import's cells)."""
    assert parse_status("") is None
