"""Conformance checks over messages modelled on the RFC 4475 torture tests that a registration
client's parser meets (spec/message.toml).

Each check names its RFC 4475 tests.  The valid ones (§3.1.1, §3.3, §3.4) must parse and read
back the values the RFC describes; the invalid ones (§3.1.2, §3.3) must raise ParseError -- on
parse, or when the malformed field is read -- and nothing else.  The messages are in
:mod:`sipfsm.conformance.message_support`.
"""

from __future__ import annotations

from sipfsm.conformance.message_support import (
    ESC01,
    ESC02,
    ESCNULL,
    ESCRURI,
    INTMETH,
    INV2543,
    INVALID_TORTURE,
    LWSDISP,
    MISMATCH01,
    NOREASON,
    SDP,
    SEMIURI,
    TRANSPORTS,
    UNKSCM,
    UNKSM2,
    WSINV,
    case,
    crlf,
    parse_error,
    read_everything,
)
from sipfsm.conformance.registry import check, expect
from sipfsm.message import AbsoluteUri, Request, Response, SipUri, parse, parse_uri, uri_equal

# --------------------------------------------------------------------------------------------
# §3.1.1 valid messages (and §3.3 / §3.4 ones a parser must accept)
# --------------------------------------------------------------------------------------------


@check("RFC4475-3.1.1-VALID-MESSAGES", "RFC3261-7.3.1-LINE-FOLDING", "RFC3261-7.3.3-COMPACT-FORM")
def wsinv_a_short_tortuous_invite() -> None:
    """§3.1.1.1 wsinv: folding, LWS around every separator, names in any case and compact
    form, escaped quotes in display names, unknown headers -- every value reads back."""
    message = parse(WSINV)
    assert isinstance(message, Request)  # the parse itself: evidence against every record
    read_everything(message)
    valid, folding, compact = ("RFC4475-3.1.1-VALID-MESSAGES", "RFC3261-7.3.1-LINE-FOLDING",
                               "RFC3261-7.3.3-COMPACT-FORM")
    expect(valid, isinstance(message.uri, SipUri)
           and message.uri.params == {"unknownparam": None}, f"Request-URI {message.uri}")
    to = message.to  # folded after "TO :"
    expect(folding, (str(to.uri), to.tag) == ("sip:vivekg@chair-dnrc.example.com", "1918181833n"),
           f"To {to.uri} tag {to.tag}")
    expect(folding, (message.from_.display_name, message.from_.tag)
           == ('J Rosenberg \\"', "98asjd8"),
           f"From {message.from_.display_name!r} tag {message.from_.tag}")
    expect(valid, message.max_forwards == 68, f"Max-Forwards {message.max_forwards}")
    expect(folding, (message.cseq.number, message.cseq.method) == (9, "INVITE"),
           f"CSeq {message.cseq}")
    # the second and third Via are in a compact "v:" header
    expect(compact, [(v.transport, v.host, v.branch) for v in message.vias] == [
        ("UDP", "192.0.2.2", "390skdjuw"),
        ("TCP", "spindle.example.com", "z9hG4bK9ikj8"),
        ("UDP", "192.168.255.111", "z9hG4bK30239"),
    ], f"Vias {[str(v) for v in message.vias]}")
    expect(compact, message.headers.get("Subject") == "", "s: is Subject")
    expect(folding, message.headers.get("NewFangledHeader")
           == "newfangled value continued newfangled value",
           repr(message.headers.get("NewFangledHeader")))
    expect(valid, message.headers.get("UnknownHeaderWithUnusualValue") == ";;,,;;,;",
           repr(message.headers.get("UnknownHeaderWithUnusualValue")))
    contacts = message.contacts  # "m:"
    expect(compact, len(contacts) == 1, f"{len(contacts)} Contacts from m:")
    for contact in contacts[:1]:
        expect(compact, contact.display_name == 'Quoted string ""', contact.display_name)
        params = (contact.params.get("newparam"), contact.params.get("secondparam"), contact.q)
        expect(folding, params == ("newvalue", None, 0.33), f"Contact params {params}")
    route = message.routes[0].uri if message.routes else None
    expect(folding, isinstance(route, SipUri) and "unknown-no-value" in route.params
           and route.params["unknown-no-value"] is None, f"Route {route}")
    expect(valid, message.body == SDP, "the body")


