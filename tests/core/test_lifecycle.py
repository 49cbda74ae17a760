"""Client lifecycle rows (issue 10): each of these failed on the client before the table-driven
core (the numbers come from the issue's report and RFC 3261 / RFC 5626, not from the code).

The names new with the core are imported inside the tests, so that the file also runs, and
fails, against the old client."""

from __future__ import annotations

import itertools
import sys
from typing import Any

import pytest

from sipfsm.conformance.harness import (
    REGISTRAR,
    ScriptedRegistrar,
    StaticResolver,
    World,
    default_config,
    ok_echo,
    reply,
)
from sipfsm.errors import DestinationUnreachable
from sipfsm.message import Request
from sipfsm.ports import Target
from sipfsm.registration import Failed, FailureReason, Registered, RegistrationClient, Retrying
from sipfsm.sim import Scheduler, SeededRandom
from sipfsm.sim.harness import ScriptedTransport
from sipfsm.transaction import TransactionLayer

T1 = 0.5
TIMER_F = 64 * T1  # RFC 3261 §17.1.2.2


def _outage(start: float, end: float, expires: int) -> Any:
    """A registrar granting ``expires`` that answers nothing between ``start`` and ``end``."""

    def responder(request: Request, registrar: ScriptedRegistrar) -> Any:
        now = registrar.requests[-1][0]
        if start <= now < end:
            return None
        return ok_echo(request, expires=expires)

    return responder


def _accepted_times(world: World) -> list[float]:
    """When the registrar accepted a REGISTER (first arrival of each transaction it answered)."""
    seen: set[str] = set()
    out = []
    for when, request in world.registrar.requests:
        branch = request.vias[0].branch or ""
        if branch in seen:
            continue
        seen.add(branch)
        out.append(when)
    return out


# ---- (a) a failed refresh must not let the binding lapse ------------------------------------


@pytest.mark.requirement("RFC3261-10.2.1-SUBSEQUENT-REGISTRATIONS")
@pytest.mark.parametrize("seed", range(6))
def test_a_registrar_back_before_expiry_keeps_the_binding(seed: int) -> None:
    """Expiry 600 s; the refresh (at 90 % of it, jittered down by up to 5 %: 513..540 s) gets
    no answer and times out 64*T1 later (545..572 s); the registrar is back at 570 s.  The retry
    must reach it before 600 s: the binding never lapses at the registrar."""
    world = World(_outage(500.0, 570.0, 600), config=default_config(expires=600), seed=seed)
    world.client.register()
    world.run(1500)
    answered = [t for t in _accepted_times(world) if not 500.0 <= t < 570.0]
    gaps = [b - a for a, b in itertools.pairwise(answered)]
    assert answered[0] < 1 and max(gaps) < 600, answered
    assert not [e for _, e in world.events if type(e).__name__ == "BindingLapsed"]
    assert world.client.state in ("registered", "refreshing")


@pytest.mark.requirement("RFC3261-10.2.1-SUBSEQUENT-REGISTRATIONS")
def test_a_binding_that_lapses_is_reported_once_with_our_contacts() -> None:
    """The registrar is gone from 500 s to 700 s: at the granted expiry (600 s after the
    registration) the client says that its binding lapsed, then registers again."""
    from sipfsm.registration import BindingLapsed  # type: ignore[attr-defined]

    world = World(_outage(500.0, 700.0, 600), config=default_config(expires=600))
    world.client.register()
    world.run(1200)
    registered_at = world.events_of(Registered)[0]
    assert registered_at.expires == 600
    lapsed = [(t, e) for t, e in world.events if isinstance(e, BindingLapsed)]
    assert len(lapsed) == 1
    when, event = lapsed[0]
    assert abs(when - 600.0) < 1.0  # registered at ~0 s + 600 s
    assert event.contacts == registered_at.granted[0][:1]
    assert world.client.state in ("registered", "refreshing")
    assert world.client.bound_contacts


# ---- (b) failures carry their reason and detail; max_consecutive_failures ends ---------------


@pytest.mark.requirement("RFC3261-21.5.1-500-RETRY")
def test_retrying_says_what_failed() -> None:
    def responder(request: Request, registrar: ScriptedRegistrar) -> Any:
        if len(registrar.requests) == 1:
            return reply(request, 503)
        return None  # then silence: a timeout

    world = World(responder)
    world.client.register()
    world.run(400)
    first, second = world.events_of(Retrying)[:2]
    assert (first.reason, first.status) == (FailureReason.STATUS, 503)
    assert "503" in first.detail and "Service Unavailable" in first.detail
    assert second.reason is FailureReason.TIMEOUT and second.status is None
    assert "Timer F" in second.detail or "timeout" in second.detail.lower()


