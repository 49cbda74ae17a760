"""A small Digest reference, apart from :mod:`sipfsm.auth`: auth-param lists and the
request-digest of RFC 2617 §3.2.2.1 / RFC 7616 §3.4.1, on plain :mod:`hashlib`.

The audit judges other clients' credentials with it, so it shares no code with the client whose
correctness the rest of the project checks.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable
from functools import lru_cache, partial
from typing import Any

__all__ = ["auth_params", "expected_response", "split_scheme"]

_PARAM = re.compile(
    r'\s*([A-Za-z0-9!#$%&\'*+\-.^_`|~]+)\s*=\s*("(?:[^"\\]|\\.)*"|[^\s,]*)\s*(?:,|$)'
)
_HASHES = {"MD5": "md5", "SHA-256": "sha256", "SHA-512-256": "sha512_256"}


def split_scheme(value: str) -> tuple[str, str]:
    """``("Digest", 'realm="x", ...')`` from one credentials or challenge header value."""
    scheme, _, rest = value.strip().partition(" ")
    return scheme, rest.strip()


def auth_params(text: str) -> dict[str, tuple[str, bool]]:
    """name (lower-case) -> (value, was_quoted).  Malformed tails are ignored, duplicates keep
    the first."""
    params: dict[str, tuple[str, bool]] = {}
    pos = 0
    while pos < len(text):
        match = _PARAM.match(text, pos)
        if match is None or match.end() == pos:
            break
        name, value = match.group(1).lower(), match.group(2)
        quoted = value.startswith('"') and value.endswith('"') and len(value) >= 2
        if quoted:
            value = value[1:-1]
            if "\\" in value:
                value = re.sub(r"\\(.)", r"\1", value)
        params.setdefault(name, (value, quoted))
        pos = match.end()
    return params


@lru_cache(maxsize=16)
def _hasher(algorithm: str) -> Callable[[str], str] | None:
    name = _HASHES.get(algorithm.upper())
    if name is None:
        return None
    constructor: Callable[..., Any] = getattr(hashlib, name, None) or partial(hashlib.new, name)
    try:
        constructor(b"")
    except ValueError:
        return None  # this OpenSSL lacks SHA-512/256

    def h(text: str) -> str:
        return str(constructor(text.encode("utf-8")).hexdigest())

    return h


def expected_response(
    *,
    algorithm: str,
    username: str,
    realm: str,
    password: str,
    method: str,
    uri: str,
    nonce: str,
    qop: str | None,
    nc: str | None,
    cnonce: str | None,
    body: bytes = b"",
) -> str | None:
    """The request-digest for these values, or None when the algorithm is not one we know."""
    session = algorithm.upper().endswith("-SESS")
    base = algorithm[:-5] if session else algorithm
    h = _hasher(base)
    if h is None:
        return None
    ha1 = h(f"{username}:{realm}:{password}")
    if session:
        ha1 = h(f"{ha1}:{nonce}:{cnonce or ''}")
    if qop == "auth-int":
        body_hash = hashlib.new(_HASHES[base.upper()], body).hexdigest()
        ha2 = h(f"{method}:{uri}:{body_hash}")
    else:
        ha2 = h(f"{method}:{uri}")
    if qop:
        return h(f"{ha1}:{nonce}:{nc}:{cnonce}:{qop}:{ha2}")
    return h(f"{ha1}:{nonce}:{ha2}")
