"""Timers, clock and randomness for the asyncio world (the ``Timers``, ``Clock`` and ``Random``
ports)."""

from __future__ import annotations

import asyncio
import os
import secrets
import threading
import time
from collections.abc import Callable

from sipfsm.ports import TimerHandle

__all__ = ["AioTimers", "SecretsRandom", "SystemClock"]


class AioTimers:
    """``Timers`` on an asyncio event loop: ``loop.call_later``; the handle's ``cancel`` is
    asyncio's (cancelling a fired or cancelled timer does nothing)."""

    def __init__(self, loop: asyncio.AbstractEventLoop | None = None) -> None:
        self._loop = loop

    @property
    def loop(self) -> asyncio.AbstractEventLoop:
        if self._loop is None:
            self._loop = asyncio.get_running_loop()
        return self._loop

    def start(self, name: str, delay: float, callback: Callable[[], None]) -> TimerHandle:
        return self.loop.call_later(max(0.0, delay), callback)


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
