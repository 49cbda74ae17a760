"""Character classes and small scanners of the RFC 3261 §25 grammar, shared by the parsers.

Everything here works on ``str`` that has already been unfolded (no CR or LF left): a folded line
and its leading whitespace become a single SP before any value is interpreted (§7.3.1).
"""

from __future__ import annotations

import re

from sipfsm.errors import ParseError

# §25.1: token  =  1*(alphanum / "-" / "." / "!" / "%" / "*" / "_" / "+" / "`" / "'" / "~")
TOKEN_CHARS = "A-Za-z0-9\\-.!%*_+`'~"
TOKEN_RE = re.compile(f"[{TOKEN_CHARS}]+")
# A quoted-string with its quoted-pairs (§25.1); CR and LF cannot appear (already unfolded).
QUOTED_RE = re.compile(r'"(?:[^"\\]|\\.)*"', re.DOTALL)
# Hostname (§25: toplabel starts with ALPHA, checked separately), IPv4address, IPv6reference.
_LABEL = "[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?"
HOSTNAME_RE = re.compile(f"(?:{_LABEL}\\.)*{_LABEL}\\.?")
IPV4_RE = re.compile(r"[0-9]{1,3}\.[0-9]{1,3}\.[0-9]{1,3}\.[0-9]{1,3}")
# generic-param value: token / host / quoted-string (§25 gen-value), quoted handled apart.
GEN_VALUE_RE = re.compile(f"[{TOKEN_CHARS}\\[\\]:]+")
# ;name[=value] with SEMI/EQUAL whitespace (§25.1), value a token, host or quoted-string.
HEADER_PARAM_RE = re.compile(
    f"[ \\t]*;[ \\t]*([{TOKEN_CHARS}]+)"
    f'(?:[ \\t]*=[ \\t]*("(?:[^"\\\\]|\\\\.)*"|[{TOKEN_CHARS}\\[\\]:]+))?[ \\t]*',
    re.DOTALL,
)
_SPECIAL_RE = re.compile(r'[,"<]')
_ESCAPE_RE = re.compile(r"%([0-9A-Fa-f]{2})")
# RFC 2396 unreserved = alphanum / mark: only these may be unescaped for comparison (§19.1.4).
_UNRESERVED = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_.!~*'()")


def is_token(text: str) -> bool:
    return TOKEN_RE.fullmatch(text) is not None


def valid_host(host: str) -> bool:
    """host = hostname / IPv4address / IPv6address (IPv6 given without its brackets)."""
    if ":" in host:
        import ipaddress

        try:
            ipaddress.IPv6Address(host)
        except ValueError:
            return False
        return True
    if IPV4_RE.fullmatch(host) is not None:
        # Fast path for the commonest host in a datagram (Via sent-by, Contact): an IPv4address
        # also matches HOSTNAME_RE and ends in a digit, so the answer below would be this one.
        return all(int(o) <= 255 for o in host.split("."))
    if HOSTNAME_RE.fullmatch(host) is None:
        return False
    last = host.rstrip(".").rpartition(".")[2]
    if last[:1].isdigit():
        # A toplabel starts with ALPHA, so an all-numeric name must be an IPv4address.
        return IPV4_RE.fullmatch(host) is not None and all(int(o) <= 255 for o in host.split("."))
    return True


def host_equal(a: str, b: str) -> bool:
    """Hosts compare case-insensitively (§19.1.4); IPv6 references by address value."""
    if a.lower() == b.lower():
        return True
    if ":" in a and ":" in b:
        import ipaddress

        try:
            return ipaddress.IPv6Address(a) == ipaddress.IPv6Address(b)
        except ValueError:
            return False
    return False


def normalise_escapes(text: str) -> str:
    """§19.1.4: characters outside the reserved set equal their %HEX HEX encoding.

    Escapes of unreserved characters are decoded, the others upper-cased, so that two spellings
    of one value compare equal while ``%3B`` stays different from ``;``.
    """
    if "%" not in text:
        return text

    def repl(match: re.Match[str]) -> str:
        char = chr(int(match.group(1), 16))
        return char if char in _UNRESERVED else "%" + match.group(1).upper()

    return _ESCAPE_RE.sub(repl, text)


def quote(text: str) -> str:
    """Serialise ``text`` as a quoted-string, escaping DQUOTE and backslash."""
    if '"' in text or "\\" in text:
        text = text.replace("\\", "\\\\").replace('"', '\\"')
    return f'"{text}"'


def unquote(text: str) -> str:
    """The content of a quoted-string (given with its quotes), quoted-pairs resolved."""
    inner = text[1:-1]
    if "\\" not in inner:
        return inner
    out: list[str] = []
    i = 0
    while i < len(inner):
        char = inner[i]
        if char == "\\" and i + 1 < len(inner):
            i += 1
            char = inner[i]
        out.append(char)
        i += 1
    return "".join(out)


def split_commas(value: str, where: str) -> list[str]:
    """Split a §7.3 comma-separated list at the commas outside quoted-strings and ``<...>``.

    Elements are stripped of surrounding whitespace; empty elements are dropped.
    """
    if '"' not in value and "<" not in value:
        if "," not in value:
            stripped = value.strip(" \t")
            return [stripped] if stripped else []
        return [p for p in (part.strip(" \t") for part in value.split(",")) if p]
    out: list[str] = []
    start = 0
    pos = 0
    search = _SPECIAL_RE.search
    while True:
        match = search(value, pos)
        if match is None:
            break
        char = match.group()
        at = match.start()
        if char == ",":
            out.append(value[start:at])
            start = pos = at + 1
        elif char == '"':
            end = QUOTED_RE.match(value, at)
            if end is None:
                raise ParseError("unterminated quoted-string", where=where)
            pos = end.end()
        else:
            close = value.find(">", at)
            if close < 0:
                raise ParseError("'<' without a closing '>'", where=where)
            pos = close + 1
    out.append(value[start:])
    return [p for p in (part.strip(" \t") for part in out) if p]


def comma_positions(value: str, where: str) -> list[int]:
    """Offsets of the commas outside quoted-strings (auth headers have no ``<...>``)."""
    positions: list[int] = []
    pos = 0
    quote_at = value.find('"')
    while True:
        comma = value.find(",", pos)
        if quote_at >= 0 and (comma < 0 or quote_at < comma):
            end = QUOTED_RE.match(value, quote_at)
            if end is None:
                raise ParseError("unterminated quoted-string", where=where)
            pos = end.end()
            quote_at = value.find('"', pos)
            continue
        if comma < 0:
            return positions
        positions.append(comma)
        pos = comma + 1
