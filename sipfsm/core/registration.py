"""RFC 3261 §10 registration, client side: the table is the specification.

The machine is the data just below: :data:`STATES` and :data:`TRANSITIONS`, keyed on the inputs
of :mod:`sipfsm.core.inputs` (a trigger is an input's class name), built once into
:data:`REGISTRATION_MACHINE`.  Every decision is a row with a named condition; a (state, input)
pair that is not a row is on :data:`IGNORED`, with the reason.  Whatever does not fit a row is a
named method of :class:`RegistrationModel` (the row's condition or action) in this file.

:func:`step` is pure: a :class:`RegistrationState` and an input in, the next state and the
outputs (:class:`Send`, :class:`StartTimer`, :class:`CancelTimer`, :class:`Resolve`,
:class:`AnswerChallenge`, :class:`Abandon`, :class:`Notify`) out.  Nothing runs the machine while
a transition is in progress: a driver (:class:`sipfsm.registration.RegistrationClient`) executes
the outputs after the step, and feeds what they cause (a send failing at once, a synchronous
resolver) back as new inputs, one at a time.

States
  unregistered   no binding of ours is known to exist
  registering    a REGISTER adding or updating our bindings is in flight
  registered     our bindings exist; the refresh timer runs
  refreshing     a REGISTER refreshing our bindings is in flight
  unregistering  a REGISTER removing bindings (ours, or ``Contact: *``) is in flight
  querying       a REGISTER without Contact is in flight (§10.2.3)
  waiting        after a transient failure, waiting to retry (backoff or Retry-After)
  failed         a permanent failure; a new ``Register`` starts over
  stopped        terminal; the client does nothing more

"In flight" means: resolving the next hop, answering a challenge, or a non-INVITE client
transaction that has not yet reported a final response, a timeout or a transport error.
Commands that arrive meanwhile are queued and merged (RFC 3261 §10.2: no new REGISTER before the
previous one's final response or timeout).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, fields
from typing import Any

from sipfsm.core.inputs import (
    Dequeue,
    Input,
    RefreshDue,
    Register,
    Resolved,
    RetryLater,
    Success,
    UnregisterAll,
    UnregisterOwn,
    UpdateContacts,
)
from sipfsm.core.values import (
    MAX_FORWARDS,
    BindingLapsed,
    BindingsReported,
    ContactMissing,
    ContactSpec,
    Failed,
    FailureReason,
    IntentKind,
    Refreshed,
    Registered,
    RegistrationConfig,
    RegistrationEvent,
    Retrying,
    StateChanged,
    Stopped,
    Unregistered,
    quick_init,
)
from sipfsm.errors import LocalProtocolError
from sipfsm.fsm import SharedMachine
from sipfsm.message import Headers, Params, Request, SipUri, parse_uri, uri_equal
from sipfsm.message._syntax import valid_host
from sipfsm.message.params import EMPTY_PARAMS
from sipfsm.outbound.registration import EXTENSION_OPTION_TAGS, contact_parameters
from sipfsm.ports import HostPort, Random, Target

__all__ = [
    "IDLE",
    "IGNORED",
    "IN_FLIGHT",
    "REGISTRATION_MACHINE",
    "STATES",
    "SUPPORTED_OPTION_TAGS",
    "TRANSITIONS",
    "Abandon",
    "AnswerChallenge",
    "CancelTimer",
    "Intent",
    "Notify",
    "Output",
    "RegisterPlan",
    "RegistrationModel",
    "RegistrationState",
    "Resolve",
    "Send",
    "StartTimer",
    "build_register",
    "configured_registrar",
    "contact_uri",
    "initial_state",
    "merge_intents",
    "next_register",
    "step",
]

# --------------------------------------------------------------------------------------------
# The machine
# --------------------------------------------------------------------------------------------

IN_FLIGHT = ["registering", "refreshing", "unregistering", "querying"]
IDLE = ["unregistered", "registered", "waiting", "failed"]
READY = ["unregistered", "registered", "failed"]  # idle, and no retry pending
LIVE = [*IN_FLIGHT, *IDLE]
ALL_STATES = [*LIVE, "stopped"]

STATES: list[dict[str, Any]] = [
    {"name": "unregistered", "on_enter": "announce"},
    {"name": "registering", "on_enter": "announce"},
    {"name": "registered", "on_enter": ["announce", "arm_refresh"], "on_exit": "cancel_refresh"},
    {"name": "refreshing", "on_enter": "announce"},
    {"name": "unregistering", "on_enter": "announce"},
    {"name": "querying", "on_enter": "announce"},
    {"name": "waiting", "on_enter": ["announce", "arm_retry"], "on_exit": "cancel_retry"},
    {"name": "failed", "on_enter": "announce"},
    {"name": "stopped", "on_enter": "announce"},
]


def _give_up(trigger: str, sources: Sequence[str], *, conditions: Sequence[str] = (),
             action: str) -> list[dict[str, Any]]:
    """The end of an intent: a failed query leaves an established registration alone;
    anything else fails (the bindings are forgotten)."""
    rows: list[dict[str, Any]] = []
    if "querying" in sources:
        rows.append({"trigger": trigger, "source": "querying", "dest": "registered",
                     "conditions": [*conditions, "holds_bindings"], "before": action,
                     "after": "report_failure"})
    rows.append({"trigger": trigger, "source": list(sources), "dest": "failed",
                 "conditions": list(conditions), "before": action,
                 "after": ["forget_bindings", "report_failure"]})
    return rows


def _transient(trigger: str, action: str, *, fail_without_bindings: bool = False
               ) -> list[dict[str, Any]]:
    """A failure after which the REGISTER may succeed elsewhere or later (§8.1.3.1 timeout as
    408, transport error as 503, 408/500/503): the next RFC 3263 address at once (§4.3), else the
    next redirect target (§8.1.3.4), else wait (§10.2.7, RFC 5626 §4.5) -- unless the failures in
    a row reached ``max_consecutive_failures``."""
    return [
        {"trigger": trigger, "source": IN_FLIGHT, "dest": None,
         "conditions": "has_next_target", "before": action, "after": ["next_target", "send"]},
        {"trigger": trigger, "source": IN_FLIGHT, "dest": None,
         "conditions": "has_next_redirect", "before": action,
         "after": ["next_redirect", "send"]},
        *_give_up(trigger, IN_FLIGHT, conditions=["failure_limit_reached"],
                  action=f"{action}_limit"),
        # A destination that refuses (ICMP port unreachable, connection refused) while no
        # binding of ours is held: nothing listens there; fail at once rather than back off.
        *(_give_up(trigger, IN_FLIGHT, conditions=["holds_no_bindings"], action=action)
          if fail_without_bindings else []),
        {"trigger": trigger, "source": IN_FLIGHT, "dest": "waiting",
         "before": [action, "defer"]},
    ]


TRANSITIONS: list[dict[str, Any]] = [
    # ---- Commands.  While a REGISTER is in flight or a retry is pending they wait (§10.2:
    # one REGISTER at a time; §10.2.7 / §21.5.4: a command waits for the retry instant too).
    {"trigger": "Register", "source": READY, "dest": "registering",
     "after": ["begin_register", "send"]},
    {"trigger": "UpdateContacts", "source": READY, "dest": "registering",
     "after": ["begin_register", "send"]},
    {"trigger": "UnregisterOwn", "source": READY, "dest": "unregistering",
     "after": ["begin_unregister", "send"]},
    {"trigger": "UnregisterAll", "source": READY, "dest": "unregistering",
     "after": ["begin_unregister", "send"]},
    {"trigger": "Query", "source": READY, "dest": "querying", "after": ["begin_query", "send"]},
    *({"trigger": name, "source": [*IN_FLIGHT, "waiting"], "dest": None, "after": "enqueue"}
      for name in ("Register", "UpdateContacts", "UnregisterOwn", "UnregisterAll", "Query")),
    {"trigger": "Dequeue", "source": READY, "dest": "registering",
     "conditions": "next_is_register", "after": ["begin_queued", "send"]},
    {"trigger": "Dequeue", "source": READY, "dest": "unregistering",
     "conditions": "next_is_unregister", "after": ["begin_queued", "send"]},
    {"trigger": "Dequeue", "source": READY, "dest": "querying",
     "after": ["begin_queued", "send"]},
    {"trigger": "Stop", "source": LIVE, "dest": "stopped", "before": "abandon",
     "after": "report_stopped"},

    # ---- Timers
    {"trigger": "RefreshDue", "source": "registered", "dest": "refreshing",
     "after": ["begin_refresh", "send"]},
    {"trigger": "RetryDue", "source": "waiting", "dest": "registering",
     "conditions": "retry_is_register", "after": ["begin_retry", "send"]},
    {"trigger": "RetryDue", "source": "waiting", "dest": "unregistering",
     "conditions": "retry_is_unregister", "after": ["begin_retry", "send"]},
    {"trigger": "RetryDue", "source": "waiting", "dest": "querying",
     "after": ["begin_retry", "send"]},
    # The granted expiry passed with no successful refresh: say so; keep (or start) trying.
    {"trigger": "BindingExpired", "source": "registered", "dest": "registering",
     "before": "lapse", "after": ["begin_refresh", "send"]},
    {"trigger": "BindingExpired", "source": [*IN_FLIGHT, "waiting"], "dest": None,
     "after": "lapse"},

    # ---- Locating the next hop (RFC 3263)
    {"trigger": "Resolved", "source": IN_FLIGHT, "dest": None,
     "conditions": "has_usable_target", "after": ["use_targets", "send"]},
    *_transient("Resolved", "note_no_target"),  # nothing resolved, or every target held off
    *_transient("ResolveFailed", "note_resolve_failed"),

    # ---- 2xx (§10.2.1.1, §10.2.2, §10.2.3, §10.2.4)
    # §10.2.4: a 200 that lacks our contact: report it, register again (bounded).
    {"trigger": "Success", "source": ["registering", "refreshing"], "dest": "registering",
     "conditions": ["contact_not_listed", "contact_missing_retries_left"],
     "before": ["accept_auth", "report_contact_missing"],
     "after": ["count_contact_missing", "send"]},
    *_give_up("Success", ["registering", "refreshing"], conditions=["contact_not_listed"],
              action="note_contact_missing"),
    {"trigger": "Success", "source": "registering", "dest": "registered",
     "before": "accept_registration", "after": ["report_registered", "rewrite_contact"]},
    {"trigger": "Success", "source": "refreshing", "dest": "registered",
     "before": "accept_registration", "after": ["report_refreshed", "rewrite_contact"]},
    {"trigger": "Success", "source": "unregistering", "dest": "registered",
     "conditions": "keeps_bindings_after_removal", "before": "accept_removal",
     "after": "report_unregistered"},
    {"trigger": "Success", "source": "unregistering", "dest": "unregistered",
     "before": "accept_removal", "after": "report_unregistered"},
    {"trigger": "Success", "source": "querying", "dest": "registered",
     "conditions": "holds_bindings", "before": "accept_auth", "after": "report_bindings"},
    {"trigger": "Success", "source": "querying", "dest": "unregistered",
     "before": "accept_auth", "after": "report_bindings"},

    # ---- 401 / 407 (§22.2, §8.1.3.5): a new transaction with credentials, CSeq + 1.
    *_give_up("Challenge", IN_FLIGHT, conditions=["no_credentials"],
              action="note_no_credentials"),
    *_give_up("Challenge", IN_FLIGHT, conditions=["challenge_without_values"],
              action="note_challenge_without_values"),
    *_give_up("Challenge", IN_FLIGHT, conditions=["challenge_retries_exhausted"],
              action="note_challenge_retries_exhausted"),
    {"trigger": "Challenge", "source": IN_FLIGHT, "dest": None, "after": "answer_challenge"},
    {"trigger": "ChallengeAnswered", "source": IN_FLIGHT, "dest": None, "after": "send"},
    *_give_up("ChallengeRefused", IN_FLIGHT, action="note_auth_refused"),

    # ---- 423 (§10.2.8): raise the expiry to Min-Expires and resubmit (bounded).
    *_give_up("IntervalTooBrief", ["unregistering", "querying"],
              action="note_interval_not_adjustable"),
    *_give_up("IntervalTooBrief", ["registering", "refreshing"],
              conditions=["min_expires_unusable"], action="note_interval_not_adjustable"),
    *_give_up("IntervalTooBrief", ["registering", "refreshing"],
              conditions=["interval_retries_exhausted"], action="note_interval_again"),
    {"trigger": "IntervalTooBrief", "source": ["registering", "refreshing"], "dest": None,
     "after": ["raise_expires", "send"]},

    # ---- 3xx (§8.1.3.4): the Contacts join the target set (each URI once), tried in order.
    *_give_up("Redirect", IN_FLIGHT, conditions=["redirect_exhausted"],
              action="note_redirect_exhausted"),
    {"trigger": "Redirect", "source": IN_FLIGHT, "dest": None,
     "after": ["add_redirect_targets", "next_redirect", "send"]},

    # ---- 408 / 500 / 503, timeouts, transport errors: transient (see _transient).
    # §21.5.4: a 503 with Retry-After holds that target off; §21.5.1: Retry-After, if given,
    # sets the wait (capped by max_retry_after, never shorter than the backoff).
    *_transient("RetryLater", "note_retry_later"),
    *_transient("Malformed", "note_malformed"),  # §8.1.3: as a server failure
    *_transient("Timeout", "note_timeout"),  # §8.1.3.1: as a 408
    *_transient("SendFailed", "note_send_failed"),  # §8.1.3.1: as a 503 without Retry-After
    *_transient("TargetUnreachable", "note_unreachable",  # never waits for Timer F
                fail_without_bindings=True),

    # ---- Any other final response >= 400: the next redirect target, else the intent fails.
    {"trigger": "Rejected", "source": IN_FLIGHT, "dest": None,
     "conditions": "has_next_redirect", "before": "note_rejected",
     "after": ["next_redirect", "send"]},
    *_give_up("Rejected", IN_FLIGHT, action="note_rejected"),
]

_OUTCOMES = ("Success", "Challenge", "ChallengeAnswered", "ChallengeRefused", "IntervalTooBrief",
             "Redirect", "RetryLater", "Rejected", "Malformed", "Timeout", "SendFailed",
             "TargetUnreachable", "Resolved", "ResolveFailed")
_COMMANDS = ("Register", "UpdateContacts", "UnregisterOwn", "UnregisterAll", "Query", "Dequeue")

# (state, input) pairs that are deliberately not rows: the input changes nothing there.
IGNORED: dict[tuple[str, str], str] = {
    **{(state, name): "only a REGISTER in flight has outcomes; the driver drops those of an "
       "abandoned attempt, and a late one changes nothing"
       for state in [*IDLE, "stopped"] for name in _OUTCOMES},
    **{(state, "RefreshDue"): "a refresh is due only while registered (the timer is cancelled "
       "on leaving; a late firing changes nothing)" for state in ALL_STATES
       if state != "registered"},
    **{(state, "RetryDue"): "a retry is due only while waiting (the timer is cancelled on "
       "leaving; a late firing changes nothing)" for state in ALL_STATES if state != "waiting"},
    **{(state, "BindingExpired"): "no binding of ours is held there (the expiry timer is "
       "cancelled when the bindings go)" for state in ("unregistered", "failed", "stopped")},
    **{(state, "Dequeue"): "raised only when the machine is ready; in flight or waiting the "
       "queue is served later (by the outcome, or by RetryDue)"
       for state in [*IN_FLIGHT, "waiting"]},
    **{("stopped", name): "a stopped client takes no command (the driver raises "
       "LocalProtocolError before the machine sees it)" for name in _COMMANDS},
    ("stopped", "Stop"): "stopping twice is stopping once",
}

REGISTRATION_MACHINE = SharedMachine(
    name="RegistrationClient", states=STATES, transitions=TRANSITIONS, initial="unregistered"
)

SUPPORTED_OPTION_TAGS: dict[str, str] = dict(EXTENSION_OPTION_TAGS)
"""Option tags of the extensions the client implements (tag -> the standards-track RFC defining
it).  RFC 3261 §8.1.1.9: Supported lists exactly these: outbound (RFC 5626), gruu (RFC 5627),
path (RFC 3327)."""

# --------------------------------------------------------------------------------------------
# Values: intents, the state, the outputs
# --------------------------------------------------------------------------------------------


@quick_init
@dataclass(frozen=True, slots=True)
class Intent:
    kind: IntentKind
    contacts: tuple[ContactSpec, ...] = ()
    expires: int | None = None
    remove_all: bool = False  # Contact: * (§10.2.2)


_QUERY = Intent(IntentKind.QUERY)
# The kinds, read as module constants (an Enum member read off its class is a slow lookup).
_REGISTER_KIND = IntentKind.REGISTER
_UNREGISTER_KIND = IntentKind.UNREGISTER


def merge_intents(queue: tuple[Intent, ...], new: Intent) -> tuple[Intent, ...]:
    """The queue of commands waiting for the REGISTER in flight, with ``new`` merged in.

    The last word on bindings wins: an unregister supersedes queued registrations and a
    registration supersedes a queued unregister.  The removal of contacts an update dropped
    follows its registration.  A query is answered by any queued REGISTER's 200 (every 200
    lists the bindings), so it is dropped when one is queued."""
    if new.kind is IntentKind.QUERY:
        return queue or (new,)
    if new.kind is IntentKind.UNREGISTER and new.contacts and not new.remove_all:
        return (*queue, new)  # the tail of an update
    return (new,)


@quick_init
@dataclass(frozen=True, slots=True)
class RegistrationState:
    """Everything the machine knows: a plain value (build one from observations to replay
    another client's traffic through :func:`step`)."""

    config: RegistrationConfig
    registrar_uri: SipUri  # §10.2: the Request-URI (changed by redirects)
    expires: int  # the expiry we ask for (raised by a 423, §10.2.8)
    contacts: tuple[ContactSpec, ...]  # our contacts
    name: str = "unregistered"
    has_resolver: bool = True  # False: a name next hop goes to the transport as it is
    has_credentials: bool = False
    call_id: str | None = None  # §10.2: one Call-ID for every REGISTER of this client
    cseq: int = 0
    from_tag: str = ""
    intent: Intent | None = None
    queue: tuple[Intent, ...] = ()
    # Our contacts the registrar holds: (key, URI, granted seconds) (§10.2.1.1).
    bound: tuple[tuple[str, SipUri, int], ...] = ()
    expires_at: float | None = None  # when our shortest binding ends (monotonic)
    service_route: tuple[str, ...] = ()
    targets: tuple[Target, ...] = ()  # RFC 3263 answer for the next hop, in order
    target_index: int = 0
    hold_until: tuple[tuple[Target, float], ...] = ()  # §21.5.4 503 + Retry-After hold-off
    redirect_set: tuple[SipUri, ...] = ()  # §8.1.3.4 target set (each URI once)
    redirect_index: int = 0
    failures: int = 0  # in a row (RFC 5626 §4.5)
    interval_retries: int = 0
    challenge_retries: int = 0
    contact_missing: int = 0
    retry_delay: float = 0.0
    last_target: Target | None = None
    last_failure: Failed | None = None
    failure: Failed | None = None  # the failure the current row reports (scratch)

    @property
    def in_flight(self) -> bool:
        return self.name in IN_FLIGHT

    @property
    def bound_contacts(self) -> dict[str, int]:
        return {key: granted for key, _, granted in self.bound}


FIELDS = tuple(f.name for f in fields(RegistrationState))


# The default Request-URIs made so far, by AOR domain: the clients of one domain share one
# (immutable) value instead of making and keeping one each.
_DOMAIN_URIS: dict[tuple[str, int | None], SipUri] = {}


def configured_registrar(config: RegistrationConfig) -> SipUri:
    """§10.2 / §10.2.6: the Request-URI is the registrar's domain, by default the AOR's."""
    if config.registrar is not None:
        return config.registrar
    key = (config.aor.host, config.aor.port)
    uri = _DOMAIN_URIS.get(key)
    if uri is None:
        if len(_DOMAIN_URIS) >= 256:
            _DOMAIN_URIS.clear()
        uri = _DOMAIN_URIS[key] = SipUri(scheme="sip", host=config.aor.host,
                                         port=config.aor.port)
    return uri


def initial_state(config: RegistrationConfig, *, has_resolver: bool = True,
                  has_credentials: bool = False) -> RegistrationState:
    return RegistrationState(config=config, registrar_uri=configured_registrar(config),
                             expires=config.expires, contacts=config.contacts,
                             has_resolver=has_resolver, has_credentials=has_credentials)


@quick_init
@dataclass(frozen=True, slots=True)
class RegisterPlan:
    """What the next REGISTER says (§10.2); the driver fills in automatic contacts' addresses
    (``ContactSpec.uri`` None) and credentials, then :func:`build_register` makes it."""

    request_uri: SipUri
    call_id: str
    cseq: int
    from_tag: str
    kind: IntentKind
    contacts: tuple[ContactSpec, ...]
    expires: int | None
    remove_all: bool = False


@quick_init
@dataclass(frozen=True, slots=True)
class Send:
    """Start a non-INVITE client transaction for ``plan`` towards ``target``."""

    target: Target
    plan: RegisterPlan


@quick_init
@dataclass(frozen=True, slots=True)
class Resolve:
    """RFC 3263: locate ``host``; answer with :class:`Resolved` or :class:`ResolveFailed`."""

    host: str
    port: int | None
    transport: str | None
    secure: bool


@quick_init
@dataclass(frozen=True, slots=True)
class AnswerChallenge:
    """Give the challenge to the digest client; answer with ``ChallengeAnswered`` or
    ``ChallengeRefused``."""

    status: int
    challenges: tuple[str, ...]


@quick_init
@dataclass(frozen=True, slots=True)
class StartTimer:
    """Start (or restart) the timer ``name`` (``refresh``, ``retry``, ``expiry``)."""

    name: str
    delay: float


@quick_init
@dataclass(frozen=True, slots=True)
class CancelTimer:
    name: str


@quick_init
@dataclass(frozen=True, slots=True)
class Abandon:
    """Forget the transaction or resolution in flight: its outcome will be dropped."""


@quick_init
@dataclass(frozen=True, slots=True)
class Notify:
    event: RegistrationEvent


Output = Send | Resolve | AnswerChallenge | StartTimer | CancelTimer | Abandon | Notify

# --------------------------------------------------------------------------------------------
# The pure step
# --------------------------------------------------------------------------------------------

_READY = frozenset(READY)
_DEQUEUE = Dequeue()
_IGNORED_IN: dict[str, frozenset[str]] = {
    state: frozenset(name for (where, name) in IGNORED if where == state) for state in ALL_STATES}


def step(state: RegistrationState, input: Input, *, now: float = 0.0,
         random: Random | None = None) -> tuple[RegistrationState, list[Output]]:
    """One input, processed to completion: the next state and the outputs, in order.

    ``now`` is the monotonic time (the caller owns the clock); ``random`` draws tags, Call-IDs
    and jitter (None: fixed values, for replaying observed traffic).  Inputs the row itself
    raises (``Dequeue`` once the machine is ready with a queued command, ``Resolved`` for a
    next hop that needs no lookup, ``Register`` for an RFC 3581 contact rewrite) are processed
    next, in the same step, after the first transition has completed."""
    model = RegistrationModel(state, random or _FIXED)
    outputs = model.advance(input, now)
    return model.freeze(), outputs


def next_register(state: RegistrationState, *,
                  random: Random | None = None) -> tuple[RegistrationState, RegisterPlan]:
    """The REGISTER the current intent would send now (CSeq + 1), outside the table: for
    callers that build one by hand."""
    model = RegistrationModel(state, random or _FIXED)
    plan = model.plan()
    return model.freeze(), plan


class _FixedRandom:
    def token(self, nbits: int) -> str:
        return "0" * max(1, nbits // 4)

    def uniform(self, low: float, high: float) -> float:
        return high


_FIXED = _FixedRandom()

# (old state, new state) -> its Notify(StateChanged): the states are the table's, so few.
_STATE_CHANGES: dict[tuple[str, str], Notify] = {}
# A configured registrar address -> the (immutable) input that it is the next hop.
_CONFIGURED: dict[Target, Resolved] = {}


# One-element tuples of the values every client of a registrar has in common (its configured
# address, its URI), shared instead of made and kept per registration.
_ONES: dict[Any, tuple[Any]] = {}


def _one(value: Any) -> tuple[Any]:
    found = _ONES.get(value)
    if found is None:
        if len(_ONES) >= 256:
            _ONES.clear()
        found = _ONES[value] = (value,)
    return found


def _loader() -> Any:
    """``RegistrationModel._load``: one straight-line assignment per field (a loop of getattr
    and setattr costs three times as much, on every step)."""
    body = "".join(f"    self.{name} = state.{name}\n" for name in FIELDS)
    namespace: dict[str, Any] = {}
    exec(f"def _load(self, state):\n{body}", namespace)
    return namespace["_load"]


# The fields :func:`initial_state` leaves at their defaults, and those defaults.
_STARTING = ("config", "registrar_uri", "expires", "contacts", "has_resolver", "has_credentials")
_DEFAULTS = {f.name: f.default for f in fields(RegistrationState) if f.name not in _STARTING}


def _starter() -> Any:
    """``RegistrationModel._start``: the model of :func:`initial_state` without making the
    frozen :class:`RegistrationState` first (its 28-field ``__init__`` was the larger part of
    creating a client); the defaults are read from the dataclass, so both stay one."""
    body = "".join(f"    self.{name} = {name}\n" for name in _STARTING)
    body += "".join(f"    self.{name} = _d_{name}\n" for name in _DEFAULTS)
    namespace: dict[str, Any] = {f"_d_{name}": value for name, value in _DEFAULTS.items()}
    exec(f"def _start(self, {', '.join(_STARTING)}):\n{body}", namespace)
    return namespace["_start"]


class RegistrationModel:
    """The model the table runs on: a mutable working copy of a :class:`RegistrationState`
    (same fields), the input being processed, and the outputs so far.  Its methods are the
    table's named conditions and actions; none of them runs the machine.

    :func:`step` copies a state in and out around :meth:`advance`; a driver may instead keep
    one model and call :meth:`advance` on it (the same table, the same callbacks, no copies),
    reading :meth:`freeze` when it wants the value."""

    __slots__ = (*FIELDS, "_configured", "failure_retry_after", "input", "now", "out", "random",
                 "raised", "state")

    # (assigned in __init__ from RegistrationState; declared for mypy)
    name: str
    state: str
    config: RegistrationConfig
    registrar_uri: SipUri
    expires: int
    contacts: tuple[ContactSpec, ...]
    has_resolver: bool
    has_credentials: bool
    call_id: str | None
    cseq: int
    from_tag: str
    intent: Intent | None
    queue: tuple[Intent, ...]
    bound: tuple[tuple[str, SipUri, int], ...]
    expires_at: float | None
    service_route: tuple[str, ...]
    targets: tuple[Target, ...]
    target_index: int
    hold_until: tuple[tuple[Target, float], ...]
    redirect_set: tuple[SipUri, ...]
    redirect_index: int
    failures: int
    interval_retries: int
    challenge_retries: int
    contact_missing: int
    retry_delay: float
    last_target: Target | None
    last_failure: Failed | None
    failure: Failed | None
    input: Any
    failure_retry_after: float | None

    _load = _loader()
    _start = _starter()

    def __init__(self, state: RegistrationState, random: Random) -> None:
        self._load(state)
        self._scratch(random)

    def _scratch(self, random: Random) -> None:
        self.state = self.name
        self.now = 0.0
        self.random = random
        self.out: list[Output] = []
        self.raised: list[Input] = []
        self.failure_retry_after = None
        self.input = None
        self._configured: SipUri | None = None

    @classmethod
    def initial(cls, config: RegistrationConfig, random: Random, *, has_resolver: bool = True,
                has_credentials: bool = False) -> RegistrationModel:
        """The model of ``initial_state(config, ...)`` (what a new client starts from)."""
        model = cls.__new__(cls)
        registrar = configured_registrar(config)
        model._start(config, registrar, config.expires, config.contacts, has_resolver,
                     has_credentials)
        model._scratch(random)
        model._configured = registrar
        return model

    def _configured_registrar(self) -> SipUri:
        configured = self._configured
        if configured is None:
            configured = self._configured = configured_registrar(self.config)
        return configured

    def freeze(self) -> RegistrationState:
        """The model's state as a value."""
        return RegistrationState(**{name: getattr(self, name) for name in FIELDS})

    def advance(self, input: Input, now: float) -> list[Output]:
        """Process ``input`` to completion (see :func:`step`); the outputs, in order."""
        self.now = now
        out: list[Output] = []
        self.out = out
        self.raised = []
        pending: list[Input] | None = None
        current: Input | None = input
        fire = REGISTRATION_MACHINE.fire
        try:
            while current is not None:
                name = type(current).__name__
                if name not in _IGNORED_IN[self.state]:
                    self.input = current
                    if not fire(self, name):
                        raise LocalProtocolError(
                            f"no row of the registration table takes {name} in {self.state} "
                            "(every condition failed)")
                    if self.raised:
                        pending = [*(pending or ()), *self.raised]
                        self.raised.clear()
                if pending:
                    current = pending.pop(0)
                elif self.queue and self.state in _READY:
                    current = _DEQUEUE
                else:
                    current = None
        finally:
            self.name = self.state
            self.failure = None
            self.input = None
            # Scratch not kept between inputs (issue 14: ~0.8 KiB a registration).
            del self.out, self.raised
            self.now = 0.0
        return out

    def notify(self, event: RegistrationEvent) -> None:
        self.out.append(Notify(event))

    # ---- state entry / exit --------------------------------------------------------------

    def announce(self) -> None:
        if self.state != self.name:
            old, self.name = self.name, self.state
            # One (immutable) output per change of state, shared: made twice per registration.
            change = _STATE_CHANGES.get((old, self.state))
            if change is None:
                change = _STATE_CHANGES[old, self.state] = Notify(StateChanged(old, self.state))
            self.out.append(change)

    def arm_refresh(self) -> None:
        if not self.bound:
            return
        shortest = min([granted for _, _, granted in self.bound])
        self.out.append(StartTimer("refresh", self.config.refresh.delay(shortest, self.random)))

    def cancel_refresh(self) -> None:
        if not isinstance(self.input, RefreshDue):  # (that timer has fired)
            self.out.append(CancelTimer("refresh"))

    def arm_retry(self) -> None:
        self.out.append(StartTimer("retry", self.retry_delay))

    def cancel_retry(self) -> None:
        self.out.append(CancelTimer("retry"))

    # ---- conditions ----------------------------------------------------------------------

    def holds_bindings(self) -> bool:
        return bool(self.bound)

    def holds_no_bindings(self) -> bool:
        return not self.bound

    def _next_intent(self) -> Intent:
        return self.queue[0] if self.queue else (self.intent or _QUERY)

    def next_is_register(self) -> bool:
        return self._next_intent().kind is _REGISTER_KIND

    def next_is_unregister(self) -> bool:
        return self._next_intent().kind is _UNREGISTER_KIND

    retry_is_register = next_is_register
    retry_is_unregister = next_is_unregister

    def _held(self, target: Target) -> bool:
        for held, until in self.hold_until:
            if held == target:
                return until > self.now
        return False

    def has_next_target(self) -> bool:
        return any(not self._held(t) for t in self.targets[self.target_index + 1:])

    def has_next_redirect(self) -> bool:
        return self.redirect_index + 1 < len(self.redirect_set)

    def failure_limit_reached(self) -> bool:
        limit = self.config.max_consecutive_failures
        return limit is not None and self.failures + 1 >= limit

    def has_usable_target(self) -> bool:
        if not self.hold_until:  # (no target is held off)
            return bool(self.input.targets)
        return any(not self._held(t) for t in self.input.targets)

    def contact_not_listed(self) -> bool:
        return bool(self.input.missing)

    def contact_missing_retries_left(self) -> bool:
        return self.contact_missing < self.config.max_contact_missing_retries

    def keeps_bindings_after_removal(self) -> bool:
        return bool(self._after_removal())

    def no_credentials(self) -> bool:
        return not self.has_credentials

    def challenge_without_values(self) -> bool:
        return not self.input.challenges

    def challenge_retries_exhausted(self) -> bool:
        return self.challenge_retries >= self.config.max_challenge_retries

    def min_expires_unusable(self) -> bool:
        return self.input.min_expires is None

    def interval_retries_exhausted(self) -> bool:
        # §10.2.8: a Min-Expires no higher than what we asked (or above the §10.2 range) would
        # loop; so would an unbounded number of rounds.
        minimum = self.input.min_expires
        return (minimum <= self.expires or minimum > 2**32 - 1
                or self.interval_retries >= self.config.max_interval_retries)

    def redirect_exhausted(self) -> bool:
        return not self._new_redirect_targets() and not self.has_next_redirect()

    # ---- beginning an intent -------------------------------------------------------------

    def _begin(self, intent: Intent) -> None:
        """Per-intent state: a fresh From tag (§8.1.1.3), fresh retry budgets, and the
        redirect target set seeded with the current registrar (§8.1.3.4)."""
        self.intent = intent
        self.from_tag = self.random.token(64)
        self.interval_retries = 0
        self.challenge_retries = 0
        self.contact_missing = 0
        self.redirect_set = _one(self.registrar_uri)
        self.redirect_index = 0
        if intent.kind is _REGISTER_KIND:
            self.contacts = intent.contacts or self.contacts
            if intent.expires is not None:
                self.expires = intent.expires

    def _register_intents(self, contacts: tuple[ContactSpec, ...] | None,
                          expires: int | None) -> list[Intent]:
        """Updating to other contacts registers the new set, then removes the dropped ones
        with their own REGISTER (Expires: 0): no moment without a binding."""
        new = contacts if contacts is not None else self.contacts
        intents = [Intent(_REGISTER_KIND, contacts=new, expires=expires)]
        if contacts is not None:
            dropped = tuple(
                ContactSpec(uri=uri) for _, uri, _ in self.bound
                if not any(c.uri is not None and uri_equal(c.uri, uri) for c in new))
            if dropped:
                intents.append(Intent(_UNREGISTER_KIND, contacts=dropped))
        return intents

    def _command_intents(self) -> list[Intent]:
        command = self.input
        if isinstance(command, (Register, UpdateContacts)):
            return self._register_intents(command.contacts, command.expires)
        if isinstance(command, UnregisterOwn):
            return [Intent(_UNREGISTER_KIND, contacts=command.contacts)]
        if isinstance(command, UnregisterAll):
            return [Intent(_UNREGISTER_KIND, remove_all=True)]
        return [_QUERY]

    def begin_register(self) -> None:
        first, *rest = self._command_intents()
        for intent in rest:
            self.queue = merge_intents(self.queue, intent)
        self._begin(first)

    begin_unregister = begin_register
    begin_query = begin_register

    def enqueue(self) -> None:
        for intent in self._command_intents():
            self.queue = merge_intents(self.queue, intent)

    def begin_queued(self) -> None:
        intent, self.queue = self.queue[0], self.queue[1:]
        self._begin(intent)

    def begin_refresh(self) -> None:
        # §10.2.4: a refresh re-sends our own contacts only.
        self._begin(Intent(_REGISTER_KIND, contacts=self.contacts))

    def begin_retry(self) -> None:
        # A command given while waiting replaces the retried intent.
        if self.queue:
            intent, self.queue = self.queue[0], self.queue[1:]
        else:
            intent = self.intent or _QUERY
        self._begin(intent)

    # ---- sending -------------------------------------------------------------------------

    def _next_hop(self) -> SipUri:
        """§8.1.2: the first Route (the outbound proxy) when there is one, else the
        Request-URI."""
        if self.config.outbound_proxy is not None:
            return self.config.outbound_proxy
        if self.config.route_set:
            return self.config.route_set[0]
        return self.registrar_uri

    def send(self) -> None:
        """The current intent's REGISTER to the current target; without one, locate it."""
        if self.targets:
            self._send_now()
            return
        hop = self._next_hop()
        configured = self.config.registrar_target
        if configured is not None and hop is self.registrar_uri and (
                hop is (registrar := self._configured_registrar())
                or uri_equal(hop, registrar)):
            # §10.2.6: a configured registrar address needs no lookup.
            resolved = _CONFIGURED.get(configured)
            if resolved is None:
                if len(_CONFIGURED) >= 256:
                    _CONFIGURED.clear()
                resolved = _CONFIGURED[configured] = Resolved(_one(configured))
            self.raised.append(resolved)
            return
        transport = (hop.params.get("transport") or self.config.transport or "").upper() or None
        if _is_ip_literal(hop.host) or not self.has_resolver:
            # RFC 3263 §4.2: a numeric IP needs no DNS; without a resolver port the transport
            # resolves the name itself (A/AAAA, default port).
            chosen = transport or "UDP"
            self.raised.append(Resolved((Target(chosen, hop.host,
                                                hop.port or _default_port(chosen)),)))
            return
        self.out.append(Resolve(hop.host, hop.port, transport, hop.scheme == "sips"))

    def _send_now(self) -> None:
        target = self.targets[self.target_index]
        self.last_target = target
        self.out.append(Send(target, self.plan()))

    def plan(self) -> RegisterPlan:
        """The next REGISTER of the current intent: a new request, CSeq + 1 (§8.1.1.5)."""
        intent = self.intent or _QUERY
        if self.call_id is None:
            self.call_id = self.random.token(128)
        if not self.from_tag:
            self.from_tag = self.random.token(64)
        if self.cseq + 1 >= 2**31:
            raise LocalProtocolError("CSeq would reach 2**31",
                                     spec_id="RFC3261-8.1.1.5-CSEQ-RANGE")
        self.cseq += 1
        contacts: tuple[ContactSpec, ...]
        expires: int | None
        if intent.kind is _REGISTER_KIND:
            contacts, expires = self.contacts, self.expires
        elif intent.kind is _UNREGISTER_KIND:
            expires = 0
            if intent.remove_all:
                contacts = ()
            elif intent.contacts:
                contacts = intent.contacts
            elif self.bound:
                contacts = tuple(ContactSpec(uri=uri) for _, uri, _ in self.bound)
            else:
                contacts = tuple(ContactSpec(uri=spec.uri) for spec in self.contacts)
        else:
            contacts, expires = (), None
        return RegisterPlan(self.registrar_uri, self.call_id, self.cseq, self.from_tag,
                            intent.kind, contacts, expires, intent.remove_all)

    def use_targets(self) -> None:
        targets = self.input.targets
        self.targets = targets
        # §21.5.4: skip targets still held off by a 503 Retry-After.
        self.target_index = (0 if not self.hold_until
                             else next(i for i, t in enumerate(targets) if not self._held(t)))

    def next_target(self) -> None:
        index = self.target_index + 1
        while self._held(self.targets[index]):
            index += 1
        self.target_index = index

    def next_redirect(self) -> None:
        self.redirect_index += 1
        self.registrar_uri = self.redirect_set[self.redirect_index]
        self.targets = ()
        self.target_index = 0

    def _new_redirect_targets(self) -> list[SipUri]:
        added: list[SipUri] = []
        room = self.config.max_redirects + 1 - len(self.redirect_set)
        for target in self.input.targets:
            if len(added) >= room:
                break
            if any(uri_equal(target, seen) for seen in (*self.redirect_set, *added)):
                continue
            added.append(target)
        return added

    def add_redirect_targets(self) -> None:
        self.redirect_set = (*self.redirect_set, *self._new_redirect_targets())

    def answer_challenge(self) -> None:
        self.challenge_retries += 1
        self.out.append(AnswerChallenge(self.input.status, self.input.challenges))

    def raise_expires(self) -> None:
        # §10.2.8: every contact's expiry >= Min-Expires (the Expires header here; no Contact
        # carries its own expires).  The raised interval is kept for refreshes.
        self.interval_retries += 1
        self.expires = self.input.min_expires

    def abandon(self) -> None:
        self.queue = ()
        self.out.append(Abandon())

    # ---- failures ------------------------------------------------------------------------

    def _fail(self, reason: FailureReason, status: int | None, detail: str) -> None:
        self.failure = Failed(reason, status, detail)
        self.failure_retry_after = None

    def note_no_target(self) -> None:
        targets = self.input.targets
        if not targets:
            self._fail(FailureReason.RESOLVE, None, f"{self._next_hop().host} resolved to no "
                       "target")
            return
        # Every target is held off: wait for the earliest to be free (never less than the
        # backoff, see defer).
        wait = min(until for t, until in self.hold_until if t in targets) - self.now
        self._fail(FailureReason.STATUS, 503, "every target is held off by Retry-After")
        self.failure_retry_after = max(wait, 0.0)

    def note_resolve_failed(self) -> None:
        self._fail(FailureReason.RESOLVE, None,
                   f"cannot locate {self._next_hop().host}: {self.input.detail}")

    def note_retry_later(self) -> None:
        response = self.input
        self._fail(FailureReason.STATUS, response.status, f"{response.status} {response.reason}")
        target = self.last_target
        if response.status == 503 and response.retry_after is not None and target is not None:
            # §21.5.4: no request to this server for Retry-After seconds (at most
            # max_retry_after: the cap bounds the hold-off too).
            until = self.now + min(response.retry_after, self.config.max_retry_after)
            self.hold_until = (*((t, u) for t, u in self.hold_until if t != target),
                               (target, until))

    def note_malformed(self) -> None:
        self._fail(FailureReason.STATUS, self.input.status, self.input.detail)

    def note_timeout(self) -> None:
        self._fail(FailureReason.TIMEOUT, None, "no final response (Timer F)")

    def note_send_failed(self) -> None:
        self._fail(FailureReason.TRANSPORT, None, f"transport error: {self.input.detail}")

    def note_unreachable(self) -> None:
        self._fail(FailureReason.TRANSPORT, None, f"unreachable: {self.input.detail}")

    def _limit(self) -> None:
        assert self.failure is not None
        failure = self.failure
        self.failures += 1
        self.failure = Failed(failure.reason, failure.status,
                              f"{failure.detail} ({self.failures} consecutive failures)")

    def note_no_target_limit(self) -> None:
        self.note_no_target()
        self._limit()

    def note_resolve_failed_limit(self) -> None:
        self.note_resolve_failed()
        self._limit()

    def note_retry_later_limit(self) -> None:
        self.note_retry_later()
        self._limit()

    def note_malformed_limit(self) -> None:
        self.note_malformed()
        self._limit()

    def note_timeout_limit(self) -> None:
        self.note_timeout()
        self._limit()

    def note_send_failed_limit(self) -> None:
        self.note_send_failed()
        self._limit()

    def note_unreachable_limit(self) -> None:
        self.note_unreachable()
        self._limit()

    def note_rejected(self) -> None:
        response = self.input
        self._fail(FailureReason.STATUS, response.status, f"{response.status} {response.reason}")

    def note_contact_missing(self) -> None:
        missing = self.input.missing
        self.notify(ContactMissing(missing))
        self._fail(FailureReason.CONTACT_MISSING, self.input.status,
                   f"the registrar's 200 does not list {', '.join(missing)}")

    def note_no_credentials(self) -> None:
        self._fail(FailureReason.AUTH, self.input.status,
                   f"{self.input.status}: credentials are asked for and none are configured")

    def note_challenge_without_values(self) -> None:
        header = "WWW-Authenticate" if self.input.status == 401 else "Proxy-Authenticate"
        self._fail(FailureReason.AUTH, self.input.status, f"{self.input.status} without {header}")

    def note_challenge_retries_exhausted(self) -> None:
        self._fail(FailureReason.AUTH, self.input.status,
                   f"{self.input.status}: still challenged after {self.challenge_retries} "
                   "answers; giving up")

    def note_auth_refused(self) -> None:
        self._fail(FailureReason.AUTH, self.input.status, self.input.detail)

    def note_interval_not_adjustable(self) -> None:
        self._fail(FailureReason.INTERVAL_TOO_BRIEF, self.input.status,
                   "423 without a usable Min-Expires")

    def note_interval_again(self) -> None:
        self._fail(FailureReason.INTERVAL_TOO_BRIEF, self.input.status,
                   f"423 again (Min-Expires {self.input.min_expires}, asked {self.expires})")

    def note_redirect_exhausted(self) -> None:
        response = self.input
        self._fail(FailureReason.REDIRECT, response.status,
                   f"{response.status} {response.reason}: no new registrar to try")

    def forget_bindings(self) -> None:
        if self.bound:
            self.out.append(CancelTimer("expiry"))
        self.bound = ()
        self.expires_at = None

    def report_failure(self) -> None:
        failure = self.failure or Failed(FailureReason.STATUS, None, "")
        self.last_failure = failure
        self.notify(failure)

    def defer(self) -> None:
        """§10.2.7 / RFC 5626 §4.5: count the failure and wait before retrying."""
        failure = self.failure
        assert failure is not None
        self.failures += 1
        # The retry resolves the next hop again (RFC 3263 answers have TTLs).
        self.targets = ()
        self.target_index = 0
        backoff = self.config.backoff.delay(self.failures, self.random)
        if self.expires_at is not None and self.bound:
            # A binding of ours is still held: land the retry before it expires, leaving one
            # transaction timeout (64*T1, RefreshPolicy.margin) where the time left allows;
            # and watch the expiry, to say so if it passes (BindingExpired).
            left = self.expires_at - self.now
            if left > 0:
                # Never sooner than a quarter of the backoff base: the retries before the
                # expiry stay few (no Zeno loop against a registrar failing at once).
                floor = min(backoff, self.config.backoff.base / 4)
                backoff = max(floor, min(backoff, max(left - self.config.refresh.margin,
                                                      left / 2)))
            self.out.append(StartTimer("expiry", max(left, 0.0)))
        retry_after = self._retry_after()
        if retry_after is not None:
            # §20.33 / §21.5.1: Retry-After, bounded by max_retry_after, never shorter than
            # the backoff (spec RFC3261-21.5.1-500-RETRY, RFC3261-21.5.4-503-HOLD-OFF).
            delay = max(backoff, min(retry_after, self.config.max_retry_after))
        else:
            delay = backoff
        self.retry_delay = delay
        self.notify(Retrying(failure.reason, delay, self.failures, failure.status,
                             failure.detail))

    def _retry_after(self) -> float | None:
        if self.failure_retry_after is not None:
            return self.failure_retry_after
        if isinstance(self.input, RetryLater) and self.input.retry_after is not None:
            return float(self.input.retry_after)
        return None

    def report_stopped(self) -> None:
        self.out.append(CancelTimer("refresh"))
        self.out.append(CancelTimer("retry"))
        self.out.append(CancelTimer("expiry"))
        self.notify(Stopped())

    # ---- success -------------------------------------------------------------------------

    def accept_auth(self) -> None:
        if self.failures:
            # RFC 5626 §4.5: a 2xx resets the backoff; the expiry watch (armed by defer)
            # is over.
            self.failures = 0
            self.out.append(CancelTimer("expiry"))

    def accept_registration(self) -> None:
        self.accept_auth()
        success: Success = self.input
        self.bound = tuple([(str(uri), uri, expiry) for uri, expiry in success.granted])
        shortest = min([expiry for _, expiry in success.granted])
        self.expires_at = self.now + shortest
        self.service_route = success.service_route

    def _after_removal(self) -> tuple[tuple[str, SipUri, int], ...]:
        intent = self.intent or _QUERY
        if intent.remove_all:
            return ()
        sent = self.input.sent
        return tuple(b for b in self.bound if not any(uri_equal(b[1], uri) for uri in sent))

    def accept_removal(self) -> None:
        self.accept_auth()
        kept = self._after_removal()
        if len(kept) != len(self.bound) and not kept:
            self.out.append(CancelTimer("expiry"))  # (armed only after a failure)
            self.expires_at = None
        self.bound = kept

    def report_contact_missing(self) -> None:
        self.notify(ContactMissing(self.input.missing))

    def count_contact_missing(self) -> None:
        self.contact_missing += 1

    def _granted(self) -> tuple[int, tuple[tuple[str, int], ...]]:
        granted = tuple([(key, expiry) for key, _, expiry in self.bound])
        return min([e for _, e in granted]), granted

    def report_registered(self) -> None:
        shortest, granted = self._granted()
        self.notify(Registered(shortest, granted, self.input.bindings, self.service_route,
                               *self._extensions()))

    def report_refreshed(self) -> None:
        shortest, granted = self._granted()
        self.notify(Refreshed(shortest, granted, self.input.bindings, self.service_route,
                              *self._extensions()))

    def _extensions(self) -> tuple[str | None, str | None, tuple[str, ...], int | None, bool]:
        found = self.input.extensions
        return found.pub_gruu, found.temp_gruu, found.path, found.flow_timer, found.outbound

    def report_unregistered(self) -> None:
        self.notify(Unregistered(self.input.bindings))

    def report_bindings(self) -> None:
        self.notify(BindingsReported(self.input.bindings))

    def lapse(self) -> None:
        contacts = tuple(key for key, _, _ in self.bound)
        self.bound = ()
        self.expires_at = None
        self.notify(BindingLapsed(contacts))

    def rewrite_contact(self) -> None:
        """RFC 3581 (``rewrite_contact``): once the registrar says it saw us at another address,
        register automatic contacts with that address (and remove the old ones) -- again each
        time that address changes (a NAT binding that moved, as sofia-sip's check_register.c
        register_1_2_2_3 expects), since a contact made from it is still an automatic one."""
        public = self.input.public
        if (not self.config.rewrite_contact or public is None
                or not any(_automatic(spec) for spec in self.contacts)):
            return
        current = [uri for uri in self.input.sent
                   if (uri.host, uri.port or 5060) != (public.host, public.port)]
        if not current:
            return
        uri = contact_uri(self.config.aor.user or "", public, self.last_target)
        rewritten = tuple(RewrittenContact(uri=uri, q=spec.q) if _automatic(spec) else spec
                          for spec in self.contacts)
        if rewritten != self.contacts:
            self.raised.append(Register(rewritten))


@dataclass(frozen=True, slots=True)
class RewrittenContact(ContactSpec):
    """An automatic contact (``ContactSpec.uri`` None) rewritten to the address the registrar
    saw (``RegistrationConfig.rewrite_contact``): still ours to rewrite when that changes."""


def _automatic(spec: ContactSpec) -> bool:
    return spec.uri is None or type(spec) is RewrittenContact


def _is_ip_literal(host: str) -> bool:
    import ipaddress

    try:
        ipaddress.ip_address(host)
    except ValueError:
        return False
    return True


def _default_port(transport: str) -> int:
    return 5061 if transport.upper() == "TLS" else 5060


_LOCAL_HOSTS: dict[str, bool] = {}  # our own addresses checked so far (they are few)


def _valid_local_host(host: str) -> bool:
    valid = _LOCAL_HOSTS.get(host)
    if valid is None:
        if len(_LOCAL_HOSTS) >= 64:
            _LOCAL_HOSTS.clear()
        valid = _LOCAL_HOSTS[host] = valid_host(host)
    return valid


def contact_uri(user: str, local: HostPort, target: Target | None) -> SipUri:
    """``sip:<user>@<address>`` for a contact of ours (``;transport=`` unless UDP)."""
    name = target.transport.lower() if target is not None else "udp"
    if user and 0 <= local.port <= 65535 and _valid_local_host(local.host):
        # What parsing the text below gives, without formatting and parsing it: the user is
        # the AOR's (already a URI's user part), the address a socket's.
        params = EMPTY_PARAMS if name == "udp" else Params._trusted({"transport": name})
        return SipUri("sip", local.host, user, None, local.port, params)
    host = f"[{local.host}]" if ":" in local.host else local.host
    suffix = "" if name == "udp" else f";transport={name}"
    uri = parse_uri(f"sip:{user}@{host}:{local.port}{suffix}")
    assert isinstance(uri, SipUri)
    return uri


# --------------------------------------------------------------------------------------------
# The REGISTER
# --------------------------------------------------------------------------------------------


def build_register(plan: RegisterPlan, config: RegistrationConfig,
                   contacts: Sequence[SipUri],
                   authorization: Sequence[tuple[str, str]] = ()) -> Request:
    """The REGISTER a :class:`RegisterPlan` describes (§10.2), with ``contacts`` the URIs of its
    contacts (automatic ones filled in) and ``authorization`` the digest client's headers."""
    return assemble_register(plan, register_template(plan, config, contacts), authorization)


Row = tuple[str, str]


@dataclass(frozen=True, slots=True)
class RegisterTemplate:
    """The rows of a REGISTER but its CSeq and credentials, checked and normalised, and what
    they were made from (``key``): a driver keeps the one of the REGISTER in flight, so that the
    resubmission answering a challenge (§22.2: the same request, CSeq + 1, with credentials)
    reuses them.  Every REGISTER of one intent has the same rows but those two."""

    key: tuple[Any, ...]
    before: tuple[Row, ...]  # up to Call-ID
    after: tuple[Row, ...]  # after CSeq: Contact, Expires, Supported, User-Agent


def _template_key(plan: RegisterPlan, config: RegistrationConfig,
                  contacts: Sequence[SipUri]) -> tuple[Any, ...]:
    return (config, plan.request_uri, plan.call_id, plan.from_tag, plan.kind, plan.contacts,
            plan.expires, plan.remove_all, tuple(contacts))


def register_template(plan: RegisterPlan, config: RegistrationConfig,
                      contacts: Sequence[SipUri],
                      kept: RegisterTemplate | None = None) -> RegisterTemplate:
    """The template of ``plan`` (see :class:`RegisterTemplate`): ``kept`` when it was made from
    the same plan (but its CSeq), configuration and contact URIs, else a new one."""
    key = _template_key(plan, config, contacts)
    if kept is not None and kept.key == key:
        return kept
    from_uri = config.from_uri or config.aor
    before: list[Row] = [
        _MAX_FORWARDS_ROW,
        ("To", f"<{config.aor}>"),
        ("From", f"<{from_uri}>;tag={plan.from_tag}"),
        ("Call-ID", plan.call_id),
    ]
    # §8.1.1.1 / §8.1.2: the outbound proxy is a pre-existing one-URI route set.
    if config.outbound_proxy is not None or config.route_set:
        before[0:0] = [("Route", f"<{uri}>") for uri in (
            *((config.outbound_proxy,) if config.outbound_proxy is not None else ()),
            *config.route_set)]
    # RFC 5626 §4.2 / RFC 5627 §4.1: +sip.instance (and reg-id) on each contact of ours.
    instance = (contact_parameters(config.instance_id, config.reg_id)
                if config.instance_id is not None or config.reg_id is not None else "")
    after: list[Row] = []
    if plan.kind is _REGISTER_KIND:
        for uri, spec in zip(contacts, plan.contacts, strict=True):
            q = f";q={_qvalue(spec.q)}" if spec.q is not None else ""  # §10.2.1.2
            after.append(("Contact", f"<{uri}>{q}{instance}"))
    elif plan.remove_all:
        after.append(("Contact", "*"))  # §10.2.2: alone, and with Expires: 0
    else:
        after.extend(("Contact", f"<{uri}>{instance}") for uri in contacts)
    if plan.expires is not None:
        after.append(("Expires", str(plan.expires)))  # seed: Expires header, no Contact param
    if SUPPORTED_OPTION_TAGS:
        after.append(_SUPPORTED_ROW)
    if config.user_agent:
        after.append(("User-Agent", config.user_agent))
    return RegisterTemplate(key, _header_rows(before), _header_rows(after))


def _qvalue(q: float) -> str:
    """§25.1: qvalue = ( "0" [ "." 0*3DIGIT ] ) / ( "1" [ "." 0*3("0") ] ): ``q`` (0 to 1)
    rounded to three decimals, trailing zeros dropped (never an exponent, never a fourth
    decimal: a registrar refuses those with a 400)."""
    return f"{q:.3f}".rstrip("0").rstrip(".")


def assemble_register(plan: RegisterPlan, template: RegisterTemplate,
                      authorization: Sequence[tuple[str, str]] = ()) -> Request:
    """The REGISTER of ``plan`` from its template: the CSeq and the credentials added."""
    rows = (*template.before, ("CSeq", f"{plan.cseq} REGISTER"), *template.after,
            *authorization)
    headers = (_checked_rows(rows, len(template.before), len(template.after))
               if authorization or type(plan.cseq) is not int else Headers._trusted(rows))
    return Request("REGISTER", plan.request_uri, headers, b"")


def _checked_rows(rows: tuple[Row, ...], before: int, after: int) -> Headers:
    """The headers of ``rows`` whose template part (``before`` rows, the CSeq, ``after`` rows)
    is already checked: the rest is checked as :func:`_header_rows` checks."""
    for name, value in rows[before:before + 1] + rows[before + 1 + after:]:
        if (name not in _CANONICAL_NAMES or "\r" in value or "\n" in value
                or value != value.strip(" \t")):
            return Headers(rows)  # normalises, or raises LocalProtocolError as it does
    return Headers._trusted(rows)


# Rows every REGISTER carries alike (made once).
_MAX_FORWARDS_ROW = ("Max-Forwards", str(MAX_FORWARDS))
_SUPPORTED_ROW = ("Supported", ", ".join(SUPPORTED_OPTION_TAGS))


# The names build_register writes, in their canonical spelling (what Headers would make them).
_CANONICAL_NAMES = frozenset({
    "Route", "Max-Forwards", "To", "From", "Call-ID", "CSeq", "Contact", "Expires", "Supported",
    "User-Agent", "Authorization", "Proxy-Authorization"})


def _header_rows(items: list[tuple[str, str]]) -> tuple[Row, ...]:
    """The rows ``Headers(items)`` keeps, for rows named in canonical spelling: the same check
    (no CR or LF in a value) and normalisation (surrounding blanks stripped), without looking
    each name up again.  Any other row takes ``Headers`` itself."""
    for name, value in items:
        if (name not in _CANONICAL_NAMES or "\r" in value or "\n" in value
                or value != value.strip(" \t")):
            return Headers(items)._rows()  # normalises, or raises LocalProtocolError as it does
    return tuple(items)
