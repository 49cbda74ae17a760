"""``Challenge``: one ``WWW-Authenticate`` / ``Proxy-Authenticate`` value, parsed.

RFC 3261 §25.1 (``challenge``, ``digest-cln``) as RFC 7616 §3.3 and RFC 8760 §2.7 extend it.
Every challenge is parsed, whatever its scheme; :meth:`Challenge.unusable_reason` says why sipfsm
cannot answer one (another scheme, no realm or nonce, an algorithm it does not implement, no qop
it knows, a charset other than UTF-8), and :func:`sipfsm.auth.DigestClient.handle_challenge`
skips those (RFC 8760 §2.4: "The client MUST ignore any challenge it does not understand").
Malformed text raises :class:`ChallengeError`; nothing here raises anything else.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

from sipfsm.auth.digest import ALGORITHMS, Algorithm, lookup_algorithm
from sipfsm.auth.errors import ChallengeError
from sipfsm.auth.params import RawChallenge, split_challenges
from sipfsm.core.values import quick_init

__all__ = ["KNOWN_QOP", "Challenge", "parse_challenge", "parse_challenges"]

# RFC 7616 §3.3: "auth" and "auth-int"; anything else offered is ignored.
KNOWN_QOP = ("auth", "auth-int")
_DIGEST_PARAMS = frozenset(
    ("realm", "domain", "nonce", "opaque", "stale", "algorithm", "qop", "charset", "userhash")
)
_MD5 = ALGORITHMS["MD5"]

# The common shape, read in one step: ``Digest`` then ``name=token`` / ``name="text"`` items
# joined by "," and spaces, where the text has no backslash, no control character and no fold
# (so nothing to unescape).  Anything else -- and a name given twice -- goes to the general
# parser (sipfsm.auth.params.split_challenges), which accepts or rejects it; both give the
# same Challenge for what the scanner accepts (tested as a property).
_TOKEN = r"[A-Za-z0-9\-.!%*_+`'~]+"
_SIMPLE_ITEM = rf'{_TOKEN}=(?:"[^"\\\x00-\x1f\x7f]*"|{_TOKEN})'
_SIMPLE_RE = re.compile(rf"Digest +(?:{_SIMPLE_ITEM}, *)*{_SIMPLE_ITEM}")
_SIMPLE_ITEM_RE = re.compile(rf'({_TOKEN})=(?:"([^"\\\x00-\x1f\x7f]*)"|({_TOKEN}))')


@quick_init  # (made for every 401: the generated __init__ was half of parsing one)
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
        return self.assess()[1]

    def assess(self) -> tuple[Algorithm | None, str | None]:
        """``(algorithm, None)`` when sipfsm can answer this challenge (the algorithm to answer
        with), else ``(None, why not)``: :meth:`unusable_reason` and :attr:`algorithm_spec` in
        one step."""
        if self.scheme != "Digest" and not self.is_digest:
            return None, f"scheme {self.scheme!r} is not Digest"
        if self.realm is None:
            return None, "challenge has no realm"
        if self.nonce is None:
            return None, "challenge has no nonce"
        spec = _MD5 if self.algorithm is None else lookup_algorithm(self.algorithm)
        if spec is None:
            return None, f"algorithm {self.algorithm!r} is not supported"
        qop = self.qop
        if qop is not None and "auth" not in qop and not self.usable_qop:
            return None, f"no supported qop among {', '.join(qop) or 'none'}"
        if spec.sess and qop is None:
            # RFC 3261 §22.4 item 8: a cnonce needs qop, and -sess needs a cnonce.
            return None, f"algorithm {spec.name} needs qop, and the challenge offers none"
        if self.charset is not None and self.charset.upper() != "UTF-8":
            return None, f"charset {self.charset!r} is not supported (only UTF-8)"
        return spec, None

    @property
    def usable(self) -> bool:
        return self.unusable_reason() is None


def _from_raw(raw: RawChallenge) -> Challenge:
    return _build(raw.scheme, {name: p.value for name, p in raw.params.items()}, raw.token68)


def _build(scheme: str, values: dict[str, str], token68: str | None = None) -> Challenge:
    """The Challenge from its parameters (lower-case name -> unescaped value, in order)."""
    get = values.get
    qop_text = get("qop")
    qop: tuple[str, ...] | None = None
    if qop_text is not None:
        if qop_text == "auth":  # the usual offer
            qop = ("auth",)
        else:
            qop = tuple(q.strip().lower() for q in qop_text.split(",") if q.strip())
    domain_text = get("domain")
    domain = () if domain_text is None else tuple(domain_text.split())
    extra: tuple[tuple[str, str], ...] = ()
    if not _DIGEST_PARAMS.issuperset(values):
        extra = tuple((name, value) for name, value in values.items()
                      if name not in _DIGEST_PARAMS)  # fmt: skip
    stale = get("stale")
    userhash = get("userhash")
    return Challenge(
        scheme,
        get("realm"),
        get("nonce"),
        get("opaque"),
        domain,
        stale is not None and stale.lower() == "true",  # RFC 7616 §3.3: only "true" is true
        get("algorithm"),
        qop,
        get("charset"),
        userhash is not None and userhash.lower() == "true",
        extra,
        token68,
    )


# Challenges of the common shape already read, by their text with the nonce's value left out:
# a registrar's challenges differ in the nonce only (often), so the next one is the same
# Challenge with another nonce, read without scanning it again.  Shared by every client.
_SHAPES: dict[str, Challenge] = {}
_SHAPES_ENTRIES = 256
_QUOTED_TEXT = re.compile(r'[^"\\\x00-\x1f\x7f]*')  # a quoted value of the common shape


def _nonce_span(value: str) -> tuple[int, int] | None:
    """Where the value of the first ``nonce="..."`` in ``value`` is, when that text follows a
    blank or a comma (the start of a parameter named ``nonce``, if it is outside any quoted
    value: :func:`_scan_simple` checks that before it keeps a shape)."""
    start = value.find('nonce="')
    if start < 1 or value[start - 1] not in " ,":
        return None
    start += 7
    end = value.find('"', start)
    return None if end < 0 else (start, end)


def _scan_simple(value: str) -> Challenge | None:
    """The one Digest challenge in ``value`` when it has the common shape, else ``None``."""
    span = _nonce_span(value)
    if span is not None:
        start, end = span
        shape = _SHAPES.get(value[:start] + value[end:])
        if shape is not None:
            nonce = value[start:end]
            if _QUOTED_TEXT.fullmatch(nonce) is not None:
                # The text of a challenge of the common shape, with another nonce as a quoted
                # value of the same shape: that challenge, with this nonce.
                return Challenge(shape.scheme, shape.realm, nonce, shape.opaque, shape.domain,
                                 shape.stale, shape.algorithm, shape.qop, shape.charset,
                                 shape.userhash, shape.extra, shape.token68)
    if _SIMPLE_RE.fullmatch(value) is None:
        return None
    items = _SIMPLE_ITEM_RE.findall(value, 7)
    values = {name.lower(): quoted or token for name, quoted, token in items}
    if len(values) != len(items):
        return None  # a name given twice: the general parser says so
    challenge = _build("Digest", values)
    if span is not None and value.count('"', 0, span[0] - 1) % 2 == 0:
        # The nonce="..." found is outside every quoted value: it is the nonce parameter.
        start, end = span
        if challenge.nonce == value[start:end]:
            if len(_SHAPES) >= _SHAPES_ENTRIES:
                _SHAPES.clear()
            _SHAPES[value[:start] + value[end:]] = challenge
    return challenge


def parse_challenges(values: str | Iterable[str]) -> list[Challenge]:
    """Every challenge in one header value or in a list of them (one per header line), in
    order.  Raises :class:`ChallengeError` on the first malformed value."""
    if isinstance(values, str):
        values = (values,)
    out: list[Challenge] = []
    for value in values:
        if not isinstance(value, str):
            raise ChallengeError("a challenge must be text", where="challenge")
        simple = _scan_simple(value)
        if simple is not None:
            out.append(simple)
        else:
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
