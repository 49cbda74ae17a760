"""Framing SIP messages on a stream transport (RFC 3261 §7.5, §18.3).

On TCP or TLS a message ends where its Content-Length says: the header field is mandatory there.
CRLFs before a start line (RFC 5626 keep-alives among them) are ignored.  Input over the
:class:`Limits` is an error before it is buffered.
"""

from __future__ import annotations

from sipfsm.errors import ParseError
from sipfsm.message import spec_ids
from sipfsm.message.limits import DEFAULT_LIMITS, Limits
from sipfsm.message.messages import Request, Response
from sipfsm.message.parser import Head, parse_head

__all__ = ["StreamFramer"]


class StreamFramer:
    """Turns the bytes of one stream connection into messages.

    :meth:`feed` returns the messages completed by the new data (possibly none).  A framing error
    is fatal for the connection: it is raised by :meth:`feed` -- or, when messages were completed
    before it in the same call, those are returned and the error is raised by the next call.  It
    stays available as :attr:`error`.
    """

    def __init__(self, limits: Limits = DEFAULT_LIMITS) -> None:
        self.limits = limits
        self.error: ParseError | None = None
        self._buffer = bytearray()
        self._head: tuple[int, Head, int] | None = None  # (header section end, head, length)
        self._consumed = 0  # bytes of the stream before the buffer, for error offsets

    @property
    def buffered(self) -> int:
        """Bytes received and not yet part of a complete message."""
        return len(self._buffer)

    def feed(self, data: bytes) -> list[Request | Response]:
        if self.error is not None:
            raise self.error
        self._buffer += data
        out: list[Request | Response] = []
        try:
            while True:
                message = self._next()
                if message is None:
                    break
                out.append(message)
        except ParseError as exc:
            self.error = exc
            self._buffer.clear()
            self._head = None
            if not out:
                raise
        return out

    def _next(self) -> Request | Response | None:
        buffer = self._buffer
        limits = self.limits
        if self._head is None:
            # §7.5: ignore any CRLF appearing before the start-line.
            skip = 0
            size = len(buffer)
            while skip < size and buffer[skip] in (13, 10):
                skip += 1
            if skip:
                del buffer[:skip]
                self._consumed += skip
            if not buffer:
                return None
            end = buffer.find(b"\r\n\r\n")
            if end < 0:
                if len(buffer) > limits.max_message_size:
                    raise ParseError(
                        f"header section exceeds {limits.max_message_size} bytes",
                        offset=self._consumed,
                        spec_id=spec_ids.SIZE_LIMITS,
                    )
                return None
            head = parse_head(bytes(buffer[:end]), limits)
            length = head.content_length()
            if length is None:
                raise ParseError(
                    "Content-Length is mandatory on stream transports",
                    where="Content-Length",
                    offset=self._consumed,
                    spec_id=spec_ids.CONTENT_LENGTH_STREAM,
                )
            if end + 4 + length > limits.max_message_size:
                raise ParseError(
                    f"message of {end + 4 + length} bytes exceeds the limit of "
                    f"{limits.max_message_size}",
                    offset=self._consumed,
                    spec_id=spec_ids.SIZE_LIMITS,
                )
            self._head = (end, head, length)
        end, head, length = self._head
        total = end + 4 + length
        if len(buffer) < total:
            return None
        body = bytes(buffer[end + 4 : total])
        del buffer[:total]
        self._consumed += total
        self._head = None
        return head.message(body)
