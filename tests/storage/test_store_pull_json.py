"""Store.apply_pull_json: the page applied from its JSON text inside SQLite must leave
exactly the tables apply_pull leaves (random pages, side by side on two real files), and
a malformed page must be refused with nothing changed."""

from __future__ import annotations

import json
import random
import shutil
import uuid
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest

from protocol.wire import PullResponse
from storage import Store, TargetQuery
from tests.storage.storehelp import result, state

_TABLES = {
    "targets": "SELECT * FROM targets ORDER BY id",
    "markets": "SELECT * FROM target_markets ORDER BY market_lc, uid",
    "audit": "SELECT * FROM audit ORDER BY id",
    "outbox": "SELECT * FROM outbox ORDER BY id",
    # pull_more: the page's "more", which only the JSON path is given
    "meta": "SELECT * FROM meta WHERE key NOT IN ('device_id', 'pull_more') ORDER BY key",
    "fts": "SELECT rowid, name_lc FROM targets_fts ORDER BY rowid",
    "team_edits": "SELECT * FROM team_edits ORDER BY target",
}
_STATUSES = [None, "Passed", "Cold", "Active", "Hot", "Closed", "hot", " cold", "none", ""]
_MARKETS = ["EU", "eu", "Asia", "Ünï", "Straße", 'quo"te', "back\\slash", "tab\tx", "\u00e9"]
_NAMES = ["Acme", "ÉTÉ Corp", "Straße", 'Say "hi"', "line\nbreak", "x\\y", "日本"]


def _tables(store: Store) -> dict[str, list[tuple]]:
    db = store._ctx.db
    return {name: list(db.execute_sql(sql).fetchall()) for name, sql in _TABLES.items()}


def _time(rnd: random.Random, base: datetime) -> datetime:
    at = base + timedelta(seconds=rnd.randrange(10**6), microseconds=rnd.choice([0, 1, 999_999]))
    return at.astimezone(timezone(timedelta(hours=rnd.choice([0, 0, 0, 2, -5]))))


def _target(rnd: random.Random, uid: str, base: datetime) -> dict:
    status = rnd.choice(_STATUSES)
    wire = state(
        uid,
        rnd.randrange(1, 6),
        _time(rnd, base),
        name=rnd.choice(_NAMES) + str(rnd.randrange(50)),
        description=rnd.choice(["", "d", "long\ndescription"]),
        markets=tuple(rnd.sample(_MARKETS, rnd.randrange(4))),
        status=status,
        status_at=_time(rnd, base) if rnd.random() < 0.5 else None,
    ).model_dump(mode="json")
    if rnd.random() < 0.2:
        wire["uid"] = wire["uid"].upper()
    for key in ("description", "markets", "updated_by"):
        if rnd.random() < 0.2:
            del wire[key]  # optional: the default applies
    return wire


def _entry(rnd: random.Random, uid: str, change_id: str, base: datetime) -> dict:
    op = rnd.choice(["create", "set_status", "set_status", "edit"])
    return {
        "id": rnd.randrange(1, 10**6),
        "change_id": change_id.upper() if rnd.random() < 0.1 else change_id,
        "target": uid,
        "op": op,
        "old_status": rnd.choice(_STATUSES),
        "new_status": None if op == "edit" else rnd.choice(_STATUSES),
        "changed_at": _time(rnd, base).isoformat().replace("+00:00", "Z"),
        "recorded_at": "2026-01-02T03:04:05Z",
        "changed_by": rnd.choice(["bob", "carol"]),
        "device_id": "other",
        "note": rnd.choice([None, "n", 'a "note"']),
        "version": rnd.randrange(1, 9),
    }


def _prepare(store: Store, clock, uids: list[str]) -> list[str]:
    """Some targets synced, some with pending changes on top; returns the change ids of
    the local status changes."""
    own = []
    for uid in uids[:6]:
        t = store.create_target(f"Local {uid[:4]}", markets=["EU"], status="Cold", uid=uid)
        [create] = store.take_batch()
        store.apply_push_results(
            [result(create, "applied", state(t.uid, 2, clock.now, status="Cold"))]
        )
    for uid in uids[:3]:
        own.append(store.set_status(uid, "Hot", note="mine").change_id)
    store.create_target("Only here", uid=uids[6])
    return own


