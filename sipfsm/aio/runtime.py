"""Timers, clock and randomness for the asyncio world (the ``Timers``, ``Clock`` and ``Random``
ports)."""

from __future__ import annotations

import asyncio
import heapq
import os
import sys
import threading
import time
from collections.abc import Callable, Iterator
from operator import attrgetter
from types import MethodType
from typing import Generic, TypeVar

from sipfsm.ports import TimerHandle

__all__ = ["AioTimers", "SecretsRandom", "SystemClock"]


_RESOLUTION = time.get_clock_info("monotonic").resolution
# Timers of at least _COARSE_DELAY seconds (Timer E from T1 = 500 ms, F, K, refreshes) fall due
# on a grid of 1/_GRID s, rounded up: never early, at most 1/_GRID s (6 % of _COARSE_DELAY)
# late.  The timers of one grid slot share one loop wake-up; a wake-up costs tens of
# microseconds of CPU on a virtual machine, more than the timer's own work.
_COARSE_DELAY = 0.25
_GRID = 64.0
# Timers of at least _LONG_DELAY seconds (Timer K = T4 = 5 s, F = 64*T1, refreshes; not Timer E,
# at most T2 = 4 s) fall due on the coarser grid of 1/_LONG_GRID s: at most 1/8 s (2.8 % of
# _LONG_DELAY) late.  A load generator's Timers K then wake the loop 8 times a second, not 64
# (a wake-up of an idle event loop costs ~50-100 us of CPU on a virtual machine).
_LONG_DELAY = 4.5
_LONG_GRID = 8.0


_NO_SELF = object()  # a _Timer's callback that is not a bound method
_DEADLINE = attrgetter("_deadline")


def _clock_of(loop: asyncio.AbstractEventLoop) -> Callable[[], float]:
    """``loop.time``, or ``time.monotonic`` itself when that is all ``loop.time`` does (asyncio's
    own loops): a timer reads the clock each time it starts, and the method's frame cost more
    than the clock."""
    if getattr(type(loop), "time", None) is asyncio.BaseEventLoop.time:
        return time.monotonic
    return loop.time


class _Slot:
    """The timers of one deadline (a grid point, or an exact deadline for short timers)."""

    __slots__ = ("entries", "key", "live", "owner")

    def __init__(self, owner: AioTimers, key: float) -> None:
        self.owner = owner
        self.key = key
        self.entries: list[_Timer] = []  # in the order started
        self.live = 0


class _Timer:
    """A handle of :class:`AioTimers`: ``cancel`` drops the callback (and what it holds).

    Kept small (one lives as long as each registration's refresh timer): a bound method is
    held as its function and object, not as a method object, and the timer is its own entry
    in its slot (deadline here; its place in the slot's list keeps the starting order)."""

    __slots__ = ("_callback", "_deadline", "_self", "_slot")

    def __init__(self, slot: _Slot, callback: Callable[..., None], deadline: float) -> None:
        self._slot = slot
        self._deadline = deadline
        if type(callback) is MethodType:
            self._callback: Callable[..., None] | None = callback.__func__
            self._self: object = callback.__self__
        else:
            self._callback = callback
            self._self = _NO_SELF

    # _Timer.__init__ and AioTimers.start set the same four fields (start without the frame).

    def cancel(self) -> None:
        if self._callback is not None:
            self._callback = None
            self._self = None
            slot = self._slot
            slot.owner._live -= 1
            slot.live -= 1
            if not slot.live:
                slot.owner._emptied(slot)


_new_timer = object.__new__


