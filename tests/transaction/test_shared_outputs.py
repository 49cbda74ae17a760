"""The transaction core's cheaper outputs (issue 14) are the values the long way builds.

``StartTimer`` outputs are shared per (timer, delay) and ``PassFinal`` is made without its
``__init__`` frame; each is compared with the dataclass built the ordinary way: equal, the same
type, hash and repr, and as frozen."""

from __future__ import annotations

import dataclasses

import pytest
from hypothesis import given
from hypothesis import strategies as st

from sipfsm.core import transaction as core
from sipfsm.core.transaction import (
    CancelTimers,
    Final,
    PassFinal,
    Release,
    StartTimer,
    TimerE,
    TimerValues,
    TransactionState,
    step,
)
from sipfsm.message import parse

OK = parse(
    b"SIP/2.0 200 OK\r\nVia: SIP/2.0/UDP 192.0.2.1:5070;branch=z9hG4bKx;rport=5070\r\n"
    b"From: <sip:a@example.com>;tag=1\r\nTo: <sip:a@example.com>;tag=2\r\n"
    b"Call-ID: c@192.0.2.1\r\nCSeq: 1 REGISTER\r\nContent-Length: 0\r\n\r\n")


def _same_value(made: object, reference: object) -> None:
    assert type(made) is type(reference)
    assert made == reference and hash(made) == hash(reference) and repr(made) == repr(reference)
    for field in dataclasses.fields(reference):  # type: ignore[arg-type]
        with pytest.raises(dataclasses.FrozenInstanceError):
            setattr(made, field.name, None)


@given(st.lists(st.tuples(st.sampled_from(["E", "F", "K"]),
                          st.floats(min_value=0.0, max_value=1e6, allow_nan=False)),
                max_size=700))
def test_shared_start_timer_is_the_value_asked_for(pairs: list[tuple[str, float]]) -> None:
    for name, delay in pairs:
        _same_value(core._start_timer(name, delay), StartTimer(name, delay))
        assert len(core._STARTS) <= 256  # bounded, whatever delays come


@given(t1=st.floats(min_value=0.001, max_value=10.0), t2=st.floats(min_value=0.001, max_value=60.0),
       t4=st.floats(min_value=0.0, max_value=60.0), reliable=st.booleans(),
       timer_e_firings=st.integers(min_value=0, max_value=8))
def test_step_outputs_are_the_values_of_the_table(t1: float, t2: float, t4: float,
                                                  reliable: bool, timer_e_firings: int) -> None:
    """Retransmissions in Trying, then the final response: every output equals a freshly built
    value with the RFC's numbers (§17.1.2.2: Timer E doubles up to T2; Timer K is T4 over an
    unreliable transport, 0 over a reliable one)."""
    values = TimerValues(t1, t2, t4)
    state = TransactionState(reliable=reliable, interval=t1, timer_values=values)
    interval = t1
    if not reliable:
        for _ in range(timer_e_firings):
            state, out = step(state, TimerE())
            interval = min(2 * interval, t2)
            assert [type(o).__name__ for o in out] == ["StartTimer", "Transmit"]
            _same_value(out[0], StartTimer("E", interval))
    state, out = step(state, Final(OK))
    expected = [CancelTimers(), Release(), StartTimer("K", 0.0 if reliable else t4), PassFinal(OK)]
    assert len(out) == len(expected)
    for made, reference in zip(out, expected, strict=True):
        _same_value(made, reference)
    assert out[3].response is OK  # type: ignore[union-attr]
