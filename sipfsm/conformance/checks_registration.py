"""Conformance checks for RFC 3261 §10.2 / §8.1 registration (client side).

Each check is a property: hypothesis chooses what the registrar does (status codes, expiries,
Min-Expires, Retry-After, losses, delays) and what the user asks for, the simulator runs the
client against it, and the check states the RFC's rule over what went on the wire.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from hypothesis import assume, given
from hypothesis import strategies as st

from sipfsm.conformance.harness import (
    CLIENT,
    REGISTRAR,
    ScriptedRegistrar,
    StaticResolver,
    World,
    default_config,
    ok_echo,
    reply,
)
from sipfsm.conformance.registry import check, expect
from sipfsm.errors import ConfigError, LocalProtocolError
from sipfsm.message import Request, Response, SipUri, parse_uri, uri_equal
from sipfsm.ports import HostPort, Target
from sipfsm.registration import (
    BindingsReported,
    ContactSpec,
    Failed,
    Refreshed,
    Registered,
    Retrying,
    Unregistered,
    read_expires,
)
from sipfsm.sim import LinkFaults

T1 = 0.5
TIMER_F = 64 * T1

# --------------------------------------------------------------------------------------------
# Strategies: what a registrar may do, and what a user may ask
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Behaviour:
    """The registrar's answer to one REGISTER transaction (decided on its first arrival)."""

    kind: str  # ok | drop | 423 | 500ra | 503 | 403 | 1xx-ok | ok-other-bindings | ok-no-expires
    value: int = 0


behaviours = st.one_of(
    st.builds(Behaviour, st.just("ok")),
    st.builds(Behaviour, st.just("ok-other-bindings")),
    st.builds(Behaviour, st.just("ok-no-expires")),
    st.builds(Behaviour, st.just("1xx-ok"), st.sampled_from([100, 180, 183, 199])),
    st.builds(Behaviour, st.just("drop")),
    st.builds(Behaviour, st.just("423"), st.integers(1, 7200)),
    st.builds(Behaviour, st.just("500ra"), st.integers(0, 120)),
    st.builds(Behaviour, st.just("503")),
    st.builds(Behaviour, st.just("403")),
)


def scripted(script: Sequence[Behaviour], default: Behaviour = Behaviour("ok"),
             granted: int | None = None) -> Any:
    """A responder following ``script`` per new transaction (by branch); retransmissions get
    the same treatment as their transaction's first arrival."""

    def responder(request: Request, registrar: ScriptedRegistrar) -> Any:
        decided: dict[str, Behaviour] = registrar.state.setdefault("decided", {})
        branch = request.vias[0].branch or ""
        if branch not in decided:
            index = len(decided)
            decided[branch] = script[index] if index < len(script) else default
        b = decided[branch]
        if b.kind == "drop":
            return None
        if b.kind == "423":
            return reply(request, 423, headers=[("Min-Expires", str(b.value))])
        if b.kind == "500ra":
            return reply(request, 500, headers=[("Retry-After", str(b.value))])
        if b.kind == "503":
            return reply(request, 503)
        if b.kind == "403":
            return reply(request, 403)
        if b.kind == "1xx-ok":
            return [reply(request, b.value, to_tag=None), ok_echo(request, expires=granted)]
        if b.kind == "ok-other-bindings":
            return ok_echo(request, expires=granted,
                           extra=["<sip:alice@198.51.100.7:5070>;expires=1200"])
        if b.kind == "ok-no-expires":
            return reply(request, 200, headers=[("Contact", f"<{c.uri}>") for c in
                                                request.contacts])
        return ok_echo(request, expires=granted)

    return responder


@dataclass(frozen=True)
class Command:
    at: float
    action: str  # register | unregister | unregister_all | query | update


commands = st.lists(
    st.builds(Command, st.floats(0, 7200, allow_nan=False),
              st.sampled_from(["register", "unregister", "unregister_all", "query", "update"])),
    max_size=6,
)


@dataclass
class Scenario:
    script: list[Behaviour]
    commands: list[Command]
    expires: int
    granted: int | None
    loss: float
    seed: int
    hours: float = 2.0
    world: World | None = field(default=None, repr=False)


@st.composite
def scenarios(draw: Any, *, loss: bool = True) -> Scenario:
    return Scenario(
        script=draw(st.lists(behaviours, max_size=8)),
        commands=draw(commands),
        expires=draw(st.integers(300, 7200)),
        granted=draw(st.one_of(st.none(), st.integers(300, 7200))),
        loss=draw(st.sampled_from([0.0, 0.0, 0.1, 0.3])) if loss else 0.0,
        seed=draw(st.integers(0, 2**16)),
    )


def run(s: Scenario, **world_kwargs: Any) -> World:
    faults = LinkFaults(loss=s.loss, delay=(0.001, 0.05)) if s.loss else None
    config = world_kwargs.pop("config", None) or default_config(expires=s.expires)
    world = World(scripted(s.script, granted=s.granted), config=config, seed=s.seed,
                  faults=faults, **world_kwargs)
    client = world.client
    client.register()
    other = ContactSpec(uri=_sip("sip:alice@192.0.2.10:5070"))
    for cmd in sorted(s.commands, key=lambda c: c.at):
        world.run_until(cmd.at)
        if client.state == "stopped":
            break
        if cmd.action == "register":
            client.register()
        elif cmd.action == "unregister":
            client.unregister()
        elif cmd.action == "unregister_all":
            client.unregister_all()
        elif cmd.action == "query":
            client.query()
        else:
            client.update_contacts([ContactSpec(), other])
    world.run_until(s.hours * 3600)
    s.world = world
    return world


def _sip(text: str) -> SipUri:
    uri = parse_uri(text)
    assert isinstance(uri, SipUri)
    return uri


def transactions(world: World) -> list[tuple[str, float, Request, str]]:
    """(branch, first send time, request, remote) per client transaction, in order."""
    seen: dict[str, tuple[str, float, Request, str]] = {}
    for entry in world.recorder.select(local=CLIENT, direction="sent"):
        from sipfsm.message import parse

        msg = parse(entry.message.encode())
        if isinstance(msg, Request):
            branch = msg.vias[0].branch or ""
            if branch not in seen:
                seen[branch] = (branch, entry.time, msg, entry.remote)
    return list(seen.values())


def finals_received(world: World) -> dict[str, float]:
    """branch -> time the client first received a final response for it."""
    from sipfsm.message import parse

    out: dict[str, float] = {}
    for entry in world.recorder.select(local=CLIENT, direction="received"):
        msg = parse(entry.message.encode())
        if isinstance(msg, Response) and msg.status >= 200:
            branch = msg.vias[0].branch or ""
            out.setdefault(branch, entry.time)
    return out


# --------------------------------------------------------------------------------------------
# §10.2 / §8.1.1: construction of every REGISTER
# --------------------------------------------------------------------------------------------


@check("RFC3261-10.2-REQUIRED-HEADERS", "RFC3261-8.1.1-MANDATORY-HEADERS",
       "RFC3261-8.1.1.7-VIA-PRESENT", "RFC3261-8.1.1.6-MAX-FORWARDS-PRESENT")
@given(scenarios())
def every_register_has_the_mandatory_headers(s: Scenario) -> None:
    """Every REGISTER on the wire has Request-URI, To, From, Call-ID, CSeq, Max-Forwards, Via."""
    world = run(s)
    rules = {"Via": ("RFC3261-8.1.1.7-VIA-PRESENT", "RFC3261-8.1.1-MANDATORY-HEADERS"),
             "Max-Forwards": ("RFC3261-8.1.1.6-MAX-FORWARDS-PRESENT",
                              "RFC3261-8.1.1-MANDATORY-HEADERS")}
    for _, request in world.sent():
        for name in ("To", "From", "Call-ID", "CSeq", "Max-Forwards", "Via"):
            for rule in rules.get(name, ("RFC3261-10.2-REQUIRED-HEADERS",
                                         "RFC3261-8.1.1-MANDATORY-HEADERS")):
                expect(rule, request.headers.get(name), f"REGISTER without {name}")
        expect("RFC3261-10.2-REQUIRED-HEADERS", request.method == "REGISTER"
               and str(request.uri).startswith("sip"), f"{request.method} {request.uri}")


