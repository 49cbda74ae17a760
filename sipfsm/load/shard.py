"""One worker of ``sipfsm load``: its share of the users on one event loop, one socket (UDP) or
one connection (TCP), one transaction layer.

The users are started at the worker's share of ``--rate`` (the i-th at ``i / rate`` seconds),
stay registered -- the client refreshes them by itself before their expiry -- until
``--duration`` ends, and are then unregistered (``--unregister``) or simply stopped.  Every
second, and once at the end, the worker hands a :class:`~sipfsm.load.stats.Snapshot` to
``report``.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import gc
import time
from array import array
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from sipfsm.aio import AioTimers, SecretsRandom, SystemClock, TcpTransport, UdpTransport
from sipfsm.auth import StaticCredentials
from sipfsm.core.registration import IN_FLIGHT
from sipfsm.load.stats import Histogram, Snapshot
from sipfsm.load.users import User
from sipfsm.ports import HostPort, Target
from sipfsm.registration import (
    Failed,
    Refreshed,
    Registered,
    RegistrationClient,
    RegistrationConfig,
    RegistrationEvent,
    Retrying,
    StateChanged,
    Unregistered,
)
from sipfsm.transaction import TransactionLayer

__all__ = ["ShardSettings", "loop_factory", "run_shard"]

_IN_FLIGHT = frozenset(IN_FLIGHT)


@dataclass(frozen=True)
class ShardSettings:
    """What every worker is asked to do (the users differ)."""

    registrar: Target
    rate: float  # this worker's share of the initial registrations per second
    expires: int
    duration: float  # seconds from the first REGISTER to the end of the run
    local_host: str = "127.0.0.1"
    unregister: bool = False
    unregister_grace: float = 5.0
    max_consecutive_failures: int | None = 3
    receive_buffer: int | None = 4 * 1024 * 1024
    interval: float = 1.0  # seconds between snapshots
    event_loop: str = "asyncio"  # or "uvloop" (the optional extra sipfsm[uvloop])
    # Initial REGISTERs go out in batches, at most start_batch seconds and about
    # start_batch_users users apart: the users due in between start together.  Measured
    # (600/s): 20 ms batches cost 0.57 x the CPU of one user per millisecond, 50 ms 0.50 x --
    # fewer loop wake-ups (each costs more than a REGISTER's send on a virtual machine), the
    # requests sent back to back, the responses read together.  The user cap keeps a burst
    # well inside a registrar's socket buffer at high rates.
    start_batch: float = 0.05
    start_batch_users: int = 64


def _ignore_message(data: bytes, source: HostPort, transport: Any) -> None:
    """What arrives before the layer exists is dropped."""


def _ignore_error(target: Target, error: Exception) -> None:
    """A transport error before the layer exists concerns no transaction."""


class _Receiver:
    """The transport's receiver: drops what comes before the layer exists, then is the layer's
    own methods (no call in between for each message)."""

    def __init__(self) -> None:
        self.receive: Callable[[bytes, HostPort, Any], None] = _ignore_message
        self.transport_error: Callable[[Target, Exception], None] = _ignore_error

    def attach(self, layer: TransactionLayer) -> None:
        self.receive = layer.receive
        self.transport_error = layer.transport_error


class _Tally:
    """The clients' observer: per-user state in flat arrays (no object per user)."""

    PENDING, LIVE, DOWN = 0, 1, 2

    def __init__(self, count: int) -> None:
        self.state = bytearray(count)  # PENDING until the first outcome
        self.initial_done = bytearray(count)
        self.started_at = array("d", bytes(8 * count))
        self.latency = Histogram()
        self.started = 0
        self.t0 = time.monotonic()
        self.last_initial = 0.0  # seconds after t0 of the last initial outcome
        self.registered = 0
        self.refreshes = 0
        self.reregistered = 0
        self.live = 0
        self.in_flight = 0  # users in a state of IN_FLIGHT (kept from their StateChanged)
        self.unregistered = 0
        self.failures: Counter[str] = Counter()
        self.retries: Counter[str] = Counter()

    def observe(self, index: int, client: RegistrationClient, event: RegistrationEvent) -> None:
        kind = type(event)
        if kind is StateChanged:
            # Each change of state is announced, old -> new, in order: the count of users in
            # flight is kept here rather than found by asking every client each second.
            assert isinstance(event, StateChanged)
            flying = event.new in _IN_FLIGHT
            if flying is not (event.old in _IN_FLIGHT):
                self.in_flight += 1 if flying else -1
            return
        if kind is Refreshed:
            self.refreshes += 1
            self._up(index)
        elif kind is Registered:
            if not self.initial_done[index]:
                self.initial_done[index] = 1
                self.registered += 1
                now = time.monotonic()
                self.latency.add(now - self.started_at[index])
                self.last_initial = now - self.t0
            else:
                self.reregistered += 1
            self._up(index)
        elif kind is Retrying:
            assert isinstance(event, Retrying)
            self.retries[_reason(event.reason.value, event.status)] += 1
            self._down(index)
        elif kind is Failed:
            assert isinstance(event, Failed)
            self.failures[_reason(event.reason.value, event.status)] += 1
            if not self.initial_done[index]:
                self.initial_done[index] = 1
                self.last_initial = time.monotonic() - self.t0
            self._down(index)
        elif kind is Unregistered:
            self.unregistered += 1
            self._down(index)

    def _up(self, index: int) -> None:
        if self.state[index] != self.LIVE:
            self.state[index] = self.LIVE
            self.live += 1

    def _down(self, index: int) -> None:
        if self.state[index] == self.LIVE:
            self.live -= 1
        self.state[index] = self.DOWN


