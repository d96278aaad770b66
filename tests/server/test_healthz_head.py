"""``HEAD /healthz`` answers as GET does (load balancers check with HEAD): it was 405."""

from __future__ import annotations

import warnings


def test_head_healthz_answers_like_get(shared_server, http):
    got = http.get(f"{shared_server.url}/healthz")
    head = http.head(f"{shared_server.url}/healthz")
    assert got.status_code == head.status_code == 200, head.text
    assert head.content == b""
    assert head.headers["content-type"] == got.headers["content-type"] == "application/json"
    assert head.headers["content-length"] == got.headers["content-length"]


def test_the_openapi_document_lists_healthz_once(shared_server, http):
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        document = http.get(f"{shared_server.url}/openapi.json").json()
    assert list(document["paths"]["/healthz"]) == ["get"]
