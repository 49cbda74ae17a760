"""Conformance checks that hold the parser's short paths to the RFC (spec/message.toml).

The parser reads the usual shapes of a registration client's traffic the short way (one pass
over the rows, reads without a call, remembered splits of challenge rows, memos of Via and
address shapes, a short parameter reader).  Each property here states an RFC 3261 rule over
inputs built from their parts -- so the expected reading is known without asking any parser --
and feeds them in sequences, so that a value remembered from one message is put to the test
on the next.
"""

from __future__ import annotations

from hypothesis import example, given
from hypothesis import strategies as st

from sipfsm import strategies as sip
from sipfsm.conformance.message_support import RESPONSE_HEAD, crlf, parse_error, read_field
from sipfsm.conformance.registry import check, expect
from sipfsm.message import Response, parse, parse_contact, parse_via

# --------------------------------------------------------------------------------------------
# §7.3.1: only comma-list fields may have several rows
# --------------------------------------------------------------------------------------------

# Single-valued fields a client reads (§20), their compact form when they have one, a valid
# value, and the typed property reading them.
_SINGLE = [
    ("From", "f", "<sip:carol@example.com>;tag=9", "from_"),
    ("To", "t", "<sip:carol@example.com>;tag=8", "to"),
    ("Call-ID", "i", "other@example.com", "call_id"),
    ("CSeq", None, "7 REGISTER", "cseq"),
    ("Expires", None, "60", "expires"),
    ("Min-Expires", None, "60", "min_expires"),
    ("Max-Forwards", None, "69", "max_forwards"),
    ("Date", None, "Sat, 13 Nov 2010 23:29:00 GMT", "date"),
    ("Retry-After", None, "30", "retry_after"),
]
_HEAD_NAMES = {"From", "To", "Call-ID", "CSeq"}  # already in RESPONSE_HEAD once


@st.composite
def _second_rows(draw: st.DrawFn) -> tuple[bytes, str, str]:
    name, compact, value, prop = draw(st.sampled_from(_SINGLE))
    spellings = [name] if compact is None else [name, compact]
    rows = [] if name in _HEAD_NAMES else [f"{draw(st.sampled_from(spellings))}: {value}"]
    how = draw(st.sampled_from(["as written in §20", "compact", "any case"]))
    second = name if how != "compact" or compact is None else compact
    if how == "any case":
        second = draw(sip.casings(draw(st.sampled_from(spellings))))
    rows.append(f"{second}: {value}")
    others = ["Contact: <sip:carol@192.0.2.7>", "Contact: <sip:carol@192.0.2.8>",
              "Server: x", "X-Other: y"]  # fmt: skip
    extra = draw(st.lists(st.sampled_from(others), max_size=3))
    lines = RESPONSE_HEAD.splitlines()
    for row in [*extra, *rows]:
        lines.insert(draw(st.integers(1, len(lines))), row)
    return crlf("\n".join(lines) + "\n\n"), name, prop


@check("RFC3261-7.3.1-MULTIPLE-ROWS")
@given(_second_rows())
def a_single_valued_field_on_two_rows_is_a_parse_error(case: tuple[bytes, str, str]) -> None:
    """§7.3.1: several rows with one field-name only for comma-separated lists.  From, To,
    Call-ID, CSeq, Expires, Min-Expires, Max-Forwards, Date and Retry-After given on two rows
    (any spelling, compact form included, anywhere among other rows) are a ParseError when
    read -- never the first row's value."""
    data, name, prop = case
    error = parse_error(read_field, data, prop)
    assert name in error.message or name in str(error.where), (name, error)
    for name, _, value, prop in _SINGLE:  # each field, both rows spelled as in §20
        rows = "" if name in _HEAD_NAMES else f"{name}: {value}\n"
        data = crlf(RESPONSE_HEAD + rows + f"{name}: {value}\nContact: <sip:c@192.0.2.7>\n\n")
        parse_error(read_field, data, prop)


# --------------------------------------------------------------------------------------------
# §7.3.1 / §20.44 / §25: every challenge row, whatever LWS the auth-params carry
# --------------------------------------------------------------------------------------------

_SWS = st.sampled_from(["", " ", "  ", "\t"])
_QUOTED_TEXT = st.text("abcdef0123456789,;=: ", min_size=1, max_size=12)


