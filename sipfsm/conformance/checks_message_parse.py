"""Conformance checks for parsing and serialising whole messages (sipfsm.message.parse and
``to_bytes``): RFC 3261 §7, §7.1, §7.2 start lines, the character set and line ends, the
mandatory header fields of §8.1.1 / §20, the messages a registration client meets, and the
round trip ``parse(m.to_bytes()) == m`` (spec/message.toml).

Fixed tables of malformed start lines and header sections are walked in loops; the round-trip and
serialising rules are hypothesis properties over :func:`sipfsm.strategies.messages`.
"""

from __future__ import annotations

from datetime import UTC, datetime

from hypothesis import given

from sipfsm import strategies as sip
from sipfsm.conformance.message_support import (
    OK_THREE_CONTACTS,
    REGISTER,
    REQUEST_HEADERS,
    UNAUTHORIZED,
    case,
    crlf,
    parse_error,
    read_everything,
    with_start,
)
from sipfsm.conformance.registry import check, expect
from sipfsm.message import Request, Response, SipUri, parse

# --------------------------------------------------------------------------------------------
# §7.1 / §7.2 start lines
# --------------------------------------------------------------------------------------------


@check("RFC3261-7.1-REQUEST-LINE")
def a_request_line_is_method_uri_version() -> None:
    """A Request-Line gives the method and the Request-URI with its parameters."""
    message = parse(with_start("REGISTER sip:example.com;transport=tcp SIP/2.0"))
    assert isinstance(message, Request)
    assert message.method == "REGISTER"
    assert message.uri == SipUri("sip", "example.com", params={"transport": "tcp"})  # type: ignore[arg-type]


MALFORMED_REQUEST_LINES = [
    "INVITE <sip:user@example.com> SIP/2.0",            # RFC 4475 ltgtruri
    "INVITE sip:user@example.com; lr SIP/2.0",          # lwsruri
    "INVITE  sip:user@example.com  SIP/2.0",            # lwsstart
    "OPTIONS sip:remote-target@example.com SIP/2.0  ",  # trws
    "INVITE sip:user@example.com", "INVITE", "", "REG@STER sip:example.com SIP/2.0",
    "REGISTER sip:exa mple.com SIP/2.0", "REGISTER example.com SIP/2.0",
]  # fmt: skip


@check("RFC3261-7.1-REQUEST-LINE")
def malformed_request_lines_are_parse_errors() -> None:
    """A Request-URI in <>, extra or trailing spaces, missing parts, a method that is not a
    token or a Request-URI that is not a URI: ParseError naming the start line or Request-URI."""
    for line in MALFORMED_REQUEST_LINES:
        with case(line):
            error = parse_error(parse, with_start(line))
            assert error.where in ("start line", "Request-URI"), error.where


@check("RFC3261-7.1-SIP-VERSION")
@given(sip.casings("SIP/2.0"))
def the_version_is_case_insensitive_and_sent_upper_case(version: str) -> None:
    """Any casing of SIP/2.0 is accepted in a request and a response; SIP/2.0 is sent."""
    request = parse(with_start(f"OPTIONS sip:example.com {version}"))
    response = parse(with_start(f"{version} 200 OK"))
    assert request.to_bytes().startswith(b"OPTIONS sip:example.com SIP/2.0\r\n")
    assert response.to_bytes().startswith(b"SIP/2.0 200 OK\r\n")


@check("RFC3261-7.1-SIP-VERSION")
def other_versions_are_parse_errors() -> None:
    """Another version (RFC 4475 badvers) is a ParseError naming the version."""
    for line in ["OPTIONS sip:t.watson@example.org SIP/7.0", "SIP/1.0 200 OK", "sip/3.0 200 OK",
                 "OPTIONS sip:example.com SIP/2.00"]:  # fmt: skip
        with case(line):
            parse_error(parse, with_start(line), match="version")


STATUS_LINES = [
    ("SIP/2.0 200 OK", 200, "OK"), ("SIP/2.0 100 ", 100, ""), ("SIP/2.0 100", 100, ""),
    ("SIP/2.0 699 Whatever  it says ", 699, "Whatever  it says "),
    ("SIP/2.0 200 = 2**3 * 5**2 но сто девяносто девять - простое", 200,
     "= 2**3 * 5**2 но сто девяносто девять - простое"),
]  # fmt: skip


