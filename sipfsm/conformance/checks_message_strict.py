"""Strict validation (sipfsm.message.strict) of RFC 4475 §3.1.2's invalid messages: each names
the rule the RFC says it breaks; the valid torture messages break none.  The parser itself stays
liberal (checks_message_torture)."""

from __future__ import annotations

from hypothesis import example, given
from hypothesis import strategies as st

from sipfsm.conformance.message_support import (
    ESC01,
    ESC02,
    ESCNULL,
    ESCRURI,
    INTMETH,
    INVALID_TORTURE,
    LWSDISP,
    NOREASON,
    SEMIURI,
    TRANSPORTS,
    UNKSCM,
    UNKSM2,
    WSINV,
    crlf,
)
from sipfsm.conformance.registry import check, expect
from sipfsm.message.strict import violations
from sipfsm.strategies import casings

RULE = "RFC4475-3.1.2-INVALID-MESSAGES"

# What RFC 4475 says each message gets wrong, as words the named rule must contain.
EXPECTED = {
    "badinv01": "generic-param",  # §3.1.2.1 extraneous ;; separators
    "clerr": "Content-Length",  # §3.1.2.2 larger than the body
    "ncl": "Content-Length",  # §3.1.2.3 negative
    "scalar02": "CSeq",  # §3.1.2.4 overlarge CSeq (and Max-Forwards, Expires)
    "scalarlg": "warn-code",  # §3.1.2.5 Warning code 1812 (and overlarge scalars)
    "quotbal": "quoted-string",  # §3.1.2.6 unterminated quoted string
    "ltgtruri": "Request-Line",  # §3.1.2.7 <> around the Request-URI
    "lwsruri": "Request-Line",  # §3.1.2.8 LWS in the Request-URI
    "lwsstart": "Request-Line",  # §3.1.2.9 several SP between elements
    "trws": "Request-Line",  # §3.1.2.10 SP at the end of the Request-Line
    "baddate": "SIP-date",  # §3.1.2.12 not GMT
    "regbadct": "name-addr form",  # §3.1.2.13 URI with ? outside <>
    "badaspec": "no LWS in addr-spec",  # §3.1.2.14 spaces within <>
    "baddn": "display-name",  # §3.1.2.15 non-token characters unquoted
    "badvers": "SIP-Version",  # §3.1.2.16 SIP/7.0
    "bigcode": "Status-Code",  # §3.1.2.19 overlarge status code
    "insuf": "mandatory",  # §3.3.1 no Call-ID, From, To
    "multi01": "appears once",  # §3.3 several To / From / Call-ID / CSeq
    "mcl01": "appears once",  # §3.3 two Content-Length
}


@check(RULE)
def strict_validation_names_the_rule_each_invalid_message_breaks() -> None:
    """Each RFC 4475 §3.1.2 (and §3.3) invalid message yields a violation naming its rule;
    escruri (§3.1.2.11) one naming Table 1's ban on Request-URI headers."""
    assert set(EXPECTED) == set(INVALID_TORTURE)
    for name, text in sorted(INVALID_TORTURE.items()):
        found = violations(crlf(text))
        expect(RULE, any(EXPECTED[name] in v.rule for v in found),
               f"{name}: {[str(v) for v in found]}")
    expect(RULE, any("Table 1" in v.rule for v in violations(ESCRURI)), "escruri")


@check(RULE)
def strict_validation_accepts_the_valid_torture_messages() -> None:
    """The valid torture messages (§3.1.1, §3.3.15) break no rule: strictness is not
    stricter than the grammar."""
    for name, data in (("wsinv", WSINV), ("intmeth", INTMETH), ("esc01", ESC01),
                       ("escnull", ESCNULL), ("esc02", ESC02), ("lwsdisp", LWSDISP),
                       ("semiuri", SEMIURI), ("transports", TRANSPORTS),
                       ("noreason", NOREASON), ("unkscm", UNKSCM), ("unksm2", UNKSM2)):
        found = violations(data)
        expect(RULE, not found, f"{name}: {[str(v) for v in found]}")


