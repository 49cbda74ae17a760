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
from sipfsm.message import (
    AbsoluteUri,
    Contact,
    CSeq,
    Headers,
    Limits,
    NameAddr,
    Params,
    Request,
    Response,
    RetryAfter,
    SipUri,
    StreamFramer,
    Uri,
    Via,
    parse,
    parse_uri,
    uri_equal,
)

__version__ = "0.1.0"

__all__ = [
    "AbsoluteUri",
    "AuthenticationFailed",
    "CSeq",
    "ConfigError",
    "Contact",
    "Headers",
    "Limits",
    "LocalProtocolError",
    "NameAddr",
    "Params",
    "ParseError",
    "RemoteProtocolError",
    "Request",
    "Response",
    "RetryAfter",
    "SipUri",
    "SipfsmError",
    "StreamFramer",
    "TransportError",
    "Uri",
    "Via",
    "__version__",
    "parse",
    "parse_uri",
    "uri_equal",
]
