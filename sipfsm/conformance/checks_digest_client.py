"""Conformance checks for the Digest client (sipfsm.auth.DigestClient and challenge parsing):
RFC 3261 §22.1 - §22.4, RFC 7616 §3.3 - §3.7, RFC 8760 §2.4 and §3 (spec/digest.toml).

The client answers challenges written by :mod:`sipfsm.auth.server` through
:class:`~sipfsm.conformance.digest_support.FakeServer` (whose own checks are in
checks_digest_server) or written by hand; each check states the RFC's rule over the headers the
client produces.  The last check drives the client through arbitrary interleavings of requests,
challenges and Authentication-Info with a hypothesis state machine.
"""

from __future__ import annotations

from hypothesis import example, given, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    invariant,
    precondition,
    rule,
    run_state_machine_as_test,
)

from sipfsm.auth import DigestClient, StaticCredentials, parse_challenge, parse_challenges
from sipfsm.auth.client import HEADER_FOR_STATUS
from sipfsm.auth.digest import lookup_algorithm
from sipfsm.auth.errors import ChallengeError
from sipfsm.auth.server import parse_credentials
from sipfsm.conformance.aio_support import raises
from sipfsm.conformance.digest_support import (
    PASSWORD,
    REALM,
    URI,
    USER,
    FakeServer,
    Verdict,
    challenge,
    digest_client,
    only,
    quoted_text,
)
from sipfsm.conformance.registry import check, expect
from sipfsm.errors import AuthenticationFailed, ParseError
from sipfsm.sim import SeededRandom

# --------------------------------------------------------------------------------------------
# The basic exchange: 401 / 407 answered, credentials cached
# --------------------------------------------------------------------------------------------


@check("RFC3261-22.2-REORIGINATE-401", "RFC3261-22.4-URI-QUOTED", "RFC3261-22.4-QOP-ECHO",
       "RFC7616-3.4-CNONCE")
def answers_401_with_authorization_the_server_accepts() -> None:
    """A 401's challenge is answered with one Authorization the server accepts: the uri quoted
    and equal to the Request-URI, qop echoed, nc 00000001 and a cnonce of at least 96 bits."""
    server = FakeServer()
    digest = digest_client()
    reoriginate = "RFC3261-22.2-REORIGINATE-401"
    expect(reoriginate, digest.authorization_headers("REGISTER", URI) == [],
           "credentials before any challenge")
    digest.handle_challenge(401, server.challenges())
    headers = digest.authorization_headers("REGISTER", URI)
    expect(reoriginate, [n for n, _ in headers] == ["Authorization"],
           f"{[n for n, _ in headers]} after a 401")
    if not headers:
        return
    value = headers[0][1]
    sent = parse_credentials(value)
    expect("RFC3261-22.4-URI-QUOTED", f'uri="{URI}"' in value and sent.uri == URI, value)
    expect("RFC3261-22.4-QOP-ECHO", sent.qop == "auth", f"qop={sent.qop} to qop=\"auth\"")
    # base32 token of >= 96 bits from the Random port
    expect("RFC7616-3.4-CNONCE", sent.cnonce and sent.cnonce.isascii()
           and len(sent.cnonce) * 5 >= 96, f"cnonce={sent.cnonce!r}")
    result = server.verify(value)
    expect(reoriginate, result.verdict is Verdict.OK and result.username == USER,
           f"the server says {result.verdict}")


# RFC 3261 §25: request-digest = LDQUOT 32LHEX RDQUOT, LHEX = DIGIT / %x61-66 (lower case);
# RFC 7616 §3.4: the same, as many hex digits as the algorithm's output (256 bits for SHA-256
# and SHA-512/256, 128 for MD5).
_RESPONSE_DIGITS = {"MD5": 32, "MD5-sess": 32, "SHA-256": 64, "SHA-256-sess": 64,
                    "SHA-512-256": 64, "SHA-512-256-sess": 64}
_LHEX = frozenset("0123456789abcdef")


@check("RFC3261-25-REQUEST-DIGEST-LHEX")
@settings(deadline=None, max_examples=30)
@given(algorithm=st.sampled_from(sorted(_RESPONSE_DIGITS)),
       qop=st.sampled_from([None, "auth", "auth,auth-int"]),
       password=st.text(min_size=1, max_size=12),
       nonce=st.text(alphabet="abcdefghijklmnopqrstuvwxyz0123456789+/=", min_size=1, max_size=24))
