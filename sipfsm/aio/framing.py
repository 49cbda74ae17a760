"""Framing SIP messages on a byte stream (TCP) into raw messages.

The message layer's ``StreamFramer`` returns *parsed* messages; a transport hands the receiver
*bytes*, exactly as they arrived, so the transports frame with this small byte-level framer and
leave parsing to the receiver.
"""

from __future__ import annotations

from sipfsm.errors import RemoteProtocolError

__all__ = ["FramingError", "RawStreamFramer"]

SPEC_CONTENT_LENGTH = "RFC3261-18.3-STREAM-CONTENT-LENGTH-AIO"
SPEC_LEADING_CRLF = "RFC3261-7.5-LEADING-CRLF-AIO"

_HEADER_END = b"\r\n\r\n"
_CONTENT_LENGTH_NAMES = (b"content-length", b"l")


class FramingError(RemoteProtocolError):
    """The stream cannot be split into messages (the connection has to be dropped)."""


class RawStreamFramer:
    """Feed bytes as they arrive; get back each complete message's bytes.

    RFC 3261 §7.5: CRLFs before a start-line are ignored (this also swallows RFC 5626 keep-alive
    CRLFs); RFC 3261 §18.3: on a stream the Content-Length header locates the end of each message,
    so a message without one cannot be framed and is a :class:`FramingError`, as is a message
    larger than ``max_message_size``."""

    def __init__(self, max_message_size: int = 65535) -> None:
        self.max_message_size = max_message_size
        self._buffer = bytearray()

    @property
    def buffered(self) -> int:
        return len(self._buffer)

    def feed(self, data: bytes) -> list[bytes]:
        self._buffer += data
        frames: list[bytes] = []
        while True:
            start = 0
            while start < len(self._buffer) and self._buffer[start] in b"\r\n":
                start += 1
            if start:
                del self._buffer[:start]
            end = self._buffer.find(_HEADER_END)
            if end < 0:
                if len(self._buffer) > self.max_message_size:
                    raise FramingError(
                        f"no end of headers within {self.max_message_size} bytes",
                        spec_id=SPEC_CONTENT_LENGTH,
                    )
                return frames
            body_length = _content_length(bytes(self._buffer[:end]))
            total = end + len(_HEADER_END) + body_length
            if total > self.max_message_size:
                raise FramingError(
                    f"message of {total} bytes exceeds {self.max_message_size}",
                    spec_id=SPEC_CONTENT_LENGTH,
                )
            if len(self._buffer) < total:
                return frames
            frames.append(bytes(self._buffer[:total]))
            del self._buffer[:total]


def _content_length(head: bytes) -> int:
    values: set[int] = set()
    for line in head.split(b"\r\n")[1:]:
        name, colon, value = line.partition(b":")
        if not colon or line[:1] in b" \t":
            continue
        if name.strip().lower() in _CONTENT_LENGTH_NAMES:
            text = value.strip()
            if not text.isdigit():
                raise FramingError(f"bad Content-Length {text!r}", spec_id=SPEC_CONTENT_LENGTH)
            values.add(int(text))
    if not values:
        raise FramingError(
            "message on a stream transport without Content-Length", spec_id=SPEC_CONTENT_LENGTH
        )
    if len(values) > 1:
        raise FramingError(
            f"conflicting Content-Length values {sorted(values)}", spec_id=SPEC_CONTENT_LENGTH
        )
    return values.pop()
