"""Listing, counting, searching, sorting and resolving targets."""

from __future__ import annotations

import pytest

from protocol import InvalidInput
from storage import Ambiguous, NotFound, TargetQuery
from tests.storage.storehelp import result, state


@pytest.fixture
def sample(store, clock):
    """Five targets with different statuses, markets, ages and sync states."""
    made = {}
    for name, status, markets, days_ago in [
        ("Acme Widgets", "Hot", ["EU", "Retail"], 1),
        ('beta 100% "quoted"', "Cold", ["US"], 70),
        ("Gamma_Rays", None, [], 3),
        ("Straße GmbH", "Active", ["eu"], 25),
        ("Zeta", "Closed", ["APAC"], 400),
    ]:
        clock.advance(days=-days_ago)
        made[name] = store.create_target(name, markets=markets, status=status).uid
        clock.advance(days=days_ago)
    return made


def names(targets):
    return [t.name for t in targets]


def listed(store, **kwargs):
    query = TargetQuery(**kwargs)
    got = store.list_targets(query)
    unpaged = TargetQuery(**{k: v for k, v in kwargs.items() if k not in ("offset", "limit")})
    assert store.count_targets(unpaged) == len(store.list_targets(unpaged))
    return names(got)


def test_filters(store, sample):
    assert listed(store) == [
        "Acme Widgets",
        'beta 100% "quoted"',
        "Gamma_Rays",
        "Straße GmbH",
        "Zeta",
    ]
    assert listed(store, statuses=("hot", "Cold")) == ["Acme Widgets", 'beta 100% "quoted"']
    assert listed(store, statuses=(None,)) == ["Gamma_Rays"]
    assert listed(store, statuses=(None, "Closed")) == ["Gamma_Rays", "Zeta"]
    assert listed(store, markets=("eu",)) == ["Acme Widgets", "Straße GmbH"]
    assert listed(store, markets=("apac", "US")) == ['beta 100% "quoted"', "Zeta"]
    assert listed(store, stagnation=("stale",)) == ['beta 100% "quoted"']
    assert listed(store, stagnation=("aging", "stale")) == ['beta 100% "quoted"', "Straße GmbH"]
    assert listed(store, statuses=("Hot",), markets=("EU",), search="acme") == ["Acme Widgets"]
    assert store.count_targets(TargetQuery(statuses=("Hot", "Cold"))) == 2


def test_search_is_a_case_insensitive_substring(store, sample):
    assert listed(store, search="WIDGET") == ["Acme Widgets"]
    assert listed(store, search="me wi") == ["Acme Widgets"]
    assert listed(store, search="e") == [
        "Acme Widgets",
        'beta 100% "quoted"',
        "Straße GmbH",
        "Zeta",
    ]
    assert listed(store, search="ZE") == ["Zeta"]  # short searches use LIKE
    assert listed(store, search="%") == ['beta 100% "quoted"']  # LIKE wildcards are literal
    assert listed(store, search="_") == ["Gamma_Rays"]
    assert listed(store, search='0% "q') == ['beta 100% "quoted"']  # FTS quoting
    assert listed(store, search="STRASSE") == ["Straße GmbH"]  # casefolded
    assert listed(store, search="nothing like it") == []


def test_search_follows_renames(store, sample):
    store.edit_target(sample["Zeta"], name="Omega Corp")
    assert listed(store, search="zeta") == []
    assert listed(store, search="omega") == ["Omega Corp"]


def test_sorts(store, sample, clock):
    assert listed(store, sort="status") == [
        "Gamma_Rays",  # no status first, then pipeline order
        'beta 100% "quoted"',
        "Straße GmbH",
        "Acme Widgets",
        "Zeta",
    ]
    assert listed(store, sort="days") == [
        "Acme Widgets",
        "Gamma_Rays",
        "Straße GmbH",
        'beta 100% "quoted"',
        "Zeta",
    ]
    assert listed(store, sort="days", descending=True)[0] == "Zeta"
    assert listed(store, sort="markets") == [
        "Gamma_Rays",
        "Zeta",
        "Straße GmbH",  # "eu" before "eu, retail"
        "Acme Widgets",
        'beta 100% "quoted"',
    ]
    [create] = [c for c in store.take_batch() if str(c.target) == sample["Zeta"]]
    store.apply_push_results(
        [result(create, "applied", state(sample["Zeta"], 1, clock.now, name="Zeta"))]
    )
    assert listed(store, sort="sync")[-1] == "Zeta"  # synced after the pending ones
    assert listed(store, sync=("synced",)) == ["Zeta"]
    clock.advance(hours=1)
    store.edit_target(sample["Gamma_Rays"], description="new")
    assert listed(store, sort="updated", descending=True)[0] == "Gamma_Rays"
    assert listed(store, sort="name", descending=True)[0] == "Zeta"


def test_offset_and_limit(store, sample):
    assert listed(store, offset=1, limit=2) == ['beta 100% "quoted"', "Gamma_Rays"]
    assert listed(store, offset=4, limit=10) == ["Zeta"]
    assert listed(store, offset=9) == []
    assert listed(store, limit=0) == []


@pytest.mark.parametrize(
    "query",
    [
        TargetQuery(statuses=("warm",)),
        TargetQuery(stagnation=("old",)),
        TargetQuery(sync=("lost",)),
        TargetQuery(sort="size"),
    ],
)
def test_bad_queries(store, query):
    with pytest.raises(InvalidInput):
        store.list_targets(query)


def test_markets_lists_each_market_once(store, sample):
    assert store.markets() == ["APAC", "EU", "Retail", "US"]


def test_resolve(store, sample):
    uid = sample["Acme Widgets"]
    assert store.resolve(uid).name == "Acme Widgets"
    assert store.resolve(uid.upper()).uid == uid
    assert store.resolve(f" {uid[:6]} ").uid == uid
    assert store.resolve("acme widgets").uid == uid
    assert store.resolve("STRASSE GMBH").uid == sample["Straße GmbH"]
    with pytest.raises(NotFound, match="nobody"):
        store.resolve("nobody")
    with pytest.raises(NotFound):
        store.resolve(uid[:3])  # too short for a prefix
    with pytest.raises(NotFound):
        store.resolve("  ")


def test_resolve_ambiguous(store):
    a = store.create_target("Twin", uid="abcd0000-0000-4000-8000-000000000001")
    b = store.create_target("twin", uid="abcd0000-0000-4000-8000-000000000002")
    for ref in ("TWIN", "abcd0"):
        with pytest.raises(Ambiguous) as err:
            store.resolve(ref)
        assert {t.uid for t in err.value.candidates} == {a.uid, b.uid}
        assert "2 targets" in str(err.value)
    assert store.resolve("abcd0000-0000-4000-8000-000000000002").uid == b.uid
