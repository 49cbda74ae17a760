"""The embedded registrar's core, rule by rule (RFC 3261 §10.3 and the UAS rules around it)."""

from __future__ import annotations

from typing import Any

import pytest

from sipfsm.errors import ConfigError
from sipfsm.message import Response, parse, parse_date
from sipfsm.ports import HostPort
from sipfsm.registrar import Registrar, RegistrarConfig, canonical_aor
from sipfsm.registrar.core import REASONS

from .support import (
    AOR,
    DOMAIN,
    SOURCE,
    authorization,
    contact_expiries,
    expected_rspauth,
    handle,
    make_registrar,
    register,
    sip,
)

AUTH = RegistrarConfig(users={"alice": "secret", "bob": "hunter2"}, domains=frozenset({DOMAIN}))


def authenticated(
    registrar: Registrar,
    *,
    password: str = "secret",
    username: str = "alice",
    cseq: int = 1,
    **kwargs: Any,
) -> tuple[Response, str]:
    """REGISTER, take the 401's first challenge, answer it; (final response, challenge)."""
    first = handle(registrar, register(cseq=cseq, **kwargs))
    assert first.status == 401
    challenge = first.www_authenticate[0]
    creds = authorization(challenge, username=username, password=password)
    second = handle(registrar, register(cseq=cseq + 1, extra=[("Authorization", creds)], **kwargs))
    return second, challenge


# -- basic registration, step 8 -----------------------------------------------------------------


@pytest.mark.requirement("RFC3261-10.3-STEP8-RESPONSE-EMBEDDED")
def test_200_lists_every_binding_with_its_remaining_expiry_and_a_date() -> None:
    registrar, clock = make_registrar()
    first = handle(registrar, register(contacts=["<sip:alice@192.0.2.10>"], expires=600))
    assert first.status == 200
    clock.advance(100)
    second = handle(
        registrar,
        register(contacts=["<sip:alice@198.51.100.7:5070>;+sip.instance=\"<urn:x>\""],
                 expires=300, call_id="other-device"),
    )
    assert second.status == 200
    assert contact_expiries(second) == {
        "sip:alice@192.0.2.10": 500,
        "sip:alice@198.51.100.7:5070": 300,
    }
    # the contact's own parameters are kept
    assert any("+sip.instance" in c.params for c in second.contacts)
    date = second.date
    assert date is not None
    assert date.timestamp() == int(clock.wall())
    raw = second.headers.get("Date")
    assert raw is not None and parse_date(raw) == date


@pytest.mark.requirement("RFC3261-10.3-STEP8-RESPONSE-EMBEDDED")
def test_query_without_contact_returns_current_bindings() -> None:
    registrar, clock = make_registrar()
    handle(registrar, register(expires=120))
    clock.advance(20.5)
    query = handle(registrar, register(contacts=[], cseq=2))
    assert query.status == 200
    assert contact_expiries(query) == {"sip:alice@192.0.2.10:5060": 100}  # 99.5 rounded up
    assert [b.expires for b in registrar.bindings(AOR)] == [100]


@pytest.mark.requirement("RFC3261-10.3-STEP8-RESPONSE-EMBEDDED")
def test_query_of_an_unknown_aor_is_an_empty_200() -> None:
    registrar, _ = make_registrar()
    query = handle(registrar, register(contacts=[]))
    assert query.status == 200
    assert query.contacts == []
    assert query.date is not None


@pytest.mark.requirement("RFC3261-10.3-STEP7-EXPIRATION-EMBEDDED")
def test_bindings_expire_by_the_clock_and_the_aor_is_forgotten() -> None:
    registrar, clock = make_registrar()
    handle(registrar, register(expires=60))
    clock.advance(59.9)
    assert len(registrar.bindings(AOR)) == 1
    clock.advance(0.2)
    assert registrar.bindings(AOR) == []
    assert registrar.aors() == []
    assert handle(registrar, register(contacts=[], cseq=2)).contacts == []


# -- step 7: expiry --------------------------------------------------------------------------


