"""Building a response to a request: the one place sipfsm does it (RFC 3261 §8.2.6, §18.2.1,
RFC 3581 §4).

The registrar, the simulator's responder and the conformance harness all answer through
:func:`build_response`, so they share one set of rules:

=================  ============================================================================
Via                every value copied in order (§8.2.6.2); with ``received=`` (where the
                   request came from) the top one is stamped: ``rport=<source port>`` and
                   ``received=<source IP>`` when it carries an ``rport`` parameter (RFC 3581 §4:
                   received even when equal to the sent-by), else ``received=<source IP>`` only
                   when the sent-by host is a name or another IP (§18.2.1)
From, Call-ID,     copied as they are (§8.2.6.2); a header missing from the request is not
CSeq               invented
To                 copied; a To without a tag gains ``;tag=`` on every response except 100
                   Trying (§8.2.6.2: "with the exception of the 100 (Trying) response, in which a
                   tag MAY be present" -- sipfsm puts none there)
Timestamp          copied into a 100 Trying (§8.2.6.1)
reason phrase      ``REASON_PHRASES`` (the phrases of RFC 3261 §21) unless one is given
=================  ============================================================================

The To tag: ``to_tag`` when given; ``None`` derives one from the request (a hash of the top Via
branch, From tag, Call-ID and CSeq) so that every response to one request carries the same tag
(§8.2.6.2 "The same tag MUST be used for all responses to that request") without a random
source; ``""`` adds none -- only a test peer that breaks §8.2.6.2 on purpose wants that.
"""

from __future__ import annotations

import contextlib
import hashlib
import ipaddress
from collections.abc import Iterable

from sipfsm.errors import ParseError
from sipfsm.message.headers import Headers
from sipfsm.message.messages import Request, Response
from sipfsm.message.values import Via
from sipfsm.ports import HostPort

__all__ = ["REASON_PHRASES", "build_response", "reason_phrase", "response_via"]

# RFC 3261 §21 (and 202 Accepted, RFC 6665 §8.3.1; 439, RFC 5626 §11.5): the status codes and
# their reason phrases.
REASON_PHRASES: dict[int, str] = {
    100: "Trying",
    180: "Ringing",
    181: "Call Is Being Forwarded",
    182: "Queued",
    183: "Session Progress",
    200: "OK",
    202: "Accepted",
    300: "Multiple Choices",
    301: "Moved Permanently",
    302: "Moved Temporarily",
    305: "Use Proxy",
    380: "Alternative Service",
    400: "Bad Request",
    401: "Unauthorized",
    402: "Payment Required",
    403: "Forbidden",
    404: "Not Found",
    405: "Method Not Allowed",
    406: "Not Acceptable",
    407: "Proxy Authentication Required",
    408: "Request Timeout",
    410: "Gone",
    413: "Request Entity Too Large",
    414: "Request-URI Too Long",
    415: "Unsupported Media Type",
    416: "Unsupported URI Scheme",
    420: "Bad Extension",
    421: "Extension Required",
    423: "Interval Too Brief",
    439: "First Hop Lacks Outbound Support",
    480: "Temporarily Unavailable",
    481: "Call/Transaction Does Not Exist",
    482: "Loop Detected",
    483: "Too Many Hops",
    484: "Address Incomplete",
    485: "Ambiguous",
    486: "Busy Here",
    487: "Request Terminated",
    488: "Not Acceptable Here",
    491: "Request Pending",
    493: "Undecipherable",
    500: "Server Internal Error",
    501: "Not Implemented",
    502: "Bad Gateway",
    503: "Service Unavailable",
    504: "Server Time-out",
    505: "Version Not Supported",
    513: "Message Too Large",
    600: "Busy Everywhere",
    603: "Decline",
    604: "Does Not Exist Anywhere",
    606: "Not Acceptable",
}

_COPIED_AFTER_VIA = ("From", "To", "Call-ID", "CSeq")
_MAX_REASON = 200