def _reason(reason: str, status: int | None) -> str:
    return f"{reason} {status}" if status else reason


async def _open_transport(
    settings: ShardSettings, receiver: _Receiver
) -> UdpTransport | TcpTransport:
    if settings.registrar.transport == "TCP":
        # As over UDP: what a turn of the loop sends leaves together (one write per turn).
        return await TcpTransport.open(
            receiver, local_host=settings.local_host, listen=False, coalesce_sends=True
        )
    # No trace: the transport counts what it sends (messages_sent), and a trace sink would
    # cost two HostPorts and a call per message.
    # The requests of a batch of users (and the answers to a batch of challenges) go out back
    # to back at the end of the loop's turn: the registrar is woken once for them.
    udp = await UdpTransport.open(receiver, local_host=settings.local_host, coalesce_sends=True)
    if settings.receive_buffer:
        # Every response of every user of this worker queues on this one socket.
        udp.set_receive_buffer(settings.receive_buffer)
    return udp


def loop_factory(name: str) -> Callable[[], asyncio.AbstractEventLoop] | None:
    """The event loop factory for ``ShardSettings.event_loop`` (None: asyncio's own)."""
    if name == "uvloop":
        import uvloop

        factory: Callable[[], asyncio.AbstractEventLoop] = uvloop.new_event_loop
        return factory
    return None


