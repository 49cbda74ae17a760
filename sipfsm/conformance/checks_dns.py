"""Conformance checks for ``DnsResolver``: RFC 3263 §4.1-§4.2 server location and the RFC 2782
SRV usage rules (spec/dns.toml).

Most checks run the resolver against :class:`~sipfsm.conformance.dns_support.FakeDns`, a table
of records, and state the RFC's rule over the targets returned and the queries made; the SRV
ordering rules are hypothesis properties over generated record sets.  Two checks go through
dnspython's real asynchronous resolver to a small DNS server on 127.0.0.1.

dnspython is optional: without it the fake backend answers with plain record objects, so every
check but the two real-DNS ones still verifies its rule (those return early, see their notes).
"""

from __future__ import annotations

import ipaddress
from collections import Counter
from collections.abc import Sequence

from hypothesis import example, given
from hypothesis import strategies as st

from sipfsm.aio import DnsResolver, ResolveError, order_srv
from sipfsm.aio.resolver import NaptrRecord, SrvRecord, select_naptr
from sipfsm.conformance.aio_support import ScriptedRandom, raises, run
from sipfsm.conformance.dns_support import (
    DOMAIN,
    EXAMPLE_NAPTR,
    LOOPBACK_ZONE,
    SRV_ZONE,
    Zone,
    fractions,
    has_dnspython,
    ip_literals,
    locate,
    naptr_records,
    reference_order,
    resolver,
    serve_dns,
    srv_sets,
    without_dnspython,
)
from sipfsm.conformance.registry import check, expect
from sipfsm.ports import Target
from sipfsm.sim import SeededRandom

# A client's transports in its order of preference (RFC 3263 §4.1's defaults do not follow it).
CLIENT_TRANSPORT_ORDERS = [("UDP", "TCP"), ("TCP", "UDP"), ("TLS", "TCP", "UDP"),
                           ("TCP", "TLS", "UDP")]


def _without_srv(zone: Zone) -> dict[tuple[str, str], Sequence[str] | BaseException]:
    return {k: v for k, v in zone.items() if k[1] != "SRV"}


# --------------------------------------------------------------------------------------------
# §4.1 / §4.2: a numeric TARGET
# --------------------------------------------------------------------------------------------


@check("RFC3263-4.2-NUMERIC-IP-NO-DNS-RESOLVER", "RFC3263-4.1-NUMERIC-DEFAULT-TRANSPORT-RESOLVER")
@given(
    ip_literals,
    st.none() | st.integers(1, 65535),
    st.none() | st.sampled_from(["udp", "TCP"]),
    st.booleans(),
    st.sampled_from(CLIENT_TRANSPORT_ORDERS),
)
def numeric_target_is_used_as_is_without_dns(
    host: str, port: int | None, transport: str | None, secure: bool, transports: tuple[str, ...]
) -> None:
    """An IP literal (IPv6 with or without brackets) is the one target, at the URI's port or
    the default one (5060, 5061 for TLS), UDP for SIP and TLS for SIPS unless a transport is
    given, whatever the client's order of preference among its transports; the DNS backend is
    never asked.  UDP with a SIPS URI is refused."""
    dns_resolver, backend = resolver({}, transports=transports)
    if secure and transport == "udp":
        with raises(ResolveError, match="SIPS"):
            locate(dns_resolver, host, port=port, transport=transport, secure=secure)
        return
    targets = locate(dns_resolver, host, port=port, transport=transport, secure=secure)
    expected_transport = "TLS" if secure else (transport or "UDP").upper()
    expected_port = port or (5061 if secure else 5060)
    numeric = "RFC3263-4.2-NUMERIC-IP-NO-DNS-RESOLVER"
    expect(numeric, [(t.host, t.port) for t in targets] == [(host.strip("[]"), expected_port)]
           and ipaddress.ip_address(targets[0].host), f"{host} port {port}: {targets}")
    expect("RFC3263-4.1-NUMERIC-DEFAULT-TRANSPORT-RESOLVER" if transport is None else numeric,
           [t.transport for t in targets] == [expected_transport],
           f"{host} transport={transport} secure={secure}: {targets}")
    expect(numeric, backend.queries == [], f"DNS asked {backend.queries}")


