"""Strict validation: what RFC 3261's grammar calls invalid, named rule by rule.

The parser (:func:`sipfsm.message.parse`) is liberal on purpose: a client reads what registrars
send and fails only on the field it needs.  :func:`violations` reads the same bytes strictly and
names every rule they break (RFC 3261 §25.1 ABNF and the header sections; the cases of RFC 4475
§3.1.2 and §3.3), for ``sipfsm parse --strict`` and for audits of other implementations' traffic.

>>> [v.rule for v in violations(b'OPTIONS sip:a@b SIP/2.0  \\r\\n\\r\\n')][:1]
['RFC 3261 §25.1 Request-Line: Method SP Request-URI SP SIP-Version CRLF']
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from sipfsm.errors import ParseError

__all__ = ["StrictError", "Violation", "validate", "violations"]


@dataclass(frozen=True, slots=True)
class Violation:
    rule: str  # the rule broken, with its RFC section
    where: str  # "start line" or the header name
    detail: str

    def __str__(self) -> str:
        return f"{self.where}: {self.detail} ({self.rule})"


class StrictError(ParseError):
    """The message breaks a rule of RFC 3261's grammar (the first one is named)."""

    def __init__(self, found: list[Violation]) -> None:
        more = f" (and {len(found) - 1} more)" if len(found) > 1 else ""
        super().__init__(f"{found[0]}{more}", where=found[0].where)
        self.violations = found


# ---- the rules, by the text of RFC 3261 -----------------------------------------------------

REQUEST_LINE = "RFC 3261 §25.1 Request-Line: Method SP Request-URI SP SIP-Version CRLF"
STATUS_LINE = "RFC 3261 §25.1 Status-Line: SIP-Version SP Status-Code SP Reason-Phrase CRLF"
STATUS_CODE = "RFC 3261 §25.1 Status-Code: 3DIGIT"
SIP_VERSION = "RFC 3261 §7.1 SIP-Version: SIP/2.0"
REQUEST_URI_HEADERS = "RFC 3261 §19.1.1 Table 1: no headers in a Request-URI"
QUOTED_STRING = "RFC 3261 §25.1 quoted-string: DQUOTE *(qdtext / quoted-pair) DQUOTE"
ADDR_SPEC_LWS = ("RFC 3261 §25.1 name-addr: [display-name] LAQUOT addr-spec RAQUOT "
                 "(no LWS in addr-spec)")
DISPLAY_NAME = "RFC 3261 §25.1 display-name: *(token LWS) / quoted-string"
NAME_ADDR_FORM = ("RFC 3261 §20.10: a URI containing a comma, question mark or semicolon "
                  "MUST be in name-addr form")
EMPTY_PARAM = "RFC 3261 §25.1 generic-param: token [ EQUAL gen-value ] (no empty parameter)"
EMPTY_VALUE = "RFC 3261 §7.3.1: comma-separated values, none empty"
CONTENT_LENGTH = "RFC 3261 §20.14 Content-Length: 1*DIGIT"
BODY_LENGTH = "RFC 3261 §18.3: a body shorter than Content-Length is a malformed message"
CSEQ = "RFC 3261 §8.1.1.5: the CSeq number is below 2**31"
CSEQ_METHOD = "RFC 3261 §8.1.1.5: the CSeq method matches the request's method"
MAX_FORWARDS = "RFC 3261 §20.22 Max-Forwards: an integer in 0-255"
DELTA_SECONDS = "RFC 3261 §25.1 delta-seconds: 1*DIGIT, at most 2**32-1"
WARN_CODE = "RFC 3261 §20.43 warn-code: 3DIGIT"
SIP_DATE = "RFC 3261 §20.17 / §25.1 SIP-date: rfc1123-date, in GMT"
MANDATORY = "RFC 3261 §8.1.1: To, From, CSeq, Call-ID, Max-Forwards and Via are mandatory"
SINGLE_VALUE = "RFC 3261 §7.3.1: a header that is not a comma-separated list appears once"

_COMPACT = {"i": "call-id", "m": "contact", "e": "content-encoding", "l": "content-length",
            "c": "content-type", "f": "from", "s": "subject", "k": "supported", "t": "to",
            "v": "via"}
_NAME_ADDR_HEADERS = ("to", "from", "contact", "route", "record-route", "reply-to")
# Headers whose grammar has quoted-strings (a Call-ID "word", for one, may hold a lone DQUOTE).
_QUOTING_HEADERS = (*_NAME_ADDR_HEADERS, "via", "warning", "www-authenticate",
                    "proxy-authenticate", "authorization", "proxy-authorization",
                    "authentication-info", "content-type", "content-disposition", "accept",
                    "alert-info", "call-info", "error-info")
