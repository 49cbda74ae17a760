"""One planted violation per audit rule: the audit finds it and reports nothing else."""

from __future__ import annotations

import re
from collections.abc import Callable

import pytest

from sipfsm.audit import audit_records
from sipfsm.audit.engine import active_rules
from tests.audit.support import (
    CHALLENGE,
    CONTACT,
    OTHER_CONTACT,
    PASSWORD,
    Msg,
    Trace,
    base,
    credentials,
)


def _requests(trace: Trace) -> list[Msg]:
    return [m for m in trace.messages if m.sent]


def _nth(trace: Trace, i: int) -> Msg:
    """The i-th REGISTER transaction's first copy (0-based, retransmissions skipped)."""
    seen: list[str] = []
    for m in _requests(trace):
        key = m.header("CSeq") or ""
        if key not in seen:
            seen.append(key)
            if len(seen) == i + 1:
                return m
    raise IndexError(i)


def _both(trace: Trace, i: int) -> list[Msg]:
    """Request i and every message of its transaction (copies and responses)."""
    cseq = _nth(trace, i).header("CSeq")
    return [m for m in trace.messages if m.header("CSeq") == cseq]


def request_uri_userinfo() -> Trace:
    t = base()
    for m in _both(t, 0):
        if m.sent:
            m.start = "REGISTER sip:alice@example.com SIP/2.0"
    return t


def to_tel() -> Trace:
    t = base()
    for m in t.messages:
        m.set("To", "<tel:+15551234567>" + (";tag=rt1" if not m.sent else ""))
    return t


def from_tel() -> Trace:
    t = base()
    for m in t.messages:
        m.set("From", "<tel:+15551234567>;tag=ft1")
    return t


def to_tag() -> Trace:
    t = base()
    _nth(t, 1).set("To", "<sip:alice@example.com>;tag=oops")
    return t


def from_no_tag() -> Trace:
    t = base()
    for m in t.messages:
        m.set("From", "<sip:alice@example.com>")
    return t


def cseq_method() -> Trace:
    t = base()
    _nth(t, 1).set("CSeq", "2 OPTIONS")
    return t


def cseq_range() -> Trace:
    t = base()
    for m in t.messages:
        number, method = (m.header("CSeq") or "").split()
        m.set("CSeq", f"{int(number) + 2**31} {method}")
    return t


def no_max_forwards() -> Trace:
    t = base()
    _nth(t, 1).set("Max-Forwards", None)
    return t


def max_forwards_10() -> Trace:
    t = base()
    _nth(t, 1).set("Max-Forwards", "10")
    return t


def no_branch() -> Trace:
    t = base()
    for m in _both(t, 1):
        m.set("Via", "SIP/2.0/UDP 192.0.2.10:5062")
    return t


def branch_without_cookie() -> Trace:
    t = base()
    for m in _both(t, 1):
        m.set("Via", "SIP/2.0/UDP 192.0.2.10:5062;branch=rfc2543-b2")
    return t


def branch_reused() -> Trace:
    t = base()
    for m in _both(t, 2):
        m.set("Via", "SIP/2.0/UDP 192.0.2.10:5062;branch=z9hG4bKb2")
    return t


def action_param() -> Trace:
    t = base()
    for m in _both(t, 0):
        if m.sent:
            m.set("Contact", CONTACT + ";action=proxy")
    return t


def sips_aor_sip_contact() -> Trace:
    t = base()
    for m in t.messages:
        m.set("To", "<sips:alice@example.com>" + (";tag=rt1" if not m.sent else ""))
        m.set("From", "<sips:alice@example.com>;tag=ft1")
    return t


def star_with_expires() -> Trace:
    t = base()
    _nth(t, 3).set("Contact", "*").set("Expires", "60")
    return t


def star_not_alone() -> Trace:
    t = base()
    _nth(t, 3).set("Contact", "*, " + CONTACT)
    return t


def expires_not_seconds() -> Trace:
    t = base()
    for m in _both(t, 0):
        if m.sent:
            m.set("Expires", "60s")
    return t


def basic_auth() -> Trace:
    t = base()
    _nth(t, 2).set("Authorization", "Basic YWxpY2U6c2VjcmV0")
    return t


