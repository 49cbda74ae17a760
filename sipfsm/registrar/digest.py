"""The registrar's side of Digest (RFC 3261 §22.4, RFC 7616, RFC 8760): challenges, nonces and
verification of ``Authorization`` credentials with ``qop=auth``.

Nonces come from the ``Random`` port and live ``nonce_lifetime`` seconds on the ``Clock`` port;
each remembers the nonce-counts already used, so a replayed ``nc`` is refused (RFC 7616 §3.4).
Credentials whose response is right but whose nonce has expired (or is unknown, e.g. issued
before a restart) get ``stale=true`` (RFC 7616 §3.3), so the client retries without asking its
user.  Nothing here touches a socket or the system clock.
"""

from __future__ import annotations

import hashlib
import hmac
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from enum import Enum

from sipfsm.ports import Clock, Random

__all__ = [
    "ALGORITHMS",
    "Credentials",
    "DigestAuthority",
    "Verdict",
    "Verification",
    "digest_response",
    "parse_credentials",
]

# RFC 8760 §2.4 / RFC 7616 §3.4.1: algorithm name -> hash function.
ALGORITHMS: dict[str, Callable[[bytes], hashlib._Hash]] = {
    "MD5": hashlib.md5,
    "SHA-256": hashlib.sha256,
}
_NC_RE = re.compile(r"[0-9A-Fa-f]{8}")
_PARAM_RE = re.compile(
    r"""[ \t]*([A-Za-z0-9\-.!%*_+`'~]+)[ \t]*=[ \t]*("(?:[^"\\]|\\.)*"|[^ \t,"]*)[ \t]*(?:,|$)"""
)
_MAX_NC_PER_NONCE = 4096
_MAX_NONCES = 100_000


def _quoted(text: str) -> str:
    return text.replace("\\", "\\\\").replace('"', '\\"')


def _hash(algorithm: str, text: str) -> str:
    return ALGORITHMS[algorithm](text.encode("utf-8")).hexdigest()


def digest_response(
    algorithm: str,
    *,
    username: str,
    realm: str,
    password: str,
    method: str,
    uri: str,
    nonce: str,
    nc: str,
    cnonce: str,
    qop: str = "auth",
) -> str:
    """RFC 7616 §3.4.1 ``response`` for ``qop=auth`` (``method=""`` gives ``rspauth``)."""
    ha1 = _hash(algorithm, f"{username}:{realm}:{password}")
    ha2 = _hash(algorithm, f"{method}:{uri}")
    return _hash(algorithm, f"{ha1}:{nonce}:{nc}:{cnonce}:{qop}:{ha2}")


@dataclass(frozen=True, slots=True)
class Credentials:
    """The parameters of one ``Authorization: Digest ...`` value (names lower-case, values
    unquoted)."""

    params: dict[str, str]

    def get(self, name: str) -> str | None:
        return self.params.get(name)


def parse_credentials(value: str) -> Credentials | None:
    """``Digest k=v, k="v", ...`` -> :class:`Credentials`; None for another scheme or a value
    that is not a list of auth-params."""
    text = value.strip(" \t")
    scheme, _, rest = text.partition(" ")
    if scheme.lower() != "digest":
        return None
    params: dict[str, str] = {}
    pos = 0
    rest = rest.strip(" \t")
    while pos < len(rest):
        found = _PARAM_RE.match(rest, pos)
        if found is None or found.end() == pos:
            return None
        name, raw = found.group(1).lower(), found.group(2)
        if len(raw) >= 2 and raw[0] == '"':
            raw = re.sub(r"\\(.)", r"\1", raw[1:-1])
        if name in params:
            return None
        params[name] = raw
        pos = found.end()
    return Credentials(params)


class Verdict(Enum):
    """What :meth:`DigestAuthority.verify` concluded."""

    OK = "ok"  # right response, fresh nonce, new nc
    STALE = "stale"  # right response, nonce expired or unknown: 401 stale=true
    REPLAY = "replay"  # right response, nc already used with this nonce: challenge again
    WRONG = "wrong"  # wrong response or unknown user: the credentials are rejected
    UNUSABLE = "unusable"  # not credentials we can check (scheme, realm, algorithm, qop): challenge


