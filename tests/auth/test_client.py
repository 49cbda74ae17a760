"""DigestClient: RFC 3261 §22.1 - §22.4, RFC 7616 §3.3 - §3.7, RFC 8760 §2.4 and §3."""

from __future__ import annotations

from typing import Any

import pytest

from sipfsm.auth import DigestClient, Secret, StaticCredentials, build_authorization
from sipfsm.auth.client import HEADER_FOR_STATUS
from sipfsm.auth.credentials import Credentials
from sipfsm.auth.digest import ha1_from_password, lookup_algorithm
from sipfsm.auth.server import parse_credentials
from sipfsm.errors import AuthenticationFailed, ConfigError, LocalProtocolError
from sipfsm.sim import SeededRandom

from .support import PASSWORD, REALM, URI, USER, CountingRandom, FakeServer, Verdict, only


def client(password: str = PASSWORD, **kwargs: Any) -> DigestClient:
    return DigestClient(StaticCredentials(USER, password), SeededRandom(3), **kwargs)


def challenge(realm: str = REALM, nonce: str = "n1", *, algorithm: str | None = "SHA-256",
              qop: str | None = "auth", stale: bool = False, extra: str = "") -> str:
    text = f'Digest realm="{realm}", nonce="{nonce}"'
    if algorithm is not None:
        text += f", algorithm={algorithm}"
    if qop is not None:
        text += f', qop="{qop}"'
    if stale:
        text += ", stale=true"
    return text + extra


# ---- the basic exchange ---------------------------------------------------------------------


def test_no_credentials_before_any_challenge() -> None:
    assert client().authorization_headers("REGISTER", URI) == []


@pytest.mark.requirement("RFC3261-22.2-REORIGINATE-401")
@pytest.mark.requirement("RFC3261-22.4-URI-QUOTED")
@pytest.mark.requirement("RFC3261-22.4-QOP-ECHO")
@pytest.mark.requirement("RFC7616-3.4-CNONCE")
def test_401_is_answered_with_authorization_the_server_accepts() -> None:
    server = FakeServer()
    digest = client()
    digest.handle_challenge(401, server.challenges())
    value = only(digest.authorization_headers("REGISTER", URI))
    sent = parse_credentials(value)
    assert f'uri="{URI}"' in value and sent.uri == URI
    assert sent.qop == "auth" and sent.nc == "00000001" and sent.cnonce
    assert len(sent.cnonce) * 5 >= 96  # base32 token of >= 96 bits from the Random port
    result = server.verify(value)
    assert result.verdict is Verdict.OK and result.username == USER


@pytest.mark.requirement("RFC3261-22.3-REORIGINATE-407")
def test_407_is_answered_with_proxy_authorization() -> None:
    proxy = FakeServer("proxy.example.net")
    digest = client()
    digest.handle_challenge(407, proxy.challenges())
    headers = digest.authorization_headers("REGISTER", URI)
    assert [name for name, _ in headers] == ["Proxy-Authorization"]
    assert proxy.verify(headers[0][1]).ok
    assert HEADER_FOR_STATUS == {401: "Authorization", 407: "Proxy-Authorization"}


@pytest.mark.requirement("RFC3261-22.3-CACHE-PROXY-CREDENTIALS")
@pytest.mark.requirement("RFC3261-22.3-CREDENTIALS-PER-REALM")
def test_407_then_401_sends_both_and_keeps_both() -> None:
    proxy, registrar = FakeServer("proxy.example.net"), FakeServer(REALM, seed=8)
    digest = client()
    digest.handle_challenge(407, proxy.challenges())
    first = digest.authorization_headers("REGISTER", URI)
    assert proxy.verify(only(first, "Proxy-Authorization")).ok
    digest.handle_challenge(401, registrar.challenges())
    second = digest.authorization_headers("REGISTER", URI)
    assert sorted(name for name, _ in second) == ["Authorization", "Proxy-Authorization"]
    assert registrar.verify(only(second)).ok
    assert proxy.verify(only(second, "Proxy-Authorization")).ok  # next nc, same nonce
    refresh = digest.authorization_headers("REGISTER", URI)  # a later refresh: both again
    assert {parse_credentials(v).realm for _, v in refresh} == {"proxy.example.net", REALM}
    assert all(parse_credentials(v).nc == "00000003" for n, v in refresh
               if n == "Proxy-Authorization")
    assert digest.realms == [("Proxy-Authorization", "proxy.example.net"),
                             ("Authorization", REALM)]


