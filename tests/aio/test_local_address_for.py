"""Every asyncio Transport says which address to advertise to a given target
(``local_address_for``), so that the core asks the port instead of probing concrete classes."""

from __future__ import annotations

import pytest

from sipfsm.aio import TcpTransport, TracingTransport, UdpTransport
from sipfsm.aio.keepalive import KeepAliveTcpTransport
from sipfsm.aio.tls import TlsTransport
from sipfsm.ports import HostPort, Target

from .support import RecordingReceiver, run


@pytest.mark.parametrize("cls", [UdpTransport, TcpTransport, KeepAliveTcpTransport,
                                 TlsTransport, TracingTransport])
def test_every_aio_transport_has_local_address_for(cls: type) -> None:
    assert callable(getattr(cls, "local_address_for", None))


def test_the_tracing_decorator_asks_the_transport_it_wraps() -> None:
    class Sink:
        def record(self, *args: object) -> None:
            return

    async def scenario() -> None:
        async with await UdpTransport.open(RecordingReceiver()) as udp:
            traced = TracingTransport(udp, Sink())
            target = Target("UDP", "127.0.0.1", 5060)
            assert traced.local_address_for(target) == HostPort("127.0.0.1",
                                                                udp.bound_address.port)
            assert traced.local_address_for(target) == udp.local_address_for(target)

    run(scenario())
