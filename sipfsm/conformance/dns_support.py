"""Helpers for the conformance checks of ``DnsResolver`` (RFC 3263 §4.1-§4.2, RFC 2782): a fake
DNS backend answering from a table, the RFC 3263 example zone, hypothesis strategies for NAPTR
and SRV record sets, RFC 2782's ordering written out again, and a tiny DNS server on 127.0.0.1.

dnspython is optional (``sipfsm[dns]``) and imported lazily here.  Without it :class:`FakeDns`
answers with plain record objects and signals "no such record" with an empty answer (what
``DnsResolver`` expects of a backend when dnspython is absent); with it, the fake answers with
dnspython rdata and raises dnspython's ``NXDOMAIN`` / ``NoAnswer``, like the real resolver.
:func:`serve_dns` needs dnspython.
"""

from __future__ import annotations

import asyncio
import shlex
import sys
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, cast

from hypothesis import strategies as st

from sipfsm.aio import DnsResolver
from sipfsm.aio.resolver import NaptrRecord, SrvRecord
from sipfsm.conformance.aio_support import ScriptedRandom, run
from sipfsm.ports import Target

__all__ = [
    "DOMAIN",
    "EXAMPLE_NAPTR",
    "LOOPBACK_ZONE",
    "SRV_ZONE",
    "DnsServer",
    "FakeDns",
    "Zone",
    "dns_error",
    "fractions",
    "has_dnspython",
    "ip_literals",
    "locate",
    "naptr_records",
    "rdata",
    "reference_order",
    "resolver",
    "serve_dns",
    "srv_sets",
    "without_dnspython",
]

Zone = Mapping[tuple[str, str], Sequence[str] | BaseException]

DOMAIN = "example.com"
EXAMPLE_NAPTR = [  # RFC 3263 §4.1
    '50 50 "s" "SIPS+D2T" "" _sips._tcp.example.com.',
    '90 50 "s" "SIP+D2T" "" _sip._tcp.example.com.',
    '100 50 "s" "SIP+D2U" "" _sip._udp.example.com.',
]
SRV_ZONE: dict[tuple[str, str], Sequence[str] | BaseException] = {
    ("_sips._tcp.example.com", "SRV"): ["0 0 5061 tls.example.com."],
    ("_sip._tcp.example.com", "SRV"): ["0 0 5060 tcp.example.com."],
    ("_sip._udp.example.com", "SRV"): ["0 0 5060 udp.example.com."],
    ("tls.example.com", "A"): ["192.0.2.30"],
    ("tcp.example.com", "A"): ["192.0.2.20"],
    ("udp.example.com", "A"): ["192.0.2.10"],
    ("example.com", "A"): ["192.0.2.1", "192.0.2.2"],
    ("example.com", "AAAA"): ["2001:db8::1"],
}

# Served by serve_dns on 127.0.0.1 (the addresses are loopback ones; nothing connects to them).
LOOPBACK_ZONE: dict[tuple[str, str], Sequence[str]] = {
    ("example.test", "NAPTR"): [
        '10 10 "s" "SIP+D2U" "" _sip._udp.example.test.',
        '10 20 "s" "SIP+D2T" "" _sip._tcp.example.test.',
    ],
    ("_sip._udp.example.test", "SRV"): [
        "1 0 5060 b.example.test.",
        "0 0 5062 a.example.test.",
    ],
    ("_sip._tcp.example.test", "SRV"): ["0 0 5060 a.example.test."],
    ("a.example.test", "A"): ["127.0.0.2"],
    ("a.example.test", "AAAA"): ["::1"],
    ("b.example.test", "A"): ["127.0.0.3"],
    ("plain.test", "A"): ["127.0.0.4"],
}


# -- dnspython, optionally -----------------------------------------------------------------------


def has_dnspython() -> bool:
    try:
        import dns.rdata
        import dns.resolver  # noqa: F401
    except ImportError:
        return False
    return True


@contextmanager
def without_dnspython() -> Iterator[None]:
    """Make ``import dns`` fail inside the block (as if dnspython were not installed); the
    modules already imported are put back afterwards."""
    saved = {n: m for n, m in sys.modules.items() if n == "dns" or n.startswith("dns.")}
    for name in saved:
        del sys.modules[name]
    modules = cast(dict[str, Any], sys.modules)
    modules["dns"] = None
    try:
        yield
    finally:
        for name in [n for n in sys.modules if n == "dns" or n.startswith("dns.")]:
            del sys.modules[name]
        sys.modules.update(saved)


