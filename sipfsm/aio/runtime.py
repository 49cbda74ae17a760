"""Timers, clock and randomness for the asyncio world (the ``Timers``, ``Clock`` and ``Random``
ports)."""

from __future__ import annotations

import asyncio
import base64
import secrets
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


class SecretsRandom:
    """``Random`` from the operating system's CSPRNG.

    Tokens are lower-case base32 without padding (``a-z2-7``): SIP token characters only, so they
    are safe in a branch, a tag, a Call-ID or a cnonce (RFC 3261 §25.1 ``token``)."""

    def __init__(self) -> None:
        self._system = secrets.SystemRandom()

    def token(self, nbits: int) -> str:
        nbytes = max(1, -(-nbits // 8))
        raw = secrets.token_bytes(nbytes)
        return base64.b32encode(raw).decode("ascii").rstrip("=").lower()

    def uniform(self, low: float, high: float) -> float:
        return self._system.uniform(low, high)
