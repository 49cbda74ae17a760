"""Helpers for the conformance checks of the asyncio adapters (sipfsm.aio): bounded runs, a
recording receiver, scripted randomness, hand-written SIP messages and loopback stand-ins for a
registrar (UDP and TCP).

Everything here talks to the loopback only (127.0.0.1, and ``::1`` where the host has it).
Public so that tests and users' own harnesses can drive the adapters the same way.
"""

from __future__ import annotations

import asyncio
import re
import socket
from collections.abc import Awaitable, Callable, Coroutine, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, Generic, TypeVar, cast

from sipfsm.ports import HostPort, Target, Transport

__all__ = [
    "TIMEOUT",
    "Raised",
    "RecordingReceiver",
    "ScriptedRandom",
    "TcpRegistrar",
    "UdpResponder",
    "closed_tcp_port",
    "closed_udp_port",
    "has_ipv6",
    "ipv6_loopback_or_ipv4",
    "ok",
    "raises",
    "read_message",
    "register",
    "run",
    "udp_responder",
]

T = TypeVar("T")
E = TypeVar("E", bound=BaseException)

TIMEOUT = 5.0


def run(coro: Coroutine[Any, Any, T], timeout: float = TIMEOUT) -> T:
    """Run ``coro`` on a fresh event loop, bounded by ``timeout`` seconds."""
    return asyncio.run(asyncio.wait_for(coro, timeout))


@dataclass
class Raised(Generic[E]):
    """What :func:`raises` caught."""

    value: E | None = None


@contextmanager
def raises(kind: type[E], match: str | None = None) -> Iterator[Raised[E]]:
    """Fail (AssertionError) unless the block raises ``kind`` whose message matches ``match``
    (a regular expression, searched); the exception is then in ``.value``."""
    caught: Raised[E] = Raised()
    try:
        yield caught
    except kind as exc:
        if match is not None and not re.search(match, str(exc)):
            raise AssertionError(f"{exc!r} does not match {match!r}") from exc
        caught.value = exc
        return
    raise AssertionError(f"{kind.__name__} was not raised")


# -- SIP messages --------------------------------------------------------------------------------


def register(cseq: int = 1, body: bytes = b"") -> bytes:
    """A REGISTER with Content-Length (as a transport user would hand over)."""
    head = (
        "REGISTER sip:registrar.example.com SIP/2.0\r\n"
        "Via: SIP/2.0/UDP 192.0.2.10:5060;branch=z9hG4bK-test" + str(cseq) + "\r\n"
        "Max-Forwards: 70\r\n"
        "To: <sip:alice@example.com>\r\n"
        "From: <sip:alice@example.com>;tag=abc\r\n"
        "Call-ID: 1234@192.0.2.10\r\n"
        f"CSeq: {cseq} REGISTER\r\n"
        "Contact: <sip:alice@192.0.2.10:5060>\r\n"
        f"Content-Length: {len(body)}\r\n"
        "\r\n"
    )
    return head.encode("ascii") + body


def ok(cseq: int = 1, body: bytes = b"", *, compact: bool = False) -> bytes:
    """A 200 OK to :func:`register` (``compact``: Content-Length written as ``l``)."""
    length = "l" if compact else "Content-Length"
    head = (
        "SIP/2.0 200 OK\r\n"
        "Via: SIP/2.0/UDP 192.0.2.10:5060;branch=z9hG4bK-test" + str(cseq) + "\r\n"
        "To: <sip:alice@example.com>;tag=reg\r\n"
        "From: <sip:alice@example.com>;tag=abc\r\n"
        "Call-ID: 1234@192.0.2.10\r\n"
        f"CSeq: {cseq} REGISTER\r\n"
        f"{length}: {len(body)}\r\n"
        "\r\n"
    )
    return head.encode("ascii") + body


# -- ports ---------------------------------------------------------------------------------------


class RecordingReceiver:
    """A ``Receiver`` that queues what it gets, to be awaited."""

    def __init__(self) -> None:
        self.messages: asyncio.Queue[tuple[bytes, HostPort, Transport]] = asyncio.Queue()
        self.errors: asyncio.Queue[tuple[Target, Exception]] = asyncio.Queue()

    def receive(self, data: bytes, source: HostPort, transport: Transport) -> None:
        self.messages.put_nowait((data, source, transport))

    def transport_error(self, target: Target, error: Exception) -> None:
        self.errors.put_nowait((target, error))

    async def message(self, timeout: float = 2.0) -> tuple[bytes, HostPort, Transport]:
        return await asyncio.wait_for(self.messages.get(), timeout)

    async def error(self, timeout: float = 2.0) -> tuple[Target, Exception]:
        return await asyncio.wait_for(self.errors.get(), timeout)


