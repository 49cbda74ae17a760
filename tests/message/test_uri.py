"""RFC 3261 §19.1: SIP URIs and their comparison (§19.1.4)."""

from __future__ import annotations

import string

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from sipfsm import strategies as sip
from sipfsm.errors import ParseError
from sipfsm.message import AbsoluteUri, Params, SipUri, parse_uri, uri_equal


def sip_uri(text: str) -> SipUri:
    uri = parse_uri(text)
    assert isinstance(uri, SipUri)
    return uri


# -- syntax -----------------------------------------------------------------------------------


@pytest.mark.requirement("RFC3261-19.1.1-SIP-URI-SYNTAX")
def test_every_component_of_a_sip_uri() -> None:
    uri = sip_uri("sips:alice:secret@[2001:db8::10]:5061;transport=tcp;lr?subject=hi&x=")
    assert (uri.scheme, uri.user, uri.password, uri.host, uri.port) == (
        "sips", "alice", "secret", "2001:db8::10", 5061,
    )  # fmt: skip
    assert uri.params == Params({"transport": "tcp", "lr": None})
    assert uri.headers == (("subject", "hi"), ("x", ""))
    assert uri.transport == "tcp"
    assert str(uri) == "sips:alice:secret@[2001:db8::10]:5061;transport=tcp;lr?subject=hi&x="


@pytest.mark.requirement("RFC3261-19.1.1-SIP-URI-SYNTAX")
@pytest.mark.parametrize(
    ("text", "user", "host"),
    [
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
    ],
)  # fmt: skip
def test_rfc_and_torture_uris_parse(text: str, user: str | None, host: str) -> None:
    uri = sip_uri(text)
    assert (uri.user, uri.host) == (user, host)
    assert parse_uri(str(uri)) == uri


@pytest.mark.requirement("RFC3261-19.1.1-SIP-URI-SYNTAX")
@pytest.mark.parametrize(
    "text",
    ["sip:", "sip:@example.com", "sip:alice@", "sip:alice@exa mple.com", "sip:a@b:99999",
     "sip:a@b:port", "sip:a@[::1", "sip:a@[nothex]", "sip:a@256.1.1.1", "sip:a@-bad.com",
     "sip:a@b;;x", "sip:a@b;x;x", "sip:a@b?", "sip:a b@c", "<sip:a@b>", "sip:a@b>", "sip:a@host.1",
     "nocolon", ":rest", "1abc:x", "tel:", "tel:a b", "sip:a@b.c;p=\"q\""],
)  # fmt: skip
def test_malformed_uris_are_parse_errors(text: str) -> None:
    with pytest.raises(ParseError):
        parse_uri(text)


@pytest.mark.requirement("RFC3261-19.1.1-SIP-URI-SYNTAX")
@given(sip.sip_uris())
def test_any_sip_uri_round_trips(uri: SipUri) -> None:
    assert parse_uri(str(uri)) == uri
    assert uri_equal(uri, parse_uri(str(uri)))


@pytest.mark.requirement("RFC3261-19.1.1-ABSOLUTE-URI")
@pytest.mark.parametrize(
    "text",
    ["tel:+1-201-555-0123", "mailto:watson@bell-telephone.com", "urn:uuid:f81d4fae-7dec",
     "nobodyknowsthisscheme:totallyopaquecontent", "soap.beep://192.0.2.103:3002",
     "isbn:2983792873", "http://www.example.com/a?b=c"],
)  # fmt: skip
def test_other_schemes_are_kept_as_text(text: str) -> None:
    uri = parse_uri(text)
    assert isinstance(uri, AbsoluteUri)
    assert str(uri) == text
    assert uri_equal(uri, parse_uri(text))
    assert not uri_equal(uri, sip_uri("sip:a@example.com"))


@pytest.mark.requirement("RFC3261-19.1.1-ABSOLUTE-URI")
@given(sip.absolute_uris())
def test_any_absolute_uri_round_trips(uri: AbsoluteUri) -> None:
    assert parse_uri(str(uri)) == uri


# -- §19.1.4 comparison: the RFC's own examples -----------------------------------------------

EQUIVALENT = [
    ("sip:%61lice@atlanta.com;transport=TCP", "sip:alice@AtLanTa.CoM;Transport=tcp"),
    ("sip:carol@chicago.com", "sip:carol@chicago.com;newparam=5"),
    ("sip:carol@chicago.com", "sip:carol@chicago.com;security=on"),
    ("sip:carol@chicago.com;newparam=5", "sip:carol@chicago.com;security=on"),
    ("sip:biloxi.com;transport=tcp;method=REGISTER?to=sip:bob%40biloxi.com",
     "sip:biloxi.com;method=REGISTER;transport=tcp?to=sip:bob%40biloxi.com"),
    ("sip:alice@atlanta.com?subject=project%20x&priority=urgent",
     "sip:alice@atlanta.com?priority=urgent&subject=project%20x"),
]  # fmt: skip

