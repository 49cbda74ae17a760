"""Conformance checks for URIs (sipfsm.message.parse_uri and uri_equal): RFC 3261 §19.1.1 syntax,
other schemes, and the §19.1.4 comparison rules (spec/message.toml).

The RFC's equivalent and non-equivalent URI sets are written out; each comparison rule is also a
hypothesis property over :func:`sipfsm.strategies.sip_uris`, changing one component of a URI and
stating whether the two must compare equal.
"""

from __future__ import annotations

import random
import string
from dataclasses import replace

from hypothesis import assume, given
from hypothesis import strategies as st

from sipfsm import strategies as sip
from sipfsm.conformance.message_support import (
    EQUIVALENT_URIS,
    NOT_EQUIVALENT_URIS,
    case,
    parse_error,
    sip_uri,
)
from sipfsm.conformance.registry import check, expect
from sipfsm.message import AbsoluteUri, Params, SipUri, parse_uri, uri_equal

# --------------------------------------------------------------------------------------------
# §19.1.1 syntax
# --------------------------------------------------------------------------------------------


@check("RFC3261-19.1.1-SIP-URI-SYNTAX")
def every_component_of_a_sip_uri() -> None:
    """A SIPS URI with user, password, IPv6 host, port, parameters and headers: each component
    read, and str() writes the same text."""
    uri = sip_uri("sips:alice:secret@[2001:db8::10]:5061;transport=tcp;lr?subject=hi&x=")
    assert (uri.scheme, uri.user, uri.password, uri.host, uri.port) == (
        "sips", "alice", "secret", "2001:db8::10", 5061,
    )  # fmt: skip
    assert uri.params == Params({"transport": "tcp", "lr": None})
    assert uri.headers == (("subject", "hi"), ("x", ""))
    assert uri.transport == "tcp"
    assert str(uri) == "sips:alice:secret@[2001:db8::10]:5061;transport=tcp;lr?subject=hi&x="


@check("RFC3261-19.1.1-SIP-URI-SYNTAX")
@given(st.sampled_from(["udp", "tcp", "tls", "sctp", "ws"]).flatmap(sip.casings))
def the_transport_parameter_reads_in_lower_case(transport: str) -> None:
    """transport-param = "transport=" ("udp" / "tcp" / "sctp" / "tls" / other-transport) and
    tokens are case-insensitive (§7.3.1): any casing reads as the lower-case transport."""
    for text in (f"sip:alice@example.com;transport={transport}",
                 f"sips:example.com:5061;lr;Transport={transport}"):  # fmt: skip
        assert sip_uri(text).transport == transport.lower(), text


RFC_URIS = [
    ("sip:atlanta.com", None, "atlanta.com"),
    ("sip:alice@192.0.2.4", "alice", "192.0.2.4"),
    ("SIP:Alice@AtLanTa.CoM", "Alice", "AtLanTa.CoM"),
    ("sip:+1-212-555-1212:1234@gateway.com;user=phone", "+1-212-555-1212", "gateway.com"),
    ("sip:user;par=u%40example.net@example.com", "user;par=u%40example.net", "example.com"),
    ("sip:sips%3Auser%40example.com@example.net", "sips%3Auser%40example.com", "example.net"),
    ("sip:null-%00-null@example.com", "null-%00-null", "example.com"),
    ("sip:1_unusual.URI~(to-be!sure)&isn't+it$/crazy?,/;;*@example.com",
     "1_unusual.URI~(to-be!sure)&isn't+it$/crazy?,/;;*", "example.com"),
    ("sip:[::1]", None, "::1"),
    ("sip:host.example.com.", None, "host.example.com."),
]  # fmt: skip


@check("RFC3261-19.1.1-SIP-URI-SYNTAX")
def rfc_and_torture_uris_parse() -> None:
    """The RFC's URIs and RFC 4475's (semiuri, esc01, escnull, intmeth) parse with the user
    and host as written, and reparse from str()."""
    for text, user, host in RFC_URIS:
        with case(text):
            uri = sip_uri(text)
            assert (uri.user, uri.host) == (user, host)
            assert parse_uri(str(uri)) == uri


