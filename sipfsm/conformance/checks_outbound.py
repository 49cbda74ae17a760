"""Conformance checks for RFC 5626 outbound flows on the client (spec/outbound.toml): keep-alive
timing (§4.4.1, §4.4.2), failure detection, recovery and its backoff (§4.5), distinct reg-ids
(§4.2), the STUN codec (RFC 5389 §6, §7.2.1, §15.2).

The flow machine (:class:`sipfsm.outbound.FlowSet`) is driven with time passed in and scripted
randomness; the expected numbers are the RFC's, written here, never read from the code.
"""

from __future__ import annotations

import ipaddress
import struct

from hypothesis import given
from hypothesis import strategies as st

from sipfsm.conformance.aio_support import ScriptedRandom
from sipfsm.conformance.registry import check, expect
from sipfsm.outbound import FlowSet, FlowState, Register, SendKeepAlive
from sipfsm.outbound.flow import FlowSettings, FlowStateChanged
from sipfsm.outbound.stun import binding_request, binding_success, decode_stun
from sipfsm.ports import HostPort, Target

fractions = st.floats(min_value=0.0, max_value=1.0, allow_nan=False)
stream_transports = st.sampled_from(["TCP", "TLS"])


def _one_flow(transport: str, script: list[float], **settings: float) -> FlowSet:
    flows = FlowSet([Target(transport, "192.0.2.1", 5060)], ScriptedRandom(script),
                    FlowSettings(**settings))  # type: ignore[arg-type]
    return flows


def _keepalive_times(flows: FlowSet, start: float, count: int,
                     flow_timer: float | None = None) -> list[float]:
    """Register flow 1 at ``start``, answer every keep-alive at once, return when each went."""
    now = start
    flows.start(now)
    flows.registered(1, now, flow_timer)
    sent: list[float] = []
    for _ in range(100 * count):  # bounded: a flow set that never sends fails, never spins
        if len(sent) >= count:
            break
        due = flows.next_deadline()
        assert due is not None
        now = due
        for output in flows.tick(now):
            if isinstance(output, SendKeepAlive):
                sent.append(now)
                if output.kind.value == "crlf":
                    flows.pong(1, now)
                else:
                    flows.stun_response(1, now, output.transaction_id, ("198.51.100.7", 40000))
    return sent


# -- §4.4: how often -------------------------------------------------------------------------------


@check("RFC5626-4.4.1-KEEPALIVE-INTERVAL")
@given(stream_transports, st.lists(fractions, min_size=4, max_size=4))
def crlf_keepalives_every_95_to_120_seconds(transport: str, script: list[float]) -> None:
    """Without a Flow-Timer, CRLF keep-alives on a stream go 95 to 120 s apart, randomly."""
    flows = _one_flow(transport, list(script))
    times = _keepalive_times(flows, 1000.0, 4)
    gaps = [b - a for a, b in zip([1000.0, *times], times, strict=False)]
    for gap, fraction in zip(gaps, script, strict=True):
        assert 95.0 - 1e-9 <= gap <= 120.0 + 1e-9
        assert abs(gap - (95.0 + 25.0 * fraction)) < 1e-6  # the random draw decides


@check("RFC5626-4.4.2-KEEPALIVE-INTERVAL")
@given(st.lists(fractions, min_size=3, max_size=3))
def stun_keepalives_every_24_to_29_seconds(script: list[float]) -> None:
    """Without a Flow-Timer, STUN keep-alives on UDP go 24 to 29 s apart, randomly."""
    flows = _one_flow("UDP", list(script))
    times = _keepalive_times(flows, 0.0, 3)
    gaps = [b - a for a, b in zip([0.0, *times], times, strict=False)]
    assert all(24.0 - 1e-9 <= gap <= 29.0 + 1e-9 for gap in gaps)


@check("RFC5626-4.4-FLOW-TIMER")
@given(st.sampled_from(["UDP", "TCP", "TLS"]), st.integers(5, 3600),
       st.lists(fractions, min_size=3, max_size=3), st.none() | st.integers(1, 7200))
