"""TlsTransport on the loopback: verification, RFC 5922 identities, client certificates,
keep-alive pings, reconnection."""

from __future__ import annotations

import asyncio

import pytest

from sipfsm.aio.tls import TlsSettings, TlsTransport, server_context
from sipfsm.conformance.aio_support import RecordingReceiver, ok, register, run
from sipfsm.errors import CertificateError, ConfigError
from sipfsm.ports import HostPort, Target, Transport

from .conftest import Pki


class Echo:
    """A server receiver that answers every REGISTER with a 200 on the same connection."""

    def __init__(self) -> None:
        self.transport: Transport | None = None
        self.seen: list[HostPort] = []

    def receive(self, data: bytes, source: HostPort, transport: Transport) -> None:
        self.seen.append(source)
        cseq = int(data.split(b"CSeq: ")[1].split(b" ")[0])
        transport.send(ok(cseq), Target(transport.name, source.host, source.port))

    def transport_error(self, target: Target, error: Exception) -> None:
        pass


async def _server(pki: Pki, *, cert: object = None, host: str = "127.0.0.1",
                  require_client: bool = False, answer_pings: bool = False) -> TlsTransport:
    issued = cert or pki.server
    context = server_context(issued.cert_file, issued.key_file,  # type: ignore[attr-defined]
                             ca_file=pki.ca.ca_file if require_client else None,
                             require_client_certificate=require_client)
    return await TlsTransport.open(Echo(), server_ssl=context, local_host=host, listen=True,
                                   answer_pings=answer_pings)


def _target(server: TlsTransport, host: str = "127.0.0.1") -> Target:
    address = server.listen_address
    assert address is not None
    return Target("TLS", host, address.port)


def test_trusted_certificate_for_the_domain_carries_messages(pki: Pki) -> None:
    async def scenario() -> None:
        server = await _server(pki)
        receiver = RecordingReceiver()
        client = await TlsTransport.open(
            receiver, settings=TlsSettings(ca_file=pki.ca.ca_file, server_name="sipfsm.test"))
        try:
            for cseq in (1, 2):
                client.send(register(cseq), _target(server))
            got = [(await receiver.message())[0] for _ in range(2)]
            assert got == [ok(1), ok(2)]
            assert receiver.errors.empty()
            assert client.name == "TLS"
        finally:
            await client.aclose()
            await server.aclose()

    run(scenario())


@pytest.mark.requirement("RFC5922-7.3-VALIDATE-CHAIN")
@pytest.mark.requirement("RFC5922-7.3-CLIENT-CHECKS-SERVER")
@pytest.mark.requirement("RFC5922-7.2-COMPARE-IDENTITIES")
@pytest.mark.parametrize("case", ["stranger-ca", "wrong-domain", "wildcard", "ip-not-named"])
def test_certificate_failures_are_certificate_errors(pki: Pki, case: str) -> None:
    settings = {
        "stranger-ca": TlsSettings(ca_file=pki.ca.ca_file, server_name="sipfsm.test"),
        "wrong-domain": TlsSettings(ca_file=pki.ca.ca_file, server_name="example.com"),
        "wildcard": TlsSettings(ca_file=pki.ca.ca_file, server_name="edge.sipfsm.test"),
        "ip-not-named": TlsSettings(ca_file=pki.ca.ca_file),
    }[case]
    cert = {"stranger-ca": pki.stranger_server, "wildcard": pki.wildcard,
            "ip-not-named": pki.client}.get(case)
    seen: list[CertificateError] = []

    async def scenario() -> None:
        server = await _server(pki, cert=cert)
        receiver = RecordingReceiver()
        client = await TlsTransport.open(
            receiver, settings=settings, on_certificate_error=lambda t, e: seen.append(e))
        try:
            client.send(register(), _target(server))
            target, error = await receiver.error()
            assert isinstance(error, CertificateError), error
            assert target.transport == "TLS"
            assert receiver.messages.empty()
            assert server.connected(target) is False
        finally:
            await client.aclose()
            await server.aclose()

    run(scenario())
    assert len(seen) == 1
    text = str(seen[0])
    assert "\n" not in text
    assert ("not trusted" in text) if case == "stranger-ca" else ("not" in text)