def the_response_is_lower_case_hex_of_the_algorithms_length(
    algorithm: str, qop: str | None, password: str, nonce: str
) -> None:
    """Whatever the algorithm, qop, password and nonce, the response parameter the client sends
    is lower-case hex digits, 32 of them for MD5 (and -sess), 64 for SHA-256 and SHA-512-256
    (and -sess)."""
    if qop is None and algorithm.endswith("-sess"):
        qop = "auth"  # RFC 7616 §3.4.2: a -sess H(A1) takes the cnonce, which needs a qop
    digest = digest_client(password)
    digest.handle_challenge(401, [challenge(nonce=nonce, algorithm=algorithm, qop=qop)])
    value = only(digest.authorization_headers("REGISTER", URI))
    response = parse_credentials(value).response or ""
    expect("RFC3261-25-REQUEST-DIGEST-LHEX",
           len(response) == _RESPONSE_DIGITS[algorithm] and set(response) <= _LHEX,
           f"{algorithm}: response={response!r}")


@check("RFC3261-22.3-REORIGINATE-407")
def answers_407_with_proxy_authorization() -> None:
    """A 407's challenge is answered in Proxy-Authorization, which the proxy accepts."""
    proxy = FakeServer("proxy.example.net")
    digest = digest_client()
    digest.handle_challenge(407, proxy.challenges())
    headers = digest.authorization_headers("REGISTER", URI)
    assert [name for name, _ in headers] == ["Proxy-Authorization"]
    assert proxy.verify(headers[0][1]).ok
    assert HEADER_FOR_STATUS == {401: "Authorization", 407: "Proxy-Authorization"}


@check("RFC3261-22.3-CACHE-PROXY-CREDENTIALS", "RFC3261-22.3-CREDENTIALS-PER-REALM")
def proxy_and_registrar_credentials_are_both_kept() -> None:
    """A 407 then a 401: the next request carries both answers, and so does a later refresh
    (the proxy's with its next nc); the cached answers are told apart by header and realm."""
    proxy, registrar = FakeServer("proxy.example.net"), FakeServer(REALM, seed=8)
    digest = digest_client()
    digest.handle_challenge(407, proxy.challenges())
    first = digest.authorization_headers("REGISTER", URI)
    cache, realms = "RFC3261-22.3-CACHE-PROXY-CREDENTIALS", "RFC3261-22.3-CREDENTIALS-PER-REALM"
    expect(cache, [n for n, _ in first] == ["Proxy-Authorization"]
           and proxy.verify(first[0][1]).ok, f"after a 407: {first}")
    digest.handle_challenge(401, registrar.challenges())
    second = dict(digest.authorization_headers("REGISTER", URI))
    expect(realms, sorted(second) == ["Authorization", "Proxy-Authorization"],
           f"after a 407 and a 401: {sorted(second)}")
    expect(realms, "Authorization" in second and registrar.verify(second["Authorization"]).ok,
           "the registrar's answer is missing or refused")
    # next nc, same nonce
    expect(cache, "Proxy-Authorization" in second
           and proxy.verify(second["Proxy-Authorization"]).ok,
           "the proxy's cached answer is missing or refused after the 401")
    refresh = digest.authorization_headers("REGISTER", URI)  # a later refresh: both again
    expect(realms, {parse_credentials(v).realm for _, v in refresh}
           == {"proxy.example.net", REALM}, f"realms {[v for _, v in refresh]}")
    expect(cache, [parse_credentials(v).nc for n, v in refresh if n == "Proxy-Authorization"]
           == ["00000003"], f"the proxy's answer in a refresh: {refresh}")
    expect(realms, digest.realms == [("Proxy-Authorization", "proxy.example.net"),
                                     ("Authorization", REALM)], f"realms {digest.realms}")


@check("RFC3261-22.2-CACHE-CREDENTIALS", "RFC7616-3.4-NC-HEX8")
@given(st.integers(1, 40))
def cached_credentials_go_out_preemptively_with_the_next_nc(requests: int) -> None:
    """After one challenge, every following request carries credentials the server accepts
    without a new challenge, nc counting 00000001, 00000002, ... in 8 lower-case hex digits."""
    server = FakeServer()
    digest = digest_client()
    digest.handle_challenge(401, server.challenges())
    counts: list[str | None] = []
    for _ in range(requests):
        headers = digest.authorization_headers("REGISTER", URI)
        expect("RFC3261-22.2-CACHE-CREDENTIALS", [n for n, _ in headers] == ["Authorization"],
               f"request {len(counts) + 1} after the challenge carries {headers}")
        if not headers:
            return
        value = headers[0][1]
        # a replayed nc would come back STALE
        expect("RFC3261-22.2-CACHE-CREDENTIALS", server.verify(value).ok,
               f"request {len(counts) + 1}: {server.verify(value).verdict}")
        counts.append(parse_credentials(value).nc)
    # RFC 7616 §3.4: nc = 8LHEX, the count of requests sent with this nonce, from 00000001
    wanted = ["".join("0123456789abcdef"[(i >> s) & 15] for s in range(28, -4, -4))
              for i in range(1, requests + 1)]
    expect("RFC7616-3.4-NC-HEX8", counts == wanted, f"nc {counts[:3]}..., not {wanted[:3]}...")