@pytest.mark.requirement("RFC3261-22.2-CACHE-CREDENTIALS")
@pytest.mark.requirement("RFC7616-3.4-NC-HEX8")
def test_cached_credentials_go_out_preemptively_with_the_next_nc() -> None:
    server = FakeServer()
    digest = client()
    digest.handle_challenge(401, server.challenges())
    counts = []
    for _ in range(20):
        value = only(digest.authorization_headers("REGISTER", URI))
        assert server.verify(value).ok  # a replayed nc would come back STALE
        counts.append(parse_credentials(value).nc)
    assert counts == [f"{i:08x}" for i in range(1, 21)]
    assert "0000000a" in counts  # lower-case hex


@pytest.mark.requirement("RFC3261-22.3-PROXY-CREDENTIALS-SCOPE")
def test_credentials_are_cached_per_client_never_shared() -> None:
    store = StaticCredentials(USER, PASSWORD)
    first, second = DigestClient(store, SeededRandom(1)), DigestClient(store, SeededRandom(2))
    first.handle_challenge(407, FakeServer("proxy.example.net").challenges())
    assert first.authorization_headers("REGISTER", URI)
    assert second.authorization_headers("REGISTER", URI) == []


@pytest.mark.requirement("RFC3261-22.3-CREDENTIALS-PER-REALM")
def test_each_credential_is_its_own_header_line_with_its_realm() -> None:
    digest = client()
    digest.handle_challenge(401, [challenge("a.example"), challenge("b.example", "n2")])
    headers = digest.authorization_headers("REGISTER", URI)
    assert [parse_credentials(v).realm for _, v in headers] == ["a.example", "b.example"]
    assert all(v.count("Digest ") == 1 for _, v in headers)


def test_realms_without_credentials_are_skipped_when_others_can_be_answered() -> None:
    store = StaticCredentials(USER, PASSWORD, realm="a.example")
    digest = DigestClient(store, SeededRandom(1))
    digest.handle_challenge(401, [challenge("a.example"), challenge("b.example", "n2")])
    headers = digest.authorization_headers("REGISTER", URI)
    assert [parse_credentials(v).realm for _, v in headers] == ["a.example"]


# ---- choosing among challenges ---------------------------------------------------------------


@pytest.mark.requirement("RFC8760-2.4-TOPMOST-SUPPORTED")
@pytest.mark.requirement("RFC7616-3.7-FIRST-SUPPORTED")
@pytest.mark.requirement("RFC3261-22.3-SAME-REALM-SAME-CREDENTIALS")
@pytest.mark.parametrize(
    ("offered", "chosen"),
    [
        (["SHA-512-256", "SHA-256", "MD5"], "SHA-512-256"),
        (["SHA-256", "SHA-512-256"], "SHA-256"),  # the server's order, not re-ranked
        (["MD5", "SHA-256"], "MD5"),
        (["SHA-1", "SHA3-256", "SHA-256", "MD5"], "SHA-256"),  # unknown ones skipped
        (["MD5-sess", "MD5"], "MD5-sess"),
    ],
)
def test_topmost_usable_challenge_per_realm(offered: list[str], chosen: str) -> None:
    digest = client()
    digest.handle_challenge(401, [challenge(nonce=f"n{i}", algorithm=a)
                                  for i, a in enumerate(offered)])
    headers = digest.authorization_headers("REGISTER", URI)
    assert len(headers) == 1  # one answer for the realm
    assert parse_credentials(headers[0][1]).algorithm == chosen


