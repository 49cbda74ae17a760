"""Conformance checks for the UAS rules the embedded registrar follows around RFC 3261 §10.3:
§8.2.1 (405 + Allow), §8.2.6.2 (what a response copies, the To tag), §17.2.2 (retransmissions),
§18.2.1 (received), §18.2.2 (where responses go) and RFC 3581 §4 (rport) -- spec/registrar.toml,
ids ending -EMBEDDED.

The core (``Registrar.handle``) and the endpoint (``RegistrarEndpoint`` over a recording
transport) are driven in-process; one check runs the asyncio server on 127.0.0.1 (free ports,
every wait bounded) to see responses arrive where §18.2.2 and RFC 3581 send them.
"""

from __future__ import annotations

import asyncio

from hypothesis import example, given
from hypothesis import strategies as st

from sipfsm.conformance.aio_support import run
from sipfsm.conformance.registrar_support import (
    AOR,
    AUTH,
    SOURCE,
    RecordingTransport,
    authorization,
    endpoint,
    handle,
    make_registrar,
    next_response,
    register,
    sent_responses,
    udp_client,
)
from sipfsm.conformance.registry import check, expect
from sipfsm.message import Request, Response, StreamFramer
from sipfsm.ports import HostPort, Target
from sipfsm.registrar import RegistrarConfig
from sipfsm.registrar.core import ALLOW

NAT = HostPort("203.0.113.5", 40001)

# --------------------------------------------------------------------------------------------
# §8.2.1: 405 with Allow
# --------------------------------------------------------------------------------------------

OTHER_METHODS = st.sampled_from(
    ["INVITE", "BYE", "SUBSCRIBE", "NOTIFY", "MESSAGE", "INFO", "PRACK", "UPDATE", "REFER",
     "PUBLISH"]
) | st.from_regex(r"[A-Z][A-Z-]{2,11}", fullmatch=True).filter(
    lambda m: m not in ("REGISTER", "OPTIONS", "CANCEL", "ACK")
)

BAD_Q = "<sip:alice@192.0.2.10:5060>;q=1.5"  # §20.10: q above 1 -> 400


@check("RFC3261-8.2.1-METHOD-405-EMBEDDED")
@given(method=OTHER_METHODS)
def other_methods_get_405_with_allow(method: str) -> None:
    """Any method but REGISTER, OPTIONS, CANCEL and ACK gets 405 Method Not Allowed with an
    Allow header naming exactly the supported methods (the same one OPTIONS reports), and
    registers nothing."""
    registrar, _ = make_registrar()
    response = handle(registrar, register(method=method))
    assert response.status == 405 and response.reason == "Method Not Allowed"
    allow = response.headers.get("Allow")
    assert allow is not None
    assert [m.strip() for m in allow.split(",")] == ["REGISTER", "OPTIONS", "CANCEL", "ACK"]
    assert registrar.aors() == []
    options = handle(registrar, register(method="OPTIONS"))
    assert options.status == 200 and options.headers.get("Allow") == allow == ALLOW


@check("RFC3261-8.2.1-METHOD-405-EMBEDDED")
def supported_methods_are_not_405() -> None:
    """REGISTER is processed, OPTIONS answered 200, ACK absorbed (no response), CANCEL of an
    answered REGISTER 200 and of anything else 481."""
    registrar, _ = make_registrar()
    assert handle(registrar, register(branch="z9hG4bK-cancel-me")).status == 200
    assert handle(registrar, register(method="OPTIONS")).status == 200
    assert registrar.handle(register(method="ACK"), SOURCE, "UDP") == []
    assert handle(registrar, register(method="CANCEL", branch="z9hG4bK-cancel-me")).status == 200
    assert handle(registrar, register(method="CANCEL", branch="z9hG4bK-unknown")).status == 481


# --------------------------------------------------------------------------------------------
# §8.2.6.2: headers and To tag
# --------------------------------------------------------------------------------------------

UAS_KINDS = ("200", "200-options", "302", "400", "401", "404", "405", "416", "420", "423",
             "481", "503")  # fmt: skip


