"""asyncio adapters for every port: real sockets, the event loop, the system clock, ``secrets``,
and RFC 3263 DNS (dnspython, optional).

* :class:`AioTimers`, :class:`SystemClock`, :class:`SecretsRandom` -- ``Timers``, ``Clock``,
  ``Random``.
* :class:`UdpTransport`, :class:`TcpTransport` -- ``Transport``.
* :class:`DnsResolver` -- ``Resolver`` (raises :class:`ResolveError`).
* :class:`TraceWriter` and friends -- the JSON-lines message trace.
"""

from sipfsm.aio.framing import FramingError, RawStreamFramer
from sipfsm.aio.resolver import DnsResolver, ResolveError, order_srv
from sipfsm.aio.runtime import AioTimers, SecretsRandom, SystemClock
from sipfsm.aio.tcp import TcpTransport
from sipfsm.aio.trace import (
    TraceSink,
    TraceWriter,
    TracingReceiver,
    TracingTransport,
    read_trace,
)
from sipfsm.aio.udp import UdpTransport

__all__ = [
    "AioTimers",
    "DnsResolver",
    "FramingError",
    "RawStreamFramer",
    "ResolveError",
    "SecretsRandom",
    "SystemClock",
    "TcpTransport",
    "TraceSink",
    "TraceWriter",
    "TracingReceiver",
    "TracingTransport",
    "UdpTransport",
    "order_srv",
    "read_trace",
]
