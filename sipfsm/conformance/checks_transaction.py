"""Conformance checks of the non-INVITE client transaction and the transaction layer
(spec/transaction.toml), run against the simulator's virtual clock.

The central check is a hypothesis ``RuleBasedStateMachine``: any interleaving of responses
(1xx, 2xx-6xx, duplicates, wrong branch, wrong CSeq method, an extra Via, a foreign sent-by,
garbage), advances of virtual time and transport errors, for generated T1/T2/T4 and both kinds of
transport.  After every step the transaction must agree with :func:`rfc_timeline`, the
§17.1.2.2 rules written out independently of the machine.
"""

from __future__ import annotations

import dataclasses
import ipaddress
from dataclasses import dataclass

from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    rule,
    run_state_machine_as_test,
)

from sipfsm.conformance.harness import run_bounded
from sipfsm.conformance.registry import check, expect
from sipfsm.core.transaction import (
    Final,
    Provisional,
    StartTimer,
    TimerE,
    TransportFailed,
    UseUdp,
)
from sipfsm.errors import TransportError
from sipfsm.message import Headers, Request, Response, parse, parse_uri
from sipfsm.ports import HostPort, Target
from sipfsm.sim import (
    LinkFaults,
    Network,
    Scheduler,
    SeededRandom,
    StatelessResponder,
    response_to,
)
from sipfsm.sim.harness import RecordingOwner, ScriptedTransport
from sipfsm.transaction import (
    COMPLETED,
    PROCEEDING,
    TERMINATED,
    TRYING,
    Dropped,
    NonInviteClientTransaction,
    TimerValues,
    TransactionLayer,
    TransactionState,
    step,
)

__all__ = ["TransactionMachineTest", "make_request", "mutate", "rfc_timeline"]

# RFC 3261 §8.1.1.7, the magic cookie, written from the RFC ("MUST always begin with the
# characters "z9hG4bK"", case-sensitive).
RFC_BRANCH_COOKIE = "z9hG4bK"
# RFC 3261 §17.1.1.2 Table 4: T1 500 ms default, T2 4 s, T4 5 s; Timer F 64*T1; Timer K T4 for
# unreliable transports, 0 s for reliable ones.
RFC_T1, RFC_T2, RFC_T4 = 0.5, 4.0, 5.0


def rfc_timer_k(t4: float, *, reliable: bool) -> float:
    """Table 4: Timer K = T4 for UDP, 0 s for reliable transports."""
    return 0.0 if reliable else t4

SERVER = HostPort("192.0.2.1", 5060)
CLIENT = HostPort("192.0.2.10", 5060)


def make_request(number: int = 1, method: str = "REGISTER", *, padding: int = 0) -> Request:
    """A REGISTER (or ``method``) request without a Via, as a TU hands it to the layer."""
    rows = [
        ("Max-Forwards", "70"),
        ("To", "<sip:alice@example.com>"),
        ("From", "<sip:alice@example.com>;tag=f00"),
        ("Call-ID", "c0ffee@192.0.2.10"),
        ("CSeq", f"{number} {method}"),
        ("Contact", "<sip:alice@192.0.2.10:5060>"),
        ("Expires", "3600"),
    ]
    if padding:
        rows.append(("X-Padding", "x" * padding))
    return Request(method, parse_uri("sip:example.com"), Headers(rows))


# What a response changed as ``mutate`` says breaks: the record that says it is not ours.
_NOT_OURS = {
    "wrong-branch": "RFC3261-17.1.3-MATCH-BRANCH",
    "wrong-method": "RFC3261-17.1.3-MATCH-METHOD",
    "method-case": "RFC3261-17.1.3-MATCH-METHOD",
    "foreign-sent-by": "RFC3261-18.1.2-FOREIGN-SENT-BY",
    "foreign-port": "RFC3261-18.1.2-FOREIGN-SENT-BY",
    "extra-via": "RFC3261-8.1.3.3-MULTIPLE-VIAS",
    "vias-in-one-row": "RFC3261-8.1.3.3-MULTIPLE-VIAS",
}

MUTATIONS = (
    "none",
    "received-rport",  # RFC 3581 §4 server additions: still ours, still matching
    "wrong-branch",
    "wrong-method",
    "extra-via",
    "foreign-sent-by",
    "no-via",
    "method-case",  # §20.16: "The method part of CSeq is case-sensitive"
    "foreign-port",  # §18.1.2: our host, another port: not a sent-by we insert
    "vias-in-one-row",  # §8.1.3.3: two Via values, written in one header row
)
VALID_MUTATIONS = ("none", "received-rport")


def mutate(response: Response, mutation: str) -> bytes:
    """The response as bytes, changed as ``mutation`` says (see :data:`MUTATIONS`)."""
    headers = response.headers
    via = response.vias[0]
    if mutation == "received-rport":
        headers = headers.with_replaced(
            "Via", str(via.with_params(received="198.51.100.77", rport="40000"))
        )
    elif mutation == "wrong-branch":
        headers = headers.with_replaced("Via", str(via.with_params(branch=f"{via.branch}x")))
    elif mutation == "wrong-method":
        headers = headers.with_replaced("CSeq", f"{response.cseq.number} CANCEL")
    elif mutation == "extra-via":
        headers = headers.with_added("Via", "SIP/2.0/UDP 198.51.100.1:5060;branch=z9hG4bKproxy1")
    elif mutation == "foreign-sent-by":
        headers = headers.with_replaced("Via", str(dataclasses.replace(via, host="203.0.113.9")))
    elif mutation == "no-via":
        headers = headers.without("Via")
    elif mutation == "method-case":
        method = response.cseq.method
        other = method.lower() if method != method.lower() else method.upper()
        headers = headers.with_replaced("CSeq", f"{response.cseq.number} {other}")
    elif mutation == "foreign-port":
        port = via.port if via.port is not None else 5060
        headers = headers.with_replaced(
            "Via", str(dataclasses.replace(via, port=port + 1 if port < 65535 else port - 1)))
    elif mutation == "vias-in-one-row":
        headers = headers.with_replaced(
            "Via", f"{via}, SIP/2.0/UDP 198.51.100.1:5060;branch=z9hG4bKproxy1")
    return response.with_headers(headers).to_bytes()


@dataclass(frozen=True, slots=True)
class Outcome:
    kind: str  # "final", "timeout", "transport_error"
    time: float


def rfc_timeline(
    values: TimerValues,
    *,
    reliable: bool,
    now: float,
    provisional_at: float | None = None,
    external: Outcome | None = None,
    fail_after: float | None = None,
) -> tuple[list[float], Outcome | None]:
    """RFC 3261 §17.1.2.2 for a transaction started at time 0: the instants the request is sent
    (first send included) up to ``now``, and the outcome by ``now``.

    ``provisional_at``: when the first 1xx arrived; ``external``: a final response or a transport
    error reported from outside (at most one, before any timeout); ``fail_after``: sends after
    this instant fail.  Ties: events due at an instant run before input injected at that instant,
    and Timer F (set first) fires before a Timer E due at the same instant.
    """
    timeout_at = 64 * values.t1  # Timer F
    sends = [0.0]
    if not reliable:
        interval = values.t1  # Timer E starts at T1 ...
        due = values.t1
        while due <= now and due < timeout_at:
            if external is not None and due > external.time:
                break
            sends.append(due)
            if fail_after is not None and due > fail_after:
                return sends, Outcome("transport_error", due)
            if provisional_at is not None and provisional_at < due:
                interval = values.t2  # ... is T2 in Proceeding ...
            else:
                interval = min(2 * interval, values.t2)  # ... and doubles, capped at T2, in Trying
            due = due + interval
    if external is not None:
        return sends, external
    if now >= timeout_at:
        return sends, Outcome("timeout", timeout_at)
    return sends, None


