"""Connection limits for the embedded registrar's TCP and TLS listeners.

What one peer can hold on a stream listener is bounded (spec record
RFC3261-10.3-RESOURCE-LIMITS-EMBEDDED):

=============================  =================================================================
``idle_timeout`` (120 s)       a connection that has sent nothing for this long is closed
``message_timeout`` (30 s)     a message begun must be complete within this (half-sent headers
                               are not held open)
``max_header_size`` (16 KiB)   a header section larger than this closes the connection (the
                               shared framer's ``max_head_size``)
``max_connections_per_source`` at most this many connections from one IP address at a time;
(32)                           further ones are closed as they are accepted
=============================  =================================================================

A closed connection is what a reliable transport's client recovers from (it reconnects and
retransmits its request, RFC 3261 §18.4 / §17.1.2): nothing here answers a SIP message.  The
guarded transports are the asyncio ones of :mod:`sipfsm.aio` with a connection class that adds
these checks -- their documented extension point (``_connection_class``).
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import Any

from sipfsm.aio.framing import RawStreamFramer
from sipfsm.aio.keepalive import KeepAliveTcpTransport, _KeepAliveConnection
from sipfsm.aio.tcp import TcpTransport
from sipfsm.aio.tls import TlsTransport, _TlsConnection
from sipfsm.errors import ConfigError
from sipfsm.ports import Target

__all__ = ["GuardedTcpTransport", "GuardedTlsTransport", "TcpLimits"]


@dataclass(frozen=True, slots=True)
class TcpLimits:
    """The stream listeners' limits (see the module doc); 0 switches one off."""

    idle_timeout: float = 120.0
    message_timeout: float = 30.0
    max_header_size: int = 16_384
    max_connections_per_source: int = 32
    max_message_size: int = 65_535

    def __post_init__(self) -> None:
        for name in ("idle_timeout", "message_timeout"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int | float) or not value >= 0:
                raise ConfigError(f"{name} must be a number of seconds >= 0, not {value!r}")
        for name in ("max_header_size", "max_connections_per_source", "max_message_size"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 0:
                raise ConfigError(f"{name} must be an integer >= 0, not {value!r}")
        if self.max_header_size and self.max_header_size < 1024:
            raise ConfigError("max_header_size must be at least 1024 bytes (or 0: no limit)")

    def framer(self) -> RawStreamFramer:
        return RawStreamFramer(self.max_message_size,
                               max_head_size=self.max_header_size or None)  # fmt: skip


class _Guard:
    """Per-transport state: the limits and the connections counted per source IP."""

    def __init__(self, limits: TcpLimits) -> None:
        self.limits = limits
        self.per_source: dict[str, int] = {}
        self.refused = 0
        self.timed_out = 0


class _GuardMixin:
    """Mixed into a connection class of :mod:`sipfsm.aio` (before it in the bases)."""

    _counted: str | None
    _timer: asyncio.TimerHandle | None
    _last_activity: float
    _partial_since: float | None

    def _guard_init(self) -> None:
        self._counted = None
        self._timer = None
        self._last_activity = asyncio.get_running_loop().time()
        self._partial_since = None

    def _guard(self) -> _Guard | None:
        guard = getattr(self.owner, "guard", None)  # type: ignore[attr-defined]
        return guard if isinstance(guard, _Guard) else None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        super().connection_made(transport)  # type: ignore[misc]
        connection: Any = self
        guard = self._guard()
        if guard is None or connection.closed or connection.peer is None:
            return
        host = connection.peer.host
        count = guard.per_source.get(host, 0)
        limit = guard.limits.max_connections_per_source
        if limit and count >= limit and not getattr(connection, "outgoing", False):
            guard.refused += 1
            connection.fail(f"more than {limit} connections from {host}: closed", None)
            return
        guard.per_source[host] = count + 1
        self._counted = host
        self._schedule()

    def data_received(self, data: bytes) -> None:
        connection: Any = self
        loop_time = asyncio.get_running_loop().time()
        self._last_activity = loop_time
        super().data_received(data)  # type: ignore[misc]
        buffered = int(getattr(connection.framer, "buffered", 0))
        if buffered == 0:
            self._partial_since = None
        elif self._partial_since is None:
            self._partial_since = loop_time

    def connection_lost(self, exc: Exception | None) -> None:
        self._release()
        super().connection_lost(exc)  # type: ignore[misc]

    def _release(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        guard = self._guard()
        if self._counted is not None and guard is not None:
            left = guard.per_source.get(self._counted, 1) - 1
            if left > 0:
                guard.per_source[self._counted] = left
            else:
                guard.per_source.pop(self._counted, None)
        self._counted = None

    def _schedule(self) -> None:
        guard = self._guard()
        if guard is None:
            return
        limits = guard.limits
        periods = [p for p in (limits.idle_timeout, limits.message_timeout) if p > 0]
        if periods:
            step = max(0.05, min(periods) / 4)
            self._timer = asyncio.get_running_loop().call_later(step, self._check)

    def _check(self) -> None:
        connection: Any = self
        self._timer = None
        guard = self._guard()
        if guard is None or connection.closed:
            return
        now = asyncio.get_running_loop().time()
        limits = guard.limits
        why = None
        if limits.idle_timeout and now - self._last_activity > limits.idle_timeout:
            why = f"idle for {limits.idle_timeout:g} s"
        elif (
            limits.message_timeout
            and self._partial_since is not None
            and now - self._partial_since > limits.message_timeout
        ):
            why = f"a message left incomplete for {limits.message_timeout:g} s"
        if why is None:
            self._schedule()
            return
        guard.timed_out += 1
        self._release()
        connection.fail(f"connection from {connection.peer}: {why}, closed", None)


class _GuardedKeepAliveConnection(_GuardMixin, _KeepAliveConnection):
    def __init__(self, owner: TcpTransport, target: Target | None) -> None:
        super().__init__(owner, target)
        self._guard_init()


class _GuardedTlsConnection(_GuardMixin, _TlsConnection):
    def __init__(self, owner: TcpTransport, target: Target | None) -> None:
        super().__init__(owner, target)
        self._guard_init()


class GuardedTcpTransport(KeepAliveTcpTransport):
    """The registrar's TCP listener: CRLF keep-alives answered, :class:`TcpLimits` enforced."""

    _connection_class = _GuardedKeepAliveConnection
    guard: _Guard | None = None


class GuardedTlsTransport(TlsTransport):
    """The registrar's TLS listener, with the same limits."""

    _connection_class = _GuardedTlsConnection
    guard: _Guard | None = None


def attach(transport: GuardedTcpTransport | GuardedTlsTransport, limits: TcpLimits) -> None:
    """Enforce ``limits`` on ``transport`` (right after it was opened, before any await)."""
    transport.guard = _Guard(limits)
    transport._framer_factory = limits.framer
