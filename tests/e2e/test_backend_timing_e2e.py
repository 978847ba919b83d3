"""The fake backend says how long it took itself, and the header reaches the client
through the gateway: the bench subtracts it to get the gateway's own latency."""

from __future__ import annotations

import httpx
import openai
from support.fake_backend import HANDLING_HEADER


def test_stored_create_carries_the_backends_own_handling_time(http: httpx.Client) -> None:
    answer = http.post("/responses", json={"model": "m", "input": "time me"})
    assert answer.status_code == 200
    assert answer.json()["status"] == "completed"
    assert int(answer.headers[HANDLING_HEADER]) >= 0


def test_ticker_deltas_keep_their_send_stamps_through_the_relay(client: openai.OpenAI) -> None:
    stream = client.responses.create(model="ticker", input="one two three four", stream=True)
    events = list(stream)
    deltas = [e for e in events if e.type == "response.output_text.delta"]
    stamps = [getattr(e, "sent_ns", None) or (e.model_extra or {}).get("sent_ns") for e in deltas]
    assert len(deltas) >= 4
    assert all(isinstance(stamp, int) for stamp in stamps)
    assert stamps == sorted(stamps)
    assert events[-1].type == "response.completed"
    assert "".join(d.delta for d in deltas) == events[-1].response.output_text