@check("RFC3261-8.1.1.6-MAX-FORWARDS-70")
@given(scenarios())
def max_forwards_is_70(s: Scenario) -> None:
    world = run(s)
    assert all(r.max_forwards == 70 for _, r in world.sent())


@check("RFC3261-8.1.1.7-VIA-SIP-2-0")
@given(scenarios(), st.sampled_from(["UDP", "TCP"]))
def via_protocol_is_sip_2_0(s: Scenario, transport: str) -> None:
    world = run(s, config=default_config(
        expires=s.expires, registrar_target=Target(transport, REGISTRAR.host, REGISTRAR.port)),
        transport=transport)
    for _, request in world.sent():
        raw = request.headers.get_all("Via")[0]
        assert raw.upper().startswith(f"SIP/2.0/{transport}")


@check("RFC3261-10.2-REQUEST-URI-DOMAIN")
@given(st.from_regex(r"[a-z]{1,10}(\.[a-z]{2,5}){1,2}", fullmatch=True),
       st.from_regex(r"[a-z][a-z0-9]{0,8}", fullmatch=True), st.none() | st.integers(1, 65535))
def request_uri_is_the_domain_without_userinfo(domain: str, user: str, port: int | None) -> None:
    """The Request-URI is sip:<domain>[:port], never with a user part; a configured registrar
    URI with a user part is refused."""
    hostport = domain + (f":{port}" if port else "")
    config = default_config(aor=_sip(f"sip:{user}@{hostport}"))
    world = World(ok_echo, config=config)
    world.client.register()
    world.run(5)
    for request in world.sent_registers():
        uri = request.uri
        assert isinstance(uri, SipUri)
        assert uri.user is None and uri.password is None and "@" not in str(uri)
        assert uri.host == domain and uri.port == port
    try:
        default_config(registrar=_sip(f"sip:{user}@{domain}"))
    except ConfigError:
        pass
    else:
        raise AssertionError("a registrar URI with userinfo was accepted")


@check("RFC3261-10.2-TO-AOR-SIP-URI", "RFC3261-8.1.1.2-SUPPORT-SIP-URI",
       "RFC3261-10.2.1-SIPS-AOR-SIPS-CONTACTS")
@given(st.from_regex(r"[a-z][a-z0-9]{0,8}", fullmatch=True),
       st.from_regex(r"[a-z]{1,10}\.[a-z]{2,5}", fullmatch=True))
def to_is_the_sip_aor_and_sips_is_refused(user: str, domain: str) -> None:
    """To carries the configured SIP AOR; a SIPS AOR (which would need SIPS contacts) is
    refused before anything is sent."""
    aor = _sip(f"sip:{user}@{domain}")
    world = World(ok_echo, config=default_config(aor=aor))
    world.client.register()
    world.run(5)
    registers = world.sent_registers()
    expect("RFC3261-8.1.1.2-SUPPORT-SIP-URI", registers and world.client.state == "registered",
           f"a sip: AOR: {len(registers)} REGISTERs, state {world.client.state}")
    for request in registers:
        expect("RFC3261-10.2-TO-AOR-SIP-URI", str(request.to.uri) == f"sip:{user}@{domain}",
               f"To {request.to.uri}, the AOR is sip:{user}@{domain}")
    try:
        default_config(aor=_sip(f"sips:{user}@{domain}"))
    except ConfigError:
        pass
    else:
        expect("RFC3261-10.2.1-SIPS-AOR-SIPS-CONTACTS", False,
               "a SIPS AOR was accepted (its sip: contacts would break the rule)")


@check("RFC3261-10.2-FROM-AOR")
@given(scenarios())
def from_equals_to_without_third_party(s: Scenario) -> None:
    world = run(s)
    for _, request in world.sent():
        assert uri_equal(request.from_.uri, request.to.uri)


@check("RFC3261-8.1.1.2-NO-TO-TAG")
@given(scenarios())
def to_has_no_tag(s: Scenario) -> None:
    world = run(s)
    assert all(r.to.tag is None for _, r in world.sent())


@check("RFC3261-8.1.1.3-FROM-TAG")
@given(scenarios())
def from_has_a_random_tag(s: Scenario) -> None:
    """Every REGISTER's From has a tag of at least 32 random bits (a token from Random)."""
    world = run(s)
    for _, request in world.sent():
        tag = request.from_.tag
        assert tag is not None and len(tag) * 5 >= 32  # base32 tokens: 5 bits per character


@check("RFC3261-8.1.1.5-CSEQ-METHOD")
@given(scenarios())
def cseq_method_is_register(s: Scenario) -> None:
    world = run(s)
    assert all(r.cseq.method == "REGISTER" for _, r in world.sent())


@check("RFC3261-10.2-CSEQ-INCREMENT")
@given(scenarios())
def cseq_goes_up_by_one_per_register(s: Scenario) -> None:
    """Per Call-ID, each new REGISTER (transaction) has CSeq one above the previous one;
    retransmissions keep theirs."""
    world = run(s)
    by_call: dict[str, list[int]] = {}
    for _, _, request, _ in transactions(world):
        by_call.setdefault(request.call_id, []).append(request.cseq.number)
    for numbers in by_call.values():
        # The record's decision: a new client's first REGISTER has CSeq 1.
        assert numbers == list(range(1, 1 + len(numbers))), numbers
    retrans: dict[str, int] = {}
    for _, request in world.sent():
        branch = request.vias[0].branch or ""
        assert retrans.setdefault(branch, request.cseq.number) == request.cseq.number


@check("RFC3261-8.1.1.5-CSEQ-RANGE")
@given(st.integers(1, 6), st.integers(0, 2**16))
def cseq_stays_below_2_31(room: int, seed: int) -> None:
    """A client whose CSeq is ``room`` below 2**31 keeps registering, refreshing and
    unregistering: no request on the wire ever carries a CSeq of 2**31 or more, and the
    first REGISTER of a fresh client has CSeq 1."""
    fresh = World(ok_echo, seed=seed)
    fresh.client.register()
    fresh.run(1)
    assert [r.cseq.number for r in fresh.sent_registers()][:1] == [1]
    world = World(lambda r, reg: ok_echo(r, expires=600), seed=seed)
    world.client._cseq = 2**31 - 1 - room  # as if 2**31 - 1 - room REGISTERs had gone out
    try:  # the record's decision: LocalProtocolError rather than send 2**31
        world.client.register()
        world.run(3 * 600)
        world.client.unregister()
        world.run(60)
    except LocalProtocolError:
        pass
    numbers = [r.cseq.number for _, r in world.sent()]
    assert numbers, "nothing sent"
    assert all(0 < n < 2**31 for n in numbers), max(numbers)


@check("RFC3261-10.2-CALL-ID-PER-REGISTRAR", "RFC3261-10.2.4-SAME-CALL-ID-BOOT-CYCLE",
       "RFC3261-8.1.1.4-CALL-ID-SAME-IN-REGISTRATIONS")