@check("RFC3263-4.2-NUMERIC-IP-NO-DNS-RESOLVER")
def numeric_target_needs_no_dnspython() -> None:
    """With dnspython absent (hidden for the duration of the check), IP literals and localhost
    still resolve, without any DNS."""
    with without_dnspython():
        dns_resolver = DnsResolver(random=ScriptedRandom())
        assert not dns_resolver.uses_dns
        assert locate(dns_resolver, "192.0.2.1") == [Target("UDP", "192.0.2.1", 5060)]
        assert locate(dns_resolver, "[2001:db8::1]", port=5070, secure=True) == [
            Target("TLS", "2001:db8::1", 5070)
        ]
        assert locate(dns_resolver, "localhost") == [
            Target("UDP", "127.0.0.1", 5060),
            Target("UDP", "::1", 5060),
        ]


# --------------------------------------------------------------------------------------------
# §4.1 / §4.2: a host name with an explicit port
# --------------------------------------------------------------------------------------------


@check("RFC3263-4.2-EXPLICIT-PORT-A-AAAA-RESOLVER", "RFC3263-4.1-EXPLICIT-PORT-TRANSPORT-RESOLVER")
@example(5060, ("UDP", "TCP"))
@given(st.integers(1, 65535), st.sampled_from(CLIENT_TRANSPORT_ORDERS))
def name_with_port_uses_a_and_aaaa_only(port: int, transports: tuple[str, ...]) -> None:
    """A name with a port (even 5060) is looked up with A and AAAA only, although NAPTR and
    SRV records exist; every address is a target at that port, UDP for SIP (whatever the
    client's order of preference among its transports), TLS for SIPS."""
    dns_resolver, backend = resolver({**SRV_ZONE, (DOMAIN, "NAPTR"): EXAMPLE_NAPTR},
                                     transports=transports)
    targets = locate(dns_resolver, DOMAIN, port=port)
    a_aaaa, transport = ("RFC3263-4.2-EXPLICIT-PORT-A-AAAA-RESOLVER",
                         "RFC3263-4.1-EXPLICIT-PORT-TRANSPORT-RESOLVER")
    expect(a_aaaa, [(t.host, t.port) for t in targets]
           == [("192.0.2.1", port), ("192.0.2.2", port), ("2001:db8::1", port)],
           f"port {port}: {targets}")
    expect(transport, {t.transport for t in targets} == {"UDP"}, f"SIP URI: {targets}")
    expect(a_aaaa, backend.types_queried() == {"A", "AAAA"},
           f"queried {backend.types_queried()}")
    secure = locate(dns_resolver, DOMAIN, port=port, secure=True)
    expect(transport, {t.transport for t in secure} == {"TLS"}, f"SIPS URI: {secure}")
    expect(a_aaaa, {t.port for t in secure} == {port}, f"SIPS URI: {secure}")


@check("RFC3263-4.2-EXPLICIT-PORT-A-AAAA-RESOLVER")
def address_order_follows_address_types() -> None:
    """The addresses come in the configured A/AAAA order, and only the configured types are
    queried."""
    dns_resolver, _ = resolver(SRV_ZONE, address_types=("AAAA", "A"))
    hosts = [t.host for t in locate(dns_resolver, DOMAIN, port=5060)]
    assert hosts == ["2001:db8::1", "192.0.2.1", "192.0.2.2"]
    ipv4_only, backend = resolver(SRV_ZONE, address_types=("A",))
    assert [t.host for t in locate(ipv4_only, DOMAIN, port=5060)] == ["192.0.2.1", "192.0.2.2"]
    assert backend.types_queried() == {"A"}


# --------------------------------------------------------------------------------------------
# §4.1 / §4.2: an explicit transport parameter
# --------------------------------------------------------------------------------------------

_EXPLICIT_TRANSPORTS = [
    ("tcp", False, "_sip._tcp.example.com", Target("TCP", "192.0.2.20", 5060)),
    ("udp", False, "_sip._udp.example.com", Target("UDP", "192.0.2.10", 5060)),
    ("tls", False, "_sips._tcp.example.com", Target("TLS", "192.0.2.30", 5061)),
    ("tcp", True, "_sips._tcp.example.com", Target("TLS", "192.0.2.30", 5061)),
]


