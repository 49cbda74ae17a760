"""The rules: one function per spec record whose ``audit`` key says it can be judged from a trace.

Every rule is registered under its spec id with the kind its record declares (``message``: one
REGISTER, with the challenge it answers; ``sequence``: the exchange).  A rule yields
:class:`Hit` values -- the messages that show the violation and one line saying what is wrong;
the engine adds the record's level and section.  Numbers come from the RFC text, written here:

* RFC 3261 §17.1.1.1 / §17.1.2.2: T1 = 500 ms, T2 = 4 s, Timer F = 64*T1 = 32 s; Timer E starts
  at T1 and doubles up to T2 on unreliable transports; none on reliable ones.
* RFC 3261 §8.1.1.7: the branch of a request from an RFC 3261 client starts with ``z9hG4bK``.
* RFC 3261 §18.1.1: a request larger than 1300 bytes (the path MTU unknown) goes over a
  congestion-controlled transport; §18.3: Content-Length is present on stream transports.
"""

from __future__ import annotations

import contextlib
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass

from sipfsm.audit.digest_ref import auth_params, expected_response, split_scheme
from sipfsm.audit.exchange import Exchange, Registration, Transaction
from sipfsm.audit.model import Observation
from sipfsm.audit.replay import outcome
from sipfsm.errors import ParseError
from sipfsm.message import Contact, Request, Response, SipUri, uri_equal

__all__ = ["RULES", "Hit", "Rule", "Tolerance"]

T1 = 0.5  # RFC 3261 §17.1.1.1 default, seconds
T2 = 4.0  # RFC 3261 §17.1.1.1
TIMER_F = 64 * T1  # RFC 3261 §17.1.2.2
MAGIC_COOKIE = "z9hG4bK"  # RFC 3261 §8.1.1.7, written from the RFC (not imported)
MAX_CSEQ = 2**31  # RFC 3261 §8.1.1.5: "MUST be less than 2**31"
IMMEDIATE_AFTER_TIMEOUT = 1.0  # a new REGISTER sooner than this after Timer F is "at once"
IN_FLIGHT_SLACK = 1.0  # a REGISTER this close before Timer F counts as after the timeout
UDP_SIZE_LIMIT = 1300  # RFC 3261 §18.1.1: "larger than 1300 bytes and the path MTU is unknown"
STREAM_TRANSPORTS = ("TCP", "TLS", "SCTP", "WS", "WSS")  # RFC 3261 §18.3 "stream-oriented"
_DELTA_SECONDS = re.compile(r"^[0-9]+$")
_NC = re.compile(r"^[0-9a-f]{8}$")
_LHEX = re.compile(r"^[0-9a-f]+$")  # RFC 3261 §25: LHEX = DIGIT / %x61-66 ;lowercase a-f
# Hex digits of each algorithm's digest (MD5 128 bits, SHA-256 and SHA-512/256 256 bits).
_DIGEST_HEX_LENGTH = {"MD5": 32, "SHA-256": 64, "SHA-512-256": 64}


@dataclass(frozen=True, slots=True)
class Tolerance:
    """Slack for timing rules: capture timestamps and schedulers are not exact."""

    relative: float = 0.25
    absolute: float = 0.15

    def low(self, expected: float) -> float:
        return expected * (1 - self.relative) - self.absolute

    def high(self, expected: float) -> float:
        return expected * (1 + self.relative) + self.absolute


@dataclass(frozen=True, slots=True)
class Hit:
    messages: tuple[Observation, ...]
    explanation: str
    registration: str


@dataclass(slots=True)
class Context:
    """What the rules share: the exchange, the password (if given), the tolerance and the
    challenges seen, keyed by nonce (client, registrar, nonce)."""

    exchange: Exchange
    password: str | None
    tolerance: Tolerance
    challenges: dict[tuple[str, str, str], tuple[Observation, str, dict[str, tuple[str, bool]]]]


MessageCheck = Callable[[Context, Registration, int], Iterator[Hit]]


@dataclass(frozen=True, slots=True)
class Rule:
    id: str
    kind: str  # "message" | "sequence"
    check: MessageCheck


RULES: dict[str, Rule] = {}


def _rule(rule_id: str, kind: str) -> Callable[[MessageCheck], MessageCheck]:
    def register(check: MessageCheck) -> MessageCheck:
        RULES[rule_id] = Rule(rule_id, kind, check)
        return check

    return register


def _hit(reg: Registration, explanation: str, *messages: Observation) -> Hit:
    return Hit(tuple(messages), explanation, reg.key)


# -- helpers ------------------------------------------------------------------------------------


def _contacts(request: Request) -> list[Contact]:
    try:
        return request.contacts
    except ParseError:
        return []


def _header_expires(message: Request | Response) -> int | None:
    try:
        return message.expires
    except ParseError:
        return None


def _contact_expiry(contact: Contact, message: Request | Response) -> int | None:
    if "expires" in contact.params:
        return contact.expires
    return _header_expires(message)


