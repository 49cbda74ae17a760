"""``sipfsm register`` over TLS against the embedded registrar: success, and a certificate
failure as one line with exit code 7."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from sipfsm.aio import SecretsRandom, SystemClock
from sipfsm.aio.tls import server_context
from sipfsm.registrar import RegistrarConfig
from sipfsm.registrar.extensions import ExtendedRegistrar
from sipfsm.registrar.server import RegistrarServer

from .conftest import Pki

ROOT = Path(__file__).resolve().parents[2]


class ServerThread:
    """The embedded registrar (UDP + TLS) on its own event loop in a thread."""

    def __init__(self, pki: Pki) -> None:
        self.pki = pki
        self.loop = asyncio.new_event_loop()
        self.ready = threading.Event()
        self.server: RegistrarServer | None = None
        self.thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        asyncio.set_event_loop(self.loop)

        async def start() -> None:
            context = server_context(self.pki.server.cert_file, self.pki.server.key_file)
            registrar = ExtendedRegistrar(RegistrarConfig(users={"alice": "secret"},
                                                          min_expires=1),
                                          SystemClock(), SecretsRandom())
            self.server = await RegistrarServer.start(
                registrar,
                host="127.0.0.1", udp_port=0, tcp_port=None, tls_port=0, tls_context=context)

        self.loop.run_until_complete(start())
        self.ready.set()
        self.loop.run_forever()
        self.loop.close()

    def __enter__(self) -> ServerThread:
        self.thread.start()
        assert self.ready.wait(10)
        return self

    def __exit__(self, *exc: object) -> None:
        assert self.server is not None
        asyncio.run_coroutine_threadsafe(self.server.aclose(), self.loop).result(10)
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(10)

    @property
    def tls_port(self) -> int:
        assert self.server is not None and self.server.tls_address is not None
        return self.server.tls_address.port


@pytest.fixture
def registrar(pki: Pki) -> Iterator[ServerThread]:
    with ServerThread(pki) as server:
        yield server


def _cli(*args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(ROOT), "SIP_PASSWORD": "secret"}
    return subprocess.run(
        [sys.executable, "-m", "sipfsm", "register", "--aor", "sip:alice@sipfsm.test",
         "--password-env", "SIP_PASSWORD", "--local-host", "127.0.0.1", "--duration", "2",
         "--expires", "60", *args],
        capture_output=True, text=True, timeout=60, env=env, check=False)


def test_register_over_tls_with_the_test_ca(registrar: ServerThread, pki: Pki) -> None:
    done = _cli("--registrar", f"tls:127.0.0.1:{registrar.tls_port}",
                "--ca-file", str(pki.ca.ca_file))
    assert done.returncode == 0, done.stderr
    assert "registered sip:alice@sipfsm.test" in done.stdout
    assert ";transport=tls" in done.stdout
    assert "pub-gruu" not in done.stdout  # no instance id: no GRUU asked for


@pytest.mark.requirement("RFC5627-4.1-READ-GRUUS")
def test_register_with_an_instance_id_prints_the_gruus(registrar: ServerThread,
                                                       pki: Pki) -> None:
    urn = "urn:uuid:f81d4fae-7dec-11d0-a765-00a0c91e6bf6"
    done = _cli("--registrar", f"tls:127.0.0.1:{registrar.tls_port}",
                "--ca-file", str(pki.ca.ca_file), "--instance-id", urn)
    assert done.returncode == 0, done.stderr
    assert f"pub-gruu sip:alice@sipfsm.test;gr={urn}" in done.stdout
    assert "temp-gruu sip:tgruu." in done.stdout


@pytest.mark.parametrize("case", ["untrusted", "wrong-name"])
def test_certificate_errors_exit_7_with_one_line(registrar: ServerThread, pki: Pki,
                                                 case: str) -> None:
    extra = (["--ca-file", str(pki.stranger.ca_file)] if case == "untrusted"
             else ["--ca-file", str(pki.ca.ca_file), "--tls-server-name", "example.com"])
    done = _cli("--registrar", f"tls:127.0.0.1:{registrar.tls_port}", *extra)
    assert done.returncode == 7, (done.stdout, done.stderr)
    errors = [line for line in done.stderr.splitlines() if line.startswith("sipfsm:")]
    assert len(errors) == 1 and "Traceback" not in done.stderr
    assert ("not trusted" if case == "untrusted" else "example.com") in errors[0]


def test_missing_ca_file_is_a_usage_error(pki: Pki) -> None:
    done = _cli("--registrar", "tls:127.0.0.1:5061", "--ca-file", "/nonexistent/ca.pem")
    assert done.returncode == 2 and "ca file" in done.stderr.lower()


def test_tls_registrar_address_defaults_to_5061() -> None:
    from sipfsm.app import parse_registrar_address
    from sipfsm.ports import Target

    assert parse_registrar_address("tls:sipfsm.test") == Target("TLS", "sipfsm.test", 5061)
    assert parse_registrar_address("tls:[::1]:5071") == Target("TLS", "::1", 5071)
