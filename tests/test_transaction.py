"""The non-INVITE client transaction and the transaction layer, by example (RFC 3261 §17.1.2,
§17.1.3, §18.1; RFC 3581).  The exhaustive checks are the hypothesis properties in
sipfsm/conformance/checks_transaction.py (run by tests/test_conformance.py)."""

from __future__ import annotations

import pytest
from transitions import MachineError

from sipfsm.conformance.checks_transaction import (
    CLIENT,
    SERVER,
    TransactionMachineTest,
    make_request,
    mutate,
)
from sipfsm.errors import ConfigError, LocalProtocolError, TransportError
from sipfsm.message import Headers, Request, Response, parse
from sipfsm.ports import HostPort, Target
from sipfsm.sim import Network, Scheduler, SeededRandom, StatelessResponder, response_to
from sipfsm.sim.harness import RecordingOwner, ScriptedTransport
from sipfsm.transaction import (
    STATES,
    TRANSACTION_MACHINE,
    TRANSITIONS,
    Dropped,
    DropReason,
    NonInviteClientTransaction,
    TimerValues,
    TransactionLayer,
)

UDP_TARGET = Target("UDP", SERVER.host, SERVER.port)
TCP_TARGET = Target("TCP", SERVER.host, SERVER.port)


class Rig:
    """A layer over scripted UDP and TCP transports, on a virtual clock."""

    def __init__(self, values: TimerValues | None = None, *, tcp: bool = True) -> None:
        self.clock = Scheduler()
        self.udp = ScriptedTransport(self.clock, "UDP", CLIENT)
        self.tcp = ScriptedTransport(self.clock, "TCP", HostPort(CLIENT.host, 5062))
        self.dropped: list[Dropped] = []
        transports = {"UDP": self.udp, "TCP": self.tcp} if tcp else {"UDP": self.udp}
        self.layer = TransactionLayer(
            transports, self.clock, SeededRandom(3), timer_values=values,
            observer=self.dropped.append,
        )
        self.owner = RecordingOwner(self.clock)

    def send(self, target: Target = UDP_TARGET, request: Request | None = None
             ) -> NonInviteClientTransaction:
        return self.layer.send_request(request or make_request(), target, self.owner)

    def sent_request(self, transport: ScriptedTransport | None = None) -> Request:
        message = parse((transport or self.udp).sent[-1].data)
        assert isinstance(message, Request)
        return message

    def answer(self, status: int, mutation: str = "none", *,
               transport: ScriptedTransport | None = None,
               source: HostPort = SERVER) -> None:
        transport = transport or self.udp
        response = response_to(self.sent_request(transport), status, source=CLIENT)
        self.layer.receive(mutate(response, mutation), source, transport)
        self.clock.run(until=self.clock.now)


def kinds(owner: RecordingOwner) -> list[tuple[str, float]]:
    return [(e.kind, e.time) for e in owner.events]


# ---- the table -------------------------------------------------------------------------------


def test_machine_is_the_rfc_figure() -> None:
    assert [s["name"] for s in STATES] == ["Trying", "Proceeding", "Completed", "Terminated"]
    triggers = {t["trigger"] for t in TRANSITIONS}
    assert triggers == {"provisional", "final", "timer_e", "timer_f", "timer_k",
                        "transport_error"}
    assert TRANSACTION_MACHINE.initial == "Trying"


def test_one_machine_and_no_bound_triggers() -> None:
    rig = Rig()
    a, b = rig.send(), rig.send()
    assert a.machine is b.machine is TRANSACTION_MACHINE
    assert not hasattr(a, "__dict__")  # slots: transitions bound nothing onto the model
    assert not hasattr(a, "final") and not hasattr(a, "is_Trying")


def test_an_event_the_table_does_not_allow_is_an_error() -> None:
    rig = Rig()
    tx = rig.send()
    rig.clock.run_until_idle()
    assert tx.state == "Terminated"
    with pytest.raises(MachineError):
        tx.receive_response(Response(200, "OK", Headers([])))


# ---- §17.1.2.2 timers ----------------------------------------------------------------------


