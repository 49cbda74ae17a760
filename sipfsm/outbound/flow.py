"""RFC 5626 outbound flows on the client: keep-alives (§4.4), failure detection and recovery with
the §4.5 backoff, several flows to several edge proxies (one reg-id each, §4.2).

Sans-IO in the aioquic manner: every entry point takes ``now`` (seconds on a monotonic clock),
randomness comes through the ``Random`` port, and each call returns the actions for the driver
(small frozen values) -- send a keep-alive, (re-)register a flow, report a state change.
:meth:`FlowSet.next_deadline` says when the driver must call :meth:`FlowSet.tick` next.

One flow's life is the table ``FLOW_TRANSITIONS`` below: (state, input) -> (new state, what to
do).  An input the table does not list for a state is ignored on purpose only where the table
says so (``IGNORED``); anything else is a :class:`~sipfsm.errors.LocalProtocolError`.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from enum import Enum

from sipfsm.errors import ConfigError, LocalProtocolError
from sipfsm.ports import Random, Target

__all__ = [
    "FLOW_TRANSITIONS",
    "FlowSet",
    "FlowSettings",
    "FlowState",
    "FlowStateChanged",
    "KeepAliveKind",
    "Register",
    "SendKeepAlive",
    "backoff_wait",
    "keepalive_interval",
]


class FlowState(Enum):
    IDLE = "idle"  # not started
    REGISTERING = "registering"  # a REGISTER over this flow is in flight (§4.2 / §4.5)
    UP = "up"  # registered; keep-alives scheduled (§4.4)
    PROBING = "probing"  # a keep-alive was sent; waiting for its pong / STUN response
    FAILED = "failed"  # the flow failed; waiting the §4.5 backoff before forming a new one
    STOPPED = "stopped"


class KeepAliveKind(Enum):
    CRLF = "crlf"  # §4.4.1, connection-oriented transports
    STUN = "stun"  # §4.4.2, UDP


# -- the table ------------------------------------------------------------------------------------
# (state, input) -> (next state, action).  Inputs: start, registered, register_failed,
# keepalive_due, pong, mapping_changed, probe_timeout, flow_lost, retry_due, stop.
FLOW_TRANSITIONS: Mapping[tuple[FlowState, str], tuple[FlowState, str]] = {
    (FlowState.IDLE, "start"): (FlowState.REGISTERING, "register"),
    # §4.2: a 2xx to the REGISTER forms the flow; keep-alives start (§4.4).
    (FlowState.REGISTERING, "registered"): (FlowState.UP, "schedule_keepalive"),
    # §4.5: forming the flow failed: wait the backoff, then try again.
    (FlowState.REGISTERING, "register_failed"): (FlowState.FAILED, "schedule_retry"),
    (FlowState.REGISTERING, "flow_lost"): (FlowState.FAILED, "schedule_retry"),
    (FlowState.UP, "keepalive_due"): (FlowState.PROBING, "send_keepalive"),
    (FlowState.UP, "registered"): (FlowState.UP, "schedule_keepalive"),  # a refresh
    (FlowState.UP, "pong"): (FlowState.UP, "nothing"),  # unsolicited: harmless
    # §4.4: a flow that fails is replaced at once by a new flow (§4.5: re-register).
    (FlowState.UP, "flow_lost"): (FlowState.REGISTERING, "recover"),
    (FlowState.UP, "register_failed"): (FlowState.FAILED, "schedule_retry"),
    (FlowState.PROBING, "pong"): (FlowState.UP, "schedule_keepalive"),
    (FlowState.PROBING, "registered"): (FlowState.PROBING, "nothing"),
    # §4.4.1: no pong in time; §4.4.2: no STUN response, or XOR-MAPPED-ADDRESS changed.
    (FlowState.PROBING, "probe_timeout"): (FlowState.REGISTERING, "recover"),
    (FlowState.PROBING, "mapping_changed"): (FlowState.REGISTERING, "recover"),
    (FlowState.PROBING, "flow_lost"): (FlowState.REGISTERING, "recover"),
    (FlowState.PROBING, "register_failed"): (FlowState.FAILED, "schedule_retry"),
    (FlowState.FAILED, "retry_due"): (FlowState.REGISTERING, "register"),
    **{(state, "stop"): (FlowState.STOPPED, "nothing") for state in FlowState},
}
# Inputs that may arrive late in these states and mean nothing there.
IGNORED: frozenset[tuple[FlowState, str]] = frozenset({
    (FlowState.REGISTERING, "pong"),
    (FlowState.REGISTERING, "mapping_changed"),
    (FlowState.FAILED, "pong"),
    (FlowState.FAILED, "flow_lost"),
    (FlowState.FAILED, "mapping_changed"),
    (FlowState.UP, "mapping_changed"),
    (FlowState.IDLE, "flow_lost"),
    *((FlowState.STOPPED, name) for name in (
        "start", "registered", "register_failed", "keepalive_due", "pong", "mapping_changed",
        "probe_timeout", "flow_lost", "retry_due")),
})


# -- settings and the RFC's numbers ---------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class FlowSettings:
    """RFC 5626 numbers, overridable.

    * §4.4.1: without a Flow-Timer, a keep-alive every 95-120 s on a connection-oriented
      transport; §4.4.2: every 24-29 s on UDP; with a Flow-Timer (or ``keepalive``) of F
      seconds, every 80-100 % of F.  A pong must come within ``pong_timeout`` (10 s).
    * STUN over UDP retransmits as RFC 5389 §7.2.1: RTO 0.5 s doubling, Rc = 7 requests, then
      Rm = 16 RTOs of waiting for the last.
    * §4.5: the wait before forming a failed flow again is random in 50-100 % of
      min(max_time, base_time * 2 ** consecutive_failures), base_time 30 s when every flow has
      failed and 90 s when some flow is still up, max_time 1800 s."""

    keepalive: float | None = None  # fixed keep-alive period F (the CLI's --keepalive)
    stream_interval: tuple[float, float] = (95.0, 120.0)
    datagram_interval: tuple[float, float] = (24.0, 29.0)
    flow_timer_fraction: tuple[float, float] = (0.8, 1.0)
    pong_timeout: float = 10.0
    stun_rto: float = 0.5
    stun_rc: int = 7
    stun_rm: int = 16
    base_time_all_failed: float = 30.0
    base_time_some_up: float = 90.0
    max_time: float = 1800.0

    def __post_init__(self) -> None:
        if self.keepalive is not None and not self.keepalive > 0:
            raise ConfigError(f"keep-alive period must be positive, not {self.keepalive}")
        for low, high in (self.stream_interval, self.datagram_interval,
                          self.flow_timer_fraction):
            if not 0 < low <= high:
                raise ConfigError(f"bad interval ({low}, {high})")
        if not (self.pong_timeout > 0 and self.stun_rto > 0 and self.stun_rc >= 1
                and self.stun_rm >= 1):
            raise ConfigError("timeouts must be positive")
        if not (0 < self.base_time_all_failed <= self.max_time
                and 0 < self.base_time_some_up <= self.max_time):
            raise ConfigError("base times must be positive and at most max_time")


def keepalive_interval(
    settings: FlowSettings, kind: KeepAliveKind, flow_timer: float | None, random: Random
) -> float:
    """Seconds until the next keep-alive (§4.4): 80-100 % of the Flow-Timer (or the configured
    period); without either, the RFC's default range for the transport."""
    period = flow_timer if flow_timer is not None else settings.keepalive
    if period is not None:
        low, high = settings.flow_timer_fraction
        return random.uniform(low * period, high * period)
    low, high = (settings.stream_interval if kind is KeepAliveKind.CRLF
                 else settings.datagram_interval)
    return random.uniform(low, high)


