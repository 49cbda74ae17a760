"""classify_response on its own: each expected value is read from the RFC text (cited), not
from the code."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from sipfsm.core.classify import Asked, classify_response
from sipfsm.core.inputs import (
    Challenge,
    IntervalTooBrief,
    Malformed,
    Redirect,
    Rejected,
    RetryLater,
    Success,
)
from sipfsm.core.values import IntentKind
from sipfsm.message import Response, SipUri, parse, parse_uri
from sipfsm.ports import HostPort

OURS = "sip:alice@192.0.2.10:5060"


def _sip(text: str) -> SipUri:
    uri = parse_uri(text)
    assert isinstance(uri, SipUri)
    return uri


def response(status: int, reason: str, *headers: str) -> Response:
    lines = [f"SIP/2.0 {status} {reason}",
             "Via: SIP/2.0/UDP 192.0.2.10:5060;branch=z9hG4bKabc;rport=5070;received=203.0.113.9",
             "From: <sip:alice@example.com>;tag=1", "To: <sip:alice@example.com>;tag=2",
             "Call-ID: c1", "CSeq: 7 REGISTER", *headers, "Content-Length: 0", "", ""]
    message = parse("\r\n".join(lines).encode())
    assert isinstance(message, Response)
    return message


REGISTER = Asked(IntentKind.REGISTER, contacts=(_sip(OURS),), expires=3600)


@pytest.mark.requirement("RFC3261-10.2.1-SUBSEQUENT-REGISTRATIONS")
def test_our_contact_is_found_anywhere_in_the_list_with_its_own_expiry() -> None:
    """§10.2.4: "The UA compares each contact address to see if it created the contact
    address, using comparison rules in Section 19.1.4.  If so, it updates the expiration time
    interval according to the expires parameter" -- whatever its position."""
    r = response(200, "OK", "Contact: <sip:alice@198.51.100.7:5070>;expires=1200",
                 "Contact: <sip:alice@192.0.2.10:5060>;expires=120", "Expires: 900")
    got = classify_response(r, REGISTER)
    assert isinstance(got, Success)
    assert [(str(u), e) for u, e in got.granted] == [(OURS, 120)]
    assert got.missing == ()


@pytest.mark.requirement("RFC3261-10.2.1-SUBSEQUENT-REGISTRATIONS")
def test_uri_comparison_follows_19_1_4() -> None:
    """§19.1.4: hosts compare case-insensitively; a uri-parameter other than user, ttl, method
    or maddr that appears in only one URI (here x) is ignored; the user part is
    case-sensitive."""
    same = response(200, "OK", "Contact: <sip:alice@192.0.2.10:5060;x=1>;expires=60")
    got = classify_response(same, REGISTER)
    assert isinstance(got, Success) and [e for _, e in got.granted] == [60]
    other_user = response(200, "OK", "Contact: <sip:ALICE@192.0.2.10:5060>;expires=60")
    got = classify_response(other_user, REGISTER)
    assert isinstance(got, Success) and got.granted == () and got.missing == (OURS,)
    no_port = response(200, "OK", "Contact: <sip:alice@192.0.2.10>;expires=60")
    got = classify_response(no_port, REGISTER)  # "a URI omitting any component with a default
    assert isinstance(got, Success) and got.missing == (OURS,)  # value will not match"


@pytest.mark.requirement("RFC3261-10.2-EXPIRES-PARAM-CAP", "RFC3261-10.2-EXPIRES-PARAM-MALFORMED")
@pytest.mark.parametrize(("contact", "header", "expected"), [
    ("<sip:alice@192.0.2.10:5060>", "Expires: 900", 900),  # §10.2.4: else the Expires value
    ("<sip:alice@192.0.2.10:5060>;expires=99999999999", None, 2**32 - 1),  # §10.2: MAY cap
    ("<sip:alice@192.0.2.10:5060>;expires=soon", None, 3600),  # §10.2: malformed -> 3600
])
def test_the_granted_expiry(contact: str, header: str | None, expected: int) -> None:
    headers = [f"Contact: {contact}", *([header] if header else [])]
    got = classify_response(response(200, "OK", *headers), REGISTER)
    assert isinstance(got, Success) and [e for _, e in got.granted] == [expected]


def test_expires_zero_means_not_bound() -> None:
    got = classify_response(response(200, "OK", f"Contact: <{OURS}>;expires=0"), REGISTER)
    assert isinstance(got, Success) and got.missing == (OURS,)


