"""Helpers shared by the message-layer tests: those of the packaged conformance checks
(sipfsm/conformance/message_support.py), re-exported."""

from __future__ import annotations

from sipfsm.conformance.message_support import TYPED, crlf, read_everything

__all__ = ["TYPED", "crlf", "read_everything"]
