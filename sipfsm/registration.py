"""RFC 3261 §10 registration, client side, as one declarative state machine.

A :class:`RegistrationClient` manages one address-of-record's own contacts at one registrar.  The
table below is the whole lifecycle; everything that does not fit a table row (building the
REGISTER, classifying a response, choosing delays) is a named method further down this file.

States
  unregistered   no binding of ours is known to exist
  registering    a REGISTER adding or updating our bindings is in flight
  registered     our bindings exist; the refresh timer runs
  refreshing     a REGISTER refreshing our bindings is in flight
  unregistering  a REGISTER removing bindings (ours, or ``Contact: *``) is in flight
  querying       a REGISTER without Contact is in flight (§10.2.3)
  waiting        after a transient failure, waiting to retry (backoff or Retry-After)
  failed         a permanent failure; a new ``register()`` starts over
  stopped        terminal; the client does nothing more

"In flight" means: resolving the next hop, or a non-INVITE client transaction that has not yet
reported a final response, a timeout or a transport error.  Commands that arrive meanwhile are
queued and merged (RFC 3261 §10.2: no new REGISTER before the previous one's final response or
timeout).
"""

from __future__ import annotations

import ipaddress
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC
from enum import Enum
from typing import TYPE_CHECKING, Any, Protocol

from sipfsm.errors import AuthenticationFailed, ConfigError, LocalProtocolError, ParseError
from sipfsm.fsm import SharedMachine
from sipfsm.message import Headers, Params, Request, Response, SipUri, parse_uri, uri_equal
from sipfsm.ports import Clock, HostPort, Random, Resolver, Target, TimerHandle, Timers

if TYPE_CHECKING:
    from sipfsm.auth import CredentialStore, DigestClient
    from sipfsm.transaction import NonInviteClientTransaction, TransactionLayer

__all__ = [
    "REGISTRATION_MACHINE",
    "BackoffPolicy",
    "Binding",
    "BindingsReported",
    "ContactMissing",
    "ContactSpec",
    "Failed",
    "FailureReason",
    "RefreshPolicy",
    "Refreshed",
    "Registered",
    "RegistrationClient",
    "RegistrationConfig",
    "RegistrationEvent",
    "RegistrationObserver",
    "Retrying",
    "StateChanged",
    "Stopped",
    "Unregistered",
]

# --------------------------------------------------------------------------------------------
# The machine
# --------------------------------------------------------------------------------------------

IN_FLIGHT = ["registering", "refreshing", "unregistering", "querying"]
IDLE = ["unregistered", "registered", "waiting", "failed"]

STATES: list[dict[str, Any]] = [
    {"name": "unregistered", "on_enter": "_entered"},
    {"name": "registering", "on_enter": "_entered"},
    {"name": "registered", "on_enter": ["_entered", "_arm_refresh"], "on_exit": "_cancel_refresh"},
    {"name": "refreshing", "on_enter": "_entered"},
    {"name": "unregistering", "on_enter": "_entered"},
    {"name": "querying", "on_enter": "_entered"},
    {"name": "waiting", "on_enter": ["_entered", "_arm_retry"], "on_exit": "_cancel_retry"},
    {"name": "failed", "on_enter": "_entered"},
    {"name": "stopped", "on_enter": "_entered"},
]

TRANSITIONS: list[dict[str, Any]] = [
    # Commands (the client queues them while a REGISTER is in flight; they never reach here then).
    {"trigger": "send_register", "source": IDLE, "dest": "registering", "after": "_transmit"},
    {"trigger": "send_unregister", "source": IDLE, "dest": "unregistering", "after": "_transmit"},
    {"trigger": "send_query", "source": IDLE, "dest": "querying", "after": "_transmit"},
    {"trigger": "refresh_due", "source": "registered", "dest": "refreshing", "after": "_transmit"},
    # 2xx (§10.2.1.1, §10.2.2, §10.2.3, §10.2.4)
    {"trigger": "accepted", "source": ["registering", "refreshing"], "dest": "registered",
     "after": "_on_accepted"},
    {"trigger": "accepted", "source": ["unregistering", "querying"], "dest": "registered",
     "conditions": "_holds_bindings", "after": "_on_accepted"},
    {"trigger": "accepted", "source": ["unregistering", "querying"], "dest": "unregistered",
     "after": "_on_accepted"},
    # §10.2.4: the 200 lacks our contact: report it and register again (bounded by the caller).
    {"trigger": "contact_missing", "source": ["registering", "refreshing"], "dest": "registering",
     "after": "_transmit"},
    # Resubmissions of the same intent (each one a new transaction, CSeq + 1).
    {"trigger": "challenged", "source": IN_FLIGHT, "dest": "=", "after": "_transmit"},  # §22.2
    {"trigger": "interval_too_brief", "source": IN_FLIGHT, "dest": "=",
     "after": "_transmit"},  # §10.2.8
    {"trigger": "redirected", "source": IN_FLIGHT, "dest": "=", "after": "_transmit"},  # §8.1.3.4
    {"trigger": "next_target", "source": IN_FLIGHT, "dest": "=", "after": "_transmit"},  # RFC 3263
    # Transient failure: timeout, transport error, 5xx with Retry-After (§10.2.7, §10.2.8).
    {"trigger": "deferred", "source": IN_FLIGHT, "dest": "waiting"},
    {"trigger": "retry_due", "source": "waiting", "dest": "registering",
     "conditions": "_intent_is_register", "after": "_transmit"},
    {"trigger": "retry_due", "source": "waiting", "dest": "unregistering",
     "conditions": "_intent_is_unregister", "after": "_transmit"},
    {"trigger": "retry_due", "source": "waiting", "dest": "querying", "after": "_transmit"},
    # Permanent failure.  A failed query leaves an established registration alone.
    {"trigger": "rejected", "source": "querying", "dest": "registered",
     "conditions": "_holds_bindings", "after": "_on_failed"},
    {"trigger": "rejected", "source": [*IN_FLIGHT, "waiting"], "dest": "failed",
     "after": "_on_failed"},
    {"trigger": "stop", "source": [*IN_FLIGHT, *IDLE], "dest": "stopped", "after": "_on_stopped"},
]
REGISTRATION_MACHINE = SharedMachine(
    name="RegistrationClient", states=STATES, transitions=TRANSITIONS, initial="unregistered"
)

