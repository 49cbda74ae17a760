"""Conformance checks for typed header values (sipfsm.message.values and the typed properties of
Request / Response): RFC 3261 §20 Via, From / To, Route and friends, Contact, CSeq,
Max-Forwards, Expires, Date, Retry-After, option tags and the authentication headers
(spec/message.toml; the Contact expires parameter's reading is also RFC3261-10.2-EXPIRES-PARAM-*
of registration.toml).

Each header has the RFC's examples written out, a table of malformed values that must be
ParseErrors, and a hypothesis round trip ``parse_x(str(x)) == x`` over
:mod:`sipfsm.strategies`.
"""

from __future__ import annotations

from datetime import UTC, datetime

from hypothesis import example, given
from hypothesis import strategies as st

from sipfsm import strategies as sip
from sipfsm.conformance.message_support import (
    case,
    parse_error,
    read_field,
    response_with,
)
from sipfsm.conformance.registry import check, expect
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

# --------------------------------------------------------------------------------------------
# Via
# --------------------------------------------------------------------------------------------


@check("RFC3261-20.42-VIA-SYNTAX")
def via_fields() -> None:
    """A Via gives transport (upper-cased), host (IPv6 without brackets), port, branch,
    received and rport (with or without a value); sent_by writes IPv6 in brackets."""
    via = parse_via(
        "SIP/2.0/udp [2001:db8::9]:5070;branch=z9hG4bK776;received=2001:db8::1;rport=6000"
    )
    assert (via.transport, via.host, via.port) == ("UDP", "2001:db8::9", 5070)
    assert (via.branch, via.received, via.rport, via.has_rport) == (
        "z9hG4bK776", "2001:db8::1", 6000, True,
    )  # fmt: skip
    assert str(via.sent_by) == "[2001:db8::9]:5070"
    bare = parse_via("SIP/2.0/TCP client.example.com;branch=z9hG4bK1;rport")
    assert (bare.port, bare.rport, bare.has_rport, bare.sent_by.port) == (None, None, True, None)
    assert not parse_via("SIP/2.0/TLS h;branch=b").has_rport


@check("RFC3261-20.42-VIA-SYNTAX")
def via_with_lws_everywhere_and_two_values_on_folded_lines() -> None:
    """RFC 4475 wsinv's Via: LWS around the slashes, two values over folded lines, all read in
    order after the first row."""
    message = parse(
        response_with(
            "v:  SIP  / 2.0  / TCP     spindle.example.com   ;",
            "  branch  =   z9hG4bK9ikj8  ,",
            " SIP  /    2.0   / UDP  192.168.255.111   ; branch=",
            " z9hG4bK30239",
        )
    )
    assert [(v.transport, v.host, v.branch) for v in message.vias] == [
        ("UDP", "192.0.2.10", "z9hG4bKx"),
        ("TCP", "spindle.example.com", "z9hG4bK9ikj8"),
        ("UDP", "192.168.255.111", "z9hG4bK30239"),
    ]


@check("RFC3261-20.42-VIA-SYNTAX")
def malformed_via_is_a_parse_error() -> None:
    """Another protocol or version, no transport or host, a bad port or host, an empty
    parameter: ParseError from parse_via() and from a message's vias."""
    for value in ["SIP/3.0/UDP host", "SIP/2.0 UDP host", "SIP/2.0/UDP", "SIP/2.0/UDP host:99999",
                  "SIP/2.0/UDP ho st", "SIP/2.0/UDP host;", "SIP/2.0/UDP [::1",
                  "HTTP/2.0/UDP host"]:  # fmt: skip
        with case(value):
            parse_error(parse_via, value, match="Via")
            parse_error(read_field, response_with(f"Via: {value}"), "vias")


@check("RFC3261-20.42-VIA-SYNTAX")
def a_malformed_rport_value_is_a_parse_error() -> None:
    """An rport value that is not a port is a ParseError when read."""
    via = parse_via("SIP/2.0/UDP h;rport=abc")
    parse_error(getattr, via, "rport", match="rport")


@check("RFC3261-20.42-VIA-SYNTAX")
@given(sip.vias())
def any_via_round_trips_through_str(via: Via) -> None:
    """parse_via(str(via)) == via."""
    assert parse_via(str(via)) == via


# --------------------------------------------------------------------------------------------
# From / To / Route
# --------------------------------------------------------------------------------------------

