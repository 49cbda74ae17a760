"""belle-sip's REGISTER scenarios, ported.

Source: BelledonneCommunications/belle-sip, ``tester/belle_sip_register_tester.c``
(``register_tests[]``): "Next Nonce" (``test_register_with_next_nonce``: a registrar that
changes its nonce at every answer and hands the next one in ``Authentication-Info:
nextnonce``), "Register with DNS SRV failover TCP" (``register_dns_srv_tcp``: the first SRV
target is dead, the registration still succeeds), "TCP connection failure"
(``test_connection_failure``: nobody listens; the failure reaches the application) and
"Stateful UDP with send error".  Each test states the scenario in our words and drives sipfsm
through ``sipfsm.testing`` (virtual time); expected values come from RFC 3261, RFC 3263 and
RFC 7616 and the suite's assertions.  Not ported: the TLS, HTTP-proxy, bearer-token,
channel-management and stateless cases (transport plumbing outside the registration client)
and "Nonce reutilization" (it checks MESSAGE requests reusing the REGISTER's nonce).
"""

from __future__ import annotations

from collections.abc import Sequence

import pytest

from sipfsm.message import Request, Response
from sipfsm.ports import Target
from sipfsm.registration import Failed, FailureReason, Refreshed, Registered, Retrying
from sipfsm.sim import LinkFaults
from sipfsm.testing import (
    CLIENT,
    REGISTRAR,
    SimWorld,
    StaticResolver,
    default_config,
    per_transaction,
    reply,
    status,
)

from .support import RealmCredentials, digest_answers, digest_params

W = "WWW-Authenticate"


def _ok_with_nextnonce(nonce: str):  # type: ignore[no-untyped-def]
    def answer(request: Request) -> Sequence[Response]:
        rows = [("Contact", f"<{c.uri}>;expires=60") for c in request.contacts]
        rows.append(("Authentication-Info", f'nextnonce="{nonce}"'))
        return [reply(request, 200, headers=rows)]
    return answer


@pytest.mark.requirement("RFC7616-3.5-NEXTNONCE")
def test_next_nonce() -> None:
    """belle_sip_register_tester.c "Next Nonce": 401 (nonce n1); the answer's 200 carries
    ``Authentication-Info: nextnonce="n2"``; the next REGISTER (the refresh) must use n2 -- its
    first use, so ``nc=00000001`` -- and its 200 hands over n3 for the one after.  RFC 7616
    §3.5: "the client MUST use the nextnonce ... for its next request"; §3.4: nc counts the
    requests sent with that nonce.  The responses are checked with hashlib."""
    script = [status(401, headers=[(W, 'Digest realm="r", nonce="n1", qop="auth"')]),
              _ok_with_nextnonce("n2"), _ok_with_nextnonce("n3"), _ok_with_nextnonce("n4")]
    world = SimWorld(per_transaction(script), config=default_config(expires=60),
                     credentials=RealmCredentials({"r": ("tester", "secret")}))
    world.client.register()
    world.next_event(Registered, within=5)
    world.next_event(Refreshed, Failed, within=60)
    world.next_event(Refreshed, Failed, within=60)
    sent = world.sent_registers()
    assert len(sent) == 4
    answers = [sent[i].headers.get("Authorization") or "" for i in (1, 2, 3)]
    assert [(digest_params(a)["nonce"], digest_params(a)["nc"]) for a in answers] == [
        ("n1", "00000001"), ("n2", "00000001"), ("n3", "00000001")]
    for answer, nonce in zip(answers, ("n1", "n2", "n3"), strict=True):
        assert digest_answers(answer, method="REGISTER", username="tester", password="secret",
                              realm="r", nonce=nonce)


@pytest.mark.requirement("RFC3263-4.3-FAILOVER-NEXT")
def test_register_with_dns_srv_failover_tcp() -> None:
    """belle_sip_register_tester.c "Register with DNS SRV failover TCP": the domain's first
    SRV target (TCP) has nobody listening; the client goes on to the next one and registers,
    and no I/O error reaches the application.  RFC 3263 §4.3: on a transport failure the
    client tries the next element of the list; RFC 3261 §10.2.6: the registrar is located from
    the AOR's domain."""
    dead = Target("TCP", "192.0.2.66", 5060)
    live = Target("TCP", REGISTRAR.host, REGISTRAR.port)
    resolver = StaticResolver({"example.com": [dead, live]})
    world = SimWorld(per_transaction([], default=_ok_with_contact()), config=default_config(
        registrar_target=None, transport="TCP"), transport="TCP", resolver=resolver)
    world.client.register()
    registered = world.next_event(Registered, Failed, within=60)
    assert isinstance(registered, Registered)
    assert world.events_of(Failed) == [] and world.events_of(Retrying) == []
    assert world.client.last_target == live
    assert len(world.registrar.requests) == 1


def _ok_with_contact():  # type: ignore[no-untyped-def]
    def answer(request: Request) -> Sequence[Response]:
        rows = [("Contact", f"<{c.uri}>;expires=3600") for c in request.contacts]
        return [reply(request, 200, headers=rows)]
    return answer


@pytest.mark.requirement("RFC3261-8.1.3.1-TRANSPORT-ERROR-AS-503")
def test_tcp_connection_failure() -> None:
    """belle_sip_register_tester.c "TCP connection failure": the registrar address has nobody
    listening; the I/O error reaches the application -- more than once (``io_error_count >
    1``: the stack tries again) -- and nothing registers.  RFC 3261 §8.1.3.1 / §17.1.4: a
    transport failure is reported to the TU as a 503; §10.2.7 / RFC 5626 §4.5: the next attempt
    waits (never at once).  sipfsm reports each failed attempt as ``Retrying`` (reason
    TRANSPORT) and, with ``max_consecutive_failures``, ends with ``Failed``."""
    config = default_config(transport="TCP", max_consecutive_failures=3,
                            registrar_target=Target("TCP", "192.0.2.66", 5060))
    world = SimWorld(per_transaction([]), config=config, transport="TCP")
    world.client.register()
    first = world.next_event(Retrying, Registered, within=5)
    assert isinstance(first, Retrying) and first.reason is FailureReason.TRANSPORT
    assert first.delay > 0
    second = world.next_event(Retrying, Failed, Registered, within=3600)
    assert isinstance(second, Retrying) and second.reason is FailureReason.TRANSPORT
    failed = world.next_event(Failed, Registered, within=3600)
    assert isinstance(failed, Failed) and failed.reason is FailureReason.TRANSPORT
    assert world.events_of(Registered) == []


@pytest.mark.requirement("RFC3261-17.1.4-TRANSPORT-ERROR")
def test_stateful_udp_with_send_error() -> None:
    """belle_sip_register_tester.c "Stateful UDP with send error": every send fails; the
    register attempt must end (the test only checks it does not hang or report success).
    RFC 3261 §17.1.4: the transaction tells the TU of the transport error at once and
    terminates -- no Timer F wait.  (The simulated UDP link is down: ICMP unreachable.)"""
    world = SimWorld(per_transaction([]), config=default_config(max_consecutive_failures=1))
    world.net.set_faults(CLIENT, REGISTRAR, LinkFaults(down=True), both_ways=False)
    world.client.register()
    outcome = world.next_event(Failed, Registered, within=60)
    assert isinstance(outcome, Failed) and outcome.reason is FailureReason.TRANSPORT
    assert world.scheduler.now < 1.0  # told at once, not after Timer F (32 s)
    assert world.client.state != "registered"
