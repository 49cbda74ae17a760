"""Registration checks written from the mutation hunt (benchmarks/mutation.py, block HREG):
each states an RFC rule over what the client puts on the wire or reports, in a situation the
other checks do not reach -- every REGISTER of a long registration challenged, several contacts
of ours granted different expiries, the usual 200 in its other legal shapes, a Retry-After with
a ``duration``, a redirect to a SIPS URI, refreshes after a redirect or a 423, a ``Contact: *``
removal, GRUUs of other instances, an unregister carrying our instance id, a q value written as
a §25.1 qvalue.  Expected values come from the RFC text (written out here), never from the code
under test.
"""

from __future__ import annotations

import itertools
import re
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from sipfsm.conformance.checks_registration import transactions
from sipfsm.conformance.harness import (
    AOR,
    CLIENT,
    REGISTRAR,
    ScriptedRegistrar,
    World,
    default_config,
    ok_echo,
    reply,
)
from sipfsm.conformance.registry import check, expect
from sipfsm.message import Request, Response, SipUri, parse_uri
from sipfsm.ports import HostPort, Target
from sipfsm.registration import (
    ContactSpec,
    Failed,
    Refreshed,
    Registered,
    Retrying,
)


def _sip(text: str) -> SipUri:
    uri = parse_uri(text)
    assert isinstance(uri, SipUri)
    return uri


OURS = f"sip:alice@{CLIENT.host}:{CLIENT.port}"  # the automatic contact of the harness client
OTHER_UA = "sip:bob@198.51.100.9:5062"

# --------------------------------------------------------------------------------------------
# §10.2: To is the AOR registered, From the party responsible
# --------------------------------------------------------------------------------------------


@check("RFC3261-10.2-FROM-AOR", "RFC3261-10.2-TO-AOR-SIP-URI")
@given(st.sampled_from(["admin", "bob", "pbx1", "alice2"]),
       st.sampled_from(["example.com", "example.org", "admin.example.net"]))
def a_third_party_registration_keeps_to_and_from_apart(user: str, domain: str) -> None:
    """§10.2: "To: The To header field contains the address of record whose registration is
    to be created, queried, or modified" and "The From header field contains the
    address-of-record of the person responsible for the registration. The value is the same as
    the To header field unless the request is a third-party registration": with a responsible
    party configured, every REGISTER (refreshes and the removal too) has To = the AOR and
    From = that party."""
    responsible = _sip(f"sip:{user}@{domain}")
    world = World(lambda r, reg: ok_echo(r, expires=300),
                  config=default_config(from_uri=responsible, expires=300))
    world.client.register()
    world.run(400)
    world.client.unregister()
    world.run(10)
    regs = world.sent_registers()
    expect("RFC3261-10.2-FROM-AOR", len(regs) >= 3, f"{len(regs)} REGISTERs")
    for request in regs:
        expect("RFC3261-10.2-TO-AOR-SIP-URI", str(request.to.uri) == AOR,
               f"To {request.to.uri}: the AOR registered is {AOR}")
        expect("RFC3261-10.2-FROM-AOR", str(request.from_.uri) == str(responsible),
               f"From {request.from_.uri}: the party responsible is {responsible}")


# --------------------------------------------------------------------------------------------
# §8.1.3.5 / §22.2: a registrar that challenges every REGISTER (a nonce used once)
# --------------------------------------------------------------------------------------------

_NONCE = re.compile(r'nonce="([^"]*)"')


