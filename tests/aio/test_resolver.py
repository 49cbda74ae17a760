"""DnsResolver: RFC 3263 §4.1-§4.2 with RFC 2782 SRV ordering, on a fake DNS backend."""

from __future__ import annotations

import asyncio
import ipaddress
import random as stdlib_random
import socket
import sys
from collections import Counter
from collections.abc import Sequence
from typing import Any

import dns.exception
import dns.resolver
import pytest
from hypothesis import given
from hypothesis import strategies as st

from sipfsm import ports
from sipfsm.aio import DnsResolver, ResolveError, order_srv
from sipfsm.aio.resolver import NaptrRecord, SrvRecord, select_naptr
from sipfsm.ports import Target

from .support import FakeDns, ScriptedRandom, dns_error, run

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


def resolver(zone: dict[tuple[str, str], Any], **kwargs: Any) -> tuple[DnsResolver, FakeDns]:
    backend = FakeDns(zone)
    kwargs.setdefault("random", ScriptedRandom())
    return DnsResolver(backend=backend, **kwargs), backend


def locate(dns_resolver: DnsResolver, host: str, **kwargs: Any) -> list[Target]:
    return run(dns_resolver.resolve_targets(host, **kwargs))


# -- numeric TARGET ----------------------------------------------------------------------------

ip_addresses = st.one_of(
    st.ip_addresses(v=4).map(str),
    st.ip_addresses(v=6).map(str),
    st.ip_addresses(v=6).map(lambda a: f"[{a}]"),
)


@pytest.mark.requirement("RFC3263-4.2-NUMERIC-IP-NO-DNS-RESOLVER")
@pytest.mark.requirement("RFC3263-4.1-NUMERIC-DEFAULT-TRANSPORT-RESOLVER")
@given(
    ip_addresses,
    st.none() | st.integers(1, 65535),
    st.none() | st.sampled_from(["udp", "TCP"]),
    st.booleans(),
)
def test_numeric_target_is_used_as_is_without_dns(
    host: str, port: int | None, transport: str | None, secure: bool
) -> None:
    dns_resolver, backend = resolver({})
    if secure and transport == "udp":
        with pytest.raises(ResolveError, match="SIPS"):
            locate(dns_resolver, host, port=port, transport=transport, secure=secure)
        return
    targets = locate(dns_resolver, host, port=port, transport=transport, secure=secure)
    expected_transport = "TLS" if secure else (transport or "UDP").upper()
    expected_port = port or (5061 if secure else 5060)
    assert targets == [Target(expected_transport, host.strip("[]"), expected_port)]
    assert ipaddress.ip_address(targets[0].host)
    assert backend.queries == []


# -- explicit port -----------------------------------------------------------------------------


@pytest.mark.requirement("RFC3263-4.2-EXPLICIT-PORT-A-AAAA-RESOLVER")
@pytest.mark.requirement("RFC3263-4.1-EXPLICIT-PORT-TRANSPORT-RESOLVER")
@pytest.mark.parametrize("port", [5060, 5070])
def test_name_with_port_uses_a_and_aaaa_only(port: int) -> None:
    dns_resolver, backend = resolver({**SRV_ZONE, (DOMAIN, "NAPTR"): EXAMPLE_NAPTR})
    targets = locate(dns_resolver, DOMAIN, port=port)
    assert targets == [
        Target("UDP", "192.0.2.1", port),
        Target("UDP", "192.0.2.2", port),
        Target("UDP", "2001:db8::1", port),
    ]
    assert backend.types_queried() == {"A", "AAAA"}
    secure = locate(dns_resolver, DOMAIN, port=port, secure=True)
    assert {t.transport for t in secure} == {"TLS"}


@pytest.mark.requirement("RFC3263-4.2-EXPLICIT-PORT-A-AAAA-RESOLVER")
def test_address_order_follows_address_types() -> None:
    dns_resolver, _ = resolver(SRV_ZONE, address_types=("AAAA", "A"))
    hosts = [t.host for t in locate(dns_resolver, DOMAIN, port=5060)]
    assert hosts == ["2001:db8::1", "192.0.2.1", "192.0.2.2"]
    ipv4_only, backend = resolver(SRV_ZONE, address_types=("A",))
    assert [t.host for t in locate(ipv4_only, DOMAIN, port=5060)] == ["192.0.2.1", "192.0.2.2"]
    assert backend.types_queried() == {"A"}


