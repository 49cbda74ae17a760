"""A virtual clock with a deterministic event queue: the ``Clock`` and ``Timers`` ports.

Nothing sleeps and nothing runs on another thread.  Events run in ``(time, seq)`` order: two
events due at the same virtual instant run in the order they were scheduled, so a run is a pure
function of its inputs (and of the seeds of the randomness it uses).

The queue has two levels.  Events due before the *horizon* (at most :data:`BUCKET` seconds past
the last event run) are in a heap; later ones wait unsorted in one-second buckets and go into the
heap, bucket by bucket, as the clock gets there.  Most long timers are cancelled before they are
due (Timer F of every answered transaction, a registration's expiry timer at each refresh): a
cancelled entry in a bucket is dropped when its bucket is reached and never costs a heap push or
pop, and the heap holds only the next second's events however many UAs are waiting.  The order
is exactly the one heap's: the entries are the same ``(time, seq, ...)`` tuples.
"""

from __future__ import annotations

import heapq
from collections import defaultdict
from collections.abc import Callable
from typing import Any

__all__ = ["BUCKET", "Scheduler", "SimTimer", "SimulationError", "VirtualClock"]

_heappush = heapq.heappush
_heappop = heapq.heappop

BUCKET = 1.0
"""Width of a bucket of later events, in virtual seconds (a power of two: ``when // BUCKET`` is
exact)."""

# Reaching the next non-empty bucket steps one bucket at a time this many times, then looks for
# the earliest bucket (a sparse queue: a timer hours away and nothing else).
_STEPS = 64


class SimulationError(RuntimeError):
    """The simulation did not settle (``run_until_idle`` hit its event budget)."""


class SimTimer:
    """The handle of one scheduled event (a ``TimerHandle``).  ``callback`` is None once the
    event has fired or been cancelled (``_cancelled`` is set only by :meth:`cancel`)."""

    __slots__ = ("_cancelled", "_scheduler", "callback", "name", "when")

    def __init__(
        self, scheduler: Scheduler, when: float, name: str, callback: Callable[[], None]
    ) -> None:
        self._scheduler = scheduler
        self.when = when
        self.name = name
        self.callback: Callable[[], None] | None = callback

    def cancel(self) -> None:
        """Cancel the event; cancelling a fired or cancelled event does nothing."""
        if self.callback is None:
            return
        self._cancelled = True
        self.callback = None  # let whatever the callback holds go now, not when the entry pops
        scheduler = self._scheduler
        scheduler._cancelled = cancelled = scheduler._cancelled + 1
        # Cancelled entries are dropped lazily; compact when they are most of the queue so that
        # long runs with many cancelled timers stay small.
        if cancelled > 64 and cancelled * 2 > len(scheduler._queue) + scheduler._parked:
            scheduler._compact()

    @property
    def cancelled(self) -> bool:
        return hasattr(self, "_cancelled")

    @property
    def fired(self) -> bool:
        return self.callback is None and not hasattr(self, "_cancelled")

    @property
    def pending(self) -> bool:
        return self.callback is not None

    def __repr__(self) -> str:
        status = "cancelled" if self.cancelled else "fired" if self.fired else "pending"
        return f"<SimTimer {self.name!r} at {self.when:.6f} {status}>"


def _live(entry: tuple[Any, ...]) -> bool:
    timer = entry[2]
    return timer is None or timer.callback is not None


def _timer(scheduler: Scheduler, when: float, name: str,
           callback: Callable[[], None]) -> SimTimer:
    """A :class:`SimTimer` without running ``__init__`` (one frame less a timer)."""
    timer = _new_timer(SimTimer)
    timer._scheduler = scheduler
    timer.when = when
    timer.name = name
    timer.callback = callback
    return timer


_new_timer = object.__new__