t1_values = st.floats(min_value=0.02, max_value=1.0, allow_nan=False, allow_infinity=False)
t2_values = st.floats(min_value=0.05, max_value=8.0, allow_nan=False, allow_infinity=False)
t4_values = st.floats(min_value=0.0, max_value=6.0, allow_nan=False, allow_infinity=False)
statuses = st.one_of(
    st.sampled_from([100, 180, 183, 199]),
    st.sampled_from([200, 202, 299, 302, 401, 407, 423, 480, 500, 503, 600, 699]),
    st.integers(min_value=100, max_value=699),
)


class TransactionMachineTest(RuleBasedStateMachine):
    """Any interleaving of inputs; the transaction must follow :func:`rfc_timeline`."""

    values: TimerValues
    clock: Scheduler
    transport: ScriptedTransport
    layer: TransactionLayer
    owner: RecordingOwner
    tx: NonInviteClientTransaction
    request: Request
    reliable: bool

    @initialize(t1=t1_values, t2=t2_values, t4=t4_values, reliable=st.booleans())
    def start(self, t1: float, t2: float, t4: float, reliable: bool) -> None:
        self.values = TimerValues(t1=t1, t2=t2, t4=t4)
        self.reliable = reliable
        self.clock = Scheduler()
        name = "TCP" if reliable else "UDP"
        self.transport = ScriptedTransport(self.clock, name, CLIENT)
        self.layer = TransactionLayer(
            self.transport, self.clock, SeededRandom(7), timer_values=self.values
        )
        self.owner = RecordingOwner(self.clock)
        self.target = Target(name, SERVER.host, SERVER.port)
        self.tx = self.layer.send_request(make_request(), self.target, self.owner)
        parsed = parse(self.transport.sent[0].data)
        assert isinstance(parsed, Request)
        self.request = parsed
        self.provisional_at: float | None = None
        self.provisionals = 0
        self.external: Outcome | None = None
        self.fail_after: float | None = None
        self.foreign: list[str] = []

    # ---- the model --------------------------------------------------------------------------

    def timeline(self) -> tuple[list[float], Outcome | None]:
        return rfc_timeline(
            self.values,
            reliable=self.reliable,
            now=self.clock.now,
            provisional_at=self.provisional_at,
            external=self.external,
            fail_after=self.fail_after,
        )

    def expected_state(self) -> str:
        _, outcome = self.timeline()
        if outcome is None:
            return TRYING if self.provisional_at is None else PROCEEDING
        if outcome.kind == "final":
            k = rfc_timer_k(self.values.t4, reliable=self.reliable)
            return TERMINATED if self.clock.now >= outcome.time + k else COMPLETED
        return TERMINATED

    # ---- inputs ------------------------------------------------------------------------------

    @rule(dt=st.one_of(st.floats(min_value=0.0, max_value=3.0), st.sampled_from([0.0, 0.5, 4.0])))
    def advance(self, dt: float) -> None:
        run_bounded(self.clock, self.clock.now + dt)

    @rule()
    def advance_to_next_timer(self) -> None:
        due = self.clock.next_time()
        if due is not None:
            run_bounded(self.clock, due)

    @rule(
        status=statuses,
        mutation=st.one_of(st.just("none"), st.sampled_from(MUTATIONS)),
        copies=st.integers(1, 2),
    )
    def respond(self, status: int, mutation: str, copies: int) -> None:
        _, outcome = self.timeline()
        if mutation not in VALID_MUTATIONS:
            self.foreign.append(mutation)
        data = mutate(response_to(self.request, status, source=CLIENT), mutation)
        for _ in range(copies):
            self.layer.receive(data, SERVER, self.transport)
            if mutation in VALID_MUTATIONS and outcome is None:
                if status < 200:
                    self.provisionals += 1
                    if self.provisional_at is None:
                        self.provisional_at = self.clock.now
                else:
                    outcome = self.external = Outcome("final", self.clock.now)
        run_bounded(self.clock, self.clock.now)  # a zero Timer K is due now

    # The terminal inputs act one time in four: the others still run their course.
    @rule(act=st.integers(0, 3))
    def transport_error_reported(self, act: int) -> None:
        if act:
            return
        _, outcome = self.timeline()
        self.layer.transport_error(self.target, TransportError("ICMP port unreachable"))
        if outcome is None:
            self.external = Outcome("transport_error", self.clock.now)

    @rule(act=st.integers(0, 3))
    def next_send_fails(self, act: int) -> None:
        if not act and self.fail_after is None:
            self.fail_after = self.clock.now
            self.transport.fail_always = True

    @rule(data=st.binary(max_size=120))
    def garbage(self, data: bytes) -> None:
        self.layer.receive(data, SERVER, self.transport)

    @rule()
    def a_request_arrives(self) -> None:
        self.layer.receive(self.request.to_bytes(), SERVER, self.transport)

    # ---- what must hold after every step -----------------------------------------------------

    @invariant()
    def sends_follow_the_schedule(self) -> None:
        sends, outcome = self.timeline()
        got = self.transport.send_times
        if got == sends:
            return
        # The record of the first send that differs.
        index = next((i for i, (a, b) in enumerate(zip(got, sends, strict=False)) if a != b),
                     min(len(got), len(sends)))
        at = got[index] if index < len(got) else sends[index]
        if index == 0:
            rule = "RFC3261-17.1.2.2-SEND-REQUEST"
        elif outcome is not None and outcome.kind == "final" and at >= outcome.time:
            rule = "RFC3261-17.1.2.1-NO-RETRANSMIT-AFTER-FINAL"
        elif self.provisional_at is not None and at > self.provisional_at:
            rule = "RFC3261-17.1.2.2-TIMER-E-PROCEEDING"
        elif index == 1:
            rule = "RFC3261-17.1.2.2-TIMER-E-START"
        else:
            rule = "RFC3261-17.1.2.2-TIMER-E-DOUBLING"
        expect(rule, False, f"sent at {got}, RFC 3261 §17.1.2.2 says {sends}")

    def _foreign_rule(self) -> str:
        return {"no-via": "RFC3261-18.1.2-STRAY-TO-CORE", **_NOT_OURS}.get(
            self.foreign[-1] if self.foreign else "", "RFC3261-18.1.2-PASS-TO-TRANSACTION")

    @invariant()
    def exactly_the_expected_outcome(self) -> None:
        _, outcome = self.timeline()
        got = [(e.kind, e.time) for e in self.owner.outcomes]
        want = [] if outcome is None else [(outcome.kind, outcome.time)]
        if got == want:
            return
        kinds = [k for k, _ in got]
        if len(got) > 1:
            rule = "RFC3261-17.1.2.1-SINGLE-FINAL"
        elif want and want[0][0] == "timeout":
            rule = ("RFC3261-17.1.2.2-TIMEOUT-TRYING" if self.provisional_at is None
                    else "RFC3261-17.1.2.2-TIMEOUT-PROCEEDING")
        elif (want and want[0][0] == "transport_error") or "transport_error" in kinds:
            rule = "RFC3261-17.1.4-TRANSPORT-ERROR"
        elif not want and "final" in kinds:
            rule = self._foreign_rule()  # a response that is not ours was taken
        elif "timeout" in kinds:
            rule = "RFC3261-17.1.2.2-TIMER-F-START"
        else:
            rule = ("RFC3261-17.1.2.2-FINAL-TRYING" if self.provisional_at is None
                    else "RFC3261-17.1.2.2-FINAL-PROCEEDING")
        expect(rule, False, f"outcomes {got}, RFC 3261 §17.1.2.2 says {want}")

    @invariant()
    def every_matched_provisional_reaches_the_owner(self) -> None:
        got = len(self.owner.provisionals)
        rule = ("RFC3261-17.1.2.2-PROVISIONAL-TO-TU" if got < self.provisionals
                else self._foreign_rule())
        expect(rule, got == self.provisionals,
               f"{got} provisionals passed up, {self.provisionals} matched")

    @invariant()
    def state_as_the_rfc_says(self) -> None:
        state, want = self.tx.state, self.expected_state()
        if state == want:
            return
        if {state, want} == {COMPLETED, TERMINATED}:
            rule = "RFC3261-17.1.2.2-TIMER-K"
        elif want == PROCEEDING or state == PROCEEDING:
            rule = ("RFC3261-17.1.2.2-PROCEEDING" if not self.foreign
                    else self._foreign_rule())
        elif want == TRYING:
            rule = self._foreign_rule()
        else:
            rule = ("RFC3261-17.1.2.2-FINAL-TRYING" if self.provisional_at is None
                    else "RFC3261-17.1.2.2-FINAL-PROCEEDING")
        expect(rule, False, f"state {state}, RFC 3261 §17.1.2.2 says {want}")

    @invariant()
    def terminated_means_destroyed(self) -> None:
        live = self.layer.get(self.tx.branch) is self.tx
        expect("RFC3261-17.1.2.2-DESTROY", live == (self.tx.state != TERMINATED),
               f"state {self.tx.state}, in the layer: {live}")
        if self.tx.state == TERMINATED:
            expect("RFC3261-17.1.2.2-TIMER-K-TERMINATED", self.clock.pending() == 0,
                   "a timer outlives the transaction")

    @invariant()
    def always_terminates(self) -> None:
        if self.clock.now >= 64 * self.values.t1 + self.values.t4:
            expect("RFC3261-17.1.2.2-TIMER-F-START", self.tx.state == TERMINATED,
                   f"{self.tx.state} after 64*T1 + T4")


