"""Fast paths for the common shapes of the values a registration client reads.

Each function either returns exactly what the careful parser in :mod:`.values` / :mod:`.uri`
returns for its input, or None -- and then the careful parser runs (and reports any error).  They
accept a strict subset of the grammar: lower-case scheme, no escapes, no IPv6, no whitespace
inside the value, no quoted-pairs, no repeated parameters.  A property check in
``sipfsm/conformance/checks_message_fuzz.py`` holds them to that agreement.
"""

from __future__ import annotations

import re

from sipfsm.message.params import EMPTY_PARAMS, Params, _params_of
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
# The same patterns cut in two: the part up to the URI's '>' (or the Via's first ';'), which
# repeats from message to message (an AOR, a contact, a sent-by), and the header parameters,
# which carry what changes (a tag, a branch, an expires).  The first part's reading is kept.
_ADDR_HEAD_RE = re.compile(f'(?:"([^"\\\\]*)"[ \\t]*|([{_TOKEN} ]*?)[ \\t]*)<{_URI}>')
_VIA_HEAD_RE = re.compile(f"SIP/2\\.0/([{_TOKEN}]+) ({_HOST})(?::([0-9]{{1,5}}))?")
_HEADER_PARAMS_RE = re.compile(_HEADER_PARAMS)

_HEADS_ENTRIES = 512
_HEADS_KEY_MAX = 512
_ADDR_HEADS: dict[str, tuple[SipUri, str | None]] = {}
_VIA_HEADS: dict[str, tuple[str, str, int | None]] = {}


def header_params(text: str) -> Params | None:
    """``*(;name[=value])`` without whitespace, values unquoted or quoted without ``;``: the
    Params, or None (then the careful parser runs, and reports a repeated name)."""
    if not text:
        return EMPTY_PARAMS
    if text.count(";") == 1:  # the usual ;tag=... or ;expires=...
        name, eq, value = text[1:].partition("=")
        if name.isalnum() and name.isascii() and value.isalnum() and value.isascii():
            return _params_of({name.lower(): value})  # a token = a token: nothing to check
        if _HEADER_PARAMS_RE.fullmatch(text) is None:
            return None
        return _params_of({name.lower(): value if eq else None})
    if _HEADER_PARAMS_RE.fullmatch(text) is None:
        return None
    return _params(text, True)  # checked now: split like URI parameters


def _params(text: str, lower: bool) -> Params | None:
    """URI parameters already checked by the URI pattern (non-empty names and values)."""
    if not text:
        return EMPTY_PARAMS
    parts = text[1:].split(";")
    data: dict[str, str | None] = {}
    for part in parts:
        name, eq, value = part.partition("=")
        data[name.lower()] = value if eq else None
    if len(data) != len(parts):
        return None  # a repeated parameter: the careful parser reports it
    return _params_of(data)


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
    gt = text.find(">") + 1
    if not gt:
        return None
    head = text[:gt]
    base = _ADDR_HEADS.get(head)
    if base is None:
        found = _ADDR_HEAD_RE.fullmatch(head)
        if found is None:
            return None
        quoted, words, scheme, user, host, port, uri_params = found.groups()
        if quoted is not None:
            display: str | None = quoted
        else:
            display = " ".join(words.split()) or None
        uri = sip_uri(scheme, user, host, port, uri_params)
        if uri is None:
            return None
        base = (uri, display)
        if len(head) <= _HEADS_KEY_MAX:
            if len(_ADDR_HEADS) >= _HEADS_ENTRIES:
                _ADDR_HEADS.clear()
            _ADDR_HEADS[head] = base
    params = header_params(text[gt:]) if gt < len(text) else EMPTY_PARAMS
    if params is None:
        return None
    return base[0], base[1], params


def via(text: str) -> tuple[str, str, int | None, Params] | None:
    """``SIP/2.0/<transport> <host>[:<port>];params`` in its plain form."""
    semi = text.find(";")
    head = text if semi < 0 else text[:semi]
    base = _VIA_HEADS.get(head)
    if base is None:
        found = _VIA_HEAD_RE.fullmatch(head)
        if found is None:
            return None
        transport, host, port = found.groups()
        port_number = None
        if port is not None:
            port_number = int(port)
            if port_number > 65535:
                return None
        base = (transport.upper(), host, port_number)
        if len(head) <= _HEADS_KEY_MAX:
            if len(_VIA_HEADS) >= _HEADS_ENTRIES:
                _VIA_HEADS.clear()
            _VIA_HEADS[head] = base
    params = EMPTY_PARAMS if semi < 0 else header_params(text[semi:])
    if params is None:
        return None
    return base[0], base[1], base[2], params