def _credentials(request: Request) -> list[tuple[str, str, dict[str, tuple[str, bool]]]]:
    """(header name, scheme, params) for every Authorization / Proxy-Authorization value."""
    headers = request.headers
    if "Authorization" not in headers and "Proxy-Authorization" not in headers:
        return []
    out = []
    for name in ("Authorization", "Proxy-Authorization"):
        for value in request.headers.get_all(name):
            scheme, rest = split_scheme(value)
            out.append((name, scheme, auth_params(rest)))
    return out


def _challenges(response: Response) -> list[tuple[str, dict[str, tuple[str, bool]]]]:
    """(credentials header that answers it, params) for every Digest challenge."""
    out = []
    for name, answer in (("WWW-Authenticate", "Authorization"),
                         ("Proxy-Authenticate", "Proxy-Authorization")):
        for value in response.headers.get_all(name):
            scheme, rest = split_scheme(value)
            if scheme.lower() == "digest":
                out.append((answer, auth_params(rest)))
    return out


def _value(params: dict[str, tuple[str, bool]], name: str) -> str | None:
    item = params.get(name)
    return None if item is None else item[0]


def _challenged(t: Transaction | None) -> bool:
    """The final response of ``t`` is a 401 / 407 challenge, as the model reads it."""
    read = outcome(t) if t is not None else None
    return read is not None and read.kind == "challenge"


def _previous(reg: Registration, i: int) -> Transaction | None:
    return reg.transactions[i - 1] if i > 0 else None


def _challenge_for(
    ctx: Context, reg: Registration, params: dict[str, tuple[str, bool]]
) -> tuple[Observation, str, dict[str, tuple[str, bool]]] | None:
    nonce = _value(params, "nonce")
    if nonce is None:
        return None
    return ctx.challenges.get((reg.client, reg.registrar, nonce))


# -- message rules ------------------------------------------------------------------------------


@_rule("RFC3261-10.2-REQUEST-URI-DOMAIN", "message")
def _request_uri(ctx: Context, reg: Registration, i: int) -> Iterator[Hit]:
    t = reg.transactions[i]
    uri = t.request.uri
    if isinstance(uri, SipUri) and (uri.user is not None or uri.password is not None):
        yield _hit(reg, f"Request-URI {uri} carries userinfo (§10.2: user and '@' omitted)",
                   t.first)


@_rule("RFC3261-10.2-TO-AOR-SIP-URI", "message")
def _to_sip(ctx: Context, reg: Registration, i: int) -> Iterator[Hit]:
    t = reg.transactions[i]
    uri = t.request.to.uri
    if not isinstance(uri, SipUri):
        yield _hit(reg, f"To {uri} is not a SIP or SIPS URI", t.first)


@_rule("RFC3261-10.2-FROM-AOR", "message")
def _from_aor(ctx: Context, reg: Registration, i: int) -> Iterator[Hit]:
    t = reg.transactions[i]
    uri = t.request.from_.uri
    if not isinstance(uri, SipUri):
        yield _hit(reg, f"From {uri} is not a SIP or SIPS address-of-record", t.first)


@_rule("RFC3261-8.1.1.2-NO-TO-TAG", "message")
def _to_tag(ctx: Context, reg: Registration, i: int) -> Iterator[Hit]:
    t = reg.transactions[i]
    if t.request.to.tag is not None:
        yield _hit(reg, f"REGISTER (out of dialog) has a To tag {t.request.to.tag!r}", t.first)


@_rule("RFC3261-8.1.1.3-FROM-TAG", "message")
def _from_tag(ctx: Context, reg: Registration, i: int) -> Iterator[Hit]:
    t = reg.transactions[i]
    if not t.request.from_.tag:
        yield _hit(reg, "From has no tag", t.first)


@_rule("RFC3261-8.1.1.5-CSEQ-METHOD", "message")
def _cseq_method(ctx: Context, reg: Registration, i: int) -> Iterator[Hit]:
    t = reg.transactions[i]
    if t.cseq_method != t.request.method:
        yield _hit(reg, f"CSeq method {t.cseq_method} is not REGISTER", t.first)


@_rule("RFC3261-8.1.1.5-CSEQ-RANGE", "message")
def _cseq_range(ctx: Context, reg: Registration, i: int) -> Iterator[Hit]:
    t = reg.transactions[i]
    if t.cseq >= MAX_CSEQ:
        yield _hit(reg, f"CSeq {t.cseq} is not below 2**31", t.first)


@_rule("RFC3261-8.1.1.6-MAX-FORWARDS-PRESENT", "message")
def _max_forwards_present(ctx: Context, reg: Registration, i: int) -> Iterator[Hit]:
    t = reg.transactions[i]
    if "Max-Forwards" not in t.request.headers:
        yield _hit(reg, "no Max-Forwards header", t.first)


@_rule("RFC3261-8.1.1.6-MAX-FORWARDS-70", "message")
def _max_forwards_70(ctx: Context, reg: Registration, i: int) -> Iterator[Hit]:
    t = reg.transactions[i]
    value = t.request.headers.get("Max-Forwards")
    if value is not None and value.strip() != "70":
        yield _hit(reg, f"Max-Forwards is {value.strip()}, not 70", t.first)


@_rule("RFC3261-8.1.1.7-BRANCH-PRESENT", "message")
def _branch_present(ctx: Context, reg: Registration, i: int) -> Iterator[Hit]:
    t = reg.transactions[i]
    if not t.branch:
        yield _hit(reg, "the top Via has no branch parameter", t.first)


