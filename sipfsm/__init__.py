"""sipfsm: the reference SIP registration client.

RFC 3261 §10 registration and the §17.1.2 non-INVITE client transaction as explicit ``transitions``
state machines, Digest authentication per RFC 3261 §22 / RFC 7616 / RFC 8760, a sans-IO core
driven through ports, a deterministic simulator, and a working asyncio client.
"""

from sipfsm.errors import (
    AuthenticationFailed,
    ConfigError,
    LocalProtocolError,
    ParseError,
    RemoteProtocolError,
    SipfsmError,
    TransportError,
)

__version__ = "0.1.0"

__all__ = [
    "AuthenticationFailed",
    "ConfigError",
    "LocalProtocolError",
    "ParseError",
    "RemoteProtocolError",
    "SipfsmError",
    "TransportError",
    "__version__",
]