def _uas_case(kind: str, vias: list[str]) -> tuple[RegistrarConfig, Request]:
    """A configuration and a request (with ``vias``, the first one the top) answered with
    ``kind``."""
    top, *rest = vias
    extra = [("Via", v) for v in rest]
    plain = RegistrarConfig(domains=frozenset({"example.com"}), min_expires=60)
    if kind == "200":
        return plain, register(via=top, extra=extra)
    if kind == "200-options":
        return plain, register(via=top, extra=extra, method="OPTIONS")
    if kind == "302":
        return RegistrarConfig(scenario="redirect:sip:192.0.2.99"), register(via=top, extra=extra)
    if kind == "400":
        return plain, register(via=top, extra=extra, contacts=[BAD_Q])
    if kind == "401":
        return AUTH, register(via=top, extra=extra)
    if kind == "404":
        return plain, register(via=top, extra=extra, ruri="sip:elsewhere.org")
    if kind == "405":
        return plain, register(via=top, extra=extra, method="INVITE")
    if kind == "416":
        return plain, register(via=top, extra=extra, ruri="tel:+15551234")
    if kind == "420":
        return plain, register(via=top, extra=[*extra, ("Require", "foo")])
    if kind == "423":
        return plain, register(via=top, extra=extra, expires=5)
    if kind == "481":
        return plain, register(via=top, extra=extra, method="CANCEL")
    return RegistrarConfig(scenario="retry-after:1:5"), register(via=top, extra=extra)


VIA_ROWS = st.lists(
    st.sampled_from([
        "SIP/2.0/UDP proxy.example.com;branch=z9hG4bKdef;received=198.51.100.1",
        "SIP/2.0/TCP 198.51.100.2:5080;branch=z9hG4bK-2;rport=5080",
        "SIP/2.0/TLS [2001:db8::7]:5061;branch=z9hG4bK.x",
        "SIP/2.0/UDP edge.example.net:5062;branch=z9hG4bK-3;maddr=239.0.0.1;ttl=1",
    ]),
    max_size=3,
)  # fmt: skip


@check("RFC3261-8.2.6.2-HEADERS-AND-TAGS-EMBEDDED")
@example(kind="200", more=["SIP/2.0/UDP proxy.example.com;branch=z9hG4bKdef;received=1.2.3.4"],
         to_tag=None)
@given(kind=st.sampled_from(UAS_KINDS), more=VIA_ROWS, to_tag=st.none() | st.just("given"))
def responses_copy_headers_and_add_a_to_tag(
    kind: str, more: list[str], to_tag: str | None
) -> None:
    """Whatever the response (200, 302, 400, 401, 404, 405, 416, 420, 423, 481, 503): From,
    Call-ID and CSeq equal the request's, every Via is copied in order, the To URI is kept
    and a To tag is added -- or the request's To tag kept."""
    top = f"SIP/2.0/UDP {SOURCE.host}:{SOURCE.port};branch=z9hG4bK-top"
    config, request = _uas_case(kind, [top, *more])
    if to_tag is not None:
        request = request.with_headers(
            request.headers.with_replaced("To", f"<{AOR}>;tag={to_tag}")
        )
    registrar, _ = make_registrar(config)
    response = handle(registrar, request)
    assert str(response.status) == kind[:3], (kind, response.status)
    assert response.headers.get_all("Via") == request.headers.get_all("Via")
    for name in ("From", "Call-ID", "CSeq"):
        assert response.headers.get(name) == request.headers.get(name), name
    assert response.to.uri == request.to.uri
    if to_tag is None:
        assert response.to.tag
    else:
        assert response.to.tag == to_tag


@check("RFC3261-8.2.6.2-HEADERS-AND-TAGS-EMBEDDED")
def to_tags_come_from_the_random_port() -> None:
    """Each new request gets its own To tag (drawn from the Random port)."""
    registrar, _ = make_registrar()
    tags = {handle(registrar, register(cseq=n)).to.tag for n in range(1, 6)}
    assert None not in tags and len(tags) == 5


# --------------------------------------------------------------------------------------------
# §17.2.2: retransmissions
# --------------------------------------------------------------------------------------------

