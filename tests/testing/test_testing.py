"""sipfsm.testing: the simulator world with typed event waiting, the scripted registrar with
per-transaction answers, and the strategies for harness authors."""

from __future__ import annotations

import os
import subprocess
import sys
import typing
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sipfsm import (
    Failed,
    Registered,
    Retrying,
    StaticCredentials,
    Unregistered,
)
from sipfsm.auth import parse_challenge
from sipfsm.message import Request, Response, parse
from sipfsm.registration import STATES
from sipfsm.testing import (
    EventTimeout,
    SimWorld,
    challenge,
    drop,
    interval_too_brief,
    ok,
    per_transaction,
    provisional_then,
    retry_later,
    status,
)
from sipfsm.testing.strategies import (
    answer_scripts,
    challenges,
    register_requests,
    register_responses,
)

REPO = Path(__file__).resolve().parents[2]


def _register(branch: str, cseq: int = 1) -> Request:
    message = parse(
        "REGISTER sip:example.com SIP/2.0\r\n"
        f"Via: SIP/2.0/UDP 192.0.2.10:5060;branch=z9hG4bK{branch}\r\n"
        "Max-Forwards: 70\r\nTo: <sip:alice@example.com>\r\n"
        "From: <sip:alice@example.com>;tag=t1\r\nCall-ID: c1\r\n"
        f"CSeq: {cseq} REGISTER\r\nContact: <sip:alice@192.0.2.10:5060>\r\nExpires: 600\r\n"
        "Content-Length: 0\r\n\r\n".encode())
    assert isinstance(message, Request)
    return message


def test_a_retransmission_gets_its_transactions_answer() -> None:
    """Answers are decided per transaction (by branch), in the order transactions arrive; a
    retransmission gets exactly what the first arrival got, never the next answer."""
    world = SimWorld()
    script = per_transaction([interval_too_brief(60), status(500)], default=ok(300))
    first = script(_register("aaa"), world.registrar)
    again = script(_register("aaa"), world.registrar)
    assert [r.status for r in first] == [423] and first == again
    assert [r.status for r in script(_register("bbb", 2), world.registrar)] == [500]
    assert [r.status for r in script(_register("aaa"), world.registrar)] == [423]
    assert [r.status for r in script(_register("ccc", 3), world.registrar)] == [200]
    assert script.transactions == 3


def test_a_scripted_world_retransmits_then_moves_on() -> None:
    """Transaction 1 gets only a 100 (kept for every retransmission) and times out; the client
    retries after its backoff and transaction 2 is accepted."""
    script = per_transaction([provisional_then(100, drop())], default=ok(600))
    world = SimWorld(script)
    world.client.register()
    retry = world.next_event(Retrying)
    assert retry.reason.value == "timeout"
    registered = world.next_event(Registered)
    assert registered.expires == 600
    branches = [r.vias[0].branch for _, r in world.registrar.requests]
    assert len(branches) > 3 and len(set(branches)) == 2
    assert script.transactions == 2
    assert all(len(script.answered[b]) == 1 and script.answered[b][0].status == 100
               for b in branches[:-1])


def test_challenge_then_ok_with_credentials() -> None:
    world = SimWorld(per_transaction([challenge(nonce="abc")], default=ok(900)),
                     credentials=StaticCredentials("alice", "secret"))
    world.client.register()
    assert world.next_event(Registered).expires == 900
    second = world.registrar.requests[1][1]
    assert 'nonce="abc"' in (second.headers.get("Authorization") or "")


def test_next_event_times_out_on_virtual_time() -> None:
    world = SimWorld(per_transaction([], default=drop()))
    world.client.register()
    with pytest.raises(EventTimeout, match="Registered"):
        world.next_event(Registered, within=10.0)
    assert world.scheduler.now == pytest.approx(10.0)
    event = world.next_event(Registered, Retrying, within=60.0)
    assert isinstance(event, Retrying)


def test_next_event_reads_events_in_order_once() -> None:
    world = SimWorld(per_transaction([retry_later(5)], default=ok(600)))
    world.client.register()
    assert isinstance(world.next_event(Retrying), Retrying)
    assert world.next_event(Registered).expires == 600
    world.client.unregister()
    remaining = world.next_event(Unregistered, Failed)
    assert isinstance(remaining, Unregistered)


def test_next_event_is_generic_over_event_classes() -> None:
    """``next_event(kind: type[E]) -> E``: the overloads name type variables, never Any."""
    overloads = typing.get_overloads(SimWorld.next_event)
    assert len(overloads) >= 2
    for overload in overloads:
        hints = typing.get_type_hints(overload)
        assert hints["return"] is not typing.Any
        assert typing.Any not in typing.get_args(hints["return"])
        assert typing.get_origin(hints["kind"]) is type  # type[E]
        (variable,) = typing.get_args(hints["kind"])
        assert isinstance(variable, typing.TypeVar)
    single = typing.get_type_hints(overloads[0])
    assert single["return"] is typing.get_args(single["kind"])[0]


def test_sipfsm_testing_imports_without_hypothesis(tmp_path: Path) -> None:
    blocker = tmp_path / "hypothesis"
    blocker.mkdir()
    (blocker / "__init__.py").write_text('raise ImportError("blocked")\n', encoding="utf-8")
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(tmp_path), str(REPO)])}
    result = subprocess.run([sys.executable, "-c", "import sipfsm.testing"], env=env,
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr


# -- the strategies -------------------------------------------------------------------------------

@given(register_requests())
def test_register_requests_are_registers_that_survive_the_wire(request: Request) -> None:
    again = parse(request.to_bytes())
    assert isinstance(again, Request) and again.method == "REGISTER"
    assert again.cseq.method == "REGISTER"
    assert again.vias[0].branch is not None and again.vias[0].branch.startswith("z9hG4bK")
    assert again.contact_star == (again.expires == 0 and not again.contacts
                                  and request.headers.get("Contact") == "*")


@given(challenges())
def test_challenges_parse(value: str) -> None:
    parsed = parse_challenge(value)
    assert parsed.scheme.lower() == "digest" and parsed.nonce


@given(register_requests(), st.data())
def test_register_responses_answer_their_request(request: Request, data: st.DataObject) -> None:
    response = data.draw(register_responses(request))
    again = parse(response.to_bytes())
    assert isinstance(again, Response) and again.status >= 200
    assert again.cseq == request.cseq
    assert again.headers.get("Call-ID") == request.headers.get("Call-ID")


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(answer_scripts(), st.integers(0, 2**16))
def test_any_answer_script_drives_the_client_to_a_known_state(script: list[typing.Any],
                                                              seed: int) -> None:
    world = SimWorld(per_transaction(script), seed=seed)
    world.client.register()
    world.run(2 * 3600)
    assert world.client.state in {s["name"] for s in STATES}
    responder = world.registrar.responder
    assert isinstance(responder, type(per_transaction([])))
    assert responder.transactions == len({r.vias[0].branch for _, r in
                                          world.registrar.requests})


def test_async_next_event_is_generic_too() -> None:
    from sipfsm.app import AsyncRegistration

    overloads = typing.get_overloads(AsyncRegistration.next_event)
    assert len(overloads) >= 2
    for overload in overloads:
        hints = typing.get_type_hints(overload)
        assert typing.get_origin(hints["kind"]) is type
        assert typing.Any not in typing.get_args(hints["return"])
