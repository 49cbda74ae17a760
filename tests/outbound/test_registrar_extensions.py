"""The embedded registrar's GRUU / Path / outbound answers and its keep-alive answers (CRLF pong
on TCP and TLS, STUN Binding responses on UDP)."""

from __future__ import annotations

import asyncio
import socket
import ssl

from sipfsm.aio import SecretsRandom, SystemClock
from sipfsm.aio.tls import server_context
from sipfsm.conformance.aio_support import run
from sipfsm.message import Request, Response, parse
from sipfsm.outbound.stun import binding_request, decode_stun
from sipfsm.ports import HostPort
from sipfsm.registrar import RegistrarConfig
from sipfsm.registrar.extensions import ExtendedRegistrar
from sipfsm.registrar.server import RegistrarServer

from .conftest import Pki

INSTANCE = "urn:uuid:f81d4fae-7dec-11d0-a765-00a0c91e6bf6"


def _register(*, supported: str = "", paths: tuple[str, ...] = (), vias: int = 1,
              contact_params: str = "", transport: str = "UDP") -> Request:
    via_lines = "".join(
        f"Via: SIP/2.0/{transport} 192.0.2.{i + 1}:5060;branch=z9hG4bK-{i}\r\n"
        for i in range(vias))
    lines = (
        "REGISTER sip:sipfsm.test SIP/2.0\r\n" + via_lines
        + "Max-Forwards: 70\r\n"
        "To: <sip:alice@sipfsm.test>\r\n"
        "From: <sip:alice@sipfsm.test>;tag=1\r\n"
        "Call-ID: call-1\r\n"
        "CSeq: 1 REGISTER\r\n"
        + "".join(f"Path: {p}\r\n" for p in paths)
        + (f"Supported: {supported}\r\n" if supported else "")
        + f"Contact: <sip:alice@192.0.2.1:5060;ob>{contact_params}\r\n"
        "Expires: 600\r\nContent-Length: 0\r\n\r\n")
    message = parse(lines.encode())
    assert isinstance(message, Request)
    return message


def _answer(request: Request, **options: object) -> Response:
    registrar = ExtendedRegistrar(RegistrarConfig(), SystemClock(), SecretsRandom(),
                                  **options)  # type: ignore[arg-type]
    (response,) = registrar.handle(request, HostPort("192.0.2.1", 5060), "UDP")
    return response


OUTBOUND_CONTACT = f';+sip.instance="<{INSTANCE}>";reg-id=1'


def test_gruu_when_asked_for() -> None:
    response = _answer(_register(supported="gruu", contact_params=OUTBOUND_CONTACT))
    assert response.status == 200
    (contact,) = response.contacts
    assert contact.params["pub-gruu"] == f'"sip:alice@sipfsm.test;gr={INSTANCE}"'
    temp = contact.params["temp-gruu"]
    assert temp is not None and temp.startswith('"sip:tgruu.') and temp.endswith(';gr"')
    plain = _answer(_register(contact_params=OUTBOUND_CONTACT))
    assert "pub-gruu" not in plain.contacts[0].params


def test_path_echoed_in_order_or_refused_without_the_option_tag() -> None:
    paths = ("<sip:edge1.sipfsm.test;lr>", "<sip:edge2.sipfsm.test;lr>")
    response = _answer(_register(supported="path", paths=paths, vias=2))
    assert response.status == 200
    assert [str(p.uri) for p in response.paths] == ["sip:edge1.sipfsm.test;lr",
                                                    "sip:edge2.sipfsm.test;lr"]
    refused = _answer(_register(paths=paths, vias=2))
    assert refused.status == 420 and refused.headers.get("Unsupported") == "path"


def test_outbound_required_in_the_200_or_439_without_an_outbound_edge() -> None:
    direct = _answer(_register(supported="outbound", contact_params=OUTBOUND_CONTACT),
                     flow_timer=25)
    assert direct.status == 200
    assert direct.require == ["outbound"] and direct.headers.get("Flow-Timer") == "25"
    edge = _answer(_register(supported="outbound, path", contact_params=OUTBOUND_CONTACT,
                             vias=2, paths=("<sip:edge.sipfsm.test;lr;ob>",)))
    assert edge.status == 200 and edge.require == ["outbound"]
    no_ob = _answer(_register(supported="outbound, path", contact_params=OUTBOUND_CONTACT,
                              vias=2, paths=("<sip:edge.sipfsm.test;lr>",)))
    assert no_ob.status == 439


def test_keepalive_answers_on_tcp_tls_and_udp(pki: Pki) -> None:
    async def scenario() -> None:
        context = server_context(pki.server.cert_file, pki.server.key_file)
        server = await RegistrarServer.start(
            RegistrarConfig(), host="127.0.0.1", udp_port=0, tcp_port=0, tls_port=0,
            tls_context=context)
        try:
            tcp, tls, udp = server.tcp_address, server.tls_address, server.udp_address
            assert tcp and tls and udp
            reader, writer = await asyncio.open_connection(tcp.host, tcp.port)
            writer.write(b"\r\n\r\n")
            assert await asyncio.wait_for(reader.readexactly(2), 2) == b"\r\n"
            writer.close()
            client_ctx = ssl.create_default_context(cafile=str(pki.ca.ca_file))
            reader, writer = await asyncio.open_connection(
                tls.host, tls.port, ssl=client_ctx, server_hostname="sipfsm.test")
            writer.write(b"\r\n\r\n\r\n\r\n")  # two pings, two pongs
            assert await asyncio.wait_for(reader.readexactly(4), 2) == b"\r\n\r\n"
            writer.close()
            loop = asyncio.get_running_loop()
            sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
            sock.bind(("127.0.0.1", 0))
            sock.setblocking(False)
            port = sock.getsockname()[1]
            transaction = bytes(range(12))
            await loop.sock_sendto(sock, binding_request(transaction), (udp.host, udp.port))
            data = await asyncio.wait_for(loop.sock_recv(sock, 2048), 2)
            sock.close()
            answer = decode_stun(data)
            assert answer.transaction_id == transaction
            assert answer.mapped_address == ("127.0.0.1", port)
        finally:
            await server.aclose()

    run(scenario())
