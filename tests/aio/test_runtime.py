"""AioTimers, SystemClock, SecretsRandom."""

from __future__ import annotations

import asyncio
import gc
import re
import time

import pytest
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


def test_timers_fire_in_deadline_order_each_after_its_delay() -> None:
    delays = [0.03, 0.0, 0.05, 0.01, 0.03, 0.02, 0.04, 0.01]

    async def scenario() -> tuple[list[tuple[int, float]], float]:
        loop = asyncio.get_running_loop()
        timers = AioTimers(loop)
        fired: list[tuple[int, float]] = []
        start = loop.time()
        for index, delay in enumerate(delays):
            timers.start("t", delay, lambda i=index: fired.append((i, loop.time())))
        await asyncio.sleep(0.2)
        return fired, start

    fired, start = run(scenario())
    assert len(fired) == len(delays)
    for index, when in fired:
        assert when - start >= delays[index] - 0.001
    order = [delays[index] for index, _ in fired]
    assert order == sorted(order)


def test_a_sooner_timer_started_later_still_fires_on_time() -> None:
    async def scenario() -> list[str]:
        loop = asyncio.get_running_loop()
        timers = AioTimers(loop)
        fired: list[str] = []
        timers.start("long", 5.0, lambda: fired.append("long"))
        timers.start("short", 0.01, lambda: fired.append("short"))
        await asyncio.sleep(0.1)
        return fired

    assert run(scenario()) == ["short"]


def test_a_timer_cancelled_by_one_due_with_it_does_not_fire() -> None:
    async def scenario() -> list[str]:
        timers = AioTimers()
        fired: list[str] = []
        second: list[ports.TimerHandle] = []

        def first() -> None:
            fired.append("first")
            second[0].cancel()

        timers.start("a", 0.01, first)
        second.append(timers.start("b", 0.01, lambda: fired.append("second")))
        await asyncio.sleep(0.1)
        return fired

    assert run(scenario()) == ["first"]


def test_a_failing_timer_is_reported_and_the_others_still_fire() -> None:
    async def scenario() -> tuple[list[str], list[dict[str, object]]]:
        loop = asyncio.get_running_loop()
        reported: list[dict[str, object]] = []
        loop.set_exception_handler(lambda _loop, context: reported.append(context))
        timers = AioTimers()
        fired: list[str] = []

        def boom() -> None:
            raise RuntimeError("boom")

        timers.start("a", 0.01, boom)
        timers.start("b", 0.01, lambda: fired.append("b"))
        await asyncio.sleep(0.1)
        return fired, reported

    fired, reported = run(scenario())
    assert fired == ["b"]
    assert len(reported) == 1 and isinstance(reported[0]["exception"], RuntimeError)


def test_mostly_cancelled_timers_leave_the_live_ones_firing() -> None:
    async def scenario() -> tuple[list[int], int, int]:
        timers = AioTimers()
        fired: list[int] = []
        handles = [timers.start("f", 0.02 + i * 1e-4, lambda i=i: fired.append(i))
                   for i in range(500)]
        for i, handle in enumerate(handles):
            if i % 10:
                handle.cancel()
                handle.cancel()
        live = len(timers)
        await asyncio.sleep(0.2)
        return fired, live, len(timers)

    fired, live, after = run(scenario())
    assert fired == list(range(0, 500, 10))
    assert live == 50 and after == 0


def test_a_zero_delay_timer_restarting_itself_does_not_starve_the_loop() -> None:
    async def scenario() -> int:
        timers = AioTimers()
        count = 0

        def again() -> None:
            nonlocal count
            count += 1
            if count < 100_000:
                timers.start("again", 0.0, again)

        timers.start("again", 0.0, again)
        await asyncio.sleep(0.01)
        return count

    assert run(scenario()) < 100_000


