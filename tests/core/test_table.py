"""The registration table is total: every (state, input) pair is a row or deliberately ignored;
step is pure and its state a plain value; the driver never re-enters it."""

from __future__ import annotations

import dataclasses
from typing import Any

import pytest

from sipfsm import diagrams
from sipfsm.conformance.harness import World, default_config, ok_echo
from sipfsm.core import inputs
from sipfsm.core.inputs import INPUTS, Query, RefreshDue, Register, Success
from sipfsm.core.registration import (
    IGNORED,
    REGISTRATION_MACHINE,
    STATES,
    TRANSITIONS,
    RegistrationState,
    Send,
    StartTimer,
    initial_state,
    step,
)
from sipfsm.message import SipUri, parse_uri
from sipfsm.ports import Target
from sipfsm.registration import Registered, StateChanged

STATE_NAMES = [s["name"] for s in STATES]
INPUT_NAMES = [cls.__name__ for cls in INPUTS]


def _sources(row: dict[str, Any]) -> list[str]:
    source = row["source"]
    return list(source) if isinstance(source, list) else [source]


def _rows(state: str, trigger: str) -> list[dict[str, Any]]:
    return [r for r in TRANSITIONS if r["trigger"] == trigger and state in _sources(r)]


def test_every_input_class_is_listed() -> None:
    declared = {name for name in inputs.__all__ if isinstance(getattr(inputs, name), type)
                and dataclasses.is_dataclass(getattr(inputs, name))}
    assert declared == set(INPUT_NAMES)


@pytest.mark.parametrize("state", STATE_NAMES)
@pytest.mark.parametrize("trigger", INPUT_NAMES)
def test_every_pair_is_a_row_or_ignored_with_a_reason(state: str, trigger: str) -> None:
    rows = _rows(state, trigger)
    ignored = IGNORED.get((state, trigger))
    assert bool(rows) != bool(ignored), (
        f"({state}, {trigger}) must be a row or on IGNORED (with a reason), not "
        f"{'both' if rows else 'neither'}")
    if ignored:
        assert len(ignored) > 20  # a reason, not a placeholder
        return
    # The rows are tried in order: the last one must take whatever the others did not.
    last = rows[-1]
    assert not last.get("conditions") and not last.get("unless"), (state, trigger, last)
    # ... and the machine really holds them for this state.
    assert REGISTRATION_MACHINE.events[trigger].transitions.get(state)


def test_ignored_names_only_real_pairs() -> None:
    for state, trigger in IGNORED:
        assert state in STATE_NAMES and trigger in INPUT_NAMES


def test_every_trigger_is_an_input_and_every_callback_exists() -> None:
    from sipfsm.core.registration import RegistrationModel

    for row in TRANSITIONS:
        assert row["trigger"] in INPUT_NAMES
        for key in ("conditions", "before", "after"):
            names = row.get(key) or []
            for name in [names] if isinstance(names, str) else names:
                assert callable(getattr(RegistrationModel, name, None)), (row, name)
    for state in STATES:
        for key in ("on_enter", "on_exit"):
            names = state.get(key) or []
            for name in [names] if isinstance(names, str) else names:
                assert callable(getattr(RegistrationModel, name, None)), (state, name)


def test_the_diagram_names_the_inputs() -> None:
    text = diagrams.mermaid(REGISTRATION_MACHINE)
    for name in INPUT_NAMES:
        if any(r["trigger"] == name for r in TRANSITIONS):
            assert f": {name}" in text, name


# ---- step: pure, on plain values --------------------------------------------------------------


def _sip(text: str) -> SipUri:
    uri = parse_uri(text)
    assert isinstance(uri, SipUri)
    return uri


def test_step_is_pure_and_its_state_a_value() -> None:
    state = initial_state(default_config())
    a = step(state, Register(), now=5.0)
    b = step(state, Register(), now=5.0)
    assert a == b
    assert state == initial_state(default_config())  # the input state is untouched
    with pytest.raises(dataclasses.FrozenInstanceError):
        state.cseq = 9  # type: ignore[misc]


def test_a_state_built_from_observations_replays_a_refresh() -> None:
    """What an auditor knows of another client (its Call-ID, last CSeq, the granted expiry) is
    enough for step to say what its next refresh must look like."""
    contact = _sip("sip:bob@198.51.100.9:5062")
    registered = dataclasses.replace(
        initial_state(default_config()), name="registered", call_id="abc@host", cseq=41,
        from_tag="t1", bound=((str(contact), contact, 600),), expires_at=600.0)
    after, outputs = step(registered, RefreshDue(), now=540.0)
    assert after.name == "refreshing"
    sends = [o for o in outputs if isinstance(o, Send)]
    assert len(sends) == 1
    plan = sends[0].plan
    assert plan.call_id == "abc@host" and plan.cseq == 42  # §10.2.4, §8.1.1.5
    assert plan.from_tag != "t1" or plan.from_tag  # a tag for the new request
    done, outputs = step(after, Success(200, sent=(contact,), granted=((contact, 300),)),
                         now=541.0)
    assert done.name == "registered" and done.expires_at == 841.0
    assert any(isinstance(o, StartTimer) and o.name == "refresh" for o in outputs)


def test_an_ignored_input_changes_nothing() -> None:
    state = initial_state(default_config())
    assert ("unregistered", "RefreshDue") in IGNORED
    assert step(state, RefreshDue()) == (state, [])


def test_commands_wait_while_in_flight_and_run_after() -> None:
    state = initial_state(default_config())
    state, _ = step(state, Register())
    assert state.name == "registering"
    state, outputs = step(state, Query())
    assert state.name == "registering" and not outputs and len(state.queue) == 1
    contact = _sip("sip:alice@192.0.2.10:5060")
    state, outputs = step(state, Success(200, sent=(contact,), granted=((contact, 3600),)))
    assert state.name == "querying" and state.queue == ()
    assert [type(o).__name__ for o in outputs].count("Send") == 1


def test_registration_state_is_a_frozen_dataclass() -> None:
    assert dataclasses.is_dataclass(RegistrationState)
    assert RegistrationState.__dataclass_params__.frozen  # type: ignore[attr-defined]


# ---- the driver: outputs after the transition, never inside it ---------------------------------


def test_the_observer_runs_after_the_transition_and_its_commands_wait() -> None:
    seen: list[tuple[str, str]] = []
    world = World(ok_echo)
    client = world.client

    def observer(_client: Any, event: Any) -> None:
        seen.append((type(event).__name__, client.state))
        if isinstance(event, StateChanged):
            assert client.state == event.new  # the transition had completed
        if isinstance(event, Registered) and len(seen) < 10:
            client.query()  # queued: processed after this step's outputs

    client._observer = observer
    client.register()
    world.run(5)
    names = [n for n, _ in seen]
    assert names.index("Registered") < names.index("BindingsReported")
    assert ("Registered", "registered") in seen


def test_a_send_failing_at_once_is_processed_after_the_step() -> None:
    from sipfsm.registration import ContactSpec

    world = World(ok_echo, config=default_config(
        registrar_target=Target("SCTP", "192.0.2.1", 5060),
        contacts=(ContactSpec(uri=_sip("sip:alice@192.0.2.10:5060")),)))
    world.client.register()  # no SCTP transport: the transaction layer fails the send at once
    assert world.client.state == "waiting"