@pytest.mark.requirement("RFC5626-4.5-BACKOFF")
def test_max_consecutive_failures_ends_in_failed() -> None:
    world = World(lambda r, reg: None, config=default_config(max_consecutive_failures=3))
    world.client.register()
    world.run(3 * 3600)
    assert world.client.state == "failed"
    assert len(world.sent_registers()) == 3
    failed = world.events_of(Failed)
    assert len(failed) == 1 and failed[0].reason is FailureReason.TIMEOUT
    assert "3 consecutive failures" in failed[0].detail
    assert [e.failures for e in world.events_of(Retrying)] == [1, 2]


# ---- (c) Retry-After honoured, bounded, never below the backoff ------------------------------


def _retry_after_once(value: str) -> Any:
    def responder(request: Request, registrar: ScriptedRegistrar) -> Any:
        if len(registrar.requests) == 1:
            return reply(request, 503, headers=[("Retry-After", value)])
        return ok_echo(request)

    return responder


def _retry_gap(world: World) -> float:
    times = _accepted_times(world)
    return times[1] - times[0]


@pytest.mark.requirement("RFC3261-21.5.1-500-RETRY", "RFC3261-21.5.4-503-HOLD-OFF")
def test_a_huge_retry_after_is_capped_by_max_retry_after() -> None:
    """Retry-After: 999999 (§20.33 allows it) would silence the client for 11 days; the
    default cap is one hour."""
    world = World(_retry_after_once("999999"))
    world.client.register()
    world.run(3600 + 10)
    assert abs(_retry_gap(world) - 3600) < 1.0
    assert world.client.state == "registered"


@pytest.mark.requirement("RFC3261-21.5.1-500-RETRY")
def test_max_retry_after_is_configurable() -> None:
    world = World(_retry_after_once("999999"),
                  config=default_config(max_retry_after=100.0))  # type: ignore[call-arg]
    world.client.register()
    world.run(200)
    assert abs(_retry_gap(world) - 100) < 1.0


@pytest.mark.requirement("RFC3261-21.5.1-500-RETRY", "RFC5626-4.5-BACKOFF")
@pytest.mark.parametrize("seed", range(3))
def test_a_short_retry_after_never_shortens_the_backoff(seed: int) -> None:
    """Retry-After: 1 after the first failure: the backoff (RFC 5626 §4.5: 50..100 % of
    30 s * 2**1) still applies."""
    world = World(_retry_after_once("1"), seed=seed)
    world.client.register()
    world.run(120)
    assert 30.0 - 1e-6 <= _retry_gap(world) <= 60.0 + 1e-6


# ---- (d) an unreachable target: the next at once, else defer at once ------------------------


class _Refusing(ScriptedTransport):
    """Sends to ``refused`` hosts fail with DestinationUnreachable (ICMP port unreachable)."""

    def __init__(self, clock: Any, refused: set[str]) -> None:
        super().__init__(clock)
        self.refused = refused

    def send(self, data: bytes, target: Target) -> None:
        failing = target.host in self.refused
        if failing:
            self.fail_next()
        try:
            super().send(data, target)
        except Exception as exc:
            raise DestinationUnreachable(str(exc)) from None


def _client(transport: ScriptedTransport, scheduler: Scheduler, targets: list[Target],
            **config: Any) -> tuple[RegistrationClient, list[Any]]:
    layer = TransactionLayer(transport, scheduler, SeededRandom(1))
    events: list[Any] = []
    client = RegistrationClient(
        default_config(registrar_target=None, **config), layer=layer, timers=scheduler,
        clock=scheduler, random=SeededRandom(2),
        resolver=StaticResolver({"example.com": targets}),
        observer=lambda _c, e: events.append((scheduler.now, e)))
    return client, events