@check("RFC3261-7.2-STATUS-LINE")
def status_lines_give_the_code_and_the_reason() -> None:
    """A Status-Line gives the three-digit code and the reason phrase as written, possibly empty
    (RFC 4475 noreason) or UTF-8 (unreason)."""
    for line, status, reason in STATUS_LINES:
        with case(line):
            message = parse(with_start(line))
            assert isinstance(message, Response)
            assert (message.status, message.reason) == (status, reason)


@check("RFC3261-7.2-STATUS-LINE")
def malformed_status_codes_are_parse_errors() -> None:
    """A code that is not three ASCII digits from 100 to 699 (RFC 4475 bigcode) is a
    ParseError naming the status code."""
    for line in ["SIP/2.0 4294967301 better not break the receiver", "SIP/2.0 099 Low",
                 "SIP/2.0 700 High", "SIP/2.0 20 Short", "SIP/2.0 2OO OK", "SIP/2.0  200 OK",
                 "SIP/2.0 \u0662\u0660\u0660 OK"]:  # fmt: skip
        with case(line):
            parse_error(parse, with_start(line), match="status code")


# --------------------------------------------------------------------------------------------
# §7 character set and line ends
# --------------------------------------------------------------------------------------------


@check("RFC3261-7-UTF8")
def a_header_section_that_is_not_utf8_is_a_parse_error() -> None:
    """Invalid UTF-8 in the header section is a ParseError giving the byte offset."""
    data = with_start("SIP/2.0 200 OK").replace(b"Call-ID: a@b", b"Call-ID: a\xff@b")
    error = parse_error(parse, data, match="UTF-8")
    assert error.offset == data.index(b"\xff")


@check("RFC3261-7-UTF8")
def utf8_text_and_binary_bodies() -> None:
    """UTF-8 header values are read as text; the body is bytes, any bytes; both survive
    serialising."""
    data = (crlf("SIP/2.0 200 OK\n" + REQUEST_HEADERS + "Subject: 大停電\nl: 4\n\n")
            + b"\x00\xffab")  # fmt: skip
    message = parse(data)
    assert message.headers.get("Subject") == "大停電"
    assert message.body == b"\x00\xffab"
    assert parse(message.to_bytes()) == message


@check("RFC3261-7.1-CRLF-LINES")
def lines_must_end_with_crlf() -> None:
    """A bare LF or CR in the header section, or a header section without the empty line, is a
    ParseError."""
    for data in [b"OPTIONS sip:a@b.example SIP/2.0\nVia: x\n\n",
                 b"SIP/2.0 200 OK\r\nVia: SIP/2.0/UDP h\rX: y\r\n\r\n",
                 b"SIP/2.0 200 OK\r\nVia: SIP/2.0/UDP h\nX: y\r\n\r\n",
                 b"SIP/2.0 200 OK\r\nVia: SIP/2.0/UDP h\r\n"]:  # fmt: skip
        with case(data):
            parse_error(parse, data, match="CR")


@check("RFC3261-7.1-CRLF-LINES")
@given(sip.messages())
def serialised_lines_end_with_crlf_and_an_empty_line(message: Request | Response) -> None:
    """to_bytes() ends every line with CRLF and the header section with the empty line."""
    data = message.to_bytes()
    head, sep, body = data.partition(b"\r\n\r\n")
    assert sep and body == message.body
    text = head.decode("utf-8")
    assert text.count("\r") == text.count("\n") == text.count("\r\n")


@check("RFC3261-7.3.1-PREFERRED-FORM")
@given(sip.messages())
def rows_are_written_name_colon_space_value(message: Request | Response) -> None:
    """to_bytes() writes every row as 'Name: value', and one Content-Length."""
    head = message.to_bytes().partition(b"\r\n\r\n")[0].decode("utf-8")
    rows = [tuple(row.split(": ", 1)) for row in head.split("\r\n")[1:]]
    expected = [row for row in message.headers if row[0] != "Content-Length"]
    assert [row for row in rows if row[0] != "Content-Length"] == expected
    assert rows.count(("Content-Length", str(len(message.body)))) == 1


# --------------------------------------------------------------------------------------------
# §8.1.1 / §20 mandatory header fields
# --------------------------------------------------------------------------------------------

MANDATORY = ["Via", "From", "To", "Call-ID", "CSeq"]


def _without(missing: str) -> str:
    lines = REQUEST_HEADERS.splitlines()
    return "\n".join(line for line in lines if not line.startswith(missing + ":")) + "\n\n"


