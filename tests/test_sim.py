"""The simulator: virtual clock, seeded randomness, in-memory network, recorder."""

from __future__ import annotations

import json
from functools import partial
from pathlib import Path

import pytest

from sipfsm.errors import ConfigError, TransportError
from sipfsm.ladder import read_trace
from sipfsm.ports import HostPort, Target, Transport
from sipfsm.sim import (
    TRACE_FIELDS,
    LinkFaults,
    Network,
    Recorder,
    Scheduler,
    SeededRandom,
    SimulationError,
    address,
)

A = HostPort("192.0.2.10", 5060)
B = HostPort("192.0.2.1", 5060)


class Sink:
    def __init__(self, clock: Scheduler) -> None:
        self.clock = clock
        self.got: list[tuple[float, bytes, HostPort, str]] = []
        self.errors: list[tuple[Target, Exception]] = []

    def receive(self, data: bytes, source: HostPort, transport: Transport) -> None:
        self.got.append((self.clock.now, data, source, transport.name))

    def transport_error(self, target: Target, error: Exception) -> None:
        self.errors.append((target, error))


def test_events_run_in_time_then_scheduling_order() -> None:
    clock = Scheduler()
    ran: list[str] = []
    clock.start("b", 2.0, lambda: ran.append("b"))
    clock.start("a1", 1.0, lambda: ran.append("a1"))
    clock.start("a2", 1.0, lambda: ran.append("a2"))
    cancelled = clock.start("c", 0.5, lambda: ran.append("c"))
    cancelled.cancel()
    cancelled.cancel()
    assert clock.next_time() == 1.0
    assert clock.run(until=1.5) == 2
    assert ran == ["a1", "a2"] and clock.now == 1.5 and clock.monotonic() == 1.5
    clock.advance(10)
    assert ran == ["a1", "a2", "b"] and clock.now == 11.5
    assert clock.wall() == clock.epoch + 11.5


def test_timers_scheduled_by_callbacks_and_idle() -> None:
    clock = Scheduler()
    count = 0

    def again() -> None:
        nonlocal count
        count += 1
        if count < 5:
            clock.start("again", 0.25, again)

    clock.start("again", 0, again)
    assert clock.run_until_idle() == 5 and clock.now == 1.0 and clock.pending() == 0


def test_run_until_idle_refuses_to_spin_forever() -> None:
    clock = Scheduler()

    def forever() -> None:
        clock.start("forever", 1, forever)

    clock.start("forever", 1, forever)
    with pytest.raises(SimulationError):
        clock.run_until_idle(max_events=100)


def test_many_cancellations_are_compacted() -> None:
    clock = Scheduler()
    timers = [clock.start("t", 100 + i, lambda: None) for i in range(1000)]
    for timer in timers[:900]:
        timer.cancel()
    assert clock.pending() == 100 and len(clock._queue) < 1000


def test_seeded_random_is_reproducible_tokens_are_token_chars() -> None:
    a, b = SeededRandom(42), SeededRandom(42)
    tokens = [a.token(72) for _ in range(20)]
    assert tokens == [b.token(72) for _ in range(20)]
    assert all(len(t) == 15 and t.isalnum() and t.islower() for t in tokens)
    assert len(set(tokens)) == 20
    assert 1.0 <= a.uniform(1.0, 2.0) <= 2.0


def test_address_parsing() -> None:
    assert address("192.0.2.1:5060") == HostPort("192.0.2.1", 5060)
    assert address("[2001:db8::1]:5061") == HostPort("2001:db8::1", 5061)
    assert address(("h", 1)) == HostPort("h", 1)
    with pytest.raises(ConfigError):
        address("nope")


def test_link_faults_are_validated() -> None:
    with pytest.raises(ConfigError):
        LinkFaults(loss=1.5)
    with pytest.raises(ConfigError):
        LinkFaults(delay=(0.2, 0.1))