class ScriptedRandom:
    """``Random`` whose ``uniform`` maps successive fractions in [0, 1] onto [low, high]
    (0.5 once the script is used up)."""

    def __init__(self, fractions: Iterable[float] = ()) -> None:
        self._fractions = list(fractions)
        self.calls: list[tuple[float, float]] = []

    def token(self, nbits: int) -> str:
        return "t" * max(1, nbits // 4)

    def uniform(self, low: float, high: float) -> float:
        self.calls.append((low, high))
        fraction = self._fractions.pop(0) if self._fractions else 0.5
        return low + (high - low) * fraction


# -- the loopback --------------------------------------------------------------------------------


def has_ipv6() -> bool:
    """True when a UDP socket can be bound to ``::1``."""
    try:
        with socket.socket(socket.AF_INET6, socket.SOCK_DGRAM) as sock:
            sock.bind(("::1", 0))
    except OSError:
        return False
    return True


def ipv6_loopback_or_ipv4() -> str:
    """``::1`` where the host has an IPv6 loopback, else ``127.0.0.1``."""
    return "::1" if has_ipv6() else "127.0.0.1"


def closed_udp_port(host: str = "127.0.0.1") -> int:
    """A UDP port on ``host`` that nothing listens on (bound, then released)."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_DGRAM) as sock:
        sock.bind((host, 0))
        return int(sock.getsockname()[1])


def closed_tcp_port(host: str = "127.0.0.1") -> int:
    """A TCP port on ``host`` that nothing listens on (bound, then released)."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        return int(sock.getsockname()[1])


class UdpResponder(asyncio.DatagramProtocol):
    """A registrar stand-in: answers every datagram with :func:`ok` to its source."""

    def __init__(self) -> None:
        self.sources: list[tuple[Any, ...]] = []
        self.transport: asyncio.DatagramTransport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = cast(asyncio.DatagramTransport, transport)

    def datagram_received(self, data: bytes, addr: tuple[Any, ...]) -> None:
        self.sources.append(addr)
        assert self.transport is not None
        self.transport.sendto(ok(), addr)


async def udp_responder(
    host: str = "127.0.0.1",
) -> tuple[asyncio.DatagramTransport, UdpResponder, int]:
    """A :class:`UdpResponder` on ``host``: (its transport, the protocol, its port)."""
    loop = asyncio.get_running_loop()
    transport, protocol = await loop.create_datagram_endpoint(UdpResponder, local_addr=(host, 0))
    return transport, protocol, int(transport.get_extra_info("sockname")[1])


async def read_message(reader: asyncio.StreamReader) -> bytes:
    """One SIP message from a stream (framed by Content-Length; 0 when absent)."""
    head = await reader.readuntil(b"\r\n\r\n")
    length = 0
    for line in head.split(b"\r\n"):
        if line.lower().startswith(b"content-length:"):
            length = int(line.split(b":", 1)[1])
    return head + await reader.readexactly(length)


Handler = Callable[[asyncio.StreamReader, asyncio.StreamWriter], Awaitable[None]]


class TcpRegistrar:
    """A TCP server stand-in on 127.0.0.1; ``handler`` runs per connection (by default: answer
    each request with :func:`ok`, numbered by the count of requests so far)."""

    def __init__(self) -> None:
        self.connections = 0
        self.requests: list[bytes] = []
        self.server: asyncio.Server | None = None

    async def start(self, handler: Handler | None = None) -> int:
        async def default(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            try:
                while True:
                    request = await read_message(reader)
                    self.requests.append(request)
                    writer.write(ok(len(self.requests)))
                    await writer.drain()
            except (asyncio.IncompleteReadError, ConnectionError):
                writer.close()

        async def counted(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            self.connections += 1
            await (handler or default)(reader, writer)

        self.server = await asyncio.start_server(counted, "127.0.0.1", 0)
        return int(self.server.sockets[0].getsockname()[1])

    async def stop(self) -> None:
        assert self.server is not None
        self.server.close()
