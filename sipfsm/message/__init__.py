"""The SIP message layer: parsing, typed header values and serialising (RFC 3261 §7, §19, §20).

One module per concern: :mod:`.uri` (SIP URIs, §19.1.4 comparison), :mod:`.params`,
:mod:`.headers` (names, compact forms, rows), :mod:`.values` (typed header values),
:mod:`.messages` (Request / Response), :mod:`.parser` (datagram parsing), :mod:`.framing`
(stream framing) and :mod:`.limits`.
"""

from sipfsm.message.framing import StreamFramer
from sipfsm.message.headers import Headers, canonical_name, header_key
from sipfsm.message.limits import DEFAULT_LIMITS, Limits
from sipfsm.message.messages import Message, Request, Response
from sipfsm.message.params import Params
from sipfsm.message.parser import parse
from sipfsm.message.uri import AbsoluteUri, SipUri, Uri, parse_uri, uri_equal
from sipfsm.message.values import (
    Contact,
    CSeq,
    NameAddr,
    RetryAfter,
    SentBy,
    Via,
    format_date,
    parse_contact,
    parse_cseq,
    parse_date,
    parse_name_addr,
    parse_retry_after,
    parse_via,
)

__all__ = [
    "DEFAULT_LIMITS",
    "AbsoluteUri",
    "CSeq",
    "Contact",
    "Headers",
    "Limits",
    "Message",
    "NameAddr",
    "Params",
    "Request",
    "Response",
    "RetryAfter",
    "SentBy",
    "SipUri",
    "StreamFramer",
    "Uri",
    "Via",
    "canonical_name",
    "format_date",
    "header_key",
    "parse",
    "parse_contact",
    "parse_cseq",
    "parse_date",
    "parse_name_addr",
    "parse_retry_after",
    "parse_uri",
    "parse_via",
    "uri_equal",
]
