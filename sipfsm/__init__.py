"""sipfsm: the reference SIP registration client.

RFC 3261 §10 registration and the §17.1.2 non-INVITE client transaction as explicit ``transitions``
state machines, Digest authentication per RFC 3261 §22 / RFC 7616 / RFC 8760, a sans-IO core
driven through ports, a deterministic simulator, and a working asyncio client.

The package exports the sans-IO client, as h11 exports its ``Connection`` and events:

* :class:`RegistrationClient` and its configuration (:class:`RegistrationConfig`,
  :class:`ContactSpec`, :class:`RefreshPolicy`, :class:`BackoffPolicy`), built on a
  :class:`TransactionLayer` (:class:`TimerValues`);
* the events it reports to its observer (:data:`RegistrationEvent`: :class:`StateChanged`,
  :class:`Registered`, :class:`Refreshed`, :class:`Unregistered`, :class:`BindingsReported`,
  :class:`ContactMissing`, :class:`Retrying`, :class:`Failed`, :class:`Stopped`,
  :class:`BindingLapsed`, with
  :class:`Binding` and :class:`FailureReason`);
* the ports it is driven through (:class:`Transport`, :class:`Receiver`, :class:`Timers`,
  :class:`TimerHandle`, :class:`Clock`, :class:`Random`, :class:`Resolver`, with
  :class:`Target` and :class:`HostPort`), and :class:`StaticCredentials` for Digest;
* the errors (:class:`SipfsmError` and its family) and the message types.

Adapters live apart: :mod:`sipfsm.aio` (asyncio sockets, timers, DNS; :mod:`sipfsm.app` wires a
client to them), :mod:`sipfsm.sim` (the deterministic simulator) and :mod:`sipfsm.testing` (for
harness authors).
"""

# Before the imports below: modules they load read it.
__version__ = "0.1.0"

from sipfsm.auth import CredentialStore, StaticCredentials
from sipfsm.errors import (
    AuthenticationFailed,
    ConfigError,
    DestinationUnreachable,
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
from sipfsm.ports import (
    Clock,
    HostPort,
    Random,
    Receiver,
    Resolver,
    Target,
    TimerHandle,
    Timers,
    Transport,
)
from sipfsm.registration import (
    BackoffPolicy,
    Binding,
    BindingLapsed,
    BindingsReported,
    ContactMissing,
    ContactSpec,
    Failed,
    FailureReason,
    Refreshed,
    RefreshPolicy,
    Registered,
    RegistrationClient,
    RegistrationConfig,
    RegistrationEvent,
    Retrying,
    StateChanged,
    Stopped,
    Unregistered,
)
from sipfsm.transaction import TimerValues, TransactionLayer

__all__ = [
    "AbsoluteUri",
    "AuthenticationFailed",
    "BackoffPolicy",
    "Binding",
    "BindingLapsed",
    "BindingsReported",
    "CSeq",
    "Clock",
    "ConfigError",
    "Contact",
    "ContactMissing",
    "ContactSpec",
    "CredentialStore",
    "DestinationUnreachable",
    "Failed",
    "FailureReason",
    "Headers",
    "HostPort",
    "Limits",
    "LocalProtocolError",
    "NameAddr",
    "Params",
    "ParseError",
    "Random",
    "Receiver",
    "RefreshPolicy",
    "Refreshed",
    "Registered",
    "RegistrationClient",
    "RegistrationConfig",
    "RegistrationEvent",
    "RemoteProtocolError",
    "Request",
    "Resolver",
    "Response",
    "RetryAfter",
    "Retrying",
    "SipUri",
    "SipfsmError",
    "StateChanged",
    "StaticCredentials",
    "Stopped",
    "StreamFramer",
    "Target",
    "TimerHandle",
    "TimerValues",
    "Timers",
    "TransactionLayer",
    "Transport",
    "TransportError",
    "Unregistered",
    "Uri",
    "Via",
    "__version__",
    "parse",
    "parse_uri",
    "uri_equal",
]
