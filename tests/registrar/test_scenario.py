"""Scenarios: the registrar misbehaving on purpose, and the text that names each one.  The
scenarios a spec record names (``redirect``, ``423-loop``, ``stale-nonce``) are checked by
sipfsm/conformance/checks_registrar*.py."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from sipfsm.errors import ConfigError
from sipfsm.message import parse_uri
from sipfsm.registrar import (
    DropEvery,
    DropRandom,
    IntervalTooBriefLoop,
    OmitContact,
    Redirect,
    RegistrarConfig,
    Scenario,
    ServerError,
    ServiceUnavailable,
    StaleNonce,
    parse_scenario,
)

from .support import AOR, SOURCE, contact_expiries, handle, make_registrar, register

# -- parsing ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "faults"),
    [
        ("", ()),
        ("none", ()),
        ("drop:0.3", (DropRandom(0.3),)),
        ("drop-every:3", (DropEvery(3),)),
        ("retry-after:2:5", (ServiceUnavailable(2, 5),)),
        ("server-error:1", (ServerError(1),)),
        ("server-error:0:502", (ServerError(0, 502),)),
        ("stale-nonce", (StaleNonce(1),)),
        ("stale-nonce:3", (StaleNonce(3),)),
        ("omit-contact", (OmitContact(0),)),
        ("423-loop", (IntervalTooBriefLoop(60),)),
        ("423-loop:5", (IntervalTooBriefLoop(5),)),
        ("redirect:sip:192.0.2.5:5070", (Redirect(parse_uri("sip:192.0.2.5:5070"), 0),)),  # type: ignore[arg-type]
        ("redirect:2:sips:reg.example.com;transport=tcp",
         (Redirect(parse_uri("sips:reg.example.com;transport=tcp"), 2),)),  # type: ignore[arg-type]
        (" Drop:0.5 , STALE-NONCE ", (DropRandom(0.5), StaleNonce(1))),
    ],
)
def test_parse_scenario(text: str, faults: tuple[object, ...]) -> None:
    scenario = parse_scenario(text)
    assert scenario.faults == faults
    assert parse_scenario(str(scenario)) == scenario


@pytest.mark.parametrize(
    "text",
    [
        "drop", "drop:0", "drop:1.5", "drop:x", "drop:nan", "drop-every:0", "drop-every:1.5",
        "retry-after:2", "retry-after:a:5", "retry-after:-1:5", "server-error:1:404",
        "server-error:1:2:3", "stale-nonce:x", "omit-contact:-2", "423-loop:0", "redirect",
        "redirect:", "redirect:2:", "redirect:tel:+1555", "redirect:sip:", "explode", "drop:0.3,,",
    ],
)
def test_bad_scenario_text_is_config_error(text: str) -> None:
    with pytest.raises(ConfigError) as info:
        parse_scenario(text)
    assert "\n" not in str(info.value)


FAULTS = st.one_of(
    st.builds(DropRandom, st.floats(0.01, 1.0)),
    st.builds(DropEvery, st.integers(1, 9)),
    st.builds(ServiceUnavailable, st.integers(0, 9), st.integers(0, 999)),
    st.builds(ServerError, st.integers(0, 9), st.integers(500, 599)),
    st.builds(StaleNonce, st.integers(0, 9)),
    st.builds(OmitContact, st.integers(0, 9)),
    st.builds(IntervalTooBriefLoop, st.integers(1, 999)),
)


@given(st.lists(FAULTS, max_size=5))
def test_scenario_text_round_trips(faults: list[object]) -> None:
    scenario = Scenario(tuple(faults))  # type: ignore[arg-type]
    assert parse_scenario(str(scenario)) == scenario


def test_scenarios_compose() -> None:
    combined = parse_scenario("drop:0.1") + parse_scenario("stale-nonce") + OmitContact(2)
    assert combined.faults == (DropRandom(0.1), StaleNonce(1), OmitContact(2))
    assert RegistrarConfig(scenario="drop:0.1,stale-nonce").scenario == parse_scenario(
        "drop:0.1,stale-nonce"
    )


# -- behaviour --------------------------------------------------------------------------------


def test_drop_every_nth_request() -> None:
    registrar, _ = make_registrar(RegistrarConfig(scenario="drop-every:3"))
    answered = [bool(registrar.handle(register(cseq=n), SOURCE, "UDP")) for n in range(1, 10)]
    assert answered == [True, True, False] * 3


def test_drop_with_probability_uses_the_random_port() -> None:
    registrar, _ = make_registrar(RegistrarConfig(scenario="drop:0.5"), seed=3)
    answered = [bool(registrar.handle(register(cseq=n), SOURCE, "UDP")) for n in range(1, 201)]
    assert 60 < answered.count(True) < 140
    everything, _ = make_registrar(RegistrarConfig(scenario="drop:1"))
    assert everything.handle(register(), SOURCE, "UDP") == []


def test_a_dropped_request_retransmitted_is_answered() -> None:
    registrar, _ = make_registrar(RegistrarConfig(scenario="drop-every:2"))
    handle(registrar, register(cseq=1))
    request = register(cseq=2)
    assert registrar.handle(request, SOURCE, "UDP") == []
    assert handle(registrar, request).status == 200


def test_retry_after_for_the_first_n() -> None:
    registrar, _ = make_registrar(RegistrarConfig(scenario="retry-after:2:5"))
    first = handle(registrar, register(cseq=1))
    assert first.status == 503
    assert first.retry_after is not None and first.retry_after.seconds == 5
    assert handle(registrar, register(cseq=2)).status == 503
    assert handle(registrar, register(cseq=3)).status == 200


def test_server_error_without_retry_after() -> None:
    registrar, _ = make_registrar(RegistrarConfig(scenario="server-error:1:502"))
    response = handle(registrar, register(cseq=1))
    assert response.status == 502 and response.retry_after is None
    assert handle(registrar, register(cseq=2)).status == 200
    forever, _ = make_registrar(RegistrarConfig(scenario="server-error:0"))
    assert {handle(forever, register(cseq=n)).status for n in range(1, 5)} == {500}


def test_options_is_not_hit_by_refusals() -> None:
    registrar, _ = make_registrar(RegistrarConfig(scenario="server-error:0"))
    assert handle(registrar, register(method="OPTIONS")).status == 200


def test_omit_contact_leaves_the_requester_out_but_keeps_the_binding() -> None:
    registrar, _ = make_registrar(RegistrarConfig(scenario="omit-contact:2"))
    first = handle(
        registrar, register(contacts=["<sip:other@192.0.2.7>"], call_id="other", expires=60)
    )
    assert first.status == 200 and first.contacts == []
    response = handle(registrar, register(expires=600))
    assert contact_expiries(response) == {"sip:other@192.0.2.7": 60}
    assert len(registrar.bindings(AOR)) == 2
    again = handle(registrar, register(expires=600, cseq=2))
    assert len(again.contacts) == 2