TransactionMachineTest.TestCase.settings = settings(deadline=None, stateful_step_count=50)

_STATE_MACHINE_REQUIREMENTS = (
    "RFC3261-17.1.2.2-TIMER-F-START",
    "RFC3261-17.1.2.2-SEND-REQUEST",
    "RFC3261-17.1.2.2-TIMER-E-START",
    "RFC3261-17.1.2.2-TIMER-E-DOUBLING",
    "RFC3261-17.1.2.2-TIMEOUT-TRYING",
    "RFC3261-17.1.2.2-PROVISIONAL-TO-TU",
    "RFC3261-17.1.2.2-PROCEEDING",
    "RFC3261-17.1.2.2-FINAL-TRYING",
    "RFC3261-17.1.2.2-TIMER-E-PROCEEDING",
    "RFC3261-17.1.2.2-TIMEOUT-PROCEEDING",
    "RFC3261-17.1.2.2-FINAL-PROCEEDING",
    "RFC3261-17.1.2.2-TIMER-K",
    "RFC3261-17.1.2.2-TIMER-K-TERMINATED",
    "RFC3261-17.1.2.2-DESTROY",
    "RFC3261-17.1.2.1-SINGLE-FINAL",
    "RFC3261-17.1.2.1-NO-RETRANSMIT-AFTER-FINAL",
    "RFC3261-17.1.1.2-T1-BACKOFF",
    "RFC3261-17.1.3-MATCH-BRANCH",
    "RFC3261-17.1.3-MATCH-METHOD",
    "RFC3261-17.1.4-TRANSPORT-ERROR",
    "RFC3261-18.1.2-FOREIGN-SENT-BY",
    "RFC3261-18.1.2-PASS-TO-TRANSACTION",
    "RFC3261-18.1.2-STRAY-TO-CORE",
    "RFC3261-8.1.3.3-MULTIPLE-VIAS",
    "RFC3581-3-RECEIVE-SOURCE",
)


@check(*_STATE_MACHINE_REQUIREMENTS)
def transaction_follows_rfc3261_17_1_2() -> None:
    """Any interleaving of responses, timer firings and transport errors: sends at exactly the
    §17.1.2.2 instants, one outcome, the RFC's state, destroyed when terminated, always ends."""
    run_state_machine_as_test(TransactionMachineTest)


@check("RFC3261-17.1.1.2-T1-BACKOFF", "RFC3261-17.1.2.2-TIMER-E-DOUBLING",
       "RFC3261-17.1.2.2-TIMER-F-START", "RFC3261-17.1.2.2-TIMEOUT-TRYING")
@settings(deadline=None)
@given(t1=t1_values, t2=t2_values)
def unanswered_request_follows_the_schedule(t1: float, t2: float) -> None:
    """Over UDP with no answer: sends at 0, T1, T1+MIN(2T1,T2), ... and a timeout at 64*T1."""
    values = TimerValues(t1=t1, t2=t2)
    clock = Scheduler()
    transport = ScriptedTransport(clock, "UDP", CLIENT)
    layer = TransactionLayer(transport, clock, SeededRandom(1), timer_values=values)
    owner = RecordingOwner(clock)
    layer.send_request(make_request(), Target("UDP", SERVER.host, SERVER.port), owner)
    run_bounded(clock, float("inf"))
    # The rule, written out: intervals T1, MIN(2*T1, T2), MIN(4*T1, T2) ... before 64*T1.
    # (2**k * T1 overflows a float long before k stops growing: cap as we go.)
    expected, at, interval = [0.0], 0.0, 0.0
    while True:
        interval = t1 if not interval else min(2 * interval, t2)
        at = at + interval
        if at >= 64 * t1:
            break
        expected.append(at)
    got = transport.send_times
    if got != expected:
        index = next((i for i, (a, b) in enumerate(zip(got, expected, strict=False)) if a != b),
                     None)
        rule = ("RFC3261-17.1.2.2-TIMER-F-START" if index is None  # one a prefix of the other
                else "RFC3261-17.1.1.2-T1-BACKOFF" if index <= 1
                else "RFC3261-17.1.2.2-TIMER-E-DOUBLING")
        expect(rule, False, f"sent at {got}, RFC 3261 §17.1.2.2 says {expected}")
    outcomes = [(e.kind, e.time) for e in owner.events]
    expect("RFC3261-17.1.2.2-TIMEOUT-TRYING", [k for k, _ in outcomes] == ["timeout"],
           f"outcomes {outcomes}, one timeout expected")
    expect("RFC3261-17.1.2.2-TIMER-F-START", [t for _, t in outcomes] == [64 * t1],
           f"outcomes {outcomes}, Timer F fires at 64*T1 = {64 * t1}")
    expect("RFC3261-17.1.2.2-TIMEOUT-TRYING", len(layer) == 0 and clock.pending() == 0,
           f"after the timeout: {len(layer)} live transactions, {clock.pending()} timers")


@check("RFC3261-8.1.1.7-BRANCH-PRESENT", "RFC3261-8.1.1.7-BRANCH-COOKIE",
       "RFC3261-8.1.1.7-BRANCH-UNIQUE", "RFC3581-3-RPORT-INCLUDE", "RFC3581-3-RPORT-NO-VALUE",
       "RFC3261-18.1.1-SENT-BY", "RFC3581-3-RECEIVE-SENT-BY",
       "RFC3261-8.1.1.7-VIA-PRESENT", "RFC3261-8.1.1.7-VIA-SIP-2-0")
@settings(deadline=None)
@given(seed=st.integers(0, 2**32), count=st.integers(1, 40), reliable=st.booleans(),
       port=st.integers(1, 65535))
