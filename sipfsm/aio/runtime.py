"""Timers, clock and randomness for the asyncio world (the ``Timers``, ``Clock`` and ``Random``
ports)."""

from __future__ import annotations

import asyncio
import heapq
import os
import secrets
import threading
import time
from collections.abc import Callable

from sipfsm.ports import TimerHandle

__all__ = ["AioTimers", "SecretsRandom", "SystemClock"]


_RESOLUTION = time.get_clock_info("monotonic").resolution


class _Timer:
    """A handle of :class:`AioTimers`: ``cancel`` drops the callback (and what it holds)."""

    __slots__ = ("_callback", "_timers")

    def __init__(self, timers: AioTimers, callback: Callable[[], None]) -> None:
        self._timers = timers
        self._callback: Callable[[], None] | None = callback

    def cancel(self) -> None:
        if self._callback is not None:
            self._callback = None
            self._timers._cancelled += 1


class AioTimers:
    """``Timers`` on an asyncio event loop; cancelling a fired or cancelled timer does nothing.

    The timers are kept in one heap of ``(deadline, sequence, timer)`` tuples, compared in C,
    with a single ``loop.call_at`` for the earliest deadline: a load generator starts about
    seven timers per registration and cancels most of them, and asyncio's own heap orders its
    TimerHandles with a Python ``__lt__`` (~55 calls per registration measured).  A timer runs
    in the first loop iteration at or after its deadline, as ``loop.call_later`` would; timers
    that fall due together run in deadline order, and one started by a running timer waits for
    the next turn of the loop even with a zero delay."""

    def __init__(self, loop: asyncio.AbstractEventLoop | None = None) -> None:
        self._loop = loop
        self._heap: list[tuple[float, int, _Timer]] = []
        self._sequence = 0
        self._cancelled = 0  # cancelled timers still in the heap
        self._handle: asyncio.TimerHandle | None = None
        self._armed_at = 0.0  # the deadline _handle is for

    @property
    def loop(self) -> asyncio.AbstractEventLoop:
        if self._loop is None:
            self._loop = asyncio.get_running_loop()
        return self._loop

    def start(self, name: str, delay: float, callback: Callable[[], None]) -> TimerHandle:
        loop = self.loop
        deadline = loop.time() + (delay if delay > 0.0 else 0.0)
        timer = _Timer(self, callback)
        self._sequence += 1
        heapq.heappush(self._heap, (deadline, self._sequence, timer))
        if self._handle is None or deadline < self._armed_at:
            self._arm()
        return timer

    def __len__(self) -> int:
        """Timers started and neither fired nor cancelled."""
        return len(self._heap) - self._cancelled

    def _arm(self) -> None:
        heap = self._heap
        if self._cancelled > 64 and self._cancelled * 2 > len(heap):
            # Mostly cancelled timers (Timer F is nearly always cancelled): rebuild.
            heap[:] = [entry for entry in heap if entry[2]._callback is not None]
            heapq.heapify(heap)
            self._cancelled = 0
        while heap and heap[0][2]._callback is None:
            heapq.heappop(heap)
            self._cancelled -= 1
        handle = self._handle
        if not heap:
            if handle is not None:
                handle.cancel()
                self._handle = None
            return
        deadline = heap[0][0]
        if handle is not None:
            if self._armed_at <= deadline:
                return  # fires first and re-arms then
            handle.cancel()
        self._handle = self.loop.call_at(deadline, self._fire)
        self._armed_at = deadline

    def _fire(self) -> None:
        self._handle = None
        loop = self.loop
        # asyncio runs a TimerHandle when its deadline is before now + the clock's resolution.
        end = loop.time() + _RESOLUTION
        heap = self._heap
        due: list[tuple[float, int, _Timer]] = []
        while heap and heap[0][0] < end:
            entry = heapq.heappop(heap)
            if entry[2]._callback is None:
                self._cancelled -= 1
            else:
                due.append(entry)
        for done, entry in enumerate(due):
            timer = entry[2]
            callback = timer._callback
            if callback is None:  # cancelled by a timer that ran before it
                self._cancelled -= 1
                continue
            timer._callback = None
            try:
                callback()
            except (SystemExit, KeyboardInterrupt):
                for later in due[done + 1:]:  # they still run, on the next turn
                    heapq.heappush(heap, later)
                self._arm()
                raise
            except BaseException as exc:
                loop.call_exception_handler({
                    "message": f"Exception in timer callback {callback!r}",
                    "exception": exc,
                })
        if self._handle is None:
            self._arm()


class SystemClock:
    """``Clock``: ``time.monotonic`` and ``time.time``."""

    def monotonic(self) -> float:
        return time.monotonic()

    def wall(self) -> float:
        return time.time()


# RFC 4648 base32 in lower case: 32 SIP token characters (RFC 3261 §25.1), 5 bits each.
_BASE32 = b"abcdefghijklmnopqrstuvwxyz234567"
# Each random byte becomes the character of its low 5 bits: 256 is a multiple of 32, so every
# character is equally likely and carries 5 bits.
_FIVE_BITS = bytes(_BASE32[byte & 31] for byte in range(256))
_POOL_BYTES = 4096


class _TokenPool:
    """Characters drawn from ``os.urandom`` a block at a time and handed out once each: one
    system call and one translation per ~4,000 characters instead of a base32 encoding per
    token.  A forked child starts with an empty pool (it must not reuse its parent's draws)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._text = ""
        self._next = 0

    def take(self, length: int) -> str:
        with self._lock:
            start = self._next
            end = start + length
            if end > len(self._text):
                size = max(_POOL_BYTES, length)
                self._text = os.urandom(size).translate(_FIVE_BITS).decode("ascii")
                start, end = 0, length
            self._next = end
            return self._text[start:end]

    def clear(self) -> None:
        self._lock = threading.Lock()
        self._text = ""
        self._next = 0


_POOL = _TokenPool()
os.register_at_fork(after_in_child=_POOL.clear)


class SecretsRandom:
    """``Random`` from the operating system's CSPRNG.

    Tokens are lower-case base32 characters (``a-z2-7``, 5 random bits each): SIP token
    characters only, so they are safe in a branch, a tag, a Call-ID or a cnonce (RFC 3261 §25.1
    ``token``).  A token for ``nbits`` has the length of the unpadded base32 encoding of
    ``ceil(nbits / 8)`` bytes (at least ``nbits`` bits; 15 characters for 72 bits)."""

    def __init__(self) -> None:
        self._system = secrets.SystemRandom()

    def token(self, nbits: int) -> str:
        nbytes = max(1, -(-nbits // 8))
        return _POOL.take(-(-nbytes * 8 // 5))

    def uniform(self, low: float, high: float) -> float:
        return self._system.uniform(low, high)
