"""Test doubles for driving the transaction layer by hand: a scripted transport that records what
is sent (with the virtual time) and can be told to fail, and an owner that records what it is
told.  Used by sipfsm's own checks; usable in users' harnesses."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sipfsm.errors import TransportError
from sipfsm.ports import Clock, HostPort, Target

__all__ = ["OwnerEvent", "RecordingOwner", "ScriptedTransport", "Sent"]


DEFAULT_LOCAL = HostPort("192.0.2.10", 5060)


@dataclass(frozen=True, slots=True)
class Sent:
    time: float
    data: bytes
    target: Target
    failed: bool = False


class ScriptedTransport:
    """A ``ports.Transport`` that delivers nothing: it records each send (``sent``) and raises
    :class:`TransportError` when told to (``fail_next`` / ``fail_always``)."""

    def __init__(
        self,
        clock: Clock,
        name: str = "UDP",
        local: HostPort = DEFAULT_LOCAL,
        *,
        reliable: bool | None = None,
        failure: type[TransportError] = TransportError,
    ) -> None:
        self._clock = clock
        self._name = name.upper()
        self._local = local
        self._reliable = self._name != "UDP" if reliable is None else reliable
        self.sent: list[Sent] = []
        self._failures = 0
        self._failure = failure  # the error a failing send raises (DestinationUnreachable...)
        self.fail_always = False

    @property
    def name(self) -> str:
        return self._name

    @property
    def reliable(self) -> bool:
        return self._reliable

    def local_address(self) -> HostPort:
        return self._local

    def fail_next(self, count: int = 1) -> None:
        self._failures += count

    def send(self, data: bytes, target: Target) -> None:
        failing = self.fail_always or self._failures > 0
        self.sent.append(Sent(self._clock.monotonic(), data, target, failing))
        if failing:
            if self._failures > 0:
                self._failures -= 1
            raise self._failure(f"scripted failure sending to {target}")

    @property
    def send_times(self) -> list[float]:
        return [s.time for s in self.sent]


@dataclass(frozen=True, slots=True)
class OwnerEvent:
    kind: str  # "provisional", "final", "timeout", "transport_error"
    time: float
    tx: Any
    response: Any = None
    error: Exception | None = None


@dataclass(slots=True)
class RecordingOwner:
    """A ``TransactionOwner`` keeping every call it gets, with the time."""

    clock: Clock
    events: list[OwnerEvent] = field(default_factory=list)

    def on_provisional(self, tx: Any, response: Any) -> None:
        self.events.append(OwnerEvent("provisional", self.clock.monotonic(), tx, response))

    def on_final(self, tx: Any, response: Any) -> None:
        self.events.append(OwnerEvent("final", self.clock.monotonic(), tx, response))

    def on_timeout(self, tx: Any) -> None:
        self.events.append(OwnerEvent("timeout", self.clock.monotonic(), tx))

    def on_transport_error(self, tx: Any, error: Exception) -> None:
        self.events.append(OwnerEvent("transport_error", self.clock.monotonic(), tx, error=error))

    @property
    def outcomes(self) -> list[OwnerEvent]:
        return [e for e in self.events if e.kind != "provisional"]

    @property
    def provisionals(self) -> list[OwnerEvent]:
        return [e for e in self.events if e.kind == "provisional"]