@st.composite
def _challenge(draw: st.DrawFn) -> str:
    """A Digest challenge (§25 challenge = "Digest" LWS digest-cln *(COMMA digest-cln)) with
    SWS around each EQUAL and COMMA; quoted values may hold commas, '=' and ';'."""
    params = [("realm", f'"{draw(_QUOTED_TEXT)}"'), ("nonce", f'"{draw(_QUOTED_TEXT)}"')]
    if draw(st.booleans()):
        params.append(("algorithm", draw(st.sampled_from(["MD5", "SHA-256", "SHA-512-256"]))))
    if draw(st.booleans()):
        params.append(("qop", draw(st.sampled_from(['"auth"', '"auth,auth-int"']))))
    if draw(st.booleans()):
        params.append(("stale", "TRUE"))
    parts = [f"{n}{draw(_SWS)}={draw(_SWS)}{v}" for n, v in params]
    glue = [f"{draw(_SWS)},{draw(_SWS)}" for _ in parts[1:]]
    body = parts[0] + "".join(g + p for g, p in zip(glue, parts[1:], strict=True))
    return f"Digest {body}"


def _unauthorized(name: str, rows: list[str]) -> bytes:
    head = RESPONSE_HEAD.replace("200 OK", "401 Unauthorized" if name[0] == "W" else
                                 "407 Proxy Authentication Required")  # fmt: skip
    return crlf(head + "".join(f"{name}: {row}\n" for row in rows) + "\n")


@check("RFC3261-7.3.1-AUTH-NOT-COMBINED", "RFC3261-20.44-AUTH-HEADERS-RAW")
@given(st.sampled_from(["WWW-Authenticate", "Proxy-Authenticate"]),
       st.lists(_challenge(), min_size=1, max_size=3), st.booleans())
def every_challenge_row_is_read_after_a_message_with_its_first(
    name: str, challenges: list[str], one_row: bool
) -> None:
    """A 401/407 gives every challenge, raw and in order, whatever SWS surrounds the EQUALs and
    COMMAs of its auth-params (§25), whether the challenges come one per row or in one row --
    also right after a message holding only the first row (whose reading is remembered)."""
    rid = "RFC3261-7.3.1-AUTH-NOT-COMBINED"
    attribute = "www_authenticate" if name[0] == "W" else "proxy_authenticate"
    first = getattr(parse(_unauthorized(name, challenges[:1])), attribute)
    expect(rid, first == challenges[:1],
           f"one {name} row {challenges[0]!r} read as {first}")
    rows = [", ".join(challenges)] if one_row else challenges
    message = parse(_unauthorized(name, rows))
    got = getattr(message, attribute)
    expect(rid, got == challenges, f"{name} rows {rows!r} read as {got}")
    assert isinstance(message, Response)
    expect("RFC3261-20.44-AUTH-HEADERS-RAW", message.headers.get_lines(name) == rows,
           f"the raw rows {message.headers.get_lines(name)} are not {rows}")


# --------------------------------------------------------------------------------------------
# §20.42 / RFC 3581: each Via read with its own parameters
# --------------------------------------------------------------------------------------------

_BRANCH = sip.tokens(1, 10).map(lambda t: "z9hG4bK" + t)


@st.composite
def _via_texts(draw: st.DrawFn) -> list[tuple[str, dict[str, str | None]]]:
    """Vias of one sent-by (a client's requests and their responses) differing in the branch
    and in received / rport (RFC 3581) placed before or after the branch."""
    # transport is a token: case-insensitive (§7.3.1), read upper-case
    transport = draw(st.sampled_from(["UDP", "TCP", "TLS"]).flatmap(sip.casings))
    host = draw(st.one_of(sip.hostnames(), sip.ipv4_addresses()))
    port = draw(st.one_of(st.none(), st.integers(1, 65535)))
    sent_by = f"SIP/2.0/{transport} {host}" + ("" if port is None else f":{port}")
    out = []
    for _ in range(draw(st.integers(2, 5))):
        params: list[tuple[str, str | None]] = [("branch", draw(_BRANCH))]
        if draw(st.booleans()):
            params.append(("received", draw(sip.ipv4_addresses())))
        rport = draw(st.sampled_from(["absent", "flag", "value"]))
        if rport != "absent":
            params.append(("rport", None if rport == "flag" else str(draw(st.integers(1, 65535)))))
        params = draw(st.permutations(params))
        text = sent_by + "".join(f";{n}" if v is None else f";{n}={v}" for n, v in params)
        out.append((text, {"transport": transport.upper(), **dict(params)}))
    return out


