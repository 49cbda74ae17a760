"""Conformance checks for the server side of Digest (sipfsm.auth.server: the challenge maker
and verifier the embedded registrar uses): RFC 3261 §22 and §22.4, RFC 7616 §3.3 - §3.5 and §4,
RFC 8760 §2.3 and §3 (spec/digest.toml).

Challenges are parsed back with sipfsm's own auth-param parser and answered with
:func:`sipfsm.auth.build_authorization`; the rspauth the server computes is compared with the
independent reference of :mod:`sipfsm.conformance.digest_support`.
"""

from __future__ import annotations

from hypothesis import example, given
from hypothesis import strategies as st

from sipfsm.auth import CredentialsError, build_authorization, parse_challenge
from sipfsm.auth.params import parse_auth_params, split_challenges
from sipfsm.auth.server import (
    challenge_headers,
    make_challenge,
    parse_credentials,
    verify,
)
from sipfsm.conformance.aio_support import raises
from sipfsm.conformance.digest_support import (
    PASSWORD,
    REALM,
    URI,
    USER,
    Verdict,
    answer,
    nonces,
    quoted_text,
    realms,
    reference_algorithms,
    reference_response,
)
from sipfsm.conformance.registry import check, expect
from sipfsm.errors import ConfigError
from sipfsm.sim import SeededRandom

_ALL_ALGORITHMS = ["MD5", "MD5-sess", "SHA-256", "SHA-256-sess", "SHA-512-256",
                   "SHA-512-256-sess"]


# --------------------------------------------------------------------------------------------
# Challenges
# --------------------------------------------------------------------------------------------


@check("RFC7616-3.3-CHALLENGE-QUOTING", "RFC3261-22.4-SERVER-SENDS-QOP", "RFC7616-4-CHARSET-UTF8")
def make_challenge_quotes_as_rfc7616_says() -> None:
    """The challenge as written: realm, domain, nonce, opaque and qop quoted; algorithm, stale
    and charset=UTF-8 not; qop is always offered (auth / auth-int only)."""
    value = make_challenge(REALM, nonce="n0nce", algorithm="sha-256", opaque="op",
                           stale=True, domain=("sip:a.example", "sip:b.example"))
    expect("RFC7616-3.3-CHALLENGE-QUOTING", value.startswith(
        'Digest realm="example.com", domain="sip:a.example sip:b.example", nonce="n0nce", '
        'algorithm=SHA-256, qop="auth", opaque="op", stale=true'), value)
    expect("RFC7616-4-CHARSET-UTF8", value.endswith(", charset=UTF-8"), value)
    params = split_challenges(value)[0].params
    expect("RFC7616-3.3-CHALLENGE-QUOTING", {n for n, p in params.items() if p.quoted}
           == {"realm", "domain", "nonce", "opaque", "qop"}, value)
    for qop in ((), ("auth-conf",)):
        try:
            make_challenge(REALM, nonce="n", qop=qop)
        except ConfigError:
            pass
        else:
            expect("RFC3261-22.4-SERVER-SENDS-QOP", False, f"a challenge with qop {qop}")
    expect("RFC7616-4-CHARSET-UTF8",
           "charset" not in make_challenge(REALM, nonce="n", charset=False),
           "charset announced although switched off")


@check("RFC7616-3.3-CHALLENGE-QUOTING", "RFC3261-22.4-SERVER-SENDS-QOP", "RFC7616-4-CHARSET-UTF8")
@given(
    realm=quoted_text,
    nonce=nonces,
    algorithm=st.sampled_from(_ALL_ALGORITHMS),
    qop=st.sampled_from([("auth",), ("auth-int",), ("auth", "auth-int"), ("auth-int", "auth")]),
    opaque=st.none() | quoted_text,
    stale=st.booleans(),
    domain=st.lists(st.from_regex(r"sip:[a-z]{1,8}\.example", fullmatch=True), max_size=3),
    userhash=st.booleans(),
)
def any_challenge_quotes_exactly_the_rfc7616_set(
    realm: str, nonce: str, algorithm: str, qop: tuple[str, ...], opaque: str | None,
    stale: bool, domain: list[str], userhash: bool,
) -> None:
    """Whatever realm, nonce and opaque hold: exactly realm, domain, nonce, opaque and qop are
    quoted, the values parse back unchanged, qop is present and charset=UTF-8 announced."""
    value = make_challenge(realm, nonce=nonce, algorithm=algorithm, qop=qop, opaque=opaque,
                           stale=stale, domain=domain, userhash=userhash)
    params = split_challenges(value)[0].params
    quoted = {"realm", "nonce", "qop"} | ({"domain"} if domain else set()) | (
        {"opaque"} if opaque is not None else set())
    quoting = "RFC7616-3.3-CHALLENGE-QUOTING"
    expect(quoting, {n for n, p in params.items() if p.quoted} == quoted, value)
    expect(quoting, params["realm"].value == realm and params["nonce"].value == nonce
           and params["algorithm"].value == algorithm and ("stale" in params) is stale
           and (opaque is None or params["opaque"].value == opaque),
           f"the values do not read back: {value}")
    expect("RFC3261-22.4-SERVER-SENDS-QOP", "qop" in params
           and params["qop"].value == ",".join(qop), f"qop {qop}: {value}")
    expect("RFC7616-4-CHARSET-UTF8", "charset" in params and params["charset"].value == "UTF-8"
           and not params["charset"].quoted, value)
    parsed = parse_challenge(value)
    expect("RFC3261-22.4-SERVER-SENDS-QOP", parsed.usable and parsed.usable_qop == qop,
           f"read back: usable {parsed.usable}, qop {parsed.usable_qop}")


