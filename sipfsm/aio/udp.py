"""``UdpTransport``: one datagram socket, used for every target (so the Via port is stable and
responses come back to the socket that sent the request)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import socket
import struct
import sys
from collections.abc import Callable
from types import TracebackType
from typing import Any

from sipfsm.aio._net import WILDCARDS, bare_host, is_ip_literal, route_source, unmapped
from sipfsm.aio.trace import TraceSink
from sipfsm.errors import DestinationUnreachable, TransportError
from sipfsm.ports import HostPort, Receiver, Target

__all__ = ["UdpTransport", "icmp_is_failure", "icmp_is_unreachable"]

_log = logging.getLogger("sipfsm.aio")

# Linux: with IP_RECVERR / IPV6_RECVERR an *unconnected* UDP socket learns of ICMP errors and
# keeps each one, with the destination of the datagram that caused it, in its error queue.
_IP_RECVERR = 11
_IPV6_RECVERR = 25
_MSG_ERRQUEUE = 0x2000
_SO_EE_ORIGIN_LOCAL = 1
_SO_EE_ORIGIN_ICMP = 2
_SO_EE_ORIGIN_ICMP6 = 3
_SOCK_EXTENDED_ERR = struct.Struct("=IBBBBII")

SPEC_ICMP = "RFC3261-18.4-ICMP-UNREACHABLE-AIO"


def icmp_is_failure(origin: int, icmp_type: int) -> bool:
    """RFC 3261 §18.4: host, network, port or protocol unreachable and parameter problem errors
    are failures to report; source quench and TTL exceeded are ignored."""
    if origin == _SO_EE_ORIGIN_ICMP:
        return icmp_type in (3, 12)  # destination unreachable, parameter problem
    if origin == _SO_EE_ORIGIN_ICMP6:
        return icmp_type in (1, 4)  # destination unreachable, parameter problem
    return origin == _SO_EE_ORIGIN_LOCAL


def icmp_is_unreachable(origin: int, icmp_type: int) -> bool:
    """ICMP (v4 type 3, v6 type 1) destination unreachable: the destination refused at once."""
    return (origin, icmp_type) in ((_SO_EE_ORIGIN_ICMP, 3), (_SO_EE_ORIGIN_ICMP6, 1))


# The largest UDP payload (IPv4: 65,507 bytes; IPv6 without jumbograms: 65,527).
_MAX_DATAGRAM = 65536
# Datagrams read from the socket after the one the event loop delivered, per loop turn: a
# selector loop reads one datagram per turn of the loop (a select call and a pass over the
# timers for each), which under load costs more than the message itself.  Bounded, so that
# timers and other sockets still get their turn.
_DRAIN_MAX = 64
_DRAIN_SKIP = 8  # after a drain that found nothing, datagrams delivered before trying again


class _UdpProtocol(asyncio.DatagramProtocol):
    def __init__(self, owner: UdpTransport) -> None:
        self._owner = owner

    def datagram_received(self, data: bytes, addr: tuple[Any, ...]) -> None:
        owner = self._owner
        owner._datagram(data, addr)
        if owner._drain:
            owner._drain_socket()

    def error_received(self, exc: Exception) -> None:
        self._owner._error(exc)


class UdpTransport:
    """The ``Transport`` port over UDP.  Create with ``await UdpTransport.open(receiver)``.

    Targets must be IP literals (resolve names with :class:`~sipfsm.aio.DnsResolver` first).
    A socket bound to ``::`` is dual-stack: IPv4 targets are reached through mapped addresses."""

    def __init__(
        self,
        receiver: Receiver,
        sock: socket.socket,
        *,
        trace: TraceSink | None = None,
    ) -> None:
        self._receiver = receiver
        self._sock = sock
        self._trace = trace
        self._transport: asyncio.DatagramTransport | None = None
        bound = sock.getsockname()
        self._bound_host = unmapped(str(bound[0]))
        self._bound_port = int(bound[1])
        self._family = sock.family
        self._errqueue = sys.platform == "linux"
        self._advertised: str | None = None
        self._route_cache: dict[str, str] = {}
        # Target -> socket address, checked once (the checks parse the address: ~10 % of a
        # load generator's CPU when done on every send).  Bounded.
        self._sockaddrs: dict[Target, tuple[str, int]] = {}
        self._last_target: Target | None = None
        self._last_address: tuple[str, int] = ("", 0)
        self._wildcard = self._bound_host in WILDCARDS
        self._local_hostports: dict[str, HostPort] = {}
        self._bound_at = self._at(self._bound_host)  # what a socket bound to one address advertises
        # Source (address, port) tuple -> HostPort, for the datagrams received.  Bounded.
        self._sources: dict[tuple[Any, ...], HostPort] = {}
        self.messages_sent = 0  # datagrams passed to the kernel (retransmissions included)
        self._drain = False  # read queued datagrams directly (selector event loops only)
        self._drain_wait = 0
        self._sending = False
        self._send_error: Exception | None = None
        self._buffered: Callable[[], int] | None = None
        self._coalesce = False
        self._loop: asyncio.AbstractEventLoop | None = None
        self._queued: list[tuple[bytes, tuple[str, int], Target]] = []

    @classmethod
    async def open(
        cls,
        receiver: Receiver,
        *,
        local_host: str = "0.0.0.0",
        local_port: int = 0,
        trace: TraceSink | None = None,
        coalesce_sends: bool = False,
    ) -> UdpTransport:
        """Bind ``local_host:local_port`` (``::`` or any IPv6 literal: an IPv6 socket).

        ``coalesce_sends``: ``send`` queues the datagram and the queue goes out at the next turn
        of the event loop, all datagrams back to back (a load generator: the peer is woken
        once for a batch of requests, not once for each; a wake-up costs more CPU than the
        send).  A send that fails then is reported as ``receiver.transport_error(target, ...)``
        instead of raised by ``send``."""
        loop = asyncio.get_running_loop()
        host = bare_host(local_host)
        family = socket.AF_INET6 if ":" in host else socket.AF_INET
        sock = socket.socket(family, socket.SOCK_DGRAM)
        try:
            if family == socket.AF_INET6 and host in WILDCARDS:
                sock.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0)
            if sys.platform == "linux":
                # RFC 3261 §18.4: learn of ICMP errors, and for which destination.
                sock.setsockopt(socket.IPPROTO_IP, _IP_RECVERR, 1)
                if family == socket.AF_INET6:
                    sock.setsockopt(socket.IPPROTO_IPV6, _IPV6_RECVERR, 1)
            sock.bind((host or "0.0.0.0", local_port))
            sock.setblocking(False)
        except OSError as exc:
            sock.close()
            raise TransportError(f"cannot bind UDP {host}:{local_port}: {exc}") from exc
        self = cls(receiver, sock, trace=trace)
        self._coalesce = coalesce_sends
        self._loop = loop
        transport, _ = await loop.create_datagram_endpoint(lambda: _UdpProtocol(self), sock=sock)
        self._transport = transport
        # What the loop's transport has queued to send (asyncio and uvloop both tell).
        self._buffered = getattr(transport, "get_write_buffer_size", None)
        # The socket is non-blocking and a selector loop only reads it when told it is readable,
        # so reading it directly in between is safe there (not on a loop of another kind).
        self._drain = isinstance(loop, asyncio.SelectorEventLoop)
        return self

    # -- the Transport port -------------------------------------------------------------------

    @property
    def name(self) -> str:
        return "UDP"

    @property
    def reliable(self) -> bool:
        return False

    @property
    def bound_address(self) -> HostPort:
        """The socket's own address (possibly a wildcard)."""
        return self._at(self._bound_host)

    def local_address(self) -> HostPort:
        """The address to advertise: the bound address, or when bound to a wildcard the source
        address last discovered for a target (see :meth:`local_address_for`)."""
        if self._advertised is not None:
            return self._at(self._advertised)
        return self._at(self._bound_host)

    def local_address_for(self, target: Target | HostPort) -> HostPort:
        """The address to advertise to ``target``; on a wildcard socket, the source address the
        kernel routes to it from.  Remembered as what :meth:`local_address` returns."""
        if not self._wildcard:
            return self._bound_at  # (asked for on every REGISTER: its Contact)
        source = self._source_for(target)
        if source is None:
            return self.local_address()
        if self._wildcard:
            self._advertised = source
        return self._at(source)

    def _at(self, host: str) -> HostPort:
        # One HostPort per local host (they are asked for on every request: the Via, the
        # Contact), not a new one each time.
        found = self._local_hostports.get(host)
        if found is None:
            if len(self._local_hostports) >= 64:
                self._local_hostports.clear()
            found = self._local_hostports[host] = HostPort(host, self._bound_port)
        return found

    def _source_for(self, peer: Target | HostPort) -> str | None:
        if self._bound_host not in WILDCARDS:
            return self._bound_host
        host = unmapped(bare_host(peer.host))
        source = self._route_cache.get(host)
        if source is None:
            source = route_source(HostPort(host, peer.port))
            if source is not None:
                self._route_cache[host] = source
        return source

    @property
    def receive_buffer(self) -> int | None:
        """SO_RCVBUF as the kernel reports it (Linux: twice the size granted), None if unknown."""
        try:
            return int(self._sock.getsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF))
        except OSError:
            return None

    def set_receive_buffer(self, size: int) -> None:
        """Ask for a SO_RCVBUF of ``size`` bytes (the kernel caps it at net.core.rmem_max); a
        refusal keeps the current size."""
        with contextlib.suppress(OSError):
            self._sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, size)

    def send(self, data: bytes, target: Target) -> None:
        transport = self._transport
        if transport is None or transport.is_closing():
            raise TransportError("UDP transport is closed")
        if target is self._last_target:
            address = self._last_address  # the common case: the same registrar again
        else:
            address = self._sockaddr(target)
            self._last_target, self._last_address = target, address
        if self._wildcard:
            # Remember the source address the kernel routes to this target from (see
            # local_address); a socket bound to one address always sends from it.
            source = self._source_for(target)
            if source is not None:
                self._advertised = source
        if self._coalesce and self._loop is not None:
            queued = self._queued
            if not queued:
                self._loop.call_soon(self._flush)
            queued.append((data, address, target))
            self.messages_sent += 1
            if self._trace is not None:
                self._sent_trace(data, target)
            return
        error = self._write(transport, data, address)
        if error is not None:
            kind = (DestinationUnreachable if isinstance(error, ConnectionRefusedError)
                    else TransportError)
            raise kind(f"UDP send to {target.address} failed: {error}") from error
        self._sent(data, target)

    def _sent(self, data: bytes, target: Target) -> None:
        self.messages_sent += 1
        if self._trace is not None:
            self._sent_trace(data, target)

    def _sent_trace(self, data: bytes, target: Target) -> None:
        assert self._trace is not None
        self._trace.record("sent", "UDP", self.local_address_for(target), target.address, data)

    def _flush(self) -> None:
        """Send the queued datagrams (coalesce_sends), in order; report the failures."""
        queued, self._queued = self._queued, []
        transport = self._transport
        if transport is None or transport.is_closing():
            return
        buffered = self._buffered
        # Straight to the socket while the loop's transport has nothing queued (as _write),
        # checked once for the batch: once a datagram had to be queued there, the rest follow
        # it through the transport, in order.
        direct = buffered is not None and not buffered()
        sendto = self._sock.sendto
        for data, address, target in queued:
            if direct and data:
                try:
                    sendto(data, address)
                    continue
                except (BlockingIOError, InterruptedError):
                    direct = False
                    error = self._send_through(transport, data, address)
                except OSError as exc:
                    error = exc
            else:
                error = self._send_through(transport, data, address)
            if error is not None:
                kind = (DestinationUnreachable if isinstance(error, ConnectionRefusedError)
                        else TransportError)
                try:
                    self._receiver.transport_error(
                        target, kind(f"UDP send to {target.address} failed: {error}")
                    )
                except Exception:
                    _log.exception("receiver failed on a transport error for %s", target)

    def _write(
        self, transport: asyncio.DatagramTransport, data: bytes, address: tuple[str, int]
    ) -> Exception | None:
        """Send one datagram; the error, if any.  While nothing is queued in the event loop's
        transport, straight to the socket, as the transport itself would, without its checks
        and its call of error_received."""
        buffered = self._buffered
        if data and buffered is not None and not buffered():
            try:
                self._sock.sendto(data, address)
            except (BlockingIOError, InterruptedError):
                return self._send_through(transport, data, address)  # queued until writable
            except OSError as exc:
                return exc
            return None
        return self._send_through(transport, data, address)

    def _send_through(
        self, transport: asyncio.DatagramTransport, data: bytes, address: tuple[str, int]
    ) -> Exception | None:
        """Send with the event loop's transport (it queues when the socket is full); the error
        it reports at once (to the protocol's error_received), if any."""
        self._sending, self._send_error = True, None
        try:
            transport.sendto(data, address)
        finally:
            self._sending = False
        error, self._send_error = self._send_error, None
        return error

    # -- lifecycle ----------------------------------------------------------------------------

    def close(self) -> None:
        if self._queued:
            self._flush()  # what was sent before closing goes out
        if self._transport is not None:
            self._transport.close()

    async def aclose(self) -> None:
        self.close()
        await asyncio.sleep(0)

    async def __aenter__(self) -> UdpTransport:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()

    # -- internals ----------------------------------------------------------------------------

    def _sockaddr(self, target: Target) -> tuple[str, int]:
        address = self._sockaddrs.get(target)
        if address is None:
            address = self._check_sockaddr(target)
            if len(self._sockaddrs) >= 1024:
                self._sockaddrs.clear()
            self._sockaddrs[target] = address
        return address

    def _check_sockaddr(self, target: Target) -> tuple[str, int]:
        host = unmapped(bare_host(target.host))
        if not is_ip_literal(host):
            raise TransportError(
                f"UDP target {target.address} is not an IP address: resolve it first"
            )
        if not 0 < target.port < 65536:
            raise TransportError(f"UDP target {target.address}: bad port")
        if self._family == socket.AF_INET6:
            if ":" not in host:
                if self._bound_host not in WILDCARDS:
                    raise TransportError(f"IPv6 socket cannot reach IPv4 target {target.address}")
                host = "::ffff:" + host
        elif ":" in host:
            raise TransportError(f"IPv4 socket cannot reach IPv6 target {target.address}")
        return host, target.port

    def _datagram(self, data: bytes, addr: tuple[Any, ...]) -> None:
        source = self._sources.get(addr)
        if source is None:
            source = HostPort(unmapped(str(addr[0])), int(addr[1]))
            if len(self._sources) >= 1024:
                self._sources.clear()
            self._sources[addr] = source
        if self._trace is not None:
            local = HostPort(self._source_for(source) or self._bound_host, self._bound_port)
            self._trace.record("received", "UDP", local, source, data)
        try:
            self._receiver.receive(data, source, self)
        except Exception:
            _log.exception("receiver failed on a datagram from %s", source)

    def _drain_socket(self) -> None:
        """Read and deliver the datagrams already queued on the socket (at most _DRAIN_MAX);
        after finding none, wait _DRAIN_SKIP deliveries before trying again (an empty read is
        a system call for nothing)."""
        if self._drain_wait:
            self._drain_wait -= 1
            return
        recvfrom = self._sock.recvfrom
        sources = self._sources
        for count in range(_DRAIN_MAX):
            transport = self._transport
            if transport is None or transport.is_closing():
                return
            try:
                data, addr = recvfrom(_MAX_DATAGRAM)
            except (BlockingIOError, InterruptedError):
                if count == 0:
                    self._drain_wait = _DRAIN_SKIP
                return
            except OSError as exc:
                self._error(exc)  # as the loop's own read reports it
                return
            source = sources.get(addr)
            if source is None or self._trace is not None:
                self._datagram(data, addr)
                continue
            # _datagram's common case, without its frame: a known source, no trace.
            try:
                self._receiver.receive(data, source, self)
            except Exception:
                _log.exception("receiver failed on a datagram from %s", source)

    def _error(self, exc: Exception) -> None:
        if self._sending:
            self._send_error = exc
            return
        reported = self._drain_error_queue() if self._errqueue else None
        last = self._last_target
        if reported is None and last is not None:
            # No error queue: blame the last destination (what a connected socket would do).
            self._report(last, f"UDP error from {last.address}: {exc}",
                         unreachable=isinstance(exc, ConnectionRefusedError))

    def _drain_error_queue(self) -> int | None:
        """Report every queued ICMP error; the number drained, None if the queue is unusable."""
        drained = 0
        while True:
            try:
                _, ancdata, _, addr = self._sock.recvmsg(1, 512, _MSG_ERRQUEUE)
            except (BlockingIOError, InterruptedError):
                return drained
            except OSError:
                return None if drained == 0 else drained
            drained += 1
            for _level, _type, payload in ancdata:
                if len(payload) < _SOCK_EXTENDED_ERR.size:
                    continue
                errno_, origin, icmp_type, icmp_code, _, _, _ = _SOCK_EXTENDED_ERR.unpack_from(
                    payload
                )
                if not icmp_is_failure(origin, icmp_type) or not addr:
                    continue
                target = Target("UDP", unmapped(str(addr[0])), int(addr[1]))
                self._report(
                    target,
                    f"ICMP error from {target.address}: {os.strerror(errno_)} "
                    f"(type {icmp_type}, code {icmp_code})",
                    unreachable=icmp_is_unreachable(origin, icmp_type),
                )

    def _report(self, target: Target, message: str, *, unreachable: bool) -> None:
        kind = DestinationUnreachable if unreachable else TransportError
        try:
            self._receiver.transport_error(target, kind(message, spec_id=SPEC_ICMP))
        except Exception:
            _log.exception("receiver failed on a transport error for %s", target)
