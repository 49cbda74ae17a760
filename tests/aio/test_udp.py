"""UdpTransport over the loopback: advertised addresses, send errors, robustness.  The RFC 3261
§18.1.1 / §18.4 requirement checks are in sipfsm/conformance/checks_transport.py."""

from __future__ import annotations

import asyncio
import contextlib
import socket

import pytest

from sipfsm import ports
from sipfsm.aio import UdpTransport
from sipfsm.errors import TransportError
from sipfsm.ports import HostPort, Target

from .support import RecordingReceiver, has_ipv6, ok, register, run
from .support import udp_responder as responder


def test_wildcard_socket_advertises_the_routed_source_address() -> None:
    # RFC 3261 §18.1.1 (UNRELIABLE-SOURCE-AIO) is checked by
    # sipfsm.conformance.checks_transport on a loopback-bound socket; this test binds the
    # wildcard address, which the packaged checks never do, to check the routed source.
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


def test_datagrams_queued_together_are_all_delivered_in_order() -> None:
    # More datagrams than one drain reads, queued before the loop looks at the socket (fewer
    # than a default receive buffer holds: ~256 small datagrams in 208 KiB).
    count = 200

    class Counting:
        def __init__(self) -> None:
            self.payloads: list[bytes] = []
            self.sources: list[HostPort] = []

        def receive(self, data: bytes, source: HostPort, transport: ports.Transport) -> None:
            self.payloads.append(data)
            self.sources.append(source)

        def transport_error(self, target: Target, error: Exception) -> None:
            raise AssertionError(error)

    async def scenario() -> None:
        receiver = Counting()
        async with await UdpTransport.open(receiver, local_host="127.0.0.1") as udp:
            port = udp.bound_address.port
            with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as peer:
                peer.bind(("127.0.0.1", 0))
                for n in range(count):
                    peer.sendto(b"datagram %d" % n, ("127.0.0.1", port))
                for _ in range(200):
                    if len(receiver.payloads) == count:
                        break
                    await asyncio.sleep(0.01)
                assert receiver.payloads == [b"datagram %d" % n for n in range(count)]
                assert set(receiver.sources) == {HostPort("127.0.0.1", peer.getsockname()[1])}

    run(scenario())


def test_a_receiver_closing_the_transport_stops_the_reading() -> None:
    async def scenario() -> None:
        got: list[bytes] = []

        class Closing:
            udp: UdpTransport

            def receive(self, data: bytes, source: HostPort, transport: ports.Transport) -> None:
                got.append(data)
                self.udp.close()

            def transport_error(self, target: Target, error: Exception) -> None:
                pass

        receiver = Closing()
        udp = await UdpTransport.open(receiver, local_host="127.0.0.1")
        receiver.udp = udp
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as peer:
            for n in range(10):
                peer.sendto(b"x%d" % n, ("127.0.0.1", udp.bound_address.port))
            await asyncio.sleep(0.1)
        assert got == [b"x0"]

    run(scenario())


def test_a_send_that_would_block_goes_through_the_loops_transport() -> None:
    # send() writes to the socket itself while the loop's transport has nothing queued; when
    # the kernel says "would block" the datagram is handed to the loop's transport (which
    # queues it until the socket is writable): nothing is lost, nothing reordered.
    class FullOnce:
        def __init__(self, sock: socket.socket) -> None:
            self.sock, self.full = sock, True

        def sendto(self, data: bytes, address: tuple[str, int]) -> int:
            if self.full:
                self.full = False
                raise BlockingIOError
            return self.sock.sendto(data, address)

        def __getattr__(self, name: str) -> object:
            return getattr(self.sock, name)

    async def scenario() -> list[bytes]:
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as peer:
            peer.bind(("127.0.0.1", 0))
            peer.setblocking(False)
            target = Target("UDP", "127.0.0.1", peer.getsockname()[1])
            async with await UdpTransport.open(RecordingReceiver(), local_host="127.0.0.1") as udp:
                udp._sock = FullOnce(udp._sock)  # type: ignore[assignment]
                for n in range(3):
                    udp.send(b"datagram %d" % n, target)
                assert udp.messages_sent == 3
                got: list[bytes] = []
                for _ in range(100):
                    await asyncio.sleep(0.01)
                    try:
                        got.append(peer.recv(100))
                    except BlockingIOError:
                        if len(got) == 3:
                            break
                return got

    assert run(scenario()) == [b"datagram 0", b"datagram 1", b"datagram 2"]


def test_coalesced_sends_leave_together_at_the_next_turn_of_the_loop_in_order() -> None:
    async def scenario() -> tuple[bytes | None, list[bytes]]:
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as peer:
            peer.bind(("127.0.0.1", 0))
            peer.setblocking(False)
            target = Target("UDP", "127.0.0.1", peer.getsockname()[1])
            async with await UdpTransport.open(
                RecordingReceiver(), local_host="127.0.0.1", coalesce_sends=True
            ) as udp:
                for n in range(5):
                    udp.send(b"datagram %d" % n, target)
                assert udp.messages_sent == 5
                try:
                    early: bytes | None = peer.recv(100)
                except BlockingIOError:
                    early = None  # nothing on the wire before the loop turns
                got: list[bytes] = []
                for _ in range(100):
                    await asyncio.sleep(0.01)
                    with contextlib.suppress(BlockingIOError):
                        while True:
                            got.append(peer.recv(100))
                    if len(got) >= 5:
                        break
                return early, got

    early, got = run(scenario())
    assert early is None
    assert got == [b"datagram %d" % n for n in range(5)]