@check("RFC3261-22-NO-BASIC")
def the_server_neither_challenges_nor_accepts_basic() -> None:
    """Challenges are Digest only, and Basic credentials are refused as unusable."""
    assert make_challenge(REALM, nonce="n").startswith("Digest ")
    assert all(v.startswith("Digest ") for _, v in challenge_headers(
        REALM, SeededRandom(), algorithms=_ALL_ALGORITHMS))
    result = verify("Basic YWxpY2U6cGFzc3dvcmQ=", method="REGISTER", realm=REALM,
                    password=PASSWORD)
    assert result.verdict is Verdict.UNUSABLE and "Digest only" in result.reason


@check("RFC8760-2.3-UAS-PREFERENCE-ORDER", "RFC8760-2.3-UAS-DISTINCT-ALGORITHMS",
       "RFC3261-22.2-WWW-AUTHENTICATE-IN-401")
@example(["SHA-512-256", "SHA-256", "MD5"])
@given(st.lists(st.sampled_from(_ALL_ALGORITHMS), min_size=1, max_size=6, unique=True))
def challenge_headers_one_per_algorithm_in_order(offered: list[str]) -> None:
    """At least one challenge, one per algorithm in the given order of preference, each with
    its own nonce (or one shared nonce on request); an algorithm offered twice (in any case),
    none, or an unknown one is a configuration error."""
    issued = challenge_headers(REALM, SeededRandom(1), algorithms=offered)
    expect("RFC3261-22.2-WWW-AUTHENTICATE-IN-401", len(issued) >= 1, "no challenge")
    expect("RFC8760-2.3-UAS-PREFERENCE-ORDER",
           [parse_challenge(v).algorithm for _, v in issued] == offered,
           f"offered {offered}, challenges {[parse_challenge(v).algorithm for _, v in issued]}")
    # a nonce each, as issued
    expect("RFC8760-2.3-UAS-DISTINCT-ALGORITHMS", len({n for n, _ in issued}) == len(offered)
           and [parse_challenge(v).nonce for _, v in issued] == [n for n, _ in issued],
           f"nonces {[n for n, _ in issued]}")
    shared = challenge_headers(REALM, SeededRandom(1), algorithms=offered, share_nonce=True)
    expect("RFC8760-2.3-UAS-DISTINCT-ALGORITHMS", len({nonce for nonce, _ in shared}) == 1,
           "share_nonce gave several nonces")
    for rid, algorithms in (
            ("RFC8760-2.3-UAS-DISTINCT-ALGORITHMS", [*offered, offered[0].lower()]),
            ("RFC3261-22.2-WWW-AUTHENTICATE-IN-401", []),
            ("RFC8760-2.3-UAS-PREFERENCE-ORDER", [*offered, "SHA-1"])):
        try:
            challenge_headers(REALM, SeededRandom(), algorithms=algorithms)
        except ConfigError:
            pass
        else:
            expect(rid, False, f"algorithms {algorithms} accepted")


@check("RFC8760-3-MD5-NOT-RECOMMENDED")
def the_default_offer_has_no_md5() -> None:
    """Unless configured otherwise, the server offers SHA-256 alone (no MD5 to downgrade to)."""
    issued = challenge_headers(REALM, SeededRandom())
    assert [parse_challenge(v).algorithm for _, v in issued] == ["SHA-256"]


# --------------------------------------------------------------------------------------------
# Verification
# --------------------------------------------------------------------------------------------


@check("RFC7616-3.3-SERVER-STALE-ONLY-VALID")
@given(algorithm=st.sampled_from(_ALL_ALGORITHMS), qop=st.sampled_from(["auth", "auth-int"]),
       right=st.booleans(), nonce_ok=st.booleans())
def stale_only_for_a_right_digest(algorithm: str, qop: str, right: bool, nonce_ok: bool) -> None:
    """An unacceptable nonce makes the verdict STALE (stale=true) only when the digest is
    right; a wrong digest is WRONG whatever the nonce."""
    challenge = make_challenge(REALM, nonce="expired", algorithm=algorithm, qop=(qop,))

    def check_nonce(nonce: str, nc: int | None) -> bool:
        return nonce_ok

    value = answer(challenge, password=PASSWORD if right else "wrong")
    result = verify(value, method="REGISTER", realm=REALM, password=PASSWORD,
                    check_nonce=check_nonce)
    expected = Verdict.WRONG if not right else (Verdict.OK if nonce_ok else Verdict.STALE)
    assert result.verdict is expected


