"""Conformance checks for framing (sipfsm.message.parse on a datagram, StreamFramer on a stream):
RFC 3261 §18.3 Content-Length on datagrams and streams, §7.5 CRLFs before a start line, §20.14
Content-Length syntax and serialising, and the §21.4.11 size limits (spec/message.toml).

The framing rules are hypothesis properties over bodies, surplus and missing bytes, and any
chunking of a stream of generated messages with keep-alive CRLFs between them.
"""

from __future__ import annotations

from functools import partial

from hypothesis import given
from hypothesis import strategies as st

from sipfsm import strategies as sip
from sipfsm.conformance.aio_support import raises
from sipfsm.conformance.message_support import (
    OK_THREE_CONTACTS,
    REGISTER,
    RESPONSE_HEAD,
    case,
    crlf,
    parse_error,
    with_length,
)
from sipfsm.conformance.registry import check, expect
from sipfsm.errors import ParseError
from sipfsm.message import Limits, Request, Response, StreamFramer, parse

# --------------------------------------------------------------------------------------------
# Datagrams
# --------------------------------------------------------------------------------------------


@check("RFC3261-18.3-DATAGRAM-EXTRA-BYTES")
@given(st.binary(max_size=40), st.binary(min_size=1, max_size=40))
def bytes_beyond_content_length_are_discarded(body: bytes, extra: bytes) -> None:
    """The body is Content-Length bytes; what follows in the datagram is dropped."""
    message = parse(with_length(str(len(body)), body + extra))
    assert message.body == body
    assert message.content_length == len(body)


@check("RFC3261-18.3-DATAGRAM-EXTRA-BYTES")
def dblreq_gives_the_first_message_only() -> None:
    """RFC 4475 dblreq: a REGISTER with Content-Length 0 followed by another message's octets
    parses as the REGISTER alone."""
    message = parse(REGISTER + OK_THREE_CONTACTS)
    assert isinstance(message, Request) and message.method == "REGISTER" and message.body == b""


@check("RFC3261-18.3-DATAGRAM-SHORT-BODY")
@given(st.binary(max_size=40), st.integers(1, 10**6))
def a_body_shorter_than_content_length_is_a_parse_error(body: bytes, missing: int) -> None:
    """RFC 4475 clerr: a datagram ending before Content-Length bytes of body is a ParseError."""
    error = parse_error(parse, with_length(str(len(body) + missing), body),
                        match="Content-Length")  # fmt: skip
    assert error.spec_id == "RFC3261-18.3-DATAGRAM-SHORT-BODY"


@check("RFC3261-18.3-DATAGRAM-NO-CONTENT-LENGTH")
@given(st.binary(max_size=80))
def without_content_length_the_body_is_the_rest_of_the_datagram(body: bytes) -> None:
    """Without Content-Length the body runs to the end of the datagram, and is sent with the
    real Content-Length."""
    message = parse(with_length(None, body))
    assert message.body == body
    assert message.content_length is None
    assert f"Content-Length: {len(body)}\r\n".encode() in message.to_bytes()


@check("RFC3261-20.14-CONTENT-LENGTH-SYNTAX")
def malformed_content_length_is_a_parse_error() -> None:
    """A negative (RFC 4475 ncl), non-decimal, non-ASCII, empty or overlarge Content-Length is
    a ParseError."""
    for value in ["-999", "abc", "1.0", "", "0x10", "１", "99999999999"]:
        with case(value):
            parse_error(parse, with_length(value, b""), match="Content-Length")


@check("RFC3261-20.14-CONTENT-LENGTH-SYNTAX")
def several_content_length_rows_are_a_parse_error() -> None:
    """RFC 4475 mcl01: Content-Length given more than once (compact form included)."""
    data = crlf(RESPONSE_HEAD + "Content-Length: 0\nContent-Length: 2\nl: 0\n\n")
    parse_error(parse, data, match="more than once")


@check("RFC3261-20.14-CONTENT-LENGTH-SERIALISE")
@given(sip.messages(), st.sampled_from([None, "0", "5", "999", "garbage"]))
def to_bytes_writes_the_real_content_length(
    message: Request | Response, given_length: str | None
) -> None:
    """to_bytes() writes one Content-Length, the body's size, whatever the message held."""
    if given_length is not None:
        headers = message.headers.with_replaced("Content-Length", given_length)
        message = message.with_headers(headers)
    data = message.to_bytes()
    head = data.partition(b"\r\n\r\n")[0] + b"\r\n"
    assert head.count(b"\r\nContent-Length: ") == 1
    assert f"\r\nContent-Length: {len(message.body)}\r\n".encode() in head
    assert parse(data).content_length == len(message.body)
    assert parse(data) == message