FROM_EXAMPLES = [
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
]  # fmt: skip


@check("RFC3261-20.20-FROM-TO-SYNTAX")
def rfc_from_and_to_examples() -> None:
    """The RFC's From / To examples (and RFC 4475 lwsdisp, wsinv) give display name, URI and
    tag."""
    for value, display, uri, tag in FROM_EXAMPLES:
        with case(value):
            data = response_with().replace(b"From: <sip:alice@example.com>;tag=1",
                                           f"From: {value}".encode())  # fmt: skip
            addr = parse(data).from_
            assert (addr.display_name, str(addr.uri), addr.tag) == (display, uri, tag)


@check("RFC3261-20.20-FROM-TO-SYNTAX")
def malformed_from_is_a_parse_error() -> None:
    """An unquoted display name that is not tokens (RFC 4475 baddn), an unterminated quote or
    <, URI headers in addr-spec form, spaces inside <> (badaspec), an empty URI or trailing
    junk: ParseError naming From."""
    for value in ["Bell, Alexander <sip:a.g.bell@example.com>;tag=43",
                  '"unterminated <sip:a@b.example>', "<sip:a@b.example",
                  "sip:user@example.com?Subject=x", "< sip:a@b.example >", "<>",
                  "<sip:a@b.example> junk"]:  # fmt: skip
        with case(value):
            parse_error(parse_name_addr, value, "From", match="From")


@check("RFC3261-20.20-FROM-TO-SYNTAX")
def a_second_to_row_is_a_parse_error() -> None:
    """To is a single-value field: a second row is a ParseError when read."""
    parse_error(read_field, response_with("To: <sip:other@example.com>"), "to",
                match="To appears 2 times")  # fmt: skip


@check("RFC3261-20.20-FROM-TO-SYNTAX")
@given(sip.name_addrs())
def any_name_addr_round_trips_through_str(addr: NameAddr) -> None:
    """parse_name_addr(str(addr)) == addr."""
    assert parse_name_addr(str(addr)) == addr


@check("RFC3261-20.34-ROUTE-SYNTAX")
def route_record_route_path_service_route() -> None:
    """Record-Route, Path, Service-Route and Route are name-addr lists read across rows in
    order; ;lr stays a URI parameter."""
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
    service, route = message.service_routes[0].uri, message.routes[0].uri
    assert isinstance(service, SipUri) and isinstance(route, SipUri)
    assert "lr" in service.params
    assert route.params["transport"] == "tcp"


# --------------------------------------------------------------------------------------------
# Contact
# --------------------------------------------------------------------------------------------


@check("RFC3261-20.10-CONTACT-SYNTAX")
def the_rfc_contact_examples() -> None:
    """§20.10's Contact examples (folded, two per row, a mailto URI) and a compact m row."""
    message = parse(
        response_with(
            'Contact: "Mr. Watson" <sip:watson@worcester.bell-telephone.com>',
            "   ;q=0.7; expires=3600,",
            '   "Mr. Watson" <mailto:watson@bell-telephone.com> ;q=0.1',
            "m: <sips:bob@192.0.2.4>;expires=60",
        )
    )
    assert [(c.display_name, str(c.uri), c.q, c.expires) for c in message.contacts] == [
        ("Mr. Watson", "sip:watson@worcester.bell-telephone.com", 0.7, 3600),
        ("Mr. Watson", "mailto:watson@bell-telephone.com", 0.1, None),
        (None, "sips:bob@192.0.2.4", None, 60),
    ]
    assert not message.contact_star


@check("RFC3261-20.10-CONTACT-SYNTAX")
def addr_spec_parameters_are_header_parameters() -> None:
    """Without <>, the parameters after the URI are header parameters; str() writes the
    name-addr form."""
    contact = parse_contact("sip:alice@192.0.2.4;transport=tcp;expires=30")
    assert isinstance(contact.uri, SipUri)
    assert contact.uri.params == Params()
    assert contact.params == Params({"transport": "tcp", "expires": "30"})
    enclosed = parse_contact("<sip:alice@192.0.2.4;transport=tcp>;expires=30")
    assert isinstance(enclosed.uri, SipUri)
    assert enclosed.uri.params == Params({"transport": "tcp"})
    assert str(contact) == "<sip:alice@192.0.2.4>;transport=tcp;expires=30"