def run_udp(seed: int, faults: LinkFaults, n: int = 200) -> list[tuple[float, bytes]]:
    clock = Scheduler()
    net = Network(clock, seed=seed, faults=faults)
    sender = net.endpoint(A, "UDP")
    sink = Sink(clock)
    net.endpoint(B, "UDP", sink)
    for i in range(n):
        clock.start("send", i * 0.01, partial(sender.send, b"%d" % i, Target("UDP", *B_T)))
    clock.run_until_idle()
    return [(t, d) for t, d, _, _ in sink.got]


B_T = (B.host, B.port)


def test_udp_faults_are_seeded_and_happen() -> None:
    faults = LinkFaults(loss=0.2, duplicate=0.2, reorder=0.2, delay=(0.001, 0.05))
    first, again = run_udp(1, faults), run_udp(1, faults)
    assert first == again  # same seed, same run
    assert run_udp(2, faults) != first
    payloads = [d for _, d in first]
    assert len(set(payloads)) < 200  # some lost
    assert len(payloads) != len(set(payloads))  # some duplicated
    assert payloads != sorted(set(payloads), key=lambda d: int(d))  # some reordered


def test_perfect_link_delivers_everything_in_order() -> None:
    got = run_udp(1, LinkFaults())
    assert [d for _, d in got] == [b"%d" % i for i in range(200)]


def test_reliable_endpoints_never_lose_duplicate_or_reorder() -> None:
    clock = Scheduler()
    faults = LinkFaults(loss=0.5, duplicate=0.5, reorder=0.5, delay=(0.0, 0.2))
    net = Network(clock, seed=3, faults=faults)
    sender = net.endpoint(A, "TCP")
    sink = Sink(clock)
    net.endpoint(B, "TCP", sink)
    assert sender.reliable and sender.name == "TCP"
    for i in range(300):
        sender.send(b"%d" % i, Target("TCP", B.host, B.port))
    clock.run_until_idle()
    assert [d for _, d, _, _ in sink.got] == [b"%d" % i for i in range(300)]
    assert all(source == A and name == "TCP" for _, _, source, name in sink.got)


def test_unreachable_udp_reports_icmp_and_tcp_raises() -> None:
    clock = Scheduler()
    net = Network(clock, seed=0)
    sink = Sink(clock)
    udp = net.endpoint(A, "UDP", sink)
    udp.send(b"x", Target("UDP", "198.51.100.1", 5060))
    clock.run_until_idle()
    assert len(sink.errors) == 1 and isinstance(sink.errors[0][1], TransportError)
    tcp = net.endpoint(A, "TCP", sink)
    with pytest.raises(TransportError):
        tcp.send(b"x", Target("TCP", "198.51.100.1", 5060))
    net.endpoint(B, "UDP", Sink(clock))
    net.set_faults(A, B, LinkFaults(down=True))
    udp.send(b"x", Target("UDP", B.host, B.port))
    clock.run_until_idle()
    assert len(sink.errors) == 2


def test_binding_twice_is_refused_and_close_unbinds() -> None:
    clock = Scheduler()
    net = Network(clock)
    end = net.endpoint(A, "UDP")
    with pytest.raises(ConfigError):
        net.endpoint(A, "UDP")
    net.endpoint(A, "TCP")  # another transport at the same address is fine
    end.close()
    with pytest.raises(TransportError):
        end.send(b"x", Target("UDP", B.host, B.port))
    net.endpoint(A, "UDP")


