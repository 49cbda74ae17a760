"""RawStreamFramer: size limits and lenient cases.  The RFC 3261 §7.5 / §18.3 framing
requirement checks are in sipfsm/conformance/checks_transport.py."""

from __future__ import annotations

import pytest

from sipfsm.aio import FramingError, RawStreamFramer

from .support import ok


def test_repeated_equal_content_length_is_accepted() -> None:
    message = b"SIP/2.0 200 OK\r\nContent-Length: 2\r\nl: 2\r\n\r\nab"
    assert RawStreamFramer().feed(message) == [message]


def test_size_limits() -> None:
    with pytest.raises(FramingError):
        RawStreamFramer(max_message_size=100).feed(b"X" * 101)
    big = ok(body=b"x" * 200)
    head = big[: big.index(b"\r\n\r\n") + 4]
    with pytest.raises(FramingError):  # known too big from the head alone
        RawStreamFramer(max_message_size=len(big) - 1).feed(head)
    assert RawStreamFramer(max_message_size=len(big)).feed(big) == [big]