NOT_EQUIVALENT = [
    ("SIP:ALICE@AtLanTa.CoM;Transport=udp", "sip:alice@AtLanTa.CoM;Transport=UDP"),
    ("sip:bob@biloxi.com", "sip:bob@biloxi.com:5060"),
    ("sip:bob@biloxi.com", "sip:bob@biloxi.com;transport=udp"),
    ("sip:bob@biloxi.com", "sip:bob@biloxi.com:6000;transport=tcp"),
    ("sip:carol@chicago.com", "sip:carol@chicago.com?Subject=next%20meeting"),
    ("sip:bob@phone21.boxesbybob.com", "sip:bob@192.0.2.4"),
    ("sip:carol@chicago.com;security=on", "sip:carol@chicago.com;security=off"),
]


@pytest.mark.requirement("RFC3261-19.1.4-HOST-CASE")
@pytest.mark.requirement("RFC3261-19.1.4-ESCAPES")
@pytest.mark.requirement("RFC3261-19.1.4-PARAMS")
@pytest.mark.requirement("RFC3261-19.1.4-HEADERS")
@pytest.mark.parametrize(("a", "b"), EQUIVALENT)
def test_the_rfc_equivalent_sets(a: str, b: str) -> None:
    assert uri_equal(parse_uri(a), parse_uri(b))
    assert uri_equal(parse_uri(b), parse_uri(a))


@pytest.mark.requirement("RFC3261-19.1.4-USERINFO-CASE")
@pytest.mark.requirement("RFC3261-19.1.4-PORT-EXPLICIT")
@pytest.mark.requirement("RFC3261-19.1.4-PARAMS")
@pytest.mark.requirement("RFC3261-19.1.4-HEADERS")
@pytest.mark.parametrize(("a", "b"), NOT_EQUIVALENT)
def test_the_rfc_non_equivalent_sets(a: str, b: str) -> None:
    assert not uri_equal(parse_uri(a), parse_uri(b))
    assert not uri_equal(parse_uri(b), parse_uri(a))


# -- §19.1.4 comparison: properties -----------------------------------------------------------


@pytest.mark.requirement("RFC3261-19.1.4-SIP-SIPS-DIFFER")
@given(sip.sip_uris())
def test_sip_and_sips_are_never_equivalent(uri: SipUri) -> None:
    other = SipUri("sips" if uri.scheme == "sip" else "sip", uri.host, uri.user, uri.password,
                   uri.port, uri.params, uri.headers)  # fmt: skip
    assert uri_equal(uri, uri)
    assert not uri_equal(uri, other)


def _swapcase_host(uri: SipUri, flips: list[bool]) -> SipUri:
    host = "".join(
        c.swapcase() if f else c for c, f in zip(uri.host, flips + [False] * len(uri.host))
    )
    return SipUri(uri.scheme, host, uri.user, uri.password, uri.port, uri.params, uri.headers)


@pytest.mark.requirement("RFC3261-19.1.4-HOST-CASE")
@given(sip.sip_uris(), st.lists(st.booleans(), max_size=64))
def test_uris_differing_only_in_host_case_are_equal(uri: SipUri, flips: list[bool]) -> None:
    assert uri_equal(uri, _swapcase_host(uri, flips))


@pytest.mark.requirement("RFC3261-19.1.4-HOST-CASE")
@given(sip.sip_uris(), st.data())
def test_uris_differing_only_in_param_value_case_are_equal(uri: SipUri, data: st.DataObject) -> None:
    swapped = Params({k: (v.swapcase() if v is not None else None) for k, v in uri.params.items()})
    other = SipUri(uri.scheme, uri.host, uri.user, uri.password, uri.port, swapped, uri.headers)
    assert uri_equal(uri, other)


@pytest.mark.requirement("RFC3261-19.1.4-HOST-CASE")
def test_ipv6_hosts_compare_by_address() -> None:
    assert uri_equal(parse_uri("sip:a@[2001:db8::1]"), parse_uri("sip:a@[2001:DB8:0:0::1]"))
    assert not uri_equal(parse_uri("sip:a@[2001:db8::1]"), parse_uri("sip:a@[2001:db8::2]"))


@pytest.mark.requirement("RFC3261-19.1.4-USERINFO-CASE")
@given(sip.sip_uris(), st.text(string.ascii_letters, min_size=1, max_size=8), st.booleans())
def test_user_and_password_case_matters(uri: SipUri, letters: str, in_password: bool) -> None:
    user, password = letters, None
    if in_password:
        user, password = "u", letters
    a = SipUri(uri.scheme, uri.host, user, password, uri.port, uri.params, uri.headers)
    b = SipUri(uri.scheme, uri.host, user if in_password else user.swapcase(),
               letters.swapcase() if in_password else None, uri.port, uri.params,
               uri.headers)  # fmt: skip
    assert uri_equal(a, a)
    assert not uri_equal(a, b)


