"""Typed header field values (RFC 3261 §20) and their parsers.

``str()`` of each value is its header field value, so a message can be built as
``Headers([("Via", str(via)), ("To", str(to)), ...])``.  Parsers take one element of a header (a
list header already split at its top-level commas) and raise :class:`ParseError` naming the header.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import NamedTuple, Self, TypeVar

from sipfsm.errors import ParseError
from sipfsm.message import _fast
from sipfsm.message._syntax import QUOTED_RE, TOKEN_CHARS, TOKEN_RE, quote, unquote, valid_host
from sipfsm.message.params import EMPTY_PARAMS, Params, parse_header_params
from sipfsm.message.uri import Uri, parse_uri

__all__ = [
    "MAX_CSEQ",
    "MAX_DELTA_SECONDS",
    "CSeq",
    "Contact",
    "NameAddr",
    "RetryAfter",
    "SentBy",
    "Via",
    "format_date",
    "parse_contact",
    "parse_cseq",
    "parse_date",
    "parse_delta_seconds",
    "parse_name_addr",
    "parse_retry_after",
    "parse_via",
]

_V = TypeVar("_V")
_A = TypeVar("_A", bound="NameAddr")

MAX_CSEQ = 2**31 - 1  # §8.1.1.5: the sequence number MUST be less than 2**31
MAX_DELTA_SECONDS = 2**32 - 1  # §20.19 / §20.23 / §10.2.1: values are 0 .. 2**32-1
DEFAULT_CONTACT_EXPIRES = 3600  # §10.2.1: malformed expires SHOULD be treated as 3600

_DIGITS_RE = re.compile(r"[0-9]+")
_QVALUE_RE = re.compile(r"0(?:\.[0-9]{0,3})?|1(?:\.0{0,3})?")


def _int_or_clamped(digits: str, limit: int) -> int:
    # Huge digit strings are clamped without converting (int() refuses > 4300 digits).
    if len(digits) > 12:
        return limit
    return min(int(digits), limit)


def parse_delta_seconds(text: str, where: str, *, limit: int = MAX_DELTA_SECONDS) -> int:
    """``delta-seconds = 1*DIGIT``; values above ``limit`` are treated as ``limit`` (§10.2.1)."""
    if text.isdigit() and text.isascii():
        return _int_or_clamped(text, limit)
    value = text.strip(" \t")
    if _DIGITS_RE.fullmatch(value) is None:
        raise ParseError(f"expected a number of seconds, got {value[:40]!r}", where=where)
    return _int_or_clamped(value, limit)


# -- name-addr / addr-spec --------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class NameAddr:
    """``[display-name] <uri>;params`` of From, To, Route, Record-Route, Path, Service-Route.

    ``display_name`` is the decoded text (no quotes); ``params`` are the header parameters.
    """

    uri: Uri
    display_name: str | None = None
    params: Params = field(default=EMPTY_PARAMS)

    def __post_init__(self) -> None:
        if not isinstance(self.params, Params):
            object.__setattr__(self, "params", Params(self.params))

    @property
    def tag(self) -> str | None:
        return self.params._data.get("tag")

    def with_tag(self, tag: str) -> Self:
        return replace(self, params=self.params.with_param("tag", tag))

    def with_params(self, **params: str | None) -> Self:
        data = dict(self.params)
        data.update((k.lower(), v) for k, v in params.items())
        return replace(self, params=Params._trusted(data))

    def __str__(self) -> str:
        # Always the name-addr form: the addr-spec form cannot carry a URI with ; , or ? (§20.10).
        if self.display_name is not None:
            text = f"{quote(self.display_name)} <{self.uri}>"
        else:
            text = f"<{self.uri}>"
        if self.params:
            return text + str(self.params)
        return text


@dataclass(frozen=True, slots=True)
class Contact(NameAddr):
    """One Contact value (§20.10) with the REGISTER parameters ``expires`` and ``q``."""

    @property
    def expires(self) -> int | None:
        """The expires parameter in seconds, or None.

        §10.2.1: values above 2**32-1 MAY be treated as 2**32-1 (they are), and malformed values
        SHOULD be treated as 3600 (they are).
        """
        data = self.params._data
        if "expires" not in data:
            return None
        value = data["expires"]
        if value is None or not value.isdigit() or not value.isascii():
            return DEFAULT_CONTACT_EXPIRES
        if len(value) > 10:
            return MAX_DELTA_SECONDS
        seconds = int(value)
        return seconds if seconds <= MAX_DELTA_SECONDS else MAX_DELTA_SECONDS

    @property
    def q(self) -> float | None:
        """The q parameter (qvalue 0 .. 1, up to three decimals), or None; malformed: ParseError."""
        value = self.params.get("q")
        if value is None:
            if "q" in self.params:
                raise ParseError("q parameter without a value", where="Contact")
            return None
        if _QVALUE_RE.fullmatch(value) is None:
            raise ParseError(f"invalid qvalue {value[:20]!r}", where="Contact")
        return float(value)


def _parse_addr(text: str, where: str) -> tuple[Uri, str | None, Params]:
    s = text.strip(" \t")
    if not s:
        raise ParseError("empty address", where=where)
    display: str | None = None
    if s[0] == '"':
        quoted = QUOTED_RE.match(s)
        if quoted is None:
            raise ParseError("unterminated quoted display-name", where=where)
        display = unquote(quoted.group())
        lt = s.find("<", quoted.end())
        if lt < 0 or s[quoted.end() : lt].strip(" \t"):
            raise ParseError("a quoted display-name must be followed by <URI>", where=where)
    else:
        lt = s.find("<")
        if lt > 0:
            words = s[:lt].split()
            if words:
                for word in words:
                    if TOKEN_RE.fullmatch(word) is None:
                        raise ParseError(
                            f"display-name {s[:lt].strip()[:40]!r} must be tokens or quoted",
                            where=where,
                        )
                display = " ".join(words)
    if lt >= 0:
        gt = s.find(">", lt)
        if gt < 0:
            raise ParseError("'<' without a closing '>'", where=where)
        uri = _uri(s[lt + 1 : gt], where)
        params = parse_header_params(s, gt + 1, where)
    else:
        # addr-spec form: everything after the URI's first ';' is header parameters, and a URI
        # with a comma, semicolon or question mark needs the name-addr form (§20.10).
        semi = s.find(";")
        if "?" in (s if semi < 0 else s[:semi]):
            raise ParseError(
                "a URI with '?' headers must be enclosed in <> (name-addr form)", where=where
            )
        if semi < 0:
            uri = _uri(s, where)
            params = EMPTY_PARAMS
        else:
            uri = _uri(s[:semi].rstrip(" \t"), where)
            params = parse_header_params(s, semi, where)
    return uri, display, params


def _uri(text: str, where: str) -> Uri:
    try:
        return parse_uri(text)
    except ParseError as exc:
        raise ParseError(exc.message, where=where) from None


# Parsed values are immutable, so each parser remembers its last few hundred inputs: From, To,
# Contact and Call-ID repeat across a registration's refreshes.  Bounded in entries and key size.
_CACHE_ENTRIES = 512
_CACHE_KEY_MAX = 512
_NAME_ADDRS: dict[str, NameAddr] = {}
_CONTACTS: dict[str, Contact] = {}


def _remember(cache: dict[str, _V], text: str, value: _V) -> _V:
    if len(text) <= _CACHE_KEY_MAX:
        if len(cache) >= _CACHE_ENTRIES:
            cache.clear()
        cache[text] = value
    return value


_new = object.__new__
_SET_URI, _SET_DISPLAY, _SET_PARAMS = (
    NameAddr.__dict__[name].__set__ for name in ("uri", "display_name", "params")
)


def _address(cls: type[_A], uri: Uri, display: str | None, params: Params) -> _A:
    # The parsers' results are normalised already: skip __init__/__post_init__ (half the cost).
    obj: _A = _new(cls)
    _SET_URI(obj, uri)
    _SET_DISPLAY(obj, display)
    _SET_PARAMS(obj, params)
    return obj


# Memos of the shape of a value around the one parameter that changes from message to message
# (the From/To tag, a Contact's expires, a Via's branch): the text with that parameter's value
# cut out -> what the full parse of such a text gave.  A text whose key is known is then read by
# checking the new value is a token and copying the rest: the memo only ever holds the readings
# of texts that parsed, and a key fixes every character but the token.  The cut is made only
# after the last '>' and where no quoted-string follows (so that it cannot fall inside a URI or
# a quoted value), and the parameter's reading must be the cut value.
_MEMO_ENTRIES = 256
_ADDR_MEMO: dict[str, tuple[Uri, str | None, dict[str, str | None]]] = {}
_CONTACT_MEMO: dict[str, tuple[Uri, str | None, dict[str, str | None]]] = {}
_VIA_MEMO: dict[str, tuple[str, str, int | None, dict[str, str | None]]] = {}
_SET_PARAMS_DATA = Params.__dict__["_data"].__set__


def _memorise(memo: dict[str, _V], key: str, value: _V) -> None:
    if len(memo) >= _MEMO_ENTRIES:
        memo.clear()
    memo[key] = value


def _read_address(
    cls: type[_A],
    cache: dict[str, _A],
    memos: dict[str, tuple[Uri, str | None, dict[str, str | None]]],
    text: str,
    marker: str,
    where: str,
) -> _A:
    """A name-addr or Contact not in ``cache``: from the memo of its shape around the parameter
    ``marker`` introduces (``;tag=``, ``;expires=``) when there is one, else parsed."""
    # _memo_key(text, marker) and _remember(cache, text, obj), written out (a call each).
    cut: tuple[str, str] | None = None
    before, found, after = text.rpartition(marker)
    if found and '"' not in after and ">" not in after and len(text) <= _CACHE_KEY_MAX:
        value, semi, rest = after.partition(";")
        if (value.isalnum() and value.isascii()) or TOKEN_RE.fullmatch(value) is not None:
            key = f"{before}{marker}{semi}{rest}"
            cut = key, value
            memo = memos.get(key)
            if memo is not None:
                data = memo[2].copy()
                data[marker[1:-1]] = value
                params: Params = _new(Params)
                _SET_PARAMS_DATA(params, data)
                obj: _A = _new(cls)
                _SET_URI(obj, memo[0])
                _SET_DISPLAY(obj, memo[1])
                _SET_PARAMS(obj, params)
                if len(cache) >= _CACHE_ENTRIES:
                    cache.clear()
                cache[text] = obj
                return obj
    fast = _fast.name_addr(text)
    uri, display, params = fast if fast is not None else _parse_addr(text, where)
    if cut is not None and params._data.get(marker[1:-1]) == cut[1]:
        _memorise(memos, cut[0], (uri, display, params._data))
    return _remember(cache, text, _address(cls, uri, display, params))


def parse_name_addr(text: str, where: str = "address") -> NameAddr:
    """``name-addr / addr-spec`` followed by header parameters."""
    found = _NAME_ADDRS.get(text)
    if found is not None:
        return found
    return _read_address(NameAddr, _NAME_ADDRS, _ADDR_MEMO, text, ";tag=", where)


def parse_contact(text: str) -> Contact:
    found = _CONTACTS.get(text)
    if found is not None:
        return found
    return _read_address(Contact, _CONTACTS, _CONTACT_MEMO, text, ";expires=", "Contact")


# -- Via ----------------------------------------------------------------------------------------


class SentBy(NamedTuple):
    """The sent-by of a Via: host (bare IPv6 without brackets) and port (None when absent)."""

    host: str
    port: int | None

    def __str__(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return host if self.port is None else f"{host}:{self.port}"


@dataclass(frozen=True, slots=True)
class Via:
    """One Via value (§20.42): ``SIP/2.0/<transport> <host>[:<port>];params``.

    ``transport`` is upper-case (``UDP``, ``TCP``, ``TLS``); ``host`` a bare IPv6 address without
    brackets when IPv6.
    """

    transport: str
    host: str
    port: int | None = None
    params: Params = field(default=EMPTY_PARAMS)

    def __post_init__(self) -> None:
        if not self.transport.isupper():
            object.__setattr__(self, "transport", self.transport.upper())
        if not isinstance(self.params, Params):
            object.__setattr__(self, "params", Params(self.params))

    @property
    def branch(self) -> str | None:
        return self.params._data.get("branch")

    @property
    def received(self) -> str | None:
        return self.params.get("received")

    @property
    def maddr(self) -> str | None:
        return self.params.get("maddr")

    @property
    def has_rport(self) -> bool:
        """True when the rport parameter (RFC 3581) is present, with or without a value."""
        return "rport" in self.params

    @property
    def rport(self) -> int | None:
        """The port value of ``rport=N`` (RFC 3581), None when absent or a bare ``;rport``."""
        value = self.params.get("rport")
        if value is None:
            return None
        if _DIGITS_RE.fullmatch(value) is None or len(value) > 5 or int(value) > 65535:
            raise ParseError(f"invalid rport {value[:20]!r}", where="Via")
        return int(value)

    @property
    def sent_by(self) -> SentBy:
        return SentBy(self.host, self.port)

    def with_params(self, **params: str | None) -> Via:
        data = dict(self.params)
        data.update((k.lower(), v) for k, v in params.items())
        return replace(self, params=Params._trusted(data))

    def __str__(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        port = "" if self.port is None else f":{self.port}"
        return f"SIP/2.0/{self.transport} {host}{port}{self.params}"


# The fast path's values are normalised (transport upper-case, Params built): set the slots.
_SET_VIA_TRANSPORT, _SET_VIA_HOST, _SET_VIA_PORT, _SET_VIA_PARAMS = (
    Via.__dict__[name].__set__ for name in ("transport", "host", "port", "params")
)

# sent-protocol SLASH, LWS, sent-by (§25: SLASH = SWS "/" SWS; HCOLON-like COLON for the port)
_VIA_RE = re.compile(
    f"[ \\t]*SIP[ \\t]*/[ \\t]*2\\.0[ \\t]*/[ \\t]*([{TOKEN_CHARS}]+)[ \\t]+"
    r"(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9.\-]+)(?:[ \t]*:[ \t]*([0-9]{1,5}))?",
    re.IGNORECASE,
)


_VIAS: dict[str, Via] = {}


def parse_via(text: str) -> Via:
    # Cached like the other values: a Via repeats in retransmissions and in the response to a
    # request (the same text comes back, with received/rport added by some servers).
    found = _VIAS.get(text)
    if found is not None:
        return found
    # The memo key of the text around its branch, as in _read_address.
    cut: tuple[str, str] | None = None
    before, marker, after = text.rpartition(";branch=")
    if marker and '"' not in after and ">" not in after and len(text) <= _CACHE_KEY_MAX:
        value, semi, rest = after.partition(";")
        if (value.isalnum() and value.isascii()) or TOKEN_RE.fullmatch(value) is not None:
            cut = f"{before};branch={semi}{rest}", value
    if cut is not None:
        memo = _VIA_MEMO.get(cut[0])
        if memo is not None:
            data = memo[3].copy()
            data["branch"] = cut[1]
            params: Params = _new(Params)
            _SET_PARAMS_DATA(params, data)
            via: Via = _new(Via)
            _SET_VIA_TRANSPORT(via, memo[0])
            _SET_VIA_HOST(via, memo[1])
            _SET_VIA_PORT(via, memo[2])
            _SET_VIA_PARAMS(via, params)
            if len(_VIAS) >= _CACHE_ENTRIES:
                _VIAS.clear()
            _VIAS[text] = via
            return via
    fast = _fast.via(text)
    if fast is not None:
        via = _new(Via)
        transport, host, port, params = fast
        _SET_VIA_TRANSPORT(via, transport)
        _SET_VIA_HOST(via, host)
        _SET_VIA_PORT(via, port)
        _SET_VIA_PARAMS(via, params)
    else:
        via = _parse_via(text)
    if cut is not None and via.params._data.get("branch") == cut[1]:
        _memorise(_VIA_MEMO, cut[0], (via.transport, via.host, via.port, via.params._data))
    return _remember(_VIAS, text, via)


def _parse_via(text: str) -> Via:
    found = _VIA_RE.match(text)
    if found is None:
        raise ParseError(f"malformed Via {text[:60]!r}", where="Via")
    transport, host, port_text = found.groups()
    if host[0] == "[":
        host = host[1:-1]
    if not valid_host(host):
        raise ParseError(f"invalid sent-by host {host!r}", where="Via")
    port: int | None = None
    if port_text is not None:
        port = int(port_text)
        if port > 65535:
            raise ParseError(f"sent-by port {port} out of range", where="Via")
    params = parse_header_params(text, found.end(), "Via")
    return Via(transport.upper(), host, port, params)


# -- CSeq, Retry-After, Date -----------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class CSeq:
    """``CSeq: <number> <method>`` (§20.16); the number is 0 .. 2**31-1 (§8.1.1.5)."""

    number: int
    method: str

    def __str__(self) -> str:
        return f"{self.number} {self.method}"


_CSEQS: dict[str, CSeq] = {}
_SET_CSEQ_NUMBER, _SET_CSEQ_METHOD = (CSeq.__dict__[name].__set__ for name in ("number", "method"))


def parse_cseq(text: str) -> CSeq:
    found = _CSEQS.get(text)
    if found is not None:
        return found
    return _remember(_CSEQS, text, _parse_cseq(text))


_CSEQ_METHODS = frozenset(("REGISTER", "INVITE", "ACK", "BYE", "CANCEL", "OPTIONS"))


def _parse_cseq(text: str) -> CSeq:
    number, space, method = text.partition(" ")
    if (
        space and method in _CSEQ_METHODS and number.isdigit() and number.isascii()
        and len(number) <= 10
    ):  # fmt: skip
        value = int(number)
        if value <= MAX_CSEQ:
            cseq: CSeq = _new(CSeq)
            _SET_CSEQ_NUMBER(cseq, value)
            _SET_CSEQ_METHOD(cseq, method)
            return cseq
    parts = text.split()
    if len(parts) != 2:
        raise ParseError(f"expected '<number> <method>', got {text[:40]!r}", where="CSeq")
    number, method = parts
    if _DIGITS_RE.fullmatch(number) is None:
        raise ParseError(f"sequence number {number[:20]!r} is not a number", where="CSeq")
    if len(number) > 10 or int(number) > MAX_CSEQ:
        raise ParseError(f"sequence number {number[:20]} is not below 2**31", where="CSeq")
    if TOKEN_RE.fullmatch(method) is None:
        raise ParseError(f"method {method[:20]!r} is not a token", where="CSeq")
    return CSeq(int(number), method)


@dataclass(frozen=True, slots=True)
class RetryAfter:
    """``Retry-After: <seconds> [(comment)] [;duration=<seconds>]`` (§20.33).

    ``comment`` is the text between the outer parentheses as written; ``params`` holds any other
    parameters.
    """

    seconds: int
    comment: str | None = None
    duration: int | None = None
    params: Params = field(default=EMPTY_PARAMS)

    def __str__(self) -> str:
        text = str(self.seconds)
        if self.comment is not None:
            text += f" ({self.comment})"
        if self.duration is not None:
            text += f";duration={self.duration}"
        return text + str(self.params)


def _comment_end(text: str, start: int) -> int:
    """Offset just past the comment opening at ``text[start] == '('`` (nested, quoted-pairs)."""
    depth = 0
    i = start
    n = len(text)
    while i < n:
        char = text[i]
        if char == "\\":
            i += 2
            continue
        if char == "(":
            depth += 1
        elif char == ")":
            depth -= 1
            if depth == 0:
                return i + 1
        i += 1
    raise ParseError("unterminated comment", where="Retry-After")


def _retry_seconds(digits: str) -> int:
    # §20.33 gives no cap rule: a value beyond 32 bits is malformed (RFC 4475 scalarlg).
    if len(digits) > 10 or int(digits) > MAX_DELTA_SECONDS:
        raise ParseError(f"{digits[:20]} seconds is beyond 2**32-1", where="Retry-After")
    return int(digits)


def parse_retry_after(text: str) -> RetryAfter:
    value = text.strip(" \t")
    found = _DIGITS_RE.match(value)
    if found is None:
        raise ParseError(f"expected a number of seconds, got {value[:40]!r}", where="Retry-After")
    seconds = _retry_seconds(found.group())
    pos = found.end()
    while pos < len(value) and value[pos] in " \t":
        pos += 1
    comment: str | None = None
    if pos < len(value) and value[pos] == "(":
        end = _comment_end(value, pos)
        comment = value[pos + 1 : end - 1]
        pos = end
    params = parse_header_params(value, pos, "Retry-After")
    duration: int | None = None
    if "duration" in params:
        raw = params["duration"]
        if raw is None:
            raise ParseError("duration without a value", where="Retry-After")
        if _DIGITS_RE.fullmatch(raw) is None:
            raise ParseError(f"duration {raw[:20]!r} is not a number", where="Retry-After")
        duration = _retry_seconds(raw)
        params = params.without("duration")
    return RetryAfter(seconds, comment, duration, params)


_WKDAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
# §25 SIP-date = rfc1123-date: wkday "," SP date1 SP time SP "GMT" (case-sensitive, §20.17)
_DATE_RE = re.compile(
    f"({'|'.join(_WKDAYS)}), ([0-9]{{2}}) ({'|'.join(_MONTHS)}) ([0-9]{{4}}) "
    r"([0-9]{2}):([0-9]{2}):([0-9]{2}) GMT"
)


def parse_date(text: str) -> datetime:
    """RFC 1123 date in GMT (§20.17) -> an aware datetime in UTC."""
    found = _DATE_RE.fullmatch(text.strip(" \t"))
    if found is None:
        raise ParseError(f"not an RFC 1123 GMT date: {text[:40]!r}", where="Date")
    _, day, month, year, hour, minute, second = found.groups()
    try:
        return datetime(
            int(year), _MONTHS.index(month) + 1, int(day), int(hour), int(minute), int(second),
            tzinfo=UTC,
        )  # fmt: skip
    except ValueError as exc:
        raise ParseError(f"impossible date {text.strip()!r}: {exc}", where="Date") from None


def format_date(when: datetime) -> str:
    """An aware datetime as a SIP-date (RFC 1123, GMT)."""
    utc = when.astimezone(UTC)
    return (
        f"{_WKDAYS[utc.weekday()]}, {utc.day:02d} {_MONTHS[utc.month - 1]} {utc.year:04d} "
        f"{utc.hour:02d}:{utc.minute:02d}:{utc.second:02d} GMT"
    )