def test_recorder_trace_format(tmp_path: Path) -> None:
    clock = Scheduler()
    recorder = Recorder(clock)
    net = Network(clock, seed=0, faults=LinkFaults(delay=(0.25, 0.25)), recorder=recorder)
    a = net.endpoint(A, "UDP", Sink(clock))
    net.endpoint(B, "UDP", Sink(clock))
    clock.advance(1.0)
    a.send(b"OPTIONS sip:x SIP/2.0\r\n\r\n", Target("UDP", B.host, B.port))
    clock.run_until_idle()
    lines = recorder.dumps().splitlines()
    records = [json.loads(line) for line in lines]
    assert [tuple(r) for r in records] == [TRACE_FIELDS, TRACE_FIELDS]
    assert records[0] == {"time": 1.0, "direction": "sent", "transport": "UDP",
                          "local": "192.0.2.10:5060", "remote": "192.0.2.1:5060",
                          "message": "OPTIONS sip:x SIP/2.0\r\n\r\n"}
    assert records[1]["direction"] == "received" and records[1]["time"] == 1.25
    assert records[1]["local"] == "192.0.2.1:5060" and records[1]["remote"] == "192.0.2.10:5060"
    path = tmp_path / "trace.jsonl"
    recorder.to_jsonl(path, local=A)
    ladder = read_trace(path)  # the ladder renderer reads the same format
    assert len(ladder) == 1 and ladder[0].direction == "sent"
    assert len(recorder.select(direction="received")) == 1


def test_distinct_seeds_give_distinct_streams() -> None:
    # CPython's Random(2) and Random(2**32 + 2) coincide; SeededRandom must not.
    assert SeededRandom(2).token(128) != SeededRandom(2**32 + 2).token(128)
    assert SeededRandom(2).token(128) == SeededRandom(2).token(128)
    assert SeededRandom(2).token(128) != SeededRandom("2").token(128)


def test_posted_events_share_the_timers_order_and_cannot_go_back_in_time() -> None:
    clock = Scheduler()
    ran: list[str] = []
    clock.start("t1", 1.0, lambda: ran.append("t1"))
    clock.post(1.0, ran.append, "p1")
    clock.start("t2", 1.0, lambda: ran.append("t2"))
    clock.post(0.5, ran.append, "p0")
    assert clock.pending() == 4 and clock.next_time() == 0.5
    clock.run(until=2.0)
    assert ran == ["p0", "t1", "p1", "t2"] and clock.events_run == 4
    clock.post(1.0, ran.append, "late")  # in the past: runs now, not before now
    assert clock.next_time() == 2.0 and clock.step() and ran[-1] == "late"
    assert clock.now == 2.0 and clock.events_run == 5


def test_compaction_while_running_keeps_every_live_event() -> None:
    clock = Scheduler()
    ran: list[int] = []
    timers = [clock.start("t", 10 + i, partial(ran.append, i)) for i in range(200)]

    def cancel_most() -> None:  # cancelled from inside run(): the heap is compacted mid-run
        for timer in timers[:150]:
            timer.cancel()

    clock.start("cancel", 5, cancel_most)
    clock.post(7, ran.append, -1)
    assert clock.run(until=1000) == 1 + 1 + 50
    assert ran == [-1, *range(150, 200)] and clock.pending() == 0


def test_topology_changes_reach_endpoints_that_already_sent() -> None:
    clock = Scheduler()
    net = Network(clock, seed=0)
    sender = net.endpoint(A, "UDP", Sink(clock))
    to_b = Target("UDP", B.host, B.port)
    sender.send(b"1", to_b)  # nobody at B yet: lost (ICMP)
    sink = Sink(clock)
    b = net.endpoint(B, "UDP", sink)
    sender.send(b"2", to_b)
    net.set_faults(A, B, LinkFaults(loss=1.0))
    sender.send(b"3", to_b)
    net.set_faults(A, B, LinkFaults())
    sender.send(b"4", to_b)
    net.default_faults = LinkFaults(loss=1.0)  # a link with its own faults keeps them
    sender.send(b"5", to_b)
    clock.run_until_idle()
    b.close()
    sender.send(b"6", to_b)
    clock.run_until_idle()
    assert [d for _, d, _, _ in sink.got] == [b"2", b"4", b"5"]
    assert net.stats["unreachable"] == 2 and net.stats["lost"] == 1
