"""The rejected panel of the conflicts screen: what the server refused, in full."""

from __future__ import annotations

from tuihelp import make_app, settle, shown

from protocol.wire import Result
from tui.screens import ConflictsScreen


async def test_a_rejected_new_target_shows_the_status_it_was_made_with(store, uids):
    """As `pipetrack rejected` says "new target, Hot": the status is part of the change."""
    made = store.create_target("Kappa Mining", "Copper", ["LATAM"], status="Hot")
    create = next(c for c in store.take_batch() if str(c.target) == made.uid)
    store.apply_push_results(
        [Result(change_id=create.change_id, outcome="rejected", error="uid taken")]
    )
    app = make_app(store)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("c")
        await settle(pilot)
        assert isinstance(app.screen, ConflictsScreen)
        text = shown(app.screen.query_one("#compare"), width=50)
        assert "new target" in text and "markets: LATAM" in text, text
        assert "status: Hot" in text, text
