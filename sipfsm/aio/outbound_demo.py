"""``sipfsm demo --outbound`` (with ``--tls``: the first flow over TLS): RFC 5626 outbound against
the embedded registrar on loopback, with no set-up -- two flows (TLS or TCP, and UDP), CRLF and
STUN keep-alives answered, the first flow killed and recovered, the GRUU the registrar gave,
then unregister."""

from __future__ import annotations

import asyncio
import dataclasses
import tempfile
from typing import Any, TextIO

from sipfsm.aio import SecretsRandom, SystemClock
from sipfsm.aio.outbound import FlowEvent, OutboundAgent, _default_flow_config, flow_summary
from sipfsm.message import SipUri, parse_uri
from sipfsm.outbound import FlowSettings, FlowState, FlowStateChanged
from sipfsm.outbound.registration import instance_urn
from sipfsm.registrar import RegistrarConfig
from sipfsm.registrar.extensions import ExtendedRegistrar
from sipfsm.registrar.server import RegistrarServer
from sipfsm.registration import Failed, Registered, RegistrationConfig, Unregistered

__all__ = ["run_outbound_demo"]

DOMAIN = "sipfsm.demo"
USER, PASSWORD = "alice", "wonderland"


def _uri(text: str) -> SipUri:
    uri = parse_uri(text)
    assert isinstance(uri, SipUri)
    return uri


async def run_outbound_demo(out: TextIO, *, timeout: float = 30.0, tls: bool = False) -> int:
    from sipfsm.auth import StaticCredentials

    with tempfile.TemporaryDirectory(prefix="sipfsm-demo-") as folder:
        tls_context = tls_settings = None
        if tls:
            from sipfsm.aio.tls_pki import throwaway_tls

            tls_context, tls_settings = throwaway_tls(folder, DOMAIN)
        registrar = ExtendedRegistrar(
            RegistrarConfig(users={USER: PASSWORD}, realm=DOMAIN, min_expires=1),
            SystemClock(), SecretsRandom(), flow_timer=None)
        server = await RegistrarServer.start(
            registrar, host="127.0.0.1", udp_port=0, tcp_port=None if tls else 0,
            tls_port=0 if tls else None, tls_context=tls_context)
        try:
            stream = server.tls_address if tls else server.tcp_address
            udp = server.udp_address
            assert stream is not None and udp is not None
            name = "tls" if tls else "tcp"
            edges = [_uri(f"sip:127.0.0.1:{stream.port};transport={name};lr"),
                     _uri(f"sip:127.0.0.1:{udp.port};lr")]
            print(f"embedded registrar on {name}:{stream} and udp:{udp} "
                  f"(realm {DOMAIN}, user {USER})", file=out)
            return await _run(out, timeout, edges, tls_settings, StaticCredentials)
        finally:
            await server.aclose()


async def _run(out: TextIO, timeout: float, edges: list[SipUri], tls_settings: Any,
               credentials: Any) -> int:
    instance = instance_urn(f"sip:{USER}@{DOMAIN}|demo")
    config = RegistrationConfig(aor=SipUri(scheme="sip", user=USER, host=DOMAIN), expires=600)

    def per_flow(base: RegistrationConfig, reg_id: int, edge: SipUri) -> RegistrationConfig:
        return dataclasses.replace(_default_flow_config(base, reg_id, edge),
                                   instance_id=instance, reg_id=reg_id)

    agent = await OutboundAgent.open(
        config, edges, credentials=credentials(USER, PASSWORD), tls=tls_settings,
        local_host="127.0.0.1", settings=FlowSettings(keepalive=0.5),
        config_for_flow=per_flow)

    def show(item: FlowEvent) -> None:
        event = item.event
        if isinstance(event, FlowStateChanged):
            print(f"    flow {item.reg_id}: {event.old.value} -> {event.new.value} "
                  f"({event.reason})", file=out, flush=True)

    agent.listeners.append(show)
    async with agent:
        print(f"--- register two flows (instance {instance})", file=out, flush=True)
        agent.start()
        for _ in agent.flows.reg_ids:
            item = await agent.next_event(Registered, Failed, timeout=timeout)
            if not isinstance(item.event, Registered):
                print(f"sipfsm demo: flow {item.reg_id} failed: {item.event}", file=out)
                return 1
            gruu = getattr(item.event, "pub_gruu", None)
            print(f"    flow {item.reg_id} registered for {item.event.expires}s"
                  + (f"; GRUU {gruu}" if gruu else ""), file=out, flush=True)
        print("--- keep-alives (CRLF ping/pong, STUN Binding)", file=out, flush=True)
        agent.listeners.remove(show)
        await asyncio.sleep(1.5)
        agent.listeners.append(show)
        for line in flow_summary(agent):
            print(line, file=out)
        print("--- flow 1 killed: detected, re-registered over a new connection", file=out,
              flush=True)
        agent.drop_flow(1)
        item = await agent.next_event(Registered, Failed, reg_id=1, timeout=timeout)
        if isinstance(item.event, Failed) or agent.flows.state(1) is FlowState.FAILED:
            print("sipfsm demo: flow 1 did not recover", file=out)
            return 1
        print("--- unregister", file=out, flush=True)
        agent.unregister()
        for _ in agent.flows.reg_ids:
            await agent.next_event(Unregistered, timeout=timeout)
        print("demo complete: two flows registered, kept alive, one recovered, unregistered",
              file=out)
    return 0
