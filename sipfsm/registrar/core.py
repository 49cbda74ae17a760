"""The embedded registrar, sans-IO: RFC 3261 §10.3 as one ``handle(request) -> responses`` call.

``sipfsm registrar``, ``sipfsm demo``, the tests and the simulator all run this one class.  It reads
time from the ``Clock`` port and draws nonces, tags and drop decisions from the ``Random`` port;
it never touches a socket.  Bindings expire by the clock and are purged lazily when their
address-of-record is touched (plus a sweep of everything once a minute of clock time), so no
timers are needed.

The order of the checks is §10.3's:

====  =========================================================================================
 -    a retransmission of a request already answered gets the same answer (the registrar is its
      own server transaction, §17.2.2); scenario drops happen before anything else
 -    REGISTER only (OPTIONS answered 200, ACK ignored, CANCEL 200/481, others 405)
 1    Request-URI: a SIP/SIPS URI (416) for one of ``config.domains`` (404)
 2    Require: unknown option tags -> 420 with Unsupported (§8.2.2.3)
 3    Digest authentication -> 401 (``stale=true`` for an expired nonce)
 4    the authenticated user must be the To user -> 403
 5    To: a SIP/SIPS AOR in our domains, a known user -> 404; canonicalised as the bindings' key
 6    ``Contact: *`` only alone and with ``Expires: 0`` -> 400
 7    per contact: expires param > Expires header > default; 423 + Min-Expires for
      0 < expiry < min(min_expires, 3600); clamp to max_expires; Call-ID / CSeq ordering;
      committed all together
 8    200 listing every current binding with ``;expires=<remaining>``, and a Date header
====  =========================================================================================
"""

from __future__ import annotations

import ipaddress
import math
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from urllib.parse import unquote

from sipfsm import __version__
from sipfsm.errors import ConfigError, ParseError
from sipfsm.message import (
    Contact,
    Request,
    Response,
    SipUri,
    Uri,
    Via,
    format_date,
    parse_uri,
    uri_equal,
)
from sipfsm.message.responses import build_response
from sipfsm.ports import Clock, HostPort, Random
from sipfsm.registrar.digest import DigestAuthority, Verdict, canonical_algorithm
from sipfsm.registrar.scenario import (
    DropEvery,
    DropRandom,
    Fault,
    IntervalTooBriefLoop,
    OmitContact,
    Redirect,
    Scenario,
    ServerError,
    ServiceUnavailable,
    StaleNonce,
    parse_scenario,
)

__all__ = [
    "STATUSES",
    "BindingInfo",
    "PasswordLookup",
    "Registrar",
    "RegistrarConfig",
    "canonical_aor",
]

PasswordLookup = Callable[[str], "str | None"]

# Every status the registrar can send (phrases: sipfsm.message.responses.REASON_PHRASES).
STATUSES = frozenset({200, 302, 400, 401, 403, 404, 405, 416, 420, 423, 481, 500, 501, 502, 503,
                      504, 505, 513})
ALLOW = "REGISTER, OPTIONS, CANCEL, ACK"
ONE_HOUR = 3600  # §10.3 step 7: 423 only for intervals below one hour
MALFORMED_EXPIRES = 3600  # §10.2.1.1: a malformed expires value is read as 3600
MAGIC_COOKIE = "z9hG4bK"  # §17.2.3: branches of RFC 3261 clients
SWEEP_INTERVAL = 60.0
MAX_REMEMBERED_TRANSACTIONS = 10_000
# bytes a remembered transaction costs beyond the text of its key and responses (objects, rows)
_ENTRY_OVERHEAD = 1024