def every_request_gets_one_fresh_via(seed: int, count: int, reliable: bool, port: int) -> None:
    """Each request leaves with exactly one Via: SIP/2.0, the transport's name and sent-by,
    a z9hG4bK branch with >= 64 random bits, unique, and a bare rport flag."""
    clock = Scheduler()
    name = "TCP" if reliable else "UDP"
    local = HostPort("192.0.2.10", port)
    transport = ScriptedTransport(clock, name, local)
    layer = TransactionLayer(transport, clock, SeededRandom(seed))
    owner = RecordingOwner(clock)
    branches = set()
    for number in range(1, count + 1):
        layer.send_request(make_request(number), Target(name, SERVER.host, SERVER.port), owner)
        sent = parse(transport.sent[-1].data)
        vias = sent.vias
        expect("RFC3261-8.1.1.7-VIA-PRESENT", len(vias) == 1, f"{len(vias)} Vias")
        if not vias:
            continue
        via = vias[0]
        expect("RFC3261-8.1.1.7-VIA-SIP-2-0",
               (sent.headers.get("Via") or "").startswith(f"SIP/2.0/{name} "),
               sent.headers.get("Via"))
        expect("RFC3261-18.1.1-SENT-BY", via.transport == name, via.transport)
        expect("RFC3261-18.1.1-SENT-BY", (via.host, via.port) == (local.host, local.port),
               f"sent-by {via.host}:{via.port}, the transport is {local}")
        branch = via.branch
        expect("RFC3261-8.1.1.7-BRANCH-PRESENT", branch is not None, "no branch")
        if branch is None:
            continue  # (judged above; the others need a branch to look at)
        expect("RFC3261-8.1.1.7-BRANCH-COOKIE", branch.startswith(RFC_BRANCH_COOKIE), branch)
        # >= 64 bits at 5 bits per character
        expect("RFC3261-8.1.1.7-BRANCH-UNIQUE", len(branch) - len(RFC_BRANCH_COOKIE) >= 13,
               branch)
        expect("RFC3581-3-RPORT-INCLUDE", via.has_rport, sent.headers.get("Via"))
        expect("RFC3581-3-RPORT-NO-VALUE", via.params.get("rport") is None,
               sent.headers.get("Via"))
        branches.add(branch)
    expect("RFC3261-8.1.1.7-BRANCH-UNIQUE", len(branches) == count,
           f"{count} requests, {len(branches)} branches")


@check("RFC3261-17.1.4-TRANSPORT-ERROR", "RFC3261-17.1.2.1-SINGLE-FINAL",
       "RFC3261-18.1.1-ANY-SOURCE")
@settings(deadline=None)
@given(
    seed=st.integers(0, 2**16),
    loss=st.floats(0.0, 0.6),
    duplicate=st.floats(0.0, 0.5),
    reorder=st.floats(0.0, 0.5),
    delay=st.tuples(st.floats(0.0, 0.3), st.floats(0.0, 0.3)).map(lambda d: (min(d), max(d))),
    reliable=st.booleans(),
    answers=st.lists(st.sampled_from([100, 180, 200, 403, 503]), min_size=0, max_size=3),
)
def lossy_network_still_one_outcome(
    seed: int,
    loss: float,
    duplicate: float,
    reorder: float,
    delay: tuple[float, float],
    reliable: bool,
    answers: list[int],
) -> None:
    """Through the simulated network with seeded loss, duplication, reordering and delay, to a
    stateless server answering every copy: exactly one outcome, and termination by 64*T1 + T4
    (plus the network's delay)."""
    clock = Scheduler()
    faults = LinkFaults(loss=loss, duplicate=duplicate, reorder=reorder, delay=delay)
    network = Network(clock, seed=seed, faults=faults)
    name = "TCP" if reliable else "UDP"
    client = network.endpoint(CLIENT, name)
    server = network.endpoint(SERVER, name)
    layer = TransactionLayer(client, clock, SeededRandom(seed))
    client.bind(layer)
    server.bind(StatelessResponder(clock, answers))
    owner = RecordingOwner(clock)
    tx = layer.send_request(make_request(), Target(name, SERVER.host, SERVER.port), owner)
    # Timer F, then Timer K, both Table 4 defaults
    run_bounded(clock, 64 * RFC_T1 + RFC_T4 + 1.0)
    outcomes = owner.outcomes
    expect("RFC3261-17.1.2.1-SINGLE-FINAL", len(outcomes) == 1,
           f"{len(outcomes)} outcomes: {[o.kind for o in outcomes]}")
    expect("RFC3261-17.1.2.1-SINGLE-FINAL", tx.state == TERMINATED,
           f"{tx.state} at 64*T1 + T4 + 1 s")
    finals = [a for a in answers if a >= 200]
    for outcome in outcomes[:1]:
        expect("RFC3261-17.1.4-TRANSPORT-ERROR", outcome.kind in ("final", "timeout"),
               f"a {outcome.kind} on a network that never fails a send")
        if outcome.kind == "final":
            expect("RFC3261-17.1.2.1-SINGLE-FINAL", outcome.response.status in finals,
                   f"final {outcome.response.status}, the server sends only {finals}")
        # Over a reliable transport every copy arrives: a final the server sent is taken,
        # whatever the source address of the segment carrying it.
        expect("RFC3261-18.1.1-ANY-SOURCE",
               outcome.kind == "final" or not finals or not reliable,
               f"a {outcome.kind} although the server answered {finals} over {name}")


# ---- §17.1.1.2 timer defaults ------------------------------------------------------------------


@check("RFC3261-17.1.1.2-T1-SMALLER")
@settings(deadline=None)
@given(t1=st.floats(min_value=0.001, max_value=0.5, exclude_max=True, allow_nan=False))
def t1_defaults_to_500_ms_and_smaller_is_never_the_default(t1: float) -> None:
    """TimerValues() and a layer given no timer values use T1=500 ms, T2=4 s, T4=5 s (Timer F
    64*T1, Timer K T4 or 0); a smaller T1 is accepted when asked for, and used as given."""
    defaults = TimerValues()
    assert (defaults.t1, defaults.t2, defaults.t4) == (RFC_T1, RFC_T2, RFC_T4)
    assert defaults.timer_f == 64 * RFC_T1
    assert defaults.timer_k(reliable=False) == RFC_T4 and defaults.timer_k(reliable=True) == 0.0
    clock = Scheduler()
    transport = ScriptedTransport(clock, "UDP", CLIENT)
    assert TransactionLayer(transport, clock, SeededRandom(1)).timer_values == defaults
    smaller = TimerValues(t1=t1)
    assert smaller.t1 == t1 and (smaller.t2, smaller.t4) == (4.0, 5.0)
    layer = TransactionLayer(transport, clock, SeededRandom(1), timer_values=smaller)
    assert layer.timer_values.t1 == t1
    layer.send_request(make_request(), Target("UDP", SERVER.host, SERVER.port),
                       RecordingOwner(clock))
    run_bounded(clock, t1)
    assert transport.send_times == [0.0, t1]  # the first retransmission waits the given T1


# ---- §18.1.1 the size rule and large messages --------------------------------------------------

_TCP_LOCAL = HostPort(CLIENT.host, 5062)
UDP_TARGET_FOR_SIZE = Target("UDP", SERVER.host, SERVER.port)
TCP_TARGET_FOR_SIZE = Target("TCP", SERVER.host, SERVER.port)


def _size_rig(seed: int, *, tcp: bool = True) -> tuple[
    Scheduler, ScriptedTransport, ScriptedTransport, TransactionLayer, RecordingOwner
]:
    """A layer over scripted UDP (sent-by ``CLIENT``) and, if ``tcp``, TCP (``_TCP_LOCAL``)."""
    clock = Scheduler()
    udp = ScriptedTransport(clock, "UDP", CLIENT)
    tcp_transport = ScriptedTransport(clock, "TCP", _TCP_LOCAL)
    transports = {"UDP": udp, "TCP": tcp_transport} if tcp else {"UDP": udp}
    layer = TransactionLayer(transports, clock, SeededRandom(seed))
    return clock, udp, tcp_transport, layer, RecordingOwner(clock)


