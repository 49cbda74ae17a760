"""sipfsm.auth.server: challenges and verification (the registrar's side of Digest)."""

from __future__ import annotations

import pytest

from sipfsm.auth import CredentialsError, build_authorization, parse_challenge
from sipfsm.auth import server as digest_server
from sipfsm.auth.digest import ha1_from_password, lookup_algorithm, userhash
from sipfsm.auth.params import parse_auth_params, split_challenges
from sipfsm.auth.server import Verdict, challenge_headers, make_challenge, parse_credentials, verify
from sipfsm.errors import ConfigError
from sipfsm.sim import SeededRandom

from .support import PASSWORD, REALM, URI, USER


def answer(challenge: str, *, password: str = PASSWORD, method: str = "REGISTER",
           body: bytes = b"", nc: int = 1, cnonce: str = "abc123") -> str:
    return build_authorization(challenge, method=method, uri=URI, username=USER,
                               password=password, body=body, nc=nc, cnonce=cnonce)


@pytest.mark.requirement("RFC7616-3.3-CHALLENGE-QUOTING")
@pytest.mark.requirement("RFC3261-22.4-SERVER-SENDS-QOP")
@pytest.mark.requirement("RFC7616-4-CHARSET-UTF8")
def test_make_challenge_quotes_as_rfc7616_says() -> None:
    value = make_challenge(REALM, nonce="n0nce", algorithm="sha-256", opaque="op",
                           stale=True, domain=("sip:a.example", "sip:b.example"))
    assert value == (
        'Digest realm="example.com", domain="sip:a.example sip:b.example", nonce="n0nce", '
        'algorithm=SHA-256, qop="auth", opaque="op", stale=true, charset=UTF-8'
    )
    params = split_challenges(value)[0].params
    assert {n for n, p in params.items() if p.quoted} == {"realm", "domain", "nonce", "opaque",
                                                          "qop"}
    with pytest.raises(ConfigError):
        make_challenge(REALM, nonce="n", qop=())
    with pytest.raises(ConfigError):
        make_challenge(REALM, nonce="n", qop=("auth-conf",))
    assert "charset" not in make_challenge(REALM, nonce="n", charset=False)


@pytest.mark.requirement("RFC3261-22-NO-BASIC")
def test_the_server_neither_challenges_nor_accepts_basic() -> None:
    assert make_challenge(REALM, nonce="n").startswith("Digest ")
    result = verify("Basic YWxpY2U6cGFzc3dvcmQ=", method="REGISTER", realm=REALM,
                    password=PASSWORD)
    assert result.verdict is Verdict.UNUSABLE and "Digest only" in result.reason


@pytest.mark.requirement("RFC8760-2.3-UAS-PREFERENCE-ORDER")
@pytest.mark.requirement("RFC8760-2.3-UAS-DISTINCT-ALGORITHMS")
@pytest.mark.requirement("RFC3261-22.2-WWW-AUTHENTICATE-IN-401")
def test_challenge_headers_one_per_algorithm_in_order() -> None:
    issued = challenge_headers(REALM, SeededRandom(1), algorithms=("SHA-512-256", "SHA-256",
                                                                   "MD5"))
    assert [parse_challenge(v).algorithm for _, v in issued] == ["SHA-512-256", "SHA-256", "MD5"]
    assert len({nonce for nonce, _ in issued}) == 3  # a nonce each
    shared = challenge_headers(REALM, SeededRandom(1), algorithms=("SHA-256", "MD5"),
                               share_nonce=True)
    assert len({nonce for nonce, _ in shared}) == 1
    with pytest.raises(ConfigError, match="twice"):
        challenge_headers(REALM, SeededRandom(), algorithms=("SHA-256", "sha-256"))
    with pytest.raises(ConfigError):
        challenge_headers(REALM, SeededRandom(), algorithms=())
    with pytest.raises(ConfigError):
        challenge_headers(REALM, SeededRandom(), algorithms=("SHA-1",))


@pytest.mark.requirement("RFC8760-3-MD5-NOT-RECOMMENDED")
def test_the_default_offer_has_no_md5() -> None:
    issued = challenge_headers(REALM, SeededRandom())
    assert [parse_challenge(v).algorithm for _, v in issued] == ["SHA-256"]


@pytest.mark.parametrize("algorithm", ["MD5", "MD5-sess", "SHA-256", "SHA-256-sess",
                                       "SHA-512-256", "SHA-512-256-sess"])
@pytest.mark.parametrize("qop", ["auth", "auth-int"])
def test_verify_accepts_the_clients_answer(algorithm: str, qop: str) -> None:
    challenge = make_challenge(REALM, nonce="n", algorithm=algorithm, qop=(qop,))
    body = b"body" if qop == "auth-int" else b""
    value = answer(challenge, body=body)
    result = verify(value, method="REGISTER", realm=REALM, password=PASSWORD, body=body)
    assert result.ok and result.username == USER
    spec = lookup_algorithm(algorithm)
    assert spec is not None
    by_ha1 = verify(value, method="REGISTER", realm=REALM, body=body,
                    ha1=ha1_from_password(spec, USER, REALM, PASSWORD).upper())
    assert by_ha1.ok


