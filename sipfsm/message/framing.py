"""Framing SIP messages on a stream transport (RFC 3261 §7.5, §18.3): sipfsm's one framer.

On TCP or TLS a message ends where its Content-Length says: the header field is mandatory there.
CRLFs before a start line (RFC 5626 keep-alives among them) are ignored.  Input over the size
limits is an error before it is buffered.

:class:`ByteStreamFramer` does the framing and returns each message's bytes as they arrived (what
a transport hands its receiver); :class:`StreamFramer` parses each frame into a message.  The
transports' :class:`sipfsm.aio.RawStreamFramer` is the byte framer reporting under the
transport's spec records.
"""

from __future__ import annotations

from typing import ClassVar, NoReturn

from sipfsm.errors import ParseError, RemoteProtocolError
from sipfsm.message import spec_ids
from sipfsm.message.limits import DEFAULT_LIMITS, Limits
from sipfsm.message.messages import Request, Response
from sipfsm.message.parser import parse

__all__ = ["ByteStreamFramer", "FramingError", "StreamFramer"]

_HEADER_END = b"\r\n\r\n"
_CONTENT_LENGTH_NAMES = (b"content-length", b"l")  # §7.3.3: "l" is the compact form


class FramingError(ParseError, RemoteProtocolError):
    """The stream cannot be split into messages: the connection has to be dropped."""


class ByteStreamFramer:
    """Feed the bytes of one connection as they arrive; get back each complete message's bytes.

    ``max_head_size`` bounds the header section (start line and headers) a peer may send before
    the empty line (default: ``limits.max_message_size``); ``limits.max_message_size`` bounds the
    whole message, checked as soon as Content-Length announces it.  A :class:`FramingError` is
    fatal for the connection; :meth:`feed` raises it at once."""

    content_length_spec: ClassVar[str] = spec_ids.CONTENT_LENGTH_STREAM
    size_spec: ClassVar[str] = spec_ids.SIZE_LIMITS

    def __init__(
        self, limits: Limits = DEFAULT_LIMITS, *, max_head_size: int | None = None
    ) -> None:
        self.limits = limits
        self.max_head_size = (
            limits.max_message_size if max_head_size is None
            else min(max_head_size, limits.max_message_size)
        )  # fmt: skip
        if self.max_head_size <= 0:
            raise ValueError(f"max_head_size must be positive, not {max_head_size!r}")
        self._buffer = bytearray()
        self._total: int | None = None  # length of the message whose head has been read
        self.consumed = 0  # bytes of the stream before the buffer, for error offsets

    @property
    def buffered(self) -> int:
        """Bytes received and not yet part of a complete message."""
        return len(self._buffer)

    def feed(self, data: bytes) -> list[bytes]:
        self.append(data)
        frames: list[bytes] = []
        while (frame := self.next_frame()) is not None:
            frames.append(frame)
        return frames

    def append(self, data: bytes) -> None:
        self._buffer += data

    def next_frame(self) -> bytes | None:
        """The next complete message's bytes, or None until more data arrives."""
        buffer = self._buffer
        if self._total is None:
            # §7.5: ignore any CRLF appearing before the start-line.
            skip = 0
            size = len(buffer)
            while skip < size and buffer[skip] in (13, 10):
                skip += 1
            if skip:
                del buffer[:skip]
                self.consumed += skip
            if not buffer:
                return None
            end = buffer.find(_HEADER_END)
            if (end < 0 and len(buffer) > self.max_head_size) or end > self.max_head_size:
                self._fail(f"header section exceeds {self.max_head_size} bytes", self.size_spec)
            if end < 0:
                return None
            total = end + len(_HEADER_END) + self._content_length(bytes(buffer[:end]))
            if total > self.limits.max_message_size:
                self._fail(
                    f"message of {total} bytes exceeds the limit of "
                    f"{self.limits.max_message_size}",
                    self.size_spec,
                )
            self._total = total
        total = self._total
        if len(buffer) < total:
            return None
        frame = bytes(buffer[:total])
        del buffer[:total]
        self.consumed += total
        self._total = None
        return frame

    def clear(self) -> None:
        """Forget whatever is buffered (the connection is being given up)."""
        self._buffer.clear()
        self._total = None

    def _fail(self, message: str, spec_id: str, where: str | None = None) -> NoReturn:
        offset = self.consumed
        self.clear()
        raise FramingError(message, where=where, offset=offset, spec_id=spec_id)

    def _content_length(self, head: bytes) -> int:
        # §18.3: the one framing rule; the rest of the head is the parser's business.
        values: set[int] = set()
        if b"\r\n " in head or b"\r\n\t" in head:
            # §7.3.1: a continuation line (folding) belongs to the field above -- the value of
            # a folded "Content-Length:\r\n 12" is 12.
            head = head.replace(b"\r\n ", b" ").replace(b"\r\n\t", b" ")
        for line in head.split(b"\r\n")[1:]:
            name, colon, value = line.partition(b":")
            if not colon:
                continue
            if name.strip().lower() in _CONTENT_LENGTH_NAMES:
                text = value.strip()
                if not text.isdigit() or len(text) > 10:
                    self._fail(f"invalid Content-Length {text[:20]!r}", self.content_length_spec,
                               "Content-Length")  # fmt: skip
                values.add(int(text))
        if not values:
            self._fail("Content-Length is mandatory on stream transports",
                       self.content_length_spec, "Content-Length")  # fmt: skip
        if len(values) > 1:
            self._fail(f"conflicting Content-Length values {sorted(values)}",
                       self.content_length_spec, "Content-Length")  # fmt: skip
        return values.pop()


class StreamFramer:
    """Turns the bytes of one stream connection into messages.

    :meth:`feed` returns the messages completed by the new data (possibly none).  A framing or
    parse error is fatal for the connection: it is raised by :meth:`feed` -- or, when messages
    were completed before it in the same call, those are returned and the error is raised by the
    next call.  It stays available as :attr:`error`.
    """

    def __init__(self, limits: Limits = DEFAULT_LIMITS) -> None:
        self.limits = limits
        self.error: ParseError | None = None
        self._frames = ByteStreamFramer(limits)

    @property
    def buffered(self) -> int:
        """Bytes received and not yet part of a complete message."""
        return self._frames.buffered

    def feed(self, data: bytes) -> list[Request | Response]:
        if self.error is not None:
            raise self.error
        frames = self._frames
        frames.append(data)
        out: list[Request | Response] = []
        try:
            while (frame := frames.next_frame()) is not None:
                try:
                    out.append(parse(frame, limits=self.limits))
                except ParseError as exc:
                    if exc.offset is not None:  # from the frame's start to the stream's
                        exc.offset += frames.consumed - len(frame)
                    raise
        except ParseError as exc:
            self.error = exc
            frames.clear()
            if not out:
                raise
        return out