@check("RFC3261-20.10-CONTACT-SYNTAX")
def contact_star() -> None:
    """A lone * is contact_star with no contacts; * with other values, in one row or two, is a
    ParseError."""
    message = parse(response_with("Contact: *"))
    assert message.contact_star and message.contacts == []
    parse_error(read_field, response_with("Contact: *, <sip:a@b.example>"), "contacts",
                match=r"\*")  # fmt: skip
    parse_error(read_field, response_with("Contact: *", "Contact: <sip:a@b.example>"),
                "contact_star")  # fmt: skip


@check("RFC3261-20.10-CONTACT-SYNTAX")
def an_addr_spec_with_uri_headers_is_a_parse_error() -> None:
    """RFC 4475 regbadct: a URI with headers must be enclosed in <>."""
    parse_error(parse_contact, "sip:user@example.com?Route=%3Csip:sip.example.com%3E",
                match="<>")  # fmt: skip
    ok = parse_contact("<sip:user@example.com?Route=%3Csip:sip.example.com%3E>")
    assert isinstance(ok.uri, SipUri)
    assert ok.uri.headers == (("Route", "%3Csip:sip.example.com%3E"),)


@check("RFC3261-20.10-CONTACT-SYNTAX")
def a_malformed_qvalue_is_a_parse_error() -> None:
    """A q outside 0 to 1 or with more than three decimals is a ParseError when read."""
    for q in ["1.5", "2", "0.1234", "-1", "abc", ".5"]:
        with case(q):
            contact = parse_contact(f"<sip:a@b.example>;q={q}")
            parse_error(getattr, contact, "q", match="q")


CONTACT_EXPIRES = [
    (";expires=0", 0), (";expires=4294967295", 4294967295), (";expires=4294967296", 4294967295),
    (";expires=280297596632815", 4294967295), (";expires=" + "9" * 5000, 4294967295),
    (";expires=abc", 3600), (";expires=-1", 3600), (";expires", 3600), ("", None),
    # ten digits at or below the cap are read as they are (delta-seconds = 1*DIGIT)
    (";expires=3600000000", 3600000000), (";expires=0000003600", 3600),
]  # fmt: skip


@check("RFC3261-10.2-EXPIRES-PARAM-CAP", "RFC3261-10.2-EXPIRES-PARAM-MALFORMED")
def contact_expires_is_capped_and_malformed_is_3600() -> None:
    """A Contact expires parameter above 2**32-1 reads as 2**32-1, a malformed one as 3600,
    none as None."""
    for param, expires in CONTACT_EXPIRES:
        got = parse_contact(f"<sip:a@b.example>{param}").expires
        rid = ("RFC3261-10.2-EXPIRES-PARAM-MALFORMED" if expires == 3600
               else "RFC3261-10.2-EXPIRES-PARAM-CAP")
        expect(rid, got == expires, f"Contact {param[:30]!r}: expires {got}, not {expires}")


@check("RFC3261-20.10-CONTACT-SYNTAX")
@given(sip.contacts())
def any_contact_round_trips_through_str(contact: Contact) -> None:
    """parse_contact(str(contact)) == contact, with the same expires and q."""
    parsed = parse_contact(str(contact))
    assert parsed == contact
    assert (parsed.expires, parsed.q) == (contact.expires, contact.q)


# --------------------------------------------------------------------------------------------
# CSeq, Max-Forwards, Expires
# --------------------------------------------------------------------------------------------


@check("RFC3261-20.16-CSEQ-SYNTAX")
def cseq() -> None:
    """CSeq gives the number (leading zeros, any LWS) and the method as written."""
    assert parse_cseq("4711 INVITE") == CSeq(4711, "INVITE")
    assert parse_cseq("0009\t  INVITE") == CSeq(9, "INVITE")
    assert parse_cseq("2147483647 register") == CSeq(2**31 - 1, "register")  # case kept
    assert str(CSeq(1, "REGISTER")) == "1 REGISTER"


@check("RFC3261-20.16-CSEQ-SYNTAX")
def malformed_cseq_is_a_parse_error() -> None:
    """A number of 2**31 or more (RFC 4475 scalar02), negative or not ASCII digits, a missing
    part or a method that is not a token: ParseError naming CSeq."""
    for value in ["2147483648 REGISTER", "36893488147419103232 INVITE", "-1 INVITE", "1",
                  "REGISTER", "1 REG ISTER", "one REGISTER", "1 REG@", "\u0661 REGISTER",
                  ""]:  # fmt: skip
        with case(value):
            parse_error(parse_cseq, value, match="CSeq")


