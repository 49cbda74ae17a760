"""The JSON-lines trace: format, and every send/receive of the transports recorded."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any, cast

from sipfsm.aio import (
    TcpTransport,
    TraceWriter,
    TracingReceiver,
    TracingTransport,
    UdpTransport,
    read_trace,
)
from sipfsm.aio.trace import TRACE_FIELDS
from sipfsm.ports import HostPort, Target, Transport

from .support import RecordingReceiver, ok, register, run


class FixedClock:
    def monotonic(self) -> float:
        return 1.0

    def wall(self) -> float:
        return 1718000000.25


def test_line_format(tmp_path: Path) -> None:
    path = tmp_path / "trace.jsonl"
    with TraceWriter(path, clock=FixedClock()) as writer:
        writer.record(
            "sent", "UDP", HostPort("192.0.2.10", 5060), HostPort("2001:db8::1", 5060), register()
        )
        writer.record(
            "received",
            "TCP",
            HostPort("192.0.2.10", 5060),
            HostPort("192.0.2.1", 5061),
            b"SIP/2.0 200 OK\r\nX: \xff\r\n\r\n",
        )
    lines = path.read_text(encoding="utf-8").splitlines()
    assert len(lines) == 2
    first, second = (json.loads(line) for line in lines)
    assert list(first) == list(TRACE_FIELDS)
    assert list(TRACE_FIELDS) == ["time", "direction", "transport", "local", "remote", "message"]
    assert first == {
        "time": 1718000000.25,
        "direction": "sent",
        "transport": "UDP",
        "local": "192.0.2.10:5060",
        "remote": "[2001:db8::1]:5060",
        "message": register().decode(),
    }
    assert second["message"] == "SIP/2.0 200 OK\r\nX: \ufffd\r\n\r\n"
    assert list(read_trace(path)) == [first, second]
    writer.record("sent", "UDP", HostPort("a", 1), HostPort("b", 2), b"x")  # closed: ignored
    assert len(path.read_text(encoding="utf-8").splitlines()) == 2


def test_append_mode(tmp_path: Path) -> None:
    path = tmp_path / "trace.jsonl"
    for _ in range(2):
        with TraceWriter(path, append=True) as writer:
            writer.record("sent", "UDP", HostPort("a", 1), HostPort("b", 2), b"x")
    records = list(read_trace(path))
    assert len(records) == 2
    assert all(isinstance(r["time"], float) for r in records)


class Echo(asyncio.DatagramProtocol):
    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = cast(asyncio.DatagramTransport, transport)

    def datagram_received(self, data: bytes, addr: tuple[Any, ...]) -> None:
        self.transport.sendto(ok(), addr)


def test_udp_sends_and_receives_are_traced(tmp_path: Path) -> None:
    path = tmp_path / "udp.jsonl"

    async def scenario() -> tuple[int, HostPort]:
        loop = asyncio.get_running_loop()
        server, _ = await loop.create_datagram_endpoint(Echo, local_addr=("127.0.0.1", 0))
        port = server.get_extra_info("sockname")[1]
        receiver = RecordingReceiver()
        with TraceWriter(path) as writer:
            async with await UdpTransport.open(receiver, trace=writer) as udp:
                udp.send(register(), Target("UDP", "127.0.0.1", port))
                await receiver.message()
                local = udp.local_address()
        server.close()
        return port, local

    port, local = run(scenario())
    sent, received = read_trace(path)
    assert (sent["direction"], received["direction"]) == ("sent", "received")
    for record in (sent, received):
        assert record["transport"] == "UDP"
        assert record["local"] == str(local)
        assert record["remote"] == f"127.0.0.1:{port}"
    assert sent["message"] == register().decode()
    assert received["message"] == ok().decode()


def test_tcp_sends_and_receives_are_traced_with_the_connection_address(tmp_path: Path) -> None:
    path = tmp_path / "tcp.jsonl"

    async def scenario() -> tuple[int, HostPort]:
        async def answer(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            await reader.readuntil(b"\r\n\r\n")
            writer.write(ok() + ok(2))
            await writer.drain()
            await reader.read()
            writer.close()

        server = await asyncio.start_server(answer, "127.0.0.1", 0)
        port = server.sockets[0].getsockname()[1]
        receiver = RecordingReceiver()
        with TraceWriter(path) as writer:
            async with await TcpTransport.open(receiver, listen=False, trace=writer) as tcp:
                tcp.send(register(), Target("TCP", "127.0.0.1", port))  # queued, then traced
                await receiver.message()
                await receiver.message()
                local = tcp.local_address()
        server.close()
        return port, local

    port, local = run(scenario())
    records = list(read_trace(path))
    assert [r["direction"] for r in records] == ["sent", "received", "received"]
    assert [r["message"] for r in records] == [register().decode(), ok().decode(), ok(2).decode()]
    assert {r["local"] for r in records} == {str(local)}
    assert {r["remote"] for r in records} == {f"127.0.0.1:{port}"}
    assert {r["transport"] for r in records} == {"TCP"}


class LoopbackTransport:
    """A transport stand-in that delivers every message back to its receiver."""

    def __init__(self) -> None:
        self.receiver: Any = None

    @property
    def name(self) -> str:
        return "UDP"

    @property
    def reliable(self) -> bool:
        return False

    def local_address(self) -> HostPort:
        return HostPort("192.0.2.10", 5060)

    def send(self, data: bytes, target: Target) -> None:
        self.receiver.receive(ok(), target.address, self)


def test_decorators_trace_any_transport(tmp_path: Path) -> None:
    path = tmp_path / "decorated.jsonl"
    inner = LoopbackTransport()
    recorder = RecordingReceiver.__new__(RecordingReceiver)
    got: list[bytes] = []
    errors: list[Target] = []
    recorder.receive = lambda data, source, transport: got.append(data)  # type: ignore[method-assign]
    recorder.transport_error = lambda target, error: errors.append(target)  # type: ignore[method-assign]
    with TraceWriter(path) as writer:
        inner.receiver = TracingReceiver(recorder, writer)
        traced: Transport = TracingTransport(inner, writer)
        assert (traced.name, traced.reliable, traced.local_address()) == (
            "UDP",
            False,
            HostPort("192.0.2.10", 5060),
        )
        traced.send(register(), Target("UDP", "192.0.2.1", 5060))
        inner.receiver.transport_error(Target("UDP", "192.0.2.1", 5060), OSError("x"))
    assert got == [ok()]
    assert errors == [Target("UDP", "192.0.2.1", 5060)]
    records = list(read_trace(path))
    # delivery happens inside send, so the received line comes first
    assert [r["direction"] for r in records] == ["received", "sent"]
    assert {r["remote"] for r in records} == {"192.0.2.1:5060"}
    assert {r["local"] for r in records} == {"192.0.2.10:5060"}
