"""``StatelessResponder``: a minimal UAS for simulations -- answers each request it receives.

For each request (retransmissions included, as a stateless server would) it sends the responses
of ``statuses`` in order -- at once, or ``delay``, ``2*delay`` ... seconds later -- each built by
the one response builder, :func:`sipfsm.message.responses.build_response` (RFC 3261 §8.2.6.2,
§18.2.1, RFC 3581 §4).  ``handler``
replaces the status list: it gets the request and its source, and returns the responses to send.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from sipfsm.errors import ParseError
from sipfsm.message import Request, Response, parse
from sipfsm.message.responses import build_response
from sipfsm.ports import HostPort, Target, Transport
from sipfsm.sim.clock import Scheduler

__all__ = ["StatelessResponder", "response_to"]

def response_to(
    request: Request,
    status: int,
    *,
    source: HostPort | None = None,
    to_tag: str | None = "sim",
    reason: str | None = None,
    extra: Sequence[tuple[str, str]] = (),
) -> Response:
    """A response to ``request``, built by :func:`sipfsm.message.responses.build_response`
    (§8.2.6.2).  ``source``: where the request came from, stamped into the top Via
    (``received`` per §18.2.1, ``received`` and ``rport`` per RFC 3581 §4); ``to_tag=None``:
    no To tag (a peer breaking §8.2.6.2 on purpose)."""
    return build_response(
        request, status, reason, to_tag="" if to_tag is None else to_tag, headers=extra,
        received=source,
    )


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
