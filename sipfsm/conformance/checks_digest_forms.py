"""Conformance checks for the forms a Digest challenge may take and the state the client keeps
between them (spec/digest.toml): any casing of the scheme, parameter names and token values
(RFC 3261 §7.3.1), quoted-pairs in the values (RFC 3261 §25.1), a proxy and a registrar of one
realm (RFC 3261 §22.3), the same Request-URI under several methods (RFC 7616 §3.4.3), and the
attempts counted per request (RFC 3261 §22.1, RFC 7616 §3.3).

Each check also drives the client's short ways (the first challenge's short path, the
challenge shapes cache, the plain-text answer, the shared H(A2) and tail caches): whatever way
the client takes, the answer is read back with the reader of
:mod:`sipfsm.conformance.digest_reference` and its response recomputed there with hashlib
alone, from the RFC's formulas.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from typing import Any

from hypothesis import example, given
from hypothesis import strategies as st

from sipfsm.auth import DigestClient, StaticCredentials
from sipfsm.conformance.digest_reference import expected_response, read_credentials
from sipfsm.conformance.digest_support import (
    PASSWORD,
    REALM,
    URI,
    USER,
    FakeServer,
    digest_client,
    only,
)
from sipfsm.conformance.harness import (
    ScriptedRegistrar,
    World,
    default_config,
    ok_echo,
    reply,
)
from sipfsm.conformance.registry import check, expect
from sipfsm.errors import AuthenticationFailed
from sipfsm.message import Request, Response
from sipfsm.sim import SeededRandom

# --------------------------------------------------------------------------------------------
# RFC 3261 §7.3.1: tokens and parameter names in any case
# --------------------------------------------------------------------------------------------

_CASE = "RFC3261-7.3.1-DIGEST-CHALLENGE-CASE"


def _recase(flips: list[bool]) -> Callable[[str], str]:
    """A function writing each word with the letters ``flips`` (used in turn) swapped."""
    position = 0

    def written(word: str) -> str:
        nonlocal position
        out = []
        for c in word:
            out.append(c.swapcase() if flips[position % len(flips)] else c)
            position += 1
        return "".join(out)

    return written


def _read(value: str) -> dict[str, str] | None:
    try:
        return read_credentials(value)
    except ValueError:
        return None


@check(_CASE)
@example(scheme="DIGEST", flips=[True])  # every name and token upper-cased (general parser)
@example(scheme="Digest", flips=[True])  # the one-step scanner's shape, names upper-cased
@example(scheme="digest", flips=[False])  # only the scheme differs
@example(scheme="Digest", flips=[False, True])
@given(scheme=st.sampled_from(["Digest", "digest", "DIGEST", "dIgEsT"]),
       flips=st.lists(st.booleans(), min_size=1, max_size=12))
def challenges_are_read_whatever_the_case_of_their_tokens(scheme: str,
                                                          flips: list[bool]) -> None:
    """A challenge whose scheme, parameter names and token values (algorithm, qop options,
    charset, stale, userhash) are written in any case is answered as its canonical spelling:
    the first with the server's realm and nonce and the reference's response; then a second
    one with stale=TRUE (any case) and userhash=TRUE (any case) is retried, not taken for a
    rejection, with username = H(username ":" realm)."""
    c = _recase(flips)
    first = (f'{scheme} {c("realm")}="{REALM}", {c("nonce")}="n1", '
             f'{c("algorithm")}={c("SHA-256")}, {c("qop")}="{c("auth")}", '
             f'{c("charset")}={c("UTF-8")}')
    digest = digest_client()
    try:
        digest.handle_challenge(401, [first])
    except AuthenticationFailed as exc:
        expect(_CASE, False, f"{first!r} refused: {exc}")
        return
    params = _read(only(digest.authorization_headers("REGISTER", URI)))
    expect(_CASE, params is not None and params.get("realm") == REALM
           and params.get("nonce") == "n1" and params.get("qop") == "auth"
           and params.get("algorithm", "").upper() == "SHA-256"
           and params.get("username") == USER
           and params.get("response") == expected_response(params, method="REGISTER",
                                                           password=PASSWORD),
           f"{first!r} answered as {params}")
    # RFC 7616 §3.3 / §3.4.4: stale and userhash are case-insensitive flags
    second = (f'{scheme} {c("realm")}="{REALM}", {c("nonce")}="n2", '
              f'{c("algorithm")}={c("SHA-256")}, {c("qop")}="{c("auth")}", '
              f'{c("stale")}={c("true")}, {c("userhash")}={c("true")}')
    try:
        digest.handle_challenge(401, [second])
    except AuthenticationFailed as exc:
        expect(_CASE, False, f"{second!r} (stale) after an answer refused: {exc}")
        return
    params = _read(only(digest.authorization_headers("REGISTER", URI)))
    hashed = hashlib.sha256(f"{USER}:{REALM}".encode()).hexdigest()
    expect(_CASE, params is not None and params.get("nonce") == "n2"
           and params.get("nc") == "00000001"
           and params.get("userhash", "").lower() == "true"
           and params.get("username") == hashed
           and params.get("response") == expected_response(params, method="REGISTER",
                                                           password=PASSWORD, username=USER),
           f"{second!r} answered as {params}")


# --------------------------------------------------------------------------------------------
# RFC 3261 §25.1: quoted-pairs in the challenge's values, on every way through the client
# --------------------------------------------------------------------------------------------

_QUOTED_PAIR = "RFC3261-25.1-DIGEST-QUOTED-PAIR"
# Printable ASCII, quotation mark and backslash included (they travel as quoted-pairs).
_QUOTABLE = st.text(st.characters(min_codepoint=0x20, max_codepoint=0x7E), min_size=1,
                    max_size=16)


def _escaped(text: str) -> str:
    return text.replace("\\", "\\\\").replace('"', '\\"')


def _shape(nonce_text: str, opaque_text: str) -> str:
    # One registrar's challenges: the same text each time but for the nonce.
    return (f'Digest realm="{REALM}", nonce="{nonce_text}", algorithm=SHA-256, qop="auth", '
            f'opaque="{opaque_text}"')


@check(_QUOTED_PAIR)
@example(nonce="a\\b", opaque="o")  # the shapes cache's text, a backslash in the nonce
@example(nonce='a"b', opaque="o")
@example(nonce="n\\", opaque="o\\\"")
@example(nonce="plain", opaque='say "hi"')
@given(nonce=_QUOTABLE, opaque=_QUOTABLE)
def quoted_values_are_unescaped_and_escaped_back(nonce: str, opaque: str) -> None:
    """A challenge already seen with a plain nonce comes again with a nonce (and an opaque)
    holding quotation marks and backslashes as quoted-pairs: the client answers with exactly
    the server's nonce and opaque (as the reference reader reads the credentials) and the
    response is the reference's, computed over the unescaped nonce."""
    # The same shape with a nonce that needs no escaping first, as a registrar would send it.
    DigestClient(StaticCredentials(USER, PASSWORD), SeededRandom(5)).handle_challenge(
        401, [_shape("plain0", _escaped(opaque))])
    digest = digest_client()
    digest.handle_challenge(401, [_shape(_escaped(nonce), _escaped(opaque))])
    value = only(digest.authorization_headers("REGISTER", URI))
    params = _read(value)
    expect(_QUOTED_PAIR, params is not None, f"unreadable credentials: {value}")
    if params is None:
        return
    expect(_QUOTED_PAIR, params.get("nonce") == nonce and params.get("opaque") == opaque
           and params.get("realm") == REALM,
           f"nonce {nonce!r} / opaque {opaque!r} came back as {params.get('nonce')!r} / "
           f"{params.get('opaque')!r}: {value}")
    expect(_QUOTED_PAIR,
           params.get("response") == expected_response(params, method="REGISTER",
                                                       password=PASSWORD),
           f"the response is not computed over nonce {nonce!r}")