@check("RFC3261-22.3-PROXY-CREDENTIALS-SCOPE")
def credentials_are_cached_per_client_never_shared() -> None:
    """Proxy credentials learnt by one DigestClient (one registration, one Call-ID) are not
    used by another one sharing the same credential store."""
    store = StaticCredentials(USER, PASSWORD)
    first, second = DigestClient(store, SeededRandom(1)), DigestClient(store, SeededRandom(2))
    first.handle_challenge(407, FakeServer("proxy.example.net").challenges())
    assert first.authorization_headers("REGISTER", URI)
    assert second.authorization_headers("REGISTER", URI) == []


@check("RFC3261-22.3-CREDENTIALS-PER-REALM")
def each_credential_is_its_own_header_line_with_its_realm() -> None:
    """Challenges from two realms: one header line per realm, each naming its realm."""
    digest = digest_client()
    digest.handle_challenge(401, [challenge("a.example"), challenge("b.example", "n2")])
    headers = digest.authorization_headers("REGISTER", URI)
    assert [parse_credentials(v).realm for _, v in headers] == ["a.example", "b.example"]
    assert all(v.count("Digest ") == 1 for _, v in headers)


# --------------------------------------------------------------------------------------------
# Choosing among challenges
# --------------------------------------------------------------------------------------------

_UNKNOWN_ALGORITHMS = ["SHA-1", "SHA3-256", "SHA-512", "x-new"]
# RFC 7616 §3.4.1 / §6.1 and RFC 8760 §2.1: the algorithms a client answers, written out
# (matched case-insensitively).
RFC_ALGORITHMS = ("MD5", "MD5-sess", "SHA-256", "SHA-256-sess", "SHA-512-256",
                  "SHA-512-256-sess")


def _rfc_supported(name: str) -> bool:
    return name.upper() in {a.upper() for a in RFC_ALGORITHMS}


@check("RFC8760-2.4-TOPMOST-SUPPORTED", "RFC7616-3.7-FIRST-SUPPORTED",
       "RFC3261-22.3-SAME-REALM-SAME-CREDENTIALS", "RFC7616-3.3-UNKNOWN-ALGORITHM-IGNORED")
@example(["SHA-512-256", "SHA-256", "MD5"])
@example(["SHA-256", "SHA-512-256"])  # the server's order, not re-ranked
@example(["MD5", "SHA-256"])
@example(["SHA-1", "SHA3-256", "SHA-256", "MD5"])  # unknown ones skipped
@example(["MD5-sess", "MD5"])
@example(["sha-256", "MD5"])  # matched case-insensitively, echoed as written
@given(st.lists(st.sampled_from([*RFC_ALGORITHMS, "sha-256", *_UNKNOWN_ALGORITHMS]),
                min_size=1, max_size=6, unique_by=str.upper)
       .filter(lambda offered: any(_rfc_supported(a) for a in offered)))
def topmost_usable_challenge_per_realm(offered: list[str]) -> None:
    """Several challenges for one realm: exactly one answer, to the topmost challenge whose
    algorithm sipfsm supports (unknown algorithms passed over), its algorithm echoed."""
    digest = digest_client()
    digest.handle_challenge(401, [challenge(nonce=f"n{i}", algorithm=a)
                                  for i, a in enumerate(offered)])
    headers = digest.authorization_headers("REGISTER", URI)
    expect("RFC3261-22.3-SAME-REALM-SAME-CREDENTIALS", len(headers) == 1,
           f"{len(headers)} answers for one realm")  # one answer for the realm
    if not headers:
        return
    chosen = next(a for a in offered if _rfc_supported(a))
    sent = parse_credentials(headers[0][1])
    first_rule = ("RFC7616-3.3-UNKNOWN-ALGORITHM-IGNORED" if not _rfc_supported(offered[0])
                  else "RFC8760-2.4-TOPMOST-SUPPORTED")
    for r in (first_rule, "RFC7616-3.7-FIRST-SUPPORTED"):
        expect(r, sent.algorithm == chosen and sent.nonce == f"n{offered.index(chosen)}",
               f"offered {offered}: answered {sent.algorithm} ({sent.nonce}), the first "
               f"supported is {chosen}")