@check("RFC3263-4.1-TRANSPORT-PARAM-RESOLVER", "RFC3263-4.2-SRV-QUERY-RESOLVER")
def transport_param_selects_that_srv_only() -> None:
    """With a transport parameter, no NAPTR query is made and SRV is queried only for that
    transport (_sips for TLS and for SIPS URIs, where tcp means TLS)."""
    for transport, secure, srv_name, expected in _EXPLICIT_TRANSPORTS:
        dns_resolver, backend = resolver(
            {**SRV_ZONE, (DOMAIN, "NAPTR"): EXAMPLE_NAPTR}, transports=("UDP", "TCP", "TLS")
        )
        got = locate(dns_resolver, DOMAIN, transport=transport, secure=secure)
        expect("RFC3263-4.1-TRANSPORT-PARAM-RESOLVER", got == [expected],
               f"transport={transport} secure={secure}: {got}, expected {[expected]}")
        queries = [q for q in backend.queries if q[1] in ("SRV", "NAPTR")]
        expect("RFC3263-4.2-SRV-QUERY-RESOLVER", queries == [(srv_name, "SRV")],
               f"transport={transport} secure={secure}: queried {queries}")


@check("RFC3263-4.1-TRANSPORT-PARAM-RESOLVER", "RFC3263-4.2-NO-SRV-A-AAAA-RESOLVER")
def transport_param_without_srv_falls_back_to_a_at_the_default_port() -> None:
    """A transport parameter without SRV records: the domain's addresses over that transport,
    at its default port."""
    dns_resolver, _ = resolver(_without_srv(SRV_ZONE))
    got = locate(dns_resolver, DOMAIN, transport="TCP")[:1]
    expect("RFC3263-4.1-TRANSPORT-PARAM-RESOLVER", [t.transport for t in got] == ["TCP"],
           f"transport=TCP: {got}")
    expect("RFC3263-4.2-NO-SRV-A-AAAA-RESOLVER", [(t.host, t.port) for t in got]
           == [("192.0.2.1", 5060)], f"no SRV: {got}, expected 192.0.2.1 at 5060")


@check("RFC3263-4.1-TRANSPORT-PARAM-RESOLVER")
def impossible_transports_are_errors() -> None:
    """UDP with a SIPS URI, and a transport the client does not support, are ResolveErrors."""
    dns_resolver, _ = resolver(SRV_ZONE)
    with raises(ResolveError, match="SIPS"):
        locate(dns_resolver, DOMAIN, transport="udp", secure=True)
    with raises(ResolveError, match="not supported"):
        locate(dns_resolver, DOMAIN, transport="sctp")
    with raises(ResolveError, match="not supported"):
        locate(dns_resolver, "192.0.2.1", transport="tls")


# --------------------------------------------------------------------------------------------
# §4.1: NAPTR
# --------------------------------------------------------------------------------------------


@check("RFC3263-4.1-NAPTR-QUERY-RESOLVER", "RFC3263-4.1-DISCARD-UNSUPPORTED-RESOLVER",
       "RFC3263-4.2-SRV-QUERY-RESOLVER")
def rfc_example_client_without_tls_uses_tcp() -> None:
    """RFC 3263 §4.1's example: NAPTR is queried first; a client without TLS drops SIPS+D2T and
    follows SIP+D2T (the lowest usable order) to its SRV replacement: "TCP will be used"."""
    dns_resolver, backend = resolver({**SRV_ZONE, (DOMAIN, "NAPTR"): EXAMPLE_NAPTR})
    got = locate(dns_resolver, DOMAIN)
    expect("RFC3263-4.1-NAPTR-QUERY-RESOLVER", backend.queries[:1] == [(DOMAIN, "NAPTR")],
           f"first query {backend.queries[:1]}")
    expect("RFC3263-4.1-DISCARD-UNSUPPORTED-RESOLVER",
           ("_sips._tcp.example.com", "SRV") not in backend.queries,
           "SIPS+D2T followed by a client without TLS")
    expect("RFC3263-4.2-SRV-QUERY-RESOLVER", ("_sip._tcp.example.com", "SRV") in backend.queries
           and ("_sip._udp.example.com", "SRV") not in backend.queries,  # higher order: unused
           f"SRV queried: {[q for q in backend.queries if q[1] == 'SRV']}")
    expect("RFC3263-4.2-SRV-QUERY-RESOLVER", got == [Target("TCP", "192.0.2.20", 5060)],
           f"targets {got}: TCP will be used")


