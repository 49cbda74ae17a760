"""Digest authentication for SIP (RFC 3261 §22, RFC 7616, RFC 8760), sans-IO.

* :class:`DigestClient` -- the per-registration client: challenges in, ``Authorization`` /
  ``Proxy-Authorization`` headers out, ``Authentication-Info`` checked (see
  :mod:`sipfsm.auth.client` for the whole API and its failure rules).
* :class:`CredentialStore` / :class:`Credentials` / :class:`StaticCredentials` /
  :class:`Secret` -- where passwords (or precomputed HA1 values) come from.
* :func:`parse_challenge` / :func:`parse_challenges` / :class:`Challenge` -- challenge parsing
  (:class:`ChallengeError` on malformed text).
* :func:`build_authorization` -- one answer to one challenge, for scripts and tests.
* :mod:`sipfsm.auth.server` -- the registrar's side: challenges and verification.
* :mod:`sipfsm.auth.digest` -- the hash computations all of these share.

Nothing in this package reads a clock or does I/O; randomness comes from the ``Random`` port,
except in :func:`build_authorization`, which draws a cnonce from :mod:`secrets` when none is given.
"""

from __future__ import annotations

from sipfsm.auth.challenge import Challenge, parse_challenge, parse_challenges
from sipfsm.auth.client import DigestClient, Responder
from sipfsm.auth.credentials import Credentials, CredentialStore, Secret, StaticCredentials
from sipfsm.auth.digest import SUPPORTED_ALGORITHMS, Algorithm, lookup_algorithm
from sipfsm.auth.errors import ChallengeError, CredentialsError

__all__ = [
    "SUPPORTED_ALGORITHMS",
    "Algorithm",
    "Challenge",
    "ChallengeError",
    "CredentialStore",
    "Credentials",
    "CredentialsError",
    "DigestClient",
    "Responder",
    "Secret",
    "StaticCredentials",
    "build_authorization",
    "lookup_algorithm",
    "parse_challenge",
    "parse_challenges",
]


def build_authorization(
    challenge: str,
    *,
    method: str,
    uri: str,
    username: str,
    password: str,
    body: bytes = b"",
    cnonce: str | None = None,
    nc: int = 1,
) -> str:
    """The ``Authorization`` value answering one challenge header value.

    Raises :class:`ChallengeError` when the text is malformed or the challenge cannot be
    answered (another scheme, an unsupported algorithm, no realm or nonce ...).  With qop and
    no ``cnonce``, one is drawn from :mod:`secrets` (128 bits) -- the only randomness in this
    package that does not come through the ``Random`` port.
    """
    parsed = parse_challenge(challenge)
    responder = Responder("Authorization", parsed, Credentials(username, password))
    if responder.qop is not None and cnonce is None:
        import secrets  # only here: the sans-IO core never reaches for randomness itself

        cnonce = secrets.token_hex(16)
    value = responder.answer(method, uri, body, nc=nc, cnonce=cnonce)
    return value