def no_credentials_after_401() -> Trace:
    t = base()
    _nth(t, 1).set("Authorization", None)
    return t


def uri_unquoted() -> Trace:
    t = base()
    m = _nth(t, 1)
    m.set("Authorization", (m.header("Authorization") or "").replace(
        'uri="sip:example.com"', "uri=sip:example.com"))
    return t


def nc_quoted() -> Trace:
    t = base()
    m = _nth(t, 1)
    m.set("Authorization", (m.header("Authorization") or "").replace(
        "nc=00000001", 'nc="00000001"'))
    return t


def cnonce_without_qop() -> Trace:
    challenge = 'Digest realm="example.com", nonce="n1", opaque="op1", algorithm=MD5'
    t = base()
    for m in t.messages:
        if m.header("WWW-Authenticate"):
            m.set("WWW-Authenticate", challenge)
    for i, cn in ((1, "c0ffee01"), (2, "c0ffee02"), (3, "c0ffee03")):
        value = credentials(challenge)
        _nth(t, i).set("Authorization", value + (f', cnonce="{cn}"' if i == 1 else ""))
    return t


def no_cnonce() -> Trace:
    t = base()
    m = _nth(t, 1)
    m.set("Authorization", (m.header("Authorization") or "").replace(', cnonce="c0ffee01"', ""))
    return t


def nc_not_hex8() -> Trace:
    t = base()
    m = _nth(t, 1)
    m.set("Authorization", (m.header("Authorization") or "").replace("nc=00000001", "nc=1"))
    return t


def nc_not_rising() -> Trace:
    t = base()
    _nth(t, 2).set("Authorization", credentials(nc=1, cnonce="c0ffee02"))
    return t


def qop_not_offered() -> Trace:
    t = base()
    auth_int = CHALLENGE.replace('qop="auth"', 'qop="auth-int"')
    _nth(t, 1).set("Authorization", credentials(auth_int))
    return t


def opaque_dropped() -> Trace:
    t = base()
    m = _nth(t, 1)
    m.set("Authorization", (m.header("Authorization") or "").replace(', opaque="op1"', ""))
    return t


def digest_uri_other() -> Trace:
    t = base()
    _nth(t, 1).set("Authorization", credentials(uri="sip:192.0.2.1:5060"))
    return t


def wrong_password() -> Trace:
    t = base()
    _nth(t, 1).set("Authorization", credentials(password="not-the-password"))
    return t


def unparseable_register() -> Trace:
    t = base()
    bad = Msg("REGISTER sip:example.com SIP/3.0", [("Via", "x")], 61.0)
    t.messages.append(bad)
    return t


def new_call_id() -> Trace:
    t = base()
    for i in (2, 3):
        for m in _both(t, i):
            m.set("Call-ID", "reg-2@192.0.2.10")
    return t


def cseq_jump() -> Trace:
    t = base()
    for i, n in ((2, 5), (3, 6)):
        for m in _both(t, i):
            m.set("CSeq", f"{n} REGISTER")
    return t


def two_in_flight() -> Trace:
    t = base()
    for m in _both(t, 2):
        m.time = {30.0: 0.612, 30.01: 0.63}[m.time]
    return t


def resubmit_same_cseq() -> Trace:
    t = Trace()
    r1 = t.register(0.0, 1)
    t.retransmit(r1, 0.5)
    t.respond(r1, 0.6, 401, "Unauthorized", ("WWW-Authenticate", CHALLENGE))
    r2 = t.register(0.61, 1, branch="z9hG4bKb1x", authorization=credentials())
    t.respond(r2, 0.62, 200, "OK", ("Contact", f"{CONTACT};expires=60"))
    return t


def resend_rejected() -> Trace:
    t = Trace()
    r1 = t.register(0.0, 1)
    t.retransmit(r1, 0.5)
    t.respond(r1, 0.6, 401, "Unauthorized", ("WWW-Authenticate", CHALLENGE))
    r2 = t.register(0.61, 2, authorization=credentials())
    t.respond(r2, 0.62, 401, "Unauthorized",
              ("WWW-Authenticate", CHALLENGE.replace('"n1"', '"n2"')))
    r3 = t.register(0.63, 3, authorization=credentials())
    t.respond(r3, 0.64, 200, "OK", ("Contact", f"{CONTACT};expires=60"))
    return t


