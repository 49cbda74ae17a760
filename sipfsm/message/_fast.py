"""Fast paths for the common shapes of the values a registration client reads.

Each function either returns exactly what the careful parser in :mod:`.values` / :mod:`.uri`
returns for its input, or None -- and then the careful parser runs (and reports any error).  They
accept a strict subset of the grammar: lower-case scheme, no escapes, no IPv6, no whitespace
inside the value, no quoted-pairs, no repeated parameters.  A property check in
``sipfsm/conformance/checks_message_fuzz.py`` holds them to that agreement.
"""

from __future__ import annotations

import re

from sipfsm.message.params import EMPTY_PARAMS, Params
from sipfsm.message.uri import SipUri

_TOKEN = "A-Za-z0-9\\-.!%*_+`'~"
_UNRESERVED = "A-Za-z0-9\\-_.!~*'()"
_USER = _UNRESERVED + "&=+$,;?/"
_PARAMCHAR = _UNRESERVED + "\\[\\]/:&+$"
_LABEL = "[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?"
_OCTET = "(?:25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])"
# An IPv4 address, or a hostname whose toplabel starts with a letter (§25): nothing to check after.
_IPV4 = f"{_OCTET}\\.{_OCTET}\\.{_OCTET}\\.{_OCTET}"
_HOST = f"(?:{_IPV4}|(?:{_LABEL}\\.)*[A-Za-z](?:[A-Za-z0-9-]*[A-Za-z0-9])?)"
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


# The patterns above have already checked the parameters' shape (no ';' inside a value, a
# non-empty value after '='), so names and values are cut by two scans in C, not a Python loop.
_PARAM_NAMES_RE = re.compile(r";([^;=]*)")
_PARAM_VALUES_RE = re.compile(r";[^;=]*=?([^;]*)")


def _params(text: str, lower: bool) -> Params | None:
    if not text:
        return EMPTY_PARAMS
    names = _PARAM_NAMES_RE.findall(text.lower())
    values = _PARAM_VALUES_RE.findall(text)
    data: dict[str, str | None] = dict(zip(names, values, strict=True))
    if len(data) != len(names):
        return None  # a repeated parameter: the careful parser reports it
    if "" in values:  # flag parameters (;lr, ;rport) have no value
        for name, value in data.items():
            if not value:
                data[name] = None
    return Params._trusted(data)


# The values the patterns accept are already normalised (scheme lower-case, Params built), so
# they are built without the dataclasses' __init__/__post_init__: setting the slots directly
# costs half as much, and parsing is where a registration client spends its time.
_new = object.__new__
(
    _SET_SCHEME,
    _SET_HOST,
    _SET_USER,
    _SET_PASSWORD,
    _SET_PORT,
    _SET_PARAMS,
    _SET_HEADERS,
    _SET_TEXT,
) = (
    SipUri.__dict__[name].__set__
    for name in ("scheme", "host", "user", "password", "port", "params", "headers", "_text")
)


def sip_uri(
    scheme: str, user: str | None, host: str, port: str | None, params: str
) -> SipUri | None:
    port_number = None
    if port is not None:
        port_number = int(port)
        if port_number > 65535:
            return None
    uri_params = _params(params, True)
    if uri_params is None:
        return None
    uri: SipUri = _new(SipUri)
    _SET_SCHEME(uri, scheme)
    _SET_HOST(uri, host)
    _SET_USER(uri, user)
    _SET_PASSWORD(uri, None)
    _SET_PORT(uri, port_number)
    _SET_PARAMS(uri, uri_params)
    _SET_HEADERS(uri, ())
    # str(uri) is the text as written when formatting would give the same characters back: no
    # port with leading zeros, no parameter name with an upper-case letter.
    if (port is None or port[0] != "0" or port == "0") and (not params or params.islower()):
        _SET_TEXT(uri, _format_as_written(scheme, user, host, port, params))
    else:
        _SET_TEXT(uri, None)
    return uri


def _format_as_written(
    scheme: str, user: str | None, host: str, port: str | None, params: str
) -> str:
    text = f"{scheme}:{user}@{host}" if user is not None else f"{scheme}:{host}"
    if port is not None:
        text += ":" + port
    return text + params if params else text


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
    port_number = None
    if port is not None:
        port_number = int(port)
        if port_number > 65535:
            return None
    params = _params(header_params, True)
    if params is None:
        return None
    return transport.upper(), host, port_number, params
