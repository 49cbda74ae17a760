"""sipfsm against a real Kamailio registrar (digest MD5 and SHA-256, UDP and TCP)."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest

from sipfsm.app import AsyncRegistration
from sipfsm.message import SipUri
from sipfsm.ports import Target
from sipfsm.registration import (
    BindingsReported,
    ContactSpec,
    Failed,
    Refreshed,
    RefreshPolicy,
    Registered,
    RegistrationConfig,
    Unregistered,
)
from tests.interop.kamailio_fixture import DEFAULT_REALM, KamailioProcess

pytestmark = pytest.mark.interop

FAST_REFRESH = RefreshPolicy(margin=1.0, fraction=0.5, jitter=0.0, floor=0.5)


def _config(kam: KamailioProcess, transport: str, user: str, **changes: Any) -> RegistrationConfig:
    port = kam.udp_port if transport == "UDP" else kam.tcp_port
    base: dict[str, Any] = {
        "aor": SipUri(scheme="sip", user=user, host=DEFAULT_REALM),
        "registrar_target": Target(transport, "127.0.0.1", port),
        "transport": transport,
        "max_consecutive_failures": 2,
    }
    base.update(changes)
    return RegistrationConfig(**base)


async def _open(kam: KamailioProcess, config: RegistrationConfig, user: str) -> AsyncRegistration:
    from sipfsm.auth import StaticCredentials

    return await AsyncRegistration.open(
        config, credentials=StaticCredentials(user, kam.password_for(user)),
        local_host="127.0.0.1")


@pytest.mark.parametrize("transport", ["UDP", "TCP"])
@pytest.mark.parametrize("algorithm", ["MD5", "SHA-256"])
def test_register_refresh_query_unregister(
    kamailio_ok: None, tmp_path: Path, algorithm: str, transport: str
) -> None:
    """401 then 200 with credentials, a refresh, a query listing our binding, unregister."""
    with KamailioProcess(tmp_path, algorithm=algorithm, min_expires=2, max_expires=3) as kam:

        async def scenario() -> None:
            config = _config(kam, transport, "alice", expires=3, refresh=FAST_REFRESH)
            async with await _open(kam, config, "alice") as reg:
                reg.client.register()
                ev = await reg.next_event(Registered, Failed, timeout=10)
                assert isinstance(ev, Registered), ev
                assert 0 < ev.expires <= 3
                ev = await reg.next_event(Refreshed, Failed, timeout=10)
                assert isinstance(ev, Refreshed), ev
                reg.client.query()
                ev = await reg.next_event(BindingsReported, Failed, timeout=10)
                assert isinstance(ev, BindingsReported), ev
                assert any(b.ours for b in ev.bindings)
                reg.client.unregister()
                ev = await reg.next_event(Unregistered, Failed, timeout=10)
                assert isinstance(ev, Unregistered), ev
                assert not any(b.ours for b in ev.bindings)

        asyncio.run(asyncio.wait_for(scenario(), 40))
        assert "auth ok" in kam.log_text()


@pytest.mark.parametrize("transport", ["UDP", "TCP"])
def test_423_then_success(kamailio_ok: None, tmp_path: Path, transport: str) -> None:
    """An expiry below min_expires gets 423; the retry asks for Min-Expires and succeeds."""
    with KamailioProcess(tmp_path, min_expires=60, max_expires=3600) as kam:

        async def scenario() -> None:
            config = _config(kam, transport, "bob", expires=10)
            async with await _open(kam, config, "bob") as reg:
                reg.client.register()
                ev = await reg.next_event(Registered, Failed, timeout=10)
                assert isinstance(ev, Registered), ev
                assert reg.client.requested_expires == 60
                reg.client.unregister()
                assert isinstance(await reg.next_event(Unregistered, Failed, timeout=10),
                                  Unregistered)

        asyncio.run(asyncio.wait_for(scenario(), 30))


@pytest.mark.parametrize("transport", ["UDP", "TCP"])
def test_unregister_one_and_all(kamailio_ok: None, tmp_path: Path, transport: str) -> None:
    """Two clients bind two contacts; one removes its own, then Contact: * removes the rest."""
    with KamailioProcess(tmp_path, min_expires=60, max_expires=3600) as kam:

        async def scenario() -> None:
            c1 = ContactSpec(uri=SipUri(scheme="sip", user="carol", host="127.0.0.1", port=5091))
            c2 = ContactSpec(uri=SipUri(scheme="sip", user="carol", host="127.0.0.1", port=5092))
            one = await _open(kam, _config(kam, transport, "carol", contacts=(c1,)), "carol")
            two = await _open(kam, _config(kam, transport, "carol", contacts=(c2,)), "carol")
            try:
                for reg in (one, two):
                    reg.client.register()
                    assert isinstance(await reg.next_event(Registered, Failed, timeout=10),
                                      Registered)
                one.client.unregister()
                ev = await one.next_event(Unregistered, Failed, timeout=10)
                assert isinstance(ev, Unregistered)
                assert [b.contact for b in ev.bindings] == ["sip:carol@127.0.0.1:5092"]
                one.client.unregister_all()
                ev = await one.next_event(Unregistered, Failed, timeout=10)
                assert isinstance(ev, Unregistered) and ev.bindings == ()
                two.client.query()
                ev = await two.next_event(BindingsReported, Failed, timeout=10)
                assert isinstance(ev, BindingsReported) and ev.bindings == ()
            finally:
                await one.aclose()
                await two.aclose()

        asyncio.run(asyncio.wait_for(scenario(), 30))


def test_wrong_password_is_an_authentication_failure(kamailio_ok: None, tmp_path: Path) -> None:
    """Rejected credentials end in an auth failure, not a loop of 401s."""
    from sipfsm.auth import StaticCredentials
    from sipfsm.registration import FailureReason

    with KamailioProcess(tmp_path) as kam:

        async def scenario() -> None:
            config = _config(kam, "UDP", "dave")
            async with await AsyncRegistration.open(
                    config, credentials=StaticCredentials("dave", "not-the-password"),
                    local_host="127.0.0.1") as reg:
                reg.client.register()
                ev = await reg.next_event(Registered, Failed, timeout=10)
                assert isinstance(ev, Failed) and ev.reason is FailureReason.AUTH
                assert reg.client.cseq <= 3

        asyncio.run(asyncio.wait_for(scenario(), 20))