def retry_rejected_password() -> Trace:
    """baresip / PJSIP style: the answer to a challenge is rejected (a new, non-stale
    challenge) and the client answers again with the same user and password."""
    t = Trace()
    r1 = t.register(0.0, 1)
    t.retransmit(r1, 0.5)
    t.respond(r1, 0.6, 401, "Unauthorized", ("WWW-Authenticate", CHALLENGE))
    r2 = t.register(0.61, 2, authorization=credentials())
    second = CHALLENGE.replace('"n1"', '"n2"')
    t.respond(r2, 0.62, 401, "Unauthorized", ("WWW-Authenticate", second))
    r3 = t.register(0.63, 3, authorization=credentials(second, cnonce="c0ffee02"))
    t.respond(r3, 0.64, 403, "Forbidden")
    return t


def retry_423_too_short() -> Trace:
    t = Trace()
    r1 = t.register(0.0, 1, expires="30")
    t.respond(r1, 0.01, 423, "Interval Too Brief", ("Min-Expires", "60"))
    r2 = t.register(0.02, 2, expires="45")
    t.respond(r2, 0.03, 200, "OK", ("Contact", f"{CONTACT};expires=45"))
    return t


def ignores_retry_after() -> Trace:
    t = Trace()
    r1 = t.register(0.0, 1)
    t.respond(r1, 0.01, 503, "Service Unavailable", ("Retry-After", "10"))
    r2 = t.register(2.0, 2)
    t.respond(r2, 2.01, 200, "OK", ("Contact", f"{CONTACT};expires=60"))
    return t


_SCHEDULE = (0.0, 0.5, 1.5, 3.5, 7.5, 11.5, 15.5, 19.5, 23.5, 27.5, 31.5)


def immediate_retry_after_timeout() -> Trace:
    t = Trace()
    r1 = t.register(0.0, 1)
    for when in _SCHEDULE[1:]:
        t.retransmit(r1, when)
    r2 = t.register(32.2, 2)
    t.respond(r2, 32.21, 200, "OK", ("Contact", f"{CONTACT};expires=60"))
    return t


def retransmit_over_tcp() -> Trace:
    t = base(transport="TCP")
    t.retransmit(_nth(t, 0), 0.5)
    return t


def retransmit_too_soon() -> Trace:
    t = base()
    for m in t.messages:
        if m.sent and m.time == 0.5:
            m.time = 0.2
    return t


def retransmission_missing() -> Trace:
    t = Trace()
    r1 = t.register(0.0, 1)
    t.respond(r1, 1.2, 401, "Unauthorized", ("WWW-Authenticate", CHALLENGE))
    r2 = t.register(1.21, 2, authorization=credentials())
    t.respond(r2, 1.22, 200, "OK", ("Contact", f"{CONTACT};expires=60"))
    return t


def proceeding_too_fast() -> Trace:
    t = Trace()
    r1 = t.register(0.0, 1)
    t.respond(r1, 0.1, 100, "Trying")
    for when in (0.5, 1.0):
        t.retransmit(r1, when)
    t.respond(r1, 1.2, 200, "OK", ("Contact", f"{CONTACT};expires=60"))
    return t


def retransmit_after_final() -> Trace:
    t = base()
    t.retransmit(_nth(t, 1), 0.7)
    return t


def past_timer_f() -> Trace:
    t = Trace()
    r1 = t.register(0.0, 1)
    for when in (*_SCHEDULE[1:], 35.5):
        t.retransmit(r1, when)
    return t


def refresh_too_late() -> Trace:
    t = base()
    for m in _both(t, 2):
        m.time += 40.0
    for m in _both(t, 3):
        m.time += 40.0
    return t


def refresh_by_other_binding() -> Trace:
    t = base()
    for m in _both(t, 1):
        if not m.sent:
            m.set("Contact", f"{OTHER_CONTACT};expires=3600, {CONTACT};expires=20")
    return t


