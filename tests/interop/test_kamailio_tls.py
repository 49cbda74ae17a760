"""sipfsm against a real Kamailio over TLS (kamailio-tls-modules), with a CA and server
certificate made at test time: registration, refresh, unregister; certificate failures."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest

from sipfsm.app import AsyncRegistration, CertificateFailed
from sipfsm.auth import StaticCredentials
from sipfsm.message import SipUri
from sipfsm.ports import Target
from sipfsm.registration import (
    Failed,
    Refreshed,
    RefreshPolicy,
    Registered,
    RegistrationConfig,
    Unregistered,
)
from tests.interop.kamailio_ext import ExtRegistrar
from tests.interop.kamailio_fixture import DEFAULT_REALM

pytestmark = pytest.mark.interop

FAST_REFRESH = RefreshPolicy(margin=1.0, fraction=0.5, jitter=0.0, floor=0.5)


def _config(target: Target, user: str, **changes: Any) -> RegistrationConfig:
    base: dict[str, Any] = {
        "aor": SipUri(scheme="sip", user=user, host=DEFAULT_REALM),
        "registrar_target": target,
        "transport": target.transport,
        "max_consecutive_failures": 1,
    }
    base.update(changes)
    return RegistrationConfig(**base)


@pytest.mark.requirement("RFC5922-7.3-CLIENT-CHECKS-SERVER")
def test_register_refresh_unregister_over_tls(kamailio_ok: None, tmp_path: Path) -> None:
    with ExtRegistrar(tmp_path, min_expires=2, max_expires=3) as kam:

        async def scenario() -> None:
            target = Target("TLS", "127.0.0.1", kam.tls_port)
            config = _config(target, "alice", expires=3, refresh=FAST_REFRESH)
            async with await AsyncRegistration.open(
                    config, credentials=StaticCredentials("alice", kam.password_for("alice")),
                    local_host="127.0.0.1", tls=kam.tls_settings()) as reg:
                reg.client.register()
                ev = await reg.next_event(Registered, Failed, timeout=10)
                assert isinstance(ev, Registered), ev
                assert any("transport=tls" in b.contact for b in ev.bindings if b.ours)
                ev = await reg.next_event(Refreshed, Failed, timeout=10)
                assert isinstance(ev, Refreshed), ev
                reg.client.unregister()
                ev = await reg.next_event(Unregistered, Failed, timeout=10)
                assert isinstance(ev, Unregistered), ev

        asyncio.run(asyncio.wait_for(scenario(), 40))
        assert "REGISTER ok for sip:alice@sipfsm.test over tls" in kam.log_text()


@pytest.mark.requirement("RFC5922-7.3-VALIDATE-CHAIN")
@pytest.mark.parametrize("case", ["system-store", "other-domain"])
def test_certificate_failures_end_the_registration(kamailio_ok: None, tmp_path: Path,
                                                   case: str) -> None:
    with ExtRegistrar(tmp_path) as kam:

        async def scenario() -> None:
            target = Target("TLS", "127.0.0.1", kam.tls_port)
            settings = (kam.tls_settings().__class__(server_name=DEFAULT_REALM)
                        if case == "system-store" else kam.tls_settings("example.com"))
            async with await AsyncRegistration.open(
                    _config(target, "bob"), credentials=StaticCredentials("bob", "x"),
                    local_host="127.0.0.1", tls=settings) as reg:
                reg.client.register()
                ev = await reg.next_event(Registered, Failed, timeout=10)
                assert isinstance(ev, CertificateFailed), ev
                assert ("not trusted" if case == "system-store" else "example.com") in ev.detail

        asyncio.run(asyncio.wait_for(scenario(), 30))