@given(scenarios())
def one_call_id_for_every_register(s: Scenario) -> None:
    world = run(s)
    ids = {r.call_id for _, r in world.sent()}
    for rule in ("RFC3261-10.2-CALL-ID-PER-REGISTRAR", "RFC3261-10.2.4-SAME-CALL-ID-BOOT-CYCLE",
                 "RFC3261-8.1.1.4-CALL-ID-SAME-IN-REGISTRATIONS"):
        expect(rule, len(ids) <= 1, f"{len(ids)} Call-IDs: {sorted(ids)[:3]}")


@check("RFC3261-8.1.1.4-CALL-ID-GLOBALLY-UNIQUE", "RFC3261-8.1.1.4-CALL-ID-CRYPTO-RANDOM")
@given(st.lists(st.integers(0, 2**30), min_size=2, max_size=6, unique=True))
def call_ids_come_from_the_random_port(seeds: list[int]) -> None:
    """Clients with different randomness never share a Call-ID, and the Call-ID is a token
    the Random port produced with >= 128 bits (whatever the order of draws), nothing derived
    from time or addresses."""
    from sipfsm.sim import SeededRandom

    class Drawn:
        def __init__(self, seed: int) -> None:
            self.inner = SeededRandom(seed)
            self.tokens: dict[str, int] = {}

        def token(self, nbits: int) -> str:
            value = self.inner.token(nbits)
            self.tokens[value] = nbits
            return value

        def uniform(self, low: float, high: float) -> float:
            return self.inner.uniform(low, high)

    ids = []
    for seed in seeds:
        drawn = Drawn(seed)
        world = World(ok_echo, seed=seed, random=drawn)
        world.client.register()
        world.run(1)
        call_id = world.sent_registers()[0].call_id
        expect("RFC3261-8.1.1.4-CALL-ID-CRYPTO-RANDOM", drawn.tokens.get(call_id, 0) >= 128,
               f"Call-ID {call_id!r} is no >= 128-bit token of the Random port: {drawn.tokens}")
        ids.append(call_id)
    expect("RFC3261-8.1.1.4-CALL-ID-GLOBALLY-UNIQUE", len(set(ids)) == len(ids),
           f"clients with different randomness share a Call-ID: {ids}")


@check("RFC3261-10.2-CONTACT-OPTIONAL", "RFC3261-10.2.1-CONTACT-FOR-AOR",
       "RFC3261-10.2.1-CONTACT-ANY-SCHEME")
@given(scenarios())
def registers_carry_our_sip_contact(s: Scenario) -> None:
    """Register, refresh and unregister REGISTERs carry Contact (a sip: URI of ours, or '*');
    queries carry none."""
    world = run(s)
    for request in world.sent_registers():
        if request.contact_star:
            continue
        for contact in request.contacts:
            expect("RFC3261-10.2.1-CONTACT-ANY-SCHEME",
                   isinstance(contact.uri, SipUri) and contact.uri.scheme == "sip",
                   f"Contact {contact.uri}")
        if request.expires is None:
            expect("RFC3261-10.2-CONTACT-OPTIONAL", not request.contacts,
                   f"a query with Contact {request.headers.get_all('Contact')}")
        else:
            expect("RFC3261-10.2.1-CONTACT-FOR-AOR", request.contacts,
                   f"a REGISTER with Expires {request.expires} and no Contact")


@check("RFC3261-10.2-NO-ACTION-PARAM", "RFC3261-10.2.1.1-SUGGEST-EXPIRES")
@given(scenarios())
def contacts_carry_neither_action_nor_expires(s: Scenario) -> None:
    """No Contact has an action or expires parameter; every REGISTER with Contact has an
    Expires header instead (seed decision)."""
    world = run(s)
    for request in world.sent_registers():
        for contact in request.contacts:
            expect("RFC3261-10.2-NO-ACTION-PARAM", "action" not in contact.params,
                   f"Contact {contact}")
            expect("RFC3261-10.2.1.1-SUGGEST-EXPIRES", "expires" not in contact.params,
                   f"Contact {contact}: the decision is the Expires header")
        if request.contacts or request.contact_star:
            expect("RFC3261-10.2.1.1-SUGGEST-EXPIRES", request.expires is not None,
                   "a REGISTER with Contact and no Expires")


@check("RFC3261-10.2.2-STAR-ONLY-WITH-EXPIRES-0")
@given(scenarios())
def star_only_alone_with_expires_zero(s: Scenario) -> None:
    world = run(s)
    for request in world.sent_registers():
        if request.contact_star:
            assert request.expires == 0 and len(request.headers.get_all("Contact")) == 1


# Option tags of standards-track RFCs (IANA "SIP Option Tags" registry, written out here) that
# a registering UAC could list in Supported.
STANDARDS_TRACK_OPTION_TAGS = {
    "100rel": "RFC 3262", "path": "RFC 3327", "gruu": "RFC 5627", "outbound": "RFC 5626",
    "timer": "RFC 4028", "replaces": "RFC 3891", "norefersub": "RFC 4488", "pref": "RFC 3840",
    "sec-agree": "RFC 3329", "tdialog": "RFC 4538", "histinfo": "RFC 4244",
}
# spec RFC3261-8.1.1.9-SUPPORTED's decision: outbound (RFC 5626), gruu (RFC 5627) and path
# (RFC 3327), the extensions the client implements (issue 15).
EXPECTED_SUPPORTED: frozenset[str] = frozenset({"outbound", "gruu", "path"})


@check("RFC3261-8.1.1.9-SUPPORTED", "RFC3261-8.1.1.9-STANDARDS-TRACK-TAGS")
@given(scenarios())
def supported_lists_only_standards_track_tags(s: Scenario) -> None:
    """Every REGISTER's Supported (read from the wire) lists standards-track option tags only,
    each once, and exactly the set the record's decision names."""
    world = run(s)
    for request in world.sent_registers():
        tags = [t.lower() for t in request.supported]
        expect("RFC3261-8.1.1.9-STANDARDS-TRACK-TAGS",
               all(t in STANDARDS_TRACK_OPTION_TAGS for t in tags) and len(set(tags)) == len(tags),
               f"Supported: {request.headers.get('Supported')}")
        expect("RFC3261-8.1.1.9-SUPPORTED", set(tags) == EXPECTED_SUPPORTED,
               f"Supported: {request.headers.get('Supported')} "
               f"(expected {sorted(EXPECTED_SUPPORTED)})")


# --------------------------------------------------------------------------------------------
# Routing: Record-Route ignored, outbound proxy as a route set, RFC 3263 targets
# --------------------------------------------------------------------------------------------


def _with_record_route(responder: Any) -> Any:
    def wrapped(request: Request, registrar: ScriptedRegistrar) -> Any:
        out = responder(request, registrar)
        if out is None:
            return None
        items = [out] if isinstance(out, Response) else list(out)
        return [r.with_headers(r.headers.with_added("Record-Route", "<sip:rr.example.net;lr>"))
                for r in items]

    return wrapped


@check("RFC3261-10.2-RECORD-ROUTE-IGNORED", "RFC3261-10.2-NO-ROUTE-SET-FROM-RECORD-ROUTE")
@given(scenarios(loss=False))
def record_route_changes_nothing(s: Scenario) -> None:
    """The same registrar behaviour with and without Record-Route in its responses gives the
    same REGISTERs on the wire (no route set is ever built from it)."""
    plain = run(s)
    s2 = replace(s)
    world = World(_with_record_route(scripted(s.script, granted=s.granted)),
                  config=default_config(expires=s.expires), seed=s.seed)
    world.client.register()
    for cmd in sorted(s.commands, key=lambda c: c.at):
        world.run_until(cmd.at)
        getattr(world.client, "update_contacts" if cmd.action == "update" else cmd.action)(
            *([[ContactSpec(), ContactSpec(uri=_sip("sip:alice@192.0.2.10:5070"))]]
              if cmd.action == "update" else []))
    world.run_until(s2.hours * 3600)
    a = [r.to_bytes() for r in plain.sent_registers()]
    b = [r.to_bytes() for r in world.sent_registers()]
    expect("RFC3261-10.2-RECORD-ROUTE-IGNORED", a == b,
           f"{len(a)} REGISTERs without Record-Route, {len(b)} with, not the same bytes")
    expect("RFC3261-10.2-NO-ROUTE-SET-FROM-RECORD-ROUTE",
           all(not r.routes for r in world.sent_registers()),
           "a REGISTER carries Route after a response with Record-Route")