def _one_time_nonces(status: int, granted: int) -> Any:
    """A registrar whose nonces are good for one REGISTER: a request without credentials, or
    with the credentials of a nonce already used, is challenged (stale=true for the latter, as
    RFC 7616 §3.3 says for a nonce no longer valid); credentials for the nonce just issued are
    accepted once."""
    challenge_header = "WWW-Authenticate" if status == 401 else "Proxy-Authenticate"
    credentials_header = "Authorization" if status == 401 else "Proxy-Authorization"

    def responder(request: Request, reg: ScriptedRegistrar) -> Response:
        issued = reg.state.setdefault("issued", 0)
        credentials = request.headers.get(credentials_header)
        found = _NONCE.search(credentials or "")
        current = f"n{issued - 1}"
        if found is not None and found.group(1) == current and not reg.state.get("used"):
            reg.state["used"] = True
            return ok_echo(request, expires=granted)
        reg.state["issued"] = issued + 1
        reg.state["used"] = False
        stale = ", stale=true" if found is not None else ""
        return reply(request, status, headers=[(challenge_header,
                     f'Digest realm="example.com", nonce="n{issued}", qop="auth", '
                     f"algorithm=MD5{stale}")])

    return responder


@check("RFC3261-8.1.3.5-401-407-CREDENTIALS")
@given(st.sampled_from([401, 407]), st.integers(60, 300), st.integers(7, 10),
       st.integers(0, 2**16))
def every_challenged_register_is_answered(status: int, granted: int, refreshes: int,
                                          seed: int) -> None:
    """A registrar challenging every REGISTER of a long registration (a nonce good once):
    each 401 (407) is answered with credentials, refresh after refresh -- the client never
    gives up on a registration that succeeds each time it answers (§22.2: "the client SHOULD
    retry the request" with credentials)."""
    from sipfsm.auth import StaticCredentials

    world = World(_one_time_nonces(status, granted),
                  credentials=StaticCredentials("alice", "secret"), seed=seed,
                  config=default_config(expires=granted))
    world.client.register()
    world.run(granted * refreshes)
    rule = "RFC3261-8.1.3.5-401-407-CREDENTIALS"
    done = len(world.events_of(Registered)) + len(world.events_of(Refreshed))
    expect(rule, not world.events_of(Failed) and world.client.state in ("registered",
                                                                         "refreshing"),
           f"state {world.client.state}, {world.events_of(Failed)[:1]} after {done} "
           f"successful REGISTERs, each answering a {status}")
    expect(rule, done >= refreshes, f"{done} successful REGISTERs in {granted * refreshes} s "
           f"of {granted} s bindings")


# --------------------------------------------------------------------------------------------
# §10.2.4: several contacts of ours, each granted its own expiry
# --------------------------------------------------------------------------------------------


def _per_contact(expiries: list[int]) -> Any:
    """A 200 granting the i-th Contact of the REGISTER ``expiries[i]`` seconds."""

    def responder(request: Request, reg: ScriptedRegistrar) -> Response:
        if request.expires == 0 or request.contact_star or not request.contacts:
            return ok_echo(request)
        return reply(request, 200, headers=[
            ("Contact", f"<{c.uri}>;expires={e}")
            for c, e in zip(request.contacts, expiries, strict=False)])

    return responder


@check("RFC3261-10.2.4-REFRESH-BEFORE-EXPIRY", "RFC3261-10.2.1-SUBSEQUENT-REGISTRATIONS")
@given(st.lists(st.integers(120, 3600), min_size=2, max_size=3))
def each_of_our_bindings_is_refreshed_before_it_expires(expiries: list[int]) -> None:
    """With several contacts of ours granted different expiries in one 200, each binding is
    refreshed before its own expiry: the next REGISTER comes before the shortest one ends."""
    contacts = tuple(ContactSpec(uri=_sip(f"sip:alice@{CLIENT.host}:{5060 + 10 * i}"))
                     for i in range(len(expiries)))
    world = World(_per_contact(expiries), config=default_config(contacts=contacts))
    world.client.register()
    world.run(2 * max(expiries) + 60)
    shortest = min(expiries)
    times = [t for _, t, _, _ in transactions(world)]
    expect("RFC3261-10.2.4-REFRESH-BEFORE-EXPIRY", len(times) >= 2,
           f"{len(times)} REGISTERs in {2 * max(expiries) + 60} s, bindings of {expiries} s")
    for a, b in itertools.pairwise(times):
        expect("RFC3261-10.2.4-REFRESH-BEFORE-EXPIRY", b - a < shortest,
               f"a REGISTER {b - a:.1f} s after the last: our bindings got {expiries} s")
    registered = world.events_of(Registered)
    expect("RFC3261-10.2.1-SUBSEQUENT-REGISTRATIONS",
           registered and registered[0].expires == shortest,
           f"reported {registered[:1]}, the shortest of our bindings has {shortest} s")


