"""UdpTransport over the loopback (RFC 3261 §18.1.1, §18.4)."""

from __future__ import annotations

import asyncio
import socket
import sys
from typing import Any, cast

import pytest

from sipfsm import ports
from sipfsm.aio import UdpTransport
from sipfsm.aio.udp import icmp_is_failure
from sipfsm.errors import TransportError
from sipfsm.ports import HostPort, Target

from .support import RecordingReceiver, ok, register, run


class Responder(asyncio.DatagramProtocol):
    """A registrar stand-in: answers every datagram with a 200 OK to its source."""

    def __init__(self) -> None:
        self.sources: list[tuple[Any, ...]] = []
        self.transport: asyncio.DatagramTransport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = cast(asyncio.DatagramTransport, transport)

    def datagram_received(self, data: bytes, addr: tuple[Any, ...]) -> None:
        self.sources.append(addr)
        assert self.transport is not None
        self.transport.sendto(ok(), addr)


async def responder(host: str = "127.0.0.1") -> tuple[asyncio.DatagramTransport, Responder, int]:
    loop = asyncio.get_running_loop()
    transport, protocol = await loop.create_datagram_endpoint(Responder, local_addr=(host, 0))
    return transport, protocol, transport.get_extra_info("sockname")[1]


def closed_udp_port(host: str = "127.0.0.1") -> int:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_DGRAM) as sock:
        sock.bind((host, 0))
        return int(sock.getsockname()[1])


def has_ipv6() -> bool:
    try:
        with socket.socket(socket.AF_INET6, socket.SOCK_DGRAM) as sock:
            sock.bind(("::1", 0))
    except OSError:
        return False
    return True


@pytest.mark.requirement("RFC3261-18.1.1-UNRELIABLE-SOURCE-AIO")
def test_request_out_response_back_on_the_same_socket() -> None:
    async def scenario() -> None:
        server, protocol, port = await responder()
        receiver = RecordingReceiver()
        async with await UdpTransport.open(receiver, local_host="127.0.0.1") as udp:
            transport: ports.Transport = udp
            assert isinstance(transport, ports.Transport)
            assert (udp.name, udp.reliable) == ("UDP", False)
            udp.send(register(), Target("UDP", "127.0.0.1", port))
            data, source, via = await receiver.message()
            assert data == ok()
            assert source == HostPort("127.0.0.1", port)
            assert via is udp
            # the request came from the advertised address: responses to it reach us
            assert protocol.sources == [("127.0.0.1", udp.local_address().port)]
            assert udp.local_address() == udp.bound_address
        server.close()

    run(scenario())


@pytest.mark.requirement("RFC3261-18.1.1-UNRELIABLE-SOURCE-AIO")
def test_wildcard_socket_advertises_the_routed_source_address() -> None:
    async def scenario() -> None:
        server, protocol, port = await responder()
        receiver = RecordingReceiver()
        async with await UdpTransport.open(receiver) as udp:
            assert udp.local_address().host == "0.0.0.0"
            target = Target("UDP", "127.0.0.1", port)
            advertised = udp.local_address_for(target)
            assert advertised == HostPort("127.0.0.1", udp.bound_address.port)
            assert udp.local_address() == advertised
            udp.send(register(), target)
            assert (await receiver.message())[0] == ok()
            assert protocol.sources == [("127.0.0.1", advertised.port)]
        server.close()

    run(scenario())


@pytest.mark.requirement("RFC3261-18.4-ICMP-UNREACHABLE-AIO")
def test_port_unreachable_is_reported_for_that_target() -> None:
    async def scenario() -> None:
        receiver = RecordingReceiver()
        dead = closed_udp_port()
        async with await UdpTransport.open(receiver, local_host="127.0.0.1") as udp:
            target = Target("UDP", "127.0.0.1", dead)
            udp.send(register(), target)
            reported, error = await receiver.error()
            assert reported == target
            assert isinstance(error, TransportError)
            if sys.platform == "linux":
                assert error.spec_id == "RFC3261-18.4-ICMP-UNREACHABLE-AIO"
            # the socket still works afterwards
            server, _, port = await responder()
            udp.send(register(), Target("UDP", "127.0.0.1", port))
            assert (await receiver.message())[0] == ok()
            server.close()

    run(scenario())


@pytest.mark.requirement("RFC3261-18.4-ICMP-UNREACHABLE-AIO")
@pytest.mark.skipif(sys.platform != "linux", reason="exact attribution needs IP_RECVERR")
def test_icmp_errors_name_the_destination_that_caused_them() -> None:
    async def scenario() -> None:
        receiver = RecordingReceiver()
        dead = [closed_udp_port() for _ in range(2)]
        async with await UdpTransport.open(receiver, local_host="127.0.0.1") as udp:
            udp.send(register(), Target("UDP", "127.0.0.1", dead[0]))
            first = await receiver.error()
            udp.send(register(), Target("UDP", "127.0.0.1", dead[1]))
            second = await receiver.error()
        assert [first[0].port, second[0].port] == dead

    run(scenario())


