"""SseSplitter and encode_event: framing a byte stream that may be cut anywhere."""

from __future__ import annotations

import itertools

import orjson
import pytest

from core.common.sse import SseFrame, SseSplitter, encode_event

Frame = tuple[bytes, str | None, bytes | None]


def _payload(kind: str, **fields: object) -> bytes:
    return orjson.dumps({"type": kind, **fields})


# A multi-event stream with multi-byte UTF-8 (2, 3 and 4 byte sequences), a comment,
# a multi-line data field and an event without an `event:` line. LF line endings.
_EVENTS_LF = b"".join(
    [
        encode_event("response.created", _payload("response.created", response={"id": "r"})),
        b": keep-alive comment\n\n",
        encode_event(
            "response.output_text.delta", _payload("response.output_text.delta", delta="héllo ✓")
        ),
        encode_event("response.output_text.delta", _payload("x", delta="😀 ünïcödé — done")),
        "event: multi\ndata: first line\ndata: second ✓\ndata:third\n\n".encode(),
        b'data: {"type":"no.event.line","text":"\xe2\x82\xac"}\n\n',
        encode_event("response.completed", _payload("response.completed", response={"o": "ok"})),
    ]
)


def _as_tuples(frames: list[SseFrame]) -> list[Frame]:
    return [(f.raw, f.event, f.data) for f in frames]


def _split_run(stream: bytes, *cuts: int) -> list[Frame]:
    splitter = SseSplitter()
    frames: list[SseFrame] = []
    bounds = [0, *cuts, len(stream)]
    for start, end in itertools.pairwise(bounds):
        frames += splitter.feed(stream[start:end])
    frames += splitter.flush()
    return _as_tuples(frames)


def _with_endings(stream: bytes, ending: bytes) -> bytes:
    return stream.replace(b"\n", ending)


def _expected() -> list[Frame]:
    return _split_run(_EVENTS_LF)


def test_unsplit_stream_frames() -> None:
    frames = _expected()
    events = [event for _, event, _ in frames]
    assert events == [
        "response.created",
        None,  # the comment-only block
        "response.output_text.delta",
        "response.output_text.delta",
        "multi",
        None,
        "response.completed",
    ]
    assert frames[0][2] == _payload("response.created", response={"id": "r"})
    assert orjson.loads(frames[2][2] or b"")["delta"] == "héllo ✓"
    assert orjson.loads(frames[3][2] or b"")["delta"] == "😀 ünïcödé — done"
    assert frames[4][2] == "first line\nsecond ✓\nthird".encode()
    assert frames[5][2] == '{"type":"no.event.line","text":"€"}'.encode()
    # A frame's raw bytes are the frame as received, without the blank line.
    assert frames[4][0] == b"event: multi\ndata: first line\ndata: second \xe2\x9c\x93\ndata:third"


@pytest.mark.parametrize("ending", [b"\n", b"\r\n", b"\r"], ids=["lf", "crlf", "cr"])
def test_every_split_point_gives_the_same_frames(ending: bytes) -> None:
    stream = _with_endings(_EVENTS_LF, ending)
    expected = _expected()
    assert _split_run(stream) == expected
    for cut in range(len(stream) + 1):
        assert _split_run(stream, cut) == expected, f"split at byte {cut}"


@pytest.mark.parametrize("ending", [b"\n", b"\r\n", b"\r"], ids=["lf", "crlf", "cr"])
def test_byte_at_a_time_gives_the_same_frames(ending: bytes) -> None:
    stream = _with_endings(_EVENTS_LF, ending)
    assert _split_run(stream, *range(1, len(stream))) == _expected()


def test_every_pair_of_split_points_in_a_crlf_stream() -> None:
    stream = _with_endings(
        encode_event("a", "ü✓😀".encode()) + encode_event("b", b"x") + b"data: z\n\n", b"\r\n"
    )
    expected = [
        (b"event: a\ndata: " + "ü✓😀".encode(), "a", "ü✓😀".encode()),
        (b"event: b\ndata: x", "b", b"x"),
        (b"data: z", None, b"z"),
    ]
    for first in range(len(stream) + 1):
        for second in range(first, len(stream) + 1):
            assert _split_run(stream, first, second) == expected, (first, second)


