"""The JSON-lines message trace.

One JSON object per line, one line per message sent or received::

    {"time": 1718000000.123, "direction": "sent", "transport": "UDP",
     "local": "192.0.2.10:5060", "remote": "192.0.2.1:5060", "message": "REGISTER sip:..."}

``time`` is wall-clock seconds (float), ``direction`` is ``sent`` or ``received``, ``local`` and
``remote`` are ``host:port`` (IPv6 in brackets), ``message`` is the raw SIP text decoded as UTF-8
(invalid bytes replaced).  The simulator writes the same format.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from types import TracebackType
from typing import Any, Literal, Protocol, TextIO

from sipfsm.ports import Clock, HostPort, Receiver, Target, Transport

__all__ = [
    "TRACE_FIELDS",
    "TraceSink",
    "TraceWriter",
    "TracingReceiver",
    "TracingTransport",
    "read_trace",
    "trace_record",
]

TRACE_FIELDS = ("time", "direction", "transport", "local", "remote", "message")
Direction = Literal["sent", "received"]


class TraceSink(Protocol):
    """Where transports report each message they send or receive."""

    def record(
        self,
        direction: Direction,
        transport: str,
        local: HostPort,
        remote: HostPort,
        data: bytes,
    ) -> None: ...


def trace_record(
    time: float,
    direction: Direction,
    transport: str,
    local: HostPort,
    remote: HostPort,
    data: bytes,
) -> dict[str, Any]:
    """One trace line as a dict, fields in the order of :data:`TRACE_FIELDS`."""
    return {
        "time": time,
        "direction": direction,
        "transport": transport,
        "local": str(local),
        "remote": str(remote),
        "message": data.decode("utf-8", errors="replace"),
    }


class TraceWriter:
    """A :class:`TraceSink` writing JSON lines to ``path`` (truncated unless ``append``); every
    line is flushed at once so that a crash keeps the trace up to it."""

    def __init__(
        self, path: str | Path, *, clock: Clock | None = None, append: bool = False
    ) -> None:
        if clock is None:
            from sipfsm.aio.runtime import SystemClock

            clock = SystemClock()
        self.path = Path(path)
        self._clock = clock
        self._file: TextIO | None = self.path.open(
            "a" if append else "w", encoding="utf-8", newline="\n"
        )

    def record(
        self,
        direction: Direction,
        transport: str,
        local: HostPort,
        remote: HostPort,
        data: bytes,
    ) -> None:
        if self._file is None:
            return
        line = trace_record(self._clock.wall(), direction, transport, local, remote, data)
        self._file.write(json.dumps(line, ensure_ascii=False) + "\n")
        self._file.flush()

    def close(self) -> None:
        if self._file is not None:
            self._file.close()
            self._file = None

    def __enter__(self) -> TraceWriter:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()


def read_trace(path: str | Path) -> Iterator[dict[str, Any]]:
    """The records of a trace file, in order."""
    with Path(path).open(encoding="utf-8") as lines:
        for line in lines:
            if line.strip():
                yield json.loads(line)


class TracingTransport:
    """Wraps any :class:`~sipfsm.ports.Transport` and records each message it sends.

    The asyncio transports take a ``trace=`` sink themselves (which also knows the exact local
    address of each TCP connection); this decorator is for other transports."""

    def __init__(self, inner: Transport, sink: TraceSink) -> None:
        self.inner = inner
        self._sink = sink

    @property
    def name(self) -> str:
        return self.inner.name

    @property
    def reliable(self) -> bool:
        return self.inner.reliable

    def local_address(self) -> HostPort:
        return self.inner.local_address()

    def local_address_for(self, target: Target) -> HostPort:
        # A transport without local_address_for has one address for every target.
        for_target = getattr(self.inner, "local_address_for", None)
        return for_target(target) if callable(for_target) else self.inner.local_address()

    def send(self, data: bytes, target: Target) -> None:
        self.inner.send(data, target)
        self._sink.record("sent", self.inner.name, self.inner.local_address(), target.address, data)


class TracingReceiver:
    """Wraps a :class:`~sipfsm.ports.Receiver` and records each message delivered to it."""

    def __init__(self, inner: Receiver, sink: TraceSink) -> None:
        self.inner = inner
        self._sink = sink

    def receive(self, data: bytes, source: HostPort, transport: Transport) -> None:
        self._sink.record("received", transport.name, transport.local_address(), source, data)
        self.inner.receive(data, source, transport)

    def transport_error(self, target: Target, error: Exception) -> None:
        self.inner.transport_error(target, error)