@check("RFC3261-8.1.1-PARSE-MANDATORY-HEADERS")
def a_request_without_a_mandatory_field_is_a_parse_error() -> None:
    """A request without Via, From, To, Call-ID or CSeq is a ParseError naming the field."""
    for missing in MANDATORY:
        with case(missing):
            data = crlf("OPTIONS sip:example.com SIP/2.0\n" + _without(missing))
            error = parse_error(parse, data, match=missing)
            assert error.spec_id == "RFC3261-8.1.1-PARSE-MANDATORY-HEADERS"


@check("RFC3261-8.1.1-PARSE-MANDATORY-HEADERS")
def insuf_names_every_missing_field_and_max_forwards_is_optional() -> None:
    """RFC 4475 insuf (no Call-ID, From or To) names every missing field; a request without
    Max-Forwards (RFC 4475 inv2543) parses."""
    insuf = crlf(
        "INVITE sip:user@example.com SIP/2.0\nCSeq: 193942 INVITE\n"
        "Via: SIP/2.0/UDP 192.0.2.95;branch=z9hG4bKkdj.insuf\nContent-Type: application/sdp\n"
        "l: 0\n\n"
    )
    parse_error(parse, insuf, match="To, From, Call-ID")
    without_max_forwards = crlf(
        "OPTIONS sip:example.com SIP/2.0\n"
        + REQUEST_HEADERS.replace("Max-Forwards: 70\n", "") + "\n"
    )
    assert parse(without_max_forwards).max_forwards is None


@check("RFC3261-20-RESPONSE-MANDATORY-HEADERS")
def a_response_without_a_mandatory_field_is_a_parse_error() -> None:
    """A response without Via, From, To, Call-ID or CSeq is a ParseError naming the field."""
    for missing in MANDATORY:
        with case(missing):
            data = crlf("SIP/2.0 200 OK\n" + _without(missing))
            error = parse_error(parse, data, match=missing)
            assert error.spec_id == "RFC3261-20-RESPONSE-MANDATORY-HEADERS"


@check("RFC3261-20-RESPONSE-MANDATORY-HEADERS")
@given(sip.casings("v"), sip.casings("f"), sip.casings("t"), sip.casings("i"), sip.casings("CSeq"))
def compact_forms_satisfy_the_mandatory_fields(v: str, f: str, t: str, i: str, c: str) -> None:
    """The mandatory fields may be written in compact form, in any casing."""
    data = crlf(
        f"SIP/2.0 200 OK\n{v}: SIP/2.0/UDP h;branch=z9hG4bK1\n{f}: <sip:a@b.example>;tag=1\n"
        f"{t}: <sip:a@b.example>\n{i}: x\n{c}: 1 REGISTER\n\n"
    )
    assert parse(data).cseq.number == 1


# --------------------------------------------------------------------------------------------
# What a registration client meets
# --------------------------------------------------------------------------------------------


@check("RFC3261-20.42-VIA-SYNTAX", "RFC3261-20.10-CONTACT-SYNTAX")
def a_register_reads_back() -> None:
    """A REGISTER's Via (sent-by, a valueless rport), Expires and Supported read back, and it
    serialises to the same bytes."""
    message = parse(REGISTER)
    assert isinstance(message, Request)  # the parse itself: evidence against both records
    read_everything(message)
    via = "RFC3261-20.42-VIA-SYNTAX"
    expect(via, message.vias[0].sent_by == ("bobspc.biloxi.com", 5060), message.vias[0])
    expect(via, message.vias[0].has_rport and message.vias[0].rport is None, message.vias[0])
    contact = "RFC3261-20.10-CONTACT-SYNTAX"
    expect(contact, [str(c.uri) for c in message.contacts] and message.expires == 7200,
           f"Contact {message.headers.get_all('Contact')}, Expires {message.expires}")
    for rid in (via, contact):
        expect(rid, message.supported == ["path", "outbound"]
               and parse(message.to_bytes()) == message and message.to_bytes() == REGISTER,
               "the REGISTER does not read back or serialise to the same bytes")


@check("RFC3261-20.44-AUTH-HEADERS-RAW", "RFC3261-7.3.1-AUTH-NOT-COMBINED")
def a_401_with_two_challenges() -> None:
    """A 401 with two WWW-Authenticate rows gives two raw challenges, in order; received, rport
    and the To tag read back."""
    message = parse(UNAUTHORIZED)
    assert isinstance(message, Response) and message.status == 401  # evidence against both
    read_everything(message)
    challenges = message.www_authenticate
    expect("RFC3261-7.3.1-AUTH-NOT-COMBINED", len(challenges) == 2
           and "algorithm=SHA-256" in challenges[0] and "algorithm=MD5" in challenges[1],
           f"two WWW-Authenticate rows read as {challenges}")
    expect("RFC3261-20.44-AUTH-HEADERS-RAW", challenges and challenges[0].startswith(
        'Digest realm="biloxi.com", nonce="ea9c8e88df84f1cec4341ae6cbe5a359"'),
        f"the first challenge is not kept raw: {challenges[:1]}")
    via = message.vias[0]
    for rid in ("RFC3261-20.44-AUTH-HEADERS-RAW", "RFC3261-7.3.1-AUTH-NOT-COMBINED"):
        expect(rid, (via.received, via.rport) == ("192.0.2.4", 5060)
               and message.to.tag == "2493k59kd", f"Via {via}, To tag {message.to.tag}")


