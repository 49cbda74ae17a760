"""RFC 3327 Path through a real Kamailio edge proxy in front of a Kamailio registrar."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from sipfsm.app import AsyncRegistration
from sipfsm.auth import StaticCredentials
from sipfsm.message import SipUri, parse_uri
from sipfsm.registration import Failed, Registered, RegistrationConfig, Unregistered
from tests.interop.kamailio_ext import EdgeProxy, ExtRegistrar
from tests.interop.kamailio_fixture import DEFAULT_REALM

pytestmark = pytest.mark.interop


def _uri(text: str) -> SipUri:
    uri = parse_uri(text)
    assert isinstance(uri, SipUri)
    return uri


@pytest.mark.requirement("RFC3327-5.1-PATH-REPORTED")
@pytest.mark.requirement("RFC3327-5.1-SUPPORTED-PATH")
def test_register_through_an_edge_proxy_that_adds_path(kamailio_ok: None,
                                                       tmp_path: Path) -> None:
    with ExtRegistrar(tmp_path / "registrar", min_expires=60) as kam, EdgeProxy(
            tmp_path / "edge", f"sip:127.0.0.1:{kam.udp_port}", tmp_path / "edge-pki") as edge:

        async def scenario() -> None:
            config = RegistrationConfig(
                aor=_uri(f"sip:carol@{DEFAULT_REALM}"),
                outbound_proxy=_uri(f"sip:127.0.0.1:{edge.tcp_port};transport=tcp;lr"),
                transport="TCP", expires=600, max_consecutive_failures=1)
            async with await AsyncRegistration.open(
                    config, credentials=StaticCredentials("carol", kam.password_for("carol")),
                    local_host="127.0.0.1") as reg:
                reg.client.register()
                ev = await reg.next_event(Registered, Failed, timeout=10)
                assert isinstance(ev, Registered), ev
                # RFC 3327 §5: the edge's Path value, returned by the registrar (path_mode 1:
                # the REGISTER said Supported: path) and reported on the event.
                assert len(ev.path) == 1, ev
                assert f"127.0.0.1:{edge.tcp_port}" in ev.path[0] and ";lr" in ev.path[0]
                reg.client.unregister()
                assert isinstance(await reg.next_event(Unregistered, Failed, timeout=10),
                                  Unregistered)

        asyncio.run(asyncio.wait_for(scenario(), 40))
        assert "EDGE REGISTER" in edge.log_text()
        assert "REGISTER ok for sip:carol@sipfsm.test" in kam.log_text()
