"""RegistrarEndpoint: the core behind any ports.Transport -- parsing, 400 for garbage, the log --
and the rule that the sans-IO modules of the registrar import no I/O.  Where responses go
(§18.2.2, RFC 3581) is checked by sipfsm/conformance/checks_registrar_uas.py."""

from __future__ import annotations

from pathlib import Path

import pytest

from sipfsm.message import Response, parse
from sipfsm.ports import HostPort, Target
from sipfsm.registrar import LogEvent, RegistrarConfig, RegistrarEndpoint
from sipfsm.registrar.endpoint import bad_request_for
from sipfsm.sim import LinkFaults, Network, Scheduler, SeededRandom

from ..test_core_imports import forbidden_imports
from .support import RecordingTransport, endpoint, make_registrar, register, sent_responses

NAT = HostPort("203.0.113.5", 40001)


def test_garbage_is_dropped_and_logged() -> None:
    ep, events = endpoint()
    transport = RecordingTransport()
    ep.receive(b"\x00\xffnot sip at all\r\n\r\n", NAT, transport)
    ep.receive(b"\r\n\r\n", NAT, transport)  # keep-alive: silently ignored
    assert transport.sent == []
    assert [e.direction for e in events] == ["bad"]


def test_unparseable_request_with_the_needed_headers_gets_400() -> None:
    ep, events = endpoint()
    transport = RecordingTransport()
    data = (
        b"REGISTER sip:example.com SIP/2.0\r\n"
        b"v: SIP/2.0/UDP 10.0.0.2:5060;branch=z9hG4bK6\r\n"
        b"f: <sip:alice@example.com>;tag=1\r\nt: <sip:alice@example.com>\r\n"
        b"i: abc\r\nCSeq: 1 REGISTER\r\n"
        b"Content-Length: 5\r\n\r\n"  # body missing: cannot be framed
    )
    ep.receive(data, NAT, transport)
    [(response, target)] = sent_responses(transport)
    assert response.status == 400 and "\r" not in response.reason
    assert response.headers.get("Call-ID") == "abc"
    assert target == Target("UDP", NAT.host, NAT.port)
    assert [e.direction for e in events] == ["bad", "out"]


def test_no_400_for_ack_responses_or_headerless_garbage() -> None:
    from sipfsm.errors import ParseError

    error = ParseError("x")
    assert bad_request_for(b"ACK sip:a SIP/2.0\r\nVia: x\r\n\r\n", error) is None
    assert bad_request_for(b"SIP/2.0 200 OK\r\n\r\n", error) is None
    assert bad_request_for(b"REGISTER sip:a SIP/2.0\r\nVia: x\r\n\r\n", error) is None


def test_responses_and_dropped_requests_are_not_answered() -> None:
    ep, events = endpoint(RegistrarConfig(scenario="drop-every:1"))
    transport = RecordingTransport()
    ep.receive(b"SIP/2.0 200 OK\r\nVia: SIP/2.0/UDP x;branch=z9hG4bK\r\n\r\n", NAT, transport)
    ep.receive(register().to_bytes(), NAT, transport)
    assert transport.sent == []
    assert [e.direction for e in events] == ["bad", "in", "none"]


def test_a_failing_transport_or_log_never_escapes() -> None:
    class Broken(RecordingTransport):
        def send(self, data: bytes, target: Target) -> None:
            from sipfsm.errors import TransportError

            raise TransportError("unreachable")

    def bad_log(event: LogEvent) -> None:
        raise RuntimeError("log is broken")

    registrar, _ = make_registrar()
    RegistrarEndpoint(registrar, log=bad_log).receive(register().to_bytes(), NAT, Broken())
    events: list[LogEvent] = []
    RegistrarEndpoint(registrar, log=events.append).receive(
        register().to_bytes(), NAT, Broken()
    )
    assert events[-1].direction == "error" and "unreachable" in str(events[-1])


def test_endpoint_runs_on_the_simulator_network() -> None:
    scheduler = Scheduler()
    network = Network(scheduler, seed=1, faults=LinkFaults(delay=(0.01, 0.02)))
    from sipfsm.registrar import Registrar

    registrar = Registrar(RegistrarConfig(), scheduler, SeededRandom(2))
    server = network.endpoint(("192.0.2.1", 5060), "UDP", RegistrarEndpoint(registrar))
    received: list[bytes] = []

    class Client:
        def receive(self, data: bytes, source: HostPort, transport: object) -> None:
            received.append(data)

        def transport_error(self, target: Target, error: Exception) -> None:
            raise AssertionError(error)

    client = network.endpoint(("192.0.2.10", 5060), "UDP", Client())
    client.send(register().to_bytes(), Target("UDP", "192.0.2.1", 5060))
    scheduler.run_until_idle()
    [data] = received
    response = parse(data)
    assert isinstance(response, Response) and response.status == 200
    assert len(registrar.bindings("sip:alice@example.com")) == 1
    assert server.local_address() == HostPort("192.0.2.1", 5060)


@pytest.mark.parametrize("module", ["core.py", "digest.py", "scenario.py", "endpoint.py"])
def test_sans_io_modules_import_no_io(module: str) -> None:
    path = Path(__file__).resolve().parents[2] / "sipfsm" / "registrar" / module
    assert forbidden_imports(path) == []