class Scheduler:
    """Virtual time plus a queue of events: implements ``ports.Clock`` and ``ports.Timers``.

    ``monotonic()`` is the virtual time (starting at ``start``); ``wall()`` is that plus
    ``epoch`` (a fixed Unix time, so Date headers are reproducible too).

    A queue entry is a tuple ``(when, seq, timer)`` -- a :class:`SimTimer` the caller may
    cancel -- or ``(when, seq, None, callback, args)`` for the simulator's own events that
    nobody cancels (a datagram in flight): no handle object for those.  ``seq`` is unique, so
    no comparison goes beyond it.  Entries due before ``_horizon`` are in the heap ``_queue``;
    the others in ``_buckets`` (bucket ``when // BUCKET``), ``_parked`` of them.
    """

    def __init__(self, start: float = 0.0, *, epoch: float = 1_700_000_000.0) -> None:
        self._now = float(start)
        self.epoch = float(epoch)
        self._queue: list[tuple[Any, ...]] = []
        # Bucket ``when // BUCKET`` (a float with an integral value) -> its entries, unsorted.
        self._buckets: defaultdict[float, list[tuple[Any, ...]]] = defaultdict(list)
        self._parked = 0
        # Every entry due before the horizon is in the heap; every parked one is due at or after.
        self._next_bucket = self._now // BUCKET + 1.0
        self._horizon = self._next_bucket * BUCKET
        self._seq = 0
        self._cancelled = 0  # cancelled entries still queued (heap or buckets)
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
        timer = _new_timer(SimTimer)  # SimTimer(self, when, name, callback), one frame less
        timer._scheduler = self
        timer.when = when
        timer.name = name
        timer.callback = callback
        self._seq = seq = self._seq + 1
        if when < self._horizon:
            _heappush(self._queue, (when, seq, timer))
        else:  # self._park((when, seq, timer)), inlined: most timers are parked
            self._buckets[when // BUCKET].append((when, seq, timer))
            self._parked += 1
        return timer

    def call_later(self, delay: float, callback: Callable[[], None], name: str = "") -> SimTimer:
        return self.start(name, delay, callback)

    def call_at(self, when: float, callback: Callable[[], None], name: str = "") -> SimTimer:
        if when < self._now:
            when = self._now
        timer = _timer(self, when, name, callback)
        self._seq = seq = self._seq + 1
        if when < self._horizon:
            _heappush(self._queue, (when, seq, timer))
        else:
            self._park((when, seq, timer))
        return timer

    def post(self, when: float, callback: Callable[..., object], *args: Any) -> None:
        """Run ``callback(*args)`` at ``when`` (not before now), with no handle: the event
        cannot be cancelled.  Cheaper than :meth:`call_at` (no :class:`SimTimer`, no closure);
        ordered with every other event by ``(time, scheduling order)`` all the same."""
        if when < self._now:
            when = self._now
        self._seq = seq = self._seq + 1
        if when < self._horizon:
            _heappush(self._queue, (when, seq, None, callback, args))
        else:
            self._park((when, seq, None, callback, args))

    def _park(self, entry: tuple[Any, ...]) -> None:
        """Queue an entry due at or after the horizon in its bucket."""
        self._buckets[entry[0] // BUCKET].append(entry)
        self._parked += 1

    def _unpark(self) -> bool:
        """Move the next non-empty bucket into the heap and the horizon past it; False when no
        entry is parked."""
        buckets = self._buckets
        if not buckets:
            return False
        index = self._next_bucket
        for _ in range(_STEPS):
            bucket = buckets.pop(index, None)
            index += 1.0
            if bucket is not None:
                break
        else:
            index = min(buckets)
            bucket = buckets.pop(index)
            index += 1.0
        self._next_bucket = index
        self._horizon = index * BUCKET
        self._parked -= len(bucket)
        queue = self._queue
        for entry in bucket:
            timer = entry[2]
            if timer is not None and timer.callback is None:  # cancelled
                self._cancelled -= 1
            else:
                _heappush(queue, entry)
        return True

    # ---- running -------------------------------------------------------------------------

    def pending(self) -> int:
        """How many events are still due (cancelled ones excluded)."""
        return len(self._queue) + self._parked - self._cancelled

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
        timer.callback = None  # fired
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
            while True:
                if not queue:
                    # Every parked entry is due at or after the horizon.
                    if self._horizon > until or not self._unpark():
                        break
                    continue
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
                callback = timer.callback
                pop(queue)
                if callback is None:  # cancelled
                    self._cancelled -= 1
                    continue
                timer.callback = None  # fired
                self._now = entry[0]
                count += 1
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
        """Drop cancelled entries at the head, reaching into the buckets when the heap is empty:
        afterwards the head of the heap (if any) is the next live event."""
        queue = self._queue
        while True:
            if not queue:
                if not self._unpark():
                    return
                continue
            timer = queue[0][2]
            if timer is None or timer.callback is not None:
                return
            _heappop(queue)
            self._cancelled -= 1

    def _compact(self) -> None:
        """Drop every cancelled entry (in place: a running :meth:`run` holds the heap)."""
        queue = self._queue
        queue[:] = [e for e in queue if _live(e)]
        heapq.heapify(queue)
        buckets = self._buckets
        parked = 0
        for index in list(buckets):
            kept = [e for e in buckets[index] if _live(e)]
            if kept:
                buckets[index] = kept
                parked += len(kept)
            else:
                del buckets[index]
        self._parked = parked
        self._cancelled = 0


VirtualClock = Scheduler