@pytest.mark.requirement("RFC8760-3-MD5-NOT-RECOMMENDED")
def test_local_policy_can_refuse_md5() -> None:
    strict = client(algorithms=("SHA-512-256", "SHA-256"))
    strict.handle_challenge(401, [challenge(algorithm="MD5"), challenge(nonce="n2")])
    assert parse_credentials(only(strict.authorization_headers("REGISTER", URI))).algorithm == (
        "SHA-256")
    with pytest.raises(AuthenticationFailed, match="disabled by local policy"):
        client(algorithms=("SHA-256",)).handle_challenge(401, [challenge(algorithm="MD5")])


@pytest.mark.requirement("RFC8760-2.4-IGNORE-UNKNOWN")
@pytest.mark.requirement("RFC7616-3.3-UNKNOWN-ALGORITHM-IGNORED")
def test_only_unknown_algorithms_fail_clearly() -> None:
    with pytest.raises(AuthenticationFailed) as failure:
        client().handle_challenge(401, [challenge(algorithm="SHA-1"),
                                        challenge(algorithm="SHA3-256", nonce="n2")])
    assert "'SHA-1' is not supported" in str(failure.value)
    assert "'SHA3-256' is not supported" in str(failure.value)
    assert failure.value.spec_id == "RFC8760-2.4-IGNORE-UNKNOWN"


@pytest.mark.requirement("RFC8760-2.4-IGNORE-UNKNOWN")
def test_malformed_challenges_are_skipped_and_never_escape() -> None:
    digest = client()
    digest.handle_challenge(401, ['Digest realm="unterminated', challenge()])
    assert digest.authorization_headers("REGISTER", URI)
    with pytest.raises(AuthenticationFailed, match="malformed challenge"):
        client().handle_challenge(401, ['Digest realm="unterminated', "Digest ==="])


@pytest.mark.requirement("RFC3261-22-NO-BASIC")
def test_basic_is_never_answered() -> None:
    with pytest.raises(AuthenticationFailed, match="not Digest"):
        client().handle_challenge(401, ['Basic realm="example.com"'])
    digest = client()
    digest.handle_challenge(401, ['Basic realm="example.com"', challenge()])
    assert all(v.startswith("Digest ") for _, v in digest.authorization_headers("REGISTER", URI))


@pytest.mark.requirement("RFC3261-22.1-RENDER-REALM")
def test_no_credentials_for_the_realm_names_it() -> None:
    digest = DigestClient(StaticCredentials(USER, PASSWORD, realm="other.example"), SeededRandom())
    with pytest.raises(AuthenticationFailed) as failure:
        digest.handle_challenge(401, [challenge("biloxi.example.com")])
    assert "no credentials for realm 'biloxi.example.com'" in str(failure.value)


@pytest.mark.requirement("RFC7616-3.4-QOP-ONE-OF-OFFERED")
@pytest.mark.parametrize(("offered", "chosen"),
                         [("auth,auth-int", "auth"), ("auth-int,auth", "auth"),
                          ("auth-int", "auth-int"), ("x-new, auth-int", "auth-int")])
def test_qop_auth_preferred_else_auth_int(offered: str, chosen: str) -> None:
    server = FakeServer(qop=tuple(q.strip() for q in offered.split(",")
                                  if q.strip() in ("auth", "auth-int")))
    digest = client()
    digest.handle_challenge(401, [v.replace(f'qop="{",".join(server.qop)}"', f'qop="{offered}"')
                                  for v in server.challenges()])
    body = b"v=0\r\n"
    value = only(digest.authorization_headers("REGISTER", URI, body))
    assert parse_credentials(value).qop == chosen
    assert server.verify(value, body=body).ok
    if chosen == "auth-int":
        assert server.verify(value, body=b"tampered").verdict is Verdict.WRONG


@pytest.mark.requirement("RFC3261-22.4-NO-CNONCE-WITHOUT-QOP")
def test_a_challenge_without_qop_is_answered_the_rfc2069_way() -> None:
    digest = client()
    digest.handle_challenge(401, [challenge(algorithm=None, qop=None)])
    value = only(digest.authorization_headers("REGISTER", URI))
    assert "qop=" not in value and "cnonce=" not in value and "nc=" not in value
    with pytest.raises(AuthenticationFailed, match="needs qop"):
        client().handle_challenge(401, [challenge(algorithm="MD5-sess", qop=None)])