@check("RFC4475-3.1.1-VALID-MESSAGES")
def intmeth_a_wide_range_of_valid_characters() -> None:
    """§3.1.1.2 intmeth: every token character in the method, user, password, branch, tag and
    Call-ID; control characters in a quoted display name; UTF-8 in a parameter and a value."""
    message = parse(INTMETH)
    assert isinstance(message, Request)
    read_everything(message)
    assert message.method == "!interesting-Method0123456789_*+`.%indeed'~"
    assert isinstance(message.uri, SipUri)
    assert message.uri.user == "1_unusual.URI~(to-be!sure)&isn't+it$/crazy?,/;;*"
    assert message.uri.password == "&it+has=1,weird!*pas$wo~d_too.(doesn't-it)"
    assert message.vias[0].branch == "z9hG4bK-.!%66*_+`'~"
    assert message.to.display_name == "BEL:\x07 NUL:\x00 DEL:\x7f"
    assert message.from_.display_name == "token1~` token2'+_ token3*%!.-"
    assert message.from_.params.unquoted("fromparam''~+*_!.-%") == "работающий"
    assert message.from_.tag == "_token~1'+`*%!-."
    assert message.call_id == "intmeth.word%ZK-!.*_+'@word`~)(><:\\/\"][?}{"
    assert message.cseq.method == message.method
    assert message.headers.get("extensionheader-!.%*+_`'~") == "\ufeff大停電"
    assert parse(message.to_bytes()) == message


@check("RFC4475-3.1.1-VALID-MESSAGES", "RFC3261-19.1.4-ESCAPES")
def esc01_valid_use_of_escapes() -> None:
    """§3.1.1.3 esc01: escapes kept as written, and equal to their characters when compared."""
    message = parse(ESC01)
    read_everything(message)
    assert isinstance(message, Request)  # the parse itself: evidence against both records
    expect("RFC4475-3.1.1-VALID-MESSAGES", isinstance(message.uri, SipUri)
           and message.uri.user == "sips%3Auser%40example.com", f"Request-URI {message.uri}")
    expect("RFC3261-19.1.4-ESCAPES", uri_equal(message.to.uri, parse_uri("sip:user@example.com")),
           f"To {message.to.uri} differs from sip:user@example.com")
    expected = parse_uri("sip:caller@host5.example.net;lr;name=value%25%34%31")
    expect("RFC3261-19.1.4-ESCAPES", uri_equal(message.contacts[0].uri, expected),
           f"Contact {message.contacts[0].uri} differs from {expected}")
    expect("RFC4475-3.1.1-VALID-MESSAGES",
           message.headers.get("Content-Type") == "application/sdp", "Content-Type")


@check("RFC4475-3.1.1-VALID-MESSAGES")
def escnull_and_esc02() -> None:
    """§3.1.1.4 escnull: escaped NULs in URIs; §3.1.1.5 esc02: % that is not an escape, in the
    method, a display name, a branch and a header name (which is then an unknown header)."""
    message = parse(ESCNULL)
    read_everything(message)
    users = [c.uri.user for c in message.contacts if isinstance(c.uri, SipUri)]
    assert users == ["%00", "%00%00"]
    assert message.content_length == 0
    esc02 = parse(ESC02)
    read_everything(esc02)
    assert isinstance(esc02, Request) and esc02.method == "RE%47IST%45R"
    assert esc02.to.display_name == "%Z%45"
    hosts = [c.uri.host for c in esc02.contacts if isinstance(c.uri, SipUri)]
    assert hosts == ["host1.example.com", "host3.example.com"]
    assert esc02.headers.get("C%6Fntact") == "<sip:alias2@host2.example.com>"


