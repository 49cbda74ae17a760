"""liblinphone's and libre's registration scenarios, ported.

Sources:

* BelledonneCommunications/liblinphone, ``tester/register_tester.c`` (``register_tests[]``,
  run against a Flexisip server): "Register with refresh and send error", "Digest auth with
  wrong credentials, check if registration attempts are stopped", "Simple redirect", "Change
  expires", "Authenticated register with refresh", "UDP register" / "TCP register".
* baresip/re, ``test/sipreg.c`` (``test_sipreg_udp``, ``test_sipreg_tcp``: a REGISTER over
  each transport gets its 200 back over that transport).

Each test states the scenario in our words and drives sipfsm through ``sipfsm.testing``
(virtual time); expected values come from RFC 3261 / RFC 5626 and from the suites' assertions.
Not ported: the TLS, GRUU-on-Flexisip, multi-account, network-reachability, IPv6-preference and
"MD5 rejected by policy" cases (they test liblinphone's configuration API or a live server).
"""

from __future__ import annotations

import pytest

from sipfsm.ports import HostPort, Target
from sipfsm.registration import (
    Failed,
    FailureReason,
    Refreshed,
    Registered,
    Retrying,
)
from sipfsm.sim import LinkFaults
from sipfsm.testing import (
    CLIENT,
    REGISTRAR,
    SimWorld,
    default_config,
    per_transaction,
    redirect,
    status,
)

from .support import (
    CLIENT_CONTACT,
    RealmCredentials,
    contact_uris,
    digest_params,
    echo_contacts,
)

W = "WWW-Authenticate"


@pytest.mark.requirement("RFC3261-10.2.4-REFRESH-BEFORE-EXPIRY")
def test_register_with_refresh_and_send_error() -> None:
    """register_tester.c "Register with refresh and send error": registered (with
    authentication), then every send fails; liblinphone goes back to "progress" (trying again)
    and never to "failed" or "cleared".  RFC 3261 §8.1.3.1: the failed send is a 503-like
    failure of that refresh; sipfsm keeps retrying while the application asked for no limit.
    The retry waits (no immediate resend, §10.2.7) but stays within RFC 5626 §4.5's bound
    (min(max-time, base * 2**1) = 60 s for a first failure) and lands before the granted 60 s
    run out (§10.2.4) -- and once the network is back the binding is refreshed."""
    config = default_config(expires=60, transport="TCP",
                            registrar_target=Target("TCP", REGISTRAR.host, REGISTRAR.port))
    world = SimWorld(per_transaction([status(401, headers=[
        (W, 'Digest realm="sip.example.org", nonce="n1", qop="auth"')])],
        default=echo_contacts(param=60)), config=config, transport="TCP",
        credentials=RealmCredentials({"sip.example.org": ("liblinphone", "secret")}))
    world.client.register()
    world.next_event(Registered, within=5)
    world.net.set_faults(CLIENT, REGISTRAR, LinkFaults(down=True), both_ways=False)
    retrying = world.next_event(Retrying, Failed, Refreshed, within=60)
    assert isinstance(retrying, Retrying) and retrying.reason is FailureReason.TRANSPORT
    assert 0 < retrying.delay <= 60.0
    assert world.scheduler.now + retrying.delay < 60.0  # registered at t=0 for 60 s
    world.run(200)
    assert world.events_of(Failed) == []
    world.net.set_faults(CLIENT, REGISTRAR, LinkFaults(), both_ways=False)
    assert isinstance(world.next_event(Registered, Refreshed, within=1900),
                      Registered | Refreshed)


@pytest.mark.requirement("RFC3261-22.1-NO-RESEND-REJECTED")
def test_wrong_credentials_registration_attempts_are_stopped() -> None:
    """register_tester.c "Digest auth with wrong credentials, check if registration attempts
    are stopped" (and "... without 403"): the password is wrong, so the server challenges the
    answer again (401, a new nonce, no stale); the client must stop -- no further REGISTER, not
    even much later.  RFC 3261 §22.1: "A UAC MUST NOT re-attempt requests with the credentials
    that have just been rejected"; RFC 7616 §3.3: no stale means the password is wrong."""
    world = SimWorld(per_transaction([status(401, headers=[(W, f'Digest realm="r", nonce="{n}"')])
                                      for n in range(1, 10)]),
                     config=default_config(),
                     credentials=RealmCredentials({"r": ("liblinphone", "wrong")}))
    world.client.register()
    failed = world.next_event(Failed, Registered, within=10)
    assert isinstance(failed, Failed)
    assert (failed.reason, failed.status) == (FailureReason.AUTH, 401)
    world.run(4 * 3600)
    assert len(world.sent_registers()) == 2


