"""TcpTransport over the loopback: pooling, queueing, reconnection, addresses, timeouts.  The
RFC 3261 §7.5 / §18.1.1 / §18.3 / §18.4 requirement checks are in
sipfsm/conformance/checks_transport.py."""

from __future__ import annotations

import asyncio

import pytest

from sipfsm.aio import TcpTransport
from sipfsm.errors import TransportError
from sipfsm.ports import HostPort, Target

from .support import RecordingReceiver, ok, read_message, register, run
from .support import TcpRegistrar as Registrar


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


def test_coalesced_sends_leave_in_one_write_at_the_next_turn_in_order() -> None:
    async def scenario() -> None:
        registrar = Registrar()
        port = await registrar.start()
        receiver = RecordingReceiver()
        tcp = await TcpTransport.open(receiver, listen=False, coalesce_sends=True)
        target = Target("TCP", "127.0.0.1", port)
        await tcp.connect(target)
        (connection,) = tcp._connections.values()
        assert connection.transport is not None
        written: list[bytes] = []
        real_write = connection.transport.write

        def recording(data: bytes | bytearray | memoryview) -> None:
            written.append(bytes(data))
            real_write(data)

        connection.transport.write = recording  # type: ignore[method-assign]
        for cseq in range(1, 6):
            tcp.send(register(cseq), target)
        assert written == []  # nothing before the loop turns
        assert tcp.messages_sent == 5
        got = [(await receiver.message())[0] for _ in range(5)]
        assert written == [b"".join(register(n) for n in range(1, 6))]
        assert got == [ok(n) for n in range(1, 6)]
        assert registrar.requests == [register(n) for n in range(1, 6)]
        await tcp.aclose()
        await registrar.stop()

    run(scenario())


def test_closing_writes_what_was_coalesced_first() -> None:
    async def scenario() -> None:
        registrar = Registrar()
        port = await registrar.start()
        tcp = await TcpTransport.open(RecordingReceiver(), listen=False, coalesce_sends=True)
        target = Target("TCP", "127.0.0.1", port)
        await tcp.connect(target)
        tcp.send(register(7), target)
        tcp.close()
        for _ in range(100):
            if registrar.requests:
                break
            await asyncio.sleep(0.01)
        assert registrar.requests == [register(7)]
        await registrar.stop()

    run(scenario())


def test_a_connection_failing_with_coalesced_sends_queued_reports_and_drops_them() -> None:
    async def scenario() -> None:
        registrar = Registrar()
        port = await registrar.start()
        receiver = RecordingReceiver()
        tcp = await TcpTransport.open(receiver, listen=False, coalesce_sends=True)
        target = Target("TCP", "127.0.0.1", port)
        await tcp.connect(target)
        (connection,) = tcp._connections.values()
        tcp.send(register(1), target)
        connection.fail("reset by the test", ConnectionResetError())
        failed, error = await receiver.error()
        assert failed == target and isinstance(error, TransportError)
        await asyncio.sleep(0.05)  # the queued flush finds the connection failed: no write
        assert registrar.requests == []
        await tcp.aclose()
        await registrar.stop()

    run(scenario())
