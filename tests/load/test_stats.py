"""Load statistics: the latency histogram's percentiles and the merge of worker snapshots."""

from __future__ import annotations

from sipfsm.load.stats import Histogram, Snapshot, live_line, merge, to_json


def test_percentiles_are_read_to_within_one_5_percent_bucket() -> None:
    histogram = Histogram()
    for ms in range(1, 101):  # 1 .. 100 ms, once each: p50 = 50 ms, p99 = 99 ms
        histogram.add(ms / 1000)
    for q, exact in ((0.5, 50.0), (0.99, 99.0), (1.0, 100.0)):
        value = histogram.percentile(q)
        assert value is not None
        assert exact <= value <= exact * 1.05 + 1e-9, (q, value)
    assert Histogram().percentile(0.5) is None


def test_merge_adds_the_workers_up() -> None:
    a = Snapshot(
        elapsed=3.0,
        users=10,
        registered=10,
        refreshes=4,
        live=9,
        failures={"auth": 1},
        transactions=20,
        requests_sent=22,
        retransmissions=2,
        cpu_seconds=0.5,
        done=True,
    )
    b = Snapshot(
        elapsed=3.5,
        users=5,
        registered=4,
        live=4,
        failures={"auth": 1, "timeout": 2},
        transactions=8,
        requests_sent=8,
        cpu_seconds=0.25,
        done=False,
    )
    fa, fb = Histogram(), Histogram()
    fa.add(0.010)
    fb.add(0.020)
    a.latency, b.latency = fa.counts, fb.counts
    total = merge([a, b])
    assert (total.elapsed, total.users, total.registered, total.live) == (3.5, 15, 14, 13)
    assert total.failures == {"auth": 2, "timeout": 2}
    assert total.failed == 4
    assert (total.transactions, total.requests_sent, total.retransmissions) == (28, 30, 2)
    assert total.cpu_seconds == 0.75
    assert total.processes == 2
    assert total.histogram().total == 2
    assert not total.done  # one worker is still running
    data = to_json(total)
    assert data["failed"] == 4 and data["users"] == 15
    line = live_line(total, None, 1.0)
    assert "failed 4 (" in line and "retrans 2" in line