@_rule("RFC3261-8.1.1.7-BRANCH-COOKIE", "message")
def _branch_cookie(ctx: Context, reg: Registration, i: int) -> Iterator[Hit]:
    t = reg.transactions[i]
    if t.branch and not t.branch.startswith(MAGIC_COOKIE):
        yield _hit(reg, f"branch {t.branch!r} does not start with the magic cookie z9hG4bK",
                   t.first)


@_rule("RFC3261-10.2-NO-ACTION-PARAM", "message")
def _action_param(ctx: Context, reg: Registration, i: int) -> Iterator[Hit]:
    t = reg.transactions[i]
    for contact in _contacts(t.request):
        if "action" in contact.params:
            yield _hit(reg, f"Contact {contact} uses the deprecated action parameter", t.first)
            return


@_rule("RFC3261-10.2.1-SIPS-AOR-SIPS-CONTACTS", "message")
def _sips_contacts(ctx: Context, reg: Registration, i: int) -> Iterator[Hit]:
    t = reg.transactions[i]
    to = t.request.to.uri
    if isinstance(to, SipUri) and to.scheme == "sips":
        for contact in _contacts(t.request):
            if not (isinstance(contact.uri, SipUri) and contact.uri.scheme == "sips"):
                yield _hit(reg, f"AOR is SIPS but Contact {contact.uri} is not", t.first)
                return


@_rule("RFC3261-10.2.2-STAR-ONLY-WITH-EXPIRES-0", "message")
def _star(ctx: Context, reg: Registration, i: int) -> Iterator[Hit]:
    t = reg.transactions[i]
    rows = [v.strip() for v in t.request.headers.get_all("Contact")]
    if "*" not in rows:
        return
    if len(rows) > 1:
        yield _hit(reg, "Contact: * is not alone (other Contact values too)", t.first)
    elif _header_expires(t.request) != 0:
        expires = t.request.headers.get("Expires")
        yield _hit(reg, f"Contact: * with Expires {expires!r} (must be Expires: 0)", t.first)


@_rule("RFC3261-20.19-EXPIRES-VALUE", "message")
def _expires_value(ctx: Context, reg: Registration, i: int) -> Iterator[Hit]:
    t = reg.transactions[i]
    for value in t.request.headers.get_lines("Expires"):
        if not _DELTA_SECONDS.match(value.strip()):
            yield _hit(reg, f"Expires {value.strip()!r} is not delta-seconds", t.first)
            return
    for contact in _contacts(t.request):
        raw = contact.params.get("expires") if "expires" in contact.params else ""
        if raw is not None and raw != "" and not _DELTA_SECONDS.match(raw):
            yield _hit(reg, f"Contact expires={raw!r} is not delta-seconds", t.first)
            return
        if raw is None:
            yield _hit(reg, f"Contact {contact.uri} has an expires parameter without a value",
                       t.first)
            return


@_rule("RFC3581-3-RPORT-NO-VALUE", "message")
def _rport_flag(ctx: Context, reg: Registration, i: int) -> Iterator[Hit]:
    for sent in reg.transactions[i].sends:
        message = sent.message
        try:
            vias = message.vias if isinstance(message, Request) else []
        except ParseError:
            return  # the grammar finding, or the Via rules, judge a Via that does not parse
        if vias and vias[0].has_rport and vias[0].params.get("rport") is not None:
            yield _hit(reg, f"top Via has rport={vias[0].params.get('rport')} (a request's "
                            "rport is a flag without a value)", sent)
            return


@_rule("RFC3261-20.42-VIA-TRANSPORT", "message")
def _via_transport(ctx: Context, reg: Registration, i: int) -> Iterator[Hit]:
    for sent in reg.transactions[i].sends:
        message = sent.message
        try:
            vias = message.vias if isinstance(message, Request) else []
        except ParseError:
            return
        if vias and sent.transport in ("UDP", *STREAM_TRANSPORTS) \
                and vias[0].transport != sent.transport:
            yield _hit(reg, f"sent over {sent.transport} with a top Via naming "
                            f"{vias[0].transport}", sent)
            return


@_rule("RFC3261-18.1.1-SIZE-CONGESTION-CONTROLLED", "message")
def _udp_size(ctx: Context, reg: Registration, i: int) -> Iterator[Hit]:
    for sent in reg.transactions[i].sends:
        if sent.transport == "UDP" and len(sent.raw) > UDP_SIZE_LIMIT:
            yield _hit(reg, f"REGISTER of {len(sent.raw)} bytes sent over UDP (over 1300 bytes "
                            "with the path MTU unknown: TCP or another congestion-controlled "
                            "transport)", sent)
            return


@_rule("RFC3261-18.3-CONTENT-LENGTH-STREAM", "message")
def _stream_content_length(ctx: Context, reg: Registration, i: int) -> Iterator[Hit]:
    for sent in reg.transactions[i].sends:
        message = sent.message
        if sent.transport in STREAM_TRANSPORTS and isinstance(message, Request) \
                and "Content-Length" not in message.headers:
            yield _hit(reg, f"REGISTER sent over {sent.transport} without Content-Length",
                       sent)
            return