def _udp_size(padding: int, seed: int = 0) -> int:
    """The size of ``make_request(padding=padding)`` as sent over UDP (top Via included)."""
    _, udp, _, layer, owner = _size_rig(seed, tcp=False)
    layer.send_request(make_request(padding=padding), UDP_TARGET_FOR_SIZE, owner)
    return len(udp.sent[0].data)


# RFC 3261 §18.1.1: "within 200 bytes of the path MTU", 1300 bytes when the MTU is unknown.
RFC_UDP_SIZE_LIMIT = 1300
# The padding that makes the request exactly 1300 bytes over UDP.
_LIMIT_PADDING = 1 + RFC_UDP_SIZE_LIMIT - _udp_size(1)
paddings = st.one_of(
    st.integers(_LIMIT_PADDING - 3, _LIMIT_PADDING + 3),  # either side of 1300 bytes
    st.integers(0, 4000),
)


def _sent(transport: ScriptedTransport, index: int = -1) -> Request:
    message = parse(transport.sent[index].data)
    assert isinstance(message, Request)
    return message


@check("RFC3261-18.1.1-SIZE-CONGESTION-CONTROLLED", "RFC3261-18.1.1-SIZE-VIA-TRANSPORT",
       "RFC3261-20.42-VIA-TRANSPORT")
@settings(deadline=None)
@given(padding=paddings, seed=st.integers(0, 2**32), port=st.integers(1, 65535))
def a_request_over_1300_bytes_goes_over_tcp_with_a_tcp_via(
    padding: int, seed: int, port: int
) -> None:
    """A request to a UDP target that would be larger than 1300 bytes over UDP is sent once over
    TCP to the same host and port, with a top Via naming TCP and the TCP sent-by (same branch,
    the rest of the request unchanged), and completes over TCP; one of at most 1300 bytes
    stays on UDP."""
    size = _udp_size(padding, seed)
    clock, udp, tcp, layer, owner = _size_rig(seed)
    target = Target("UDP", SERVER.host, port)
    request = make_request(padding=padding)
    tx = layer.send_request(request, target, owner)
    cc, via_rule = "RFC3261-18.1.1-SIZE-CONGESTION-CONTROLLED", "RFC3261-18.1.1-SIZE-VIA-TRANSPORT"
    # §20.42: "the transport protocol used to send the message", whichever transport sent it.
    used = "UDP" if tcp.sent == [] else "TCP"
    sent_over = udp if used == "UDP" else tcp
    expect("RFC3261-20.42-VIA-TRANSPORT",
           len(sent_over.sent) == 1 and _sent(sent_over).vias[0].transport == used,
           f"sent over {used} with top Via {_sent(sent_over).headers.get('Via')}")
    if size <= RFC_UDP_SIZE_LIMIT:
        expect(cc, tcp.sent == [] and len(udp.sent) == 1 and len(udp.sent[0].data) == size,
               f"{size} bytes: {len(udp.sent)} UDP and {len(tcp.sent)} TCP sends")
        expect(cc, udp.sent[0].target == target, f"sent to {udp.sent[0].target}")
        expect(via_rule, _sent(udp).vias[0].transport == "UDP", _sent(udp).vias[0])
        return
    expect(cc, udp.sent == [] and len(tcp.sent) == 1,
           f"{size} bytes over UDP: {len(udp.sent)} UDP and {len(tcp.sent)} TCP sends")
    expect(cc, tcp.sent[0].target == Target("TCP", SERVER.host, port),
           f"sent to {tcp.sent[0].target}, not TCP to the same host and port")
    sent = _sent(tcp)
    expect(via_rule, sent.headers.get_all("Via") == [tx.via],
           f"Vias {sent.headers.get_all('Via')}")
    expect(via_rule, (sent.headers.get("Via") or "").startswith(f"SIP/2.0/TCP {_TCP_LOCAL};"),
           sent.headers.get("Via"))
    via = sent.vias[0]
    expect(via_rule,
           via.transport == "TCP" and (via.host, via.port) == (_TCP_LOCAL.host, _TCP_LOCAL.port),
           f"top Via {via}")
    expect(via_rule, via.branch == tx.branch, f"branch {via.branch}, not {tx.branch}")
    expect(cc, sent.with_headers(sent.headers.without("Via")) == request,
           "the request moved to TCP differs beyond its Via")
    expect(cc, tx.state == TRYING and owner.events == [], f"{tx.state}, {owner.events}")
    run_bounded(clock, 10.0)
    # A congestion-controlled transport: no Timer E.
    expect(cc, len(tcp.sent) == 1 and udp.sent == [],
           f"{len(tcp.sent)} TCP and {len(udp.sent)} UDP sends in 10 s")
    response = response_to(sent, 200, source=_TCP_LOCAL)
    layer.receive(response.to_bytes(), HostPort(SERVER.host, port), tcp)
    run_bounded(clock, clock.now)
    expect(cc, [(e.kind, e.time) for e in owner.events] == [("final", 10.0)]
           and tx.state == TERMINATED, f"{owner.events}, {tx.state}: it completes over TCP")


@check("RFC3261-18.1.1-SIZE-UDP-FALLBACK")
@settings(deadline=None)
@given(
    padding=st.integers(_LIMIT_PADDING + 1, 4000),
    t1=t1_values,
    t2=t2_values,
    fail_at=st.one_of(st.none(), st.floats(min_value=0.0, max_value=0.99)),
    answer_after=st.floats(min_value=0.0, max_value=0.99),
)
def a_request_moved_to_tcp_falls_back_to_udp_when_tcp_fails(
    padding: int, t1: float, t2: float, fail_at: float | None, answer_after: float
) -> None:
    """A request moved to TCP for its size whose TCP attempt fails (at once, or reported later
    while Trying) is retried over UDP in the same transaction: no outcome to the owner, same
    branch, the top Via rewritten to UDP and the UDP sent-by, then retransmitted on the UDP
    schedule (T1, MIN(2*T1, T2), ...) until Timer F; a UDP answer completes it."""
    clock = Scheduler()
    udp = ScriptedTransport(clock, "UDP", CLIENT)
    tcp = ScriptedTransport(clock, "TCP", _TCP_LOCAL)
    values = TimerValues(t1=t1, t2=t2)
    layer = TransactionLayer({"UDP": udp, "TCP": tcp}, clock, SeededRandom(11),
                             timer_values=values)
    owner = RecordingOwner(clock)
    timeout_at = 64 * t1  # Timer F, Table 4
    if fail_at is None:
        tcp.fail_next()
        tx = layer.send_request(make_request(padding=padding), UDP_TARGET_FOR_SIZE, owner)
        fell_back_at = 0.0
    else:
        tx = layer.send_request(make_request(padding=padding), UDP_TARGET_FOR_SIZE, owner)
        assert tx.moved_to_tcp and udp.sent == []
        fell_back_at = fail_at * timeout_at
        run_bounded(clock, fell_back_at)
        layer.transport_error(TCP_TARGET_FOR_SIZE, TransportError("TCP reset"))
    assert len(tcp.sent) == 1
    assert tx.state == TRYING and owner.events == [] and layer.get(tx.branch) is tx
    assert tx.via == f"SIP/2.0/UDP {CLIENT};branch={tx.branch};rport"
    sent = _sent(udp, 0)
    assert sent.vias[0].transport == "UDP" and sent.vias[0].branch == tx.branch
    assert (sent.vias[0].host, sent.vias[0].port) == (CLIENT.host, CLIENT.port)
    assert udp.sent[0].target == UDP_TARGET_FOR_SIZE
    answer_at = fell_back_at + answer_after * (timeout_at - fell_back_at)
    run_bounded(clock, answer_at)
    expected, at, interval = [fell_back_at], fell_back_at, 0.0
    while True:
        interval = t1 if not interval else min(2 * interval, t2)
        at = at + interval
        if at > answer_at or at >= timeout_at:
            break
        expected.append(at)
    assert udp.send_times == expected, (udp.send_times, expected)
    assert all(s.data == udp.sent[0].data for s in udp.sent)
    assert tx.state == TRYING and owner.events == []
    layer.receive(response_to(sent, 200, source=CLIENT).to_bytes(), SERVER, udp)
    assert [(e.kind, e.time) for e in owner.events] == [("final", answer_at)]
    assert tx.state == COMPLETED and len(tcp.sent) == 1


