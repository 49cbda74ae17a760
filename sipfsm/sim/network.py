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
from heapq import heappush as _heappush

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

    __slots__ = ("_local", "_network", "_routes", "_routes_version", "closed", "name",
                 "receiver", "reliable")

    def __init__(
        self, network: Network, name: str, local: HostPort, receiver: Receiver | None
    ) -> None:
        self._network = network
        self.name = name  # ``UDP``, ``TCP``, ...: read-only by contract (plain for speed)
        self.reliable = name in RELIABLE_TRANSPORTS
        self._local = local
        self.receiver = receiver
        self.closed = False
        # (host, port) -> what the network decided for it (see Network._route); valid while
        # _routes_version is the network's topology version.
        self._routes: dict[tuple[str, int], _Route] = {}
        self._routes_version = -1

    def local_address(self) -> HostPort:
        return self._local

    def bind(self, receiver: Receiver) -> None:
        """Set (or replace) the receiver messages to this endpoint are delivered to."""
        self.receiver = receiver

    def send(self, data: bytes, target: Target) -> None:
        if self.closed:
            raise TransportError(f"{self.name} endpoint {self._local} is closed")
        if type(data) is not bytes:
            data = bytes(data)
        network = self._network
        network._sent += 1
        route = (self._routes.get((target.host, target.port))
                 if self._routes_version == network._version else None)
        if route is None:
            route = network._route(self, target.host, target.port)
        if not route[3] or network.recorder is not None:
            network._send(self, data, target, route)
            return
        # The usual datagram: a bound UDP peer, a link that may lose and delay it and does
        # nothing else (and no recorder).  The same draws, in the same order, as the general
        # path in Network._send; the delivery goes straight into the scheduler's queue
        # (Scheduler.post, inlined).  Here and not in the network: one call frame less a datagram.
        faults = route[1]
        draw = network._draw
        loss = faults.loss
        if loss and draw() < loss:
            network._lost += 1
            return
        low, high = faults.delay
        scheduler = network.scheduler
        when = scheduler._now + (low + (high - low) * draw() if high > low else low)
        scheduler._seq = seq = scheduler._seq + 1
        entry = (when, seq, None, network._deliver_later, (route[0], self._local, data))
        if when < scheduler._horizon:
            _heappush(scheduler._queue, entry)
        else:
            scheduler._park(entry)

    def close(self) -> None:
        """Unbind: later messages to this address are undeliverable."""
        self.closed = True
        self._network._unbind(self)

    def __repr__(self) -> str:
        return f"<SimTransport {self.name} {self._local}>"