def backoff_wait(
    settings: FlowSettings, consecutive_failures: int, all_failed: bool, random: Random
) -> float:
    """§4.5: random in [W/2, W], W = min(max-time, base-time * 2 ** consecutive-failures)."""
    base = settings.base_time_all_failed if all_failed else settings.base_time_some_up
    upper = min(settings.max_time, base * float(2 ** min(consecutive_failures, 62)))
    return random.uniform(upper / 2, upper)


def probe_deadline(settings: FlowSettings, kind: KeepAliveKind) -> float:
    """Seconds after sending a keep-alive with no answer before the flow counts as failed."""
    if kind is KeepAliveKind.CRLF:
        return settings.pong_timeout
    rto = settings.stun_rto
    return float(sum(rto * 2**i for i in range(settings.stun_rc - 1)) + settings.stun_rm * rto)


def stun_retransmit_offsets(settings: FlowSettings) -> tuple[float, ...]:
    """RFC 5389 §7.2.1: when (after the first send) each retransmission goes."""
    offsets: list[float] = []
    elapsed = 0.0
    for i in range(settings.stun_rc - 1):
        elapsed += settings.stun_rto * 2**i
        offsets.append(elapsed)
    return tuple(offsets)


# -- outputs --------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class SendKeepAlive:
    """Send a keep-alive on flow ``reg_id``: a CRLF ping, or a STUN Binding request with
    ``transaction_id`` (a retransmission repeats the id)."""

    reg_id: int
    target: Target
    kind: KeepAliveKind
    transaction_id: bytes = b""


@dataclass(frozen=True, slots=True)
class Register:
    """(Re-)register over flow ``reg_id`` (a new flow when ``recovery``): §4.2 / §4.5."""

    reg_id: int
    target: Target
    recovery: bool