@pytest.mark.requirement("RFC7616-3.3-OPAQUE-ECHO")
@pytest.mark.parametrize("opaque", ["", "5ccc069c403ebaf9f0171e9517f40e41", 'with "quote", comma'])
def test_opaque_and_algorithm_come_back_unchanged(opaque: str) -> None:
    escaped = opaque.replace('"', '\\"')
    digest = client()
    digest.handle_challenge(401, [challenge(algorithm="sha-256", extra=f', opaque="{escaped}"')])
    value = only(digest.authorization_headers("REGISTER", URI))
    sent = parse_credentials(value)
    assert sent.opaque == opaque
    assert sent.algorithm == "sha-256"  # as the server wrote it
    bare = client()
    bare.handle_challenge(401, [challenge(algorithm=None)])
    assert "opaque=" not in (plain := only(bare.authorization_headers("REGISTER", URI)))
    assert "algorithm=" not in plain  # absent means MD5, and stays absent


# ---- rejection, staleness, bounded retries ----------------------------------------------------


@pytest.mark.requirement("RFC3261-22.1-NO-RESEND-REJECTED")
@pytest.mark.requirement("RFC7616-3.3-STALE-FALSE-NEW-CREDENTIALS")
def test_rejected_credentials_are_not_resent() -> None:
    server = FakeServer()
    digest = client(password="wrong")
    digest.handle_challenge(401, server.challenges())
    value = only(digest.authorization_headers("REGISTER", URI))
    assert server.verify(value).verdict is Verdict.WRONG
    with pytest.raises(AuthenticationFailed) as failure:
        digest.handle_challenge(401, server.challenges())  # again, stale absent
    assert failure.value.spec_id == "RFC3261-22.1-NO-RESEND-REJECTED"
    assert "rejected" in str(failure.value)
    # Not even pre-emptively on a later request:
    assert digest.authorization_headers("REGISTER", URI) == []


@pytest.mark.requirement("RFC7616-3.3-STALE-RETRY")
def test_stale_true_is_retried_with_the_new_nonce() -> None:
    server = FakeServer()
    digest = client()
    digest.handle_challenge(401, server.challenges())
    first = only(digest.authorization_headers("REGISTER", URI))
    server.retired.add(parse_credentials(first).nonce or "")
    assert server.verify(first).verdict is Verdict.STALE
    digest.handle_challenge(401, server.challenges(stale=True))
    second = parse_credentials(only(digest.authorization_headers("REGISTER", URI)))
    assert second.nonce != parse_credentials(first).nonce and second.nc == "00000001"


@pytest.mark.requirement("RFC3261-22.1-NO-RESEND-REJECTED")
@pytest.mark.parametrize("max_attempts", [1, 2, 3, 5])
def test_retries_are_bounded_by_max_attempts(max_attempts: int) -> None:
    digest = client(max_attempts=max_attempts)
    resubmissions = 0
    with pytest.raises(AuthenticationFailed, match="attempts"):
        for i in range(100):
            digest.handle_challenge(401, [challenge(nonce=f"n{i}", stale=True)])
            digest.authorization_headers("REGISTER", URI)
            resubmissions += 1
    assert resubmissions == max_attempts


def test_the_attempt_count_restarts_with_each_new_request() -> None:
    digest = client(max_attempts=1)
    for i in range(5):  # a refresh, challenged stale once each time, succeeds each time
        digest.authorization_headers("REGISTER", URI)
        digest.handle_challenge(401, [challenge(nonce=f"n{i}", stale=True)])
        assert digest.authorization_headers("REGISTER", URI)


@pytest.mark.requirement("RFC3261-22.1-NO-RESEND-REJECTED")
def test_preemptive_credentials_meeting_a_fresh_challenge_get_one_answer() -> None:
    server = FakeServer()
    digest = client()
    digest.handle_challenge(401, server.challenges())
    assert server.verify(only(digest.authorization_headers("REGISTER", URI))).ok
    # Much later: the refresh goes out with the cached nonce, which the server has retired
    # without saying stale.  One fresh answer is allowed ...
    old = only(digest.authorization_headers("REGISTER", URI))
    server.retired.add(parse_credentials(old).nonce or "")
    digest.handle_challenge(401, server.challenges())
    retry = only(digest.authorization_headers("REGISTER", URI))
    assert server.verify(retry).ok
    # ... but a challenge to that answer is a rejection, and ends it.
    with pytest.raises(AuthenticationFailed, match="rejected"):
        digest.handle_challenge(401, server.challenges())