# --------------------------------------------------------------------------------------------
# RFC 3261 §22.3: a proxy and a registrar of the same realm
# --------------------------------------------------------------------------------------------


@check("RFC3261-22.3-CACHE-PROXY-CREDENTIALS", "RFC3261-22.2-REORIGINATE-401")
@example(same_realm=True)
@example(same_realm=False)
@given(st.booleans())
def a_proxy_and_a_registrar_of_one_realm_are_both_answered(same_realm: bool) -> None:
    """A 407 from a proxy, then a 401 from the registrar -- often of the same realm (one
    domain): the 401 is no rejection of the Proxy-Authorization (which the proxy accepted), so
    the client answers it, and the next requests carry both answers, each accepted by its
    server (RFC 3261 §22.3: credentials for the proxy's realm in all subsequent requests)."""
    proxy = FakeServer(REALM)
    registrar = FakeServer(REALM if same_realm else "registrar.example.com", seed=9)
    digest = digest_client()
    digest.handle_challenge(407, proxy.challenges())
    first = only(digest.authorization_headers("REGISTER", URI), "Proxy-Authorization")
    assert proxy.verify(first).ok  # the set-up: the proxy lets the request through
    reoriginate, cache = "RFC3261-22.2-REORIGINATE-401", "RFC3261-22.3-CACHE-PROXY-CREDENTIALS"
    try:
        digest.handle_challenge(401, registrar.challenges())
    except AuthenticationFailed as exc:
        expect(reoriginate, False, f"the registrar's 401 after the proxy's 407 refused: {exc}")
        return
    for request in ("the answer to the 401", "a later refresh"):
        headers = digest.authorization_headers("REGISTER", URI)
        answers = [v for n, v in headers if n == "Authorization"]
        proxies = [v for n, v in headers if n == "Proxy-Authorization"]
        expect(reoriginate, len(answers) == 1 and registrar.verify(answers[0]).ok,
               f"{request}: Authorization {answers}")
        expect(cache, len(proxies) == 1 and proxy.verify(proxies[0]).ok,
               f"{request}: Proxy-Authorization {proxies}")


