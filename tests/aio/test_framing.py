"""RawStreamFramer: splitting a TCP byte stream into SIP messages (RFC 3261 §7.5, §18.3)."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from sipfsm.aio import FramingError, RawStreamFramer

from .support import ok, register

bodies = st.binary(max_size=300)
messages = st.lists(
    st.tuples(st.booleans(), bodies, st.booleans()).map(
        lambda t: register(body=t[1]) if t[0] else ok(body=t[1], compact=t[2])
    ),
    min_size=1,
    max_size=6,
)


def _chunks(data: bytes, cuts: list[int]) -> list[bytes]:
    points = sorted({c % (len(data) + 1) for c in cuts})
    out, last = [], 0
    for point in points:
        out.append(data[last:point])
        last = point
    out.append(data[last:])
    return out


@pytest.mark.requirement("RFC3261-18.3-STREAM-CONTENT-LENGTH-AIO")
@pytest.mark.requirement("RFC3261-7.5-LEADING-CRLF-AIO")
@given(
    messages,
    st.lists(st.sampled_from([b"", b"\r\n", b"\r\n\r\n"]), min_size=6, max_size=6),
    st.lists(st.integers(min_value=0, max_value=10_000), max_size=12),
)
def test_any_split_of_any_stream_gives_back_the_messages(
    msgs: list[bytes], prefixes: list[bytes], cuts: list[int]
) -> None:
    stream = b"".join(prefix + msg for prefix, msg in zip(prefixes, msgs, strict=False))
    framer = RawStreamFramer()
    frames: list[bytes] = []
    for chunk in _chunks(stream, cuts):
        frames += framer.feed(chunk)
    assert frames == msgs
    assert framer.buffered == 0


@pytest.mark.requirement("RFC3261-18.3-STREAM-CONTENT-LENGTH-AIO")
def test_body_bytes_that_look_like_headers_stay_in_the_body() -> None:
    body = b"Content-Length: 999\r\n\r\nSIP/2.0 200 OK\r\n"
    framer = RawStreamFramer()
    assert framer.feed(ok(body=body) + ok(2)) == [ok(body=body), ok(2)]


@pytest.mark.requirement("RFC3261-7.5-LEADING-CRLF-AIO")
def test_keepalive_crlfs_alone_produce_nothing() -> None:
    framer = RawStreamFramer()
    assert framer.feed(b"\r\n\r\n") == []
    assert framer.feed(b"\r\n") == []
    assert framer.buffered == 0
    assert framer.feed(ok()) == [ok()]


@pytest.mark.requirement("RFC3261-18.3-STREAM-CONTENT-LENGTH-AIO")
@pytest.mark.parametrize(
    "head",
    [
        b"SIP/2.0 200 OK\r\nCSeq: 1 REGISTER\r\n\r\n",
        b"SIP/2.0 200 OK\r\nContent-Length: x\r\n\r\n",
        b"SIP/2.0 200 OK\r\nContent-Length: -1\r\n\r\n",
        b"SIP/2.0 200 OK\r\nContent-Length: 1\r\nl: 2\r\n\r\n",
    ],
    ids=["missing", "not-a-number", "negative", "conflicting"],
)
def test_unframeable_heads_are_framing_errors(head: bytes) -> None:
    with pytest.raises(FramingError) as info:
        RawStreamFramer().feed(head)
    assert info.value.spec_id == "RFC3261-18.3-STREAM-CONTENT-LENGTH-AIO"


def test_repeated_equal_content_length_is_accepted() -> None:
    message = b"SIP/2.0 200 OK\r\nContent-Length: 2\r\nl: 2\r\n\r\nab"
    assert RawStreamFramer().feed(message) == [message]


def test_size_limits() -> None:
    with pytest.raises(FramingError):
        RawStreamFramer(max_message_size=100).feed(b"X" * 101)
    big = ok(body=b"x" * 200)
    head = big[: big.index(b"\r\n\r\n") + 4]
    with pytest.raises(FramingError):  # known too big from the head alone
        RawStreamFramer(max_message_size=len(big) - 1).feed(head)
    assert RawStreamFramer(max_message_size=len(big)).feed(big) == [big]