def _response_of_size(request: Request, status: int, size: int) -> bytes:
    """A response to ``request`` with a body making it exactly ``size`` bytes."""
    response = response_to(request, status, source=CLIENT, extra=[("Content-Type", "text/plain")])
    body_size = size - len(response.with_body(b"").to_bytes())
    for _ in range(3):  # the Content-Length digits grow with the body
        data = response.with_body(b"y" * body_size).to_bytes()
        body_size -= len(data) - size
    data = response.with_body(b"y" * body_size).to_bytes()
    assert len(data) == size, (len(data), size)
    return data


@check("RFC3261-18.1.1-MAX-DATAGRAM")
@settings(deadline=None, max_examples=30)
@given(
    size=st.one_of(st.just(65535), st.integers(1301, 65535)),
    status=st.sampled_from([100, 180, 200, 404, 503]),
    reliable=st.booleans(),
)
def responses_up_to_the_maximum_datagram_size_are_handled(
    size: int, status: int, reliable: bool
) -> None:
    """A response of any size up to 65,535 bytes (the maximum UDP datagram) is parsed and matched
    like any other: the owner gets it, body intact, and the transaction moves on."""
    clock = Scheduler()
    name = "TCP" if reliable else "UDP"
    transport = ScriptedTransport(clock, name, CLIENT)
    dropped: list[Dropped] = []
    layer = TransactionLayer(transport, clock, SeededRandom(2), observer=dropped.append)
    owner = RecordingOwner(clock)
    tx = layer.send_request(make_request(), Target(name, SERVER.host, SERVER.port), owner)
    data = _response_of_size(_sent(transport), status, size)
    layer.receive(data, SERVER, transport)
    assert dropped == [] and len(owner.events) == 1
    event = owner.events[0]
    assert event.kind == ("provisional" if status < 200 else "final")
    assert event.response.status == status and event.response.to_bytes() == data
    if status < 200:
        assert tx.state == PROCEEDING
    else:
        assert tx.state == COMPLETED


# ---- §17.1.3 / §18.1.2 / §8.1.3.3: responses that are not ours, while the transaction lives ----



@check(*sorted(set(_NOT_OURS.values())))
@settings(deadline=None)
@given(
    foreign=st.lists(st.tuples(st.sampled_from(sorted(_NOT_OURS)),
                               st.sampled_from([100, 180, 200, 403, 503])), min_size=1,
                     max_size=4),
    in_proceeding=st.booleans(),
    reliable=st.booleans(),
)
def responses_that_are_not_ours_never_reach_the_transaction(
    foreign: list[tuple[str, int]], in_proceeding: bool, reliable: bool
) -> None:
    """In Trying (or Proceeding), responses with another branch, another CSeq method, a
    foreign sent-by or several Vias are not matched: the owner hears nothing, the state and
    the retransmissions do not change; the transaction's own final response still completes
    it."""
    clock = Scheduler()
    name = "TCP" if reliable else "UDP"
    transport = ScriptedTransport(clock, name, CLIENT)
    layer = TransactionLayer(transport, clock, SeededRandom(5))
    owner = RecordingOwner(clock)
    tx = layer.send_request(make_request(), Target(name, SERVER.host, SERVER.port), owner)
    sent = _sent(transport)
    expected_state = TRYING
    if in_proceeding:
        layer.receive(response_to(sent, 180, source=CLIENT).to_bytes(), SERVER, transport)
        expected_state = PROCEEDING
    heard = len(owner.events)
    run_bounded(clock, 0.1)
    for kind, status in foreign:
        layer.receive(mutate(response_to(sent, status, source=CLIENT), kind), SERVER, transport)
        rule = _NOT_OURS[kind]
        expect(rule, len(owner.events) == heard,
               f"a {status} with {kind} reached the owner: {owner.events[heard:]}")
        expect(rule, tx.state == expected_state,
               f"a {status} with {kind} moved the transaction to {tx.state}")
    if not reliable:
        run_bounded(clock, RFC_T1)  # Timer E still runs: the request goes again at T1
        expect(_NOT_OURS[foreign[-1][0]], len(transport.sent) == 2,
               f"{len(transport.sent)} sends by T1 after responses that are not ours")
    layer.receive(response_to(sent, 200, source=CLIENT).to_bytes(), SERVER, transport)
    assert [e.kind for e in owner.events[heard:]] == ["final"]
    assert tx.state in (COMPLETED, TERMINATED)


@check("RFC3261-17.1.2.2-TIMER-E-PROCEEDING", "RFC3261-17.1.2.2-PROCEEDING")
@settings(deadline=None)
@given(t1=t1_values, t2=t2_values, provisional_after=st.integers(0, 6))
def proceeding_retransmits_every_t2(t1: float, t2: float, provisional_after: int) -> None:
    """Over UDP, a 1xx received after the k-th send moves Trying to Proceeding; from the next
    Timer E firing on, the request goes again every T2 (not doubling), until Timer F."""
    values = TimerValues(t1=t1, t2=t2)
    clock = Scheduler()
    transport = ScriptedTransport(clock, "UDP", CLIENT)
    layer = TransactionLayer(transport, clock, SeededRandom(4), timer_values=values)
    owner = RecordingOwner(clock)
    tx = layer.send_request(make_request(), Target("UDP", SERVER.host, SERVER.port), owner)
    # Trying's schedule (RFC 3261 §17.1.2.2): T1, MIN(2*T1, T2), MIN(4*T1, T2) ...
    sends, at, interval = [0.0], 0.0, t1
    while len(sends) <= provisional_after:
        at += interval
        if at >= 64 * t1:
            break
        sends.append(at)
        interval = min(2 * interval, t2)
    heard_at = sends[-1]
    run_bounded(clock, heard_at)
    if tx.state != TRYING:
        return  # Timer F came first: nothing to check here
    layer.receive(response_to(_sent(transport), 180, source=CLIENT).to_bytes(), SERVER, transport)
    expect("RFC3261-17.1.2.2-PROCEEDING", tx.state == PROCEEDING, tx.state)
    # The Timer E already running fires as set; each firing in Proceeding resets it to T2.
    at = heard_at + interval
    horizon = 64 * t1 - 1e-6  # Timer F: sends due at that very instant race it
    while at < horizon:
        sends.append(at)
        at += t2
    run_bounded(clock, horizon)
    got = [t for t in transport.send_times if t < horizon]
    expect("RFC3261-17.1.2.2-TIMER-E-PROCEEDING",
           len(got) == len(sends) and all(abs(a - b) < 1e-6 for a, b in zip(got, sends,
                                                                             strict=False)),
           f"sent at {got}, §17.1.2.2 says {sends}")


# ---- §18.1.1 / §18.1.2: a sent-by without a port ------------------------------------------------

# RFC 3261 §18.1.1, written from the RFC: "It is 5060 for UDP, TCP and SCTP, 5061 for TLS."
RFC_DEFAULT_SENT_BY_PORT = {"UDP": 5060, "TCP": 5060, "SCTP": 5060, "TLS": 5061}