def test_a_long_timer_is_never_early_and_at_most_a_64th_of_a_second_late() -> None:
    # the AioTimers docstring: timers of 250 ms or more fall due on a 1/64 s grid, rounded up
    delays = [0.25, 0.3, 0.3 + 1e-4, 0.31]

    async def scenario() -> list[tuple[float, float]]:
        loop = asyncio.get_running_loop()
        timers = AioTimers(loop)
        fired: list[tuple[float, float]] = []
        for delay in delays:
            start = loop.time()
            timers.start("t", delay, lambda d=delay, s=start: fired.append((d, loop.time() - s)))
        await asyncio.sleep(0.6)
        return fired

    fired = run(scenario())
    assert [delay for delay, _ in fired] == delays
    for delay, waited in fired:
        assert waited >= delay - 1e-6
        assert waited <= delay + 1 / 64 + 0.1  # scheduling slack of a shared machine


def test_fired_and_cancelled_timers_leave_no_reference_cycle() -> None:
    # A load generator starts ~10 timers per registration: cycles would be left for the
    # collector (measured: a tenth of the process's CPU).
    async def scenario() -> type:
        timers = AioTimers()
        handles = [timers.start("k", 0.0 if i % 2 else 0.3, lambda: None) for i in range(200)]
        for handle in handles[::4]:
            handle.cancel()
        await asyncio.sleep(0.4)
        return type(handles[0])

    gc.collect()
    gc.disable()
    try:
        timer_type = run(scenario())
        gc.set_debug(gc.DEBUG_SAVEALL)
        gc.collect()
        left = [obj for obj in gc.garbage if type(obj) is timer_type]
    finally:
        gc.set_debug(0)
        gc.garbage.clear()
        gc.enable()
    assert left == []


def test_uniform_draws_spread_over_the_whole_range() -> None:
    random = SecretsRandom()
    draws = [random.uniform(10.0, 20.0) for _ in range(2000)]
    assert all(10.0 <= x <= 20.0 for x in draws)
    assert len(set(draws)) == len(draws)
    # 2000 uniform draws: each tenth of the range gets 200 expected (far from 100 and 300)
    tenths = [0] * 10
    for x in draws:
        tenths[min(9, int(x - 10.0))] += 1
    assert all(100 < n < 300 for n in tenths), tenths


def test_a_forked_child_does_not_repeat_its_parents_draws() -> None:
    import os

    random = SecretsRandom()
    random.token(64), random.uniform(0.0, 1.0)  # the parent's pools are filled
    read_end, write_end = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child
        os.write(write_end, f"{random.token(64)} {random.uniform(0.0, 1.0)!r}".encode())
        os._exit(0)
    os.close(write_end)
    child = os.read(read_end, 200).decode().split()
    os.waitpid(pid, 0)
    os.close(read_end)
    assert child[0] != random.token(64)
    assert float(child[1]) != random.uniform(0.0, 1.0)


def test_tokens_keep_their_length_and_never_repeat_across_refills_and_threads() -> None:
    # The pool is cut in advance into tokens of each length and refilled from os.urandom when
    # used up (every ~270 tokens of 15 characters): 4 threads x 3000 draws cross many refills.
    import base64
    import threading

    random = SecretsRandom()
    drawn: list[list[str]] = [[] for _ in range(4)]

    def draw(into: list[str]) -> None:
        for n in range(3000):
            into.append(random.token(72 if n % 3 else 160))

    threads = [threading.Thread(target=draw, args=(into,)) for into in drawn]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    tokens = [token for into in drawn for token in into]
    assert len(set(tokens)) == len(tokens) == 12000
    # RFC 4648 §6: the unpadded base32 text of 9 bytes (72 bits) and of 20 bytes (160 bits)
    lengths = {len(base64.b32encode(bytes(9)).rstrip(b"=")),
               len(base64.b32encode(bytes(20)).rstrip(b"="))}  # fmt: skip
    assert {len(token) for token in tokens} == lengths == {15, 32}
    assert all(re.fullmatch(r"[a-z2-7]+", token) for token in tokens)


