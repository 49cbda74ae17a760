"""The server's side of Digest, for an embedded registrar: challenges and verification.

Small on purpose, and built on the same hash code as the client (:mod:`sipfsm.auth.digest`)::

    nonce = new_nonce(random)                                   # Random port, 128 bits
    value = make_challenge(realm, nonce=nonce, algorithm="SHA-256", opaque=..., stale=False)
    issued = challenge_headers(realm, random, algorithms=("SHA-256", "MD5"))
                                                 # [(nonce, value), ...] in preference order
    creds = parse_credentials(authorization_value)              # CredentialsError
    result = verify(creds, method="REGISTER", realm=realm, password=... | ha1=...,
                    check_nonce=lambda nonce, nc: store.fresh(nonce, nc))
    result.verdict   # Verdict.OK / STALE / WRONG / UNUSABLE;  result.ok
    result.authentication_info   # for the 2xx when OK (rspauth, cnonce, nc, qop[, nextnonce])

Rules it keeps (spec/digest.toml, role registrar): every challenge carries qop (RFC 3261 §22.4,
RFC 8760 §2.6); several challenges for one realm use distinct algorithms, in the caller's order
of preference (RFC 8760 §2.3); only Digest (RFC 3261 §22: never Basic); ``stale`` only for a
right digest on a nonce the caller's ``check_nonce`` refuses (RFC 7616 §3.3); RFC 2069
credentials (no qop) are still understood (RFC 3261 §22.4); ``username`` together with
``username*`` is an error (RFC 7616 §3.4); quoting as RFC 7616 §3.3 / §3.5 prescribe.

Nonce bookkeeping (lifetime, nonce-counts already seen) is the caller's: ``check_nonce(nonce,
nc)`` returns False for an unknown, expired or replayed one.  Nothing here reads a clock.
"""

from __future__ import annotations

import hmac
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from enum import Enum
from urllib.parse import unquote_to_bytes

from sipfsm.auth.credentials import Secret
from sipfsm.auth.digest import (
    Algorithm,
    ha1_from_password,
    ha2,
    lookup_algorithm,
    request_digest,
    session_ha1,
    userhash,
)
from sipfsm.auth.errors import CredentialsError
from sipfsm.auth.params import AuthParam, format_params, is_token, split_challenges
from sipfsm.errors import ConfigError
from sipfsm.ports import Random

__all__ = [
    "DEFAULT_SERVER_ALGORITHMS",
    "DigestCredentials",
    "NonceCheck",
    "Verdict",
    "Verification",
    "challenge_headers",
    "make_challenge",
    "new_nonce",
    "parse_credentials",
    "verify",
]

#: RFC 8760 §3: MD5 only for backward compatibility; a registrar opts into it explicitly.
DEFAULT_SERVER_ALGORITHMS: tuple[str, ...] = ("SHA-256",)
NONCE_BITS = 128
_NC_RE = re.compile(r"[0-9a-fA-F]{8}\Z")
_HEX_RE = re.compile(r"[0-9a-fA-F]+\Z")
_EXT_VALUE_RE = re.compile(
    r"(?P<charset>[A-Za-z0-9!#$%&+\-^_`{}~]+)'[A-Za-z0-9\-]*'(?P<value>.*)\Z"
)

NonceCheck = Callable[[str, "int | None"], bool]


def new_nonce(random: Random, nbits: int = NONCE_BITS) -> str:
    """A fresh server nonce from the Random port (token characters, base32)."""
    return random.token(nbits)


def make_challenge(
    realm: str,
    *,
    nonce: str,
    algorithm: str = "SHA-256",
    qop: Iterable[str] = ("auth",),
    opaque: str | None = None,
    stale: bool = False,
    userhash: bool = False,
    charset: bool = True,
    domain: Iterable[str] = (),
) -> str:
    """One ``WWW-Authenticate`` / ``Proxy-Authenticate`` value (RFC 7616 §3.3 quoting: realm,
    domain, nonce, opaque and qop quoted; algorithm and stale not)."""
    spec = lookup_algorithm(algorithm)
    if spec is None:
        raise ConfigError(f"unknown digest algorithm {algorithm!r}")
    options = tuple(qop)
    if not options:
        raise ConfigError("a challenge must offer qop (RFC 3261 §22.4)")
    for option in options:
        if option not in ("auth", "auth-int"):
            raise ConfigError(f"unknown qop {option!r}")
    params: list[tuple[str, str, bool]] = [("realm", realm, True)]
    domains = tuple(domain)
    if domains:
        params.append(("domain", " ".join(domains), True))
    params += [("nonce", nonce, True), ("algorithm", spec.name, False),
               ("qop", ",".join(options), True)]
    if opaque is not None:
        params.append(("opaque", opaque, True))
    if stale:
        params.append(("stale", "true", False))
    if charset:
        params.append(("charset", "UTF-8", False))  # RFC 7616 §4
    if userhash:
        params.append(("userhash", "true", False))
    return "Digest " + format_params(params)