@check("RFC3261-18.1.1-SENT-BY-DEFAULT-PORT", "RFC3261-18.1.2-FOREIGN-SENT-BY")
@settings(deadline=None)
@given(name=st.sampled_from(sorted(RFC_DEFAULT_SENT_BY_PORT)),
       port=st.sampled_from([5060, 5061, 5062, 15060]), status=st.sampled_from([180, 200, 403]))
def a_port_less_sent_by_means_the_transports_default_port(name: str, port: int,
                                                          status: int) -> None:
    """A response whose top Via is ours with the port left out is ours (passed to the
    transaction) exactly when our sent-by port is the default port of the Via's transport
    (5060 for UDP, TCP and SCTP, 5061 for TLS); otherwise it is silently discarded."""
    clock = Scheduler()
    local = HostPort(CLIENT.host, port)
    transport = ScriptedTransport(clock, name, local)
    dropped: list[Dropped] = []
    layer = TransactionLayer(transport, clock, SeededRandom(8), observer=dropped.append)
    owner = RecordingOwner(clock)
    tx = layer.send_request(make_request(), Target(name, SERVER.host, SERVER.port), owner)
    sent = _sent(transport)
    response = response_to(sent, status)
    via = response.vias[0]
    assert via.port == port  # the client wrote its port (RFC3261-18.1.1-SENT-BY)
    portless = response.with_headers(
        response.headers.with_replaced("Via", str(dataclasses.replace(via, port=None))))
    assert portless.vias[0].port is None
    layer.receive(portless.to_bytes(), SERVER, transport)
    ours = port == RFC_DEFAULT_SENT_BY_PORT[name]
    heard = [e.kind for e in owner.events]
    rule = ("RFC3261-18.1.1-SENT-BY-DEFAULT-PORT" if port in (5060, 5061)
            else "RFC3261-18.1.2-FOREIGN-SENT-BY")
    expect(rule, heard == (["provisional" if status < 200 else "final"] if ours else []),
           f"SIP/2.0/{name} without a port, our sent-by port {port}: the owner heard {heard}")
    expect(rule, tx.state == ((PROCEEDING if status < 200 else COMPLETED) if ours else TRYING),
           f"SIP/2.0/{name} without a port, our sent-by port {port}: state {tx.state}")
    expect(rule, len(dropped) == (0 if ours else 1), f"dropped {dropped}")


# ---- §17.1.4: whom a transport error reported later concerns ------------------------------------

_HOSTS = ("192.0.2.1", "192.0.2.2")
_PORTS = (5060, 5062)
error_targets = st.builds(Target, st.sampled_from(["UDP", "TCP"]), st.sampled_from(_HOSTS),
                          st.sampled_from(_PORTS))


@check("RFC3261-17.1.4-TRANSPORT-ERROR")
@settings(deadline=None)
@given(targets=st.lists(error_targets, min_size=1, max_size=6),
       reported=st.lists(error_targets, min_size=1, max_size=3))
def a_transport_error_fails_exactly_the_transactions_sending_there(
    targets: list[Target], reported: list[Target]
) -> None:
    """Transactions to several destinations (transport, host, port); each transport error the
    transport reports for a destination fails the live transactions sending to that very
    destination -- once, straight to Terminated -- and no other: another port, another host
    or another transport to the same host and port is another destination."""
    clock = Scheduler()
    udp = ScriptedTransport(clock, "UDP", CLIENT)
    tcp = ScriptedTransport(clock, "TCP", _TCP_LOCAL)
    layer = TransactionLayer({"UDP": udp, "TCP": tcp}, clock, SeededRandom(9))
    owner = RecordingOwner(clock)
    txs = [layer.send_request(make_request(i + 1), t, owner) for i, t in enumerate(targets)]
    run_bounded(clock, 0.1)
    failed: set[int] = set()
    for where in reported:
        layer.transport_error(where, TransportError("ICMP port unreachable"))
        failed |= {i for i, t in enumerate(targets) if t == where}
        for i, tx in enumerate(txs):
            told = [e.kind for e in owner.events if e.tx is tx]
            want = ["transport_error"] if i in failed else []
            expect("RFC3261-17.1.4-TRANSPORT-ERROR", told == want,
                   f"after errors for {reported[:reported.index(where) + 1]}: the "
                   f"transaction to {targets[i]} told {told}, RFC 3261 §17.1.4 says {want}")
            expect("RFC3261-17.1.4-TRANSPORT-ERROR",
                   tx.state == (TERMINATED if i in failed else TRYING),
                   f"the transaction to {targets[i]} is {tx.state}")


@check("RFC3261-17.1.4-TRANSPORT-ERROR", "RFC3261-18.1.1-SIZE-UDP-FALLBACK")
@settings(deadline=None)
@given(padding=st.integers(_LIMIT_PADDING + 1, 3000), at_once=st.booleans(),
       late_tcp_error=st.booleans(), udp_error_after=st.floats(0.0, 10.0))
def after_the_udp_fall_back_a_udp_error_fails_the_transaction(
    padding: int, at_once: bool, late_tcp_error: bool, udp_error_after: float
) -> None:
    """A request moved to TCP for its size whose TCP attempt fails is retried over UDP once
    (§18.1.1); from then on it is a UDP transaction: a TCP error reported late for the
    abandoned connection does not concern it, and a transport error for its UDP destination
    informs the TU and terminates it (§17.1.4) -- no second fall-back."""
    clock, udp, tcp, layer, owner = _size_rig(13)
    if at_once:
        tcp.fail_next()
    tx = layer.send_request(make_request(padding=padding), UDP_TARGET_FOR_SIZE, owner)
    if not at_once:
        run_bounded(clock, 0.05)
        layer.transport_error(TCP_TARGET_FOR_SIZE, TransportError("TCP reset"))
    assert len(tcp.sent) == 1 and len(udp.sent) == 1, (tcp.sent, udp.sent)
    assert tx.state == TRYING and owner.events == []
    if late_tcp_error:
        layer.transport_error(TCP_TARGET_FOR_SIZE, TransportError("TCP reset, again"))
        expect("RFC3261-17.1.4-TRANSPORT-ERROR", owner.events == [] and tx.state == TRYING,
               f"a TCP error after the fall-back to UDP: {owner.events}, {tx.state}")
    run_bounded(clock, clock.now + udp_error_after)
    if tx.state != TRYING:
        return  # Timer F came first
    sends = len(udp.sent)
    layer.transport_error(UDP_TARGET_FOR_SIZE, TransportError("ICMP port unreachable"))
    rule = ("RFC3261-18.1.1-SIZE-UDP-FALLBACK" if len(udp.sent) > sends
            else "RFC3261-17.1.4-TRANSPORT-ERROR")
    expect(rule, [e.kind for e in owner.events] == ["transport_error"] and tx.state == TERMINATED,
           f"a UDP error after the fall-back: {owner.events}, {tx.state}, "
           f"{len(udp.sent) - sends} more UDP sends")


# ---- the pure table (sipfsm.core.transaction.step, what an auditor replays) after a fall-back ----


@check("RFC3261-17.1.2.2-TIMER-K", "RFC3261-18.1.1-SIZE-UDP-FALLBACK")
@settings(deadline=None)
@given(t1=t1_values, t2=t2_values, t4=t4_values, retransmissions=st.integers(0, 3),
       provisional=st.booleans())
