"""TcpTransport over the loopback: pooling, queueing, framing, reconnection, failures
(RFC 3261 §7.5, §18.1.1, §18.3, §18.4)."""

from __future__ import annotations

import asyncio
import socket
import struct

import pytest

from sipfsm import ports
from sipfsm.aio import TcpTransport
from sipfsm.errors import TransportError
from sipfsm.ports import HostPort, Target

from .support import RecordingReceiver, ok, register, run


async def read_message(reader: asyncio.StreamReader) -> bytes:
    head = await reader.readuntil(b"\r\n\r\n")
    length = 0
    for line in head.split(b"\r\n"):
        if line.lower().startswith(b"content-length:"):
            length = int(line.split(b":", 1)[1])
    return head + await reader.readexactly(length)


class Registrar:
    """A TCP server stand-in; ``handler`` runs per connection."""

    def __init__(self) -> None:
        self.connections = 0
        self.requests: list[bytes] = []
        self.server: asyncio.Server | None = None

    async def start(self, handler: object = None) -> int:
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
            await (handler or default)(reader, writer)  # type: ignore[operator]

        self.server = await asyncio.start_server(counted, "127.0.0.1", 0)
        return int(self.server.sockets[0].getsockname()[1])

    async def stop(self) -> None:
        assert self.server is not None
        self.server.close()


def closed_tcp_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.mark.requirement("RFC3261-18.1.1-SAME-CONNECTION-AIO")
def test_response_on_the_connection_of_the_request() -> None:
    async def scenario() -> None:
        registrar = Registrar()
        port = await registrar.start()
        receiver = RecordingReceiver()
        async with await TcpTransport.open(receiver, listen=False) as tcp:
            transport: ports.Transport = tcp
            assert isinstance(transport, ports.Transport)
            assert (tcp.name, tcp.reliable) == ("TCP", True)
            target = Target("TCP", "127.0.0.1", port)
            tcp.send(register(), target)
            data, source, via = await receiver.message()
            assert data == ok(1)
            assert source == HostPort("127.0.0.1", port)
            assert via is tcp
            tcp.send(register(2), target)
            assert (await receiver.message())[0] == ok(2)
            assert registrar.connections == 1
            assert registrar.requests == [register(), register(2)]
        await registrar.stop()

    run(scenario())


def test_sends_before_the_connection_is_up_are_queued_in_order() -> None:
    async def scenario() -> None:
        registrar = Registrar()
        port = await registrar.start()
        receiver = RecordingReceiver()
        async with await TcpTransport.open(receiver, listen=False) as tcp:
            target = Target("TCP", "127.0.0.1", port)
            for cseq in range(1, 6):
                tcp.send(register(cseq), target)
            got = [(await receiver.message())[0] for _ in range(5)]
            assert got == [ok(n) for n in range(1, 6)]
            assert registrar.requests == [register(n) for n in range(1, 6)]
            assert registrar.connections == 1
        await registrar.stop()

    run(scenario())


@pytest.mark.requirement("RFC3261-18.3-STREAM-CONTENT-LENGTH-AIO")
@pytest.mark.requirement("RFC3261-7.5-LEADING-CRLF-AIO")
def test_framing_split_reads_and_several_messages_per_read() -> None:
    body = b"v=0\r\no=- 1 1 IN IP4 192.0.2.1\r\n"
    split_message = ok(1, body)
    batch = [ok(2), ok(3, b"xyz", compact=True), ok(4)]

    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await read_message(reader)
        # cut across the start line, the headers and the body
        pieces = [split_message[:5], split_message[5:40], split_message[40:-3], split_message[-3:]]
        for piece in pieces:
            writer.write(piece)
            await writer.drain()
            await asyncio.sleep(0.02)
        writer.write(b"\r\n\r\n" + b"".join(batch) + b"\r\n")  # keep-alive CRLFs around
        await writer.drain()
        await reader.read()

    async def scenario() -> None:
        registrar = Registrar()
        port = await registrar.start(handler)
        receiver = RecordingReceiver()
        async with await TcpTransport.open(receiver, listen=False) as tcp:
            tcp.send(register(), Target("TCP", "127.0.0.1", port))
            got = [(await receiver.message())[0] for _ in range(4)]
        assert got == [split_message, *batch]
        assert receiver.errors.empty()
        await registrar.stop()

    run(scenario())