# --------------------------------------------------------------------------------------------
# Configuration
# --------------------------------------------------------------------------------------------

MAX_FORWARDS = 70  # RFC 3261 §8.1.1.6
MAX_CSEQ = 2**31 - 1  # RFC 3261 §8.1.1.5
# RFC 3261 §21: the response codes a UAC is expected to recognise; others are handled as the
# x00 of their class (§8.1.3.2).
KNOWN_STATUS_CODES = frozenset(
    {100, 180, 181, 182, 183, 200, 300, 301, 302, 305, 380, 400, 401, 402, 403, 404, 405, 406,
     407, 408, 410, 413, 414, 415, 416, 420, 421, 423, 480, 481, 482, 483, 484, 485, 486, 487,
     488, 491, 493, 500, 501, 502, 503, 504, 505, 513, 600, 603, 604, 606}
)


@dataclass(frozen=True, slots=True)
class RefreshPolicy:
    """When to refresh (§10.2.4): the earlier of ``expiry - margin`` and ``fraction * expiry``,
    shortened by up to ``jitter`` (a fraction) so that many clients do not refresh in step,
    never earlier than ``floor`` seconds (nor later than half the expiry for tiny expiries)."""

    margin: float = 32.0  # 64*T1: a REGISTER transaction may take this long to time out
    fraction: float = 0.9
    jitter: float = 0.05
    floor: float = 1.0

    def delay(self, expiry: float, random: Random) -> float:
        if expiry <= 0:
            return self.floor
        base = min(expiry - self.margin, expiry * self.fraction)
        # A short expiry (below ~2x the margin) would otherwise refresh at the floor, i.e.
        # dozens of times per interval: never refresh before half the granted expiry.
        base = max(base, expiry / 2)
        base *= random.uniform(1.0 - self.jitter, 1.0)
        if base < self.floor:
            return min(self.floor, expiry / 2) if expiry < 2 * self.floor else self.floor
        return base


@dataclass(frozen=True, slots=True)
class BackoffPolicy:
    """RFC 5626 §4.5: ``min(maximum, base * 2**failures)``, randomised between 50 % and 100 %."""

    base: float = 30.0
    maximum: float = 1800.0

    def upper_bound(self, failures: int) -> float:
        return min(self.maximum, self.base * float(2 ** min(failures, 62)))

    def delay(self, failures: int, random: Random) -> float:
        upper = self.upper_bound(failures)
        return random.uniform(upper / 2, upper)


@dataclass(frozen=True, slots=True)
class ContactSpec:
    """One contact to bind.  ``uri`` None: ``sip:<aor-user>@<local address>`` made from the
    transport the REGISTER leaves by (with ``;transport=tcp`` over TCP)."""

    uri: SipUri | None = None
    q: float | None = None  # §10.2.1.2, passed through


@dataclass(frozen=True)
class RegistrationConfig:
    aor: SipUri
    registrar: SipUri | None = None  # Request-URI; default: the AOR's domain (§10.2)
    registrar_target: Target | None = None  # explicit address: no DNS (§10.2.6 configuration)
    outbound_proxy: SipUri | None = None  # §8.1.2 / §10.2.6
    route_set: tuple[SipUri, ...] = ()  # pre-loaded route set (§8.1.1.1, §10.2)
    from_uri: SipUri | None = None  # third-party registration (§10.2 From)
    contacts: tuple[ContactSpec, ...] = (ContactSpec(),)
    expires: int = 3600
    transport: str | None = None  # preferred transport when the next hop does not say
    # Immutable defaults shared by every config (a factory would make two objects per client).
    refresh: RefreshPolicy = RefreshPolicy()
    backoff: BackoffPolicy = BackoffPolicy()
    max_interval_retries: int = 2  # 423 resubmissions for one intent
    max_redirects: int = 3
    max_contact_missing_retries: int = 2
    max_consecutive_failures: int | None = None  # None: keep retrying with backoff
    user_agent: str | None = "sipfsm"
    # Keep the last final response as ``RegistrationClient.last_response`` (a debugging aid).  A
    # parsed response costs 2-3 KiB; an application running many clients may turn it off.
    keep_last_response: bool = False  # costs ~3.8 KiB a client at scale (benchmarks/simulate.py)
    # RFC 3581: re-register with the address the registrar saw (Via received/rport) in the
    # Contact when it differs from ours, as PJSIP does behind NAT.  Only for automatic contacts.
    rewrite_contact: bool = False

    def __post_init__(self) -> None:
        if not isinstance(self.aor, SipUri) or self.aor.scheme == "sips":
            # Seed decision: SIP URIs only; a SIPS AOR would need SIPS contacts (§10.2.1).
            raise ConfigError(
                f"the address-of-record {self.aor} must be a sip: URI (SIPS is not supported)",
                spec_id="RFC3261-10.2-TO-AOR-SIP-URI")
        if not self.aor.user:
            raise ConfigError(f"the address-of-record {self.aor} has no user part",
                              spec_id="RFC3261-10.2-TO-AOR-SIP-URI")
        if self.registrar is not None:
            if self.registrar.scheme != "sip":
                raise ConfigError(f"the registrar {self.registrar} must be a sip: URI",
                                  spec_id="RFC3261-8.1.1.8-SIPS-CONTACT")
            if self.registrar.user or self.registrar.password:
                raise ConfigError(
                    f"the registrar URI {self.registrar} must not contain a user part",
                    spec_id="RFC3261-10.2-REQUEST-URI-DOMAIN")
        for hop in (*((self.outbound_proxy,) if self.outbound_proxy else ()), *self.route_set):
            if hop.scheme != "sip":
                raise ConfigError(f"the route {hop} must be a sip: URI",
                                  spec_id="RFC3261-8.1.1.8-SIPS-CONTACT")
            if "lr" not in hop.params:
                raise ConfigError(f"the route {hop} must be a loose router (add ;lr)",
                                  spec_id="RFC3261-8.1.1.1-ROUTE-SET-PROCEDURES")
        if not 0 < self.expires <= 2**32 - 1:
            raise ConfigError(f"expires {self.expires} is outside 1..4294967295")
        if not self.contacts:
            raise ConfigError("at least one contact is needed (use query() to fetch bindings)")
        for contact in self.contacts:
            validate_contact(contact, ConfigError)


