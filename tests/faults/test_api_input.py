"""Attacks and bad input at the API: a table of hand-made hostile requests (schemathesis
runs in test_schemathesis.py).

Every answer is below 500. A request the schema refuses is a clear 4xx and writes
nothing; a change the business rules refuse is a ``rejected`` outcome with a reason
and writes nothing; text that is allowed (unicode of every kind, SQL metacharacters)
is stored literally and reads back equal.
"""

from __future__ import annotations

import base64
import uuid
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from tests.server.client import create, edit, set_status
from tests.support.server import ServerProcess

from .central import audit_rows, row_counts


# ---- hand-made hostile input ---------------------------------------------------------------
@pytest.fixture
def alice(shared_server: ServerProcess, alice_token: str) -> Iterator[httpx.Client]:
    with httpx.Client(
        base_url=shared_server.url, headers=shared_server.auth(alice_token), timeout=60
    ) as client:
        yield client


def push(client: httpx.Client, *changes: dict, device_id: str = "fuzz") -> httpx.Response:
    return client.post("/v1/push", json={"device_id": device_id, "changes": list(changes)})


def existing(client: httpx.Client) -> dict:
    """A target on the server (created Cold, version 1); its create change."""
    change = create(name=f"Existing {uuid.uuid4().hex[:6]}", status="Cold")
    assert push(client, change).json()["results"][0]["outcome"] == "applied"
    return change


WEIRD_TEXT = {
    "rtl override": "\u202eevil\u202c",
    "arabic": "شركة الأمل",
    "hebrew + latin": "abc שלום def",
    "emoji": "🚀 Rocket 👩🏽‍💻",
    "combining marks": "e\u0301\u0301\u0301 Zalgo z\u0336\u0335",
    "zero width": "a\u200bb\u200dc\ufeff",
    "astral": "𝔘𝔫𝔦𝔠𝔬𝔡𝔢 𠜎",
    "sql quote": "'; DROP TABLE targets; --",
    "sql comment": "x /* */ -- y",
    "psycopg placeholders": "%s %(name)s %% $1 ?",
    "backslashes": "C:\\new\\table\\x00 \\' \\\"",
    "json-ish": '{"op": "create"} [1]',
    "like wildcards": "100% _match_ \\%",
}


@pytest.mark.parametrize("label", sorted(WEIRD_TEXT))
def test_allowed_text_is_stored_literally_and_reads_back_equal(
    alice: httpx.Client, shared_server: ServerProcess, label: str
):
    text = WEIRD_TEXT[label]
    market = text.replace(";", ",")[:64].strip()  # ';' separates markets in CSV files
    change = create(name=text, status="Hot", description=f"{text}\n{text}", markets=[market])
    change["note"] = text
    [result] = push(alice, change).json()["results"]
    assert result["outcome"] == "applied", result
    history = alice.get(f"/v1/targets/{change['target']}/history").json()
    target = history["target"]
    assert target["name"] == text.strip()
    assert target["description"] == f"{text}\n{text}"
    assert target["markets"] == [market]
    assert history["history"][0]["note"] == text.strip()
    pulled = alice.get("/v1/pull", params={"limit": 10_000}).json()
    [same] = [t for t in pulled["targets"] if t["uid"] == change["target"]]
    assert same == target
    assert row_counts(shared_server.database_url)["targets"] > 0  # the tables are still there


def long_text(n: int) -> str:
    return "x" * n


def with_fields(**fields: Any) -> Callable[[dict], dict]:
    return lambda c: {**c, "fields": {**c["fields"], **fields}}


