"""DnsResolver on a fake DNS backend: failures, bounds, the port API and the fallback without
dnspython.  The RFC 3263 / RFC 2782 requirement checks are in sipfsm/conformance/checks_dns.py
(run by tests/test_conformance.py)."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import Iterator
from typing import Any

import dns.exception
import dns.resolver
import pytest

from sipfsm import ports
from sipfsm.aio import DnsResolver, ResolveError
from sipfsm.conformance.dns_support import without_dnspython
from sipfsm.ports import Target

from .support import DOMAIN, SRV_ZONE, FakeDns, ScriptedRandom, dns_error, locate, resolver, run


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
def no_dnspython() -> Iterator[None]:
    with without_dnspython():
        yield


@pytest.mark.usefixtures("no_dnspython")
def test_without_dnspython_names_go_to_getaddrinfo() -> None:
    dns_resolver = DnsResolver(random=ScriptedRandom())
    assert not dns_resolver.uses_dns

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


def test_dnspython_is_loaded_on_the_first_lookup_only() -> None:
    """A client with a fixed registrar address never pays for importing dnspython."""
    import subprocess
    import sys

    code = ("import sys\nfrom sipfsm.aio import DnsResolver\nDnsResolver()\n"
            "print(any(name == 'dns' or name.startswith('dns.') for name in sys.modules))")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            timeout=60)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "False"
