"""Conformance checks for header fields (sipfsm.message.Headers and the parser's header section):
RFC 3261 §7.3.1 names, whitespace, folding, rows and comma lists, the authentication headers
that are never combined, parameters; §7.3.3 compact forms; §25.1 quoted strings
(spec/message.toml).

Most rules are hypothesis properties over names in any casing, any folding of a value and any
split of a list into rows; the RFC's own examples (the equivalent Route groups, the Subject
folding) are written out.
"""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from sipfsm import strategies as sip
from sipfsm.conformance.aio_support import raises
from sipfsm.conformance.message_support import case, message_with, parse_error, read_field
from sipfsm.conformance.registry import check, expect
from sipfsm.errors import LocalProtocolError
from sipfsm.message import Contact, Headers, Params, SipUri, parse, parse_uri
from sipfsm.message.headers import _KNOWN

# --------------------------------------------------------------------------------------------
# §7.3.1 names are case-insensitive
# --------------------------------------------------------------------------------------------


@check("RFC3261-7.3.1-HEADER-NAME-CASE")
@given(st.sampled_from(_KNOWN).flatmap(lambda n: st.tuples(st.just(n), sip.casings(n))))
def any_casing_of_a_known_name_finds_the_field(pair: tuple[str, str]) -> None:
    """A known name in any casing is the same field, stored under its canonical name."""
    canonical, spelling = pair
    headers = Headers([(spelling, "value")])
    assert headers.get(canonical) == "value"
    assert headers.get(canonical.lower()) == "value"
    assert headers.get(canonical.upper()) == "value"
    assert list(headers) == [(canonical, "value")]  # stored in canonical form


@check("RFC3261-7.3.1-HEADER-NAME-CASE")
@given(sip.tokens().flatmap(lambda n: st.tuples(sip.casings("X-" + n), sip.casings("X-" + n))))
def unknown_names_match_in_any_casing_and_keep_their_spelling(pair: tuple[str, str]) -> None:
    """An unknown name is found in any casing and kept as written."""
    written, asked = pair
    headers = Headers([(written, "v")])
    assert headers.get(asked) == "v"
    assert asked in headers
    assert list(headers) == [(written, "v")]


@check("RFC3261-7.3.1-HEADER-NAME-CASE")
@given(sip.casings("Max-Forwards"), sip.casings("Contact"), sip.casings("expires"))
def parsed_names_of_any_casing_are_the_same_field(mf: str, contact: str, exp: str) -> None:
    """§7.3.1: 'Contact: <sip:alice@atlanta.com>;expires=3600' equals the CONTACT / ExPiReS
    form; the typed properties read any casing."""
    message = parse(message_with(f"{mf}: 70", f"{contact}: <sip:alice@atlanta.com>;{exp}=3600"))
    assert message.max_forwards == 70
    assert message.contacts[0].expires == 3600
    assert message.headers.get("contact") == f"<sip:alice@atlanta.com>;{exp}=3600"


@check("RFC3261-7.3.1-HEADER-NAME-CASE")
def a_field_name_that_is_not_a_token_is_a_parse_error() -> None:
    """A field name that is not a token, or no name before the colon, is a ParseError; Headers
    refuses to build such a row."""
    parse_error(parse, message_with("Bad Name: x"), match="not a token")
    parse_error(parse, message_with(": no name"), match="colon")
    with raises(LocalProtocolError):
        Headers([("Bad Name", "x")])


# --------------------------------------------------------------------------------------------
# §7.3.3 compact forms
# --------------------------------------------------------------------------------------------


# RFC 3261 §7.3.3 / §20: the compact forms it defines, written out.
RFC3261_COMPACT_FORMS = {
    "c": "Content-Type", "e": "Content-Encoding", "f": "From", "i": "Call-ID", "k": "Supported",
    "l": "Content-Length", "m": "Contact", "s": "Subject", "t": "To", "v": "Via",
}


@check("RFC3261-7.3.3-COMPACT-FORM")
@given(st.sampled_from(sorted(RFC3261_COMPACT_FORMS.items())), st.booleans())
def compact_and_long_forms_are_the_same_field(item: tuple[str, str], upper: bool) -> None:
    """Rows in the compact and the long form are one field, found by either name and stored
    under the long one."""
    short, long = item
    short = short.upper() if upper else short
    headers = Headers([(short, "one"), (long, "two")])
    assert headers.get_lines(long) == ["one", "two"]
    assert headers.get_lines(short) == ["one", "two"]
    assert [name for name, _ in headers] == [long, long]