@check("RFC3261-20.16-CSEQ-SYNTAX")
@given(sip.cseqs())
def any_cseq_round_trips(cseq: CSeq) -> None:
    """parse_cseq(str(cseq)) == cseq."""
    assert parse_cseq(str(cseq)) == cseq


@check("RFC3261-20.22-MAX-FORWARDS-RANGE")
def max_forwards() -> None:
    """Max-Forwards from 0 to 255, leading zeros accepted (RFC 4475 wsinv); absent is None."""
    for value, expected in [("0", 0), ("70", 70), ("0068", 68), ("255", 255)]:
        with case(value):
            assert parse(response_with(f"Max-Forwards: {value}")).max_forwards == expected
    assert parse(response_with()).max_forwards is None


@check("RFC3261-20.22-MAX-FORWARDS-RANGE")
def max_forwards_out_of_range_is_a_parse_error() -> None:
    """Max-Forwards above 255 (RFC 4475 scalar02), negative or not a number is a ParseError."""
    for value in ["256", "300", "-1", "seventy", "7 0", "9" * 100]:
        with case(value):
            parse_error(read_field, response_with(f"Max-Forwards: {value}"), "max_forwards",
                        match="Max-Forwards")  # fmt: skip


@check("RFC3261-20.19-EXPIRES-VALUE")
@given(st.integers(0, 2**40))
@example(2**32 - 1)
@example(2**32)  # ten digits above the cap
@example(9_999_999_999)  # the largest ten-digit value
@example(10**10)
def expires_and_min_expires(seconds: int) -> None:
    """Expires and Min-Expires read as seconds, capped at 2**32-1 (the boundary and every
    ten-digit value above it among the examples)."""
    message = parse(response_with(f"Expires: {seconds}", f"Min-Expires: {seconds}"))
    assert message.expires == min(seconds, 2**32 - 1)
    assert message.min_expires == min(seconds, 2**32 - 1)


@check("RFC3261-20.19-EXPIRES-VALUE")
def malformed_expires_is_a_parse_error() -> None:
    """An Expires or Min-Expires that is not decimal seconds is a ParseError naming the field."""
    for value in ["Thu, 01 Dec 2040 16:00:00 GMT", "-5", "", "1.5", "60 s"]:
        with case(value):
            parse_error(read_field, response_with(f"Expires: {value}"), "expires",
                        match="Expires")  # fmt: skip
            parse_error(read_field, response_with(f"Min-Expires: {value}"), "min_expires",
                        match="Min-Expires")  # fmt: skip


# --------------------------------------------------------------------------------------------
# Date, Retry-After, option tags, authentication headers
# --------------------------------------------------------------------------------------------


@check("RFC3261-20.17-DATE-FORMAT")
def date() -> None:
    """A Date in RFC 1123 GMT form reads as an aware UTC datetime; format_date() writes it."""
    message = parse(response_with("Date: Sat, 13 Nov 2010 23:29:00 GMT"))
    assert message.date == datetime(2010, 11, 13, 23, 29, tzinfo=UTC)
    assert message.date is not None and message.date.utcoffset() is not None
    written = format_date(datetime(2010, 11, 13, 23, 29, tzinfo=UTC))
    assert written == "Sat, 13 Nov 2010 23:29:00 GMT"
    assert parse(response_with()).date is None


@check("RFC3261-20.17-DATE-FORMAT")
def a_date_not_in_rfc1123_gmt_is_a_parse_error() -> None:
    """Another zone (RFC 4475 baddate), another casing, an impossible date or another format is
    a ParseError naming Date."""
    for value in ["Fri, 01 Jan 2010 16:00:00 EST", "sat, 13 Nov 2010 23:29:00 GMT",
                  "Sat, 13 nov 2010 23:29:00 GMT", "Sat, 31 Feb 2010 23:29:00 GMT",
                  "Sat, 13 Nov 2010 25:29:00 GMT", "Saturday, 13-Nov-10 23:29:00 GMT",
                  "Sat Nov 13 23:29:00 2010", "1289690940"]:  # fmt: skip
        with case(value):
            parse_error(read_field, response_with(f"Date: {value}"), "date", match="Date")


