"""``TcpTransport``: a pool of client connections, one per target, plus (by default) a listening
socket at the advertised address (RFC 3261 §18.1.1)."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from types import TracebackType
from typing import Any, Protocol, cast

from sipfsm.aio._net import WILDCARDS, bare_host, route_source, unmapped
from sipfsm.aio.framing import FramingError, RawStreamFramer
from sipfsm.aio.trace import TraceSink
from sipfsm.errors import DestinationUnreachable, TransportError
from sipfsm.ports import HostPort, Receiver, Target

__all__ = ["ByteFramer", "TcpTransport"]

_log = logging.getLogger("sipfsm.aio")

SPEC_CONNECTION_FAILURE = "RFC3261-18.4-CONNECTION-FAILURE-AIO"
_DEFAULT_PORT = 5060


class ByteFramer(Protocol):
    """Splits a byte stream into raw messages (:class:`~sipfsm.aio.RawStreamFramer`)."""

    def feed(self, data: bytes) -> list[bytes]: ...


def _key(host: str, port: int) -> tuple[str, int]:
    return unmapped(bare_host(host)).lower(), port


class _Connection(asyncio.Protocol):
    """One TCP connection of the pool; queues what is sent before it is up."""

    def __init__(self, owner: TcpTransport, target: Target | None) -> None:
        self.owner = owner
        self.target = target
        self.framer = owner._framer_factory()
        self.transport: asyncio.Transport | None = None
        self.local: HostPort | None = None
        self.peer: HostPort | None = None
        self.pending: list[bytes] = []
        self.queued: list[bytes] = []  # coalesce_sends: written together at the next turn
        self.closed = False
        self.ready: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self.connector: asyncio.Task[None] | None = None

    @property
    def usable(self) -> bool:
        return not self.closed and not (self.transport is not None and self.transport.is_closing())

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport = cast(asyncio.Transport, transport)
        sockname = transport.get_extra_info("sockname")
        peername = transport.get_extra_info("peername")
        self.local = HostPort(unmapped(str(sockname[0])), int(sockname[1]))
        self.peer = HostPort(unmapped(str(peername[0])), int(peername[1]))
        if self.target is None:
            self.target = Target(self.owner.name, self.peer.host, self.peer.port)
            self.owner._adopt(self)
        if not self.ready.done():
            self.ready.set_result(None)
        pending, self.pending = self.pending, []
        for data in pending:
            self.write(data)

    def write(self, data: bytes) -> None:
        if self.transport is None:
            self.pending.append(data)
            return
        if self.owner._coalesce:
            queued = self.queued
            if not queued:
                self.ready.get_loop().call_soon(self.flush)
            queued.append(data)
        else:
            self.transport.write(data)
        if self.owner._trace is not None and self.local and self.peer:
            self.owner._trace.record(
                "sent", self.owner.name, self.owner._advertise(self), self.peer, data
            )

    def flush(self) -> None:
        """Write what was queued (coalesce_sends) in one piece: one system call for a turn's
        messages.  Nothing once the connection failed (as for ``pending``: the failure is
        reported to the receiver)."""
        queued, self.queued = self.queued, []
        if not queued or self.closed or self.transport is None:
            return
        self.transport.write(queued[0] if len(queued) == 1 else b"".join(queued))

    def data_received(self, data: bytes) -> None:
        try:
            frames = self.framer.feed(data)
        except FramingError as exc:
            self.fail(f"unframeable stream from {self.peer}: {exc}", exc)
            return
        for frame in frames:
            self.owner._deliver(self, frame)

    def connection_lost(self, exc: Exception | None) -> None:
        already_closed, self.closed = self.closed, True
        self.owner._forget(self)
        if exc is not None and not already_closed:
            self.owner._report(
                self, f"{self.owner.name} connection to {self.peer} lost: {exc}", exc
            )

    def fail(self, message: str, cause: BaseException | None) -> None:
        """Drop the connection and tell the receiver (RFC 3261 §18.4)."""
        if self.closed:
            return
        self.closed = True
        self.pending.clear()
        self.owner._forget(self)
        if not self.ready.done():
            kind = (DestinationUnreachable if isinstance(cause, ConnectionRefusedError)
                    else TransportError)
            self.ready.set_exception(kind(message, spec_id=SPEC_CONNECTION_FAILURE))
            self.ready.exception()  # retrieved: nobody need await it
        if self.transport is not None:
            self.transport.abort()
        self.owner._report(self, message, cause)


class TcpTransport:
    """The ``Transport`` port over TCP.  Create with ``await TcpTransport.open(receiver)``.

    The first send to a target opens a connection (sends made before it is up are queued, in
    order); a closed connection is forgotten and the next send reconnects.  A failed connect, a
    reset or an unframeable stream reaches ``receiver.transport_error(target, TransportError)``.
    Incoming bytes are framed by Content-Length and delivered, raw, to ``receiver.receive`` with
    the peer's address.

    With ``listen=True`` (the default) the transport also accepts connections at
    ``local_host:local_port`` and advertises that port, so a server that has to open a new
    connection for a response can reach it (RFC 3261 §18.1.1)."""

    # Subclasses (TLS, keep-alives) bring their own connection class.
    _connection_class: type[_Connection] = _Connection

    def __init__(
        self,
        receiver: Receiver,
        *,
        local_host: str = "0.0.0.0",
        connect_timeout: float = 10.0,
        max_message_size: int = 65535,
        framer_factory: Callable[[], ByteFramer] | None = None,
        trace: TraceSink | None = None,
    ) -> None:
        self._receiver = receiver
        self._local_host = bare_host(local_host)
        self._connect_timeout = connect_timeout
        self._framer_factory: Callable[[], ByteFramer] = framer_factory or (
            lambda: RawStreamFramer(max_message_size)
        )
        self._trace = trace
        self._connections: dict[tuple[str, int], _Connection] = {}
        self._server: asyncio.Server | None = None
        self._listen_port: int | None = None
        self._last: tuple[str, int] | None = None
        self._advertised: str | None = None
        self._closed = False
        self._coalesce = False
        self.messages_sent = 0  # messages accepted by send (written once connected)

    @classmethod
    async def open(
        cls,
        receiver: Receiver,
        *,
        local_host: str = "0.0.0.0",
        local_port: int = 0,
        listen: bool = True,
        connect_timeout: float = 10.0,
        max_message_size: int = 65535,
        framer_factory: Callable[[], ByteFramer] | None = None,
        trace: TraceSink | None = None,
        coalesce_sends: bool = False,
    ) -> TcpTransport:
        """``coalesce_sends``: the messages sent to one connection during a turn of the event
        loop are written together at the next turn, in order, with one system call (a load
        generator: the peer is woken once for them).  A connection that fails before then
        drops them, as it drops what waits for the connection to be made; the failure reaches
        ``receiver.transport_error``."""
        self = cls(
            receiver,
            local_host=local_host,
            connect_timeout=connect_timeout,
            max_message_size=max_message_size,
            framer_factory=framer_factory,
            trace=trace,
        )
        self._coalesce = coalesce_sends
        if listen:
            await self._start_listening(local_port)
        return self

    # -- the Transport port -------------------------------------------------------------------

    @property
    def name(self) -> str:
        return "TCP"

    @property
    def reliable(self) -> bool:
        return True

    @property
    def listen_address(self) -> HostPort | None:
        """Where incoming connections are accepted (None when not listening)."""
        if self._listen_port is None:
            return None
        return HostPort(self._local_host or "0.0.0.0", self._listen_port)

    def local_address(self) -> HostPort:
        """The address to advertise for the last target (see :meth:`local_address_for`)."""
        if self._last is not None:
            connection = self._connections.get(self._last)
            if connection is not None and connection.local is not None:
                return self._advertise(connection)
        host = self._advertised or self._local_host or "0.0.0.0"
        return HostPort(host, self._listen_port or _DEFAULT_PORT)

    def local_address_for(self, target: Target | HostPort) -> HostPort:
        """The address to advertise to ``target``: the connection's local IP with the listening
        port (or, not listening, the connection's own port); before a connection exists, the
        source IP routed to the target with the listening port (or 5060).  Remembered as what
        :meth:`local_address` returns."""
        key = _key(target.host, target.port)
        self._last = key
        connection = self._connections.get(key)
        if connection is not None and connection.local is not None:
            return self._advertise(connection)
        host = self._local_host
        if host in WILDCARDS:
            host = route_source(HostPort(key[0], key[1])) or host or "0.0.0.0"
            self._advertised = host
        return HostPort(host, self._listen_port or _DEFAULT_PORT)

    def send(self, data: bytes, target: Target) -> None:
        if self._closed:
            raise TransportError("TCP transport is closed")
        if not 0 < target.port < 65536:
            raise TransportError(f"TCP target {target.address}: bad port")
        key = _key(target.host, target.port)
        self._last = key
        connection = self._connections.get(key)
        if connection is None or not connection.usable:
            connection = self._connect(key, target)
        connection.write(data)
        self.messages_sent += 1

    async def connect(self, target: Target) -> HostPort:
        """Open (or reuse) the connection to ``target`` now; return the address to advertise.
        Raises :class:`TransportError` when the connection cannot be made."""
        if self._closed:
            raise TransportError("TCP transport is closed")
        key = _key(target.host, target.port)
        connection = self._connections.get(key)
        if connection is None or not connection.usable:
            connection = self._connect(key, target)
        await asyncio.shield(connection.ready)
        return self.local_address_for(target)

    # -- lifecycle ----------------------------------------------------------------------------

    def close(self) -> None:
        self._closed = True
        if self._server is not None:
            self._server.close()
        for connection in list(self._connections.values()):
            connection.flush()  # what was sent before closing goes out first
            connection.closed = True
            if not connection.ready.done():
                connection.ready.set_exception(TransportError("TCP transport is closed"))
                connection.ready.exception()
            if connection.connector is not None:
                connection.connector.cancel()
            if connection.transport is not None:
                connection.transport.close()
        self._connections.clear()

    async def aclose(self) -> None:
        self.close()
        if self._server is not None:
            await self._server.wait_closed()
        await asyncio.sleep(0)

    async def __aenter__(self) -> TcpTransport:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()

    # -- internals ----------------------------------------------------------------------------

    async def _start_listening(self, port: int) -> None:
        loop = asyncio.get_running_loop()
        # "::" listens on IPv6 only (asyncio sets IPV6_V6ONLY on listening sockets).
        host = self._local_host or "0.0.0.0"
        try:
            self._server = await loop.create_server(
                lambda: self._connection_class(self, None), host, port, reuse_address=True
            )
        except OSError as exc:
            raise TransportError(f"cannot listen on TCP {self._local_host}:{port}: {exc}") from exc
        self._listen_port = int(self._server.sockets[0].getsockname()[1])

    def _connect(self, key: tuple[str, int], target: Target) -> _Connection:
        connection = self._connection_class(self, target)
        self._connections[key] = connection
        connection.connector = asyncio.get_running_loop().create_task(
            self._open_connection(connection, key)
        )
        return connection

    async def _open_connection(self, connection: _Connection, key: tuple[str, int]) -> None:
        loop = asyncio.get_running_loop()
        local_addr: Any = None
        if self._local_host not in WILDCARDS:
            local_addr = (self._local_host, 0)
        try:
            async with asyncio.timeout(self._connect_timeout):
                await loop.create_connection(
                    lambda: connection, key[0], key[1], local_addr=local_addr
                )
        except TimeoutError as exc:
            connection.fail(f"TCP connect to {connection.target} timed out", exc)
        except OSError as exc:
            connection.fail(f"TCP connect to {connection.target} failed: {exc}", exc)

    def _adopt(self, connection: _Connection) -> None:
        """An accepted connection joins the pool under its peer's address (so that a send to that
        address reuses it), unless a connection to that address exists already."""
        assert connection.peer is not None
        self._connections.setdefault(_key(connection.peer.host, connection.peer.port), connection)

    def _forget(self, connection: _Connection) -> None:
        for key, known in list(self._connections.items()):
            if known is connection:
                del self._connections[key]

    def _advertise(self, connection: _Connection) -> HostPort:
        assert connection.local is not None
        if self._listen_port is not None:
            return HostPort(connection.local.host, self._listen_port)
        return connection.local

    def _deliver(self, connection: _Connection, frame: bytes) -> None:
        peer = connection.peer
        assert peer is not None
        if self._trace is not None:
            self._trace.record("received", self.name, self._advertise(connection), peer, frame)
        try:
            self._receiver.receive(frame, peer, self)
        except Exception:
            _log.exception("receiver failed on a message from %s", peer)

    def _report(self, connection: _Connection, message: str, cause: BaseException | None) -> None:
        if self._closed or connection.target is None:
            return
        # Connection refused: the destination said no at once (RFC 3263 §4.3: next target).
        kind = (DestinationUnreachable if isinstance(cause, ConnectionRefusedError)
                else TransportError)
        error = kind(message, spec_id=SPEC_CONNECTION_FAILURE)
        error.__cause__ = cause
        try:
            self._receiver.transport_error(connection.target, error)
        except Exception:
            _log.exception("receiver failed on a transport error for %s", connection.target)
