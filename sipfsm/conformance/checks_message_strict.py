"""Strict validation (sipfsm.message.strict) of RFC 4475 §3.1.2's invalid messages: each names
the rule the RFC says it breaks; the valid torture messages break none.  The parser itself stays
liberal (checks_message_torture)."""

from __future__ import annotations

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
