"""Ports: everything the sans-IO core needs from the outside world.

The core (messages, digest, transaction and registration machines) takes these at construction
and never touches sockets, asyncio, wall time or ``random`` itself.  Two sets of adapters exist:
``sipfsm.aio`` (real sockets, the event loop, the system clock, ``secrets``) and ``sipfsm.sim``
(a deterministic simulator with a virtual clock and an in-memory network).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Protocol, runtime_checkable

__all__ = [
    "Clock",
    "HostPort",
    "Random",
    "Receiver",
    "Resolver",
    "Target",
    "TimerHandle",
    "Timers",
    "Transport",
]


@dataclass(frozen=True, slots=True)
class HostPort:
    """A host (name, IPv4 or bare IPv6 without brackets) and a port."""

    host: str
    port: int

    def __str__(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"{host}:{self.port}"


@dataclass(frozen=True, slots=True)
class Target:
    """Where a request goes: a transport name (``UDP``, ``TCP``, ``TLS``), a host and a port."""

    transport: str
    host: str
    port: int

    @property
    def address(self) -> HostPort:
        return HostPort(self.host, self.port)

    def __str__(self) -> str:
        return f"{self.transport.lower()}:{self.address}"


class TimerHandle(Protocol):
    def cancel(self) -> None:
        """Cancel the timer; cancelling a fired or cancelled timer does nothing."""


class Timers(Protocol):
    def start(self, name: str, delay: float, callback: Callable[[], None]) -> TimerHandle:
        """Call ``callback`` once, ``delay`` seconds from now (``name`` is for traces)."""


class Clock(Protocol):
    def monotonic(self) -> float:
        """Seconds on a clock that never goes backwards."""

    def wall(self) -> float:
        """Seconds since the Unix epoch (used only to compare with a Date header)."""


class Random(Protocol):
    def token(self, nbits: int) -> str:
        """An unguessable token of at least ``nbits`` bits of entropy, made of SIP token
        characters only (safe in a branch, tag, Call-ID or cnonce)."""

    def uniform(self, low: float, high: float) -> float:
        """A float in [low, high] (used for jitter)."""


@runtime_checkable
class Transport(Protocol):
    """One transport (one socket or one connection pool) the core can send through."""

    @property
    def name(self) -> str:
        """``UDP``, ``TCP`` or ``TLS``: what goes in the Via's sent-protocol."""

    @property
    def reliable(self) -> bool:
        """True for TCP/TLS: the transaction layer then sends no retransmissions."""

    def local_address(self) -> HostPort:
        """The address to put in Via sent-by and in Contact."""

    def send(self, data: bytes, target: Target) -> None:
        """Send one message.  Raises :class:`sipfsm.errors.TransportError` when the failure is
        known at once; later failures reach the :class:`Receiver` as ``transport_error``."""


class Receiver(Protocol):
    """What a transport delivers to (the transaction layer implements it)."""

    def receive(self, data: bytes, source: HostPort, transport: Transport) -> None: ...

    def transport_error(self, target: Target, error: Exception) -> None: ...


class Resolver(Protocol):
    """RFC 3263 server location: turn a SIP URI's host part into an ordered list of targets."""

    def resolve(
        self,
        host: str,
        *,
        port: int | None,
        transport: str | None,
        secure: bool,
        on_done: Callable[[Sequence[Target]], None],
        on_error: Callable[[Exception], None],
    ) -> None:
        """Resolve asynchronously; exactly one of the callbacks is called, once."""