@check("RFC3261-20.42-VIA-SYNTAX")
@given(_via_texts())
@example([("SIP/2.0/UDP 192.0.2.1:5060;branch=z9hG4bKa;received=198.51.100.1;rport=1024",
           {"transport": "UDP", "branch": "z9hG4bKa", "received": "198.51.100.1",
            "rport": "1024"}),
          ("SIP/2.0/UDP 192.0.2.1:5060;branch=z9hG4bKb;rport=2048",
           {"transport": "UDP", "branch": "z9hG4bKb", "rport": "2048"}),
          ("SIP/2.0/udp 192.0.2.1:5060;branch=z9hG4bKc",
           {"transport": "UDP", "branch": "z9hG4bKc"})])
def each_via_reads_its_own_parameters(vias: list[tuple[str, dict[str, str | None]]]) -> None:
    """Vias of one sent-by read in sequence each give their own transport (a token: any case
    reads upper-case), branch, received and rport
    (§18.2.2 / RFC 3581 §4 read them from the response's Via) -- nothing carried over from the
    Via read before, and the same again when read a second time."""
    for _ in range(2):
        for text, params in vias:
            via = parse_via(text)
            expected = dict(params)
            transport = str(expected.pop("transport"))
            assert via.transport == transport, (text, via.transport)
            assert dict(via.params) == expected, (text, dict(via.params))
            assert via.branch == params["branch"]
            assert via.received == params.get("received")
            assert via.has_rport == ("rport" in params)
            rport = params.get("rport")
            assert via.rport == (None if rport is None else int(rport))
            assert str(via) == text.replace(text[8:8 + len(transport)], transport, 1)


# --------------------------------------------------------------------------------------------
# §25 quoted-string: a ';' inside quotes does not end the parameter
# --------------------------------------------------------------------------------------------


@check("RFC3261-25.1-QUOTED-STRING")
@given(st.text("abc;=,:<>@ ", min_size=0, max_size=12), sip.tokens(1, 6), sip.tokens(1, 6))
@example(";x=y", "expires", "60")
def semicolons_inside_a_quoted_parameter_value_are_text(
    quoted: str, name: str, value: str
) -> None:
    """§25: a gen-value quoted-string holds ';', '=' and ',' as text.  A Contact
    ``<sip:...>;name="...;...";tag-like=...`` reads the quoted value whole (quotes kept) and
    the parameter after it as its own."""
    name = name.lower()
    if name == "p":
        name = "pp"
    text = f'<sip:carol@192.0.2.7>;p="{quoted}";{name}={value}'
    contact = parse_contact(text)
    assert dict(contact.params) == {"p": f'"{quoted}"', name: value}, (text, contact.params)
    assert contact.params.unquoted("p") == quoted


# --------------------------------------------------------------------------------------------
# §20.8 / §25: Call-ID
# --------------------------------------------------------------------------------------------


def _with_call_id(row: str) -> bytes:
    head = RESPONSE_HEAD.replace("Call-ID: a@b\n", "")
    assert head != RESPONSE_HEAD
    return crlf(head + row + "\n\n")


@check("RFC3261-20.8-CALL-ID-SYNTAX")
@given(sip.call_ids(), st.sampled_from(["Call-ID", "i", "call-id", "I", "CALL-ID"]), _SWS, _SWS)
def a_call_id_reads_as_written(call_id: str, name: str, before: str, after: str) -> None:
    """callid = word ["@" word], case-sensitive and compared byte-by-byte (§20.8): read exactly
    as written, long or compact name, whatever SWS surrounds it."""
    message = parse(_with_call_id(f"{name}:{before}{call_id}{after}"))
    assert message.call_id == call_id, (message.call_id, call_id)


@check("RFC3261-20.8-CALL-ID-SYNTAX")
@given(sip.call_ids(), sip.call_ids(), st.sampled_from([" ", "\t", "  ", " \t "]))
def a_call_id_with_whitespace_inside_is_a_parse_error(left: str, right: str, gap: str) -> None:
    """LWS is no word character (§25): a Call-ID with whitespace inside is malformed, and so is
    an empty one -- a ParseError when read, never a Call-ID that matches another."""
    parse_error(read_field, _with_call_id(f"Call-ID: {left}{gap}{right}"), "call_id")
    parse_error(read_field, _with_call_id("Call-ID: "), "call_id")
