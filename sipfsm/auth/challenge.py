"""``Challenge``: one ``WWW-Authenticate`` / ``Proxy-Authenticate`` value, parsed.

RFC 3261 §25.1 (``challenge``, ``digest-cln``) as RFC 7616 §3.3 and RFC 8760 §2.7 extend it.
Every challenge is parsed, whatever its scheme; :meth:`Challenge.unusable_reason` says why sipfsm
cannot answer one (another scheme, no realm or nonce, an algorithm it does not implement, no qop
it knows, a charset other than UTF-8), and :func:`sipfsm.auth.DigestClient.handle_challenge`
skips those (RFC 8760 §2.4: "The client MUST ignore any challenge it does not understand").
Malformed text raises :class:`ChallengeError`; nothing here raises anything else.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from sipfsm.auth.digest import Algorithm, lookup_algorithm
from sipfsm.auth.errors import ChallengeError
from sipfsm.auth.params import AuthParam, RawChallenge, split_challenges

__all__ = ["KNOWN_QOP", "Challenge", "parse_challenge", "parse_challenges"]

# RFC 7616 §3.3: "auth" and "auth-int"; anything else offered is ignored.
KNOWN_QOP = ("auth", "auth-int")
_DIGEST_PARAMS = frozenset(
    ("realm", "domain", "nonce", "opaque", "stale", "algorithm", "qop", "charset", "userhash")
)


@dataclass(frozen=True, slots=True)
class Challenge:
    """One challenge.  Values are unquoted and unescaped; ``qop`` holds the offered options in
    the server's order, lower-cased, unknown ones included (``usable_qop`` filters them);
    ``algorithm`` is exactly as the server wrote it (``None`` when absent, which means MD5);
    ``extra`` keeps every other parameter (lower-case name, value) in order."""

    scheme: str
    realm: str | None = None
    nonce: str | None = None
    opaque: str | None = None
    domain: tuple[str, ...] = ()
    stale: bool = False
    algorithm: str | None = None
    qop: tuple[str, ...] | None = None
    charset: str | None = None
    userhash: bool = False
    extra: tuple[tuple[str, str], ...] = ()
    token68: str | None = None

    @property
    def is_digest(self) -> bool:
        return self.scheme.lower() == "digest"

    @property
    def algorithm_spec(self) -> Algorithm | None:
        """The algorithm to answer with (MD5 when absent), or ``None`` when sipfsm does not
        implement the one named."""
        return lookup_algorithm(self.algorithm)

    @property
    def usable_qop(self) -> tuple[str, ...]:
        """The offered qop options sipfsm implements, in the server's order."""
        return tuple(q for q in self.qop or () if q in KNOWN_QOP)

    def choose_qop(self) -> str | None:
        """``auth`` when offered, else ``auth-int``; ``None`` for a challenge without qop
        (RFC 2069 compatibility, RFC 3261 §22.4 item 8)."""
        if self.qop is None:
            return None
        usable = self.usable_qop
        if "auth" in usable:
            return "auth"
        return usable[0] if usable else None

    def unusable_reason(self) -> str | None:
        """Why sipfsm cannot answer this challenge, or ``None`` when it can."""
        if not self.is_digest:
            return f"scheme {self.scheme!r} is not Digest"
        if self.realm is None:
            return "challenge has no realm"
        if self.nonce is None:
            return "challenge has no nonce"
        spec = self.algorithm_spec
        if spec is None:
            return f"algorithm {self.algorithm!r} is not supported"
        if self.qop is not None and not self.usable_qop:
            return f"no supported qop among {', '.join(self.qop) or 'none'}"
        if spec.sess and self.qop is None:
            # RFC 3261 §22.4 item 8: a cnonce needs qop, and -sess needs a cnonce.
            return f"algorithm {spec.name} needs qop, and the challenge offers none"
        if self.charset is not None and self.charset.upper() != "UTF-8":
            return f"charset {self.charset!r} is not supported (only UTF-8)"
        return None

    @property
    def usable(self) -> bool:
        return self.unusable_reason() is None


def _flag(param: AuthParam | None) -> bool:
    # RFC 7616 §3.3: stale is true only for a case-insensitive "true"; anything else is false.
    return param is not None and param.value.lower() == "true"


def _from_raw(raw: RawChallenge) -> Challenge:
    params = raw.params

    def get(name: str) -> str | None:
        param = params.get(name)
        return None if param is None else param.value

    qop_param = params.get("qop")
    qop = None
    if qop_param is not None:
        qop = tuple(q.strip().lower() for q in qop_param.value.split(",") if q.strip())
    domain = tuple(get("domain").split()) if "domain" in params else ()  # type: ignore[union-attr]
    extra = tuple((p.name, p.value) for p in params.values() if p.name not in _DIGEST_PARAMS)
    return Challenge(
        scheme=raw.scheme,
        realm=get("realm"),
        nonce=get("nonce"),
        opaque=get("opaque"),
        domain=domain,
        stale=_flag(params.get("stale")),
        algorithm=get("algorithm"),
        qop=qop,
        charset=get("charset"),
        userhash=_flag(params.get("userhash")),
        extra=extra,
        token68=raw.token68,
    )


def parse_challenges(values: str | Iterable[str]) -> list[Challenge]:
    """Every challenge in one header value or in a list of them (one per header line), in
    order.  Raises :class:`ChallengeError` on the first malformed value."""
    if isinstance(values, str):
        values = (values,)
    out: list[Challenge] = []
    for value in values:
        if not isinstance(value, str):
            raise ChallengeError("a challenge must be text", where="challenge")
        out.extend(_from_raw(raw) for raw in split_challenges(value))
    return out


def parse_challenge(value: str) -> Challenge:
    """Exactly one challenge (ChallengeError for none, several, or malformed text)."""
    challenges = parse_challenges(value)
    if len(challenges) != 1:
        raise ChallengeError(
            f"expected one challenge, found {len(challenges)}", where="challenge"
        )
    return challenges[0]