PROXY = HostPort("192.0.2.50", 5060)


@check("RFC3261-10.2-ROUTE-PREEXISTING", "RFC3261-8.1.1.1-OUTBOUND-PROXY-ROUTE-SET",
       "RFC3261-8.1.1.1-ROUTE-SET-PROCEDURES", "RFC3261-8.1.2-OUTBOUND-PROXY-AS-ROUTE-SET",
       "RFC3261-8.1.2-TOPMOST-ROUTE", "RFC3261-8.1.2-DNS-PROCEDURES")
@given(st.from_regex(r"proxy[0-9]{0,3}\.example\.net", fullmatch=True),
       st.sampled_from(["registrar.example.com", "example.com"]))
def outbound_proxy_is_a_loose_route(proxy_host: str, registrar_host: str) -> None:
    """With an outbound proxy: Request-URI stays the registrar, Route is <proxy;lr>, and the
    REGISTER goes to the RFC 3263 answer for the proxy (the topmost Route); a proxy without
    ;lr is refused."""
    resolver = StaticResolver({proxy_host: [Target("UDP", PROXY.host, PROXY.port)],
                               registrar_host: [Target("UDP", REGISTRAR.host, REGISTRAR.port)]})
    config = default_config(registrar=_sip(f"sip:{registrar_host}"), registrar_target=None,
                            outbound_proxy=_sip(f"sip:{proxy_host};lr"))
    world = World(registrars={PROXY: ok_echo}, config=config, resolver=resolver)
    world.client.register()
    world.run(5)
    expect("RFC3261-8.1.2-DNS-PROCEDURES", resolver.calls and set(resolver.calls) == {proxy_host},
           f"resolved {resolver.calls}, the first Route URI is {proxy_host}")
    txs = transactions(world)
    expect("RFC3261-8.1.1.1-OUTBOUND-PROXY-ROUTE-SET", txs, "nothing sent")
    for _, _, request, remote in txs:
        expect("RFC3261-8.1.1.1-ROUTE-SET-PROCEDURES", str(request.uri) == f"sip:{registrar_host}",
               f"Request-URI {request.uri}, the registrar is sip:{registrar_host}")
        routes = [str(r.uri) for r in request.routes]
        for rule in ("RFC3261-10.2-ROUTE-PREEXISTING", "RFC3261-8.1.1.1-OUTBOUND-PROXY-ROUTE-SET",
                     "RFC3261-8.1.2-OUTBOUND-PROXY-AS-ROUTE-SET"):
            expect(rule, routes == [f"sip:{proxy_host};lr"],
                   f"Route {routes}, the route set is [sip:{proxy_host};lr]")
        expect("RFC3261-8.1.2-TOPMOST-ROUTE", remote == str(PROXY),
               f"sent to {remote}, the topmost Route resolves to {PROXY}")
    try:
        default_config(outbound_proxy=_sip(f"sip:{proxy_host}"))
    except ConfigError:
        pass
    else:
        expect("RFC3261-8.1.1.1-ROUTE-SET-PROCEDURES", False,
               "a strict-routing outbound proxy was accepted")


@check("RFC3261-8.1.1.8-SIPS-CONTACT")
@given(st.sampled_from(["registrar", "outbound_proxy"]))
def sips_next_hops_are_refused(which: str) -> None:
    """sipfsm registers sip: contacts only, so a sips: Request-URI or Route is refused."""
    uri = _sip("sips:example.com;lr")
    try:
        default_config(**{which: uri})
    except ConfigError:
        return
    raise AssertionError(f"a SIPS {which} was accepted")


@check("RFC3261-10.2.6-AOR-HOST-AS-REGISTRAR")
@given(st.from_regex(r"[a-z]{1,10}\.(com|net|org)", fullmatch=True))
def aor_domain_locates_the_registrar(domain: str) -> None:
    resolver = StaticResolver({domain: [Target("UDP", REGISTRAR.host, REGISTRAR.port)]})
    config = default_config(aor=_sip(f"sip:bob@{domain}"), registrar_target=None)
    world = World(ok_echo, config=config, resolver=resolver)
    world.client.register()
    world.run(5)
    assert resolver.calls == [domain]
    assert world.client.state == "registered"
    assert str(world.sent_registers()[0].uri) == f"sip:{domain}"


# --------------------------------------------------------------------------------------------
# §10.2: one REGISTER at a time; §10.2.1 .. §10.2.4 outcomes
# --------------------------------------------------------------------------------------------


@check("RFC3261-10.2-ONE-REGISTER-IN-FLIGHT")
@given(scenarios())
def never_two_registers_in_flight(s: Scenario) -> None:
    """A new REGISTER transaction starts only after the previous one got a final response or
    timed out (Timer F), whatever the user asks meanwhile, with loss."""
    world = run(s)
    txs = transactions(world)
    finals = finals_received(world)
    for (b1, t1, _, _), (_, t2, _, _) in itertools.pairwise(txs):
        ended = min(finals.get(b1, float("inf")), t1 + TIMER_F)
        assert t2 >= ended - 1e-9, (t1, t2, ended)


@check("RFC3261-10.2.1-SUBSEQUENT-REGISTRATIONS")
@given(st.integers(60, 86400), st.integers(0, 2**16))
def refresh_comes_before_the_granted_expiry(granted: int, seed: int) -> None:
    """Once registered, the client refreshes before the interval the 200 granted our contact
    elapses, again and again."""
    world = World(lambda r, reg: ok_echo(r, expires=granted), seed=seed)
    world.client.register()
    world.run(granted * 3.5)
    times = [t for _, t, _, _ in transactions(world)]
    assert len(times) >= 4
    for a, b in itertools.pairwise(times):
        assert 0 < b - a < granted


@check("RFC3261-10.2.1-SUBSEQUENT-REGISTRATIONS")
@given(st.floats(2.0, 2.0**32), st.floats(0.0, 64.0), st.floats(0.1, 1.0), st.floats(0.0, 0.5),
       st.integers(0, 2**16))
def refresh_delay_is_before_expiry_and_not_too_early(expiry: float, margin: float,
                                                     fraction: float, jitter: float,
                                                     seed: int) -> None:
    """For any policy, the refresh comes before the expiry and no earlier than half of it
    (less the jitter): short expiries are not refreshed at the floor over and over."""
    from sipfsm.registration import RefreshPolicy
    from sipfsm.sim import SeededRandom

    policy = RefreshPolicy(margin=margin, fraction=fraction, jitter=jitter, floor=1.0)
    delay = policy.delay(expiry, SeededRandom(seed))
    assert delay < expiry
    assert delay >= min(expiry / 2 * (1 - jitter), 1.0) - 1e-9


@check("RFC3261-10.2.4-NO-REFRESH-OTHERS")
@given(st.integers(60, 3600), st.lists(st.integers(5061, 5999), min_size=1, max_size=4))
def refresh_sends_only_our_contacts(granted: int, ports: list[int]) -> None:
    others = [f"<sip:alice@198.51.100.9:{p}>;expires=900" for p in ports]
    world = World(lambda r, reg: ok_echo(r, expires=granted, extra=others))
    world.client.register()
    world.run(granted * 2.5)
    for request in world.sent_registers():
        for contact in request.contacts:
            assert str(contact.uri).startswith("sip:alice@192.0.2.10:5060")
    reg = world.events_of(Registered) + world.events_of(Refreshed)
    assert reg and all(sum(not b.ours for b in e.bindings) == len(ports) for e in reg)