@check("RFC3261-10.2.4-REFRESH-BEFORE-EXPIRY")
@given(st.integers(120, 3000), st.booleans())
def a_200_without_an_expiry_keeps_the_interval_asked(asked: int, other_first: bool) -> None:
    """§10.2.4: the UA "updates the expiration time interval according to the expires
    parameter or, if absent, the Expires field value": a 200 listing our contact with neither
    updates nothing, so the binding lasts the interval the REGISTER asked for (Expires) and is
    refreshed before it ends -- not after some default."""

    def responder(request: Request, reg: ScriptedRegistrar) -> Response:
        rows = [f"<{c.uri}>" for c in request.contacts]
        if other_first:
            rows.insert(0, f"<{OTHER_UA}>;expires=7200")
        return reply(request, 200, headers=[("Contact", row) for row in rows])

    world = World(responder, config=default_config(expires=asked))
    world.client.register()
    world.run(2.5 * asked)
    times = [t for _, t, _, _ in transactions(world)]
    expect("RFC3261-10.2.4-REFRESH-BEFORE-EXPIRY", len(times) >= 3,
           f"{len(times)} REGISTERs in {2.5 * asked} s asking {asked} s")
    for a, b in itertools.pairwise(times):
        expect("RFC3261-10.2.4-REFRESH-BEFORE-EXPIRY", b - a < asked,
               f"a refresh {b - a:.1f} s after the last; the 200 gave no expiry, {asked} s "
               "were asked")


# --------------------------------------------------------------------------------------------
# §10.2.4 / §7.3.1 / RFC 3327 §5.1: the usual 200 and its other legal shapes read alike
# --------------------------------------------------------------------------------------------

SHAPES = ("as-written", "other-row-after", "other-row-before", "one-line", "with-path",
          "other-header-twice")


def _shaped(shape: str, granted: int, paths: list[str]) -> Any:
    def responder(request: Request, reg: ScriptedRegistrar) -> Response:
        if request.expires == 0 or request.contact_star or not request.contacts:
            return ok_echo(request)
        ours = f"<{request.contacts[0].uri}>;expires={granted}"
        other = f"<{OTHER_UA}>;expires=1800"
        headers: list[tuple[str, str]]
        if shape == "other-row-after":
            headers = [("Contact", ours), ("Contact", other)]
        elif shape == "other-row-before":
            headers = [("Contact", other), ("Contact", ours)]
        elif shape == "one-line":
            headers = [("Contact", f"{ours}, {other}")]
        elif shape == "other-header-twice":
            headers = [("Contact", ours), ("Server", "a"), ("Server", "b")]
        else:
            headers = [("Contact", ours)]
        if shape == "with-path":
            headers += [("Path", ", ".join(f"<{p}>" for p in paths))]
        return reply(request, 200, headers=headers)

    return responder


@check("RFC3261-10.2.1-SUBSEQUENT-REGISTRATIONS", "RFC3261-10.2.4-NO-REFRESH-OTHERS",
       "RFC3327-5.1-PATH-REPORTED")
@given(st.one_of(st.just(0), st.integers(1, 7200)),
       st.lists(st.sampled_from(["p1.example.net", "p2.example.net", "192.0.2.200:5070",
                                 "edge.example.org"]), min_size=1, max_size=3, unique=True))
def the_200_reads_alike_in_every_shape(granted: int, hosts: list[str]) -> None:
    """Our contact granted ``granted`` seconds in a 200 written as the REGISTER wrote it, with
    another UA's binding on its own row (after or before ours) or on the same line, with a
    Path, or with another header on two rows: the client reads each the same.  §10.2.4: our
    binding's expiry is its expires parameter -- 0 means the registrar holds no binding of
    ours, so no registration; otherwise registered for exactly that long, every binding listed
    reported (ours flagged, the other UA's not), and (RFC 3327 §5.1) the Path values in
    order."""
    paths = [f"sip:{h};lr" for h in hosts]
    for shape in SHAPES:
        _read_alike(shape, granted, paths)