def validate_contact(contact: ContactSpec, error: type[Exception]) -> None:
    if contact.q is not None and not 0.0 <= contact.q <= 1.0:
        raise error(f"contact q value {contact.q} is outside 0..1")
    if contact.uri is not None:
        if contact.uri.scheme != "sip":
            raise error(f"contact {contact.uri} must be a sip: URI (seed decision)")
        if "action" in contact.uri.params or contact.uri.headers:
            raise error(f"contact {contact.uri} must not carry an action parameter or headers")


# --------------------------------------------------------------------------------------------
# Events out (the observer port)
# --------------------------------------------------------------------------------------------


class FailureReason(Enum):
    STATUS = "status"  # a final error response
    TIMEOUT = "timeout"
    TRANSPORT = "transport"
    AUTH = "auth"  # no usable challenge, rejected credentials, bad rspauth
    INTERVAL_TOO_BRIEF = "423"  # 423 without Min-Expires, or again after raising the expiry
    REDIRECT = "redirect"  # too many redirects, or a 3xx without a usable Contact
    CONTACT_MISSING = "contact-missing"
    RESOLVE = "resolve"


@dataclass(frozen=True, slots=True)
class Binding:
    """One binding the registrar reported in a 200 (§10.2.1.1, §10.2.3)."""

    contact: str
    expires: int | None
    q: float | None
    ours: bool


@dataclass(frozen=True, slots=True)
class StateChanged:
    old: str
    new: str


@dataclass(frozen=True, slots=True)
class Registered:
    expires: int  # the shortest expiry granted to one of our contacts
    granted: tuple[tuple[str, int], ...]  # (our contact, seconds) per contact
    bindings: tuple[Binding, ...]  # every binding of the AOR the registrar reported
    service_route: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Refreshed:
    expires: int
    granted: tuple[tuple[str, int], ...]
    bindings: tuple[Binding, ...]
    service_route: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Unregistered:
    bindings: tuple[Binding, ...]  # what remains at the registrar


@dataclass(frozen=True, slots=True)
class BindingsReported:
    bindings: tuple[Binding, ...]


@dataclass(frozen=True, slots=True)
class ContactMissing:
    contacts: tuple[str, ...]  # ours, absent from the 200


@dataclass(frozen=True, slots=True)
class Retrying:
    reason: FailureReason
    delay: float
    failures: int
    status: int | None = None


@dataclass(frozen=True, slots=True)
class Failed:
    reason: FailureReason
    status: int | None
    detail: str


@dataclass(frozen=True, slots=True)
class Stopped:
    pass


RegistrationEvent = (
    StateChanged | Registered | Refreshed | Unregistered | BindingsReported | ContactMissing
    | Retrying | Failed | Stopped
)


class RegistrationObserver(Protocol):
    def __call__(self, client: RegistrationClient, event: RegistrationEvent) -> None: ...


# --------------------------------------------------------------------------------------------
# Intents: what the user asked for, queued while a REGISTER is in flight
# --------------------------------------------------------------------------------------------


class IntentKind(Enum):
    REGISTER = "register"
    UNREGISTER = "unregister"
    QUERY = "query"


@dataclass(frozen=True, slots=True)
class Intent:
    kind: IntentKind
    contacts: tuple[ContactSpec, ...] = ()
    expires: int | None = None
    remove_all: bool = False  # Contact: * (§10.2.2)


def merge_intents(queue: list[Intent], new: Intent) -> None:
    """Merge a command into the queue of commands waiting for the REGISTER in flight.

    The last word on bindings wins: an unregister supersedes queued registrations and a
    registration supersedes a queued unregister.  The removal of contacts an update dropped
    follows its registration.  A query is answered by any queued REGISTER's 200 (every 200
    lists the bindings), so it is dropped when one is queued."""
    if new.kind is IntentKind.QUERY:
        if not queue:
            queue.append(new)
        return
    if new.kind is IntentKind.UNREGISTER and new.contacts and not new.remove_all:
        queue.append(new)  # the tail of an update (see RegistrationClient.register)
        return
    queue.clear()
    queue.append(new)


# --------------------------------------------------------------------------------------------
# The client
# --------------------------------------------------------------------------------------------


class _Attempt:
    """The owner of one transaction (or one resolution): outcomes of an abandoned attempt are
    ignored, so exactly one outcome per REGISTER reaches the machine."""

    __slots__ = ("client",)

    def __init__(self, client: RegistrationClient) -> None:
        self.client = client

    def on_provisional(self, tx: NonInviteClientTransaction, response: Response) -> None:
        # §8.1.3.2: any 1xx (an unknown one is a 183) changes nothing for a REGISTER.
        return

    def on_final(self, tx: NonInviteClientTransaction, response: Response) -> None:
        if self.client._attempt is self:
            self.client._attempt = None
            self.client._on_final(response)

    def on_timeout(self, tx: NonInviteClientTransaction) -> None:
        if self.client._attempt is self:
            self.client._attempt = None
            self.client._on_timeout()

    def on_transport_error(self, tx: NonInviteClientTransaction, error: Exception) -> None:
        if self.client._attempt is self:
            self.client._attempt = None
            self.client._on_transport_error(error)


def _is_ip_literal(host: str) -> bool:
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return False
    return True


def _default_port(transport: str) -> int:
    return 5061 if transport.upper() == "TLS" else 5060


def read_expires(raw: str | None) -> int | None:
    """An expires value read from a 2xx: above 2**32-1 is 2**32-1 (§10.2 MAY); a malformed one
    is 3600 (§10.2 SHOULD).  None when absent."""
    if raw is None:
        return None
    text = raw.strip()
    if not text.isascii() or not text.isdigit():
        return 3600
    return min(int(text), 2**32 - 1)


# Option tags of the extensions the client implements (tag -> the standards-track RFC defining
# it).  RFC 3261 §8.1.1.9: Supported lists exactly these; none today, so no Supported header.
SUPPORTED_OPTION_TAGS: dict[str, str] = {}

