"""Requests and responses (RFC 3261 §7): immutable values with typed, lazily parsed headers.

A message holds its start line, its :class:`Headers` and its body.  Typed properties (``vias``,
``cseq``, ``contacts`` ...) parse their header on first access and cache the result; a malformed
value raises :class:`ParseError` on access.  Equality compares the start line, the header rows
other than Content-Length (in order), and the body: Content-Length is derived from the body --
:meth:`to_bytes` always writes the real one -- so ``parse(m.to_bytes()) == m``.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any, Self

from sipfsm.errors import ParseError
from sipfsm.message.headers import _CHALLENGE_SPLITS, Headers
from sipfsm.message.uri import Uri
from sipfsm.message.values import (
    MAX_DELTA_SECONDS,
    Contact,
    CSeq,
    NameAddr,
    RetryAfter,
    Via,
    parse_contact,
    parse_cseq,
    parse_date,
    parse_delta_seconds,
    parse_name_addr,
    parse_retry_after,
    parse_via,
)

__all__ = ["Message", "Request", "Response"]

_ABSENT: Any = object()


def _elements(headers: Headers, name: str) -> tuple[str, ...] | list[str]:
    """``headers.elements(name)`` of a known list header (canonical spelling), taking the
    parser's common cases -- rows without a comma -- the short way."""
    first = headers._first
    if first is not None:
        value = first.get(name)
        if value is None:
            return ()
        multi = headers._multi
        if multi is None or name not in multi:
            if "," not in value:
                value = value.strip(" \t")
                return [value] if value else ()
        else:
            # Several rows (a 200 listing the bindings): one element each when none holds a
            # comma and none is empty.
            rows = list(map(str.strip, multi[name], _BLANKS))
            if "" not in rows and ",".join(rows).count(",") == len(rows) - 1:
                return rows
    return headers.elements(name)


_BLANKS = itertools.repeat(" \t")


