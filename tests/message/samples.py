"""Hand-written messages a registration client meets (RFC 3261 §24 style, real-server shapes):
those of the packaged conformance checks (sipfsm/conformance/message_support.py), re-exported."""

from __future__ import annotations

from sipfsm.conformance.message_support import OK_THREE_CONTACTS, REGISTER, UNAUTHORIZED

__all__ = ["OK_THREE_CONTACTS", "REGISTER", "UNAUTHORIZED"]