def dns_error(kind: type[Exception]) -> Exception:
    """An instance of a dnspython exception (their constructors are untyped)."""
    return kind()


@dataclass(frozen=True)
class _Address:
    address: str


@dataclass(frozen=True)
class _Srv:
    priority: int
    weight: int
    port: int
    target: str


@dataclass(frozen=True)
class _Naptr:
    order: int
    preference: int
    flags: str
    service: str
    regexp: str
    replacement: str


def _plain_rdata(rdtype: str, text: str) -> Any:
    fields = shlex.split(text)
    if rdtype in ("A", "AAAA"):
        return _Address(fields[0])
    if rdtype == "SRV":
        return _Srv(int(fields[0]), int(fields[1]), int(fields[2]), fields[3])
    if rdtype == "NAPTR":
        return _Naptr(int(fields[0]), int(fields[1]), *fields[2:6])
    raise ValueError(f"no plain rdata for {rdtype}")


def rdata(rdtype: str, text: str, *, plain: bool = False) -> Any:
    """One record of ``rdtype`` from its zone-file text: dnspython rdata when available (and
    not ``plain``), else an object with the same attributes (A, AAAA, SRV, NAPTR)."""
    if not plain and has_dnspython():
        import dns.rdata
        import dns.rdataclass
        import dns.rdatatype

        return dns.rdata.from_text(dns.rdataclass.IN, dns.rdatatype.from_text(rdtype), text)
    return _plain_rdata(rdtype, text)


class FakeDns:
    """A ``DnsBackend``: answers from a table {(name, type): [rdata text, ...] or exception};
    anything else is NXDOMAIN (no data: an empty list).  Records every query."""

    def __init__(self, zone: Zone) -> None:
        self.zone = {(name.lower().rstrip("."), rdtype): v for (name, rdtype), v in zone.items()}
        self.queries: list[tuple[str, str]] = []
        self._dnspython = has_dnspython()

    async def resolve(self, qname: str, rdtype: str, *, lifetime: float | None = None) -> Any:
        key = (str(qname).lower().rstrip("."), rdtype)
        self.queries.append(key)
        await asyncio.sleep(0)
        answer = self.zone.get(key)
        if isinstance(answer, BaseException):
            raise answer
        if not answer:
            if self._dnspython:
                import dns.resolver

                raise dns_error(dns.resolver.NXDOMAIN if answer is None else dns.resolver.NoAnswer)
            return []
        return [rdata(rdtype, text, plain=not self._dnspython) for text in answer]

    def types_queried(self) -> set[str]:
        return {rdtype for _, rdtype in self.queries}


def resolver(zone: Zone, **kwargs: Any) -> tuple[DnsResolver, FakeDns]:
    """A ``DnsResolver`` on a :class:`FakeDns` of ``zone`` (scripted randomness by default)."""
    backend = FakeDns(zone)
    kwargs.setdefault("random", ScriptedRandom())
    return DnsResolver(backend=backend, **kwargs), backend


def locate(dns_resolver: DnsResolver, host: str, **kwargs: Any) -> list[Target]:
    """``resolve_targets`` run on a fresh, bounded event loop."""
    return run(dns_resolver.resolve_targets(host, **kwargs))


# -- strategies ----------------------------------------------------------------------------------

ip_literals = st.one_of(
    st.ip_addresses(v=4).map(str),
    st.ip_addresses(v=6).map(str),
    st.ip_addresses(v=6).map(lambda a: f"[{a}]"),
)

naptr_records = st.builds(
    NaptrRecord,
    order=st.integers(0, 5),
    preference=st.integers(0, 5),
    flags=st.sampled_from(["s", "S", "a", "u", ""]),
    service=st.sampled_from(
        ["SIP+D2U", "SIP+D2T", "SIPS+D2T", "SIP+D2S", "SIPS+D2U", "sip+d2t", "E2U+sip", "SIP+D2W"]
    ),
    regexp=st.sampled_from(["", "!^.*$!sip:x@example.com!"]),
    replacement=st.sampled_from(["_sip._udp.example.com", "_sip._tcp.example.com", "x.example"]),
)