def test_a_success_reports_date_service_route_authentication_info_and_the_public_address() -> None:
    r = response(200, "OK", f"Contact: <{OURS}>;expires=60",
                 "Date: Sat, 13 Nov 2010 23:29:00 GMT",  # §20.17's example
                 "Service-Route: <sip:P2.home.example.com;lr>",  # RFC 3608 §6.1
                 'Authentication-Info: nextnonce="47364c23432d2e131a5fb210812c"')
    got = classify_response(r, REGISTER)
    assert isinstance(got, Success)
    assert got.date == datetime(2010, 11, 13, 23, 29, tzinfo=UTC)
    assert got.service_route == ("<sip:P2.home.example.com;lr>",)
    assert got.authentication_info == 'nextnonce="47364c23432d2e131a5fb210812c"'
    assert got.public == HostPort("203.0.113.9", 5070)  # RFC 3581 §4: received + rport
    assert [(b.contact, b.expires, b.ours) for b in got.bindings] == [(OURS, 60, True)]


@pytest.mark.requirement("RFC3261-8.1.3.2-UNKNOWN-FINAL-AS-X00")
@pytest.mark.parametrize(("status", "kind"), [
    (299, Success),  # §8.1.3.2: unknown -> x00 of its class
    (399, Redirect), (499, Rejected), (599, RetryLater), (699, Rejected),
    (404, Rejected), (603, Rejected), (408, RetryLater), (500, RetryLater), (503, RetryLater),
    (401, Challenge), (407, Challenge), (423, IntervalTooBrief),
])
def test_status_classes(status: int, kind: type) -> None:
    assert isinstance(classify_response(response(status, "X"), REGISTER), kind)


@pytest.mark.requirement("RFC3261-8.1.3.5-401-407-CREDENTIALS")
def test_challenges_come_from_the_header_the_status_names() -> None:
    """§22.2: 401 carries WWW-Authenticate; §22.3: 407 carries Proxy-Authenticate."""
    www = 'Digest realm="a", nonce="1"'
    proxy = 'Digest realm="b", nonce="2"'
    both = (f"WWW-Authenticate: {www}", f"Proxy-Authenticate: {proxy}")
    assert classify_response(response(401, "Unauthorized", *both), REGISTER) == \
        Challenge(401, (www,))
    assert classify_response(response(407, "Proxy Authentication Required", *both),
                             REGISTER) == Challenge(407, (proxy,))


@pytest.mark.requirement("RFC3261-10.2.8-423-RETRY")
def test_423_carries_min_expires() -> None:
    """§10.2.8 / §20.23: the 423's Min-Expires."""
    got = classify_response(response(423, "Interval Too Brief", "Min-Expires: 1800"), REGISTER)
    assert got == IntervalTooBrief(423, 1800)
    assert classify_response(response(423, "Interval Too Brief"), REGISTER) == \
        IntervalTooBrief(423, None)


@pytest.mark.requirement("RFC3261-8.1.3.4-TARGET-ORDER", "RFC3261-8.1.3.4-USE-CONTACTS",
                         "RFC3261-8.1.3.4-COPY-URI")
def test_redirect_targets_in_decreasing_q() -> None:
    """§8.1.3.4: Contacts are tried in decreasing q (equal q: in order); a REGISTER's
    Request-URI has no user part (§10.2); the method parameter does not travel."""
    r = response(302, "Moved Temporarily",
                 "Contact: <sip:192.0.2.71:5060>;q=0.2",
                 "Contact: <sip:bob@192.0.2.72>;q=1.0",  # has a user part: unusable
                 "Contact: <sip:192.0.2.73;method=REGISTER>;q=0.7",
                 "Contact: <sip:192.0.2.74>",  # no q: 1.0
                 "Contact: <sip:192.0.2.75>;q=0.7")
    got = classify_response(r, REGISTER)
    assert isinstance(got, Redirect)
    assert [str(t) for t in got.targets] == [
        "sip:192.0.2.74", "sip:192.0.2.73", "sip:192.0.2.75", "sip:192.0.2.71:5060"]


@pytest.mark.requirement("RFC3261-21.5.1-500-RETRY", "RFC3261-21.5.4-503-HOLD-OFF")
@pytest.mark.parametrize(("header", "expected"), [
    ("Retry-After: 120", 120),
    ("Retry-After: 18000;duration=3600", 18000),  # §20.33's example
    ("Retry-After: 120 (I'm in a meeting)", 120),  # §20.33's example
    (None, None),
])
def test_retry_after(header: str | None, expected: int | None) -> None:
    r = response(503, "Service Unavailable", *([header] if header else []))
    assert classify_response(r, REGISTER) == RetryLater(503, "Service Unavailable", expected)


def test_an_unreadable_contact_in_a_2xx_is_malformed() -> None:
    """§8.1.3: a response that cannot be understood is handled as a server failure."""
    got = classify_response(response(200, "OK", "Contact: <sip:alice@[bad"), REGISTER)
    assert isinstance(got, Malformed) and got.status == 200


def test_unregister_and_query_grant_nothing() -> None:
    r = response(200, "OK", "Contact: <sip:alice@198.51.100.7:5070>;expires=1200")
    for kind in (IntentKind.UNREGISTER, IntentKind.QUERY):
        got = classify_response(r, Asked(kind))
        assert isinstance(got, Success) and got.granted == () and got.missing == ()
        assert [b.ours for b in got.bindings] == [False]
