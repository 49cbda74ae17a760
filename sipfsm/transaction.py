"""RFC 3261 §17.1.2: the non-INVITE client transaction, and the client transaction layer.

The machine is the table of :mod:`sipfsm.core.transaction` (:data:`STATES`,
:data:`TRANSITIONS`, built once per process into :data:`TRANSACTION_MACHINE`, re-exported
here), whose actions only compute output values; :class:`NonInviteClientTransaction` is the
driver that executes them after each transition, and :class:`TransactionLayer` decides which
transaction a response belongs to (RFC 3261 §17.1.3 and §18.1.2).

Inputs (triggers)
  provisional(response)   a 1xx matched to the transaction
  final(response)         a 2xx-6xx matched to the transaction
  timer_e / timer_f / timer_k   the timers of §17.1.2.2, through the ``Timers`` port
  transport_error(error)  the transport could not send (at once, or later through
                          ``Receiver.transport_error``)

Outputs
  bytes to ``Transport.send``; timers through ``Timers.start``; and to the owner (the TU):
  ``on_provisional`` for each 1xx, then exactly one of ``on_final``, ``on_timeout``,
  ``on_transport_error``, once.

Timer E (retransmission) runs only over unreliable transports: T1, then doubling up to T2 in
Trying, T2 in Proceeding.  Timer F (64*T1) ends Trying/Proceeding with a timeout.  Timer K
(T4 unreliable, 0 reliable) ends Completed, where response retransmissions are absorbed.
"""

from __future__ import annotations

import ipaddress
from collections import Counter
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Any, Protocol

from sipfsm.core.transaction import (
    COMPLETED,
    PROCEEDING,
    STATES,
    TERMINATED,
    TRANSACTION_MACHINE,
    TRANSITIONS,
    TRYING,
    CancelTimers,
    Forget,
    InformTimeout,
    InformTransportError,
    PassFinal,
    PassProvisional,
    Release,
    StartTimer,
    TimerValues,
    TransactionModel,
    TransactionOutput,
    TransactionState,
    Transmit,
    UseUdp,
    step,
)
from sipfsm.errors import ConfigError, LocalProtocolError, ParseError, TransportError
from sipfsm.message import Limits, Request, Response, Via, parse, parse_cseq
from sipfsm.ports import HostPort, Random, Target, TimerHandle, Timers, Transport

__all__ = [
    "BRANCH_COOKIE",
    "COMPLETED",
    "PROCEEDING",
    "STATES",
    "TERMINATED",
    "TRANSACTION_MACHINE",
    "TRANSITIONS",
    "TRYING",
    "DropReason",
    "Dropped",
    "NonInviteClientTransaction",
    "TimerValues",
    "TransactionLayer",
    "TransactionOwner",
    "TransactionState",
    "step",
]

# The machine (RFC 3261 Figure 6) is in sipfsm.core.transaction: STATES, TRANSITIONS and the
# actions of TransactionModel, which only compute outputs; NonInviteClientTransaction executes
# them after each transition.

BRANCH_COOKIE = "z9hG4bK"  # RFC 3261 §8.1.1.7 magic cookie
BRANCH_BITS = 72  # random bits after the cookie (§8.1.1.7 uniqueness; at least 64)
UDP_SIZE_LIMIT = 1300  # RFC 3261 §18.1.1: path MTU unknown


class TransactionOwner(Protocol):
    """The transaction user (TU): told of each provisional response, then of exactly one outcome
    (a final response, a timeout or a transport error), once."""

    def on_provisional(self, tx: NonInviteClientTransaction, response: Response) -> None: ...

    def on_final(self, tx: NonInviteClientTransaction, response: Response) -> None: ...

    def on_timeout(self, tx: NonInviteClientTransaction) -> None: ...

    def on_transport_error(self, tx: NonInviteClientTransaction, error: Exception) -> None: ...


# --------------------------------------------------------------------------------------------
# The transaction: a driver around the table
# --------------------------------------------------------------------------------------------


