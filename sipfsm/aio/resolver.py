"""``DnsResolver``: RFC 3263 §4 server location (NAPTR, then SRV, then A/AAAA) on dnspython.

dnspython is an optional extra (``pip install sipfsm[dns]``) and imported only when a resolver is
made.  Without it, IP literals work as always and names are resolved with ``loop.getaddrinfo``
(the system resolver and the hosts file), with no NAPTR or SRV lookups.

Tests inject a fake ``backend``: any object with ``async resolve(qname, rdtype, *, lifetime)``
returning dnspython-like rdata (or raising ``dns.resolver.NXDOMAIN`` / ``NoAnswer``).
"""

from __future__ import annotations

import asyncio
import socket
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from sipfsm.aio._net import bare_host, default_port, is_ip_literal
from sipfsm.errors import TransportError
from sipfsm.ports import Random, Target

__all__ = [
    "NAPTR_SERVICES",
    "SRV_SERVICES",
    "DnsBackend",
    "DnsResolver",
    "NaptrRecord",
    "ResolveError",
    "SrvRecord",
    "order_srv",
    "select_naptr",
]

SPEC_TRANSPORT_PARAM = "RFC3263-4.1-TRANSPORT-PARAM-RESOLVER"
SPEC_NO_TARGETS = "RFC3263-4.2-NO-SRV-A-AAAA-RESOLVER"
SPEC_SRV_UNAVAILABLE = "RFC2782-USAGE-DOT-TARGET-RESOLVER"

# RFC 3263 §4.1: NAPTR service fields and the transports they name (D2U, D2T, D2S).
NAPTR_SERVICES: Mapping[str, str] = {
    "SIP+D2U": "UDP",
    "SIP+D2T": "TCP",
    "SIPS+D2T": "TLS",
    "SIP+D2S": "SCTP",
}
# RFC 3263 §4.1/§4.2: "_sips" for SIPS (TLS), "_sip" otherwise.
SRV_SERVICES: Mapping[str, str] = {
    "UDP": "_sip._udp",
    "TCP": "_sip._tcp",
    "TLS": "_sips._tcp",
    "SCTP": "_sip._sctp",
}


class ResolveError(TransportError):
    """A SIP server cannot be located: no usable records, malformed answers, or a timeout."""


@dataclass(frozen=True, slots=True)
class SrvRecord:
    priority: int
    weight: int
    port: int
    target: str


@dataclass(frozen=True, slots=True)
class NaptrRecord:
    order: int
    preference: int
    flags: str
    service: str
    regexp: str
    replacement: str


class DnsBackend(Protocol):
    """What the resolver needs of a DNS client: dnspython's ``dns.asyncresolver.Resolver``."""

    async def resolve(self, qname: str, rdtype: str, *, lifetime: float | None = ...) -> Any: ...


def order_srv(records: Iterable[SrvRecord], random: Random) -> list[SrvRecord]:
    """RFC 2782 "Usage rules": lowest priority first; within a priority, repeatedly pick by
    weighted random choice (weight-0 records placed first, running sums, a uniform integer in
    [0, sum]) until none is left."""
    by_priority: dict[int, list[SrvRecord]] = {}
    for record in records:
        by_priority.setdefault(record.priority, []).append(record)
    ordered: list[SrvRecord] = []
    for priority in sorted(by_priority):
        group = by_priority[priority]
        unordered = [r for r in group if r.weight == 0] + [r for r in group if r.weight != 0]
        while unordered:
            total = sum(r.weight for r in unordered)
            # "a uniform random number between 0 and the sum computed (inclusive)": weights are
            # integers, so the number is one of the sum + 1 integers 0..sum.  A float draw would
            # almost never be 0 and the weight-0 records placed first would never be chosen;
            # this way each has its "very small chance" (1 in sum + 1) of coming first.
            pick = min(total, int(random.uniform(0, total + 1))) if total > 0 else 0
            running = 0
            chosen = len(unordered) - 1
            for index, record in enumerate(unordered):
                running += record.weight
                if running >= pick:
                    chosen = index
                    break
            ordered.append(unordered.pop(chosen))
    return ordered


