"""Serialising: ``parse(m.to_bytes()) == m`` for any message, and what equality means."""

from __future__ import annotations

import pytest
from hypothesis import given

from sipfsm import strategies as sip
from sipfsm.message import Headers, Request, Response, parse

from .conftest import read_everything


@pytest.mark.requirement("RFC3261-20.14-CONTENT-LENGTH-SERIALISE")
@pytest.mark.requirement("RFC3261-7.3.1-ROW-ORDER")
@given(sip.messages())
def test_parse_of_to_bytes_is_the_message(message: Request | Response) -> None:
    parsed = parse(message.to_bytes())
    assert parsed == message
    assert hash(parsed) == hash(message)
    assert parsed.to_bytes() == message.to_bytes()


@pytest.mark.requirement("RFC3261-20.42-VIA-SYNTAX")
@pytest.mark.requirement("RFC3261-20.10-CONTACT-SYNTAX")
@pytest.mark.requirement("RFC3261-20.20-FROM-TO-SYNTAX")
@given(sip.messages())
def test_typed_values_survive_the_round_trip(message: Request | Response) -> None:
    parsed = parse(message.to_bytes())
    read_everything(parsed)
    assert parsed.vias == message.vias
    assert (parsed.from_, parsed.to, parsed.call_id, parsed.cseq) == (
        message.from_, message.to, message.call_id, message.cseq,
    )  # fmt: skip
    assert parsed.contacts == message.contacts
    assert parsed.expires == message.expires


def test_equality_ignores_only_content_length() -> None:
    rows = [("Via", "SIP/2.0/UDP h;branch=z9hG4bK1"), ("From", "<sip:a@b.example>;tag=1"),
            ("To", "<sip:a@b.example>"), ("Call-ID", "c"), ("CSeq", "1 OPTIONS")]  # fmt: skip
    a = Response(200, "OK", Headers(rows))
    assert a == Response(200, "OK", Headers([*rows, ("Content-Length", "0")]))
    assert a != Response(200, "OK", Headers(rows[::-1]))
    assert a != Response(200, "Ok", Headers(rows))
    assert a != Response(200, "OK", Headers(rows), b"x")
    assert a.with_body(b"x") == Response(200, "OK", Headers(rows), b"x")
    assert len({a, Response(200, "OK", Headers([*rows, ("l", "7")]))}) == 1