def _read_alike(shape: str, granted: int, paths: list[str]) -> None:
    world = World(_shaped(shape, granted, paths))
    world.client.register()
    world.run(5)
    registered = world.events_of(Registered)
    rule = "RFC3261-10.2.1-SUBSEQUENT-REGISTRATIONS"
    if granted == 0:
        expect(rule, not registered,
               f"{shape}: registered on a 200 granting our contact expires=0: {registered}")
        return
    expect(rule, len(registered) == 1 and registered[0].expires == granted,
           f"{shape}: {registered} for our contact granted {granted} s")
    event = registered[0]
    listed = {OURS: True}
    if shape in ("other-row-after", "other-row-before", "one-line"):
        listed[OTHER_UA] = False
    reported = {b.contact: b.ours for b in event.bindings}
    expect("RFC3261-10.2.4-NO-REFRESH-OTHERS", reported == listed,
           f"{shape}: bindings reported {reported}, the 200 listed {listed}")
    expect("RFC3327-5.1-PATH-REPORTED",
           list(event.path) == (paths if shape == "with-path" else []),
           f"{shape}: Path reported {list(event.path)}")


# --------------------------------------------------------------------------------------------
# §20.33: Retry-After's delay is its delta-seconds
# --------------------------------------------------------------------------------------------


@check("RFC3261-21.5.1-500-RETRY", "RFC3261-21.5.4-503-HOLD-OFF")
@given(st.sampled_from([500, 503]), st.integers(120, 1500), st.integers(1, 100000),
       st.sampled_from(["", " (maintenance)"]))
def retry_after_waits_its_delta_seconds_whatever_its_duration(
        status: int, seconds: int, duration: int, comment: str) -> None:
    """§20.33: "Retry-After: 18000;duration=3600" -- the delta-seconds are how long to wait;
    the duration parameter says how long the callee will then be available.  A REGISTER
    answered ``Retry-After: N [(comment)];duration=D`` (N above the first backoff, 60 s) is sent
    again N seconds later, whatever D."""
    header = f"{seconds}{comment};duration={duration}"

    def responder(request: Request, reg: ScriptedRegistrar) -> Response:
        if reg.state.setdefault("first", request.vias[0].branch) == request.vias[0].branch:
            return reply(request, status, headers=[("Retry-After", header)])
        return ok_echo(request)

    world = World(responder, config=default_config(max_retry_after=3600.0))
    world.client.register()
    world.run(seconds + 120)
    txs = transactions(world)
    rule = "RFC3261-21.5.1-500-RETRY" if status == 500 else "RFC3261-21.5.4-503-HOLD-OFF"
    expect(rule, len(txs) >= 2, f"no REGISTER after {status} Retry-After: {header}")
    answered = [t for t, e in world.events if isinstance(e, Retrying)]
    wait = txs[1][1] - answered[0] if len(txs) >= 2 and answered else None
    expect(rule, wait is not None and abs(wait - seconds) < 1e-6,
           f"the next REGISTER {wait} s after {status} Retry-After: {header} (want {seconds} s)")


# --------------------------------------------------------------------------------------------
# §8.1.3.4: a target is copied whole; a redirect holds for the refreshes (§10.2.4)
# --------------------------------------------------------------------------------------------

REG_A, REG_B, REG_C = (HostPort("192.0.2.71", 5060), HostPort("192.0.2.72", 5060),
                       HostPort("192.0.2.73", 5060))


