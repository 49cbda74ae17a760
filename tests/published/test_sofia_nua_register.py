"""sofia-sip's NUA registration scenarios, ported.

Sources (repository freeswitch/sofia-sip):

* ``libsofia-sip-ua/nua/check_register.c`` -- the check-driven tests ``register_1_0_1`` ..
  ``register_1_3_3_2``: a scripted registrar (``s2_sip_respond_to``) answering each REGISTER,
  including answers whose top Via "looks very natted" (``natted_via()``: ``received=`` a public
  IP, ``rport=`` a public port).
* ``tests/test_register.c`` -- NUA-2.3.x (REGISTER a/b/c: 401, 423 negotiation, an expiry the
  registrar shortens, contact parameters), NUA-2.3.4 (refresh, re-challenged), NUA-2.6.1 (an
  unusual 2xx, 299), NUA-13.x (un-REGISTER, also from a new handle after a 401).

Each test states the scenario in our words and drives sipfsm through ``sipfsm.testing``
(virtual time).  Expected values come from RFC 3261 / RFC 3581 / RFC 2617 and from the
suite's own expectations; where sofia-sip expects something outside the RFC or against the
user's decisions (Expires header, never the Contact ``expires`` param), the test follows the RFC
and the docstring says how sofia-sip differs.

Not ported: register_1_2_2_2 (an OPTIONS keep-alive probe -- sofia's own outbound draft, not
RFC 5626's CRLF/STUN keep-alives, which tests/outbound covers), register_1_3_2_2 / NUA-2.3.5 /
register_1_3_3_2 (the server closes the TCP connection / stops answering pings: the simulator
has no connection state; tests/aio and tests/outbound cover reconnection and pong timeouts).
"""

from __future__ import annotations

from collections.abc import Sequence

import pytest

from sipfsm.message import Request, Response, SipUri, parse_uri
from sipfsm.ports import Target
from sipfsm.registration import (
    ContactSpec,
    Failed,
    FailureReason,
    Refreshed,
    Registered,
    Unregistered,
)
from sipfsm.testing import (
    REGISTRAR,
    SimWorld,
    default_config,
    interval_too_brief,
    per_transaction,
    reply,
    status,
)

from .support import (
    CLIENT_CONTACT,
    RealmCredentials,
    contact_uris,
    digest_answers,
    digest_challenge,
    echo_contacts,
    natted,
)

PUBLIC_IP = "4.255.255.9"  # check_register.c receive_natted
PUBLIC_IP2 = "4.255.255.10"  # check_register.c receive_natted2
PUBLIC_PORT = 9  # natted_via(): rport=9 over UDP


def _uri(text: str) -> SipUri:
    uri = parse_uri(text)
    assert isinstance(uri, SipUri)
    return uri


def _ok(request: Request) -> Sequence[Response]:
    return echo_contacts(param=3600)(request)


# ---- check_register.c 1.0 / 1.1 -------------------------------------------------------------


@pytest.mark.requirement("RFC3261-10.3-STEP4-AUTHORIZE")
def test_register_1_0_1_failed_register_403() -> None:
    """check_register.c ``register_1_0_1`` ("Failed Register": REGISTER returned 403).  RFC 3261
    §10.3 step 4: 403 means the user may not modify this AOR's bindings; §21.4.4: "Authorization
    will not help, and the request SHOULD NOT be repeated".  The client reports the failure with
    its status and sends nothing more."""
    world = SimWorld(per_transaction([status(403)]), config=default_config())
    world.client.register()
    failed = world.next_event(Failed, Registered, within=10)
    assert isinstance(failed, Failed)
    assert (failed.reason, failed.status) == (FailureReason.STATUS, 403)
    world.run(3600)
    assert len(world.sent_registers()) == 1


@pytest.mark.requirement("RFC3261-10.2.2-SUPPORT-REMOVAL")
def test_register_1_1_1_basic_register_and_teardown() -> None:
    """check_register.c ``register_1_1_1`` ("Basic Register", s2_register_setup() then
    s2_register_teardown()): REGISTER answered 200 with our Contact, then the un-REGISTER of
    that contact, answered 200.  RFC 3261 §10.2.2: removal is the same contact with an expiry of
    0 (user decision: ``Expires: 0`` header), same Call-ID, CSeq one higher (§10.2)."""
    world = SimWorld(per_transaction([], default=_ok), config=default_config())
    world.client.register()
    assert world.next_event(Registered, within=5).expires == 3600
    world.client.unregister()
    world.next_event(Unregistered, within=5)
    first, removal = world.sent_registers()
    assert contact_uris(removal) == [CLIENT_CONTACT] and removal.expires == 0
    assert removal.call_id == first.call_id
    assert removal.cseq.number == first.cseq.number + 1
    assert world.client.state == "unregistered" and not world.client.bound_contacts


