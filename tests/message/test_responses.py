"""The one response builder (sipfsm.message.responses) against the RFC text.

Expected values are typed from RFC 3261 §24.1 (Bob's REGISTER and its 200), §8.2.6, §18.2.1,
§21 and RFC 3581 §4 -- not computed by the code under test."""

from __future__ import annotations

import pytest

from sipfsm.message import Request, parse
from sipfsm.message.responses import REASON_PHRASES, build_response, reason_phrase
from sipfsm.ports import HostPort

# RFC 3261 §24.1, F1 (Content-Length kept, as in the RFC).
BOB_REGISTER = (
    b"REGISTER sip:registrar.biloxi.com SIP/2.0\r\n"
    b"Via: SIP/2.0/UDP bobspc.biloxi.com:5060;branch=z9hG4bKnashds7\r\n"
    b"Max-Forwards: 70\r\n"
    b"To: Bob <sip:bob@biloxi.com>\r\n"
    b"From: Bob <sip:bob@biloxi.com>;tag=456248\r\n"
    b"Call-ID: 843817637684230@998sdasdh09\r\n"
    b"CSeq: 1826 REGISTER\r\n"
    b"Contact: <sip:bob@192.0.2.4>\r\n"
    b"Expires: 7200\r\n"
    b"Content-Length: 0\r\n\r\n"
)


def request(data: bytes = BOB_REGISTER, **replace: str) -> Request:
    message = parse(data)
    assert isinstance(message, Request)
    if not replace:
        return message
    headers = message.headers
    for name, value in replace.items():
        headers = headers.with_replaced(name, value)
    return message.with_headers(headers)


def via_params(text: str) -> dict[str, str | None]:
    params: dict[str, str | None] = {}
    for part in text.split(";")[1:]:
        name, eq, value = part.partition("=")
        params[name.strip().lower()] = value.strip() if eq else None
    return params


@pytest.mark.requirement("RFC3261-8.2.6.2-HEADERS-AND-TAGS-EMBEDDED")
@pytest.mark.requirement("RFC3261-18.2.1-RECEIVED-EMBEDDED")
def test_rfc3261_24_1_bob_register_200() -> None:
    # §24.1 F2: the registrar's 200 to Bob, received from 192.0.2.4 (sent-by is a name).
    response = build_response(
        request(), 200, to_tag="2493k59kd", received=HostPort("192.0.2.4", 5060)
    )
    assert response.status == 200 and response.reason == "OK"
    assert response.headers.get_lines("Via") == [
        "SIP/2.0/UDP bobspc.biloxi.com:5060;branch=z9hG4bKnashds7;received=192.0.2.4"
    ]
    assert response.headers.get("To") == "Bob <sip:bob@biloxi.com>;tag=2493k59kd"
    assert response.headers.get("From") == "Bob <sip:bob@biloxi.com>;tag=456248"
    assert response.headers.get("Call-ID") == "843817637684230@998sdasdh09"
    assert response.headers.get("CSeq") == "1826 REGISTER"
    assert "Contact" not in response.headers and "Expires" not in response.headers


@pytest.mark.requirement("RFC3581-4-RPORT-EMBEDDED")
def test_rfc3581_4_rport_filled_and_received_added() -> None:
    # RFC 3581 §4's example: 10.1.1.1:4540 behind a NAT that maps it to 192.0.2.1:9988.
    req = request(Via="SIP/2.0/UDP 10.1.1.1:4540;rport;branch=z9hG4bKkjshdyff")
    response = build_response(req, 200, received=HostPort("192.0.2.1", 9988))
    top = response.headers.get_lines("Via")[0]
    assert top.startswith("SIP/2.0/UDP 10.1.1.1:4540;")
    assert via_params(top) == {
        "rport": "9988", "branch": "z9hG4bKkjshdyff", "received": "192.0.2.1"
    }


@pytest.mark.requirement("RFC3581-4-RPORT-EMBEDDED")
def test_rfc3581_4_received_even_when_equal_to_sent_by() -> None:
    # "the server MUST insert a received parameter ... even if it is identical to the value of
    # the sent-by component"
    req = request(Via="SIP/2.0/UDP 192.0.2.4:5060;branch=z9hG4bK1;rport")
    top = build_response(req, 401, received=HostPort("192.0.2.4", 5060)).headers.get("Via")
    assert top is not None
    assert via_params(top) == {"branch": "z9hG4bK1", "rport": "5060", "received": "192.0.2.4"}