def test_client_certificate_offered_when_configured(pki: Pki) -> None:
    async def scenario() -> None:
        server = await _server(pki, require_client=True)
        with_cert = RecordingReceiver()
        without = RecordingReceiver()
        good = await TlsTransport.open(with_cert, settings=TlsSettings(
            ca_file=pki.ca.ca_file, server_name="sipfsm.test",
            cert_file=pki.client.cert_file, key_file=pki.client.key_file))
        bad = await TlsTransport.open(without, settings=TlsSettings(
            ca_file=pki.ca.ca_file, server_name="sipfsm.test"))
        try:
            good.send(register(), _target(server))
            assert (await with_cert.message())[0] == ok()
            bad.send(register(), _target(server))
            # TLS 1.3: the server refuses the certificate-less client after the handshake;
            # the request never reaches the server's SIP layer.
            await asyncio.sleep(0.3)
            assert without.messages.empty()
            assert len(server._receiver.seen) == 1  # type: ignore[attr-defined]
            assert not bad.certificate_errors  # our side trusted the server
        finally:
            await good.aclose()
            await bad.aclose()
            await server.aclose()

    run(scenario())


def test_crlf_ping_gets_a_pong_and_a_closed_flow_is_reported(pki: Pki) -> None:
    pongs: list[Target] = []
    closed: list[Target] = []

    async def scenario() -> None:
        server = await _server(pki, answer_pings=True)
        receiver = RecordingReceiver()
        client = await TlsTransport.open(
            receiver, settings=TlsSettings(ca_file=pki.ca.ca_file, server_name="sipfsm.test"),
            on_pong=pongs.append, on_flow_closed=closed.append)
        target = _target(server)
        try:
            assert client.send_ping(target) is False  # no flow yet: a ping opens none
            client.send(register(), target)
            await receiver.message()
            assert client.send_ping(target) is True
            for _ in range(50):
                if pongs:
                    break
                await asyncio.sleep(0.02)
            assert pongs == [target]
            assert server.pongs_sent == 1
            await server.aclose()
            for _ in range(50):
                if closed:
                    break
                await asyncio.sleep(0.02)
            assert closed and closed[0].port == target.port
        finally:
            await client.aclose()
            await server.aclose()

    run(scenario())


def test_next_send_reconnects_after_the_server_dropped_the_connection(pki: Pki) -> None:
    async def scenario() -> None:
        server = await _server(pki)
        receiver = RecordingReceiver()
        client = await TlsTransport.open(
            receiver, settings=TlsSettings(ca_file=pki.ca.ca_file, server_name="sipfsm.test"))
        target = _target(server)
        try:
            client.send(register(1), target)
            await receiver.message()
            (peer,) = {s for s in server._receiver.seen}  # type: ignore[attr-defined]
            assert server.drop(Target("TLS", peer.host, peer.port))
            await asyncio.sleep(0.1)
            client.send(register(2), target)
            assert (await receiver.message())[0] == ok(2)
        finally:
            await client.aclose()
            await server.aclose()

    run(scenario())


def test_ipv6_loopback_with_ip_identity(pki: Pki) -> None:
    from sipfsm.conformance.aio_support import has_ipv6

    if not has_ipv6():
        pytest.skip("no IPv6 loopback")

    async def scenario() -> None:
        server = await _server(pki, host="::1")
        receiver = RecordingReceiver()
        client = await TlsTransport.open(receiver, settings=TlsSettings(ca_file=pki.ca.ca_file))
        try:
            client.send(register(), _target(server, "::1"))
            data, source, _ = await receiver.message()
            assert data == ok() and source.host == "::1"
        finally:
            await client.aclose()
            await server.aclose()

    run(scenario())


def test_bad_settings_are_config_errors(tmp_path: object, pki: Pki) -> None:
    with pytest.raises(ConfigError):
        TlsSettings(ca_file=pki.ca.directory / "missing.pem")
    with pytest.raises(ConfigError):
        TlsSettings(cert_file=pki.client.cert_file)


@pytest.mark.requirement("RFC5922-7.1-DOMAIN-IDENTITIES")
@pytest.mark.parametrize(("server_name", "trusted"),
                         [("sipfsm.test", True), ("other.sipfsm.test", False)])
def test_dns_names_are_not_identities_beside_a_sip_uri(pki: Pki, server_name: str,
                                                        trusted: bool) -> None:
    """A certificate with subjectAltName sip:sipfsm.test and DNS other.sipfsm.test is for
    sipfsm.test only (RFC 5922 §7.1: DNS names count if and only if no sip URI identity)."""
    async def scenario() -> None:
        server = await _server(pki, cert=pki.uri_and_dns)
        receiver = RecordingReceiver()
        client = await TlsTransport.open(
            receiver, settings=TlsSettings(ca_file=pki.ca.ca_file, server_name=server_name))
        try:
            client.send(register(), _target(server))
            if trusted:
                assert (await receiver.message())[0] == ok()
            else:
                _, error = await receiver.error()
                assert isinstance(error, CertificateError), error
                assert receiver.messages.empty()
        finally:
            await client.aclose()
            await server.aclose()

    run(scenario())
