"""No input makes the parser raise anything but ParseError (the issue's "NO other exception")."""

from __future__ import annotations

import os

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sipfsm import strategies as sip
from sipfsm.errors import ParseError
from sipfsm.message import StreamFramer, parse

from .conftest import read_everything

pytestmark = pytest.mark.requirement("RFC4475-3.1.2-INVALID-MESSAGES")

# SIPFSM_FUZZ_EXAMPLES=100000 for a long run; the default keeps the suite quick (generating a
# whole valid message to mutate costs ~30 ms, so those tests run a third as many).
EXAMPLES = int(os.environ.get("SIPFSM_FUZZ_EXAMPLES", "1000"))
FUZZ = settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck))
FUZZ_MESSAGES = settings(FUZZ, max_examples=max(1, EXAMPLES // 3))


def only_parse_errors(data: bytes) -> None:
    try:
        message = parse(data)
    except ParseError as exc:
        # parse() turns any other exception into this message: it must never be reached.
        assert "internal parser failure" not in exc.message
        assert exc.__cause__ is None
        return
    try:
        read_everything(message)
    except ParseError:
        pass


@FUZZ
@given(st.binary(max_size=400))
def test_random_bytes_raise_only_parse_error(data: bytes) -> None:
    only_parse_errors(data)


@FUZZ
@given(
    st.lists(
        st.sampled_from(
            [b"INVITE ", b"SIP/2.0", b" ", b"\r\n", b":", b";", b",", b"<", b">", b'"', b"\\",
             b"sip:", b"@", b"Via", b"v", b"Contact", b"m", b"Content-Length", b"l", b"To",
             b"From", b"CSeq", b"Call-ID", b"1", b"-1", b"99999999999", b"\t", b"=", b"[::1]",
             b"%", b"\xff", b"\x00", b"*", b"(", b")", b"branch", b"rport", b"expires"]
        ),  # fmt: skip
        max_size=60,
    ).map(b"".join)
)
def test_grammar_soup_raises_only_parse_error(data: bytes) -> None:
    only_parse_errors(data)


@FUZZ_MESSAGES
@given(sip.mutated())
def test_mutated_valid_messages_raise_only_parse_error(data: bytes) -> None:
    only_parse_errors(data)


@FUZZ_MESSAGES
@given(sip.mutated(), st.lists(st.integers(1, 64), max_size=8))
def test_stream_framer_raises_only_parse_error(data: bytes, cuts: list[int]) -> None:
    framer = StreamFramer()
    pos = 0
    try:
        for cut in [*cuts, len(data)]:
            for message in framer.feed(data[pos : pos + cut]):
                try:
                    read_everything(message)
                except ParseError:
                    pass
            pos += cut
    except ParseError as exc:
        assert "internal parser failure" not in exc.message