@pytest.mark.requirement("RFC3261-18.2.1-RECEIVED-EMBEDDED")
@pytest.mark.parametrize(
    ("sent_by", "source", "received"),
    [
        ("192.0.2.4:5060", "192.0.2.4", None),  # same IP: nothing added
        ("192.0.2.4:5060", "198.51.100.7", "198.51.100.7"),  # another IP
        ("bobspc.biloxi.com", "192.0.2.4", "192.0.2.4"),  # a domain name
        ("[2001:db8::1]:5060", "2001:DB8:0::1", None),  # the same IPv6 address written apart
        ("[2001:db8::1]:5060", "2001:db8::2", "2001:db8::2"),
    ],
)
def test_rfc3261_18_2_1_received_only_when_sent_by_differs(
    sent_by: str, source: str, received: str | None
) -> None:
    req = request(Via=f"SIP/2.0/UDP {sent_by};branch=z9hG4bK2")
    top = build_response(req, 200, received=HostPort(source, 5060)).headers.get("Via")
    assert top is not None
    assert via_params(top).get("received") == received
    assert "rport" not in via_params(top)


@pytest.mark.requirement("RFC3261-8.2.6.2-HEADERS-AND-TAGS-EMBEDDED")
def test_every_via_copied_in_order_only_the_top_stamped() -> None:
    data = BOB_REGISTER.replace(
        b"Max-Forwards: 70\r\n",
        b"Via: SIP/2.0/TCP proxy.example.com;branch=z9hG4bKp1;received=203.0.113.1\r\n"
        b"Via: SIP/2.0/UDP 10.0.0.1:5070;branch=z9hG4bKc1, SIP/2.0/UDP 10.0.0.2;branch=z9hG4bKc2"
        b"\r\nMax-Forwards: 70\r\n",
    )
    response = build_response(request(data), 200, received=HostPort("192.0.2.4", 5060))
    vias = response.headers.get_all("Via")
    assert vias[1:] == [
        "SIP/2.0/TCP proxy.example.com;branch=z9hG4bKp1;received=203.0.113.1",
        "SIP/2.0/UDP 10.0.0.1:5070;branch=z9hG4bKc1",
        "SIP/2.0/UDP 10.0.0.2;branch=z9hG4bKc2",
    ]
    assert vias[0].endswith(";branch=z9hG4bKnashds7;received=192.0.2.4")


@pytest.mark.requirement("RFC3261-8.2.6.2-HEADERS-AND-TAGS-EMBEDDED")
def test_to_tag_on_every_response_but_100_and_the_same_for_one_request() -> None:
    req = request(Timestamp="54")
    trying = build_response(req, 100)
    assert trying.headers.get("To") == "Bob <sip:bob@biloxi.com>"  # §8.2.6.2: no tag on 100
    assert trying.headers.get("Timestamp") == "54"  # §8.2.6.1: copied into the 100
    ringing = build_response(req, 180)
    final = build_response(req, 200)
    tag = ringing.to.tag
    assert tag and final.to.tag == tag  # "The same tag MUST be used for all responses"
    assert "Timestamp" not in final.headers
    other = request(Via="SIP/2.0/UDP bobspc.biloxi.com:5060;branch=z9hG4bKother")
    assert build_response(other, 200).to.tag != tag
    assert build_response(req, 200, to_tag="x1").headers.get("To") == (
        "Bob <sip:bob@biloxi.com>;tag=x1"
    )
    assert build_response(req, 200, to_tag="").headers.get("To") == "Bob <sip:bob@biloxi.com>"


@pytest.mark.requirement("RFC3261-8.2.6.2-HEADERS-AND-TAGS-EMBEDDED")
def test_a_to_tag_in_the_request_is_kept_as_it_is() -> None:
    req = request(To="Bob <sip:bob@biloxi.com>;tag=abc")
    assert build_response(req, 200, to_tag="zzz").headers.get("To") == (
        "Bob <sip:bob@biloxi.com>;tag=abc"
    )


def test_reason_phrases_are_rfc3261_section_21s() -> None:
    # A few rows typed from §21's headings.
    assert REASON_PHRASES[423] == "Interval Too Brief"
    assert REASON_PHRASES[481] == "Call/Transaction Does Not Exist"
    assert REASON_PHRASES[504] == "Server Time-out"
    assert REASON_PHRASES[513] == "Message Too Large"
    assert REASON_PHRASES[604] == "Does Not Exist Anywhere"
    assert reason_phrase(499) == "Bad Request"  # §21: an unknown code reads as its x00
    assert build_response(request(), 503).reason == "Service Unavailable"


def test_reason_phrase_stays_on_one_line_and_headers_follow_in_order() -> None:
    response = build_response(
        request(), 400, "Bad Request (\r\nVia: evil)\x1b[31m",
        headers=[("Server", "x"), ("Date", "Sat, 13 Nov 2010 23:29:00 GMT")],
    )
    assert "\r" not in response.reason and "\n" not in response.reason
    assert "\x1b" not in response.reason
    assert response.to_bytes().split(b"\r\n", 1)[0].startswith(b"SIP/2.0 400 Bad Request (")
    assert [name for name, _ in response.headers.items][-2:] == ["Server", "Date"]
    with pytest.raises(ValueError):
        build_response(request(), 99)