# The placeholder of ``_pending_failure`` (immutable, so every client shares it).
_NO_FAILURE = Failed(FailureReason.STATUS, None, "")

# §8.1.3: outcomes after which the request may succeed elsewhere or later.
_TRANSIENT_STATUS = frozenset({408, 500, 503})


class RegistrationClient:
    """One registration: an AOR's own contacts at one registrar (RFC 3261 §10.2)."""

    # Slots: a client is long-lived and there may be tens of thousands in one process; a
    # __dict__ for ~40 attributes costs ~1.5 KiB a client.  ``state`` is set by the machine.
    __slots__ = (
        "_attempt", "_auto_contact_cache", "_bound", "_call_id", "_clock", "_configured_registrar",
        "_contact_missing", "_contacts", "_cseq", "_digest", "_expires", "_failures", "_from_tag",
        "_hold_until", "_intent", "_interval_retries", "_last_state", "_layer", "_observer",
        "_pending_failure", "_queue", "_random", "_redirect_index", "_redirect_set",
        "_refresh_timer", "_resolver", "_retry_delay", "_retry_timer", "_sent_contacts",
        "_target_index", "_targets", "_timers", "clock_offset", "config", "expires_at",
        "last_failure", "last_response", "last_target", "public_address", "registrar_uri",
        "service_route", "state",
    )

    machine = REGISTRATION_MACHINE

    def __init__(
        self,
        config: RegistrationConfig,
        *,
        layer: TransactionLayer,
        timers: Timers,
        clock: Clock,
        random: Random,
        resolver: Resolver | None = None,
        credentials: CredentialStore | None = None,
        digest: DigestClient | None = None,
        observer: Callable[[RegistrationClient, RegistrationEvent], None] | None = None,
    ) -> None:
        self.config = config
        self._layer = layer
        self._timers = timers
        self._clock = clock
        self._random = random
        self._resolver = resolver
        if digest is None and credentials is not None:
            from sipfsm.auth import DigestClient

            digest = DigestClient(credentials, random)
        self._digest = digest
        self._observer = observer
        self.state = "unregistered"
        self._last_state = "unregistered"
        self.machine.attach(self)

        # §10.2 / §10.2.6: the Request-URI is the registrar's domain, by default the AOR's.
        self.registrar_uri: SipUri = config.registrar or SipUri(
            scheme="sip", host=config.aor.host, port=config.aor.port
        )
        self._configured_registrar = self.registrar_uri
        # §10.2 Call-ID, §10.2.4: one Call-ID for every REGISTER of this client's lifetime.
        self._call_id: str | None = None
        self._cseq = 0
        self._from_tag = ""
        self._targets: list[Target] = []  # RFC 3263 answer for the next hop, in order
        self._target_index = 0
        self._hold_until: dict[Target, float] = {}  # §21.5.4: 503 + Retry-After hold-off
        self._redirect_set: list[SipUri] = []  # §8.1.3.4 target set (each URI once)
        self._redirect_index = 0
        self._attempt: _Attempt | None = None
        self._intent: Intent | None = None
        # A list, not a deque: it holds at most a couple of intents, and an empty deque costs
        # ~600 bytes a client where an empty list costs 56.
        self._queue: list[Intent] = []
        self._expires = config.expires
        self._contacts: tuple[ContactSpec, ...] = config.contacts
        self._bound: dict[str, tuple[SipUri, int]] = {}  # our contacts the registrar holds
        self._sent_contacts: tuple[SipUri, ...] = ()
        self._refresh_timer: TimerHandle | None = None
        self._retry_timer: TimerHandle | None = None
        self._retry_delay = 0.0
        self._failures = 0
        self._interval_retries = 0
        self._contact_missing = 0
        self._pending_failure = _NO_FAILURE
        self.clock_offset: float | None = None  # §10.2.5: registrar Date minus our wall clock
        self.expires_at: float | None = None  # monotonic instant our shortest binding ends
        self.service_route: tuple[str, ...] = ()
        self.last_response: Response | None = None
        self.last_failure: Failed | None = None
        self.last_target: Target | None = None
        # RFC 3581: our address as the registrar saw it (top Via received / rport).
        self.public_address: HostPort | None = None
        # (transport name, local address, URI) of the last contact made by _auto_contact.
        self._auto_contact_cache: tuple[str, HostPort, SipUri] | None = None

    # ---- public commands ---------------------------------------------------------------

    def register(self, contacts: Sequence[ContactSpec] | None = None,
                 expires: int | None = None) -> None:
        """Add or update our bindings (§10.2.1).  Updating to other contacts registers the new
        set, then removes the dropped ones with their own REGISTER (Expires: 0)."""
        self._check_alive()
        if expires is not None and not 0 < expires <= 2**32 - 1:
            raise LocalProtocolError(f"expires {expires} is outside 1..4294967295")
        new = tuple(contacts) if contacts is not None else self._contacts
        if not new:
            raise LocalProtocolError("register() needs at least one contact; use query()")
        for spec in new:
            validate_contact(spec, LocalProtocolError)
        dropped: tuple[ContactSpec, ...] = ()
        if contacts is not None:
            dropped = tuple(
                ContactSpec(uri=uri) for uri, _ in self._bound.values()
                if not any(c.uri is not None and uri_equal(c.uri, uri) for c in new)
            )
        # The new set first, then the removal: no moment without a binding.
        self._submit(Intent(IntentKind.REGISTER, contacts=new, expires=expires))
        if dropped:
            self._submit(Intent(IntentKind.UNREGISTER, contacts=dropped))

    def update_contacts(self, contacts: Sequence[ContactSpec]) -> None:
        self.register(contacts)

    def unregister(self) -> None:
        """Remove our own bindings: our contacts with Expires: 0 (§10.2.2)."""
        self._check_alive()
        self._submit(Intent(IntentKind.UNREGISTER))

    def unregister_all(self) -> None:
        """Remove every binding of the AOR: ``Contact: *`` with Expires: 0 (§10.2.2)."""
        self._check_alive()
        self._submit(Intent(IntentKind.UNREGISTER, remove_all=True))

    def query(self) -> None:
        """Fetch the AOR's bindings: a REGISTER without Contact (§10.2.3)."""
        self._check_alive()
        self._submit(Intent(IntentKind.QUERY))

    def stop(self) -> None:
        """Stop at once: cancel timers, abandon the transaction in flight.  Bindings at the
        registrar stay until they expire (call unregister() first to remove them)."""
        if self.state == "stopped":
            return
        self._queue.clear()
        self._attempt = None
        self.machine.fire(self, "stop")

    def close(self) -> None:
        """Stop, and detach from the shared machine's bookkeeping."""
        self.stop()

    @property
    def in_flight(self) -> bool:
        return self.state in IN_FLIGHT

    @property
    def call_id(self) -> str | None:
        return self._call_id

    @property
    def cseq(self) -> int:
        return self._cseq

    @property
    def requested_expires(self) -> int:
        return self._expires

    @property
    def failures(self) -> int:
        return self._failures

    @property
    def bound_contacts(self) -> dict[str, int]:
        return {key: granted for key, (_, granted) in self._bound.items()}

    @property
    def pending(self) -> tuple[Intent, ...]:
        return tuple(self._queue)

    # ---- command plumbing --------------------------------------------------------------

    def _check_alive(self) -> None:
        if self.state == "stopped":
            raise LocalProtocolError("this RegistrationClient has been stopped")

    def _submit(self, intent: Intent) -> None:
        # §10.2: one REGISTER at a time; during a backoff or a Retry-After hold-off a command
        # waits for the retry instant too (§10.2.7, §21.5.4), and replaces the retried intent.
        if self.state in IN_FLIGHT or self.state == "waiting":
            merge_intents(self._queue, intent)
            return
        self._start(intent)

    def _begin(self, intent: Intent) -> None:
        """Per-intent state: a fresh From tag (§8.1.1.3), fresh retry budgets, and the
        redirect target set seeded with the current registrar (§8.1.3.4)."""
        self._intent = intent
        self._from_tag = self._random.token(64)
        self._interval_retries = 0
        self._contact_missing = 0
        self._redirect_set = [self.registrar_uri]
        self._redirect_index = 0
        if intent.kind is IntentKind.REGISTER:
            self._contacts = intent.contacts or self._contacts
            if intent.expires is not None:
                self._expires = intent.expires

    def _start(self, intent: Intent) -> None:
        self._begin(intent)
        trigger = {IntentKind.REGISTER: "send_register", IntentKind.UNREGISTER: "send_unregister",
                   IntentKind.QUERY: "send_query"}[intent.kind]
        self.machine.fire(self, trigger)

    def _drain(self) -> None:
        if self.state in (*IN_FLIGHT, "waiting", "stopped") or not self._queue:
            return
        self._start(self._queue.pop(0))

    def _emit(self, event: RegistrationEvent) -> None:
        if self._observer is not None:
            self._observer(self, event)

    # ---- machine callbacks (named in the table) -----------------------------------------

    def _entered(self) -> None:
        if self.state != self._last_state:
            old, self._last_state = self._last_state, self.state
            self._emit(StateChanged(old, self.state))

    def _intent_is_register(self) -> bool:
        return self._intent is not None and self._intent.kind is IntentKind.REGISTER

    def _intent_is_unregister(self) -> bool:
        return self._intent is not None and self._intent.kind is IntentKind.UNREGISTER

    def _holds_bindings(self) -> bool:
        return bool(self._bound)

    def _arm_refresh(self) -> None:
        self._cancel_refresh()
        if not self._bound:
            return
        shortest = min(granted for _, granted in self._bound.values())
        delay = self.config.refresh.delay(shortest, self._random)
        self._refresh_timer = self._timers.start("refresh", delay, self._refresh_fired)

    def _cancel_refresh(self) -> None:
        if self._refresh_timer is not None:
            self._refresh_timer.cancel()
            self._refresh_timer = None

    def _refresh_fired(self) -> None:
        self._refresh_timer = None
        if self.state != "registered":
            return
        # §10.2.4: a refresh re-sends our own contacts only.
        self._begin(Intent(IntentKind.REGISTER, contacts=self._contacts))
        self.machine.fire(self, "refresh_due")

    def _arm_retry(self) -> None:
        self._cancel_retry()
        self._retry_timer = self._timers.start("retry", self._retry_delay, self._retry_fired)

    def _cancel_retry(self) -> None:
        if self._retry_timer is not None:
            self._retry_timer.cancel()
            self._retry_timer = None

    def _retry_fired(self) -> None:
        self._retry_timer = None
        if self.state != "waiting":
            return
        intent = self._queue.pop(0) if self._queue else self._intent
        assert intent is not None
        self._begin(intent)
        self.machine.fire(self, "retry_due")

    def _on_stopped(self) -> None:
        self._cancel_refresh()
        self._cancel_retry()
        self._emit(Stopped())

    # ---- sending ------------------------------------------------------------------------

    def _next_hop(self) -> SipUri:
        """§8.1.2: the first Route (the outbound proxy) when there is one, else the
        Request-URI."""
        if self.config.outbound_proxy is not None:
            return self.config.outbound_proxy
        if self.config.route_set:
            return self.config.route_set[0]
        return self.registrar_uri

    def _transmit(self) -> None:
        """Send the current intent's REGISTER to the current target, resolving it first."""
        if self._targets:
            self._send_now()
            return
        hop = self._next_hop()
        transport = (hop.params.get("transport") or self.config.transport or "").upper() or None
        if (self.config.registrar_target is not None and hop is self.registrar_uri
                and hop is self._configured_registrar):
            self._use_targets([self.config.registrar_target])
            return
        if _is_ip_literal(hop.host) or self._resolver is None:
            # RFC 3263 §4.2: a numeric IP needs no DNS; without a resolver port the transport
            # resolves the name itself (A/AAAA, default port).
            chosen = transport or "UDP"
            self._use_targets([Target(chosen, hop.host, hop.port or _default_port(chosen))])
            return
        attempt = _Attempt(self)
        self._attempt = attempt

        def done(targets: Sequence[Target]) -> None:
            if self._attempt is not attempt:
                return
            self._attempt = None
            if not targets:
                self._transient(FailureReason.RESOLVE, None, f"{hop.host} resolved to no target")
            else:
                self._use_targets(list(targets))
            self._drain()

        def failed(error: Exception) -> None:
            if self._attempt is not attempt:
                return
            self._attempt = None
            self._transient(FailureReason.RESOLVE, None, f"cannot locate {hop.host}: {error}")
            self._drain()

        self._resolver.resolve(hop.host, port=hop.port, transport=transport,
                               secure=hop.scheme == "sips", on_done=done, on_error=failed)

    def _use_targets(self, targets: list[Target]) -> None:
        self._targets = targets
        self._target_index = 0
        now = self._clock.monotonic()
        # §21.5.4: skip targets still held off by a 503 Retry-After.
        while (self._target_index < len(targets)
               and self._hold_until.get(targets[self._target_index], 0.0) > now):
            self._target_index += 1
        if self._target_index >= len(targets):
            self._target_index = 0
            self._targets = []
            wait = min(self._hold_until.get(t, now) for t in targets) - now
            self._defer(FailureReason.STATUS, 503, "every target is held off by Retry-After",
                        max(wait, 0.0))
            return
        self._send_now()

    def _auto_contact(self, target: Target) -> SipUri:
        transport = self._layer.transport_named(target.transport)
        if transport is None:
            raise LocalProtocolError(f"no {target.transport} transport for {target}")
        # A transport bound to a wildcard address learns the address to advertise per target.
        for_target = getattr(transport, "local_address_for", None)
        local = for_target(target) if callable(for_target) else transport.local_address()
        # The same transport and local address give the same URI: reuse the last one rather
        # than format and parse it again for every REGISTER (a refresh always hits this).
        cached = self._auto_contact_cache
        if cached is not None and cached[0] == target.transport and cached[1] == local:
            return cached[2]
        host = f"[{local.host}]" if ":" in local.host else local.host
        name = target.transport.lower()
        suffix = "" if name == "udp" else f";transport={name}"
        uri = parse_uri(f"sip:{self.config.aor.user}@{host}:{local.port}{suffix}")
        assert isinstance(uri, SipUri)
        self._auto_contact_cache = (target.transport, local, uri)
        return uri

    def _contact_uris(self, target: Target) -> tuple[SipUri, ...]:
        return tuple(spec.uri if spec.uri is not None else self._auto_contact(target)
                     for spec in self._contacts)

    def build_request(self, target: Target) -> Request:
        """The REGISTER for the current intent (§10.2).  Each call is a new request: CSeq + 1."""
        intent = self._intent or Intent(IntentKind.QUERY)
        if self._call_id is None:
            self._call_id = self._random.token(128)
        if self._cseq + 1 >= 2**31:
            raise LocalProtocolError("CSeq would reach 2**31", spec_id="RFC3261-8.1.1.5-CSEQ-RANGE")
        if not self._from_tag:
            self._from_tag = self._random.token(64)
        self._cseq += 1
        from_uri = str(self.config.from_uri or self.config.aor)
        items: list[tuple[str, str]] = []
        # §8.1.1.1 / §8.1.2: the outbound proxy is a pre-existing one-URI route set.
        if self.config.outbound_proxy is not None:
            items.append(("Route", f"<{self.config.outbound_proxy}>"))
        items.extend(("Route", f"<{uri}>") for uri in self.config.route_set)
        items += [
            ("Max-Forwards", str(MAX_FORWARDS)),
            ("To", f"<{self.config.aor}>"),
            ("From", f"<{from_uri}>;tag={self._from_tag}"),
            ("Call-ID", self._call_id),
            ("CSeq", f"{self._cseq} REGISTER"),
        ]
        expires: int | None
        if intent.kind is IntentKind.REGISTER:
            uris = self._contact_uris(target)
            self._sent_contacts = uris
            for uri, spec in zip(uris, self._contacts, strict=True):
                q = f";q={spec.q:.3g}" if spec.q is not None else ""  # §10.2.1.2
                items.append(("Contact", f"<{uri}>{q}"))
            expires = self._expires
        elif intent.kind is IntentKind.UNREGISTER:
            if intent.remove_all:
                items.append(("Contact", "*"))  # §10.2.2: alone, and with Expires: 0
                self._sent_contacts = ()
            else:
                if intent.contacts:
                    uris = tuple(c.uri for c in intent.contacts if c.uri is not None)
                elif self._bound:
                    uris = tuple(uri for uri, _ in self._bound.values())
                else:
                    uris = self._contact_uris(target)
                self._sent_contacts = uris
                items.extend(("Contact", f"<{uri}>") for uri in uris)
            expires = 0
        else:
            self._sent_contacts = ()
            expires = None
        if expires is not None:
            items.append(("Expires", str(expires)))  # seed: Expires header, no Contact param
        if SUPPORTED_OPTION_TAGS:
            items.append(("Supported", ", ".join(SUPPORTED_OPTION_TAGS)))
        if self.config.user_agent:
            items.append(("User-Agent", self.config.user_agent))
        if self._digest is not None:
            items.extend(self._digest.authorization_headers("REGISTER", str(self.registrar_uri)))
        return Request(method="REGISTER", uri=self.registrar_uri, headers=Headers(items), body=b"")

    def _send_now(self) -> None:
        target = self._targets[self._target_index]
        try:
            request = self.build_request(target)
        except AuthenticationFailed as exc:
            self._reject(FailureReason.AUTH, None, str(exc))
            return
        attempt = _Attempt(self)
        self._attempt = attempt
        self.last_target = target
        # RFC 3263 §4: the target is fixed for the transaction's lifetime (retransmissions).
        self._layer.send_request(request, target, attempt)

    # ---- outcomes ---------------------------------------------------------------------

    def _on_final(self, response: Response) -> None:
        if self.config.keep_last_response:
            self.last_response = response
        self._observe_via(response)
        status = response.status
        # §8.1.3.2: an unrecognised final response is treated as the x00 of its class.
        effective = status if status in KNOWN_STATUS_CODES else (status // 100) * 100
        detail = f"{status} {response.reason}"
        try:
            if 200 <= effective < 300:
                self._on_success(response)
            elif effective in (401, 407):
                self._on_challenge(response)
            elif effective == 423:
                self._on_interval_too_brief(response)
            elif 300 <= effective < 400:
                self._on_redirect(response)
            elif effective in _TRANSIENT_STATUS:
                self._on_server_failure(response, effective, detail)
            else:
                self._permanent(FailureReason.STATUS, status, detail)
        except ParseError as exc:
            # §8.1.3: a final response we cannot read counts as a server failure.
            self._transient(FailureReason.STATUS, status, f"malformed {status}: {exc}")
        self._drain()

    def _on_timeout(self) -> None:
        # §8.1.3.1: a transaction timeout is handled as a 408.
        self._transient(FailureReason.TIMEOUT, None, "no final response (Timer F)")
        self._drain()

    def _on_transport_error(self, error: Exception) -> None:
        # §8.1.3.1: a transport error is handled as a 503 without Retry-After.
        self._transient(FailureReason.TRANSPORT, None, f"transport error: {error}")
        self._drain()

    def _on_server_failure(self, response: Response, effective: int, detail: str) -> None:
        retry_after: int | None = None
        try:
            ra = response.retry_after
            retry_after = ra.seconds if ra is not None else None
        except ParseError:
            retry_after = None
        target = self.last_target
        if effective == 503 and retry_after is not None and target is not None:
            # §21.5.4: no request to this server for Retry-After seconds.
            self._hold_until[target] = self._clock.monotonic() + retry_after
        self._transient(FailureReason.STATUS, response.status, detail,
                        retry_after=float(retry_after) if retry_after is not None else None)

    def _transient(self, reason: FailureReason, status: int | None, detail: str, *,
                   retry_after: float | None = None) -> None:
        """408 / 503 / 500 / timeout / transport error: next RFC 3263 address (§4.3), else the
        next redirect target (§8.1.3.4), else wait: Retry-After or the RFC 5626 backoff."""
        now = self._clock.monotonic()
        while self._target_index + 1 < len(self._targets):
            self._target_index += 1
            if self._hold_until.get(self._targets[self._target_index], 0.0) <= now:
                self.machine.fire(self, "next_target")
                return
        if self._next_redirect_target():
            return
        self._defer(reason, status, detail, retry_after)

    def _permanent(self, reason: FailureReason, status: int | None, detail: str) -> None:
        """A final failure of this registrar: next redirect target, else the intent fails."""
        if reason is FailureReason.STATUS and self._next_redirect_target():
            return
        self._reject(reason, status, detail)

    def _next_redirect_target(self) -> bool:
        if self._redirect_index + 1 >= len(self._redirect_set):
            return False
        self._redirect_index += 1
        self.registrar_uri = self._redirect_set[self._redirect_index]
        self._targets = []
        self._target_index = 0
        self.machine.fire(self, "redirected")
        return True

    def _defer(self, reason: FailureReason, status: int | None, detail: str,
               retry_after: float | None = None) -> None:
        """§10.2.7 / RFC 5626 §4.5: count the failure and wait before retrying."""
        self._failures += 1
        limit = self.config.max_consecutive_failures
        if limit is not None and self._failures >= limit:
            self._reject(reason, status, f"{detail} ({self._failures} consecutive failures)")
            return
        # The retry resolves the next hop again (RFC 3263 answers have TTLs).
        self._targets = []
        self._target_index = 0
        backoff = self.config.backoff.delay(self._failures, self._random)
        # Records 21.5.1 / 21.5.4: Retry-After when longer, never less than the backoff.
        self._retry_delay = backoff if retry_after is None else max(retry_after, backoff)
        self._emit(Retrying(reason, self._retry_delay, self._failures, status))
        if self.state in IN_FLIGHT:
            self.machine.fire(self, "deferred")
        else:
            self._arm_retry()

    def _reject(self, reason: FailureReason, status: int | None, detail: str) -> None:
        self._pending_failure = Failed(reason, status, detail)
        self.machine.fire(self, "rejected")

    def _on_failed(self) -> None:
        failure = self._pending_failure
        self.last_failure = failure
        if self.state == "failed":
            self._bound.clear()
            self.expires_at = None
        self._emit(failure)

    def _on_challenge(self, response: Response) -> None:
        header = "WWW-Authenticate" if response.status == 401 else "Proxy-Authenticate"
        challenges = (response.www_authenticate if response.status == 401
                      else response.proxy_authenticate)
        if self._digest is None:
            self._reject(FailureReason.AUTH, response.status,
                         f"{response.status}: credentials are asked for and none are configured")
            return
        if not challenges:
            self._reject(FailureReason.AUTH, response.status, f"{response.status} without {header}")
            return
        try:
            self._digest.handle_challenge(response.status, list(challenges))
        except AuthenticationFailed as exc:
            self._reject(FailureReason.AUTH, response.status, str(exc))
            return
        # §22.2 / §8.1.3.5: resubmit with credentials: a new transaction, CSeq + 1, same
        # Call-ID, To and From.
        self.machine.fire(self, "challenged")

    def _on_interval_too_brief(self, response: Response) -> None:
        status = response.status
        requested = self._expires
        try:
            minimum = response.min_expires
        except ParseError:
            minimum = None
        if self.state in ("unregistering", "querying") or minimum is None:
            self._reject(FailureReason.INTERVAL_TOO_BRIEF, status,
                         "423 without a usable Min-Expires")
            return
        if (minimum <= requested or minimum > 2**32 - 1
                or self._interval_retries >= self.config.max_interval_retries):
            self._reject(FailureReason.INTERVAL_TOO_BRIEF, status,
                         f"423 again (Min-Expires {minimum}, asked {requested})")
            return
        # §10.2.8: retry with every contact's expiry >= Min-Expires (the Expires header here;
        # no Contact carries its own expires).  The raised interval is kept for refreshes.
        self._interval_retries += 1
        self._expires = minimum
        self.machine.fire(self, "interval_too_brief")

    def _on_redirect(self, response: Response) -> None:
        status = response.status
        # §8.1.3.4: add each Contact once, in decreasing q; REGISTER Request-URIs carry no
        # user part (§10.2), so such targets are skipped; method param and headers dropped.
        ranked = sorted(enumerate(response.contacts),
                        key=lambda ic: (-(ic[1].q if ic[1].q is not None else 1.0), ic[0]))
        added = False
        for _, contact in ranked:
            uri = contact.uri
            if not isinstance(uri, SipUri) or uri.scheme != "sip" or uri.user or uri.password:
                continue
            target = SipUri(scheme="sip", host=uri.host, port=uri.port,
                            params=Params((k, v) for k, v in uri.params.items() if k != "method"))
            if any(uri_equal(target, seen) for seen in self._redirect_set):
                continue
            if len(self._redirect_set) > self.config.max_redirects:
                break
            self._redirect_set.append(target)
            added = True
        if not added and self._redirect_index + 1 >= len(self._redirect_set):
            self._reject(FailureReason.REDIRECT, status,
                         f"{status} {response.reason}: no new registrar to try")
            return
        self._next_redirect_target()

    def _on_success(self, response: Response) -> None:
        self._failures = 0  # RFC 5626 §4.5: a 2xx resets the backoff
        if self._digest is not None:
            info = response.authentication_info
            if info:
                try:
                    self._digest.handle_authentication_info(info)
                except AuthenticationFailed as exc:
                    self._reject(FailureReason.AUTH, response.status, str(exc))
                    return
        self._observe_date(response)
        # The bindings only go into the events: without an observer, only parse the contacts
        # (a malformed Contact must still count as a malformed 200, as with an observer).
        if self._observer is not None:
            bindings = self._bindings(response)
        else:
            response.contacts  # noqa: B018 - parsed for its ParseError
            bindings = ()
        intent = self._intent or Intent(IntentKind.QUERY)
        if intent.kind is IntentKind.REGISTER:
            granted: dict[str, tuple[SipUri, int]] = {}
            missing: list[str] = []
            for uri in self._sent_contacts:
                expiry = self._granted_expiry(response, uri)
                if expiry is None or expiry <= 0:
                    missing.append(str(uri))
                else:
                    granted[str(uri)] = (uri, expiry)
            if missing:
                self._emit(ContactMissing(tuple(missing)))
                if self._contact_missing < self.config.max_contact_missing_retries:
                    self._contact_missing += 1
                    self.machine.fire(self, "contact_missing")
                    return
                self._reject(FailureReason.CONTACT_MISSING, response.status,
                             f"the registrar's 200 does not list {', '.join(missing)}")
                return
            was_refresh = self.state == "refreshing"
            self._bound = granted
            shortest = min(expiry for _, expiry in granted.values())
            self.expires_at = self._clock.monotonic() + shortest
            self.service_route = tuple(str(r) for r in response.service_routes)
            payload = (shortest, tuple((k, e) for k, (_, e) in granted.items()), bindings,
                       self.service_route)
            self.machine.fire(self, "accepted")
            self._emit(Refreshed(*payload) if was_refresh else Registered(*payload))
            self._maybe_rewrite_contact()
        elif intent.kind is IntentKind.UNREGISTER:
            if intent.remove_all:
                self._bound.clear()
            else:
                for uri in self._sent_contacts:
                    for key, (bound, _) in list(self._bound.items()):
                        if uri_equal(bound, uri):
                            del self._bound[key]
            if not self._bound:
                self.expires_at = None
            self.machine.fire(self, "accepted")
            self._emit(Unregistered(bindings))
        else:
            self.machine.fire(self, "accepted")
            self._emit(BindingsReported(bindings))

    def _granted_expiry(self, response: Response, ours: SipUri) -> int | None:
        """§10.2.1.1 / §10.2.4: our contact's expires param in the 200, else its Expires header,
        else what we asked for.  None when the 200 does not list our contact."""
        for contact in response.contacts:
            if isinstance(contact.uri, SipUri) and uri_equal(contact.uri, ours):
                param = read_expires(contact.params.get("expires"))
                if param is not None:
                    return param
                header = read_expires(response.headers.get("Expires"))
                return header if header is not None else self._expires
        return None

    def _bindings(self, response: Response) -> tuple[Binding, ...]:
        mine = [*self._sent_contacts, *(uri for uri, _ in self._bound.values())]
        header = read_expires(response.headers.get("Expires"))
        out = []
        for contact in response.contacts:
            uri = contact.uri
            ours = isinstance(uri, SipUri) and any(uri_equal(uri, m) for m in mine)
            param = read_expires(contact.params.get("expires"))
            expires = param if param is not None else header
            try:
                q = contact.q
            except (ParseError, ValueError):
                q = None
            out.append(Binding(str(uri), expires, q, ours))
        return tuple(out)

    def _observe_via(self, response: Response) -> None:
        """RFC 3581 §4 / §18.2.1: the registrar's view of our address, from the top Via."""
        try:
            vias = response.vias
        except ParseError:
            return
        if not vias:
            return
        top = vias[0]
        received, rport = top.received, top.rport
        if received is None and rport is None:
            return
        sent_by = top.sent_by
        host = received or sent_by.host
        port = rport or sent_by.port or 5060
        self.public_address = HostPort(host, port)

    def _maybe_rewrite_contact(self) -> None:
        """With ``rewrite_contact``, replace automatic contacts by the public address once the
        registrar told us it differs (register the new contact, remove the old one)."""
        public = self.public_address
        if (not self.config.rewrite_contact or public is None
                or not any(spec.uri is None for spec in self._contacts)):
            return
        current = [uri for uri in self._sent_contacts
                   if (uri.host, uri.port or 5060) != (public.host, public.port)]
        if not current:
            return
        target = self.last_target
        suffix = "" if target is None or target.transport.upper() == "UDP" else (
            f";transport={target.transport.lower()}")
        host = f"[{public.host}]" if ":" in public.host else public.host
        uri = parse_uri(f"sip:{self.config.aor.user}@{host}:{public.port}{suffix}")
        assert isinstance(uri, SipUri)
        rewritten = tuple(ContactSpec(uri=uri, q=spec.q) if spec.uri is None else spec
                          for spec in self._contacts)
        self.register(rewritten)

    def _observe_date(self, response: Response) -> None:
        """§10.2.5: a Date header lets the UA learn the registrar's idea of the time."""
        try:
            date = response.date
        except ParseError:
            return
        if date is not None:
            self.clock_offset = date.astimezone(UTC).timestamp() - self._clock.wall()

    def _on_accepted(self) -> None:
        return  # outcome events are emitted by _on_success once the state has changed
