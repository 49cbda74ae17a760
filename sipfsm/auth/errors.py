"""The parse errors of the Digest layer.

Both are :class:`sipfsm.errors.ParseError` (so a ``ValueError``): the text of a challenge, of
credentials or of an ``Authentication-Info`` value is malformed.  Neither ever carries a password or
an HA1: messages quote only the offending header text, which is public.
"""

from __future__ import annotations

from sipfsm.errors import ParseError

__all__ = ["ChallengeError", "CredentialsError"]


class ChallengeError(ParseError):
    """A ``WWW-Authenticate`` / ``Proxy-Authenticate`` (or ``Authentication-Info``) value is
    malformed, or a single challenge handed to :func:`sipfsm.auth.build_authorization` cannot be
    answered."""


class CredentialsError(ParseError):
    """An ``Authorization`` / ``Proxy-Authorization`` value is malformed (server side)."""