@pytest.mark.requirement("RFC3261-10.3-STEP7-EXPIRATION-EMBEDDED")
def test_contact_expires_param_wins_over_header_which_wins_over_default() -> None:
    registrar, _ = make_registrar(RegistrarConfig(default_expires=1800))
    response = handle(
        registrar,
        register(contacts=["<sip:a@192.0.2.1>;expires=120", "<sip:b@192.0.2.1>"], expires=240),
    )
    assert contact_expiries(response) == {"sip:a@192.0.2.1": 120, "sip:b@192.0.2.1": 240}
    response = handle(registrar, register(contacts=["<sip:c@192.0.2.1>"], call_id="x"))
    assert contact_expiries(response)["sip:c@192.0.2.1"] == 1800


@pytest.mark.requirement("RFC3261-10.3-STEP7-EXPIRATION-EMBEDDED")
def test_expiry_above_max_is_cut_to_max() -> None:
    registrar, _ = make_registrar(RegistrarConfig(max_expires=900))
    response = handle(registrar, register(expires=7200))
    assert contact_expiries(response) == {"sip:alice@192.0.2.10:5060": 900}


@pytest.mark.requirement("RFC3261-10.3-STEP7-EXPIRATION-EMBEDDED")
def test_malformed_expires_header_is_400() -> None:
    registrar, _ = make_registrar()
    response = handle(registrar, register(expires="soon"))
    assert response.status == 400
    assert registrar.bindings(AOR) == []


# -- step 7: 423 ----------------------------------------------------------------------------


@pytest.mark.requirement("RFC3261-10.3-STEP7-423-MIN-EXPIRES-EMBEDDED")
@pytest.mark.parametrize(
    ("requested", "status"), [(1, 423), (59, 423), (60, 200), (61, 200), (0, 200), (3600, 200)]
)
def test_423_only_below_min_expires_and_above_zero(requested: int, status: int) -> None:
    registrar, _ = make_registrar(RegistrarConfig(min_expires=60))
    response = handle(registrar, register(expires=requested))
    assert response.status == status
    if status == 423:
        assert response.min_expires == 60
        assert response.reason == "Interval Too Brief"
        assert registrar.bindings(AOR) == []


@pytest.mark.requirement("RFC3261-10.3-STEP7-423-MIN-EXPIRES-EMBEDDED")
def test_no_423_for_an_hour_or_more_even_with_a_larger_minimum() -> None:
    registrar, _ = make_registrar(RegistrarConfig(min_expires=7200, max_expires=86400))
    assert handle(registrar, register(expires=3599)).status == 423
    response = handle(registrar, register(expires=3600, call_id="c2"))
    assert response.status == 200


@pytest.mark.requirement("RFC3261-10.3-STEP7-423-MIN-EXPIRES-EMBEDDED")
@pytest.mark.requirement("RFC3261-10.3-STEP7-COMMIT-EMBEDDED")
@pytest.mark.requirement("RFC3261-10.3-ORDERED-ATOMIC-EMBEDDED")
def test_one_too_brief_contact_refuses_the_whole_request() -> None:
    registrar, _ = make_registrar(RegistrarConfig(min_expires=60))
    handle(registrar, register(contacts=["<sip:old@192.0.2.1>"], expires=600))
    before = registrar.bindings(AOR)
    response = handle(
        registrar,
        register(contacts=["<sip:new@192.0.2.1>;expires=600", "<sip:old@192.0.2.1>;expires=10"],
                 cseq=2),
    )
    assert response.status == 423
    assert registrar.bindings(AOR) == before


# -- step 7: Call-ID / CSeq ----------------------------------------------------------------


@pytest.mark.requirement("RFC3261-10.3-STEP7-BINDING-UPDATE-EMBEDDED")
def test_same_call_id_needs_a_higher_cseq() -> None:
    registrar, _ = make_registrar()
    handle(registrar, register(expires=600, cseq=5))
    stale = handle(registrar, register(expires=0, cseq=4))  # out of order: ignored
    assert stale.status == 200
    assert contact_expiries(stale) == {"sip:alice@192.0.2.10:5060": 600}
    same = handle(registrar, register(expires=0, cseq=5))  # not higher: ignored too
    assert len(same.contacts) == 1
    newer = handle(registrar, register(expires=0, cseq=6))
    assert newer.contacts == []
    assert registrar.bindings(AOR) == []


