"""Shared helpers for the asyncio adapter tests: bounded runs, a recording receiver, a fake DNS
backend, scripted randomness and hand-written SIP messages."""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine, Iterable, Mapping, Sequence
from typing import Any, TypeVar

import dns.rdata
import dns.rdataclass
import dns.rdatatype
import dns.resolver

from sipfsm.ports import HostPort, Target, Transport

T = TypeVar("T")

TIMEOUT = 5.0


def run(coro: Coroutine[Any, Any, T], timeout: float = TIMEOUT) -> T:
    """Run a test coroutine on a fresh loop, bounded by ``timeout`` seconds."""
    return asyncio.run(asyncio.wait_for(coro, timeout))


def register(cseq: int = 1, body: bytes = b"") -> bytes:
    head = (
        "REGISTER sip:registrar.example.com SIP/2.0\r\n"
        "Via: SIP/2.0/UDP 192.0.2.10:5060;branch=z9hG4bK-test" + str(cseq) + "\r\n"
        "Max-Forwards: 70\r\n"
        "To: <sip:alice@example.com>\r\n"
        "From: <sip:alice@example.com>;tag=abc\r\n"
        "Call-ID: 1234@192.0.2.10\r\n"
        f"CSeq: {cseq} REGISTER\r\n"
        "Contact: <sip:alice@192.0.2.10:5060>\r\n"
        f"Content-Length: {len(body)}\r\n"
        "\r\n"
    )
    return head.encode("ascii") + body


def ok(cseq: int = 1, body: bytes = b"", *, compact: bool = False) -> bytes:
    length = "l" if compact else "Content-Length"
    head = (
        "SIP/2.0 200 OK\r\n"
        "Via: SIP/2.0/UDP 192.0.2.10:5060;branch=z9hG4bK-test" + str(cseq) + "\r\n"
        "To: <sip:alice@example.com>;tag=reg\r\n"
        "From: <sip:alice@example.com>;tag=abc\r\n"
        "Call-ID: 1234@192.0.2.10\r\n"
        f"CSeq: {cseq} REGISTER\r\n"
        f"{length}: {len(body)}\r\n"
        "\r\n"
    )
    return head.encode("ascii") + body


class RecordingReceiver:
    """A ``Receiver`` that queues what it gets, for tests to await."""

    def __init__(self) -> None:
        self.messages: asyncio.Queue[tuple[bytes, HostPort, Transport]] = asyncio.Queue()
        self.errors: asyncio.Queue[tuple[Target, Exception]] = asyncio.Queue()

    def receive(self, data: bytes, source: HostPort, transport: Transport) -> None:
        self.messages.put_nowait((data, source, transport))

    def transport_error(self, target: Target, error: Exception) -> None:
        self.errors.put_nowait((target, error))

    async def message(self, timeout: float = 2.0) -> tuple[bytes, HostPort, Transport]:
        return await asyncio.wait_for(self.messages.get(), timeout)

    async def error(self, timeout: float = 2.0) -> tuple[Target, Exception]:
        return await asyncio.wait_for(self.errors.get(), timeout)


class ScriptedRandom:
    """``Random`` whose ``uniform`` maps successive fractions in [0, 1] onto [low, high]."""

    def __init__(self, fractions: Iterable[float] = ()) -> None:
        self._fractions = list(fractions)
        self.calls: list[tuple[float, float]] = []

    def token(self, nbits: int) -> str:
        return "t" * max(1, nbits // 4)

    def uniform(self, low: float, high: float) -> float:
        self.calls.append((low, high))
        fraction = self._fractions.pop(0) if self._fractions else 0.5
        return low + (high - low) * fraction


def dns_error(kind: type[Exception]) -> Exception:
    """An instance of a dnspython exception (their constructors are untyped)."""
    return kind()


def rdata(rdtype: str, text: str) -> Any:
    return dns.rdata.from_text(dns.rdataclass.IN, dns.rdatatype.from_text(rdtype), text)


class FakeDns:
    """A ``DnsBackend``: answers from a table {(name, type): [rdata text, ...] or exception};
    anything else is NXDOMAIN.  Records every query."""

    def __init__(self, zone: Mapping[tuple[str, str], Sequence[str] | BaseException]) -> None:
        self.zone = {(name.lower().rstrip("."), rdtype): v for (name, rdtype), v in zone.items()}
        self.queries: list[tuple[str, str]] = []

    async def resolve(self, qname: str, rdtype: str, *, lifetime: float | None = None) -> Any:
        key = (str(qname).lower().rstrip("."), rdtype)
        self.queries.append(key)
        await asyncio.sleep(0)
        answer = self.zone.get(key)
        if answer is None:
            raise dns_error(dns.resolver.NXDOMAIN)
        if isinstance(answer, BaseException):
            raise answer
        if not answer:
            raise dns_error(dns.resolver.NoAnswer)
        return [rdata(rdtype, text) for text in answer]

    def types_queried(self) -> set[str]:
        return {rdtype for _, rdtype in self.queries}
