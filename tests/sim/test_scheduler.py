"""The simulator's scheduler against a reference written apart: a list scanned for the earliest
``(time, scheduling order)`` at every step.  Whatever the queue does inside (a heap for the next
second, buckets for later events, lazy cancellation, compaction), the events must run in that
order, at those times, and cancelled events never."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from sipfsm.sim import Scheduler


@dataclass
class _RefTimer:
    when: float
    order: int
    label: str
    callback: Any
    cancelled: bool = False
    done: bool = False

    def cancel(self) -> None:
        self.cancelled = True


@dataclass
class Reference:
    """The obvious scheduler: pick the earliest (time, order) among the live events, run it."""

    now: float = 0.0
    events: list[_RefTimer] = field(default_factory=list)
    order: int = 0

    def start(self, label: str, delay: float, callback: Any) -> _RefTimer:
        self.order += 1
        timer = _RefTimer(self.now + max(delay, 0.0), self.order, label, callback)
        self.events.append(timer)
        return timer

    def run(self, until: float) -> int:
        count = 0
        while True:
            live = [e for e in self.events if not e.cancelled and not e.done and e.when <= until]
            if not live:
                break
            first = min(live, key=lambda e: (e.when, e.order))
            first.done = True
            self.now = first.when
            count += 1
            first.callback()
        self.now = max(self.now, until)
        return count


# Delays: equal instants, sub-second, a few seconds, bucket boundaries, hours away.
DELAYS = st.one_of(st.sampled_from([0.0, 0.5, 1.0, 2.0, 32.0, 3600.0]),
                   st.floats(min_value=0.0, max_value=120.0, allow_nan=False),
                   st.floats(min_value=0.0, max_value=10_000.0, allow_nan=False))


@dataclass(frozen=True)
class Program:
    first: list[float]  # delays of the timers started before running
    children: list[tuple[float, int]]  # event i starts a child after delay, cancels event j
    cancels: list[int]  # started timers cancelled before running
    steps: list[float]  # run(until=now + step), in turn


PROGRAMS = st.builds(
    Program,
    first=st.lists(DELAYS, min_size=1, max_size=40),
    children=st.lists(st.tuples(DELAYS, st.integers(min_value=0, max_value=200)), max_size=60),
    cancels=st.lists(st.integers(min_value=0, max_value=60), max_size=30),
    steps=st.lists(st.one_of(st.sampled_from([0.0, 0.5, 1.0, 2.0, 32.0]),
                             st.floats(min_value=0.0, max_value=5_000.0, allow_nan=False)),
                   min_size=1, max_size=8),
)


def play(scheduler: Any, program: Program) -> list[tuple[str, float]]:
    """What ran, when, and where each ``run(until)`` stopped (its count, the clock after)."""
    ran: list[tuple[str, float]] = []
    handles: list[Any] = []

    def event(label: str, index: int) -> Any:
        def fire() -> None:
            ran.append((label, scheduler.now))
            if index < len(program.children):
                delay, victim = program.children[index]
                if victim < len(handles):
                    handles[victim].cancel()  # may be fired or cancelled already: a no-op then
                child = len(handles)
                handles.append(scheduler.start(f"c{child}", delay, event(f"c{child}", child)))
        return fire

    for i, delay in enumerate(program.first):
        handles.append(scheduler.start(f"t{i}", delay, event(f"t{i}", i)))
    for victim in program.cancels:
        if victim < len(handles):
            handles[victim].cancel()
    for step in program.steps:
        count = scheduler.run(until=scheduler.now + step)
        ran.append((f"run {count}", scheduler.now))
    return ran


@settings(max_examples=300)
@given(PROGRAMS)
def test_events_run_as_the_reference_orders_them(program: Program) -> None:
    assert play(Scheduler(), program) == play(Reference(), program)


@given(PROGRAMS, st.floats(min_value=-50.0, max_value=1e6, allow_nan=False))
def test_any_start_time(program: Program, start: float) -> None:
    ref = Reference(now=start)
    assert play(Scheduler(start), program) == play(ref, program)


def test_long_cancelled_timers_never_enter_the_heap() -> None:
    # Timer F of an answered transaction, a registration's expiry timer at each refresh: started
    # far ahead and cancelled before due.  They wait in buckets and are dropped unseen.
    clock = Scheduler()
    ran: list[int] = []
    timers = [clock.start("F", 32.0 + i, lambda: ran.append(1)) for i in range(50)]
    assert clock.pending() == 50 and clock._queue == []
    for timer in timers:
        timer.cancel()
    assert clock.pending() == 0
    assert clock.run(until=10_000) == 0 and ran == [] and clock.now == 10_000
    assert clock._queue == [] and clock._buckets == {}


def test_a_lone_timer_far_ahead_is_found() -> None:
    clock = Scheduler()
    ran: list[float] = []
    clock.start("far", 7 * 86_400.0 + 0.25, lambda: ran.append(clock.now))
    assert clock.next_time() == 7 * 86_400.0 + 0.25
    assert clock.run_until_idle() == 1 and ran == [7 * 86_400.0 + 0.25]
    clock.start("near", 0.5, lambda: ran.append(clock.now))  # after the horizon moved
    clock.post(clock.now, ran.append, -1.0)
    assert clock.run(until=clock.now + 1) == 2 and ran[1:] == [-1.0, 7 * 86_400.0 + 0.75]


def test_compaction_reaches_the_buckets() -> None:
    clock = Scheduler()
    timers = [clock.start("t", 100 + i * 0.1, lambda: None) for i in range(1000)]
    for timer in timers[:900]:
        timer.cancel()
    queued = len(clock._queue) + sum(len(b) for b in clock._buckets.values())
    assert clock.pending() == 100 and queued < 1000
    assert clock.run(until=1000) == 100