@pytest.mark.requirement("RFC3261-8.1.3.4-USE-CONTACTS")
def test_simple_redirect() -> None:
    """register_tester.c "Simple redirect": the server answers the REGISTER with a 302 naming
    another server; the client registers there.  RFC 3261 §8.1.3.4: the new request goes to the
    Contact of the 3xx, its Request-URI the Contact URI; To, From and Call-ID unchanged."""
    other = HostPort("192.0.2.99", 5070)
    world = SimWorld(registrars={
        REGISTRAR: per_transaction([redirect(f"sip:{other.host}:{other.port}")]),
        other: per_transaction([], default=echo_contacts(param=600)),
    }, config=default_config())
    world.client.register()
    registered = world.next_event(Registered, Failed, within=10)
    assert isinstance(registered, Registered) and registered.expires == 600
    first, second = world.sent_registers()
    assert str(second.uri) == f"sip:{other.host}:{other.port}"
    assert (second.call_id, str(second.to.uri), str(second.from_.uri)) == (
        first.call_id, str(first.to.uri), str(first.from_.uri))
    assert len(world.registrars[other].requests) == 1


@pytest.mark.requirement("RFC3261-10.2.1-SUBSEQUENT-REGISTRATIONS")
def test_change_expires() -> None:
    """register_tester.c "Change expires": registered, then the account's expires is changed;
    a new REGISTER asks the new interval and the registration is updated.  RFC 3261 §10.2.1: a
    later REGISTER modifies the binding; §10.2: same Call-ID, CSeq + 1."""
    world = SimWorld(per_transaction([], default=echo_contacts()),
                     config=default_config(expires=3600))
    world.client.register()
    world.next_event(Registered, within=5)
    world.client.register(expires=600)
    updated = world.next_event(Registered, Refreshed, within=5)
    assert updated.expires == 600
    first, second = world.sent_registers()
    assert second.expires == 600 and second.call_id == first.call_id
    assert second.cseq.number == first.cseq.number + 1
    assert contact_uris(second) == [CLIENT_CONTACT]


@pytest.mark.requirement("RFC3261-22.2-CACHE-CREDENTIALS")
def test_authenticated_register_with_refresh() -> None:
    """register_tester.c "Authenticated register with refresh": registered after a 401; the
    refresh goes out with the cached credentials (no new challenge needed) and succeeds.
    RFC 3261 §22.2: "UAs SHOULD cache the credentials ... and attempt to re-use these values on
    the next request"; RFC 7616 §3.4: the reused nonce goes with the next nonce count."""
    world = SimWorld(per_transaction([status(401, headers=[
        (W, 'Digest realm="r", nonce="n1", qop="auth"')])], default=echo_contacts(param=60)),
        config=default_config(expires=60),
        credentials=RealmCredentials({"r": ("liblinphone", "secret")}))
    world.client.register()
    world.next_event(Registered, within=5)
    refreshed = world.next_event(Refreshed, Failed, within=60)
    assert isinstance(refreshed, Refreshed)
    refresh = world.sent_registers()[2]
    p = digest_params(refresh.headers.get("Authorization") or "")
    assert (p["nonce"], p["nc"]) == ("n1", "00000002")
    assert len(world.sent_registers()) == 3


@pytest.mark.requirement("RFC3261-18.1.1-SENT-BY")
@pytest.mark.parametrize("transport", ["UDP", "TCP"])
def test_register_over_udp_and_tcp(transport: str) -> None:
    """register_tester.c "UDP register" / "TCP register" and re test/sipreg.c
    ``test_sipreg_udp`` / ``test_sipreg_tcp``: a REGISTER over each transport is answered 200
    over that transport.  RFC 3261 §18.1.1: the top Via names the transport the request went
    by; the Contact of a TCP registration says ``;transport=tcp``."""
    config = default_config(transport=transport,
                            registrar_target=Target(transport, REGISTRAR.host, REGISTRAR.port))
    world = SimWorld(per_transaction([], default=echo_contacts(param=3600)), config=config,
                     transport=transport)
    world.client.register()
    assert isinstance(world.next_event(Registered, Failed, within=5), Registered)
    (request,) = world.sent_registers()
    assert request.vias[0].transport == transport
    contact = request.contacts[0].uri
    assert getattr(contact, "transport", None) == ("tcp" if transport == "TCP" else None)
    received = [e for e in world.recorder.select(local=CLIENT, direction="received")]
    assert received and all(e.transport == transport for e in received)