@pytest.mark.requirement("RFC3261-10.3-STEP7-BINDING-UPDATE-EMBEDDED")
def test_other_call_id_updates_or_removes_whatever_the_cseq() -> None:
    registrar, clock = make_registrar()
    handle(registrar, register(expires=600, cseq=50))
    clock.advance(10)
    update = handle(registrar, register(expires=300, cseq=1, call_id="reboot"))
    assert contact_expiries(update) == {"sip:alice@192.0.2.10:5060": 300}
    [binding] = registrar.bindings(AOR)
    assert (binding.call_id, binding.cseq) == ("reboot", 1)
    remove = handle(registrar, register(expires=0, cseq=1, call_id="third"))
    assert remove.contacts == []


@pytest.mark.requirement("RFC3261-10.3-STEP7-BINDING-UPDATE-EMBEDDED")
def test_bindings_are_matched_by_uri_comparison() -> None:
    registrar, _ = make_registrar()
    handle(registrar, register(contacts=["<sip:alice@Host.Example.COM;transport=udp>"], expires=60))
    response = handle(
        registrar,
        register(contacts=["\"Alice\" <sip:alice@host.example.com;Transport=UDP>"], expires=0,
                 cseq=2),
    )
    assert response.contacts == []


# -- step 6: Contact: * --------------------------------------------------------------------------


@pytest.mark.requirement("RFC3261-10.3-STEP6-WILDCARD-EMBEDDED")
def test_star_with_expires_zero_removes_all_bindings() -> None:
    registrar, _ = make_registrar()
    handle(registrar, register(contacts=["<sip:a@192.0.2.1>", "<sip:b@192.0.2.1>"], expires=600))
    handle(registrar, register(contacts=["<sip:c@192.0.2.1>"], expires=600, call_id="other"))
    response = handle(registrar, register(contacts=["*"], expires=0, cseq=2))
    assert response.status == 200
    assert response.contacts == []
    assert registrar.aors() == []


@pytest.mark.requirement("RFC3261-10.3-STEP6-WILDCARD-EMBEDDED")
@pytest.mark.parametrize(
    ("contacts", "expires"),
    [(["*"], 60), (["*"], None), (["*", "<sip:a@192.0.2.1>"], 0), (["*, <sip:a@192.0.2.1>"], 0)],
)
def test_star_is_400_unless_alone_with_expires_zero(
    contacts: list[str], expires: int | None
) -> None:
    registrar, _ = make_registrar()
    handle(registrar, register(expires=600))
    response = handle(registrar, register(contacts=contacts, expires=expires, cseq=2))
    assert response.status == 400
    assert len(registrar.bindings(AOR)) == 1


@pytest.mark.requirement("RFC3261-10.3-STEP6-WILDCARD-EMBEDDED")
def test_star_keeps_a_binding_of_the_same_call_id_with_a_cseq_not_lower() -> None:
    registrar, _ = make_registrar()
    handle(registrar, register(contacts=["<sip:a@192.0.2.1>"], expires=600, cseq=9))
    handle(registrar, register(contacts=["<sip:b@192.0.2.1>"], expires=600, cseq=1, call_id="x"))
    response = handle(registrar, register(contacts=["*"], expires=0, cseq=3))
    assert [str(c.uri) for c in response.contacts] == ["sip:a@192.0.2.1"]


# -- steps 1, 2, 5 --------------------------------------------------------------------------------


@pytest.mark.requirement("RFC3261-10.3-STEP1-DOMAIN-EMBEDDED")
def test_foreign_domain_is_404_and_ip_literal_request_uri_is_ours() -> None:
    registrar, _ = make_registrar(RegistrarConfig(domains=frozenset({"Example.COM"})))
    assert handle(registrar, register(ruri="sip:elsewhere.org")).status == 404
    assert handle(registrar, register(ruri="sip:EXAMPLE.com")).status == 200
    assert handle(registrar, register(ruri="sip:192.0.2.1:5060", call_id="c2")).status == 200


@pytest.mark.requirement("RFC3261-10.3-STEP1-DOMAIN-EMBEDDED")
def test_without_domains_any_domain_is_served() -> None:
    registrar, _ = make_registrar()
    response = handle(registrar, register(ruri="sip:anything.test", aor="sip:bob@anything.test"))
    assert response.status == 200