@pytest.mark.requirement("RFC3261-22.3-CREDENTIALS-PER-REALM")
@pytest.mark.requirement("RFC3261-22.3-REORIGINATE-407")
def test_register_1_1_2_dual_authentication() -> None:
    """check_register.c ``register_1_1_2`` ("Register with dual authentication"): 407 with a
    Proxy-Authenticate for realm 1; the resend is answered 401 with a WWW-Authenticate for
    realm 2 AND the proxy's challenge again; the next REGISTER must carry BOTH Authorization
    and Proxy-Authorization, and gets 200.  RFC 3261 §22.3: each challenge is answered with the
    credentials of its realm; §22.2/§22.3: the response values are per RFC 2617 (checked here
    with hashlib)."""
    proxy = digest_challenge("s2proxy", "pn1", proxy=True)
    www = digest_challenge("s2registrar", "wn1")
    store = RealmCredentials({"s2proxy": ("alice", "proxy-secret"),
                              "s2registrar": ("alice2", "registrar-secret")})
    world = SimWorld(per_transaction([status(407, headers=[proxy]),
                                      status(401, headers=[www, proxy]), _ok]),
                     config=default_config(), credentials=store)
    world.client.register()
    assert isinstance(world.next_event(Registered, Failed, within=10), Registered)
    first, second, third = world.sent_registers()
    assert "Proxy-Authorization" not in first.headers
    assert "Proxy-Authorization" in second.headers
    final_proxy = third.headers.get("Proxy-Authorization")
    final_www = third.headers.get("Authorization")
    assert final_proxy is not None and final_www is not None
    assert digest_answers(final_proxy, method="REGISTER", username="alice",
                          password="proxy-secret", realm="s2proxy", nonce="pn1")
    assert digest_answers(final_www, method="REGISTER", username="alice2",
                          password="registrar-secret", realm="s2registrar", nonce="wn1")
    assert second.cseq.number == first.cseq.number + 1
    assert third.cseq.number == second.cseq.number + 1


# ---- check_register.c 1.2: behind a NAT (UDP) -------------------------------------------------


def _nat_config(**changes: object):  # type: ignore[no-untyped-def]
    return default_config(rewrite_contact=True, **changes)


@pytest.mark.requirement("RFC3581-3-RPORT-INCLUDE")
def test_register_1_2_1_register_behind_nat() -> None:
    """check_register.c ``register_1_2_1`` ("Register behind NAT": detect NAT, re-REGISTER):
    the 200's top Via says ``received=4.255.255.9;rport=9``; sofia re-registers with the
    public address as its contact and ends with that one contact registered.

    RFC 3581 §3/§4: the client puts ``rport`` (no value) in its Via; the server fills in the
    source address it saw.  Registering that address is sipfsm's ``rewrite_contact`` option
    (RFC 3581 itself does not ask for it).  Divergence in form (user decision: Expires header,
    never the Contact ``expires`` param): sofia's second REGISTER carries the new contact AND
    the old one with ``expires=0``; sipfsm registers the new contact, then removes the old one
    with its own REGISTER (``Expires: 0``)."""
    world = SimWorld(per_transaction([], default=natted(_ok, PUBLIC_IP, PUBLIC_PORT)),
                     config=_nat_config())
    world.client.register()
    world.run(5)
    first = world.sent_registers()[0]
    assert "rport" in first.vias[0].params and first.vias[0].params.get("rport") is None
    public = f"sip:alice@{PUBLIC_IP}:{PUBLIC_PORT}"
    assert [(contact_uris(r), r.expires) for r in world.sent_registers()] == [
        ([CLIENT_CONTACT], 3600), ([public], 3600), ([CLIENT_CONTACT], 0)]
    assert list(world.client.bound_contacts) == [public]
    assert world.client.state == "registered"


