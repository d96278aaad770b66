"""The push route reads its body in one pass by pydantic; what pydantic refuses goes
FastAPI's usual way (the answers to bad input: tests/server/test_errors.py)."""

from __future__ import annotations

import json

import pytest

from protocol.wire import PushRequest
from server.routes import _PushBody, _PushRoute, v1

from .client import create


def _request(body: bytes) -> _PushBody:
    async def receive():
        return {"type": "http.request", "body": body, "more_body": False}

    scope = {"type": "http", "method": "POST", "path": "/v1/push", "headers": []}
    return _PushBody(scope, receive)


async def test_a_valid_body_is_the_model_itself():
    body = json.dumps({"device_id": "d", "changes": [create(), create()]}).encode()
    parsed = await _request(body).json()
    assert isinstance(parsed, PushRequest)
    assert parsed == PushRequest.model_validate(json.loads(body))


async def test_a_body_pydantic_refuses_is_handed_on_as_plain_json():
    change = {**create(), "op": "delete"}
    body = json.dumps({"device_id": "d", "changes": [change]}).encode()
    assert await _request(body).json() == json.loads(body)  # FastAPI's 422 follows


async def test_malformed_json_raises_as_json_loads_does():
    with pytest.raises(json.JSONDecodeError):
        await _request(b'{"device_id": "d", "changes": [').json()


def test_the_push_route_reads_its_body_so():
    [route] = [r for r in v1.routes if getattr(r, "path", None) == "/v1/push"]
    assert isinstance(route, _PushRoute)