def test_a_coalesced_send_that_fails_is_reported_to_the_receiver() -> None:
    async def scenario() -> None:
        receiver = RecordingReceiver()
        udp = await UdpTransport.open(receiver, local_host="127.0.0.1", coalesce_sends=True)
        # broadcast without SO_BROADCAST: the kernel refuses at sendto time (not raised: later)
        broadcast = Target("UDP", "255.255.255.255", 5060)
        udp.send(register(), broadcast)
        target, error = await receiver.error()
        assert target == broadcast
        assert isinstance(error, TransportError) and "failed" in str(error)
        await udp.aclose()

    run(scenario())


def test_closing_sends_what_was_coalesced_first() -> None:
    async def scenario() -> bytes:
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as peer:
            peer.bind(("127.0.0.1", 0))
            peer.settimeout(2.0)
            udp = await UdpTransport.open(
                RecordingReceiver(), local_host="127.0.0.1", coalesce_sends=True
            )
            udp.send(b"last words", Target("UDP", "127.0.0.1", peer.getsockname()[1]))
            udp.close()
            return peer.recv(100)

    assert run(scenario()) == b"last words"


class _BlocksOnce:
    """A socket whose ``number``-th sendto (1-based) says "would block" once."""

    def __init__(self, sock: socket.socket, number: int) -> None:
        self.sock, self.number, self.calls = sock, number, 0

    def sendto(self, data: bytes, address: tuple[str, int]) -> int:
        self.calls += 1
        if self.calls == self.number:
            raise BlockingIOError
        return self.sock.sendto(data, address)

    def __getattr__(self, name: str) -> object:
        return getattr(self.sock, name)


def _receive_all(peer: socket.socket, count: int) -> list[bytes]:
    got: list[bytes] = []
    with contextlib.suppress(BlockingIOError):
        while len(got) < count:
            got.append(peer.recv(100))
    return got


def test_a_coalesced_batch_that_would_block_midway_keeps_its_order() -> None:
    # The flush writes the batch straight to the socket; when the kernel says "would block"
    # at the third datagram, that one and every later one go through the loop's transport
    # (which queues them until the socket is writable): none lost, none reordered.
    async def scenario() -> tuple[list[bytes], int]:
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as peer:
            peer.bind(("127.0.0.1", 0))
            peer.setblocking(False)
            target = Target("UDP", "127.0.0.1", peer.getsockname()[1])
            async with await UdpTransport.open(
                RecordingReceiver(), local_host="127.0.0.1", coalesce_sends=True
            ) as udp:
                blocking = _BlocksOnce(udp._sock, 3)
                udp._sock = blocking  # type: ignore[assignment]
                for n in range(6):
                    udp.send(b"datagram %d" % n, target)
                got: list[bytes] = []
                for _ in range(100):
                    await asyncio.sleep(0.01)
                    got += _receive_all(peer, 6 - len(got))
                    if len(got) >= 6:
                        break
                return got, blocking.calls

    got, direct_calls = run(scenario())
    assert got == [b"datagram %d" % n for n in range(6)]
    assert direct_calls == 3  # after the refusal, nothing more was written around the transport


def test_a_failure_inside_a_coalesced_batch_spares_the_others() -> None:
    async def scenario() -> tuple[list[bytes], list[Target]]:
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as peer:
            peer.bind(("127.0.0.1", 0))
            peer.setblocking(False)
            good = Target("UDP", "127.0.0.1", peer.getsockname()[1])
            broadcast = Target("UDP", "255.255.255.255", 5060)  # refused: no SO_BROADCAST
            receiver = RecordingReceiver()
            async with await UdpTransport.open(
                receiver, local_host="127.0.0.1", coalesce_sends=True
            ) as udp:
                udp.send(b"first", good)
                udp.send(b"refused", broadcast)
                udp.send(b"second", good)
                target, error = await receiver.error()
                assert isinstance(error, TransportError)
                await asyncio.sleep(0.05)
                return _receive_all(peer, 2), [target]

    got, failed = run(scenario())
    assert got == [b"first", b"second"]
    assert failed == [Target("UDP", "255.255.255.255", 5060)]


def test_a_receiver_failing_inside_a_drain_spares_the_datagrams_after_it(
    caplog: pytest.LogCaptureFixture,
) -> None:
    # Datagrams from a source already seen are delivered without _datagram's frame: its
    # protection (a receiver that raises is logged, the socket keeps reading) holds there too.
    count = 30

    class FailsOnEvery7th:
        def __init__(self) -> None:
            self.payloads: list[bytes] = []

        def receive(self, data: bytes, source: HostPort, transport: ports.Transport) -> None:
            self.payloads.append(data)
            if len(self.payloads) % 7 == 0:
                raise ValueError(f"receiver bug on {data!r}")

        def transport_error(self, target: Target, error: Exception) -> None:
            raise AssertionError(error)

    async def scenario() -> list[bytes]:
        receiver = FailsOnEvery7th()
        async with await UdpTransport.open(receiver, local_host="127.0.0.1") as udp:
            with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as peer:
                for n in range(count):
                    peer.sendto(b"d%d" % n, ("127.0.0.1", udp.bound_address.port))
                for _ in range(200):
                    if len(receiver.payloads) == count:
                        break
                    await asyncio.sleep(0.01)
        return receiver.payloads

    assert run(scenario()) == [b"d%d" % n for n in range(count)]
    assert caplog.text.count("receiver failed on a datagram") == count // 7
    assert "receiver bug on b'd6'" in caplog.text