# -- explicit transport ------------------------------------------------------------------------


@pytest.mark.requirement("RFC3263-4.1-TRANSPORT-PARAM-RESOLVER")
@pytest.mark.requirement("RFC3263-4.2-SRV-QUERY-RESOLVER")
@pytest.mark.parametrize(
    ("transport", "secure", "srv_name", "expected"),
    [
        ("tcp", False, "_sip._tcp.example.com", Target("TCP", "192.0.2.20", 5060)),
        ("udp", False, "_sip._udp.example.com", Target("UDP", "192.0.2.10", 5060)),
        ("tls", False, "_sips._tcp.example.com", Target("TLS", "192.0.2.30", 5061)),
        ("tcp", True, "_sips._tcp.example.com", Target("TLS", "192.0.2.30", 5061)),
    ],
)
def test_transport_param_selects_that_srv_only(
    transport: str, secure: bool, srv_name: str, expected: Target
) -> None:
    dns_resolver, backend = resolver(
        {**SRV_ZONE, (DOMAIN, "NAPTR"): EXAMPLE_NAPTR}, transports=("UDP", "TCP", "TLS")
    )
    assert locate(dns_resolver, DOMAIN, transport=transport, secure=secure) == [expected]
    assert (srv_name, "SRV") in backend.queries
    assert [q for q in backend.queries if q[1] in ("SRV", "NAPTR")] == [(srv_name, "SRV")]


@pytest.mark.requirement("RFC3263-4.1-TRANSPORT-PARAM-RESOLVER")
@pytest.mark.requirement("RFC3263-4.2-NO-SRV-A-AAAA-RESOLVER")
def test_transport_param_without_srv_falls_back_to_a_at_the_default_port() -> None:
    zone = {k: v for k, v in SRV_ZONE.items() if k[1] != "SRV"}
    dns_resolver, _ = resolver(zone)
    assert locate(dns_resolver, DOMAIN, transport="TCP")[0] == Target("TCP", "192.0.2.1", 5060)


@pytest.mark.requirement("RFC3263-4.1-TRANSPORT-PARAM-RESOLVER")
def test_impossible_transports_are_errors() -> None:
    dns_resolver, _ = resolver(SRV_ZONE)
    with pytest.raises(ResolveError, match="SIPS"):
        locate(dns_resolver, DOMAIN, transport="udp", secure=True)
    with pytest.raises(ResolveError, match="not supported"):
        locate(dns_resolver, DOMAIN, transport="sctp")
    with pytest.raises(ResolveError, match="not supported"):
        locate(dns_resolver, "192.0.2.1", transport="tls")


# -- NAPTR -------------------------------------------------------------------------------------


@pytest.mark.requirement("RFC3263-4.1-NAPTR-QUERY-RESOLVER")
@pytest.mark.requirement("RFC3263-4.1-DISCARD-UNSUPPORTED-RESOLVER")
@pytest.mark.requirement("RFC3263-4.2-SRV-QUERY-RESOLVER")
def test_rfc_example_client_without_tls_uses_tcp() -> None:
    # RFC 3263 §4.1: "Since the client supports TCP and UDP, TCP will be used"
    dns_resolver, backend = resolver({**SRV_ZONE, (DOMAIN, "NAPTR"): EXAMPLE_NAPTR})
    assert locate(dns_resolver, DOMAIN) == [Target("TCP", "192.0.2.20", 5060)]
    assert backend.queries[0] == (DOMAIN, "NAPTR")
    assert ("_sips._tcp.example.com", "SRV") not in backend.queries
    assert ("_sip._udp.example.com", "SRV") not in backend.queries  # higher order: not used