RETRANSMITTED = ("register", "removal", "query", "400", "401", "423")


@check("RFC3261-17.2.2-RETRANSMISSION-EMBEDDED")
@given(
    kind=st.sampled_from(RETRANSMITTED),
    waits=st.lists(st.floats(0, 10, allow_nan=False), min_size=1, max_size=3).filter(
        lambda w: sum(w) <= 32
    ),
    meddle=st.booleans(),
)
def retransmission_gets_the_same_response_and_changes_nothing(
    kind: str, waits: list[float], meddle: bool
) -> None:
    """Within Timer J (32 s), every retransmission of a request (same branch, sent-by,
    method) gets the very response the first copy got -- same To tag, same nonce, the
    bindings as they were then -- even when another request changed the bindings in between,
    and it changes no binding."""
    config = AUTH if kind == "401" else RegistrarConfig(min_expires=60)
    registrar, clock = make_registrar(config)
    if kind != "401":
        handle(registrar, register(contacts=["<sip:old@192.0.2.1>"], expires=600, call_id="c0"))
    branch = "z9hG4bK-retransmitted"
    if kind == "register":
        request = register(branch=branch, expires=600, cseq=2)
    elif kind == "removal":
        request = register(branch=branch, contacts=["<sip:old@192.0.2.1>"], expires=0,
                           call_id="c0", cseq=2)
    elif kind == "query":
        request = register(branch=branch, contacts=[], cseq=2)
    elif kind == "400":
        request = register(branch=branch, contacts=[BAD_Q], cseq=2)
    elif kind == "423":
        request = register(branch=branch, expires=5, cseq=2)
    else:
        request = register(branch=branch, cseq=2)
    first = handle(registrar, request)
    for wait in waits:
        clock.advance(wait)
        if meddle:
            # another device removes every binding (or, with auth, is challenged)
            handle(registrar, register(contacts=["*"], expires=0, call_id="meddler", cseq=7))
        before = [(str(b.uri), b.call_id, b.cseq) for b in registrar.bindings(AOR)]
        again = handle(registrar, request)
        assert again == first
        assert [(str(b.uri), b.call_id, b.cseq) for b in registrar.bindings(AOR)] == before


@check("RFC3261-17.2.2-RETRANSMISSION-EMBEDDED")
def after_timer_j_a_retransmission_is_a_new_request() -> None:
    """The remembered answer lives Timer J (32 s): the same authenticated request resent
    5 s later gets the same 200 (not a replayed nonce-count), 35 s later it is judged anew
    (now a replay: 401)."""
    registrar, clock = make_registrar(AUTH)
    request = register(branch="z9hG4bK-once")
    first = handle(registrar, request)
    assert handle(registrar, request) == first
    creds = authorization(first.www_authenticate[0])
    authed = register(cseq=2, branch="z9hG4bK-twice", extra=[("Authorization", creds)])
    ok = handle(registrar, authed)
    assert ok.status == 200
    clock.advance(5)
    assert handle(registrar, authed) == ok
    clock.advance(30)
    assert handle(registrar, authed).status == 401


# --------------------------------------------------------------------------------------------
# §18.2.1 received, RFC 3581 rport (the core's Via stamping)
# --------------------------------------------------------------------------------------------

SOURCES = st.sampled_from(["192.0.2.10", "203.0.113.5", "198.51.100.77"])
SENT_BY_HOSTS = st.sampled_from(
    ["192.0.2.10", "192.0.2.99", "203.0.113.5", "10.0.0.2", "alice-pc.example.com",
     "HOST.example.net", "[2001:db8::1]"]
)  # fmt: skip


