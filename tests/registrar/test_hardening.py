"""§10.3 to the RFC's words, the registrar's resource limits and its Digest hardening.

Expected statuses come from RFC 3261 §10.3 / §20.10 / §10.2.1.1 and RFC 7616 §3.4.6 (quoted at
each test), and from what Kamailio 5.6's registrar answers where the RFC names no status."""

from __future__ import annotations

import pytest

from sipfsm.registrar import RegistrarConfig

from .support import (
    AOR,
    AUTH,
    authorization,
    contact_expiries,
    handle,
    listed,
    make_registrar,
    register,
)

C1 = "<sip:alice@192.0.2.10:5060>"
C2 = "<sip:alice@192.0.2.11:5060>"


# -- §10.3 steps 6 and 7: out-of-order CSeq fails -------------------------------------------------


@pytest.mark.requirement("RFC3261-10.3-STEP7-BINDING-UPDATE-EMBEDDED")
@pytest.mark.parametrize("cseq", [10, 20])
def test_same_call_id_lower_or_equal_cseq_fails_and_changes_nothing(cseq: int) -> None:
    registrar, _ = make_registrar()
    assert handle(registrar, register(contacts=[C1], expires=600, cseq=20)).status == 200
    # "If not [higher], the update MUST be aborted and the request fails."
    refused = handle(registrar, register(contacts=[C1, C2], expires=0, cseq=cseq))
    assert refused.status == 400
    assert [b.expires for b in registrar.bindings(AOR)] == [600]
    assert len(registrar.bindings(AOR)) == 1  # C2 was not added either: all or nothing
    assert handle(registrar, register(contacts=[C1], expires=300, cseq=21)).status == 200


@pytest.mark.requirement("RFC3261-10.3-STEP6-WILDCARD-EMBEDDED")
@pytest.mark.parametrize(("cseq", "status", "left"), [(10, 400, 1), (20, 400, 1), (21, 200, 0)])
def test_star_with_the_bindings_call_id_needs_a_higher_cseq(
    cseq: int, status: int, left: int
) -> None:
    registrar, _ = make_registrar()
    handle(registrar, register(contacts=[C1], expires=600, cseq=20))
    response = handle(registrar, register(contacts=["*"], expires=0, cseq=cseq))
    assert response.status == status
    assert len(registrar.bindings(AOR)) == left


@pytest.mark.requirement("RFC3261-10.3-STEP6-WILDCARD-EMBEDDED")
def test_star_with_another_call_id_removes_whatever_the_cseq() -> None:
    registrar, _ = make_registrar()
    handle(registrar, register(contacts=[C1], expires=600, cseq=20))
    response = handle(registrar, register(contacts=["*"], expires=0, cseq=1, call_id="other"))
    assert response.status == 200 and registrar.bindings(AOR) == []


# -- §20.10 q and §10.2.1.1 malformed expires ----------------------------------------------------


@pytest.mark.requirement("RFC3261-20.10-QVALUE-EMBEDDED")
@pytest.mark.parametrize("q", ["1.5", "-1", "abc", "1.001", "2", ""])
def test_a_q_outside_the_qvalue_grammar_is_400(q: str) -> None:
    registrar, _ = make_registrar()
    contact = f"{C1};q" if q == "" else f"{C1};q={q}"
    assert handle(registrar, register(contacts=[contact], expires=600)).status == 400
    assert registrar.bindings(AOR) == []


@pytest.mark.requirement("RFC3261-20.10-QVALUE-EMBEDDED")
@pytest.mark.parametrize("q", ["0", "0.5", "0.125", "1", "1.000"])
def test_a_valid_q_is_stored_and_listed(q: str) -> None:
    registrar, _ = make_registrar()
    response = handle(registrar, register(contacts=[f"{C1};q={q}"], expires=600))
    assert response.status == 200
    assert [c.params.get("q") for c in response.contacts] == [q]


