"""An in-memory network with seeded faults, and the ``SimTransport`` endpoints on it.

Each endpoint is bound at ``(transport, host, port)`` and hands what it receives to a
``ports.Receiver``.  Per directed link (source address -> destination address) the network applies
:class:`LinkFaults`; every random decision comes from one ``random.Random(seed)``, so the same seed
and the same inputs give the same run.

* Unreliable (UDP) endpoints: each datagram is lost with probability ``loss``, delivered twice with
  probability ``duplicate``, and held back by ``reorder_delay`` more with probability ``reorder``
  (so later datagrams overtake it); each copy takes a delay drawn uniformly from ``delay``.
  A datagram to an address nobody is bound at, or over a link that is ``down``, is lost and
  (``icmp=True``, the default) the sender's receiver is told ``transport_error`` after the minimum
  delay, as an ICMP port/host unreachable would.
* Reliable (TCP/TLS) endpoints never lose, duplicate or reorder: loss, duplicate and reorder are
  ignored, each message takes a delay from ``delay`` but never arrives before the one sent before it
  on the same link.  Sending to an address nobody is bound at, or over a ``down`` link, raises
  :class:`~sipfsm.errors.TransportError` at once (connection refused).
"""

from __future__ import annotations

import random as _random
from collections import Counter
from dataclasses import dataclass

from sipfsm.errors import ConfigError, TransportError
from sipfsm.ports import HostPort, Receiver, Target
from sipfsm.sim.clock import Scheduler
from sipfsm.sim.random import seed_material
from sipfsm.sim.recorder import Recorder

__all__ = ["LinkFaults", "Network", "SimTransport", "address"]

RELIABLE_TRANSPORTS = frozenset({"TCP", "TLS", "SCTP", "WS", "WSS"})


def address(value: HostPort | str | tuple[str, int]) -> HostPort:
    """A :class:`HostPort` from ``HostPort``, ``(host, port)`` or ``"host:port"`` /
    ``"[v6]:port"``."""
    if isinstance(value, HostPort):
        return value
    if isinstance(value, tuple):
        return HostPort(value[0], int(value[1]))
    text = value.strip()
    if text.startswith("["):
        host, _, rest = text[1:].partition("]")
        port = rest.lstrip(":")
    else:
        host, _, port = text.rpartition(":")
    if not host or not port.isdigit():
        raise ConfigError(f"not a host:port address: {value!r}")
    return HostPort(host, int(port))


@dataclass(frozen=True, slots=True)
class LinkFaults:
    """What a directed link does to messages.  Probabilities are in [0, 1]; ``delay`` is
    ``(min, max)`` seconds."""

    loss: float = 0.0
    duplicate: float = 0.0
    reorder: float = 0.0
    delay: tuple[float, float] = (0.0, 0.0)
    reorder_delay: float = 0.1
    down: bool = False

    def __post_init__(self) -> None:
        for name in ("loss", "duplicate", "reorder"):
            value = getattr(self, name)
            if not 0.0 <= value <= 1.0:
                raise ConfigError(f"LinkFaults.{name} must be in [0, 1], not {value}")
        low, high = self.delay
        if low < 0 or high < low:
            raise ConfigError(
                f"LinkFaults.delay must be (min, max) with 0 <= min <= max: {self.delay}"
            )
        if self.reorder_delay < 0:
            raise ConfigError("LinkFaults.reorder_delay must not be negative")


PERFECT = LinkFaults()


class SimTransport:
    """One endpoint on a :class:`Network`: the ``ports.Transport`` port."""

    def __init__(
        self, network: Network, name: str, local: HostPort, receiver: Receiver | None
    ) -> None:
        self._network = network
        self._name = name
        self._local = local
        self.receiver = receiver
        self.closed = False

    @property
    def name(self) -> str:
        return self._name

    @property
    def reliable(self) -> bool:
        return self._name in RELIABLE_TRANSPORTS

    def local_address(self) -> HostPort:
        return self._local

    def bind(self, receiver: Receiver) -> None:
        """Set (or replace) the receiver messages to this endpoint are delivered to."""
        self.receiver = receiver

    def send(self, data: bytes, target: Target) -> None:
        if self.closed:
            raise TransportError(f"{self._name} endpoint {self._local} is closed")
        self._network._send(self, bytes(data), target)

    def close(self) -> None:
        """Unbind: later messages to this address are undeliverable."""
        self.closed = True
        self._network._unbind(self)

    def __repr__(self) -> str:
        return f"<SimTransport {self._name} {self._local}>"