@dataclass(frozen=True, slots=True)
class FlowStateChanged:
    reg_id: int
    old: FlowState
    new: FlowState
    reason: str


FlowOutput = SendKeepAlive | Register | FlowStateChanged


@dataclass(slots=True)
class _Flow:
    reg_id: int
    target: Target
    kind: KeepAliveKind
    state: FlowState = FlowState.IDLE
    flow_timer: float | None = None
    failures: int = 0  # consecutive failures to form this flow (§4.5)
    due: float | None = None  # next keep-alive, probe deadline or retry
    retransmits: tuple[float, ...] = ()  # STUN retransmission times still to come
    transaction_id: bytes = b""
    mapped: tuple[str, int] | None = None  # last XOR-MAPPED-ADDRESS seen (§4.4.2)
    history: list[str] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class FlowInfo:
    """A flow as reported to users (``sipfsm register`` prints these)."""

    reg_id: int
    target: Target
    state: FlowState
    failures: int
    mapped: tuple[str, int] | None
    keepalive: str


class FlowSet:
    """Every outbound flow of one user agent instance, each with its own reg-id and edge proxy.

    ``targets``: the edge proxies in order; flow ``i`` gets reg-id ``i + 1`` (§4.2: reg-ids are
    positive and distinct per instance)."""

    def __init__(
        self,
        targets: Iterable[Target],
        random: Random,
        settings: FlowSettings | None = None,
    ) -> None:
        self.settings = settings or FlowSettings()
        self._random = random
        self._flows: dict[int, _Flow] = {}
        for index, target in enumerate(targets):
            kind = KeepAliveKind.STUN if target.transport.upper() == "UDP" else KeepAliveKind.CRLF
            self._flows[index + 1] = _Flow(index + 1, target, kind)
        if not self._flows:
            raise ConfigError("outbound needs at least one edge proxy (flow)")

    # -- inputs -----------------------------------------------------------------------------------

    def start(self, now: float) -> list[FlowOutput]:
        out: list[FlowOutput] = []
        for flow in self._flows.values():
            out += self._apply(flow, "start", now, "started")
        return out

    def registered(self, reg_id: int, now: float, flow_timer: float | None = None
                   ) -> list[FlowOutput]:
        """A 2xx to the REGISTER over this flow (``flow_timer``: its Flow-Timer header)."""
        flow = self._flow(reg_id)
        flow.flow_timer = flow_timer
        if flow.state is not FlowState.STOPPED:
            flow.failures = 0  # §4.5: a successful registration ends the run of failures
        return self._apply(flow, "registered", now, "registered")

    def register_failed(self, reg_id: int, now: float, why: str) -> list[FlowOutput]:
        flow = self._flow(reg_id)
        return self._apply(flow, "register_failed", now, why)

    def pong(self, reg_id: int, now: float) -> list[FlowOutput]:
        """§4.4.1: a CRLF pong arrived on the flow."""
        return self._apply(self._flow(reg_id), "pong", now, "pong")

    def stun_response(self, reg_id: int, now: float, transaction_id: bytes,
                      mapped: tuple[str, int] | None) -> list[FlowOutput]:
        """§4.4.2: a Binding response; a changed XOR-MAPPED-ADDRESS fails the flow."""
        flow = self._flow(reg_id)
        if flow.state is not FlowState.PROBING or transaction_id != flow.transaction_id:
            return []  # late, duplicate or not ours
        if mapped is not None and flow.mapped is not None and mapped != flow.mapped:
            flow.mapped = mapped
            return self._apply(flow, "mapping_changed", now, f"mapped address now {mapped}")
        if mapped is not None:
            flow.mapped = mapped
        return self._apply(flow, "pong", now, "STUN response")

    def flow_lost(self, reg_id: int, now: float, why: str) -> list[FlowOutput]:
        """The transport reports the flow gone (connection closed or reset)."""
        return self._apply(self._flow(reg_id), "flow_lost", now, why)

    def stop(self, now: float) -> list[FlowOutput]:
        out: list[FlowOutput] = []
        for flow in self._flows.values():
            out += self._apply(flow, "stop", now, "stopped")
        return out

    def tick(self, now: float) -> list[FlowOutput]:
        """Fire whatever is due at ``now`` (keep-alives, probe deadlines, retries)."""
        out: list[FlowOutput] = []
        for flow in self._flows.values():
            while flow.retransmits and flow.retransmits[0] <= now:
                flow.retransmits = flow.retransmits[1:]
                if flow.state is FlowState.PROBING:
                    out.append(SendKeepAlive(flow.reg_id, flow.target, flow.kind,
                                             flow.transaction_id))
            if flow.due is None or flow.due > now:
                continue
            event = {
                FlowState.UP: "keepalive_due",
                FlowState.PROBING: "probe_timeout",
                FlowState.FAILED: "retry_due",
            }.get(flow.state)
            flow.due = None
            if event is not None:
                why = "no answer to the keep-alive" if event == "probe_timeout" else event
                out += self._apply(flow, event, now, why)
        return out

    def next_deadline(self) -> float | None:
        times = [f.due for f in self._flows.values() if f.due is not None]
        times += [f.retransmits[0] for f in self._flows.values() if f.retransmits]
        return min(times) if times else None

    # -- queries ----------------------------------------------------------------------------------

    def state(self, reg_id: int) -> FlowState:
        return self._flow(reg_id).state

    @property
    def reg_ids(self) -> tuple[int, ...]:
        return tuple(self._flows)

    def target(self, reg_id: int) -> Target:
        return self._flow(reg_id).target

    def reg_id_for(self, target: Target) -> int | None:
        for flow in self._flows.values():
            if _same_target(flow.target, target):
                return flow.reg_id
        return None

    def info(self) -> list[FlowInfo]:
        return [
            FlowInfo(f.reg_id, f.target, f.state, f.failures, f.mapped, f.kind.value)
            for f in self._flows.values()
        ]

    def history(self, reg_id: int) -> tuple[str, ...]:
        return tuple(self._flow(reg_id).history)

    # -- internals --------------------------------------------------------------------------------

    def _flow(self, reg_id: int) -> _Flow:
        flow = self._flows.get(reg_id)
        if flow is None:
            raise LocalProtocolError(f"no outbound flow with reg-id {reg_id}")
        return flow

    def _apply(self, flow: _Flow, event: str, now: float, why: str) -> list[FlowOutput]:
        key = (flow.state, event)
        if key in IGNORED:
            return []
        if key not in FLOW_TRANSITIONS:
            raise LocalProtocolError(
                f"flow {flow.reg_id}: input {event!r} is not allowed in state {flow.state.value}")
        new, action = FLOW_TRANSITIONS[key]
        old = flow.state
        flow.state = new
        out: list[FlowOutput] = []
        if new is not old:
            flow.history.append(f"{old.value}->{new.value}: {why}")
            out.append(FlowStateChanged(flow.reg_id, old, new, why))
        out += getattr(self, f"_do_{action}")(flow, now)
        return out

    def _do_nothing(self, flow: _Flow, now: float) -> list[FlowOutput]:
        if flow.state is FlowState.STOPPED:
            flow.due = None
            flow.retransmits = ()
        return []

    def _do_register(self, flow: _Flow, now: float) -> list[FlowOutput]:
        flow.due = None
        flow.retransmits = ()
        return [Register(flow.reg_id, flow.target, recovery=flow.failures > 0)]

    def _do_recover(self, flow: _Flow, now: float) -> list[FlowOutput]:
        # §4.5: the failed flow is replaced by a new one at once; the backoff applies only
        # when forming the new flow fails.
        flow.due = None
        flow.retransmits = ()
        flow.mapped = None
        return [Register(flow.reg_id, flow.target, recovery=True)]

    def _do_schedule_keepalive(self, flow: _Flow, now: float) -> list[FlowOutput]:
        flow.retransmits = ()
        flow.due = now + keepalive_interval(self.settings, flow.kind, flow.flow_timer,
                                            self._random)
        return []

    def _do_send_keepalive(self, flow: _Flow, now: float) -> list[FlowOutput]:
        flow.due = now + probe_deadline(self.settings, flow.kind)
        if flow.kind is KeepAliveKind.STUN:
            flow.transaction_id = _transaction_id(self._random)
            flow.retransmits = tuple(now + t for t in stun_retransmit_offsets(self.settings))
        else:
            flow.transaction_id = b""
        return [SendKeepAlive(flow.reg_id, flow.target, flow.kind, flow.transaction_id)]

    def _do_schedule_retry(self, flow: _Flow, now: float) -> list[FlowOutput]:
        flow.retransmits = ()
        all_failed = all(
            f.state not in (FlowState.UP, FlowState.PROBING) for f in self._flows.values())
        flow.failures += 1
        wait = backoff_wait(self.settings, flow.failures, all_failed, self._random)
        flow.due = now + wait
        return []


def _same_target(a: Target, b: Target) -> bool:
    return (a.transport.upper(), a.host.lower().strip("[]"), a.port) == (
        b.transport.upper(), b.host.lower().strip("[]"), b.port)


def _transaction_id(random: Random) -> bytes:
    """96 random bits from the Random port (its tokens are base32: 5 bits a character)."""
    token = random.token(96)
    digest = 0
    for char in token:
        digest = (digest << 5) | "abcdefghijklmnopqrstuvwxyz234567".index(char)
    return (digest & ((1 << 96) - 1)).to_bytes(12, "big")

