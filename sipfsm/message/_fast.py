"""Fast paths for the common shapes of the values a registration client reads.

Each function either returns exactly what the careful parser in :mod:`.values` / :mod:`.uri`
returns for its input, or None -- and then the careful parser runs (and reports any error).  They
accept a strict subset of the grammar: lower-case scheme, no escapes, no IPv6, no whitespace
inside the value, no quoted-pairs, no repeated parameters.  ``tests/message/test_fast.py`` checks
the agreement as a property.
"""

from __future__ import annotations

import re

from sipfsm.message._syntax import valid_host
from sipfsm.message.params import EMPTY_PARAMS, Params
from sipfsm.message.uri import SipUri

_TOKEN = "A-Za-z0-9\\-.!%*_+`'~"
_UNRESERVED = "A-Za-z0-9\\-_.!~*'()"
_USER = _UNRESERVED + "&=+$,;?/"
_PARAMCHAR = _UNRESERVED + "\\[\\]/:&+$"
_LABEL = "[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?"
_HOST = f"(?:{_LABEL}\\.)*{_LABEL}"
_URI = (
    f"(sips?):(?:([{_USER}]+)@)?({_HOST})(?::([0-9]{{1,5}}))?"
    f"((?:;[{_PARAMCHAR}]+(?:=[{_PARAMCHAR}]+)?)*)"
)
# Header parameters without whitespace; quoted values without ; \ (so splitting at ; is safe).
_HEADER_PARAMS = f'((?:;[{_TOKEN}]+(?:=(?:[{_TOKEN}\\[\\]:]+|"[^"\\\\;]*"))?)*)'

NAME_ADDR_RE = re.compile(
    f'(?:"([^"\\\\]*)"[ \\t]*|([{_TOKEN} ]*?)[ \\t]*)<{_URI}>{_HEADER_PARAMS}'
)
VIA_RE = re.compile(f"SIP/2\\.0/([{_TOKEN}]+) ({_HOST})(?::([0-9]{{1,5}}))?{_HEADER_PARAMS}")


def _host_ok(host: str) -> bool:
    # The pattern checked the labels; an all-numeric last label must be a valid IPv4 address.
    return not host.rpartition(".")[2][:1].isdigit() or valid_host(host)


def _params(text: str, lower: bool) -> Params | None:
    if not text:
        return EMPTY_PARAMS
    items = text[1:].split(";")
    data: dict[str, str | None] = {}
    for item in items:
        name, eq, value = item.partition("=")
        data[name.lower() if lower else name] = value if eq else None
    if len(data) != len(items):
        return None  # a repeated parameter: the careful parser reports it
    return Params._trusted(data)


def sip_uri(scheme: str, user: str | None, host: str, port: str | None, params: str) -> SipUri | None:
    if not _host_ok(host):
        return None
    port_number = None
    if port is not None:
        port_number = int(port)
        if port_number > 65535:
            return None
    uri_params = _params(params, True)
    if uri_params is None:
        return None
    return SipUri(scheme, host, user, None, port_number, uri_params, ())


def name_addr(text: str) -> tuple[SipUri, str | None, Params] | None:
    """``[display-name] <sip-uri>;params`` in its plain form."""
    found = NAME_ADDR_RE.fullmatch(text)
    if found is None:
        return None
    quoted, words, scheme, user, host, port, uri_params, header_params = found.groups()
    if quoted is not None:
        display: str | None = quoted
    else:
        display = " ".join(words.split()) or None
    uri = sip_uri(scheme, user, host, port, uri_params)
    if uri is None:
        return None
    params = _params(header_params, True)
    if params is None:
        return None
    return uri, display, params


def via(text: str) -> tuple[str, str, int | None, Params] | None:
    """``SIP/2.0/<transport> <host>[:<port>];params`` in its plain form."""
    found = VIA_RE.fullmatch(text)
    if found is None:
        return None
    transport, host, port, header_params = found.groups()
    if not _host_ok(host):
        return None
    port_number = None
    if port is not None:
        port_number = int(port)
        if port_number > 65535:
            return None
    params = _params(header_params, True)
    if params is None:
        return None
    return transport.upper(), host, port_number, params