@pytest.mark.requirement("RFC3261-17.1.2.2-TIMER-E-DOUBLING")
@pytest.mark.requirement("RFC3261-17.1.2.2-TIMEOUT-TRYING")
@pytest.mark.requirement("RFC3261-17.1.2.2-TIMER-F-START")
def test_default_schedule_over_udp_with_no_answer() -> None:
    rig = Rig()
    rig.send()
    rig.clock.run_until_idle()
    assert rig.udp.send_times == [0.0, 0.5, 1.5, 3.5, 7.5, 11.5, 15.5, 19.5, 23.5, 27.5, 31.5]
    assert kinds(rig.owner) == [("timeout", 32.0)]


@pytest.mark.parametrize("bad", [{"t1": 0}, {"t2": -1}, {"t4": -0.1}, {"t1": float("nan")}])
def test_timer_values_are_validated(bad: dict[str, float]) -> None:
    with pytest.raises(ConfigError):
        TimerValues(**bad)


@pytest.mark.requirement("RFC3261-17.1.2.2-TIMER-E-PROCEEDING")
@pytest.mark.requirement("RFC3261-17.1.2.2-PROCEEDING")
@pytest.mark.requirement("RFC3261-17.1.2.2-PROVISIONAL-TO-TU")
@pytest.mark.requirement("RFC3261-17.1.2.2-TIMEOUT-PROCEEDING")
def test_after_a_provisional_retransmissions_continue_every_t2() -> None:
    rig = Rig()
    tx = rig.send()
    rig.clock.run(until=1.0)  # sends at 0, 0.5; E pending at 1.5
    rig.answer(100)
    assert tx.state == "Proceeding"
    assert kinds(rig.owner) == [("provisional", 1.0)]
    rig.clock.run_until_idle()
    # The pending E keeps its instant (1.5); then every T2 = 4 s until Timer F at 32 s.
    assert rig.udp.send_times == [0.0, 0.5, 1.5, 5.5, 9.5, 13.5, 17.5, 21.5, 25.5, 29.5]
    assert kinds(rig.owner)[-1] == ("timeout", 32.0)
    assert tx.state == "Terminated"


@pytest.mark.requirement("RFC3261-17.1.2.2-TIMER-E-START")
@pytest.mark.requirement("RFC3261-17.1.2.2-SEND-REQUEST")
def test_no_retransmission_over_tcp() -> None:
    rig = Rig()
    rig.send(TCP_TARGET)
    rig.clock.run_until_idle()
    assert rig.tcp.send_times == [0.0]
    assert rig.udp.sent == []
    assert kinds(rig.owner) == [("timeout", 32.0)]


@pytest.mark.requirement("RFC3261-17.1.2.2-FINAL-TRYING")
@pytest.mark.requirement("RFC3261-17.1.2.2-TIMER-K")
@pytest.mark.requirement("RFC3261-17.1.2.2-TIMER-K-TERMINATED")
@pytest.mark.requirement("RFC3261-17.1.2.1-SINGLE-FINAL")
@pytest.mark.requirement("RFC3261-17.1.2.1-NO-RETRANSMIT-AFTER-FINAL")
def test_final_response_completed_absorbs_then_timer_k() -> None:
    rig = Rig()
    tx = rig.send()
    rig.clock.run(until=0.7)
    rig.answer(200)
    assert tx.state == "Completed"
    for status in (200, 180, 500):  # retransmissions and late junk: absorbed
        rig.answer(status)
    rig.layer.transport_error(UDP_TARGET, TransportError("late ICMP"))
    assert kinds(rig.owner) == [("final", 0.7)]
    rig.clock.run(until=0.7 + 5.0 - 1e-9)
    assert tx.state == "Completed"
    rig.clock.run(until=5.7)
    assert tx.state == "Terminated"
    assert rig.udp.send_times == [0.0, 0.5]  # nothing after the final response
    assert rig.clock.pending() == 0