#: change -> change, each refused by the business rules: outcome ``rejected``.
REJECTED: dict[str, Callable[[dict], dict]] = {
    "name of 256 characters": with_fields(name=long_text(256)),
    "name of 1 MB": with_fields(name=long_text(1_000_000)),
    "empty name": with_fields(name="   "),
    "description of 10,001": with_fields(description=long_text(10_001)),
    "note of 1,001": lambda c: {**c, "note": long_text(1_001)},
    "10,000 markets": with_fields(markets=[f"m{i}" for i in range(10_000)]),
    "market of 65": with_fields(markets=[long_text(65)]),
    "empty market": with_fields(markets=[""]),
    "NUL in name": with_fields(name="a\x00b"),
    "NUL in description": with_fields(description="a\x00b"),
    "NUL in market": with_fields(markets=["a\x00b"]),
    "NUL in note": lambda c: {**c, "note": "a\x00b"},
    "NUL in status": lambda c: {**c, "status": "Hot\x00"},
    "escape in name": with_fields(name="\x1b[31mred"),
    "unknown status": lambda c: {**c, "status": "Lukewarm"},
    "sql as status": lambda c: {**c, "status": "Hot'; DROP TABLE targets; --"},
    "create with base": lambda c: {**c, "base_version": 3},
}


@pytest.mark.parametrize("label", sorted(REJECTED))
def test_a_change_breaking_the_rules_is_rejected_and_writes_nothing(
    alice: httpx.Client, shared_server: ServerProcess, label: str
):
    bad = REJECTED[label](create(name="Bad"))
    before = row_counts(shared_server.database_url)
    response = push(alice, bad)
    assert response.status_code in (200, 413), response.text
    if response.status_code == 200:
        [result] = response.json()["results"]
        assert result["outcome"] == "rejected", result
        assert result["error"] and len(result["error"]) < 500, result["error"]
    assert row_counts(shared_server.database_url) == before
    assert alice.get(f"/v1/targets/{bad['target']}/history").status_code == 404


def test_one_bad_change_rejects_alone(alice: httpx.Client, shared_server: ServerProcess):
    good = create(name="Good", status="Cold")
    bad = create(name="a\x00b")
    then = set_status(good["target"], "Hot", 1)
    results = push(alice, good, bad, then).json()["results"]
    assert [r["outcome"] for r in results] == ["applied", "rejected", "applied"]
    assert alice.get(f"/v1/targets/{bad['target']}/history").status_code == 404