# -- digest (message rules with the challenge they answer) -----------------------------------


@_rule("RFC3261-22-NO-BASIC", "message")
def _no_basic(ctx: Context, reg: Registration, i: int) -> Iterator[Hit]:
    t = reg.transactions[i]
    for name, scheme, _ in _transaction_credentials(t):
        if scheme.lower() == "basic":
            yield _hit(reg, f"{name} uses Basic", t.first)
            return


@_rule("RFC3261-22.3-CREDENTIALS-PER-REALM", "message")
def _per_realm(ctx: Context, reg: Registration, i: int) -> Iterator[Hit]:
    t, previous = reg.transactions[i], _previous(reg, i)
    if not _challenged(previous):
        return
    assert previous is not None
    final = previous.final
    assert final is not None
    offered = {(answer, _value(p, "realm")) for answer, p in _challenges(final[1])}
    given = {(name, _value(p, "realm")) for name, scheme, p in _transaction_credentials(t)
             if scheme.lower() == "digest"}
    missing = sorted(f"{answer} for realm {realm!r}" for answer, realm in offered - given)
    if missing:
        yield _hit(reg, f"resubmission after {previous.status} lacks {', '.join(missing)}",
                   final[0], t.first)


def _digests(ctx: Context, reg: Registration, i: int) -> Iterator[
    tuple[Transaction, str, dict[str, tuple[str, bool]]]
]:
    t = reg.transactions[i]
    for name, scheme, params in _transaction_credentials(t):
        if scheme.lower() == "digest":
            yield t, name, params


def _transaction_credentials(t: Transaction) -> list[tuple[str, str, dict[str, tuple[str, bool]]]]:
    found = t.cache.get("credentials")
    if found is None:
        found = t.cache["credentials"] = _credentials(t.request)
    return found


@_rule("RFC3261-22.4-URI-QUOTED", "message")
def _uri_quoted(ctx: Context, reg: Registration, i: int) -> Iterator[Hit]:
    for t, name, params in _digests(ctx, reg, i):
        item = params.get("uri")
        if item is not None and not item[1]:
            yield _hit(reg, f"{name} uri={item[0]} is not in quotation marks", t.first)
            return


@_rule("RFC7616-3.4-CREDENTIALS-QUOTING", "message")
def _quoting(ctx: Context, reg: Registration, i: int) -> Iterator[Hit]:
    must_quote = ("username", "realm", "nonce", "response", "cnonce", "opaque")
    never_quote = ("algorithm", "qop", "nc")
    for t, name, params in _digests(ctx, reg, i):
        wrong = [k for k in must_quote if k in params and not params[k][1]]
        wrong += [k for k in never_quote if k in params and params[k][1]]
        if wrong:
            yield _hit(reg, f"{name}: {', '.join(wrong)} quoted wrongly", t.first)
            return


@_rule("RFC3261-22.4-NO-CNONCE-WITHOUT-QOP", "message")
def _cnonce_without_qop(ctx: Context, reg: Registration, i: int) -> Iterator[Hit]:
    for t, name, params in _digests(ctx, reg, i):
        if "cnonce" in params and "qop" not in params:
            yield _hit(reg, f"{name} has cnonce but no qop", t.first)
            return


@_rule("RFC7616-3.4-CNONCE", "message")
def _cnonce(ctx: Context, reg: Registration, i: int) -> Iterator[Hit]:
    for t, name, params in _digests(ctx, reg, i):
        cnonce = _value(params, "cnonce")
        if "qop" in params and (not cnonce or not cnonce.isascii()):
            yield _hit(reg, f"{name} has qop but no (ASCII) cnonce", t.first)
            return


@_rule("RFC7616-3.4-NC-HEX8", "message")
def _nc(ctx: Context, reg: Registration, i: int) -> Iterator[Hit]:
    for t, name, params in _digests(ctx, reg, i):
        if "qop" not in params:
            continue
        nc = _value(params, "nc")
        if nc is None or not _NC.match(nc):
            yield _hit(reg, f"{name} nc={nc!r} is not 8 lower-case hex digits", t.first)
            return
        # RFC 7616 §3.4: nc counts the requests sent with this nonce.  Requests other than
        # REGISTER may share the nonce unseen, so the audit asks only that it rises.
        nonce, response = _value(params, "nonce"), _value(params, "response")
        earlier = [
            p for other in _earlier_transactions(ctx, reg, t)
            for _, scheme, p in _transaction_credentials(other)
            if scheme.lower() == "digest" and _value(p, "nonce") == nonce
            and _value(p, "realm") == _value(params, "realm")
        ]
        if any(_value(p, "response") == response for p in earlier):
            continue  # the very credentials again: RFC3261-22.1-NO-RESEND-REJECTED judges
        counts = [int(c, 16) for p in earlier if (c := _value(p, "nc")) and _NC.match(c)]
        if counts and int(nc, 16) <= max(counts):
            yield _hit(reg, f"{name} nc={nc} does not rise above {max(counts):08x}, sent "
                            f"earlier with nonce {nonce}", t.first)
            return


