"""``benchmarks/simulate.py`` runs end to end on a small population (the timing and memory targets
are for a full run on an idle machine: ``python benchmarks/simulate.py``)."""

from __future__ import annotations

import importlib.util
import sys
import time
from pathlib import Path
from types import ModuleType

import pytest

PATH = Path(__file__).resolve().parent.parent / "benchmarks" / "simulate.py"


@pytest.fixture(scope="module")
def bench() -> ModuleType:
    spec = importlib.util.spec_from_file_location("bench_simulate", PATH)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


@pytest.mark.parametrize("layout", ["per-ua", "shared"])
@pytest.mark.parametrize("registrar", ["echo", "core"])
def test_every_ua_registers_and_refreshes(bench: ModuleType, layout: str, registrar: str) -> None:
    opts = bench.Options(uas=30, hours=2.0, loss=0.1, expires=600, seed=3, layout=layout,
                         per_endpoint=8, registrar=registrar, ramp=10.0, delay=(0.01, 0.05),
                         observer=True)
    result = bench.simulate("test", opts, time.perf_counter() + 120)
    assert not result.partial
    assert result.registered == 30
    # 2 h with 600 s registrations: the first REGISTER and about 12 refreshes each.
    assert result.transactions >= 30 * 12
    assert result.successes == result.transactions - result.timeouts
    assert result.registers_sent >= result.transactions  # retransmissions over 10 % loss


def test_hand_loop_baseline_runs(bench: ModuleType) -> None:
    opts = bench.Options(uas=30, hours=1.0, loss=0.1, expires=600, seed=3, layout="per-ua",
                         per_endpoint=1, registrar="echo", ramp=10.0, delay=(0.01, 0.05),
                         observer=True)
    result = bench.hand_loop("hand", opts, time.perf_counter() + 120)
    assert result.registered == 30 and result.transactions >= 30 * 6


def test_wall_clock_limit_gives_partial_results(bench: ModuleType) -> None:
    opts = bench.Options(uas=30, hours=24.0, loss=0.1, expires=600, seed=3, layout="per-ua",
                         per_endpoint=1, registrar="echo", ramp=10.0, delay=(0.01, 0.05),
                         observer=True)
    result = bench.simulate("cut", opts, time.perf_counter())  # deadline already passed
    assert result.partial and 0 < result.virtual < 24 * 3600


def test_main_prints_a_summary(bench: ModuleType, capsys: pytest.CaptureFixture[str]) -> None:
    assert bench.main(["--uas", "20", "--hours", "0.5", "--mem-uas", "10"]) == 0
    out = capsys.readouterr().out
    assert "summary" in out and "memory per registration" in out and "hand-written" in out


@pytest.mark.parametrize("layout", ["per-ua", "shared"])
def test_echo_registrar_answers_byte_for_byte_as_ok_echo(bench: ModuleType, layout: str) -> None:
    # verify_echo: every answer, from the byte path or the parsing path, is compared with the
    # conformance harness's ok_echo(request).to_bytes() (an assertion in the registrar).
    opts = bench.Options(uas=12, hours=1.0, loss=0.1, expires=600, seed=5, layout=layout,
                         per_endpoint=4, registrar="echo", ramp=10.0, delay=(0.01, 0.05),
                         observer=True, verify_echo=True)
    result = bench.simulate("verify", opts, time.perf_counter() + 120)
    assert result.registered == 12 and result.responses_sent > 12 * 6


def echo_answer(bench: ModuleType, data: bytes) -> tuple[bytes | None, int]:
    registrar = bench.EchoRegistrar(verify=True)

    class Catch:
        name = "UDP"

        def __init__(self) -> None:
            self.sent: list[bytes] = []

        def send(self, wire: bytes, target: object) -> None:
            self.sent.append(wire)

    transport = Catch()
    registrar.receive(data, bench.HostPort("10.0.0.1", 5060), transport)
    return (transport.sent[0] if transport.sent else None), registrar.parsed


REQUEST = (b"REGISTER sip:example.com SIP/2.0\r\n"
           b"Via: SIP/2.0/UDP 10.0.0.1:5060;branch=z9hG4bKabc;rport\r\n"
           b"Max-Forwards: 70\r\nTo: <sip:u1@example.com>\r\n"
           b"From: <sip:u1@example.com>;tag=t1\r\nCall-ID: c1\r\nCSeq: 7 REGISTER\r\n"
           b"Contact: <sip:u1@10.0.0.1:5060>\r\nExpires: 300\r\nContent-Length: 0\r\n\r\n")


