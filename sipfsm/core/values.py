"""Values of the registration core: configuration, contacts, bindings, and the events the
client reports (the observer port's vocabulary)."""

from __future__ import annotations

from dataclasses import MISSING, dataclass, fields, is_dataclass
from enum import Enum
from typing import Any, TypeVar

from sipfsm.errors import ConfigError
from sipfsm.message import SipUri
from sipfsm.ports import Random, Target

__all__ = [
    "KNOWN_STATUS_CODES",
    "MAX_FORWARDS",
    "BackoffPolicy",
    "Binding",
    "BindingLapsed",
    "BindingsReported",
    "ContactMissing",
    "ContactSpec",
    "Failed",
    "FailureReason",
    "IntentKind",
    "RefreshPolicy",
    "Refreshed",
    "Registered",
    "RegistrationConfig",
    "RegistrationEvent",
    "Retrying",
    "StateChanged",
    "Stopped",
    "Unregistered",
    "quick_init",
    "read_expires",
    "validate_contact",
]

_V = TypeVar("_V")


def quick_init(cls: type[_V]) -> type[_V]:
    """Give a frozen dataclass an ``__init__`` with the same signature, defaults and
    frozenness as the generated one, at about half its cost (that one calls
    ``object.__setattr__`` per field).  A slotted class has each field stored through its
    slot's descriptor; a class with a ``__dict__`` has its fields stored as one dictionary; then
    its ``__post_init__`` (if any) runs.  Inputs, outputs and events are made several times for
    every REGISTER; a configuration once per registration."""
    if not is_dataclass(cls) or not cls.__dataclass_params__.frozen:  # type: ignore[attr-defined]
        raise TypeError(f"{cls.__name__}: quick_init takes a frozen dataclass")
    slotted = "__slots__" in cls.__dict__
    namespace: dict[str, Any] = {"_set": object.__setattr__}
    params: list[str] = []
    body: list[str] = []
    for f in fields(cls):
        if not f.init or f.kw_only or f.default_factory is not MISSING:
            raise TypeError(f"{cls.__name__}.{f.name}: quick_init takes plain fields only")
        if f.default is MISSING:
            params.append(f.name)
        else:
            namespace[f"_default_{f.name}"] = f.default
            params.append(f"{f.name}=_default_{f.name}")
        if slotted:
            namespace[f"_set_{f.name}"] = cls.__dict__[f.name].__set__
            body.append(f"    _set_{f.name}(self, {f.name})\n")
    if not slotted:
        stored = ", ".join(f"{f.name!r}: {f.name}" for f in fields(cls))
        body.append(f"    _set(self, '__dict__', {{{stored}}})\n")
    if hasattr(cls, "__post_init__"):
        body.append("    self.__post_init__()\n")
    exec(f"def __init__(self, {', '.join(params)}):\n{''.join(body) or '    pass'}\n", namespace)
    init = namespace["__init__"]
    init.__qualname__ = f"{cls.__qualname__}.__init__"
    init.__doc__ = cls.__init__.__doc__
    cls.__init__ = init  # type: ignore[method-assign]
    return cls

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
        # §10.2.1: the refresh must reach the registrar BEFORE the binding expires; a policy
        # with no margin and fraction 1 would send it at the expiry itself.  Keep at least 1 %
        # of the interval (or the floor, for short ones) before it.
        base = min(base, expiry - max(expiry / 100, min(self.floor, expiry / 2)))
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


@quick_init
@dataclass(frozen=True, slots=True)  # slots: ~0.2 KiB a registration, a dictionary ~0.8 KiB
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
    # A Retry-After (§20.33) is honoured up to this many seconds: a registrar saying 999999
    # must not silence the client for days.
    max_retry_after: float = 3600.0
    # 401/407 resubmissions for one intent: a backstop behind the digest client's own bound
    # (RFC 3261 §22.1: rejected credentials are not resent).
    max_challenge_retries: int = 5
    user_agent: str | None = "sipfsm"
    # Keep the last final response as ``RegistrationClient.last_response`` (a debugging aid).  A
    # parsed response costs 2-3 KiB; an application running many clients may turn it off.
    keep_last_response: bool = False  # costs ~3.8 KiB a client at scale (benchmarks/simulate.py)
    # RFC 3581: re-register with the address the registrar saw (Via received/rport) in the
    # Contact when it differs from ours, as PJSIP does behind NAT.  Only for automatic contacts.
    rewrite_contact: bool = False
    # RFC 5626 §4.1 / RFC 5627 §4.1: the instance id (a URN) put in every Contact as
    # +sip.instance; RFC 5626 §4.2: the flow's reg-id (only with an instance id).
    instance_id: str | None = None
    reg_id: int | None = None

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
        if self.max_consecutive_failures is not None and self.max_consecutive_failures < 1:
            raise ConfigError("max_consecutive_failures must be at least 1 (or None)")
        if not self.max_retry_after >= 0:  # also refuses NaN
            raise ConfigError(f"max_retry_after {self.max_retry_after} must be >= 0")
        if not 0 < self.expires <= 2**32 - 1:
            raise ConfigError(f"expires {self.expires} is outside 1..4294967295")
        if not self.contacts:
            raise ConfigError("at least one contact is needed (use query() to fetch bindings)")
        if self.instance_id is not None:
            from sipfsm.outbound.registration import validate_instance

            if validate_instance(self.instance_id) != self.instance_id:
                raise ConfigError(f"instance_id {self.instance_id!r}: give the URN form "
                                  f"({validate_instance(self.instance_id)})",
                                  spec_id="RFC5626-4.1-INSTANCE-URN")
        if self.reg_id is not None and (self.instance_id is None or not 0 < self.reg_id < 2**31):
            raise ConfigError("reg_id needs an instance_id and must be 1..2**31-1",
                              spec_id="RFC5626-4.2-INSTANCE-AND-REG-ID")
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