def _earlier_transactions(ctx: Context, reg: Registration, t: Transaction) -> list[Transaction]:
    """This client's transactions to this registrar (any Call-ID) that began before ``t``."""
    return [
        other
        for r in _all_registrations_of(ctx, reg)
        for other in r.transactions
        if other.first.number < t.first.number
    ]


@_rule("RFC7616-3.4-QOP-ONE-OF-OFFERED", "message")
def _qop_offered(ctx: Context, reg: Registration, i: int) -> Iterator[Hit]:
    for t, name, params in _digests(ctx, reg, i):
        challenge = _challenge_for(ctx, reg, params)
        if challenge is None:
            continue
        offered_text = _value(challenge[2], "qop")
        if offered_text is None:
            continue
        offered = [q.strip() for q in offered_text.split(",") if q.strip()]
        qop = _value(params, "qop")
        if qop not in offered:
            yield _hit(reg, f"{name} qop={qop!r} is not one of the offered {offered}",
                       challenge[0], t.first)
            return


@_rule("RFC7616-3.3-OPAQUE-ECHO", "message")
def _opaque(ctx: Context, reg: Registration, i: int) -> Iterator[Hit]:
    for t, name, params in _digests(ctx, reg, i):
        challenge = _challenge_for(ctx, reg, params)
        if challenge is None:
            continue
        opaque = _value(challenge[2], "opaque")
        if opaque is not None and _value(params, "opaque") != opaque:
            yield _hit(reg, f"{name} does not return the challenge's opaque unchanged",
                       challenge[0], t.first)
            return
        # RFC 2617 §3.2.2: "The values of the opaque and algorithm fields must be those
        # supplied"; an absent algorithm means MD5 on both sides.
        offered = _offered_algorithms(ctx, reg, _value(params, "nonce") or "")
        used = (_value(params, "algorithm") or "MD5").upper()
        if challenge[2] and offered and used not in offered:
            yield _hit(reg, f"{name} algorithm={used} is not the challenge's "
                            f"{' or '.join(sorted(offered))}", challenge[0], t.first)
            return


def _offered_algorithms(ctx: Context, reg: Registration, nonce: str) -> set[str]:
    """The algorithms of every challenge to this client carrying ``nonce`` (RFC 8760 §2.4: a
    registrar may offer one challenge per algorithm, possibly with one nonce)."""
    found: set[str] = set()
    for other in _all_registrations_of(ctx, reg):
        for t in other.transactions:
            for _, response in t.responses:
                if response.status not in (401, 407):
                    continue
                with contextlib.suppress(ParseError):
                    for _, p in _challenges(response):
                        if _value(p, "nonce") == nonce:
                            found.add((_value(p, "algorithm") or "MD5").upper())
    return found


@_rule("RFC2617-3.2.2.5-DIGEST-URI", "message")
def _digest_uri(ctx: Context, reg: Registration, i: int) -> Iterator[Hit]:
    for t, name, params in _digests(ctx, reg, i):
        uri = _value(params, "uri")
        if uri is None:
            continue
        request_uri = str(t.request.uri)
        if uri != request_uri:
            try:
                from sipfsm.message import parse_uri

                same = uri_equal(parse_uri(uri), t.request.uri)
            except (ParseError, ValueError):
                same = False
            if not same:
                yield _hit(reg, f"{name} uri={uri!r} is not the Request-URI {request_uri}",
                           t.first)
                return


@_rule("RFC3261-25-REQUEST-DIGEST-LHEX", "message")
def _response_lhex(ctx: Context, reg: Registration, i: int) -> Iterator[Hit]:
    for t, name, params in _digests(ctx, reg, i):
        response = _value(params, "response")
        if response is None:
            continue
        algorithm = (_value(params, "algorithm") or "MD5").upper().removesuffix("-SESS")
        length = _DIGEST_HEX_LENGTH.get(algorithm)
        if not _LHEX.match(response) or (length is not None and len(response) != length):
            want = f"{length} " if length is not None else ""
            yield _hit(reg, f"{name} response={response!r} is not {want}lower-case hex digits",
                       t.first)
            return


@_rule("RFC2617-3.2.2.1-RESPONSE-DIGEST", "message")
def _response(ctx: Context, reg: Registration, i: int) -> Iterator[Hit]:
    if ctx.password is None:
        return
    for t, name, params in _digests(ctx, reg, i):
        if (_value(params, "userhash") or "").lower() == "true":
            continue
        fields = {k: _value(params, k) for k in ("username", "realm", "nonce", "uri", "response")}
        if any(v is None for v in fields.values()):
            continue
        qop, nc, cnonce = (_value(params, k) for k in ("qop", "nc", "cnonce"))
        if qop and (not cnonce or nc is None or not _NC.match(nc)):
            continue  # RFC7616-3.4-CNONCE / -NC-HEX8 judge these
        expected = expected_response(
            algorithm=_value(params, "algorithm") or "MD5",
            username=fields["username"] or "",
            realm=fields["realm"] or "",
            password=ctx.password,
            method=t.request.method,
            uri=fields["uri"] or "",
            nonce=fields["nonce"] or "",
            qop=qop,
            nc=nc,
            cnonce=cnonce,
            body=t.request.body,
        )
        if expected is not None and expected != (fields["response"] or "").lower():
            yield _hit(reg, f"{name} response does not match the password given "
                            f"(user {fields['username']!r}, realm {fields['realm']!r})", t.first)
            return