#: request -> 4xx code; each refused before any business rule runs.
def _bodies() -> dict[str, tuple[dict | bytes | str, tuple[int, ...]]]:
    good = create(name="Typed")
    return {
        "device_id a number": ({"device_id": 7, "changes": [good]}, (422,)),
        "device_id of 65": ({"device_id": long_text(65), "changes": [good]}, (422,)),
        "device_id of 1 MB": ({"device_id": long_text(1_000_000), "changes": [good]}, (422,)),
        "device_id empty": ({"device_id": "", "changes": [good]}, (422,)),
        "device_id with NUL": ({"device_id": "dev\x00ice", "changes": [good]}, (422,)),
        "changes not a list": ({"device_id": "d", "changes": good}, (422,)),
        "change_id not a uuid": (
            {"device_id": "d", "changes": [{**good, "change_id": "42"}]},
            (422,),
        ),
        "target not a uuid": (
            {"device_id": "d", "changes": [{**good, "target": "'; DROP TABLE"}]},
            (422,),
        ),
        "op unknown": ({"device_id": "d", "changes": [{**good, "op": "delete"}]}, (422,)),
        "base_version text": (
            {"device_id": "d", "changes": [{**good, "base_version": "one"}]},
            (422,),
        ),
        "base_version huge": (
            {"device_id": "d", "changes": [{**good, "base_version": 10**30}]},
            (422, 200),
        ),
        "base_version beyond bigint": (
            {"device_id": "d", "changes": [set_status(uuid.uuid4(), "Hot", 2**63 + 1)]},
            (422,),
        ),
        "base_version far below": (
            {"device_id": "d", "changes": [set_status(uuid.uuid4(), "Hot", -(10**30))]},
            (422,),
        ),
        "status a number": ({"device_id": "d", "changes": [{**good, "status": 5}]}, (422,)),
        "markets a string": (
            {"device_id": "d", "changes": [with_fields(markets="EU")(good)]},
            (422,),
        ),
        "markets numbers": (
            {"device_id": "d", "changes": [with_fields(markets=[1, 2])(good)]},
            (422,),
        ),
        "changed_at words": (
            {"device_id": "d", "changes": [{**good, "changed_at": "yesterday"}]},
            (422,),
        ),
        "changed_at without zone": (
            {"device_id": "d", "changes": [{**good, "changed_at": "2026-01-01T00:00:00"}]},
            (422,),
        ),
        "changed_at as a unix time": (
            {"device_id": "d", "changes": [{**good, "changed_at": 1_700_000_000}]},
            (422,),
        ),
        "base_version as text": (
            {"device_id": "d", "changes": [{**good, "op": "set_status", "base_version": "3"}]},
            (422,),
        ),
        "base_version as true": (
            {"device_id": "d", "changes": [{**good, "op": "set_status", "base_version": True}]},
            (422,),
        ),
        "changed_at year 10000": (
            {"device_id": "d", "changes": [{**good, "changed_at": "10000-01-01T00:00:00Z"}]},
            (422,),
        ),
        "extra top-level field": ({"device_id": "d", "changes": [good], "admin": True}, (422,)),
        "not json": (b'{"device_id": "d", "changes": [', (400,)),
        "json null": (b"null", (400, 422)),
        "json array": (b"[]", (422,)),
        "lone surrogate": (
            b'{"device_id": "d", "changes": [{"change_id": "%s", "target": "%s", "op": "create",'
            b' "fields": {"name": "\\ud800"}, "changed_at": "2026-01-01T00:00:00Z"}]}'
            % (str(uuid.uuid4()).encode(), str(uuid.uuid4()).encode()),
            (400, 422, 200),
        ),
        "invalid utf-8": (b'{"device_id": "\xff\xfe", "changes": []}', (400, 422)),
        "deeply nested": (
            b'{"device_id": "d", "changes": ' + b"[" * 10_000 + b"]" * 10_000 + b"}",
            (400, 422),
        ),
    }


BODIES = _bodies()


@pytest.mark.parametrize("label", sorted(BODIES))
def test_a_malformed_push_is_a_clear_4xx_and_writes_nothing(
    alice: httpx.Client, shared_server: ServerProcess, label: str
):
    body, codes = BODIES[label]
    before = row_counts(shared_server.database_url)
    if isinstance(body, bytes):
        response = alice.post(
            "/v1/push", content=body, headers={"content-type": "application/json"}
        )
    else:
        response = alice.post("/v1/push", json=body)
    assert response.status_code in codes, (response.status_code, response.text[:300])
    if response.status_code >= 400:
        assert response.json()["message"]
        assert row_counts(shared_server.database_url) == before
    else:  # accepted by the schema: then the change itself must be rejected
        assert {r["outcome"] for r in response.json()["results"]} == {"rejected"}
        assert row_counts(shared_server.database_url) == before


@pytest.mark.parametrize(
    "path,params,code",
    [
        ("/v1/targets/not-a-uuid/history", {}, 422),
        ("/v1/targets/' OR 1=1 --/history", {}, 422),
        ("/v1/targets/00000000-0000-4000-8000-000000000404/history", {}, 404),  # stable test id
        ("/v1/pull", {"cursor": "garbage"}, 400),
        ("/v1/pull", {"cursor": "a\x00b"}, 400),
        ("/v1/pull", {"cursor": "x" * 60_000}, (400, 414, 431)),
        ("/v1/pull", {"limit": 0}, 422),
        ("/v1/pull", {"limit": 10**12}, 422),
        ("/v1/pull", {"wait": -1}, 422),
        ("/v1/pull", {"wait": "nan"}, 422),
        ("/v1/pull", {"wait": "inf"}, 422),
    ],
)
def test_bad_reads_are_clear_4xx(alice: httpx.Client, path: str, params: dict, code):
    try:
        response = alice.get(path, params=params)
    except httpx.RemoteProtocolError:  # the server closed a request line too long to read
        assert isinstance(code, tuple)
        return
    codes = code if isinstance(code, tuple) else (code,)
    assert response.status_code in codes, (response.status_code, response.text[:300])