MALFORMED_URIS = [
    "sip:", "sip:@example.com", "sip:alice@", "sip:alice@exa mple.com", "sip:a@b:99999",
    "sip:a@b:port", "sip:a@[::1", "sip:a@[nothex]", "sip:a@256.1.1.1", "sip:a@-bad.com",
    "sip:a@b;;x", "sip:a@b;x;x", "sip:a@b?", "sip:a b@c", "<sip:a@b>", "sip:a@b>",
    "sip:a@host.1", "nocolon", ":rest", "1abc:x", "tel:", "tel:a b", "sip:a@b.c;p=\"q\"",
]


@check("RFC3261-19.1.1-SIP-URI-SYNTAX")
def malformed_uris_are_parse_errors() -> None:
    """Empty or bad hosts, ports, parameters and headers, spaces, <>, no scheme: ParseError."""
    for text in MALFORMED_URIS:
        with case(text):
            parse_error(parse_uri, text)


@check("RFC3261-19.1.1-SIP-URI-SYNTAX")
@given(sip.sip_uris())
def any_sip_uri_round_trips(uri: SipUri) -> None:
    """parse_uri(str(uri)) == uri, and the two compare equal by §19.1.4."""
    assert parse_uri(str(uri)) == uri
    assert uri_equal(uri, parse_uri(str(uri)))


@check("RFC3261-19.1.1-ABSOLUTE-URI")
def other_schemes_are_kept_as_text() -> None:
    """tel, mailto, urn, unknown schemes (RFC 4475 unkscm, novelsc) parse to AbsoluteUri kept
    as written, equal to themselves and not to a SIP URI."""
    for text in ["tel:+1-201-555-0123", "mailto:watson@bell-telephone.com",
                 "urn:uuid:f81d4fae-7dec", "nobodyknowsthisscheme:totallyopaquecontent",
                 "soap.beep://192.0.2.103:3002", "isbn:2983792873",
                 "http://www.example.com/a?b=c"]:  # fmt: skip
        with case(text):
            uri = parse_uri(text)
            assert isinstance(uri, AbsoluteUri)
            assert str(uri) == text
            assert uri_equal(uri, parse_uri(text))
            assert not uri_equal(uri, sip_uri("sip:a@example.com"))


@check("RFC3261-19.1.1-ABSOLUTE-URI")
@given(sip.absolute_uris())
def any_absolute_uri_round_trips(uri: AbsoluteUri) -> None:
    """parse_uri(str(uri)) == uri for URIs of other schemes."""
    assert parse_uri(str(uri)) == uri


# --------------------------------------------------------------------------------------------
# §19.1.4 comparison: the RFC's own examples
# --------------------------------------------------------------------------------------------


@check("RFC3261-19.1.4-HOST-CASE", "RFC3261-19.1.4-ESCAPES", "RFC3261-19.1.4-PARAMS",
       "RFC3261-19.1.4-HEADERS")
def the_rfc_equivalent_sets() -> None:
    """§19.1.4's equivalent URIs compare equal, both ways."""
    # What each of the RFC's pairs shows (message_support.EQUIVALENT_URIS, in order).
    shows = [("RFC3261-19.1.4-ESCAPES", "RFC3261-19.1.4-HOST-CASE"),
             ("RFC3261-19.1.4-PARAMS",), ("RFC3261-19.1.4-PARAMS",), ("RFC3261-19.1.4-PARAMS",),
             ("RFC3261-19.1.4-PARAMS",), ("RFC3261-19.1.4-HEADERS",)]
    for (a, b), rules in zip(EQUIVALENT_URIS, shows, strict=True):
        for rid in rules:
            expect(rid, uri_equal(parse_uri(a), parse_uri(b)) and uri_equal(parse_uri(b),
                                                                            parse_uri(a)),
                   f"{a} and {b} compare different")


@check("RFC3261-19.1.4-USERINFO-CASE", "RFC3261-19.1.4-PORT-EXPLICIT", "RFC3261-19.1.4-PARAMS",
       "RFC3261-19.1.4-HEADERS", "RFC3261-19.1.4-HOST-CASE")
