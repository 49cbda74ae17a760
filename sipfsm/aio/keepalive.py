"""RFC 5626 §4.4 keep-alives on the asyncio transports.

* :class:`KeepAliveTcpTransport` -- a :class:`~sipfsm.aio.TcpTransport` whose connections
  notice keep-alive CRLFs: a client sends the double-CRLF "ping" (:meth:`send_ping`) and learns
  of the single-CRLF "pong" (``on_pong``); a server (``answer_pings=True``) answers each ping
  with a pong (§4.4.1).  ``on_flow_closed`` reports a connection that went away, whatever the
  cause (the flow has failed, §4.4).
* :class:`StunDemultiplexer` -- a ``Receiver`` in front of another that takes STUN messages
  (RFC 5389 §6: first two bits zero, the magic cookie) off a UDP socket shared with SIP
  (§4.4.2, RFC 5626 §8.2 "demultiplexing") and hands them to a callback; as a server
  (``answer_binding_requests=True``) it answers Binding requests with the source address.

The framing itself stays :class:`~sipfsm.aio.RawStreamFramer`'s, which drops CRLFs between
messages (RFC 3261 §7.5); the wrapper here only counts the bytes it dropped.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from sipfsm.aio.tcp import ByteFramer, TcpTransport, _Connection, _key
from sipfsm.errors import ParseError
from sipfsm.outbound.stun import (
    StunMessage,
    binding_success,
    decode_stun,
    looks_like_stun,
)
from sipfsm.ports import HostPort, Receiver, Target, Transport

__all__ = [
    "CRLF_PING",
    "CRLF_PONG",
    "KeepAliveFramer",
    "KeepAliveTcpTransport",
    "StunDemultiplexer",
]

_log = logging.getLogger("sipfsm.aio")

# RFC 5626 §3.5.1 / §4.4.1: the ping is a double CRLF, the pong a single CRLF.
CRLF_PING = b"\r\n\r\n"
CRLF_PONG = b"\r\n"


class KeepAliveFramer:
    """Wraps a byte framer; reports how many keep-alive bytes (CRLFs outside any message) each
    feed dropped, through ``on_crlf(count)``."""

    def __init__(self, inner: ByteFramer, on_crlf: Callable[[int], None]) -> None:
        self.inner = inner
        self.on_crlf = on_crlf

    @property
    def buffered(self) -> int:
        return int(getattr(self.inner, "buffered", 0))

    def feed(self, data: bytes) -> list[bytes]:
        before = self.buffered
        frames = self.inner.feed(data)
        dropped = len(data) + before - self.buffered - sum(len(f) for f in frames)
        if dropped > 0:
            self.on_crlf(dropped)
        return frames


class _KeepAliveConnection(_Connection):
    def __init__(self, owner: TcpTransport, target: Target | None) -> None:
        super().__init__(owner, target)
        self.outgoing = target is not None
        self.crlf_run = 0
        self.framer = KeepAliveFramer(self.framer, self._crlf)

    def data_received(self, data: bytes) -> None:
        if data and data.strip(b"\r\n"):
            self.crlf_run = 0
        super().data_received(data)

    def _crlf(self, count: int) -> None:
        owner = self.owner
        assert isinstance(owner, KeepAliveTcpTransport)
        self.crlf_run += count
        if owner.answer_pings and not self.outgoing:
            # §4.4.1: each double CRLF received is answered with one CRLF.
            while self.crlf_run >= len(CRLF_PING):
                self.crlf_run -= len(CRLF_PING)
                if self.transport is not None and not self.transport.is_closing():
                    self.transport.write(CRLF_PONG)
                    owner.pongs_sent += 1
            return
        self.crlf_run = 0
        if self.target is not None:
            owner._pong_received(self.target)


class KeepAliveTcpTransport(TcpTransport):
    """A TcpTransport with RFC 5626 §4.4.1 CRLF keep-alives (see the module docstring).

    ``on_pong(target)``: a pong arrived on the connection to ``target``.
    ``on_flow_closed(target)``: the connection to ``target`` is gone."""

    _connection_class = _KeepAliveConnection

    def __init__(self, receiver: Receiver, **options: Any) -> None:
        self.answer_pings: bool = bool(options.pop("answer_pings", False))
        self.on_pong: Callable[[Target], None] | None = options.pop("on_pong", None)
        self.on_flow_closed: Callable[[Target], None] | None = options.pop(
            "on_flow_closed", None)
        self.pongs_sent = 0
        super().__init__(receiver, **options)

    @classmethod
    async def open_keepalive(
        cls,
        receiver: Receiver,
        *,
        answer_pings: bool = False,
        on_pong: Callable[[Target], None] | None = None,
        on_flow_closed: Callable[[Target], None] | None = None,
        local_port: int = 0,
        listen: bool = True,
        **options: Any,
    ) -> KeepAliveTcpTransport:
        self = cls(receiver, answer_pings=answer_pings, on_pong=on_pong,
                   on_flow_closed=on_flow_closed, **options)
        if listen:
            await self._start_listening(local_port)
        return self

    def connected(self, target: Target | HostPort) -> bool:
        """Whether a usable connection to ``target`` exists (a flow is up)."""
        connection = self._connections.get(_key(target.host, target.port))
        return connection is not None and connection.usable and connection.transport is not None

    def send_ping(self, target: Target | HostPort) -> bool:
        """Send the §4.4.1 ping on the existing connection to ``target``; False when there is
        none (a ping never opens a connection: a new connection is a new flow)."""
        connection = self._connections.get(_key(target.host, target.port))
        if connection is None or not connection.usable or connection.transport is None:
            return False
        connection.transport.write(CRLF_PING)
        return True

    def drop(self, target: Target | HostPort) -> bool:
        """Abort the connection to ``target`` (tests: a flow that dies)."""
        connection = self._connections.get(_key(target.host, target.port))
        if connection is None or connection.transport is None:
            return False
        connection.transport.abort()
        return True

    def abandon(self, target: Target | HostPort) -> bool:
        """Cut the established connection to ``target`` without reporting the flow closed: the
        flow it carried has failed already and is being replaced, and RFC 5626 §4.5 replaces a
        failed flow by a NEW flow -- over TCP or TLS a new connection (the next send opens
        it), never the connection whose keep-alive went unanswered.  False when there is none."""
        connection = self._connections.get(_key(target.host, target.port))
        if connection is None or connection.transport is None:
            return False
        TcpTransport._forget(self, connection)  # out of the pool first: not a flow closing
        connection.closed = True
        connection.pending.clear()
        connection.transport.abort()
        return True

    def _pong_received(self, target: Target) -> None:
        if self.on_pong is not None:
            try:
                self.on_pong(target)
            except Exception:
                _log.exception("on_pong failed for %s", target)

    def _forget(self, connection: _Connection) -> None:
        pooled = any(known is connection for known in self._connections.values())
        super()._forget(connection)
        target = connection.target
        # Once per connection (a failed connection is forgotten again when it is lost).
        if (pooled and self.on_flow_closed is not None and target is not None
                and not self._closed):
            try:
                self.on_flow_closed(target)
            except Exception:
                _log.exception("on_flow_closed failed for %s", target)


class StunDemultiplexer:
    """A ``Receiver`` that takes STUN off a socket shared with SIP (see the module docstring).

    ``on_stun(message, source, transport)`` gets every STUN message that decodes;
    ``answer_binding_requests``: reply to each Binding request with a success response carrying
    the source address in XOR-MAPPED-ADDRESS (what a STUN server, here the edge proxy, does)."""

    def __init__(
        self,
        inner: Receiver,
        *,
        on_stun: Callable[[StunMessage, HostPort, Transport], None] | None = None,
        answer_binding_requests: bool = False,
    ) -> None:
        self.inner = inner
        self.on_stun = on_stun
        self.answer_binding_requests = answer_binding_requests
        self.binding_requests_answered = 0

    def receive(self, data: bytes, source: HostPort, transport: Transport) -> None:
        if not looks_like_stun(data):
            self.inner.receive(data, source, transport)
            return
        try:
            message = decode_stun(data)
        except ParseError as exc:
            _log.debug("undecodable STUN from %s: %s", source, exc)
            return
        if self.answer_binding_requests and message.is_binding_request:
            reply = binding_success(message.transaction_id, source.host, source.port)
            try:
                transport.send(reply, Target(transport.name, source.host, source.port))
                self.binding_requests_answered += 1
            except Exception as exc:
                _log.debug("STUN answer to %s failed: %s", source, exc)
            return
        if self.on_stun is not None:
            try:
                self.on_stun(message, source, transport)
            except Exception:
                _log.exception("on_stun failed for a message from %s", source)

    def transport_error(self, target: Target, error: Exception) -> None:
        self.inner.transport_error(target, error)