# --------------------------------------------------------------------------------------------
# The strict reading rule by rule: what RFC 3261 allows is no violation, what it forbids is one
# (sipfsm parse --strict, and the check of every REGISTER the client sends)
# --------------------------------------------------------------------------------------------

# A REGISTER as RFC 3261 §10.2 builds one; {start}, {mf}, {cseq} and {extra} are replaced.
_VALID = (
    "{start}\n"
    "Via: SIP/2.0/UDP 192.0.2.4:5060;branch=z9hG4bKnashds7;rport\n"
    "Max-Forwards: {mf}\n"
    "To: Bob <sip:bob@biloxi.com>\n"
    "From: Bob <sip:bob@biloxi.com>;tag=456248\n"
    "Call-ID: 843817637684230@998sdasdh09\n"
    "CSeq: {cseq}\n"
    "Contact: <sip:bob@192.0.2.4>\n"
    "{extra}"
    "Content-Length: 0\n"
)


def _register(*, start: str = "REGISTER sip:biloxi.com SIP/2.0", mf: str = "70",
              cseq: str = "1826 REGISTER", extra: str = "", drop: str = "") -> bytes:
    text = _VALID.format(start=start, mf=mf, cseq=cseq, extra=extra)
    if drop:
        text = "".join(line + "\n" for line in text.splitlines()
                       if not line.lower().startswith(drop.lower() + ":"))
    return crlf(text + "\n")


def _rules(data: bytes) -> list[str]:
    return [v.rule for v in violations(data)]


def _names(data: bytes, word: str) -> list[str]:
    """The violations whose rule mentions ``word``."""
    return [f"{v.where}: {v.detail}" for v in violations(data) if word in v.rule]


@check("RFC3261-20.22-MAX-FORWARDS-RANGE")
@example(value=255)
@example(value=256)
@given(value=st.integers(0, 1000))
def strict_max_forwards_is_an_integer_from_0_to_255(value: int) -> None:
    """Max-Forwards 0..255 breaks no rule; 256 and above break §20.22's range."""
    found = _names(_register(mf=str(value)), "Max-Forwards")
    expect("RFC3261-20.22-MAX-FORWARDS-RANGE", bool(found) == (value > 255),
           f"Max-Forwards: {value}: {found}")


@check("RFC3261-20.16-CSEQ-SYNTAX")
@example(number=2**31 - 1)
@example(number=2**31)
@given(number=st.one_of(st.integers(0, 2**32), st.integers(2**31 - 3, 2**31 + 3)))
def strict_cseq_number_is_below_2_31(number: int) -> None:
    """A CSeq number below 2**31 breaks no rule; 2**31 and above break §8.1.1.5's "MUST be
    less than 2**31"."""
    found = _names(_register(cseq=f"{number} REGISTER"), "CSeq number")
    expect("RFC3261-20.16-CSEQ-SYNTAX", bool(found) == (number >= 2**31),
           f"CSeq: {number} REGISTER: {found}")


@check("RFC3261-20.16-CSEQ-SYNTAX")
@given(method=casings("REGISTER"))
def strict_cseq_method_is_case_sensitive(method: str) -> None:
    """§20.16: "The method part of CSeq is case-sensitive": a REGISTER whose CSeq says
    "register" (any other casing) breaks §8.1.1.5's match of method and CSeq."""
    found = _names(_register(cseq=f"1 {method}"), "CSeq method")
    expect("RFC3261-20.16-CSEQ-SYNTAX", bool(found) == (method != "REGISTER"),
           f"REGISTER with CSeq: 1 {method}: {found}")