def refreshes_others() -> Trace:
    t = base()
    for m in _both(t, 1):
        if not m.sent:
            m.set("Contact", f"{CONTACT};expires=60, {OTHER_CONTACT};expires=3600")
    _nth(t, 2).set("Contact", f"{CONTACT}, {OTHER_CONTACT}")
    return t


# -- the wire rules of §18 / RFC 3581 -----------------------------------------------------------


def rport_with_value() -> Trace:
    t = base()
    for m in _both(t, 1):
        if m.sent:
            m.set("Via", "SIP/2.0/UDP 192.0.2.10:5062;branch=z9hG4bKb2;rport=5062")
    return t


def via_names_another_transport() -> Trace:
    t = base(transport="TCP")
    for m in _both(t, 2):
        if m.sent:
            m.set("Via", "SIP/2.0/UDP 192.0.2.10:5062;branch=z9hG4bKb3")
    return t


def too_big_for_udp() -> Trace:
    """RFC 3261 §18.1.1: 1300 bytes is the limit; this REGISTER is 1301 bytes long."""
    t = base()
    m = _nth(t, 2)
    m.headers.append(("User-Agent", ""))
    m.set("User-Agent", "x" * (1301 - len(m.text().encode())))
    assert len(m.text().encode()) == 1301
    return t


def no_content_length_over_tcp() -> Trace:
    t = base(transport="TCP")
    _nth(t, 3).content_length = False
    return t


def algorithm_not_echoed() -> Trace:
    t = base()
    _nth(t, 1).set("Authorization", credentials(CHALLENGE.replace("MD5", "SHA-256")))
    return t


# -- sharper cases: a rule's boundary, case and list forms (the mutants A01-A24) ----------------


def branch_cookie_wrong_case() -> Trace:
    t = base()
    for m in _both(t, 1):
        m.set("Via", "SIP/2.0/UDP 192.0.2.10:5062;branch=z9hg4bkb2")
    return t


def cseq_reaches_2_pow_31() -> Trace:
    """CSeq 2**31 - 3 .. 2**31: only the last one, exactly 2**31, breaks "less than 2**31"."""
    t = base()
    for m in t.messages:
        number, method = (m.header("CSeq") or "").split()
        m.set("CSeq", f"{int(number) + 2**31 - 4} {method}")
    return t


def max_forwards_71() -> Trace:
    t = base()
    _nth(t, 1).set("Max-Forwards", "71")
    return t


def gives_up_before_timer_f() -> Trace:
    """No answer, and a new REGISTER 5 s later: neither a final response nor Timer F."""
    t = Trace()
    r1 = t.register(0.0, 1)
    for when in (0.5, 1.5, 3.5):
        t.retransmit(r1, when)
    r2 = t.register(5.0, 2)
    t.respond(r2, 5.01, 200, "OK", ("Contact", f"{CONTACT};expires=60"))
    return t


def retry_423_contact_param_too_short() -> Trace:
    """The Expires header is long enough, the contact's own expires param (which wins) not."""
    t = Trace()
    r1 = t.register(0.0, 1, expires="30")
    t.respond(r1, 0.01, 423, "Interval Too Brief", ("Min-Expires", "60"))
    r2 = t.register(0.02, 2, expires="3600", contact=CONTACT + ";expires=45")
    t.respond(r2, 0.03, 200, "OK", ("Contact", f"{CONTACT};expires=45"))
    return t


def _quoting(param: str, quoted: bool) -> Callable[[], Trace]:
    def build() -> Trace:
        t = base()
        m = _nth(t, 1)
        value = m.header("Authorization") or ""
        if quoted:  # a token written as a quoted-string
            new = re.sub(rf"\b{param}=([^\s,\"]+)", rf'{param}="\1"', value, count=1)
        else:  # a quoted-string written bare
            new = re.sub(rf'\b{param}="([^"]*)"', rf"{param}=\1", value, count=1)
        assert new != value, (param, value)
        m.set("Authorization", new)
        return t

    build.__name__ = f"{param}_{'quoted' if quoted else 'unquoted'}"
    return build


def proxy_challenge_answered_in_authorization() -> Trace:
    t = base()
    for m in t.messages:
        if m.header("WWW-Authenticate"):
            m.set("WWW-Authenticate", None).set("Proxy-Authenticate", CHALLENGE)
            m.start = "SIP/2.0 407 Proxy Authentication Required"
    return t