def the_rfc_non_equivalent_sets() -> None:
    """§19.1.4's non-equivalent URIs compare different, both ways."""
    # What each of the RFC's pairs shows (message_support.NOT_EQUIVALENT_URIS, in order); a
    # host name and an address are compared as text, never resolved.
    shows = ["RFC3261-19.1.4-USERINFO-CASE", "RFC3261-19.1.4-PORT-EXPLICIT",
             "RFC3261-19.1.4-PARAMS", "RFC3261-19.1.4-PORT-EXPLICIT", "RFC3261-19.1.4-HEADERS",
             "RFC3261-19.1.4-HOST-CASE", "RFC3261-19.1.4-PARAMS"]
    for (a, b), rid in zip(NOT_EQUIVALENT_URIS, shows, strict=True):
        expect(rid, not uri_equal(parse_uri(a), parse_uri(b))
               and not uri_equal(parse_uri(b), parse_uri(a)), f"{a} and {b} compare equal")


# --------------------------------------------------------------------------------------------
# §19.1.4 comparison: properties
# --------------------------------------------------------------------------------------------


@check("RFC3261-19.1.4-SIP-SIPS-DIFFER")
@given(sip.sip_uris())
def sip_and_sips_are_never_equivalent(uri: SipUri) -> None:
    """A URI equals itself and never the same URI under the other scheme."""
    other = replace(uri, scheme="sips" if uri.scheme == "sip" else "sip")
    assert uri_equal(uri, uri)
    assert not uri_equal(uri, other)


@check("RFC3261-19.1.4-HOST-CASE")
@given(sip.sip_uris(), st.lists(st.booleans(), max_size=64))
def uris_differing_only_in_host_case_are_equal(uri: SipUri, flips: list[bool]) -> None:
    """Swapping the case of any letters of the host keeps the URIs equal."""
    flips = flips + [False] * len(uri.host)
    host = "".join(c.swapcase() if f else c for c, f in zip(uri.host, flips, strict=False))
    assert uri_equal(uri, replace(uri, host=host))


@check("RFC3261-19.1.4-HOST-CASE")
@given(sip.sip_uris())
def uris_differing_only_in_param_value_case_are_equal(uri: SipUri) -> None:
    """Swapping the case of parameter values keeps the URIs equal."""
    swapped = Params({k: (v.swapcase() if v is not None else None) for k, v in uri.params.items()})
    assert uri_equal(uri, replace(uri, params=swapped))


@check("RFC3261-19.1.4-HOST-CASE")
def ipv6_hosts_compare_by_address() -> None:
    """IPv6 references compare by address, not by text."""
    assert uri_equal(parse_uri("sip:a@[2001:db8::1]"), parse_uri("sip:a@[2001:DB8:0:0::1]"))
    assert not uri_equal(parse_uri("sip:a@[2001:db8::1]"), parse_uri("sip:a@[2001:db8::2]"))


@check("RFC3261-19.1.4-USERINFO-CASE")
@given(sip.sip_uris(), st.text(string.ascii_letters, min_size=1, max_size=8), st.booleans())
def user_and_password_case_matters(uri: SipUri, letters: str, in_password: bool) -> None:
    """A user or password differing only in case makes the URIs differ."""
    if in_password:
        a = replace(uri, user="u", password=letters)
        b = replace(uri, user="u", password=letters.swapcase())
    else:
        a = replace(uri, user=letters, password=None)
        b = replace(uri, user=letters.swapcase(), password=None)
    assert uri_equal(a, a)
    assert not uri_equal(a, b)


@check("RFC3261-19.1.4-USERINFO-CASE")
@given(sip.sip_uris())
def omitting_user_or_password_never_matches_including_it(uri: SipUri) -> None:
    """A URI without the user (or the password) never equals one with it."""
    assume(uri.user is not None)
    assert not uri_equal(uri, replace(uri, user=None, password=None))
    if uri.password is not None:
        assert not uri_equal(uri, replace(uri, password=None))


@check("RFC3261-19.1.4-ESCAPES")
@given(st.text(string.ascii_letters + string.digits + "-_.!~*'()", min_size=1, max_size=10),
       st.data())  # fmt: skip