@pytest.mark.requirement("RFC3261-19.1.4-USERINFO-CASE")
@given(sip.sip_uris())
def test_omitting_user_or_password_never_matches_including_it(uri: SipUri) -> None:
    assume(uri.user is not None)
    without_user = SipUri(uri.scheme, uri.host, None, None, uri.port, uri.params, uri.headers)
    assert not uri_equal(uri, without_user)
    if uri.password is not None:
        without_password = SipUri(uri.scheme, uri.host, uri.user, None, uri.port, uri.params,
                                  uri.headers)  # fmt: skip
        assert not uri_equal(uri, without_password)


@pytest.mark.requirement("RFC3261-19.1.4-ESCAPES")
@given(st.text(string.ascii_letters + string.digits + "-_.!~*'()", min_size=1, max_size=10), st.data())
def test_unreserved_characters_equal_their_escapes(user: str, data: st.DataObject) -> None:
    escaped = "".join(
        f"%{ord(c):02{data.draw(st.sampled_from('xX'))}}" if data.draw(st.booleans()) else c
        for c in user
    )
    a, b = sip_uri(f"sip:{user}@example.com"), sip_uri(f"sip:{escaped}@example.com")
    assert uri_equal(a, b)


@pytest.mark.requirement("RFC3261-19.1.4-ESCAPES")
def test_reserved_characters_differ_from_their_escapes() -> None:
    assert not uri_equal(sip_uri("sip:a;b@example.com"), sip_uri("sip:a%3Bb@example.com"))
    assert uri_equal(sip_uri("sip:a%3bb@example.com"), sip_uri("sip:a%3Bb@example.com"))


@pytest.mark.requirement("RFC3261-19.1.4-PORT-EXPLICIT")
@given(sip.sip_uris(), st.integers(0, 65535))
def test_an_explicit_port_never_matches_an_absent_one(uri: SipUri, port: int) -> None:
    with_port = SipUri(uri.scheme, uri.host, uri.user, uri.password, port, uri.params, uri.headers)
    without = SipUri(uri.scheme, uri.host, uri.user, uri.password, None, uri.params, uri.headers)
    assert not uri_equal(with_port, without)
    assert uri_equal(with_port, with_port)


@pytest.mark.requirement("RFC3261-19.1.4-PARAMS")
@given(sip.sip_uris(), st.randoms())
def test_parameter_order_does_not_matter(uri: SipUri, rnd) -> None:  # type: ignore[no-untyped-def]
    items = list(uri.params.items())
    rnd.shuffle(items)
    headers = list(uri.headers)
    rnd.shuffle(headers)
    other = SipUri(uri.scheme, uri.host, uri.user, uri.password, uri.port, Params(items),
                   tuple(headers))  # fmt: skip
    assert uri_equal(uri, other)


@pytest.mark.requirement("RFC3261-19.1.4-PARAMS")
@given(
    sip.sip_uris(),
    st.sampled_from(["user", "ttl", "method", "maddr", "transport"]),
    st.sampled_from(["phone", "1", "REGISTER", "192.0.2.1", "udp"]),
)
def test_user_ttl_method_maddr_transport_in_only_one_uri_never_match(
    uri: SipUri, name: str, value: str
) -> None:
    base = uri.without_param(name)
    assert not uri_equal(base, base.with_param(name, value))
    assert not uri_equal(base.with_param(name, value), base)


@pytest.mark.requirement("RFC3261-19.1.4-PARAMS")
@given(sip.sip_uris(), sip.tokens(), st.none() | sip.tokens())
def test_other_parameters_in_only_one_uri_are_ignored(
    uri: SipUri, name: str, value: str | None
) -> None:
    name = name.lower()
    assume(name not in uri.params and name not in {"user", "ttl", "method", "maddr", "transport"})
    assert uri_equal(uri, uri.with_param(name, value))


@pytest.mark.requirement("RFC3261-19.1.4-PARAMS")
def test_equality_is_not_transitive() -> None:
    plain = sip_uri("sip:carol@chicago.com")
    on, off = sip_uri("sip:carol@chicago.com;security=on"), sip_uri("sip:carol@chicago.com;security=off")
    assert uri_equal(plain, on) and uri_equal(plain, off) and not uri_equal(on, off)


@pytest.mark.requirement("RFC3261-19.1.4-HEADERS")
@given(sip.sip_uris(headers=False), sip.tokens(), sip.tokens())
def test_uri_headers_are_never_ignored(uri: SipUri, name: str, value: str) -> None:
    with_header = SipUri(uri.scheme, uri.host, uri.user, uri.password, uri.port, uri.params,
                         ((name, value),))  # fmt: skip
    assert not uri_equal(uri, with_header)
    assert not uri_equal(with_header, uri)
    assert uri_equal(with_header, with_header)