@pytest.mark.requirement("RFC3261-22.1-NO-RESEND-REJECTED")
def test_the_same_nonce_again_without_stale_is_a_rejection_even_preemptively() -> None:
    digest = client()
    digest.handle_challenge(401, [challenge(nonce="same")])
    digest.authorization_headers("REGISTER", URI)
    digest.authorization_headers("REGISTER", URI)  # a later, pre-emptive request
    with pytest.raises(AuthenticationFailed, match="rejected"):
        digest.handle_challenge(401, [challenge(nonce="same")])


def test_handle_challenge_wants_401_or_407() -> None:
    with pytest.raises(LocalProtocolError):
        client().handle_challenge(403, [challenge()])


# ---- Authentication-Info --------------------------------------------------------------------


@pytest.mark.requirement("RFC7616-3.5-RSPAUTH")
def test_rspauth_is_verified() -> None:
    server = FakeServer()
    digest = client()
    digest.handle_challenge(401, server.challenges())
    value = only(digest.authorization_headers("REGISTER", URI))
    result = server.verify(value)
    assert result.authentication_info is not None
    digest.handle_authentication_info(result.authentication_info)  # no error
    tampered = result.authentication_info.split('rspauth="')[0] + 'rspauth="' + "0" * 64 + '"' + (
        result.authentication_info.split('rspauth="')[1].split('"', 1)[1])
    with pytest.raises(AuthenticationFailed, match="rspauth") as failure:
        digest.handle_authentication_info(tampered)
    assert failure.value.spec_id == "RFC7616-3.5-RSPAUTH"
    with pytest.raises(AuthenticationFailed, match="cnonce"):
        digest.handle_authentication_info('qop=auth, rspauth="00", cnonce="other", nc=00000001')
    with pytest.raises(AuthenticationFailed, match="malformed"):
        digest.handle_authentication_info('rspauth="unterminated')


def test_authentication_info_without_our_credentials_is_ignored() -> None:
    digest = client()
    digest.handle_authentication_info('nextnonce="x", rspauth="1234"')
    assert digest.authorization_headers("REGISTER", URI) == []


@pytest.mark.requirement("RFC7616-3.5-NEXTNONCE")
def test_nextnonce_is_used_next_with_nc_restarting() -> None:
    server = FakeServer()
    digest = client()
    digest.handle_challenge(401, server.challenges())
    for _ in range(3):
        digest.authorization_headers("REGISTER", URI)
    value = only(digest.authorization_headers("REGISTER", URI))
    server.nonces["fresh-nonce"] = set()
    result = server.verify(value, nextnonce="fresh-nonce")
    assert result.authentication_info is not None
    digest.handle_authentication_info(result.authentication_info)
    following = parse_credentials(only(digest.authorization_headers("REGISTER", URI)))
    assert (following.nonce, following.nc) == ("fresh-nonce", "00000001")
    assert server.verify(only(digest.authorization_headers("REGISTER", URI))).ok


# ---- credentials ------------------------------------------------------------------------------


def test_precomputed_ha1_answers_its_algorithm_and_its_sess_variant() -> None:
    spec = lookup_algorithm("MD5")
    assert spec is not None
    ha1 = ha1_from_password(spec, USER, REALM, PASSWORD)
    store = StaticCredentials(USER, ha1={"MD5": ha1})
    for algorithm in ("MD5", "MD5-sess"):
        server = FakeServer(algorithms=(algorithm,))
        digest = DigestClient(store, SeededRandom())
        digest.handle_challenge(401, server.challenges())
        for _ in range(3):  # -sess: the session key holds across requests
            assert server.verify(only(digest.authorization_headers("REGISTER", URI))).ok
    # An MD5 HA1 cannot answer SHA-256: that challenge is passed over for the MD5 one ...
    digest = DigestClient(store, SeededRandom())
    digest.handle_challenge(401, [challenge(algorithm="SHA-256"), challenge(algorithm="MD5")])
    assert parse_credentials(only(digest.authorization_headers("REGISTER", URI))).algorithm == (
        "MD5")
    # ... and alone it cannot be answered at all.
    with pytest.raises(AuthenticationFailed, match="no password or HA1"):
        DigestClient(store, SeededRandom()).handle_challenge(401, [challenge()])