def _picks(rnd: random.Random, uids: list[str], seed: int) -> list[str]:
    """Odd seeds: each uid at most once (staged in one round); even: repeats (rounds)."""
    if seed % 2:
        return rnd.sample(uids, rnd.randrange(len(uids)))
    return [rnd.choice(uids) for _ in range(rnd.randrange(25))]


@pytest.mark.parametrize("seed", range(12))
def test_json_path_leaves_the_same_tables_as_apply_pull(tmp_path: Path, clock, seed):
    rnd = random.Random(seed)
    uids = [str(uuid.UUID(int=rnd.getrandbits(128))) for _ in range(14)]
    base = datetime(2026, 2, 1, tzinfo=UTC)
    with Store.open(tmp_path / "models.db", clock=clock, user="alice") as models:
        own = _prepare(models, clock, uids)
    shutil.copyfile(tmp_path / "models.db", tmp_path / "json.db")  # closed: WAL checkpointed
    with (
        Store.open(tmp_path / "models.db", clock=clock, user="alice") as models,
        Store.open(tmp_path / "json.db", clock=clock, user="alice") as raw,
    ):
        assert _tables(raw) == _tables(models)
        changes = own + [str(uuid.uuid4()) for _ in range(6)]
        for page in range(3):
            clock.advance(hours=1)
            body = json.dumps(
                {
                    "targets": [_target(rnd, uid, base) for uid in _picks(rnd, uids, seed)],
                    "history": [
                        _entry(rnd, rnd.choice(uids), rnd.choice(changes), base)
                        for _ in range(rnd.randrange(25))
                    ],
                    "cursor": f"c{seed}-{page}",
                    "more": page < 2,
                },
                ensure_ascii=rnd.random() < 0.3,  # \u escapes, as another server may write
            )
            parsed = PullResponse.model_validate_json(body)
            expected = models.apply_pull(parsed.targets, parsed.history, parsed.cursor)
            assert raw.apply_pull_json(body) == expected
            assert raw.apply_pull_json(body.encode()) == models.apply_pull(
                parsed.targets, parsed.history, parsed.cursor
            )  # twice: nothing new the second time
            assert _tables(raw) == _tables(models)
        assert raw.pull_cursor() == f"c{seed}-2"
        search = TargetQuery(search="local")
        assert raw.list_targets(search) == models.list_targets(search)


def _page(**changes) -> dict:
    at = datetime(2026, 3, 1, tzinfo=UTC)
    uid = str(uuid.uuid4())
    page = {
        "targets": [state(uid, 1, at, name="New", status="Hot").model_dump(mode="json")],
        "history": [],
        "cursor": "next",
        "more": False,
    }
    page.update(changes)
    return page


def _broken_pages() -> list[tuple[object, str]]:
    good = _page()
    target = good["targets"][0]
    entry = {
        "id": 1,
        "change_id": str(uuid.uuid4()),
        "target": target["uid"],
        "op": "set_status",
        "old_status": None,
        "new_status": "Hot",
        "changed_at": "2026-03-01T00:00:00Z",
        "recorded_at": "2026-03-01T00:00:00Z",
        "changed_by": "bob",
        "device_id": "d",
        "note": None,
        "version": 1,
    }
    return [
        (b"\xff\xfe", "UTF-8"),
        ("{not json", "not JSON"),
        ("[]", "not an object"),
        (_page(cursor=None), "cursor"),
        (_page(more="maybe"), "more"),
        (_page(extra=1), "unknown key extra"),
        ({k: v for k, v in good.items() if k != "history"}, "history"),
        (_page(targets=[1]), "targets[0]: not an object"),
        (_page(targets=[{**target, "version": 1.5}]), "targets[0]: version"),
        (_page(targets=[{**target, "name": None}]), "targets[0]: name"),
        (_page(targets=[target, {**target, "markets": ["EU", 3]}]), "targets[1]: markets"),
        (_page(targets=[{**target, "colour": "red"}]), "unknown key colour"),
        (_page(targets=[{**target, "uid": "not-a-uid"}]), "'not-a-uid' is not a uuid"),
        (_page(targets=[{**target, "status": "Lukewarm"}]), "'Lukewarm' is not a status"),
        (_page(targets=[{**target, "created_at": "yesterday"}]), "'yesterday' is not a time"),
        (_page(history=[{**entry, "op": "delete"}]), "history[0]: op"),
        (_page(history=[{**entry, "recorded_at": "2026-13-01"}]), "is not a time"),
        (_page(history=[{**entry, "changed_by": None}]), "history[0]: changed_by"),
        (_page(history=[entry, {**entry, "target": "x"}]), "'x' is not a uuid"),
    ]


