"""Helpers shared by the message-layer tests."""

from __future__ import annotations

from sipfsm.message import Request, Response

# Every typed property of a message: reading them all exercises every header parser.
TYPED = (
    "vias", "from_", "to", "call_id", "cseq", "max_forwards", "contacts", "contact_star",
    "expires", "min_expires", "date", "retry_after", "routes", "record_routes", "paths",
    "service_routes", "supported", "require", "unsupported", "www_authenticate",
    "proxy_authenticate", "authorization", "proxy_authorization", "authentication_info",
    "content_length",
)  # fmt: skip


def read_everything(message: Request | Response) -> None:
    """Read every typed property and the parameters derived from them."""
    for name in TYPED:
        getattr(message, name)
    for via in message.vias:
        _ = via.rport, via.branch, via.sent_by
    for contact in message.contacts:
        _ = contact.expires, contact.q


def crlf(text: str) -> bytes:
    """A message written with \\n line ends in a test, sent with CRLF."""
    return text.replace("\n", "\r\n").encode("utf-8")
