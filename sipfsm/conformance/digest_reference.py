"""A Digest reference written apart from sipfsm.auth: reads an Authorization value and
recomputes its response from RFC 7616 §3.4.1 - §3.4.3 (RFC 2617 §3.2.2, RFC 2069 without qop)
with :mod:`hashlib` alone.  Nothing here imports sipfsm.auth; the checks use it as the oracle
for what the client sends."""

from __future__ import annotations

import hashlib
import re

__all__ = ["expected_response", "read_credentials"]

# RFC 7616 §3.4 / RFC 7235: auth-param = token BWS "=" BWS ( token / quoted-string ), separated
# by commas.
_PARAM = re.compile(r'\s*([!#$%&\'*+.^_`|~0-9A-Za-z-]+)\s*=\s*'
                    r'("(?:[^"\\]|\\.)*"|[^\s,]*)\s*(?:,|$)')
_HASH = {"MD5": "md5", "SHA-256": "sha256", "SHA-512-256": "sha512_256"}


def read_credentials(value: str) -> dict[str, str]:
    """The parameters of ``Digest k=v, k="v" ...`` (names lower-cased, quotes removed)."""
    scheme, _, rest = value.strip().partition(" ")
    if scheme.lower() != "digest":
        raise ValueError(f"not Digest credentials: {value!r}")
    out: dict[str, str] = {}
    pos = 0
    rest = rest.strip()
    while pos < len(rest):
        m = _PARAM.match(rest, pos)
        if m is None or m.end() == pos:
            raise ValueError(f"unreadable credentials at {rest[pos:]!r}")
        name, raw = m.group(1).lower(), m.group(2)
        if raw.startswith('"'):
            raw = re.sub(r"\\(.)", r"\1", raw[1:-1])
        out[name] = raw
        pos = m.end()
    return out


def expected_response(params: dict[str, str], *, method: str, password: str,
                      body: bytes = b"", username: str | None = None) -> str:
    """request-digest = KD(H(A1), nonce ":" [nc ":" cnonce ":" qop ":"] H(A2)), from the
    RFC's formulas; ``username`` when the credentials carry a userhash."""
    algorithm = params.get("algorithm", "MD5").upper()
    sess = algorithm.endswith("-SESS")
    name = _HASH[algorithm.removesuffix("-SESS")]

    def h(data: bytes) -> str:
        return hashlib.new(name, data, usedforsecurity=False).hexdigest()

    user = username if username is not None else params["username"]
    ha1 = h(f"{user}:{params['realm']}:{password}".encode())
    if sess:
        ha1 = h(f"{ha1}:{params['nonce']}:{params['cnonce']}".encode())
    qop = params.get("qop")
    a2 = f"{method}:{params['uri']}"
    if qop == "auth-int":
        a2 += f":{h(body)}"
    if qop is None:
        return h(f"{ha1}:{params['nonce']}:{h(a2.encode())}".encode())
    return h(f"{ha1}:{params['nonce']}:{params['nc']}:{params['cnonce']}:{qop}:"
             f"{h(a2.encode())}".encode())
