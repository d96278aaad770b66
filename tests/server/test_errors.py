"""Error answers: JSON ``{"message", "field"}`` with the right status code."""

from __future__ import annotations

import uuid

import pytest

from protocol.wire import MAX_CHANGES_PER_PUSH

from .client import count, create


def _error(response, status: int) -> dict:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/json")
    body = response.json()
    assert set(body) == {"message", "field"} and body["message"]
    return body


def test_a_body_over_2_mib_is_413(device_a, shared_server):
    change = create(description="x" * 9_000)
    changes = [{**change, "change_id": str(uuid.uuid4())} for _ in range(300)]  # ~2.7 MB
    before = count(shared_server.database_url, "SELECT count(*) FROM audit_log")

    response = device_a.http.post("/v1/push", json={"device_id": "d", "changes": changes})

    assert "MiB" in _error(response, 413)["message"]
    assert count(shared_server.database_url, "SELECT count(*) FROM audit_log") == before


def test_a_chunked_body_over_2_mib_is_413(device_a):
    def chunks():
        yield b'{"device_id": "d", "changes": ['
        for _ in range(3000):
            yield b" " * 1024
        yield b"]}"

    response = device_a.http.post(
        "/v1/push", content=chunks(), headers={"content-type": "application/json"}
    )
    _error(response, 413)


def test_more_than_1000_changes_is_413(device_a):
    changes = [create() for _ in range(MAX_CHANGES_PER_PUSH + 1)]

    response = device_a.http.post("/v1/push", json={"device_id": "d", "changes": changes})

    body = _error(response, 413)
    assert "1000" in body["message"] and body["field"] == "changes"


def test_malformed_json_is_400(device_a):
    response = device_a.http.post(
        "/v1/push",
        content=b'{"device_id": "d", "changes": [',
        headers={"content-type": "application/json"},
    )
    assert "JSON" in _error(response, 400)["message"]


@pytest.mark.parametrize(
    ("mutate", "field"),
    [
        (lambda c: c.update(change_id="not-a-uuid"), "changes.0.change_id"),
        (lambda c: c.update(op="delete"), "changes.0.op"),
        (lambda c: c.update(changed_at="yesterday"), "changes.0.changed_at"),
        (lambda c: c.update(surprise=1), "changes.0.surprise"),
    ],
)
def test_schema_violations_are_422_naming_the_field(device_a, mutate, field):
    change = create()
    mutate(change)

    response = device_a.http.post("/v1/push", json={"device_id": "d", "changes": [change]})

    body = _error(response, 422)
    assert body["field"] == field and field in body["message"]


def test_a_missing_device_id_is_422(device_a):
    response = device_a.http.post("/v1/push", json={"changes": []})
    assert _error(response, 422)["field"] == "device_id"


def test_history_of_an_unknown_target_is_404(device_a):
    response = device_a.http.get(f"/v1/targets/{uuid.uuid4()}/history")
    assert "no target" in _error(response, 404)["message"]


def test_an_unknown_route_is_a_json_404(device_a):
    _error(device_a.http.get("/v1/nothing-here"), 404)
