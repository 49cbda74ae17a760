"""``StatelessResponder``: a minimal UAS for simulations -- answers each request it receives.

For each request (retransmissions included, as a stateless server would) it sends the responses
of ``statuses`` in order -- at once, or ``delay``, ``2*delay`` ... seconds later -- each built per
RFC 3261 §8.2.6.2 (Via, From, To -- with a tag added to a final response --, Call-ID and CSeq
copied) and with RFC 3581 §4 ``received``/``rport`` filled in on the top Via.  ``handler``
replaces the status list: it gets the request and its source, and returns the responses to send.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from sipfsm.errors import ParseError
from sipfsm.message import Headers, Request, Response, parse
from sipfsm.ports import HostPort, Target, Transport
from sipfsm.sim.clock import Scheduler

__all__ = ["REASONS", "StatelessResponder", "response_to"]

REASONS = {
    100: "Trying",
    180: "Ringing",
    183: "Session Progress",
    200: "OK",
    202: "Accepted",
    302: "Moved Temporarily",
    400: "Bad Request",
    401: "Unauthorized",
    403: "Forbidden",
    404: "Not Found",
    407: "Proxy Authentication Required",
    408: "Request Timeout",
    423: "Interval Too Brief",
    480: "Temporarily Unavailable",
    500: "Server Internal Error",
    503: "Service Unavailable",
    600: "Busy Everywhere",
    603: "Decline",
}

_COPIED = ("From", "Call-ID", "CSeq")


def response_to(
    request: Request,
    status: int,
    *,
    source: HostPort | None = None,
    to_tag: str | None = "sim",
    reason: str | None = None,
    extra: Sequence[tuple[str, str]] = (),
) -> Response:
    """A response to ``request`` (§8.2.6.2).  ``source``: where the request came from, filled
    into the top Via as ``received`` (and ``rport`` when the client asked for it, RFC 3581)."""
    rows: list[tuple[str, str]] = []
    for index, via in enumerate(request.headers.get_all("Via")):
        if index == 0 and source is not None:
            parsed = request.vias[0]
            params: dict[str, str | None] = {"received": source.host}
            if parsed.has_rport:
                params["rport"] = str(source.port)
            via = str(parsed.with_params(**params))
        rows.append(("Via", via))
    for name in _COPIED:
        value = request.headers.get(name)
        if value is not None:
            rows.append((name, value))
    to = request.headers.get("To") or ""
    if to_tag is not None and status >= 200 and request.to.tag is None:
        to = f"{to};tag={to_tag}"
    rows.insert(len(rows) - 2, ("To", to))
    rows.extend(extra)
    return Response(status, reason or REASONS.get(status, "Unknown"), Headers(rows))


def _sender(transport: Transport, data: bytes, target: Target) -> Callable[[], None]:
    return lambda: transport.send(data, target)


class StatelessResponder:
    """A ``ports.Receiver`` answering requests on ``transport`` (bind it: ``endpoint.bind(r)``)."""

    def __init__(
        self,
        scheduler: Scheduler,
        statuses: Sequence[int] = (200,),
        *,
        delay: float = 0.0,
        handler: Callable[[Request, HostPort], Sequence[Response]] | None = None,
    ) -> None:
        self.scheduler = scheduler
        self.statuses = tuple(statuses)
        self.delay = delay
        self.handler = handler
        self.requests: list[Request] = []
        self.errors: list[Exception] = []

    def receive(self, data: bytes, source: HostPort, transport: Transport) -> None:
        try:
            message = parse(data)
        except ParseError as exc:
            self.errors.append(exc)
            return
        if not isinstance(message, Request):
            return
        self.requests.append(message)
        if self.handler is not None:
            responses = list(self.handler(message, source))
        else:
            responses = [response_to(message, s, source=source) for s in self.statuses]
        target = Target(transport.name, source.host, source.port)
        for index, response in enumerate(responses):
            wire = response.to_bytes()
            if self.delay <= 0:
                transport.send(wire, target)
            else:
                send = _sender(transport, wire, target)
                self.scheduler.start("respond", self.delay * (index + 1), send)

    def transport_error(self, target: Target, error: Exception) -> None:
        self.errors.append(error)
