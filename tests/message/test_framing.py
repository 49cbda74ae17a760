"""RFC 3261 §18.3 / §7.5: datagram and stream framing, Content-Length, and size limits."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sipfsm import strategies as sip
from sipfsm.errors import ParseError
from sipfsm.message import Limits, Request, Response, StreamFramer, parse

from . import samples
from .conftest import crlf

HEAD = """SIP/2.0 200 OK
Via: SIP/2.0/UDP 192.0.2.10:5060;branch=z9hG4bKx
From: <sip:alice@example.com>;tag=1
To: <sip:alice@example.com>;tag=2
Call-ID: a@b
CSeq: 1 REGISTER
"""


def with_length(length: str | None, body: bytes) -> bytes:
    line = "" if length is None else f"Content-Length: {length}\n"
    return crlf(HEAD + line + "\n") + body


# -- datagrams ------------------------------------------------------------------------------


@pytest.mark.requirement("RFC3261-18.3-DATAGRAM-EXTRA-BYTES")
@given(st.binary(max_size=40), st.binary(min_size=1, max_size=40))
def test_bytes_beyond_content_length_are_discarded(body: bytes, extra: bytes) -> None:
    message = parse(with_length(str(len(body)), body + extra))
    assert message.body == body
    assert message.content_length == len(body)


@pytest.mark.requirement("RFC3261-18.3-DATAGRAM-EXTRA-BYTES")
def test_dblreq_gives_the_register_only() -> None:
    # RFC 4475 dblreq: a REGISTER with Content-Length 0 followed by the octets of an INVITE.
    data = samples.REGISTER + samples.OK_THREE_CONTACTS
    message = parse(data)
    assert isinstance(message, Request) and message.method == "REGISTER" and message.body == b""


@pytest.mark.requirement("RFC3261-18.3-DATAGRAM-SHORT-BODY")
@given(st.binary(max_size=40), st.integers(1, 10**6))
def test_a_body_shorter_than_content_length_is_a_parse_error(body: bytes, missing: int) -> None:
    with pytest.raises(ParseError, match="Content-Length") as info:
        parse(with_length(str(len(body) + missing), body))
    assert info.value.spec_id == "RFC3261-18.3-DATAGRAM-SHORT-BODY"


@pytest.mark.requirement("RFC3261-18.3-DATAGRAM-NO-CONTENT-LENGTH")
@given(st.binary(max_size=80))
def test_without_content_length_the_body_is_the_rest_of_the_datagram(body: bytes) -> None:
    message = parse(with_length(None, body))
    assert message.body == body
    assert message.content_length is None
    assert f"Content-Length: {len(body)}\r\n".encode() in message.to_bytes()


@pytest.mark.requirement("RFC3261-20.14-CONTENT-LENGTH-SYNTAX")
@pytest.mark.parametrize("value", ["-999", "abc", "1.0", "", "0x10", "１", "99999999999"])
def test_malformed_content_length_is_a_parse_error(value: str) -> None:
    with pytest.raises(ParseError, match="Content-Length"):
        parse(with_length(value, b""))


@pytest.mark.requirement("RFC3261-20.14-CONTENT-LENGTH-SYNTAX")
def test_several_content_length_rows_are_a_parse_error() -> None:
    # RFC 4475 mcl01.
    data = crlf(HEAD + "Content-Length: 0\nContent-Length: 2\nl: 0\n\n")
    with pytest.raises(ParseError, match="more than once"):
        parse(data)


@pytest.mark.requirement("RFC3261-20.14-CONTENT-LENGTH-SERIALISE")
@given(sip.messages(), st.sampled_from([None, "0", "5", "999", "garbage"]))
def test_to_bytes_writes_the_real_content_length(
    message: Request | Response, given_length: str | None
) -> None:
    if given_length is not None:
        message = message.with_headers(message.headers.with_replaced("Content-Length", given_length))
    data = message.to_bytes()
    head = data.partition(b"\r\n\r\n")[0] + b"\r\n"
    assert head.count(b"\r\nContent-Length: ") == 1
    assert f"\r\nContent-Length: {len(message.body)}\r\n".encode() in head
    assert parse(data).content_length == len(message.body)
    assert parse(data) == message


@pytest.mark.requirement("RFC3261-20.14-CONTENT-LENGTH-SERIALISE")
def test_an_empty_body_is_content_length_zero() -> None:
    message = parse(with_length(None, b""))
    assert message.to_bytes().endswith(b"\r\nContent-Length: 0\r\n\r\n")


# -- streams --------------------------------------------------------------------------------


def stream_of(messages: list[Request | Response], keepalives: list[bytes]) -> bytes:
    parts = []
    for i, message in enumerate(messages):
        parts.append(keepalives[i % len(keepalives)] if keepalives else b"")
        parts.append(message.to_bytes())
    return b"".join(parts)


@pytest.mark.requirement("RFC3261-18.3-CONTENT-LENGTH-STREAM")
@pytest.mark.requirement("RFC3261-7.5-STREAM-LEADING-CRLF")
@settings(suppress_health_check=[HealthCheck.filter_too_much, HealthCheck.too_slow,
                                 HealthCheck.data_too_large])  # fmt: skip
@given(
    st.lists(sip.messages(), min_size=1, max_size=3),
    st.lists(st.sampled_from([b"", b"\r\n", b"\r\n\r\n", b"\r\n\r\n\r\n"]), max_size=4),
    st.lists(st.integers(1, 200), max_size=20),
)
def test_any_chunking_of_a_stream_frames_the_same_messages(
    messages: list[Request | Response], keepalives: list[bytes], chunks: list[int]
) -> None:
    data = stream_of(messages, keepalives)
    framer = StreamFramer()
    out: list[Request | Response] = []
    pos = 0
    for size in [*chunks, len(data)]:
        out += framer.feed(data[pos : pos + size])
        pos += size
    assert out == messages
    assert [m.body for m in out] == [m.body for m in messages]
    assert framer.buffered == 0


@pytest.mark.requirement("RFC3261-7.5-STREAM-LEADING-CRLF")
def test_keepalives_alone_produce_nothing() -> None:
    framer = StreamFramer()
    assert framer.feed(b"\r\n\r\n") == []
    assert framer.feed(b"\r\n") == []
    assert framer.feed(samples.REGISTER)[0] == parse(samples.REGISTER)


@pytest.mark.requirement("RFC3261-18.3-CONTENT-LENGTH-STREAM")
def test_a_stream_message_without_content_length_is_an_error() -> None:
    framer = StreamFramer()
    with pytest.raises(ParseError, match="mandatory") as info:
        framer.feed(with_length(None, b""))
    assert info.value.spec_id == "RFC3261-18.3-CONTENT-LENGTH-STREAM"
    with pytest.raises(ParseError):
        framer.feed(samples.REGISTER)  # the connection is unusable after a framing error


@pytest.mark.requirement("RFC3261-18.3-CONTENT-LENGTH-STREAM")
def test_messages_before_an_error_are_delivered_then_the_error() -> None:
    framer = StreamFramer()
    good = framer.feed(samples.REGISTER + b"GARBAGE\r\n\r\n")
    assert good == [parse(samples.REGISTER)]
    assert framer.error is not None
    with pytest.raises(ParseError):
        framer.feed(b"")


@pytest.mark.requirement("RFC3261-18.3-CONTENT-LENGTH-STREAM")
def test_the_body_waits_for_content_length_bytes() -> None:
    framer = StreamFramer()
    data = with_length("10", b"0123456789")
    assert framer.feed(data[:-4]) == []
    (message,) = framer.feed(data[-4:])
    assert message.body == b"0123456789"


# -- limits -----------------------------------------------------------------------------------


@pytest.mark.requirement("RFC3261-21.4.11-SIZE-LIMITS")
def test_a_message_over_the_size_limit_is_a_parse_error() -> None:
    limits = Limits(max_message_size=600)
    assert parse(samples.REGISTER, limits=limits)
    with pytest.raises(ParseError, match="exceeds") as info:
        parse(samples.REGISTER + b"x" * 600, limits=limits)
    assert info.value.spec_id == "RFC3261-21.4.11-SIZE-LIMITS"
    with pytest.raises(ParseError, match="exceeds"):
        parse(b"x" * 70000)


@pytest.mark.requirement("RFC3261-21.4.11-SIZE-LIMITS")
def test_header_count_and_line_length_limits() -> None:
    many = crlf(HEAD + "X-A: 1\n" * 300 + "\n")
    with pytest.raises(ParseError, match="header lines"):
        parse(many)
    assert parse(many, limits=Limits(max_headers=400)).headers.get_lines("X-A") == ["1"] * 300
    long = crlf(HEAD + "X-A: " + "a" * 9000 + "\n\n")
    with pytest.raises(ParseError, match="longer than"):
        parse(long)
    folded = crlf(HEAD + "X-A: a\n" + " b\n" * 40 + "\n")
    with pytest.raises(ParseError, match="after unfolding"):
        parse(folded, limits=Limits(max_header_line=60))


@pytest.mark.requirement("RFC3261-21.4.11-SIZE-LIMITS")
def test_the_stream_framer_refuses_to_buffer_past_the_limit() -> None:
    framer = StreamFramer(Limits(max_message_size=1000))
    with pytest.raises(ParseError, match="exceeds"):
        for _ in range(100):
            framer.feed(b"X-Endless-Header: " + b"a" * 50)
    assert framer.buffered == 0
    framer = StreamFramer(Limits(max_message_size=1000))
    with pytest.raises(ParseError, match="exceeds"):
        framer.feed(with_length("5000", b""))  # refused before the body arrives
    with pytest.raises(ValueError):
        Limits(max_headers=0)
