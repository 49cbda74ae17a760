"""Every input of the registration machine, as a small frozen value (h11 style).

The machine's triggers are these classes' names: ``sipfsm.core.registration.TRANSITIONS`` is
keyed on them, state by state.  Four families:

commands        what the user asks for (§10.2.1, §10.2.2, §10.2.3)
responses       a final response, classified by :func:`sipfsm.core.classify.classify_response`
timers          a timer the machine asked for has fired
outcomes        what the transport, the transaction layer, the resolver and the digest client
                reported
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sipfsm.core.values import Binding, ContactSpec, quick_init
from sipfsm.message import SipUri
from sipfsm.outbound.registration import NO_EXTENSIONS, RegistrationExtensions
from sipfsm.ports import HostPort, Target

__all__ = [
    "COMMANDS",
    "INPUTS",
    "OUTCOMES",
    "RESPONSES",
    "TIMERS",
    "BindingExpired",
    "Challenge",
    "ChallengeAnswered",
    "ChallengeRefused",
    "Dequeue",
    "Input",
    "IntervalTooBrief",
    "Malformed",
    "Query",
    "Redirect",
    "RefreshDue",
    "Register",
    "Rejected",
    "ResolveFailed",
    "Resolved",
    "RetryDue",
    "RetryLater",
    "SendFailed",
    "Stop",
    "Success",
    "TargetUnreachable",
    "Timeout",
    "UnregisterAll",
    "UnregisterOwn",
    "UpdateContacts",
]

# ---- commands ---------------------------------------------------------------------------------


@quick_init
@dataclass(frozen=True, slots=True)
class Register:
    """Add or refresh our bindings (§10.2.1).  ``contacts`` None: the current set."""

    contacts: tuple[ContactSpec, ...] | None = None
    expires: int | None = None


@quick_init
@dataclass(frozen=True, slots=True)
class UpdateContacts:
    """Bind ``contacts`` instead of the current set: register them, then remove the dropped
    ones (no moment without a binding)."""

    contacts: tuple[ContactSpec, ...]
    expires: int | None = None


@quick_init
@dataclass(frozen=True, slots=True)
class UnregisterOwn:
    """Remove our bindings (§10.2.2): our contacts with Expires: 0.  ``contacts``: only these."""

    contacts: tuple[ContactSpec, ...] = ()


@quick_init
@dataclass(frozen=True, slots=True)
class UnregisterAll:
    """Remove every binding of the AOR: ``Contact: *`` with Expires: 0 (§10.2.2)."""


@quick_init
@dataclass(frozen=True, slots=True)
class Query:
    """Fetch the AOR's bindings: a REGISTER without Contact (§10.2.3)."""


@quick_init
@dataclass(frozen=True, slots=True)
class Stop:
    """Stop at once: cancel timers, abandon the transaction in flight."""


@quick_init
@dataclass(frozen=True, slots=True)
class Dequeue:
    """Internal: the machine is idle and a command waits in its queue (§10.2: one REGISTER at a
    time).  Raised by :func:`sipfsm.core.registration.step` itself, never by a driver."""


# ---- classified final responses ----------------------------------------------------------------


@quick_init
@dataclass(frozen=True, slots=True)
class Success:
    """A 2xx (§10.2.1.1, §10.2.4).  ``granted``: our contacts found in it (§19.1.4 equality,
    anywhere in the list) with the expiry granted to each; ``missing``: ours it does not
    list."""

    status: int
    sent: tuple[SipUri, ...] = ()  # the contacts the REGISTER carried
    granted: tuple[tuple[SipUri, int], ...] = ()
    missing: tuple[str, ...] = ()
    bindings: tuple[Binding, ...] = ()
    service_route: tuple[str, ...] = ()
    date: datetime | None = None  # §10.2.5
    authentication_info: str | None = None
    public: HostPort | None = None  # RFC 3581: our address as the registrar saw it (top Via)
    # RFC 5627 GRUUs, RFC 3327 Path, RFC 5626 Flow-Timer / Require: outbound of the 200.
    extensions: RegistrationExtensions = NO_EXTENSIONS


@quick_init
@dataclass(frozen=True, slots=True)
class Challenge:
    """A 401 / 407 (§22.2, §8.1.3.5) with its WWW- / Proxy-Authenticate values."""

    status: int
    challenges: tuple[str, ...]