# -- sequence rules -----------------------------------------------------------------------------


def _all_registrations_of(ctx: Context, reg: Registration) -> list[Registration]:
    return ctx.exchange.siblings.get((reg.client, reg.registrar), [reg])


@_rule("RFC3261-10.2-CALL-ID-PER-REGISTRAR", "sequence")
def _call_id(ctx: Context, reg: Registration, i: int) -> Iterator[Hit]:
    if i != 0:
        return
    siblings = _all_registrations_of(ctx, reg)
    first = min(siblings, key=lambda r: r.transactions[0].first.number)
    if first is not reg:
        yield _hit(reg, f"a second Call-ID {reg.call_id!r} for registrar {reg.registrar} "
                        f"(first: {first.call_id!r})",
                   first.transactions[0].first, reg.transactions[0].first)


@_rule("RFC3261-10.2-CSEQ-INCREMENT", "sequence")
def _cseq_increment(ctx: Context, reg: Registration, i: int) -> Iterator[Hit]:
    previous = _previous(reg, i)
    if previous is None or _challenged(previous):
        return  # after a challenge, RFC3261-22.2-RESUBMIT-CSEQ judges
    t = reg.transactions[i]
    if t.cseq != previous.cseq + 1:
        yield _hit(reg, f"CSeq {t.cseq} follows {previous.cseq} (must be {previous.cseq + 1})",
                   previous.first, t.first)


@_rule("RFC3261-22.2-RESUBMIT-CSEQ", "sequence")
def _resubmit_cseq(ctx: Context, reg: Registration, i: int) -> Iterator[Hit]:
    previous = _previous(reg, i)
    if previous is None or not _challenged(previous):
        return
    t = reg.transactions[i]
    if t.cseq != previous.cseq + 1:
        final = previous.final
        assert final is not None
        yield _hit(reg, f"resubmission after {previous.status} has CSeq {t.cseq}, "
                        f"not {previous.cseq + 1}", final[0], t.first)


@_rule("RFC3261-8.1.1.7-BRANCH-UNIQUE", "sequence")
def _branch_unique(ctx: Context, reg: Registration, i: int) -> Iterator[Hit]:
    t = reg.transactions[i]
    for earlier, later in ctx.exchange.branches_reused:
        if later is t:
            yield _hit(reg, f"branch {t.branch!r} of an earlier request reused by a new one "
                            f"(CSeq {earlier.cseq} -> {t.cseq})", earlier.first, t.first)


@_rule("RFC3261-10.2-ONE-REGISTER-IN-FLIGHT", "sequence")
def _in_flight(ctx: Context, reg: Registration, i: int) -> Iterator[Hit]:
    previous = _previous(reg, i)
    if previous is None:
        return
    t = reg.transactions[i]
    final = previous.final
    if final is not None:
        if t.first.number < final[0].number:
            yield _hit(reg, f"CSeq {t.cseq} sent before CSeq {previous.cseq} got its final "
                            "response", previous.first, t.first, final[0])
        return
    start, now = previous.start, t.start
    if start is not None and now is not None and now - start < TIMER_F - IN_FLIGHT_SLACK:
        yield _hit(reg, f"CSeq {t.cseq} sent {now - start:.2f} s after CSeq {previous.cseq}, "
                        "which had neither a final response nor timed out (Timer F 32 s)",
                   previous.first, t.first)


def _after_final(t: Transaction) -> list[Observation]:
    final = t.final
    if final is None:
        return []
    return [s for s in t.sends if s.number > final[0].number
            and not (s.time is not None and final[0].time is not None
                     and s.time - final[0].time < 0.01)]


@_rule("RFC3261-17.1.2.1-NO-RETRANSMIT-AFTER-FINAL", "sequence")
def _no_retransmit_after_final(ctx: Context, reg: Registration, i: int) -> Iterator[Hit]:
    t = reg.transactions[i]
    late = _after_final(t)
    if late:
        final = t.final
        assert final is not None
        yield _hit(reg, f"CSeq {t.cseq} retransmitted after its final {final[1].status}",
                   final[0], *late)


@_rule("RFC3261-17.1.2.2-TIMER-E-START", "sequence")
def _no_retransmit_reliable(ctx: Context, reg: Registration, i: int) -> Iterator[Hit]:
    t = reg.transactions[i]
    if t.transport in STREAM_TRANSPORTS and len(t.sends) > 1:
        yield _hit(reg, f"CSeq {t.cseq} retransmitted over {t.transport} (no Timer E on a "
                        "reliable transport)", *t.sends)


@_rule("RFC3261-17.1.2.2-TIMEOUT-TRYING", "sequence")
def _timer_f(ctx: Context, reg: Registration, i: int) -> Iterator[Hit]:
    t = reg.transactions[i]
    if t.final is not None or t.start is None:
        return
    start = t.start
    late = [s for s in t.sends[1:] if s.time is not None
            and s.time - start > TIMER_F + IN_FLIGHT_SLACK]
    if late:
        waited = (late[0].time or start) - start
        yield _hit(reg, f"CSeq {t.cseq} still retransmitted {waited:.1f} s after the first "
                        "send (Timer F 32 s)", t.first, *late)