@check("RFC3261-20.14-CONTENT-LENGTH-SERIALISE")
def an_empty_body_is_content_length_zero() -> None:
    """A message without a body is sent with Content-Length: 0."""
    message = parse(with_length(None, b""))
    assert message.to_bytes().endswith(b"\r\nContent-Length: 0\r\n\r\n")


# --------------------------------------------------------------------------------------------
# Streams
# --------------------------------------------------------------------------------------------


def _stream_of(messages: list[Request | Response], keepalives: list[bytes]) -> bytes:
    parts = []
    for i, message in enumerate(messages):
        parts.append(keepalives[i % len(keepalives)] if keepalives else b"")
        parts.append(message.to_bytes())
    return b"".join(parts)


@check("RFC3261-18.3-CONTENT-LENGTH-STREAM", "RFC3261-7.5-STREAM-LEADING-CRLF")
@given(
    st.lists(sip.messages(), min_size=1, max_size=3),
    st.lists(st.sampled_from([b"", b"\r\n", b"\r\n\r\n", b"\r\n\r\n\r\n"]), max_size=4),
    st.lists(st.integers(1, 200), max_size=20),
)
def any_chunking_of_a_stream_frames_the_same_messages(
    messages: list[Request | Response], keepalives: list[bytes], chunks: list[int]
) -> None:
    """Messages with CRLF keep-alives before them, fed in any chunks, come out whole and in
    order, each body Content-Length bytes, nothing left buffered."""
    data = _stream_of(messages, keepalives)
    framer = StreamFramer()
    out: list[Request | Response] = []
    pos = 0
    for size in [*chunks, len(data)]:
        out += framer.feed(data[pos : pos + size])
        pos += size
    # Leading CRLFs ignored: the same messages come out, none more, none garbled.
    expect("RFC3261-7.5-STREAM-LEADING-CRLF", len(out) == len(messages),
           f"{len(out)} messages out of {len(messages)} with keep-alives {keepalives}")
    expect("RFC3261-18.3-CONTENT-LENGTH-STREAM",
           out == messages and [m.body for m in out] == [m.body for m in messages],
           "the messages framed by Content-Length differ from those sent")
    expect("RFC3261-18.3-CONTENT-LENGTH-STREAM", framer.buffered == 0,
           f"{framer.buffered} bytes left buffered")


# Content-Length as the grammar lets a peer write it (§20.14, §7.3.1, §7.3.3, §25):
# "Content-Length" / "l" in any case, HCOLON = *( SP / HTAB ) ":" SWS, SWS possibly a fold.
_LENGTH_NAMES = st.sampled_from(["Content-Length", "l"]).flatmap(
    lambda name: st.lists(st.booleans(), min_size=len(name), max_size=len(name)).map(
        lambda flips: "".join(c.upper() if f else c.lower() for c, f in zip(name, flips,
                                                                              strict=True))))
_BEFORE_COLON = st.sampled_from(["", " ", "\t", " \t "])
_AFTER_COLON = st.sampled_from(["", " ", "  ", "\t", "\r\n ", " \r\n\t", "\r\n   "])


def _length_row(name: str, before: str, after: str, length: int) -> bytes:
    return f"{name}{before}:{after}{length}\r\n".encode()


def _length_record(name: str, before: str, after: str) -> str:
    """The record a failure on this spelling is evidence against."""
    if "\r\n" in after:
        return "RFC3261-7.3.1-LINE-FOLDING"
    if before:
        return "RFC3261-7.3.1-HCOLON-WHITESPACE"
    if name.lower() == "l":
        return "RFC3261-7.3.3-COMPACT-FORM"
    return "RFC3261-18.3-CONTENT-LENGTH-STREAM"


@check("RFC3261-18.3-CONTENT-LENGTH-STREAM", "RFC3261-7.3.3-COMPACT-FORM",
       "RFC3261-7.3.1-LINE-FOLDING", "RFC3261-7.3.1-HCOLON-WHITESPACE")
@given(_LENGTH_NAMES, _BEFORE_COLON, _AFTER_COLON, st.binary(max_size=30),
       st.binary(min_size=1, max_size=10))
