"""100,000 targets: the list stays an indexed query (checked by plan, not by timing)."""

from __future__ import annotations

import re
import time
from datetime import UTC, datetime

import pytest

from protocol import STATUS_ORDER
from storage import Store, TargetQuery

N = 100_000
STATUSES = [s.value for s in STATUS_ORDER] + [""]
NOW = datetime(2026, 6, 1, 12, 0, tzinfo=UTC)


@pytest.fixture(scope="module")
def big(tmp_path_factory):
    path = tmp_path_factory.mktemp("scale") / "pipetrack.db"
    rows = [
        {
            "name": f"Target {i:06d}",
            "status": STATUSES[i % len(STATUSES)],
            "markets": f"M{i % 40}" if i % 10 == 0 else "",
        }
        for i in range(N)
    ]
    with Store.open(path, clock=lambda: NOW) as store:
        assert store.import_targets(rows) == (N, 0)  # the bulk path: one transaction
        yield store


def full_scans(plan):
    """Plan lines reading every row of targets (a SCAN of the table not through an index)."""
    return [line for line in plan if re.fullmatch(r"SCAN t1", line)]


@pytest.mark.parametrize(
    "query",
    [
        TargetQuery(statuses=("Hot",), limit=50),
        TargetQuery(statuses=("Hot",), sort="days", limit=50),
        TargetQuery(statuses=("Cold", None), sort="status", limit=50),
        TargetQuery(markets=("m10",), limit=50),
        TargetQuery(search="00042", limit=50),
        TargetQuery(stagnation=("stale", "aging"), limit=50),
        TargetQuery(sort="status", offset=500, limit=50),
        TargetQuery(sort="days", descending=True, limit=50),
        TargetQuery(sort="markets", limit=50),
        TargetQuery(sort="sync", limit=50),
        TargetQuery(sort="updated", descending=True, limit=50),
    ],
)
def test_pages_use_indexes(big, query):
    plan = big.query_plan(query)
    assert full_scans(plan) == [], plan
    assert any("USING" in line for line in plan), plan


def test_filters_search_the_index(big):
    plan = big.query_plan(TargetQuery(statuses=("Hot",), limit=50))
    assert any(line.startswith("SEARCH t1 USING INDEX") and "status=?" in line for line in plan)
    stale = big.query_plan(TargetQuery(stagnation=("stale",)))
    assert sum("targets_status_since (status=? AND status_since" in line for line in stale) == 3


def test_results_at_scale(big):
    per_status = N // len(STATUSES)
    assert big.count_targets() == N
    assert big.count_targets(TargetQuery(statuses=("Hot",))) == per_status + (N % len(STATUSES) > 3)
    page = big.list_targets(TargetQuery(statuses=("Hot",), offset=10, limit=50))
    assert [t.name for t in page][:2] == ["Target 000063", "Target 000069"]
    assert len(page) == 50 and all(t.status == "Hot" for t in page)
    assert big.count_targets(TargetQuery(markets=("M10",))) == N // 40
    assert [t.name for t in big.list_targets(TargetQuery(search="099999"))] == ["Target 099999"]
    assert big.summary().total == N
    assert len(big.take_batch(500)) == 500
    assert big.sync_state().pending == N


def test_a_page_is_quick_enough_for_a_screen(big):
    """Not a benchmark: a loose guard against a query that silently reads every row."""
    started = time.perf_counter()
    for offset in range(0, 500, 50):
        big.list_targets(TargetQuery(statuses=("Active",), sort="name", offset=offset, limit=50))
    assert time.perf_counter() - started < 5