@check("RFC8760-3-MD5-NOT-RECOMMENDED")
def local_policy_can_refuse_md5() -> None:
    """DigestClient(algorithms=...) leaves MD5 out: an MD5 challenge is passed over for a
    stronger one, and an MD5-only offer fails, naming the policy."""
    strict = digest_client(algorithms=("SHA-512-256", "SHA-256"))
    strict.handle_challenge(401, [challenge(algorithm="MD5"), challenge(nonce="n2")])
    assert parse_credentials(only(strict.authorization_headers("REGISTER", URI))).algorithm == (
        "SHA-256")
    with raises(AuthenticationFailed, match="disabled by local policy"):
        digest_client(algorithms=("SHA-256",)).handle_challenge(
            401, [challenge(algorithm="MD5")])


@check("RFC8760-2.4-IGNORE-UNKNOWN", "RFC7616-3.3-UNKNOWN-ALGORITHM-IGNORED")
def only_unknown_algorithms_fail_clearly() -> None:
    """When every challenge has an unknown algorithm, the failure names each of them."""
    with raises(AuthenticationFailed) as failure:
        digest_client().handle_challenge(401, [challenge(algorithm="SHA-1"),
                                               challenge(algorithm="SHA3-256", nonce="n2")])
    exc = failure.value
    for rid in ("RFC8760-2.4-IGNORE-UNKNOWN", "RFC7616-3.3-UNKNOWN-ALGORITHM-IGNORED"):
        expect(rid, exc is not None and "'SHA-1' is not supported" in str(exc)
               and "'SHA3-256' is not supported" in str(exc),
               f"the failure does not name each unknown algorithm: {exc}")
    expect("RFC8760-2.4-IGNORE-UNKNOWN",
           exc is not None and exc.spec_id == "RFC8760-2.4-IGNORE-UNKNOWN",
           f"spec id {getattr(exc, 'spec_id', None)}")


@check("RFC8760-2.4-IGNORE-UNKNOWN")
def malformed_challenges_are_skipped_and_never_escape() -> None:
    """A malformed challenge next to a good one is ignored; malformed ones alone end in
    AuthenticationFailed, not a parse error."""
    digest = digest_client()
    digest.handle_challenge(401, ['Digest realm="unterminated', challenge()])
    assert digest.authorization_headers("REGISTER", URI)
    with raises(AuthenticationFailed, match="malformed challenge"):
        digest_client().handle_challenge(401, ['Digest realm="unterminated', "Digest ==="])


_FRAGMENTS = ['Digest', 'realm="r"', "nonce=n", ",", " ", '"', "\\", "=", "qop=",
              '"auth,auth-int"', "algorithm=SHA-256", "\r\n ", "stale=TRUE", "é", "Basic"]


@check("RFC8760-2.4-IGNORE-UNKNOWN")
@example('Digest realm="')
@example("Digest ,,,")
@example('Digest realm="r", nonce="n", realm="again"')
@example("\x00")
@example('Digest a="\\')
@given(st.text(max_size=80) | st.lists(st.sampled_from(_FRAGMENTS), max_size=12).map("".join))
def any_challenge_text_is_parsed_or_refused_cleanly(text: str) -> None:
    """Whatever a WWW-Authenticate value holds, parsing it gives challenges or a
    ChallengeError (a ParseError and ValueError with a message), and the client either
    answers it or raises AuthenticationFailed -- nothing else escapes."""
    try:
        parse_challenges(text)
    except ChallengeError as exc:
        assert isinstance(exc, ParseError) and isinstance(exc, ValueError)
        assert str(exc)
    digest = digest_client()
    try:
        digest.handle_challenge(401, [text])
    except AuthenticationFailed:
        return
    for _, value in digest.authorization_headers("REGISTER", URI):
        assert value.startswith("Digest ")