@pytest.mark.requirement("RFC3261-10.2.4-NO-REFRESH-OTHERS")
def test_register_1_2_1_nat_with_an_explicit_contact_beside() -> None:
    """register_1_2_1 with a second, application-given contact (as test_register.c NUA-2.3.2
    gives one): only the automatic contact moves to the public address; the given one is
    registered as given; once moved, the following 200s (same public address) start no further
    REGISTER -- a refresh stays one REGISTER per interval, no loop."""
    given = ContactSpec(_uri("sip:b@198.51.100.7:5060"))
    world = SimWorld(per_transaction([], default=natted(_ok, PUBLIC_IP, PUBLIC_PORT)),
                     config=_nat_config(contacts=(given, ContactSpec()), expires=600))
    world.client.register()
    world.run(5)
    public = f"sip:alice@{PUBLIC_IP}:{PUBLIC_PORT}"
    assert set(world.client.bound_contacts) == {"sip:b@198.51.100.7:5060", public}
    settled = len(world.sent_registers())
    world.run(2 * 3600)  # two refresh intervals
    later = world.sent_registers()[settled:]
    assert 1 <= len(later) <= 3
    assert all(set(contact_uris(r)) == {"sip:b@198.51.100.7:5060", public} for r in later)


@pytest.mark.requirement("RFC3261-22.2-REORIGINATE-401")
def test_register_1_2_2_1_authenticate_behind_nat() -> None:
    """check_register.c ``register_1_2_2_1`` / make_auth_natted_register(): the 401 already
    carries the natted Via.  The authenticated resend must carry exactly the one contact first
    sent ("should not unregister the previous contact as it has not been successfully
    registered"); after its 200 the client moves to the public contact.  RFC 3261 §22.2: the
    resend is the same request with credentials added."""
    challenge = natted(status(401, headers=[digest_challenge("s2test", "n1")]),
                       PUBLIC_IP, PUBLIC_PORT)
    world = SimWorld(per_transaction([challenge], default=natted(_ok, PUBLIC_IP, PUBLIC_PORT)),
                     config=_nat_config(),
                     credentials=RealmCredentials({"s2test": ("alice", "secret")}))
    world.client.register()
    world.run(5)
    sent = world.sent_registers()
    assert "Authorization" not in sent[0].headers
    assert contact_uris(sent[1]) == [CLIENT_CONTACT] and sent[1].expires == 3600
    assert "Authorization" in sent[1].headers
    assert digest_answers(sent[1].headers.get("Authorization") or "", method="REGISTER",
                          username="alice", password="secret", realm="s2test", nonce="n1")
    assert list(world.client.bound_contacts) == [f"sip:alice@{PUBLIC_IP}:{PUBLIC_PORT}"]


@pytest.mark.requirement("RFC3581-3-RPORT-INCLUDE")
def test_register_1_2_2_3_nat_binding_changes_at_refresh() -> None:
    """check_register.c ``register_1_2_2_3`` ("detect NAT binding change when re-REGISTERing"):
    registered at the public address 4.255.255.9; at the refresh (after the registration's
    hour) the 200's Via says ``received=4.255.255.10``: the NAT binding changed, the registered
    contact no longer reaches us; sofia re-REGISTERs with the newly detected contact and ends
    with only that one registered.  sipfsm's ``rewrite_contact`` promises the same ("re-register
    with the address the registrar saw ... when it differs from ours"), every time it differs,
    not only the first time.  (Form: as register_1_2_1, the stale contact is removed by its own
    REGISTER with ``Expires: 0``.)"""
    script = per_transaction([], default=natted(_ok, PUBLIC_IP, PUBLIC_PORT))
    world = SimWorld(script, config=_nat_config())
    world.client.register()
    world.run(5)
    first_public = f"sip:alice@{PUBLIC_IP}:{PUBLIC_PORT}"
    assert list(world.client.bound_contacts) == [first_public]
    script.default = natted(_ok, PUBLIC_IP2, PUBLIC_PORT)  # the NAT binding changes
    before = len(world.sent_registers())
    world.next_event(Refreshed, within=3600)
    world.run(5)
    second_public = f"sip:alice@{PUBLIC_IP2}:{PUBLIC_PORT}"
    after = [(contact_uris(r), r.expires) for r in world.sent_registers()[before:]]
    assert after == [([first_public], 3600), ([second_public], 3600), ([first_public], 0)]
    assert list(world.client.bound_contacts) == [second_public]


