"""A simulated world for registration checks: one RegistrationClient, one or more registrars
(scripted by a responder function, or the embedded registrar), all on the simulator's virtual
clock and in-memory network.  Public, so users' own harnesses can drive sipfsm the same way.

>>> world = World(responder=ok_echo)
>>> world.client.register()
>>> world.run(10)
>>> world.client.state
'registered'
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from sipfsm.errors import ParseError
from sipfsm.message import Request, Response, SipUri, parse, parse_uri
from sipfsm.message.responses import build_response
from sipfsm.ports import HostPort, Target, Transport
from sipfsm.registration import (
    BackoffPolicy,
    RegistrationClient,
    RegistrationConfig,
    RegistrationEvent,
)
from sipfsm.sim import LinkFaults, Network, Recorder, Scheduler, SeededRandom
from sipfsm.transaction import TimerValues, TransactionLayer

__all__ = [
    "CLIENT",
    "MAX_EVENTS_AT_ONE_INSTANT",
    "MAX_EVENTS_PER_RUN",
    "REGISTRAR",
    "Responder",
    "Runaway",
    "ScriptedRegistrar",
    "StaticResolver",
    "World",
    "ok_echo",
    "reply",
    "run_bounded",
]

CLIENT = HostPort("192.0.2.10", 5060)
REGISTRAR = HostPort("192.0.2.1", 5060)
AOR = "sip:alice@example.com"

# A responder sees each request (retransmissions included) and answers with zero or more
# responses; None or [] drops it.
Responder = Callable[[Request, "ScriptedRegistrar"], "Response | Sequence[Response] | None"]

# A client that acts again and again without virtual time passing (a retry with no delay, each
# answered at once) would keep a simulation busy for ever, and ``sipfsm conformance`` with it.
# A correct client needs a few dozen events at one instant and a few thousand in a whole run;
# past these budgets the run stops with :class:`Runaway`, a failure of the check that ran it.
MAX_EVENTS_AT_ONE_INSTANT = 1_000
MAX_EVENTS_PER_RUN = 50_000


class Runaway(AssertionError):
    """A simulation ran over its event budget: the client loops (in zero virtual time, or
    nearly) instead of waiting, giving up or settling."""


def run_bounded(scheduler: Scheduler, until: float, *,
                max_at_one_instant: int = MAX_EVENTS_AT_ONE_INSTANT,
                max_events: int = MAX_EVENTS_PER_RUN) -> int:
    """``scheduler.run(until=until)`` (``until=inf``: until no event is left), but raise
    :class:`Runaway` after ``max_at_one_instant`` events at one virtual instant or
    ``max_events`` in all.  Returns the events run."""
    count = same = 0
    last = scheduler.now
    while True:
        due = scheduler.next_time()
        if due is None or due > until:
            break
        if due == last:
            same += 1
            if same > max_at_one_instant:
                raise Runaway(f"{same} events at t={due:.6f} s without virtual time passing: "
                              "the client loops instead of waiting or giving up")
        else:
            last, same = due, 0
        scheduler.step()
        count += 1
        if count > max_events:
            raise Runaway(f"{count} events by t={scheduler.now:.3f} s (budget {max_events}): "
                          "the client never settles")
    if until != float("inf"):
        scheduler.run(until=until)  # the clock moves on to ``until``
    return count


def reply(request: Request, status: int, reason: str | None = None, *,
          headers: Iterable[tuple[str, str]] = (), to_tag: str | None = "reg") -> Response:
    """A response to ``request`` from the one response builder
    (:func:`sipfsm.message.responses.build_response`, RFC 3261 §8.2.6.2): Vias, From, To
    (+ tag; ``to_tag=None``: none), Call-ID and CSeq copied, then ``headers``."""
    return build_response(request, status, reason, to_tag=to_tag or "", headers=headers)


def ok_echo(request: Request, registrar: ScriptedRegistrar | None = None, *,
            expires: int | None = None, extra: Iterable[str] = ()) -> Response:
    """A 200 listing the request's contacts with ``;expires=`` (the request's Expires, or
    ``expires``), plus ``extra`` contact values (other UAs' bindings)."""
    requested = request.expires
    granted = expires if expires is not None else (requested if requested is not None else 3600)
    headers = [("Contact", f"<{c.uri}>;expires={granted}") for c in request.contacts]
    if request.expires == 0 or request.contact_star:
        headers = []
    headers.extend(("Contact", value) for value in extra)
    return reply(request, 200, headers=headers)


class ScriptedRegistrar:
    """A registrar on the simulated network whose answers come from a responder function."""

    def __init__(self, net: Network, address: HostPort, responder: Responder,
                 transport: str = "UDP") -> None:
        self.address = address
        self.responder = responder
        self.endpoint = net.endpoint(address, transport, receiver=self)
        self._scheduler = net.scheduler
        self.requests: list[tuple[float, Request]] = []
        self.state: dict[str, Any] = {}

    def receive(self, data: bytes, source: HostPort, transport: Transport) -> None:
        try:
            message = parse(data)
        except ParseError:
            return
        if not isinstance(message, Request):
            return
        self.requests.append((self._scheduler.now, message))
        out = self.responder(message, self)
        if out is None:
            return
        for response in [out] if isinstance(out, Response) else out:
            transport.send(response.to_bytes(), Target(transport.name, source.host, source.port))

    def transport_error(self, target: Target, error: Exception) -> None:
        return


@dataclass
class StaticResolver:
    """A Resolver port answering from a table (host -> targets), synchronously or after a
    virtual delay."""

    table: dict[str, list[Target]]
    scheduler: Scheduler | None = None
    delay: float = 0.0
    calls: list[str] = field(default_factory=list)

    def resolve(self, host: str, *, port: int | None, transport: str | None, secure: bool,
                on_done: Callable[[Sequence[Target]], None],
                on_error: Callable[[Exception], None]) -> None:
        self.calls.append(host)
        answer = self.table.get(host)

        def finish() -> None:
            if answer is None:
                on_error(LookupError(f"{host}: no such domain"))
            else:
                on_done(list(answer))

        if self.scheduler is not None and self.delay > 0:
            self.scheduler.start("resolve", self.delay, finish)
        else:
            finish()


def default_config(**changes: Any) -> RegistrationConfig:
    aor = parse_uri(AOR)
    assert isinstance(aor, SipUri)
    base = RegistrationConfig(
        aor=aor,
        registrar_target=Target("UDP", REGISTRAR.host, REGISTRAR.port),
        expires=3600,
        backoff=BackoffPolicy(base=30.0, maximum=1800.0),
    )
    return replace(base, **changes)


class World:
    """One client, its registrar(s), the virtual clock and the network, plus what happened."""

    def __init__(
        self,
        responder: Responder | None = None,
        *,
        config: RegistrationConfig | None = None,
        seed: int = 0,
        faults: LinkFaults | None = None,
        transport: str = "UDP",
        credentials: Any = None,
        resolver: Any = None,
        registrars: dict[HostPort, Responder] | None = None,
        timer_values: TimerValues | None = None,
        random: Any = None,
    ) -> None:
        self.scheduler = Scheduler()
        self.recorder = Recorder(self.scheduler)
        kwargs: dict[str, Any] = {"seed": seed, "recorder": self.recorder}
        if faults is not None:
            kwargs["faults"] = faults
        self.net = Network(self.scheduler, **kwargs)
        self.transport = self.net.endpoint(CLIENT, transport)
        self.layer = TransactionLayer(self.transport, self.scheduler, SeededRandom(seed + 1),
                                      timer_values=timer_values)
        self.transport.bind(self.layer)
        self.registrars: dict[HostPort, ScriptedRegistrar] = {}
        for addr, resp in (registrars or {REGISTRAR: responder or ok_echo}).items():
            self.registrars[addr] = ScriptedRegistrar(self.net, addr, resp, transport)
        self.events: list[tuple[float, RegistrationEvent]] = []
        self.client = RegistrationClient(
            config or default_config(transport=transport) if config is None else config,
            layer=self.layer,
            timers=self.scheduler,
            clock=self.scheduler,
            random=random if random is not None else SeededRandom(seed + 2),
            resolver=resolver,
            credentials=credentials,
            observer=lambda _client, event: self.events.append((self.scheduler.now, event)),
        )

    @property
    def registrar(self) -> ScriptedRegistrar:
        return next(iter(self.registrars.values()))

    def run(self, seconds: float) -> None:
        """``seconds`` of virtual time, within the event budgets (:func:`run_bounded`)."""
        run_bounded(self.scheduler, self.scheduler.now + seconds)

    def run_until(self, when: float) -> None:
        """Up to the virtual time ``when``, within the event budgets (:func:`run_bounded`)."""
        run_bounded(self.scheduler, when)

    def sent(self) -> list[tuple[float, Request]]:
        """Every request the client put on the wire (retransmissions included), in order."""
        out = []
        for entry in self.recorder.select(local=CLIENT, direction="sent"):
            message = parse(entry.message.encode("utf-8"))
            if isinstance(message, Request):
                out.append((entry.time, message))
        return out

    def sent_registers(self) -> list[Request]:
        """Each REGISTER request once (retransmissions of one transaction folded)."""
        seen: set[str] = set()
        out = []
        for _, request in self.sent():
            branch = request.vias[0].branch or ""
            if branch not in seen:
                seen.add(branch)
                out.append(request)
        return out

    def events_of(self, kind: type[Any]) -> list[Any]:
        return [e for _, e in self.events if isinstance(e, kind)]