def test_a_cursor_with_huge_numbers_is_a_clear_400(alice: httpx.Client):
    cursor = alice.get("/v1/pull", params={"limit": 1}).json()["cursor"]
    raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
    version, epoch, *_ = raw.split("|")
    big = "9" * 20
    for keys in (f"{big}.{big}|0.0|", f"0.{big}|0.{big}|", f"0.0|0.0|{big}", "0.0|0.0|1,2,x"):
        forged = f"{version}|{epoch}|{keys}"
        text = base64.urlsafe_b64encode(forged.encode()).decode().rstrip("=")
        response = alice.get("/v1/pull", params={"cursor": text})
        assert response.status_code in (200, 400), (forged, response.status_code, response.text)


def test_timestamps_far_ahead_are_clamped_and_far_back_moved_up_to_the_status_before(
    alice: httpx.Client, shared_server: ServerProcess
):
    """A status change is dated no later than the server's clock and no earlier than the
    status it follows (a device whose clock reset must not age the target for the team);
    a time before 2000 (a clock that lost its time) or one that cannot be stored at all
    is dated when received. The change is applied either way."""
    target = existing(alice)
    ahead = {**set_status(target["target"], "Hot", 1), "changed_at": "9999-12-31T23:59:59Z"}
    [result] = push(alice, ahead).json()["results"]
    assert result["outcome"] == "applied"
    [row] = [r for r in audit_rows(shared_server.database_url) if r.change_id == ahead["change_id"]]
    assert row.change_timestamp <= row.recorded_at
    assert row.recorded_at - row.change_timestamp < timedelta(seconds=5)
    assert datetime.fromisoformat(result["target"]["status_changed_at"]) <= datetime.now(UTC)
    version = 2
    pasts = ("1900-01-01T00:00:00Z", "0001-01-01T00:00:00Z", "0001-01-01T00:30:00+01:00")
    for past, status in zip(pasts, ("Closed", "Cold", "Passed"), strict=True):
        change = {**set_status(target["target"], status, version), "changed_at": past}
        response = push(alice, change)
        assert response.status_code == 200, response.text
        [result] = response.json()["results"]
        assert result["outcome"] == "applied", result
        [row] = [
            r for r in audit_rows(shared_server.database_url) if r.change_id == change["change_id"]
        ]
        assert row.recorded_at - row.change_timestamp < timedelta(seconds=5), past
        assert datetime.fromisoformat(result["target"]["status_changed_at"]) == row.change_timestamp
        version += 1
    previous = row.change_timestamp  # a time after 2000 but before it moves up to it
    behind = {
        **set_status(target["target"], "Active", version),
        "changed_at": "2001-01-01T00:00:00Z",
    }
    [result] = push(alice, behind).json()["results"]
    assert result["outcome"] == "applied"
    [row] = [
        r for r in audit_rows(shared_server.database_url) if r.change_id == behind["change_id"]
    ]
    assert row.change_timestamp == previous
    assert datetime.fromisoformat(result["target"]["status_changed_at"]) == previous


def test_edits_with_hostile_fields_are_rejected_or_stored_literally(
    alice: httpx.Client, shared_server: ServerProcess
):
    target = existing(alice)
    uid = target["target"]
    before = row_counts(shared_server.database_url)
    for fields in (
        {"markets": [f"m{i}" for i in range(10_000)]},
        {"name": "a\x00"},
        {"description": long_text(10_001)},
        {},
    ):
        [result] = push(alice, edit(uid, 1, **fields)).json()["results"]
        assert result["outcome"] == "rejected", (fields.keys(), result)
    assert row_counts(shared_server.database_url) == before
    sql = WEIRD_TEXT["sql comment"]
    [result] = push(alice, edit(uid, 1, markets=[sql])).json()["results"]
    assert result["outcome"] == "applied"
    assert result["target"]["markets"] == [sql]
