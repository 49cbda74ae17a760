"""The transports' stream framer: the message layer's one framer
(:class:`sipfsm.message.framing.ByteStreamFramer`), handing the receiver each message's *bytes*
exactly as they arrived and reporting under the transport's spec records.

RFC 3261 §7.5: CRLFs before a start-line are ignored (this also swallows RFC 5626 keep-alive
CRLFs); RFC 3261 §18.3: on a stream the Content-Length header locates the end of each message,
so a message without one cannot be framed and is a :class:`FramingError`, as is a message
larger than ``max_message_size`` or a header section larger than ``max_head_size``.
"""

from __future__ import annotations

from sipfsm.message.framing import ByteStreamFramer, FramingError
from sipfsm.message.limits import Limits

__all__ = ["FramingError", "RawStreamFramer"]

SPEC_CONTENT_LENGTH = "RFC3261-18.3-STREAM-CONTENT-LENGTH-AIO"
SPEC_LEADING_CRLF = "RFC3261-7.5-LEADING-CRLF-AIO"


class RawStreamFramer(ByteStreamFramer):
    """:class:`ByteStreamFramer` with a plain size bound, as the transports configure it."""

    content_length_spec = SPEC_CONTENT_LENGTH
    size_spec = SPEC_CONTENT_LENGTH

    def __init__(self, max_message_size: int = 65535, *, max_head_size: int | None = None) -> None:
        super().__init__(Limits(max_message_size=max_message_size), max_head_size=max_head_size)