@pytest.mark.requirement("RFC3261-8.2.2.1-URI-SCHEME-416-EMBEDDED")
def test_non_sip_request_uri_is_416() -> None:
    registrar, _ = make_registrar()
    assert handle(registrar, register(ruri="tel:+15551234")).status == 416


@pytest.mark.requirement("RFC3261-10.3-STEP2-REQUIRE-EMBEDDED")
def test_unknown_require_is_420_listing_exactly_the_unknown_tags() -> None:
    registrar, _ = make_registrar(RegistrarConfig(supported=frozenset({"path"})))
    response = handle(registrar, register(extra=[("Require", "path, foo"), ("Require", "bar")]))
    assert response.status == 420
    assert response.unsupported == ["foo", "bar"]
    assert registrar.bindings(AOR) == []
    ok = handle(registrar, register(extra=[("Require", "path")], call_id="c2"))
    assert ok.status == 200
    assert ok.supported == ["path"]


@pytest.mark.requirement("RFC3261-10.3-STEP5-AOR-EMBEDDED")
def test_aor_outside_our_domains_or_not_sip_is_404() -> None:
    registrar, _ = make_registrar(RegistrarConfig(domains=frozenset({DOMAIN})))
    assert handle(registrar, register(aor="sip:alice@elsewhere.org")).status == 404
    assert handle(registrar, register(aor="tel:+15551234")).status == 404


@pytest.mark.requirement("RFC3261-10.3-STEP5-AOR-EMBEDDED")
def test_unknown_user_is_404_when_users_restrict() -> None:
    registrar, _ = make_registrar(RegistrarConfig(users={"alice": "x"}, authenticate=False))
    assert handle(registrar, register(aor="sip:mallory@example.com")).status == 404
    assert handle(registrar, register()).status == 200


@pytest.mark.requirement("RFC3261-10.3-STEP5-AOR-EMBEDDED")
def test_aor_is_canonicalised_parameters_removed_escapes_undone() -> None:
    registrar, _ = make_registrar()
    handle(registrar, register(aor="sip:al%69ce@EXAMPLE.com;user=ip", expires=60))
    response = handle(registrar, register(aor="sip:alice@example.com", contacts=[], cseq=2))
    assert len(response.contacts) == 1
    assert canonical_aor(sip("sips:a%41b@H.example:5061;transport=tcp?x=y")) == (
        "sips:aAb@h.example:5061"
    )
    assert registrar.aors() == ["sip:alice@example.com"]


# -- steps 3 and 4: Digest ----------------------------------------------------------------


@pytest.mark.requirement("RFC3261-10.3-STEP3-AUTHENTICATE-EMBEDDED")
def test_register_without_credentials_is_challenged() -> None:
    registrar, _ = make_registrar(AUTH)
    response = handle(registrar, register())
    assert response.status == 401
    [challenge] = response.www_authenticate
    assert challenge.startswith("Digest ")
    assert 'realm="example.com"' in challenge and 'qop="auth"' in challenge
    assert "algorithm=MD5" in challenge and "stale" not in challenge
    assert registrar.bindings(AOR) == []


@pytest.mark.requirement("RFC3261-10.3-STEP3-AUTHENTICATE-EMBEDDED")
@pytest.mark.parametrize("algorithm", ["MD5", "SHA-256"])
def test_correct_password_registers_and_proves_itself(algorithm: str) -> None:
    registrar, _ = make_registrar(
        RegistrarConfig(users={"alice": "secret"}, algorithms=(algorithm,))
    )
    response, challenge = authenticated(registrar)
    assert response.status == 200
    assert len(registrar.bindings(AOR)) == 1
    info = response.authentication_info
    assert info is not None
    assert f'rspauth="{expected_rspauth(challenge)}"' in info


@pytest.mark.requirement("RFC3261-10.3-STEP3-AUTHENTICATE-EMBEDDED")
def test_wrong_password_is_challenged_again_or_forbidden() -> None:
    registrar, _ = make_registrar(AUTH)
    response, _ = authenticated(registrar, password="wrong")
    assert response.status == 401
    assert "stale" not in response.www_authenticate[0]
    strict, _ = make_registrar(
        RegistrarConfig(users={"alice": "secret"}, reject_status=403)
    )
    response, _ = authenticated(strict, password="wrong")
    assert response.status == 403
    assert strict.bindings(AOR) == [] and registrar.bindings(AOR) == []


