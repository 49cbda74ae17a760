"""RFC 3261 §7.3: header field names, compact forms, folding, rows and lists."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from sipfsm import strategies as sip
from sipfsm.errors import LocalProtocolError, ParseError
from sipfsm.message import Headers, parse
from sipfsm.message.headers import COMPACT_FORMS, _KNOWN

from .conftest import crlf

REGISTER_HEAD = """REGISTER sip:example.com SIP/2.0
Via: SIP/2.0/UDP 192.0.2.10:5060;branch=z9hG4bKx
From: <sip:alice@example.com>;tag=1
To: <sip:alice@example.com>
Call-ID: a@b
CSeq: 1 REGISTER
"""


def message_with(*lines: str) -> bytes:
    return crlf(REGISTER_HEAD + "".join(line + "\n" for line in lines) + "\n")


# -- §7.3.1 names are case-insensitive ------------------------------------------------------------


@pytest.mark.requirement("RFC3261-7.3.1-HEADER-NAME-CASE")
@given(st.sampled_from(_KNOWN).flatmap(lambda n: st.tuples(st.just(n), sip.casings(n))))
def test_any_casing_of_a_known_name_finds_the_field(pair: tuple[str, str]) -> None:
    canonical, spelling = pair
    headers = Headers([(spelling, "value")])
    assert headers.get(canonical) == "value"
    assert headers.get(canonical.lower()) == "value"
    assert headers.get(canonical.upper()) == "value"
    assert list(headers) == [(canonical, "value")]  # stored in canonical form


@pytest.mark.requirement("RFC3261-7.3.1-HEADER-NAME-CASE")
@given(sip.tokens().flatmap(lambda n: st.tuples(sip.casings("X-" + n), sip.casings("X-" + n))))
def test_unknown_names_match_in_any_casing_and_keep_their_spelling(pair: tuple[str, str]) -> None:
    written, asked = pair
    headers = Headers([(written, "v")])
    assert headers.get(asked) == "v"
    assert asked in headers
    assert list(headers) == [(written, "v")]


@pytest.mark.requirement("RFC3261-7.3.1-HEADER-NAME-CASE")
@given(sip.casings("Max-Forwards"), sip.casings("Contact"), sip.casings("expires"))
def test_parsed_names_of_any_casing_are_the_same_field(mf: str, contact: str, exp: str) -> None:
    # §7.3.1: "Contact: <sip:alice@atlanta.com>;expires=3600" equals the CONTACT / ExPiReS form.
    message = parse(message_with(f"{mf}: 70", f"{contact}: <sip:alice@atlanta.com>;{exp}=3600"))
    assert message.max_forwards == 70
    assert message.contacts[0].expires == 3600
    assert message.headers.get("contact") == f"<sip:alice@atlanta.com>;{exp}=3600"


@pytest.mark.requirement("RFC3261-7.3.1-HEADER-NAME-CASE")
def test_a_field_name_that_is_not_a_token_is_a_parse_error() -> None:
    with pytest.raises(ParseError, match="not a token"):
        parse(message_with("Bad Name: x"))
    with pytest.raises(ParseError, match="colon"):
        parse(message_with(": no name"))
    with pytest.raises(LocalProtocolError):
        Headers([("Bad Name", "x")])


# -- §7.3.3 compact forms ---------------------------------------------------------------------


@pytest.mark.requirement("RFC3261-7.3.3-COMPACT-FORM")
@given(st.sampled_from(sorted(COMPACT_FORMS.items())), st.booleans())
def test_compact_and_long_forms_are_the_same_field(item: tuple[str, str], upper: bool) -> None:
    short, long = item
    short = short.upper() if upper else short
    headers = Headers([(short, "one"), (long, "two")])
    assert headers.get_lines(long) == ["one", "two"]
    assert headers.get_lines(short) == ["one", "two"]
    assert [name for name, _ in headers] == [long, long]


@pytest.mark.requirement("RFC3261-7.3.3-COMPACT-FORM")
def test_compact_form_request_reads_like_the_long_form() -> None:
    data = crlf(
        "REGISTER sip:registrar.example.com SIP/2.0\n"
        "v: SIP/2.0/UDP 192.0.2.4:5060;branch=z9hG4bKnashds7;rport\n"
        "f: Bob <sip:bob@example.com>;tag=456248\n"
        "t: Bob <sip:bob@example.com>\n"
        "i: 843817637684230@998sdasdh09\n"
        "CSeq: 1826 REGISTER\n"
        "m: <sip:bob@192.0.2.4>;expires=7200\n"
        "k: path, gruu\n"
        "l: 0\n\n"
    )
    message = parse(data)
    assert message.vias[0].branch == "z9hG4bKnashds7"
    assert message.from_.tag == "456248"
    assert message.to.display_name == "Bob"
    assert message.call_id == "843817637684230@998sdasdh09"
    assert message.contacts[0].expires == 7200
    assert message.supported == ["path", "gruu"]
    assert message.content_length == 0
    assert b"Via: SIP/2.0/UDP" in message.to_bytes()
    assert b"\r\nv:" not in message.to_bytes()


# -- §7.3.1 whitespace around the colon, folding ----------------------------------------------


@pytest.mark.requirement("RFC3261-7.3.1-HCOLON-WHITESPACE")
@pytest.mark.parametrize(
    "line",
    ["Subject:            lunch", "Subject      :      lunch", "Subject            :lunch",
     "Subject: lunch", "Subject:\tlunch\t"],
)  # fmt: skip
def test_whitespace_around_the_colon_is_not_part_of_the_field(line: str) -> None:
    message = parse(message_with(line))
    assert message.headers.get_lines("Subject") == ["lunch"]


@pytest.mark.requirement("RFC3261-7.3.1-LINE-FOLDING")
def test_folded_lines_are_one_field_joined_by_one_space() -> None:
    folded = parse(
        message_with(
            "Subject: I know you're there,",
            "         pick up the phone",
            "\t and talk to me!",
        )
    )
    single = parse(message_with("Subject: I know you're there, pick up the phone and talk to me!"))
    assert folded.headers.get("Subject") == single.headers.get("Subject")
    assert folded == single


@pytest.mark.requirement("RFC3261-7.3.1-LINE-FOLDING")
@given(
    st.lists(st.text(sip.TOKEN_ALPHABET, min_size=1, max_size=8), min_size=1, max_size=6),
    st.lists(st.sampled_from([" ", "\t", "  ", " \t "]), min_size=6, max_size=6),
)
def test_any_folding_of_a_value_reads_as_the_unfolded_value(
    words: list[str], indents: list[str]
) -> None:
    lines = [f"X-Note: {words[0]}"] + [indents[i] + w for i, w in enumerate(words[1:])]
    message = parse(message_with(*lines))
    assert message.headers.get("X-Note") == " ".join(words)


@pytest.mark.requirement("RFC3261-7.3.1-LINE-FOLDING")
def test_a_continuation_line_before_any_header_is_a_parse_error() -> None:
    with pytest.raises(ParseError, match="continuation"):
        parse(b"OPTIONS sip:a@b SIP/2.0\r\n folded\r\n\r\n")


# -- §7.3.1 several rows and comma lists ------------------------------------------------------


ROUTE_GROUPS = [
    ["Route: <sip:alice@atlanta.com>", "Subject: Lunch", "Route: <sip:bob@biloxi.com>",
     "Route: <sip:carol@chicago.com>"],
    ["Route: <sip:alice@atlanta.com>, <sip:bob@biloxi.com>", "Route: <sip:carol@chicago.com>",
     "Subject: Lunch"],
    ["Subject: Lunch", "Route: <sip:alice@atlanta.com>, <sip:bob@biloxi.com>,",
     "       <sip:carol@chicago.com>"],
]  # fmt: skip


@pytest.mark.requirement("RFC3261-7.3.1-MULTIPLE-ROWS")
@pytest.mark.parametrize("group", ROUTE_GROUPS)
def test_the_rfc_route_groups_are_equivalent(group: list[str]) -> None:
    # §7.3.1: "The following groups of header field rows are valid and equivalent".
    message = parse(message_with(*group))
    assert [str(r.uri) for r in message.routes] == [
        "sip:alice@atlanta.com",
        "sip:bob@biloxi.com",
        "sip:carol@chicago.com",
    ]


@pytest.mark.requirement("RFC3261-7.3.1-MULTIPLE-ROWS")
@given(st.lists(sip.contacts(), min_size=1, max_size=6), st.data())
def test_contacts_read_the_same_in_any_split_into_rows(contacts: list, data: st.DataObject) -> None:
    values = [str(c) for c in contacts]
    cuts = sorted(data.draw(st.sets(st.integers(1, len(values) - 1))) if len(values) > 1 else [])
    rows, start = [], 0
    for cut in [*cuts, len(values)]:
        rows.append(("Contact", ", ".join(values[start:cut])))
        start = cut
    headers = Headers(rows)
    assert headers.get_all("Contact") == values
    assert Headers([("Contact", ", ".join(values))]).get_all("m") == values


@pytest.mark.requirement("RFC3261-7.3.1-MULTIPLE-ROWS")
def test_non_list_headers_are_not_split_at_commas() -> None:
    headers = Headers([("Date", "Sat, 13 Nov 2010 23:29:00 GMT"), ("X-Unknown", "a, b")])
    assert headers.get_all("Date") == ["Sat, 13 Nov 2010 23:29:00 GMT"]
    assert headers.get_all("X-Unknown") == ["a, b"]


@pytest.mark.requirement("RFC3261-7.3.1-ROW-ORDER")
def test_the_rfc_non_equivalent_route_orders_differ() -> None:
    a = parse(message_with("Route: <sip:alice@atlanta.com>", "Route: <sip:bob@biloxi.com>"))
    b = parse(message_with("Route: <sip:bob@biloxi.com>", "Route: <sip:alice@atlanta.com>"))
    assert [str(r.uri) for r in a.routes] == ["sip:alice@atlanta.com", "sip:bob@biloxi.com"]
    assert [str(r.uri) for r in b.routes] == ["sip:bob@biloxi.com", "sip:alice@atlanta.com"]
    assert a != b


@pytest.mark.requirement("RFC3261-7.3.1-ROW-ORDER")
@given(st.lists(st.tuples(st.sampled_from(["Via", "X-A", "Route"]), sip.tokens()), max_size=8))
def test_rows_keep_their_order(rows: list[tuple[str, str]]) -> None:
    headers = Headers(rows)
    assert list(headers) == rows
    for name in ("Via", "X-A", "Route"):
        assert headers.get_lines(name) == [v for n, v in rows if n == name]


# -- §25.1 quoted strings ---------------------------------------------------------------------


@pytest.mark.requirement("RFC3261-25.1-QUOTED-STRING")
def test_commas_inside_quotes_and_angle_brackets_do_not_split() -> None:
    value = (
        '"Watson, Thomas" <sip:watson@example.com;a=1,2>;q=0.7, '
        '"Mr. \\"Quote\\", Esq." <sip:q@example.com>, <sip:plain@example.com>;x="a,b;c"'
    )
    elements = Headers([("Contact", value)]).get_all("Contact")
    assert elements == [
        '"Watson, Thomas" <sip:watson@example.com;a=1,2>;q=0.7',
        '"Mr. \\"Quote\\", Esq." <sip:q@example.com>',
        '<sip:plain@example.com>;x="a,b;c"',
    ]


@pytest.mark.requirement("RFC3261-25.1-QUOTED-STRING")
@given(sip.display_names())
def test_any_display_name_survives_quoting(name: str) -> None:
    message = parse(message_with(f"Contact: {_contact(name)}, <sip:second@example.com>"))
    assert message.contacts[0].display_name == name
    assert str(message.contacts[1].uri) == "sip:second@example.com"


def _contact(name: str) -> str:
    from sipfsm.message import Contact, parse_uri

    return str(Contact(parse_uri("sip:first@example.com"), name))


@pytest.mark.requirement("RFC3261-25.1-QUOTED-STRING")
def test_an_unterminated_quoted_string_is_a_parse_error() -> None:
    message = parse(message_with('Contact: "Mr. J. User <sip:j.user@example.com>'))
    with pytest.raises(ParseError, match="quoted"):
        _ = message.contacts


# -- §7.3.1 authentication headers are not combined -------------------------------------------


CHALLENGE_MD5 = 'Digest realm="example.com", nonce="a,b", algorithm=MD5, qop="auth,auth-int"'
CHALLENGE_SHA = 'Digest realm="example.com", nonce="x", algorithm=SHA-256, qop="auth"'


@pytest.mark.requirement("RFC3261-7.3.1-AUTH-NOT-COMBINED")
def test_each_challenge_row_is_one_element() -> None:
    headers = Headers([("WWW-Authenticate", CHALLENGE_SHA), ("WWW-Authenticate", CHALLENGE_MD5)])
    assert headers.get_all("WWW-Authenticate") == [CHALLENGE_SHA, CHALLENGE_MD5]
    assert headers.get_all("www-authenticate") == [CHALLENGE_SHA, CHALLENGE_MD5]


@pytest.mark.requirement("RFC3261-7.3.1-AUTH-NOT-COMBINED")
@pytest.mark.parametrize(
    "name", ["WWW-Authenticate", "Proxy-Authenticate", "Authorization", "Proxy-Authorization"]
)
def test_a_row_holding_two_challenges_splits_only_between_them(name: str) -> None:
    row = f"{CHALLENGE_SHA}, {CHALLENGE_MD5}, Basic realm=\"x\", Negotiate, Newauth abc=="
    assert Headers([(name, row)]).get_all(name) == [
        CHALLENGE_SHA,
        CHALLENGE_MD5,
        'Basic realm="x"',
        "Negotiate",
        "Newauth abc==",
    ]


@pytest.mark.requirement("RFC3261-7.3.1-AUTH-NOT-COMBINED")
def test_with_added_never_merges_rows() -> None:
    headers = Headers([("WWW-Authenticate", CHALLENGE_SHA)]).with_added(
        "WWW-Authenticate", CHALLENGE_MD5
    )
    assert headers.get_lines("WWW-Authenticate") == [CHALLENGE_SHA, CHALLENGE_MD5]
    assert b"WWW-Authenticate: " + CHALLENGE_SHA.encode() + b"\r\nWWW-Authenticate: " in (
        parse(message_with(*(f"{n}: {v}" for n, v in headers))).to_bytes()
    )


# -- §7.3.1 parameter names ---------------------------------------------------------------------


@pytest.mark.requirement("RFC3261-7.3.1-PARAM-ONCE")
def test_a_repeated_parameter_is_a_parse_error() -> None:
    message = parse(message_with("Contact: <sip:a@example.com>;expires=60;Expires=70"))
    with pytest.raises(ParseError, match="twice"):
        _ = message.contacts
    with pytest.raises(ParseError, match="twice"):
        _ = parse(message_with("Route: <sip:a@example.com;lr;lr>")).routes


@pytest.mark.requirement("RFC3261-7.3.1-VALUE-CASE")
@given(sip.casings("expires"), sip.casings("transport"))
def test_parameter_names_are_case_insensitive(expires: str, transport: str) -> None:
    message = parse(message_with(f"Contact: <sip:a@example.com;{transport}=TCP>;{expires}=60"))
    contact = message.contacts[0]
    assert contact.expires == 60
    assert contact.params.get(expires) == "60"
    assert contact.uri.params["transport"] == "TCP"  # type: ignore[union-attr]


@pytest.mark.requirement("RFC3261-7.3.1-VALUE-CASE")
def test_quoted_parameter_values_keep_their_case_and_quotes() -> None:
    contact = parse(message_with('Contact: <sip:a@b.example>;+sip.instance="<urn:uuid:AbC>"')).contacts[0]
    assert contact.params["+sip.instance"] == '"<urn:uuid:AbC>"'
    assert contact.params.unquoted("+SIP.INSTANCE") == "<urn:uuid:AbC>"


# -- building ---------------------------------------------------------------------------------


def test_builders_return_new_headers() -> None:
    base = Headers([("Via", "SIP/2.0/UDP a;branch=z9hG4bK1"), ("v", "SIP/2.0/UDP b"), ("X-A", "1")])
    assert base.with_prepended("Via", "SIP/2.0/UDP c").get_lines("v")[0] == "SIP/2.0/UDP c"
    assert list(base.with_replaced("VIA", "SIP/2.0/UDP d")) == [
        ("Via", "SIP/2.0/UDP d"),
        ("X-A", "1"),
    ]
    assert list(base.with_replaced("X-B", "2"))[-1] == ("X-B", "2")
    assert list(base.without("via")) == [("X-A", "1")]
    assert len(base) == 3 and "x-a" in base and "X-B" not in base
    with pytest.raises(LocalProtocolError):
        base.with_added("X-Evil", "a\r\nInjected: yes")