def content_length_in_any_legal_spelling_frames_the_body(
    name: str, before: str, after: str, body: bytes, extra: bytes
) -> None:
    """A stream message and a datagram frame their body by Content-Length written in any way
    the grammar allows: long or compact name ("l"), any case, whitespace before the colon, the
    value after a folded line.  The stream gives exactly the body and leaves the next bytes
    buffered; the datagram drops what follows the body."""
    record = _length_record(name, before, after)
    data = crlf(RESPONSE_HEAD) + _length_row(name, before, after, len(body)) + b"\r\n" + body
    try:
        out = StreamFramer().feed(data + extra)
    except ParseError as exc:
        expect(record, False, f"{name!r}{before!r}:{after!r}: the stream framer failed: {exc}")
        return
    expect(record, len(out) == 1 and out[0].body == body,
           f"{name!r}{before!r}:{after!r}: stream gave {[m.body for m in out]!r}, not {body!r}")
    datagram = parse(data + extra)
    expect(record, datagram.body == body and datagram.content_length == len(body),
           f"{name!r}{before!r}:{after!r}: datagram body {datagram.body!r}, not {body!r}")


@check("RFC3261-7.5-STREAM-LEADING-CRLF")
def keepalives_alone_produce_nothing() -> None:
    """CRLFs alone (RFC 5626 keep-alives) produce no message and do not disturb the next."""
    framer = StreamFramer()
    assert framer.feed(b"\r\n\r\n") == []
    assert framer.feed(b"\r\n") == []
    assert framer.feed(REGISTER)[0] == parse(REGISTER)


@check("RFC3261-18.3-CONTENT-LENGTH-STREAM")
def a_stream_message_without_content_length_is_an_error() -> None:
    """A stream message without Content-Length is a ParseError, and the framer stays failed."""
    framer = StreamFramer()
    error = parse_error(framer.feed, with_length(None, b""), match="mandatory")
    assert error.spec_id == "RFC3261-18.3-CONTENT-LENGTH-STREAM"
    with raises(ParseError):
        framer.feed(REGISTER)  # the connection is unusable after a framing error


@check("RFC3261-18.3-CONTENT-LENGTH-STREAM")
def messages_before_an_error_are_delivered_then_the_error() -> None:
    """Messages framed before garbage are delivered; the error comes with the next feed."""
    framer = StreamFramer()
    good = framer.feed(REGISTER + b"GARBAGE\r\n\r\n")
    assert good == [parse(REGISTER)]
    assert framer.error is not None
    parse_error(framer.feed, b"")


@check("RFC3261-18.3-CONTENT-LENGTH-STREAM")
def the_body_waits_for_content_length_bytes() -> None:
    """A message is delivered only when Content-Length bytes of body have arrived."""
    framer = StreamFramer()
    data = with_length("10", b"0123456789")
    assert framer.feed(data[:-4]) == []
    (message,) = framer.feed(data[-4:])
    assert message.body == b"0123456789"


# --------------------------------------------------------------------------------------------
# Limits
# --------------------------------------------------------------------------------------------


@check("RFC3261-21.4.11-SIZE-LIMITS")
def a_message_over_the_size_limit_is_a_parse_error() -> None:
    """A datagram larger than max_message_size (65535 by default) is a ParseError."""
    limits = Limits(max_message_size=600)
    assert parse(REGISTER, limits=limits)
    error = parse_error(partial(parse, limits=limits), REGISTER + b"x" * 600, match="exceeds")
    assert error.spec_id == "RFC3261-21.4.11-SIZE-LIMITS"
    parse_error(parse, b"x" * 70000, match="exceeds")


@check("RFC3261-21.4.11-SIZE-LIMITS")
def header_count_and_line_length_limits() -> None:
    """More header lines than max_headers, or a line (after unfolding) longer than
    max_header_line, is a ParseError."""
    many = crlf(RESPONSE_HEAD + "X-A: 1\n" * 300 + "\n")
    parse_error(parse, many, match="header lines")
    assert parse(many, limits=Limits(max_headers=400)).headers.get_lines("X-A") == ["1"] * 300
    long = crlf(RESPONSE_HEAD + "X-A: " + "a" * 9000 + "\n\n")
    parse_error(parse, long, match="longer than")
    folded = crlf(RESPONSE_HEAD + "X-A: a\n" + " b\n" * 40 + "\n")
    narrow = partial(parse, limits=Limits(max_header_line=60))
    parse_error(narrow, folded, match="after unfolding")


@check("RFC3261-21.4.11-SIZE-LIMITS")
def the_stream_framer_refuses_to_buffer_past_the_limit() -> None:
    """StreamFramer raises before buffering more than max_message_size: an endless header, or a
    Content-Length announcing too much before the body arrives."""
    framer = StreamFramer(Limits(max_message_size=1000))
    with raises(ParseError, match="exceeds"):
        for _ in range(100):
            framer.feed(b"X-Endless-Header: " + b"a" * 50)
    assert framer.buffered == 0
    framer = StreamFramer(Limits(max_message_size=1000))
    parse_error(framer.feed, with_length("5000", b""), match="exceeds")  # before the body
    with raises(ValueError):
        Limits(max_headers=0)