@pytest.mark.requirement("RFC3261-17.1.2.2-FINAL-PROCEEDING")
@pytest.mark.requirement("RFC3261-17.1.2.2-TIMER-K")
def test_final_in_proceeding_over_tcp_timer_k_is_zero() -> None:
    rig = Rig()
    tx = rig.send(TCP_TARGET)
    rig.answer(100, transport=rig.tcp)
    rig.answer(183, transport=rig.tcp)
    assert tx.state == "Proceeding"
    rig.layer.receive(
        mutate(response_to(rig.sent_request(rig.tcp), 403), "none"), SERVER, rig.tcp
    )
    assert tx.state == "Completed"  # Timer K (0 s) is due now, not yet run
    rig.clock.run(until=rig.clock.now)
    assert tx.state == "Terminated"
    assert [k for k, _ in kinds(rig.owner)] == ["provisional", "provisional", "final"]


@pytest.mark.requirement("RFC3261-17.1.2.2-DESTROY")
def test_terminated_transaction_is_forgotten() -> None:
    rig = Rig()
    tx = rig.send()
    rig.answer(200)
    rig.clock.run_until_idle()
    assert tx.state == "Terminated" and len(rig.layer) == 0 and rig.clock.pending() == 0
    rig.answer(200)  # now a stray
    assert rig.dropped[-1].reason is DropReason.UNMATCHED
    assert len(rig.owner.outcomes) == 1


# ---- §17.1.4 transport errors ------------------------------------------------------------------


@pytest.mark.requirement("RFC3261-17.1.4-TRANSPORT-ERROR")
def test_send_failure_at_once_is_reported_before_send_request_returns() -> None:
    rig = Rig()
    rig.udp.fail_next()
    tx = rig.send()
    assert tx.state == "Terminated"
    assert [e.kind for e in rig.owner.events] == ["transport_error"]
    assert isinstance(rig.owner.events[0].error, TransportError)
    assert rig.clock.pending() == 0 and len(rig.layer) == 0


@pytest.mark.requirement("RFC3261-17.1.4-TRANSPORT-ERROR")
def test_later_transport_error_for_the_target() -> None:
    rig = Rig()
    tx = rig.send()
    other = rig.send(Target("UDP", "198.51.100.5", 5060))
    rig.clock.run(until=2.0)
    rig.layer.transport_error(Target("udp", SERVER.host, SERVER.port), TransportError("ICMP"))
    assert tx.state == "Terminated" and other.state == "Trying"
    assert [(e.kind, e.tx) for e in rig.owner.outcomes] == [("transport_error", tx)]


@pytest.mark.requirement("RFC3261-17.1.4-TRANSPORT-ERROR")
def test_retransmission_failure() -> None:
    rig = Rig()
    tx = rig.send()
    rig.udp.fail_next()
    rig.clock.run_until_idle()
    assert rig.udp.send_times == [0.0, 0.5]
    assert kinds(rig.owner) == [("transport_error", 0.5)]
    assert tx.state == "Terminated"


def test_target_without_a_transport_is_a_transport_error() -> None:
    rig = Rig()
    tx = rig.send(Target("TLS", SERVER.host, 5061))
    assert tx.state == "Terminated"
    assert [e.kind for e in rig.owner.events] == ["transport_error"]
    assert rig.udp.sent == [] and rig.tcp.sent == []


# ---- §17.1.3 / §18.1.2 matching and discarding ---------------------------------------------


@pytest.mark.requirement("RFC3261-17.1.3-MATCH-BRANCH")
@pytest.mark.requirement("RFC3261-17.1.3-MATCH-METHOD")
@pytest.mark.requirement("RFC3261-18.1.2-FOREIGN-SENT-BY")
@pytest.mark.requirement("RFC3261-18.1.2-STRAY-TO-CORE")
@pytest.mark.requirement("RFC3261-8.1.3.3-MULTIPLE-VIAS")
@pytest.mark.parametrize(
    ("mutation", "reason"),
    [
        ("wrong-branch", DropReason.UNMATCHED),
        ("wrong-method", DropReason.UNMATCHED),
        ("foreign-sent-by", DropReason.FOREIGN_SENT_BY),
        ("extra-via", DropReason.MULTIPLE_VIAS),
    ],
)
def test_responses_that_are_not_ours_are_dropped(mutation: str, reason: DropReason) -> None:
    rig = Rig()
    tx = rig.send()
    rig.answer(200, mutation)
    assert tx.state == "Trying" and rig.owner.events == []
    assert [d.reason for d in rig.dropped] == [reason]
    assert rig.layer.dropped[reason.value] == 1