@pytest.mark.requirement("RFC3261-18.4-ICMP-UNREACHABLE-AIO")
@pytest.mark.requirement("RFC3261-18.4-ICMP-IGNORED-AIO")
@pytest.mark.parametrize(
    ("origin", "icmp_type", "reported"),
    [
        (2, 3, True),  # ICMP destination (host, network, port, protocol) unreachable
        (2, 12, True),  # ICMP parameter problem
        (2, 4, False),  # ICMP source quench
        (2, 11, False),  # ICMP time exceeded
        (3, 1, True),  # ICMPv6 destination unreachable
        (3, 4, True),  # ICMPv6 parameter problem
        (3, 3, False),  # ICMPv6 time exceeded
        (1, 0, True),  # local error (e.g. message too long)
    ],
)
def test_which_icmp_errors_are_failures(origin: int, icmp_type: int, reported: bool) -> None:
    assert icmp_is_failure(origin, icmp_type) is reported


def test_send_errors_known_at_once_are_raised() -> None:
    async def scenario() -> None:
        receiver = RecordingReceiver()
        udp = await UdpTransport.open(receiver, local_host="127.0.0.1")
        with pytest.raises(TransportError, match="not an IP address"):
            udp.send(register(), Target("UDP", "registrar.example.com", 5060))
        with pytest.raises(TransportError, match="IPv6"):
            udp.send(register(), Target("UDP", "::1", 5060))
        with pytest.raises(TransportError, match="bad port"):
            udp.send(register(), Target("UDP", "127.0.0.1", 0))
        # broadcast without SO_BROADCAST: the kernel refuses at sendto time
        with pytest.raises(TransportError, match="failed"):
            udp.send(register(), Target("UDP", "255.255.255.255", 5060))
        await udp.aclose()
        with pytest.raises(TransportError, match="closed"):
            udp.send(register(), Target("UDP", "127.0.0.1", 5060))
        assert receiver.errors.empty()

    run(scenario())


def test_a_failing_receiver_does_not_kill_the_socket(caplog: pytest.LogCaptureFixture) -> None:
    class Exploding(RecordingReceiver):
        calls = 0

        def receive(self, data: bytes, source: HostPort, transport: ports.Transport) -> None:
            self.calls += 1
            if self.calls == 1:
                raise ValueError("boom")
            super().receive(data, source, transport)

    async def scenario() -> None:
        server, _, port = await responder()
        receiver = Exploding()
        async with await UdpTransport.open(receiver, local_host="127.0.0.1") as udp:
            udp.send(register(1), Target("UDP", "127.0.0.1", port))
            udp.send(register(2), Target("UDP", "127.0.0.1", port))
            assert (await receiver.message())[0] == ok()
        server.close()

    run(scenario())
    assert "boom" in caplog.text


@pytest.mark.skipif(not has_ipv6(), reason="no IPv6 loopback")
def test_dual_stack_socket_reaches_ipv4_and_ipv6() -> None:
    async def scenario() -> None:
        server4, _, port4 = await responder("127.0.0.1")
        server6, _, port6 = await responder("::1")
        receiver = RecordingReceiver()
        async with await UdpTransport.open(receiver, local_host="::") as udp:
            udp.send(register(), Target("UDP", "127.0.0.1", port4))
            _, source4, _ = await receiver.message()
            assert source4 == HostPort("127.0.0.1", port4)  # not ::ffff:127.0.0.1
            assert udp.local_address().host == "127.0.0.1"
            udp.send(register(), Target("UDP", "[::1]", port6))
            _, source6, _ = await receiver.message()
            assert source6 == HostPort("::1", port6)
            assert udp.local_address() == HostPort("::1", udp.bound_address.port)
            assert str(udp.local_address()) == f"[::1]:{udp.bound_address.port}"
        server4.close()
        server6.close()

    run(scenario())


@pytest.mark.requirement("RFC3261-18.4-ICMP-UNREACHABLE-AIO")
@pytest.mark.skipif(not has_ipv6(), reason="no IPv6 loopback")
def test_ipv6_port_unreachable_is_reported() -> None:
    async def scenario() -> None:
        receiver = RecordingReceiver()
        dead = closed_udp_port("::1")
        async with await UdpTransport.open(receiver, local_host="::1") as udp:
            target = Target("UDP", "::1", dead)
            udp.send(register(), target)
            reported, error = await receiver.error()
        assert reported == target
        assert isinstance(error, TransportError)

    run(scenario())


def test_bind_failure_is_a_transport_error() -> None:
    async def scenario() -> None:
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as taken:
            taken.bind(("127.0.0.1", 0))
            port = taken.getsockname()[1]
            with pytest.raises(TransportError, match="cannot bind"):
                await UdpTransport.open(
                    RecordingReceiver(), local_host="127.0.0.1", local_port=port
                )

    run(scenario())