@pytest.mark.requirement("RFC3261-10.3-STEP3-AUTHENTICATE-EMBEDDED")
def test_credentials_for_another_realm_or_algorithm_are_challenged() -> None:
    registrar, _ = make_registrar(AUTH)
    challenge = handle(registrar, register()).www_authenticate[0]
    other_realm = authorization(challenge, realm="elsewhere")
    assert handle(registrar, register(cseq=2, extra=[("Authorization", other_realm)])).status == 401
    sha = authorization(challenge.replace("algorithm=MD5", "algorithm=SHA-256"), nc=2)
    assert handle(registrar, register(cseq=3, extra=[("Authorization", sha)])).status == 401
    assert registrar.bindings(AOR) == []


@pytest.mark.requirement("RFC8760-2.3-ALGORITHM-ORDER-EMBEDDED")
def test_one_challenge_per_algorithm_in_preference_order() -> None:
    config = RegistrarConfig(users={"alice": "secret"}, algorithms=("SHA-256", "md5"))
    registrar, _ = make_registrar(config)
    challenges = handle(registrar, register()).www_authenticate
    assert [c.split("algorithm=")[1].split(",")[0] for c in challenges] == ["SHA-256", "MD5"]
    for index, challenge in enumerate(challenges):
        creds = authorization(challenge, nc=index + 1)
        response = handle(
            registrar, register(cseq=2 + index, extra=[("Authorization", creds)])
        )
        assert response.status == 200


@pytest.mark.requirement("RFC7616-3.3-STALE-NONCE-EMBEDDED")
def test_expired_nonce_with_right_password_is_401_stale() -> None:
    config = RegistrarConfig(users={"alice": "secret"}, nonce_lifetime=30)
    registrar, clock = make_registrar(config)
    challenge = handle(registrar, register()).www_authenticate[0]
    clock.advance(31)
    response = handle(
        registrar, register(cseq=2, extra=[("Authorization", authorization(challenge))])
    )
    assert response.status == 401
    fresh = response.www_authenticate[0]
    assert "stale=true" in fresh
    # a wrong password with the same expired nonce is not stale
    wrong = authorization(challenge, password="nope", nc=2)
    response = handle(registrar, register(cseq=3, extra=[("Authorization", wrong)]))
    assert response.status == 401 and "stale" not in response.www_authenticate[0]
    # the fresh nonce works
    ok = handle(registrar, register(cseq=4, extra=[("Authorization", authorization(fresh))]))
    assert ok.status == 200


@pytest.mark.requirement("RFC7616-3.3-STALE-NONCE-EMBEDDED")
def test_unknown_nonce_with_right_password_is_stale() -> None:
    registrar, _ = make_registrar(AUTH)
    made_up = 'Digest realm="example.com", nonce="neverissued", algorithm=MD5, qop="auth"'
    response = handle(registrar, register(extra=[("Authorization", authorization(made_up))]))
    assert response.status == 401 and "stale=true" in response.www_authenticate[0]


@pytest.mark.requirement("RFC7616-3.4-NONCE-COUNT-REPLAY-EMBEDDED")
def test_reused_nonce_count_is_refused_and_a_higher_one_accepted() -> None:
    registrar, _ = make_registrar(AUTH)
    challenge = handle(registrar, register()).www_authenticate[0]
    creds = authorization(challenge, nc=1)
    assert handle(registrar, register(cseq=2, extra=[("Authorization", creds)])).status == 200
    replay = handle(registrar, register(cseq=3, extra=[("Authorization", creds)]))
    assert replay.status == 401 and "stale" not in replay.www_authenticate[0]
    creds2 = authorization(challenge, nc=2)
    assert handle(registrar, register(cseq=4, extra=[("Authorization", creds2)])).status == 200


@pytest.mark.requirement("RFC3261-10.3-STEP4-AUTHORIZE-EMBEDDED")
def test_authenticated_user_may_register_only_its_own_aor() -> None:
    registrar, _ = make_registrar(AUTH)
    response, _ = authenticated(registrar, aor="sip:alice@example.com", username="bob",
                                password="hunter2")
    assert response.status == 403
    assert registrar.aors() == []