@check("RFC3261-20.19-EXPIRES-VALUE")
@example(value=2**32 - 1)
@example(value=2**32)
@given(value=st.one_of(st.integers(0, 2**33), st.integers(2**32 - 3, 2**32 + 3)))
def strict_expires_is_0_to_2_32_minus_1(value: int) -> None:
    """An Expires value from 0 to (2**32)-1 breaks no rule (§20.19); above it, it is out of
    delta-seconds' range (RFC 4475 scalar02)."""
    found = _names(_register(extra=f"Expires: {value}\n"), "delta-seconds")
    expect("RFC3261-20.19-EXPIRES-VALUE", bool(found) == (value > 2**32 - 1),
           f"Expires: {value}: {found}")


# The headers whose §25.1 grammar has no comma-separated list form (so §7.3.1 allows one row):
# written out here from the ABNF, not taken from sipfsm.message.strict.
_NOT_LISTS = {"To": "To: <sip:x@biloxi.com>", "From": "From: <sip:x@biloxi.com>;tag=9",
              "Call-ID": "Call-ID: other@host", "CSeq": "CSeq: 1826 REGISTER",
              "Max-Forwards": "Max-Forwards: 70", "Content-Length": "Content-Length: 0",
              "Expires": "Expires: 60", "Date": "Date: Sat, 13 Nov 2010 23:29:00 GMT",
              "Retry-After": "Retry-After: 18000", "Content-Type": "Content-Type: text/plain"}


@check("RFC3261-7.3.1-MULTIPLE-ROWS")
@given(name=st.sampled_from(sorted(_NOT_LISTS)), compact=st.booleans())
def strict_a_header_that_is_no_list_appears_once(name: str, compact: bool) -> None:
    """§7.3.1: several rows of one name are allowed only for a comma-separated list; a second
    row of To, From, Call-ID, CSeq, Max-Forwards, Content-Length, Expires, Date, Retry-After
    or Content-Type (in its compact form too, §7.3.3) breaks that rule."""
    row = _NOT_LISTS[name]
    short = {"To": "t", "From": "f", "Call-ID": "i", "Content-Length": "l",
             "Content-Type": "c"}.get(name)
    if compact and short is not None:
        row = short + row[len(name):]
    data = _register(extra=row + "\n")
    if name in ("Expires", "Date", "Retry-After", "Content-Type"):
        data = _register(extra=row + "\n" + _NOT_LISTS[name] + "\n")
    found = _names(data, "appears once")
    expect("RFC3261-7.3.1-MULTIPLE-ROWS", any(f.lower().startswith(name.lower()) for f in found),
           f"two {name} rows ({row!r}): {found}")


@check("RFC3261-7.3.3-COMPACT-FORM", "RFC3261-7.3.1-LINE-FOLDING", "RFC3261-7.1-SIP-VERSION",
       "RFC3261-19.1.1-SIP-URI-SYNTAX", "RFC3261-18.3-DATAGRAM-EXTRA-BYTES")