@pytest.mark.requirement("RFC3261-8.1.3.1-TRANSPORT-ERROR-AS-503", "RFC3263-4.3-FAILOVER-NEXT")
def test_unreachable_targets_move_on_at_once_then_fail_at_once() -> None:
    """Every target refuses and no binding of ours exists: the registration fails at once
    (nothing listens there), never after Timer F or a backoff."""
    scheduler = Scheduler()
    targets = [Target("UDP", f"192.0.2.{i}", 5060) for i in (51, 52, 53)]
    transport = _Refusing(scheduler, {"192.0.2.51", "192.0.2.52", "192.0.2.53"})
    client, events = _client(transport, scheduler, targets)
    client.register()
    scheduler.run(until=1.0)
    assert [s.target for s in transport.sent] == targets
    assert all(s.time == 0.0 for s in transport.sent)  # never waits for Timer F
    failed = [(t, e) for t, e in events if isinstance(e, Failed)]
    assert len(failed) == 1 and failed[0][0] == 0.0
    assert failed[0][1].reason is FailureReason.TRANSPORT
    assert "unreachable" in failed[0][1].detail
    assert client.state == "failed"


@pytest.mark.requirement("RFC3261-8.1.3.1-TRANSPORT-ERROR-AS-503")
def test_an_unreachable_registrar_during_a_refresh_is_retried_before_expiry() -> None:
    """With a binding held, a refusal defers at once (the binding may still be saved), and the
    retry is scheduled before the granted expiry."""
    scheduler = Scheduler()
    target = Target("UDP", "192.0.2.60", 5060)
    transport = _Refusing(scheduler, set())
    client, events = _client(transport, scheduler, [target], expires=600)
    client.register()
    from sipfsm.message import parse

    request = parse(transport.sent[-1].data)
    assert isinstance(request, Request)
    client._layer.receive(ok_echo(request, expires=600).to_bytes(), REGISTRAR,
                          transport)  # type: ignore[attr-defined]
    assert client.state == "registered"
    transport.refused.add(target.host)
    scheduler.run(until=600.0)
    retrying = [(t, e) for t, e in events if isinstance(e, Retrying)]
    assert retrying and retrying[0][1].reason is FailureReason.TRANSPORT
    first_at, first = retrying[0]
    assert first_at + first.delay < 600.0


@pytest.mark.requirement("RFC3263-4.3-FAILOVER-NEXT", "RFC3261-8.1.2-TRY-EACH-ADDRESS")
def test_a_thousand_unreachable_targets_each_tried_once_without_recursion() -> None:
    """The stack of one register() does not grow with the number of targets: with 1,000
    targets refusing at once (and a recursion limit well below 1,000 frames per target), each
    target gets exactly one REGISTER and the client then waits to retry."""
    scheduler = Scheduler()
    targets = [Target("UDP", f"10.0.{i // 250}.{i % 250 + 1}", 5060) for i in range(1000)]
    transport = _Refusing(scheduler, {t.host for t in targets})
    client, events = _client(transport, scheduler, targets)
    depths: list[int] = []
    send = transport.send

    def measuring(data: bytes, target: Target) -> None:
        frame, depth = sys._getframe(), 0
        while frame is not None:
            frame, depth = frame.f_back, depth + 1  # type: ignore[assignment]
        depths.append(depth)
        send(data, target)

    transport.send = measuring  # type: ignore[method-assign]
    client.register()
    assert [s.target for s in transport.sent] == targets
    assert max(depths) - min(depths) <= 5, (min(depths), max(depths))
    assert client.state == "failed"
    assert [type(e).__name__ for _, e in events].count("Failed") == 1


def test_reachable_last_target_registers_after_refusals() -> None:
    """Refusals, then a target that answers: registered with the answering one."""
    world = World(ok_echo, config=default_config(registrar_target=None),
                  resolver=StaticResolver({"example.com": [
                      Target("UDP", REGISTRAR.host, REGISTRAR.port)]}))
    world.client.register()
    world.run(5)
    assert world.client.state == "registered"


def test_retries_near_the_expiry_stay_few_when_the_registrar_fails_at_once() -> None:
    """A registrar answering 500 at once from the first refresh on: the retries before the
    expiry are spaced by at least a quarter of the backoff base (no endless halving)."""

    def responder(request: Request, registrar: ScriptedRegistrar) -> Any:
        if len(registrar.requests) == 1:
            return ok_echo(request, expires=600)
        return reply(request, 500)

    world = World(responder, config=default_config(expires=600))
    world.client.register()
    world.run(700)
    times = _accepted_times(world)
    assert len(times) < 15, len(times)
    assert all(b - a >= 30 / 4 - 1e-6 for a, b in itertools.pairwise(times[1:]))