def _retransmission_gaps(ctx: Context, t: Transaction) -> Iterator[tuple[str, str]]:
    """(rule id, explanation) for each gap off Timer E's schedule (RFC 3261 §17.1.2.2)."""
    if t.transport != "UDP" or t.start is None:
        return
    final = t.final
    final_time = final[0].time if final is not None else None
    provisional = [o.time for o, r in t.responses if r.status < 200 and o.time is not None]
    sends = [s for s in t.sends if s.time is not None
             and (final_time is None or s.time < final_time + 0.01)
             and s.time - t.start <= TIMER_F + IN_FLIGHT_SLACK]
    if not sends:
        return  # every copy is timed after the final response (a clock step, a bad capture)
    tol = ctx.tolerance
    interval = T1
    previous = sends[0]
    for send in sends[1:]:
        assert send.time is not None and previous.time is not None
        gap = send.time - previous.time
        proceeding = any(p <= send.time for p in provisional)
        if proceeding:
            if not tol.low(min(interval, T2)) <= gap <= tol.high(T2):
                yield ("RFC3261-17.1.2.2-TIMER-E-PROCEEDING",
                       f"CSeq {t.cseq} retransmitted {gap:.2f} s after the previous copy in "
                       "Proceeding (T2 = 4 s)|" + f"{previous.number},{send.number}")
            interval = T2
        else:
            if not tol.low(interval) <= gap <= tol.high(interval):
                yield ("RFC3261-17.1.2.2-TIMER-E-DOUBLING",
                       f"CSeq {t.cseq} retransmitted {gap:.2f} s after the previous copy; "
                       f"Timer E was {interval:g} s|{previous.number},{send.number}")
                return
            interval = min(2 * interval, T2)
        previous = send
    # A retransmission that should have come and did not, while the recording went on.
    assert previous.time is not None
    due = previous.time + tol.high(T2 if provisional else interval)
    horizon = [x for x in (final_time, ctx.exchange.end, t.start + TIMER_F) if x is not None]
    if due < min(horizon) and (final_time is None or due < final_time):
        rule = ("RFC3261-17.1.2.2-TIMER-E-PROCEEDING" if provisional
                else "RFC3261-17.1.2.2-TIMER-E-DOUBLING")
        yield (rule, f"CSeq {t.cseq}: no retransmission {T2 if provisional else interval:g} s "
                     f"after the copy at +{previous.time - t.start:.2f} s|{previous.number}")


def _gap_hits(ctx: Context, reg: Registration, i: int, rule_id: str) -> Iterator[Hit]:
    t = reg.transactions[i]
    by_number = {s.number: s for s in t.sends}
    for rid, text in _retransmission_gaps(ctx, t):
        if rid != rule_id:
            continue
        explanation, _, numbers = text.partition("|")
        messages = [by_number[int(n)] for n in numbers.split(",") if int(n) in by_number]
        yield _hit(reg, explanation, *messages)


@_rule("RFC3261-17.1.2.2-TIMER-E-DOUBLING", "sequence")
def _timer_e(ctx: Context, reg: Registration, i: int) -> Iterator[Hit]:
    yield from _gap_hits(ctx, reg, i, "RFC3261-17.1.2.2-TIMER-E-DOUBLING")


@_rule("RFC3261-17.1.2.2-TIMER-E-PROCEEDING", "sequence")
def _timer_e_proceeding(ctx: Context, reg: Registration, i: int) -> Iterator[Hit]:
    yield from _gap_hits(ctx, reg, i, "RFC3261-17.1.2.2-TIMER-E-PROCEEDING")


@_rule("RFC3261-22.1-NO-RESEND-REJECTED", "sequence")
def _no_resend_rejected(ctx: Context, reg: Registration, i: int) -> Iterator[Hit]:
    """Rejected: credentials answered with a non-stale challenge for their realm.  Resent: the
    very same credentials again, or -- when the rejected ones themselves answered a challenge
    (so they were not a pre-emptive guess with an old nonce) -- the same user for that realm
    again, whatever the new nonce (the password is what was rejected)."""
    previous = _previous(reg, i)
    if previous is None or not _challenged(previous):
        return
    final = previous.final
    assert final is not None
    answered = _challenged(_previous(reg, i - 1)) if i >= 2 else False
    stale = {
        _value(p, "realm") for _, p in _challenges(final[1])
        if (_value(p, "stale") or "").lower() == "true"
    }
    rechallenged = {_value(p, "realm") for _, p in _challenges(final[1])} - stale
    rejected = [
        p for _, scheme, p in _transaction_credentials(previous)
        if scheme.lower() == "digest" and _value(p, "realm") in rechallenged
    ]
    t = reg.transactions[i]
    for name, scheme, p in _transaction_credentials(t):
        if scheme.lower() != "digest":
            continue
        for old in rejected:
            if _value(old, "realm") != _value(p, "realm"):
                continue
            same = all(_value(old, k) == _value(p, k) for k in ("nonce", "response"))
            if same or (answered and _value(old, "username") == _value(p, "username")):
                how = "unchanged" if same else "with a new nonce (same user and realm)"
                yield _hit(reg, f"{name} for realm {_value(p, 'realm')!r} sent again {how} "
                                f"after the {previous.status} that rejected it",
                           previous.first, final[0], t.first)
                return