def test_crlf_split_between_chunks_is_one_line_ending() -> None:
    splitter = SseSplitter()
    # The CR of the blank line's CRLF ends the first chunk, its LF starts the second.
    assert splitter.feed(b"event: a\r\ndata: 1\r\n\r") == []
    frames = splitter.feed(b"\nevent: b\r\ndata: 2\r\n\r\n")
    assert _as_tuples(frames) == [
        (b"event: a\ndata: 1", "a", b"1"),
        (b"event: b\ndata: 2", "b", b"2"),
    ]
    assert splitter.flush() == []


def test_crlf_split_inside_a_data_line_does_not_add_an_empty_line() -> None:
    splitter = SseSplitter()
    assert splitter.feed(b"data: a\r") == []
    assert splitter.feed(b"\ndata: b\r") == []
    frames = splitter.feed(b"\n\r\n")
    assert _as_tuples(frames) == [(b"data: a\ndata: b", None, b"a\nb")]


def test_cr_only_line_endings() -> None:
    splitter = SseSplitter()
    frames = splitter.feed(b"event: a\rdata: 1\rdata: 2\r\revent: b\rdata: 3\r\r")
    frames += splitter.flush()
    assert _as_tuples(frames) == [
        (b"event: a\ndata: 1\ndata: 2", "a", b"1\n2"),
        (b"event: b\ndata: 3", "b", b"3"),
    ]


def test_multi_line_data_is_joined_with_newline() -> None:
    splitter = SseSplitter()
    (frame,) = splitter.feed(b"data: one\ndata:two\ndata:  three\ndata: \n\n")
    # One leading space is removed from each value, no more.
    assert frame.data == b"one\ntwo\n three\n"
    assert frame.event is None


def test_comments_are_ignored() -> None:
    splitter = SseSplitter()
    frames = splitter.feed(b": hello\nevent: e\n: between\ndata: d\n:tail\n\n: only a comment\n\n")
    assert [(f.event, f.data) for f in frames] == [("e", b"d"), (None, None)]


def test_event_name_is_stripped_and_last_event_line_wins() -> None:
    splitter = SseSplitter()
    (frame,) = splitter.feed(b"event:  first \nevent:second\ndata: x\n\n")
    assert frame.event == "second"


def test_frame_without_data_has_no_data() -> None:
    (frame,) = SseSplitter().feed(b"event: ping\n\n")
    assert frame.event == "ping"
    assert frame.data is None


def test_partial_frame_waits_for_more_bytes() -> None:
    splitter = SseSplitter()
    assert splitter.feed(b"event: a\ndata: 1\n") == []
    assert splitter.feed(b"\n")[0].data == b"1"


@pytest.mark.parametrize(
    "tail", [b"data: last", b"data: last\n", b"data: last\r\n", b"data: last\r"]
)
def test_flush_returns_a_final_frame_without_blank_line(tail: bytes) -> None:
    splitter = SseSplitter()
    frames = splitter.feed(b"data: first\n\n" + tail)
    assert [f.data for f in frames] == [b"first"]
    flushed = splitter.flush()
    assert _as_tuples(flushed) == [(b"data: last", None, b"last")]
    assert splitter.flush() == []


def test_flush_of_an_empty_splitter_is_empty() -> None:
    splitter = SseSplitter()
    assert splitter.flush() == []
    splitter.feed(b"data: a\n\n")
    assert splitter.flush() == []


def test_splitter_is_reusable_after_flush() -> None:
    splitter = SseSplitter()
    splitter.feed(b"data: a")
    assert [f.data for f in splitter.flush()] == [b"a"]
    assert [f.data for f in splitter.feed(b"data: b\n\n")] == [b"b"]


def test_encode_event_format() -> None:
    payload = '{"type":"response.output_text.delta","delta":"✓"}'.encode()
    encoded = encode_event("response.output_text.delta", payload)
    assert encoded == b"event: response.output_text.delta\ndata: " + payload + b"\n\n"


def test_encode_event_round_trips_through_the_splitter() -> None:
    payload = orjson.dumps({"type": "t", "text": "é😀"})
    (frame,) = SseSplitter().feed(encode_event("t", payload))
    assert (frame.event, frame.data) == ("t", payload)
    assert frame.raw + b"\n\n" == encode_event("t", payload)