_SINGLE = ("to", "from", "call-id", "cseq", "max-forwards", "content-length", "expires",
           "content-type", "date", "retry-after")
_MANDATORY_REQUEST = ("to", "from", "cseq", "call-id", "max-forwards", "via")
_TOKEN = r"[A-Za-z0-9.!%*_+`'~-]+"
_METHOD = re.compile(_TOKEN)
_ASCII_DIGITS = re.compile(r"[0-9]+")
_STATUS_LINE = re.compile(r"SIP/(\d+)\.(\d+) (\d+) (.*)")
_RFC1123_GMT = re.compile(
    r"(Mon|Tue|Wed|Thu|Fri|Sat|Sun), \d{2} (Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) "
    r"\d{4} \d{2}:\d{2}:\d{2} GMT")


def _digits(text: str) -> bool:
    """1*DIGIT, DIGIT being %x30-39 (RFC 5234 B.1): str.isdigit() also takes "²" or "١", which
    int() then refuses or reads as a number."""
    return _ASCII_DIGITS.fullmatch(text) is not None


def _split_quoted(value: str) -> tuple[list[str], bool]:
    """``value`` cut at the commas outside quotes and <>; False when a quoted string does not
    end."""
    parts, current, quoted, angle, i = [], [], False, False, 0
    while i < len(value):
        ch = value[i]
        if quoted:
            if ch == "\\" and i + 1 < len(value):
                current.append(value[i:i + 2])
                i += 2
                continue
            if ch == '"':
                quoted = False
        elif ch == '"':
            quoted = True
        elif ch == "<":
            angle = True
        elif ch == ">":
            angle = False
        elif ch == "," and not angle:
            parts.append("".join(current))
            current = []
            i += 1
            continue
        current.append(ch)
        i += 1
    parts.append("".join(current))
    return parts, not quoted


def _params_outside(value: str) -> str:
    """The part of ``value`` after the addr-spec / sent-by: where ;params live."""
    if ">" in value:
        return value[value.rindex(">") + 1:]
    return value


def _check_start_line(line: str, out: list[Violation]) -> str | None:
    """The request's method (None for a response)."""
    if line.startswith("SIP/"):
        m = _STATUS_LINE.fullmatch(line)
        if m is None:
            out.append(Violation(STATUS_LINE, "start line", repr(line)))
            return None
        if (m.group(1), m.group(2)) != ("2", "0"):
            out.append(Violation(SIP_VERSION, "start line", f"SIP/{m.group(1)}.{m.group(2)}"))
        if len(m.group(3)) != 3:
            out.append(Violation(STATUS_CODE, "start line", f"status code {m.group(3)}"))
        return None
    parts = line.split(" ")
    if len(parts) != 3 or not all(parts) or line != line.strip() or "\t" in line:
        out.append(Violation(REQUEST_LINE, "start line", repr(line)))
        parts = line.split()
    if len(parts) < 3:
        return parts[0] if parts else None
    method, uri, version = parts[0], " ".join(parts[1:-1]), parts[-1]
    if not _METHOD.fullmatch(method):
        out.append(Violation(REQUEST_LINE, "start line", f"method {method!r} is not a token"))
    if uri.startswith("<") or " " in uri:
        out.append(Violation(REQUEST_LINE, "start line",
                             f"Request-URI {uri!r} is not a bare URI"))
    elif uri.lower().startswith(("sip:", "sips:")) and "?" in uri.rsplit("@", 1)[-1]:
        out.append(Violation(REQUEST_URI_HEADERS, "start line", uri))
    if version.upper() != "SIP/2.0":
        out.append(Violation(SIP_VERSION, "start line", version))
    return method


def _check_name_addr(name: str, part: str, out: list[Violation]) -> None:
    text = part.strip()
    if "<" in text:
        display, _, rest = text.partition("<")
        addr = rest.split(">", 1)[0]
        if addr != addr.strip() or re.search(r"\s", addr):
            out.append(Violation(ADDR_SPEC_LWS, name, f"<{addr}>"))
        display = display.strip()
        if display and not display.startswith('"') and not re.fullmatch(
                rf"{_TOKEN}(\s+{_TOKEN})*", display):
            out.append(Violation(DISPLAY_NAME, name, repr(display)))
    elif text != "*":
        uri = text.split(";", 1)[0]
        if "?" in uri:
            out.append(Violation(NAME_ADDR_FORM, name, repr(text)))
    for param in _params_outside(text).split(";")[1:]:
        if not param.strip():
            out.append(Violation(EMPTY_PARAM, name, repr(text)))
            break


