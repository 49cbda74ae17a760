"""Conformance checks for the embedded registrar's Digest authentication: RFC 3261 §10.3 steps 3
and 4, RFC 7616 §3.3 (stale) and §3.4 (nonce counts), RFC 8760 §2.3 (one challenge per
algorithm) -- spec/registrar.toml, ids ending -EMBEDDED.

Credentials are computed by :mod:`sipfsm.conformance.registrar_support` straight from RFC 7616
with :mod:`hashlib`, independently of the registrar's own Digest code; one check also answers
with sipfsm's client (:func:`sipfsm.auth.build_authorization`) for every offered algorithm.
"""

from __future__ import annotations

from hypothesis import example, given
from hypothesis import strategies as st

from sipfsm.auth import build_authorization
from sipfsm.conformance.registrar_support import (
    AOR,
    AUTH,
    DOMAIN,
    authenticated,
    authorization,
    challenge_params,
    expected_rspauth,
    handle,
    make_registrar,
    register,
)
from sipfsm.conformance.registry import check
from sipfsm.registrar import RegistrarConfig

PASSWORDS = st.text(
    st.characters(min_codepoint=33, max_codepoint=0x2FF, exclude_characters='"\\'),
    min_size=1, max_size=16,
)

# --------------------------------------------------------------------------------------------
# Step 3: authenticate
# --------------------------------------------------------------------------------------------


@check("RFC3261-10.3-STEP3-AUTHENTICATE-EMBEDDED")
def register_without_credentials_is_challenged() -> None:
    """With users configured, a REGISTER without credentials gets 401 with one Digest
    challenge (realm, qop="auth", MD5 by default, not stale) and registers nothing."""
    registrar, _ = make_registrar(AUTH)
    response = handle(registrar, register())
    assert response.status == 401
    [challenge] = response.www_authenticate
    params = challenge_params(challenge)
    assert params["realm"] == "example.com" and params["qop"] == "auth"
    assert params["algorithm"] == "MD5" and params["nonce"]
    assert "stale" not in params
    assert registrar.bindings(AOR) == []


@check("RFC3261-10.3-STEP3-AUTHENTICATE-EMBEDDED")
@example(password="secret", attempt="secret", algorithm="MD5", reject_status=401)
@example(password="secret", attempt="wrong", algorithm="SHA-256", reject_status=403)
@given(
    password=PASSWORDS,
    attempt=PASSWORDS,
    algorithm=st.sampled_from(["MD5", "SHA-256"]),
    reject_status=st.sampled_from([401, 403]),
)
def right_password_200_with_rspauth_wrong_401_or_403(
    password: str, attempt: str, algorithm: str, reject_status: int
) -> None:
    """Credentials with the right password register (the 200 carries Authentication-Info
    with the right rspauth); a wrong password gets a new, non-stale challenge (or 403 with
    reject_status=403) and registers nothing."""
    registrar, _ = make_registrar(
        RegistrarConfig(users={"alice": password}, algorithms=(algorithm,),
                        reject_status=reject_status)
    )
    response, challenge = authenticated(registrar, password=attempt)
    if attempt == password:
        assert response.status == 200
        assert len(registrar.bindings(AOR)) == 1
        info = response.authentication_info
        assert info is not None
        assert f'rspauth="{expected_rspauth(challenge, password=password)}"' in info
    else:
        assert response.status == reject_status
        if reject_status == 401:
            assert "stale" not in challenge_params(response.www_authenticate[0])
        assert registrar.bindings(AOR) == []


@check("RFC3261-10.3-STEP3-AUTHENTICATE-EMBEDDED")
def credentials_for_another_realm_or_algorithm_are_challenged() -> None:
    """Credentials for another realm, or naming an algorithm that was not offered, are not
    accepted: a new 401."""
    registrar, _ = make_registrar(AUTH)
    challenge = handle(registrar, register()).www_authenticate[0]
    other_realm = authorization(challenge, realm="elsewhere")
    assert handle(registrar, register(cseq=2, extra=[("Authorization", other_realm)])).status == 401
    sha = authorization(challenge.replace("algorithm=MD5", "algorithm=SHA-256"), nc=2)
    assert handle(registrar, register(cseq=3, extra=[("Authorization", sha)])).status == 401
    assert registrar.bindings(AOR) == []


@check("RFC3261-10.3-STEP3-AUTHENTICATE-EMBEDDED")
def users_may_be_looked_up_by_a_function() -> None:
    """``users`` as a function: its password authenticates, an unknown user is challenged."""
    registrar, _ = make_registrar(
        RegistrarConfig(users=lambda user: "pw-" + user if user.startswith("u") else None)
    )
    aor = "sip:u7@example.com"
    challenge = handle(registrar, register(aor=aor)).www_authenticate[0]
    creds = authorization(challenge, username="u7", password="pw-u7")
    ok = handle(registrar, register(aor=aor, cseq=2, extra=[("Authorization", creds)]))
    assert ok.status == 200
    assert len(registrar.bindings(aor)) == 1


