"""Asterisk's outbound-registration tests, ported.

Source: asterisk/testsuite, ``tests/channels/pjsip/registration/outbound/`` -- each test a
SIPp registrar scenario (``sipp/*.xml``) plus Asterisk's ``pjsip.conf`` and the outcome the
test expects (``test-config.yaml``): ``auth_loop``, ``forbidden_retry`` and ``fatal_retry``
(their "no-retry" halves), ``failover``, ``interval_too_brief`` (scenarios 1 and 2) and
``unregister/unauthed``.  Each test states the scenario in our words and drives sipfsm through
``sipfsm.testing`` (virtual time); expected values come from RFC 3261 / RFC 3263 / RFC 2617
and the suite's scenarios.

One difference runs through the suite: its SIPp registrars answer 200 with ``Contact:`` the
REGISTRAR's own address (``<sip:[local_ip]:[local_port];transport=...>``) and an ``Expires``
header, not the client's binding.  RFC 3261 §10.3 step 8 says the 200 "MUST contain Contact
header field values enumerating all current bindings", and §10.2.4 has the UA find its own
contact there (§19.1.4) -- sipfsm does not call itself registered on such a 200
(test_200_listing_the_registrar_own_contact).  The other ports answer with the client's
contact, as RFC 3261 requires, so that the scenario's own point is what is tested.  Not ported:
the "retry" halves of forbidden_retry / fatal_retry (Asterisk options that retry after a
403/400) and line_parameter / sec_agreement_required (Asterisk and 3GPP TS 24.229 features).
"""

from __future__ import annotations

import pytest

from sipfsm.errors import ConfigError
from sipfsm.message import SipUri, parse_uri
from sipfsm.ports import HostPort, Target
from sipfsm.registration import (
    ContactMissing,
    Failed,
    FailureReason,
    Registered,
    RegistrationConfig,
    Unregistered,
)
from sipfsm.testing import (
    REGISTRAR,
    SimWorld,
    StaticResolver,
    default_config,
    per_transaction,
    status,
)

from .support import RealmCredentials, digest_params, echo_contacts

W = "WWW-Authenticate"
NONCE = "47ebe028cda119c35d4877b383027d28da013815"  # the scenarios' first nonce
NONCE2 = "47ebe028cda119c35d4877b383027d28da014233"  # interval_too_brief scenario 2's second


def _uri(text: str) -> SipUri:
    uri = parse_uri(text)
    assert isinstance(uri, SipUri)
    return uri


@pytest.mark.requirement("RFC3261-22.1-NO-RESEND-REJECTED")
def test_auth_loop() -> None:
    """auth_loop (uas-reg-401.xml): 401 (nonce ...815); the authenticated REGISTER gets 401
    again (another nonce, no stale); Asterisk must report the registration "Rejected" and send
    nothing more (the scenario waits to be sure).  RFC 3261 §22.1: credentials just rejected
    are not resent."""
    script = [status(401, headers=[(W, f'Digest realm="asterisk", nonce="{NONCE}"')]),
              status(401, headers=[(W, 'Digest realm="asterisk", '
                                       'nonce="47ebe028cda3284789cda42390815234bcedf"')])]
    world = SimWorld(per_transaction(script), config=default_config(),
                     credentials=RealmCredentials({"asterisk": ("myself", "me-me")}))
    world.client.register()
    failed = world.next_event(Failed, Registered, within=10)
    assert isinstance(failed, Failed)
    assert (failed.reason, failed.status) == (FailureReason.AUTH, 401)
    world.run(3 * 3600)
    assert len(world.sent_registers()) == 2


def _authenticated_then(final: int) -> SimWorld:
    """forbidden_retry / fatal_retry, "no-retry" registrar (port 5066): 401 realm
    test.example.com, then ``final`` to the authenticated REGISTER."""
    config = default_config(registrar=_uri("sip:127.0.0.1:5066"))
    world = SimWorld(per_transaction([
        status(401, "Authorization Required",
               headers=[(W, f'Digest realm="test.example.com", nonce="{NONCE}"')]),
        status(final)]), config=config,
        credentials=RealmCredentials({"test.example.com": ("alice", "blah")}))
    world.client.register()
    return world