def _delta_seconds(name: str, text: str, out: list[Violation]) -> None:
    if not _digits(text) or int(text) > 2**32 - 1:
        out.append(Violation(DELTA_SECONDS, name, text))


def _check_header(name: str, value: str, out: list[Violation]) -> None:
    parts, closed = _split_quoted(value)
    if not closed and name in _QUOTING_HEADERS:
        out.append(Violation(QUOTED_STRING, name, f"unterminated quoted string in {value!r}"))
        return
    if name in _NAME_ADDR_HEADERS:
        if name in ("to", "from"):
            parts = [value]  # one name-addr; a comma here is part of a display name or URI
        for part in parts:
            if not part.strip():
                out.append(Violation(EMPTY_VALUE, name, repr(value)))
                continue
            _check_name_addr(name, part, out)
            if name == "contact":
                m = re.search(r";\s*expires\s*=\s*([^;\s]*)", _params_outside(part), re.I)
                if m:
                    _delta_seconds(name, m.group(1), out)
    elif name == "via":
        for part in parts:
            if not part.strip():
                out.append(Violation(EMPTY_VALUE, name, repr(value)))
                continue
            if any(not p.strip() for p in part.split(";")[1:]):
                out.append(Violation(EMPTY_PARAM, name, repr(part.strip())))
    elif name == "content-length":
        if not _digits(value.strip()):
            out.append(Violation(CONTENT_LENGTH, name, value))
    elif name == "max-forwards":
        if not _digits(value.strip()) or int(value) > 255:
            out.append(Violation(MAX_FORWARDS, name, value))
    elif name in ("expires", "min-expires"):
        _delta_seconds(name, value.strip(), out)
    elif name == "retry-after":
        _delta_seconds(name, value.split(";")[0].split("(")[0].strip(), out)
    elif name == "cseq":
        number = value.strip().split(" ")[0]
        if not _digits(number) or int(number) >= 2**31:
            out.append(Violation(CSEQ, name, value))
    elif name == "warning":
        for part in parts:
            code = part.strip().split(" ")[0]
            if not (len(code) == 3 and _digits(code)):
                out.append(Violation(WARN_CODE, name, part.strip()))
    elif name == "date" and not _RFC1123_GMT.fullmatch(value.strip()):
        out.append(Violation(SIP_DATE, name, value))


def violations(data: bytes) -> list[Violation]:
    """Every rule ``data`` (one whole message, as received) breaks; [] when none."""
    head, sep, body = data.partition(b"\r\n\r\n")
    if not sep:
        head, sep, body = data.partition(b"\n\n")
    text = head.decode("utf-8", "replace")
    lines = re.split(r"\r?\n", text)
    out: list[Violation] = []
    method = _check_start_line(lines[0], out)
    headers: list[tuple[str, str]] = []
    for line in lines[1:]:
        if line[:1] in (" ", "\t") and headers:  # §7.3.1 folding
            name, value = headers[-1]
            headers[-1] = (name, f"{value} {line.strip()}")
            continue
        name, colon, value = line.partition(":")
        if not colon:
            out.append(Violation("RFC 3261 §7.3.1 message-header: field-name HCOLON value",
                                 "header", repr(line)))
            continue
        key = name.strip().lower()
        headers.append((_COMPACT.get(key, key), value.strip()))
    seen: dict[str, int] = {}
    for name, value in headers:
        seen[name] = seen.get(name, 0) + 1
        _check_header(name, value, out)
    for name in _SINGLE:
        if seen.get(name, 0) > 1:
            out.append(Violation(SINGLE_VALUE, name, f"{seen[name]} times"))
    if method is not None:
        missing = [n for n in _MANDATORY_REQUEST if n not in seen]
        if missing:
            out.append(Violation(MANDATORY, "headers", f"no {', '.join(missing)}"))
        cseq = next((v for n, v in headers if n == "cseq"), None)
        if cseq is not None and len(cseq.split()) == 2 and cseq.split()[1] != method:
            out.append(Violation(CSEQ_METHOD, "cseq", f"{method} request, CSeq {cseq}"))
    lengths = [v for n, v in headers if n == "content-length"]
    if len(lengths) == 1 and _digits(lengths[0]) and int(lengths[0]) > len(body):
        out.append(Violation(BODY_LENGTH, "content-length",
                             f"Content-Length {lengths[0]}, body {len(body)} bytes"))
    return out


def validate(data: bytes) -> None:
    """Raise :class:`StrictError` (a ParseError) naming the first rule ``data`` breaks."""
    found = violations(data)
    if found:
        raise StrictError(found)