@check("RFC3263-4.1-NAPTR-QUERY-RESOLVER")
def same_order_naptr_records_are_followed_by_preference() -> None:
    """NAPTR records of one order are followed in preference order."""
    naptr = [
        '10 20 "s" "SIP+D2U" "" _sip._udp.example.com.',
        '10 10 "s" "SIP+D2T" "" _sip._tcp.example.com.',
    ]
    dns_resolver, backend = resolver({**SRV_ZONE, (DOMAIN, "NAPTR"): naptr})
    assert locate(dns_resolver, DOMAIN) == [
        Target("TCP", "192.0.2.20", 5060),
        Target("UDP", "192.0.2.10", 5060),
    ]
    assert backend.queries[0] == (DOMAIN, "NAPTR")


@check("RFC3263-4.1-SIP-RETAIN-SIPS-RESOLVER")
def sip_uri_keeps_sips_records_when_the_client_has_tls() -> None:
    """Resolving a SIP URI, a client with TLS keeps the SIPS+D2T record (here the preferred
    one)."""
    dns_resolver, _ = resolver(
        {**SRV_ZONE, (DOMAIN, "NAPTR"): EXAMPLE_NAPTR}, transports=("UDP", "TCP", "TLS")
    )
    assert locate(dns_resolver, DOMAIN) == [Target("TLS", "192.0.2.30", 5061)]


@check("RFC3263-4.1-SIPS-DISCARD-RESOLVER")
def sips_uri_keeps_only_sips_services() -> None:
    """Resolving a SIPS URI, the better-ordered SIP services are discarded."""
    naptr = [
        '10 50 "s" "SIP+D2U" "" _sip._udp.example.com.',
        '20 50 "s" "SIP+D2T" "" _sip._tcp.example.com.',
        '30 50 "s" "SIPS+D2T" "" _sips._tcp.example.com.',
    ]
    dns_resolver, backend = resolver({**SRV_ZONE, (DOMAIN, "NAPTR"): naptr})
    assert locate(dns_resolver, DOMAIN, secure=True) == [Target("TLS", "192.0.2.30", 5061)]
    assert ("_sip._udp.example.com", "SRV") not in backend.queries
    assert ("_sip._tcp.example.com", "SRV") not in backend.queries


# RFC 3263 §4.1 (and RFC 3261 §26 / RFC 4168 for SCTP): NAPTR service -> transport, written out.
RFC3263_NAPTR_SERVICES = {"SIP+D2U": "UDP", "SIP+D2T": "TCP", "SIPS+D2T": "TLS",
                          "SIP+D2S": "SCTP"}


def _usable(record: NaptrRecord, secure: bool, transports: set[str]) -> bool:
    service = record.service.upper()
    if record.flags.lower() != "s" or record.regexp:
        return False
    if secure:
        return service == "SIPS+D2T"
    return RFC3263_NAPTR_SERVICES.get(service) in transports


@check("RFC3263-4.1-SIPS-DISCARD-RESOLVER", "RFC3263-4.1-DISCARD-UNSUPPORTED-RESOLVER",
       "RFC3263-4.1-SIP-RETAIN-SIPS-RESOLVER")
@given(
    st.lists(naptr_records, max_size=8),
    st.booleans(),
    st.sets(st.sampled_from(["UDP", "TCP", "TLS", "SCTP"]), min_size=1),
)
# NAPTR flags are case-insensitive (RFC 3403 §4.1): "S" is the "s" RFC 3263 asks for.
@example([NaptrRecord(10, 10, "S", "SIP+D2T", "", "_sip._tcp.example.com"),
          NaptrRecord(10, 20, "s", "SIP+D2U", "", "_sip._udp.example.com")], False, {"UDP", "TCP"})
