"""RFC 3261 §7.3.1: several rows of one field name are the field's values in order, and a field
that is not a list (From, To, Call-ID, CSeq) appears once.  The parser's one pass over the rows
reads every name exactly as its careful, row-by-row reading does (``_head_parts``)."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from sipfsm.errors import ParseError
from sipfsm.message import Headers, parse
from sipfsm.message.limits import DEFAULT_LIMITS
from sipfsm.message.parser import _head_parts

_NAMES = ("Via", "Contact", "From", "To", "Call-ID", "CSeq", "Route", "Expires", "X-Extra",
          "WWW-Authenticate", "Content-Length")  # fmt: skip
# Values as a peer writes them: with or without whitespace around them, empty, with commas.
_VALUES = st.sampled_from(
    ["a", " a", "a ", "\ta", "", " ", "a, b", "<sip:x@h>;expires=1", "0", "1", "SIP/2.0/UDP h",
     "Bob <sip:b@h>;tag=1", "1 REGISTER", 'Digest realm="r", nonce="n"']
)  # fmt: skip
_ROWS = st.lists(st.tuples(st.sampled_from(_NAMES), _VALUES), max_size=12)
_MANDATORY = [("Via", "SIP/2.0/UDP h;branch=z9hG4bK1"), ("From", "<sip:a@h>;tag=1"),
              ("To", "<sip:a@h>"), ("Call-ID", "c"), ("CSeq", "1 REGISTER")]  # fmt: skip


def _reading(headers: Headers, name: str) -> object:
    try:
        single: object = headers._single(name, name.lower())
    except ParseError as exc:
        single = ("ParseError", exc.message)
    return (headers.get(name), headers.get_lines(name), single, name in headers)


@pytest.mark.requirement("RFC3261-7.3.1-MULTIPLE-ROWS")
@pytest.mark.requirement("RFC3261-7.3.1-ROW-ORDER")
@given(before=_ROWS, after=_ROWS, response=st.booleans())
def test_rows_read_as_the_careful_reading_reads_them(
    before: list[tuple[str, str]], after: list[tuple[str, str]], response: bool
) -> None:
    rows = before + _MANDATORY + after
    start = "SIP/2.0 200 OK" if response else "REGISTER sip:h SIP/2.0"
    head = "\r\n".join([start] + [f"{name}:{value}" for name, value in rows])
    try:
        message = parse(head.encode() + b"\r\n\r\n")
    except ParseError as exc:
        # Only Content-Length is checked at parse among these rows (several of them, or a
        # value other than 0 without a body).
        assert exc.where == "Content-Length"
        return
    careful = _head_parts(head.encode(), DEFAULT_LIMITS)
    reference = Headers._trusted(careful[5], careful[6])
    for name in _NAMES:
        assert _reading(message.headers, name) == _reading(reference, name)
    assert list(message.headers) == list(reference)