@pytest.mark.requirement("RFC3263-4.1-SIP-RETAIN-SIPS-RESOLVER")
def test_sip_uri_keeps_sips_records_when_the_client_has_tls() -> None:
    dns_resolver, _ = resolver(
        {**SRV_ZONE, (DOMAIN, "NAPTR"): EXAMPLE_NAPTR}, transports=("UDP", "TCP", "TLS")
    )
    assert locate(dns_resolver, DOMAIN) == [Target("TLS", "192.0.2.30", 5061)]


@pytest.mark.requirement("RFC3263-4.1-SIPS-DISCARD-RESOLVER")
def test_sips_uri_keeps_only_sips_services() -> None:
    naptr = [
        '10 50 "s" "SIP+D2U" "" _sip._udp.example.com.',
        '20 50 "s" "SIP+D2T" "" _sip._tcp.example.com.',
        '30 50 "s" "SIPS+D2T" "" _sips._tcp.example.com.',
    ]
    dns_resolver, backend = resolver({**SRV_ZONE, (DOMAIN, "NAPTR"): naptr})
    assert locate(dns_resolver, DOMAIN, secure=True) == [Target("TLS", "192.0.2.30", 5061)]
    assert ("_sip._udp.example.com", "SRV") not in backend.queries


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


@pytest.mark.requirement("RFC3263-4.1-SIPS-DISCARD-RESOLVER")
@pytest.mark.requirement("RFC3263-4.1-DISCARD-UNSUPPORTED-RESOLVER")
@pytest.mark.requirement("RFC3263-4.1-SIP-RETAIN-SIPS-RESOLVER")
@given(
    st.lists(naptr_records, max_size=8),
    st.booleans(),
    st.sets(st.sampled_from(["UDP", "TCP", "TLS", "SCTP"]), min_size=1),
)
def test_naptr_selection_properties(
    records: list[NaptrRecord], secure: bool, transports: set[str]
) -> None:
    chosen = select_naptr(records, secure=secure, transports=sorted(transports))
    for record, transport in chosen:
        service = record.service.upper()
        assert service in ("SIP+D2U", "SIP+D2T", "SIPS+D2T", "SIP+D2S")
        if secure:
            assert service == "SIPS+D2T" and transport == "TLS"
        else:
            assert transport in transports
        assert record.flags.lower() == "s" and record.regexp == ""
    # one order only (RFC 2915), the lowest usable one, by ascending preference
    assert len({r.order for r, _ in chosen}) <= 1
    assert [r.preference for r, _ in chosen] == sorted(r.preference for r, _ in chosen)
    usable_orders = [
        r.order
        for r in records
        if r.flags.lower() == "s"
        and not r.regexp
        and (
            (secure and r.service.upper() == "SIPS+D2T")
            or (
                not secure
                and {"SIP+D2U": "UDP", "SIP+D2T": "TCP", "SIPS+D2T": "TLS", "SIP+D2S": "SCTP"}.get(
                    r.service.upper()
                )
                in transports
            )
        )
    ]
    if usable_orders:
        assert chosen and chosen[0][0].order == min(usable_orders)
    else:
        assert chosen == []


@pytest.mark.requirement("RFC3263-4.1-NAPTR-QUERY-RESOLVER")
def test_same_order_naptr_records_are_followed_by_preference() -> None:
    naptr = [
        '10 20 "s" "SIP+D2U" "" _sip._udp.example.com.',
        '10 10 "s" "SIP+D2T" "" _sip._tcp.example.com.',
    ]
    dns_resolver, _ = resolver({**SRV_ZONE, (DOMAIN, "NAPTR"): naptr})
    assert locate(dns_resolver, DOMAIN) == [
        Target("TCP", "192.0.2.20", 5060),
        Target("UDP", "192.0.2.10", 5060),
    ]


@pytest.mark.requirement("RFC3263-4.2-NO-SRV-A-AAAA-RESOLVER")
def test_naptr_without_srv_falls_back_to_a_with_the_naptr_transport() -> None:
    zone = {k: v for k, v in SRV_ZONE.items() if k[1] != "SRV"}
    zone[(DOMAIN, "NAPTR")] = ['10 10 "s" "SIP+D2T" "" _sip._tcp.example.com.']
    dns_resolver, _ = resolver(zone)
    assert locate(dns_resolver, DOMAIN)[0] == Target("TCP", "192.0.2.1", 5060)


