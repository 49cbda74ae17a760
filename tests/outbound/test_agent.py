"""The asyncio outbound driver against two embedded registrars acting as edges: two flows
(TCP and UDP), keep-alives answered (CRLF pong, STUN), a flow killed and recovered."""

from __future__ import annotations

import asyncio

from sipfsm.aio.outbound import OutboundAgent
from sipfsm.conformance.aio_support import run
from sipfsm.message import SipUri, parse_uri
from sipfsm.outbound import FlowSettings, FlowState, FlowStateChanged
from sipfsm.registrar import RegistrarConfig
from sipfsm.registrar.server import RegistrarServer
from sipfsm.registration import Registered, RegistrationConfig


def _uri(text: str) -> SipUri:
    uri = parse_uri(text)
    assert isinstance(uri, SipUri)
    return uri


def test_two_flows_keepalives_and_recovery() -> None:
    async def scenario() -> None:
        tcp_edge = await RegistrarServer.start(RegistrarConfig(min_expires=1), host="127.0.0.1",
                                               udp_port=None, tcp_port=0)
        udp_edge = await RegistrarServer.start(RegistrarConfig(min_expires=1), host="127.0.0.1",
                                               udp_port=0, tcp_port=None)
        assert tcp_edge.tcp_address and udp_edge.udp_address
        edges = [_uri(f"sip:127.0.0.1:{tcp_edge.tcp_address.port};transport=tcp;lr"),
                 _uri(f"sip:127.0.0.1:{udp_edge.udp_address.port};lr")]
        config = RegistrationConfig(aor=_uri("sip:alice@sipfsm.test"), expires=600)
        agent = await OutboundAgent.open(
            config, edges, local_host="127.0.0.1",
            settings=FlowSettings(keepalive=0.2, stun_rto=0.1))
        try:
            agent.start()
            registered = {(await agent.next_event(Registered, timeout=5)).reg_id
                          for _ in range(2)}
            assert registered == {1, 2}
            await asyncio.sleep(0.8)  # several keep-alive periods
            assert agent.flows.state(1) in (FlowState.UP, FlowState.PROBING)
            assert agent.flows.state(2) in (FlowState.UP, FlowState.PROBING)
            tcp_transport = tcp_edge._tcp
            assert tcp_transport is not None and tcp_transport.pongs_sent >= 2  # type: ignore[attr-defined]
            stun = udp_edge._udp._receiver  # type: ignore[union-attr]
            assert stun.binding_requests_answered >= 2
            mapped = agent.flows.info()[1].mapped
            assert mapped is not None and mapped[0] == "127.0.0.1"
            # Kill flow 1: it fails and is replaced by a new registration over a new connection.
            while not agent.events.empty():
                agent.events.get_nowait()
            assert agent.drop_flow(1)
            change = await agent.next_event(FlowStateChanged, reg_id=1, timeout=5)
            assert isinstance(change.event, FlowStateChanged)
            assert change.event.new is FlowState.REGISTERING
            assert "closed" in change.event.reason
            again = await agent.next_event(Registered, reg_id=1, timeout=5)
            assert again.reg_id == 1
            assert agent.flows.state(1) in (FlowState.UP, FlowState.PROBING)
            assert agent.flows.state(2) in (FlowState.UP, FlowState.PROBING)
        finally:
            await agent.aclose()
            await tcp_edge.aclose()
            await udp_edge.aclose()

    run(scenario(), timeout=20)
