"""The registrar on real sockets (127.0.0.1, free ports, every wait bounded), and its CLI."""

from __future__ import annotations

import asyncio
import subprocess
import sys
from collections.abc import Coroutine
from typing import Any, TypeVar

import pytest

from sipfsm.cli import main
from sipfsm.message import StreamFramer
from sipfsm.registrar import LogEvent, RegistrarConfig
from sipfsm.registrar.server import RegistrarServer

from .support import authorization, next_response, register, udp_client

T = TypeVar("T")
TIMEOUT = 5.0


def run(coro: Coroutine[Any, Any, T]) -> T:
    return asyncio.run(asyncio.wait_for(coro, TIMEOUT * 2))


def test_udp_server_registers_with_digest_and_survives_garbage() -> None:
    events: list[LogEvent] = []

    async def scenario() -> None:
        config = RegistrarConfig(users={"alice": "secret"}, algorithms=("SHA-256", "MD5"))
        async with await RegistrarServer.start(
            config, udp_port=0, tcp_port=None, log=events.append
        ) as server:
            address = server.udp_address
            assert address is not None and address.port != 0 and server.tcp_address is None
            transport, protocol, port = await udp_client()
            try:
                via = f"SIP/2.0/UDP 127.0.0.1:{port};rport;branch=z9hG4bK-u1"
                contact = [f"<sip:alice@127.0.0.1:{port}>"]
                transport.sendto(b"\x00garbage", (address.host, address.port))
                transport.sendto(
                    register(via=via, contacts=contact, expires=300).to_bytes(),
                    (address.host, address.port),
                )
                challenge = await next_response(protocol.queue, TIMEOUT)
                assert challenge.status == 401
                assert challenge.vias[0].rport == port
                creds = authorization(challenge.www_authenticate[0])
                request = register(
                    via=via.replace("u1", "u2"), contacts=contact, expires=300, cseq=2,
                    extra=[("Authorization", creds)],
                )
                transport.sendto(request.to_bytes(), (address.host, address.port))
                ok = await next_response(protocol.queue, TIMEOUT)
                assert ok.status == 200
                assert [c.expires for c in ok.contacts] == [300]
                assert len(server.registrar.bindings("sip:alice@example.com")) == 1
            finally:
                transport.close()

    run(scenario())
    directions = [e.direction for e in events]
    assert directions.count("in") == 2 and directions.count("out") == 2
    assert "bad" in directions


def test_tcp_server_frames_by_content_length_and_answers_on_the_connection() -> None:
    async def scenario() -> None:
        async with await RegistrarServer.start(
            RegistrarConfig(), udp_port=None, tcp_port=0
        ) as server:
            address = server.tcp_address
            assert address is not None and address.port != 0
            reader, writer = await asyncio.open_connection(address.host, address.port)
            try:
                first = register(
                    via="SIP/2.0/TCP 127.0.0.1:5999;branch=z9hG4bK-t1", expires=120
                ).to_bytes()
                second = register(
                    via="SIP/2.0/TCP 127.0.0.1:5999;branch=z9hG4bK-t2", contacts=[], cseq=2
                ).to_bytes()
                # one message split over two writes, then one write carrying the next plus CRLFs
                writer.write(first[:30])
                await writer.drain()
                await asyncio.sleep(0.05)
                writer.write(first[30:] + b"\r\n\r\n" + second)
                await writer.drain()
                framer = StreamFramer()
                messages: list[Any] = []
                while len(messages) < 2:
                    data = await asyncio.wait_for(reader.read(65536), TIMEOUT)
                    assert data, "connection closed early"
                    messages.extend(framer.feed(data))
                statuses = [m.status for m in messages]
                assert statuses == [200, 200]
                assert [c.expires for c in messages[1].contacts] == [120]
            finally:
                writer.close()
                await writer.wait_closed()
            # a stream that cannot be framed is closed; the server keeps serving
            reader, writer = await asyncio.open_connection(address.host, address.port)
            writer.write(b"REGISTER sip:x SIP/2.0\r\nContent-Length: nope\r\n\r\n")
            await writer.drain()
            assert await asyncio.wait_for(reader.read(), TIMEOUT) == b""
            writer.close()
            reader, writer = await asyncio.open_connection(address.host, address.port)
            writer.write(register(via="SIP/2.0/TCP 127.0.0.1:5999;branch=z9hG4bK-t3",
                                  contacts=[], cseq=3).to_bytes())
            await writer.drain()
            data = await asyncio.wait_for(reader.read(65536), TIMEOUT)
            assert data.startswith(b"SIP/2.0 200 OK")
            writer.close()

    run(scenario())


def test_server_needs_a_port_and_reports_bind_errors() -> None:
    from sipfsm.errors import ConfigError, TransportError

    async def scenario() -> None:
        with pytest.raises(ConfigError):
            await RegistrarServer.start(udp_port=None, tcp_port=None)
        with pytest.raises(ConfigError):
            await RegistrarServer.start(udp_port=70000, tcp_port=None)
        async with await RegistrarServer.start(udp_port=0, tcp_port=0) as server:
            taken = server.udp_address
            assert taken is not None
            with pytest.raises(TransportError):
                await RegistrarServer.start(udp_port=taken.port, tcp_port=None)

    run(scenario())


# -- CLI ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "argv",
    [
        ["--user", "alice"],
        ["--algorithm", "SHA1"],
        ["--scenario", "drop:2"],
        ["--scenario", "teleport"],
        ["--udp-port", "99999"],
        ["--min-expires", "-1"],
        ["--min-expires", "100", "--max-expires", "50"],
    ],
)
def test_cli_bad_arguments_are_one_line_and_exit_2(
    argv: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["registrar", *argv]) == 2
    err = capsys.readouterr().err
    assert err.startswith("sipfsm: ") and err.count("\n") == 1 and "Traceback" not in err


def test_cli_registrar_serves_and_stops_on_sigterm() -> None:
    process = subprocess.Popen(
        [sys.executable, "-m", "sipfsm", "registrar", "--udp-port", "0", "--tcp-port", "off",
         "--user", "alice:secret", "--scenario", "retry-after:1:3"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )
    try:
        assert process.stdout is not None
        banner = process.stdout.readline()
        assert "registrar on udp:127.0.0.1:" in banner and "retry-after:1:3" in banner
        port = int(banner.split("udp:127.0.0.1:")[1].split()[0].rstrip(","))

        async def exchange() -> int:
            transport, protocol, local = await udp_client()
            try:
                via = f"SIP/2.0/UDP 127.0.0.1:{local};branch=z9hG4bK-cli"
                transport.sendto(register(via=via).to_bytes(), ("127.0.0.1", port))
                return (await next_response(protocol.queue, TIMEOUT)).status
            finally:
                transport.close()

        assert run(exchange()) == 503
        assert "<- udp" in process.stdout.readline()
        assert "503 Service Unavailable" in process.stdout.readline()
    finally:
        process.terminate()
        _, err = process.communicate(timeout=TIMEOUT)
    assert process.returncode == 0, err
    assert "Traceback" not in err