@check("RFC3261-10.2-EXPIRES-PARAM-CAP", "RFC3261-10.2-EXPIRES-PARAM-MALFORMED")
@given(st.one_of(st.integers(1, 2**40).map(str),
                 st.from_regex(r"[a-z!%.-]{1,8}", fullmatch=True)))
def granted_expiry_is_read_leniently(raw: str) -> None:
    """An expires value above 2**32-1 counts as 2**32-1, a malformed one as 3600."""

    def responder(request: Request, reg: ScriptedRegistrar) -> Response:
        return reply(request, 200, headers=[("Contact", f"<{c.uri}>;expires={raw}")
                                            for c in request.contacts])

    world = World(responder)
    world.client.register()
    world.run(1)
    events = world.events_of(Registered)
    expected = min(int(raw), 2**32 - 1) if raw.isdigit() else 3600
    rule = ("RFC3261-10.2-EXPIRES-PARAM-CAP" if raw.isdigit()
            else "RFC3261-10.2-EXPIRES-PARAM-MALFORMED")
    expect(rule, read_expires(raw) == expected, f"read_expires({raw!r}) = {read_expires(raw)}")
    expect(rule, events and events[0].expires == expected,
           f"expires={raw}: registered for {[e.expires for e in events]}, expected {expected}")


@check("RFC3261-10.2.2-SUPPORT-REMOVAL")
@given(st.integers(60, 7200), st.floats(1, 50))
def unregister_sends_our_contact_with_expires_zero(granted: int, after: float) -> None:
    world = World(lambda r, reg: ok_echo(r, expires=granted))
    world.client.register()
    world.run(after)
    world.client.unregister()
    world.run(granted * 3)
    registers = world.sent_registers()
    last = registers[-1]
    assert last.expires == 0 and last.contacts
    assert str(last.contacts[0].uri) == str(registers[0].contacts[0].uri)
    assert last.call_id == registers[0].call_id
    assert world.client.state == "unregistered" and world.events_of(Unregistered)
    # the refresh timer is gone: nothing follows the removal
    assert transactions(world)[-1][2].expires == 0


@check("RFC3261-10.2.4-REFRESH-SAME-ADDRESS")
@given(st.integers(1, 3), st.integers(60, 3600))
def refreshes_go_where_the_registration_went(dead: int, granted: int) -> None:
    """With several resolved targets of which the first ``dead`` are silent, refreshes go to
    the target that accepted the registration."""
    addrs = [HostPort(f"192.0.2.{20 + i}", 5060) for i in range(dead + 1)]
    resolver = StaticResolver({"example.com": [Target("UDP", a.host, a.port) for a in addrs]})
    regs: dict[HostPort, Any] = {a: (lambda r, reg: None) for a in addrs[:-1]}
    regs[addrs[-1]] = lambda r, reg: ok_echo(r, expires=granted)
    world = World(registrars=regs, config=default_config(registrar_target=None),
                  resolver=resolver)
    world.client.register()
    world.run(dead * TIMER_F + granted * 2.5)
    txs = transactions(world)
    accepted_at = next(i for i, t in enumerate(txs) if t[3] == str(addrs[-1]))
    assert all(t[3] == str(addrs[-1]) for t in txs[accepted_at:])
    assert len(txs) - accepted_at >= 3


# --------------------------------------------------------------------------------------------
# §10.2.7, §8.1.3.1, RFC 5626 §4.5: timeouts, transport errors, backoff
# --------------------------------------------------------------------------------------------


@check("RFC3261-10.2.7-NO-IMMEDIATE-RETRY-AFTER-TIMEOUT", "RFC5626-4.5-BACKOFF")
@given(st.integers(1, 6), st.integers(0, 2**16), st.sampled_from([(30.0, 1800.0),
                                                                   (5.0, 60.0)]))
def backoff_after_timeouts(failures: int, seed: int, policy: tuple[float, float]) -> None:
    """With a silent registrar, the k-th retry starts between 50 % and 100 % of
    min(max, base * 2**k) after the previous transaction timed out (Timer F)."""
    from sipfsm.registration import BackoffPolicy

    base, maximum = policy
    config = default_config(backoff=BackoffPolicy(base=base, maximum=maximum))
    world = World(lambda r, reg: None, config=config, seed=seed)
    world.client.register()
    horizon = sum(TIMER_F + min(maximum, base * 2**k) for k in range(1, failures + 2))
    world.run(horizon)
    txs = transactions(world)
    rule = "RFC5626-4.5-BACKOFF"
    expect(rule, len(txs) >= failures + 1,
           f"{len(txs)} REGISTERs in {horizon:.0f} s, {failures + 1} expected at least")
    for k, (prev, nxt) in enumerate(itertools.pairwise(txs), start=1):
        upper = min(maximum, base * 2**k)
        gap = nxt[1] - (prev[1] + TIMER_F)
        expect("RFC3261-10.2.7-NO-IMMEDIATE-RETRY-AFTER-TIMEOUT", gap > 1e-6,
               f"retry {k} at once ({gap:.6f} s) after a timeout")
        expect(rule, upper / 2 - 1e-6 <= gap <= upper + 1e-6,
               f"retry {k} {gap:.3f} s after the timeout, RFC 5626 §4.5: "
               f"{upper / 2} .. {upper} s")
    retrying = world.events_of(Retrying)
    expect(rule, [e.failures for e in retrying][: failures] == list(range(1, failures + 1)),
           f"consecutive failures reported {[e.failures for e in retrying]}")


@check("RFC5626-4.5-BACKOFF-RESET")
@given(st.integers(1, 4), st.integers(0, 2**16))
def a_2xx_resets_the_failure_count(failures: int, seed: int) -> None:
    script = [Behaviour("drop")] * failures + [Behaviour("ok")]
    world = World(scripted(script, granted=600), seed=seed)
    world.client.register()
    world.run(3 * 3600)
    assert world.client.state == "registered"
    assert world.client.failures == 0


@check("RFC3261-8.1.3.1-TIMEOUT-AS-408", "RFC3263-4.3-FAILOVER-NEXT",
       "RFC3263-4.2-TRY-NEXT-ADDRESS", "RFC3261-8.1.2-TRY-EACH-ADDRESS")
@given(st.lists(st.sampled_from(["drop", "408", "503"]), min_size=1, max_size=4),
       st.integers(0, 2**16))
