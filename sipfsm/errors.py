"""The small family of errors sipfsm raises.

Modelled on h11: a user can tell *who* broke the rules from the class alone.

* :class:`ParseError` -- bytes or text (from the wire, a header value, a challenge) are malformed.
* :class:`LocalProtocolError` -- the caller asked for something the protocol forbids.
* :class:`RemoteProtocolError` -- the peer broke the protocol.
* :class:`AuthenticationFailed` -- digest authentication cannot succeed.
* :class:`TransportError` -- a transport could not deliver a message (:class:`CertificateError`:
  a TLS peer could not be authenticated).
* :class:`ConfigError` -- configuration or command-line input is unusable.

Every error may name the ``spec/`` record it enforces (``spec_id``).  None of them ever carries a
password or an HA1: callers pass only public values into messages.
"""

from __future__ import annotations


class SipfsmError(Exception):
    """Base class of every error sipfsm raises on purpose."""

    def __init__(self, message: str, *, spec_id: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.spec_id = spec_id

    def __str__(self) -> str:
        if self.spec_id:
            return f"{self.message} [{self.spec_id}]"
        return self.message


class ParseError(SipfsmError, ValueError):
    """Malformed input: names what is wrong and where (``where``: a header name or part,
    ``offset``: a byte offset into the input when known)."""

    def __init__(
        self,
        message: str,
        *,
        where: str | None = None,
        offset: int | None = None,
        spec_id: str | None = None,
    ) -> None:
        super().__init__(message, spec_id=spec_id)
        self.where = where
        self.offset = offset

    def __str__(self) -> str:
        parts = [self.message]
        if self.where is not None:
            parts.append(f"in {self.where}")
        if self.offset is not None:
            parts.append(f"at byte {self.offset}")
        text = " ".join(parts)
        if self.spec_id:
            text += f" [{self.spec_id}]"
        return text


class LocalProtocolError(SipfsmError):
    """The local user asked for something the protocol forbids."""


class RemoteProtocolError(SipfsmError):
    """The remote peer violated the protocol."""


class AuthenticationFailed(SipfsmError):
    """Digest authentication failed: rejected credentials, no usable challenge, bad rspauth."""


class TransportError(SipfsmError):
    """A transport could not send (connection refused, closed, unreachable)."""


class DestinationUnreachable(TransportError):
    """The destination refused the message at once (ICMP port unreachable on UDP, connection
    refused on TCP): RFC 3261 §8.1.3.1 / RFC 3263 §4.3 — try the next target or fail now, never
    wait for Timer F."""


class CertificateError(TransportError):
    """TLS: the peer's certificate is not trusted (chain verification failed) or does not name
    the SIP domain the client meant to reach (RFC 5922 §7).  Retrying cannot help; the CLI exits
    with code 7."""


class ConfigError(SipfsmError, ValueError):
    """Configuration or command-line input is unusable."""
