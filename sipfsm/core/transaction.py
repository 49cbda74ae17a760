"""RFC 3261 §17.1.2: the non-INVITE client transaction's table, and its pure step.

The machine is :data:`STATES` and :data:`TRANSITIONS` (RFC 3261 Figure 6), built once into
:data:`TRANSACTION_MACHINE`.  The table's actions are the methods of
:class:`TransactionModel`; they only compute: each appends output values (:class:`Transmit`,
:class:`StartTimer`, :class:`CancelTimers`, :class:`PassProvisional`, :class:`PassFinal`,
:class:`InformTimeout`, :class:`InformTransportError`, :class:`UseUdp`, :class:`Release`,
:class:`Forget`), which a driver (:class:`sipfsm.transaction.NonInviteClientTransaction`)
executes after the transition: nothing reaches the owner, the timers or the transport while a
transition is in progress.

Inputs (triggers)
  provisional(response)   a 1xx matched to the transaction
  final(response)         a 2xx-6xx matched to the transaction
  timer_e / timer_f / timer_k   the timers of §17.1.2.2
  transport_error(error)  the transport could not send (at once, or later)

Timer E (retransmission) runs only over unreliable transports: T1, then doubling up to T2 in
Trying, T2 in Proceeding.  Timer F (64*T1) ends Trying/Proceeding with a timeout.  Timer K
(T4 unreliable, 0 reliable) ends Completed, where response retransmissions are absorbed.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sipfsm.errors import ConfigError
from sipfsm.fsm import SharedMachine
from sipfsm.message import Response

__all__ = [
    "ACTIVE",
    "COMPLETED",
    "PROCEEDING",
    "STATES",
    "TERMINATED",
    "TRANSACTION_MACHINE",
    "TRANSITIONS",
    "TRYING",
    "CancelTimers",
    "Final",
    "Forget",
    "InformTimeout",
    "InformTransportError",
    "PassFinal",
    "PassProvisional",
    "Provisional",
    "Release",
    "StartTimer",
    "TimerE",
    "TimerF",
    "TimerK",
    "TimerValues",
    "TransactionModel",
    "TransactionOutput",
    "TransactionState",
    "Transmit",
    "TransportFailed",
    "UseUdp",
    "step",
]

# --------------------------------------------------------------------------------------------
# The machine (RFC 3261 Figure 6)
# --------------------------------------------------------------------------------------------

TRYING, PROCEEDING, COMPLETED, TERMINATED = "Trying", "Proceeding", "Completed", "Terminated"
ACTIVE = [TRYING, PROCEEDING]

STATES: list[dict[str, Any]] = [
    # Trying is entered from outside the table: the driver's start() sets Timer F, sends the
    # request and (unreliable transport) sets Timer E.
    {"name": TRYING},
    {"name": PROCEEDING},
    # §17.1.2.2: no more retransmissions; Timer K = T4 (unreliable) or 0 (reliable).
    {"name": COMPLETED, "on_enter": "_enter_completed"},
    # §17.1.2.2: "Once the transaction is in the terminated state, it MUST be destroyed
    # immediately": timers cancelled, forgotten by the layer.
    {"name": TERMINATED, "on_enter": "_enter_terminated"},
]

TRANSITIONS: list[dict[str, Any]] = [
    # ---- Trying
    {"trigger": "timer_e", "source": TRYING, "dest": None, "after": "_retransmit_backing_off"},
    {"trigger": "provisional", "source": TRYING, "dest": PROCEEDING, "after": "_pass_provisional"},
    {"trigger": "final", "source": ACTIVE, "dest": COMPLETED, "after": "_pass_final"},
    {"trigger": "timer_f", "source": ACTIVE, "dest": TERMINATED, "after": "_inform_timeout"},
    # §18.1.1: a request moved to TCP for its size goes back to UDP if TCP fails.
    {"trigger": "transport_error", "source": TRYING, "dest": None,
     "conditions": "_moved_to_tcp_for_size", "after": "_fall_back_to_udp"},
    {"trigger": "transport_error", "source": ACTIVE, "dest": TERMINATED,
     "after": "_inform_transport_error"},
    # ---- Proceeding
    {"trigger": "timer_e", "source": PROCEEDING, "dest": None, "after": "_retransmit_at_t2"},
    {"trigger": "provisional", "source": PROCEEDING, "dest": None, "after": "_pass_provisional"},
    # ---- Completed: response retransmissions (and late transport errors) are absorbed.
    {"trigger": "provisional", "source": COMPLETED, "dest": None},
    {"trigger": "final", "source": COMPLETED, "dest": None},
    {"trigger": "transport_error", "source": COMPLETED, "dest": None},
    {"trigger": "timer_k", "source": COMPLETED, "dest": TERMINATED},
]

TRANSACTION_MACHINE = SharedMachine(
    name="NonInviteClientTransaction",
    states=STATES,
    transitions=TRANSITIONS,
    initial=TRYING,
)


@dataclass(frozen=True, slots=True)
class TimerValues:
    """RFC 3261 §17.1.1.1 / Table 4 timer base values, in seconds (defaults: the RFC's)."""

    t1: float = 0.5
    t2: float = 4.0
    t4: float = 5.0

    def __post_init__(self) -> None:
        if not self.t1 > 0 or not self.t2 > 0:
            raise ConfigError(f"T1 and T2 must be positive (T1={self.t1}, T2={self.t2})")
        if not self.t4 >= 0:
            raise ConfigError(f"T4 must not be negative (T4={self.t4})")

    @property
    def timer_f(self) -> float:
        return 64 * self.t1

    def timer_k(self, reliable: bool) -> float:
        return 0.0 if reliable else self.t4


# --------------------------------------------------------------------------------------------
# Inputs and outputs as values
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Provisional:
    response: Response


@dataclass(frozen=True, slots=True)
class Final:
    response: Response


@dataclass(frozen=True, slots=True)
class TimerE:
    pass


@dataclass(frozen=True, slots=True)
class TimerF:
    pass


@dataclass(frozen=True, slots=True)
class TimerK:
    pass


@dataclass(frozen=True, slots=True)
class TransportFailed:
    error: Exception


TransactionInput = Provisional | Final | TimerE | TimerF | TimerK | TransportFailed


@dataclass(frozen=True, slots=True)
class Transmit:
    """Pass the request to the transport (again)."""


@dataclass(frozen=True, slots=True)
class StartTimer:
    name: str  # "E", "F" or "K"
    delay: float


@dataclass(frozen=True, slots=True)
class CancelTimers:
    pass


@dataclass(frozen=True, slots=True)
class PassProvisional:
    response: Response


@dataclass(frozen=True, slots=True)
class PassFinal:
    response: Response


@dataclass(frozen=True, slots=True)
class InformTimeout:
    pass


@dataclass(frozen=True, slots=True)
class InformTransportError:
    error: Exception


@dataclass(frozen=True, slots=True)
class UseUdp:
    """§18.1.1: the same request, over UDP to the same host and port."""


@dataclass(frozen=True, slots=True)
class Release:
    """Nothing will be (re)transmitted: the request's bytes may be freed."""


@dataclass(frozen=True, slots=True)
class Forget:
    """Terminated: the layer forgets the transaction (§17.1.2.2)."""


TransactionOutput = (
    Transmit | StartTimer | CancelTimers | PassProvisional | PassFinal | InformTimeout
    | InformTransportError | UseUdp | Release | Forget
)

_TRANSMIT, _CANCEL, _TIMEOUT = Transmit(), CancelTimers(), InformTimeout()
_USE_UDP, _RELEASE, _FORGET = UseUdp(), Release(), Forget()

# Outputs are values: one StartTimer per (timer, delay) serves every transaction (building a
# frozen dataclass costs more than the rest of a step).  Bounded: delays come from TimerValues.
_STARTS: dict[tuple[str, float], StartTimer] = {}


def _start_timer(name: str, delay: float) -> StartTimer:
    output = _STARTS.get((name, delay))
    if output is None:
        if len(_STARTS) >= 256:
            _STARTS.clear()
        output = _STARTS[name, delay] = StartTimer(name, delay)
    return output


_new = object.__new__
_SET_FINAL_RESPONSE = PassFinal.__dict__["response"].__set__


@dataclass(frozen=True, slots=True)
class TransactionState:
    """What the machine knows of one transaction: a plain value (an auditor builds one from
    what it saw: the state, whether the transport is reliable, the current Timer E interval)."""

    name: str = TRYING
    reliable: bool = False
    interval: float = 0.5  # the current Timer E interval
    retransmissions: int = 0
    moved_to_tcp: bool = False  # §18.1.1: sent over TCP for its size
    udp_fallback: bool = False  # a UDP transport exists to fall back to
    timer_values: TimerValues = TimerValues()


# --------------------------------------------------------------------------------------------
# The model: the table's conditions and actions
# --------------------------------------------------------------------------------------------


class TransactionModel:
    """The model the transaction table runs on; its methods append outputs to ``out``."""

    __slots__ = ("interval", "moved_to_tcp", "out", "reliable", "retransmissions", "state",
                 "timer_values", "udp_fallback")

    state: str
    reliable: bool
    interval: float
    retransmissions: int
    moved_to_tcp: bool
    udp_fallback: bool
    timer_values: TimerValues
    out: list[TransactionOutput]

    def _retransmit_backing_off(self) -> None:
        # §17.1.2.2: T1, then MIN(2*T1, T2), MIN(4*T1, T2), ...
        self.interval = min(2 * self.interval, self.timer_values.t2)
        self._retransmit()

    def _retransmit_at_t2(self) -> None:
        # §17.1.2.2: in Proceeding, Timer E is reset with T2.
        self.interval = self.timer_values.t2
        self._retransmit()

    def _retransmit(self) -> None:
        self.out.append(_start_timer("E", self.interval))
        self.retransmissions += 1
        self.out.append(_TRANSMIT)

    def _pass_provisional(self, response: Response) -> None:
        self.out.append(PassProvisional(response))

    def _pass_final(self, response: Response) -> None:
        output = _new(PassFinal)  # PassFinal(response) without its __init__ frame
        _SET_FINAL_RESPONSE(output, response)
        self.out.append(output)

    def _inform_timeout(self) -> None:
        self.out.append(_TIMEOUT)

    def _inform_transport_error(self, error: Exception) -> None:
        self.out.append(InformTransportError(error))

    def _enter_completed(self, *_: object) -> None:
        # §17.1.2.2: nothing is retransmitted from Completed; free the bytes.
        self.out.append(_CANCEL)
        self.out.append(_RELEASE)
        self.out.append(_start_timer("K", self.timer_values.timer_k(self.reliable)))

    def _enter_terminated(self, *_: object) -> None:
        self.out.append(_CANCEL)
        self.out.append(_RELEASE)
        self.out.append(_FORGET)

    def _moved_to_tcp_for_size(self, error: Exception) -> bool:
        return self.moved_to_tcp and self.udp_fallback

    def _fall_back_to_udp(self, error: Exception) -> None:
        # §18.1.1: "the element SHOULD retry the request, using UDP" (same transaction).
        self.moved_to_tcp = False
        self.reliable = False
        self.interval = self.timer_values.t1
        self.out.append(_USE_UDP)
        self.out.append(_start_timer("E", self.interval))
        self.out.append(_TRANSMIT)


class _Scratch(TransactionModel):
    __slots__ = ()


_TRIGGERS: dict[type, str] = {Provisional: "provisional", Final: "final", TimerE: "timer_e",
                              TimerF: "timer_f", TimerK: "timer_k",
                              TransportFailed: "transport_error"}


def step(state: TransactionState, input: TransactionInput
         ) -> tuple[TransactionState, list[TransactionOutput]]:
    """One input through the §17.1.2 table: the next state and the outputs.  An input the
    table does not take in ``state`` raises ``transitions.MachineError``."""
    model = _Scratch()
    model.state = state.name
    model.reliable = state.reliable
    model.interval = state.interval
    model.retransmissions = state.retransmissions
    model.moved_to_tcp = state.moved_to_tcp
    model.udp_fallback = state.udp_fallback
    model.timer_values = state.timer_values
    model.out = []
    trigger = _TRIGGERS[type(input)]
    if isinstance(input, Provisional | Final):
        TRANSACTION_MACHINE.fire(model, trigger, input.response)
    elif isinstance(input, TransportFailed):
        TRANSACTION_MACHINE.fire(model, trigger, input.error)
    else:
        TRANSACTION_MACHINE.fire(model, trigger)
    after = TransactionState(model.state, model.reliable, model.interval,
                             model.retransmissions, model.moved_to_tcp, model.udp_fallback,
                             model.timer_values)
    return after, model.out