def unreserved_characters_equal_their_escapes(user: str, data: st.DataObject) -> None:
    """Unreserved characters written as %hh (either hex case) compare equal to themselves."""
    escaped = "".join(
        f"%{ord(c):02{data.draw(st.sampled_from('xX'))}}" if data.draw(st.booleans()) else c
        for c in user
    )
    a, b = sip_uri(f"sip:{user}@example.com"), sip_uri(f"sip:{escaped}@example.com")
    assert uri_equal(a, b)
    # The rule is for every component, parameter values included (§19.1.4 example:
    # "sip:%61lice@atlanta.com;transport=TCP"): the same characters as a uri-parameter value.
    a = sip_uri(f"sip:alice@example.com;x={user};maddr={user}.example.com")
    b = sip_uri(f"sip:alice@example.com;maddr={escaped}.example.com;x={escaped}")
    assert uri_equal(a, b) and uri_equal(b, a), (str(a), str(b))


@check("RFC3261-19.1.4-ESCAPES")
def reserved_characters_differ_from_their_escapes() -> None:
    """An escaped reserved character (%3B) differs from the character, and equals %3b."""
    assert not uri_equal(sip_uri("sip:a;b@example.com"), sip_uri("sip:a%3Bb@example.com"))
    assert uri_equal(sip_uri("sip:a%3bb@example.com"), sip_uri("sip:a%3Bb@example.com"))


@check("RFC3261-19.1.4-PORT-EXPLICIT")
@given(sip.sip_uris(), st.integers(0, 65535))
def an_explicit_port_never_matches_an_absent_one(uri: SipUri, port: int) -> None:
    """A URI with any port (5060 included) never equals the URI without one."""
    with_port, without = replace(uri, port=port), replace(uri, port=None)
    assert not uri_equal(with_port, without)
    assert uri_equal(with_port, with_port)


@check("RFC3261-19.1.4-PARAMS")
@given(sip.sip_uris(), st.randoms())
def parameter_order_does_not_matter(uri: SipUri, rnd: random.Random) -> None:
    """Parameters and headers in any order compare equal."""
    items = list(uri.params.items())
    rnd.shuffle(items)
    headers = list(uri.headers)
    rnd.shuffle(headers)
    assert uri_equal(uri, replace(uri, params=Params(items), headers=tuple(headers)))


@check("RFC3261-19.1.4-PARAMS")
@given(
    sip.sip_uris(),
    st.sampled_from(["user", "ttl", "method", "maddr", "transport"]),
    st.sampled_from(["phone", "1", "REGISTER", "192.0.2.1", "udp"]),
)
def user_ttl_method_maddr_transport_in_only_one_uri_never_match(
    uri: SipUri, name: str, value: str
) -> None:
    """user, ttl, method, maddr or transport in only one URI makes them differ."""
    base = uri.without_param(name)
    assert not uri_equal(base, base.with_param(name, value))
    assert not uri_equal(base.with_param(name, value), base)


@check("RFC3261-19.1.4-PARAMS")
@given(sip.sip_uris(), sip.tokens(), st.none() | sip.tokens())
def other_parameters_in_only_one_uri_are_ignored(
    uri: SipUri, name: str, value: str | None
) -> None:
    """Any other parameter in only one URI is ignored."""
    name = name.lower()
    assume(name not in uri.params and name not in {"user", "ttl", "method", "maddr", "transport"})
    assert uri_equal(uri, uri.with_param(name, value))


@check("RFC3261-19.1.4-PARAMS")
def equality_is_not_transitive() -> None:
    """§19.1.4's note: carol equals carol;security=on and carol;security=off, which differ."""
    plain = sip_uri("sip:carol@chicago.com")
    on = sip_uri("sip:carol@chicago.com;security=on")
    off = sip_uri("sip:carol@chicago.com;security=off")
    assert uri_equal(plain, on) and uri_equal(plain, off) and not uri_equal(on, off)


@check("RFC3261-19.1.4-HEADERS")
@given(sip.sip_uris(headers=False), sip.tokens(), sip.tokens())
def uri_headers_are_never_ignored(uri: SipUri, name: str, value: str) -> None:
    """A header in only one URI makes them differ, both ways."""
    with_header = replace(uri, headers=((name, value),))
    assert not uri_equal(uri, with_header)
    assert not uri_equal(with_header, uri)
    assert uri_equal(with_header, with_header)