@dataclass(frozen=True, slots=True)
class Verification:
    verdict: Verdict
    username: str | None = None
    reason: str = ""
    authentication_info: str | None = None  # for a 200 (RFC 7616 §3.5), when OK


@dataclass(slots=True)
class _Nonce:
    issued: float
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
    ) -> None:
        self._password_for = password_for
        self.algorithms = algorithms
        self._clock = clock
        self._random = random
        self.nonce_lifetime = nonce_lifetime
        self._nonces: dict[str, _Nonce] = {}

    # -- challenges -----------------------------------------------------------------------------

    def new_nonce(self) -> str:
        now = self._clock.monotonic()
        self._forget_old(now)
        nonce = self._random.token(128)
        self._nonces[nonce] = _Nonce(now)
        return nonce

    def challenges(self, realm: str, *, stale: bool = False) -> list[str]:
        """One ``WWW-Authenticate`` value per algorithm, in order of preference (RFC 8760 §2.4),
        sharing one fresh nonce."""
        nonce = self.new_nonce()
        suffix = ", stale=true" if stale else ""
        return [
            f'Digest realm="{_quoted(realm)}", nonce="{nonce}", algorithm={algorithm}, '
            f'qop="auth"{suffix}'
            for algorithm in self.algorithms
        ]

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

    def pick(self, values: list[str], realm: str) -> Credentials | None:
        """The Digest credentials for ``realm`` among the request's Authorization values."""
        for value in values:
            credentials = parse_credentials(value)
            if credentials is not None and credentials.get("realm") == realm:
                return credentials
        return None

    def verify(self, credentials: Credentials, *, realm: str, method: str) -> Verification:
        get = credentials.get
        username, nonce, uri, response = get("username"), get("nonce"), get("uri"), get("response")
        if username is None or nonce is None or uri is None or response is None:
            return Verification(Verdict.UNUSABLE, reason="credentials lack a required parameter")
        if get("realm") != realm:
            return Verification(Verdict.UNUSABLE, username, "credentials for another realm")
        algorithm = (get("algorithm") or "MD5").upper()
        if algorithm not in self.algorithms:
            return Verification(Verdict.UNUSABLE, username, f"algorithm {algorithm} not offered")
        qop, nc_text, cnonce = get("qop"), get("nc"), get("cnonce")
        if qop is None or qop.lower() != "auth" or nc_text is None or not cnonce:
            return Verification(Verdict.UNUSABLE, username, "qop=auth with nc and cnonce needed")
        if _NC_RE.fullmatch(nc_text) is None:
            return Verification(Verdict.UNUSABLE, username, f"malformed nc {nc_text[:12]!r}")
        password = self._password_for(username)
        if password is None:
            return Verification(Verdict.WRONG, username, f"unknown user {username!r}")
        expected = digest_response(
            algorithm, username=username, realm=realm, password=password, method=method,
            uri=uri, nonce=nonce, nc=nc_text, cnonce=cnonce, qop="auth",
        )  # fmt: skip
        if not hmac.compare_digest(expected, response.lower()):
            return Verification(Verdict.WRONG, username, "wrong digest response")
        record = self._nonces.get(nonce)
        now = self._clock.monotonic()
        if record is None or now - record.issued > self.nonce_lifetime:
            return Verification(Verdict.STALE, username, "nonce expired")
        nc = int(nc_text, 16)
        if nc in record.used or len(record.used) >= _MAX_NC_PER_NONCE:
            return Verification(Verdict.REPLAY, username, f"nonce-count {nc_text} already used")
        record.used.add(nc)
        rspauth = digest_response(
            algorithm, username=username, realm=realm, password=password, method="",
            uri=uri, nonce=nonce, nc=nc_text, cnonce=cnonce, qop="auth",
        )  # fmt: skip
        info = f'qop=auth, rspauth="{rspauth}", cnonce="{_quoted(cnonce)}", nc={nc_text}'
        return Verification(Verdict.OK, username, authentication_info=info)