@pytest.mark.requirement("RFC3261-18.1.2-PASS-TO-TRANSACTION")
@pytest.mark.requirement("RFC3261-18.1.1-ANY-SOURCE")
@pytest.mark.requirement("RFC3581-3-RECEIVE-SOURCE")
def test_matching_ignores_source_and_received_rport() -> None:
    rig = Rig()
    tx = rig.send()
    response = response_to(rig.sent_request(), 200, source=HostPort("198.51.100.77", 40000))
    assert response.vias[0].received == "198.51.100.77" and response.vias[0].rport == 40000
    # Arriving from elsewhere, on another transport: still matched by Via and CSeq.
    rig.layer.receive(response.to_bytes(), HostPort("203.0.113.50", 40404), rig.tcp)
    assert tx.state == "Completed" and rig.dropped == []


def test_sent_by_without_port_means_5060() -> None:
    rig = Rig()
    tx = rig.send()
    response = response_to(rig.sent_request(), 200)
    via = response.vias[0]
    import dataclasses

    no_port = dataclasses.replace(via, port=None, host=via.host.upper())
    rig.layer.receive(
        response.with_headers(response.headers.with_replaced("Via", str(no_port))).to_bytes(),
        SERVER, rig.udp,
    )
    assert tx.state == "Completed"


@pytest.mark.parametrize("data", [b"", b"\x00\xff garbage", b"SIP/2.0 200 OK\r\n\r\n"])
def test_garbage_is_dropped_never_raised(data: bytes) -> None:
    rig = Rig()
    rig.send()
    rig.layer.receive(data, SERVER, rig.udp)
    assert rig.dropped and rig.dropped[0].reason in (DropReason.PARSE_ERROR, DropReason.NO_VIA)


def test_requests_are_dropped() -> None:
    rig = Rig()
    rig.send()
    rig.layer.receive(rig.udp.sent[0].data, SERVER, rig.udp)
    assert [d.reason for d in rig.dropped] == [DropReason.REQUEST]


# ---- the request as sent -----------------------------------------------------------------------


@pytest.mark.requirement("RFC3261-8.1.1.7-BRANCH-PRESENT")
@pytest.mark.requirement("RFC3261-8.1.1.7-BRANCH-COOKIE")
@pytest.mark.requirement("RFC3581-3-RPORT-INCLUDE")
@pytest.mark.requirement("RFC3581-3-RPORT-NO-VALUE")
@pytest.mark.requirement("RFC3261-18.1.1-SENT-BY")
@pytest.mark.requirement("RFC3581-3-RECEIVE-SENT-BY")
@pytest.mark.requirement("RFC3261-8.1.1.7-VIA-PRESENT")
@pytest.mark.requirement("RFC3261-8.1.1.7-VIA-SIP-2-0")
def test_the_via_the_transaction_adds() -> None:
    rig = Rig()
    tx = rig.send()
    sent = rig.sent_request()
    assert sent.headers.get_all("Via") == [tx.via]
    assert tx.via == f"SIP/2.0/UDP 192.0.2.10:5060;branch={tx.branch};rport"
    assert tx.branch.startswith("z9hG4bK") and len(tx.branch) >= 7 + 15  # 72 bits, base32
    assert sent.headers.get_all("Via") == tx.sent_request.headers.get_all("Via")
    assert tx.request == make_request()  # the TU's request is not changed


@pytest.mark.requirement("RFC3261-8.1.1.7-VIA-PRESENT")
def test_the_wire_bytes_are_the_request_with_the_via_row_first() -> None:
    # Written from the request's own rows: the start line, then the Via, then every row of the
    # TU's request in order, the body unchanged.
    body = b"v=0\r\n"
    request = make_request(7)
    request = request.with_headers(request.headers.with_added("Subject", "hello")).with_body(body)
    rig = Rig()
    tx = rig.send(request=request)
    wire = rig.udp.sent[-1].data
    head, _, rest = wire.partition(b"\r\n\r\n")
    lines = head.decode().split("\r\n")
    assert lines[0] == f"REGISTER {request.uri} SIP/2.0"
    assert lines[1] == f"Via: {tx.via}"
    expected = [f"{name}: {value}" for name, value in request.headers
                if name != "Content-Length"]
    assert [line for line in lines[2:] if not line.startswith("Content-Length:")] == expected
    assert f"Content-Length: {len(body)}" in lines
    assert rest == body
    assert wire == tx.sent_request.to_bytes()