@check("RFC3261-18.2.1-RECEIVED-EMBEDDED")
@example(source="192.0.2.10", host="192.0.2.10", port=5060)
@example(source="192.0.2.10", host="192.0.2.99", port=5060)
@example(source="192.0.2.10", host="alice-pc.example.com", port=None)
@given(source=SOURCES, host=SENT_BY_HOSTS, port=st.none() | st.integers(1, 65535))
def received_is_added_when_sent_by_is_a_name_or_another_ip(
    source: str, host: str, port: int | None
) -> None:
    """Without rport, the top Via of the response gets ``received=<source IP>`` exactly when
    its sent-by host is a domain name or an IP other than the packet's source."""
    registrar, _ = make_registrar()
    sent_by = host if port is None else f"{host}:{port}"
    response = handle(
        registrar, register(via=f"SIP/2.0/UDP {sent_by};branch=z9hG4bKr"), HostPort(source, 5060)
    )
    top = response.vias[0]
    assert top.received == (None if host == source else source)
    assert top.rport is None


@check("RFC3581-4-RPORT-EMBEDDED")
@example(source="192.0.2.10", source_port=40123, host="192.0.2.10", port=5060)
@given(
    source=SOURCES,
    source_port=st.integers(1, 65535),
    host=SENT_BY_HOSTS,
    port=st.none() | st.integers(1, 65535),
)
def rport_is_filled_and_received_always_added(
    source: str, source_port: int, host: str, port: int | None
) -> None:
    """A top Via with a bare ``rport`` gets ``rport=<source port>`` and
    ``received=<source IP>`` in the response, whatever its sent-by says."""
    registrar, _ = make_registrar()
    sent_by = host if port is None else f"{host}:{port}"
    request = register(via=f"SIP/2.0/UDP {sent_by};rport;branch=z9hG4bKn")
    response = handle(registrar, request, HostPort(source, source_port))
    top = response.vias[0]
    assert top.rport == source_port and top.received == source


# --------------------------------------------------------------------------------------------
# §18.2.2 / RFC 3581: where the endpoint sends responses
# --------------------------------------------------------------------------------------------


@check("RFC3581-4-RPORT-EMBEDDED", "RFC3261-18.2.2-RESPONSE-DESTINATION-EMBEDDED")
@given(source_port=st.integers(1, 65535), sent_by_port=st.none() | st.integers(1, 65535))
def udp_with_rport_answers_the_source_address_and_port(
    source_port: int, sent_by_port: int | None
) -> None:
    """Over UDP with rport, the response goes to the request's source IP and port (symmetric
    response routing), stamped with both, whatever port the sent-by names."""
    ep, events = endpoint()
    transport = RecordingTransport()
    sent_by = "10.0.0.2" if sent_by_port is None else f"10.0.0.2:{sent_by_port}"
    request = register(via=f"SIP/2.0/UDP {sent_by};rport;branch=z9hG4bK1")
    source = HostPort(NAT.host, source_port)
    ep.receive(request.to_bytes(), source, transport)
    [(response, target)] = sent_responses(transport)
    for rid in ("RFC3581-4-RPORT-EMBEDDED", "RFC3261-18.2.2-RESPONSE-DESTINATION-EMBEDDED"):
        expect(rid, target == Target("UDP", NAT.host, source_port),
               f"answered at {target}, the request came from {NAT.host}:{source_port}")
    top = response.vias[0]
    expect("RFC3581-4-RPORT-EMBEDDED", (top.received, top.rport) == (NAT.host, source_port),
           f"received={top.received} rport={top.rport}")
    # the endpoint's log, not a rule of either record
    assert [e.direction for e in events] == ["in", "out"]
    assert "REGISTER" in str(events[0]) and "200 OK" in str(events[1])


