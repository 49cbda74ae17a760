"""The registrar's nonces, on top of :mod:`sipfsm.auth.server` (challenges and verification).

:mod:`sipfsm.auth.server` makes challenges and checks credentials statelessly; what it leaves to
its caller -- which nonces were issued, when, and which nonce-counts each has seen -- lives here.
Nonces come from the ``Random`` port and live ``nonce_lifetime`` seconds on the ``Clock`` port
(RFC 7616 §3.3: a right response on an expired or unknown nonce gets ``stale=true``); each nonce
remembers the ``nc`` values used with it, so a replayed request is challenged again, *without*
``stale`` (RFC 7616 §3.4), and the realm it was issued for: a nonce answers only challenges of
that realm.  Answers without qop (RFC 2069) are refused unless ``allow_rfc2069``: with no nc
and cnonce nothing ties them to one request, so a captured one replays.  Nothing here touches
a socket or the system clock.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, replace

from sipfsm.auth import server as digest_server
from sipfsm.auth.digest import lookup_algorithm
from sipfsm.auth.errors import CredentialsError
from sipfsm.auth.server import DigestCredentials, Verdict, Verification
from sipfsm.errors import ConfigError
from sipfsm.ports import Clock, Random

__all__ = ["DigestAuthority", "Verdict", "Verification", "canonical_algorithm"]

_MAX_NC_PER_NONCE = 4096
_MAX_NONCES = 100_000


def canonical_algorithm(name: str) -> str:
    """``"sha-256"`` / ``"SHA256"`` -> ``"SHA-256"``; ConfigError for one sipfsm lacks."""
    text = name.strip()
    spec = lookup_algorithm(text) or lookup_algorithm(text.upper().replace("SHA", "SHA-", 1))
    if spec is None or not text:
        raise ConfigError(f"unknown digest algorithm {name!r} (known: MD5, SHA-256, "
                          "SHA-512-256 and their -sess variants)")
    return spec.name


@dataclass(slots=True)
class _Nonce:
    issued: float
    realm: str  # a nonce answers only challenges of the realm it was issued for
    used: set[int] = field(default_factory=set)


class DigestAuthority:
    """Issues challenges and checks credentials for one registrar."""

    def __init__(
        self,
        *,
        password_for: Callable[[str], str | None],
        algorithms: tuple[str, ...],
        clock: Clock,
        random: Random,
        nonce_lifetime: float,
        allow_rfc2069: bool = False,
    ) -> None:
        self._password_for = password_for
        self.algorithms = algorithms
        self._clock = clock
        self._random = random
        self.nonce_lifetime = nonce_lifetime
        self.allow_rfc2069 = allow_rfc2069
        self._nonces: dict[str, _Nonce] = {}

    # -- challenges -----------------------------------------------------------------------------

    def challenges(self, realm: str, *, stale: bool = False) -> list[str]:
        """One ``WWW-Authenticate`` value per algorithm, in order of preference (RFC 8760 §2.3),
        each with a fresh nonce and ``qop="auth"``."""
        now = self._clock.monotonic()
        self._forget_old(now)
        issued = digest_server.challenge_headers(
            realm, self._random, algorithms=self.algorithms, stale=stale,
            charset=False,  # the classic form every SIP client parses
        )  # fmt: skip
        for nonce, _ in issued:
            self._nonces[nonce] = _Nonce(now, realm)
        return [value for _, value in issued]

    def _forget_old(self, now: float) -> None:
        # Insertion order is issue order: drop from the front while old (amortised O(1)).
        horizon = now - 2 * self.nonce_lifetime
        while self._nonces:
            oldest = next(iter(self._nonces))
            if self._nonces[oldest].issued >= horizon and len(self._nonces) < _MAX_NONCES:
                break
            del self._nonces[oldest]

    @property
    def nonce_count(self) -> int:
        return len(self._nonces)

    # -- verification ---------------------------------------------------------------------------

    @staticmethod
    def pick(values: list[str], realm: str) -> DigestCredentials | None:
        """The Digest credentials for ``realm`` among the request's Authorization values."""
        for value in values:
            try:
                credentials = digest_server.parse_credentials(value)
            except CredentialsError:
                continue
            if credentials.is_digest and credentials.realm == realm:
                return credentials
        return None

    def verify(self, credentials: DigestCredentials, *, realm: str, method: str) -> Verification:
        why: list[Verdict] = []

        def check_nonce(nonce: str, nc: int | None) -> bool:
            record = self._nonces.get(nonce)
            if (
                record is None
                or record.realm != realm
                or self._clock.monotonic() - record.issued > self.nonce_lifetime
            ):
                why.append(Verdict.STALE)
                return False
            if nc is not None:
                if nc in record.used or len(record.used) >= _MAX_NC_PER_NONCE:
                    why.append(Verdict.REPLAY)
                    return False
                record.used.add(nc)
            return True

        username = credentials.username
        password = None
        if username is not None and not credentials.userhash:
            password = self._password_for(username)
        result = digest_server.verify(
            credentials, method=method, realm=realm, password=password,
            check_nonce=check_nonce, algorithms=self.algorithms,
            allow_rfc2069=self.allow_rfc2069,
        )  # fmt: skip
        if result.verdict is Verdict.STALE and why:  # expired/unknown nonce, or a replayed nc
            return replace(result, verdict=why[-1])
        return result