# --------------------------------------------------------------------------------------------
# RFC 7616 §3.4.3: A2 = Method ":" request-uri, whatever was answered before
# --------------------------------------------------------------------------------------------


@check("RFC3261-22.2-REORIGINATE-401")
@given(st.permutations(["REGISTER", "OPTIONS", "INVITE", "SUBSCRIBE"]))
def each_method_has_its_own_a2_for_one_request_uri(methods: list[str]) -> None:
    """Requests of several methods to one Request-URI, one after another with the same cached
    challenge: each response is the reference's for its own method."""
    digest = digest_client()
    digest.handle_challenge(401, [f'Digest realm="{REALM}", nonce="m1", algorithm=SHA-256, '
                                  'qop="auth"'])
    for method in methods:
        params = _read(only(digest.authorization_headers(method, "sip:a2.example.com")))
        expect("RFC3261-22.2-REORIGINATE-401", params is not None and params.get("response")
               == expected_response(params, method=method, password=PASSWORD),
               f"{method}: the response is not over A2 = {method}:sip:a2.example.com")


# --------------------------------------------------------------------------------------------
# RFC 3261 §22.1 / RFC 7616 §3.3: attempts count per request, not per registration
# --------------------------------------------------------------------------------------------


@check("RFC7616-3.3-STALE-RETRY")
@given(st.integers(2, 8))
def every_new_request_may_meet_a_stale_nonce(refreshes: int) -> None:
    """Every refresh of a long registration may find its nonce stale: the client answers each
    stale=true challenge (the bound on attempts is per request, not per registration)."""
    server = FakeServer()
    digest = digest_client(max_attempts=2)
    digest.handle_challenge(401, server.challenges())
    digest.authorization_headers("REGISTER", URI)
    for refresh in range(refreshes):
        stale = only(digest.authorization_headers("REGISTER", URI))
        server.retired.add(read_credentials(stale)["nonce"])
        try:
            digest.handle_challenge(401, server.challenges(stale=True))
        except AuthenticationFailed as exc:
            expect("RFC7616-3.3-STALE-RETRY", False,
                   f"refresh {refresh + 1}: stale=true not retried: {exc}")
            return
        retry = only(digest.authorization_headers("REGISTER", URI))
        expect("RFC7616-3.3-STALE-RETRY", server.verify(retry).ok,
               f"refresh {refresh + 1}: the retry is refused")


# --------------------------------------------------------------------------------------------
# RFC 3261 §22.2 / §22.3: the registration's later requests carry the cached credentials
# --------------------------------------------------------------------------------------------


def _digest_registrar(status: int, server: FakeServer) -> Any:
    """A registrar (or, for 407, the proxy before it) that answers a REGISTER without
    credentials its server accepts with ``status`` and a fresh challenge, and one with them
    with a 200; it counts the challenges it sent."""
    challenge_header = "WWW-Authenticate" if status == 401 else "Proxy-Authenticate"
    credentials_header = "Authorization" if status == 401 else "Proxy-Authorization"

    def responder(request: Request, reg: ScriptedRegistrar) -> Response:
        value = request.headers.get(credentials_header)
        if value is not None and server.verify(value).ok:
            return ok_echo(request, expires=600)
        reg.state["challenges"] = reg.state.get("challenges", 0) + 1
        return reply(request, status,
                     headers=[(challenge_header, v) for v in server.challenges()])

    return responder


@check("RFC3261-22.2-CACHE-CREDENTIALS", "RFC3261-22.3-CACHE-PROXY-CREDENTIALS")
@given(st.sampled_from([401, 407]), st.integers(0, 2**16))
def refreshes_carry_the_cached_credentials(status: int, seed: int) -> None:
    """After one challenge, every refresh of the registration (same Call-ID) carries the
    cached Authorization (Proxy-Authorization), which the server accepts: over an hour of
    refreshes the server challenged once."""
    rule = ("RFC3261-22.2-CACHE-CREDENTIALS" if status == 401
            else "RFC3261-22.3-CACHE-PROXY-CREDENTIALS")
    header = "Authorization" if status == 401 else "Proxy-Authorization"
    world = World(_digest_registrar(status, FakeServer()),
                  credentials=StaticCredentials(USER, PASSWORD), seed=seed,
                  config=default_config(expires=600))
    world.client.register()
    world.run(3600)
    registers = world.sent_registers()
    expect(rule, world.client.state == "registered" and len(registers) >= 5,
           f"{world.client.state} after {len(registers)} REGISTERs")
    expect(rule, world.registrar.state.get("challenges") == 1,
           f"{world.registrar.state.get('challenges')} challenges over {len(registers)} "
           "REGISTERs: the refreshes did not carry the cached credentials")
    expect(rule, all(r.headers.get(header) is not None for r in registers[1:]),
           f"a refresh without {header}")