@pytest.mark.requirement("RFC3263-4.1-NO-NAPTR-SRV-RESOLVER")
def test_unusable_naptr_records_count_as_none() -> None:
    dns_resolver, backend = resolver(
        {**SRV_ZONE, (DOMAIN, "NAPTR"): ['10 10 "u" "E2U+sip" "!^.*$!sip:a@b!" .']}
    )
    assert locate(dns_resolver, DOMAIN)[0] == Target("UDP", "192.0.2.10", 5060)
    assert ("_sip._tcp.example.com", "SRV") in backend.queries


# -- no NAPTR ----------------------------------------------------------------------------------


@pytest.mark.requirement("RFC3263-4.1-NO-NAPTR-SRV-RESOLVER")
def test_without_naptr_srv_is_queried_for_each_supported_transport() -> None:
    dns_resolver, backend = resolver(SRV_ZONE, transports=("TCP", "UDP", "TLS"))
    assert locate(dns_resolver, DOMAIN) == [
        Target("TCP", "192.0.2.20", 5060),
        Target("UDP", "192.0.2.10", 5060),
    ]
    srv_queries = {name for name, rdtype in backend.queries if rdtype == "SRV"}
    assert srv_queries == {"_sip._tcp.example.com", "_sip._udp.example.com"}
    secure, backend = resolver(SRV_ZONE)
    assert locate(secure, DOMAIN, secure=True) == [Target("TLS", "192.0.2.30", 5061)]
    assert {n for n, t in backend.queries if t == "SRV"} == {"_sips._tcp.example.com"}


@pytest.mark.requirement("RFC3263-4.1-NO-SRV-DEFAULT-TRANSPORT-RESOLVER")
@pytest.mark.requirement("RFC3263-4.2-NO-SRV-A-AAAA-RESOLVER")
def test_without_naptr_or_srv_the_domain_addresses_at_the_default_port() -> None:
    zone = {k: v for k, v in SRV_ZONE.items() if k[1] != "SRV"}
    dns_resolver, _ = resolver(zone)
    assert locate(dns_resolver, DOMAIN) == [
        Target("UDP", "192.0.2.1", 5060),
        Target("UDP", "192.0.2.2", 5060),
        Target("UDP", "2001:db8::1", 5060),
    ]
    assert {t.transport for t in locate(dns_resolver, DOMAIN, secure=True)} == {"TLS"}
    assert {t.port for t in locate(dns_resolver, DOMAIN, secure=True)} == {5061}
    tcp_only, _ = resolver(zone, transports=("TCP",))
    assert {t.transport for t in locate(tcp_only, DOMAIN)} == {"TCP"}


@pytest.mark.requirement("RFC3263-4.2-NO-SRV-A-AAAA-RESOLVER")
def test_a_name_without_addresses_is_a_resolve_error() -> None:
    dns_resolver, _ = resolver({})
    with pytest.raises(ResolveError) as info:
        locate(dns_resolver, "nowhere.example")
    assert info.value.spec_id == "RFC3263-4.2-NO-SRV-A-AAAA-RESOLVER"


@pytest.mark.requirement("RFC2782-USAGE-DOT-TARGET-RESOLVER")
def test_dot_srv_target_means_not_available_no_a_fallback() -> None:
    zone = {
        ("_sip._udp.example.com", "SRV"): ["0 0 0 ."],
        ("_sip._tcp.example.com", "SRV"): ["0 0 0 ."],
        ("example.com", "A"): ["192.0.2.1"],
    }
    dns_resolver, backend = resolver(zone)
    with pytest.raises(ResolveError, match="decidedly") as info:
        locate(dns_resolver, DOMAIN)
    assert info.value.spec_id == "RFC2782-USAGE-DOT-TARGET-RESOLVER"
    assert (DOMAIN, "A") not in backend.queries
    with pytest.raises(ResolveError, match="decidedly"):
        locate(dns_resolver, DOMAIN, transport="udp")
    # one transport unavailable, the other fine
    zone[("_sip._tcp.example.com", "SRV")] = ["0 0 5060 tcp.example.com."]
    zone[("tcp.example.com", "A")] = ["192.0.2.20"]
    dns_resolver, _ = resolver(zone)
    assert locate(dns_resolver, DOMAIN) == [Target("TCP", "192.0.2.20", 5060)]