def challenge_headers(
    realm: str,
    random: Random,
    *,
    algorithms: Iterable[str] = DEFAULT_SERVER_ALGORITHMS,
    share_nonce: bool = False,
    **options: object,
) -> list[tuple[str, str]]:
    """``[(nonce, value), ...]``: one challenge per algorithm, in the given order of preference
    (RFC 8760 §2.3: topmost preferred, each algorithm once).  Each gets its own nonce unless
    ``share_nonce``.  ``options`` go to :func:`make_challenge`."""
    given_names = list(algorithms)
    names = [lookup_algorithm(a) for a in given_names]
    if not names:
        raise ConfigError("offer at least one algorithm")
    seen: set[str] = set()
    for spec, given in zip(names, given_names, strict=True):
        if spec is None:
            raise ConfigError(f"unknown digest algorithm {given!r}")
        if spec.name in seen:
            raise ConfigError(f"algorithm {spec.name} offered twice for realm {realm!r} "
                              "(RFC 8760 §2.3: a different algorithm in each)")
        seen.add(spec.name)
    shared = new_nonce(random) if share_nonce else None
    out = []
    for spec in names:
        assert spec is not None
        nonce = shared or new_nonce(random)
        out.append((nonce, make_challenge(realm, nonce=nonce, algorithm=spec.name,
                                          **options)))  # type: ignore[arg-type]
    return out


@dataclass(frozen=True, slots=True)
class DigestCredentials:
    """One ``Authorization`` / ``Proxy-Authorization`` value, parsed.  ``username`` is the
    plain name (``username*`` decoded), or the hex hash when ``userhash`` is true."""

    scheme: str
    username: str | None = None
    userhash: bool = False
    realm: str | None = None
    nonce: str | None = None
    uri: str | None = None
    response: str | None = None
    algorithm: str | None = None
    cnonce: str | None = None
    nc: str | None = None
    qop: str | None = None
    opaque: str | None = None
    params: tuple[tuple[str, str], ...] = ()

    @property
    def is_digest(self) -> bool:
        return self.scheme.lower() == "digest"

    @property
    def nc_value(self) -> int | None:
        return None if self.nc is None else int(self.nc, 16)


def _decode_ext_value(text: str) -> str:
    found = _EXT_VALUE_RE.match(text)
    if found is None or found.group("charset").upper() != "UTF-8":
        raise CredentialsError("username* is not a UTF-8 ext-value (RFC 8187)",
                               where="Authorization")
    try:
        return unquote_to_bytes(found.group("value")).decode("utf-8")
    except UnicodeDecodeError:
        raise CredentialsError("username* is not valid UTF-8", where="Authorization") from None


def parse_credentials(value: str) -> DigestCredentials:
    """Parse one credentials value (CredentialsError when malformed)."""
    items = split_challenges(value, error=CredentialsError, where="Authorization")
    if len(items) != 1:
        raise CredentialsError(f"expected one set of credentials, found {len(items)}",
                               where="Authorization")
    scheme, params, _token68 = items[0]

    def get(name: str) -> str | None:
        param: AuthParam | None = params.get(name)
        return None if param is None else param.value

    username = get("username")
    if "username*" in params:
        if username is not None:
            # RFC 7616 §3.4: both in one header MUST be treated as an error.
            raise CredentialsError("both username and username* given", where="Authorization")
        username = _decode_ext_value(params["username*"].value)
    nc = get("nc")
    if nc is not None and _NC_RE.match(nc) is None:
        raise CredentialsError("nc must be 8 hex digits", where="Authorization")
    qop = get("qop")
    return DigestCredentials(
        scheme=scheme,
        username=username,
        userhash=(get("userhash") or "").lower() == "true",
        realm=get("realm"),
        nonce=get("nonce"),
        uri=get("uri"),
        response=get("response"),
        algorithm=get("algorithm"),
        cnonce=get("cnonce"),
        nc=nc,
        qop=None if qop is None else qop.lower(),
        opaque=get("opaque"),
        params=tuple((p.name, p.value) for p in params.values()),
    )


class Verdict(Enum):
    """What a verification concluded -- sipfsm's one Digest verdict (the registrar's nonce store
    returns it too)."""

    OK = "ok"  # right response, nonce accepted by check_nonce
    STALE = "stale"  # right response, nonce refused (expired/unknown/replayed): stale=true
    REPLAY = "replay"  # right response, nc already used with this nonce (the nonce store's)
    WRONG = "wrong"  # wrong response, or no such user: challenge again without stale
    UNUSABLE = "unusable"  # not credentials this server can check: challenge


@dataclass(frozen=True, slots=True)
class Verification:
    verdict: Verdict
    reason: str = ""
    username: str | None = None
    authentication_info: str | None = None

    @property
    def ok(self) -> bool:
        return self.verdict is Verdict.OK


def _unusable(reason: str, username: str | None = None) -> Verification:
    return Verification(Verdict.UNUSABLE, reason, username)