def response_upper_case_hex() -> Trace:
    t = base()
    m = _nth(t, 1)
    value = m.header("Authorization") or ""
    new = re.sub(r'response="([0-9a-f]+)"', lambda x: f'response="{x.group(1).upper()}"', value)
    assert new != value
    m.set("Authorization", new)
    return t


def basic_upper_case() -> Trace:
    t = base()
    _nth(t, 2).set("Authorization", "BASIC YWxpY2U6c2VjcmV0")
    return t



PLANTED: list[tuple[str, Callable[[], Trace]]] = [
    ("RFC3261-10.2-REQUEST-URI-DOMAIN", request_uri_userinfo),
    ("RFC3261-10.2-TO-AOR-SIP-URI", to_tel),
    ("RFC3261-10.2-FROM-AOR", from_tel),
    ("RFC3261-8.1.1.2-NO-TO-TAG", to_tag),
    ("RFC3261-8.1.1.3-FROM-TAG", from_no_tag),
    ("RFC3261-8.1.1.5-CSEQ-METHOD", cseq_method),
    ("RFC3261-8.1.1.5-CSEQ-RANGE", cseq_range),
    ("RFC3261-8.1.1.6-MAX-FORWARDS-PRESENT", no_max_forwards),
    ("RFC3261-8.1.1.6-MAX-FORWARDS-70", max_forwards_10),
    ("RFC3261-8.1.1.7-BRANCH-PRESENT", no_branch),
    ("RFC3261-8.1.1.7-BRANCH-COOKIE", branch_without_cookie),
    ("RFC3261-8.1.1.7-BRANCH-UNIQUE", branch_reused),
    ("RFC3261-10.2-NO-ACTION-PARAM", action_param),
    ("RFC3261-10.2.1-SIPS-AOR-SIPS-CONTACTS", sips_aor_sip_contact),
    ("RFC3261-10.2.2-STAR-ONLY-WITH-EXPIRES-0", star_with_expires),
    ("RFC3261-10.2.2-STAR-ONLY-WITH-EXPIRES-0", star_not_alone),
    ("RFC3261-20.19-EXPIRES-VALUE", expires_not_seconds),
    ("RFC3261-22-NO-BASIC", basic_auth),
    ("RFC3261-22.3-CREDENTIALS-PER-REALM", no_credentials_after_401),
    ("RFC3261-22.4-URI-QUOTED", uri_unquoted),
    ("RFC7616-3.4-CREDENTIALS-QUOTING", nc_quoted),
    ("RFC3261-22.4-NO-CNONCE-WITHOUT-QOP", cnonce_without_qop),
    ("RFC7616-3.4-CNONCE", no_cnonce),
    ("RFC7616-3.4-NC-HEX8", nc_not_hex8),
    ("RFC7616-3.4-NC-HEX8", nc_not_rising),
    ("RFC7616-3.4-QOP-ONE-OF-OFFERED", qop_not_offered),
    ("RFC7616-3.3-OPAQUE-ECHO", opaque_dropped),
    ("RFC2617-3.2.2.5-DIGEST-URI", digest_uri_other),
    ("RFC2617-3.2.2.1-RESPONSE-DIGEST", wrong_password),
    ("RFC3261-25-REQUEST-GRAMMAR", unparseable_register),
    ("RFC3261-10.2-CALL-ID-PER-REGISTRAR", new_call_id),
    ("RFC3261-10.2-CSEQ-INCREMENT", cseq_jump),
    ("RFC3261-10.2-ONE-REGISTER-IN-FLIGHT", two_in_flight),
    ("RFC3261-22.2-RESUBMIT-CSEQ", resubmit_same_cseq),
    ("RFC3261-22.1-NO-RESEND-REJECTED", resend_rejected),
    ("RFC3261-22.1-NO-RESEND-REJECTED", retry_rejected_password),
    ("RFC3261-10.2.8-423-RETRY", retry_423_too_short),
    ("RFC3261-21.5.4-503-HOLD-OFF", ignores_retry_after),
    ("RFC3261-10.2.7-NO-IMMEDIATE-RETRY-AFTER-TIMEOUT", immediate_retry_after_timeout),
    ("RFC3261-17.1.2.2-TIMER-E-START", retransmit_over_tcp),
    ("RFC3261-17.1.2.2-TIMER-E-DOUBLING", retransmit_too_soon),
    ("RFC3261-17.1.2.2-TIMER-E-DOUBLING", retransmission_missing),
    ("RFC3261-17.1.2.2-TIMER-E-PROCEEDING", proceeding_too_fast),
    ("RFC3261-17.1.2.1-NO-RETRANSMIT-AFTER-FINAL", retransmit_after_final),
    ("RFC3261-17.1.2.2-TIMEOUT-TRYING", past_timer_f),
    ("RFC3261-10.2.4-REFRESH-BEFORE-EXPIRY", refresh_too_late),
    ("RFC3261-10.2.4-REFRESH-BEFORE-EXPIRY", refresh_by_other_binding),
    ("RFC3261-10.2.4-NO-REFRESH-OTHERS", refreshes_others),
    ("RFC3581-3-RPORT-NO-VALUE", rport_with_value),
    ("RFC3261-20.42-VIA-TRANSPORT", via_names_another_transport),
    ("RFC3261-18.1.1-SIZE-CONGESTION-CONTROLLED", too_big_for_udp),
    ("RFC3261-18.3-CONTENT-LENGTH-STREAM", no_content_length_over_tcp),
    ("RFC7616-3.3-OPAQUE-ECHO", algorithm_not_echoed),
    ("RFC3261-8.1.1.7-BRANCH-COOKIE", branch_cookie_wrong_case),
    ("RFC3261-8.1.1.5-CSEQ-RANGE", cseq_reaches_2_pow_31),
    ("RFC3261-8.1.1.6-MAX-FORWARDS-70", max_forwards_71),
    ("RFC3261-10.2-ONE-REGISTER-IN-FLIGHT", gives_up_before_timer_f),
    ("RFC3261-10.2.8-423-RETRY", retry_423_contact_param_too_short),
    *(("RFC7616-3.4-CREDENTIALS-QUOTING", _quoting(p, False))
      for p in ("username", "realm", "nonce", "response", "cnonce", "opaque")),
    *(("RFC7616-3.4-CREDENTIALS-QUOTING", _quoting(p, True)) for p in ("algorithm", "qop")),
    ("RFC3261-22.3-CREDENTIALS-PER-REALM", proxy_challenge_answered_in_authorization),
    ("RFC3261-22-NO-BASIC", basic_upper_case),
    ("RFC3261-25-REQUEST-DIGEST-LHEX", response_upper_case_hex),
]