# --------------------------------------------------------------------------------------------
# RFC 3261 §7.3.1 / RFC 8760 §2.4: a parameter named twice makes the challenge malformed
# --------------------------------------------------------------------------------------------

_TWICE = {"realm": '"other.example.com"', "nonce": '"n-other"', "algorithm": "MD5",
          "qop": '"auth-int"', "opaque": '"o2"'}


@check("RFC8760-2.4-IGNORE-UNKNOWN")
@given(name=st.sampled_from(sorted(_TWICE)), scheme=st.sampled_from(["Digest", "digest"]),
       first=st.booleans())
def a_challenge_naming_a_parameter_twice_is_not_answered(name: str, scheme: str,
                                                         first: bool) -> None:
    """RFC 3261 §7.3.1: "any given parameter-name MUST NOT appear more than once": a challenge
    that names one twice cannot be understood (which value is the server's?) and is ignored,
    whatever its shape; next to a well-formed challenge, only that one is answered."""
    common = (f'{scheme} realm="{REALM}", nonce="n1", algorithm=SHA-256, qop="auth", '
              'opaque="o1"')
    twice = f"{name}={_TWICE[name]}"
    bad = f"{common}, {twice}" if not first else common.replace(
        f"{scheme} ", f"{scheme} {twice}, ", 1)
    try:
        digest_client().handle_challenge(401, [bad])
    except AuthenticationFailed:
        pass
    else:
        expect("RFC8760-2.4-IGNORE-UNKNOWN", False, f"{bad!r} was answered")
    digest = digest_client()
    good = f'Digest realm="{REALM}", nonce="good", algorithm=SHA-256, qop="auth"'
    digest.handle_challenge(401, [bad, good])
    params = _read(only(digest.authorization_headers("REGISTER", URI)))
    expect("RFC8760-2.4-IGNORE-UNKNOWN", params is not None and params.get("nonce") == "good",
           f"{bad!r} next to a good challenge: answered {params}")


# --------------------------------------------------------------------------------------------
# RFC 8760 §2.4: with a stored H(A1) (no password), the topmost challenge it can answer
# --------------------------------------------------------------------------------------------


@check("RFC8760-2.4-TOPMOST-SUPPORTED")
@example(offered=["MD5", "SHA-256"])
@example(offered=["SHA-512-256", "MD5-sess", "SHA-256-sess"])
@given(st.lists(st.sampled_from(["MD5", "MD5-sess", "SHA-256", "SHA-256-sess", "SHA-512-256",
                                 "SHA-512-256-sess"]), min_size=1, max_size=4, unique=True))
def a_stored_ha1_answers_only_its_own_algorithm(offered: list[str]) -> None:
    """Credentials holding only the SHA-256 H(A1) (RFC 7616 §3.4.2: H(username ":" realm ":"
    password), here computed with hashlib) support SHA-256 and SHA-256-sess alone: the client
    answers the topmost of those, with the reference's response, passing over the others; with
    neither offered it answers nothing."""
    ha1 = hashlib.sha256(f"{USER}:{REALM}:{PASSWORD}".encode()).hexdigest()
    digest = DigestClient(StaticCredentials(USER, ha1={"SHA-256": ha1}), SeededRandom(4))
    challenges = [f'Digest realm="{REALM}", nonce="n{i}", algorithm={a}, qop="auth"'
                  for i, a in enumerate(offered)]
    usable = [a for a in offered if a.startswith("SHA-256")]
    try:
        digest.handle_challenge(401, challenges)
    except AuthenticationFailed as exc:
        expect("RFC8760-2.4-TOPMOST-SUPPORTED", not usable,
               f"offered {offered}: {usable[:1]} not answered ({exc})")
        return
    params = _read(only(digest.authorization_headers("REGISTER", URI)))
    expect("RFC8760-2.4-TOPMOST-SUPPORTED", bool(usable) and params is not None
           and params.get("algorithm") == usable[0]
           and params.get("nonce") == f"n{offered.index(usable[0])}"
           and params.get("response") == expected_response(params, method="REGISTER",
                                                           password=PASSWORD),
           f"offered {offered} with only a SHA-256 H(A1): answered {params}")
