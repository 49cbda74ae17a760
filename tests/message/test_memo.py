"""The memos of a value's shape around its changing parameter (From/To tag, Contact expires, Via
branch) read a text exactly as the careful parsers do, whatever was memorised before."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from sipfsm import strategies as sip
from sipfsm.errors import ParseError
from sipfsm.message import values
from sipfsm.message.values import _parse_addr, _parse_via

# Texts that put the marker where a memo must not take it: inside the URI, inside a quoted
# parameter value, twice, in capitals, with whitespace.
_TRICKY_TEXTS = (
    "<sip:a@h;tag=1>;tag=2", "<sip:a@h;tag=1>", '<sip:a@h>;x="a;tag=1;b";tag=2',
    '<sip:a@h>;tag=2;x="a;tag=1;b"', "<sip:a@h>;tag=1;tag=2", "<sip:a@h>;TAG=1",
    '<sip:a@h>;tag=1;x="a;tag=1;b"', "<sip:a@h>;tag=1 ", "<sip:a@h>;tag=", "sip:a@h;tag=1",
    "<sip:a@h>;expires=1;q=0.5", "<sip:a@h>;expires=1;expires=2", '<sip:a@h>;expires="1"',
    "<sip:a@h>;expires=1.5", '<sip:a@h>;expires=1;x="a;expires=1;b"',
    "SIP/2.0/UDP h;branch=z9hG4bK1;rport", "SIP/2.0/UDP h;branch=z9hG4bK1;branch=2",
    'SIP/2.0/UDP h;x="a;branch=b;c";branch=z', 'SIP/2.0/UDP h;branch=b;x="a;branch=b;c"',
    "SIP/2.0/UDP h;branch=a;received=1.2.3.4",
)
_TRICKY = st.sampled_from(_TRICKY_TEXTS)
_VALUES = st.one_of(sip.tokens(), st.sampled_from(["1", "z9hG4bK77", "a.b-c", "", "1;x=2", '"q"']))


def _careful(text: str, read: object) -> object:
    try:
        if read is values.parse_via:
            via = _parse_via(text)
            return (via.transport, via.host, via.port, dict(via.params))
        uri, display, params = _parse_addr(text.strip(" \t"), "x")
        return (uri, display, dict(params))
    except ParseError:
        return ParseError


def _ours(text: str, read: object) -> object:
    try:
        if read is values.parse_via:
            via = values.parse_via(text)
            return (via.transport, via.host, via.port, dict(via.params))
        found = read(text)  # type: ignore[operator]
        return (found.uri, found.display_name, dict(found.params))
    except ParseError:
        return ParseError


def _with_value(text: str, marker: str, value: str) -> str:
    before, found, after = text.rpartition(marker)
    if not found:
        return text
    _, semi, rest = after.partition(";")
    return f"{before}{marker}{value}{semi}{rest}"


@given(
    st.one_of(sip.name_addrs(tag=True).map(str), sip.contacts().map(str), sip.vias().map(str),
              _TRICKY),
    st.lists(_VALUES, min_size=1, max_size=4),
)  # fmt: skip
def test_a_memorised_shape_reads_as_the_careful_parser(text: str, new_values: list[str]) -> None:
    _check(text, new_values)


@pytest.mark.parametrize("text", _TRICKY_TEXTS)
def test_a_marker_the_memo_must_not_take_is_read_as_the_careful_parser(text: str) -> None:
    _check(text, ["1", "z9hG4bK77", "a.b-c", "", "1;x=2", '"q"'])


def _check(text: str, new_values: list[str]) -> None:
    for read, marker in (
        (values.parse_name_addr, ";tag="),
        (values.parse_contact, ";expires="),
        (values.parse_via, ";branch="),
    ):
        for value in [None, *new_values]:
            variant = text if value is None else _with_value(text, marker, value)
            assert _ours(variant, read) == _careful(variant, read), (variant, read)