def test_next_send_reconnects_after_the_peer_closed() -> None:
    async def one_shot(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await read_message(reader)
        writer.write(ok())
        await writer.drain()
        writer.close()

    async def scenario() -> None:
        registrar = Registrar()
        port = await registrar.start(one_shot)
        receiver = RecordingReceiver()
        async with await TcpTransport.open(receiver, listen=False) as tcp:
            target = Target("TCP", "127.0.0.1", port)
            tcp.send(register(), target)
            assert (await receiver.message())[0] == ok()
            await asyncio.sleep(0.1)  # the server's FIN arrives
            tcp.send(register(2), target)
            assert (await receiver.message())[0] == ok()
            assert registrar.connections == 2
            assert receiver.errors.empty()  # an orderly close is no failure
        await registrar.stop()

    run(scenario())


@pytest.mark.requirement("RFC3261-18.4-CONNECTION-FAILURE-AIO")
def test_connection_refused_is_reported_then_a_later_send_retries() -> None:
    async def scenario() -> None:
        receiver = RecordingReceiver()
        port = closed_tcp_port()
        async with await TcpTransport.open(receiver, listen=False) as tcp:
            target = Target("TCP", "127.0.0.1", port)
            tcp.send(register(), target)
            reported, error = await receiver.error()
            assert reported == target
            assert isinstance(error, TransportError)
            assert error.spec_id == "RFC3261-18.4-CONNECTION-FAILURE-AIO"
            assert "failed" in str(error)
            with pytest.raises(TransportError):
                await tcp.connect(target)
            # now something listens there: the next send connects
            registrar = Registrar()
            registrar_port = await registrar.start()
            tcp.send(register(), Target("TCP", "127.0.0.1", registrar_port))
            assert (await receiver.message())[0] == ok()
            await registrar.stop()

    run(scenario())


@pytest.mark.requirement("RFC3261-18.4-CONNECTION-FAILURE-AIO")
def test_reset_is_reported() -> None:
    async def resetting(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await read_message(reader)
        sock = writer.get_extra_info("socket")
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        writer.transport.abort()

    async def scenario() -> None:
        registrar = Registrar()
        port = await registrar.start(resetting)
        receiver = RecordingReceiver()
        async with await TcpTransport.open(receiver, listen=False) as tcp:
            target = Target("TCP", "127.0.0.1", port)
            tcp.send(register(), target)
            reported, error = await receiver.error()
            assert reported == target
            assert isinstance(error, TransportError)
        await registrar.stop()

    run(scenario())


@pytest.mark.requirement("RFC3261-18.4-CONNECTION-FAILURE-AIO")
@pytest.mark.requirement("RFC3261-18.3-STREAM-CONTENT-LENGTH-AIO")
def test_unframeable_stream_drops_the_connection_and_is_reported() -> None:
    async def sloppy(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await read_message(reader)
        writer.write(b"SIP/2.0 200 OK\r\nCSeq: 1 REGISTER\r\n\r\n")
        await writer.drain()
        await reader.read()  # until the client drops us
        writer.close()

    async def scenario() -> None:
        registrar = Registrar()
        port = await registrar.start(sloppy)
        receiver = RecordingReceiver()
        async with await TcpTransport.open(receiver, listen=False) as tcp:
            target = Target("TCP", "127.0.0.1", port)
            tcp.send(register(), target)
            reported, error = await receiver.error()
            assert reported == target
            assert "Content-Length" in str(error.__cause__)
            assert receiver.messages.empty()
            await asyncio.sleep(0.05)
            tcp.send(register(), target)  # a fresh connection
            await asyncio.sleep(0.1)
            assert registrar.connections == 2
        await registrar.stop()

    run(scenario())


@pytest.mark.requirement("RFC3261-18.1.1-INCOMING-CONNECTION-AIO")
def test_server_may_answer_on_a_new_connection_to_the_sent_by_port() -> None:
    async def scenario() -> None:
        receiver = RecordingReceiver()
        async with await TcpTransport.open(receiver, local_host="127.0.0.1") as tcp:
            listening = tcp.listen_address
            assert listening is not None

            async def answer_elsewhere(
                reader: asyncio.StreamReader, writer: asyncio.StreamWriter
            ) -> None:
                await read_message(reader)
                writer.close()  # the request's connection is gone...
                sent_by = tcp.local_address()  # ...so open one to the Via sent-by
                _, back = await asyncio.open_connection(sent_by.host, sent_by.port)
                back.write(ok())
                await back.drain()
                back.close()

            registrar = Registrar()
            port = await registrar.start(answer_elsewhere)
            target = Target("TCP", "127.0.0.1", port)
            advertised = await tcp.connect(target)
            assert advertised == HostPort("127.0.0.1", listening.port)
            tcp.send(register(), target)
            data, source, via = await receiver.message()
            assert data == ok()
            assert via is tcp
            assert source.host == "127.0.0.1" and source.port != port
            await registrar.stop()

    run(scenario())


def test_local_address_before_and_after_connecting() -> None:
    async def scenario() -> None:
        registrar = Registrar()
        port = await registrar.start()
        receiver = RecordingReceiver()
        async with await TcpTransport.open(receiver, listen=False) as tcp:
            target = Target("TCP", "127.0.0.1", port)
            assert tcp.listen_address is None
            assert tcp.local_address() == HostPort("0.0.0.0", 5060)
            assert tcp.local_address_for(target) == HostPort("127.0.0.1", 5060)
            advertised = await tcp.connect(target)
            assert advertised.host == "127.0.0.1"
            assert advertised.port not in (0, 5060, port)
            assert tcp.local_address() == advertised
        await registrar.stop()

    run(scenario())


def test_connect_timeout_is_reported() -> None:
    async def scenario() -> None:
        loop = asyncio.get_running_loop()

        async def never(*args: object, **kwargs: object) -> None:
            await asyncio.sleep(60)  # a SYN into the void

        loop.create_connection = never  # type: ignore[method-assign,assignment]
        receiver = RecordingReceiver()
        async with await TcpTransport.open(receiver, listen=False, connect_timeout=0.1) as tcp:
            target = Target("TCP", "192.0.2.1", 5060)
            tcp.send(register(), target)
            reported, error = await receiver.error()
            assert reported == target
            assert isinstance(error, TransportError)
            assert "timed out" in str(error)

    run(scenario())


def test_send_on_a_closed_transport_raises() -> None:
    async def scenario() -> None:
        tcp = await TcpTransport.open(RecordingReceiver())
        await tcp.aclose()
        with pytest.raises(TransportError, match="closed"):
            tcp.send(register(), Target("TCP", "127.0.0.1", 5060))
        with pytest.raises(TransportError, match="bad port"):
            TcpTransport(RecordingReceiver()).send(register(), Target("TCP", "127.0.0.1", 0))

    run(scenario())


def test_close_fails_a_pending_connect() -> None:
    async def scenario() -> None:
        loop = asyncio.get_running_loop()

        async def never(*args: object, **kwargs: object) -> None:
            await asyncio.sleep(60)

        loop.create_connection = never  # type: ignore[method-assign,assignment]
        receiver = RecordingReceiver()
        tcp = await TcpTransport.open(receiver, listen=False)
        pending = asyncio.ensure_future(tcp.connect(Target("TCP", "192.0.2.1", 5060)))
        await asyncio.sleep(0.01)
        await tcp.aclose()
        with pytest.raises(TransportError, match="closed"):
            await pending
        assert receiver.errors.empty()  # closing on purpose reports nothing

    run(scenario())