async def run_shard(
    settings: ShardSettings,
    users: Sequence[User],
    report: Callable[[Snapshot], None],
    *,
    stop: asyncio.Event | None = None,
) -> Snapshot:
    """Run this worker's users; return (and report) the final snapshot.  ``stop`` ends the run
    early (Ctrl-C)."""
    cpu0 = time.process_time()
    tally = _Tally(len(users))
    receiver = _Receiver()
    transport = await _open_transport(settings, receiver)
    timers = AioTimers()
    random = SecretsRandom()
    clock = SystemClock()
    layer = TransactionLayer({transport.name: transport}, timers, random)
    receiver.attach(layer)
    transactions = 0
    send_request = layer.send_request

    def counting_send_request(request: Any, target: Target, owner: Any) -> Any:
        nonlocal transactions
        transactions += 1
        return send_request(request, target, owner)

    layer.send_request = counting_send_request  # type: ignore[method-assign]
    clients: list[RegistrationClient] = []
    stop = stop or asyncio.Event()
    t0 = tally.t0 = time.monotonic()
    end = t0 + settings.duration

    def snapshot(done: bool = False) -> Snapshot:
        sent = transport.messages_sent
        return Snapshot(
            elapsed=time.monotonic() - t0,
            ramp_seconds=tally.last_initial,
            users=len(users),
            started=tally.started,
            registered=tally.registered,
            refreshes=tally.refreshes,
            reregistered=tally.reregistered,
            live=tally.live,
            in_flight=tally.in_flight,
            unregistered=tally.unregistered,
            failures=dict(tally.failures),
            retries=dict(tally.retries),
            transactions=transactions,
            requests_sent=sent,
            retransmissions=max(0, sent - transactions) if not transport.reliable else 0,
            cpu_seconds=time.process_time() - cpu0,
            latency=list(tally.latency.counts),
            done=done,
        )

    async def reporter() -> None:
        while True:
            await asyncio.sleep(settings.interval)
            report(snapshot())

    ticker = asyncio.ensure_future(reporter())
    loop = asyncio.get_running_loop()
    n = len(users)
    started = 0
    next_start: asyncio.TimerHandle | None = None
    failed: asyncio.Future[None] = loop.create_future()

    def start_user(i: int) -> None:
        user = users[i]
        config = RegistrationConfig(
            aor=user.aor,
            registrar_target=settings.registrar,
            transport=settings.registrar.transport,
            expires=settings.expires,
            keep_last_response=False,
            max_consecutive_failures=settings.max_consecutive_failures,
        )
        credentials = (
            StaticCredentials(user.name, user.password) if user.password is not None else None
        )
        client = RegistrationClient(
            config, layer=layer, timers=timers, clock=clock, random=random,
            credentials=credentials, observer=functools.partial(tally.observe, i),
        )  # fmt: skip
        clients.append(client)
        tally.started_at[i] = time.monotonic()
        tally.started += 1
        client.register()

    batch = min(settings.start_batch, settings.start_batch_users / settings.rate)

    def start_due() -> None:
        # The i-th user starts at t0 + i / rate, never earlier: one loop callback per batch of
        # due users (see ShardSettings.start_batch), not a task and a timeout per user.
        nonlocal started, next_start
        next_start = None
        try:
            now = time.monotonic()
            if stop.is_set() or now >= end:
                return
            due = min(n, int((now - t0) * settings.rate) + 1)
            while started < due:
                start_user(started)
                started += 1
            # The clients just made live as long as the run: out of the collector's way before
            # its first pass (each pass would walk them again, and a full one all of them: ~7 %
            # of the CPU measured with a freeze every 2,000 users).  A registration leaves no
            # reference cycle behind, so nothing collectable is kept by this.
            gc.freeze()
            if started >= n:
                return
            wait = t0 + started / settings.rate - time.monotonic()
            next_start = loop.call_later(max(wait, batch, 0.001), start_due)
        except BaseException as exc:
            if not failed.done():
                failed.set_exception(exc)

    stopped = asyncio.ensure_future(stop.wait())
    # Young-generation collections every 10,000 allocations rather than 700: a registration
    # allocates a few hundred objects, most freed by reference counting within milliseconds;
    # collecting that often promoted live transactions to the older generations and cost ~10 %
    # of the client's CPU (benchmarks/client_cpu.py with the collector on).  Restored at the end.
    threshold = gc.get_threshold()
    gc.set_threshold(max(threshold[0], 10_000), *threshold[1:])
    try:
        start_due()
        # Everyone is started by start_due; the clients refresh by themselves until the end.
        await asyncio.wait(
            (stopped, failed), timeout=max(0.0, end - time.monotonic()),
            return_when=asyncio.FIRST_COMPLETED,
        )  # fmt: skip
        if next_start is not None:
            next_start.cancel()
        if failed.done():
            failed.result()  # a failure while starting users ends the run, as it did
        if settings.unregister and not stop.is_set():
            await _unregister(clients, tally, settings.unregister_grace)
        final = snapshot(done=True)
    finally:
        ticker.cancel()
        stopped.cancel()
        gc.unfreeze()  # the clients are let go: back under the collector
        gc.set_threshold(*threshold)
        for client in clients:
            with contextlib.suppress(Exception):
                client.stop()
        with contextlib.suppress(Exception):
            await transport.aclose()
    report(final)
    return final


async def _unregister(clients: list[RegistrationClient], tally: _Tally, grace: float) -> None:
    """Remove the bindings of every registered user; wait up to ``grace`` seconds."""
    for index, client in enumerate(clients):
        if tally.state[index] == tally.LIVE:
            with contextlib.suppress(Exception):
                client.unregister()
    deadline = time.monotonic() + grace
    while tally.live > 0 and time.monotonic() < deadline:
        await asyncio.sleep(0.05)