@check("RFC7616-3.3-UNKNOWN-ALGORITHM-IGNORED", "RFC7616-3.3-UNKNOWN-QOP-IGNORED")
def unusable_challenges_say_why() -> None:
    """A challenge sipfsm cannot answer is marked unusable with the reason (another scheme,
    no realm or nonce, an unknown algorithm, no known qop, -sess without qop, a charset other
    than UTF-8); an absent algorithm means MD5."""
    table = [
        ('Basic realm="r"', "not Digest"),
        ('Digest nonce="n"', "no realm"),
        ('Digest realm="r"', "no nonce"),
        ('Digest realm="r", nonce="n", algorithm=SHA-1', "not supported"),
        ('Digest realm="r", nonce="n", qop="auth-conf"', "no supported qop"),
        ('Digest realm="r", nonce="n", algorithm=MD5-sess', "needs qop"),
        ('Digest realm="r", nonce="n", charset=ISO-8859-1', "charset"),
    ]
    for text, reason in table:
        parsed = parse_challenge(text)
        rid = ("RFC7616-3.3-UNKNOWN-QOP-IGNORED" if "qop" in reason
               else "RFC7616-3.3-UNKNOWN-ALGORITHM-IGNORED")
        expect(rid, not parsed.usable and reason in (parsed.unusable_reason() or ""),
               f"{text}: usable {parsed.usable}, reason {parsed.unusable_reason()!r}")
    absent = parse_challenge('Digest realm="r", nonce="n", qop="auth"')
    expect("RFC7616-3.3-UNKNOWN-ALGORITHM-IGNORED",
           absent.algorithm is None and absent.algorithm_spec is not None
           and absent.algorithm_spec.name == "MD5" and absent.usable,
           f"no algorithm: {absent.algorithm_spec} (an absent algorithm means MD5)")


@check("RFC7616-3.3-UNKNOWN-QOP-IGNORED")
@given(st.lists(st.sampled_from(["auth-conf", "x", "x-new", "AUTH-INT", "auth-int", "auth"]),
                min_size=1, max_size=5))
def unknown_qop_options_are_ignored_not_fatal(options: list[str]) -> None:
    """Unknown qop options are skipped: the known ones are used (auth preferred), and a
    challenge offering none of them is unusable rather than an error."""
    parsed = parse_challenge(f'Digest realm="r", nonce="n", qop="{", ".join(options)}"')
    known = [o.lower() for o in options if o.lower() in ("auth", "auth-int")]
    assert parsed.usable_qop == tuple(known)
    if not known:
        assert not parsed.usable
        return
    assert parsed.choose_qop() == ("auth" if "auth" in known else "auth-int")
    digest = digest_client()
    digest.handle_challenge(401, [challenge(qop=", ".join(options))])
    assert parse_credentials(only(digest.authorization_headers("REGISTER", URI))).qop == (
        parsed.choose_qop())


@check("RFC3261-22-NO-BASIC")
def basic_is_never_answered() -> None:
    """A 401 offering only Basic fails; offered next to Digest, only Digest is answered."""
    with raises(AuthenticationFailed, match="not Digest"):
        digest_client().handle_challenge(401, ['Basic realm="example.com"'])
    digest = digest_client()
    digest.handle_challenge(401, ['Basic realm="example.com"', challenge()])
    headers = digest.authorization_headers("REGISTER", URI)
    assert headers and all(v.startswith("Digest ") for _, v in headers)


@check("RFC3261-22.1-RENDER-REALM")
def no_credentials_for_the_realm_names_it() -> None:
    """With no credentials for the challenged realm, the failure shown names that realm."""
    digest = DigestClient(StaticCredentials(USER, PASSWORD, realm="other.example"),
                          SeededRandom())
    with raises(AuthenticationFailed) as failure:
        digest.handle_challenge(401, [challenge("biloxi.example.com")])
    assert failure.value is not None
    assert "no credentials for realm 'biloxi.example.com'" in str(failure.value)
    assert failure.value.spec_id == "RFC3261-22.1-RENDER-REALM"


@check("RFC7616-3.4-QOP-ONE-OF-OFFERED")
def qop_auth_preferred_else_auth_int() -> None:
    """The qop sent is one offered (auth when offered, else auth-int), a single unquoted
    token; with auth-int the body is protected."""
    table = [("auth,auth-int", "auth"), ("auth-int,auth", "auth"), ("auth-int", "auth-int"),
             ("x-new, auth-int", "auth-int")]
    for offered, chosen in table:
        server = FakeServer(qop=tuple(q.strip() for q in offered.split(",")
                                      if q.strip() in ("auth", "auth-int")))
        digest = digest_client()
        digest.handle_challenge(401, [
            v.replace(f'qop="{",".join(server.qop)}"', f'qop="{offered}"')
            for v in server.challenges()])
        body = b"v=0\r\n"
        value = only(digest.authorization_headers("REGISTER", URI, body))
        assert parse_credentials(value).qop == chosen, offered
        assert f"qop={chosen}," in value + ","
        assert server.verify(value, body=body).ok
        if chosen == "auth-int":
            assert server.verify(value, body=b"tampered").verdict is Verdict.WRONG


