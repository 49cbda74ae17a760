"""RFC 3261 §20: typed header values read from messages, and built with str()."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from sipfsm import strategies as sip
from sipfsm.errors import ParseError
from sipfsm.message import (
    Contact,
    CSeq,
    Headers,
    NameAddr,
    Params,
    Request,
    RetryAfter,
    SipUri,
    Via,
    format_date,
    parse,
    parse_contact,
    parse_cseq,
    parse_name_addr,
    parse_via,
)

from .conftest import crlf

HEAD = """SIP/2.0 200 OK
Via: SIP/2.0/UDP 192.0.2.10:5060;branch=z9hG4bKx
From: <sip:alice@example.com>;tag=1
To: <sip:alice@example.com>;tag=2
Call-ID: a@b
CSeq: 1 REGISTER
"""


def response_with(*lines: str) -> bytes:
    return crlf(HEAD + "".join(line + "\n" for line in lines) + "\n")


# -- Via --------------------------------------------------------------------------------------


@pytest.mark.requirement("RFC3261-20.42-VIA-SYNTAX")
def test_via_fields() -> None:
    via = parse_via("SIP/2.0/udp [2001:db8::9]:5070;branch=z9hG4bK776;received=2001:db8::1;rport=6000")
    assert (via.transport, via.host, via.port) == ("UDP", "2001:db8::9", 5070)
    assert (via.branch, via.received, via.rport, via.has_rport) == (
        "z9hG4bK776", "2001:db8::1", 6000, True,
    )  # fmt: skip
    assert str(via.sent_by) == "[2001:db8::9]:5070"
    bare = parse_via("SIP/2.0/TCP client.example.com;branch=z9hG4bK1;rport")
    assert (bare.port, bare.rport, bare.has_rport, bare.sent_by.port) == (None, None, True, None)
    assert not parse_via("SIP/2.0/TLS h;branch=b").has_rport


@pytest.mark.requirement("RFC3261-20.42-VIA-SYNTAX")
def test_via_with_lws_everywhere_and_two_values_on_folded_lines() -> None:
    message = parse(
        response_with(
            "v:  SIP  / 2.0  / TCP     spindle.example.com   ;",
            "  branch  =   z9hG4bK9ikj8  ,",
            " SIP  /    2.0   / UDP  192.168.255.111   ; branch=",
            " z9hG4bK30239",
        )
    )
    vias = message.vias
    assert [(v.transport, v.host, v.branch) for v in vias] == [
        ("UDP", "192.0.2.10", "z9hG4bKx"),
        ("TCP", "spindle.example.com", "z9hG4bK9ikj8"),
        ("UDP", "192.168.255.111", "z9hG4bK30239"),
    ]


@pytest.mark.requirement("RFC3261-20.42-VIA-SYNTAX")
@pytest.mark.parametrize(
    "value",
    ["SIP/3.0/UDP host", "SIP/2.0 UDP host", "SIP/2.0/UDP", "SIP/2.0/UDP host:99999",
     "SIP/2.0/UDP ho st", "SIP/2.0/UDP host;", "SIP/2.0/UDP [::1", "HTTP/2.0/UDP host"],
)  # fmt: skip
def test_malformed_via_is_a_parse_error(value: str) -> None:
    with pytest.raises(ParseError, match="Via"):
        parse_via(value)
    with pytest.raises(ParseError):
        _ = parse(response_with(f"Via: {value}")).vias


@pytest.mark.requirement("RFC3261-20.42-VIA-SYNTAX")
def test_a_malformed_rport_value_is_a_parse_error() -> None:
    with pytest.raises(ParseError, match="rport"):
        _ = parse_via("SIP/2.0/UDP h;rport=abc").rport


@pytest.mark.requirement("RFC3261-20.42-VIA-SYNTAX")
@given(sip.vias())
def test_any_via_round_trips_through_str(via: Via) -> None:
    assert parse_via(str(via)) == via


# -- From / To / Route --------------------------------------------------------------------------


@pytest.mark.requirement("RFC3261-20.20-FROM-TO-SYNTAX")
@pytest.mark.parametrize(
    ("value", "display", "uri", "tag"),
    [
        ('"A. G. Bell" <sip:agb@bell-telephone.com> ;tag=a48s', "A. G. Bell",
         "sip:agb@bell-telephone.com", "a48s"),
        ("sip:+12125551212@server.phone2net.com;tag=887s", None,
         "sip:+12125551212@server.phone2net.com", "887s"),
        ("Anonymous <sip:c8oqz84zk7z@privacy.org>;tag=hyh8", "Anonymous",
         "sip:c8oqz84zk7z@privacy.org", "hyh8"),
        ("caller<sip:caller@example.com>;tag=323", "caller", "sip:caller@example.com", "323"),
        ('"J Rosenberg \\\\\\"" <sip:jdrosen@example.com> ; tag = 98asjd8', 'J Rosenberg \\"',
         "sip:jdrosen@example.com", "98asjd8"),
        ("The Operator <sip:operator@cs.columbia.edu>", "The Operator",
         "sip:operator@cs.columbia.edu", None),
        ("<tel:+1-201-555-0123>", None, "tel:+1-201-555-0123", None),
        ('"" <sip:a@b.example>', "", "sip:a@b.example", None),
    ],
)  # fmt: skip
def test_rfc_from_and_to_examples(value: str, display: str | None, uri: str, tag: str | None) -> None:
    message = parse(response_with().replace(b"From: <sip:alice@example.com>;tag=1", f"From: {value}".encode()))
    addr = message.from_
    assert (addr.display_name, str(addr.uri), addr.tag) == (display, uri, tag)


@pytest.mark.requirement("RFC3261-20.20-FROM-TO-SYNTAX")
@pytest.mark.parametrize(
    "value",
    ["Bell, Alexander <sip:a.g.bell@example.com>;tag=43", '"unterminated <sip:a@b.example>',
     "<sip:a@b.example", "sip:user@example.com?Subject=x", "< sip:a@b.example >", "<>",
     "<sip:a@b.example> junk"],
)  # fmt: skip
def test_malformed_from_is_a_parse_error(value: str) -> None:
    with pytest.raises(ParseError, match="From"):
        parse_name_addr(value, "From")


@pytest.mark.requirement("RFC3261-20.20-FROM-TO-SYNTAX")
def test_a_second_to_row_is_a_parse_error() -> None:
    message = parse(response_with("To: <sip:other@example.com>"))
    with pytest.raises(ParseError, match="To appears 2 times"):
        _ = message.to


@pytest.mark.requirement("RFC3261-20.20-FROM-TO-SYNTAX")
@given(sip.name_addrs())
def test_any_name_addr_round_trips_through_str(addr: NameAddr) -> None:
    assert parse_name_addr(str(addr)) == addr


@pytest.mark.requirement("RFC3261-20.34-ROUTE-SYNTAX")
def test_route_record_route_path_service_route() -> None:
    message = parse(
        response_with(
            "Record-Route: <sip:p2.example.com;lr>, <sip:p1.example.com;lr>",
            "Path: <sip:P3.EXAMPLEHOME.COM;lr>,<sip:P1.EXAMPLEVISITED.COM;lr>",
            "Service-Route: <sip:orig@scscf.example.com;lr>",
            "Route: <sip:ss1.example.com;lr;transport=tcp>",
        )
    )
    assert [str(r.uri) for r in message.record_routes] == [
        "sip:p2.example.com;lr",
        "sip:p1.example.com;lr",
    ]
    assert [str(r.uri) for r in message.paths] == [
        "sip:P3.EXAMPLEHOME.COM;lr",
        "sip:P1.EXAMPLEVISITED.COM;lr",
    ]
    assert "lr" in message.service_routes[0].uri.params  # type: ignore[union-attr]
    assert message.routes[0].uri.params["transport"] == "tcp"  # type: ignore[union-attr]


# -- Contact --------------------------------------------------------------------------------


@pytest.mark.requirement("RFC3261-20.10-CONTACT-SYNTAX")
def test_the_rfc_contact_examples() -> None:
    message = parse(
        response_with(
            'Contact: "Mr. Watson" <sip:watson@worcester.bell-telephone.com>',
            "   ;q=0.7; expires=3600,",
            '   "Mr. Watson" <mailto:watson@bell-telephone.com> ;q=0.1',
            "m: <sips:bob@192.0.2.4>;expires=60",
        )
    )
    contacts = message.contacts
    assert [(c.display_name, str(c.uri), c.q, c.expires) for c in contacts] == [
        ("Mr. Watson", "sip:watson@worcester.bell-telephone.com", 0.7, 3600),
        ("Mr. Watson", "mailto:watson@bell-telephone.com", 0.1, None),
        (None, "sips:bob@192.0.2.4", None, 60),
    ]
    assert not message.contact_star


@pytest.mark.requirement("RFC3261-20.10-CONTACT-SYNTAX")
def test_addr_spec_parameters_are_header_parameters() -> None:
    contact = parse_contact("sip:alice@192.0.2.4;transport=tcp;expires=30")
    assert isinstance(contact.uri, SipUri)
    assert contact.uri.params == Params()
    assert contact.params == Params({"transport": "tcp", "expires": "30"})
    enclosed = parse_contact("<sip:alice@192.0.2.4;transport=tcp>;expires=30")
    assert enclosed.uri.params == Params({"transport": "tcp"})  # type: ignore[union-attr]
    assert str(contact) == "<sip:alice@192.0.2.4>;transport=tcp;expires=30"


@pytest.mark.requirement("RFC3261-20.10-CONTACT-SYNTAX")
def test_contact_star() -> None:
    message = parse(response_with("Contact: *"))
    assert message.contact_star and message.contacts == []
    with pytest.raises(ParseError, match=r"\*"):
        _ = parse(response_with("Contact: *, <sip:a@b.example>")).contacts
    with pytest.raises(ParseError):
        _ = parse(response_with("Contact: *", "Contact: <sip:a@b.example>")).contact_star


@pytest.mark.requirement("RFC3261-20.10-CONTACT-SYNTAX")
def test_an_addr_spec_with_uri_headers_is_a_parse_error() -> None:
    # RFC 4475 regbadct: the URI with an escaped header must be enclosed in <>.
    with pytest.raises(ParseError, match="<>"):
        parse_contact("sip:user@example.com?Route=%3Csip:sip.example.com%3E")
    ok = parse_contact("<sip:user@example.com?Route=%3Csip:sip.example.com%3E>")
    assert ok.uri.headers == (("Route", "%3Csip:sip.example.com%3E"),)  # type: ignore[union-attr]


@pytest.mark.requirement("RFC3261-20.10-CONTACT-SYNTAX")
@pytest.mark.parametrize("q", ["1.5", "2", "0.1234", "-1", "abc", ".5"])
def test_a_malformed_qvalue_is_a_parse_error(q: str) -> None:
    with pytest.raises(ParseError, match="q"):
        _ = parse_contact(f"<sip:a@b.example>;q={q}").q


@pytest.mark.requirement("RFC3261-10.2-EXPIRES-PARAM-CAP")
@pytest.mark.requirement("RFC3261-10.2-EXPIRES-PARAM-MALFORMED")
@pytest.mark.parametrize(
    ("param", "expires"),
    [(";expires=0", 0), (";expires=4294967295", 4294967295), (";expires=4294967296", 4294967295),
     (";expires=280297596632815", 4294967295), (";expires=" + "9" * 5000, 4294967295),
     (";expires=abc", 3600), (";expires=-1", 3600), (";expires", 3600), ("", None)],
)  # fmt: skip
def test_contact_expires_is_capped_and_malformed_is_3600(param: str, expires: int | None) -> None:
    assert parse_contact(f"<sip:a@b.example>{param}").expires == expires


@pytest.mark.requirement("RFC3261-20.10-CONTACT-SYNTAX")
@given(sip.contacts())
def test_any_contact_round_trips_through_str(contact: Contact) -> None:
    parsed = parse_contact(str(contact))
    assert parsed == contact
    assert (parsed.expires, parsed.q) == (contact.expires, contact.q)


# -- CSeq, Max-Forwards, Expires, Date, Retry-After, option tags ------------------------------


@pytest.mark.requirement("RFC3261-20.16-CSEQ-SYNTAX")
def test_cseq() -> None:
    assert parse_cseq("4711 INVITE") == CSeq(4711, "INVITE")
    assert parse_cseq("0009\t  INVITE") == CSeq(9, "INVITE")
    assert parse_cseq("2147483647 register") == CSeq(2**31 - 1, "register")  # case kept
    assert str(CSeq(1, "REGISTER")) == "1 REGISTER"


@pytest.mark.requirement("RFC3261-20.16-CSEQ-SYNTAX")
@pytest.mark.parametrize(
    "value",
    ["2147483648 REGISTER", "36893488147419103232 INVITE", "-1 INVITE", "1", "REGISTER",
     "1 REG ISTER", "one REGISTER", "1 REG@", "\u0661 REGISTER", ""],
)  # fmt: skip
def test_malformed_cseq_is_a_parse_error(value: str) -> None:
    with pytest.raises(ParseError, match="CSeq"):
        parse_cseq(value)


@pytest.mark.requirement("RFC3261-20.16-CSEQ-SYNTAX")
@given(sip.cseqs())
def test_any_cseq_round_trips(cseq: CSeq) -> None:
    assert parse_cseq(str(cseq)) == cseq


@pytest.mark.requirement("RFC3261-20.22-MAX-FORWARDS-RANGE")
@pytest.mark.parametrize(("value", "expected"), [("0", 0), ("70", 70), ("0068", 68), ("255", 255)])
def test_max_forwards(value: str, expected: int) -> None:
    assert parse(response_with(f"Max-Forwards: {value}")).max_forwards == expected


@pytest.mark.requirement("RFC3261-20.22-MAX-FORWARDS-RANGE")
@pytest.mark.parametrize("value", ["256", "300", "-1", "seventy", "7 0", "9" * 100])
def test_max_forwards_out_of_range_is_a_parse_error(value: str) -> None:
    with pytest.raises(ParseError, match="Max-Forwards"):
        _ = parse(response_with(f"Max-Forwards: {value}")).max_forwards
    assert parse(response_with()).max_forwards is None


@pytest.mark.requirement("RFC3261-20.19-EXPIRES-VALUE")
@given(st.integers(0, 2**40))
def test_expires_and_min_expires(seconds: int) -> None:
    message = parse(response_with(f"Expires: {seconds}", f"Min-Expires: {seconds}"))
    assert message.expires == min(seconds, 2**32 - 1)
    assert message.min_expires == min(seconds, 2**32 - 1)


@pytest.mark.requirement("RFC3261-20.19-EXPIRES-VALUE")
@pytest.mark.parametrize("value", ["Thu, 01 Dec 2040 16:00:00 GMT", "-5", "", "1.5", "60 s"])
def test_malformed_expires_is_a_parse_error(value: str) -> None:
    with pytest.raises(ParseError, match="Expires"):
        _ = parse(response_with(f"Expires: {value}")).expires
    with pytest.raises(ParseError, match="Min-Expires"):
        _ = parse(response_with(f"Min-Expires: {value}")).min_expires


@pytest.mark.requirement("RFC3261-20.17-DATE-FORMAT")
def test_date() -> None:
    message = parse(response_with("Date: Sat, 13 Nov 2010 23:29:00 GMT"))
    assert message.date == datetime(2010, 11, 13, 23, 29, tzinfo=UTC)
    assert message.date is not None and message.date.utcoffset() is not None
    assert format_date(datetime(2010, 11, 13, 23, 29, tzinfo=UTC)) == "Sat, 13 Nov 2010 23:29:00 GMT"
    assert parse(response_with()).date is None


@pytest.mark.requirement("RFC3261-20.17-DATE-FORMAT")
@pytest.mark.parametrize(
    "value",
    ["Fri, 01 Jan 2010 16:00:00 EST", "sat, 13 Nov 2010 23:29:00 GMT", "Sat, 13 nov 2010 23:29:00 GMT",
     "Sat, 31 Feb 2010 23:29:00 GMT", "Sat, 13 Nov 2010 25:29:00 GMT", "Saturday, 13-Nov-10 23:29:00 GMT",
     "Sat Nov 13 23:29:00 2010", "1289690940"],
)  # fmt: skip
def test_a_date_not_in_rfc1123_gmt_is_a_parse_error(value: str) -> None:
    with pytest.raises(ParseError, match="Date"):
        _ = parse(response_with(f"Date: {value}")).date


@pytest.mark.requirement("RFC3261-20.17-DATE-FORMAT")
@given(st.datetimes(min_value=datetime(1970, 1, 1), max_value=datetime(9999, 1, 1), timezones=st.just(UTC)))
def test_any_date_round_trips(when: datetime) -> None:
    when = when.replace(microsecond=0)
    assert parse(response_with(f"Date: {format_date(when)}")).date == when


@pytest.mark.requirement("RFC3261-20.33-RETRY-AFTER-SYNTAX")
@pytest.mark.parametrize(
    ("value", "expected"),
    [("18000;duration=3600", RetryAfter(18000, None, 3600)),
     ("120 (I'm in a meeting)", RetryAfter(120, "I'm in a meeting")),
     ("5 (nested (comment) \\) here) ;duration=10;x=y",
      RetryAfter(5, "nested (comment) \\) here", 10, Params({"x": "y"}))),
     ("0", RetryAfter(0))],
)  # fmt: skip
def test_retry_after(value: str, expected: RetryAfter) -> None:
    parsed = parse(response_with(f"Retry-After: {value}")).retry_after
    assert parsed == expected
    assert parse(response_with(f"Retry-After: {expected}")).retry_after == expected


@pytest.mark.requirement("RFC3261-20.33-RETRY-AFTER-SYNTAX")
@pytest.mark.parametrize(
    "value",
    ["949302838503028349304023988", "4294967296", "soon", "5 (unclosed", "5;duration=",
     "5;duration=x", "5;duration", "-5", "5 junk"],
)  # fmt: skip
def test_malformed_retry_after_is_a_parse_error(value: str) -> None:
    with pytest.raises(ParseError, match="Retry-After"):
        _ = parse(response_with(f"Retry-After: {value}")).retry_after


@pytest.mark.requirement("RFC3261-20.37-OPTION-TAGS")
def test_option_tags() -> None:
    message = parse(
        response_with("Supported: path, gruu", "k: outbound", "Require: 100rel", "Unsupported:")
    )
    assert message.supported == ["path", "gruu", "outbound"]
    assert message.require == ["100rel"]
    assert message.unsupported == []
    with pytest.raises(ParseError, match="Supported"):
        _ = parse(response_with('Supported: "quoted"')).supported


@pytest.mark.requirement("RFC3261-20.44-AUTH-HEADERS-RAW")
def test_auth_headers_are_raw_strings() -> None:
    message = parse(
        response_with(
            'WWW-Authenticate: Digest realm="atlanta.com", nonce="84a4cc6f", algorithm=SHA-256',
            'Proxy-Authenticate: Digest realm="proxy", nonce="1"',
            'Authorization: Digest username="bob", realm="atlanta.com", response="x"',
            'Proxy-Authorization: Digest username="bob", realm="proxy", response="y"',
            'Authentication-Info: nextnonce="47364c23432d2e131a5fb210812c", qop=auth',
        )
    )
    assert message.www_authenticate == [
        'Digest realm="atlanta.com", nonce="84a4cc6f", algorithm=SHA-256'
    ]
    assert message.proxy_authenticate == ['Digest realm="proxy", nonce="1"']
    assert message.authorization == ['Digest username="bob", realm="atlanta.com", response="x"']
    assert message.proxy_authorization == ['Digest username="bob", realm="proxy", response="y"']
    assert message.authentication_info == 'nextnonce="47364c23432d2e131a5fb210812c", qop=auth'
    assert parse(response_with()).www_authenticate == []
    assert parse(response_with()).authentication_info is None


# -- building a REGISTER from typed values ------------------------------------------------------


@pytest.mark.requirement("RFC3261-20.42-VIA-SYNTAX")
@pytest.mark.requirement("RFC3261-20.20-FROM-TO-SYNTAX")
def test_a_register_built_from_typed_values_reads_back() -> None:
    aor = SipUri("sip", "example.com", user="alice")
    via = Via("UDP", "192.0.2.10", 5060, Params({"branch": "z9hG4bK74bf9", "rport": None}))
    contact = Contact(SipUri("sip", "192.0.2.10", user="alice", port=5060), params=Params({"expires": "3600"}))
    request = Request(
        "REGISTER",
        SipUri("sip", "example.com"),
        Headers([
            ("Via", str(via)),
            ("Max-Forwards", "70"),
            ("From", str(NameAddr(aor, "Alice").with_tag("9fxced76sl"))),
            ("To", str(NameAddr(aor, "Alice"))),
            ("Call-ID", "3848276298220188511@192.0.2.10"),
            ("CSeq", str(CSeq(1, "REGISTER"))),
            ("Contact", str(contact)),
        ]),
    )  # fmt: skip
    parsed = parse(request.to_bytes())
    assert parsed == request
    assert parsed.vias == [via]
    assert parsed.from_.tag == "9fxced76sl" and parsed.to.tag is None
    assert parsed.contacts == [contact] and parsed.contacts[0].expires == 3600
    assert parsed.cseq == CSeq(1, "REGISTER")
