"""Helpers for the conformance checks of the embedded registrar (sipfsm.registrar;
spec/registrar.toml): a hand-driven clock, REGISTERs built with the message layer, a recording
transport, and Digest credentials computed independently of sipfsm.registrar.digest and
sipfsm.auth (RFC 7616 §3.4.1 written again with :mod:`hashlib` alone).

Public so that tests and users' own harnesses can drive the registrar the same way.
"""

from __future__ import annotations

import asyncio
import hashlib
import itertools
import re
from collections.abc import Iterable, Sequence
from typing import Any

from sipfsm.message import Headers, Request, Response, SipUri, parse, parse_uri
from sipfsm.ports import HostPort, Target
from sipfsm.registrar import LogEvent, Registrar, RegistrarConfig, RegistrarEndpoint
from sipfsm.sim import SeededRandom

__all__ = [
    "AOR",
    "AUTH",
    "DOMAIN",
    "SOURCE",
    "DatagramQueue",
    "ManualClock",
    "RecordingTransport",
    "authenticated",
    "authorization",
    "challenge_params",
    "contact_expiries",
    "endpoint",
    "expected_rspauth",
    "handle",
    "listed",
    "make_registrar",
    "next_response",
    "register",
    "sent_responses",
    "sip",
    "udp_client",
]

SOURCE = HostPort("192.0.2.10", 5060)
DOMAIN = "example.com"
AOR = f"sip:alice@{DOMAIN}"

AUTH = RegistrarConfig(users={"alice": "secret", "bob": "hunter2"}, domains=frozenset({DOMAIN}))
"""Two users (alice:secret, bob:hunter2), Digest required, bindings for example.com only."""


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
    """A registrar on a :class:`ManualClock` and a seeded Random port."""
    clock = ManualClock()
    return Registrar(config or RegistrarConfig(), clock, SeededRandom(seed)), clock


_branches = itertools.count(1)


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
    """The one response to ``request`` (received over UDP from ``source``)."""
    responses = registrar.handle(request, source, "UDP")
    assert len(responses) == 1, responses
    return responses[0]


def contact_expiries(response: Response) -> dict[str, int]:
    """``{contact URI text: expires}`` from a 200 (every Contact must carry expires)."""
    result: dict[str, int] = {}
    for contact in response.contacts:
        assert contact.expires is not None, f"no expires on {contact}"
        result[str(contact.uri)] = contact.expires
    return result


def listed(response: Response) -> list[tuple[str, int]]:
    """``[(contact URI text, expires)]`` from a 200, in order (-1 for a missing expires)."""
    return [(str(c.uri), -1 if c.expires is None else c.expires) for c in response.contacts]


def sip(text: str) -> SipUri:
    """``text`` parsed as a SIP/SIPS URI."""
    uri = parse_uri(text)
    assert isinstance(uri, SipUri)
    return uri


# -- Digest, independently of sipfsm.registrar.digest ---------------------------------------------

_H = {"MD5": hashlib.md5, "SHA-256": hashlib.sha256}


def _h(algorithm: str, text: str) -> str:
    return _H[algorithm](text.encode()).hexdigest()


def challenge_params(value: str) -> dict[str, str]:
    """The parameters of a ``Digest`` challenge (names lower-cased, quotes removed)."""
    assert value.startswith("Digest "), value
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
    """RFC 7616 §3.4.1 credentials answering ``challenge`` (qop=auth; MD5 or SHA-256)."""
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


def expected_rspauth(
    challenge: str,
    *,
    password: str = "secret",
    uri: str = f"sip:{DOMAIN}",
    nc: int = 1,
    cnonce: str = "0a4f113b",
    username: str = "alice",
) -> str:
    """The ``rspauth`` of the Authentication-Info answering :func:`authorization`'s
    credentials (RFC 7616 §3.5: A2 without the method)."""
    params = challenge_params(challenge)
    algorithm = params.get("algorithm", "MD5")
    ha1 = _h(algorithm, f"{username}:{params['realm']}:{password}")
    ha2 = _h(algorithm, f":{uri}")
    return _h(algorithm, f"{ha1}:{params['nonce']}:{nc:08x}:{cnonce}:auth:{ha2}")


def authenticated(
    registrar: Registrar,
    *,
    password: str = "secret",
    username: str = "alice",
    cseq: int = 1,
    **kwargs: Any,
) -> tuple[Response, str]:
    """REGISTER, take the 401's first challenge, answer it: (final response, challenge).
    ``kwargs`` go to both :func:`register` calls."""
    first = handle(registrar, register(cseq=cseq, **kwargs))
    assert first.status == 401, first.status
    challenge = first.www_authenticate[0]
    creds = authorization(challenge, username=username, password=password)
    second = handle(registrar, register(cseq=cseq + 1, extra=[("Authorization", creds)], **kwargs))
    return second, challenge


# -- the endpoint ---------------------------------------------------------------------------------


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


def endpoint(
    config: RegistrarConfig | None = None,
) -> tuple[RegistrarEndpoint, list[LogEvent]]:
    """A :class:`RegistrarEndpoint` around :func:`make_registrar`, and its log."""
    registrar, _ = make_registrar(config)
    events: list[LogEvent] = []
    return RegistrarEndpoint(registrar, log=events.append), events


def sent_responses(transport: RecordingTransport) -> list[tuple[Response, Target]]:
    """What ``transport`` sent, parsed (each must be a response)."""
    out = []
    for data, target in transport.sent:
        message = parse(data)
        assert isinstance(message, Response), message
        out.append((message, target))
    return out


# -- real sockets (127.0.0.1) ------------------------------------------------------------------


class DatagramQueue(asyncio.DatagramProtocol):
    """A UDP client socket's protocol: every datagram received goes to :attr:`queue`."""

    def __init__(self) -> None:
        self.queue: asyncio.Queue[bytes] = asyncio.Queue()

    def datagram_received(self, data: bytes, addr: tuple[Any, ...]) -> None:
        self.queue.put_nowait(data)


async def udp_client(
    host: str = "127.0.0.1",
) -> tuple[asyncio.DatagramTransport, DatagramQueue, int]:
    """A UDP socket on ``host`` at a free port: (its transport, its queue, the port)."""
    loop = asyncio.get_running_loop()
    transport, protocol = await loop.create_datagram_endpoint(
        DatagramQueue, local_addr=(host, 0)
    )
    return transport, protocol, int(transport.get_extra_info("sockname")[1])


async def next_response(queue: asyncio.Queue[bytes], timeout: float = 5.0) -> Response:
    """The next datagram of ``queue`` (waited for at most ``timeout`` s), parsed as a response."""
    message = parse(await asyncio.wait_for(queue.get(), timeout))
    assert isinstance(message, Response), message
    return message