def test_without_the_gil_every_draw_takes_the_lock(monkeypatch: pytest.MonkeyPatch) -> None:
    # A free-threaded build could hand one list iterator's item to two threads: there the
    # draws go through the pool's lock.  The draws are the same kind either way.
    from sipfsm.aio import runtime

    monkeypatch.setattr(runtime, "_LOCKED", True)
    taken: list[int] = []
    real = runtime._Pool.take

    def counting(pool: runtime._Pool[object], size: int) -> object:
        taken.append(size)
        return real(pool, size)

    monkeypatch.setattr(runtime._Pool, "take", counting)
    random = SecretsRandom()
    tokens = [random.token(72) for _ in range(600)]
    draws = [random.uniform(5.0, 6.0) for _ in range(600)]
    assert len(taken) == 1200
    assert len(set(tokens)) == 600 and all(re.fullmatch(r"[a-z2-7]{15}", t) for t in tokens)
    assert len(set(draws)) == 600 and all(5.0 <= x <= 6.0 for x in draws)


def test_timers_follow_the_loops_own_clock_when_it_has_one() -> None:
    # AioTimers reads time.monotonic directly only when that is what loop.time does; a loop
    # with a clock of its own (here 1000 s ahead of time.monotonic) is asked instead.
    class Ahead(asyncio.SelectorEventLoop):
        def time(self) -> float:
            return time.monotonic() + 1000.0

    async def scenario() -> tuple[list[float], float]:
        loop = asyncio.get_running_loop()
        timers = AioTimers()
        fired: list[float] = []
        start = loop.time()
        timers.start("short", 0.05, lambda: fired.append(loop.time()))
        timers.start("coarse", 0.3, lambda: fired.append(loop.time()))
        await asyncio.sleep(0.5)
        return fired, start

    with asyncio.Runner(loop_factory=Ahead) as runner:
        fired, start = runner.run(scenario())
    assert len(fired) == 2
    assert fired[0] - start >= 0.05 - 0.002
    assert fired[1] - start >= 0.3


class _SteppedClock(asyncio.SelectorEventLoop):
    """A selector loop whose clock the test moves forward (time.monotonic + an offset)."""

    offset = 0.0

    def time(self) -> float:
        return time.monotonic() + self.offset


def test_a_timer_of_several_seconds_is_never_early_and_at_most_an_8th_of_a_second_late() -> None:
    # The AioTimers docstring: 4.5 s or more (Timer K = T4 = 5 s, F, refreshes) on a 1/8 s grid;
    # 250 ms up to 4.5 s (Timer E reaches T2 = 4 s) on the 1/64 s grid.
    async def scenario(delay: float, late_by: float) -> tuple[bool, bool]:
        loop = asyncio.get_running_loop()
        assert isinstance(loop, _SteppedClock)
        fired: list[float] = []
        # start just after a 1/8 s grid point: a timer put on the wrong grid is caught
        now = loop.time()
        loop.offset += -(-now * 8 // 1) / 8 + 0.001 - now
        start = loop.time()
        AioTimers().start("t", delay, lambda: fired.append(loop.time()))
        # (the loop turns with sleep(0): microseconds of real time, against 2 ms of margin)
        loop.offset += delay - 0.002  # just before the deadline
        for _ in range(5):
            await asyncio.sleep(0)
        early = bool(fired)
        loop.offset += 0.002 + late_by  # the deadline plus the grid step
        for _ in range(5):
            await asyncio.sleep(0)
        assert not fired or fired[0] - start >= delay
        return early, bool(fired)

    for delay, step in ((5.0, 1 / 8), (32.0, 1 / 8), (4.5, 1 / 8), (4.0, 1 / 64), (0.5, 1 / 64)):
        with asyncio.Runner(loop_factory=_SteppedClock) as runner:
            early, fired = runner.run(scenario(delay, step))
        assert not early, delay
        assert fired, delay



def test_tokens_of_many_lengths_keep_few_blocks_and_stay_right() -> None:
    from sipfsm.aio import runtime

    random = SecretsRandom()
    tokens = [random.token(nbits) for nbits in range(1, 1200, 3)]  # ~240 distinct lengths
    assert len(runtime._TOKENS) <= 64
    assert all(len(t) * 5 >= n for t, n in zip(tokens, range(1, 1200, 3), strict=True))
    assert len(set(tokens)) == len(tokens)