@check("RFC3261-22.4-NO-CNONCE-WITHOUT-QOP")
def a_challenge_without_qop_is_answered_the_rfc2069_way() -> None:
    """No qop in the challenge: no qop, cnonce or nc in the answer; a -sess algorithm (which
    needs a cnonce) without qop cannot be answered."""
    digest = digest_client()
    digest.handle_challenge(401, [challenge(algorithm=None, qop=None)])
    value = only(digest.authorization_headers("REGISTER", URI))
    assert "qop=" not in value and "cnonce=" not in value and "nc=" not in value
    with raises(AuthenticationFailed, match="needs qop"):
        digest_client().handle_challenge(401, [challenge(algorithm="MD5-sess", qop=None)])


@check("RFC7616-3.3-OPAQUE-ECHO")
@example("")
@example("5ccc069c403ebaf9f0171e9517f40e41")
@example('with "quote", comma')
@example("back\\slash")
@given(quoted_text)
def opaque_and_algorithm_come_back_unchanged(opaque: str) -> None:
    """The opaque value (whatever a quoted-string can carry) and the algorithm token come back
    as the server wrote them; with neither in the challenge, neither is sent."""
    escaped = opaque.replace("\\", "\\\\").replace('"', '\\"')
    digest = digest_client()
    digest.handle_challenge(401, [challenge(algorithm="sha-256", extra=f', opaque="{escaped}"')])
    value = only(digest.authorization_headers("REGISTER", URI))
    sent = parse_credentials(value)
    assert sent.opaque == opaque
    assert sent.algorithm == "sha-256"  # as the server wrote it
    bare = digest_client()
    bare.handle_challenge(401, [challenge(algorithm=None)])
    plain = only(bare.authorization_headers("REGISTER", URI))
    assert "opaque=" not in plain
    assert "algorithm=" not in plain  # absent means MD5, and stays absent


# --------------------------------------------------------------------------------------------
# Rejection, staleness, bounded retries
# --------------------------------------------------------------------------------------------


@check("RFC3261-22.1-NO-RESEND-REJECTED", "RFC7616-3.3-STALE-FALSE-NEW-CREDENTIALS")
def rejected_credentials_are_not_resent() -> None:
    """Credentials answered by a new challenge without stale=true were rejected: the client
    fails (new credentials are needed) and never sends them again, not even pre-emptively."""
    server = FakeServer()
    digest = digest_client(password="wrong")
    digest.handle_challenge(401, server.challenges())
    value = only(digest.authorization_headers("REGISTER", URI))
    assert server.verify(value).verdict is Verdict.WRONG  # the set-up: a wrong password
    try:
        digest.handle_challenge(401, server.challenges())  # again, stale absent
    except AuthenticationFailed as exc:
        expect("RFC7616-3.3-STALE-FALSE-NEW-CREDENTIALS",
               exc.spec_id == "RFC3261-22.1-NO-RESEND-REJECTED" and "rejected" in str(exc),
               f"the failure does not say the credentials were rejected: {exc}")
    else:
        expect("RFC7616-3.3-STALE-FALSE-NEW-CREDENTIALS", False,
               "a second challenge without stale=true did not fail the attempt")
    expect("RFC3261-22.1-NO-RESEND-REJECTED",
           digest.authorization_headers("REGISTER", URI) == [],
           "rejected credentials are sent again")


@check("RFC7616-3.3-STALE-RETRY")
def stale_true_is_retried_with_the_new_nonce() -> None:
    """stale=true after sent credentials: the client retries with the new nonce (nc back to
    00000001), with the same credentials, and the server accepts them."""
    server = FakeServer()
    digest = digest_client()
    digest.handle_challenge(401, server.challenges())
    first = only(digest.authorization_headers("REGISTER", URI))
    server.retired.add(parse_credentials(first).nonce or "")
    assert server.verify(first).verdict is Verdict.STALE
    digest.handle_challenge(401, server.challenges(stale=True))
    value = only(digest.authorization_headers("REGISTER", URI))
    second = parse_credentials(value)
    assert second.nonce != parse_credentials(first).nonce and second.nc == "00000001"
    assert server.verify(value).ok