class Network:
    """The in-memory network.  ``stats`` counts ``sent``, ``delivered``, ``lost``,
    ``duplicated``, ``reordered`` and ``unreachable`` messages."""

    def __init__(
        self,
        scheduler: Scheduler,
        *,
        seed: int | str = 0,
        faults: LinkFaults = PERFECT,
        recorder: Recorder | None = None,
        icmp: bool = True,
    ) -> None:
        self.scheduler = scheduler
        self.recorder = recorder
        self.default_faults = faults
        self.icmp = icmp
        self.stats: Counter[str] = Counter()
        self._random = _random.Random(seed_material(seed))
        self._endpoints: dict[tuple[str, str, int], SimTransport] = {}
        self._faults: dict[tuple[HostPort, HostPort], LinkFaults] = {}
        self._last_delivery: dict[tuple[str, HostPort, HostPort], float] = {}

    # ---- topology ------------------------------------------------------------------------

    def endpoint(
        self,
        local: HostPort | str | tuple[str, int],
        transport: str = "UDP",
        receiver: Receiver | None = None,
    ) -> SimTransport:
        """Bind a new endpoint at ``local`` for ``transport`` (``UDP``, ``TCP``, ``TLS``)."""
        local = address(local)
        name = transport.upper()
        key = (name, local.host.lower(), local.port)
        if key in self._endpoints:
            raise ConfigError(f"{name} {local} is already bound")
        endpoint = SimTransport(self, name, local, receiver)
        self._endpoints[key] = endpoint
        return endpoint

    def set_faults(
        self,
        a: HostPort | str | tuple[str, int],
        b: HostPort | str | tuple[str, int],
        faults: LinkFaults,
        *,
        both_ways: bool = True,
    ) -> None:
        """Faults of the link from ``a`` to ``b`` (and from ``b`` to ``a`` unless
        ``both_ways=False``)."""
        src, dst = address(a), address(b)
        self._faults[(src, dst)] = faults
        if both_ways:
            self._faults[(dst, src)] = faults

    def faults(self, src: HostPort, dst: HostPort) -> LinkFaults:
        return self._faults.get((src, dst), self.default_faults)

    def _unbind(self, endpoint: SimTransport) -> None:
        local = endpoint.local_address()
        key = (endpoint.name, local.host.lower(), local.port)
        if self._endpoints.get(key) is endpoint:
            del self._endpoints[key]

    # ---- delivery ------------------------------------------------------------------------

    def _send(self, sender: SimTransport, data: bytes, target: Target) -> None:
        src = sender.local_address()
        dst = target.address
        self.stats["sent"] += 1
        if self.recorder is not None:
            self.recorder.record("sent", sender.name, src, dst, data)
        faults = self.faults(src, dst)
        receiver_end = self._endpoints.get((sender.name, dst.host.lower(), dst.port))
        if faults.down or receiver_end is None:
            self.stats["unreachable"] += 1
            why = "link down" if faults.down else "nothing bound"
            if sender.reliable:
                raise TransportError(f"{sender.name} connection to {dst} refused ({why})")
            if self.icmp:
                error = TransportError(f"ICMP unreachable: {dst} ({why})")
                self.scheduler.start(
                    "icmp", faults.delay[0], lambda: self._report_error(sender, target, error)
                )
            return
        low, high = faults.delay
        if sender.reliable:
            link = (sender.name, src, dst)
            when = self.scheduler.now + (self._random.uniform(low, high) if high > low else low)
            when = max(when, self._last_delivery.get(link, when))
            self._last_delivery[link] = when
            self._schedule(when, receiver_end, src, data)
            return
        draw = self._random.random
        if faults.loss and draw() < faults.loss:
            self.stats["lost"] += 1
            return
        copies = 1
        if faults.duplicate and draw() < faults.duplicate:
            copies = 2
            self.stats["duplicated"] += 1
        for _ in range(copies):
            delay = self._random.uniform(low, high) if high > low else low
            if faults.reorder and draw() < faults.reorder:
                delay += faults.reorder_delay
                self.stats["reordered"] += 1
            self._schedule(self.scheduler.now + delay, receiver_end, src, data)

    def _schedule(self, when: float, endpoint: SimTransport, source: HostPort, data: bytes) -> None:
        self.scheduler.call_at(when, lambda: self._deliver(endpoint, source, data), "deliver")

    def _deliver(self, endpoint: SimTransport, source: HostPort, data: bytes) -> None:
        if endpoint.closed or endpoint.receiver is None:
            self.stats["undelivered"] += 1
            return
        self.stats["delivered"] += 1
        if self.recorder is not None:
            self.recorder.record("received", endpoint.name, endpoint.local_address(), source, data)
        endpoint.receiver.receive(data, source, endpoint)

    @staticmethod
    def _report_error(sender: SimTransport, target: Target, error: Exception) -> None:
        if not sender.closed and sender.receiver is not None:
            sender.receiver.transport_error(target, error)
