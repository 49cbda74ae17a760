"""RFC 5626 outbound against a real Kamailio: two flows (TLS and UDP) registered, keep-alives
answered by Kamailio (CRLF pong from the core, STUN from the stun module), a flow killed and
recovered."""

from __future__ import annotations

import asyncio
from dataclasses import replace
from pathlib import Path

import pytest

from sipfsm.aio.outbound import OutboundAgent, _default_flow_config
from sipfsm.auth import StaticCredentials
from sipfsm.message import SipUri, parse_uri
from sipfsm.outbound import FlowSettings, FlowState, FlowStateChanged
from sipfsm.registration import Registered, RegistrationConfig, Unregistered
from tests.interop.kamailio_ext import ExtRegistrar
from tests.interop.kamailio_fixture import DEFAULT_REALM

pytestmark = pytest.mark.interop

INSTANCE = "urn:uuid:3b5a8c4e-5f0e-4b8e-9d1c-2f6a7e9c0d11"


def _uri(text: str) -> SipUri:
    uri = parse_uri(text)
    assert isinstance(uri, SipUri)
    return uri


@pytest.mark.requirement("RFC5627-4.1-READ-GRUUS")
@pytest.mark.requirement("RFC5626-4.2-INSTANCE-AND-REG-ID")
@pytest.mark.requirement("RFC5626-4.4.1-PONG-TIMEOUT")
@pytest.mark.requirement("RFC5626-4.4-FLOW-CLOSED")
@pytest.mark.requirement("RFC5626-4.5-SAME-REG-ID")
def test_two_flows_keepalives_answered_and_a_killed_flow_recovered(
        kamailio_ok: None, tmp_path: Path) -> None:
    with ExtRegistrar(tmp_path, min_expires=60) as kam:

        async def scenario() -> None:
            edges = [_uri(f"sip:127.0.0.1:{kam.tls_port};transport=tls;lr"),
                     _uri(f"sip:127.0.0.1:{kam.udp_port};lr")]
            config = RegistrationConfig(aor=_uri(f"sip:alice@{DEFAULT_REALM}"), expires=600,
                                        instance_id=INSTANCE)

            def per_flow(base: RegistrationConfig, reg_id: int, edge: SipUri
                         ) -> RegistrationConfig:
                return replace(_default_flow_config(base, reg_id, edge), reg_id=reg_id)

            # Short keep-alive periods (as a Flow-Timer would set) so the test sees several.
            agent = await OutboundAgent.open(
                config, edges, credentials=StaticCredentials("alice", kam.password_for("alice")),
                tls=kam.tls_settings(), local_host="127.0.0.1", config_for_flow=per_flow,
                settings=FlowSettings(keepalive=0.3, pong_timeout=2.0, stun_rto=0.2))
            pongs: list[int] = []
            stun: list[int] = []
            async with agent:
                tls_transport = agent._transports["TLS"]
                original_pong = tls_transport.on_pong

                def count_pong(target: object) -> None:
                    pongs.append(1)
                    original_pong(target)

                tls_transport.on_pong = count_pong
                original_stun = agent._stun

                def count_stun(*args: object) -> None:
                    stun.append(1)
                    original_stun(*args)  # type: ignore[arg-type]

                agent._transports["UDP"]._receiver.on_stun = count_stun
                agent.start()
                firsts = [await agent.next_event(Registered, timeout=10) for _ in range(2)]
                assert {f.reg_id for f in firsts} == {1, 2}
                for first in firsts:
                    event = first.event
                    assert isinstance(event, Registered)
                    # RFC 5626 §4.2 / §6: Kamailio's registrar (outbound_mode 1) took the flow;
                    # RFC 5627 §4.1: and gave the instance its GRUUs (gruu_enabled).
                    assert event.outbound, event
                    assert event.pub_gruu is not None and INSTANCE in event.pub_gruu
                    assert event.temp_gruu is not None and event.temp_gruu.endswith(";gr")
                await asyncio.sleep(1.5)
                assert len(pongs) >= 2, "Kamailio answered no CRLF ping"
                assert len(stun) >= 2, "Kamailio answered no STUN Binding request"
                assert {i.state for i in agent.flows.info()} <= {FlowState.UP, FlowState.PROBING}
                mapped = agent.flows.info()[1].mapped
                assert mapped is not None and mapped[0] == "127.0.0.1"
                while not agent.events.empty():
                    agent.events.get_nowait()
                assert agent.drop_flow(1)
                change = await agent.next_event(FlowStateChanged, reg_id=1, timeout=5)
                assert isinstance(change.event, FlowStateChanged)
                assert change.event.new is FlowState.REGISTERING
                recovered = await agent.next_event(Registered, reg_id=1, timeout=10)
                assert recovered.reg_id == 1
                await asyncio.sleep(0.8)
                assert agent.flows.state(1) in (FlowState.UP, FlowState.PROBING)
                agent.unregister()
                for _ in range(2):
                    await agent.next_event(Unregistered, timeout=10)

        asyncio.run(asyncio.wait_for(scenario(), 60))
        log = kam.log_text()
        assert "REGISTER ok for sip:alice@sipfsm.test over tls" in log
        assert "REGISTER ok for sip:alice@sipfsm.test over udp" in log