@pytest.mark.requirement("RFC3261-10.3-STEP4-AUTHORIZE")
def test_forbidden_no_retry() -> None:
    """forbidden_retry, register-no-retry.xml (``forbidden_retry_interval=0``): 401, then the
    authenticated REGISTER -- checked for ``username=alice``, the nonce, and the response value
    -- gets 403; no REGISTER follows (the scenario waits 25 s).  RFC 3261 §21.4.4: for 403
    "Authorization will not help, and the request SHOULD NOT be repeated".

    The suite's response value (``f2e4537a...``) is computed over Asterisk's Request-URI
    ``sip:alice@127.0.0.1:5066``; RFC 3261 §10.2 says the REGISTER Request-URI's "userinfo and
    "@" components of the SIP URI MUST NOT be present", so sipfsm refuses that URI (checked
    below) and registers to ``sip:127.0.0.1:5066``; the RFC 2617 response for it, computed
    apart from sipfsm with the same user, realm, password "blah" and nonce, is
    ``82f3fbb0b9bd5947b7e78ff46f957564``."""
    world = _authenticated_then(403)
    failed = world.next_event(Failed, Registered, within=10)
    assert isinstance(failed, Failed) and failed.status == 403
    world.run(3600)
    first, second = world.sent_registers()
    assert "Authorization" not in first.headers
    p = digest_params(second.headers.get("Authorization") or "")
    assert (p["username"], p["nonce"], p["uri"]) == ("alice", NONCE, "sip:127.0.0.1:5066")
    assert p["response"] == "82f3fbb0b9bd5947b7e78ff46f957564"
    with pytest.raises(ConfigError) as caught:
        RegistrationConfig(aor=_uri("sip:alice@127.0.0.1"),
                           registrar=_uri("sip:alice@127.0.0.1:5066"))
    assert caught.value.spec_id == "RFC3261-10.2-REQUEST-URI-DOMAIN"


@pytest.mark.requirement("RFC3261-8.1.3.2-UNKNOWN-FINAL-AS-X00")
def test_fatal_no_retry() -> None:
    """fatal_retry, register-no-retry.xml: as forbidden_retry but the authenticated REGISTER
    gets ``400 Bad Request``; with Asterisk's fatal_retry_interval unset no REGISTER follows.
    RFC 3261 §21.4.1 / §8.1.3.2: a 4xx is a final failure of the request; nothing in the RFC
    asks to repeat it unchanged."""
    world = _authenticated_then(400)
    failed = world.next_event(Failed, Registered, within=10)
    assert isinstance(failed, Failed) and failed.status == 400
    world.run(3600)
    assert len(world.sent_registers()) == 2


@pytest.mark.requirement("RFC3261-21.5.4-503-ALTERNATE-SERVER")
def test_failover_503_then_next_srv_target() -> None:
    """failover (uas-503.xml on the SRV record of priority 0, uas-ignore.xml on priority 1):
    ``sip:example.com`` resolves by SRV to "fast" (port 5061) then "slow" (5062); fast answers
    503 (no Retry-After), the client must go on to slow and register there.  RFC 3261 §21.5.4:
    on 503 the client "MAY attempt to forward the request to an alternate server"; RFC 3263
    §4.3: a 503 moves to the next element of the resolved list.  (The resolver's answer is the
    SRV order; RFC 2782 ordering itself is spec/dns.toml's.)"""
    fast, slow = HostPort("192.0.2.61", 5061), HostPort("192.0.2.62", 5062)
    resolver = StaticResolver({"example.com": [Target("UDP", fast.host, fast.port),
                                               Target("UDP", slow.host, slow.port)]})
    world = SimWorld(registrars={fast: per_transaction([], default=status(503)),
                                 slow: per_transaction([], default=echo_contacts())},
                     config=default_config(registrar_target=None), resolver=resolver)
    world.client.register()
    assert isinstance(world.next_event(Registered, Failed, within=60), Registered)
    assert [len(world.registrars[h].requests) for h in (fast, slow)] == [1, 1]
    assert world.client.last_target == Target("UDP", slow.host, slow.port)


