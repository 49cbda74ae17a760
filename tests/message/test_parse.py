"""RFC 3261 §7: start lines, mandatory header fields, character set, and real messages."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from sipfsm import strategies as sip
from sipfsm.errors import ParseError
from sipfsm.message import Request, Response, SipUri, parse

from . import samples
from .conftest import crlf, read_everything

HEADERS = """Via: SIP/2.0/UDP 192.0.2.10:5060;branch=z9hG4bKx
From: <sip:alice@example.com>;tag=1
To: <sip:alice@example.com>
Call-ID: a@b
CSeq: 1 REGISTER
Max-Forwards: 70
"""


def with_start(start_line: str) -> bytes:
    return crlf(start_line + "\n" + HEADERS + "\n")


# -- §7.1 / §7.2 start lines ------------------------------------------------------------------


@pytest.mark.requirement("RFC3261-7.1-REQUEST-LINE")
def test_a_request_line() -> None:
    message = parse(with_start("REGISTER sip:example.com;transport=tcp SIP/2.0"))
    assert isinstance(message, Request)
    assert message.method == "REGISTER"
    assert message.uri == SipUri("sip", "example.com", params={"transport": "tcp"})  # type: ignore[arg-type]


@pytest.mark.requirement("RFC3261-7.1-REQUEST-LINE")
@pytest.mark.parametrize(
    "line",
    ["INVITE <sip:user@example.com> SIP/2.0",          # ltgtruri
     "INVITE sip:user@example.com; lr SIP/2.0",        # lwsruri
     "INVITE  sip:user@example.com  SIP/2.0",          # lwsstart
     "OPTIONS sip:remote-target@example.com SIP/2.0  ",  # trws
     "INVITE sip:user@example.com", "INVITE", "", "REG@STER sip:example.com SIP/2.0",
     "REGISTER sip:exa mple.com SIP/2.0", "REGISTER example.com SIP/2.0"],
)  # fmt: skip
def test_malformed_request_lines_are_parse_errors(line: str) -> None:
    with pytest.raises(ParseError) as info:
        parse(with_start(line))
    assert info.value.where in ("start line", "Request-URI")


@pytest.mark.requirement("RFC3261-7.1-SIP-VERSION")
@given(sip.casings("SIP/2.0"))
def test_the_version_is_case_insensitive_and_sent_upper_case(version: str) -> None:
    request = parse(with_start(f"OPTIONS sip:example.com {version}"))
    response = parse(with_start(f"{version} 200 OK"))
    assert request.to_bytes().startswith(b"OPTIONS sip:example.com SIP/2.0\r\n")
    assert response.to_bytes().startswith(b"SIP/2.0 200 OK\r\n")


@pytest.mark.requirement("RFC3261-7.1-SIP-VERSION")
@pytest.mark.parametrize(
    "line", ["OPTIONS sip:t.watson@example.org SIP/7.0", "SIP/1.0 200 OK", "sip/3.0 200 OK",
             "OPTIONS sip:example.com SIP/2.00"],
)  # fmt: skip
def test_other_versions_are_parse_errors(line: str) -> None:
    with pytest.raises(ParseError, match="version"):
        parse(with_start(line))


@pytest.mark.requirement("RFC3261-7.2-STATUS-LINE")
@pytest.mark.parametrize(
    ("line", "status", "reason"),
    [("SIP/2.0 200 OK", 200, "OK"), ("SIP/2.0 100 ", 100, ""), ("SIP/2.0 100", 100, ""),
     ("SIP/2.0 699 Whatever  it says ", 699, "Whatever  it says "),
     ("SIP/2.0 200 = 2**3 * 5**2 но сто девяносто девять - простое", 200,
      "= 2**3 * 5**2 но сто девяносто девять - простое")],
)  # fmt: skip
def test_status_lines(line: str, status: int, reason: str) -> None:
    message = parse(with_start(line))
    assert isinstance(message, Response)
    assert (message.status, message.reason) == (status, reason)


@pytest.mark.requirement("RFC3261-7.2-STATUS-LINE")
@pytest.mark.parametrize(
    "line", ["SIP/2.0 4294967301 better not break the receiver", "SIP/2.0 099 Low",
             "SIP/2.0 700 High", "SIP/2.0 20 Short", "SIP/2.0 2OO OK", "SIP/2.0  200 OK",
             "SIP/2.0 \u0662\u0660\u0660 OK"],
)  # fmt: skip
def test_malformed_status_codes_are_parse_errors(line: str) -> None:
    with pytest.raises(ParseError, match="status code"):
        parse(with_start(line))


# -- §7 character set and line ends -----------------------------------------------------------


@pytest.mark.requirement("RFC3261-7-UTF8")
def test_a_header_section_that_is_not_utf8_is_a_parse_error() -> None:
    data = with_start("SIP/2.0 200 OK").replace(b"Call-ID: a@b", b"Call-ID: a\xff@b")
    with pytest.raises(ParseError, match="UTF-8") as info:
        parse(data)
    assert info.value.offset == data.index(b"\xff")


@pytest.mark.requirement("RFC3261-7-UTF8")
def test_utf8_text_and_binary_bodies() -> None:
    data = crlf("SIP/2.0 200 OK\n" + HEADERS + "Subject: 大停電\nl: 4\n\n") + b"\x00\xffab"
    message = parse(data)
    assert message.headers.get("Subject") == "大停電"
    assert message.body == b"\x00\xffab"
    assert parse(message.to_bytes()) == message


@pytest.mark.requirement("RFC3261-7.1-CRLF-LINES")
@pytest.mark.parametrize(
    "data",
    [b"OPTIONS sip:a@b.example SIP/2.0\nVia: x\n\n",
     b"SIP/2.0 200 OK\r\nVia: SIP/2.0/UDP h\rX: y\r\n\r\n",
     b"SIP/2.0 200 OK\r\nVia: SIP/2.0/UDP h\nX: y\r\n\r\n",
     b"SIP/2.0 200 OK\r\nVia: SIP/2.0/UDP h\r\n"],
)  # fmt: skip
def test_lines_must_end_with_crlf(data: bytes) -> None:
    with pytest.raises(ParseError, match="CR"):
        parse(data)


@pytest.mark.requirement("RFC3261-7.1-CRLF-LINES")
@given(sip.messages())
def test_serialised_lines_end_with_crlf_and_an_empty_line(message: Request | Response) -> None:
    data = message.to_bytes()
    head, sep, body = data.partition(b"\r\n\r\n")
    assert sep and body == message.body
    text = head.decode("utf-8")
    assert text.count("\r") == text.count("\n") == text.count("\r\n")


@pytest.mark.requirement("RFC3261-7.3.1-PREFERRED-FORM")
@given(sip.messages())
def test_rows_are_written_name_colon_space_value(message: Request | Response) -> None:
    head = message.to_bytes().partition(b"\r\n\r\n")[0].decode("utf-8")
    rows = [tuple(row.split(": ", 1)) for row in head.split("\r\n")[1:]]
    expected = [row for row in message.headers if row[0] != "Content-Length"]
    assert [row for row in rows if row[0] != "Content-Length"] == expected
    assert rows.count(("Content-Length", str(len(message.body)))) == 1


# -- §8.1.1 / §20 mandatory header fields ------------------------------------------------------


@pytest.mark.requirement("RFC3261-8.1.1-PARSE-MANDATORY-HEADERS")
@pytest.mark.parametrize("missing", ["Via", "From", "To", "Call-ID", "CSeq"])
def test_a_request_without_a_mandatory_field_is_a_parse_error(missing: str) -> None:
    lines = [line for line in HEADERS.splitlines() if not line.startswith(missing + ":")]
    data = crlf("OPTIONS sip:example.com SIP/2.0\n" + "\n".join(lines) + "\n\n")
    with pytest.raises(ParseError, match=missing) as info:
        parse(data)
    assert info.value.spec_id == "RFC3261-8.1.1-PARSE-MANDATORY-HEADERS"


@pytest.mark.requirement("RFC3261-8.1.1-PARSE-MANDATORY-HEADERS")
def test_insuf_names_every_missing_field_and_max_forwards_is_optional() -> None:
    # RFC 4475 insuf: Call-ID, From and To missing.
    insuf = crlf(
        "INVITE sip:user@example.com SIP/2.0\nCSeq: 193942 INVITE\n"
        "Via: SIP/2.0/UDP 192.0.2.95;branch=z9hG4bKkdj.insuf\nContent-Type: application/sdp\n"
        "l: 0\n\n"
    )
    with pytest.raises(ParseError, match="From, Call-ID|To, From, Call-ID"):
        parse(insuf)
    without_max_forwards = crlf(
        "OPTIONS sip:example.com SIP/2.0\n" + HEADERS.replace("Max-Forwards: 70\n", "") + "\n"
    )
    assert parse(without_max_forwards).max_forwards is None


@pytest.mark.requirement("RFC3261-20-RESPONSE-MANDATORY-HEADERS")
@pytest.mark.parametrize("missing", ["Via", "From", "To", "Call-ID", "CSeq"])
def test_a_response_without_a_mandatory_field_is_a_parse_error(missing: str) -> None:
    lines = [line for line in HEADERS.splitlines() if not line.startswith(missing + ":")]
    data = crlf("SIP/2.0 200 OK\n" + "\n".join(lines) + "\n\n")
    with pytest.raises(ParseError, match=missing) as info:
        parse(data)
    assert info.value.spec_id == "RFC3261-20-RESPONSE-MANDATORY-HEADERS"


@pytest.mark.requirement("RFC3261-20-RESPONSE-MANDATORY-HEADERS")
@given(sip.casings("v"), sip.casings("f"), sip.casings("t"), sip.casings("i"), sip.casings("CSeq"))
def test_compact_forms_satisfy_the_mandatory_fields(v: str, f: str, t: str, i: str, c: str) -> None:
    data = crlf(
        f"SIP/2.0 200 OK\n{v}: SIP/2.0/UDP h;branch=z9hG4bK1\n{f}: <sip:a@b.example>;tag=1\n"
        f"{t}: <sip:a@b.example>\n{i}: x\n{c}: 1 REGISTER\n\n"
    )
    assert parse(data).cseq.number == 1


# -- real messages ----------------------------------------------------------------------------


@pytest.mark.requirement("RFC3261-20.42-VIA-SYNTAX")
@pytest.mark.requirement("RFC3261-20.10-CONTACT-SYNTAX")
def test_a_register() -> None:
    message = parse(samples.REGISTER)
    assert isinstance(message, Request)
    read_everything(message)
    assert message.vias[0].sent_by == ("bobspc.biloxi.com", 5060)
    assert message.vias[0].has_rport and message.vias[0].rport is None
    assert message.expires == 7200
    assert message.supported == ["path", "outbound"]
    assert parse(message.to_bytes()) == message
    assert message.to_bytes() == samples.REGISTER


@pytest.mark.requirement("RFC3261-20.44-AUTH-HEADERS-RAW")
@pytest.mark.requirement("RFC3261-7.3.1-AUTH-NOT-COMBINED")
def test_a_401_with_two_challenges() -> None:
    message = parse(samples.UNAUTHORIZED)
    assert isinstance(message, Response) and message.status == 401
    read_everything(message)
    challenges = message.www_authenticate
    assert len(challenges) == 2
    assert "algorithm=SHA-256" in challenges[0] and "algorithm=MD5" in challenges[1]
    assert challenges[0].startswith('Digest realm="biloxi.com", nonce="ea9c8e88df84f1cec4341ae6cbe5a359"')
    via = message.vias[0]
    assert (via.received, via.rport) == ("192.0.2.4", 5060)
    assert message.to.tag == "2493k59kd"


@pytest.mark.requirement("RFC3261-20.10-CONTACT-SYNTAX")
@pytest.mark.requirement("RFC3261-20.17-DATE-FORMAT")
def test_a_200_with_three_contacts() -> None:
    message = parse(samples.OK_THREE_CONTACTS)
    read_everything(message)
    contacts = message.contacts
    assert [str(c.uri) for c in contacts] == [
        "sip:bob@192.0.2.4",
        "sip:bob@198.51.100.7:5062;transport=tcp",
        "sip:bob@[2001:db8::7]:5060;ob",
    ]
    assert [c.expires for c in contacts] == [3598, 120, 3600]
    assert [c.q for c in contacts] == [None, 0.5, None]
    assert contacts[0].params.unquoted("+sip.instance") == "<urn:uuid:00000000-0000-1000-8000-000A95A0E128>"
    assert contacts[2].display_name == "Bob's desk"
    assert message.date == datetime(2010, 11, 13, 23, 29, tzinfo=UTC)
    assert message.cseq.number == 1827


@pytest.mark.requirement("RFC3261-7.3.1-MULTIPLE-ROWS")
@given(st.sampled_from([samples.REGISTER, samples.UNAUTHORIZED, samples.OK_THREE_CONTACTS]))
def test_samples_round_trip_byte_for_byte(data: bytes) -> None:
    assert parse(data).to_bytes() == data