class _MessageBase:
    """Typed access shared by :class:`Request` and :class:`Response`."""

    __slots__ = ()

    headers: Headers
    body: bytes
    _cache: dict[str, Any]

    # -- plumbing ---------------------------------------------------------------------------

    def _single(self, name: str, key: str | None = None) -> str | None:
        """The one row of ``name`` (canonical spelling; ``key``: its lookup key)."""
        return self.headers._single(name, name.lower() if key is None else key)

    def _required(self, name: str, key: str | None = None) -> str:
        value = self._single(name, key)
        if value is None:
            raise ParseError(f"the message has no {name} header field", where=name)
        return value

    def _start_line(self) -> str:
        raise NotImplementedError

    def _equality_key(self) -> tuple[object, ...]:
        raise NotImplementedError

    def _rows_for_equality(self) -> tuple[tuple[str, str], ...]:
        return tuple(row for row in self.headers._rows() if row[0] != "Content-Length")

    def __eq__(self, other: object) -> bool:
        if type(other) is not type(self):
            return NotImplemented
        assert isinstance(other, _MessageBase)
        return self._equality_key() == other._equality_key()

    def __hash__(self) -> int:
        return hash(self._equality_key())

    # -- serialising ------------------------------------------------------------------------

    def to_bytes(self) -> bytes:
        """The wire form: CRLF line ends, ``Name: value`` rows, and a Content-Length computed from
        the body (written where the first Content-Length row was, else last)."""
        body = self.body
        lines = [self._start_line()]
        written = False
        for name, value in self.headers._rows():
            if name == "Content-Length":
                if not written:
                    lines.append(f"Content-Length: {len(body)}")
                    written = True
                continue
            lines.append(f"{name}: {value}")
        if not written:
            lines.append(f"Content-Length: {len(body)}")
        lines.append("\r\n")
        return "\r\n".join(lines).encode("utf-8") + body

    def with_headers(self, headers: Headers) -> Self:
        return replace(self, headers=headers)  # type: ignore[type-var]

    def with_body(self, body: bytes) -> Self:
        return replace(self, body=body)  # type: ignore[type-var]

    # -- typed header access ------------------------------------------------------------------

    @property
    def vias(self) -> list[Via]:
        cache = self._cache
        value = cache.get("vias")
        if value is None:
            # _elements(headers, "Via") without the call in the parser's common case
            headers = self.headers
            first = headers._first
            text = None if first is None or headers._multi is not None else first.get("Via")
            if text is not None and "," not in text and (text := text.strip(" \t")):
                value = cache["vias"] = (parse_via(text),)
            else:
                value = cache["vias"] = tuple(map(parse_via, _elements(headers, "Via")))
        return list(value)

    @property
    def from_(self) -> NameAddr:
        cache = self._cache
        value = cache.get("from")
        if value is None:
            # headers._single("From", "from") without the call in the parser's common case
            headers = self.headers
            first = headers._first
            if first is not None and headers._multi is None:
                text = first.get("From")
                if text is not None:
                    text = text.strip(" \t")
            else:
                text = headers._single("From", "from")
            if text is None:
                raise ParseError("the message has no From header field", where="From")
            value = cache["from"] = parse_name_addr(text, "From")
        return value

    @property
    def to(self) -> NameAddr:
        cache = self._cache
        value = cache.get("to")
        if value is None:
            # headers._single("To", "to") without the call in the parser's common case
            headers = self.headers
            first = headers._first
            if first is not None and headers._multi is None:
                text = first.get("To")
                if text is not None:
                    text = text.strip(" \t")
            else:
                text = headers._single("To", "to")
            if text is None:
                raise ParseError("the message has no To header field", where="To")
            value = cache["to"] = parse_name_addr(text, "To")
        return value

    @property
    def call_id(self) -> str:
        cache = self._cache
        value = cache.get("call_id")
        if value is None:
            # headers._single("Call-ID", "call-id") without the call in the parser's common case
            headers = self.headers
            first = headers._first
            if first is not None and headers._multi is None:
                text = first.get("Call-ID")
                if text is not None:
                    text = text.strip(" \t")
            else:
                text = headers._single("Call-ID", "call-id")
            if text is None:
                raise ParseError("the message has no Call-ID header field", where="Call-ID")
            # callid = word [ "@" word ]: no whitespace inside (§25).
            if not text or " " in text or "\t" in text:
                raise ParseError(f"invalid Call-ID {text[:40]!r}", where="Call-ID")
            value = cache["call_id"] = text
        return value

    @property
    def cseq(self) -> CSeq:
        cache = self._cache
        value = cache.get("cseq")
        if value is None:
            # headers._single("CSeq", "cseq") without the call in the parser's common case
            headers = self.headers
            first = headers._first
            if first is not None and headers._multi is None:
                text = first.get("CSeq")
                if text is not None:
                    text = text.strip(" \t")
            else:
                text = headers._single("CSeq", "cseq")
            if text is None:
                raise ParseError("the message has no CSeq header field", where="CSeq")
            value = cache["cseq"] = parse_cseq(text)
        return value

    @property
    def max_forwards(self) -> int | None:
        value = self._cache.get("max_forwards", _ABSENT)
        if value is _ABSENT:
            text = self._single("Max-Forwards")
            if text is not None:
                # §20.22: an integer in the range 0-255.
                number = parse_delta_seconds(text, "Max-Forwards", limit=256)
                if number > 255:
                    raise ParseError(
                        f"Max-Forwards {text.strip()} is above 255", where="Max-Forwards"
                    )
                value = number
            else:
                value = None
            self._cache["max_forwards"] = value
        return value  # type: ignore[no-any-return]

    def _contacts(self) -> tuple[bool, tuple[Contact, ...]]:
        value = self._cache.get("contacts")
        if value is None:
            elements = _elements(self.headers, "Contact")
            if "*" in elements:
                # §20.10 / §10.2.2: "*" stands alone.
                if len(elements) > 1:
                    raise ParseError("Contact: * combined with other contacts", where="Contact")
                value = (True, ())
            else:
                value = (False, tuple(map(parse_contact, elements)))
            self._cache["contacts"] = value
        return value

    @property
    def contacts(self) -> list[Contact]:
        """Contact values in order; empty for ``Contact: *`` (see :attr:`contact_star`)."""
        return list(self._contacts()[1])

    @property
    def contact_star(self) -> bool:
        return self._contacts()[0]

    def _seconds(self, name: str, key: str) -> int | None:
        value = self._cache.get(key, _ABSENT)
        if value is _ABSENT:
            # headers._single(name, key) without the call in the parser's common case
            headers = self.headers
            first = headers._first
            if first is not None and headers._multi is None:
                text = first.get(name)
                if text is not None:
                    text = text.strip(" \t")
            else:
                text = headers._single(name, key)
            if text is None:
                value = None
            elif text.isdigit() and text.isascii() and len(text) <= 9:
                value = int(text)  # below 2**32-1: nothing to clamp
            else:
                value = parse_delta_seconds(text, name)
            self._cache[key] = value
        return value  # type: ignore[no-any-return]

    @property
    def expires(self) -> int | None:
        """Expires in seconds (§20.19); above 2**32-1 treated as 2**32-1."""
        return self._seconds("Expires", "expires")

    @property
    def min_expires(self) -> int | None:
        return self._seconds("Min-Expires", "min-expires")

    @property
    def date(self) -> datetime | None:
        value = self._cache.get("date", _ABSENT)
        if value is _ABSENT:
            text = self._single("Date")
            value = self._cache["date"] = None if text is None else parse_date(text)
        return value  # type: ignore[no-any-return]

    @property
    def retry_after(self) -> RetryAfter | None:
        value = self._cache.get("retry_after", _ABSENT)
        if value is _ABSENT:
            text = self._single("Retry-After")
            value = self._cache["retry_after"] = None if text is None else parse_retry_after(text)
        return value  # type: ignore[no-any-return]

    def _name_addrs(self, name: str) -> list[NameAddr]:
        key = "na:" + name
        value = self._cache.get(key)
        if value is None:
            value = self._cache[key] = tuple(
                [parse_name_addr(element, name) for element in self.headers.elements(name)]
            )
        return list(value)

    @property
    def routes(self) -> list[NameAddr]:
        return self._name_addrs("Route")

    @property
    def record_routes(self) -> list[NameAddr]:
        return self._name_addrs("Record-Route")

    @property
    def paths(self) -> list[NameAddr]:
        return self._name_addrs("Path")

    @property
    def service_routes(self) -> list[NameAddr]:
        return self._name_addrs("Service-Route")

    def _option_tags(self, name: str) -> list[str]:
        from sipfsm.message._syntax import TOKEN_RE

        tags = self.headers.get_all(name)
        for tag in tags:
            if TOKEN_RE.fullmatch(tag) is None:
                raise ParseError(f"option-tag {tag[:40]!r} is not a token", where=name)
        return tags

    @property
    def supported(self) -> list[str]:
        return self._option_tags("Supported")

    @property
    def require(self) -> list[str]:
        return self._option_tags("Require")

    @property
    def unsupported(self) -> list[str]:
        return self._option_tags("Unsupported")

    @property
    def www_authenticate(self) -> list[str]:
        """Raw challenges, one element per challenge (normally one per row; §7.3.1)."""
        headers = self.headers
        first = headers._first
        if first is not None:
            text = first.get("WWW-Authenticate")
            if text is None:
                return []
            if headers._multi is None:
                # One row whose split is remembered (a registrar repeats its challenge text).
                found = _CHALLENGE_SPLITS.get(text.strip(" \t"))
                if found is not None:
                    return list(found)
        return headers.get_all("WWW-Authenticate")

    @property
    def proxy_authenticate(self) -> list[str]:
        return self.headers.get_all("Proxy-Authenticate")

    @property
    def authorization(self) -> list[str]:
        return self.headers.get_all("Authorization")

    @property
    def proxy_authorization(self) -> list[str]:
        return self.headers.get_all("Proxy-Authorization")

    @property
    def authentication_info(self) -> str | None:
        """The raw Authentication-Info value (RFC 3261 §20.6 / RFC 7615)."""
        return self._single("Authentication-Info")

    @property
    def content_length(self) -> int | None:
        """The Content-Length as sent (None when absent); :meth:`to_bytes` writes the real one."""
        text = self._single("Content-Length")
        if text is None:
            return None
        return parse_delta_seconds(text, "Content-Length", limit=MAX_DELTA_SECONDS)


