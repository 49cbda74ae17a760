"""``RegistrarEndpoint``: the registrar core as a ``ports.Receiver`` over any ``ports.Transport``.

Whatever delivers bytes -- the asyncio transports of :mod:`sipfsm.aio`, the simulator's
``SimTransport``, a test double -- hands them to :meth:`RegistrarEndpoint.receive`; the endpoint
parses them, asks the :class:`~sipfsm.registrar.core.Registrar`, and sends each response back
through the same transport where RFC 3261 §18.2.2 and RFC 3581 §4 say (:func:`response_target`:
the core has already stamped ``received`` and ``rport`` into the top Via).

Bytes that do not parse as a message get a best-effort 400 when the headers a response needs can
be found in them, and are dropped otherwise; responses and garbage are never answered.  Nothing
raised while handling one message escapes to the transport.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass

from sipfsm.errors import ParseError, SipfsmError
from sipfsm.message import Headers, Limits, Request, Response, parse
from sipfsm.ports import HostPort, Target, Transport
from sipfsm.registrar.core import Registrar

__all__ = [
    "LogEvent",
    "RegistrarEndpoint",
    "RegistrarLog",
    "bad_request_for",
    "printable",
    "response_target",
]

_log = logging.getLogger("sipfsm.registrar")


@dataclass(frozen=True, slots=True)
class LogEvent:
    """One line of the registrar's log.

    ``direction``: ``in`` (a request), ``out`` (a response), ``none`` (a request that got no
    response: a drop or an ACK), ``bad`` (unparseable bytes), ``error`` (a send or transport
    error)."""

    direction: str
    transport: str
    peer: HostPort
    message: Request | Response | None = None
    note: str = ""

    def summary(self) -> str:
        message = self.message
        if isinstance(message, Request):
            text = f"{message.method} {message.uri}"
            details = _details(message)
        elif isinstance(message, Response):
            text = f"{message.status} {message.reason}"
            details = _details(message)
        else:
            text, details = "", ""
        parts = [part for part in (text, details, self.note) if part]
        return "  ".join(parts)

    def __str__(self) -> str:
        arrow = {"in": "<-", "out": "->"}.get(self.direction, "!!")
        if self.direction == "none":
            arrow = "--"
        return printable(f"{arrow} {self.transport.lower()} {self.peer}  {self.summary()}")


def printable(text: str) -> str:
    """``text`` with every control character (C0, DEL, C1: ESC sequences, CR, LF, ...) and
    backslash escaped as ``\\xNN`` / ``\\\\``: what a peer put in a header cannot move the
    cursor, recolour or forge a line of the log."""
    if text.isprintable() and "\\" not in text:
        return text
    out = []
    for char in text:
        code = ord(char)
        if char == "\\":
            out.append("\\\\")
        elif code < 0x20 or 0x7F <= code < 0xA0 or (not char.isprintable() and char != " "):
            out.append(f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}")
        else:
            out.append(char)
    return "".join(out)


def _details(message: Request | Response) -> str:
    headers = message.headers
    parts: list[str] = []
    to = headers.get("To")
    if to is not None and isinstance(message, Request):
        parts.append(f"To {to}")
    cseq = headers.get("CSeq")
    if cseq is not None:
        parts.append(f"CSeq {cseq}")
    if isinstance(message, Response):
        contacts = headers.get_all("Contact") if "Contact" in headers else []
        if contacts:
            parts.append(f"{len(contacts)} contact{'s' if len(contacts) != 1 else ''}")
        for name in ("Min-Expires", "Retry-After"):
            value = headers.get(name)
            if value is not None:
                parts.append(f"{name} {value}")
        if any("stale=true" in v.lower() for v in headers.get_lines("WWW-Authenticate")):
            parts.append("stale=true")
    elif "Authorization" in headers:
        parts.append("with credentials")
    return "(" + ", ".join(parts) + ")" if parts else ""


RegistrarLog = Callable[[LogEvent], None]


class RegistrarEndpoint:
    """The ``ports.Receiver`` that runs a :class:`Registrar` behind any transport."""

    def __init__(
        self,
        registrar: Registrar,
        *,
        log: RegistrarLog | None = None,
        limits: Limits | None = None,
    ) -> None:
        self.registrar = registrar
        self._log = log
        self._limits = limits or Limits()

    def receive(self, data: bytes, source: HostPort, transport: Transport) -> None:
        try:
            self._receive(data, source, transport)
        except Exception:  # the transport must survive whatever one message does
            _log.exception("registrar failed on a message from %s", source)

    def transport_error(self, target: Target, error: Exception) -> None:
        self._emit(LogEvent("error", target.transport, target.address, note=str(error)))

    # -- internals ------------------------------------------------------------------------------

    def _receive(self, data: bytes, source: HostPort, transport: Transport) -> None:
        if not data.strip(b"\r\n"):
            return  # RFC 5626 keep-alive (CRLF) or an empty datagram
        try:
            message = parse(data, limits=self._limits)
        except ParseError as exc:
            self._emit(LogEvent("bad", transport.name, source, note=f"unparseable: {exc}"))
            response = bad_request_for(data, exc)
            if response is not None:
                # Best effort: the Via was not parsed, so straight back to the source.
                back = Target(transport.name, source.host, source.port)
                self._send(response, source, transport, back)
            return
        if isinstance(message, Response):
            self._emit(LogEvent("bad", transport.name, source, message, "unexpected response"))
            return
        self._emit(LogEvent("in", transport.name, source, message))
        try:
            local: HostPort | None = transport.local_address()
        except Exception:  # an adapter that cannot say: the digest uri check is then strict
            local = None
        responses = self.registrar.handle(message, source, transport.name, local)
        if not responses and self.registrar.dropped_last and transport.reliable:
            # A scenario drop on a stream: lose the connection, not just the request (RFC 3261
            # §18: a reliable transport does not lose messages, so a client never retransmits
            # one; a closed connection it notices and reopens).
            drop = getattr(transport, "drop", None)
            if callable(drop):
                drop(source)
            self._emit(LogEvent("none", transport.name, source, note="dropped: connection closed"))
            return
        if not responses:
            self._emit(LogEvent("none", transport.name, source, note="no response"))
        for response in responses:
            self._send(response, source, transport)

    def _send(
        self,
        response: Response,
        source: HostPort,
        transport: Transport,
        target: Target | None = None,
    ) -> None:
        target = target or response_target(response, source, transport)
        try:
            transport.send(response.to_bytes(), target)
        except SipfsmError as exc:
            self._emit(LogEvent("error", transport.name, source, response, f"send failed: {exc}"))
            return
        self._emit(LogEvent("out", transport.name, source, response))

    def _emit(self, event: LogEvent) -> None:
        if self._log is None:
            return
        try:
            self._log(event)
        except Exception:
            _log.exception("registrar log callback failed")


def response_target(response: Response, source: HostPort, transport: Transport) -> Target:
    """Where a response goes: always back to the source of the request -- over a reliable
    transport the connection it came in on (RFC 3261 §18.2.2), over UDP its source IP and port.

    For UDP that is RFC 3581 §4's symmetric response routing, used whether or not the client
    asked for it with ``rport``: a ``maddr`` or a sent-by port in the Via is never used (RFC
    3261 §18.2.2 would), because neither is verified -- a 269-byte query naming a third
    address would send the registrar's answer there (reflection).  Clients that send from the
    port they listen on, as every current one does, see no difference."""
    return Target(transport.name, source.host, source.port)


_NEEDED = ("Via", "From", "To", "Call-ID", "CSeq")
_COMPACT = {"v": "Via", "f": "From", "t": "To", "i": "Call-ID"}


def bad_request_for(data: bytes, error: ParseError) -> Response | None:
    """A 400 for bytes that do not parse, when they look like a request (not ACK) and carry the
    Via, From, To, Call-ID and CSeq a response must copy (§8.2.6.2); else None (drop)."""
    head = data.split(b"\r\n\r\n", 1)[0].decode("utf-8", "replace")
    lines = head.replace("\r\n", "\n").split("\n")
    start = lines[0].split(" ")
    if len(start) != 3 or start[0].upper() == "ACK" or start[0].upper().startswith("SIP/"):
        return None
    if not start[2].upper().startswith("SIP/"):
        return None
    found: dict[str, list[str]] = {}
    for line in lines[1:]:
        name, colon, value = line.partition(":")
        if not colon or line[:1] in " \t":
            continue
        key = name.strip()
        canonical = _COMPACT.get(key.lower()) or next(
            (n for n in _NEEDED if n.lower() == key.lower()), None
        )
        if canonical is not None and value.strip():
            found.setdefault(canonical, []).append(value.strip())
    if any(name not in found for name in _NEEDED):
        return None
    rows = [(name, value) for name in _NEEDED for value in found[name]]
    # A reason phrase is free text but must stay on one line: keep it plain and short.
    why = "".join(c for c in error.message if c.isalnum() or c in "-_ ,()")[:80].strip()
    reason = f"Bad Request ({why})" if why else "Bad Request"
    try:
        return Response(400, reason, Headers(rows))
    except SipfsmError:
        return None
