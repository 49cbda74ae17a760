"""Statistics of a load run: counters, a latency histogram, merging across processes, and the
live line / summary / JSON renderings.

A :class:`Snapshot` is a plain, picklable value: every worker process sends its own once a
second and once at the end, and the parent adds them up (:func:`merge`).  Latencies go into
fixed log-spaced buckets (5 % wide, 0.1 ms to ~2 h), so that merging is a sum and a percentile is
read to within one bucket.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

__all__ = ["BUCKETS", "Histogram", "Snapshot", "live_line", "merge", "summary_lines", "to_json"]

_LOW_MS = 0.1
_GROWTH = 1.05
BUCKETS = 400  # 0.1 ms * 1.05**400 ~ 2.9e7 ms: anything longer lands in the last bucket
_LOG_GROWTH = math.log(_GROWTH)


class Histogram:
    """Counts of latencies in log-spaced buckets."""

    __slots__ = ("counts", "total")

    def __init__(self, counts: list[int] | None = None) -> None:
        self.counts = counts if counts is not None else [0] * BUCKETS
        self.total = sum(self.counts)

    def add(self, seconds: float) -> None:
        ms = seconds * 1000.0
        index = 0 if ms <= _LOW_MS else int(math.log(ms / _LOW_MS) / _LOG_GROWTH) + 1
        self.counts[min(index, BUCKETS - 1)] += 1
        self.total += 1

    def percentile(self, q: float) -> float | None:
        """The upper bound (ms) of the bucket holding the ``q`` quantile; None when empty."""
        if not self.total:
            return None
        rank = max(1, math.ceil(q * self.total))
        seen = 0
        for index, count in enumerate(self.counts):
            seen += count
            if seen >= rank:
                return _LOW_MS * _GROWTH**index
        return _LOW_MS * _GROWTH ** (BUCKETS - 1)  # pragma: no cover - rank <= total

    def merged(self, other: Histogram) -> Histogram:
        return Histogram([a + b for a, b in zip(self.counts, other.counts, strict=True)])


@dataclass
class Snapshot:
    """What one worker (or, merged, the whole run) has done so far."""

    elapsed: float = 0.0  # seconds since the first REGISTER
    ramp_seconds: float = 0.0  # first REGISTER to the last initial outcome (success or failure)
    users: int = 0  # users this worker owns
    started: int = 0  # initial registrations started
    registered: int = 0  # initial registrations that succeeded
    refreshes: int = 0  # refreshes that succeeded
    reregistered: int = 0  # registered again after a failure
    live: int = 0  # users registered right now
    in_flight: int = 0  # users with a REGISTER transaction in progress right now
    unregistered: int = 0  # successful unregistrations at the end
    failures: dict[str, int] = field(default_factory=dict)  # Failed, by reason (and status)
    retries: dict[str, int] = field(default_factory=dict)  # Retrying, by reason (and status)
    transactions: int = 0  # REGISTER transactions started (each 401 round is one)
    requests_sent: int = 0  # REGISTER datagrams / messages sent, retransmissions included
    retransmissions: int = 0  # requests_sent - transactions over UDP (0 over TCP)
    cpu_seconds: float = 0.0  # the worker's own process CPU time during the run
    processes: int = 1
    latency: list[int] = field(default_factory=lambda: [0] * BUCKETS)  # initial registration
    done: bool = False

    @property
    def failed(self) -> int:
        return sum(self.failures.values())

    def histogram(self) -> Histogram:
        return Histogram(list(self.latency))


def merge(snapshots: Iterable[Snapshot]) -> Snapshot:
    """The sum of several workers' snapshots (elapsed: the longest)."""
    out = Snapshot(processes=0)
    failures: Counter[str] = Counter()
    retries: Counter[str] = Counter()
    latency = [0] * BUCKETS
    done = True
    for s in snapshots:
        out.elapsed = max(out.elapsed, s.elapsed)
        out.ramp_seconds = max(out.ramp_seconds, s.ramp_seconds)
        out.users += s.users
        out.started += s.started
        out.registered += s.registered
        out.refreshes += s.refreshes
        out.reregistered += s.reregistered
        out.live += s.live
        out.in_flight += s.in_flight
        out.unregistered += s.unregistered
        failures.update(s.failures)
        retries.update(s.retries)
        out.transactions += s.transactions
        out.requests_sent += s.requests_sent
        out.retransmissions += s.retransmissions
        out.cpu_seconds += s.cpu_seconds
        out.processes += s.processes
        latency = [a + b for a, b in zip(latency, s.latency, strict=True)]
        done = done and s.done
    out.failures = dict(failures)
    out.retries = dict(retries)
    out.latency = latency
    out.done = done
    return out