def failed_targets_move_on_to_the_next_address(failing: list[str], seed: int) -> None:
    """Targets that time out, answer 408 or 503 are followed at once by a new transaction to
    the next resolved address, in order, with the same Call-ID and CSeq + 1; a timeout is
    handled exactly like a 408."""
    addrs = [HostPort(f"192.0.2.{30 + i}", 5060) for i in range(len(failing) + 1)]
    resolver = StaticResolver({"example.com": [Target("UDP", a.host, a.port) for a in addrs]})
    answers = {"drop": lambda r, reg: None, "408": lambda r, reg: reply(r, 408),
               "503": lambda r, reg: reply(r, 503)}
    regs: dict[HostPort, Any] = {a: answers[f] for a, f in zip(addrs, failing, strict=False)}
    regs[addrs[-1]] = ok_echo
    world = World(registrars=regs, config=default_config(registrar_target=None),
                  resolver=resolver, seed=seed)
    world.client.register()
    world.run(TIMER_F * (len(failing) + 1))
    txs = transactions(world)
    for rule in ("RFC3263-4.2-TRY-NEXT-ADDRESS", "RFC3261-8.1.2-TRY-EACH-ADDRESS"):
        expect(rule, [t[3] for t in txs] == [str(a) for a in addrs],
               f"tried {[t[3] for t in txs]}, resolved {[str(a) for a in addrs]}")
    finals = finals_received(world)
    for (b, t, req, _), kind, (_, t_next, nxt, _) in zip(txs, failing, txs[1:], strict=False):
        ended = t + TIMER_F if kind == "drop" else finals.get(b, -1.0)
        rule = "RFC3261-8.1.3.1-TIMEOUT-AS-408" if kind == "drop" else "RFC3263-4.3-FAILOVER-NEXT"
        expect(rule, abs(t_next - ended) < 1e-6,
               f"after a {kind} ending at {ended:.3f} s the next target at {t_next:.3f} s")
        expect("RFC3263-4.3-FAILOVER-NEXT",
               nxt.call_id == req.call_id and nxt.cseq.number == req.cseq.number + 1,
               f"Call-ID {nxt.call_id} CSeq {nxt.cseq} after {req.call_id} {req.cseq}")
    expect("RFC3261-8.1.2-TRY-EACH-ADDRESS", world.client.state == "registered",
           f"state {world.client.state} with the last address answering 200")


@check("RFC3261-8.1.3.1-TRANSPORT-ERROR-AS-503")
@given(st.integers(1, 3))
def transport_errors_are_handled_as_503(unreachable: int) -> None:
    """Unreachable targets (ICMP errors: transport errors) are followed at once by the next
    address, as after a 503."""
    addrs = [HostPort(f"192.0.2.{40 + i}", 5060) for i in range(unreachable + 1)]
    resolver = StaticResolver({"example.com": [Target("UDP", a.host, a.port) for a in addrs]})
    world = World(registrars={addrs[-1]: ok_echo}, config=default_config(registrar_target=None),
                  resolver=resolver)
    world.client.register()
    world.run(5)
    assert world.client.state == "registered"
    txs = transactions(world)
    assert [t[3] for t in txs] == [str(a) for a in addrs]
    assert txs[-1][1] - txs[0][1] < 1.0


@check("RFC3263-4-SAME-TARGET-PER-TRANSACTION")
@given(scenarios())
def retransmissions_go_to_one_target(s: Scenario) -> None:
    world = run(s)
    where: dict[str, str] = {}
    for entry in world.recorder.select(local=CLIENT, direction="sent"):
        from sipfsm.message import parse

        msg = parse(entry.message.encode())
        assert isinstance(msg, Request)
        branch = msg.vias[0].branch or ""
        assert where.setdefault(branch, entry.remote) == entry.remote


# --------------------------------------------------------------------------------------------
# §8.1.3.2, §8.1.3.3: unknown responses, extra Vias
# --------------------------------------------------------------------------------------------


def _outcome(world: World) -> tuple[str, list[str]]:
    return world.client.state, [type(e).__name__ for _, e in world.events]


# RFC 3261 §21, the final response codes it defines (written out from the RFC).
RFC3261_STATUS_CODES = frozenset({
    200, 300, 301, 302, 305, 380, 400, 401, 402, 403, 404, 405, 406, 407, 408, 410, 413, 414,
    415, 416, 420, 421, 423, 480, 481, 482, 483, 484, 485, 486, 487, 488, 491, 493, 500, 501,
    502, 503, 504, 505, 513, 600, 603, 604, 606})