@pytest.mark.requirement("RFC3261-8.1.3.2-UNKNOWN-FINAL-AS-X00")
def test_register_1_2_3_error_response_with_natted_via() -> None:
    """check_register.c ``register_1_2_3`` ("Outbound activated by error response"): the first
    REGISTER is answered ``400 Bad Contact`` with a natted Via; sofia takes the hint and
    re-REGISTERs with the public contact, then gets 200.

    Divergence, written to the RFC: a 400 is a final failure of the request (RFC 3261 §21.4.1:
    malformed syntax; §8.1.3.2: the 4xx class, handled as 400); nothing in RFC 3261 or RFC 3581
    makes a 4xx's Via a reason to change the Contact and retry.  sipfsm reports the 400 as a
    failure, sends nothing more, and still records the address the registrar saw
    (``public_address``) for the application."""
    world = SimWorld(per_transaction([natted(status(400, "Bad Contact"), PUBLIC_IP,
                                             PUBLIC_PORT)]),
                     config=_nat_config(max_consecutive_failures=1))
    world.client.register()
    failed = world.next_event(Failed, Registered, within=10)
    assert isinstance(failed, Failed) and failed.status == 400
    world.run(600)
    assert len(world.sent_registers()) == 1
    assert world.client.public_address is not None
    assert (world.client.public_address.host, world.client.public_address.port) == (
        PUBLIC_IP, PUBLIC_PORT)


# ---- check_register.c 1.3: over TCP ---------------------------------------------------------


def _tcp_nat_config(**changes: object):  # type: ignore[no-untyped-def]
    return _nat_config(transport="TCP",
                       registrar_target=Target("TCP", REGISTRAR.host, REGISTRAR.port),
                       **changes)


@pytest.mark.requirement("RFC3581-3-RPORT-INCLUDE")
def test_register_1_3_1_register_over_tcp_via_nat() -> None:
    """check_register.c ``register_1_3_1`` ("Register over TCP via NAT"): REGISTER over TCP,
    the 200's Via natted (received=4.255.255.9, rport=the connection's port); sofia
    re-REGISTERs and the registered contact keeps ``transport=tcp``.  RFC 3261 §18.1.1 /
    §19.1.1: a contact reached over TCP says ``;transport=tcp``, also once rewritten."""
    world = SimWorld(per_transaction([], default=natted(_ok, PUBLIC_IP, 5099)),
                     config=_tcp_nat_config(), transport="TCP")
    world.client.register()
    world.run(5)
    sent = world.sent_registers()
    assert sent[0].vias[0].transport == "TCP"
    assert _uri(contact_uris(sent[0])[0]).transport == "tcp"
    bound = list(world.client.bound_contacts)
    assert len(bound) == 1
    rewritten = _uri(bound[0])
    assert (rewritten.host, rewritten.port, rewritten.transport) == (PUBLIC_IP, 5099, "tcp")


@pytest.mark.requirement("RFC3261-22.2-REORIGINATE-401")
def test_register_1_3_2_1_authenticate_behind_nat_over_tcp() -> None:
    """check_register.c ``register_1_3_2_1`` (1.2.2.1 over TCP): 401 with a natted Via, the
    authenticated resend over TCP carries the one contact first sent, then 200."""
    challenge = natted(status(401, headers=[digest_challenge("s2test", "n1")]), PUBLIC_IP, 5099)
    world = SimWorld(per_transaction([challenge], default=natted(_ok, PUBLIC_IP, 5099)),
                     config=_tcp_nat_config(), transport="TCP",
                     credentials=RealmCredentials({"s2test": ("alice", "secret")}))
    world.client.register()
    world.run(5)
    sent = world.sent_registers()
    assert contact_uris(sent[1]) == contact_uris(sent[0])
    assert "Authorization" in sent[1].headers and sent[1].vias[0].transport == "TCP"
    assert world.client.state == "registered"


# ---- tests/test_register.c (NUA-2.3.x, NUA-2.6.1, NUA-13.x) -----------------------------------