# -- SRV ordering (RFC 2782) -------------------------------------------------------------------

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


@pytest.mark.requirement("RFC2782-USAGE-PRIORITY-RESOLVER")
@given(srv_sets, fractions)
def test_order_srv_is_a_permutation_by_ascending_priority(
    records: list[SrvRecord], picks: list[float]
) -> None:
    ordered = order_srv(records, ScriptedRandom(picks))
    assert Counter(ordered) == Counter(records)
    assert [r.priority for r in ordered] == sorted(r.priority for r in records)


def reference_order(records: list[SrvRecord], picks: list[float]) -> list[SrvRecord]:
    """RFC 2782's algorithm, written out again literally."""
    rng = ScriptedRandom(picks)
    out: list[SrvRecord] = []
    for priority in sorted({r.priority for r in records}):
        unordered = [r for r in records if r.priority == priority]
        unordered.sort(key=lambda r: r.weight != 0)  # weight 0 first, otherwise as given
        while unordered:
            total = sum(r.weight for r in unordered)
            number = rng.uniform(0, total) if total else 0
            running = 0
            for record in unordered:
                running += record.weight
                if running >= number:
                    break
            out.append(record)
            unordered.remove(record)
    return out


@pytest.mark.requirement("RFC2782-USAGE-WEIGHT-ORDER-RESOLVER")
@given(srv_sets, fractions)
def test_order_srv_follows_the_weighted_selection_algorithm(
    records: list[SrvRecord], picks: list[float]
) -> None:
    assert order_srv(records, ScriptedRandom(picks)) == reference_order(records, picks)


class SeededRandom:
    def __init__(self, seed: int) -> None:
        self._rng = stdlib_random.Random(seed)

    def token(self, nbits: int) -> str:
        return "x"

    def uniform(self, low: float, high: float) -> float:
        return self._rng.uniform(low, high)


@pytest.mark.requirement("RFC2782-USAGE-WEIGHT-ORDER-RESOLVER")
def test_larger_weights_come_first_proportionately_more_often() -> None:
    records = [
        SrvRecord(10, 60, 5060, "big.example.com"),
        SrvRecord(10, 20, 5060, "small.example.com"),
        SrvRecord(10, 20, 5060, "small2.example.com"),
        SrvRecord(10, 0, 5060, "zero.example.com"),
    ]
    random: ports.Random = SeededRandom(3263)
    firsts = Counter(order_srv(records, random)[0].target for _ in range(4000))
    assert 0.55 < firsts["big.example.com"] / 4000 < 0.65
    assert 0.16 < firsts["small.example.com"] / 4000 < 0.24
    assert firsts["zero.example.com"] / 4000 < 0.01


@pytest.mark.requirement("RFC3263-4.2-SRV-USAGE-RULES-RESOLVER")
@given(srv_sets, fractions, st.booleans())
def test_resolved_targets_respect_priority_and_appear_once(
    records: list[SrvRecord], picks: list[float], via_naptr: bool
) -> None:
    zone: dict[tuple[str, str], Any] = {
        ("_sip._udp.example.com", "SRV"): [
            f"{r.priority} {r.weight} {r.port} {r.target}." for r in records
        ],
    }
    if via_naptr:
        zone[(DOMAIN, "NAPTR")] = ['1 1 "s" "SIP+D2U" "" _sip._udp.example.com.']
    address_of: dict[str, str] = {}
    for record in records:
        number = int(record.target[1:].split(".")[0])
        address_of[record.target] = f"192.0.2.{number}"
        zone[(record.target, "A")] = [f"192.0.2.{number}"]
    dns_resolver, _ = resolver(zone, random=ScriptedRandom(picks))
    targets = locate(dns_resolver, DOMAIN)
    assert len(targets) == len(set(targets))
    expected = {Target("UDP", address_of[r.target], r.port) for r in records}
    assert set(targets) == expected
    priority_of = {Target("UDP", address_of[r.target], r.port): r.priority for r in records}
    priorities = [priority_of[t] for t in targets]
    assert priorities == sorted(priorities)
    assert targets == [
        Target("UDP", address_of[r.target], r.port) for r in reference_order(records, picks)
    ]