@dataclass(frozen=True, slots=True, eq=False)
class Request(_MessageBase):
    """``Method SP Request-URI SP SIP/2.0`` with headers and body."""

    method: str
    uri: Uri
    headers: Headers
    body: bytes = b""
    _cache: dict[str, Any] = field(default_factory=dict, init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        if not isinstance(self.headers, Headers):
            object.__setattr__(self, "headers", Headers(self.headers))

    def _start_line(self) -> str:
        return f"{self.method} {self.uri} SIP/2.0"

    def with_headers(self, headers: Headers) -> Self:
        # Direct, not dataclasses.replace (which inspects the fields on every call): the client
        # transaction adds its Via this way to every request it sends.
        return type(self)(self.method, self.uri, headers, self.body)

    def _equality_key(self) -> tuple[object, ...]:
        return (self.method, self.uri, self._rows_for_equality(), self.body)


@dataclass(frozen=True, slots=True, eq=False)
class Response(_MessageBase):
    """``SIP/2.0 SP Status-Code SP Reason-Phrase`` with headers and body."""

    status: int
    reason: str
    headers: Headers
    body: bytes = b""
    _cache: dict[str, Any] = field(default_factory=dict, init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        if not isinstance(self.headers, Headers):
            object.__setattr__(self, "headers", Headers(self.headers))

    def _start_line(self) -> str:
        return f"SIP/2.0 {self.status} {self.reason}"

    def with_headers(self, headers: Headers) -> Self:
        return type(self)(self.status, self.reason, headers, self.body)  # see Request's

    def _equality_key(self) -> tuple[object, ...]:
        return (self.status, self.reason, self._rows_for_equality(), self.body)


Message = Request | Response