@pytest.mark.requirement("RFC3261-10.2.4-REFRESH-BEFORE-EXPIRY")
def test_nua_2_3_1_registrar_shortens_expiry_then_refresh() -> None:
    """test_register.c NUA-2.3.1 / NUA-2.3.4: the test proxy's expiration is set to
    (min 5, default 5, max 10) so the registration asked for an hour is granted 10 s; then set
    back to (600, 3600, 36000), so the refresh gets 3600.  RFC 3261 §10.2.4: the UA refreshes
    before the interval the registrar granted (10 s), not the one it asked for; the next
    refresh follows the new grant."""

    def registrar(request: Request) -> Sequence[Response]:
        granted = 10 if world.registrar.state.setdefault("n", 0) == 0 else 3600
        world.registrar.state["n"] += 1
        return echo_contacts(param=granted)(request)

    world = SimWorld(per_transaction([], default=registrar),
                     config=default_config(expires=3600))
    world.client.register()
    assert world.next_event(Registered, within=5).expires == 10
    refreshed = world.next_event(Refreshed, within=10)
    assert 0 < world.scheduler.now < 10 and refreshed.expires == 3600
    assert world.sent_registers()[1].expires == 3600  # asks its own interval again


@pytest.mark.requirement("RFC3261-10.2.1-CONTACT-FOR-AOR")
def test_nua_2_3_1_contact_parameters_and_q_kept() -> None:
    """test_register.c NUA-2.3.1 ``test_register_a`` (NUTAG_M_USERNAME("a"),
    NUTAG_M_PARAMS("foo=bar"), NUTAG_M_FEATURES("q=0.9")) and NUA-2.3.2: the 200 echoes the
    contact; sofia checks user ``a``, the ``foo=bar`` parameter and ``q=0.9`` survived.
    RFC 3261 §10.2.1: the Contact carries the address to bind; §10.2.1.2: q gives its
    preference.  (Sofia's display names have no counterpart in sipfsm's ContactSpec.)"""
    spec = ContactSpec(_uri("sip:a@192.0.2.10:5060;transport=udp;foo=bar"), q=0.9)

    def registrar(request: Request) -> Sequence[Response]:
        rows = [("Contact", f"{c};expires=3600") for c in request.headers.get_all("Contact")]
        return [reply(request, 200, headers=rows)]

    world = SimWorld(per_transaction([], default=registrar),
                     config=default_config(contacts=(spec,)))
    world.client.register()
    registered = world.next_event(Registered, Failed, within=5)
    assert isinstance(registered, Registered)
    (contact,) = world.sent_registers()[0].contacts
    assert isinstance(contact.uri, SipUri)
    assert (contact.uri.user, contact.uri.params.get("foo"), contact.uri.transport) == (
        "a", "bar", "udp")
    assert contact.q == pytest.approx(0.9)
    assert [(b.q, b.ours) for b in registered.bindings] == [(pytest.approx(0.9), True)]


@pytest.mark.requirement("RFC3261-10.2.8-423-RETRY")
def test_nua_2_3_3_423_negotiation_with_authentication() -> None:
    """test_register.c NUA-2.3.3 ``test_register_c`` ("Test 423 negotiation"): the client asks
    ``Expires: 5``; 401; the authenticated REGISTER gets 423 with ``Min-Expires: 600``
    (registrar minimum 600); the client resends with 600 -- challenged again (sofia allows a
    second 401 there) -- and gets 200.  RFC 3261 §10.2.8: retry with an expiry of at least
    Min-Expires; §22.2: each resend has credentials for the latest challenge; CSeq + 1 each."""
    script = [status(401, headers=[digest_challenge("test-proxy-0", "n1")]),
              interval_too_brief(600),
              status(401, headers=[digest_challenge("test-proxy-0", "n2")]),
              echo_contacts(param=600)]
    world = SimWorld(per_transaction(script), config=default_config(expires=5),
                     credentials=RealmCredentials({"test-proxy-0": ("charlie", "secret")}))
    world.client.register()
    registered = world.next_event(Registered, Failed, within=10)
    assert isinstance(registered, Registered) and registered.expires == 600
    sent = world.sent_registers()
    assert [r.expires for r in sent] == [5, 5, 600, 600]
    assert [r.cseq.number for r in sent] == [sent[0].cseq.number + i for i in range(4)]
    assert digest_answers(sent[3].headers.get("Authorization") or "", method="REGISTER",
                          username="charlie", password="secret", realm="test-proxy-0",
                          nonce="n2")