@pytest.mark.requirement("RFC3263-4.2-SRV-USAGE-RULES-RESOLVER")
def test_srv_targets_expand_to_all_their_addresses_in_place() -> None:
    zone = {
        ("_sip._udp.example.com", "SRV"): ["0 0 5070 a.example.com.", "1 0 5080 b.example.com."],
        ("a.example.com", "A"): ["192.0.2.1", "192.0.2.2"],
        ("a.example.com", "AAAA"): ["2001:db8::a"],
        ("b.example.com", "A"): ["192.0.2.1"],
        ("broken.example.com", "A"): ["192.0.2.9"],
    }
    dns_resolver, _ = resolver(zone)
    assert locate(dns_resolver, DOMAIN) == [
        Target("UDP", "192.0.2.1", 5070),
        Target("UDP", "192.0.2.2", 5070),
        Target("UDP", "2001:db8::a", 5070),
        Target("UDP", "192.0.2.1", 5080),
    ]


def test_srv_target_without_address_is_skipped() -> None:
    zone = {
        ("_sip._udp.example.com", "SRV"): ["0 0 5060 gone.example.com.", "1 0 5060 b.example."],
        ("b.example", "A"): ["192.0.2.7"],
    }
    dns_resolver, _ = resolver(zone)
    assert locate(dns_resolver, DOMAIN) == [Target("UDP", "192.0.2.7", 5060)]


# -- failures, bounds, the port API ------------------------------------------------------------


def test_malformed_answers_are_resolve_errors() -> None:
    class Garbage:
        async def resolve(self, qname: str, rdtype: str, *, lifetime: float | None = None) -> Any:
            if rdtype == "A":
                return [type("R", (), {"address": "not-an-ip"})()]
            if rdtype == "SRV":
                return [type("R", (), {"priority": "x"})()]
            raise dns_error(dns.resolver.NXDOMAIN)

    dns_resolver = DnsResolver(backend=Garbage(), random=ScriptedRandom())
    with pytest.raises(ResolveError, match="malformed SRV"):
        locate(dns_resolver, DOMAIN)
    with pytest.raises(ResolveError, match="malformed A"):
        locate(dns_resolver, DOMAIN, port=5060)


def test_dns_failures_become_resolve_errors() -> None:
    dns_resolver, _ = resolver(
        {(DOMAIN, "A"): dns_error(dns.exception.Timeout), (DOMAIN, "AAAA"): []}
    )
    with pytest.raises(ResolveError, match="failed"):
        locate(dns_resolver, DOMAIN, port=5060)
    # a server failure on NAPTR is taken as "no NAPTR"
    lenient, _ = resolver({**SRV_ZONE, (DOMAIN, "NAPTR"): dns_error(dns.resolver.NoNameservers)})
    assert locate(lenient, DOMAIN)[0] == Target("UDP", "192.0.2.10", 5060)


def test_every_resolution_is_bounded_by_the_timeout() -> None:
    class Silent:
        async def resolve(self, qname: str, rdtype: str, *, lifetime: float | None = None) -> Any:
            await asyncio.sleep(60)

    dns_resolver = DnsResolver(backend=Silent(), random=ScriptedRandom(), timeout=0.05)
    with pytest.raises(ResolveError, match="longer than"):
        locate(dns_resolver, DOMAIN)


def test_bad_arguments() -> None:
    dns_resolver, _ = resolver({})
    with pytest.raises(ResolveError, match="empty"):
        locate(dns_resolver, "")
    with pytest.raises(ResolveError, match="bad port"):
        locate(dns_resolver, "192.0.2.1", port=70000)
    with pytest.raises(ValueError):
        DnsResolver(backend=FakeDns({}), transports=("QUIC",))
    with pytest.raises(ValueError):
        DnsResolver(backend=FakeDns({}), address_types=("MX",))