class NonInviteClientTransaction(TransactionModel):
    """One non-INVITE client transaction (RFC 3261 §17.1.2), created by
    :meth:`TransactionLayer.send_request`.

    ``state`` is one of ``Trying``, ``Proceeding``, ``Completed``, ``Terminated``.  ``request`` is
    the request as the TU gave it; ``sent_request`` is what goes on the wire (with the top Via
    this transaction added).  Each input runs the table (:mod:`sipfsm.core.transaction`) to
    completion; then the outputs are executed (sends, timers, the owner's callbacks); an input
    they cause (a send failing at once) waits for its turn.
    """

    __slots__ = (
        "_busy",
        "_data",
        "_layer",
        "_queue",
        "_timer_e",
        "_timer_f",
        "_timer_k",
        "_transport",
        "branch",
        "method",
        "owner",
        "request",
        "sent_by",
        "target",
    )

    machine = TRANSACTION_MACHINE

    target: Target
    sent_by: HostPort

    def __init__(
        self,
        layer: TransactionLayer,
        request: Request,
        target: Target,
        transport: Transport,
        owner: TransactionOwner,
        branch: str,
        *,
        moved_to_tcp: bool = False,
    ) -> None:
        self._layer = layer
        self.request = request
        self.method = request.method
        self.owner = owner
        self.branch = branch
        self.moved_to_tcp = moved_to_tcp
        self.udp_fallback = moved_to_tcp and layer.transport_named("UDP") is not None
        self.retransmissions = 0
        self.timer_values = values = layer.timer_values
        self.interval = values.t1
        self._timer_e: TimerHandle | None = None
        self._timer_f: TimerHandle | None = None
        self._timer_k: TimerHandle | None = None
        self._busy = False
        self._queue: list[tuple[str, Any]] | None = None
        self._use(transport, target)
        self.state = TRYING

    def _use(self, transport: Transport, target: Target) -> None:
        # §18.1.1: the top Via names the transport actually used (see ``via``).
        self._transport = transport
        self.reliable = bool(transport.reliable)
        self.target = target
        self.sent_by = transport.local_address()
        # The bytes of ``sent_request``: the Via row goes right after the start line (it is the
        # first header row), so it is spliced into the TU's request's bytes rather than
        # building and serialising a second Request.
        self._data = self.request.to_bytes().replace(
            b"\r\n", b"\r\nVia: " + self.via.encode("utf-8") + b"\r\n", 1)

    # ---- public view -------------------------------------------------------------------------

    @property
    def transport(self) -> Transport:
        return self._transport

    @property
    def via(self) -> str:
        """The top Via this transaction adds (§8.1.1.7, §18.1.1; RFC 3581 ``rport``)."""
        return f"SIP/2.0/{self._transport.name} {self.sent_by};branch={self.branch};rport"

    @property
    def sent_request(self) -> Request:
        """The request as sent: the TU's request with this transaction's Via on top."""
        return self.request.with_headers(self.request.headers.with_prepended("Via", self.via))

    @property
    def terminated(self) -> bool:
        return self.state == TERMINATED

    def __repr__(self) -> str:
        return f"<NonInviteClientTransaction {self.method} {self.branch} {self.state}>"

    # ---- inputs ------------------------------------------------------------------------------

    def start(self) -> None:
        """Enter Trying (§17.1.2.2): set Timer F, set Timer E (unreliable transport only), pass
        the request to the transport.  A send failure is reported to the owner at once."""
        timers = self._layer.timers
        values = self.timer_values
        self._timer_f = timers.start("F", values.timer_f, self._timer_f_fired)
        if not self.reliable:
            self._timer_e = timers.start("E", values.t1, self._timer_e_fired)
        # Nothing follows the send: a failure it reports runs its input at once, as it would
        # after waiting for its turn.
        self._transmit()

    def receive_response(self, response: Response) -> None:
        """A response the layer matched to this transaction (§17.1.3)."""
        self._input("provisional" if 100 <= response.status < 200 else "final", response)

    def transport_failed(self, error: Exception) -> None:
        self._input("transport_error", error)

    def _timer_e_fired(self) -> None:
        self._timer_e = None
        self._input("timer_e", None)

    def _timer_f_fired(self) -> None:
        self._timer_f = None
        self._input("timer_f", None)

    def _timer_k_fired(self) -> None:
        self._timer_k = None
        self._input("timer_k", None)

    # ---- the driver loop -----------------------------------------------------------------------

    def _input(self, trigger: str, argument: Any) -> None:
        if self._busy:
            if self._queue is None:
                self._queue = []
            self._queue.append((trigger, argument))
            return
        while True:
            self._busy = True
            try:
                out: list[TransactionOutput] = []
                self.out = out
                if argument is None:
                    _FIRE(self, trigger)
                else:
                    _FIRE(self, trigger, argument)
                for output in out:
                    _EXECUTE[output.__class__](self, output)
                # Not kept: the final response in PassFinal would stay for Timer K (~4.7 KiB
                # a transaction in Completed, for 5 s on UDP).
                del self.out
            finally:
                self._busy = False
            # The inputs the outputs caused (a send failing at once), in turn.
            queue = self._queue
            if not queue:
                return
            trigger, argument = queue.pop(0)

    # ---- outputs ------------------------------------------------------------------------------

    def _transmit(self, output: Transmit | None = None) -> None:
        try:
            self._transport.send(self._data, self.target)
        except TransportError as error:
            self._input("transport_error", error)
            return
        if self.reliable and not self.moved_to_tcp:
            self._data = b""  # never retransmitted: keep no copy

    def _start_timer(self, output: StartTimer) -> None:
        timers = self._layer.timers
        name = output.name
        if name == "K":  # once per transaction
            self._timer_k = timers.start("K", output.delay, self._timer_k_fired)
        elif name == "E":
            self._timer_e = timers.start("E", output.delay, self._timer_e_fired)
        else:
            self._timer_f = timers.start("F", output.delay, self._timer_f_fired)

    def _cancel_timers(self, output: CancelTimers | None = None) -> None:
        if self._timer_e is not None:
            self._timer_e.cancel()
            self._timer_e = None
        if self._timer_f is not None:
            self._timer_f.cancel()
            self._timer_f = None
        if self._timer_k is not None:
            self._timer_k.cancel()
            self._timer_k = None

    def _release(self, output: Release) -> None:
        self._data = b""

    def _forget(self, output: Forget) -> None:
        self._layer._forget(self)

    def _use_udp(self, output: UseUdp) -> None:
        udp = self._layer.transport_named("UDP")
        assert udp is not None  # the condition of the row checked it
        self._use(udp, Target("UDP", self.target.host, self.target.port))

    def _tell_provisional(self, output: PassProvisional) -> None:
        self.owner.on_provisional(self, output.response)

    def _tell_final(self, output: PassFinal) -> None:
        self.owner.on_final(self, output.response)

    def _tell_timeout(self, output: InformTimeout) -> None:
        self.owner.on_timeout(self)

    def _tell_transport_error(self, output: InformTransportError) -> None:
        self.owner.on_transport_error(self, output.error)