@pytest.mark.requirement("RFC7616-3.3-SERVER-STALE-ONLY-VALID")
def test_stale_only_for_a_right_digest() -> None:
    challenge = make_challenge(REALM, nonce="expired")

    def refuse(nonce: str, nc: int | None) -> bool:
        return False

    good = verify(answer(challenge), method="REGISTER", realm=REALM, password=PASSWORD,
                  check_nonce=refuse)
    assert good.verdict is Verdict.STALE
    bad = verify(answer(challenge, password="wrong"), method="REGISTER", realm=REALM,
                 password=PASSWORD, check_nonce=refuse)
    assert bad.verdict is Verdict.WRONG


def test_verify_reports_what_is_wrong() -> None:
    challenge = make_challenge(REALM, nonce="n")
    value = answer(challenge)
    cases = {
        "realm": verify(value, method="REGISTER", realm="other", password=PASSWORD),
        "method": verify(value, method="INVITE", realm=REALM, password=PASSWORD),
        "user": verify(value, method="REGISTER", realm=REALM),
        "algorithm": verify(value, method="REGISTER", realm=REALM, password=PASSWORD,
                            algorithms=("MD5",)),
        "malformed": verify('Digest username="x', method="REGISTER", realm=REALM),
        "missing": verify('Digest username="x", realm="example.com"', method="REGISTER",
                          realm=REALM, password=PASSWORD),
        "qop-no-nc": verify(value.replace(", nc=00000001", ""), method="REGISTER",
                            realm=REALM, password=PASSWORD),
    }
    assert cases["realm"].verdict is Verdict.UNUSABLE
    assert cases["method"].verdict is Verdict.WRONG
    assert cases["user"].verdict is Verdict.WRONG
    assert cases["algorithm"].verdict is Verdict.UNUSABLE
    assert cases["malformed"].verdict is Verdict.UNUSABLE
    assert cases["missing"].verdict is Verdict.UNUSABLE
    assert cases["qop-no-nc"].verdict is Verdict.UNUSABLE


@pytest.mark.requirement("RFC3261-22.4-SERVER-RFC2069-COMPAT")
def test_rfc2069_credentials_are_understood() -> None:
    old_style = build_authorization('Digest realm="example.com", nonce="n"', method="REGISTER",
                                    uri=URI, username=USER, password=PASSWORD)
    assert "qop" not in old_style
    assert verify(old_style, method="REGISTER", realm=REALM, password=PASSWORD).ok
    refused = verify(old_style, method="REGISTER", realm=REALM, password=PASSWORD,
                     allow_rfc2069=False)
    assert refused.verdict is Verdict.UNUSABLE
    # qop present -> the RFC 2617 computation; a cnonce without qop is refused.
    assert verify(old_style + ', cnonce="x"', method="REGISTER", realm=REALM,
                  password=PASSWORD).verdict is Verdict.UNUSABLE


@pytest.mark.requirement("RFC7616-3.4-USERNAME-STAR")
def test_username_and_username_star_together_are_an_error() -> None:
    with pytest.raises(CredentialsError, match="both"):
        parse_credentials("Digest username=\"a\", username*=UTF-8''a, realm=\"r\"")
    with pytest.raises(CredentialsError):
        parse_credentials("Digest username*=ISO-8859-1''%E4, realm=\"r\"")
    assert parse_credentials("Digest username*=utf-8'en'%C3%A4").username == "\u00e4"


def test_userhash_is_checked_against_the_plain_name() -> None:
    challenge = make_challenge(REALM, nonce="n", userhash=True)
    value = answer(challenge)
    creds = parse_credentials(value)
    spec = lookup_algorithm("SHA-256")
    assert spec is not None and creds.userhash
    assert creds.username == userhash(spec, USER, REALM)
    assert verify(creds, method="REGISTER", realm=REALM, password=PASSWORD, username=USER).ok
    assert verify(creds, method="REGISTER", realm=REALM, password=PASSWORD,
                  username="mallory").verdict is Verdict.WRONG


@pytest.mark.requirement("RFC7616-3.5-AUTH-INFO-QUOTING")
@pytest.mark.requirement("RFC7616-3.5-SERVER-SAME-QOP")
@pytest.mark.requirement("RFC7616-3.5-RSPAUTH")
def test_authentication_info_quoting_and_content() -> None:
    challenge = make_challenge(REALM, nonce="n", qop=("auth-int",))
    value = answer(challenge, nc=0x1A, cnonce="cn0nce")
    result = verify(value, method="REGISTER", realm=REALM, password=PASSWORD, nextnonce="nn")
    info = result.authentication_info
    assert info is not None
    params = parse_auth_params(info)
    assert {n for n, p in params.items() if p.quoted} == {"nextnonce", "rspauth", "cnonce"}
    assert params["qop"].value == "auth-int"  # the client's own qop
    assert params["nc"].value == "0000001a" and params["cnonce"].value == "cn0nce"
    spec = lookup_algorithm("SHA-256")
    assert spec is not None
    ha1 = ha1_from_password(spec, USER, REALM, PASSWORD)
    a2 = spec.h(f":{URI}:{spec.hash(b'')}")  # A2 = ":" uri ":" H(entity-body)
    assert params["rspauth"].value == spec.h(f"{ha1}:n:0000001a:cn0nce:auth-int:{a2}")


def test_module_exports() -> None:
    assert set(digest_server.__all__) >= {"make_challenge", "verify", "parse_credentials"}