def test_hosts_and_localhost_need_no_dns() -> None:
    dns_resolver, backend = resolver({}, hosts={"Registrar.Lab": ["10.0.0.5"]})
    assert locate(dns_resolver, "registrar.lab", port=5060) == [Target("UDP", "10.0.0.5", 5060)]
    assert locate(dns_resolver, "localhost", port=5080) == [
        Target("UDP", "127.0.0.1", 5080),
        Target("UDP", "::1", 5080),
    ]
    assert [q for q in backend.queries if q[1] in ("A", "AAAA")] == []


def test_resolver_port_calls_exactly_one_callback_once() -> None:
    async def scenario() -> tuple[list[Any], list[Any]]:
        dns_resolver, _ = resolver(SRV_ZONE)
        port_api: ports.Resolver = dns_resolver
        done: list[Any] = []
        failed: list[Any] = []
        port_api.resolve(
            DOMAIN,
            port=None,
            transport=None,
            secure=False,
            on_done=done.append,
            on_error=failed.append,
        )
        port_api.resolve(
            "nowhere.example",
            port=None,
            transport=None,
            secure=False,
            on_done=done.append,
            on_error=failed.append,
        )
        await asyncio.sleep(0.1)
        return done, failed

    done, failed = run(scenario())
    assert done == [[Target("UDP", "192.0.2.10", 5060), Target("TCP", "192.0.2.20", 5060)]]
    assert len(failed) == 1 and isinstance(failed[0], ResolveError)


def test_close_cancels_with_an_error_callback() -> None:
    class Silent:
        async def resolve(self, qname: str, rdtype: str, *, lifetime: float | None = None) -> Any:
            await asyncio.sleep(60)

    async def scenario() -> list[Any]:
        dns_resolver = DnsResolver(backend=Silent(), random=ScriptedRandom())
        failed: list[Any] = []
        dns_resolver.resolve(
            DOMAIN,
            port=None,
            transport=None,
            secure=False,
            on_done=failed.append,
            on_error=failed.append,
        )
        await asyncio.sleep(0.01)
        dns_resolver.close()
        await asyncio.sleep(0.01)
        return failed

    failed = run(scenario())
    assert len(failed) == 1 and isinstance(failed[0], ResolveError)


# -- without dnspython -------------------------------------------------------------------------


@pytest.fixture
def no_dnspython(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in list(sys.modules):
        if name == "dns" or name.startswith("dns."):
            monkeypatch.delitem(sys.modules, name)
    monkeypatch.setitem(sys.modules, "dns", None)


@pytest.mark.requirement("RFC3263-4.2-NUMERIC-IP-NO-DNS-RESOLVER")
@pytest.mark.usefixtures("no_dnspython")
def test_without_dnspython_literals_and_system_names_still_work() -> None:
    dns_resolver = DnsResolver(random=ScriptedRandom())
    assert not dns_resolver.uses_dns
    assert locate(dns_resolver, "192.0.2.1") == [Target("UDP", "192.0.2.1", 5060)]
    assert locate(dns_resolver, "localhost") == [
        Target("UDP", "127.0.0.1", 5060),
        Target("UDP", "::1", 5060),
    ]

    async def scenario(name: str) -> list[Target]:
        loop = asyncio.get_running_loop()

        async def getaddrinfo(host: str, *args: Any, **kwargs: Any) -> list[Any]:
            if host == "registrar.lab":
                return [
                    (socket.AF_INET6, 0, 0, "", ("2001:db8::5", 0, 0, 0)),
                    (socket.AF_INET, 0, 0, "", ("10.0.0.5", 0)),
                ]
            raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")

        loop.getaddrinfo = getaddrinfo  # type: ignore[method-assign,assignment]
        return await dns_resolver.resolve_targets(name, transport="tcp")

    assert run(scenario("registrar.lab")) == [
        Target("TCP", "10.0.0.5", 5060),
        Target("TCP", "2001:db8::5", 5060),
    ]
    with pytest.raises(ResolveError, match="dnspython is not installed"):
        run(scenario("elsewhere.example"))