def test_echo_registrar_byte_path_and_parsing_path(bench: ModuleType) -> None:
    # Expected bytes written out by hand from RFC 3261 §8.2.6.2 (Vias, From, To + tag, Call-ID,
    # CSeq copied) plus the echoed contact; the registrar also asserts equality with ok_echo.
    expected = (b"SIP/2.0 200 OK\r\n"
                b"Via: SIP/2.0/UDP 10.0.0.1:5060;branch=z9hG4bKabc;rport\r\n"
                b"From: <sip:u1@example.com>;tag=t1\r\nTo: <sip:u1@example.com>;tag=reg\r\n"
                b"Call-ID: c1\r\nCSeq: 7 REGISTER\r\n"
                b"Contact: <sip:u1@10.0.0.1:5060>;expires=300\r\nContent-Length: 0\r\n\r\n")
    assert echo_answer(bench, REQUEST) == (expected, 0)
    # Compact header forms and a quoted display name are not read from the bytes: parsed.
    compact = REQUEST.replace(b"Call-ID: c1", b"i: c1").replace(
        b"To: <sip", b'To: "U, one" <sip')
    wire, parsed = echo_answer(bench, compact)
    assert parsed == 1 and wire is not None and b"Call-ID: c1\r\n" in wire
    assert b'To: "U, one" <sip:u1@example.com>;tag=reg\r\n' in wire
    # Expires: 0 -> no contacts listed; a response -> no answer.
    wire, parsed = echo_answer(bench, REQUEST.replace(b"Expires: 300", b"Expires: 0"))
    assert parsed == 0 and wire is not None and b"Contact" not in wire
    assert echo_answer(bench, b"SIP/2.0 200 OK\r\nContent-Length: 0\r\n\r\n") == (None, 0)


def test_echo_registrar_usual_shape_and_its_neighbours(bench: ModuleType) -> None:
    usual = REQUEST.replace(b"Content-Length: 0", b"Supported: path\r\nUser-Agent: sipfsm\r\n"
                            b"Content-Length: 0")
    assert bench._USUAL.fullmatch(usual) is not None
    # Each variant leaves the one-expression shape; the registrar (verify=True) still answers
    # as ok_echo does, from the line reader or the parser.
    for variant in (usual.replace(b"Expires: 300", b"Expires: 0"),
                    usual.replace(b"Contact: <sip:u1@10.0.0.1:5060>", b"Contact: *"),
                    usual.replace(b"Call-ID: c1", b"Call-ID: c1 "),
                    usual.replace(b"To: <sip:u1@example.com>", b"To: <sip:u1@example.com>;tag=x"),
                    usual.replace(b"Content-Length: 0", b"Authorization: Digest x=1\r\n"
                                  b"Content-Length: 0")):
        wire, _ = echo_answer(bench, variant)
        assert wire is not None and wire.startswith(b"SIP/2.0 200 OK\r\n")
    assert echo_answer(bench, usual)[0] == echo_answer(bench, REQUEST)[0]


def test_sharded_main_phase_sums_its_processes(bench: ModuleType) -> None:
    opts = bench.Options(uas=21, hours=1.0, loss=0.1, expires=600, seed=3, layout="per-ua",
                         per_endpoint=1, registrar="echo", ramp=10.0, delay=(0.01, 0.05),
                         observer=True)
    total = bench.simulate_sharded("sharded", opts, time.perf_counter() + 120, 2)
    assert total.shards == 2 and not total.partial and total.registered == 21
    # The shards are the runs of 11 and 10 UAs (seeds 3 and 3 + 7919), UAs u000000.. u000020.
    first = bench.simulate("a", bench._with(opts, uas=11), time.perf_counter() + 120)
    second = bench.simulate("b", bench._with(opts, uas=10, seed=3 + 7919, first=11),
                            time.perf_counter() + 120)
    assert total.transactions == first.transactions + second.transactions
    assert total.registers_sent == first.registers_sent + second.registers_sent
    assert total.events == first.events + second.events


def test_gc_policy_is_undone_and_leaks_nothing(bench: ModuleType) -> None:
    # The run freezes the collector's generations every simulated minute and raises the first
    # threshold; afterwards both are as before, and what freezing kept alive is collected and
    # counted (sipfsm's clients make no cyclic garbage: 0).
    import gc

    threshold = gc.get_threshold()
    opts = bench.Options(uas=20, hours=1.0, loss=0.1, expires=600, seed=3, layout="per-ua",
                         per_endpoint=1, registrar="echo", ramp=10.0, delay=(0.01, 0.05),
                         observer=True)
    assert opts.gc_freeze and opts.gc_threshold == 10_000
    result = bench.simulate("gc", opts, time.perf_counter() + 120)
    assert gc.get_threshold() == threshold and gc.get_freeze_count() == 0
    assert result.cyclic_garbage == 0 and result.registered == 20
    # The same run with Python's own collector settings is the same run.
    plain = bench.simulate("plain", bench._with(opts, gc_freeze=False, gc_threshold=0),
                           time.perf_counter() + 120)
    assert (plain.transactions, plain.registers_sent, plain.lost, plain.events) == (
        result.transactions, result.registers_sent, result.lost, result.events)