# --------------------------------------------------------------------------------------------
# Configuration
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class RegistrarConfig:
    """What the registrar serves and how strictly.

    * ``domains``: the domains it keeps bindings for (lower-cased); ``None`` accepts any.  A
      Request-URI that is an IP literal names this server and is accepted whatever the domains.
    * ``users``: ``{user: password}`` or a function ``user -> password | None``.  With users and
      ``authenticate`` (the default) every REGISTER needs Digest credentials; with
      ``authenticate=False`` they only restrict which AORs exist.  ``None``: anyone, no auth.
    * ``realm``: the Digest realm; default the To URI's host.
    * ``algorithms``: offered in this order, one challenge (and nonce) each: ``MD5``,
      ``SHA-256``, ``SHA-512-256`` or their ``-sess`` forms (:mod:`sipfsm.auth.server`).  MD5
      by default: SIPp 3.6 answers nothing else.
    * ``reject_status``: 401 (challenge again, the default) or 403 for wrong credentials.
    * ``scenario``: a :class:`Scenario` or its text (``"drop:0.3,stale-nonce"``).

    Limits (what one peer can make the registrar hold or send), each refused with a clear
    status and nothing changed:

    * ``max_contacts`` (20): bindings per AOR; a REGISTER that would leave more gets 503 with
      ``P-Registrar-Error: Too many registered contacts`` (Kamailio's ``max_contacts`` answer),
      the existing bindings kept.  0: no limit.
    * ``max_bindings`` (100,000): bindings of all AORs together; over it, 503 with Retry-After.
    * ``max_response_size`` (16 KiB): a 200 that would be larger is not sent: the REGISTER gets
      513 Message Too Large and nothing is committed (a UDP datagram that large would need IP
      fragmentation, RFC 3261 §18.1.1).
    * ``max_remembered_bytes`` (8 MiB): the server transactions' remembered responses
      (§17.2.2), oldest forgotten first.
    * ``allow_rfc2069`` (False): accept Digest answers without qop (RFC 2069); they can be
      replayed with any Call-ID, CSeq and Contact, so by default they are challenged again.
    * ``check_digest_uri`` (True): the digest ``uri`` must equal the Request-URI (RFC 7616
      §3.4.6), else 400.  SIPp 3.6 puts the registrar's address there instead: False admits it.
    """

    domains: frozenset[str] | None = None
    users: Mapping[str, str] | PasswordLookup | None = None
    realm: str | None = None
    algorithms: tuple[str, ...] = ("MD5",)
    authenticate: bool = True
    reject_status: int = 401
    nonce_lifetime: float = 300.0
    min_expires: int = 60
    max_expires: int = 3600
    default_expires: int = 3600
    supported: frozenset[str] = frozenset()
    scenario: Scenario | str = field(default_factory=Scenario)
    server: str | None = f"sipfsm-registrar/{__version__}"
    transaction_lifetime: float = 32.0  # §17.2.2 Timer J for UDP: 64 * T1
    max_contacts: int = 20
    max_bindings: int = 100_000
    max_response_size: int = 16_384
    max_remembered_bytes: int = 8 * 1024 * 1024
    allow_rfc2069: bool = False
    check_digest_uri: bool = True

    def __post_init__(self) -> None:
        if self.domains is not None:
            if isinstance(self.domains, str):
                raise ConfigError("domains must be a collection of names, not one string")
            domains = frozenset(d.strip().lower().rstrip(".") for d in self.domains)
            if not domains or "" in domains:
                raise ConfigError("domains: give at least one non-empty domain (or None)")
            object.__setattr__(self, "domains", domains)
        algorithms: list[str] = []
        for name in self.algorithms:
            canonical = canonical_algorithm(name)
            if canonical not in algorithms:
                algorithms.append(canonical)
        if not algorithms:
            raise ConfigError("algorithms: offer at least one digest algorithm")
        object.__setattr__(self, "algorithms", tuple(algorithms))
        if self.reject_status not in (401, 403):
            raise ConfigError(f"reject_status must be 401 or 403, not {self.reject_status}")
        if not self.nonce_lifetime > 0:
            raise ConfigError("nonce_lifetime must be positive")
        for name in ("min_expires", "max_expires", "default_expires"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 0:
                raise ConfigError(f"{name} must be an integer >= 0, not {value!r}")
        if self.max_expires < 1:
            raise ConfigError("max_expires must be at least 1")
        if self.min_expires > self.max_expires:
            raise ConfigError(
                f"min_expires ({self.min_expires}) is above max_expires ({self.max_expires})"
            )
        if self.default_expires < 1:
            raise ConfigError("default_expires must be at least 1")
        object.__setattr__(
            self, "supported", frozenset(tag.strip().lower() for tag in self.supported)
        )
        if isinstance(self.scenario, str):
            object.__setattr__(self, "scenario", parse_scenario(self.scenario))
        elif not isinstance(self.scenario, Scenario):
            raise ConfigError(f"scenario must be a Scenario or its text, not {self.scenario!r}")
        if self.realm is not None and not self.realm:
            raise ConfigError("realm must not be empty")
        for name in ("max_contacts", "max_bindings", "max_response_size", "max_remembered_bytes"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 0:
                raise ConfigError(f"{name} must be an integer >= 0, not {value!r}")
        if self.max_response_size < 1024:
            raise ConfigError("max_response_size must be at least 1024 bytes")

    @property
    def faults(self) -> tuple[Fault, ...]:
        scenario = self.scenario
        assert isinstance(scenario, Scenario)
        return scenario.faults

    @property
    def requires_auth(self) -> bool:
        return self.users is not None and self.authenticate

    def password_for(self, user: str) -> str | None:
        users = self.users
        if users is None:
            return None
        if isinstance(users, Mapping):
            return users.get(user)
        return users(user)


# --------------------------------------------------------------------------------------------
# Bindings
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Binding:
    contact: Contact  # as the client sent it, without its expires parameter
    call_id: str
    cseq: int
    expires_at: float  # on the monotonic clock
    source: HostPort
    transport: str


@dataclass(frozen=True, slots=True)
class BindingInfo:
    """One current binding as :meth:`Registrar.bindings` reports it."""

    contact: Contact  # without an expires parameter
    expires: int  # seconds left, rounded up
    call_id: str
    cseq: int
    source: HostPort
    transport: str

    @property
    def uri(self) -> Uri:
        return self.contact.uri


def canonical_aor(uri: SipUri) -> str:
    """§10.3 step 5: the AOR without URI parameters or headers, escapes undone, host
    lower-cased: the key of the bindings."""
    user = "" if uri.user is None else unquote(uri.user) + "@"
    host = f"[{uri.host.lower()}]" if ":" in uri.host else uri.host.lower()
    port = "" if uri.port is None else f":{uri.port}"
    return f"{uri.scheme}:{user}{host}{port}"


def _remaining(expires_at: float, now: float) -> int:
    return max(1, math.ceil(expires_at - now - 1e-9))


def _is_ip(host: str) -> bool:
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return False
    return True


# --------------------------------------------------------------------------------------------
# One exchange: the request and what every response to it copies
# --------------------------------------------------------------------------------------------


class _Reject(Exception):
    """Ends processing with one response (raised by the §10.3 steps)."""

    def __init__(self, response: Response) -> None:
        super().__init__(response.status)
        self.response = response


@dataclass(slots=True)
class _Exchange:
    request: Request
    source: HostPort
    transport: str
    now: float
    to_tag: str
    call_id: str = ""
    cseq: int = 0
    aor: str = ""
    to_user: str | None = None
    authentication_info: str | None = None
    local: HostPort | None = None


# --------------------------------------------------------------------------------------------
# The registrar
# --------------------------------------------------------------------------------------------


class Registrar:
    """A REGISTER-only UAS holding bindings in memory (one dict entry per address-of-record)."""

    def __init__(self, config: RegistrarConfig, clock: Clock, random: Random) -> None:
        self.config = config
        self._clock = clock
        self._random = random
        self._aors: dict[str, list[_Binding]] = {}
        self._binding_count = 0
        self._remembered_bytes = 0
        # §17.2.2: per server transaction, when it was answered, the responses (fresh copies,
        # without parse caches) and their size; bounded by max_remembered_bytes.
        self._answered: dict[tuple[str, str, str], tuple[float, tuple[Response, ...], int]] = {}
        self._received = 0
        self._fired: list[int] = [0] * len(config.faults)
        self._last_min_expires = config.min_expires
        # Whether the last handle() dropped its request on purpose (a drop scenario): over a
        # reliable transport the endpoint then drops the connection, which a client recovers
        # from, where a silently lost request on a stream never is retransmitted.
        self.dropped_last = False
        self._next_sweep = clock.monotonic() + SWEEP_INTERVAL
        self._digest = DigestAuthority(
            password_for=config.password_for,
            algorithms=config.algorithms,
            clock=clock,
            random=random,
            nonce_lifetime=config.nonce_lifetime,
            allow_rfc2069=config.allow_rfc2069,
        )

    # -- public -----------------------------------------------------------------------------------

    def handle(
        self,
        request: Request,
        source: HostPort,
        transport_name: str,
        local: HostPort | None = None,
    ) -> list[Response]:
        """Process one request received from ``source`` over ``transport_name`` (at ``local``,
        this server's address, when known); the responses to send back (usually one; none for
        ACK, an unanswerable request or a scenario drop)."""
        now = self._clock.monotonic()
        if now >= self._next_sweep:
            self.purge()
        self._received += 1
        self.dropped_last = self._dropped()
        if self.dropped_last:
            return []
        try:
            vias = request.vias
        except ParseError:
            return []  # §8.2.6: a response cannot be routed without a Via
        if not vias or request.method == "ACK":
            return []
        key = self._transaction_key(vias[0], request.method)
        if key is not None:
            remembered = self._answered.get(key)
            if remembered is not None and now - remembered[0] <= self.config.transaction_lifetime:
                return list(remembered[1])
        exchange = _Exchange(
            request=request,
            source=source,
            transport=transport_name.upper(),
            now=now,
            local=local,
            to_tag=self._random.token(48),
        )
        try:
            responses = [self._process(exchange)]
        except _Reject as reject:
            responses = [reject.response]
        if key is not None:
            self._remember(key, now, responses)
        return responses

    def bindings(self, aor: str | SipUri) -> list[BindingInfo]:
        """The current bindings of ``aor`` (a SIP URI or its text), oldest first."""
        if isinstance(aor, str):
            parsed = parse_uri(aor)
            if not isinstance(parsed, SipUri):
                return []
            aor = parsed
        now = self._clock.monotonic()
        return [
            BindingInfo(b.contact, _remaining(b.expires_at, now), b.call_id, b.cseq, b.source,
                        b.transport)
            for b in self._current(canonical_aor(aor), now)
        ]  # fmt: skip

    def aors(self) -> list[str]:
        """Every address-of-record with at least one current binding (canonical form)."""
        self.purge()
        return sorted(self._aors)

    def purge(self) -> None:
        """Drop every expired binding and every forgotten transaction now."""
        now = self._clock.monotonic()
        self._next_sweep = now + SWEEP_INTERVAL
        for aor in list(self._aors):
            self._current(aor, now)
        lifetime = self.config.transaction_lifetime
        for key, (when, _, size) in list(self._answered.items()):
            if now - when > lifetime:
                del self._answered[key]
                self._remembered_bytes -= size

    @property
    def requests_received(self) -> int:
        return self._received

    # -- server transaction (§17.2.2) and scenario drops --------------------------------------

    @staticmethod
    def _transaction_key(top: Via, method: str) -> tuple[str, str, str] | None:
        branch = top.branch
        if not branch or not branch.startswith(MAGIC_COOKIE):
            return None
        return branch, str(top.sent_by).lower(), method

    def _remember(self, key: tuple[str, str, str], now: float, responses: list[Response]) -> None:
        answered = self._answered
        config = self.config
        data = tuple(Response(r.status, r.reason, r.headers, r.body) for r in responses)
        size = sum(len(r.to_bytes()) for r in data) + sum(map(len, key)) + _ENTRY_OVERHEAD
        previous = answered.pop(key, None)
        if previous is not None:
            self._remembered_bytes -= previous[2]
        # Insertion order is answer order: forget from the front (amortised O(1)).
        while answered:
            oldest = next(iter(answered))
            when, _, old_size = answered[oldest]
            if (
                now - when <= config.transaction_lifetime
                and len(answered) < MAX_REMEMBERED_TRANSACTIONS
                and self._remembered_bytes + size <= config.max_remembered_bytes
            ):
                break
            del answered[oldest]
            self._remembered_bytes -= old_size
        if size <= config.max_remembered_bytes:
            answered[key] = (now, data, size)
            self._remembered_bytes += size

    @property
    def remembered_bytes(self) -> int:
        """Bytes the remembered responses of the server transactions take (approximately)."""
        return self._remembered_bytes

    def _dropped(self) -> bool:
        for fault in self.config.faults:
            if isinstance(fault, DropEvery) and self._received % fault.every == 0:
                return True
            if isinstance(fault, DropRandom) and self._random.uniform(0.0, 1.0) < fault.probability:
                return True
        return False

    def _fire(self, kind: type[Fault]) -> Fault | None:
        """The first fault of ``kind`` that still has requests to hit (and count one)."""
        for index, fault in enumerate(self.config.faults):
            if not isinstance(fault, kind):
                continue
            count = getattr(fault, "count", 0)
            if count == 0 or self._fired[index] < count:
                self._fired[index] += 1
                return fault
        return None

    # -- responses ----------------------------------------------------------------------------

    def _reply(
        self,
        exchange: _Exchange,
        status: int,
        extra: Iterable[tuple[str, str]] = (),
        *,
        reason: str | None = None,
    ) -> Response:
        headers = list(extra)
        if self.config.server:
            headers.append(("Server", self.config.server))
        return build_response(
            exchange.request, status, reason, to_tag=exchange.to_tag, headers=headers,
            received=exchange.source,
        )

    def _bad(self, exchange: _Exchange, why: ParseError | str) -> _Reject:
        """400, the reason phrase saying what is wrong."""
        text = why.message if isinstance(why, ParseError) else why
        return _Reject(self._reply(exchange, 400, reason=f"Bad Request ({text})"))

    def _date(self) -> tuple[str, str]:
        return "Date", format_date(datetime.fromtimestamp(self._clock.wall(), UTC))

    # -- §10.3 ------------------------------------------------------------------------------------

    def _process(self, exchange: _Exchange) -> Response:
        request = exchange.request
        self._check_basics(exchange)
        if request.method == "OPTIONS":
            return self._reply(exchange, 200, [("Allow", ALLOW), *self._supported_header()])
        if request.method == "CANCEL":
            return self._cancel(exchange)
        if request.method != "REGISTER":
            return self._reply(exchange, 405, [("Allow", ALLOW)])
        self._scenario_refusals(exchange)
        self._check_request_uri(exchange)  # step 1
        self._check_require(exchange)  # step 2
        to_uri = self._to_uri(exchange)
        if self.config.requires_auth:
            self._authenticate(exchange, to_uri)  # steps 3 and 4
        self._check_aor(exchange, to_uri)  # step 5
        return self._update_bindings(exchange)  # steps 6, 7 and 8

    def _check_basics(self, exchange: _Exchange) -> None:
        """§8.2: what every request needs before the registrar can judge it."""
        request = exchange.request
        missing = [
            name for name in ("From", "To", "Call-ID", "CSeq") if request.headers.get(name) is None
        ]
        if missing:
            raise self._bad(exchange, f"missing {', '.join(missing)}")
        try:
            request.from_  # noqa: B018 - parsed for validity only
            request.to  # noqa: B018
            cseq = request.cseq
            exchange.call_id = request.call_id
        except ParseError as exc:
            raise self._bad(exchange, exc) from None
        if cseq.method.upper() != request.method:
            raise self._bad(exchange, "CSeq method does not match the request")
        exchange.cseq = cseq.number

    def _supported_header(self) -> list[tuple[str, str]]:
        if not self.config.supported:
            return []
        return [("Supported", ", ".join(sorted(self.config.supported)))]

    def _cancel(self, exchange: _Exchange) -> Response:
        # §9.2: a REGISTER is answered at once, so there is never anything left to cancel.
        top = exchange.request.vias[0]
        key = self._transaction_key(top, "REGISTER")
        if key is not None and key in self._answered:
            return self._reply(exchange, 200)
        return self._reply(exchange, 481)

    def _scenario_refusals(self, exchange: _Exchange) -> None:
        fault = self._fire(Redirect)
        if isinstance(fault, Redirect):
            contact = ("Contact", f"<{fault.target}>")
            raise _Reject(self._reply(exchange, 302, [contact]))
        fault = self._fire(ServiceUnavailable)
        if isinstance(fault, ServiceUnavailable):
            raise _Reject(self._reply(exchange, 503, [("Retry-After", str(fault.retry_after))]))
        fault = self._fire(ServerError)
        if isinstance(fault, ServerError):
            raise _Reject(self._reply(exchange, fault.status))

    def _check_request_uri(self, exchange: _Exchange) -> None:
        """Step 1: bindings for the Request-URI's domain are ours (no proxying: 404)."""
        uri = exchange.request.uri
        if not isinstance(uri, SipUri):
            raise _Reject(self._reply(exchange, 416))
        domains = self.config.domains
        host = uri.host.lower().rstrip(".")
        if domains is not None and host not in domains and not _is_ip(host):
            raise _Reject(self._reply(exchange, 404, reason=f"Not Found (domain {host})"))

    def _check_require(self, exchange: _Exchange) -> None:
        """Step 2 / §8.2.2.3: 420 listing the option tags we do not support."""
        try:
            required = exchange.request.require
        except ParseError as exc:
            raise self._bad(exchange, exc) from None
        unsupported = [tag for tag in required if tag.lower() not in self.config.supported]
        if unsupported:
            raise _Reject(self._reply(exchange, 420, [("Unsupported", ", ".join(unsupported))]))

    def _to_uri(self, exchange: _Exchange) -> Uri:
        return exchange.request.to.uri

    def _realm(self, exchange: _Exchange, to_uri: Uri) -> str:
        if self.config.realm is not None:
            return self.config.realm
        if isinstance(to_uri, SipUri):
            return to_uri.host.lower()
        uri = exchange.request.uri
        return uri.host.lower() if isinstance(uri, SipUri) else "sipfsm"

    def _challenge(self, exchange: _Exchange, realm: str, *, stale: bool = False,
                   reason: str | None = None) -> _Reject:  # fmt: skip
        challenges = self._digest.challenges(realm, stale=stale)
        extra = [("WWW-Authenticate", value) for value in challenges]
        return _Reject(self._reply(exchange, 401, extra, reason=reason))

    def _authenticate(self, exchange: _Exchange, to_uri: Uri) -> None:
        """Steps 3 and 4: Digest (RFC 7616, RFC 8760), then the AOR must be the user's own."""
        request = exchange.request
        realm = self._realm(exchange, to_uri)
        try:
            values = request.authorization
        except ParseError:
            values = []
        credentials = self._digest.pick(values, realm)
        if credentials is None:
            raise self._challenge(exchange, realm)
        if self.config.check_digest_uri:
            self._check_digest_uri(exchange, credentials.uri)
        result = self._digest.verify(credentials, realm=realm, method=request.method)
        if result.verdict is Verdict.STALE:
            raise self._challenge(exchange, realm, stale=True)
        if result.verdict is Verdict.WRONG:
            if self.config.reject_status == 403:
                raise _Reject(self._reply(exchange, 403, reason="Forbidden (bad credentials)"))
            raise self._challenge(exchange, realm, reason="Unauthorized (bad credentials)")
        if result.verdict is not Verdict.OK:
            raise self._challenge(exchange, realm)
        if self._fire(StaleNonce) is not None:
            raise self._challenge(exchange, realm, stale=True)
        # Step 4: no third-party registration -- the digest user registers only its own AOR.
        if not isinstance(to_uri, SipUri) or to_uri.user is None or (
            unquote(to_uri.user) != result.username
        ):
            raise _Reject(self._reply(
                exchange, 403, reason=f"Forbidden ({result.username} may not register this AOR)"
            ))  # fmt: skip
        exchange.authentication_info = result.authentication_info

    def _check_digest_uri(self, exchange: _Exchange, text: str | None) -> None:
        """RFC 7616 §3.4.6: "The authenticating server MUST assure that the resource designated
        by the 'uri' parameter is the same as the resource specified in the Request-Line; if
        they are not, the server SHOULD return a 400 Bad Request error" (RFC 3261 §22.4 keeps
        the rule); else an answer computed for one request-target serves another."""
        if text is None:
            return  # credentials without uri are unusable: verify() challenges them again
        try:
            uri = parse_uri(text)
        except ParseError:
            uri = None
        if uri is None or not (
            uri_equal(uri, exchange.request.uri) or self._names_this_server(exchange, uri)
        ):
            raise self._bad(exchange, "digest uri does not match the Request-URI")

    @staticmethod
    def _names_this_server(exchange: _Exchange, uri: Uri) -> bool:
        # A SIP URI of the very address the request arrived at designates this registrar, the
        # resource the REGISTER's Request-URI designates too (SIPp 3.6 answers with it).
        local = exchange.local
        return (
            local is not None
            and isinstance(uri, SipUri)
            and uri.user is None
            and _is_ip(uri.host)
            and ipaddress.ip_address(uri.host) == ipaddress.ip_address(local.host)
            and (uri.port or 5060) == local.port
        )

    def _check_aor(self, exchange: _Exchange, to_uri: Uri) -> None:
        """Step 5: the To URI is a SIP/SIPS AOR of ours; the key is its canonical form."""
        if not isinstance(to_uri, SipUri):
            raise _Reject(self._reply(exchange, 404, reason="Not Found (AOR must be sip or sips)"))
        domains = self.config.domains
        host = to_uri.host.lower().rstrip(".")
        if domains is not None and host not in domains:
            raise _Reject(self._reply(exchange, 404, reason=f"Not Found (domain {host})"))
        user = None if to_uri.user is None else unquote(to_uri.user)
        if self.config.users is not None and (
            user is None or self.config.password_for(user) is None
        ):
            raise _Reject(self._reply(exchange, 404, reason="Not Found (no such user)"))
        exchange.aor = canonical_aor(to_uri)
        exchange.to_user = user

    def _update_bindings(self, exchange: _Exchange) -> Response:
        """Steps 6, 7 and 8."""
        request = exchange.request
        try:
            star = request.contact_star
            contacts = [] if star else request.contacts
            for contact in contacts:
                contact.q  # noqa: B018 - §20.10: q is a qvalue, 0 to 1; else 400
        except ParseError as exc:
            raise self._bad(exchange, exc) from None
        try:
            header_expires = request.expires
        except ParseError:
            # §10.2.1.1 "Malformed values SHOULD be treated as equivalent to 3600" (said of the
            # expires parameter; the header is read the same way, as Kamailio does).
            header_expires = MALFORMED_EXPIRES
        current = self._current(exchange.aor, exchange.now)
        if star:
            updated = self._remove_all(exchange, current, header_expires)
            own: list[Contact] = []
        else:
            wanted = self._requested_intervals(exchange, contacts, header_expires)
            updated = self._apply(exchange, current, wanted)
            own = [contact for contact, _ in wanted]
        self._check_limits(exchange, current, updated)
        response = self._ok(exchange, updated, own)
        if len(response.to_bytes()) > self.config.max_response_size:
            raise _Reject(self._reply(exchange, 513, reason=(
                f"Message Too Large (the 200 would exceed {self.config.max_response_size} bytes)"
            )))  # fmt: skip
        # §10.3 step 7: built on a copy, committed in one assignment (all or nothing).
        self._store(exchange.aor, updated)
        return response

    def _store(self, aor: str, bindings: list[_Binding]) -> None:
        self._binding_count += len(bindings) - len(self._aors.get(aor, ()))
        if bindings:
            self._aors[aor] = bindings
        else:
            self._aors.pop(aor, None)

    @property
    def binding_count(self) -> int:
        """Bindings held, of every AOR (expired ones not yet purged included)."""
        return self._binding_count

    def _check_limits(
        self, exchange: _Exchange, current: list[_Binding], updated: list[_Binding]
    ) -> None:
        """The resource limits: a REGISTER that would grow past them fails, nothing changed."""
        config = self.config
        if config.max_contacts and len(updated) > max(config.max_contacts, len(current)):
            raise _Reject(self._reply(
                exchange, 503, [("P-Registrar-Error", "Too many registered contacts")],
                reason=f"Service Unavailable (at most {config.max_contacts} contacts per AOR)",
            ))  # fmt: skip
        growth = len(updated) - len(current)
        if config.max_bindings and growth > 0 and (
            self._binding_count + growth > config.max_bindings
        ):
            self.purge()
            if self._binding_count + growth > config.max_bindings:
                raise _Reject(self._reply(
                    exchange, 503, [("Retry-After", "60")],
                    reason="Service Unavailable (registrar full)",
                ))  # fmt: skip

    def _remove_all(
        self, exchange: _Exchange, current: list[_Binding], header_expires: int | None
    ) -> list[_Binding]:
        """Step 6: ``Contact: *`` alone, with ``Expires: 0``, removes every binding the
        Call-ID / CSeq rule lets it remove."""
        if len(exchange.request.headers.get_all("Contact")) != 1:
            raise self._bad(exchange, "* with other contacts")
        if header_expires != 0:
            raise self._bad(exchange, "* needs Expires: 0")
        # "If it does agree, it MUST remove the binding only if the CSeq in the request is
        # higher than the value stored for that binding.  Otherwise, the update MUST be aborted
        # and the request fails."
        if any(b.call_id == exchange.call_id and exchange.cseq <= b.cseq for b in current):
            raise self._out_of_order(exchange)
        return []

    def _out_of_order(self, exchange: _Exchange) -> _Reject:
        # §10.3 steps 6 and 7 say the request fails without naming a status; 400 is what
        # Kamailio's registrar answers ("Invalid CSeq").
        return self._bad(exchange, "CSeq not higher than the binding's, same Call-ID")

    def _requested_intervals(
        self, exchange: _Exchange, contacts: list[Contact], header_expires: int | None
    ) -> list[tuple[Contact, int]]:
        """Step 7: each contact's requested interval (param > header > default); 423 when one is
        too brief; the granted interval (clamped to max_expires)."""
        config = self.config
        requested: list[tuple[Contact, int]] = []
        for contact in contacts:
            if contact.expires is not None:
                interval = contact.expires
            elif header_expires is not None:
                interval = header_expires
            else:
                interval = config.default_expires
            requested.append((contact, interval))
        asked = [interval for _, interval in requested if interval > 0]
        if asked and self._fire(IntervalTooBriefLoop) is not None:
            loop = next(f for f in config.faults if isinstance(f, IntervalTooBriefLoop))
            # Bounded: never above max_expires (a client following it ends there), and only
            # for the scenario's count of requests.
            self._last_min_expires = min(
                max(self._last_min_expires, *asked) + loop.step, config.max_expires
            )
            raise _Reject(self._reply(
                exchange, 423, [("Min-Expires", str(self._last_min_expires))]
            ))  # fmt: skip
        if any(0 < interval < min(config.min_expires, ONE_HOUR) for interval in asked):
            raise _Reject(self._reply(exchange, 423, [("Min-Expires", str(config.min_expires))]))
        return [
            (replace(contact, params=contact.params.without("expires")),
             min(interval, config.max_expires))
            for contact, interval in requested
        ]  # fmt: skip

    def _apply(
        self, exchange: _Exchange, current: list[_Binding], wanted: list[tuple[Contact, int]]
    ) -> list[_Binding]:
        """Step 7: add, refresh or remove each binding on a copy of the AOR's list."""
        for contact, _ in wanted:
            for existing in current:
                if (
                    existing.call_id == exchange.call_id
                    and exchange.cseq <= existing.cseq
                    and uri_equal(existing.contact.uri, contact.uri)
                ):
                    # "If not, the update MUST be aborted and the request fails."
                    raise self._out_of_order(exchange)
        updated = list(current)
        for contact, granted in wanted:
            index = next(
                (i for i, b in enumerate(updated) if uri_equal(b.contact.uri, contact.uri)), None
            )
            if index is not None:
                existing = updated[index]
                if existing.call_id == exchange.call_id and existing.cseq == exchange.cseq:
                    continue  # the same contact twice in this request: the first one counts
                if granted == 0:
                    del updated[index]
                    continue
            elif granted == 0:
                continue
            binding = _Binding(
                contact=contact,
                call_id=exchange.call_id,
                cseq=exchange.cseq,
                expires_at=exchange.now + granted,
                source=exchange.source,
                transport=exchange.transport,
            )
            if index is None:
                updated.append(binding)
            else:
                updated[index] = binding
        return updated

    def _ok(self, exchange: _Exchange, bindings: list[_Binding], own: list[Contact]) -> Response:
        """Step 8: every current binding with its remaining interval, and Date."""
        now = exchange.now
        listed = bindings
        if bindings and any(isinstance(f, OmitContact) for f in self.config.faults):
            mine = [
                b for b in bindings
                if b.call_id == exchange.call_id
                or any(uri_equal(b.contact.uri, c.uri) for c in own)
            ]  # fmt: skip
            if mine and self._fire(OmitContact) is not None:
                listed = [b for b in bindings if b not in mine]
        extra: list[tuple[str, str]] = [
            ("Contact", str(b.contact.with_params(expires=str(_remaining(b.expires_at, now)))))
            for b in listed
        ]  # fmt: skip
        extra.append(self._date())
        if exchange.authentication_info is not None:
            extra.append(("Authentication-Info", exchange.authentication_info))
        extra.extend(self._supported_header())
        return self._reply(exchange, 200, extra)

    def _current(self, aor: str, now: float) -> list[_Binding]:
        """The AOR's live bindings; expired ones are purged (and an emptied AOR forgotten)."""
        bindings = self._aors.get(aor)
        if bindings is None:
            return []
        live = [b for b in bindings if b.expires_at > now]
        if len(live) != len(bindings):
            self._store(aor, live)
        return live
