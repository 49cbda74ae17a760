"""AioTimers, SystemClock, SecretsRandom."""

from __future__ import annotations

import asyncio
import re
import time

from hypothesis import given
from hypothesis import strategies as st

from sipfsm import ports
from sipfsm.aio import AioTimers, SecretsRandom, SystemClock

from .support import run

SIP_TOKEN = re.compile(r"^[A-Za-z0-9\-.!%*_+`'~]+$")


def test_timer_fires_once_after_its_delay() -> None:
    async def scenario() -> tuple[list[float], float]:
        loop = asyncio.get_running_loop()
        timers: ports.Timers = AioTimers(loop)
        fired: list[float] = []
        start = loop.time()
        timers.start("timer_e", 0.05, lambda: fired.append(loop.time()))
        await asyncio.sleep(0.2)
        return fired, start

    fired, start = run(scenario())
    assert len(fired) == 1
    assert fired[0] - start >= 0.045


def test_cancelled_timer_never_fires_and_cancel_is_idempotent() -> None:
    async def scenario() -> list[str]:
        timers = AioTimers()
        fired: list[str] = []
        handle = timers.start("timer_f", 0.02, lambda: fired.append("f"))
        handle.cancel()
        handle.cancel()
        done = timers.start("timer_k", 0.0, lambda: fired.append("k"))
        await asyncio.sleep(0.1)
        done.cancel()  # after firing: nothing happens
        return fired

    assert run(scenario()) == ["k"]


def test_negative_delay_fires_at_once() -> None:
    async def scenario() -> list[str]:
        fired: list[str] = []
        AioTimers().start("late", -1.0, lambda: fired.append("x"))
        await asyncio.sleep(0.01)
        return fired

    assert run(scenario()) == ["x"]


def test_system_clock() -> None:
    clock: ports.Clock = SystemClock()
    first = clock.monotonic()
    assert clock.monotonic() >= first
    assert abs(clock.wall() - time.time()) < 5


@given(st.integers(min_value=0, max_value=512))
def test_tokens_are_sip_tokens_with_enough_entropy(nbits: int) -> None:
    random: ports.Random = SecretsRandom()
    token = random.token(nbits)
    assert SIP_TOKEN.match(token)
    assert re.match(r"^[a-z2-7]+$", token)
    assert len(token) * 5 >= nbits


def test_tokens_differ() -> None:
    random = SecretsRandom()
    assert len({random.token(64) for _ in range(200)}) == 200


@given(st.floats(-1e6, 1e6), st.floats(0, 1e6))
def test_uniform_stays_in_range(low: float, span: float) -> None:
    value = SecretsRandom().uniform(low, low + span)
    assert low <= value <= low + span