@check("RFC3261-20.17-DATE-FORMAT")
@given(st.datetimes(min_value=datetime(1970, 1, 1), max_value=datetime(9999, 1, 1),
                    timezones=st.just(UTC)))  # fmt: skip
def any_date_round_trips(when: datetime) -> None:
    """A date written by format_date() reads back the same (to the second)."""
    when = when.replace(microsecond=0)
    assert parse(response_with(f"Date: {format_date(when)}")).date == when


RETRY_AFTER = [
    ("18000;duration=3600", RetryAfter(18000, None, 3600)),
    ("120 (I'm in a meeting)", RetryAfter(120, "I'm in a meeting")),
    ("5 (nested (comment) \\) here) ;duration=10;x=y",
     RetryAfter(5, "nested (comment) \\) here", 10, Params({"x": "y"}))),
    ("0", RetryAfter(0)),
]  # fmt: skip


@check("RFC3261-20.33-RETRY-AFTER-SYNTAX")
def retry_after() -> None:
    """Retry-After gives seconds, the comment (nested comments kept), duration and other
    parameters; str() writes it back."""
    for value, expected in RETRY_AFTER:
        with case(value):
            assert parse(response_with(f"Retry-After: {value}")).retry_after == expected
            assert parse(response_with(f"Retry-After: {expected}")).retry_after == expected


@check("RFC3261-20.33-RETRY-AFTER-SYNTAX")
def malformed_retry_after_is_a_parse_error() -> None:
    """Seconds beyond 2**32-1 (RFC 4475 scalarlg), not a number, an unclosed comment, a
    duration without a number, or junk: ParseError naming Retry-After."""
    for value in ["949302838503028349304023988", "4294967296", "soon", "5 (unclosed",
                  "5;duration=", "5;duration=x", "5;duration", "-5", "5 junk"]:  # fmt: skip
        with case(value):
            parse_error(read_field, response_with(f"Retry-After: {value}"), "retry_after",
                        match="Retry-After")  # fmt: skip


@check("RFC3261-20.37-OPTION-TAGS")
def option_tags() -> None:
    """Supported (any row, compact k, possibly empty), Require and Unsupported give their
    tokens; a non-token is a ParseError."""
    message = parse(
        response_with("Supported: path, gruu", "k: outbound", "Require: 100rel", "Unsupported:")
    )
    assert message.supported == ["path", "gruu", "outbound"]
    assert message.require == ["100rel"]
    assert message.unsupported == []
    parse_error(read_field, response_with('Supported: "quoted"'), "supported",
                match="Supported")  # fmt: skip


@check("RFC3261-20.44-AUTH-HEADERS-RAW")
def auth_headers_are_raw_strings() -> None:
    """The challenge and credentials headers, and Authentication-Info, are read as the raw
    strings; absent ones are [] / None."""
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


# --------------------------------------------------------------------------------------------
# Building a REGISTER from typed values
# --------------------------------------------------------------------------------------------


@check("RFC3261-20.42-VIA-SYNTAX", "RFC3261-20.20-FROM-TO-SYNTAX")
def a_register_built_from_typed_values_reads_back() -> None:
    """A REGISTER whose Via, From, To, CSeq and Contact are written by str() of typed values
    reads back the same values."""
    aor = SipUri("sip", "example.com", user="alice")
    via = Via("UDP", "192.0.2.10", 5060, Params({"branch": "z9hG4bK74bf9", "rport": None}))
    contact = Contact(SipUri("sip", "192.0.2.10", user="alice", port=5060),
                      params=Params({"expires": "3600"}))  # fmt: skip
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
    expect("RFC3261-20.42-VIA-SYNTAX", parsed.vias == [via], f"Vias {parsed.vias}")
    expect("RFC3261-20.20-FROM-TO-SYNTAX", parsed.from_.tag == "9fxced76sl"
           and parsed.to.tag is None and parsed.from_ == NameAddr(aor, "Alice").with_tag(
               "9fxced76sl"), f"From {parsed.from_}, To {parsed.to}")
    # The whole request reading back is evidence for both (Contact and CSeq have their own
    # syntax records and checks).
    for rid in ("RFC3261-20.42-VIA-SYNTAX", "RFC3261-20.20-FROM-TO-SYNTAX"):
        expect(rid, parsed == request and parsed.contacts == [contact]
               and parsed.contacts[0].expires == 3600 and parsed.cseq == CSeq(1, "REGISTER"),
               "the REGISTER built from typed values does not read back the same")