def naptr_selection_properties(
    records: list[NaptrRecord], secure: bool, transports: set[str]
) -> None:
    """Only D2X services for a supported X survive (only SIPS+D2T for a SIPS URI; SIPS+D2T
    for a SIP URI exactly when TLS is supported), with flag "s" and an empty regexp; then the
    lowest usable order only, by ascending preference."""
    chosen = select_naptr(records, secure=secure, transports=sorted(transports))
    discard = "RFC3263-4.1-DISCARD-UNSUPPORTED-RESOLVER"
    for record, transport in chosen:
        service = record.service.upper()
        if secure:
            expect("RFC3263-4.1-SIPS-DISCARD-RESOLVER",
                   service == "SIPS+D2T" and transport == "TLS",
                   f"SIPS URI: kept {record.service} ({transport})")
        else:
            expect(discard, service in RFC3263_NAPTR_SERVICES and transport in transports,
                   f"kept {record.service} ({transport}), the client has {sorted(transports)}")
        expect(discard, record.flags.lower() == "s" and record.regexp == "",
               f"kept flags {record.flags!r} regexp {record.regexp!r}")
        expect(discard, transport == RFC3263_NAPTR_SERVICES.get(service),
               f"{record.service} taken as {transport}")
    # exactly the usable records of the lowest usable order are kept, by preference (RFC 2915)
    expect(discard, len({r.order for r, _ in chosen}) <= 1
           and [r.preference for r, _ in chosen] == sorted(r.preference for r, _ in chosen),
           f"orders {[r.order for r, _ in chosen]}, preferences "
           f"{[r.preference for r, _ in chosen]}")
    usable = [r for r in records if _usable(r, secure, transports)]
    lowest = min((r.order for r in usable), default=None)
    wanted = Counter(r for r in usable if r.order == lowest)
    kept = Counter(r for r, _ in chosen)
    missing = wanted - kept
    sips_dropped = any(r.service.upper() == "SIPS+D2T" for r in missing) and not secure
    expect("RFC3263-4.1-SIP-RETAIN-SIPS-RESOLVER" if sips_dropped else discard,
           kept == wanted, f"kept {list(kept)}, the usable records of the lowest order are "
                           f"{list(wanted)}")


@check("RFC3263-4.2-NO-SRV-A-AAAA-RESOLVER")
def naptr_without_srv_falls_back_to_a_with_the_naptr_transport() -> None:
    """NAPTR pointing at a missing SRV record: the domain's addresses, over the NAPTR's
    transport, at its default port."""
    zone = _without_srv(SRV_ZONE)
    zone[(DOMAIN, "NAPTR")] = ['10 10 "s" "SIP+D2T" "" _sip._tcp.example.com.']
    dns_resolver, _ = resolver(zone)
    assert locate(dns_resolver, DOMAIN)[0] == Target("TCP", "192.0.2.1", 5060)


# --------------------------------------------------------------------------------------------
# §4.1: no NAPTR, no SRV
# --------------------------------------------------------------------------------------------


@check("RFC3263-4.1-NO-NAPTR-SRV-RESOLVER")
def unusable_naptr_records_count_as_none() -> None:
    """NAPTR records none of which is usable are as good as no NAPTR: SRV per transport."""
    dns_resolver, backend = resolver(
        {**SRV_ZONE, (DOMAIN, "NAPTR"): ['10 10 "u" "E2U+sip" "!^.*$!sip:a@b!" .']}
    )
    assert locate(dns_resolver, DOMAIN)[0] == Target("UDP", "192.0.2.10", 5060)
    assert ("_sip._tcp.example.com", "SRV") in backend.queries


@check("RFC3263-4.1-NO-NAPTR-SRV-RESOLVER")
def without_naptr_srv_is_queried_for_each_supported_transport() -> None:
    """Without NAPTR, SRV is queried for every supported transport (_sip for SIP, _sips for
    SIPS) and the targets of each that answered come in the client's order of preference."""
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


@check("RFC3263-4.1-NO-SRV-DEFAULT-TRANSPORT-RESOLVER", "RFC3263-4.2-NO-SRV-A-AAAA-RESOLVER")
def without_naptr_or_srv_the_domain_addresses_at_the_default_port() -> None:
    """Neither NAPTR nor SRV: the domain's A/AAAA addresses, UDP at 5060 for SIP, TLS at 5061
    for SIPS (TCP when the client has no UDP)."""
    zone = _without_srv(SRV_ZONE)
    dns_resolver, _ = resolver(zone)
    got = locate(dns_resolver, DOMAIN)
    expect("RFC3263-4.2-NO-SRV-A-AAAA-RESOLVER", [(t.host, t.port) for t in got]
           == [("192.0.2.1", 5060), ("192.0.2.2", 5060), ("2001:db8::1", 5060)], f"{got}")
    expect("RFC3263-4.1-NO-SRV-DEFAULT-TRANSPORT-RESOLVER", {t.transport for t in got} == {"UDP"},
           f"SIP URI: {got}")
    secure = locate(dns_resolver, DOMAIN, secure=True)
    expect("RFC3263-4.1-NO-SRV-DEFAULT-TRANSPORT-RESOLVER",
           {t.transport for t in secure} == {"TLS"}, f"SIPS URI: {secure}")
    expect("RFC3263-4.2-NO-SRV-A-AAAA-RESOLVER", {t.port for t in secure} == {5061},
           f"SIPS URI: {secure}")
    tcp_only, _ = resolver(zone, transports=("TCP",))
    got = locate(tcp_only, DOMAIN)
    expect("RFC3263-4.1-NO-SRV-DEFAULT-TRANSPORT-RESOLVER", {t.transport for t in got} == {"TCP"},
           f"a client without UDP: {got}")


