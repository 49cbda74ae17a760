"""IPv6 against a real Kamailio listening on [::1]: UDP, TCP and TLS."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from sipfsm.app import AsyncRegistration
from sipfsm.auth import StaticCredentials
from sipfsm.conformance.aio_support import has_ipv6
from sipfsm.message import SipUri
from sipfsm.ports import Target
from sipfsm.registration import Failed, Registered, RegistrationConfig, Unregistered
from tests.interop.kamailio_ext import ExtRegistrar
from tests.interop.kamailio_fixture import DEFAULT_REALM

pytestmark = pytest.mark.interop


@pytest.mark.parametrize("transport", ["UDP", "TCP", "TLS"])
def test_register_over_ipv6_loopback(kamailio_ok: None, tmp_path: Path, transport: str) -> None:
    if not has_ipv6():
        pytest.skip("no IPv6 loopback on this host")
    with ExtRegistrar(tmp_path, ipv6=True, min_expires=60) as kam:

        async def scenario() -> None:
            port = kam.v6_tls_port if transport == "TLS" else kam.v6_port
            config = RegistrationConfig(
                aor=SipUri(scheme="sip", user="dave", host=DEFAULT_REALM),
                registrar_target=Target(transport, "::1", port), transport=transport,
                expires=600, max_consecutive_failures=1)
            async with await AsyncRegistration.open(
                    config, credentials=StaticCredentials("dave", kam.password_for("dave")),
                    local_host="::1",
                    tls=kam.tls_settings() if transport == "TLS" else None) as reg:
                reg.client.register()
                ev = await reg.next_event(Registered, Failed, timeout=10)
                assert isinstance(ev, Registered), ev
                ours = [b.contact for b in ev.bindings if b.ours]
                assert ours and ours[0].startswith("sip:dave@[::1]:")
                reg.client.unregister()
                assert isinstance(await reg.next_event(Unregistered, Failed, timeout=10),
                                  Unregistered)

        asyncio.run(asyncio.wait_for(scenario(), 40))
        assert f"over {transport.lower()}" in kam.log_text()