def _ms(value: float | None) -> str:
    return "-" if value is None else f"{value:.1f} ms"


def _reasons(counts: dict[str, int]) -> str:
    if not counts:
        return "0"
    parts = ", ".join(f"{name} {n}" for name, n in sorted(counts.items(), key=lambda kv: -kv[1]))
    return f"{sum(counts.values())} ({parts})"


def live_line(now: Snapshot, previous: Snapshot | None, interval: float) -> str:
    """One line a second, like SIPp's screen: the rate over the last interval and the totals."""
    before = previous.registered + previous.refreshes if previous is not None else 0
    rate = (now.registered + now.refreshes - before) / interval if interval > 0 else 0.0
    histogram = now.histogram()
    return (
        f"[{now.elapsed:7.1f}s] {rate:8.1f} reg/s  in flight {now.in_flight:6d}  "
        f"registered {now.live:7d}/{now.users}  refreshed {now.refreshes:7d}  "
        f"failed {_reasons(now.failures)}  retrans {now.retransmissions}  "
        f"p50 {_ms(histogram.percentile(0.5))}  p99 {_ms(histogram.percentile(0.99))}"
    )


def _per_registration_us(s: Snapshot) -> float | None:
    exchanges = s.registered + s.refreshes + s.reregistered
    return s.cpu_seconds / exchanges * 1e6 if exchanges else None


def to_json(s: Snapshot, **extra: Any) -> dict[str, Any]:
    """The run's result as JSON-ready data (stable keys)."""
    histogram = s.histogram()
    return {
        **extra,
        "processes": s.processes,
        "users": s.users,
        "elapsed_seconds": round(s.elapsed, 3),
        "started": s.started,
        "registered": s.registered,
        "refreshes": s.refreshes,
        "reregistered": s.reregistered,
        "live_at_end": s.live,
        "in_flight_at_end": s.in_flight,
        "unregistered": s.unregistered,
        "failed": s.failed,
        "failures": dict(sorted(s.failures.items())),
        "retries": dict(sorted(s.retries.items())),
        "transactions": s.transactions,
        "requests_sent": s.requests_sent,
        "retransmissions": s.retransmissions,
        "ramp_seconds": round(s.ramp_seconds, 3),
        "registrations_per_second": _initial_rate(s),
        "latency_ms": {
            "p50": histogram.percentile(0.5),
            "p90": histogram.percentile(0.9),
            "p99": histogram.percentile(0.99),
            "max_bucket": histogram.percentile(1.0),
        },
        "cpu_seconds": round(s.cpu_seconds, 3),
        "cpu_us_per_registration": (
            None if _per_registration_us(s) is None else round(_per_registration_us(s) or 0.0, 1)
        ),
    }


def _initial_rate(s: Snapshot) -> float:
    """Initial registrations completed per second of the ramp."""
    return round(s.registered / s.ramp_seconds, 2) if s.ramp_seconds > 0 else 0.0


def summary_lines(s: Snapshot) -> list[str]:
    """The final summary, for people."""
    histogram = s.histogram()
    rate = _initial_rate(s)
    per = _per_registration_us(s)
    return [
        f"users {s.users} over {s.processes} process(es), {s.elapsed:.1f} s",
        f"initial registrations: {s.registered}/{s.started} ok in {s.ramp_seconds:.2f} s "
        f"({rate:.1f}/s), "
        f"refreshes {s.refreshes}, re-registrations {s.reregistered}, "
        f"unregistered {s.unregistered}",
        f"registered at the end: {s.live}; in flight at the end: {s.in_flight}",
        f"failures: {_reasons(s.failures)}; retries: {_reasons(s.retries)}",
        f"transactions {s.transactions}, requests sent {s.requests_sent}, "
        f"retransmissions {s.retransmissions}",
        f"latency register -> registered: p50 {_ms(histogram.percentile(0.5))}, "
        f"p90 {_ms(histogram.percentile(0.9))}, p99 {_ms(histogram.percentile(0.99))}",
        f"CPU {s.cpu_seconds:.2f} s"
        + ("" if per is None else f" ({per:.0f} us per successful REGISTER exchange)"),
    ]
