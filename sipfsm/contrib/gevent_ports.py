"""sipfsm's ports on gevent: a UDP ``Transport``, ``Timers``, ``Clock`` and ``Random``.

The client core is sans-IO, so the same :class:`~sipfsm.registration.RegistrationClient` runs on
gevent (Locust's engine) as on asyncio: only these adapters differ.  A greenlet reads the socket
and hands each datagram to the receiver (the transaction layer); timers are greenlets started
with ``gevent.spawn_later``.  ``on_sent`` / ``on_received`` let a caller watch the traffic (the
Locust user times its transactions with them).
"""

from __future__ import annotations

import base64
import secrets
import socket as _stdlib_socket
import time
from collections.abc import Callable
from typing import Any

import gevent
from gevent import socket as gsocket

from sipfsm.errors import TransportError
from sipfsm.ports import HostPort, Receiver, Target

__all__ = ["GeventClock", "GeventRandom", "GeventTimers", "GeventUdpTransport"]


class _Timer:
    __slots__ = ("_greenlet",)

    def __init__(self, greenlet: Any) -> None:
        self._greenlet = greenlet

    def cancel(self) -> None:
        # Cancelling a fired or cancelled timer does nothing (the Timers port's rule).
        if not self._greenlet.dead:
            self._greenlet.kill(block=False)


class GeventTimers:
    """``Timers``: each timer a greenlet started ``delay`` seconds from now."""

    def start(self, name: str, delay: float, callback: Callable[[], None]) -> _Timer:
        return _Timer(gevent.spawn_later(max(0.0, delay), callback))


class GeventClock:
    """``Clock``: ``time.monotonic`` and ``time.time`` (gevent does not patch them)."""

    def monotonic(self) -> float:
        return time.monotonic()

    def wall(self) -> float:
        return time.time()


class GeventRandom:
    """``Random`` from the operating system's CSPRNG (base32 tokens: SIP token characters)."""

    def __init__(self) -> None:
        self._system = secrets.SystemRandom()

    def token(self, nbits: int) -> str:
        raw = secrets.token_bytes(max(1, -(-nbits // 8)))
        return base64.b32encode(raw).decode("ascii").rstrip("=").lower()

    def uniform(self, low: float, high: float) -> float:
        return self._system.uniform(low, high)


class GeventUdpTransport:
    """The ``Transport`` port over one gevent UDP socket bound to ``local_host`` (IPv4 or IPv6
    literal; port 0 = any free one).  Targets must be IP literals."""

    def __init__(
        self,
        receiver: Receiver,
        *,
        local_host: str = "127.0.0.1",
        local_port: int = 0,
        on_sent: Callable[[bytes], None] | None = None,
        on_received: Callable[[bytes], None] | None = None,
    ) -> None:
        family = _stdlib_socket.AF_INET6 if ":" in local_host else _stdlib_socket.AF_INET
        self._sock = gsocket.socket(family, _stdlib_socket.SOCK_DGRAM)
        try:
            self._sock.bind((local_host, local_port))
        except OSError as exc:
            self._sock.close()
            raise TransportError(f"cannot bind UDP {local_host}:{local_port}: {exc}") from exc
        host, port = self._sock.getsockname()[:2]
        self._local = HostPort(str(host), int(port))
        self._receiver = receiver
        self.on_sent = on_sent
        self.on_received = on_received
        self._closed = False
        self.reader_errors = 0
        self._reader = gevent.spawn(self._read)

    # -- the Transport port -------------------------------------------------------------------

    @property
    def name(self) -> str:
        return "UDP"

    @property
    def reliable(self) -> bool:
        return False

    def local_address(self) -> HostPort:
        return self._local

    def local_address_for(self, target: Target | HostPort) -> HostPort:
        return self._local

    def send(self, data: bytes, target: Target) -> None:
        if self._closed:
            raise TransportError("the transport is closed")
        try:
            self._sock.sendto(data, (target.host, target.port))
        except OSError as exc:
            raise TransportError(f"UDP send to {target} failed: {exc}") from exc
        if self.on_sent is not None:
            self.on_sent(data)

    # -- receiving -----------------------------------------------------------------------------

    def _read(self) -> None:
        while not self._closed:
            try:
                data, address = self._sock.recvfrom(65535)
            except OSError:
                if self._closed:
                    return
                continue  # e.g. ICMP port unreachable reported on the socket: read on
            try:
                if self.on_received is not None:
                    self.on_received(data)
                self._receiver.receive(data, HostPort(str(address[0]), int(address[1])), self)
            except Exception:  # one bad datagram or callback must not stop the reader
                self.reader_errors += 1

    def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        self._reader.kill(block=False)
        self._sock.close()