@check("RFC3261-22.1-NO-RESEND-REJECTED")
@given(st.integers(1, 6))
def retries_are_bounded_by_max_attempts(max_attempts: int) -> None:
    """Even a server that keeps saying stale=true gets at most max_attempts resubmissions."""
    digest = digest_client(max_attempts=max_attempts)
    resubmissions = 0
    with raises(AuthenticationFailed, match="attempts"):
        for i in range(100):
            digest.handle_challenge(401, [challenge(nonce=f"n{i}", stale=True)])
            digest.authorization_headers("REGISTER", URI)
            resubmissions += 1
    assert resubmissions == max_attempts


@check("RFC3261-22.1-NO-RESEND-REJECTED")
def preemptive_credentials_meeting_a_fresh_challenge_get_one_answer() -> None:
    """Cached credentials meeting a fresh challenge (the nonce retired without stale) may be
    answered once; a challenge to that answer is a rejection."""
    server = FakeServer()
    digest = digest_client()
    digest.handle_challenge(401, server.challenges())
    assert server.verify(only(digest.authorization_headers("REGISTER", URI))).ok
    old = only(digest.authorization_headers("REGISTER", URI))
    server.retired.add(parse_credentials(old).nonce or "")
    digest.handle_challenge(401, server.challenges())
    retry = only(digest.authorization_headers("REGISTER", URI))
    assert server.verify(retry).ok
    with raises(AuthenticationFailed, match="rejected"):
        digest.handle_challenge(401, server.challenges())


@check("RFC3261-22.1-NO-RESEND-REJECTED")
def the_same_nonce_again_without_stale_is_a_rejection_even_preemptively() -> None:
    """A challenge repeating the nonce already answered, without stale, is a rejection."""
    digest = digest_client()
    digest.handle_challenge(401, [challenge(nonce="same")])
    digest.authorization_headers("REGISTER", URI)
    digest.authorization_headers("REGISTER", URI)  # a later, pre-emptive request
    with raises(AuthenticationFailed, match="rejected"):
        digest.handle_challenge(401, [challenge(nonce="same")])


# --------------------------------------------------------------------------------------------
# Authentication-Info; userhash
# --------------------------------------------------------------------------------------------


@check("RFC7616-3.5-RSPAUTH")
def rspauth_is_verified() -> None:
    """The server's rspauth is checked: the right one passes, a wrong one, a cnonce not sent
    or a malformed Authentication-Info fails."""
    server = FakeServer()
    digest = digest_client()
    digest.handle_challenge(401, server.challenges())
    value = only(digest.authorization_headers("REGISTER", URI))
    result = server.verify(value)
    info = result.authentication_info
    assert info is not None
    digest.handle_authentication_info(info)  # no error
    head, rest = info.split('rspauth="')
    tampered = head + 'rspauth="' + "0" * 64 + '"' + rest.split('"', 1)[1]
    with raises(AuthenticationFailed, match="rspauth") as failure:
        digest.handle_authentication_info(tampered)
    assert failure.value is not None and failure.value.spec_id == "RFC7616-3.5-RSPAUTH"
    with raises(AuthenticationFailed, match="cnonce"):
        digest.handle_authentication_info('qop=auth, rspauth="00", cnonce="other", nc=00000001')
    with raises(AuthenticationFailed, match="malformed"):
        digest.handle_authentication_info('rspauth="unterminated')


@check("RFC7616-3.5-NEXTNONCE")
@given(st.integers(0, 5))
def nextnonce_is_used_next_with_nc_restarting(earlier: int) -> None:
    """A nextnonce in Authentication-Info is the nonce of the next request, nc from 1."""
    server = FakeServer()
    digest = digest_client()
    digest.handle_challenge(401, server.challenges())
    for _ in range(earlier):
        digest.authorization_headers("REGISTER", URI)
    value = only(digest.authorization_headers("REGISTER", URI))
    server.nonces["fresh-nonce"] = set()
    result = server.verify(value, nextnonce="fresh-nonce")
    assert result.authentication_info is not None
    digest.handle_authentication_info(result.authentication_info)
    following = only(digest.authorization_headers("REGISTER", URI))
    sent = parse_credentials(following)
    assert (sent.nonce, sent.nc) == ("fresh-nonce", "00000001")
    assert server.verify(following).ok