@check("RFC3261-20.10-CONTACT-SYNTAX", "RFC3261-20.17-DATE-FORMAT")
def a_200_with_three_contacts() -> None:
    """A registrar's 200 listing three bindings on two Contact rows: URIs, expires, q, a quoted
    +sip.instance, a display name, and the Date."""
    message = parse(OK_THREE_CONTACTS)
    read_everything(message)
    contacts = message.contacts
    rid = "RFC3261-20.10-CONTACT-SYNTAX"
    expect(rid, [str(c.uri) for c in contacts] == [
        "sip:bob@192.0.2.4",
        "sip:bob@198.51.100.7:5062;transport=tcp",
        "sip:bob@[2001:db8::7]:5060;ob",
    ], f"Contacts {[str(c.uri) for c in contacts]}")
    expect(rid, [c.expires for c in contacts] == [3598, 120, 3600]
           and [c.q for c in contacts] == [None, 0.5, None],
           f"expires {[c.expires for c in contacts]}, q {[c.q for c in contacts]}")
    instance = contacts[0].params.unquoted("+sip.instance") if contacts else None
    expect(rid, instance == "<urn:uuid:00000000-0000-1000-8000-000A95A0E128>", instance)
    expect(rid, len(contacts) == 3 and contacts[2].display_name == "Bob's desk",
           [c.display_name for c in contacts])
    expect("RFC3261-20.17-DATE-FORMAT", message.date == datetime(2010, 11, 13, 23, 29,
                                                                 tzinfo=UTC), message.date)


@check("RFC3261-7.3.1-MULTIPLE-ROWS")
def the_samples_round_trip_byte_for_byte() -> None:
    """Messages with several rows of one header and comma lists serialise to the same bytes:
    rows are kept as received."""
    for data in (REGISTER, UNAUTHORIZED, OK_THREE_CONTACTS):
        with case(data[:20]):
            assert parse(data).to_bytes() == data


# --------------------------------------------------------------------------------------------
# The round trip
# --------------------------------------------------------------------------------------------


@check("RFC3261-20.14-CONTENT-LENGTH-SERIALISE", "RFC3261-7.3.1-ROW-ORDER")
@given(sip.messages())
def parse_of_to_bytes_is_the_message(message: Request | Response) -> None:
    """parse(m.to_bytes()) == m, with the same hash and the same bytes again: rows in order,
    Content-Length from the body."""
    parsed = parse(message.to_bytes())
    expect("RFC3261-7.3.1-ROW-ORDER", parsed == message and hash(parsed) == hash(message),
           "parse(m.to_bytes()) is not m")
    for rid in ("RFC3261-20.14-CONTENT-LENGTH-SERIALISE", "RFC3261-7.3.1-ROW-ORDER"):
        expect(rid, parsed.to_bytes() == message.to_bytes(),
               "serialising the parsed message gives other bytes")


@check("RFC3261-20.42-VIA-SYNTAX", "RFC3261-20.10-CONTACT-SYNTAX", "RFC3261-20.20-FROM-TO-SYNTAX")
@given(sip.messages())
def typed_values_survive_the_round_trip(message: Request | Response) -> None:
    """Via, From, To, Contact and Expires read the same after serialising (Call-ID and CSeq:
    their own records' checks)."""
    parsed = parse(message.to_bytes())
    read_everything(parsed)
    expect("RFC3261-20.42-VIA-SYNTAX", parsed.vias == message.vias, f"Vias {parsed.vias}")
    expect("RFC3261-20.20-FROM-TO-SYNTAX", (parsed.from_, parsed.to) == (message.from_,
                                                                          message.to),
           f"From {parsed.from_}, To {parsed.to}")
    expect("RFC3261-20.10-CONTACT-SYNTAX", parsed.contacts == message.contacts
           and parsed.expires == message.expires, f"Contacts {parsed.contacts}")

