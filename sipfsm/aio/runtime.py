"""Timers, clock and randomness for the asyncio world (the ``Timers``, ``Clock`` and ``Random``
ports)."""

from __future__ import annotations

import asyncio
import heapq
import os
import threading
import time
from collections.abc import Callable
from operator import attrgetter
from types import MethodType

from sipfsm.ports import TimerHandle

__all__ = ["AioTimers", "SecretsRandom", "SystemClock"]


_RESOLUTION = time.get_clock_info("monotonic").resolution
# Timers of at least _COARSE_DELAY seconds (Timer E from T1 = 500 ms, F, K, refreshes) fall due
# on a grid of 1/_GRID s, rounded up: never early, at most 1/_GRID s (6 % of _COARSE_DELAY)
# late.  The timers of one grid slot share one loop wake-up; a wake-up costs tens of
# microseconds of CPU on a virtual machine, more than the timer's own work.
_COARSE_DELAY = 0.25
_GRID = 64.0


_NO_SELF = object()  # a _Timer's callback that is not a bound method
_DEADLINE = attrgetter("_deadline")


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

    def cancel(self) -> None:
        if self._callback is not None:
            self._callback = None
            self._self = None
            slot = self._slot
            slot.owner._live -= 1
            slot.live -= 1
            if not slot.live:
                slot.owner._emptied(slot)


class AioTimers:
    """``Timers`` on an asyncio event loop; cancelling a fired or cancelled timer does nothing.

    Timers are grouped by deadline into slots (a dict), the slots' deadlines kept in one heap of
    floats, with a single ``loop.call_at`` for the earliest slot that still has a live timer:
    starting and cancelling a timer touches no asyncio ``TimerHandle`` (asyncio's own heap
    compares them with a Python ``__lt__``), and a slot whose timers were all cancelled (Timers
    E and F nearly always are) wakes nobody.  Timers of at least 250 ms are rounded up to the
    next 1/64 s, so that the many timers of a load generator share wake-ups; shorter ones keep
    their exact deadline.  A timer runs in the first loop iteration at or after its (rounded)
    deadline, as ``loop.call_later`` would; timers that fall due together run in deadline order,
    and one started by a running timer waits for the next turn of the loop even with a zero
    delay."""

    def __init__(self, loop: asyncio.AbstractEventLoop | None = None) -> None:
        self._loop = loop
        self._slots: dict[float, _Slot] = {}
        self._keys: list[float] = []  # heap of slot deadlines (some stale: slot gone)
        self._live = 0  # timers started and neither fired nor cancelled
        self._handle: asyncio.TimerHandle | None = None
        self._armed_at = 0.0  # the slot deadline _handle is for

    @property
    def loop(self) -> asyncio.AbstractEventLoop:
        if self._loop is None:
            self._loop = asyncio.get_running_loop()
        return self._loop

    def start(self, name: str, delay: float, callback: Callable[[], None]) -> TimerHandle:
        loop = self._loop or self.loop
        if delay >= _COARSE_DELAY:
            deadline = loop.time() + delay
            key = -(-deadline * _GRID // 1.0) / _GRID
        else:
            deadline = key = loop.time() + (delay if delay > 0.0 else 0.0)
        slot = self._slots.get(key)
        if slot is None:
            slot = self._slots[key] = _Slot(self, key)
            heapq.heappush(self._keys, key)
            if self._handle is None or key < self._armed_at:
                self._arm()
        timer = _Timer(slot, callback, deadline)
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


class _BytePool:
    """Random bytes from ``os.urandom`` a block at a time, each handed out once (as
    :class:`_TokenPool`, for :meth:`SecretsRandom.uniform`: no system call per draw)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._bytes = b""
        self._next = 0

    def take(self, length: int) -> bytes:
        with self._lock:
            start = self._next
            end = start + length
            if end > len(self._bytes):
                self._bytes = os.urandom(max(_POOL_BYTES, length))
                start, end = 0, length
            self._next = end
            return self._bytes[start:end]

    def clear(self) -> None:
        self._lock = threading.Lock()
        self._bytes = b""
        self._next = 0


_BYTES = _BytePool()
os.register_at_fork(after_in_child=_BYTES.clear)
_TWO_TO_MINUS_53 = 2.0**-53


class SecretsRandom:
    """``Random`` from the operating system's CSPRNG.

    Tokens are lower-case base32 characters (``a-z2-7``, 5 random bits each): SIP token
    characters only, so they are safe in a branch, a tag, a Call-ID or a cnonce (RFC 3261 §25.1
    ``token``).  A token for ``nbits`` has the length of the unpadded base32 encoding of
    ``ceil(nbits / 8)`` bytes (at least ``nbits`` bits; 15 characters for 72 bits).
    ``uniform`` draws 53 random bits, as ``random.random`` does."""

    def token(self, nbits: int) -> str:
        nbytes = max(1, -(-nbits // 8))
        return _POOL.take(-(-nbytes * 8 // 5))

    def uniform(self, low: float, high: float) -> float:
        fraction = (int.from_bytes(_BYTES.take(7), "big") >> 3) * _TWO_TO_MINUS_53
        return low + (high - low) * fraction