# -- UAS basics -------------------------------------------------------------------------------


@pytest.mark.requirement("RFC3261-8.2.6.2-HEADERS-AND-TAGS-EMBEDDED")
def test_response_copies_headers_and_adds_a_to_tag() -> None:
    registrar, _ = make_registrar()
    request = register(
        via="SIP/2.0/UDP 192.0.2.10:5060;branch=z9hG4bKabc",
        extra=[("Via", "SIP/2.0/UDP proxy.example.com;branch=z9hG4bKdef;received=1.2.3.4")],
    )
    response = handle(registrar, request)
    assert response.headers.get_all("Via") == request.headers.get_all("Via")
    assert response.headers.get("From") == request.headers.get("From")
    assert response.headers.get("Call-ID") == request.headers.get("Call-ID")
    assert response.headers.get("CSeq") == request.headers.get("CSeq")
    assert response.to.uri == request.to.uri
    assert response.to.tag
    for status_request in (register(contacts=["*"], expires=5), register(expires="x")):
        bad = handle(registrar, status_request)
        assert bad.status == 400 and bad.to.tag


@pytest.mark.requirement("RFC3261-8.2.6.2-HEADERS-AND-TAGS-EMBEDDED")
def test_existing_to_tag_is_kept() -> None:
    registrar, _ = make_registrar()
    request = register()
    request = request.with_headers(request.headers.with_replaced("To", f"<{AOR}>;tag=given"))
    assert handle(registrar, request).to.tag == "given"


@pytest.mark.requirement("RFC3261-10.3-RECORD-ROUTE-EMBEDDED")
def test_record_route_is_ignored_and_never_returned() -> None:
    registrar, _ = make_registrar()
    request = register(extra=[("Record-Route", "<sip:proxy.example.com;lr>")])
    response = handle(registrar, request)
    assert response.status == 200
    assert "Record-Route" not in response.headers


@pytest.mark.requirement("RFC3261-8.2.1-METHOD-405-EMBEDDED")
def test_other_methods_get_405_with_allow() -> None:
    registrar, _ = make_registrar()
    response = handle(registrar, register(method="INVITE"))
    assert response.status == 405
    allow = response.headers.get("Allow")
    assert allow is not None and "REGISTER" in allow
    options = handle(registrar, register(method="OPTIONS"))
    assert options.status == 200 and options.headers.get("Allow") == allow
    assert registrar.handle(register(method="ACK"), SOURCE, "UDP") == []


@pytest.mark.requirement("RFC3261-8.2.1-METHOD-405-EMBEDDED")
def test_cancel_of_an_answered_register_is_200_else_481() -> None:
    registrar, _ = make_registrar()
    handle(registrar, register(branch="z9hG4bK-cancel-me"))
    assert handle(registrar, register(method="CANCEL", branch="z9hG4bK-cancel-me")).status == 200
    assert handle(registrar, register(method="CANCEL", branch="z9hG4bK-unknown")).status == 481


@pytest.mark.requirement("RFC3261-17.2.2-RETRANSMISSION-EMBEDDED")
def test_retransmission_gets_the_same_response_and_changes_nothing() -> None:
    registrar, clock = make_registrar(AUTH)
    request = register(branch="z9hG4bK-once")
    first = handle(registrar, request)
    again = handle(registrar, request)
    assert again == first  # same To tag, same nonce
    creds = authorization(first.www_authenticate[0])
    authed = register(cseq=2, branch="z9hG4bK-twice", extra=[("Authorization", creds)])
    ok = handle(registrar, authed)
    clock.advance(5)
    assert handle(registrar, authed) == ok  # not a replayed nc: the transaction's answer
    clock.advance(30)
    assert handle(registrar, authed).status == 401  # Timer J passed: now it is a replay


@pytest.mark.requirement("RFC3261-18.2.1-RECEIVED-EMBEDDED")
@pytest.mark.parametrize(
    ("sent_by", "received"),
    [("192.0.2.10:5060", None), ("192.0.2.99:5060", "192.0.2.10"),
     ("alice-pc.example.com", "192.0.2.10")],
)
def test_received_is_added_when_sent_by_differs_from_source(
    sent_by: str, received: str | None
) -> None:
    registrar, _ = make_registrar()
    response = handle(registrar, register(via=f"SIP/2.0/UDP {sent_by};branch=z9hG4bKr"))
    assert response.vias[0].received == received


