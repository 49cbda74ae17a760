"""Helpers for the registrar tests: a hand-driven clock, REGISTERs built with the message layer,
and a Digest answer computed independently of sipfsm.registrar.digest (straight from RFC 7616)."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable, Sequence

from sipfsm.message import Headers, Request, Response, SipUri, parse_uri
from sipfsm.ports import HostPort, Target
from sipfsm.registrar import Registrar, RegistrarConfig
from sipfsm.sim import SeededRandom

SOURCE = HostPort("192.0.2.10", 5060)
DOMAIN = "example.com"
AOR = f"sip:alice@{DOMAIN}"


class ManualClock:
    """``ports.Clock`` moved by hand."""

    def __init__(self, start: float = 1000.0, epoch: float = 1_700_000_000.0) -> None:
        self.now = start
        self.epoch = epoch

    def monotonic(self) -> float:
        return self.now

    def wall(self) -> float:
        return self.epoch + self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


def make_registrar(
    config: RegistrarConfig | None = None, *, seed: int = 1
) -> tuple[Registrar, ManualClock]:
    clock = ManualClock()
    return Registrar(config or RegistrarConfig(), clock, SeededRandom(seed)), clock


_branches = iter(range(1, 10**9))


def register(
    *,
    aor: str = AOR,
    ruri: str = f"sip:{DOMAIN}",
    contacts: Sequence[str] = ("<sip:alice@192.0.2.10:5060>",),
    expires: int | str | None = None,
    call_id: str = "call-1@192.0.2.10",
    cseq: int = 1,
    method: str = "REGISTER",
    branch: str | None = None,
    via: str | None = None,
    extra: Iterable[tuple[str, str]] = (),
) -> Request:
    """A REGISTER (or ``method``) built from parts; each call gets a new branch unless given."""
    branch = branch or f"z9hG4bK-{next(_branches)}"
    rows: list[tuple[str, str]] = [
        ("Via", via or f"SIP/2.0/UDP 192.0.2.10:5060;branch={branch}"),
        ("Max-Forwards", "70"),
        ("From", f"<{aor}>;tag=from-tag"),
        ("To", f"<{aor}>"),
        ("Call-ID", call_id),
        ("CSeq", f"{cseq} {method}"),
    ]
    rows.extend(("Contact", contact) for contact in contacts)
    if expires is not None:
        rows.append(("Expires", str(expires)))
    rows.extend(extra)
    return Request(method, parse_uri(ruri), Headers(rows))


def handle(registrar: Registrar, request: Request, source: HostPort = SOURCE) -> Response:
    """The one response to ``request``."""
    responses = registrar.handle(request, source, "UDP")
    assert len(responses) == 1, responses
    return responses[0]


def contact_expiries(response: Response) -> dict[str, int]:
    """``{contact URI text: expires}`` from a 200."""
    result: dict[str, int] = {}
    for contact in response.contacts:
        assert contact.expires is not None, f"no expires on {contact}"
        result[str(contact.uri)] = contact.expires
    return result


# -- Digest, independently of sipfsm.registrar.digest ---------------------------------------------

_H = {"MD5": hashlib.md5, "SHA-256": hashlib.sha256}


def _h(algorithm: str, text: str) -> str:
    return _H[algorithm](text.encode()).hexdigest()


def challenge_params(value: str) -> dict[str, str]:
    assert value.startswith("Digest ")
    return {
        m.group(1).lower(): m.group(2) if m.group(2) is not None else m.group(3)
        for m in re.finditer(r'([A-Za-z-]+)=(?:"([^"]*)"|([^,\s]+))', value)
    }


def authorization(
    challenge: str,
    *,
    username: str = "alice",
    password: str = "secret",
    method: str = "REGISTER",
    uri: str = f"sip:{DOMAIN}",
    nc: int = 1,
    cnonce: str = "0a4f113b",
    realm: str | None = None,
) -> str:
    """RFC 7616 §3.4.1 credentials answering ``challenge`` (qop=auth)."""
    params = challenge_params(challenge)
    algorithm = params.get("algorithm", "MD5")
    realm = realm if realm is not None else params["realm"]
    nonce = params["nonce"]
    nc_text = f"{nc:08x}"
    ha1 = _h(algorithm, f"{username}:{realm}:{password}")
    ha2 = _h(algorithm, f"{method}:{uri}")
    response = _h(algorithm, f"{ha1}:{nonce}:{nc_text}:{cnonce}:auth:{ha2}")
    return (
        f'Digest username="{username}", realm="{realm}", nonce="{nonce}", uri="{uri}", '
        f'response="{response}", algorithm={algorithm}, qop=auth, nc={nc_text}, '
        f'cnonce="{cnonce}"'
    )


def expected_rspauth(challenge: str, *, password: str = "secret", uri: str = f"sip:{DOMAIN}",
                     nc: int = 1, cnonce: str = "0a4f113b", username: str = "alice") -> str:
    params = challenge_params(challenge)
    algorithm = params.get("algorithm", "MD5")
    ha1 = _h(algorithm, f"{username}:{params['realm']}:{password}")
    ha2 = _h(algorithm, f":{uri}")
    return _h(algorithm, f"{ha1}:{params['nonce']}:{nc:08x}:{cnonce}:auth:{ha2}")


class RecordingTransport:
    """``ports.Transport`` that keeps what is sent."""

    def __init__(self, name: str = "UDP", local: HostPort | None = None) -> None:
        self._name = name
        self._local = local or HostPort("192.0.2.1", 5060)
        self.sent: list[tuple[bytes, Target]] = []

    @property
    def name(self) -> str:
        return self._name

    @property
    def reliable(self) -> bool:
        return self._name != "UDP"

    def local_address(self) -> HostPort:
        return self._local

    def send(self, data: bytes, target: Target) -> None:
        self.sent.append((data, target))


def sip(text: str) -> SipUri:
    uri = parse_uri(text)
    assert isinstance(uri, SipUri)
    return uri
