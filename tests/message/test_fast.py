"""The fast paths and caches agree with the careful parsers on every input."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sipfsm import strategies as sip
from sipfsm.errors import ParseError
from sipfsm.message import _fast, parse_contact, parse_name_addr, parse_via
from sipfsm.message.values import _parse_addr, _parse_via

SOUP = st.lists(
    st.sampled_from(
        ['"', "\\", "<", ">", "sip:", "sips:", "SIP:", "@", ":", ";", "=", " ", "\t", "a", "B",
         "1", "256", "0", ".", "-", "[::1]", "%41", "tag", "lr", "?", "&", "99999", "SIP/2.0/",
         "UDP", "é"]
    ),  # fmt: skip
    max_size=25,
).map("".join)


UNQUOTED = st.builds(
    lambda words, gap, uri, params: f"{' '.join(words)}{gap}<{uri}>{params}",
    st.lists(sip.tokens(), max_size=3),
    st.sampled_from(["", " ", "  ", "\t"]),
    sip.uris(),
    sip.header_params().map(str),
)


def careful_addr(text: str) -> object:
    try:
        return _parse_addr(text.strip(" \t"), "x")
    except ParseError:
        return ParseError


def careful_via(text: str) -> object:
    try:
        via = _parse_via(text)
    except ParseError:
        return ParseError
    return (via.transport, via.host, via.port, via.params)


@pytest.mark.requirement("RFC3261-20.20-FROM-TO-SYNTAX")
@settings(max_examples=1000, suppress_health_check=list(HealthCheck))
@given(st.one_of(sip.name_addrs().map(str), sip.contacts().map(str), UNQUOTED, SOUP))
def test_the_name_addr_fast_path_agrees_with_the_careful_parser(text: str) -> None:
    fast = _fast.name_addr(text)
    if fast is not None:
        assert fast == careful_addr(text)


@pytest.mark.requirement("RFC3261-20.42-VIA-SYNTAX")
@settings(max_examples=1000, suppress_health_check=list(HealthCheck))
@given(st.one_of(sip.vias().map(str), SOUP.map(lambda s: "SIP/2.0/UDP " + s), SOUP))
def test_the_via_fast_path_agrees_with_the_careful_parser(text: str) -> None:
    fast = _fast.via(text)
    if fast is not None:
        assert fast == careful_via(text)


@pytest.mark.requirement("RFC3261-20.10-CONTACT-SYNTAX")
@given(sip.contacts())
def test_cached_values_are_the_same_as_fresh_ones(contact: object) -> None:
    text = str(contact)
    assert parse_contact(text) == parse_contact(text) == contact
    assert parse_name_addr(text) == parse_name_addr(text)
    assert parse_via("SIP/2.0/UDP h;branch=z9hG4bK1") is parse_via("SIP/2.0/UDP h;branch=z9hG4bK1")


def test_the_fast_paths_take_the_common_shapes() -> None:
    assert _fast.name_addr('"Bob" <sip:bob@biloxi.com>;tag=1') is not None
    assert _fast.name_addr("Bob <sip:bob@192.0.2.4:5060;transport=tcp>;expires=60;q=0.5") is not None
    assert _fast.via("SIP/2.0/UDP 192.0.2.4:5060;branch=z9hG4bK1;rport") is not None
