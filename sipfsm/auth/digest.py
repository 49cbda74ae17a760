"""The Digest computations (RFC 7616 §3.4.1 - §3.4.4, §3.5; RFC 8760 §2.6), shared by the client
(:mod:`sipfsm.auth.client`), the one-shot helper and the server verifier.

Notation as in RFC 7616: ``H(data)`` is the hex digest of the algorithm's hash, ``KD(secret,
data) = H(secret ":" data)``.  Every string is encoded as UTF-8 (SIP is UTF-8 throughout, and
RFC 7616 §4's only charset is UTF-8); hex is lower case (RFC 8760 §2.2).

=========================  ==============================================================
 H(A1), ``<alg>``          ``H(username ":" realm ":" password)``
 H(A1), ``<alg>-sess``     ``H(H(username ":" realm ":" password) ":" nonce ":" cnonce)``
                           -- the hex HA1, per RFC 2617 erratum 1649 / RFC 7616 §3.4.2
 H(A2), qop auth / none    ``H(method ":" uri)``
 H(A2), qop auth-int       ``H(method ":" uri ":" H(entity-body))``; an empty body hashes
                           the empty string with the same algorithm (RFC 8760 §2.6 item 7)
 response, with qop        ``KD(H(A1), nonce ":" nc ":" cnonce ":" qop ":" H(A2))``
 response, no qop          ``KD(H(A1), nonce ":" H(A2))`` (RFC 2069)
 rspauth                   as response with ``method = ""`` (RFC 7616 §3.5)
 userhash                  ``H(username ":" realm)`` (RFC 7616 §3.4.4)
=========================  ==============================================================

SHA-512-256 is SHA-512/256 of FIPS 180-4 (distinct initial values), *not* SHA-512 truncated;
RFC 7616 §3.9.2 printed values computed the second way (erratum 4897).  When OpenSSL does not
offer ``sha512_256`` a pure-Python implementation is used (:data:`SHA512_256_NATIVE` says which).
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass, field

from sipfsm.auth._sha512_256 import sha512_256_hex

__all__ = [
    "ALGORITHMS",
    "SHA512_256_NATIVE",
    "SUPPORTED_ALGORITHMS",
    "Algorithm",
    "format_nc",
    "ha1_from_password",
    "ha2",
    "lookup_algorithm",
    "request_digest",
    "response",
    "session_ha1",
    "userhash",
]


def _md5(data: bytes) -> str:
    return hashlib.md5(data).hexdigest()


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _native_sha512_256() -> Callable[[bytes], str] | None:
    try:
        prototype = hashlib.new("sha512_256")
    except ValueError:
        return None

    def sha512_256(data: bytes) -> str:
        # copy() of a ready context skips OpenSSL's algorithm lookup on every call.
        h = prototype.copy()
        h.update(data)
        return h.hexdigest()

    return sha512_256


_NATIVE = _native_sha512_256()
SHA512_256_NATIVE = _NATIVE is not None
_sha512_256: Callable[[bytes], str] = _NATIVE or sha512_256_hex


@dataclass(frozen=True, slots=True)
class Algorithm:
    """One entry of the IANA "HTTP Digest Hash Algorithms" registry that sipfsm implements."""

    name: str  # canonical spelling: "MD5", "SHA-256-sess", ...
    base: str  # the non-session algorithm: "MD5", "SHA-256", "SHA-512-256"
    sess: bool
    strength: int  # for reports and the server's default order; the client follows the server's
    hash: Callable[[bytes], str] = field(repr=False, compare=False)

    def h(self, text: str) -> str:
        return self.hash(text.encode("utf-8"))


_BASES: tuple[tuple[str, int, Callable[[bytes], str]], ...] = (
    ("MD5", 1, _md5),
    ("SHA-256", 2, _sha256),
    ("SHA-512-256", 3, _sha512_256),
)
ALGORITHMS: dict[str, Algorithm] = {}
for _base, _strength, _fn in _BASES:
    ALGORITHMS[_base.upper()] = Algorithm(_base, _base, False, _strength, _fn)
    ALGORITHMS[f"{_base}-SESS"] = Algorithm(f"{_base}-sess", _base, True, _strength, _fn)

#: Canonical names, strongest first (RFC 8760 §2.7 lists these six).
SUPPORTED_ALGORITHMS: tuple[str, ...] = tuple(
    a.name for a in sorted(ALGORITHMS.values(), key=lambda a: (-a.strength, a.sess))
)


def lookup_algorithm(name: str | None) -> Algorithm | None:
    """The algorithm a challenge names (case-insensitively); absent means MD5 (RFC 7616 §3.3);
    ``None`` for one sipfsm does not implement."""
    if name is None:
        return ALGORITHMS["MD5"]
    return ALGORITHMS.get(name.upper())


def format_nc(count: int) -> str:
    """``nc-value = 8LHEX`` (RFC 3261 §25.1, RFC 7616 §3.4)."""
    if not 0 < count <= 0xFFFFFFFF:
        raise ValueError(f"nonce-count {count} out of range 1..ffffffff")
    return f"{count:08x}"


def ha1_from_password(algorithm: Algorithm, username: str, realm: str, password: str) -> str:
    """``H(username ":" realm ":" password)`` -- the non-session HA1 of ``algorithm.base``."""
    return algorithm.h(f"{username}:{realm}:{password}")


def session_ha1(algorithm: Algorithm, ha1: str, nonce: str, cnonce: str) -> str:
    """RFC 7616 §3.4.2: the ``-sess`` HA1 from the plain one, the nonce and the first cnonce."""
    return algorithm.h(f"{ha1}:{nonce}:{cnonce}")


def ha2(algorithm: Algorithm, method: str, uri: str, qop: str | None, body: bytes = b"") -> str:
    if qop == "auth-int":
        return algorithm.h(f"{method}:{uri}:{algorithm.hash(body)}")
    return algorithm.h(f"{method}:{uri}")


def request_digest(
    algorithm: Algorithm, ha1: str, nonce: str, ha2_hex: str, *,
    qop: str | None = None, nc: str = "", cnonce: str = "",
) -> str:
    """``KD(H(A1), ...)``: the ``response`` (or, with the A2 of an empty method, ``rspauth``)."""
    if qop is None:
        return algorithm.h(f"{ha1}:{nonce}:{ha2_hex}")
    return algorithm.h(f"{ha1}:{nonce}:{nc}:{cnonce}:{qop}:{ha2_hex}")


def userhash(algorithm: Algorithm, username: str, realm: str) -> str:
    """RFC 7616 §3.4.4: ``H(username ":" realm)``."""
    return algorithm.h(f"{username}:{realm}")


def response(
    algorithm: Algorithm, *, ha1: str, nonce: str, method: str, uri: str,
    qop: str | None = None, nc: str = "", cnonce: str = "", body: bytes = b"",
) -> str:
    """The whole ``response`` from a plain (non-session) ``ha1``; for a ``-sess`` algorithm the
    session key is derived here from ``nonce`` and ``cnonce`` (a one-shot computation: the
    client keeps the first cnonce's session key instead)."""
    key = session_ha1(algorithm, ha1, nonce, cnonce) if algorithm.sess else ha1
    return request_digest(
        algorithm, key, nonce, ha2(algorithm, method, uri, qop, body), qop=qop, nc=nc,
        cnonce=cnonce,
    )