@check("RFC3261-7.3.3-COMPACT-FORM")
def a_compact_form_request_reads_like_the_long_form() -> None:
    """A REGISTER written in compact forms reads like the long form and is sent in it."""
    data = (
        b"REGISTER sip:registrar.example.com SIP/2.0\r\n"
        b"v: SIP/2.0/UDP 192.0.2.4:5060;branch=z9hG4bKnashds7;rport\r\n"
        b"f: Bob <sip:bob@example.com>;tag=456248\r\n"
        b"t: Bob <sip:bob@example.com>\r\n"
        b"i: 843817637684230@998sdasdh09\r\n"
        b"CSeq: 1826 REGISTER\r\n"
        b"m: <sip:bob@192.0.2.4>;expires=7200\r\n"
        b"k: path, gruu\r\n"
        b"l: 0\r\n\r\n"
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


# --------------------------------------------------------------------------------------------
# §7.3.1 whitespace around the colon, folding
# --------------------------------------------------------------------------------------------


@check("RFC3261-7.3.1-HCOLON-WHITESPACE")
def whitespace_around_the_colon_is_not_part_of_the_field() -> None:
    """§7.3.1's Subject examples (and a tab) give the same row."""
    for line in ["Subject:            lunch", "Subject      :      lunch",
                 "Subject            :lunch", "Subject: lunch", "Subject:\tlunch\t"]:  # fmt: skip
        with case(line):
            message = parse(message_with(line))
            assert message.headers.get_lines("Subject") == ["lunch"]


@check("RFC3261-7.3.1-LINE-FOLDING")
def folded_lines_are_one_field_joined_by_one_space() -> None:
    """§7.3.1's folded Subject is the one-line Subject: the same field, the same message."""
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


@check("RFC3261-7.3.1-LINE-FOLDING")
@given(
    st.lists(st.text(sip.TOKEN_ALPHABET, min_size=1, max_size=8), min_size=1, max_size=6),
    st.lists(st.sampled_from([" ", "\t", "  ", " \t "]), min_size=6, max_size=6),
)
def any_folding_of_a_value_reads_as_the_unfolded_value(
    words: list[str], indents: list[str]
) -> None:
    """Continuation lines starting with any SP / HTAB join the value with one SP."""
    lines = [f"X-Note: {words[0]}"] + [indents[i] + w for i, w in enumerate(words[1:])]
    message = parse(message_with(*lines))
    assert message.headers.get("X-Note") == " ".join(words)


@check("RFC3261-7.3.1-LINE-FOLDING")
def a_continuation_line_before_any_header_is_a_parse_error() -> None:
    """A continuation line with no header line before it is a ParseError."""
    parse_error(parse, b"OPTIONS sip:a@b SIP/2.0\r\n folded\r\n\r\n", match="continuation")


# --------------------------------------------------------------------------------------------
# §7.3.1 several rows and comma lists
# --------------------------------------------------------------------------------------------

ROUTE_GROUPS = [
    ["Route: <sip:alice@atlanta.com>", "Subject: Lunch", "Route: <sip:bob@biloxi.com>",
     "Route: <sip:carol@chicago.com>"],
    ["Route: <sip:alice@atlanta.com>, <sip:bob@biloxi.com>", "Route: <sip:carol@chicago.com>",
     "Subject: Lunch"],
    ["Subject: Lunch", "Route: <sip:alice@atlanta.com>, <sip:bob@biloxi.com>,",
     "       <sip:carol@chicago.com>"],
]  # fmt: skip


@check("RFC3261-7.3.1-MULTIPLE-ROWS")
def the_rfc_route_groups_are_equivalent() -> None:
    """§7.3.1: 'The following groups of header field rows are valid and equivalent'."""
    for group in ROUTE_GROUPS:
        with case(group):
            message = parse(message_with(*group))
            assert [str(r.uri) for r in message.routes] == [
                "sip:alice@atlanta.com",
                "sip:bob@biloxi.com",
                "sip:carol@chicago.com",
            ]


@check("RFC3261-7.3.1-MULTIPLE-ROWS")
@given(st.lists(sip.contacts(), min_size=1, max_size=6), st.data())
def contacts_read_the_same_in_any_split_into_rows(
    contacts: list[Contact], data: st.DataObject
) -> None:
    """A list header reads the same elements however they are split into rows."""
    values = [str(c) for c in contacts]
    cuts = sorted(data.draw(st.sets(st.integers(1, len(values) - 1))) if len(values) > 1 else [])
    rows, start = [], 0
    for cut in [*cuts, len(values)]:
        rows.append(("Contact", ", ".join(values[start:cut])))
        start = cut
    headers = Headers(rows)
    assert headers.get_all("Contact") == values
    assert Headers([("Contact", ", ".join(values))]).get_all("m") == values


@check("RFC3261-7.3.1-MULTIPLE-ROWS")
def non_list_headers_are_not_split_at_commas() -> None:
    """Date and unknown headers are single values: their commas do not split."""
    headers = Headers([("Date", "Sat, 13 Nov 2010 23:29:00 GMT"), ("X-Unknown", "a, b")])
    assert headers.get_all("Date") == ["Sat, 13 Nov 2010 23:29:00 GMT"]
    assert headers.get_all("X-Unknown") == ["a, b"]


@check("RFC3261-7.3.1-ROW-ORDER")
def the_rfc_non_equivalent_route_orders_differ() -> None:
    """§7.3.1: Route rows in another order are another route set and another message."""
    a = parse(message_with("Route: <sip:alice@atlanta.com>", "Route: <sip:bob@biloxi.com>"))
    b = parse(message_with("Route: <sip:bob@biloxi.com>", "Route: <sip:alice@atlanta.com>"))
    assert [str(r.uri) for r in a.routes] == ["sip:alice@atlanta.com", "sip:bob@biloxi.com"]
    assert [str(r.uri) for r in b.routes] == ["sip:bob@biloxi.com", "sip:alice@atlanta.com"]
    assert a != b


@check("RFC3261-7.3.1-ROW-ORDER")
@given(st.lists(st.tuples(st.sampled_from(["Via", "X-A", "Route"]), sip.tokens()), max_size=8))
def rows_keep_their_order(rows: list[tuple[str, str]]) -> None:
    """Headers keeps every row in order, and the rows of each name in order."""
    headers = Headers(rows)
    assert list(headers) == rows
    for name in ("Via", "X-A", "Route"):
        assert headers.get_lines(name) == [v for n, v in rows if n == name]


# --------------------------------------------------------------------------------------------
# §25.1 quoted strings
# --------------------------------------------------------------------------------------------


@check("RFC3261-25.1-QUOTED-STRING")
def commas_inside_quotes_and_angle_brackets_do_not_split() -> None:
    """Commas inside a quoted-string (with quoted-pairs) or <...> do not separate elements."""
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


@check("RFC3261-25.1-QUOTED-STRING")
@given(sip.display_names())
def any_display_name_survives_quoting(name: str) -> None:
    """Any display name, quoted by str(Contact), reads back the same, and the next element of
    the list stays apart."""
    first = str(Contact(parse_uri("sip:first@example.com"), name))
    message = parse(message_with(f"Contact: {first}, <sip:second@example.com>"))
    assert message.contacts[0].display_name == name
    assert str(message.contacts[1].uri) == "sip:second@example.com"


@check("RFC3261-25.1-QUOTED-STRING")
def an_unterminated_quoted_string_is_a_parse_error() -> None:
    """RFC 4475 quotbal: an unterminated quoted-string is a ParseError when the field is read."""
    data = message_with('Contact: "Mr. J. User <sip:j.user@example.com>')
    parse_error(read_field, data, "contacts", match="quoted")


# --------------------------------------------------------------------------------------------
# §7.3.1 authentication headers are not combined
# --------------------------------------------------------------------------------------------

CHALLENGE_MD5 = 'Digest realm="example.com", nonce="a,b", algorithm=MD5, qop="auth,auth-int"'
CHALLENGE_SHA = 'Digest realm="example.com", nonce="x", algorithm=SHA-256, qop="auth"'


@check("RFC3261-7.3.1-AUTH-NOT-COMBINED")
def each_challenge_row_is_one_element() -> None:
    """A WWW-Authenticate row is one element, its commas included."""
    headers = Headers([("WWW-Authenticate", CHALLENGE_SHA), ("WWW-Authenticate", CHALLENGE_MD5)])
    assert headers.get_all("WWW-Authenticate") == [CHALLENGE_SHA, CHALLENGE_MD5]
    assert headers.get_all("www-authenticate") == [CHALLENGE_SHA, CHALLENGE_MD5]


@check("RFC3261-7.3.1-AUTH-NOT-COMBINED")
def a_row_holding_two_challenges_splits_only_between_them() -> None:
    """A row of several challenges / credentials splits only where an auth-scheme starts."""
    row = f'{CHALLENGE_SHA}, {CHALLENGE_MD5}, Basic realm="x", Negotiate, Newauth abc=='
    for name in ["WWW-Authenticate", "Proxy-Authenticate", "Authorization",
                 "Proxy-Authorization"]:  # fmt: skip
        with case(name):
            assert Headers([(name, row)]).get_all(name) == [
                CHALLENGE_SHA,
                CHALLENGE_MD5,
                'Basic realm="x"',
                "Negotiate",
                "Newauth abc==",
            ]


@check("RFC3261-7.3.1-AUTH-NOT-COMBINED")
def with_added_never_merges_rows() -> None:
    """Adding a challenge adds a row, and the message is sent with both rows."""
    headers = Headers([("WWW-Authenticate", CHALLENGE_SHA)]).with_added(
        "WWW-Authenticate", CHALLENGE_MD5
    )
    assert headers.get_lines("WWW-Authenticate") == [CHALLENGE_SHA, CHALLENGE_MD5]
    assert b"WWW-Authenticate: " + CHALLENGE_SHA.encode() + b"\r\nWWW-Authenticate: " in (
        parse(message_with(*(f"{n}: {v}" for n, v in headers))).to_bytes()
    )


# --------------------------------------------------------------------------------------------
# §7.3.1 parameters
# --------------------------------------------------------------------------------------------


@check("RFC3261-7.3.1-PARAM-ONCE")
def a_repeated_parameter_is_a_parse_error() -> None:
    """A header parameter or a URI parameter given twice (in any casing) is a ParseError."""
    contact = message_with("Contact: <sip:a@example.com>;expires=60;Expires=70")
    parse_error(read_field, contact, "contacts", match="twice")
    route = message_with("Route: <sip:a@example.com;lr;lr>")
    parse_error(read_field, route, "routes", match="twice")


@check("RFC3261-7.3.1-VALUE-CASE")
@given(sip.casings("expires"), sip.casings("transport"))
def parameter_names_are_case_insensitive(expires: str, transport: str) -> None:
    """Header and URI parameter names in any casing are the same parameter."""
    message = parse(message_with(f"Contact: <sip:a@example.com;{transport}=TCP>;{expires}=60"))
    contact = message.contacts[0]
    assert contact.expires == 60
    assert contact.params.get(expires) == "60"
    assert isinstance(contact.uri, SipUri)
    assert contact.uri.params["transport"] == "TCP"


@check("RFC3261-7.3.1-VALUE-CASE")
def quoted_parameter_values_keep_their_case_and_quotes() -> None:
    """A quoted parameter value is kept as written, quotes included."""
    data = message_with('Contact: <sip:a@b.example>;+sip.instance="<urn:uuid:AbC>"')
    contact = parse(data).contacts[0]
    assert contact.params["+sip.instance"] == '"<urn:uuid:AbC>"'
    assert contact.params.unquoted("+SIP.INSTANCE") == "<urn:uuid:AbC>"


@check("RFC3261-7.3.1-VALUE-CASE", "RFC3261-7.3.1-PARAM-ONCE")
@given(sip.casings("expires"), sip.casings("expires"), st.sampled_from(["60", '"x"', None]))
def params_are_one_name_in_any_case(written: str, asked: str, value: str | None) -> None:
    """Params built from a name in one casing answer it in any other ([], get, in), and
    setting it again in another casing replaces it: the name appears once, written in
    lower case."""
    params = Params([(written, value), ("lr", None)])
    expect("RFC3261-7.3.1-VALUE-CASE", asked in params and params[asked] == value
           and params.get(asked, "absent") == value, f"{written!r} asked as {asked!r}")
    replaced = params.with_param(asked, "70")
    expect("RFC3261-7.3.1-PARAM-ONCE", len(replaced) == 2 and replaced.get("expires") == "70"
           and str(replaced).lower().count(";expires=") == 1,
           f"{written!r} set again as {asked!r}: {str(replaced)!r}")
    expect("RFC3261-7.3.1-VALUE-CASE", str(replaced) in (";expires=70;lr", ";lr;expires=70"),
           f"written as {str(replaced)!r}")
