"""Fuzz checks for the message layer: no input makes the parser or the stream framer raise
anything but ParseError (RFC 4475 §3.1.2's "reject, never crash"), and the fast paths of
:mod:`sipfsm.message._fast` give exactly what the careful parsers give (spec/message.toml).

Inputs are random bytes, glued pieces of the message grammar, and valid generated messages with
a few random edits (:func:`sipfsm.strategies.mutated`).  The cheap inputs are drawn in batches,
so that each hypothesis example checks several.  Each check takes the hypothesis profile's
number of examples; ``SIPFSM_FUZZ_EXAMPLES=100000`` in the environment asks for a long run.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Callable
from typing import TypeVar

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sipfsm import strategies as sip
from sipfsm.conformance.message_support import (
    FIVE_DIGIT_PORT_NAME_ADDRS,
    GRAMMAR_SOUP,
    TEXT_SOUP,
    UNQUOTED_NAME_ADDRS,
    only_parse_errors,
    read_everything,
)
from sipfsm.conformance.registry import check
from sipfsm.errors import ParseError
from sipfsm.message import Contact, StreamFramer, _fast, parse_contact, parse_name_addr, parse_via
from sipfsm.message.values import _parse_addr, _parse_via

F = TypeVar("F", bound=Callable[..., None])


def _fuzz(cost: int = 1) -> Callable[[F], F]:
    """The profile's settings, unless SIPFSM_FUZZ_EXAMPLES asks for a long run (that many
    examples, divided by ``cost`` for the inputs that are costly to generate)."""
    wanted = os.environ.get("SIPFSM_FUZZ_EXAMPLES")
    if not wanted:
        return lambda func: func
    long_run = settings(max_examples=max(1, int(wanted) // cost), deadline=None,
                        suppress_health_check=list(HealthCheck))  # fmt: skip
    return long_run


# --------------------------------------------------------------------------------------------
# Only ParseError
# --------------------------------------------------------------------------------------------


@check("RFC4475-3.1.2-INVALID-MESSAGES")
@_fuzz()
@given(st.lists(st.binary(max_size=400), min_size=1, max_size=25))
def random_bytes_raise_only_parse_error(batch: list[bytes]) -> None:
    """Random bytes parse, or raise ParseError; every field of what parses reads, or raises
    ParseError."""
    for data in batch:
        only_parse_errors(data)


@check("RFC4475-3.1.2-INVALID-MESSAGES")
@_fuzz()
@given(st.lists(GRAMMAR_SOUP, min_size=1, max_size=25))
def grammar_soup_raises_only_parse_error(batch: list[bytes]) -> None:
    """Pieces of the message grammar glued at random raise only ParseError."""
    for data in batch:
        only_parse_errors(data)


@check("RFC4475-3.1.2-INVALID-MESSAGES")
@_fuzz(cost=3)
@given(sip.mutated())
def mutated_valid_messages_raise_only_parse_error(data: bytes) -> None:
    """A valid message with a few bytes flipped, deleted, inserted, lines duplicated or the end
    cut raises only ParseError."""
    only_parse_errors(data)


@check("RFC4475-3.1.2-INVALID-MESSAGES")
@_fuzz(cost=3)
@given(sip.mutated(), st.lists(st.integers(1, 64), max_size=8))
def stream_framer_raises_only_parse_error(data: bytes, cuts: list[int]) -> None:
    """A mutated message fed to StreamFramer in chunks raises only ParseError, and never its
    internal-failure form; the fields of what it frames read or raise ParseError."""
    framer = StreamFramer()
    pos = 0
    try:
        for cut in [*cuts, len(data)]:
            for message in framer.feed(data[pos : pos + cut]):
                with contextlib.suppress(ParseError):
                    read_everything(message)
            pos += cut
    except ParseError as exc:
        assert "internal parser failure" not in exc.message, exc.message


# --------------------------------------------------------------------------------------------
# The fast paths agree with the careful parsers
# --------------------------------------------------------------------------------------------


def _careful_addr(text: str) -> object:
    try:
        return _parse_addr(text.strip(" \t"), "x")
    except ParseError:
        return ParseError


def _careful_via(text: str) -> object:
    try:
        via = _parse_via(text)
    except ParseError:
        return ParseError
    return (via.transport, via.host, via.port, via.params)


@check("RFC3261-20.20-FROM-TO-SYNTAX")
@_fuzz()
@given(st.lists(st.one_of(sip.name_addrs().map(str), sip.contacts().map(str),
                          UNQUOTED_NAME_ADDRS, FIVE_DIGIT_PORT_NAME_ADDRS, TEXT_SOUP),
                min_size=1, max_size=15))  # fmt: skip
def the_name_addr_fast_path_agrees_with_the_careful_parser(batch: list[str]) -> None:
    """Whatever the name-addr fast path accepts -- valid From / To / Contact values, unquoted
    display names, malformed soup -- it reads exactly as the careful §25 parser does."""
    for text in batch:
        fast = _fast.name_addr(text)
        if fast is not None:
            assert fast == _careful_addr(text), text


@check("RFC3261-20.42-VIA-SYNTAX")
@_fuzz()
@given(st.lists(st.one_of(sip.vias().map(str), TEXT_SOUP.map(lambda s: "SIP/2.0/UDP " + s),
                          TEXT_SOUP), min_size=1, max_size=20))  # fmt: skip
def the_via_fast_path_agrees_with_the_careful_parser(batch: list[str]) -> None:
    """Whatever the Via fast path accepts it reads exactly as the careful parser does."""
    for text in batch:
        fast = _fast.via(text)
        if fast is not None:
            assert fast == _careful_via(text), text


@check("RFC3261-20.10-CONTACT-SYNTAX")
@given(sip.contacts())
def cached_values_are_the_same_as_fresh_ones(contact: Contact) -> None:
    """Parsing the same text twice (the second time from the cache) gives the same value."""
    text = str(contact)
    assert parse_contact(text) == parse_contact(text) == contact
    assert parse_name_addr(text) == parse_name_addr(text)
    assert parse_via("SIP/2.0/UDP h;branch=z9hG4bK1") == parse_via("SIP/2.0/UDP h;branch=z9hG4bK1")