_FIRE = TRANSACTION_MACHINE.fire
_EXECUTE: dict[type, Callable[[NonInviteClientTransaction, Any], None]] = {
    Transmit: NonInviteClientTransaction._transmit,
    StartTimer: NonInviteClientTransaction._start_timer,
    CancelTimers: NonInviteClientTransaction._cancel_timers,
    Release: NonInviteClientTransaction._release,
    Forget: NonInviteClientTransaction._forget,
    UseUdp: NonInviteClientTransaction._use_udp,
    PassProvisional: NonInviteClientTransaction._tell_provisional,
    PassFinal: NonInviteClientTransaction._tell_final,
    InformTimeout: NonInviteClientTransaction._tell_timeout,
    InformTransportError: NonInviteClientTransaction._tell_transport_error,
}


# --------------------------------------------------------------------------------------------
# The layer: creating transactions and matching responses to them
# --------------------------------------------------------------------------------------------


class DropReason(StrEnum):
    """Why the layer discarded what a transport delivered."""

    PARSE_ERROR = "parse-error"  # not a SIP message (or a malformed Via / CSeq)
    REQUEST = "request"  # this layer is a client: requests are not handled
    NO_VIA = "no-via"
    MULTIPLE_VIAS = "multiple-vias"  # RFC 3261 §8.1.3.3
    FOREIGN_SENT_BY = "foreign-sent-by"  # RFC 3261 §18.1.2
    UNMATCHED = "unmatched"  # RFC 3261 §17.1.3 / §18.1.2: a stray response, discarded by a UA


@dataclass(frozen=True, slots=True)
class Dropped:
    """Reported to the layer's observer for each discarded message."""

    reason: DropReason
    source: HostPort
    transport: str
    detail: str


def _same_host(a: str, b: str) -> bool:
    if a.lower() == b.lower():
        return True
    try:
        return ipaddress.ip_address(a) == ipaddress.ip_address(b)
    except ValueError:
        return False


def _via_port(via: Via) -> int:
    if via.port is not None:
        return via.port
    return 5061 if via.transport == "TLS" else 5060  # §18.1.1 default ports