srv_sets = st.lists(
    st.builds(
        SrvRecord,
        priority=st.integers(0, 3),
        weight=st.integers(0, 100),
        port=st.integers(1, 65535),
        target=st.integers(0, 40).map(lambda n: f"h{n}.example.com"),
    ),
    min_size=1,
    max_size=10,
    unique_by=lambda r: (r.target, r.port),
)

fractions = st.lists(st.floats(0, 1), max_size=20)


def reference_order(records: Sequence[SrvRecord], picks: Sequence[float]) -> list[SrvRecord]:
    """RFC 2782's "Usage rules" algorithm, written out again literally, with the uniform numbers
    drawn from ``ScriptedRandom(picks)``."""
    rng = ScriptedRandom(picks)
    out: list[SrvRecord] = []
    for priority in sorted({r.priority for r in records}):
        unordered = [r for r in records if r.priority == priority]
        unordered.sort(key=lambda r: r.weight != 0)  # weight 0 first, otherwise as given
        while unordered:
            total = sum(r.weight for r in unordered)
            # "a uniform random number between 0 and the sum computed (inclusive)": one of the
            # integers 0..total, each as likely (the fraction's share of total + 1 slots).
            number = min(total, int(rng.uniform(0, total + 1))) if total else 0
            running = 0
            record = unordered[-1]
            for candidate in unordered:
                running += candidate.weight
                if running >= number:
                    record = candidate
                    break
            out.append(record)
            unordered.remove(record)
    return out


# -- a DNS server on the loopback (dnspython) ----------------------------------------------------


class DnsServer(asyncio.DatagramProtocol):
    """Answers UDP DNS queries from ``zone`` {(name, type): [rdata text, ...]}: NXDOMAIN for
    unknown names, an empty answer for known names without that type, and a truncated,
    garbled reply for ``garbled``.  Records every question.  Needs dnspython."""

    def __init__(self, zone: Mapping[tuple[str, str], Sequence[str]], garbled: str = "") -> None:
        self.zone = zone
        self.garbled = garbled
        self.names = {name for name, _ in zone}
        self.questions: list[tuple[str, str]] = []
        self.transport: asyncio.DatagramTransport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = cast(asyncio.DatagramTransport, transport)

    def datagram_received(self, data: bytes, addr: tuple[Any, ...]) -> None:
        import dns.message
        import dns.rcode
        import dns.rdatatype
        import dns.rrset

        assert self.transport is not None
        query = dns.message.from_wire(data)
        question = query.question[0]
        name = question.name.to_text().rstrip(".").lower()
        rdtype = dns.rdatatype.to_text(question.rdtype)
        self.questions.append((name, rdtype))
        if name == self.garbled:
            self.transport.sendto(data[:2] + b"\x81\x80\xff\xff", addr)
            return
        response = dns.message.make_response(query)
        records = self.zone.get((name, rdtype))
        if records:
            response.answer.append(
                dns.rrset.from_text_list(question.name, 300, "IN", rdtype, list(records))
            )
        elif name not in self.names:
            response.set_rcode(dns.rcode.NXDOMAIN)
        self.transport.sendto(response.to_wire(), addr)


async def serve_dns(
    zone: Mapping[tuple[str, str], Sequence[str]], *, garbled: str = "", timeout: float = 2.0
) -> tuple[asyncio.DatagramTransport, DnsServer, DnsResolver]:
    """A :class:`DnsServer` on 127.0.0.1 and a ``DnsResolver`` using dnspython's asynchronous
    resolver against it (and nothing else).  Close the returned transport when done."""
    import dns.asyncresolver

    loop = asyncio.get_running_loop()
    transport, server = await loop.create_datagram_endpoint(
        lambda: DnsServer(zone, garbled), local_addr=("127.0.0.1", 0)
    )
    backend = dns.asyncresolver.Resolver(configure=False)
    backend.nameservers = ["127.0.0.1"]
    backend.port = int(transport.get_extra_info("sockname")[1])
    dns_resolver = DnsResolver(backend=backend, random=ScriptedRandom(), timeout=timeout)
    return transport, server, dns_resolver