@check("RFC3261-18.2.2-RESPONSE-DESTINATION-EMBEDDED", "RFC3261-18.2.1-RECEIVED-EMBEDDED")
def udp_without_rport_still_answers_the_source_never_maddr_or_the_sent_by_port() -> None:
    """Over UDP without rport the response still goes to the request's source IP and port --
    never to a maddr or to the sent-by port, neither of which is verified (a third address
    would receive the answer) -- and carries received=<source IP> (§18.2.1)."""
    cases = [
        "SIP/2.0/UDP 10.0.0.2:5070;branch=z9hG4bK2",
        "SIP/2.0/UDP host.example.com;branch=z9hG4bK3",
        "SIP/2.0/UDP 10.0.0.2:5070;maddr=192.0.2.77;branch=z9hG4bK4",
        "SIP/2.0/UDP 10.0.0.2;maddr=192.0.2.77;branch=z9hG4bK5",
    ]
    for via in cases:
        ep, _ = endpoint()
        transport = RecordingTransport()
        ep.receive(register(via=via).to_bytes(), NAT, transport)
        [(response, target)] = sent_responses(transport)
        expect("RFC3261-18.2.2-RESPONSE-DESTINATION-EMBEDDED",
               target == Target("UDP", NAT.host, NAT.port), f"{via}: answered at {target}")
        expect("RFC3261-18.2.1-RECEIVED-EMBEDDED", response.vias[0].received == NAT.host,
               f"{via}: received={response.vias[0].received}")


@check("RFC3261-18.2.2-RESPONSE-DESTINATION-EMBEDDED")
@given(
    transport_name=st.sampled_from(["TCP", "TLS"]),
    sent_by=st.sampled_from(["10.0.0.2:5070", "host.example.com", "10.0.0.2;maddr=192.0.2.77",
                             "10.0.0.2:5070;rport"]),
    source_port=st.integers(1, 65535),
)
def reliable_transports_answer_the_peer_whatever_the_via_says(
    transport_name: str, sent_by: str, source_port: int
) -> None:
    """Over TCP or TLS the response goes back to the peer the request came from (the
    connection), whatever the Via's sent-by, maddr or rport say."""
    ep, _ = endpoint()
    transport = RecordingTransport(transport_name)
    request = register(via=f"SIP/2.0/{transport_name} {sent_by};branch=z9hG4bK5")
    ep.receive(request.to_bytes(), HostPort(NAT.host, source_port), transport)
    [(_, target)] = sent_responses(transport)
    assert target == Target(transport_name, NAT.host, source_port)


@check("RFC3261-18.2.2-RESPONSE-DESTINATION-EMBEDDED", "RFC3581-4-RPORT-EMBEDDED")
def responses_arrive_where_they_should_on_real_sockets() -> None:
    """The asyncio server on 127.0.0.1: a UDP REGISTER with rport from an ephemeral port is
    answered at that port (rport and received filled); a TCP REGISTER whose Via names
    another port is answered on the connection it came in on."""

    async def scenario() -> None:
        from sipfsm.registrar.server import RegistrarServer

        async with await RegistrarServer.start(
            RegistrarConfig(), udp_port=0, tcp_port=0
        ) as server:
            udp, tcp = server.udp_address, server.tcp_address
            assert udp is not None and tcp is not None
            transport, protocol, port = await udp_client()
            try:
                via = "SIP/2.0/UDP 127.0.0.1:5999;rport;branch=z9hG4bK-sock-u"
                transport.sendto(register(via=via, expires=60).to_bytes(), (udp.host, udp.port))
                response = await next_response(protocol.queue)
                expect("RFC3581-4-RPORT-EMBEDDED", response.status == 200 and (
                    response.vias[0].rport, response.vias[0].received) == (port, "127.0.0.1"),
                    f"{response.status}, Via {response.vias[0]}")
            finally:
                transport.close()
            reader, writer = await asyncio.wait_for(
                asyncio.open_connection(tcp.host, tcp.port), 5.0
            )
            try:
                via = "SIP/2.0/TCP 127.0.0.1:5999;branch=z9hG4bK-sock-t"
                writer.write(register(via=via, contacts=[], cseq=2).to_bytes())
                await writer.drain()
                framer = StreamFramer()
                messages: list[object] = []
                while not messages:
                    data = await asyncio.wait_for(reader.read(65536), 5.0)
                    assert data, "connection closed before the response"
                    messages.extend(framer.feed(data))
                [answer] = messages
                expect("RFC3261-18.2.2-RESPONSE-DESTINATION-EMBEDDED",
                       isinstance(answer, Response) and answer.status == 200
                       and [c.expires for c in answer.contacts] == [60],
                       f"on the connection: {answer}")
            finally:
                writer.close()
                await writer.wait_closed()

    run(scenario(), timeout=10.0)
