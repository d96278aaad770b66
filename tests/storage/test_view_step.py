"""The write path's one-step view update equals the full recompute: extend_view(view of
rows, row) == compute_view(rows + [row]), over random bases, outbox rows and changes."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from types import SimpleNamespace

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from protocol import STATUS_ORDER
from storage.view import compute_view, extend_view

STATUSES = [None, *(s.value for s in STATUS_ORDER)]
T0 = datetime(2026, 1, 1, tzinfo=UTC)

times = st.integers(0, 5_000).map(lambda m: T0 + timedelta(minutes=m))
statuses = st.sampled_from(STATUSES)
states = st.sampled_from(["pending", "conflict", "rejected"])
names = st.text("aAbBİıß ", min_size=1, max_size=5)
market_lists = st.lists(st.text("aAbBß", min_size=1, max_size=3), max_size=3)


@st.composite
def details(draw, every: bool) -> dict:
    """Fields of a create (every one set) or an edit (some, None = not sent)."""
    fields = {"name": names, "description": st.text("xy", max_size=3), "markets": market_lists}
    if every:
        return {key: draw(value) for key, value in fields.items()}
    picked = draw(st.lists(st.sampled_from(sorted(fields)), min_size=1, unique=True))
    return {key: draw(st.none() | fields[key]) for key in picked}


@st.composite
def rows(draw, op: str) -> SimpleNamespace:
    return SimpleNamespace(
        op=op,
        status=draw(statuses) if op != "edit" else None,
        fields=draw(details(op == "create")) if op != "set_status" else None,
        changed_at=draw(times),
        state=draw(states),
    )


changes = st.sampled_from(["set_status", "edit"]).flatmap(rows)


@st.composite
def histories(draw) -> tuple[dict, bool, list]:
    start = {
        "name": draw(names),
        "description": "",
        "markets": draw(market_lists),
        "status": draw(statuses),
        "status_since": draw(times),
        "updated_at": draw(times),
    }
    has_base = draw(st.booleans())
    first = [draw(rows("create"))] if draw(st.booleans()) else []
    return start, has_base, first + draw(st.lists(changes, max_size=6))


@settings(max_examples=600, deadline=None)
@given(histories(), changes)
def test_one_step_equals_the_full_recompute(history, row):
    start, has_base, earlier = history
    full = compute_view(start, has_base, [*earlier, row])
    assert extend_view(compute_view(start, has_base, earlier), row) == full


@settings(max_examples=300, deadline=None)
@given(histories(), rows("set_status"))
def test_a_status_change_needs_only_the_columns_it_moves(history, row):
    """The store's write path keeps just these four columns of the current view."""
    start, has_base, earlier = history
    keys = ("status", "status_since", "updated_at", "sync")
    current = compute_view(start, has_base, earlier)
    full = compute_view(start, has_base, [*earlier, row])
    assert extend_view({k: current[k] for k in keys}, row) == {k: full[k] for k in keys}


def test_a_create_cannot_extend_a_view():
    create = SimpleNamespace(op="create", status=None, fields={}, changed_at=T0, state="pending")
    with pytest.raises(ValueError):
        extend_view(
            {"status": None, "status_since": T0, "updated_at": T0, "sync": "synced"}, create
        )