@check("RFC3261-8.1.3.4-COPY-URI")
@given(st.sampled_from([301, 302]), st.booleans())
def a_sips_target_is_never_downgraded(status: int, sips_first: bool) -> None:
    """§8.1.3.4: the UAC MUST "copy the entire URI from the target set into the
    Request-URI" -- its scheme included: a sips: Contact of a 3xx never becomes a sip:
    Request-URI (sipfsm sends sip: only, so it skips such a target)."""
    rows = [("Contact", f"<sips:{REG_B.host}>;q=0.9"), ("Contact", f"<sip:{REG_C}>;q=0.5")]

    def redirect(request: Request, reg: ScriptedRegistrar) -> Response:
        return reply(request, status, headers=rows if sips_first else rows[::-1])

    world = World(registrars={REG_A: redirect, REG_B: ok_echo, REG_C: ok_echo},
                  config=default_config(registrar=_sip(f"sip:{REG_A}"), registrar_target=None))
    world.client.register()
    world.run(60)
    for _, _, request, remote in transactions(world):
        uri = request.uri
        expect("RFC3261-8.1.3.4-COPY-URI",
               not (isinstance(uri, SipUri) and uri.host == REG_B.host),
               f"REGISTER {uri} to {remote}: the 3xx gave sips:{REG_B.host}, not a sip: URI")


@check("RFC3261-10.2.4-REFRESH-SAME-ADDRESS")
@given(st.sampled_from([301, 302]), st.integers(120, 1800))
def refreshes_go_where_a_redirect_sent_the_registration(status: int, granted: int) -> None:
    """§10.2.4: "Registration refreshes SHOULD be sent to the same network address as the
    original registration, unless redirected": once a 3xx moved the registration to another
    registrar, its refreshes go there (same Request-URI), not back to the first."""

    def redirect(request: Request, reg: ScriptedRegistrar) -> Response:
        return reply(request, status, headers=[("Contact", f"<sip:{REG_B}>")])

    world = World(registrars={REG_A: redirect,
                              REG_B: lambda r, reg: ok_echo(r, expires=granted)},
                  config=default_config(registrar=_sip(f"sip:{REG_A}"), registrar_target=None,
                                        expires=granted))
    world.client.register()
    world.run(2.5 * granted)
    txs = transactions(world)
    rule = "RFC3261-10.2.4-REFRESH-SAME-ADDRESS"
    expect(rule, len(txs) >= 3, f"{len(txs)} REGISTERs in {2.5 * granted} s")
    for _, when, request, remote in txs[1:]:
        expect(rule, remote == str(REG_B) and str(request.uri) == f"sip:{REG_B}",
               f"REGISTER {request.uri} to {remote} at {when:.0f} s after a {status} to "
               f"sip:{REG_B} that granted the binding")


# --------------------------------------------------------------------------------------------
# §10.2.8: Min-Expires holds for the later REGISTERs too
# --------------------------------------------------------------------------------------------


@check("RFC3261-10.2.8-423-RETRY")
@given(st.integers(60, 1800), st.integers(1, 1800))
def after_a_423_every_register_asks_at_least_min_expires(asked: int, above: int) -> None:
    """After a 423 with Min-Expires M (above what was asked), the retry and every later
    REGISTER that adds or refreshes our binding ask at least M (§20.23: "the minimum refresh
    interval supported for soft-state elements managed by that server")."""
    minimum = asked + above

    def responder(request: Request, reg: ScriptedRegistrar) -> Response:
        expires = request.expires
        if expires is not None and 0 < expires < minimum:
            return reply(request, 423, headers=[("Min-Expires", str(minimum))])
        return ok_echo(request)

    world = World(responder, config=default_config(expires=asked))
    world.client.register()
    world.run(2.5 * minimum)
    regs = world.sent_registers()
    expect("RFC3261-10.2.8-423-RETRY", len(regs) >= 3, f"{len(regs)} REGISTERs")
    for request in regs[1:]:
        expect("RFC3261-10.2.8-423-RETRY",
               request.expires is not None and request.expires >= minimum,
               f"a REGISTER asks Expires {request.expires} after a 423 with Min-Expires "
               f"{minimum}")


# --------------------------------------------------------------------------------------------
# §10.2.2: Contact: * removes our binding too
# --------------------------------------------------------------------------------------------