@pytest.mark.requirement("RFC7616-3.4.4-USERHASH")
def test_userhash_through_the_client_and_server() -> None:
    digest = client()
    digest.handle_challenge(401, [challenge(extra=", userhash=true")])
    value = only(digest.authorization_headers("REGISTER", URI))
    sent = parse_credentials(value)
    spec = lookup_algorithm("SHA-256")
    assert spec is not None
    assert sent.userhash and sent.username == spec.h(f"{USER}:{REALM}")
    assert USER not in value


def test_sess_algorithms_repeat_the_first_cnonce_per_nonce() -> None:
    server = FakeServer(algorithms=("SHA-256-sess",))
    digest = DigestClient(StaticCredentials(USER, PASSWORD), CountingRandom())
    digest.handle_challenge(401, server.challenges())
    sent = [parse_credentials(only(digest.authorization_headers("REGISTER", URI)))
            for _ in range(3)]
    assert {s.cnonce for s in sent} == {"c1"} and [s.nc for s in sent] == [
        "00000001", "00000002", "00000003"]
    digest.handle_challenge(401, server.challenges(stale=True))
    assert parse_credentials(only(digest.authorization_headers("REGISTER", URI))).cnonce == "c2"


def test_reset_forgets_everything() -> None:
    digest = client()
    digest.handle_challenge(401, [challenge()])
    digest.reset()
    assert digest.realms == [] and digest.authorization_headers("REGISTER", URI) == []


def test_nc_exhaustion_drops_the_cached_answer() -> None:
    digest = client()
    digest.handle_challenge(401, [challenge()])
    responder = next(iter(digest._responders.values()))
    responder.nc = 0xFFFFFFFE
    assert parse_credentials(only(digest.authorization_headers("REGISTER", URI))).nc == (
        "ffffffff")
    assert digest.authorization_headers("REGISTER", URI) == []


@pytest.mark.parametrize("kwargs", [{"max_attempts": 0}, {"algorithms": ()},
                                    {"algorithms": ("SHA-1",)}])
def test_bad_configuration(kwargs: dict[str, Any]) -> None:
    with pytest.raises(ConfigError):
        client(**kwargs)


def test_bad_credentials_configuration() -> None:
    with pytest.raises(ConfigError):
        Credentials(USER)
    with pytest.raises(ConfigError):
        Credentials(USER, ha1={"MD5-sess": "0" * 32})
    with pytest.raises(ConfigError):
        Credentials(USER, ha1={"SHA-256": "0" * 32})  # wrong length
    assert Credentials(USER, Secret("x")) == Credentials(USER, "x")


def test_method_and_uri_must_be_writable() -> None:
    digest = client()
    digest.handle_challenge(401, [challenge()])
    with pytest.raises(LocalProtocolError):
        digest.authorization_headers("REG ISTER", URI)
    digest.handle_challenge(401, [challenge(nonce="n2")])
    with pytest.raises(LocalProtocolError):
        digest.authorization_headers("REGISTER", "sip:a\r\nVia: x")


def test_build_authorization_refuses_unanswerable_challenges() -> None:
    from sipfsm.auth import ChallengeError

    with pytest.raises(ChallengeError, match="not supported"):
        build_authorization(challenge(algorithm="SHA-1"), method="REGISTER", uri=URI,
                            username=USER, password=PASSWORD)
    value = build_authorization(challenge(), method="REGISTER", uri=URI, username=USER,
                                password=PASSWORD)
    assert len(parse_credentials(value).cnonce or "") == 32  # drawn from secrets