@pytest.mark.requirement("RFC3261-10.3-STEP7-EXPIRATION-EMBEDDED")
@pytest.mark.parametrize(
    ("param", "header", "granted"),
    [
        ("-5", "600", 3600),  # §10.2.1.1 "Malformed values SHOULD be treated as ... 3600"
        ("abc", "600", 3600),
        ("1e20", "600", 3600),
        ("4294967296", "600", 7200),  # above 2**32-1 (MAY: as 2**32-1), cut to max_expires
        (None, "abc", 3600),
    ],
)
def test_malformed_expires_reads_as_3600(param: str | None, header: str, granted: int) -> None:
    registrar, _ = make_registrar(RegistrarConfig(max_expires=7200))
    contact = C1 if param is None else f"{C1};expires={param}"
    response = handle(registrar, register(contacts=[contact], expires=header))
    assert response.status == 200
    assert contact_expiries(response) == {"sip:alice@192.0.2.10:5060": granted}


# -- limits ---------------------------------------------------------------------------------------


@pytest.mark.requirement("RFC3261-10.3-RESOURCE-LIMITS-EMBEDDED")
def test_contacts_per_aor_are_limited_and_the_bindings_kept() -> None:
    registrar, _ = make_registrar(RegistrarConfig(max_contacts=2))
    assert handle(registrar, register(contacts=[C1, C2], expires=600)).status == 200
    third = "<sip:alice@192.0.2.12:5060>"
    refused = handle(registrar, register(contacts=[third], expires=600, cseq=2))
    assert refused.status == 503  # Kamailio's max_contacts answer
    assert refused.headers.get("P-Registrar-Error") == "Too many registered contacts"
    assert len(registrar.bindings(AOR)) == 2
    # a refresh of what is there, or a swap, stays possible
    swap = handle(registrar, register(contacts=[f"{C2};expires=0", third], expires=600, cseq=3))
    assert swap.status == 200 and len(listed(swap)) == 2
    # 2,200 contacts in one unauthenticated REGISTER store nothing
    many = [f"<sip:x{n}@192.0.2.20:5060>" for n in range(2200)]
    assert handle(registrar, register(aor="sip:mallory@example.com", contacts=many)).status == 503
    assert registrar.bindings("sip:mallory@example.com") == []


@pytest.mark.requirement("RFC3261-10.3-RESOURCE-LIMITS-EMBEDDED")
def test_total_bindings_are_limited() -> None:
    registrar, clock = make_registrar(RegistrarConfig(max_bindings=3))
    for n in range(3):
        aor = f"sip:u{n}@example.com"
        assert handle(registrar, register(aor=aor, contacts=[C1], expires=60)).status == 200
    refused = handle(registrar, register(aor="sip:u9@example.com", contacts=[C1], expires=60))
    assert refused.status == 503 and refused.headers.get("Retry-After") is not None
    assert registrar.binding_count == 3
    clock.advance(61)  # expired bindings no longer count
    ok = handle(registrar, register(aor="sip:u9@example.com", contacts=[C1], expires=60))
    assert ok.status == 200 and registrar.binding_count == 1


@pytest.mark.requirement("RFC3261-10.3-RESOURCE-LIMITS-EMBEDDED")
def test_a_200_over_the_size_limit_is_513_and_nothing_is_committed() -> None:
    registrar, _ = make_registrar(RegistrarConfig(max_response_size=2048, max_contacts=0))
    long_contacts = [f"<sip:{'a' * 300}{n}@192.0.2.10:5060>" for n in range(10)]
    response = handle(registrar, register(contacts=long_contacts, expires=600))
    assert response.status == 513 and response.reason.startswith("Message Too Large")
    assert registrar.bindings(AOR) == []
    assert len(response.to_bytes()) < 2048


@pytest.mark.requirement("RFC3261-17.2.2-RETRANSMISSION-EMBEDDED")
def test_remembered_responses_are_bounded_by_bytes() -> None:
    registrar, _ = make_registrar(RegistrarConfig(max_remembered_bytes=64 * 1024))
    first = register(contacts=[C1], expires=600)
    answer = handle(registrar, first)
    assert handle(registrar, first) == answer  # a retransmission: the same answer
    for n in range(2000):
        handle(registrar, register(contacts=[], cseq=n + 2))
        assert registrar.remembered_bytes <= 64 * 1024
    assert registrar.remembered_bytes > 32 * 1024  # it does remember, up to the bound


# -- Digest hardening -----------------------------------------------------------------------------


def _challenge(registrar: object) -> str:
    first = handle(registrar, register(cseq=1))  # type: ignore[arg-type]
    assert first.status == 401
    return first.www_authenticate[0]


