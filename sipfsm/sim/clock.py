"""A virtual clock with a deterministic event queue: the ``Clock`` and ``Timers`` ports.

Nothing sleeps and nothing runs on another thread.  Events are kept in a heap ordered by
``(time, seq)``: two events due at the same virtual instant run in the order they were scheduled,
so a run is a pure function of its inputs (and of the seeds of the randomness it uses).
"""

from __future__ import annotations

import heapq
from collections.abc import Callable
from typing import Any

__all__ = ["Scheduler", "SimTimer", "SimulationError", "VirtualClock"]

_heappush = heapq.heappush
_heappop = heapq.heappop


class SimulationError(RuntimeError):
    """The simulation did not settle (``run_until_idle`` hit its event budget)."""


class SimTimer:
    """The handle of one scheduled event (a ``TimerHandle``)."""

    __slots__ = ("_scheduler", "callback", "cancelled", "fired", "name", "when")

    def __init__(
        self, scheduler: Scheduler, when: float, name: str, callback: Callable[[], None]
    ) -> None:
        self._scheduler = scheduler
        self.when = when
        self.name = name
        self.callback: Callable[[], None] | None = callback
        self.cancelled = False
        self.fired = False

    def cancel(self) -> None:
        """Cancel the event; cancelling a fired or cancelled event does nothing."""
        if self.cancelled or self.fired:
            return
        self.cancelled = True
        self.callback = None  # let whatever the callback holds go now, not when the entry pops
        scheduler = self._scheduler
        scheduler._cancelled = cancelled = scheduler._cancelled + 1
        # Cancelled entries are dropped lazily; compact when they are most of the heap so that
        # long runs with many cancelled timers (Timer F of every finished transaction) stay small.
        if cancelled > 64 and cancelled * 2 > len(scheduler._queue):
            scheduler._compact()

    @property
    def pending(self) -> bool:
        return not (self.cancelled or self.fired)

    def __repr__(self) -> str:
        status = "cancelled" if self.cancelled else "fired" if self.fired else "pending"
        return f"<SimTimer {self.name!r} at {self.when:.6f} {status}>"


class Scheduler:
    """Virtual time plus a queue of events: implements ``ports.Clock`` and ``ports.Timers``.

    ``monotonic()`` is the virtual time (starting at ``start``); ``wall()`` is that plus
    ``epoch`` (a fixed Unix time, so Date headers are reproducible too).

    The queue is a heap of tuples ``(when, seq, timer)`` -- a :class:`SimTimer` the caller may
    cancel -- or ``(when, seq, None, callback, args)`` for the simulator's own events that
    nobody cancels (a datagram in flight): no handle object for those.  ``seq`` is unique, so
    the heap never compares beyond it.
    """

    def __init__(self, start: float = 0.0, *, epoch: float = 1_700_000_000.0) -> None:
        self._now = float(start)
        self.epoch = float(epoch)
        self._queue: list[tuple[Any, ...]] = []
        self._seq = 0
        self._cancelled = 0
        self.events_run = 0

    # ---- Clock ---------------------------------------------------------------------------

    @property
    def now(self) -> float:
        return self._now

    def monotonic(self) -> float:
        return self._now

    def wall(self) -> float:
        return self.epoch + self._now

    # ---- Timers --------------------------------------------------------------------------

    def start(self, name: str, delay: float, callback: Callable[[], None]) -> SimTimer:
        """Run ``callback`` ``delay`` seconds of virtual time from now (a negative delay counts
        as zero)."""
        when = self._now + delay if delay > 0.0 else self._now
        timer = SimTimer(self, when, name, callback)
        self._seq = seq = self._seq + 1
        _heappush(self._queue, (when, seq, timer))
        return timer

    def call_later(self, delay: float, callback: Callable[[], None], name: str = "") -> SimTimer:
        return self.start(name, delay, callback)

    def call_at(self, when: float, callback: Callable[[], None], name: str = "") -> SimTimer:
        if when < self._now:
            when = self._now
        timer = SimTimer(self, when, name, callback)
        self._seq = seq = self._seq + 1
        _heappush(self._queue, (when, seq, timer))
        return timer

    def post(self, when: float, callback: Callable[..., object], *args: Any) -> None:
        """Run ``callback(*args)`` at ``when`` (not before now), with no handle: the event
        cannot be cancelled.  Cheaper than :meth:`call_at` (no :class:`SimTimer`, no closure);
        ordered with every other event by ``(time, scheduling order)`` all the same."""
        if when < self._now:
            when = self._now
        self._seq = seq = self._seq + 1
        _heappush(self._queue, (when, seq, None, callback, args))

    # ---- running -------------------------------------------------------------------------

    def pending(self) -> int:
        """How many events are still due (cancelled ones excluded)."""
        return len(self._queue) - self._cancelled

    def next_time(self) -> float | None:
        """The virtual time of the next due event, or None when idle."""
        self._drop_cancelled_head()
        return self._queue[0][0] if self._queue else None

    def step(self) -> bool:
        """Run the next event (moving the clock to its time); False when there is none."""
        self._drop_cancelled_head()
        if not self._queue:
            return False
        entry = _heappop(self._queue)
        self._now = entry[0]
        self.events_run += 1
        timer = entry[2]
        if timer is None:
            entry[3](*entry[4])
            return True
        callback = timer.callback
        timer.fired = True
        timer.callback = None
        if callback is not None:
            callback()
        return True

    def run(self, until: float) -> int:
        """Run every event due at or before ``until``, then set the clock to ``until``.
        Returns the number of events run."""
        queue = self._queue
        pop = _heappop
        count = 0
        try:
            while queue:
                entry = queue[0]
                if entry[0] > until:
                    break
                timer = entry[2]
                if timer is None:
                    pop(queue)
                    self._now = entry[0]
                    count += 1
                    entry[3](*entry[4])
                    continue
                if timer.cancelled:
                    pop(queue)
                    self._cancelled -= 1
                    continue
                pop(queue)
                self._now = entry[0]
                count += 1
                callback = timer.callback
                timer.fired = True
                timer.callback = None
                if callback is not None:
                    callback()
        finally:
            self.events_run += count
        if until > self._now:
            self._now = until
        return count

    def advance(self, dt: float) -> int:
        """``run(until=now + dt)``."""
        return self.run(self._now + dt)

    def run_until_idle(self, max_events: int = 1_000_000) -> int:
        """Run events until none is left; :class:`SimulationError` after ``max_events`` (a
        system that never settles, e.g. a refresh loop, needs ``run(until=...)`` instead)."""
        count = 0
        while self.step():
            count += 1
            if count >= max_events and self.pending() > 0:
                raise SimulationError(
                    f"still {self.pending()} events pending after {count} (at t={self._now})"
                )
        return count

    # ---- housekeeping --------------------------------------------------------------------

    def _drop_cancelled_head(self) -> None:
        queue = self._queue
        while queue:
            timer = queue[0][2]
            if timer is None or not timer.cancelled:
                return
            _heappop(queue)
            self._cancelled -= 1

    def _compact(self) -> None:
        """Drop every cancelled entry (in place: a running :meth:`run` holds the list)."""
        queue = self._queue
        queue[:] = [e for e in queue if e[2] is None or not e[2].cancelled]
        heapq.heapify(queue)
        self._cancelled = 0


VirtualClock = Scheduler