@check("RFC3261-8.1.3.2-UNKNOWN-FINAL-AS-X00")
@given(st.integers(200, 699).filter(lambda c: c % 100 != 0))
def unknown_final_responses_act_as_x00(code: int) -> None:
    assume(code not in RFC3261_STATUS_CODES)

    def answer(status: int) -> Any:
        def responder(request: Request, reg: ScriptedRegistrar) -> Response:
            if status // 100 == 2:
                return ok_echo(request).__class__(status=status, reason="X",
                                                  headers=ok_echo(request).headers)
            if status // 100 == 3:
                return reply(request, status, headers=[("Contact", "<sip:192.0.2.1:5060>")])
            return reply(request, status)

        return responder

    a, b = World(answer(code)), World(answer(code // 100 * 100))
    for w in (a, b):
        w.client.register()
        w.run(7200)
    assert _outcome(a) == _outcome(b)


@check("RFC3261-8.1.3.2-UNKNOWN-1XX-AS-183")
@given(st.lists(st.integers(100, 199), max_size=4), st.integers(0, 2**16))
def provisional_responses_change_nothing(codes: list[int], seed: int) -> None:
    def responder(request: Request, reg: ScriptedRegistrar) -> list[Response]:
        return [*(reply(request, c, to_tag=None) for c in codes), ok_echo(request)]

    a, b = World(responder, seed=seed), World(ok_echo, seed=seed)
    for w in (a, b):
        w.client.register()
        w.run(3600)
    assert _outcome(a) == _outcome(b)


@check("RFC3261-8.1.3.3-MULTIPLE-VIAS")
@given(st.integers(1, 3))
def responses_with_several_vias_are_discarded(extra: int) -> None:
    def responder(request: Request, reg: ScriptedRegistrar) -> Response:
        response = ok_echo(request)
        headers = response.headers
        for i in range(extra):
            via = f"SIP/2.0/UDP 198.51.100.{i + 1};branch=z9hG4bKx{i}"
            headers = headers.with_added("Via", via)
        return response.with_headers(headers)

    world = World(responder)
    world.client.register()
    world.run(TIMER_F + 1)
    assert world.client.state != "registered" and not world.events_of(Registered)


# --------------------------------------------------------------------------------------------
# §10.2.8, §21.4.17: 423 Interval Too Brief
# --------------------------------------------------------------------------------------------


@check("RFC3261-10.2.8-423-RETRY")
@given(st.integers(1, 3600), st.integers(1, 7200))
def interval_too_brief_retries_with_min_expires(requested: int, minimum: int) -> None:
    """After a 423 with Min-Expires above what was asked, the next REGISTER asks for at least
    Min-Expires (same Call-ID, CSeq + 1) and keeps it for refreshes; otherwise the attempt
    fails rather than loop."""
    def responder(request: Request, reg: ScriptedRegistrar) -> Response:
        if (request.expires or 0) < minimum:
            return reply(request, 423, headers=[("Min-Expires", str(minimum))])
        return ok_echo(request)

    world = World(responder, config=default_config(expires=requested))
    world.client.register()
    world.run(minimum * 2.5)
    registers = world.sent_registers()
    if requested >= minimum:
        assert all(r.expires == requested for r in registers)
        return
    first, second = registers[0], registers[1]
    assert first.expires == requested and second.expires is not None
    assert second.expires >= minimum
    assert second.call_id == first.call_id and second.cseq.number == first.cseq.number + 1
    assert all((r.expires or 0) >= minimum for r in registers[1:])
    assert world.client.state == "registered"


# --------------------------------------------------------------------------------------------
# §21.5: 500 / 503 with and without Retry-After
# --------------------------------------------------------------------------------------------


# The Retry-After / backoff rule:
# checks_registration_oracles.retry_after_is_never_shorter_than_the_backoff


@check("RFC3261-21.5.4-503-ALTERNATE-SERVER", "RFC3261-21.5.4-503-HOLD-OFF")
@given(st.integers(1, 3600), st.integers(0, 2**16))
def a_503_moves_on_and_holds_the_server_off(retry_after: int, seed: int) -> None:
    """A 503 sends the REGISTER at once to the next target; a server that said Retry-After: N
    gets nothing for N seconds."""
    a, b = HostPort("192.0.2.61", 5060), HostPort("192.0.2.62", 5060)
    resolver = StaticResolver({"example.com": [Target("UDP", a.host, a.port),
                                               Target("UDP", b.host, b.port)]})
    world = World(registrars={
        a: lambda r, reg: reply(r, 503, headers=[("Retry-After", str(retry_after))]),
        b: lambda r, reg: None,
    }, config=default_config(registrar_target=None), resolver=resolver, seed=seed)
    world.client.register()
    world.run(retry_after + 4 * 3600)
    txs = transactions(world)
    expect("RFC3261-21.5.4-503-ALTERNATE-SERVER",
           len(txs) >= 2 and txs[1][3] == str(b) and abs(txs[1][1] - txs[0][1]) < 0.5,
           f"after the 503 of {a}: {[(round(t, 3), r) for _, t, _, r in txs[:3]]}")
    first_503 = finals_received(world).get(txs[0][0], 0.0) if txs else 0.0
    for _, t, _, remote in txs[1:]:
        if remote == str(a):
            expect("RFC3261-21.5.4-503-HOLD-OFF", t >= first_503 + retry_after - 1e-6,
                   f"{a} said Retry-After: {retry_after} at {first_503:.3f} s, "
                   f"got a REGISTER at {t:.3f} s")


# --------------------------------------------------------------------------------------------
# §8.1.3.4: redirects
# --------------------------------------------------------------------------------------------

REG_A, REG_B, REG_C = (HostPort("192.0.2.71", 5060), HostPort("192.0.2.72", 5060),
                       HostPort("192.0.2.73", 5060))


@check("RFC3261-8.1.3.4-USE-CONTACTS", "RFC3261-8.1.3.4-TARGET-ORDER",
       "RFC3261-8.1.3.4-COPY-URI", "RFC3261-8.1.3.4-REUSE-IDS",
       "RFC3261-8.1.3.4-REUSE-HEADERS")
@given(st.floats(0, 1), st.floats(0, 1), st.sampled_from([301, 302, 305, 380, 399]))
def redirects_follow_contacts_in_q_order(qb: float, qc: float, status: int) -> None:
    """A 3xx's Contacts become Request-URIs (decreasing q), each REGISTER otherwise the same:
    To, From, Call-ID, Contact, Expires kept; CSeq + 1."""
    qb, qc = round(qb, 3), round(qc, 3)
    assume(qb != qc)

    def redirect(request: Request, reg: ScriptedRegistrar) -> Response:
        return reply(request, status, headers=[
            ("Contact", f"<sip:{REG_B.host}:{REG_B.port};method=REGISTER?x=y>;q={qb}"),
            ("Contact", f"<sip:{REG_C.host}:{REG_C.port}>;q={qc}")])

    world = World(registrars={REG_A: redirect, REG_B: lambda r, reg: reply(r, 404),
                              REG_C: lambda r, reg: reply(r, 404)},
                  config=default_config(registrar=_sip("sip:example.com"),
                                        registrar_target=Target("UDP", REG_A.host, REG_A.port)))
    world.client.register()
    world.run(60)
    txs = transactions(world)
    first = txs[0][2]
    order = [REG_B, REG_C] if qb > qc else [REG_C, REG_B]
    went = [t[3] for t in txs]
    expect("RFC3261-8.1.3.4-USE-CONTACTS", sorted(went[1:]) == sorted(str(o) for o in order),
           f"after a {status} to {REG_B} and {REG_C}: {went}")
    expect("RFC3261-8.1.3.4-TARGET-ORDER", went == [str(REG_A), *(str(o) for o in order)],
           f"q {qb} / {qc}: tried {went} (the decision: decreasing q, serially)")
    for _, _, request, remote in txs[1:]:
        expect("RFC3261-8.1.3.4-COPY-URI",
               isinstance(request.uri, SipUri) and str(request.uri) == f"sip:{remote}"
               and "method" not in request.uri.params and not request.uri.headers,
               f"Request-URI {request.uri} for target {remote}")
        for name in ("To", "From", "Call-ID"):
            expect("RFC3261-8.1.3.4-REUSE-IDS",
                   request.headers.get(name) == first.headers.get(name),
                   f"{name}: {request.headers.get(name)}, was {first.headers.get(name)}")
        for name in ("Contact", "Expires", "Max-Forwards"):
            expect("RFC3261-8.1.3.4-REUSE-HEADERS",
                   request.headers.get(name) == first.headers.get(name),
                   f"{name}: {request.headers.get(name)}, was {first.headers.get(name)}")
    numbers = [t[2].cseq.number for t in txs]
    expect("RFC3261-8.1.3.4-REUSE-HEADERS",
           numbers == list(range(numbers[0], numbers[0] + len(numbers))),
           f"CSeq numbers {numbers}: each new request CSeq + 1")


@check("RFC3261-8.1.3.4-TARGET-SET-ONCE", "RFC3261-8.1.3.4-TRY-NEXT-ON-FAILURE")
@given(st.lists(st.sampled_from([REG_A, REG_B, REG_C]), min_size=1, max_size=6),
       st.sampled_from([403, 404, 480, 603]))
def redirect_loops_end(redirect_to: list[HostPort], failure: int) -> None:
    """Registrars redirecting to each other never get the same URI twice; a target failing
    with >= 400 moves on to the next; an exhausted set ends the attempt with that failure."""

    def redirect(request: Request, reg: ScriptedRegistrar) -> Response:
        return reply(request, 302, headers=[("Contact", f"<sip:{h}>") for h in redirect_to])

    world = World(registrars={REG_A: redirect, REG_B: redirect,
                              REG_C: lambda r, reg: reply(r, failure)},
                  config=default_config(registrar=_sip(f"sip:{REG_A}"), registrar_target=None))
    world.client.register()
    world.run(600)
    uris = [str(t[2].uri) for t in transactions(world)]
    expect("RFC3261-8.1.3.4-TARGET-SET-ONCE", len(uris) == len(set(uris)),
           f"a URI tried twice: {uris}")
    expected = ["sip:" + str(REG_A)]
    for h in redirect_to:
        if "sip:" + str(h) not in expected:
            expected.append("sip:" + str(h))
    expect("RFC3261-8.1.3.4-TRY-NEXT-ON-FAILURE", uris == expected,
           f"tried {uris}, the target set in order is {expected}")
    failed = world.events_of(Failed)
    # the attempt ends with the last target's answer: C's failure, or a redirect to nothing new
    want = failure if expected[-1] == f"sip:{REG_C}" else 302
    expect("RFC3261-8.1.3.4-TRY-NEXT-ON-FAILURE",
           world.client.state == "failed" and failed and failed[-1].status == want,
           f"state {world.client.state}, {failed[-1:]}: the exhausted set ends with {want}")


# --------------------------------------------------------------------------------------------
# Safety under faults (issue: every UA ends registered once the faults stop)
# --------------------------------------------------------------------------------------------


@check("RFC3261-10.2-ONE-REGISTER-IN-FLIGHT", "RFC3261-10.2-CSEQ-INCREMENT",
       "RFC3261-10.2-CALL-ID-PER-REGISTRAR")
@given(st.floats(0.0, 0.6), st.floats(0.0, 0.3), st.floats(0.0, 0.5), st.integers(0, 2**16),
       st.integers(60, 1800))
def registration_survives_loss_duplication_and_reordering(
    loss: float, duplicate: float, reorder: float, seed: int, granted: int
) -> None:
    """With loss, duplication and reordering for an hour, then a clean network, the client
    ends registered; CSeq strictly increases, one Call-ID, one REGISTER in flight."""
    faults = LinkFaults(loss=loss, duplicate=duplicate, reorder=reorder, delay=(0.001, 0.2))
    from sipfsm.registration import BackoffPolicy

    world = World(lambda r, reg: ok_echo(r, expires=granted), seed=seed, faults=faults,
                  config=default_config(backoff=BackoffPolicy(base=30, maximum=300)))
    world.client.register()
    world.run(3600)
    world.net.set_faults(CLIENT, REGISTRAR, LinkFaults())
    world.net.set_faults(REGISTRAR, CLIENT, LinkFaults())
    world.run(3600)
    txs = transactions(world)
    expect("RFC3261-10.2-ONE-REGISTER-IN-FLIGHT",
           world.client.state in ("registered", "refreshing"),
           f"state {world.client.state} an hour after the faults stopped")
    numbers = [t[2].cseq.number for t in txs]
    expect("RFC3261-10.2-CSEQ-INCREMENT", numbers == sorted(set(numbers)),
           f"CSeq numbers not strictly increasing: {numbers[:12]}")
    expect("RFC3261-10.2-CALL-ID-PER-REGISTRAR", len({t[2].call_id for t in txs}) == 1,
           f"{len({t[2].call_id for t in txs})} Call-IDs")
    finals = finals_received(world)
    for (b1, t1, _, _), (_, t2, _, _) in itertools.pairwise(txs):
        ended = min(finals.get(b1, float("inf")), t1 + TIMER_F)
        expect("RFC3261-10.2-ONE-REGISTER-IN-FLIGHT", t2 >= ended - 1e-9,
               f"a REGISTER at {t2:.3f} s while the one of {t1:.3f} s ran (until {ended:.3f} s)")


@check("RFC3261-10.2.1-SUBSEQUENT-REGISTRATIONS")
@given(st.lists(st.integers(5061, 5070), min_size=1, max_size=3, unique=True))
def updating_contacts_replaces_our_bindings(ports: list[int]) -> None:
    """update_contacts registers the new set, then removes the dropped contacts (Expires: 0)."""
    new = [ContactSpec(uri=_sip(f"sip:alice@192.0.2.10:{p}")) for p in ports]
    world = World(ok_echo)
    world.client.register()
    world.run(5)
    world.client.update_contacts(new)
    world.run(5)
    regs = world.sent_registers()
    assert sorted(str(c.uri) for c in regs[1].contacts) == sorted(str(c.uri) for c in new)
    assert regs[2].expires == 0 and str(regs[2].contacts[0].uri) == "sip:alice@192.0.2.10:5060"
    assert world.client.state == "registered"
    assert sorted(world.client.bound_contacts) == sorted(str(c.uri) for c in new)


@check("RFC3261-10.2-CONTACT-OPTIONAL")
@given(st.integers(0, 4))
def query_carries_no_contact_and_reports_bindings(others: int) -> None:
    extra = [f"<sip:alice@198.51.100.{i + 1}>;expires=300" for i in range(others)]
    world = World(lambda r, reg: ok_echo(r, extra=extra))
    world.client.query()
    world.run(5)
    request = world.sent_registers()[0]
    assert not request.contacts and request.expires is None
    reported = world.events_of(BindingsReported)
    assert reported and len(reported[0].bindings) == others
    assert world.client.state == "unregistered"


_ = (Failed,)


# --------------------------------------------------------------------------------------------
# §8.1.3.5 / §22.2: 401 and 407
# --------------------------------------------------------------------------------------------


def _challenger(status: int, *, accept: bool, algorithm: str = "MD5", stale_first: bool = False
                ) -> Any:
    """A registrar answering REGISTERs without credentials with ``status`` and a Digest
    challenge; with credentials: 200 when ``accept`` (after one stale=true round when
    ``stale_first``), else the same challenge again."""
    challenge_header = "WWW-Authenticate" if status == 401 else "Proxy-Authenticate"
    credentials_header = "Authorization" if status == 401 else "Proxy-Authorization"

    def responder(request: Request, reg: ScriptedRegistrar) -> Response:
        n = reg.state.setdefault("nonce", 0)
        if request.headers.get(credentials_header) is None:
            reg.state["nonce"] = n + 1
            return reply(request, status, headers=[(challenge_header,
                         f'Digest realm="example.com", nonce="n{n}", qop="auth", '
                         f"algorithm={algorithm}")])
        if stale_first and not reg.state.get("staled"):
            reg.state["staled"] = True
            reg.state["nonce"] = n + 1
            return reply(request, status, headers=[(challenge_header,
                         f'Digest realm="example.com", nonce="n{n}", qop="auth", '
                         f"algorithm={algorithm}, stale=true")])
        if accept:
            return ok_echo(request)
        return reply(request, status, headers=[(challenge_header,
                     f'Digest realm="example.com", nonce="n{n}", qop="auth", '
                     f"algorithm={algorithm}")])

    return responder


@check("RFC3261-8.1.3.5-401-407-CREDENTIALS", "RFC3261-8.1.3.5-RETRY-SAME-IDS",
       "RFC3261-22.2-RESUBMIT-CSEQ")
@given(st.sampled_from([401, 407]), st.sampled_from(["MD5", "SHA-256"]), st.booleans(),
       st.integers(0, 2**16))
def challenges_are_answered_with_credentials(status: int, algorithm: str, stale: bool,
                                             seed: int) -> None:
    """A 401 (407) is answered by a new transaction carrying Authorization
    (Proxy-Authorization), with the same Call-ID, To and From (tag included) and CSeq + 1;
    a stale=true challenge is answered again without counting as a failure."""
    from sipfsm.auth import StaticCredentials

    world = World(_challenger(status, accept=True, algorithm=algorithm, stale_first=stale),
                  credentials=StaticCredentials("alice", "secret"), seed=seed)
    world.client.register()
    world.run(10)
    regs = world.sent_registers()
    rule = "RFC3261-8.1.3.5-401-407-CREDENTIALS"
    expect(rule, world.client.state == "registered", f"{world.client.state}: {world.events}")
    expect(rule, len(regs) == (3 if stale else 2),
           f"{len(regs)} REGISTERs for a {status}{' then stale=true' if stale else ''}")
    header = "Authorization" if status == 401 else "Proxy-Authorization"
    first = regs[0]
    for prev, nxt in itertools.pairwise(regs):
        expect(rule, nxt.headers.get(header) is not None, f"a REGISTER after {status} "
               f"without {header}")
        expect("RFC3261-22.2-RESUBMIT-CSEQ", nxt.vias[0].branch != prev.vias[0].branch,
               "the credentialed REGISTER reuses the challenged transaction's branch")
        expect("RFC3261-22.2-RESUBMIT-CSEQ", nxt.cseq.number == prev.cseq.number + 1,
               f"CSeq {nxt.cseq.number} after {prev.cseq.number}")
        for name in ("Call-ID", "To", "From"):
            expect("RFC3261-8.1.3.5-RETRY-SAME-IDS",
                   nxt.headers.get(name) == first.headers.get(name),
                   f"{name}: {nxt.headers.get(name)}, was {first.headers.get(name)}")


@check("RFC3261-8.1.3.5-401-407-CREDENTIALS")
@given(st.sampled_from([401, 407]), st.integers(0, 2**16))
def rejected_credentials_end_in_an_authentication_failure(status: int, seed: int) -> None:
    """Credentials challenged again (not stale) are not resent in a loop: the registration
    fails with an authentication failure after one credentialed attempt."""
    from sipfsm.auth import StaticCredentials
    from sipfsm.registration import FailureReason

    world = World(_challenger(status, accept=False),
                  credentials=StaticCredentials("alice", "wrong"), seed=seed)
    world.client.register()
    world.run(600)
    assert world.client.state == "failed"
    failure = world.events_of(Failed)[-1]
    assert failure.reason is FailureReason.AUTH
    assert len(world.sent_registers()) == 2
