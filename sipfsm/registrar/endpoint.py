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

__all__ = ["LogEvent", "RegistrarEndpoint", "RegistrarLog", "bad_request_for", "response_target"]

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
        return f"{arrow} {self.transport.lower()} {self.peer}  {self.summary()}"


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
    """Where a response goes (RFC 3261 §18.2.2, RFC 3581 §4), from the top Via the core
    stamped with ``received`` / ``rport``:

    * reliable transport: back to the source, i.e. over the connection the request came in on
      (the transport keeps it under the peer's address);
    * a ``maddr``: that address, at the sent-by port (default 5060);
    * ``rport`` (the client asked for symmetric response routing): the source IP and port;
    * otherwise the source IP (the ``received`` address) at the sent-by port (default 5060).
    """
    name = transport.name
    if transport.reliable:
        return Target(name, source.host, source.port)
    try:
        vias = response.vias
    except ParseError:
        vias = []
    if not vias:
        return Target(name, source.host, source.port)
    top = vias[0]
    default_port = 5061 if name.upper() == "TLS" else 5060
    if top.maddr:
        return Target(name, top.maddr, top.port or default_port)
    try:
        rport = top.rport
    except ParseError:
        rport = None
    if rport is not None:
        return Target(name, source.host, rport)
    return Target(name, source.host, top.port or default_port)


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