# --------------------------------------------------------------------------------------------
# Step 4: authorize
# --------------------------------------------------------------------------------------------


@check("RFC3261-10.3-STEP4-AUTHORIZE-EMBEDDED")
def authenticated_user_may_register_only_its_own_aor() -> None:
    """bob, correctly authenticated, registering alice's AOR gets 403 and nothing changes;
    bob registers his own AOR; an escaped spelling of the user is the same user."""
    registrar, _ = make_registrar(AUTH)
    response, _ = authenticated(registrar, aor=AOR, username="bob", password="hunter2")
    assert response.status == 403 and response.reason.startswith("Forbidden")
    assert registrar.aors() == []
    response, _ = authenticated(registrar, aor="sip:bob@example.com", username="bob",
                                password="hunter2", cseq=3)
    assert response.status == 200
    response, _ = authenticated(registrar, aor="sip:%61lice@example.com", cseq=5)
    assert response.status == 200
    assert registrar.aors() == ["sip:alice@example.com", "sip:bob@example.com"]


@check("RFC3261-10.3-STEP4-AUTHORIZE-EMBEDDED")
@given(
    user=st.sampled_from(["alice", "bob"]),
    owner=st.sampled_from(["alice", "bob"]),
)
def the_digest_user_must_be_the_aor_user(user: str, owner: str) -> None:
    """200 iff the digest username is the To URI's user, else 403 with no binding."""
    passwords = {"alice": "secret", "bob": "hunter2"}
    registrar, _ = make_registrar(AUTH)
    response, _ = authenticated(
        registrar, aor=f"sip:{owner}@{DOMAIN}", username=user, password=passwords[user]
    )
    if user == owner:
        assert response.status == 200
        assert registrar.aors() == [f"sip:{owner}@{DOMAIN}"]
    else:
        assert response.status == 403
        assert registrar.aors() == []


# --------------------------------------------------------------------------------------------
# RFC 7616 §3.3: stale; §3.4: nonce counts
# --------------------------------------------------------------------------------------------


@check("RFC7616-3.3-STALE-NONCE-EMBEDDED")
def expired_nonce_with_right_password_is_401_stale() -> None:
    """A correct response with an expired nonce gets 401 stale=true and a fresh nonce (which
    then works); a wrong password with the same expired nonce is never stale."""
    config = RegistrarConfig(users={"alice": "secret"}, nonce_lifetime=30)
    registrar, clock = make_registrar(config)
    challenge = handle(registrar, register()).www_authenticate[0]
    clock.advance(31)
    response = handle(
        registrar, register(cseq=2, extra=[("Authorization", authorization(challenge))])
    )
    assert response.status == 401
    fresh = response.www_authenticate[0]
    assert challenge_params(fresh).get("stale") == "true"
    assert challenge_params(fresh)["nonce"] != challenge_params(challenge)["nonce"]
    wrong = authorization(challenge, password="nope", nc=2)
    response = handle(registrar, register(cseq=3, extra=[("Authorization", wrong)]))
    assert response.status == 401 and "stale" not in response.www_authenticate[0]
    ok = handle(registrar, register(cseq=4, extra=[("Authorization", authorization(fresh))]))
    assert ok.status == 200


@check("RFC7616-3.3-STALE-NONCE-EMBEDDED")
def unknown_nonce_with_right_password_is_stale() -> None:
    """A correct response computed over a nonce never issued is stale too."""
    registrar, _ = make_registrar(AUTH)
    made_up = 'Digest realm="example.com", nonce="neverissued", algorithm=MD5, qop="auth"'
    response = handle(registrar, register(extra=[("Authorization", authorization(made_up))]))
    assert response.status == 401
    assert challenge_params(response.www_authenticate[0]).get("stale") == "true"


@check("RFC7616-3.3-STALE-NONCE-EMBEDDED")
@example(lifetime=30, wait=30.0, right=True)
@example(lifetime=30, wait=30.5, right=True)
@given(
    lifetime=st.integers(1, 600),
    wait=st.floats(0, 1200, allow_nan=False),
    right=st.booleans(),
)
def stale_exactly_when_the_nonce_outlived_its_lifetime_and_the_password_is_right(
    lifetime: int, wait: float, right: bool
) -> None:
    """After ``wait`` seconds: the right password gets 200 while the nonce lives, 401
    stale=true after; a wrong password gets 401 without stale either way."""
    registrar, clock = make_registrar(
        RegistrarConfig(users={"alice": "secret"}, nonce_lifetime=lifetime)
    )
    challenge = handle(registrar, register()).www_authenticate[0]
    clock.advance(wait)
    password = "secret" if right else "not-the-secret"
    creds = authorization(challenge, password=password)
    response = handle(registrar, register(cseq=2, extra=[("Authorization", creds)]))
    if not right:
        assert response.status == 401
        assert "stale" not in challenge_params(response.www_authenticate[0])
    elif wait > lifetime:
        assert response.status == 401
        assert challenge_params(response.www_authenticate[0]).get("stale") == "true"
    else:
        assert response.status == 200


