"""DnsResolver with dnspython's real asynchronous resolver against a tiny DNS server on
127.0.0.1: failures.  The successful lookups are requirement checks in
sipfsm/conformance/checks_dns.py."""

from __future__ import annotations

import pytest

from sipfsm.aio import ResolveError
from sipfsm.conformance.dns_support import LOOPBACK_ZONE

from .support import run, serve_dns

pytest.importorskip("dns.asyncresolver")

GARBLED = "garbled.test"


def test_nxdomain_and_garbled_answers_are_resolve_errors() -> None:
    async def scenario() -> list[Exception]:
        transport, _, resolver = await serve_dns(LOOPBACK_ZONE, garbled=GARBLED, timeout=0.3)
        errors: list[Exception] = []
        try:
            for name in ("missing.test", GARBLED):
                try:
                    await resolver.resolve_targets(name, port=5060)
                except ResolveError as exc:
                    errors.append(exc)
        finally:
            transport.close()
        return errors

    errors = run(scenario(), timeout=10)
    assert len(errors) == 2