@check("RFC3263-4.2-NO-SRV-A-AAAA-RESOLVER")
def a_name_without_addresses_is_a_resolve_error() -> None:
    """A name with no records at all is a ResolveError naming this record."""
    dns_resolver, _ = resolver({})
    with raises(ResolveError) as info:
        locate(dns_resolver, "nowhere.example")
    assert info.value is not None
    assert info.value.spec_id == "RFC3263-4.2-NO-SRV-A-AAAA-RESOLVER"


# --------------------------------------------------------------------------------------------
# RFC 2782: SRV usage rules
# --------------------------------------------------------------------------------------------


@check("RFC2782-USAGE-DOT-TARGET-RESOLVER")
def dot_srv_target_means_not_available_no_a_fallback() -> None:
    """SRV answers whose only target is "." mean "decidedly not available": a ResolveError
    and no A/AAAA fallback; a transport that has real targets is still used."""
    zone: dict[tuple[str, str], list[str]] = {
        ("_sip._udp.example.com", "SRV"): ["0 0 0 ."],
        ("_sip._tcp.example.com", "SRV"): ["0 0 0 ."],
        ("example.com", "A"): ["192.0.2.1"],
    }
    dns_resolver, backend = resolver(zone)
    with raises(ResolveError, match="decidedly") as info:
        locate(dns_resolver, DOMAIN)
    assert info.value is not None
    assert info.value.spec_id == "RFC2782-USAGE-DOT-TARGET-RESOLVER"
    assert (DOMAIN, "A") not in backend.queries
    with raises(ResolveError, match="decidedly"):
        locate(dns_resolver, DOMAIN, transport="udp")
    zone[("_sip._tcp.example.com", "SRV")] = ["0 0 5060 tcp.example.com."]
    zone[("tcp.example.com", "A")] = ["192.0.2.20"]
    dns_resolver, _ = resolver(zone)
    assert locate(dns_resolver, DOMAIN) == [Target("TCP", "192.0.2.20", 5060)]


@check("RFC2782-USAGE-PRIORITY-RESOLVER")
@given(srv_sets, fractions)
def order_srv_is_a_permutation_by_ascending_priority(
    records: list[SrvRecord], picks: list[float]
) -> None:
    """order_srv returns every record once, lowest priority first, whatever the randomness."""
    ordered = order_srv(records, ScriptedRandom(picks))
    assert Counter(ordered) == Counter(records)
    assert [r.priority for r in ordered] == sorted(r.priority for r in records)


@check("RFC2782-USAGE-WEIGHT-ORDER-RESOLVER")
@given(srv_sets, fractions)
# The draw at the bottom of the range, 0: the weight-0 record placed at the beginning is the
# first whose running sum (0) is greater than or equal to it.
@example([SrvRecord(0, 10, 5060, "ten.example.com"), SrvRecord(0, 0, 5060, "zero.example.com"),
          SrvRecord(0, 5, 5060, "five.example.com")], [0.0, 0.0, 0.0])
def order_srv_follows_the_weighted_selection_algorithm(
    records: list[SrvRecord], picks: list[float]
) -> None:
    """Given the same uniform numbers, order_srv picks exactly what RFC 2782's algorithm
    (weight-0 records first, running sums, first running sum >= the number) picks."""
    assert order_srv(records, ScriptedRandom(picks)) == reference_order(records, picks)