@pytest.mark.parametrize(("body", "says"), _broken_pages())
def test_a_malformed_page_is_refused_and_changes_nothing(store, clock, body, says):
    store.create_target("Acme", status="Cold")
    store.apply_pull_json(json.dumps(_page(cursor="before")))
    before = _tables(store)
    text = body if isinstance(body, str | bytes) else json.dumps(body)
    with pytest.raises(ValueError, match=None) as refused:
        store.apply_pull_json(text)
    assert says in str(refused.value)
    assert _tables(store) == before
    with pytest.raises(ValueError):  # the pydantic path refuses it too
        parsed = PullResponse.model_validate_json(text)
        store.apply_pull(parsed.targets, parsed.history, parsed.cursor)
    assert _tables(store) == before


def test_a_page_without_its_optional_keys_is_applied(store):
    """The quick shape check wants every key; a page without the optional ones is still
    checked key by key and applied, as the pydantic path applies it."""
    page = _page()
    target = page["targets"][0]
    for key in ("description", "markets", "status", "status_changed_at", "updated_by"):
        del target[key]
    assert store.apply_pull_json(json.dumps(page)).targets == 1
    [got] = store.list_targets(TargetQuery())
    assert (got.uid, got.name, got.status, got.markets) == (target["uid"], "New", None, ())


def test_the_refusal_rolls_back_rows_already_staged(store):
    """A bad value found while staging (after the checks passed) still changes nothing."""
    good = _page()
    bad = {**good["targets"][0], "uid": str(uuid.uuid4()), "last_updated": "2026-02-30T00:00:00Z"}
    before = _tables(store)
    with pytest.raises(ValueError, match="is not a time"):
        store.apply_pull_json(json.dumps({**good, "targets": [good["targets"][0], bad]}))
    assert _tables(store) == before
    assert store.pull_cursor() is None


def test_a_page_read_on_other_threads_is_written_as_apply_pull_json_writes_it(tmp_path, clock):
    """The daemon reads the next page on another thread (its own in-memory SQLite) while
    the store writes this one: reading touches no store, reading in two threads at once
    gives the same rows, and writing them leaves what apply_pull_json leaves."""
    from concurrent.futures import ThreadPoolExecutor

    rnd = random.Random(7)
    uids = [str(uuid.UUID(int=rnd.getrandbits(128))) for _ in range(30)]
    base = datetime(2026, 2, 1, tzinfo=UTC)
    body = json.dumps(
        {
            "targets": [_target(rnd, uid, base) for uid in uids + uids[:5]],  # two rounds
            "history": [_entry(rnd, rnd.choice(uids), str(uuid.uuid4()), base) for _ in range(40)],
            "cursor": "c1",
            "more": False,
        }
    )
    with (
        Store.open(tmp_path / "read.db", clock=clock) as staged,
        Store.open(tmp_path / "applied.db", clock=clock) as applied,
    ):
        before = _tables(staged)
        with ThreadPoolExecutor(2) as pool:
            first, second = pool.map(Store.read_pull_json, [body, body])
        assert first == second
        assert [len(r) for r in first.rounds] == [30, 5]
        assert _tables(staged) == before
        assert staged.write_pull_page(first) == applied.apply_pull_json(body)
        assert _tables(staged) == _tables(applied)