@check("RFC7616-3.4.4-USERHASH")
def userhash_is_sent_when_the_server_asks() -> None:
    """userhash=true: username is H(username ":" realm), userhash=true is sent, and the
    plain name appears nowhere."""
    digest = digest_client()
    digest.handle_challenge(401, [challenge(extra=", userhash=true")])
    value = only(digest.authorization_headers("REGISTER", URI))
    sent = parse_credentials(value)
    spec = lookup_algorithm("SHA-256")
    assert spec is not None
    assert sent.userhash and sent.username == spec.h(f"{USER}:{REALM}")
    assert USER not in value


# --------------------------------------------------------------------------------------------
# Any interleaving: a state machine
# --------------------------------------------------------------------------------------------

MAX_ATTEMPTS = 3


class DigestClientMachine(RuleBasedStateMachine):
    """Requests, challenges (fresh, stale, other algorithm order) and Authentication-Info with
    a nextnonce, in any order; after each step the RFC's rules are checked."""

    def __init__(self) -> None:
        super().__init__()
        self.server = FakeServer(algorithms=("SHA-256", "MD5"))
        self.client = DigestClient(StaticCredentials(USER, PASSWORD), SeededRandom(11),
                                   max_attempts=MAX_ATTEMPTS)
        self.last_nc: dict[str, int] = {}  # nonce -> last nc sent with it
        self.cnonces: set[str] = set()
        self.challenges_in_chain = 0
        self.resubmission_due = False
        self.sent_any = False
        self.nonce_of_last: str | None = None

    @rule(body=st.binary(max_size=8))
    def send_request(self, body: bytes) -> None:
        if not self.resubmission_due:
            self.challenges_in_chain = 0
        self.resubmission_due = False
        headers = self.client.authorization_headers("REGISTER", URI, body)
        assert len(headers) <= 1
        for name, value in headers:
            assert name == "Authorization"
            sent = parse_credentials(value)
            assert sent.nonce is not None and sent.nc is not None and sent.cnonce is not None
            # RFC 7616 §3.4: nc is 8 lower-case hex digits counting up by one per request
            # with the nonce, from 1.
            assert len(sent.nc) == 8 and sent.nc == sent.nc.lower()
            nc = int(sent.nc, 16)
            assert nc == self.last_nc.get(sent.nonce, 0) + 1
            self.last_nc[sent.nonce] = nc
            # A fresh cnonce every time (SHA-256 and MD5 here, no -sess).
            assert sent.cnonce not in self.cnonces
            self.cnonces.add(sent.cnonce)
            assert self.server.verify(value).ok
            self.nonce_of_last = sent.nonce
        self.sent_any = bool(headers)

    @rule(stale=st.booleans(), md5_first=st.booleans())
    def challenge(self, stale: bool, md5_first: bool) -> None:
        self.server.algorithms = ("MD5", "SHA-256") if md5_first else ("SHA-256", "MD5")
        values = self.server.challenges(stale=stale)
        self.challenges_in_chain += 1
        try:
            self.client.handle_challenge(401, values)
        except AuthenticationFailed:
            # Only a rejection of credentials sent in answer to a challenge, or too many
            # attempts, may end the exchange.
            assert self.challenges_in_chain > MAX_ATTEMPTS or (not stale and self.sent_any)
            self.resubmission_due = False
            return
        assert self.challenges_in_chain <= MAX_ATTEMPTS
        self.resubmission_due = True

    @precondition(lambda self: self.nonce_of_last is not None and self.sent_any)
    @rule()
    def success_with_nextnonce(self) -> None:
        nonce = f"next{len(self.server.nonces)}"
        self.server.nonces[nonce] = set()
        self.client.handle_authentication_info(f'nextnonce="{nonce}"')
        assert self.last_nc.get(nonce) is None

    @invariant()
    def at_most_one_cached_answer(self) -> None:
        assert len(self.client.realms) <= 1
        assert all(realm == REALM for _, realm in self.client.realms)


@check("RFC7616-3.4-NC-HEX8", "RFC7616-3.4-CNONCE", "RFC3261-22.1-NO-RESEND-REJECTED")
def any_interleaving_keeps_nc_cnonce_and_retry_rules() -> None:
    """Over arbitrary interleavings of requests, challenges and nextnonces: nc counts up per
    nonce from 00000001, every cnonce is fresh, the server accepts every request, and the
    exchange ends only on a rejection of credentials sent or after max_attempts."""
    run_state_machine_as_test(DigestClientMachine, settings=settings(stateful_step_count=30))