@check("RFC2782-USAGE-WEIGHT-ORDER-RESOLVER")
def larger_weights_come_first_proportionately_more_often() -> None:
    """Over 4000 orderings with real (seeded) randomness, each record comes first in
    proportion to its weight.  A weight-0 record next to weighted ones has "a very small chance
    of being selected" -- small, not none: the number is drawn from 0..sum inclusive and 0
    selects it, once in sum + 1 = 101 draws (about 40 of 4000)."""
    records = [
        SrvRecord(10, 60, 5060, "big.example.com"),
        SrvRecord(10, 20, 5060, "small.example.com"),
        SrvRecord(10, 20, 5060, "small2.example.com"),
        SrvRecord(10, 0, 5060, "zero.example.com"),
    ]
    random = SeededRandom(3263)
    firsts = Counter(order_srv(records, random)[0].target for _ in range(4000))
    assert 0.55 < firsts["big.example.com"] / 4000 < 0.65
    assert 0.16 < firsts["small.example.com"] / 4000 < 0.24
    assert 0.003 < firsts["zero.example.com"] / 4000 < 0.02


@check("RFC3263-4.2-SRV-USAGE-RULES-RESOLVER")
@given(srv_sets, fractions, st.booleans())
def resolved_targets_respect_the_usage_rules_and_appear_once(
    records: list[SrvRecord], picks: list[float], via_naptr: bool
) -> None:
    """Whether the SRV name came from NAPTR or not, the targets are the SRV records in RFC
    2782 order (each expanded to its address), each once."""
    zone: dict[tuple[str, str], list[str]] = {
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
    priority_of = {Target("UDP", address_of[r.target], r.port): r.priority for r in records}
    assert set(targets) == set(priority_of)
    priorities = [priority_of[t] for t in targets]
    assert priorities == sorted(priorities)
    assert targets == [
        Target("UDP", address_of[r.target], r.port) for r in reference_order(records, picks)
    ]


@check("RFC3263-4.2-SRV-USAGE-RULES-RESOLVER")
def srv_targets_expand_to_all_their_addresses_in_place() -> None:
    """Each SRV target is replaced, in place, by all its addresses."""
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


# --------------------------------------------------------------------------------------------
# Through a real DNS exchange (dnspython's resolver, a DNS server on 127.0.0.1)
# --------------------------------------------------------------------------------------------

async def _resolve_on_loopback(name: str) -> tuple[list[Target], list[tuple[str, str]]]:
    transport, server, dns_resolver = await serve_dns(LOOPBACK_ZONE)
    try:
        return await dns_resolver.resolve_targets(name), server.questions
    finally:
        transport.close()


@check("RFC3263-4.1-NAPTR-QUERY-RESOLVER", "RFC3263-4.2-SRV-USAGE-RULES-RESOLVER")
def naptr_srv_a_aaaa_through_a_real_dns_exchange() -> None:
    """NAPTR first, then SRV by preference and priority, each target's A and AAAA, through
    dnspython's resolver and real DNS messages on 127.0.0.1.

    Without dnspython there is no DNS client to exercise: the check returns (the rule is still
    checked through the fake backend)."""
    if not has_dnspython():
        return
    targets, questions = run(_resolve_on_loopback("example.test"))
    expect("RFC3263-4.2-SRV-USAGE-RULES-RESOLVER", targets == [
        Target("UDP", "127.0.0.2", 5062),
        Target("UDP", "::1", 5062),
        Target("UDP", "127.0.0.3", 5060),
        Target("TCP", "127.0.0.2", 5060),
        Target("TCP", "::1", 5060),
    ], f"targets {targets}")
    expect("RFC3263-4.1-NAPTR-QUERY-RESOLVER", questions[:1] == [("example.test", "NAPTR")],
           f"first question {questions[:1]}")


@check("RFC3263-4.2-NO-SRV-A-AAAA-RESOLVER")
def no_naptr_no_srv_then_a_through_a_real_dns_exchange() -> None:
    """No NAPTR and no SRV answers (NXDOMAIN): the name's A record at 5060 over UDP, through
    dnspython's resolver and real DNS messages on 127.0.0.1.

    Without dnspython the check returns (the rule is still checked through the fake
    backend)."""
    if not has_dnspython():
        return
    targets, questions = run(_resolve_on_loopback("plain.test"))
    assert targets == [Target("UDP", "127.0.0.4", 5060)]
    assert ("plain.test", "NAPTR") in questions

