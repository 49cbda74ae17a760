"""The registrar's stream limits (idle and incomplete-message timeouts, header size, connections
per source), drop scenarios on TCP, and log hygiene -- on real sockets, every wait bounded."""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine
from typing import Any, TypeVar

import pytest

from sipfsm.errors import ConfigError
from sipfsm.message import Headers, Request, parse_uri
from sipfsm.ports import HostPort
from sipfsm.registrar import LogEvent, RegistrarConfig
from sipfsm.registrar.endpoint import printable
from sipfsm.registrar.guard import TcpLimits
from sipfsm.registrar.server import RegistrarServer

from .support import register

T = TypeVar("T")
TIMEOUT = 5.0


def run(coro: Coroutine[Any, Any, T]) -> T:
    return asyncio.run(asyncio.wait_for(coro, TIMEOUT * 3))


async def closed_within(reader: asyncio.StreamReader, seconds: float) -> bool:
    try:
        data = await asyncio.wait_for(reader.read(65536), seconds)
    except (TimeoutError, ConnectionError):
        return False
    while data:  # answers may come first; the connection must then end
        try:
            data = await asyncio.wait_for(reader.read(65536), seconds)
        except TimeoutError:
            return False
    return True


@pytest.mark.requirement("RFC3261-10.3-RESOURCE-LIMITS-EMBEDDED")
def test_idle_and_half_sent_connections_are_closed() -> None:
    limits = TcpLimits(idle_timeout=0.6, message_timeout=0.4)

    async def scenario() -> None:
        async with await RegistrarServer.start(
            RegistrarConfig(), udp_port=None, tcp_port=0, tcp_limits=limits
        ) as server:
            address = server.tcp_address
            assert address is not None
            idle_r, idle_w = await asyncio.open_connection(address.host, address.port)
            half_r, half_w = await asyncio.open_connection(address.host, address.port)
            half_w.write(b"REGISTER sip:example.com SIP/2.0\r\nVia: SIP/2.0/TCP h;branch=z9hG4bKx")
            await half_w.drain()
            assert await closed_within(half_r, 3.0)  # incomplete for > 0.4 s
            assert await closed_within(idle_r, 3.0)  # silent for > 0.6 s
            for writer in (idle_w, half_w):
                writer.close()
            # a working client is unaffected
            reader, writer = await asyncio.open_connection(address.host, address.port)
            writer.write(register(via="SIP/2.0/TCP 127.0.0.1:5999;branch=z9hG4bK-ok").to_bytes())
            await writer.drain()
            data = await asyncio.wait_for(reader.read(65536), TIMEOUT)
            assert data.startswith(b"SIP/2.0 200 OK")
            writer.close()

    run(scenario())


@pytest.mark.requirement("RFC3261-10.3-RESOURCE-LIMITS-EMBEDDED")
def test_a_header_section_over_the_limit_closes_the_connection() -> None:
    limits = TcpLimits(max_header_size=2048)

    async def scenario() -> None:
        async with await RegistrarServer.start(
            RegistrarConfig(), udp_port=None, tcp_port=0, tcp_limits=limits
        ) as server:
            address = server.tcp_address
            assert address is not None
            reader, writer = await asyncio.open_connection(address.host, address.port)
            writer.write(b"REGISTER sip:example.com SIP/2.0\r\nX-Pad: " + b"a" * 3000)
            await writer.drain()
            assert await closed_within(reader, 3.0)
            writer.close()

    run(scenario())


@pytest.mark.requirement("RFC3261-10.3-RESOURCE-LIMITS-EMBEDDED")
def test_connections_per_source_are_limited() -> None:
    limits = TcpLimits(max_connections_per_source=3)

    async def scenario() -> None:
        async with await RegistrarServer.start(
            RegistrarConfig(), udp_port=None, tcp_port=0, tcp_limits=limits
        ) as server:
            address = server.tcp_address
            assert address is not None
            pairs = [await asyncio.open_connection(address.host, address.port) for _ in range(5)]
            closed = [await closed_within(r, 0.5) for r, _ in pairs]
            assert closed == [False, False, False, True, True]
            for _, writer in pairs:
                writer.close()
            await asyncio.sleep(0.2)  # released: a new one is accepted
            reader, writer = await asyncio.open_connection(address.host, address.port)
            assert not await closed_within(reader, 0.3)
            writer.close()

    run(scenario())


def test_tcp_limits_are_validated() -> None:
    with pytest.raises(ConfigError):
        TcpLimits(idle_timeout=-1)
    with pytest.raises(ConfigError):
        TcpLimits(max_header_size=10)


def test_drop_every_on_tcp_drops_the_connection_so_a_client_can_recover() -> None:
    async def scenario() -> None:
        async with await RegistrarServer.start(
            RegistrarConfig(scenario="drop-every:2"), udp_port=None, tcp_port=0
        ) as server:
            address = server.tcp_address
            assert address is not None
            reader, writer = await asyncio.open_connection(address.host, address.port)
            writer.write(register(via="SIP/2.0/TCP 127.0.0.1:5999;branch=z9hG4bK-d1").to_bytes())
            await writer.drain()
            assert (await asyncio.wait_for(reader.read(65536), TIMEOUT)).startswith(b"SIP/2.0 200")
            writer.write(register(via="SIP/2.0/TCP 127.0.0.1:5999;branch=z9hG4bK-d2",
                                  cseq=2).to_bytes())  # fmt: skip
            await writer.drain()
            assert await closed_within(reader, 3.0)  # the 2nd request: the connection goes
            writer.close()
            # the client reconnects and retransmits: answered
            reader, writer = await asyncio.open_connection(address.host, address.port)
            writer.write(register(via="SIP/2.0/TCP 127.0.0.1:5999;branch=z9hG4bK-d2",
                                  cseq=2).to_bytes())  # fmt: skip
            await writer.drain()
            assert (await asyncio.wait_for(reader.read(65536), TIMEOUT)).startswith(b"SIP/2.0 200")
            writer.close()

    run(scenario())


def test_control_characters_from_the_wire_are_escaped_in_the_log() -> None:
    to = '"\x1b[2J\x1b[31mEvil\x08\x07\x9b" <sip:alice@example.com>'
    request = register()
    request = Request(request.method, parse_uri("sip:example.com"),
                      Headers([(n, to if n == "To" else v) for n, v in request.headers.items]))
    line = str(LogEvent("in", "UDP", HostPort("192.0.2.1", 5060), request))
    assert not any(ord(c) < 0x20 or 0x7F <= ord(c) < 0xA0 for c in line)
    assert "\\x1b[2J" in line and "\\x08\\x07\\x9b" in line
    assert printable("plain text") == "plain text"
    assert printable("a\\b\x9b") == "a\\\\b\\x9b"