def reason_phrase(status: int) -> str:
    """The RFC 3261 §21 phrase of ``status``; for a code it does not list, the class's x00
    phrase (§21: an unknown code is treated as x00), else ``"Unknown"``."""
    phrase = REASON_PHRASES.get(status)
    if phrase is None:
        phrase = REASON_PHRASES.get(status - status % 100, "Unknown")
    return phrase


def _same_address(sent_by_host: str, source_host: str) -> bool:
    try:
        return ipaddress.ip_address(sent_by_host) == ipaddress.ip_address(source_host)
    except ValueError:
        return False  # a domain name in sent-by: §18.2.1 adds received


def response_via(top: Via, received: HostPort) -> Via:
    """The request's top Via as the response carries it, for a request from ``received``.

    RFC 3581 §4: an ``rport`` parameter without a value gets the source port and ``received``
    the source IP,
    even when that IP equals the sent-by.  RFC 3261 §18.2.1: otherwise ``received`` is added
    exactly when the sent-by host is a domain name or an IP other than the source."""
    if top.has_rport and top.params.get("rport") is None:
        return top.with_params(rport=str(received.port), received=received.host)
    if not _same_address(top.host, received.host):
        return top.with_params(received=received.host)
    return top


def _derived_tag(request: Request) -> str:
    headers = request.headers
    vias = headers.get_all("Via")
    seed = "\n".join(
        (vias[0] if vias else "", headers.get("From") or "", headers.get("Call-ID") or "",
         headers.get("CSeq") or "")
    )  # fmt: skip
    return hashlib.sha256(seed.encode("utf-8", "surrogateescape")).hexdigest()[:16]


def _has_to_tag(request: Request, raw: str) -> bool:
    try:
        return request.to.tag is not None
    except ParseError:
        return ";tag=" in raw.lower()


def build_response(
    request: Request,
    status: int,
    reason: str | None = None,
    *,
    to_tag: str | None = None,
    headers: Iterable[tuple[str, str]] = (),
    received: HostPort | None = None,
    body: bytes = b"",
) -> Response:
    """A ``status`` response to ``request`` per RFC 3261 §8.2.6 (see the module's table).

    ``reason``: the reason phrase (default :func:`reason_phrase`; control characters become
    spaces, at most 200 characters); ``to_tag``: the UAS's tag
    (``None``: derived from the request, ``""``: none); ``headers``: rows appended after the
    copied ones, in order; ``received``: the address the request came from, to stamp the top Via
    (§18.2.1, RFC 3581 §4) -- ``None`` copies it unchanged (the request was not received from
    the network, or the caller stamps it itself)."""
    if not 100 <= status <= 699:
        raise ValueError(f"status {status} is not a SIP status code (100-699)")
    source = request.headers
    rows: list[tuple[str, str]] = []
    vias = source.get_all("Via")
    for index, value in enumerate(vias):
        if index == 0 and received is not None:
            with contextlib.suppress(ParseError):  # an unparseable top Via is copied as it came
                value = str(response_via(request.vias[0], received))
        rows.append(("Via", value))
    for name in _COPIED_AFTER_VIA:
        copied = source.get(name)
        if copied is None:
            continue
        if name == "To" and status != 100 and not _has_to_tag(request, copied):
            tag = _derived_tag(request) if to_tag is None else to_tag
            if tag:
                copied = f"{copied};tag={tag}"
        rows.append((name, copied))
    if status == 100:
        rows.extend(("Timestamp", value) for value in source.get_lines("Timestamp"))
    rows.extend(headers)
    phrase = reason_phrase(status) if reason is None else _one_line(reason)
    return Response(status, phrase or reason_phrase(status), Headers(rows), body)


def _one_line(reason: str) -> str:
    # §25: a Reason-Phrase holds no CR, LF or other control character; a phrase made from
    # what a peer sent (a parse error's text) must not break the status line.
    cleaned = "".join(" " if ord(c) < 0x20 or ord(c) == 0x7F else c for c in reason)
    return " ".join(cleaned.split())[:_MAX_REASON]