@pytest.mark.requirement("RFC3261-10.2.8-423-RETRY")
@pytest.mark.parametrize("after_auth", [False, True], ids=["scenario1", "scenario2"])
def test_interval_too_brief(after_auth: bool) -> None:
    """interval_too_brief, uas-reg-423-scenario1.xml (423 before authentication) and
    -scenario2.xml (423 after it, then a fresh 401 with a new nonce): Asterisk asks
    ``expiration=10``; 423 with ``Min-Expires: 20``; every later REGISTER must say ``Expires:
    20`` (the scenarios check the header), and the registration succeeds.  RFC 3261 §10.2.8:
    retry with an interval of at least Min-Expires; §22.2: a new challenge is answered with
    the new nonce."""
    challenge = status(401, headers=[(W, f'Digest realm="asterisk", nonce="{NONCE}"')])
    too_brief = status(423, headers=[("Min-Expires", "20")])
    if after_auth:
        script = [challenge, too_brief,
                  status(401, headers=[(W, f'Digest realm="asterisk", nonce="{NONCE2}"')])]
    else:
        script = [too_brief, challenge]
    world = SimWorld(per_transaction(script, default=echo_contacts(header=20)),
                     config=default_config(expires=10),
                     credentials=RealmCredentials({"asterisk": ("myself", "me-me")}))
    world.client.register()
    registered = world.next_event(Registered, Failed, within=10)
    assert isinstance(registered, Registered) and registered.expires == 20
    sent = world.sent_registers()
    # scenario 1: 423, 401, 200; scenario 2: 401, 423, 401, 200
    assert [r.expires for r in sent] == ([10, 10, 20, 20] if after_auth else [10, 20, 20])
    if after_auth:
        assert digest_params(sent[-1].headers.get("Authorization") or "")["nonce"] == NONCE2


@pytest.mark.requirement("RFC3261-10.2.4-REFRESH-BEFORE-EXPIRY")
def test_200_listing_the_registrar_own_contact() -> None:
    """The suite's 200 form (interval_too_brief, failover/uas-ignore.xml, unregister.xml):
    ``Contact: <sip:[local_ip]:[local_port];transport=udp>`` -- the registrar's own address --
    and ``Expires: 20``; Asterisk reports "Registered".

    Divergence, written to the RFC: RFC 3261 §10.3 step 8: the 200 "MUST contain Contact
    header field values enumerating all current bindings"; §10.2.4: the UA "compares each
    contact address to see if it created the contact address, using comparison rules in
    Section 19.1.4" and takes its expiry from that one.  Ours is not listed, so sipfsm reports
    ``ContactMissing``, tries again (bounded) and fails with reason CONTACT_MISSING instead of
    claiming a binding the registrar did not report."""
    registrar_contact = f"<sip:{REGISTRAR.host}:{REGISTRAR.port};transport=udp>"
    world = SimWorld(per_transaction([], default=echo_contacts(
        header=20, include_ours=False, extra=[registrar_contact])),
        config=default_config(expires=10))
    world.client.register()
    failed = world.next_event(Failed, Registered, within=60)
    assert isinstance(failed, Failed) and failed.reason is FailureReason.CONTACT_MISSING
    assert world.events_of(ContactMissing)


@pytest.mark.requirement("RFC3261-10.2.2-SUPPORT-REMOVAL")
@pytest.mark.parametrize("transport", ["UDP", "TCP"])
def test_unregister_unauthed(transport: str) -> None:
    """unregister/unauthed (unregister.xml, UDP and TCP): registered without authentication;
    the PJSIPUnregister action must send a REGISTER whose ``Expires`` is 0 (the scenario checks
    the header), answered 200 -> "Unregistered".  RFC 3261 §10.2.2 (user decision: the Expires
    header, not the Contact parameter)."""
    config = default_config(transport=transport,
                            registrar_target=Target(transport, REGISTRAR.host, REGISTRAR.port))
    world = SimWorld(per_transaction([], default=echo_contacts()), config=config,
                     transport=transport)
    world.client.register()
    world.next_event(Registered, within=5)
    world.client.unregister()
    assert isinstance(world.next_event(Unregistered, Failed, within=5), Unregistered)
    removal = world.sent_registers()[-1]
    assert removal.headers.get("Expires") == "0"
    assert all("expires" not in c.params for c in removal.contacts)
    assert removal.vias[0].transport == transport