# The endpoint bound at the destination (None: nobody), the link's faults, the destination, and
# whether the datagram takes the plain path (a bound UDP peer; no duplicate, reorder or down).
_Route = tuple["SimTransport | None", LinkFaults, HostPort, bool]


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
        self._default_faults = faults
        self.icmp = icmp
        # The counters of every datagram are plain ints (``stats`` builds the Counter).
        self._sent = self._lost = self._delivered = 0
        self._counts: Counter[str] = Counter()
        self._random = _random.Random(seed_material(seed))
        self._draw = self._random.random
        self._endpoints: dict[tuple[str, str, int], SimTransport] = {}
        self._faults: dict[tuple[HostPort, HostPort], LinkFaults] = {}
        self._last_delivery: dict[tuple[str, HostPort, HostPort], float] = {}
        # Bumped by every change of topology or faults: the routes endpoints cached go stale.
        self._version = 0
        self._deliver_later = self._deliver  # one bound method, not one per datagram

    @property
    def stats(self) -> Counter[str]:
        """Messages ``sent``, ``delivered``, ``lost``, ``duplicated``, ``reordered``,
        ``unreachable`` and ``undelivered`` so far (a new Counter at each read)."""
        stats = Counter(self._counts)
        for key, value in (("sent", self._sent), ("lost", self._lost),
                           ("delivered", self._delivered)):
            if value:
                stats[key] = value
        return stats

    # ---- topology ------------------------------------------------------------------------

    @property
    def default_faults(self) -> LinkFaults:
        """The faults of every link without its own (:meth:`set_faults`)."""
        return self._default_faults

    @default_faults.setter
    def default_faults(self, faults: LinkFaults) -> None:
        self._default_faults = faults
        self._version += 1

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
        self._version += 1
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
        self._version += 1

    def faults(self, src: HostPort, dst: HostPort) -> LinkFaults:
        return self._faults.get((src, dst), self._default_faults)

    def _unbind(self, endpoint: SimTransport) -> None:
        local = endpoint.local_address()
        key = (endpoint.name, local.host.lower(), local.port)
        if self._endpoints.get(key) is endpoint:
            del self._endpoints[key]
            self._version += 1

    def _route(self, sender: SimTransport, host: str, port: int) -> _Route:
        """Where a message from ``sender`` to ``host:port`` goes: the endpoint bound there (None:
        nobody), the link's faults and the destination address -- cached per sender until the
        topology or the faults change."""
        if sender._routes_version != self._version:
            sender._routes.clear()
            sender._routes_version = self._version
        dst = HostPort(host, port)
        end = self._endpoints.get((sender.name, host.lower(), port))
        faults = self.faults(sender._local, dst)
        plain = (end is not None and not sender.reliable and not faults.down
                 and not faults.duplicate and not faults.reorder)
        route = (end, faults, dst, plain)
        sender._routes[(host, port)] = route
        return route

    # ---- delivery ------------------------------------------------------------------------

    def _send(self, sender: SimTransport, data: bytes, target: Target, route: _Route) -> None:
        """Every datagram or message but the plain UDP datagram (see SimTransport.send)."""
        receiver_end, faults, dst, _ = route
        src = sender._local
        scheduler = self.scheduler
        if self.recorder is not None:
            self.recorder.record("sent", sender.name, src, dst, data)
        if receiver_end is None or faults.down:
            self._counts["unreachable"] += 1
            why = "link down" if faults.down else "nothing bound"
            if sender.reliable:
                raise TransportError(f"{sender.name} connection to {dst} refused ({why})")
            if self.icmp:
                error = TransportError(f"ICMP unreachable: {dst} ({why})")
                scheduler.post(scheduler.now + faults.delay[0], self._report_error,
                               sender, target, error)
            return
        low, high = faults.delay
        draw = self._draw
        if sender.reliable:
            link = (sender.name, src, dst)
            # low + (high - low) * random(): random.Random.uniform's own formula and draw.
            when = scheduler.now + (low + (high - low) * draw() if high > low else low)
            when = max(when, self._last_delivery.get(link, when))
            self._last_delivery[link] = when
            scheduler.post(when, self._deliver_later, receiver_end, src, data)
            return
        if faults.loss and draw() < faults.loss:
            self._lost += 1
            return
        if faults.duplicate and draw() < faults.duplicate:
            copies = 2
            self._counts["duplicated"] += 1
        else:
            copies = 1
        for _ in range(copies):
            delay = low + (high - low) * draw() if high > low else low
            if faults.reorder and draw() < faults.reorder:
                delay += faults.reorder_delay
                self._counts["reordered"] += 1
            scheduler.post(scheduler.now + delay, self._deliver_later, receiver_end, src, data)

    def _deliver(self, endpoint: SimTransport, source: HostPort, data: bytes) -> None:
        receiver = endpoint.receiver
        if endpoint.closed or receiver is None:
            self._counts["undelivered"] += 1
            return
        self._delivered += 1
        if self.recorder is not None:
            self.recorder.record("received", endpoint.name, endpoint._local, source, data)
        receiver.receive(data, source, endpoint)

    @staticmethod
    def _report_error(sender: SimTransport, target: Target, error: Exception) -> None:
        if not sender.closed and sender.receiver is not None:
            sender.receiver.transport_error(target, error)