@pytest.mark.requirement("RFC3261-22.2-CACHE-CREDENTIALS")
def test_nua_2_3_4_refresh_challenged_again() -> None:
    """test_register.c NUA-2.3.4 ``test_register_refresh`` (endpoint B: its refresh sees a 401
    before the 200): registered after a 401; the refresh is challenged with a new nonce and is
    answered at once, without the user, and the refresh succeeds.  RFC 3261 §22.2: credentials
    are cached and used again; §22.2/§8.1.3.5: the new challenge is answered in a new
    transaction (CSeq + 1)."""
    script = [status(401, headers=[digest_challenge("test-proxy", "n1")]),
              echo_contacts(param=60),
              status(401, headers=[digest_challenge("test-proxy", "n2")]),
              echo_contacts(param=60)]
    world = SimWorld(per_transaction(script), config=default_config(expires=60),
                     credentials=RealmCredentials({"test-proxy": ("bob", "secret")}))
    world.client.register()
    world.next_event(Registered, within=5)
    refreshed = world.next_event(Refreshed, Failed, within=60)
    assert isinstance(refreshed, Refreshed) and refreshed.expires == 60
    sent = world.sent_registers()
    assert len(sent) == 4
    assert digest_answers(sent[3].headers.get("Authorization") or "", method="REGISTER",
                          username="bob", password="secret", realm="test-proxy", nonce="n2")


@pytest.mark.requirement("RFC3261-8.1.3.2-UNKNOWN-FINAL-AS-X00")
def test_nua_2_6_1_unknown_2xx_299_is_success() -> None:
    """test_register.c NUA-2.6.1 ``test_register_to_c``: the REGISTER is answered ``299 YES``;
    sofia reports 299 as the final answer of a successful REGISTER.  RFC 3261 §8.1.3.2: an
    unknown final response is treated as the x00 of its class -- 299 as 200, so the contacts it
    lists are read as a 200's."""
    world = SimWorld(per_transaction([echo_contacts(param=300, code=299, reason="YES")]),
                     config=default_config())
    world.client.register()
    registered = world.next_event(Registered, Failed, within=5)
    assert isinstance(registered, Registered) and registered.expires == 300


@pytest.mark.requirement("RFC3261-10.2.2-SUPPORT-REMOVAL")
def test_nua_13_1_unregister_after_authenticated_registration() -> None:
    """test_register.c NUA-13.1 / NUA-13.2 (un-REGISTER a, b): registered (after a 401); the
    un-REGISTER removes our contact (``Expires: 0``) with the cached credentials and is answered
    200.  RFC 3261 §10.2.2; §22.2: the cached credentials go with the next request for the
    realm."""
    script = [status(401, headers=[digest_challenge("test-proxy", "n1")]), _ok]
    world = SimWorld(per_transaction(script), config=default_config(),
                     credentials=RealmCredentials({"test-proxy": ("alice", "secret")}))
    world.client.register()
    world.next_event(Registered, within=5)
    world.client.unregister()
    world.next_event(Unregistered, within=5)
    removal = world.sent_registers()[-1]
    assert removal.expires == 0 and contact_uris(removal) == [CLIENT_CONTACT]
    assert world.client.state == "unregistered"


@pytest.mark.requirement("RFC3261-10.2.2-STAR-ONLY-WITH-EXPIRES-0")
def test_nua_13_3_unregister_from_a_new_handle_with_authentication() -> None:
    """test_register.c NUA-13.3 ("Unregister using another handle"): a client that registered
    nothing itself removes the AOR's bindings; the un-REGISTER is challenged (401), answered
    with credentials, and gets 200.  RFC 3261 §10.2.2: ``Contact: *`` with ``Expires: 0``
    removes every binding of the AOR; §22.2: the resend keeps the same Contact and Expires and
    adds Authorization."""
    script = [status(401, headers=[digest_challenge("test-proxy", "n1")]),
              echo_contacts(include_ours=False)]
    world = SimWorld(per_transaction(script), config=default_config(),
                     credentials=RealmCredentials({"test-proxy": ("charlie", "secret")}))
    world.client.unregister_all()
    unregistered = world.next_event(Unregistered, Failed, within=5)
    assert isinstance(unregistered, Unregistered) and unregistered.bindings == ()
    first, second = world.sent_registers()
    for request in (first, second):
        assert request.contact_star and request.expires == 0
    assert "Authorization" in second.headers and "Authorization" not in first.headers
