"""The asyncio driver of RFC 5626 outbound: one user agent instance registering over several
flows (one per edge proxy, reg-id 1, 2, ...), keeping each alive and replacing a failed one.

The decisions are :class:`sipfsm.outbound.FlowSet`'s (sans-IO, time passed in); this module only
moves bytes and time: it owns the sockets (one UDP socket, the TCP and TLS connection pools with
keep-alive hooks), one transaction layer, one :class:`~sipfsm.registration.RegistrationClient`
per flow, and one event-loop timer for :meth:`FlowSet.next_deadline`.

    agent = await OutboundAgent.open(config, edges, credentials=creds, tls=settings)
    agent.start()
    ...  agent.flows.info(), agent.events (registration events tagged with their reg-id)
    await agent.aclose()
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import logging
from collections.abc import Callable, Sequence
from typing import Any

from sipfsm.aio._net import is_ip_literal
from sipfsm.aio.keepalive import KeepAliveTcpTransport, StunDemultiplexer
from sipfsm.aio.runtime import AioTimers, SecretsRandom, SystemClock
from sipfsm.aio.tls import TlsSettings, TlsTransport
from sipfsm.aio.udp import UdpTransport
from sipfsm.errors import ConfigError
from sipfsm.message import SipUri
from sipfsm.outbound.flow import (
    FlowOutput,
    FlowSet,
    FlowSettings,
    FlowState,
    FlowStateChanged,
    KeepAliveKind,
    Register,
    SendKeepAlive,
)
from sipfsm.outbound.stun import StunMessage, binding_request
from sipfsm.ports import HostPort, Target, Transport
from sipfsm.registration import (
    Failed,
    Refreshed,
    Registered,
    RegistrationClient,
    RegistrationConfig,
    RegistrationEvent,
    Unregistered,
)
from sipfsm.transaction import TransactionLayer

__all__ = ["FlowEvent", "OutboundAgent", "OutboundOptions", "edge_target", "flow_summary",
           "run_outbound"]

_log = logging.getLogger("sipfsm.aio")


@dataclasses.dataclass(frozen=True, slots=True)
class FlowEvent:
    """A registration event or a flow state change, with the flow's reg-id."""

    reg_id: int
    event: RegistrationEvent | FlowStateChanged


def edge_target(uri: SipUri) -> Target:
    """The Target of an edge proxy URI given as an address
    (``sip:192.0.2.1:5061;transport=tls;lr``)."""
    transport = (uri.params.get("transport") or "udp").upper()
    if transport not in ("UDP", "TCP", "TLS"):
        raise ConfigError(f"edge proxy {uri}: transport {transport} is not supported")
    if not is_ip_literal(uri.host):
        raise ConfigError(f"edge proxy {uri}: give an IP address (outbound flows are per address)")
    port = uri.port or (5061 if transport == "TLS" else 5060)
    return Target(transport, uri.host.strip("[]"), port)


class _Receiver:
    """The transports' receiver: SIP to the transaction layer (bound once it exists)."""

    def __init__(self) -> None:
        self.layer: TransactionLayer | None = None

    def receive(self, data: bytes, source: HostPort, transport: Transport) -> None:
        if self.layer is not None:
            self.layer.receive(data, source, transport)

    def transport_error(self, target: Target, error: Exception) -> None:
        if self.layer is not None:
            self.layer.transport_error(target, error)


