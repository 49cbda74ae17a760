"""Bytes to :class:`Request` / :class:`Response` (RFC 3261 §7, §18.3 datagram framing).

The parser splits the start line and the header rows once, canonicalises field names, checks the
mandatory header fields are present, and frames the body; header values are interpreted only when
a typed property asks for them.  Every malformed input raises :class:`ParseError` -- never any
other exception.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import NamedTuple

from sipfsm.errors import ParseError
from sipfsm.message import spec_ids
from sipfsm.message._syntax import TOKEN_RE
from sipfsm.message.headers import _SPELLINGS, Headers, header_key
from sipfsm.message.limits import DEFAULT_LIMITS, Limits
from sipfsm.message.messages import Request, Response
from sipfsm.message.uri import _URIS, Uri, parse_uri

__all__ = ["parse"]

# §8.1.1 lists To, From, CSeq, Call-ID, Max-Forwards and Via as the minimum of a request; §20
# Table 2 gives Via, From, To, Call-ID and CSeq as mandatory in responses.  Max-Forwards is not
# required on parse: RFC 4475 "inv2543" (§3.4.1) asks elements to accept RFC 2543 requests
# without it.
_REQUEST_MANDATORY = ("To", "From", "CSeq", "Call-ID", "Via")
_RESPONSE_MANDATORY = ("Via", "From", "To", "Call-ID", "CSeq")
_REQUEST_KEYS = frozenset(name.lower() for name in _REQUEST_MANDATORY)
_RESPONSE_KEYS = frozenset(name.lower() for name in _RESPONSE_MANDATORY)
_CRLF = b"\r\n\r\n"
# Names in canonical spelling: a row under one of these is looked up as written.
_CANONICAL = frozenset(name for name, _ in _SPELLINGS.values())


def _unknown_names(names: Iterable[str]) -> bool | None:
    """True when ``names`` (not in canonical spelling) are all unknown names, which rows keep as
    written; None when one is another spelling of a known name (or not a token): the careful
    way normalises it (or reports it)."""
    spellings = _SPELLINGS
    for name in names:
        if name in spellings or name.lower() in spellings or TOKEN_RE.fullmatch(name) is None:
            return None
    return True


_Parts = tuple[bool, str, "Uri | None", int, str, tuple[tuple[str, str], ...], dict[str, list[str]]]


class Head(NamedTuple):
    """A parsed header section: start line pieces, rows and the row values by lookup key."""

    request: bool
    method: str
    uri: Uri | None
    status: int
    reason: str
    rows: tuple[tuple[str, str], ...]
    values: dict[str, list[str]]  # lookup key -> row values

    def content_length(self) -> int | None:
        return _content_length(self.values)

    def message(self, body: bytes) -> Request | Response:
        return _message(self, body)


def _content_length(index: dict[str, list[str]]) -> int | None:
    values = index.get("content-length")
    if values is None:
        return None
    if len(values) > 1:
        raise ParseError(
            "Content-Length appears more than once",
            where="Content-Length",
            spec_id=spec_ids.CONTENT_LENGTH_SYNTAX,
        )
    text = values[0]
    if not text.isdigit() or not text.isascii() or len(text) > 10:
        raise ParseError(
            f"invalid Content-Length {text[:20]!r}",
            where="Content-Length",
            spec_id=spec_ids.CONTENT_LENGTH_SYNTAX,
        )
    return int(text)


# The parser's values are already what the dataclasses' __init__/__post_init__ would make, so
# messages are built by setting their slots (a third of the cost of the generated __init__).
_new = object.__new__
_SET_REQUEST = tuple(
    Request.__dict__[name].__set__ for name in ("method", "uri", "headers", "body", "_cache")
)
_SET_RESPONSE = tuple(
    Response.__dict__[name].__set__ for name in ("status", "reason", "headers", "body", "_cache")
)


def _message(parts: _Parts, body: bytes) -> Request | Response:
    request, method, uri, status, reason, rows, index = parts
    return _build(request, method, uri, status, reason, Headers._trusted(rows, index), body)


def _build(
    request: bool, method: str, uri: Uri | None, status: int, reason: str, headers: Headers,
    body: bytes,
) -> Request | Response:  # fmt: skip
    message: Request | Response
    if request:
        message = _new(Request)
        set_method, set_uri, set_headers, set_body, set_cache = _SET_REQUEST
        set_method(message, method)
        set_uri(message, uri)
    else:
        message = _new(Response)
        set_status, set_reason, set_headers, set_body, set_cache = _SET_RESPONSE
        set_status(message, status)
        set_reason(message, reason)
    set_headers(message, headers)
    set_body(message, body)
    set_cache(message, {})
    return message


def _line_offset(lines: list[str], i: int) -> int:
    return sum(len(line.encode("utf-8")) + 2 for line in lines[:i])


def _first_bad_char(text: str) -> int:
    for i, char in enumerate(text):
        if char == "\r" and text[i + 1 : i + 2] != "\n":
            return i
        if char == "\n" and (i == 0 or text[i - 1] != "\r"):
            return i
    return 0  # pragma: no cover - only called when one exists


def parse_head(head: bytes, limits: Limits) -> Head:
    """Parse the header section ``head`` (start line and rows, without the final empty line)."""
    return Head(*_head_parts(head, limits))


def _head_parts(head: bytes, limits: Limits) -> _Parts:
    try:
        text = head.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ParseError(
            "the header section is not UTF-8", offset=exc.start, spec_id=spec_ids.UTF8
        ) from None
    lines = text.split("\r\n")
    crlfs = len(lines) - 1
    if text.count("\r") != crlfs or text.count("\n") != crlfs:
        bad = _first_bad_char(text)
        raise ParseError(
            "bare CR or LF in the header section (lines end with CRLF)",
            offset=len(text[:bad].encode("utf-8")),
            spec_id=spec_ids.CRLF_LINES,
        )
    if crlfs > limits.max_headers:
        raise ParseError(
            f"more than {limits.max_headers} header lines",
            where="headers",
            spec_id=spec_ids.SIZE_LIMITS,
        )
    max_line = limits.max_header_line

    # -- start line (§7.1, §7.2) --
    first = lines[0]
    if len(first) > max_line:
        raise ParseError(
            f"start line longer than {max_line}", where="start line", spec_id=spec_ids.SIZE_LIMITS
        )
    request = not first.startswith("SIP/") and first[:4].upper() != "SIP/"
    method = ""
    uri: Uri | None = None
    status = 0
    reason = ""
    if request:
        parts = first.split(" ")
        if len(parts) != 3 or not all(parts):
            raise ParseError(
                f"a Request-Line is 'Method SP Request-URI SP SIP-Version', got {first[:80]!r}",
                where="start line",
                offset=0,
                spec_id=spec_ids.REQUEST_LINE,
            )
        method, uri_text, version = parts
        if TOKEN_RE.fullmatch(method) is None:
            raise ParseError(
                f"method {method[:20]!r} is not a token",
                where="start line",
                offset=0,
                spec_id=spec_ids.REQUEST_LINE,
            )
        if version != "SIP/2.0" and version.upper() != "SIP/2.0":
            raise ParseError(
                f"unsupported SIP version {version[:20]!r}",
                where="start line",
                offset=len(method) + len(uri_text) + 2,
                spec_id=spec_ids.SIP_VERSION,
            )
        uri = _request_uri(uri_text, len(method) + 1)
    else:
        version, _, rest = first.partition(" ")
        if version != "SIP/2.0" and version.upper() != "SIP/2.0":
            raise ParseError(
                f"unsupported SIP version {version[:20]!r}",
                where="start line",
                offset=0,
                spec_id=spec_ids.SIP_VERSION,
            )
        code, _, reason = rest.partition(" ")
        if len(code) != 3 or not code.isdigit() or not code.isascii() or code[0] not in "123456":
            raise ParseError(
                f"status code {code[:20]!r} is not 100..699",
                where="start line",
                offset=len(version) + 1,
                spec_id=spec_ids.STATUS_LINE,
            )
        status = int(code)

    # -- header rows (§7.3) --
    # A continuation line (folding) fails the fast loop's name check and goes the careful way.
    rows, index = _rows_careful(lines, limits)
    _check_mandatory(request, index)
    return (request, method, uri, status, reason, rows, index)


def _request_uri(text: str, offset: int) -> Uri:
    try:
        return parse_uri(text)
    except ParseError as exc:
        raise ParseError(
            exc.message, where="Request-URI", offset=offset, spec_id=spec_ids.REQUEST_LINE
        ) from None


def _check_mandatory(request: bool, index: dict[str, list[str]]) -> None:
    if "via" in index and "cseq" in index and "call-id" in index and "from" in index and (
        "to" in index
    ):
        return
    mandatory = _REQUEST_KEYS if request else _RESPONSE_KEYS
    if not mandatory <= index.keys():
        names = _REQUEST_MANDATORY if request else _RESPONSE_MANDATORY
        missing = [name for name in names if name.lower() not in index]
        kind = "request" if request else "response"
        raise ParseError(
            f"{kind} lacks mandatory header field(s) {', '.join(missing)}",
            where=missing[0],
            spec_id=spec_ids.MANDATORY_REQUEST if request else spec_ids.MANDATORY_RESPONSE,
        )


def _rows_careful(
    lines: list[str], limits: Limits
) -> tuple[tuple[tuple[str, str], ...], dict[str, list[str]]]:
    """§7.3: canonical names, unfolding (a continuation line joins its field with one SP),
    whitespace before the colon, limits; every error names its byte offset."""
    max_line = limits.max_header_line
    rows: list[tuple[str, str]] = []
    keys: list[str] = []
    spellings = _SPELLINGS
    for i in range(1, len(lines)):
        line = lines[i]
        if len(line) > max_line:
            raise ParseError(
                f"header line longer than {max_line}",
                offset=_line_offset(lines, i),
                spec_id=spec_ids.SIZE_LIMITS,
            )
        first_char = line[:1]
        if first_char == " " or first_char == "\t":
            # §7.3.1: the line break and the leading whitespace count as a single SP.
            if not rows:
                raise ParseError(
                    "continuation line before any header field", offset=_line_offset(lines, i)
                )
            name, value = rows[-1]
            more = line.strip(" \t")
            if more:
                value = f"{value} {more}" if value else more
                if len(value) > max_line:
                    raise ParseError(
                        f"header field longer than {max_line} after unfolding",
                        where=name,
                        spec_id=spec_ids.SIZE_LIMITS,
                    )
                rows[-1] = (name, value)
            continue
        colon = line.find(":")
        if colon <= 0:
            raise ParseError(
                f"header line without a field name and colon: {line[:40]!r}",
                offset=_line_offset(lines, i),
            )
        raw_name = line[:colon]
        entry = spellings.get(raw_name)
        if entry is None:
            # HCOLON = *( SP / HTAB ) ":" SWS; names are case-insensitive (§7.3.1).
            raw_name = raw_name.rstrip(" \t")
            entry = spellings.get(raw_name) or spellings.get(raw_name.lower())
            if entry is None:
                if TOKEN_RE.fullmatch(raw_name) is None:
                    raise ParseError(
                        f"header field name {raw_name[:40]!r} is not a token",
                        offset=_line_offset(lines, i),
                        spec_id=spec_ids.HEADER_NAME_CASE,
                    )
                entry = (raw_name, raw_name.lower())
        keys.append(entry[1])
        rows.append((entry[0], line[colon + 1 :].strip(" \t")))

    index: dict[str, list[str]] = {}
    for key, (_, value) in zip(keys, rows, strict=True):
        found = index.get(key)
        if found is None:
            index[key] = [value]
        else:
            found.append(value)
    return tuple(rows), index


# Status codes as written -> their value (a dict lookup is cheaper than int() on every response).
_STATUS_CODES = {str(code): code for code in range(100, 700)}
# Methods a registration client and its peers send: tokens already (others are checked).
_METHODS = frozenset(
    ("REGISTER", "INVITE", "ACK", "BYE", "CANCEL", "OPTIONS", "SUBSCRIBE", "NOTIFY", "MESSAGE",
     "PUBLISH", "INFO", "PRACK", "UPDATE", "REFER")
)  # fmt: skip


def parse(data: bytes, *, limits: Limits = DEFAULT_LIMITS) -> Request | Response:
    """Parse one SIP message received as a datagram (or already framed).

    §18.3: with a Content-Length, the body is that many bytes -- extra bytes are discarded and a
    shorter body is an error; without one, the body is the rest of the data.  Raises
    :class:`ParseError` (and nothing else) for anything malformed or over ``limits``.
    """
    if type(data) is not bytes:
        if isinstance(data, bytes | bytearray | memoryview):
            data = bytes(data)
        else:
            raise TypeError(f"parse() takes bytes, not {type(data).__name__}")
    try:
        size = len(data)
        if size > limits.max_message_size:
            raise ParseError(
                f"message of {size} bytes exceeds the limit of {limits.max_message_size}",
                spec_id=spec_ids.SIZE_LIMITS,
            )
        end = data.find(_CRLF)
        if end < 0:
            raise ParseError(
                "no empty line (CRLF CRLF) ends the header section",
                offset=size,
                spec_id=spec_ids.CRLF_LINES,
            )
        head = data[:end]
        headers: Headers | None = None
        try:
            text = head.decode("utf-8")
        except UnicodeDecodeError:
            text = ""
        lines = text.splitlines()
        if (
            # Every line break a CRLF (two characters each): no bare CR or LF, no other break.
            len(text) - len("".join(lines)) == 2 * len(lines) - 2
            and text
            and len(lines) <= limits.max_headers + 1
            and len(text) <= limits.max_header_line
        ):
            # The common case: CRLF line ends only, every line within the limits.
            first = lines[0]
            request = False
            method = reason = ""
            uri: Uri | None = None
            status = 0
            if first[:8] == "SIP/2.0 ":
                status = _STATUS_CODES.get(first[8:11], 0)
                if status and (len(first) == 11 or first[11] == " "):
                    reason = first[12:]
                else:
                    status = 0
            else:
                words = first.split(" ")
                if len(words) == 3 and words[0] in _METHODS and words[2] == "SIP/2.0":
                    method = words[0]
                    uri = _URIS.get(words[1])  # parse_uri's cache, without the calls
                    if uri is None:
                        uri = _request_uri(words[1], len(method) + 1)
                    request = True
            if status or request:
                del lines[0]
                # One pass: each name's first value, and every value of a name with several
                # rows (Contacts, Vias); a line without a colon goes the careful way.
                firsts: dict[str, str] = {}
                multi: dict[str, list[str]] | None = None
                for line in lines:
                    name, colon, value = line.partition(":")
                    if name in firsts or not colon:
                        if not colon:
                            break
                        if multi is None:
                            multi = {}
                        found = multi.get(name)
                        if found is None:
                            multi[name] = [firsts[name], value]
                        else:
                            found.append(value)
                    else:
                        firsts[name] = value
                else:
                    unknown: bool | None = False
                    if not firsts.keys() <= _CANONICAL:
                        unknown = _unknown_names(firsts.keys() - _CANONICAL)
                    if unknown is not None:
                        if not (
                            "Via" in firsts and "CSeq" in firsts and "Call-ID" in firsts
                            and "From" in firsts and "To" in firsts
                        ):  # fmt: skip
                            _check_mandatory(request, {header_key(name): [] for name in firsts})
                        # Headers in the parser's fast mode (see its class attributes)
                        headers = _new(Headers)
                        headers._items = None
                        headers._index = None
                        headers._lines = lines
                        headers._first = firsts
                        headers._multi = multi
                        headers._unknown = unknown
        if headers is None:
            request, method, uri, status, reason, careful_rows, careful = _head_parts(head, limits)
            headers = Headers._trusted(careful_rows, careful)
        body = data[end + 4 :]
        fast = headers._first
        if fast is not None and not body and headers._multi is None:
            # No body: only a Content-Length other than 0 is to be checked (and reported).
            length_text = fast.get("Content-Length")
            lengths = (
                None if length_text is None or length_text == " 0"
                else [length_text.strip(" \t")]
            )
        else:
            lengths = headers._values("Content-Length")
        if lengths is not None and (len(lengths) != 1 or lengths[0] != "0" or body):
            length = _content_length({"content-length": lengths})
            assert length is not None
            if length > len(body):
                raise ParseError(
                    f"Content-Length {length} but only {len(body)} body bytes in the datagram",
                    where="Content-Length",
                    offset=end + 4 + len(body),
                    spec_id=spec_ids.DATAGRAM_SHORT_BODY,
                )
            if length < len(body):
                body = body[:length]
        message: Request | Response
        if request:
            message = _new(Request)
            set_method, set_uri, set_headers, set_body, set_cache = _SET_REQUEST
            set_method(message, method)
            set_uri(message, uri)
        else:
            message = _new(Response)
            set_status, set_reason, set_headers, set_body, set_cache = _SET_RESPONSE
            set_status(message, status)
            set_reason(message, reason)
        set_headers(message, headers)
        set_body(message, body)
        set_cache(message, {})
        return message
    except ParseError:
        raise
    except Exception as exc:  # pragma: no cover - the fuzz tests prove this is never reached
        raise ParseError(f"internal parser failure: {type(exc).__name__}: {exc}") from exc
