"""RFC 3261 §7.3.1: several rows of one field name are the field's values in order, and a field
that is not a list (From, To, Call-ID, CSeq) appears once.  The parser's one pass over the rows
reads every name exactly as its careful, row-by-row reading does (``_head_parts``)."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from sipfsm.errors import ParseError
from sipfsm.message import Headers, Request, Response, parse
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


_ELEMENTS = st.sampled_from(
    ["<sip:a@h>;expires=1", " <sip:b@h:5062;transport=tcp>;expires=2;q=0.5 ", "", " ", "*",
     "<sip:a@h>, <sip:b@h>", "<sip:a@h>;expires=3,", '"A, B" <sip:c@h>', "sip:d@h;expires=4",
     "<sip:e@h", "SIP/2.0/UDP h;branch=z9hG4bK1", "SIP/2.0/UDP h, SIP/2.0/TCP g:5061"]
)  # fmt: skip


_CHALLENGES = st.sampled_from(
    ['Digest realm="a", nonce="b, c", qop="auth"', ' Digest realm="a"  ', "",
     'Digest realm="a", Basic realm="b"', 'Digest realm="a",, nonce="n",', 'Digest realm="a']
)  # fmt: skip


def _typed(message: Request | Response, read: str) -> object:
    try:
        values = getattr(message, read)
    except ParseError as exc:
        return ("ParseError", exc.message)
    return [str(value) for value in values]


@pytest.mark.requirement("RFC3261-7.3.1-MULTIPLE-ROWS")
@pytest.mark.requirement("RFC3261-20.10-CONTACT-SYNTAX")
@pytest.mark.requirement("RFC3261-7.3.1-AUTH-NOT-COMBINED")
@given(
    contacts=st.lists(_ELEMENTS, max_size=4),
    vias=st.lists(_ELEMENTS, min_size=1, max_size=3),
    challenges=st.lists(_CHALLENGES, max_size=2),
)
def test_contact_via_and_challenge_rows_read_as_their_elements(
    contacts: list[str], vias: list[str], challenges: list[str]
) -> None:
    """§7.3.1: rows of a list header are its elements, in order; each element is then read
    (§20.10 Contact, §20.42 Via); a WWW-Authenticate row is one challenge, not a comma list --
    the same from the parser's rows as from the careful ones."""
    rows = [("Via", via) for via in vias] + _MANDATORY[1:] + [("Contact", c) for c in contacts]
    rows += [("WWW-Authenticate", challenge) for challenge in challenges]
    head = "\r\n".join(["SIP/2.0 200 OK"] + [f"{name}:{value}" for name, value in rows]).encode()
    message = parse(head + b"\r\n\r\n")
    careful = _head_parts(head, DEFAULT_LIMITS)
    reference = Response(200, "OK", Headers._trusted(careful[5], careful[6]))
    for read in ("contacts", "vias", "www_authenticate"):
        expected = _typed(reference, read)  # first: what it remembers serves the parser's rows
        assert _typed(message, read) == expected
