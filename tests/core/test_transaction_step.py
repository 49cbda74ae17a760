"""The §17.1.2 table as a pure step: expected values from RFC 3261 §17.1.2.2 and Table 4."""

from __future__ import annotations

import pytest
from transitions import MachineError

from sipfsm.core.transaction import (
    CancelTimers,
    Final,
    Forget,
    InformTimeout,
    PassFinal,
    Provisional,
    Release,
    StartTimer,
    TimerE,
    TimerF,
    TimerK,
    TransactionState,
    Transmit,
    TransportFailed,
    UseUdp,
    step,
)
from sipfsm.message import Headers, Response

T1, T2, T4 = 0.5, 4.0, 5.0  # RFC 3261 Table 4
OK = Response(200, "OK", Headers([]))
TRYING_1XX = Response(100, "Trying", Headers([]))


@pytest.mark.requirement("RFC3261-17.1.2.2-TIMER-E-DOUBLING")
def test_timer_e_doubles_up_to_t2_in_trying() -> None:
    """§17.1.2.2: "MIN(2*T1, T2) ... MIN(4*T1, T2) ..." -- 1, 2, 4, 4 s after T1 = 0.5 s."""
    state = TransactionState(interval=T1)
    delays = []
    for _ in range(4):
        state, out = step(state, TimerE())
        timers = [o for o in out if isinstance(o, StartTimer)]
        assert [t.name for t in timers] == ["E"] and Transmit() in out
        delays.append(timers[0].delay)
    assert delays == [1.0, 2.0, 4.0, 4.0]
    assert state.retransmissions == 4 and state.name == "Trying"


def test_in_proceeding_timer_e_is_t2() -> None:
    """§17.1.2.2: in Proceeding, retransmissions every T2."""
    state, _ = step(TransactionState(interval=T1), Provisional(TRYING_1XX))
    assert state.name == "Proceeding"
    state, out = step(state, TimerE())
    assert StartTimer("E", T2) in out


@pytest.mark.parametrize(("reliable", "timer_k"), [(False, T4), (True, 0.0)])
def test_a_final_response_completes_and_starts_timer_k(reliable: bool, timer_k: float) -> None:
    """§17.1.2.2: Completed; Timer K = T4 for unreliable transports, zero for reliable."""
    state, out = step(TransactionState(reliable=reliable), Final(OK))
    assert state.name == "Completed"
    assert out == [CancelTimers(), Release(), StartTimer("K", timer_k), PassFinal(OK)]
    again, out = step(state, Final(OK))  # a retransmitted final response is absorbed
    assert again == state and out == []
    done, out = step(state, TimerK())
    assert done.name == "Terminated" and Forget() in out


def test_timer_f_ends_trying_with_a_timeout() -> None:
    state, out = step(TransactionState(), TimerF())
    assert state.name == "Terminated" and InformTimeout() in out and Forget() in out
    with pytest.raises(MachineError):
        step(state, Final(OK))  # destroyed: nothing is taken any more


def test_a_request_moved_to_tcp_for_its_size_falls_back_to_udp() -> None:
    """§18.1.1: if TCP fails for a request moved there for its size, retry over UDP."""
    state = TransactionState(reliable=True, moved_to_tcp=True, udp_fallback=True)
    after, out = step(state, TransportFailed(OSError("refused")))
    assert after.name == "Trying" and not after.reliable and not after.moved_to_tcp
    assert out == [UseUdp(), StartTimer("E", T1), Transmit()]
    ended, _ = step(TransactionState(), TransportFailed(OSError("refused")))
    assert ended.name == "Terminated"
