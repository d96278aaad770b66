"""A malformed parameter is answered as one: a ``Pipetrack-Cursor`` that is no cursor at
all was 409 "the database was restored" (a device pulls everything again for it), and
``wait=nan`` was "Input should be less than or equal to 60"."""

from __future__ import annotations

import pytest

from protocol.wire import CURSOR_HEADER

from .client import Device, create


@pytest.mark.parametrize("header", ["garbage", "-1", "", "MXxhYmM="])
def test_a_malformed_cursor_header_of_a_push_is_400(shared_server, alice_token, header):
    with Device(shared_server, alice_token) as device:
        body = {"device_id": device.device_id, "changes": [create()]}
        answer = device.http.post("/v1/push", json=body, headers={CURSOR_HEADER: header})
        assert answer.status_code == 400, answer.text
        assert answer.json() == {
            "message": f"the {CURSOR_HEADER} header is malformed: it is not a cursor this"
            " server gave out (send the cursor of the device's last pull, or none)",
            "field": "cursor",
        }
        # nothing was decided: the change goes in when pushed with a good cursor
        cursor = device.pull()["cursor"]
        again = device.http.post("/v1/push", json=body, headers={CURSOR_HEADER: cursor})
        assert again.status_code == 200 and again.json()["results"][0]["outcome"] == "applied"


@pytest.mark.parametrize("wait", ["nan", "inf", "-inf", "-1", "61", "abc", "1e400"])
def test_a_wait_that_is_no_number_of_seconds_says_what_it_must_be(device_a, wait):
    answer = device_a.http.get("/v1/pull", params={"wait": wait})
    assert answer.status_code == 422, answer.text
    assert answer.json() == {
        "message": "wait: must be a number of seconds from 0 to 60",
        "field": "wait",
    }