@pytest.mark.requirement("RFC3261-10.3-STEP3-AUTHENTICATE-EMBEDDED")
def test_an_rfc2069_answer_is_refused_unless_allowed() -> None:
    import hashlib

    for allow, status in ((False, 401), (True, 200)):
        registrar, _ = make_registrar(
            RegistrarConfig(users={"alice": "secret"}, allow_rfc2069=allow)
        )
        challenge = _challenge(registrar)
        nonce = challenge.split('nonce="', 1)[1].split('"', 1)[0]

        def md5(text: str) -> str:
            return hashlib.md5(text.encode()).hexdigest()

        # RFC 2069 §2.1.2: response = H(H(A1):nonce:H(A2)), no qop, nc or cnonce
        ha1, ha2 = md5("alice:example.com:secret"), md5("REGISTER:sip:example.com")
        response = md5(f"{ha1}:{nonce}:{ha2}")
        creds = (f'Digest username="alice", realm="example.com", nonce="{nonce}", '
                 f'uri="sip:example.com", response="{response}", algorithm=MD5')  # fmt: skip
        answer = handle(registrar, register(cseq=2, extra=[("Authorization", creds)]))
        assert answer.status == status


@pytest.mark.requirement("RFC3261-10.3-STEP3-AUTHENTICATE-EMBEDDED")
def test_digest_uri_must_be_the_request_uri() -> None:
    registrar, _ = make_registrar(AUTH)
    challenge = _challenge(registrar)
    # RFC 7616 §3.4.6: "if they are not [the same], the server SHOULD return a 400"
    creds = authorization(challenge, uri="sip:elsewhere.example")
    assert handle(registrar, register(cseq=2, extra=[("Authorization", creds)])).status == 400
    assert registrar.bindings(AOR) == []
    good = authorization(challenge, nc=2)
    assert handle(registrar, register(cseq=3, extra=[("Authorization", good)])).status == 200


@pytest.mark.requirement("RFC7616-3.3-STALE-NONCE-EMBEDDED")
def test_a_nonce_works_only_in_the_realm_it_was_issued_for() -> None:
    registrar, _ = make_registrar(RegistrarConfig(users={"alice": "secret", "bob": "pw"}))
    # a challenge for bob's AOR at another domain (realm = the To host by default)
    first = handle(registrar, register(aor="sip:bob@other.example", ruri="sip:other.example"))
    foreign = first.www_authenticate[0]
    creds = authorization(foreign, realm="example.com")  # the nonce of realm other.example
    answer = handle(registrar, register(cseq=2, extra=[("Authorization", creds)]))
    assert answer.status == 401
    assert registrar.bindings(AOR) == []


@pytest.mark.requirement("RFC7616-3.4-NONCE-COUNT-REPLAY-EMBEDDED")
def test_a_replayed_nc_is_challenged_again() -> None:
    registrar, _ = make_registrar(AUTH)
    challenge = _challenge(registrar)
    creds = authorization(challenge, nc=1)
    assert handle(registrar, register(cseq=2, extra=[("Authorization", creds)])).status == 200
    replay = handle(registrar, register(cseq=3, contacts=[C2],
                                        extra=[("Authorization", creds)]))  # fmt: skip
    assert replay.status == 401
    assert [b.uri for b in registrar.bindings(AOR)] != [] and len(registrar.bindings(AOR)) == 1


@pytest.mark.requirement("RFC3261-10.3-STEP3-AUTHENTICATE-EMBEDDED")
def test_a_digest_uri_naming_the_address_the_request_reached_is_accepted() -> None:
    from sipfsm.ports import HostPort

    from .support import SOURCE

    here = HostPort("192.0.2.1", 5070)
    for uri, status in (("sip:192.0.2.1:5070", 200), ("sip:192.0.2.2:5070", 400),
                        ("sip:192.0.2.1", 400)):  # fmt: skip
        registrar, _ = make_registrar(AUTH)
        challenge = _challenge(registrar)
        creds = authorization(challenge, uri=uri)
        request = register(cseq=2, extra=[("Authorization", creds)])
        [answer] = registrar.handle(request, SOURCE, "UDP", here)
        assert answer.status == status, uri
