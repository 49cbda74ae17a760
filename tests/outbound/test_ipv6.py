"""IPv6 end to end on ::1: sipfsm <-> the embedded registrar over UDP, TCP and TLS, bracketed
Via sent-by and Contact, and RFC 3263 AAAA (NAPTR -> SRV -> AAAA) to an IPv6-only registrar."""

from __future__ import annotations

from typing import Any

import pytest

from sipfsm.aio import AioTimers, SecretsRandom, SystemClock, TcpTransport, UdpTransport
from sipfsm.aio.tls import TlsTransport, server_context
from sipfsm.conformance.aio_support import has_ipv6, run
from sipfsm.conformance.dns_support import resolver
from sipfsm.message import Request, SipUri
from sipfsm.registrar import LogEvent, RegistrarConfig
from sipfsm.registrar.server import RegistrarServer
from sipfsm.registration import Failed, Registered, RegistrationClient, RegistrationConfig
from sipfsm.transaction import TransactionLayer

from .conftest import Pki

pytestmark = pytest.mark.skipif(not has_ipv6(), reason="no IPv6 loopback on this host")


class Events:
    def __init__(self) -> None:
        import asyncio

        self.queue: asyncio.Queue[Any] = asyncio.Queue()

    def __call__(self, client: RegistrationClient, event: Any) -> None:
        self.queue.put_nowait(event)

    async def outcome(self) -> Any:
        import asyncio

        while True:
            event = await asyncio.wait_for(self.queue.get(), 10)
            if isinstance(event, Registered | Failed):
                return event


@pytest.mark.parametrize("transport", ["UDP", "TCP", "TLS"])
def test_register_over_ipv6_loopback_via_aaaa(pki: Pki, transport: str) -> None:
    """The registrar's domain has NAPTR -> SRV -> AAAA ::1 only; the REGISTER's Via sent-by and
    Contact carry the bracketed address; the registrar binds it."""
    seen: list[Request] = []

    def log(event: LogEvent) -> None:
        if event.direction == "in" and isinstance(event.message, Request):
            seen.append(event.message)

    async def scenario() -> None:
        server = await RegistrarServer.start(
            RegistrarConfig(min_expires=1), host="::1",
            udp_port=0 if transport == "UDP" else None,
            tcp_port=0 if transport == "TCP" else None,
            tls_port=0 if transport == "TLS" else None,
            tls_context=server_context(pki.server.cert_file, pki.server.key_file)
            if transport == "TLS" else None, log=log)
        address = {"UDP": server.udp_address, "TCP": server.tcp_address,
                   "TLS": server.tls_address}[transport]
        assert address is not None
        service = {"UDP": ("SIP+D2U", "_sip._udp"), "TCP": ("SIP+D2T", "_sip._tcp"),
                   "TLS": ("SIPS+D2T", "_sips._tcp")}[transport]
        zone = {
            ("sipfsm.test", "NAPTR"): [f'10 10 "s" "{service[0]}" "" {service[1]}.sipfsm.test.'],
            (f"{service[1]}.sipfsm.test", "SRV"): [f"0 0 {address.port} reg6.sipfsm.test."],
            ("reg6.sipfsm.test", "AAAA"): ["::1"],
        }
        dns, backend = resolver(zone, transports=("UDP", "TCP", "TLS"),
                                address_types=("A", "AAAA"))
        layer_box: list[TransactionLayer] = []

        class Receiver:
            def receive(self, data: bytes, source: Any, t: Any) -> None:
                layer_box[0].receive(data, source, t)

            def transport_error(self, target: Any, error: Exception) -> None:
                layer_box[0].transport_error(target, error)

        udp = await UdpTransport.open(Receiver(), local_host="::1")
        transports: dict[str, Any] = {"UDP": udp}
        if transport == "TCP":
            transports["TCP"] = TcpTransport(Receiver(), local_host="::1")
        if transport == "TLS":
            from sipfsm.aio.tls import TlsSettings

            transports["TLS"] = await TlsTransport.open(
                Receiver(), settings=TlsSettings(ca_file=pki.ca.ca_file,
                                                 server_name="sipfsm.test"),
                local_host="::1")
        random = SecretsRandom()
        layer = TransactionLayer(transports, AioTimers(), random)
        layer_box.append(layer)
        events = Events()
        client = RegistrationClient(
            RegistrationConfig(aor=SipUri(scheme="sip", user="alice", host="sipfsm.test"),
                               expires=600, max_consecutive_failures=1),
            layer=layer, timers=AioTimers(), clock=SystemClock(), random=random,
            resolver=dns, credentials=None, observer=events)
        try:
            client.register()
            outcome = await events.outcome()
            assert isinstance(outcome, Registered), outcome
            assert ("reg6.sipfsm.test", "AAAA") in backend.queries
            contact = next(b.contact for b in outcome.bindings if b.ours)
            assert contact.startswith("sip:alice@[::1]:")
            client.stop()
        finally:
            for t in transports.values():
                await t.aclose()
            await server.aclose()
        request = seen[-1]
        via = request.headers.get_lines("Via")[0]
        assert f"SIP/2.0/{transport} [::1]:" in via
        assert "[::1]" in (request.headers.get("Contact") or "")

    run(scenario(), timeout=20)