def strict_valid_forms_break_no_rule() -> None:
    """What RFC 3261 allows breaks no rule: compact header names (§7.3.3), a continuation line
    starting with SP or HTAB (§7.3.1), "sip/2.0" (§7.1: case-insensitive), a '?' in the user
    part of the Request-URI (§25.1 user-unreserved), bytes after the body of a datagram
    (§18.3: discarded).  Their counterparts are violations: headers in a Request-URI
    (§19.1.1 Table 1), SIP/2.1."""
    compact = crlf("REGISTER sip:biloxi.com SIP/2.0\n"
                   "v: SIP/2.0/UDP 192.0.2.4:5060;branch=z9hG4bKnashds7\n"
                   "Max-Forwards: 70\nt: <sip:bob@biloxi.com>\n"
                   "f: <sip:bob@biloxi.com>;tag=456248\ni: 843817637684230@998sdasdh09\n"
                   "CSeq: 1826 REGISTER\nm: <sip:bob@192.0.2.4>\nl: 0\n\n")
    expect("RFC3261-7.3.3-COMPACT-FORM", not violations(compact),
           f"compact forms: {[str(v) for v in violations(compact)]}")
    both = _names(compact.replace(b"l: 0\r\n", b"l: 0\r\nContent-Length: 0\r\n"),
                  "appears once")
    expect("RFC3261-7.3.3-COMPACT-FORM", both, "l: and Content-Length: are not one header")
    for lead in (" ", "\t", " \t"):
        folded = _register(extra=f"Expires:\n{lead}3600\nSupported: path,\n{lead}outbound\n")
        expect("RFC3261-7.3.1-LINE-FOLDING", not violations(folded),
               f"fold with {lead!r}: {[str(v) for v in violations(folded)]}")
    for version in ("sip/2.0", "Sip/2.0", "SIP/2.0"):
        found = _rules(_register(start=f"REGISTER sip:biloxi.com {version}"))
        expect("RFC3261-7.1-SIP-VERSION", not found, f"{version}: {found}")
    expect("RFC3261-7.1-SIP-VERSION",
           _names(_register(start="REGISTER sip:biloxi.com SIP/2.1"), "SIP-Version"),
           "SIP/2.1 taken")
    for uri in ("sip:a?b@biloxi.com", "sip:bob?x=1@biloxi.com;transport=udp"):
        found = _rules(_register(start=f"REGISTER {uri} SIP/2.0"))
        expect("RFC3261-19.1.1-SIP-URI-SYNTAX", not found, f"{uri}: {found}")
    expect("RFC3261-19.1.1-SIP-URI-SYNTAX",
           _names(_register(start="REGISTER sip:biloxi.com?Subject=x SIP/2.0"), "Table 1"),
           "headers in the Request-URI taken")
    extra = _register() + b"garbage after the body"
    expect("RFC3261-18.3-DATAGRAM-EXTRA-BYTES", not violations(extra),
           f"extra bytes: {[str(v) for v in violations(extra)]}")


@check("RFC3261-8.1.1-PARSE-MANDATORY-HEADERS")
@given(name=st.sampled_from(["To", "From", "CSeq", "Call-ID", "Max-Forwards", "Via"]))
def strict_the_six_mandatory_headers(name: str) -> None:
    """§8.1.1: To, From, CSeq, Call-ID, Max-Forwards and Via are mandatory in every request:
    a request without any one of them breaks the rule, naming it."""
    found = _names(_register(drop=name), "mandatory")
    expect("RFC3261-8.1.1-PARSE-MANDATORY-HEADERS",
           any(name.lower() in f for f in found), f"no {name}: {found}")


_NOT_ASCII_DIGITS = st.text(st.characters(categories=["Nd", "No"], min_codepoint=0x80),
                            min_size=1, max_size=4)


@check("RFC3261-20.16-CSEQ-SYNTAX", "RFC3261-20.22-MAX-FORWARDS-RANGE",
       "RFC3261-20.19-EXPIRES-VALUE")
@example(field="Max-Forwards", digits="\u00b2")
@example(field="CSeq", digits="\u0661")
@given(field=st.sampled_from(["CSeq", "Max-Forwards", "Expires"]), digits=_NOT_ASCII_DIGITS)
def strict_numbers_are_ascii_digits(field: str, digits: str) -> None:
    """§25.1's DIGIT is %x30-39 (RFC 5234): a CSeq number, Max-Forwards or Expires written
    with other digits ("²", Arabic-Indic "١") is a violation of that field -- never read as a
    number, never an exception."""
    rid = {"CSeq": "RFC3261-20.16-CSEQ-SYNTAX", "Max-Forwards": "RFC3261-20.22-MAX-FORWARDS-RANGE",
           "Expires": "RFC3261-20.19-EXPIRES-VALUE"}[field]
    data = {"CSeq": lambda: _register(cseq=f"{digits} REGISTER"),
            "Max-Forwards": lambda: _register(mf=digits),
            "Expires": lambda: _register(extra=f"Expires: {digits}\n")}[field]()
    try:
        found = [v for v in violations(data) if v.where == field.lower()]
    except Exception as exc:  # a crash on input is a broken rule, not a verdict
        expect(rid, False, f"{field}: {digits!r}: {exc!r}")
        return
    expect(rid, found, f"{field}: {digits!r} taken as a number")