@quick_init
@dataclass(frozen=True, slots=True)
class ChallengeAnswered:
    """The digest client took the challenge: the next REGISTER carries credentials."""


@quick_init
@dataclass(frozen=True, slots=True)
class ChallengeRefused:
    """The digest client will not answer a challenge (no credentials, rejected ones, nothing it
    can answer), or a 2xx's Authentication-Info failed its check (RFC 7616 §3.5)."""

    status: int | None
    detail: str


@quick_init
@dataclass(frozen=True, slots=True)
class IntervalTooBrief:
    """A 423 (§10.2.8, §21.4.17); ``min_expires`` None when absent or unreadable."""

    status: int
    min_expires: int | None


@quick_init
@dataclass(frozen=True, slots=True)
class Redirect:
    """A 3xx (§8.1.3.4): its usable Contacts as registrar URIs, in decreasing q."""

    status: int
    reason: str
    targets: tuple[SipUri, ...]


@quick_init
@dataclass(frozen=True, slots=True)
class RetryLater:
    """408 / 500 / 503 (§8.1.3, §21.5.1, §21.5.4) with Retry-After in seconds, if any."""

    status: int
    reason: str
    retry_after: int | None = None


@quick_init
@dataclass(frozen=True, slots=True)
class Rejected:
    """Any other final response >= 400 (handled as the x00 of its class, §8.1.3.2)."""

    status: int
    reason: str


@quick_init
@dataclass(frozen=True, slots=True)
class Malformed:
    """A final response whose headers cannot be read: handled as a server failure (§8.1.3)."""

    status: int
    detail: str


# ---- timers ----------------------------------------------------------------------------------


@quick_init
@dataclass(frozen=True, slots=True)
class RefreshDue:
    """The refresh timer fired (§10.2.1: refresh before the binding expires)."""


@quick_init
@dataclass(frozen=True, slots=True)
class RetryDue:
    """The backoff / Retry-After wait is over (§10.2.7, RFC 5626 §4.5)."""


@quick_init
@dataclass(frozen=True, slots=True)
class BindingExpired:
    """The granted expiry of our shortest binding has passed with no successful refresh."""


# ---- transport, transaction, resolver outcomes ---------------------------------------------------


@quick_init
@dataclass(frozen=True, slots=True)
class Timeout:
    """The transaction ended without a final response: Timer F (§8.1.3.1: as a 408)."""


@quick_init
@dataclass(frozen=True, slots=True)
class SendFailed:
    """The transport could not send (§8.1.3.1: as a 503 without Retry-After)."""

    detail: str


@quick_init
@dataclass(frozen=True, slots=True)
class TargetUnreachable:
    """The target refused (ICMP port unreachable, connection refused:
    :class:`sipfsm.errors.DestinationUnreachable`): next target at once, never wait for
    Timer F."""

    detail: str


@quick_init
@dataclass(frozen=True, slots=True)
class Resolved:
    """RFC 3263: the next hop's targets, in order (maybe none)."""

    targets: tuple[Target, ...]


@quick_init
@dataclass(frozen=True, slots=True)
class ResolveFailed:
    detail: str


Input = (
    Register | UpdateContacts | UnregisterOwn | UnregisterAll | Query | Stop | Dequeue
    | Success | Challenge | ChallengeAnswered | ChallengeRefused | IntervalTooBrief | Redirect
    | RetryLater | Rejected | Malformed | RefreshDue | RetryDue | BindingExpired | Timeout
    | SendFailed | TargetUnreachable | Resolved | ResolveFailed
)

COMMANDS: tuple[type, ...] = (Register, UpdateContacts, UnregisterOwn, UnregisterAll, Query, Stop,
                              Dequeue)
RESPONSES: tuple[type, ...] = (Success, Challenge, IntervalTooBrief, Redirect, RetryLater, Rejected,
                               Malformed)
TIMERS: tuple[type, ...] = (RefreshDue, RetryDue, BindingExpired)
OUTCOMES: tuple[type, ...] = (Timeout, SendFailed, TargetUnreachable, Resolved, ResolveFailed,
                              ChallengeAnswered, ChallengeRefused)
INPUTS: tuple[type, ...] = COMMANDS + RESPONSES + TIMERS + OUTCOMES
