"""The simulated network's fast path for plain UDP datagrams decides exactly as the general
path (same draws, same order, same delivery times), and loses datagrams at the configured rate
in both directions."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from sipfsm.ports import HostPort, Target, Transport
from sipfsm.sim import LinkFaults, Network, Recorder, Scheduler

A = HostPort("192.0.2.10", 5060)
B = HostPort("192.0.2.1", 5060)


class Echo:
    """B: answers every datagram once (a stateless peer), so traffic flows both ways."""

    def __init__(self, clock: Scheduler) -> None:
        self.clock = clock
        self.got: list[tuple[float, bytes]] = []

    def receive(self, data: bytes, source: HostPort, transport: Transport) -> None:
        self.got.append((self.clock.now, data))
        if not data.startswith(b"re:"):
            transport.send(b"re:" + data, Target("UDP", source.host, source.port))

    def transport_error(self, target: Target, error: Exception) -> None:
        raise AssertionError(error)


def exchange(seed: int, faults: LinkFaults, n: int, *, recorded: bool) -> tuple[object, ...]:
    clock = Scheduler()
    # A recorder sends every datagram down the general path; without one, plain UDP datagrams
    # take the fast path.
    net = Network(clock, seed=seed, faults=faults, recorder=Recorder(clock) if recorded else None)
    a, b = Echo(clock), Echo(clock)
    end_a = net.endpoint(A, "UDP", a)
    net.endpoint(B, "UDP", b)
    to_b = Target("UDP", B.host, B.port)
    for i in range(n):
        clock.post(i * 0.37, end_a.send, b"%d" % i, to_b)
    clock.run_until_idle()
    return a.got, b.got, dict(net.stats)


@settings(max_examples=40)
@given(seed=st.integers(0, 2**32), loss=st.sampled_from([0.0, 0.1, 0.5, 1.0]),
       delay=st.sampled_from([(0.0, 0.0), (0.01, 0.05), (0.3, 0.3), (0.5, 2.5)]))
def test_fast_path_is_the_general_path(seed: int, loss: float,
                                       delay: tuple[float, float]) -> None:
    faults = LinkFaults(loss=loss, delay=delay)
    assert exchange(seed, faults, 60, recorded=False) == exchange(seed, faults, 60, recorded=True)


def test_loss_is_the_configured_rate_both_ways() -> None:
    n, loss = 20_000, 0.1
    a_got, b_got, stats = exchange(7, LinkFaults(loss=loss, delay=(0.01, 0.05)), n,
                                   recorded=False)
    assert isinstance(a_got, list) and isinstance(b_got, list) and isinstance(stats, dict)
    requests = len(b_got)  # reached B
    answers = len(a_got)  # B's answers that reached A
    # Binomial(n, 0.9): sd = sqrt(n * 0.09) ~ 42 at n = 20,000; 5 sd either side.
    assert abs(requests - n * (1 - loss)) < 5 * (n * loss * (1 - loss)) ** 0.5
    assert abs(answers - requests * (1 - loss)) < 5 * (requests * loss * (1 - loss)) ** 0.5
    assert stats["lost"] == (n - requests) + (requests - answers)
    assert stats["sent"] == n + requests and stats["delivered"] == requests + answers
