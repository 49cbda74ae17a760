"""Helpers for the conformance checks of Digest authentication (sipfsm.auth; spec/digest.toml):
a small Digest server with a nonce store, client and challenge builders, hypothesis strategies
for Digest values, the published test vectors, and an independent reference computation of the
response (RFC 7616 §3.4.1 - §3.4.4 written again with :mod:`hashlib` alone).

Public so that tests and users' own harnesses can drive the Digest code the same way.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable
from typing import Any

from hypothesis import strategies as st

from sipfsm.auth import DigestClient, StaticCredentials, build_authorization
from sipfsm.auth import server as digest_server
from sipfsm.auth.digest import SUPPORTED_ALGORITHMS
from sipfsm.auth.server import Verdict, Verification, parse_credentials
from sipfsm.conformance.digest_reference import expected_response, read_credentials
from sipfsm.sim import SeededRandom

__all__ = [
    "ERRATUM_4897_RESPONSE",
    "ERRATUM_4897_USERHASH",
    "PASSWORD",
    "PRINTED_RESPONSE",
    "PRINTED_USERHASH",
    "REALM",
    "RFC2617_CHALLENGE",
    "RFC7616_392_CHALLENGE",
    "RFC7616_392_CNONCE",
    "RFC7616_392_NONCE",
    "RFC7616_392_PASSWORD",
    "RFC7616_392_USER",
    "RFC7616_CNONCE",
    "RFC7616_NONCE",
    "RFC7616_OPAQUE",
    "TOKEN_ALPHABET",
    "URI",
    "USER",
    "CountingRandom",
    "FakeServer",
    "Verdict",
    "algorithms",
    "answer",
    "bodies",
    "challenge",
    "challenge_text",
    "digest_client",
    "methods",
    "nonces",
    "only",
    "param_lists",
    "params_of",
    "passwords",
    "quoted_text",
    "realms",
    "reference_algorithms",
    "reference_response",
    "tokens",
    "uris",
    "usernames",
]

REALM = "example.com"
USER = "alice"
PASSWORD = "correct horse battery staple"
URI = "sip:example.com"


# -- a server and a client -----------------------------------------------------------------------


class CountingRandom:
    """``ports.Random`` whose tokens are distinct and predictable (``c1``, ``c2``, ...)."""

    def __init__(self) -> None:
        self.drawn = 0

    def token(self, nbits: int) -> str:
        self.drawn += 1
        return f"c{self.drawn}"

    def uniform(self, low: float, high: float) -> float:
        return low


class FakeServer:
    """Issues challenges for one realm (with :mod:`sipfsm.auth.server`) and checks credentials;
    remembers the nc values used with each nonce (a replay is refused as stale) and which
    nonces are retired."""

    def __init__(
        self,
        realm: str = REALM,
        password: str = PASSWORD,
        *,
        algorithms: Iterable[str] = ("SHA-256",),
        qop: tuple[str, ...] = ("auth",),
        opaque: str | None = None,
        seed: int = 7,
    ) -> None:
        self.realm = realm
        self.password = password
        self.algorithms = tuple(algorithms)
        self.qop = qop
        self.opaque = opaque
        self.random = SeededRandom(seed)
        self.nonces: dict[str, set[int]] = {}
        self.retired: set[str] = set()

    def challenges(self, *, stale: bool = False) -> list[str]:
        issued = digest_server.challenge_headers(
            self.realm, self.random, algorithms=self.algorithms, qop=self.qop,
            opaque=self.opaque, stale=stale,
        )
        for nonce, _ in issued:
            self.nonces[nonce] = set()
        return [value for _, value in issued]

    def check_nonce(self, nonce: str, nc: int | None) -> bool:
        used = self.nonces.get(nonce)
        if used is None or nonce in self.retired:
            return False
        if nc is not None:
            if nc in used:
                return False
            used.add(nc)
        return True

    def verify(self, value: str, method: str = "REGISTER", *, body: bytes = b"",
               nextnonce: str | None = None) -> Verification:
        result = digest_server.verify(
            value, method=method, realm=self.realm, password=self.password,
            check_nonce=self.check_nonce, body=body, nextnonce=nextnonce,
        )
        if result.ok:
            # The oracle is the reference written apart (hashlib over the RFC's formulas), not
            # the verifier, which shares the client's hashing code.
            params = read_credentials(value)
            if params.get("userhash", "false").lower() != "true" and "username" in params:
                try:
                    expected = expected_response(params, method=method,
                                                 password=self.password, body=body)
                except ValueError:  # this hashlib lacks the algorithm: nothing to compare
                    return result
                assert params.get("response") == expected, (
                    "the digest response differs from the RFC 7616 reference computation")
        return result


def only(headers: list[tuple[str, str]], name: str = "Authorization") -> str:
    """The one value of header ``name`` among ``headers`` (AssertionError unless exactly one)."""
    values = [v for n, v in headers if n == name]
    assert len(values) == 1, headers
    return values[0]


def digest_client(password: str = PASSWORD, **kwargs: Any) -> DigestClient:
    """A DigestClient for :data:`USER` (any realm) with seeded randomness."""
    return DigestClient(StaticCredentials(USER, password), SeededRandom(3), **kwargs)


def challenge(realm: str = REALM, nonce: str = "n1", *, algorithm: str | None = "SHA-256",
              qop: str | None = "auth", stale: bool = False, extra: str = "") -> str:
    """A hand-written ``WWW-Authenticate`` value (``extra`` is appended as written)."""
    text = f'Digest realm="{realm}", nonce="{nonce}"'
    if algorithm is not None:
        text += f", algorithm={algorithm}"
    if qop is not None:
        text += f', qop="{qop}"'
    if stale:
        text += ", stale=true"
    return text + extra


def answer(challenge: str, *, password: str = PASSWORD, method: str = "REGISTER",
           body: bytes = b"", nc: int = 1, cnonce: str = "abc123") -> str:
    """The ``Authorization`` value :data:`USER` sends for :data:`URI` to ``challenge``."""
    return build_authorization(challenge, method=method, uri=URI, username=USER,
                               password=password, body=body, nc=nc, cnonce=cnonce)


def params_of(value: str) -> dict[str, str]:
    """The parameters of an ``Authorization`` value, by (lower-case) name."""
    return dict(parse_credentials(value).params)


# -- strategies ----------------------------------------------------------------------------------

TOKEN_ALPHABET = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-.!%*_+`'~"

tokens = st.text(TOKEN_ALPHABET, min_size=1, max_size=12)
# Everything a quoted-string can carry: printable ASCII (quotes and backslashes included, they
# are escaped), HTAB, and non-ASCII text; no other control characters.
quoted_text = st.text(
    st.one_of(
        st.characters(min_codepoint=0x20, max_codepoint=0x7E),
        st.just("\t"),
        st.characters(min_codepoint=0xA0, max_codepoint=0x2FFF),
    ),
    max_size=24,
)
usernames = st.text(
    st.one_of(st.characters(min_codepoint=0x20, max_codepoint=0x7E),
              st.characters(min_codepoint=0xA0, max_codepoint=0x2FFF)),
    min_size=1, max_size=16,
)
passwords = st.text(st.characters(exclude_categories=["Cs"]), max_size=24)
realms = st.text(st.characters(min_codepoint=0x20, max_codepoint=0x7E), max_size=20)
nonces = st.text(TOKEN_ALPHABET + "/=", min_size=1, max_size=40)
algorithms = st.sampled_from(SUPPORTED_ALGORITHMS)
uris = st.builds(lambda host, user: f"sip:{user}@{host}" if user else f"sip:{host}",
                 st.from_regex(r"[a-z][a-z0-9]{0,10}\.(com|org|net)", fullmatch=True),
                 st.one_of(st.just(""), st.from_regex(r"[a-z0-9]{1,8}", fullmatch=True)))
methods = st.sampled_from(["REGISTER", "INVITE", "OPTIONS", "GET"])
bodies = st.binary(max_size=64)


@st.composite
def param_lists(draw: st.DrawFn) -> list[tuple[str, str, bool]]:
    """Distinct lower-case names, each with a token (unquoted) or any quotable text (quoted)."""
    names = draw(st.lists(tokens.map(str.lower), unique=True, max_size=8))
    out = []
    for name in names:
        if draw(st.booleans()):
            out.append((name, draw(tokens), False))
        else:
            out.append((name, draw(quoted_text), True))
    return out


# -- the reference computation ---------------------------------------------------------------------


def _reference_hash(base: str) -> Callable[[bytes], str] | None:
    """H for ``base`` from hashlib alone (None when this Python's hashlib lacks it)."""
    name = {"MD5": "md5", "SHA-256": "sha256", "SHA-512-256": "sha512_256"}[base]
    try:
        hashlib.new(name, usedforsecurity=False)
    except ValueError:
        return None
    return lambda data: hashlib.new(name, data, usedforsecurity=False).hexdigest()


def reference_algorithms() -> list[str]:
    """The supported algorithms the reference can compute here: all of them, except the
    SHA-512-256 ones when hashlib (OpenSSL) has no ``sha512_256``."""
    return [a for a in SUPPORTED_ALGORITHMS
            if _reference_hash(a.upper().removesuffix("-SESS")) is not None]


def reference_response(
    algorithm: str, *, username: str, realm: str, password: str, method: str, uri: str,
    nonce: str, nc: str, cnonce: str, qop: str | None, body: bytes,
) -> str:
    """The request-digest of RFC 7616 §3.4.1 - §3.4.3 (RFC 2069 form without qop), written
    from the RFC with hashlib alone: nothing of :mod:`sipfsm.auth.digest` is used."""
    base = algorithm.upper().removesuffix("-SESS")
    sess = algorithm.upper().endswith("-SESS")
    hash_bytes = _reference_hash(base)
    if hash_bytes is None:
        raise LookupError(f"hashlib here cannot compute {base}")
    h = hash_bytes

    def hs(text: str) -> str:
        return h(text.encode("utf-8"))

    ha1 = hs(f"{username}:{realm}:{password}")  # A1 = unq(username):unq(realm):passwd
    if sess:  # A1 = H(user:realm:pw):unq(nonce-prime):unq(cnonce-prime)
        ha1 = hs(f"{ha1}:{nonce}:{cnonce}")
    a2 = f"{method}:{uri}" if qop != "auth-int" else f"{method}:{uri}:{h(body)}"
    if qop is None:
        return hs(f"{ha1}:{nonce}:{hs(a2)}")
    return hs(f"{ha1}:{nonce}:{nc}:{cnonce}:{qop}:{hs(a2)}")


def challenge_text(realm: str, nonce: str, algorithm: str, qop: str | None,
                   charset: bool = False) -> str:
    """A challenge for ``realm`` (escaped into its quoted-string) as a server would write it."""
    escaped = realm.replace("\\", "\\\\").replace('"', '\\"')
    text = f'Digest realm="{escaped}", nonce="{nonce}", algorithm={algorithm}'
    if qop is not None:
        text += f', qop="{qop}"'
    if charset:
        text += ", charset=UTF-8"
    return text


# -- published test vectors (copied from the documents, not computed) ------------------------------

# RFC 2617 §3.5: "Mufasa", password "Circle Of Life" (capital O, as §3.5 states), GET of
# /dir/index.html.  RFC 3261 §22.2 copies this Authorization into a SIP example with
# uri="sip:bob@biloxi.com" but keeps the same response, which those SIP inputs do not produce;
# the HTTP inputs above are the ones the value was computed from.
RFC2617_CHALLENGE = (
    'Digest realm="testrealm@host.com", qop="auth,auth-int", '
    'nonce="dcd98b7102dd2f0e8b11d0f600bfb0c093", opaque="5ccc069c403ebaf9f0171e9517f40e41"'
)

# RFC 7616 §3.9.1
RFC7616_NONCE = "7ypf/xlj9XXwfDPEoM4URrv/xwf94BcCAzFZH4GiTo0v"
RFC7616_OPAQUE = "FQhe/qaU925kfnzjCev0ciny7QMkPqMAFRtzCUYo5tdS"
RFC7616_CNONCE = "f2/wE4q74E6zIJEtWaHKaf5wv/H5QzzpXusqGemxURZJ"

# RFC 7616 §3.9.2, with the username hash and response of erratum 4897: the RFC printed
# 488869477bf2...254ec / ae66e67d6b42...79dd, which are SHA-512 truncated to 256 bits, not
# SHA-512/256 (tests/auth/test_vectors.py reproduces them with the wrong hash).
RFC7616_392_NONCE = "5TsQWLVdgBdmrQ0XsxbDODV+57QdFR34I9HAbC/RVvkK"
RFC7616_392_CHALLENGE = (
    'Digest realm="api@example.org", qop="auth", algorithm=SHA-512-256, '
    f'nonce="{RFC7616_392_NONCE}", '
    'opaque="HRPCssKJSGjCrkzDg8OhwpzCiGPChXYjwrI2QmXDnsOS", charset=UTF-8, userhash=true'
)
RFC7616_392_USER = "J\u00e4s\u00f8n Doe"
RFC7616_392_PASSWORD = "Secret, or not?"
RFC7616_392_CNONCE = "NTg6RKcb9boFIAS3KrFK9BGeh+iDa/sm6jUMp2wds69v"
ERRATUM_4897_USERHASH = "793263caabb707a56211940d90411ea4a575adeccb7e360aeb624ed06ece9b0b"
ERRATUM_4897_RESPONSE = "3798d4131c277846293534c3edc11bd8a5e4cdcbff78b05db9d95eeb1cec68a5"
PRINTED_USERHASH = "488869477bf257147b804c45308cd62ac4e25eb717b12b298c79e62dcea254ec"
PRINTED_RESPONSE = "ae66e67d6b427bd3f120414a82e4acff38e8ecd9101d6c861229025f607a79dd"