@_rule("RFC3261-10.2.8-423-RETRY", "sequence")
def _retry_423(ctx: Context, reg: Registration, i: int) -> Iterator[Hit]:
    previous = _previous(reg, i)
    read = outcome(previous) if previous is not None else None
    if previous is None or read is None or read.kind != "too-brief":
        return
    final = previous.final
    assert final is not None
    minimum = read.min_expires
    if minimum is None:
        return
    t = reg.transactions[i]
    for contact in _contacts(t.request):
        expiry = _contact_expiry(contact, t.request)
        if expiry is not None and 0 < expiry < minimum:
            yield _hit(reg, f"retry after 423 (Min-Expires {minimum}) asks {expiry} s for "
                            f"{contact.uri}", final[0], t.first)
            return


@_rule("RFC3261-21.5.4-503-HOLD-OFF", "sequence")
def _hold_off(ctx: Context, reg: Registration, i: int) -> Iterator[Hit]:
    t = reg.transactions[i]
    if t.start is None:
        return
    for other in _all_registrations_of(ctx, reg):
        for earlier in other.transactions:
            final = earlier.final
            if final is None or final[1].status != 503 or final[0].time is None:
                continue
            if final[0].number > t.first.number:
                continue
            read = outcome(earlier)
            retry = None if read is None else read.retry_after
            if retry is None:
                continue
            waited = t.start - final[0].time
            if 0 <= waited < retry - ctx.tolerance.absolute:
                yield _hit(reg, f"REGISTER {waited:.2f} s after a 503 with Retry-After "
                                f"{retry}", final[0], t.first)
                return


@_rule("RFC3261-10.2.7-NO-IMMEDIATE-RETRY-AFTER-TIMEOUT", "sequence")
def _after_timeout(ctx: Context, reg: Registration, i: int) -> Iterator[Hit]:
    previous = _previous(reg, i)
    t = reg.transactions[i]
    if previous is None or previous.final is not None or previous.start is None or t.start is None:
        return
    timeout = previous.start + TIMER_F
    waited = t.start - timeout
    if -IN_FLIGHT_SLACK <= waited < IMMEDIATE_AFTER_TIMEOUT:
        yield _hit(reg, f"CSeq {t.cseq} sent {max(waited, 0.0):.2f} s after CSeq "
                        f"{previous.cseq} timed out", previous.first, t.first)


def _mentions(t: Transaction, contact: Contact) -> bool:
    rows = [v.strip() for v in t.request.headers.get_all("Contact")]
    if "*" in rows:
        return True
    return any(uri_equal(c.uri, contact.uri) for c in _contacts(t.request))


@_rule("RFC3261-10.2.4-REFRESH-BEFORE-EXPIRY", "sequence")
def _refresh(ctx: Context, reg: Registration, i: int) -> Iterator[Hit]:
    t = reg.transactions[i]
    final = t.final
    end = ctx.exchange.end
    if final is None or not 200 <= final[1].status < 300 or final[0].time is None or end is None:
        return
    read = outcome(t)
    granted_to = () if read is None or read.granted is None else read.granted
    for contact in _contacts(t.request):
        asked = _contact_expiry(contact, t.request)
        if asked == 0:
            continue
        granted: int | None = None
        for uri, seconds in granted_to:  # RFC 3261 §19.1.4 equality: our own binding only
            if uri_equal(uri, contact.uri):
                granted = seconds
                break
        if granted is None:
            granted = _header_expires(final[1]) or asked or 3600
        deadline = final[0].time + granted
        if end <= deadline:
            continue
        later = [x for x in reg.transactions[i + 1:] if _mentions(x, contact)]
        if not later or later[0].start is None or later[0].start > deadline:
            when = "never" if not later or later[0].start is None else (
                f"{later[0].start - final[0].time:.1f} s later")
            yield _hit(reg, f"binding {contact.uri} granted {granted} s, refreshed {when}",
                       t.first, final[0], *([later[0].first] if later else []))
            return


@_rule("RFC3261-10.2.4-NO-REFRESH-OTHERS", "sequence")
def _others(ctx: Context, reg: Registration, i: int) -> Iterator[Hit]:
    t = reg.transactions[i]
    own: list[Contact] = []
    others: list[tuple[Contact, Observation]] = []
    for earlier in reg.transactions[:i]:
        own.extend(_contacts(earlier.request))
        final = earlier.final
        if final is not None and 200 <= final[1].status < 300:
            with contextlib.suppress(ParseError):
                others.extend((c, final[0]) for c in final[1].contacts)
    for contact in _contacts(t.request):
        if any(uri_equal(contact.uri, o.uri) for o in own):
            continue
        for other, seen in others:
            if uri_equal(contact.uri, other.uri) and (_contact_expiry(contact, t.request) != 0):
                yield _hit(reg, f"refreshes {contact.uri}, a binding it did not set up "
                                "(learned from a 200)", seen, t.first)
                return