@check("RFC3261-10.2.2-SUPPORT-REMOVAL")
@given(st.integers(120, 1800), st.floats(1, 100))
def after_removing_every_binding_ours_is_not_refreshed(granted: int, after: float) -> None:
    """After ``Contact: *`` with Expires: 0 succeeds, no binding of ours exists: the client
    sends no REGISTER adding it back (no refresh) until told to register."""
    world = World(lambda r, reg: ok_echo(r, expires=granted))
    world.client.register()
    world.run(after)
    world.client.unregister_all()
    world.run(3 * granted)
    regs = world.sent_registers()
    removal = next((i for i, r in enumerate(regs) if r.contact_star), None)
    expect("RFC3261-10.2.2-SUPPORT-REMOVAL", removal is not None, "no Contact: * sent")
    later = [r for r in regs[(removal or 0) + 1:] if r.expires != 0]
    expect("RFC3261-10.2.2-SUPPORT-REMOVAL", not later and world.client.state == "unregistered",
           f"state {world.client.state}; after the removal of every binding the client sent "
           f"{[r.headers.get('Contact') for r in later]}")


# --------------------------------------------------------------------------------------------
# RFC 5627 §4.1: the GRUUs of OUR binding; RFC 5626 §4.2: every REGISTER's Contact says who
# --------------------------------------------------------------------------------------------

INSTANCE = "urn:uuid:f81d4fae-7dec-11d0-a765-00a0c91e6bf6"
OTHER_INSTANCE = "urn:uuid:00000000-0000-4000-8000-000000000001"


@check("RFC5627-4.1-READ-GRUUS")
@given(st.booleans(), st.booleans())
def only_our_bindings_gruus_are_ours(others_first: bool, ours_has_gruus: bool) -> None:
    """A 200 listing another instance's binding with its own pub-gruu / temp-gruu, before or
    after ours: the GRUUs reported are those on our binding, or none when ours has none."""
    theirs = (f'<{OTHER_UA}>;expires=600;+sip.instance="<{OTHER_INSTANCE}>"'
              f';pub-gruu="sip:bob@example.com;gr=other";temp-gruu="sip:tgruu.other@example.com;gr"')

    def responder(request: Request, reg: ScriptedRegistrar) -> Response:
        gruus = (';pub-gruu="sip:alice@example.com;gr=ours"'
                 ';temp-gruu="sip:tgruu.ours@example.com;gr"') if ours_has_gruus else ""
        ours = [f'<{c.uri}>;expires=600;+sip.instance="<{INSTANCE}>";reg-id=1{gruus}'
                for c in request.contacts]
        rows = [theirs, *ours] if others_first else [*ours, theirs]
        return reply(request, 200, headers=[("Contact", row) for row in rows])

    world = World(responder, config=default_config(instance_id=INSTANCE, reg_id=1))
    world.client.register()
    world.run(5)
    registered = world.events_of(Registered)
    expect("RFC5627-4.1-READ-GRUUS", registered, f"not registered: {world.events}")
    event = registered[0]
    want = (("sip:alice@example.com;gr=ours", "sip:tgruu.ours@example.com;gr")
            if ours_has_gruus else (None, None))
    expect("RFC5627-4.1-READ-GRUUS", (event.pub_gruu, event.temp_gruu) == want,
           f"reported {event.pub_gruu} / {event.temp_gruu}, our binding has {want}")


def _instance_params(contact: Any) -> tuple[str | None, str | None]:
    return contact.params.get("+sip.instance"), contact.params.get("reg-id")