def verify(
    credentials: DigestCredentials | str,
    *,
    method: str,
    realm: str,
    password: str | Secret | None = None,
    ha1: str | Secret | None = None,
    username: str | None = None,
    check_nonce: NonceCheck | None = None,
    body: bytes = b"",
    algorithms: Iterable[str] | None = None,
    allow_rfc2069: bool = True,
    nextnonce: str | None = None,
) -> Verification:
    """Check credentials against a password (or the user's HA1 for the credentials' algorithm
    base).  ``username`` is the plain user name when the credentials carry ``userhash=true``
    (the caller found it from the hash).  ``algorithms``: those this server offered (default:
    any sipfsm implements)."""
    if isinstance(credentials, str):
        try:
            credentials = parse_credentials(credentials)
        except CredentialsError as exc:
            return _unusable(f"malformed credentials: {exc.message}")
    creds = credentials
    if not creds.is_digest:
        return _unusable(f"scheme {creds.scheme!r} is not accepted (Digest only)")
    if not all((creds.username, creds.realm is not None, creds.nonce is not None,
                creds.uri is not None, creds.response is not None)):
        return _unusable("credentials lack username, realm, nonce, uri or response",
                         creds.username)
    assert creds.username is not None and creds.nonce is not None and creds.uri is not None
    assert creds.response is not None
    if creds.realm != realm:
        return _unusable(f"credentials for realm {creds.realm!r}", creds.username)
    spec = lookup_algorithm(creds.algorithm)
    allowed = None if algorithms is None else {lookup_algorithm(a) for a in algorithms}
    if spec is None or (allowed is not None and spec not in allowed):
        return _unusable(f"algorithm {creds.algorithm!r} not offered", creds.username)
    qop = creds.qop
    if qop is None:
        if not allow_rfc2069 or spec.sess or creds.cnonce is not None or creds.nc is not None:
            return _unusable("credentials without qop are not acceptable here", creds.username)
    elif qop not in ("auth", "auth-int") or creds.nc is None or not creds.cnonce:
        return _unusable("qop auth or auth-int with nc and cnonce needed", creds.username)
    if not is_token(method):
        return _unusable(f"method {method!r} is not a token", creds.username)
    plain_user = username if username is not None else creds.username
    if creds.userhash and not hmac.compare_digest(
        userhash(spec, plain_user, realm), creds.username.lower()
    ):
        return Verification(Verdict.WRONG, "username hash does not match", creds.username)
    base_ha1 = _ha1(spec, plain_user, realm, password, ha1)
    if base_ha1 is None:
        return Verification(Verdict.WRONG, "unknown user", creds.username)
    key = base_ha1
    if spec.sess:
        key = session_ha1(spec, base_ha1, creds.nonce, creds.cnonce or "")
    expected = request_digest(
        spec, key, creds.nonce, ha2(spec, method, creds.uri, qop, body), qop=qop,
        nc=creds.nc or "", cnonce=creds.cnonce or "",
    )
    if not hmac.compare_digest(expected, creds.response.lower()):
        return Verification(Verdict.WRONG, "wrong digest response", creds.username)
    # RFC 7616 §3.3: stale only when the digest is right but the nonce is not acceptable.
    if check_nonce is not None and not check_nonce(creds.nonce, creds.nc_value):
        return Verification(Verdict.STALE, "nonce not acceptable", creds.username)
    info = authentication_info(spec, key, creds, nextnonce=nextnonce)
    return Verification(Verdict.OK, "", creds.username, info)


def _ha1(
    spec: Algorithm, username: str, realm: str, password: str | Secret | None,
    ha1: str | Secret | None,
) -> str | None:
    if ha1 is not None:
        text = ha1.reveal() if isinstance(ha1, Secret) else ha1
        if _HEX_RE.match(text) is None:
            raise ConfigError("ha1 must be a hex digest")
        return text.lower()
    if password is None:
        return None
    secret = password.reveal() if isinstance(password, Secret) else password
    return ha1_from_password(spec, username, realm, secret)


def authentication_info(
    spec: Algorithm, key: str, creds: DigestCredentials, *, nextnonce: str | None = None,
    body: bytes = b"",
) -> str:
    """RFC 7616 §3.5: rspauth (A2 with an empty method), the request's own cnonce and nc, the
    same qop; nextnonce/rspauth/cnonce quoted, qop/nc not."""
    assert creds.nonce is not None and creds.uri is not None
    params: list[tuple[str, str, bool]] = []
    if nextnonce is not None:
        params.append(("nextnonce", nextnonce, True))
    qop = creds.qop
    nc = creds.nc or ""  # echoed exactly as the client computed with it
    rspauth = request_digest(spec, key, creds.nonce, ha2(spec, "", creds.uri, qop, body),
                             qop=qop, nc=nc, cnonce=creds.cnonce or "")
    if qop is not None:
        params.append(("qop", qop, False))
    params.append(("rspauth", rspauth, True))
    if qop is not None:
        params += [("cnonce", creds.cnonce or "", True), ("nc", nc, False)]
    return format_params(params)
