"""The embedded registrar on real sockets: UDP and TCP servers around one :class:`Registrar`.

Both listen on ``host`` (port 0 picks a free port; :attr:`RegistrarServer.udp_address` and
:attr:`RegistrarServer.tcp_address` report what was bound).  The sockets are sipfsm's own asyncio
transports (:mod:`sipfsm.aio`): TCP streams are framed by Content-Length, each framed message and
each datagram goes to a :class:`~sipfsm.registrar.endpoint.RegistrarEndpoint`, and responses go
back to the source address -- over TCP on the connection the request came in on.  A message that
does not parse gets a 400 when possible and is dropped otherwise; a stream that cannot be framed
is closed.  Nothing a peer sends stops the server.

>>> async def main():
...     async with await RegistrarServer.start(RegistrarConfig(), udp_port=0, tcp_port=0) as srv:
...         print(srv.udp_address, srv.tcp_address)
...         await srv.serve_forever()
"""

from __future__ import annotations

import asyncio
import ssl
from types import TracebackType

from sipfsm.aio import SecretsRandom, SystemClock, TcpTransport, UdpTransport
from sipfsm.aio.keepalive import StunDemultiplexer
from sipfsm.aio.tls import TlsTransport
from sipfsm.aio.trace import TraceSink
from sipfsm.errors import ConfigError
from sipfsm.ports import HostPort
from sipfsm.registrar.core import Registrar, RegistrarConfig
from sipfsm.registrar.endpoint import RegistrarEndpoint, RegistrarLog
from sipfsm.registrar.guard import GuardedTcpTransport, GuardedTlsTransport, TcpLimits, attach

__all__ = ["RegistrarServer"]


class RegistrarServer:
    """A registrar listening on UDP and/or TCP.  Create with ``await RegistrarServer.start()``."""

    def __init__(self, registrar: Registrar, *, log: RegistrarLog | None = None) -> None:
        self.registrar = registrar
        self.endpoint = RegistrarEndpoint(registrar, log=log)
        self._udp: UdpTransport | None = None
        self._tcp: TcpTransport | None = None
        self._tls: TlsTransport | None = None
        self._closed = asyncio.Event()

    @classmethod
    async def start(
        cls,
        config: RegistrarConfig | Registrar | None = None,
        *,
        host: str = "127.0.0.1",
        udp_port: int | None = 5060,
        tcp_port: int | None = 5060,
        log: RegistrarLog | None = None,
        trace: TraceSink | None = None,
        tls_port: int | None = None,
        tls_context: ssl.SSLContext | None = None,
        tcp_limits: TcpLimits | None = None,
    ) -> RegistrarServer:
        """Bind and start serving.  ``udp_port`` / ``tcp_port``: a port, 0 for a free one, or
        None for no server of that kind.  A :class:`Registrar` may be given instead of a
        config (its clock and randomness are then its own).  ``trace``: where every message
        received and sent is recorded (:class:`~sipfsm.aio.trace.TraceWriter` writes the
        README's JSON-lines format, ``local`` being the registrar).  ``tcp_limits``: what one
        peer may hold on the TCP and TLS listeners (:class:`~sipfsm.registrar.guard.TcpLimits`,
        its defaults when None).  Raises
        :class:`~sipfsm.errors.TransportError` when a port cannot be bound."""
        if udp_port is None and tcp_port is None and tls_port is None:
            raise ConfigError("a registrar needs a UDP or a TCP port (or both)")
        if tls_port is not None and tls_context is None:
            raise ConfigError("a TLS port needs a server certificate (tls_context)")
        for port in (udp_port, tcp_port, tls_port):
            if port is not None and not 0 <= port <= 65535:
                raise ConfigError(f"port {port} out of range 0-65535")
        if isinstance(config, Registrar):
            registrar = config
        else:
            registrar = Registrar(config or RegistrarConfig(), SystemClock(), SecretsRandom())
        self = cls(registrar, log=log)
        try:
            if udp_port is not None:
                # RFC 5626 §4.4.2 / §8: STUN keep-alives share the SIP socket.
                stun = StunDemultiplexer(self.endpoint, answer_binding_requests=True)
                self._udp = await UdpTransport.open(
                    stun, local_host=host, local_port=udp_port, trace=trace
                )
            limits = tcp_limits or TcpLimits()
            if tcp_port is not None:
                # RFC 5626 §4.4.1: CRLF pings get a CRLF pong.
                tcp = await GuardedTcpTransport.open_keepalive(
                    self.endpoint, answer_pings=True, local_host=host, local_port=tcp_port,
                    listen=True, trace=trace,
                )
                assert isinstance(tcp, GuardedTcpTransport)
                attach(tcp, limits)
                self._tcp = tcp
            if tls_port is not None:
                tls = await GuardedTlsTransport.open(
                    self.endpoint, server_ssl=tls_context, local_host=host, local_port=tls_port,
                    listen=True, answer_pings=True, trace=trace,
                )
                assert isinstance(tls, GuardedTlsTransport)
                attach(tls, limits)
                self._tls = tls
        except BaseException:
            await self.aclose()
            raise
        return self

    @property
    def udp_address(self) -> HostPort | None:
        """The bound UDP address (None without a UDP server)."""
        return None if self._udp is None else self._udp.bound_address

    @property
    def tcp_address(self) -> HostPort | None:
        """The TCP listening address (None without a TCP server)."""
        return None if self._tcp is None else self._tcp.listen_address

    @property
    def tls_address(self) -> HostPort | None:
        """The TLS listening address (None without a TLS server)."""
        return None if self._tls is None else self._tls.listen_address

    async def serve_forever(self) -> None:
        """Wait until :meth:`aclose` is called (or the task is cancelled)."""
        await self._closed.wait()

    async def aclose(self) -> None:
        self._closed.set()
        udp, tcp = self._udp, self._tcp
        self._udp = self._tcp = None
        if udp is not None:
            await udp.aclose()
        if tcp is not None:
            await tcp.aclose()
        tls, self._tls = self._tls, None
        if tls is not None:
            await tls.aclose()

    async def __aenter__(self) -> RegistrarServer:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()