@check("RFC3261-22.4-SERVER-RFC2069-COMPAT")
def rfc2069_credentials_are_understood() -> None:
    """Credentials without qop are checked the RFC 2069 way (unless refused by
    configuration); with qop, the RFC 2617 way; a cnonce without qop is refused."""
    old_style = build_authorization('Digest realm="example.com", nonce="n"', method="REGISTER",
                                    uri=URI, username=USER, password=PASSWORD)
    assert "qop" not in old_style
    assert verify(old_style, method="REGISTER", realm=REALM, password=PASSWORD).ok
    assert verify(old_style, method="REGISTER", realm=REALM,
                  password="wrong").verdict is Verdict.WRONG
    refused = verify(old_style, method="REGISTER", realm=REALM, password=PASSWORD,
                     allow_rfc2069=False)
    assert refused.verdict is Verdict.UNUSABLE
    assert verify(old_style + ', cnonce="x"', method="REGISTER", realm=REALM,
                  password=PASSWORD).verdict is Verdict.UNUSABLE
    new_style = answer(make_challenge(REALM, nonce="n", algorithm="MD5"))
    assert "qop=auth" in new_style
    assert verify(new_style, method="REGISTER", realm=REALM, password=PASSWORD,
                  allow_rfc2069=False).ok


@check("RFC7616-3.4-USERNAME-STAR")
def username_and_username_star_together_are_an_error() -> None:
    """username and username* in one header are an error; username* is an RFC 8187
    ext-value in UTF-8 (another charset is refused)."""
    with raises(CredentialsError, match="both"):
        parse_credentials("Digest username=\"a\", username*=UTF-8''a, realm=\"r\"")
    with raises(CredentialsError):
        parse_credentials("Digest username*=ISO-8859-1''%E4, realm=\"r\"")
    assert parse_credentials("Digest username*=utf-8'en'%C3%A4").username == "\u00e4"
    result = verify("Digest username=\"a\", username*=UTF-8''a, realm=\"r\"",
                    method="REGISTER", realm="r", password=PASSWORD)
    assert result.verdict is Verdict.UNUSABLE


# --------------------------------------------------------------------------------------------
# Authentication-Info
# --------------------------------------------------------------------------------------------


@check("RFC7616-3.5-AUTH-INFO-QUOTING", "RFC7616-3.5-SERVER-SAME-QOP", "RFC7616-3.5-RSPAUTH")
@example(algorithm="SHA-256", qop="auth-int", nc=0x1A, cnonce="cn0nce", nextnonce="nn",
         realm=REALM)
@given(
    algorithm=st.sampled_from(reference_algorithms()),
    qop=st.sampled_from(["auth", "auth-int"]),
    nc=st.integers(1, 0xFFFFFFFF),
    cnonce=st.from_regex(r"[a-z2-7]{1,26}", fullmatch=True),
    nextnonce=st.none() | nonces,
    realm=realms,
)
def authentication_info_quoting_and_content(
    algorithm: str, qop: str, nc: int, cnonce: str, nextnonce: str | None, realm: str,
) -> None:
    """Authentication-Info quotes nextnonce, rspauth and cnonce but not qop or nc; it carries
    the client's own qop, cnonce and nc (8 hex digits), and rspauth is the response digest with
    A2 = ":" uri (":" H(empty body) for auth-int), as the reference computes it."""
    escaped = realm.replace("\\", "\\\\").replace('"', '\\"')
    challenge = f'Digest realm="{escaped}", nonce="n", algorithm={algorithm}, qop="{qop}"'
    value = build_authorization(challenge, method="REGISTER", uri=URI, username=USER,
                                password=PASSWORD, nc=nc, cnonce=cnonce)
    result = verify(value, method="REGISTER", realm=realm, password=PASSWORD,
                    nextnonce=nextnonce)
    rspauth = "RFC7616-3.5-RSPAUTH"
    info = result.authentication_info
    expect(rspauth, result.ok and info is not None, f"{result.verdict}, no Authentication-Info")
    if info is None:
        return
    params = parse_auth_params(info)
    quoted = {"rspauth", "cnonce"} | ({"nextnonce"} if nextnonce is not None else set())
    hex8 = "".join("0123456789abcdef"[(nc >> s) & 15] for s in range(28, -4, -4))
    expect("RFC7616-3.5-AUTH-INFO-QUOTING",
           {n for n, p in params.items() if p.quoted} == quoted
           and "nc" in params and params["nc"].value == hex8, info)
    expect(rspauth, set(params) == quoted | {"qop", "nc"}, info)
    expect("RFC7616-3.5-SERVER-SAME-QOP", "qop" in params and params["qop"].value == qop, info)
    expect(rspauth, "cnonce" in params and params["cnonce"].value == cnonce
           and (nextnonce is None or params["nextnonce"].value == nextnonce), info)
    expect(rspauth, "rspauth" in params and params["rspauth"].value == reference_response(
        algorithm, username=USER, realm=realm, password=PASSWORD, method="", uri=URI,
        nonce="n", nc=hex8, cnonce=cnonce, qop=qop, body=b"",
    ), f"rspauth differs from the reference: {info}")
