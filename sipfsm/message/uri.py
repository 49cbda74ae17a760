"""SIP and SIPS URIs (RFC 3261 §19.1) and their comparison (§19.1.4).

``sip:`` and ``sips:`` URIs are parsed into :class:`SipUri`; any other scheme (``tel:``,
``mailto:``, ``urn:`` ...) is kept as text in :class:`AbsoluteUri`.  Components hold the text as it
appears on the wire -- escapes are kept -- so ``parse_uri(str(uri)) == uri``; :func:`uri_equal`
decodes escapes when it compares.  An IPv6 host is held without its brackets.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import TypeAlias

from sipfsm.errors import ParseError
from sipfsm.message._syntax import host_equal, normalise_escapes, valid_host
from sipfsm.message.params import EMPTY_PARAMS, Params

__all__ = ["AbsoluteUri", "SipUri", "Uri", "parse_uri", "uri_equal"]

_UNRESERVED = "A-Za-z0-9\\-_.!~*'()"
_ESCAPED = "%[0-9A-Fa-f]{2}"
# user = 1*( unreserved / escaped / user-unreserved ); user-unreserved = & = + $ , ; ? /
_USER_RE = re.compile(f"(?:[{_UNRESERVED}&=+$,;?/]|{_ESCAPED})+")
# password = *( unreserved / escaped / & = + $ , )
_PASSWORD_RE = re.compile(f"(?:[{_UNRESERVED}&=+$,]|{_ESCAPED})*")
# hostport, then uri-parameters (paramchar = param-unreserved / unreserved / escaped)
_PARAMCHAR = f"(?:[{_UNRESERVED}\\[\\]/:&+$]|{_ESCAPED})"
_HNVCHAR = f"(?:[{_UNRESERVED}\\[\\]/?:+$]|{_ESCAPED})"
_REST_RE = re.compile(
    r"(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9.\-]+)(?::([0-9]{1,5}))?"
    f"((?:;{_PARAMCHAR}+(?:={_PARAMCHAR}*)?)*)"
    f"(?:\\?({_HNVCHAR}+={_HNVCHAR}*(?:&{_HNVCHAR}+={_HNVCHAR}*)*))?"
)
_SCHEME_RE = re.compile(r"[A-Za-z][A-Za-z0-9+\-.]*")
# uric (RFC 2396) for the opaque part of other schemes: reserved / unreserved / escaped
_URIC_RE = re.compile(f"(?:[{_UNRESERVED};/?:@&=+$,\\[\\]#]|{_ESCAPED})+")

# §19.1.4: these parameters, present in only one URI, make the URIs differ.
_MUST_MATCH_PARAMS = frozenset({"user", "ttl", "method", "maddr", "transport"})


@dataclass(frozen=True, slots=True)
class SipUri:
    """``sip:`` / ``sips:`` URI.  ``host`` is a name, an IPv4 address or a bare IPv6 address."""

    scheme: str
    host: str
    user: str | None = None
    password: str | None = None
    port: int | None = None
    params: Params = field(default=EMPTY_PARAMS)
    headers: tuple[tuple[str, str], ...] = ()
    _text: str | None = field(default=None, init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        if self.scheme not in ("sip", "sips"):
            scheme = self.scheme.lower()
            if scheme not in ("sip", "sips"):
                raise ValueError(f"SipUri scheme must be sip or sips, not {self.scheme!r}")
            object.__setattr__(self, "scheme", scheme)
        if not isinstance(self.params, Params):
            object.__setattr__(self, "params", Params(self.params))

    def __str__(self) -> str:
        text = self._text
        if text is None:
            text = self._format()
            object.__setattr__(self, "_text", text)
        return text

    def _format(self) -> str:
        parts = [self.scheme, ":"]
        if self.user is not None:
            parts.append(self.user)
            if self.password is not None:
                parts += (":", self.password)
            parts.append("@")
        parts.append(f"[{self.host}]" if ":" in self.host else self.host)
        if self.port is not None:
            parts.append(f":{self.port}")
        if self.params:
            parts.append(str(self.params))
        if self.headers:
            parts.append("?" + "&".join(f"{n}={v}" for n, v in self.headers))
        return "".join(parts)

    @property
    def transport(self) -> str | None:
        """The ``transport`` parameter, lower-cased (case-insensitive token)."""
        value = self.params.get("transport")
        return value.lower() if value else None

    def with_params(self, **params: str | None) -> SipUri:
        """A copy with parameters added or replaced (``None`` = flag parameter)."""
        data = dict(self.params)
        data.update((k.lower(), v) for k, v in params.items())
        return self._replace(params=Params._trusted(data))

    def with_param(self, name: str, value: str | None = None) -> SipUri:
        return self._replace(params=self.params.with_param(name, value))

    def without_param(self, name: str) -> SipUri:
        return self._replace(params=self.params.without(name))

    def _replace(self, **changes: object) -> SipUri:
        from dataclasses import replace

        return replace(self, **changes)  # type: ignore[arg-type]


@dataclass(frozen=True, slots=True)
class AbsoluteUri:
    """A URI of any other scheme, kept as text (``scheme`` lower-case, ``rest`` after the ':')."""

    scheme: str
    rest: str

    def __str__(self) -> str:
        return f"{self.scheme}:{self.rest}"


Uri: TypeAlias = SipUri | AbsoluteUri


_URIS: dict[str, Uri] = {}  # immutable results of recent inputs (Request-URIs repeat)


def parse_uri(text: str) -> Uri:
    """Parse a Request-URI or the URI of a name-addr / addr-spec.  Raises :class:`ParseError`."""
    found = _URIS.get(text)
    if found is not None:
        return found
    uri = _parse_uri(text)
    if len(text) <= 512:
        if len(_URIS) >= 512:
            _URIS.clear()
        _URIS[text] = uri
    return uri


def _parse_uri(text: str) -> Uri:
    colon = text.find(":")
    if colon <= 0:
        raise ParseError(f"URI without a scheme: {text[:60]!r}", where="URI")
    scheme = text[:colon].lower()
    if scheme == "sip" or scheme == "sips":
        return _parse_sip(scheme, text, colon + 1)
    if _SCHEME_RE.fullmatch(scheme) is None:
        raise ParseError(f"invalid URI scheme {text[:colon]!r}", where="URI")
    rest = text[colon + 1 :]
    if _URIC_RE.fullmatch(rest) is None:
        raise ParseError(f"invalid {scheme}: URI {text[:60]!r}", where="URI")
    return AbsoluteUri(scheme, rest)


def _parse_sip(scheme: str, text: str, start: int) -> SipUri:
    user: str | None = None
    password: str | None = None
    # '@' may not appear unescaped after the userinfo, so the first one ends it.
    at = text.find("@", start)
    if at >= 0:
        userinfo = text[start:at]
        user, sep, pw = userinfo.partition(":")
        if _USER_RE.fullmatch(user) is None:
            raise ParseError(f"invalid user part {user[:40]!r}", where="URI")
        if sep:
            if _PASSWORD_RE.fullmatch(pw) is None:
                raise ParseError("invalid password part", where="URI")
            password = pw
        start = at + 1
    found = _REST_RE.match(text, start)
    if found is None or found.end() != len(text):
        raise ParseError(f"invalid SIP URI {text[:80]!r}", where="URI")
    host, port_text, params_text, headers_text = found.groups()
    if host[0] == "[":
        host = host[1:-1]
    if not valid_host(host):
        raise ParseError(f"invalid host {host!r}", where="URI")
    port: int | None = None
    if port_text is not None:
        port = int(port_text)
        if port > 65535:
            raise ParseError(f"port {port} out of range", where="URI")
    params = EMPTY_PARAMS
    if params_text:
        data: dict[str, str | None] = {}
        for item in params_text[1:].split(";"):
            name, eq, value = item.partition("=")
            name = name.lower()
            if name in data:
                raise ParseError(f"URI parameter {name!r} appears twice", where="URI")
            data[name] = value if eq else None
        params = Params._trusted(data)
    headers: tuple[tuple[str, str], ...] = ()
    if headers_text:
        headers = tuple(
            (name, value) for name, _, value in (h.partition("=") for h in headers_text.split("&"))
        )
    return SipUri(scheme, host, user, password, port, params, headers)


def _param_value(value: str | None) -> str | None:
    return None if value is None else normalise_escapes(value).lower()


def uri_equal(a: Uri, b: Uri) -> bool:
    """RFC 3261 §19.1.4 URI equivalence.

    * SIP and SIPS never match; userinfo is case-sensitive with escapes decoded; the host is
      case-insensitive; a port present in only one URI makes them differ.
    * A parameter in both must match (case-insensitively); ``user``, ``ttl``, ``method``,
      ``maddr`` and ``transport`` in only one make them differ; other parameters in only one are
      ignored.
    * URI headers are never ignored: the same header names with the same (decoded) values.

    Other schemes compare by scheme and text with escapes normalised.  Not transitive (§19.1.4).
    """
    if isinstance(a, AbsoluteUri) or isinstance(b, AbsoluteUri):
        if isinstance(a, AbsoluteUri) and isinstance(b, AbsoluteUri):
            return a.scheme.lower() == b.scheme.lower() and normalise_escapes(
                a.rest
            ) == normalise_escapes(b.rest)
        return False
    if a.scheme != b.scheme or a.port != b.port:
        return False
    if (a.user is None) != (b.user is None) or (a.password is None) != (b.password is None):
        return False
    # §19.1.4: userinfo is compared case-sensitively, escapes of unreserved characters decoded.
    if a.user != b.user and normalise_escapes(a.user or "") != normalise_escapes(b.user or ""):
        return False
    if a.password != b.password and normalise_escapes(a.password or "") != normalise_escapes(
        b.password or ""
    ):
        return False
    if not host_equal(a.host, b.host):
        return False
    pa, pb = a.params, b.params
    for name in pa:
        if name in pb:
            if _param_value(pa[name]) != _param_value(pb[name]):
                return False
        elif name in _MUST_MATCH_PARAMS:
            return False
    for name in pb:
        if name not in pa and name in _MUST_MATCH_PARAMS:
            return False
    if a.headers or b.headers:
        return _uri_headers(a) == _uri_headers(b)
    return True


def _uri_headers(uri: SipUri) -> list[tuple[str, str]]:
    from sipfsm.message.headers import canonical_name

    return sorted(
        (canonical_name(normalise_escapes(name)).lower(), normalise_escapes(value))
        for name, value in uri.headers
    )