class TransactionLayer:
    """The client transaction layer: ``ports.Receiver`` for the transports.

    ``transports`` maps transport names (``UDP``, ``TCP``, ``TLS``) to transports, or is one
    transport.  ``observer`` (optional) is called with a :class:`Dropped` for every message
    discarded; ``dropped`` counts them by reason.
    """

    def __init__(
        self,
        transports: Mapping[str, Transport] | Transport,
        timers: Timers,
        random: Random,
        *,
        timer_values: TimerValues | None = None,
        observer: Callable[[Dropped], None] | None = None,
        limits: Limits | None = None,
        udp_size_limit: int = UDP_SIZE_LIMIT,
    ) -> None:
        if isinstance(transports, Transport):
            transports = {transports.name: transports}
        self._transports: dict[str, Transport] = {
            name.upper(): transport for name, transport in transports.items()
        }
        if not self._transports:
            raise ConfigError("a transaction layer needs at least one transport")
        self.timers = timers
        self.random = random
        self.timer_values = timer_values or TimerValues()
        self.observer = observer
        self.limits = limits or Limits()
        self.udp_size_limit = udp_size_limit
        self.dropped: Counter[str] = Counter()
        self._transactions: dict[str, NonInviteClientTransaction] = {}

    # ---- sending -----------------------------------------------------------------------------

    def transport_named(self, name: str) -> Transport | None:
        transport = self._transports.get(name)  # the usual spelling, "UDP", first
        if transport is None:
            transport = self._transports.get(name.upper())
        return transport

    def send_request(
        self, request: Request, target: Target, owner: TransactionOwner
    ) -> NonInviteClientTransaction:
        """Start a non-INVITE client transaction for ``request`` towards ``target``.

        The request must carry no Via (the transaction adds the top Via).  A target whose
        transport this layer does not have, and a send that fails at once, are reported to the
        owner as a transport error before this returns."""
        if request.method in ("INVITE", "ACK"):
            raise LocalProtocolError(f"{request.method} needs an INVITE transaction, not this one")
        # Read the rows directly: looking headers up by name would build (and keep) an index
        # on the caller's request.
        cseq_text = None
        for name, value in request.headers:
            if name == "Via":
                raise LocalProtocolError("the request already has a Via: the transaction adds it")
            if name == "CSeq" and cseq_text is None:
                cseq_text = value
        try:
            cseq = parse_cseq(cseq_text) if cseq_text is not None else None
        except ParseError as exc:
            raise LocalProtocolError(f"malformed CSeq: {exc}") from None
        if cseq is None or cseq.method != request.method:
            # §8.1.1.5: the CSeq method MUST match the request method (and §17.1.3 matches on it)
            raise LocalProtocolError("the CSeq method must be the request method")
        branch = self._new_branch()
        transport = self._transports.get(target.transport)  # transport_named, usual case
        if transport is None:
            transport = self.transport_named(target.transport)
        if transport is None:
            tx = self._refuse(request, target, owner, branch)
            tx.transport_failed(TransportError(f"no {target.transport.upper()} transport"))
            return tx
        tx = self._new_transaction(request, target, transport, owner, branch)
        if len(tx._data) > self.udp_size_limit:
            tx = self._apply_size_rule(tx)
        self._transactions[branch] = tx
        tx.start()
        return tx

    def _new_transaction(
        self,
        request: Request,
        target: Target,
        transport: Transport,
        owner: TransactionOwner,
        branch: str,
        *,
        moved_to_tcp: bool = False,
    ) -> NonInviteClientTransaction:
        return NonInviteClientTransaction(
            self, request, target, transport, owner, branch, moved_to_tcp=moved_to_tcp
        )

    def _refuse(
        self, request: Request, target: Target, owner: TransactionOwner, branch: str
    ) -> NonInviteClientTransaction:
        # A transaction over a stand-in transport that sends nothing: its only event is the
        # transport error that the caller reports.
        stand_in = _NoTransport(target.transport.upper(), next(iter(self._transports.values())))
        tx = self._new_transaction(request, target, stand_in, owner, branch)
        self._transactions[branch] = tx
        return tx

    def _apply_size_rule(self, tx: NonInviteClientTransaction) -> NonInviteClientTransaction:
        # §18.1.1: a request larger than 1300 bytes (path MTU unknown) MUST go over a congestion
        # controlled transport; the top Via then names TCP.
        if tx.transport.name.upper() != "UDP" or len(tx._data) <= self.udp_size_limit:
            return tx
        tcp = self.transport_named("TCP")
        if tcp is None:
            return tx  # nothing better to use: sent over UDP (documented in spec/transaction.toml)
        target = Target("TCP", tx.target.host, tx.target.port)
        return self._new_transaction(
            tx.request, target, tcp, tx.owner, tx.branch, moved_to_tcp=True
        )

    def _new_branch(self) -> str:
        # §8.1.1.7: unique across space and time; the cookie marks an RFC 3261 branch.
        while True:
            branch = BRANCH_COOKIE + self.random.token(BRANCH_BITS)
            if branch not in self._transactions:
                return branch

    def _forget(self, tx: NonInviteClientTransaction) -> None:
        if self._transactions.get(tx.branch) is tx:
            del self._transactions[tx.branch]

    # ---- the live transactions ---------------------------------------------------------------

    def __len__(self) -> int:
        return len(self._transactions)

    def get(self, branch: str) -> NonInviteClientTransaction | None:
        return self._transactions.get(branch)

    @property
    def transactions(self) -> list[NonInviteClientTransaction]:
        return list(self._transactions.values())

    # ---- ports.Receiver ----------------------------------------------------------------------

    def receive(self, data: bytes, source: HostPort, transport: Transport) -> None:
        """A message from a transport.  Never raises for what the peer sent: a message that is
        not a response to one of our transactions is dropped (and reported to the observer)."""
        try:
            message = parse(data, limits=self.limits)
        except ParseError as exc:
            self._drop(DropReason.PARSE_ERROR, source, transport, str(exc))
            return
        if isinstance(message, Request):
            self._drop(DropReason.REQUEST, source, transport, message.method)
            return
        try:
            vias = message.vias
            cseq = message.cseq
        except ParseError as exc:
            self._drop(DropReason.PARSE_ERROR, source, transport, str(exc))
            return
        if not vias:
            self._drop(DropReason.NO_VIA, source, transport, "no Via")
            return
        if len(vias) > 1:
            # §8.1.3.3: the message was misrouted or corrupted.
            self._drop(DropReason.MULTIPLE_VIAS, source, transport, f"{len(vias)} Via values")
            return
        top = vias[0]
        branch = top.branch
        tx = self._transactions.get(branch) if branch else None
        if not self._is_our_sent_by(top, tx):
            self._drop(DropReason.FOREIGN_SENT_BY, source, transport, str(top.sent_by))
            return
        # §17.1.3: same top-Via branch and same CSeq method as the request.
        if tx is None or cseq is None or cseq.method != tx.method:
            detail = f"branch {branch} CSeq {cseq}"
            self._drop(DropReason.UNMATCHED, source, transport, detail)
            return
        if not 100 <= message.status <= 699:
            self._drop(DropReason.PARSE_ERROR, source, transport, f"status {message.status}")
            return
        tx.receive_response(message)

    def transport_error(self, target: Target, error: Exception) -> None:
        """A transport reports that messages to ``target`` cannot be delivered: every live
        transaction sending there is told (§17.1.4)."""
        key = (target.transport.upper(), target.host.lower(), target.port)
        for tx in list(self._transactions.values()):
            t = tx.target
            if (t.transport.upper(), t.host.lower(), t.port) == key and not tx.terminated:
                tx.transport_failed(error)

    def _is_our_sent_by(self, via: Via, tx: NonInviteClientTransaction | None) -> bool:
        # §18.1.2: a sent-by this layer inserts (now, or into the matched request).
        port = via.port
        if port is None:
            port = _via_port(via)
        if tx is not None:
            mine = tx.sent_by
            if mine.port == port and (mine.host == via.host or _same_host(mine.host, via.host)):
                return True  # the common case: the sent-by of the matched request
        for transport in self._transports.values():
            c = transport.local_address()
            if c.port == port and _same_host(c.host, via.host):
                return True
        return False

    def _drop(
        self, reason: DropReason, source: HostPort, transport: Transport, detail: str
    ) -> None:
        self.dropped[reason.value] += 1
        if self.observer is not None:
            self.observer(Dropped(reason, source, transport.name, detail))


class _NoTransport:
    """Stands in for a transport the layer does not have: every send fails."""

    def __init__(self, name: str, like: Transport) -> None:
        self._name = name
        self._like = like

    @property
    def name(self) -> str:
        return self._name

    @property
    def reliable(self) -> bool:
        return False

    def local_address(self) -> HostPort:
        return self._like.local_address()

    def send(self, data: bytes, target: Target) -> None:
        raise TransportError(f"no {self._name} transport")