def _case(rule_id: str, build: Callable[[], Trace]) -> object:
    return pytest.param(rule_id, build, id=f"{rule_id}:{build.__name__}",
                        marks=pytest.mark.requirement(rule_id))


@pytest.mark.parametrize(("rule_id", "build"), [_case(r, b) for r, b in PLANTED])
def test_planted_violation_is_found_and_nothing_else(
    rule_id: str, build: Callable[[], Trace]
) -> None:
    report = audit_records(build().records(), password=PASSWORD)
    assert report.rule_ids() == {rule_id}, [f.to_dict() for f in report.findings]
    finding = report.violations(rule_id)[0]
    assert finding.evidence.messages, finding
    assert finding.explanation


def test_every_auditable_rule_has_a_planted_violation() -> None:
    planted = {rule_id for rule_id, _ in PLANTED}
    active = {rule.id for rule, _ in active_rules()} | {"RFC3261-25-REQUEST-GRAMMAR"}
    assert active == planted


@pytest.mark.parametrize("transport", ["UDP", "TCP"])
def test_the_base_trace_is_clean(transport: str) -> None:
    report = audit_records(base(transport=transport).records(), password=PASSWORD)
    assert report.clean, [f.to_dict() for f in report.findings]
    assert report.exit_code == 0


def test_exit_code_follows_the_level() -> None:
    must = audit_records(cseq_jump().records())
    assert must.exit_code == 1
    should = audit_records(max_forwards_10().records())
    assert not should.clean and should.exit_code == 0