@check("RFC4475-3.1.1-VALID-MESSAGES")
def lwsdisp_semiuri_transports_noreason() -> None:
    """§3.1.1.7 lwsdisp, §3.1.1.9 semiuri, §3.1.1.10 transports, §3.1.1.13 noreason."""
    assert parse(LWSDISP).from_.display_name == "caller"
    semiuri = parse(SEMIURI)
    assert isinstance(semiuri, Request) and isinstance(semiuri.uri, SipUri)
    assert semiuri.uri.user == "user;par=u%40example.net"
    assert semiuri.headers.get_all("Accept")[-1] == "message/sipfrag"
    transports = [v.transport for v in parse(TRANSPORTS).vias]
    assert transports == ["UDP", "SCTP", "TLS", "UNKNOWN", "TCP"]
    noreason = parse(NOREASON)
    assert isinstance(noreason, Response) and (noreason.status, noreason.reason) == (100, "")


@check("RFC4475-3.1.1-VALID-MESSAGES", "RFC3261-19.1.1-ABSOLUTE-URI")
def unknown_schemes_are_kept() -> None:
    """§3.3.14 unkscm and §3.3.15 unksm2: URIs of unknown schemes in the Request-URI, To and
    Contact are kept."""
    message = parse(UNKSCM)
    assert isinstance(message, Request)  # the parse itself: evidence against both records
    expect("RFC3261-19.1.1-ABSOLUTE-URI",
           message.uri == AbsoluteUri("nobodyknowsthisscheme", "totallyopaquecontent"),
           f"Request-URI {message.uri!r}")
    unksm2 = parse(UNKSM2)
    read_everything(unksm2)
    for got, want in ((unksm2.to.uri, AbsoluteUri("isbn", "2983792873")),
                      (unksm2.contacts[0].uri, AbsoluteUri("name", "John_Smith"))):
        expect("RFC3261-19.1.1-ABSOLUTE-URI", got == want, f"{got!r}, not {want!r}")


@check("RFC4475-3.1.1-VALID-MESSAGES", "RFC3261-18.3-DATAGRAM-NO-CONTENT-LENGTH")
def inv2543_an_rfc_2543_request() -> None:
    """§3.4.1 inv2543: no branch, no From tag, no Max-Forwards and no Content-Length (the body
    runs to the end of the datagram)."""
    message = parse(INV2543)
    read_everything(message)
    expect("RFC4475-3.1.1-VALID-MESSAGES", message.vias[0].branch is None
           and message.from_.tag is None and message.max_forwards is None,
           "an RFC 2543 request read with a branch, a From tag or a Max-Forwards")
    expect("RFC3261-18.3-DATAGRAM-NO-CONTENT-LENGTH", message.body == SDP,
           f"the body without Content-Length is {len(message.body)} bytes, not the datagram's "
           f"{len(SDP)}")


# --------------------------------------------------------------------------------------------
# §3.1.2 invalid messages
# --------------------------------------------------------------------------------------------


def _parse_and_read(data: bytes) -> None:
    read_everything(parse(data))


@check("RFC4475-3.1.2-INVALID-MESSAGES")
def invalid_torture_messages_raise_parse_error() -> None:
    """badinv01, clerr, ncl, scalar02, scalarlg, quotbal, ltgtruri, lwsruri, lwsstart, trws,
    baddate, regbadct, badaspec, baddn, badvers, bigcode, insuf, multi01, mcl01: ParseError on
    parse or on reading every field, never another exception."""
    for name in sorted(INVALID_TORTURE):
        with case(name):
            parse_error(_parse_and_read, crlf(INVALID_TORTURE[name]))


@check("RFC4475-3.1.2-INVALID-MESSAGES")
def mismatch01_and_escruri_parse_their_rejection_is_the_uas_business() -> None:
    """§3.3.7 mismatch01 (method and CSeq method differ) and §3.1.2.11 escruri (an escaped
    header in the Request-URI) parse: rejecting them is a UAS decision."""
    message = parse(MISMATCH01)
    assert isinstance(message, Request) and message.method != message.cseq.method
    escruri = parse(ESCRURI)
    assert isinstance(escruri, Request) and isinstance(escruri.uri, SipUri)
    assert escruri.uri.headers == (("Route", "%3Csip:example.com%3E"),)