class OutboundAgent:
    """See the module docstring.  ``config`` is the registration every flow makes (AOR,
    registrar, contacts, expiry); each flow gets it with its edge proxy as outbound proxy and its
    reg-id."""

    def __init__(self) -> None:
        self.flows: FlowSet
        self.clients: dict[int, RegistrationClient] = {}
        self.events: asyncio.Queue[FlowEvent] = asyncio.Queue()
        self.listeners: list[Callable[[FlowEvent], None]] = []
        self._transports: dict[str, Any] = {}
        self._closers: list[Any] = []
        self._timer: asyncio.TimerHandle | None = None
        self._clock = SystemClock()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stopped = False

    @classmethod
    async def open(
        cls,
        config: RegistrationConfig,
        edges: Sequence[SipUri],
        *,
        credentials: Any = None,
        tls: TlsSettings | None = None,
        local_host: str = "0.0.0.0",
        settings: FlowSettings | None = None,
        config_for_flow: Callable[[RegistrationConfig, int, SipUri], RegistrationConfig]
        | None = None,
        trace: Any = None,
    ) -> OutboundAgent:
        """``config_for_flow(config, reg_id, edge)``: the flow's own registration config (the
        registration core adds ``+sip.instance`` / ``reg-id`` from it); by default ``config``
        with the edge as outbound proxy."""
        self = cls()
        self._loop = asyncio.get_running_loop()
        targets = [edge_target(edge) for edge in edges]
        random = SecretsRandom()
        self.flows = FlowSet(targets, random, settings)
        receiver = _Receiver()
        stun = StunDemultiplexer(receiver, on_stun=self._stun)
        kinds = {t.transport for t in targets}
        udp = await UdpTransport.open(stun, local_host=local_host, trace=trace)
        self._add("UDP", udp)
        if "TCP" in kinds:
            tcp = KeepAliveTcpTransport(receiver, local_host=local_host, trace=trace,
                                        on_pong=self._pong, on_flow_closed=self._closed)
            self._add("TCP", tcp)
        if "TLS" in kinds:
            tls_transport = await TlsTransport.open(
                receiver, settings=tls or TlsSettings(), local_host=local_host, trace=trace,
                on_pong=self._pong, on_flow_closed=self._closed)
            self._add("TLS", tls_transport)
        timers = AioTimers()
        layer = TransactionLayer(self._transports, timers, random)
        receiver.layer = layer
        make = config_for_flow or _default_flow_config
        for reg_id, edge in zip(self.flows.reg_ids, edges, strict=True):
            flow_config = make(config, reg_id, edge)
            self.clients[reg_id] = RegistrationClient(
                flow_config, layer=layer, timers=timers, clock=self._clock, random=random,
                resolver=None, credentials=credentials,
                observer=self._observer(reg_id))
        return self

    def _add(self, name: str, transport: Any) -> None:
        self._transports[name] = transport
        self._closers.append(transport)

    # -- running ----------------------------------------------------------------------------------

    def start(self) -> None:
        self._apply(self.flows.start(self._now()))

    def stop(self) -> None:
        """Stop keep-alives and every flow's client (bindings stay until they expire)."""
        if self._stopped:
            return
        self._stopped = True
        self._apply(self.flows.stop(self._now()))
        for client in self.clients.values():
            with contextlib.suppress(Exception):
                client.stop()
        if self._timer is not None:
            self._timer.cancel()

    def unregister(self) -> None:
        """Stop the keep-alives and remove every flow's binding."""
        self._apply(self.flows.stop(self._now()))
        for client in self.clients.values():
            client.unregister()

    def drop_flow(self, reg_id: int) -> bool:
        """Abort flow ``reg_id``'s connection (a test and demo aid: a flow that dies)."""
        target = self.flows.target(reg_id)
        transport = self._transports.get(target.transport)
        return isinstance(transport, KeepAliveTcpTransport) and transport.drop(target)

    async def next_event(self, *kinds: type[Any], reg_id: int | None = None,
                         timeout: float | None = None) -> FlowEvent:
        async def wait() -> FlowEvent:
            while True:
                item = await self.events.get()
                if (not kinds or isinstance(item.event, kinds)) and (
                        reg_id is None or item.reg_id == reg_id):
                    return item

        return await asyncio.wait_for(wait(), timeout)

    async def aclose(self) -> None:
        self.stop()
        for closer in reversed(self._closers):
            with contextlib.suppress(Exception):
                result = closer.close()
                if asyncio.iscoroutine(result):
                    await result
        await asyncio.sleep(0)

    async def __aenter__(self) -> OutboundAgent:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    # -- inputs from the clients and the transports ----------------------------------------------

    def _now(self) -> float:
        return self._clock.monotonic()

    def _observer(self, reg_id: int) -> Callable[[RegistrationClient, RegistrationEvent], None]:
        def observe(client: RegistrationClient, event: RegistrationEvent) -> None:
            self._emit(FlowEvent(reg_id, event))
            if self._stopped:
                return
            if isinstance(event, Registered | Refreshed):
                flow_timer = getattr(event, "flow_timer", None)
                self._apply(self.flows.registered(reg_id, self._now(), flow_timer))
            elif isinstance(event, Failed):
                # Each flow's client gives up after one failure (max_consecutive_failures=1):
                # the flow machine owns the §4.5 backoff and asks for the next attempt.
                self._apply(self.flows.register_failed(reg_id, self._now(), event.detail))

        return observe

    def _pong(self, target: Target) -> None:
        reg_id = self.flows.reg_id_for(target)
        if reg_id is not None and not self._stopped:
            self._apply(self.flows.pong(reg_id, self._now()))

    def _closed(self, target: Target) -> None:
        reg_id = self.flows.reg_id_for(target)
        if reg_id is not None and not self._stopped:
            self._apply(self.flows.flow_lost(reg_id, self._now(), "connection closed"))

    def _stun(self, message: StunMessage, source: HostPort, transport: Transport) -> None:
        reg_id = self.flows.reg_id_for(Target("UDP", source.host, source.port))
        if reg_id is None or self._stopped or not message.is_binding_response:
            return
        self._apply(self.flows.stun_response(reg_id, self._now(), message.transaction_id,
                                             message.mapped_address))

    # -- outputs ----------------------------------------------------------------------------------

    def _apply(self, outputs: list[FlowOutput]) -> None:
        pending = list(outputs)
        while pending:
            output = pending.pop(0)
            if isinstance(output, FlowStateChanged):
                self._emit(FlowEvent(output.reg_id, output))
            elif isinstance(output, SendKeepAlive):
                pending += self._send_keepalive(output)
            elif isinstance(output, Register):
                if output.recovery:
                    self._new_flow(output.target)
                client = self.clients[output.reg_id]
                try:
                    client.register()
                except Exception as exc:  # a stopped client: start it again
                    _log.debug("flow %s: register failed at once: %s", output.reg_id, exc)
                    pending += self.flows.register_failed(output.reg_id, self._now(), str(exc))
        self._arm()

    def _new_flow(self, target: Target) -> None:
        # RFC 5626 §4.5: the failed flow is replaced by a new flow; over TCP/TLS a flow is its
        # connection, so the one that failed (a pong that never came) is cut, not reused.
        transport = self._transports.get(target.transport)
        if isinstance(transport, KeepAliveTcpTransport):
            transport.abandon(target)

    def _send_keepalive(self, output: SendKeepAlive) -> list[FlowOutput]:
        transport = self._transports.get(output.target.transport)
        if output.kind is KeepAliveKind.CRLF:
            assert isinstance(transport, KeepAliveTcpTransport)
            if transport.send_ping(output.target):
                return []
            return self.flows.flow_lost(output.reg_id, self._now(), "no connection for the ping")
        try:
            assert transport is not None
            transport.send(binding_request(output.transaction_id), output.target)
        except Exception as exc:
            return self.flows.flow_lost(output.reg_id, self._now(), f"STUN send failed: {exc}")
        return []

    def _arm(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        deadline = self.flows.next_deadline()
        if deadline is None or self._stopped or self._loop is None:
            return
        delay = max(0.0, deadline - self._now())
        self._timer = self._loop.call_later(delay, self._tick)

    def _tick(self) -> None:
        self._timer = None
        if not self._stopped:
            self._apply(self.flows.tick(self._now()))

    def _emit(self, event: FlowEvent) -> None:
        self.events.put_nowait(event)
        for listener in self.listeners:
            try:
                listener(event)
            except Exception:
                _log.exception("outbound listener failed")


def _default_flow_config(config: RegistrationConfig, reg_id: int,
                         edge: SipUri) -> RegistrationConfig:
    proxy = edge if "lr" in edge.params else edge.with_param("lr")
    return dataclasses.replace(config, outbound_proxy=proxy, registrar_target=None,
                               max_consecutive_failures=1)


# -- the command: sipfsm register --outbound ------------------------------------------------------


@dataclasses.dataclass(frozen=True, slots=True)
class OutboundOptions:
    """``--outbound``: the instance id, the edge proxies (one flow each) and the keep-alive
    period (None: the RFC 5626 defaults, or the registrar's Flow-Timer)."""

    instance_id: str
    edges: tuple[SipUri, ...]
    keepalive: float | None = None


def _describe_registration(reg_id: int, target: Target, event: Any) -> str:
    parts = [f"flow {reg_id} ({target}) registered for {event.expires}s"]
    for label, name in (("pub-gruu", "pub_gruu"), ("temp-gruu", "temp_gruu")):
        value = getattr(event, name, None)
        if value:
            parts.append(f"{label} {value}")
    path = getattr(event, "path", ())
    if path:
        parts.append("path " + ", ".join(path))
    if getattr(event, "outbound", False):
        parts.append("outbound supported")
    return "; ".join(parts)


def flow_summary(agent: OutboundAgent) -> list[str]:
    """One line per flow: reg-id, edge, state, keep-alive kind, mapped address."""
    lines = []
    for info in agent.flows.info():
        mapped = f", mapped {info.mapped[0]}:{info.mapped[1]}" if info.mapped else ""
        lines.append(f"  flow {info.reg_id} {info.target}: {info.state.value} "
                     f"({info.keepalive} keep-alives{mapped})")
    return lines


async def run_outbound(options: Any, outbound: OutboundOptions, out: Any, err: Any) -> int:
    """``sipfsm register --outbound``: register over every flow, keep the flows alive and
    recover them until ``--duration`` ends or Ctrl-C, printing the GRUU and the flow states;
    then unregister.  ``options`` is the CLI's :class:`~sipfsm.app.ClientOptions`."""
    import signal

    from sipfsm.app import _config_from, _credentials, exit_code_for

    loop = asyncio.get_running_loop()
    config = _config_from(options)
    settings = FlowSettings(keepalive=outbound.keepalive)

    def per_flow(base: RegistrationConfig, reg_id: int, edge: SipUri) -> RegistrationConfig:
        # RFC 5626 §4.2: one instance id, a reg-id per flow.
        return dataclasses.replace(_default_flow_config(base, reg_id, edge),
                                   instance_id=outbound.instance_id, reg_id=reg_id)

    agent = await OutboundAgent.open(
        config, list(outbound.edges), credentials=_credentials(options), tls=options.tls,
        local_host=options.local_host, settings=settings, config_for_flow=per_flow)
    finish = asyncio.Event()
    with contextlib.suppress(NotImplementedError, RuntimeError, ValueError):
        loop.add_signal_handler(signal.SIGINT, finish.set)
        loop.add_signal_handler(signal.SIGTERM, finish.set)
    targets = {reg_id: agent.flows.target(reg_id) for reg_id in agent.flows.reg_ids}
    waiting = set(targets)
    code = 0

    def show(item: FlowEvent) -> None:
        event = item.event
        routine = {(FlowState.UP, FlowState.PROBING), (FlowState.PROBING, FlowState.UP)}
        if isinstance(event, FlowStateChanged) and (event.old, event.new) not in routine:
            print(f"flow {item.reg_id}: {event.old.value} -> {event.new.value} ({event.reason})",
                  file=err, flush=True)
        elif isinstance(event, Registered | Refreshed) and item.reg_id not in waiting:
            print(f"flow {item.reg_id}: refreshed for {event.expires}s", file=err, flush=True)

    agent.listeners.append(show)
    async with agent:
        agent.start()
        deadline = None if options.duration is None else loop.time() + options.duration
        try:
            while waiting:
                left = None if deadline is None else max(0.0, deadline - loop.time())
                item = await agent.next_event(Registered, Failed, timeout=left)
                if isinstance(item.event, Failed):
                    print(f"sipfsm: flow {item.reg_id} ({targets[item.reg_id]}): "
                          f"registration failed: {item.event.detail}", file=err)
                    code = code or exit_code_for(item.event)
                    if len(targets) == 1:
                        return code
                    continue
                if item.reg_id in waiting:
                    waiting.discard(item.reg_id)
                    print(_describe_registration(item.reg_id, targets[item.reg_id], item.event),
                          file=out, flush=True)
        except TimeoutError:
            print("sipfsm: not every flow registered within --duration", file=err)
            return code or 5
        print("flows:", file=out)
        for line in flow_summary(agent):
            print(line, file=out, flush=True)
        left = None if deadline is None else max(0.0, deadline - loop.time())
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(finish.wait(), left)
        print("flows at the end:", file=out)
        for line in flow_summary(agent):
            print(line, file=out)
        agent.unregister()
        with contextlib.suppress(TimeoutError):
            for _ in targets:
                await agent.next_event(Unregistered, timeout=8.0)
        print(f"unregistered {options.aor}", file=out)
    return code