class AioTimers:
    """``Timers`` on an asyncio event loop; cancelling a fired or cancelled timer does nothing.

    Timers are grouped by deadline into slots (a dict), the slots' deadlines kept in one heap of
    floats, with a single ``loop.call_at`` for the earliest slot that still has a live timer:
    starting and cancelling a timer touches no asyncio ``TimerHandle`` (asyncio's own heap
    compares them with a Python ``__lt__``), and a slot whose timers were all cancelled (Timers
    E and F nearly always are) wakes nobody.  Timers of at least 250 ms are rounded up to the
    next 1/64 s, and those of at least 4.5 s to the next 1/8 s, so that the many timers of a
    load generator share wake-ups; shorter ones keep their exact deadline.  A timer runs in the
    first loop iteration at or after its (rounded) deadline, as ``loop.call_later`` would;
    timers that fall due together run in deadline order, and one started by a running timer
    waits for the next turn of the loop even with a zero delay."""

    def __init__(self, loop: asyncio.AbstractEventLoop | None = None) -> None:
        self._loop = loop
        self._now: Callable[[], float] | None = None if loop is None else _clock_of(loop)
        self._slots: dict[float, _Slot] = {}
        self._keys: list[float] = []  # heap of slot deadlines (some stale: slot gone)
        self._live = 0  # timers started and neither fired nor cancelled
        self._handle: asyncio.TimerHandle | None = None
        self._armed_at = 0.0  # the slot deadline _handle is for

    @property
    def loop(self) -> asyncio.AbstractEventLoop:
        if self._loop is None:
            self._loop = asyncio.get_running_loop()
            self._now = _clock_of(self._loop)
        return self._loop

    def start(self, name: str, delay: float, callback: Callable[[], None]) -> TimerHandle:
        now = self._now
        if now is None:
            now = _clock_of(self.loop)
        if delay >= _COARSE_DELAY:
            deadline = now() + delay
            if delay >= _LONG_DELAY:
                key = -(-deadline * _LONG_GRID // 1.0) / _LONG_GRID
            else:
                key = -(-deadline * _GRID // 1.0) / _GRID
        else:
            deadline = key = now() + (delay if delay > 0.0 else 0.0)
        slot = self._slots.get(key)
        if slot is None:
            slot = self._slots[key] = _Slot(self, key)
            heapq.heappush(self._keys, key)
            if self._handle is None or key < self._armed_at:
                self._arm()
        # The handle without an __init__ frame (one per timer: seven per registration).
        timer = _new_timer(_Timer)
        timer._slot = slot
        timer._deadline = deadline
        if type(callback) is MethodType:
            timer._callback = callback.__func__
            timer._self = callback.__self__
        else:
            timer._callback = callback
            timer._self = _NO_SELF
        slot.entries.append(timer)
        slot.live += 1
        self._live += 1
        return timer

    def __len__(self) -> int:
        """Timers started and neither fired nor cancelled."""
        return self._live

    def _emptied(self, slot: _Slot) -> None:
        """Every timer of ``slot`` was cancelled: forget it, and wake for a later one."""
        if self._slots.get(slot.key) is not slot:
            return  # already taken by _fire
        del self._slots[slot.key]
        slot.entries = []  # no cycle slot -> entry -> timer -> slot: reference counting frees it
        if self._handle is not None and slot.key == self._armed_at:
            self._handle.cancel()
            self._handle = None
            self._arm()

    def _arm(self) -> None:
        keys, slots = self._keys, self._slots
        if len(keys) > 64 and len(keys) > 4 * len(slots):
            # Mostly stale deadlines (their slots were emptied by cancellation): rebuild.
            keys[:] = list(slots)
            heapq.heapify(keys)
        while keys and keys[0] not in slots:
            heapq.heappop(keys)
        handle = self._handle
        if not keys:
            if handle is not None:
                handle.cancel()
                self._handle = None
            return
        key = keys[0]
        if handle is not None:
            if self._armed_at <= key:
                return  # fires first and re-arms then
            handle.cancel()
        self._handle = self.loop.call_at(key, self._fire)
        self._armed_at = key

    def _fire(self) -> None:
        self._handle = None
        loop = self.loop
        # asyncio runs a TimerHandle when its deadline is before now + the clock's resolution.
        end = loop.time() + _RESOLUTION
        keys, slots = self._keys, self._slots
        due: list[_Timer] = []
        while keys and keys[0] < end:
            slot = slots.pop(heapq.heappop(keys), None)
            if slot is not None:
                due += slot.entries
                slot.entries = []  # as in _emptied: no reference cycle left behind
        if len(due) > 1:
            # Stable: timers of one deadline keep their starting order (one slot holds them).
            due.sort(key=_DEADLINE)
        for done, timer in enumerate(due):
            callback, target = timer._callback, timer._self
            if callback is None:  # cancelled, before or by a timer that ran before it
                continue
            timer._callback = timer._self = None
            self._live -= 1
            try:
                if target is _NO_SELF:
                    callback()
                else:
                    callback(target)
            except (SystemExit, KeyboardInterrupt):
                for later in due[done + 1:]:  # they still run, on the next turn
                    self._requeue(later)
                self._arm()
                raise
            except BaseException as exc:
                shown = callback if target is _NO_SELF else MethodType(callback, target)
                loop.call_exception_handler({
                    "message": f"Exception in timer callback {shown!r}",
                    "exception": exc,
                })
        if self._handle is None:
            self._arm()

    def _requeue(self, timer: _Timer) -> None:
        if timer._callback is None:
            return
        key = timer._deadline
        slot = self._slots.get(key)
        if slot is None:
            slot = self._slots[key] = _Slot(self, key)
            heapq.heappush(self._keys, key)
        slot.entries.append(timer)
        slot.live += 1
        timer._slot = slot


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
# Without the GIL (a free-threaded build), two threads could be handed the same item by one
# list iterator: there every draw takes the pool's lock.
_LOCKED = not getattr(sys, "_is_gil_enabled", lambda: True)()


_T = TypeVar("_T")


class _Pool(Generic[_T]):
    """Draws from ``os.urandom`` a block at a time, cut in advance into the items handed out
    (tokens of one length, or fractions), each handed out once: one system call per ~4 KiB
    drawn, and a draw is one step of a list iterator -- a single C call, so (with the GIL) no
    two threads get the same item and no lock is needed.  A forked child starts with an
    empty pool (it must not reuse its parent's draws)."""

    def __init__(self, cut: Callable[[bytes, int], list[_T]]) -> None:
        self._cut = cut
        self._lock = threading.Lock()
        self._items: dict[int, Iterator[_T]] = {}

    def take(self, size: int) -> _T:
        if _LOCKED:
            with self._lock:
                return self._take(size)
        return self._take(size)

    def _take(self, size: int) -> _T:
        items = self._items.get(size)
        if items is not None:
            for item in items:
                return item
        count = max(1, _POOL_BYTES // size)
        items = iter(self._cut(os.urandom(count * size), size))
        if len(self._items) >= 64:
            self._items.clear()  # (a caller asking for many sizes keeps at most 64 blocks)
        self._items[size] = items
        return next(items)

    def clear(self) -> None:
        self._lock = threading.Lock()
        self._items.clear()  # the same dict: SecretsRandom reads it directly


def _tokens(block: bytes, length: int) -> list[str]:
    text = block.translate(_FIVE_BITS).decode("ascii")
    return [text[start:start + length] for start in range(0, len(text), length)]


def _fractions(block: bytes, size: int) -> list[float]:
    # 53 random bits of each 7 bytes, as random.random draws them.
    return [(int.from_bytes(block[start:start + 7], "big") >> 3) * _TWO_TO_MINUS_53
            for start in range(0, len(block), 7)]


_TWO_TO_MINUS_53 = 2.0**-53
_POOL = _Pool(_tokens)
os.register_at_fork(after_in_child=_POOL.clear)
_FRACTIONS = _Pool(_fractions)
os.register_at_fork(after_in_child=_FRACTIONS.clear)
# nbits -> token length (the unpadded base32 length of ceil(nbits / 8) bytes), as computed.
_LENGTHS: dict[int, int] = {}
# The pools' iterators, read directly by SecretsRandom (a draw without a method call).
_TOKENS = _POOL._items
_FRACTION_ITEMS = _FRACTIONS._items


class SecretsRandom:
    """``Random`` from the operating system's CSPRNG.

    Tokens are lower-case base32 characters (``a-z2-7``, 5 random bits each): SIP token
    characters only, so they are safe in a branch, a tag, a Call-ID or a cnonce (RFC 3261 §25.1
    ``token``).  A token for ``nbits`` has the length of the unpadded base32 encoding of
    ``ceil(nbits / 8)`` bytes (at least ``nbits`` bits; 15 characters for 72 bits).
    ``uniform`` draws 53 random bits, as ``random.random`` does."""

    def token(self, nbits: int) -> str:
        length = _LENGTHS.get(nbits)
        if length is None:
            nbytes = max(1, -(-nbits // 8))
            length = -(-nbytes * 8 // 5)
            if len(_LENGTHS) < 64:
                _LENGTHS[nbits] = length
        items = _TOKENS.get(length)
        if items is not None and not _LOCKED:
            for token in items:
                return token
        return _POOL.take(length)

    def uniform(self, low: float, high: float) -> float:
        items = _FRACTION_ITEMS.get(7)
        if items is not None and not _LOCKED:
            for fraction in items:
                return low + (high - low) * fraction
        return low + (high - low) * _FRACTIONS.take(7)