def the_pure_step_after_the_udp_fall_back_runs_udp_timers(
    t1: float, t2: float, t4: float, retransmissions: int, provisional: bool
) -> None:
    """The table's pure ``step`` (no driver), from a request moved to TCP for its size: a TCP
    failure retries it over UDP (Timer E at T1), and from then on it is an unreliable-transport
    transaction: Timer E doubles to T2 (T2 in Proceeding), and Completed waits Timer K = T4."""
    values = TimerValues(t1=t1, t2=t2, t4=t4)
    clock = Scheduler()
    transport = ScriptedTransport(clock, "UDP", CLIENT)
    layer = TransactionLayer(transport, clock, SeededRandom(3), timer_values=values)
    layer.send_request(make_request(), Target("UDP", SERVER.host, SERVER.port),
                       RecordingOwner(clock))
    sent = _sent(transport)
    state = TransactionState(TRYING, reliable=True, interval=t1, moved_to_tcp=True,
                             udp_fallback=True, timer_values=values)
    state, out = step(state, TransportFailed(TransportError("TCP reset")))
    fallback = "RFC3261-18.1.1-SIZE-UDP-FALLBACK"
    expect(fallback, state.name == TRYING and UseUdp() in out and StartTimer("E", t1) in out,
           f"after the TCP failure: {state.name}, {out}")
    interval = t1
    for _ in range(retransmissions):
        state, out = step(state, TimerE())
        interval = t2 if state.name == PROCEEDING else min(2 * interval, t2)
        expect("RFC3261-17.1.2.2-TIMER-E-DOUBLING", StartTimer("E", interval) in out,
               f"Timer E after the fall-back: {out}, RFC 3261 §17.1.2.2 says {interval}")
    if provisional:
        state, out = step(state, Provisional(response_to(sent, 180)))
    state, out = step(state, Final(response_to(sent, 200)))
    timers = [o for o in out if isinstance(o, StartTimer)]
    expect("RFC3261-17.1.2.2-TIMER-K", state.name == COMPLETED and timers == [StartTimer("K", t4)],
           f"Completed over UDP after the fall-back starts {timers}; RFC 3261 §17.1.2.2: "
           f"Timer K = T4 = {t4} for an unreliable transport")


# ---- §17.1.2.2: a Terminated transaction is destroyed before anyone hears of it -----------------


class _InspectingOwner(RecordingOwner):
    """Notes, at each outcome, what is left of the transaction: its state, whether the layer
    still holds it, how many timers are pending."""

    def __init__(self, clock: Scheduler, layer: TransactionLayer) -> None:
        super().__init__(clock)
        self.layer = layer
        self.seen: list[tuple[str, str, bool, int]] = []

    def _note(self, kind: str, tx: NonInviteClientTransaction) -> None:
        clock = self.clock
        assert isinstance(clock, Scheduler)
        self.seen.append((kind, tx.state, self.layer.get(tx.branch) is tx, clock.pending()))

    def on_timeout(self, tx: NonInviteClientTransaction) -> None:
        self._note("timeout", tx)
        super().on_timeout(tx)

    def on_transport_error(self, tx: NonInviteClientTransaction,
                           error: Exception) -> None:
        self._note("transport_error", tx)
        super().on_transport_error(tx, error)


@check("RFC3261-17.1.2.2-DESTROY", "RFC3261-17.1.2.2-TIMER-K-TERMINATED")
@settings(deadline=None)
@given(reliable=st.booleans(), ending=st.sampled_from(["timeout", "send-fails", "reported"]),
       provisional=st.booleans(), t1=t1_values)
def a_terminated_transaction_is_destroyed_before_the_tu_hears(
    reliable: bool, ending: str, provisional: bool, t1: float
) -> None:
    """When Timer F fires or the transport fails, the transaction enters Terminated, where it
    "MUST be destroyed immediately": by the time the TU is told, the layer no longer holds it
    and none of its timers is pending."""
    clock = Scheduler()
    name = "TCP" if reliable else "UDP"
    transport = ScriptedTransport(clock, name, CLIENT)
    layer = TransactionLayer(transport, clock, SeededRandom(6),
                             timer_values=TimerValues(t1=t1))
    owner = _InspectingOwner(clock, layer)
    target = Target(name, SERVER.host, SERVER.port)
    if ending == "send-fails":
        transport.fail_next()
    tx = layer.send_request(make_request(), target, owner)
    if provisional and ending != "send-fails":
        layer.receive(response_to(_sent(transport), 180, source=CLIENT).to_bytes(), SERVER,
                      transport)
    if ending == "reported":
        run_bounded(clock, t1 / 2)
        layer.transport_error(target, TransportError("ICMP port unreachable"))
    run_bounded(clock, 64 * t1 + 1.0)
    want = "timeout" if ending == "timeout" else "transport_error"
    expect("RFC3261-17.1.2.2-DESTROY", [s[:2] for s in owner.seen] == [(want, TERMINATED)],
           f"the TU heard {owner.seen}")
    for kind, _, held, pending in owner.seen:
        expect("RFC3261-17.1.2.2-DESTROY", not held,
               f"told of the {kind} while the layer still holds the Terminated transaction")
        expect("RFC3261-17.1.2.2-TIMER-K-TERMINATED", pending == 0,
               f"told of the {kind} with {pending} of its timers still pending")
    assert tx.state == TERMINATED and len(layer) == 0


# ---- §18.1.2: our sent-by, written another way ---------------------------------------------------


def _respelled(host: str, flips: list[bool]) -> str:
    """``host`` as another element could write it and still mean it: a name in another case
    (host names are case-insensitive, RFC 3261 §7.3.1 / §19.1.4), an IPv6 literal expanded
    or in capitals."""
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return "".join(c.swapcase() if flip else c
                       for c, flip in zip(host, flips + [True] * len(host), strict=False))
    if address.version == 6:
        return address.exploded.upper() if flips[:1] == [True] else address.exploded
    return host


@check("RFC3261-18.1.2-FOREIGN-SENT-BY", "RFC3261-18.1.2-PASS-TO-TRANSACTION")
@settings(deadline=None)
@given(host=st.sampled_from(["ua1.Example.COM", "client.example.org", "2001:db8::a",
                             "2001:DB8:0:0::10"]),
       flips=st.lists(st.booleans(), min_size=1, max_size=20), reliable=st.booleans(),
       status=st.sampled_from([180, 200, 401]))
def our_sent_by_written_another_way_is_still_ours(host: str, flips: list[bool],
                                                  reliable: bool, status: int) -> None:
    """A response whose top-Via sent-by is ours written another way -- the host name in
    another case, the IPv6 address in another form -- corresponds to the value we insert: it
    is passed to the transaction, not discarded."""
    clock = Scheduler()
    name = "TCP" if reliable else "UDP"
    local = HostPort(host, 5060)
    transport = ScriptedTransport(clock, name, local)
    dropped: list[Dropped] = []
    layer = TransactionLayer(transport, clock, SeededRandom(12), observer=dropped.append)
    owner = RecordingOwner(clock)
    tx = layer.send_request(make_request(), Target(name, SERVER.host, SERVER.port), owner)
    response = response_to(_sent(transport), status)
    via = response.vias[0]
    respelled = response.with_headers(response.headers.with_replaced(
        "Via", str(dataclasses.replace(via, host=_respelled(via.host, flips)))))
    layer.receive(respelled.to_bytes(), SERVER, transport)
    heard = [e.kind for e in owner.events]
    expect("RFC3261-18.1.2-FOREIGN-SENT-BY", dropped == [],
           f"sent-by {respelled.vias[0].sent_by} (ours: {local}) was discarded: {dropped}")
    expect("RFC3261-18.1.2-PASS-TO-TRANSACTION",
           heard == ["provisional" if status < 200 else "final"],
           f"our sent-by written as {respelled.vias[0].sent_by}: the owner heard {heard}")
    assert tx.state == (PROCEEDING if status < 200 else COMPLETED)