@pytest.mark.requirement("RFC3581-4-RPORT-EMBEDDED")
def test_rport_is_filled_and_received_always_added() -> None:
    registrar, _ = make_registrar()
    request = register(via="SIP/2.0/UDP 192.0.2.10:5060;rport;branch=z9hG4bKn")
    response = handle(registrar, request, HostPort("192.0.2.10", 40123))
    top = response.vias[0]
    assert top.rport == 40123 and top.received == "192.0.2.10"


# -- misc -------------------------------------------------------------------------------------


def test_request_without_via_is_not_answered() -> None:
    registrar, _ = make_registrar()
    request = register()
    request = request.with_headers(request.headers.without("Via"))
    assert registrar.handle(request, SOURCE, "UDP") == []


def test_missing_or_mismatched_headers_are_400() -> None:
    registrar, _ = make_registrar()
    request = register()
    no_call_id = request.with_headers(request.headers.without("Call-ID"))
    assert handle(registrar, no_call_id).status == 400
    mismatch = request.with_headers(request.headers.with_replaced("CSeq", "1 OPTIONS"))
    assert handle(registrar, mismatch).status == 400
    bad_contact = register(contacts=["<sip:alice@"])
    assert handle(registrar, bad_contact).status == 400


@pytest.mark.requirement("RFC3261-10.3-NO-6XX-EMBEDDED")
def test_reason_table_has_no_6xx() -> None:
    assert all(100 <= status < 600 for status in REASONS)


def test_responses_serialise_and_parse_back() -> None:
    registrar, _ = make_registrar(AUTH)
    response = handle(registrar, register())
    assert parse(response.to_bytes()) == response


@pytest.mark.parametrize(
    "kwargs",
    [
        {"min_expires": 100, "max_expires": 50},
        {"algorithms": ("SHA1",)},
        {"algorithms": ()},
        {"reject_status": 404},
        {"domains": "example.com"},
        {"domains": frozenset()},
        {"nonce_lifetime": 0},
        {"default_expires": 0},
        {"scenario": "bogus"},
        {"realm": ""},
    ],
)
def test_bad_config_is_config_error(kwargs: dict[str, object]) -> None:
    with pytest.raises(ConfigError):
        RegistrarConfig(**kwargs)  # type: ignore[arg-type]


def test_users_may_be_a_function() -> None:
    registrar, _ = make_registrar(
        RegistrarConfig(users=lambda user: "pw-" + user if user.startswith("u") else None)
    )
    challenge = handle(registrar, register(aor="sip:u7@example.com")).www_authenticate[0]
    creds = authorization(challenge, username="u7", password="pw-u7")
    ok = handle(
        registrar, register(aor="sip:u7@example.com", cseq=2, extra=[("Authorization", creds)])
    )
    assert ok.status == 200


@pytest.mark.requirement("RFC8760-2.3-ALGORITHM-ORDER-EMBEDDED")
@pytest.mark.parametrize(
    "algorithm", ["MD5", "SHA-256", "SHA-512-256", "MD5-sess", "SHA-256-sess"]
)
def test_sipfsm_own_client_answers_every_offered_algorithm(algorithm: str) -> None:
    from sipfsm.auth import build_authorization

    registrar, _ = make_registrar(
        RegistrarConfig(users={"alice": "secret"}, algorithms=(algorithm,))
    )
    [challenge] = handle(registrar, register()).www_authenticate
    assert f"algorithm={algorithm}" in challenge
    creds = build_authorization(
        challenge, method="REGISTER", uri=f"sip:{DOMAIN}", username="alice", password="secret"
    )
    ok = handle(registrar, register(cseq=2, extra=[("Authorization", creds)]))
    assert ok.status == 200 and ok.authentication_info is not None


def test_algorithm_names_are_canonicalised() -> None:
    config = RegistrarConfig(algorithms=("sha256", "sha-512-256-SESS", "md5", "MD5"))
    assert config.algorithms == ("SHA-256", "SHA-512-256-sess", "MD5")