def select_naptr(
    records: Iterable[NaptrRecord], *, secure: bool, transports: Sequence[str]
) -> list[tuple[NaptrRecord, str]]:
    """RFC 3263 §4.1 with RFC 2915: keep the records this client can use, then those of the
    lowest order, by preference; each paired with its transport."""
    usable: list[tuple[NaptrRecord, str]] = []
    for record in records:
        service = record.service.upper()
        transport = NAPTR_SERVICES.get(service)
        if transport is None:
            continue  # MUST discard services other than D2X for a supported X
        if secure and not service.startswith("SIPS+"):
            continue  # MUST discard non-SIPS services for a SIPS URI
        if transport not in transports and not (secure and transport == "TLS"):
            continue
        if record.flags.lower() != "s" or record.regexp:
            continue  # the replacement must name an SRV record, with an empty regexp
        usable.append((record, transport))
    if not usable:
        return []
    lowest = min(record.order for record, _ in usable)
    chosen = [(record, transport) for record, transport in usable if record.order == lowest]
    chosen.sort(key=lambda pair: pair[0].preference)
    return chosen


def _text(value: Any) -> str:
    if isinstance(value, bytes):
        return value.decode("ascii", errors="replace")
    return str(value)


def _name(value: Any) -> str:
    return _text(value).rstrip(".")


def _unique(targets: Iterable[Target]) -> list[Target]:
    seen: set[tuple[str, str, int]] = set()
    out: list[Target] = []
    for target in targets:
        key = (target.transport, target.host.lower(), target.port)
        if key not in seen:
            seen.add(key)
            out.append(target)
    return out