@check("RFC5626-4.2-INSTANCE-AND-REG-ID", "RFC5627-4.1-INSTANCE-ID")
@given(st.integers(1, 2**31 - 1), st.booleans())
def a_removal_names_our_instance_too(reg_id: int, own: bool) -> None:
    """Every REGISTER naming a contact of ours -- the one removing it (Expires: 0) included --
    carries ``+sip.instance="<urn>"`` and ``reg-id`` on it (the registrar keys the binding by
    instance and reg-id, RFC 5626 §6)."""
    world = World(config=default_config(instance_id=INSTANCE, reg_id=reg_id))
    world.client.register()
    world.run(5)
    world.client.unregister()
    world.run(5)
    regs = world.sent_registers()
    removal = [r for r in regs if r.expires == 0]
    expect("RFC5626-4.2-INSTANCE-AND-REG-ID", removal, f"no removal in {len(regs)} REGISTERs")
    for request in regs:
        for contact in request.contacts:
            instance, rid = _instance_params(contact)
            expect("RFC5627-4.1-INSTANCE-ID", instance == f'"<{INSTANCE}>"',
                   f"Contact {request.headers.get('Contact')} (Expires {request.expires})")
            expect("RFC5626-4.2-INSTANCE-AND-REG-ID", rid == str(reg_id),
                   f"Contact {request.headers.get('Contact')} (Expires {request.expires})")


# --------------------------------------------------------------------------------------------
# §10.2.1 + RFC 3263 §4.1: a contact reached over TCP says so
# --------------------------------------------------------------------------------------------


@check("RFC3261-10.2.1-CONTACT-FOR-AOR")
@given(st.sampled_from(["UDP", "TCP"]), st.integers(0, 2**16))
def an_automatic_contact_names_the_transport_it_listens_on(transport: str, seed: int) -> None:
    """The Contact is the address requests for the AOR are to be sent to (§10.2.1), and a
    sender picks the transport from it: RFC 3263 §4.1, "if no transport protocol is specified,
    but the TARGET is a numeric IP address, the client SHOULD use UDP for a SIP URI".  So a
    contact registered over TCP (a TCP address of ours) carries ``;transport=tcp``, one over
    UDP none, in the REGISTER and in every refresh."""
    world = World(transport=transport, seed=seed, config=default_config(
        expires=300, registrar_target=Target(transport, REGISTRAR.host, REGISTRAR.port)))
    world.client.register()
    world.run(400)
    regs = world.sent_registers()
    rule = "RFC3261-10.2.1-CONTACT-FOR-AOR"
    expect(rule, len(regs) >= 2, f"{len(regs)} REGISTERs over {transport} in 400 s")
    want = None if transport == "UDP" else transport.lower()
    for request in regs:
        for contact in request.contacts:
            uri = contact.uri
            expect(rule, isinstance(uri, SipUri) and uri.transport == want,
                   f"Contact {uri} registered over {transport}")


# --------------------------------------------------------------------------------------------
# §10.2.1.2 / §25.1: the q of a contact is a qvalue
# --------------------------------------------------------------------------------------------

# RFC 3261 §25.1, written out: qvalue = ( "0" [ "." 0*3DIGIT ] ) / ( "1" [ "." 0*3("0") ] )
QVALUE = re.compile(r"(0(\.[0-9]{0,3})?|1(\.0{0,3})?)\Z")


@check("RFC3261-25-REQUEST-GRAMMAR")
@given(st.floats(0.0, 1.0, allow_nan=False))
def a_contact_q_is_written_as_a_qvalue(q: float) -> None:
    """§10.2.1.2: the contacts of a REGISTER are prioritised by "q"; §25.1 (and §20.10) give
    its syntax, a qvalue: 0 or 1 with at most three decimals.  Any preference 0..1 goes on the
    wire as a qvalue within half a thousandth of it."""
    world = World(config=default_config(contacts=(ContactSpec(q=q),)))
    world.client.register()
    world.run(5)
    (request, *_) = world.sent_registers()
    (contact,) = request.contacts
    raw = contact.params.get("q")
    expect("RFC3261-25-REQUEST-GRAMMAR", raw is not None and QVALUE.match(raw),
           f"Contact {request.headers.get('Contact')}: q={raw} for {q!r} is not a qvalue")
    expect("RFC3261-25-REQUEST-GRAMMAR", raw is not None and abs(float(raw) - q) <= 0.0005,
           f"q={raw} for a preference of {q!r}")