class IntentKind(Enum):
    REGISTER = "register"  # add or refresh bindings (§10.2.1, §10.2.4)
    UNREGISTER = "unregister"  # Expires: 0 for our contacts, or Contact: * (§10.2.2)
    QUERY = "query"  # no Contact (§10.2.3)


class FailureReason(Enum):
    STATUS = "status"  # a final error response
    TIMEOUT = "timeout"
    TRANSPORT = "transport"
    AUTH = "auth"  # no usable challenge, rejected credentials, bad rspauth
    INTERVAL_TOO_BRIEF = "423"  # 423 without Min-Expires, or again after raising the expiry
    REDIRECT = "redirect"  # too many redirects, or a 3xx without a usable Contact
    CONTACT_MISSING = "contact-missing"
    RESOLVE = "resolve"


@quick_init
@dataclass(frozen=True, slots=True)
class Binding:
    """One binding the registrar reported in a 200 (§10.2.1.1, §10.2.3)."""

    contact: str
    expires: int | None
    q: float | None
    ours: bool


@quick_init
@dataclass(frozen=True, slots=True)
class StateChanged:
    old: str
    new: str


@quick_init
@dataclass(frozen=True, slots=True)
class Registered:
    expires: int  # the shortest expiry granted to one of our contacts
    granted: tuple[tuple[str, int], ...]  # (our contact, seconds) per contact
    bindings: tuple[Binding, ...]  # every binding of the AOR the registrar reported
    service_route: tuple[str, ...]
    # RFC 5627 §4.1: our public and temporary GRUUs; RFC 3327: the Path values in order;
    # RFC 5626 §4.4: the Flow-Timer, and whether the 200 said Require: outbound.
    pub_gruu: str | None = None
    temp_gruu: str | None = None
    path: tuple[str, ...] = ()
    flow_timer: int | None = None
    outbound: bool = False


@quick_init
@dataclass(frozen=True, slots=True)
class Refreshed:
    expires: int
    granted: tuple[tuple[str, int], ...]
    bindings: tuple[Binding, ...]
    service_route: tuple[str, ...]
    pub_gruu: str | None = None  # as on Registered
    temp_gruu: str | None = None
    path: tuple[str, ...] = ()
    flow_timer: int | None = None
    outbound: bool = False


@quick_init
@dataclass(frozen=True, slots=True)
class Unregistered:
    bindings: tuple[Binding, ...]  # what remains at the registrar


@quick_init
@dataclass(frozen=True, slots=True)
class BindingsReported:
    bindings: tuple[Binding, ...]


@quick_init
@dataclass(frozen=True, slots=True)
class ContactMissing:
    contacts: tuple[str, ...]  # ours, absent from the 200


@quick_init
@dataclass(frozen=True, slots=True)
class Retrying:
    reason: FailureReason
    delay: float
    failures: int
    status: int | None = None
    detail: str = ""  # what failed, e.g. "503 Service Unavailable", "no final response (Timer F)"


@quick_init
@dataclass(frozen=True, slots=True)
class Failed:
    reason: FailureReason
    status: int | None
    detail: str


@quick_init
@dataclass(frozen=True, slots=True)
class BindingLapsed:
    """Bindings of ours reached their granted expiry with no successful refresh: the registrar
    no longer holds them (the client keeps trying to register again)."""

    contacts: tuple[str, ...]


@quick_init
@dataclass(frozen=True, slots=True)
class Stopped:
    pass


RegistrationEvent = (
    StateChanged | Registered | Refreshed | Unregistered | BindingsReported | ContactMissing
    | Retrying | Failed | Stopped | BindingLapsed
)



def read_expires(raw: str | None) -> int | None:
    """An expires value read from a 2xx: above 2**32-1 is 2**32-1 (§10.2 MAY); a malformed one
    is 3600 (§10.2 SHOULD).  None when absent."""
    if raw is None:
        return None
    text = raw.strip()
    if not text.isascii() or not text.isdigit():
        return 3600
    return min(int(text), 2**32 - 1)


