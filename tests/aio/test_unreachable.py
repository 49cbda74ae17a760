"""A destination that refuses at once (ICMP port unreachable on UDP, connection refused on TCP)
reaches the receiver as ``DestinationUnreachable``, the shared name the core reacts to (next
target at once, else fail or defer at once: never wait for Timer F)."""

from __future__ import annotations

import pytest

from sipfsm.aio import TcpTransport, UdpTransport
from sipfsm.errors import DestinationUnreachable
from sipfsm.ports import Target

from .support import RecordingReceiver, closed_tcp_port, closed_udp_port, register, run


@pytest.mark.requirement("RFC3261-18.4-ICMP-UNREACHABLE-AIO")
def test_udp_port_unreachable_is_destination_unreachable() -> None:
    async def scenario() -> None:
        receiver = RecordingReceiver()
        port = closed_udp_port()
        async with await UdpTransport.open(receiver, local_host="127.0.0.1") as udp:
            target = Target("UDP", "127.0.0.1", port)
            udp.send(register(), target)
            where, error = await receiver.error()
        assert where == target
        assert isinstance(error, DestinationUnreachable), repr(error)
        assert str(port) in str(error)

    run(scenario())


@pytest.mark.requirement("RFC3261-18.4-CONNECTION-FAILURE-AIO")
def test_tcp_connection_refused_is_destination_unreachable() -> None:
    async def scenario() -> None:
        receiver = RecordingReceiver()
        port = closed_tcp_port()
        async with await TcpTransport.open(receiver, local_host="127.0.0.1",
                                           listen=False) as tcp:
            target = Target("TCP", "127.0.0.1", port)
            tcp.send(register(), target)
            where, error = await receiver.error()
        assert where == target
        assert isinstance(error, DestinationUnreachable), repr(error)

    run(scenario())