def flow_timer_bounds_the_keepalive_period(transport: str, flow_timer: int,
                                           script: list[float], keepalive: int | None) -> None:
    """With a Flow-Timer of F seconds, keep-alives go at least every F seconds, at a random
    80-100 % of F -- also when a keep-alive period is configured locally (the registrar's
    Flow-Timer is what the flow must honour)."""
    settings = {} if keepalive is None else {"keepalive": float(keepalive)}
    flows = _one_flow(transport, [f for s in script for f in (s, 0.5)], **settings)
    times = _keepalive_times(flows, 50.0, 3, flow_timer=float(flow_timer))
    gaps = [b - a for a, b in zip([50.0, *times], times, strict=False)]
    assert all(0.8 * flow_timer - 1e-6 <= gap <= flow_timer + 1e-6 for gap in gaps)


# -- §4.4: failure detection ---------------------------------------------------------------------


@check("RFC5626-4.4.1-PONG-TIMEOUT")
@given(stream_transports, st.floats(min_value=0.0, max_value=20.0, allow_nan=False))
def no_pong_within_10_seconds_fails_the_flow(transport: str, answer_after: float) -> None:
    """A ping not answered by a pong within 10 s fails the flow (a new registration follows at
    once); a pong within 10 s keeps it."""
    flows = _one_flow(transport, [])
    flows.start(0.0)
    flows.registered(1, 0.0)
    due = flows.next_deadline()
    assert due is not None
    (ping,) = [o for o in flows.tick(due) if isinstance(o, SendKeepAlive)]
    assert ping.kind.value == "crlf"
    outputs = []
    if answer_after < 10.0:
        outputs += flows.pong(1, due + answer_after)
        assert flows.state(1) is FlowState.UP
        outputs += flows.tick(due + 10.0)
        assert not any(isinstance(o, Register) for o in outputs)
    else:
        outputs += flows.tick(due + 10.0)
        assert flows.state(1) is FlowState.REGISTERING
        (register,) = [o for o in outputs if isinstance(o, Register)]
        assert register.reg_id == 1 and register.recovery


@check("RFC5626-4.4.2-MAPPED-ADDRESS-CHANGE")
@given(st.ip_addresses(v=4).map(str), st.integers(1, 65535), st.ip_addresses(v=4).map(str),
       st.integers(1, 65535))
def changed_mapped_address_fails_the_flow(host: str, port: int, host2: str, port2: int) -> None:
    """A STUN keep-alive response whose XOR-MAPPED-ADDRESS differs from the last one fails the
    flow; the same address keeps it up."""
    flows = _one_flow("UDP", [])
    flows.start(0.0)
    flows.registered(1, 0.0)
    now = 0.0
    answers = [(host, port), (host2, port2)]
    outputs: list[object] = []
    for mapped in answers:
        due = flows.next_deadline()
        assert due is not None
        now = due
        (probe,) = [o for o in flows.tick(now) if isinstance(o, SendKeepAlive)]
        outputs = list(flows.stun_response(1, now + 0.1, probe.transaction_id, mapped))
    if (host, port) == (host2, port2):
        assert flows.state(1) is FlowState.UP
    else:
        assert flows.state(1) is FlowState.REGISTERING
        assert any(isinstance(o, Register) and o.recovery for o in outputs)


@check("RFC5626-4.4.2-STUN-RETRANSMIT")
def stun_keepalive_retransmits_as_rfc5389() -> None:
    """An unanswered STUN Binding request is sent again 0.5, 1.5, 3.5, 7.5, 15.5 and 31.5 s
    after the first (RTO 500 ms doubling, Rc = 7), with the same transaction id; the flow fails
    at 39.5 s (Rm = 16 RTOs after the last)."""
    flows = _one_flow("UDP", [])
    flows.start(0.0)
    flows.registered(1, 0.0)
    first = flows.next_deadline()
    assert first is not None
    sends: list[tuple[float, bytes]] = []
    now = first
    failed_at: float | None = None
    for _ in range(1000):  # bounded: a flow that never fails ends the loop, and the check
        if failed_at is not None:
            break
        for output in flows.tick(now):
            if isinstance(output, SendKeepAlive):
                sends.append((now - first, output.transaction_id))
            if isinstance(output, FlowStateChanged) and output.new is FlowState.REGISTERING:
                failed_at = now - first
        due = flows.next_deadline()
        if failed_at is None:
            assert due is not None
            now = due
    assert [round(t, 6) for t, _ in sends] == [0.0, 0.5, 1.5, 3.5, 7.5, 15.5, 31.5]
    assert len({tid for _, tid in sends}) == 1 and len(sends[0][1]) == 12
    assert failed_at is not None and abs(failed_at - 39.5) < 1e-9, failed_at


