"""The fake backend says how long it took itself, and the header reaches the client
through the gateway: the bench subtracts it to get the gateway's own latency."""

from __future__ import annotations

import httpx
from support.fake_backend import HANDLING_HEADER


def test_stored_create_carries_the_backends_own_handling_time(http: httpx.Client) -> None:
    answer = http.post("/responses", json={"model": "m", "input": "time me"})
    assert answer.status_code == 200
    assert answer.json()["status"] == "completed"
    assert int(answer.headers[HANDLING_HEADER]) >= 0