@pytest.mark.requirement("RFC3261-8.1.1.7-BRANCH-UNIQUE")
def test_branches_are_unique() -> None:
    rig = Rig()
    branches = {rig.send(request=make_request(n)).branch for n in range(1, 500)}
    assert len(branches) == 499


def test_branch_collision_with_a_live_transaction_is_redrawn() -> None:
    class Repeating(SeededRandom):
        def __init__(self) -> None:
            super().__init__(0)
            self.tokens = iter(["a" * 15, "a" * 15, "b" * 15])

        def token(self, nbits: int) -> str:
            return next(self.tokens)

    clock = Scheduler()
    udp = ScriptedTransport(clock, "UDP", CLIENT)
    layer = TransactionLayer(udp, clock, Repeating())
    owner = RecordingOwner(clock)
    a = layer.send_request(make_request(1), UDP_TARGET, owner)
    b = layer.send_request(make_request(2), UDP_TARGET, owner)
    assert (a.branch, b.branch) == ("z9hG4bK" + "a" * 15, "z9hG4bK" + "b" * 15)


@pytest.mark.parametrize(
    "request_",
    [
        make_request(method="INVITE"),
        make_request(method="ACK"),
        make_request().with_headers(make_request().headers.with_prepended("Via", "SIP/2.0/UDP x")),
        make_request().with_headers(make_request().headers.with_replaced("CSeq", "1 OPTIONS")),
        make_request().with_headers(make_request().headers.without("CSeq")),
        make_request().with_headers(make_request().headers.with_replaced("CSeq", "x")),
    ],
    ids=["invite", "ack", "has-via", "cseq-method", "no-cseq", "bad-cseq"],
)
def test_requests_the_layer_refuses(request_: Request) -> None:
    rig = Rig()
    with pytest.raises(LocalProtocolError):
        rig.send(request=request_)
    assert rig.udp.sent == [] and len(rig.layer) == 0


# ---- §18.1.1 size rule -------------------------------------------------------------------------


def test_small_request_stays_on_udp() -> None:
    rig = Rig()
    rig.send(request=make_request(padding=100))
    assert len(rig.udp.sent) == 1 and rig.tcp.sent == []


def test_large_request_without_tcp_goes_over_udp() -> None:
    rig = Rig(tcp=False)
    tx = rig.send(request=make_request(padding=1400))
    assert len(rig.udp.sent) == 1 and tx.via.startswith("SIP/2.0/UDP")


def test_tcp_failure_of_a_normal_request_does_not_fall_back() -> None:
    rig = Rig()
    rig.tcp.fail_next()
    tx = rig.send(TCP_TARGET)
    assert tx.state == "Terminated" and rig.udp.sent == []


# ---- through the simulated network ------------------------------------------------------------


def test_round_trip_through_the_network() -> None:
    clock = Scheduler()
    network = Network(clock, seed=5)
    client = network.endpoint(CLIENT, "UDP")
    server = network.endpoint(SERVER, "UDP", StatelessResponder(clock, [100, 200], delay=0.1))
    layer = TransactionLayer(client, clock, SeededRandom(5))
    client.bind(layer)
    owner = RecordingOwner(clock)
    tx = layer.send_request(make_request(), UDP_TARGET, owner)
    clock.run_until_idle()
    assert [(e.kind, round(e.time, 6)) for e in owner.events] == [
        ("provisional", 0.1), ("final", 0.2)
    ]
    assert tx.state == "Terminated" and clock.now == pytest.approx(5.2)
    assert server.receiver is not None


def test_stateful_machine_test_is_importable() -> None:
    assert TransactionMachineTest.TestCase is not None