class DnsResolver:
    """The ``Resolver`` port: RFC 3263 §4.1-§4.2 (with RFC 2782 SRV ordering).

    ``transports``: what this client can send over, in order of preference (``UDP``, ``TCP``,
    ``TLS``, ``SCTP``); a SIPS request always resolves to TLS.  ``hosts``: names answered without
    DNS (``localhost`` always is).  ``timeout`` bounds a whole resolution."""

    def __init__(
        self,
        *,
        backend: DnsBackend | None = None,
        random: Random | None = None,
        transports: Sequence[str] = ("UDP", "TCP"),
        hosts: Mapping[str, Sequence[str]] | None = None,
        address_types: Sequence[str] = ("A", "AAAA"),
        timeout: float = 8.0,
    ) -> None:
        if random is None:
            from sipfsm.aio.runtime import SecretsRandom

            random = SecretsRandom()
        self._random = random
        self.transports = tuple(t.upper() for t in transports)
        unknown = [t for t in self.transports if t not in SRV_SERVICES]
        if not self.transports or unknown:
            raise ValueError(f"unsupported transports {unknown or '(none)'}")
        self.address_types = tuple(t.upper() for t in address_types)
        if not set(self.address_types) <= {"A", "AAAA"} or not self.address_types:
            raise ValueError(f"address_types must be A and/or AAAA, not {address_types}")
        self.hosts = {k.lower().rstrip("."): list(v) for k, v in (hosts or {}).items()}
        self.timeout = timeout
        self._why_no_dns: str | None = None
        # dnspython is imported on the first lookup, not here: a client with a fixed registrar
        # address may never need it (and importing it takes a noticeable fraction of a second).
        self._backend_value: DnsBackend | None = backend
        self._backend_loaded = backend is not None
        self._exception_types: (
            tuple[_ExceptionTypes, _ExceptionTypes, _ExceptionTypes] | None) = None
        self._tasks: set[asyncio.Task[None]] = set()

    @property
    def _backend(self) -> DnsBackend | None:
        if not self._backend_loaded:
            self._backend_loaded = True
            self._backend_value = self._default_backend()
        return self._backend_value

    def _exceptions(self) -> tuple[_ExceptionTypes, _ExceptionTypes, _ExceptionTypes]:
        if self._exception_types is None:
            self._exception_types = _dns_exceptions()
        return self._exception_types

    def _default_backend(self) -> DnsBackend | None:
        try:
            import dns.asyncresolver
            import dns.exception
        except ImportError:
            self._why_no_dns = "dnspython is not installed (pip install 'sipfsm[dns]')"
            return None
        try:
            backend: DnsBackend = dns.asyncresolver.Resolver()
        except dns.exception.DNSException as exc:
            self._why_no_dns = f"no DNS configuration: {exc}"
            return None
        return backend

    @property
    def uses_dns(self) -> bool:
        """False when NAPTR/SRV lookups are unavailable (no dnspython or no configuration)."""
        return self._backend is not None

    # -- the Resolver port --------------------------------------------------------------------

    def resolve(
        self,
        host: str,
        *,
        port: int | None,
        transport: str | None,
        secure: bool,
        on_done: Callable[[Sequence[Target]], None],
        on_error: Callable[[Exception], None],
    ) -> None:
        """Start resolving on the running loop; exactly one callback is called, once."""
        task = asyncio.get_running_loop().create_task(
            self._run(host, port, transport, secure, on_done, on_error)
        )
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _run(
        self,
        host: str,
        port: int | None,
        transport: str | None,
        secure: bool,
        on_done: Callable[[Sequence[Target]], None],
        on_error: Callable[[Exception], None],
    ) -> None:
        try:
            targets = await self.resolve_targets(
                host, port=port, transport=transport, secure=secure
            )
        except asyncio.CancelledError:
            on_error(ResolveError(f"resolving {host!r} was cancelled"))
            raise
        except ResolveError as exc:
            on_error(exc)
            return
        except Exception as exc:
            error = ResolveError(f"resolving {host!r} failed: {exc}")
            error.__cause__ = exc
            on_error(error)
            return
        on_done(targets)

    def close(self) -> None:
        """Cancel resolutions in progress (their ``on_error`` gets a ResolveError)."""
        for task in list(self._tasks):
            task.cancel()

    # -- the coroutine API --------------------------------------------------------------------

    async def resolve_targets(
        self,
        host: str,
        *,
        port: int | None = None,
        transport: str | None = None,
        secure: bool = False,
    ) -> list[Target]:
        """The ordered targets for a URI's TARGET (``maddr`` or host), port, ``transport``
        parameter and scheme (``secure`` for SIPS).  Raises :class:`ResolveError`."""
        try:
            async with asyncio.timeout(self.timeout):
                targets = await self._locate(host, port, transport, secure)
        except TimeoutError as exc:
            raise ResolveError(f"resolving {host!r} took longer than {self.timeout} s") from exc
        targets = _unique(targets)
        if not targets:
            raise ResolveError(f"no address found for {host!r}", spec_id=SPEC_NO_TARGETS)
        return targets

    async def _locate(
        self, host: str, port: int | None, transport: str | None, secure: bool
    ) -> list[Target]:
        host = bare_host(host.strip())
        if not is_ip_literal(host):
            host = host.rstrip(".")
        if not host:
            raise ResolveError("empty host")
        if port is not None and not 0 < port < 65536:
            raise ResolveError(f"bad port {port}")
        explicit = self._explicit_transport(transport, secure)
        # RFC 3263 §4.1: UDP for a SIP URI, TCP (here: TLS over TCP) for a SIPS URI.
        fallback = "TLS" if secure else ("UDP" if "UDP" in self.transports else self.transports[0])
        chosen = explicit or fallback

        # RFC 3263 §4.2: a numeric TARGET is used as it is, at its port or the default one.
        if is_ip_literal(host):
            return [Target(chosen, host, port or default_port(chosen))]
        # RFC 3263 §4.2: a name with an explicit port: A/AAAA only.
        if port is not None:
            return await self._address_targets(host, port, chosen)
        if self._backend is None:
            return await self._address_targets(host, default_port(chosen), chosen)
        # RFC 3263 §4.2: an explicit transport: SRV for that transport only.
        if explicit is not None:
            records = await self._srv(f"{SRV_SERVICES[explicit]}.{host}")
            if records:
                return await self._srv_targets(records, explicit)
            if records == []:
                raise self._unavailable(host, [explicit])
            return await self._address_targets(host, default_port(explicit), explicit)
        # RFC 3263 §4.1: NAPTR.
        naptr = select_naptr(await self._naptr(host), secure=secure, transports=self.transports)
        if naptr:
            srv_sets = await asyncio.gather(*(self._srv(r.replacement) for r, _ in naptr))
            found: list[Target] = []
            for (_, naptr_transport), records in zip(naptr, srv_sets, strict=True):
                if records:
                    found += await self._srv_targets(records, naptr_transport)
            if found:
                return found
            first = naptr[0][1]
            return await self._address_targets(host, default_port(first), first)
        # RFC 3263 §4.1: no NAPTR: an SRV query per supported transport.
        candidates = ["TLS"] if secure else [t for t in self.transports if t != "TLS"]
        srv_sets = await asyncio.gather(
            *(self._srv(f"{SRV_SERVICES[t]}.{host}") for t in candidates)
        )
        found = []
        unavailable: list[str] = []
        any_records = False
        for candidate, records in zip(candidates, srv_sets, strict=True):
            if records:
                any_records = True
                found += await self._srv_targets(records, candidate)
            elif records == []:
                unavailable.append(candidate)
        if found or any_records:
            return found
        if unavailable and len(unavailable) == len(candidates):
            raise self._unavailable(host, unavailable)
        # RFC 3263 §4.2: no SRV: A/AAAA at the default port.
        return await self._address_targets(host, default_port(fallback), fallback)

    def _explicit_transport(self, transport: str | None, secure: bool) -> str | None:
        if transport is None or not transport.strip():
            return None
        name = transport.strip().upper()
        if secure:
            # RFC 3261 §19.1.2 / RFC 3263 §4.1: a SIPS URI means TLS; transport=tcp is TLS.
            if name in ("TCP", "TLS"):
                return "TLS"
            raise ResolveError(
                f"a SIPS URI cannot use transport {transport!r}", spec_id=SPEC_TRANSPORT_PARAM
            )
        if name not in self.transports:
            raise ResolveError(
                f"transport {transport!r} is not supported (supported: {self.transports})",
                spec_id=SPEC_TRANSPORT_PARAM,
            )
        return name

    def _unavailable(self, host: str, transports: Sequence[str]) -> ResolveError:
        return ResolveError(
            f"SIP service over {'/'.join(transports)} is decidedly not available at {host!r} "
            "(SRV target '.')",
            spec_id=SPEC_SRV_UNAVAILABLE,
        )

    # -- DNS ----------------------------------------------------------------------------------

    async def _query(self, qname: str, rdtype: str, *, lenient: bool) -> list[Any] | None:
        """The rdata of an answer; None when there is none (NXDOMAIN, no data, and when
        ``lenient`` also a server failure)."""
        backend = self._backend
        assert backend is not None
        absent, lenient_absent, dns_error = self._exceptions()
        try:
            answer = await backend.resolve(qname, rdtype, lifetime=self.timeout)
        except absent:
            return None
        except lenient_absent:
            if lenient:
                return None
            raise
        except dns_error as exc:
            raise ResolveError(f"{rdtype} lookup of {qname!r} failed: {exc}") from exc
        records = list(answer) if answer is not None else []
        return records or None

    async def _naptr(self, host: str) -> list[NaptrRecord]:
        rdatas = await self._query(host, "NAPTR", lenient=True)
        try:
            return [
                NaptrRecord(
                    order=_uint16(r.order),
                    preference=_uint16(r.preference),
                    flags=_text(r.flags),
                    service=_text(r.service),
                    regexp=_text(r.regexp),
                    replacement=_name(r.replacement),
                )
                for r in rdatas or []
            ]
        except (AttributeError, TypeError, ValueError) as exc:
            raise ResolveError(f"malformed NAPTR answer for {host!r}: {exc}") from exc

    async def _srv(self, qname: str) -> list[SrvRecord] | None:
        """The usable SRV records; None when there are none, [] when the only target is '.'."""
        rdatas = await self._query(qname, "SRV", lenient=True)
        if rdatas is None:
            return None
        try:
            records = [
                SrvRecord(
                    priority=_uint16(r.priority),
                    weight=_uint16(r.weight),
                    port=_uint16(r.port),
                    target=_name(r.target),
                )
                for r in rdatas
            ]
        except (AttributeError, TypeError, ValueError) as exc:
            raise ResolveError(f"malformed SRV answer for {qname!r}: {exc}") from exc
        usable = [r for r in records if r.target and r.port != 0]
        if usable:
            return usable
        # RFC 2782: a Target of "." means the service is decidedly not available.
        return [] if any(not r.target for r in records) else None

    async def _srv_targets(self, records: Sequence[SrvRecord], transport: str) -> list[Target]:
        ordered = order_srv(records, self._random)
        lookups = await asyncio.gather(
            *(self._addresses(r.target) for r in ordered), return_exceptions=True
        )
        targets: list[Target] = []
        errors: list[Exception] = []
        for record, result in zip(ordered, lookups, strict=True):
            if isinstance(result, BaseException):
                if not isinstance(result, Exception):
                    raise result
                errors.append(result)
                continue
            targets += [Target(transport, address, record.port) for address in result]
        if not targets and errors:
            raise errors[0]
        return targets

    async def _address_targets(self, name: str, port: int, transport: str) -> list[Target]:
        return [Target(transport, address, port) for address in await self._addresses(name)]

    async def _addresses(self, name: str) -> list[str]:
        """A/AAAA (in ``address_types`` order) of a name; [] when it has none."""
        if is_ip_literal(name):
            return [bare_host(name)]
        key = name.lower().rstrip(".")
        if key in self.hosts:
            return list(self.hosts[key])
        if key == "localhost" or key.endswith(".localhost"):
            # RFC 6761 §6.3: localhost names are the loopback addresses.
            loopback = {"A": "127.0.0.1", "AAAA": "::1"}
            return [loopback[t] for t in self.address_types]
        if self._backend is None:
            return await self._getaddrinfo(name)
        results = await asyncio.gather(
            *(self._query(name, rdtype, lenient=False) for rdtype in self.address_types),
            return_exceptions=True,
        )
        addresses: list[str] = []
        errors: list[Exception] = []
        for rdtype, result in zip(self.address_types, results, strict=True):
            if isinstance(result, BaseException):
                if not isinstance(result, Exception):
                    raise result
                errors.append(result)
                continue
            for rdata in result or []:
                address = _text(getattr(rdata, "address", ""))
                if not is_ip_literal(address) or (":" in address) != (rdtype == "AAAA"):
                    raise ResolveError(f"malformed {rdtype} answer for {name!r}: {address!r}")
                addresses.append(address)
        if not addresses and errors:
            error = errors[0]
            if isinstance(error, ResolveError):
                raise error
            raise ResolveError(f"address lookup of {name!r} failed: {error}") from error
        return addresses

    async def _getaddrinfo(self, name: str) -> list[str]:
        families = {"A": socket.AF_INET, "AAAA": socket.AF_INET6}
        wanted = {families[t] for t in self.address_types}
        try:
            infos = await asyncio.get_running_loop().getaddrinfo(name, None, type=socket.SOCK_DGRAM)
        except OSError as exc:
            raise ResolveError(
                f"cannot resolve {name!r}: {exc}; NAPTR/SRV lookups are unavailable: "
                f"{self._why_no_dns or 'no DNS backend'}"
            ) from exc
        addresses: list[str] = []
        for family, _, _, _, sockaddr in infos:
            address = str(sockaddr[0])
            if family in wanted and address not in addresses:
                addresses.append(address)
        order = {families[t]: i for i, t in enumerate(self.address_types)}
        addresses.sort(key=lambda a: order[socket.AF_INET6 if ":" in a else socket.AF_INET])
        return addresses


def _uint16(value: Any) -> int:
    number = int(value)
    if not 0 <= number <= 0xFFFF:
        raise ValueError(f"{number} is not a 16-bit value")
    return number


_ExceptionTypes = tuple[type[BaseException], ...]


def _dns_exceptions() -> tuple[_ExceptionTypes, _ExceptionTypes, _ExceptionTypes]:
    """(absent, absent-when-lenient, other DNS failure) exception classes; empty without
    dnspython (a fake backend then signals absence with an empty answer)."""
    try:
        import dns.exception
        import dns.resolver
    except ImportError:
        return (), (), ()
    return (
        (dns.resolver.NXDOMAIN, dns.resolver.NoAnswer),
        (dns.resolver.NoNameservers,),
        (dns.exception.DNSException,),
    )