@check("RFC5626-4.4-FLOW-CLOSED")
@given(stream_transports, st.sampled_from(["up", "probing"]))
def a_closed_connection_fails_the_flow(transport: str, when: str) -> None:
    """The connection of a flow going away fails the flow, and a new one is formed at once."""
    flows = _one_flow(transport, [])
    flows.start(0.0)
    flows.registered(1, 0.0)
    now = 1.0
    if when == "probing":
        due = flows.next_deadline()
        assert due is not None
        now = due
        flows.tick(now)
        assert flows.state(1) is FlowState.PROBING
    outputs = flows.flow_lost(1, now, "connection reset")
    assert any(isinstance(o, Register) and o.reg_id == 1 and o.recovery for o in outputs)


# -- §4.5: recovery ----------------------------------------------------------------------------


class _BackoffScript:
    """Random for the recovery check: keep-alive periods at their minimum, backoff draws from
    the script (recorded with their bounds)."""

    def __init__(self, script: list[float]) -> None:
        self.script = list(script)
        self.backoffs: list[tuple[float, float]] = []

    def token(self, nbits: int) -> str:
        return "a" * max(1, nbits // 5 + 1)

    def uniform(self, low: float, high: float) -> float:
        if (low, high) == (95.0, 120.0):
            return low
        self.backoffs.append((low, high))
        return low + (high - low) * self.script.pop(0)


@check("RFC5626-4.5-FLOW-RECOVERY-BACKOFF", "RFC5626-4.5-SAME-REG-ID")
@given(st.integers(1, 3), st.integers(1, 12), st.lists(fractions, min_size=12, max_size=12),
       st.booleans())
def failed_flow_formation_backs_off(flow_count: int, failures: int, script: list[float],
                                    others_up: bool) -> None:
    """Each failure to form a flow waits a random 50-100 % of min(1800, base * 2**n) before the
    next attempt, n the consecutive failures so far, base 30 s when no flow is up and 90 s when
    another flow is; every attempt re-registers with the failed flow's own reg-id."""
    targets = [Target("TCP", f"192.0.2.{i + 1}", 5060) for i in range(flow_count)]
    random = _BackoffScript(script)
    flows = FlowSet(targets, random)
    now = 0.0
    flows.start(now)
    up = others_up and flow_count > 1
    if up:
        for reg_id in flows.reg_ids[1:]:
            flows.registered(reg_id, now)
    for n in range(1, failures + 1):
        flows.register_failed(1, now, "503")
        base = 90.0 if up else 30.0
        upper = min(1800.0, base * 2**n)
        expect("RFC5626-4.5-FLOW-RECOVERY-BACKOFF",
               random.backoffs[-1:] == [(upper / 2, upper)],
               f"failure {n}: wait drawn from {random.backoffs[-1:]}, RFC 5626 §4.5: "
               f"{upper / 2} .. {upper}")
        now += upper / 2 + (upper / 2) * script[n - 1]
        registers = []
        for output in flows.tick(now):
            if isinstance(output, SendKeepAlive):
                flows.pong(output.reg_id, now)  # the other flows stay up
            elif isinstance(output, Register):
                registers.append(output)
        expect("RFC5626-4.5-FLOW-RECOVERY-BACKOFF", registers,
               f"no new attempt {now:.1f} s after failure {n}")
        expect("RFC5626-4.5-SAME-REG-ID",
               [(r.reg_id, r.target) for r in registers][:1] == [(1, targets[0])],
               f"re-registered {[(r.reg_id, r.target) for r in registers]}, the failed flow "
               f"is reg-id 1 to {targets[0]}")
    flows.registered(1, now)
    expect("RFC5626-4.5-FLOW-RECOVERY-BACKOFF", flows.info()[0].failures == 0,
           "a registered flow keeps its failure count")


@check("RFC5626-4.2-DISTINCT-REG-ID")
@given(st.integers(1, 8))
def each_flow_has_its_own_reg_id(count: int) -> None:
    """Several edge proxies: one flow each, reg-ids positive and all different."""
    targets = [Target("TLS", f"edge{i}.example.com", 5061) for i in range(count)]
    flows = FlowSet(targets, ScriptedRandom())
    registers = [o for o in flows.start(0.0) if isinstance(o, Register)]
    reg_ids = [r.reg_id for r in registers]
    assert len(set(reg_ids)) == count and all(r > 0 for r in reg_ids)
    assert [r.target for r in registers] == targets


# -- the STUN codec ----------------------------------------------------------------------------


@check("RFC5389-15.2-XOR-MAPPED-ADDRESS")
@given(st.binary(min_size=12, max_size=12), st.ip_addresses().map(str), st.integers(1, 65535))
def xor_mapped_address_as_rfc5389(tid: bytes, host: str, port: int) -> None:
    """XOR-MAPPED-ADDRESS: port XOR 0x2112, IPv4 address XOR the magic cookie, IPv6 address XOR
    the cookie followed by the transaction id; a Binding request is type 0x0001 with the cookie
    0x2112A442 (RFC 5389 §6, §15.2)."""
    assert binding_request(tid)[:8] == bytes.fromhex("000100002112a442")
    data = binding_success(tid, host, port)
    assert data[:2] == bytes.fromhex("0101")
    kind, length = struct.unpack("!HH", data[20:24])
    assert kind == 0x0020
    value = data[24:24 + length]
    assert struct.unpack("!H", value[2:4])[0] == port ^ 0x2112
    address = ipaddress.ip_address(host)
    key = bytes.fromhex("2112a442") + (tid if address.version == 6 else b"")
    assert bytes(a ^ b for a, b in zip(value[4:], key, strict=True)) == address.packed
    assert decode_stun(data).mapped_address == (str(address), port)


# -- the sharper cases: a new flow, a stray STUN response, a flow being probed, the ping bytes ----


def _probe(flows: FlowSet) -> tuple[float, SendKeepAlive]:
    """Fire flow 1's next keep-alive; (when, the keep-alive)."""
    due = flows.next_deadline()
    assert due is not None
    (probe,) = [o for o in flows.tick(due) if isinstance(o, SendKeepAlive)]
    return due, probe


@check("RFC5626-4.4.2-MAPPED-ADDRESS-CHANGE")
@given(st.ip_addresses(v=4).map(str), st.integers(1, 65535), st.ip_addresses(v=4).map(str),
       st.integers(1, 65535), st.sampled_from(["mapping", "no-response"]))
def a_new_flow_starts_with_no_mapped_address(host: str, port: int, host2: str, port2: int,
                                             failure: str) -> None:
    """The XOR-MAPPED-ADDRESS is compared within one flow: after a flow fails (a changed
    mapping, or no STUN response) and a new flow is registered, the new flow's first response
    sets its mapping, whatever the old flow's was, and keeps it up; a change on the new flow
    fails it again."""
    flows = _one_flow("UDP", [])
    flows.start(0.0)
    flows.registered(1, 0.0)
    now, probe = _probe(flows)
    flows.stun_response(1, now, probe.transaction_id, ("198.51.100.1", 1000))
    now, probe = _probe(flows)
    if failure == "mapping":
        flows.stun_response(1, now, probe.transaction_id, ("198.51.100.2", 2000))
    else:
        while flows.state(1) is FlowState.PROBING:
            due = flows.next_deadline()
            assert due is not None
            now = due
            flows.tick(now)
    assert flows.state(1) is FlowState.REGISTERING
    flows.registered(1, now + 1.0)  # the new flow
    now, probe = _probe(flows)
    flows.stun_response(1, now, probe.transaction_id, (host, port))
    expect("RFC5626-4.4.2-MAPPED-ADDRESS-CHANGE", flows.state(1) is FlowState.UP,
           f"the new flow's first STUN response ({host}:{port}) failed it: {flows.history(1)}")
    now, probe = _probe(flows)
    flows.stun_response(1, now, probe.transaction_id, (host2, port2))
    changed = (host, port) != (host2, port2)
    expect("RFC5626-4.4.2-MAPPED-ADDRESS-CHANGE",
           flows.state(1) is (FlowState.REGISTERING if changed else FlowState.UP),
           f"{host}:{port} then {host2}:{port2} on the new flow: {flows.state(1)}")


@check("RFC5626-4.4.2-STUN-RETRANSMIT")
@given(st.binary(min_size=12, max_size=12), st.integers(0, 6))
def only_the_requests_transaction_id_answers_a_stun_keepalive(stray: bytes,
                                                              retransmissions: int) -> None:
    """A Binding response whose transaction id is not the keep-alive's (late, stray or forged)
    answers nothing: the keep-alive transaction goes on retransmitting with its own id and
    fails the flow 39.5 s after the first request; the response with its own id answers it."""
    flows = _one_flow("UDP", [])
    flows.start(0.0)
    flows.registered(1, 0.0)
    first, probe = _probe(flows)
    if stray == probe.transaction_id:
        stray = bytes(b ^ 0xFF for b in stray)
    offsets = [0.5, 1.5, 3.5, 7.5, 15.5, 31.5]  # RFC 5389 §7.2.1, RTO 500 ms, Rc 7
    now = first
    for offset in offsets[:retransmissions]:
        now = first + offset
        flows.tick(now)
    flows.stun_response(1, now + 0.01, stray, ("198.51.100.9", 9))
    expect("RFC5626-4.4.2-STUN-RETRANSMIT", flows.state(1) is FlowState.PROBING,
           f"a response with another transaction id ended the keep-alive: {flows.history(1)}")
    if retransmissions % 2:
        flows.stun_response(1, now + 0.02, probe.transaction_id, ("198.51.100.9", 9))
        expect("RFC5626-4.4.2-STUN-RETRANSMIT", flows.state(1) is FlowState.UP,
               "the response with the keep-alive's own transaction id did not answer it")
        return
    resent = [o for t in offsets[retransmissions:] for o in flows.tick(first + t)
              if isinstance(o, SendKeepAlive)]
    expect("RFC5626-4.4.2-STUN-RETRANSMIT",
           len(resent) == len(offsets) - retransmissions
           and all(o.transaction_id == probe.transaction_id for o in resent),
           f"{len(resent)} retransmissions after the stray response")
    flows.tick(first + 39.5)
    expect("RFC5626-4.4.2-STUN-RETRANSMIT", flows.state(1) is FlowState.REGISTERING,
           f"no answer by 39.5 s, yet the flow is {flows.state(1)}")


@check("RFC5626-4.5-FLOW-RECOVERY-BACKOFF")
@given(st.integers(2, 4), st.booleans(), fractions)
def a_flow_being_probed_is_still_up_for_the_backoff(flow_count: int, answered: bool,
                                                    draw: float) -> None:
    """base-time is 90 s while some other flow is up -- also while its keep-alive awaits its
    answer (a keep-alive in flight does not make a flow failed) -- and 30 s when every flow has
    failed."""
    targets = [Target("TCP", f"192.0.2.{i + 1}", 5060) for i in range(flow_count)]
    random = _BackoffScript([draw] * 16)
    flows = FlowSet(targets, random)
    flows.start(0.0)
    for reg_id in flows.reg_ids[1:]:
        flows.registered(reg_id, 0.0)
    pings = [o for o in flows.tick(95.0) if isinstance(o, SendKeepAlive)]  # 95-120 s: 95
    assert {p.reg_id for p in pings} == set(flows.reg_ids[1:]), pings
    if answered:
        for ping in pings:
            flows.pong(ping.reg_id, 95.5)
    flows.register_failed(1, 96.0, "503")
    expect("RFC5626-4.5-FLOW-RECOVERY-BACKOFF", random.backoffs[-1:] == [(90.0, 180.0)],
           f"other flows {'up' if answered else 'awaiting their pong'}: wait drawn from "
           f"{random.backoffs[-1:]}, RFC 5626 §4.5 (base-time 90 s, one failure): 90 .. 180")
    for reg_id in flows.reg_ids[1:]:
        flows.flow_lost(reg_id, 97.0, "reset")
        flows.register_failed(reg_id, 97.0, "connect refused")
    flows.tick(96.0 + 180.0)  # flow 1 tries again ...
    flows.register_failed(1, 96.0 + 180.0, "503")  # ... and fails, every flow down
    expect("RFC5626-4.5-FLOW-RECOVERY-BACKOFF", random.backoffs[-1:] == [(60.0, 120.0)],
           f"every flow failed: wait drawn from {random.backoffs[-1:]}, RFC 5626 §4.5 "
           "(base-time 30 s, two failures): 60 .. 120")


@check("RFC5626-4.4.1-PONG-TIMEOUT")
def the_ping_is_a_double_crlf_and_a_single_crlf_is_the_pong() -> None:
    """Over a real TCP connection on 127.0.0.1: the ping the client writes is exactly CRLF CRLF
    (RFC 5626 §3.5.1 / §4.4.1), a single CRLF back is taken as the pong, and the connection
    still carries SIP afterwards."""
    import asyncio

    from sipfsm.aio.keepalive import KeepAliveTcpTransport
    from sipfsm.conformance.aio_support import RecordingReceiver, register, run

    async def scenario() -> None:
        got: list[bytes] = []
        arrived = asyncio.Event()

        async def edge(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            data = b""
            while b"\r\n\r\n" not in data:
                data += await reader.read(4096)  # the REGISTER's head
            while True:
                chunk = await reader.read(4096)
                if not chunk:
                    break
                got.append(chunk)
                arrived.set()
                if b"".join(got) == b"\r\n\r\n":
                    writer.write(b"\r\n")
                    await writer.drain()

        server = await asyncio.start_server(edge, "127.0.0.1", 0)
        port = int(server.sockets[0].getsockname()[1])
        pongs: list[Target] = []
        target = Target("TCP", "127.0.0.1", port)
        try:
            tcp = await KeepAliveTcpTransport.open_keepalive(
                RecordingReceiver(), on_pong=pongs.append, listen=False)
            try:
                tcp.send(register(), target)
                for _ in range(200):
                    if tcp.connected(target):
                        break
                    await asyncio.sleep(0.01)
                await asyncio.sleep(0.05)
                assert tcp.send_ping(target)
                await asyncio.wait_for(arrived.wait(), 2.0)
                await asyncio.sleep(0.1)  # anything more the client wrote arrives too
                expect("RFC5626-4.4.1-PONG-TIMEOUT", b"".join(got) == b"\r\n\r\n",
                       f"the ping on the wire is {b''.join(got)!r}, RFC 5626: CRLF CRLF")
                for _ in range(100):
                    if pongs:
                        break
                    await asyncio.sleep(0.01)
                expect("RFC5626-4.4.1-PONG-TIMEOUT", pongs == [target],
                       f"a single CRLF back is the pong: on_pong got {pongs}")
            finally:
                await tcp.aclose()
        finally:
            server.close()

    run(scenario())


# -- RFC 5389: the keep-alive's STUN transaction and the address it reads back --------------------


def _stun_address_attribute(kind: int, host: str, port: int, xor: bool, tid: bytes) -> bytes:
    """RFC 5389 §15.1 / §15.2, written out here: reserved byte, family, port, address; the XOR
    form XORs the port with 0x2112 and the address with the cookie (then the id for IPv6)."""
    address = ipaddress.ip_address(host)
    family = 1 if address.version == 4 else 2
    raw = address.packed
    if xor:
        port ^= 0x2112
        key = bytes.fromhex("2112a442") + tid
        raw = bytes(a ^ b for a, b in zip(raw, key, strict=False))
    value = struct.pack("!BBH", 0, family, port) + raw
    return struct.pack("!HH", kind, len(value)) + value


@check("RFC5389-15.2-XOR-MAPPED-ADDRESS")
@given(st.binary(min_size=12, max_size=12), st.ip_addresses().map(str), st.integers(1, 65535),
       st.ip_addresses().map(str), st.integers(1, 65535), st.booleans())
def the_xor_mapped_address_wins_over_mapped_address(tid: bytes, host: str, port: int,
                                                    rewritten: str, rport: int,
                                                    xor_first: bool) -> None:
    """A Binding response carrying both a MAPPED-ADDRESS and an XOR-MAPPED-ADDRESS gives the
    XOR-MAPPED-ADDRESS (the one NAT ALGs cannot rewrite, the reason RFC 5389 §15.2 has it);
    MAPPED-ADDRESS serves only a server that sends no XOR form (RFC 3489 servers, §12.2)."""
    xor = _stun_address_attribute(0x0020, host, port, True, tid)
    plain = _stun_address_attribute(0x0001, rewritten, rport, False, tid)
    body = xor + plain if xor_first else plain + xor
    message = struct.pack("!HHI", 0x0101, len(body), 0x2112A442) + tid + body
    got = decode_stun(message).mapped_address
    want = (str(ipaddress.ip_address(host)), port)
    expect("RFC5389-15.2-XOR-MAPPED-ADDRESS", got == want,
           f"XOR-MAPPED-ADDRESS {want}, MAPPED-ADDRESS {(rewritten, rport)}: read {got}")
    only_plain = struct.pack("!HHI", 0x0101, len(plain), 0x2112A442) + tid + plain
    got = decode_stun(only_plain).mapped_address
    expect("RFC5389-15.2-XOR-MAPPED-ADDRESS",
           got == (str(ipaddress.ip_address(rewritten)), rport),
           f"MAPPED-ADDRESS alone {(rewritten, rport)}: read {got}")


class _TokenRandom:
    """Random whose successive tokens are one base32 character repeated (from the script);
    keep-alive periods at their minimum."""

    def __init__(self, chars: list[str]) -> None:
        self.chars = list(chars)
        self.bits: list[int] = []

    def token(self, nbits: int) -> str:
        self.bits.append(nbits)
        return self.chars.pop(0) * (nbits // 5 + 1)

    def uniform(self, low: float, high: float) -> float:
        return low


@check("RFC5389-6-TRANSACTION-ID")
@given(st.lists(st.sampled_from("abcdefghijklmnopqrstuvwxyz23456"), min_size=3, max_size=3,
                unique=True))
def each_stun_keepalive_is_a_new_transaction_with_96_random_bits(chars: list[str]) -> None:
    """Each STUN keep-alive is a new transaction: its id is 96 bits drawn from the Random port
    (a draw of all one bits gives an id of 96 one bits), a new draw for every keep-alive, and
    only the retransmissions of one request repeat it."""
    flows = FlowSet([Target("UDP", "192.0.2.1", 5060)], _TokenRandom(["7", *chars]),
                    FlowSettings())
    flows.start(0.0)
    flows.registered(1, 0.0)
    ids: list[bytes] = []
    for _ in range(len(chars) + 1):
        now, probe = _probe(flows)
        resent = [o.transaction_id for o in flows.tick(now + 0.5)
                  if isinstance(o, SendKeepAlive)]
        expect("RFC5389-6-TRANSACTION-ID", resent == [probe.transaction_id],
               f"the retransmission carried {resent}, the request {probe.transaction_id!r}")
        ids.append(probe.transaction_id)
        flows.stun_response(1, now + 0.6, probe.transaction_id, ("198.51.100.7", 4000))
    expect("RFC5389-6-TRANSACTION-ID", ids[0] == b"\xff" * 12,
           f"a Random drawing only one bits gave the id {ids[0].hex()}: fewer than 96 random "
           "bits")
    expect("RFC5389-6-TRANSACTION-ID", len(set(ids)) == len(ids),
           f"successive keep-alives carried the ids {[i.hex() for i in ids]}: each is a new "
           "transaction")


@check("RFC5626-4.4-FLOW-CLOSED")
def the_transport_reports_a_closed_flow_and_never_reopens_it_for_a_ping() -> None:
    """Over a real TCP connection on 127.0.0.1: the edge closing the flow's connection (an
    orderly close, FIN) is reported as the flow gone, and a keep-alive for that flow then finds
    no flow (False) instead of opening a new connection: a new connection is a new flow, formed
    by registering over it (§4.5), never by a ping."""
    import asyncio

    from sipfsm.aio.keepalive import KeepAliveTcpTransport
    from sipfsm.conformance.aio_support import RecordingReceiver, register, run

    async def scenario() -> None:
        accepted: list[int] = []

        async def edge(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            accepted.append(1)
            data = b""
            while b"\r\n\r\n" not in data:
                chunk = await reader.read(4096)
                if not chunk:
                    break
                data += chunk
            writer.close()  # the edge ends the flow

        server = await asyncio.start_server(edge, "127.0.0.1", 0)
        target = Target("TCP", "127.0.0.1", int(server.sockets[0].getsockname()[1]))
        closed: list[Target] = []
        try:
            tcp = await KeepAliveTcpTransport.open_keepalive(
                RecordingReceiver(), on_flow_closed=closed.append, listen=False)
            try:
                tcp.send(register(), target)
                for _ in range(100):
                    if closed:
                        break
                    await asyncio.sleep(0.01)
                expect("RFC5626-4.4-FLOW-CLOSED", closed == [target],
                       f"the edge closed the flow's connection: reported {closed}")
                pinged = tcp.send_ping(target)
                await asyncio.sleep(0.1)
                expect("RFC5626-4.4-FLOW-CLOSED", not pinged and accepted == [1],
                       f"a ping after the flow closed: send_ping -> {pinged}, "
                       f"{len(accepted)} connections opened to the edge")
            finally:
                await tcp.aclose()
        finally:
            server.close()

    run(scenario())


class _SentRegisters:
    """A trace sink keeping the local address each REGISTER left from."""

    def __init__(self) -> None:
        self.sent: list[tuple[str, int]] = []

    def record(self, direction: str, transport: str, local: HostPort, remote: HostPort,
               data: bytes) -> None:
        if direction == "sent" and data.startswith(b"REGISTER "):
            self.sent.append((local.host, local.port))

    def close(self) -> None:
        pass


@check("RFC5626-4.5-NEW-FLOW", "RFC5626-4.4-FLOW-CLOSED")
def a_flow_whose_pong_never_came_is_replaced_over_a_new_connection() -> None:
    """The asyncio driver against the embedded registrar over TCP on 127.0.0.1, its CRLF pongs
    switched off: the flow registers, its ping goes unanswered, the flow fails, and the
    registration that replaces it goes at once over a NEW connection -- a flow over TCP is
    its connection, and the failed one is not reused.  Then the flow's connection is cut:
    the driver takes it as the flow failing and registers a new flow."""
    from sipfsm.aio.outbound import OutboundAgent
    from sipfsm.conformance.aio_support import run
    from sipfsm.message import SipUri, parse_uri
    from sipfsm.outbound.flow import FlowStateChanged as Changed
    from sipfsm.registrar import RegistrarConfig
    from sipfsm.registrar.server import RegistrarServer
    from sipfsm.registration import Registered, RegistrationConfig

    async def scenario() -> None:
        edge = await RegistrarServer.start(RegistrarConfig(min_expires=1), host="127.0.0.1",
                                           udp_port=None, tcp_port=0)
        assert edge.tcp_address is not None
        edge._tcp.answer_pings = False  # type: ignore[union-attr]  # an edge gone silent
        uri = parse_uri(f"sip:127.0.0.1:{edge.tcp_address.port};transport=tcp;lr")
        aor = parse_uri("sip:alice@sipfsm.test")
        assert isinstance(uri, SipUri) and isinstance(aor, SipUri)
        trace = _SentRegisters()
        agent = await OutboundAgent.open(
            RegistrationConfig(aor=aor, expires=600), [uri], local_host="127.0.0.1",
            settings=FlowSettings(keepalive=0.1, pong_timeout=0.1), trace=trace)
        try:
            agent.start()
            await agent.next_event(Registered, timeout=3)
            first = list(trace.sent)
            while True:
                item = await agent.next_event(Changed, timeout=3)
                assert isinstance(item.event, Changed)
                if item.event.new is FlowState.REGISTERING:
                    break
            expect("RFC5626-4.5-NEW-FLOW", "keep-alive" in item.event.reason,
                   f"the flow failed for another reason: {item.event.reason}")
            await agent.next_event(Registered, timeout=3)
            again = trace.sent[len(first):]
            expect("RFC5626-4.5-NEW-FLOW",
                   bool(again) and all(local not in first for local in again[:1]),
                   f"REGISTERs of the failed flow from {first}; the one replacing it from "
                   f"{again[:1]}: RFC 5626 §4.5 forms a new flow (a new connection)")
            # The edge answers again; then the flow's connection goes away: the driver
            # notices and registers a new flow at once.
            edge._tcp.answer_pings = True  # type: ignore[union-attr]
            agent.drop_flow(1)
            reasons = []
            for _ in range(20):
                item = await agent.next_event(Changed, timeout=3)
                assert isinstance(item.event, Changed)
                if item.event.new is FlowState.REGISTERING:
                    reasons.append(item.event.reason)
                    if "closed" in item.event.reason:
                        break
            expect("RFC5626-4.4-FLOW-CLOSED", any("closed" in r for r in reasons),
                   f"the flow's connection was cut: the flow failed for {reasons}")
            await agent.next_event(Registered, timeout=3)
        finally:
            await agent.aclose()
            await edge.aclose()

    run(scenario(), timeout=10)