@check("RFC7616-3.3-STALE-NONCE-EMBEDDED")
def stale_nonce_scenario_refuses_the_first_correct_credentials() -> None:
    """The ``stale-nonce`` scenario answers the first correct credentials with stale=true and
    a fresh nonce, which then works."""
    registrar, _ = make_registrar(
        RegistrarConfig(users={"alice": "secret"}, scenario="stale-nonce")
    )
    challenge = handle(registrar, register(cseq=1)).www_authenticate[0]
    response = handle(
        registrar, register(cseq=2, extra=[("Authorization", authorization(challenge))])
    )
    assert response.status == 401
    fresh = response.www_authenticate[0]
    assert challenge_params(fresh).get("stale") == "true" and fresh != challenge
    ok = handle(registrar, register(cseq=3, extra=[("Authorization", authorization(fresh))]))
    assert ok.status == 200


@check("RFC7616-3.4-NONCE-COUNT-REPLAY-EMBEDDED")
@given(counts=st.lists(st.integers(1, 6), min_size=1, max_size=8))
def a_reused_nonce_count_is_challenged_again(counts: list[int]) -> None:
    """Correct credentials on one nonce with a sequence of nc values: each nc is accepted
    the first time it is used and challenged again (not stale) when used again."""
    registrar, _ = make_registrar(AUTH)
    challenge = handle(registrar, register()).www_authenticate[0]
    used: set[int] = set()
    for cseq, nc in enumerate(counts, start=2):
        creds = authorization(challenge, nc=nc)
        response = handle(registrar, register(cseq=cseq, extra=[("Authorization", creds)]))
        if nc in used:
            assert response.status == 401, (nc, used)
            assert "stale" not in challenge_params(response.www_authenticate[0])
        else:
            assert response.status == 200, (nc, used, response.status)
        used.add(nc)


# --------------------------------------------------------------------------------------------
# RFC 8760 §2.3: several algorithms
# --------------------------------------------------------------------------------------------


@check("RFC8760-2.3-ALGORITHM-ORDER-EMBEDDED")
@example(order=["SHA-256", "MD5"])
@given(
    order=st.permutations(["MD5", "SHA-256", "SHA-512-256"]).flatmap(
        lambda p: st.integers(1, 3).map(lambda n: list(p[:n]))
    )
)
def one_challenge_per_algorithm_in_preference_order(order: list[str]) -> None:
    """One WWW-Authenticate per configured algorithm, in the configured order, each with its
    own nonce; credentials answering any of the MD5 / SHA-256 ones register."""
    registrar, _ = make_registrar(
        RegistrarConfig(users={"alice": "secret"}, algorithms=tuple(order))
    )
    challenges = handle(registrar, register()).www_authenticate
    params = [challenge_params(c) for c in challenges]
    assert [p["algorithm"] for p in params] == order
    assert len({p["nonce"] for p in params}) == len(order)
    for index, challenge in enumerate(challenges):
        if params[index]["algorithm"] not in ("MD5", "SHA-256"):
            continue  # the independent computation knows MD5 and SHA-256 only
        creds = authorization(challenge)
        response = handle(registrar, register(cseq=2 + index, extra=[("Authorization", creds)]))
        assert response.status == 200


@check("RFC8760-2.3-ALGORITHM-ORDER-EMBEDDED")
def lower_case_algorithm_names_are_offered_canonically() -> None:
    """Algorithm names are canonicalised (``md5`` -> ``MD5``), each offered once."""
    registrar, _ = make_registrar(
        RegistrarConfig(users={"alice": "secret"}, algorithms=("SHA-256", "md5", "MD5"))
    )
    challenges = handle(registrar, register()).www_authenticate
    assert [challenge_params(c)["algorithm"] for c in challenges] == ["SHA-256", "MD5"]


@check("RFC8760-2.3-ALGORITHM-ORDER-EMBEDDED")
def sipfsm_own_client_answers_every_offered_algorithm() -> None:
    """For each supported algorithm (MD5, SHA-256, SHA-512-256 and -sess forms) the registrar
    offers it and accepts what sipfsm's own client computes, with Authentication-Info."""
    for algorithm in ("MD5", "SHA-256", "SHA-512-256", "MD5-sess", "SHA-256-sess"):
        registrar, _ = make_registrar(
            RegistrarConfig(users={"alice": "secret"}, algorithms=(algorithm,))
        )
        [challenge] = handle(registrar, register()).www_authenticate
        assert challenge_params(challenge)["algorithm"] == algorithm
        creds = build_authorization(
            challenge, method="REGISTER", uri=f"sip:{DOMAIN}", username="alice",
            password="secret",
        )
        ok = handle(registrar, register(cseq=2, extra=[("Authorization", creds)]))
        assert ok.status == 200, (algorithm, ok.status)
        assert ok.authentication_info is not None
