"""Listing, counting, searching, sorting and resolving targets."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

import pytest

from protocol import InvalidInput
from storage import Ambiguous, NotFound, TargetQuery
from tests.storage.storehelp import pull_target, result, state


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


ACCENTED = [
    "Café Ümlaut",
    "Société Générale",
    "Müller GmbH",
    "Zürich Re",
    "Ørsted",
    "Crème Brûlée",
    "Straße AG",
    "東京ロボティクス",
    "Plain Co",
    "Nguyễn Văn An",
    "Αθήνα Bank",
]
#: search -> names found; the same whether the trigram index or the walk answers it
FOUND_WITHOUT_ACCENTS = {
    "cafe": ["Café Ümlaut"],
    "CAFÉ": ["Café Ümlaut"],
    "umlaut": ["Café Ümlaut"],
    "societe gen": ["Société Générale"],
    "muller": ["Müller GmbH"],
    "mü": ["Müller GmbH"],
    "zurich": ["Zürich Re"],
    "creme brulee": ["Crème Brûlée"],
    "strasse": ["Straße AG"],
    "ロボ": ["東京ロボティクス"],
    "東京ロボ": ["東京ロボティクス"],
    "ørsted": ["Ørsted"],
    "orsted": ["Ørsted"],  # as a keyboard without ø writes it (an import matched no name)
    "nguyen van": ["Nguyễn Văn An"],  # two accents on one letter
    "αθήνα": ["Αθήνα Bank"],
    "αθηνα": [],  # Greek keeps its accents (as SQLite's trigram index does)
    "é": [  # every name with an e, accented or not (sorted by name, accents kept)
        "Café Ümlaut",
        "Crème Brûlée",
        "Müller GmbH",
        "Nguyễn Văn An",
        "Ørsted",
        "Société Générale",
        "Straße AG",
        "Zürich Re",
    ],
    "an": ["Nguyễn Văn An", "Αθήνα Bank"],
}


@pytest.mark.parametrize("walked", [False, True], ids=["trigram index", "walk"])
def test_search_finds_names_typed_without_their_accents(store, monkeypatch, walked):
    import storage.query

    for name in ACCENTED:
        store.create_target(name)
    if walked:  # every search counts as dense: compared along the name index
        monkeypatch.setattr(storage.query, "DENSE_MIN", 0)
    for search, found in FOUND_WITHOUT_ACCENTS.items():
        assert listed(store, search=search) == found, search
    assert names(store.list_targets(TargetQuery(search="cafe", limit=1))) == ["Café Ümlaut"]


def test_a_name_typed_without_accents_names_the_target(store):
    made = store.create_target("Société Générale")
    assert store.resolve("SOCIETE generale").uid == made.uid
    with pytest.raises(NotFound, match="did you mean 'Société Générale'"):
        store.resolve("societe")
    with pytest.raises(InvalidInput, match="already named 'Société Générale'"):
        store.create_target("Societe Generale")  # the same name to a reader


def test_accented_names_sort_among_their_letters(store):
    for name in ("Zeta Corp", "Électricité de France", "Apple", "Ørsted", "Eagle"):
        store.create_target(name)
    assert listed(store) == ["Apple", "Eagle", "Électricité de France", "Ørsted", "Zeta Corp"]


def test_letters_with_a_stroke_and_hidden_characters_name_the_target(store):
    """ "Lodz Tech" is Łódź Tech and "ZeroWidth Co" the name with a zero width space in it:
    a second target so named is refused as the same name to a reader."""
    for name, again in (("Łódź Tech", "Lodz Tech"), ("Zero\u200bWidth Co", "ZeroWidth Co")):
        made = store.create_target(name)
        assert store.resolve(again).uid == made.uid
        with pytest.raises(InvalidInput, match="already named"):
            store.create_target(again)


def test_markets_are_filtered_and_sorted_without_their_accents(store):
    store.create_target("Alpine AG", markets=["Österreich"])
    store.create_target("Bern AG", markets=["Zürich"])
    store.create_target("Cargo Co", markets=["Zurich", "Nordics"])
    store.create_target("Delta Co", markets=["Poland"])
    assert listed(store, markets=("zurich",)) == ["Bern AG", "Cargo Co"]
    assert listed(store, markets=("ÖSTERREICH",)) == ["Alpine AG"]
    assert listed(store, markets=("osterreich",)) == ["Alpine AG"]
    assert listed(store, sort="markets") == ["Alpine AG", "Delta Co", "Bern AG", "Cargo Co"]
    assert store.markets() == ["Nordics", "Österreich", "Poland", "Zurich"]  # one Zürich


def test_two_spellings_of_one_market_are_one_market(store):
    made = store.create_target("Echo AG", markets=["Zürich", "Zurich", "EU"])
    assert made.markets == ("Zürich", "EU")  # the first spelling, the order kept
    assert store.import_targets([{"name": "Fox AG", "markets": "Zurich;ZÜRICH"}]) == (1, 0)
    assert store.resolve("Fox AG").markets == ("Zurich",)
    assert listed(store, markets=("zurich",)) == ["Echo AG", "Fox AG"]


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


def test_a_reference_matching_nothing_names_the_targets_it_is_part_of(store, sample):
    base = "(give a uid, a uid prefix or the exact name)"
    with pytest.raises(NotFound) as err:
        store.resolve("acme")
    assert str(err.value) == f"no target matches 'acme' {base}; did you mean 'Acme Widgets'?"
    store.create_target("Acme Rockets")
    with pytest.raises(NotFound) as err:
        store.resolve("ACME")
    assert str(err.value).endswith("; did you mean 'Acme Rockets' or 'Acme Widgets'?")
    for name in ("Acme Anvils", "Acme Zebras"):
        store.create_target(name)
    with pytest.raises(NotFound) as err:
        store.resolve("acme")  # more than can be listed: the first few by name
    assert str(err.value).endswith(
        "; names with 'acme': 'Acme Anvils', 'Acme Rockets', 'Acme Widgets', …"
    )
    with pytest.raises(NotFound) as err:
        store.resolve("SS")  # too short for the trigram index: the names are scanned
    assert str(err.value).endswith("; did you mean 'Straße GmbH'?")
    with pytest.raises(NotFound) as err:
        store.resolve("nobody")
    assert str(err.value) == f"no target matches 'nobody' {base}"


def test_resolve_ambiguous(store):
    a = store.create_target("Twin", uid="abcd0000-0000-4000-8000-000000000001")
    b = store.get(pull_target(store, "twin", "abcd0000-0000-4000-8000-000000000002"))
    for ref in ("TWIN", "abcd0"):
        with pytest.raises(Ambiguous) as err:
            store.resolve(ref)
        assert {t.uid for t in err.value.candidates} == {a.uid, b.uid}
        assert "2 targets" in str(err.value)
    assert store.resolve("abcd0000-0000-4000-8000-000000000002").uid == b.uid


# ---- plan choice: walk the sort order, or look the matches up and sort them -----------
MANY = 3_000


@pytest.fixture
def many(store, clock):
    """3,000 targets: 2,500 named alpha (a dense search), 500 omega (sparse); four in
    five Hot, all stale once the clock moves 100 days; a few stale ones snoozed."""
    rows = [
        {
            "name": f"Target {i:04d} {'alpha' if i % 6 else 'omega'}",
            "status": "Hot" if i % 5 else "",
        }
        for i in range(MANY)
    ]
    assert store.import_targets(rows) == (MANY, 0)
    clock.advance(days=100)
    hot = store.list_targets(TargetQuery(statuses=("Hot",), limit=40))
    for view in hot[::4]:
        store.snooze(view.uid, clock.now.date() + timedelta(days=3))
    return store


def same_as_sorted_all(store, query, offset):
    """A page (and its count) equals the slice of the whole sorted list."""
    page = replace(query, offset=offset, limit=100)
    got = store.list_targets(page)
    assert got == store.list_targets(query)[offset : offset + 100]
    assert store.count_targets(page) == len(got)
    return store.query_plan(page)


def walks(plan):
    return plan == ["SCAN t1 USING INDEX targets_name"]


@pytest.mark.parametrize("offset", [0, 150, 2_450])
def test_a_dense_search_walks_the_name_index(many, offset):
    plan = same_as_sorted_all(many, TargetQuery(search="ALPHA"), offset)
    assert walks(plan), plan
    assert many.count_targets(TargetQuery(search="alpha")) == MANY - MANY // 6


def test_a_sparse_search_uses_the_trigram_index(many):
    plan = same_as_sorted_all(many, TargetQuery(search="omega"), 100)
    assert any("targets_fts" in line for line in plan), plan
    assert many.count_targets(TargetQuery(search="omega")) == MANY // 6


def test_a_dense_stagnation_filter_walks_a_shallow_page(many):
    stale = TargetQuery(stagnation=("stale",))
    plan = same_as_sorted_all(many, stale, 0)
    assert walks(plan), plan
    listed_stale = many.list_targets(stale)
    assert len(listed_stale) == many.count_targets(stale) == MANY * 4 // 5 - 10  # 10 snoozed
    assert {v.stagnation for v in listed_stale} == {"stale"}
    assert many.count_targets(TargetQuery(stagnation=("snoozed",))) == 10


def test_a_deep_page_of_a_stagnation_filter_is_sorted_from_its_index(many):
    plan = same_as_sorted_all(many, TargetQuery(stagnation=("stale",)), 2_200)
    assert any("targets_status_since" in line for line in plan), plan
    same_as_sorted_all(many, TargetQuery(stagnation=("stale", "snoozed")), 2_200)


def test_walked_and_sorted_pages_agree_with_every_sort(many):
    for sort in ("status", "days", "markets", "sync", "updated"):
        for descending in (False, True):
            query = TargetQuery(search="alpha", stagnation=("stale",), sort=sort)
            same_as_sorted_all(many, replace(query, descending=descending), 40)


def test_a_limit_caps_the_count(many):
    assert many.count_targets(TargetQuery(limit=1_000)) == 1_000
    assert many.count_targets(TargetQuery(search="alpha", limit=10, offset=2_495)) == 5
    assert many.count_targets(TargetQuery(stagnation=("stale",), offset=MANY)) == 0


def test_listed_views_equal_single_reads(many):
    page = many.list_targets(TargetQuery(sort="days", limit=60))
    assert page == [many.get(view.uid) for view in page]


def test_iter_targets_gives_what_list_targets_gives_a_row_at_a_time(store, sample, db_path):
    from contextlib import closing

    from storage import Store

    for query in (
        TargetQuery(),
        TargetQuery(statuses=("Hot",), sort="days", descending=True),
        TargetQuery(markets=("EU",), limit=2),
    ):
        assert list(store.iter_targets(query)) == store.list_targets(query)
    # stopped after one row and closed: the snapshot ends, the store closes cleanly
    other = Store.open(db_path)
    with closing(other.iter_targets()) as rows:
        assert next(rows).name
    other.close()


def test_position_is_the_row_the_list_shows_a_target_on(store):
    """What the TUI selects a new target by: its row in the list as sorted and filtered,
    None when the filter leaves it out."""
    for name, status in (("Delta", "Hot"), ("Alpha", "Cold"), ("Charlie", "Hot"), ("Bravo", None)):
        store.create_target(name, status=status)
    for query in (TargetQuery(), TargetQuery(statuses=("Hot",)), TargetQuery(sort="status")):
        listed = [t.uid for t in store.list_targets(query)]
        assert [store.position(uid, query) for uid in listed] == list(range(len(listed)))
    bravo = store.resolve("Bravo").uid
    assert store.position(bravo, TargetQuery(statuses=("Hot",))) is None
