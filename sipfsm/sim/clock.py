"""A virtual clock with a deterministic event queue: the ``Clock`` and ``Timers`` ports.

Nothing sleeps and nothing runs on another thread.  Events are kept in a heap ordered by
``(time, seq)``: two events due at the same virtual instant run in the order they were scheduled,
so a run is a pure function of its inputs (and of the seeds of the randomness it uses).
"""

from __future__ import annotations

import heapq
from collections.abc import Callable

__all__ = ["Scheduler", "SimTimer", "SimulationError", "VirtualClock"]


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
        self._scheduler._cancelled_one()

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
    """

    def __init__(self, start: float = 0.0, *, epoch: float = 1_700_000_000.0) -> None:
        self._now = float(start)
        self.epoch = float(epoch)
        self._queue: list[tuple[float, int, SimTimer]] = []
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
        return self.call_at(self._now + max(0.0, delay), callback, name)

    def call_later(self, delay: float, callback: Callable[[], None], name: str = "") -> SimTimer:
        return self.start(name, delay, callback)

    def call_at(self, when: float, callback: Callable[[], None], name: str = "") -> SimTimer:
        when = max(when, self._now)
        timer = SimTimer(self, when, name, callback)
        self._seq += 1
        heapq.heappush(self._queue, (when, self._seq, timer))
        return timer

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
        when, _, timer = heapq.heappop(self._queue)
        self._now = when
        callback = timer.callback
        timer.fired = True
        timer.callback = None
        self.events_run += 1
        if callback is not None:
            callback()
        return True

    def run(self, until: float) -> int:
        """Run every event due at or before ``until``, then set the clock to ``until``.
        Returns the number of events run."""
        count = 0
        while True:
            self._drop_cancelled_head()
            if not self._queue or self._queue[0][0] > until:
                break
            self.step()
            count += 1
        self._now = max(self._now, until)
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
        while queue and queue[0][2].cancelled:
            heapq.heappop(queue)
            self._cancelled -= 1

    def _cancelled_one(self) -> None:
        self._cancelled += 1
        # Cancelled entries are dropped lazily; compact when they are most of the heap so that
        # long runs with many cancelled timers (Timer F of every finished transaction) stay small.
        if self._cancelled > 64 and self._cancelled * 2 > len(self._queue):
            self._queue = [entry for entry in self._queue if not entry[2].cancelled]
            heapq.heapify(self._queue)
            self._cancelled = 0


VirtualClock = Scheduler
