"""A throwaway PKI per test session (the ``cryptography`` package, from the ``test`` extra)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from sipfsm.aio.tls_pki import Issued, TestPki, make_pki


class Pki:
    """One trusted CA, one stranger CA, and server / client certificates."""

    def __init__(self, root: Path) -> None:
        self.ca: TestPki = make_pki(root / "ca")
        self.stranger: TestPki = make_pki(root / "stranger", ca_name="not trusted CA")
        self.server: Issued = self.ca.issue(
            "server", dns=("sipfsm.test",), ips=("127.0.0.1", "::1"),
            uris=("sip:sipfsm.test",))
        self.wildcard: Issued = self.ca.issue("wildcard", dns=("*.sipfsm.test",))
        self.stranger_server: Issued = self.stranger.issue(
            "server", dns=("sipfsm.test",), ips=("127.0.0.1",))
        self.client: Issued = self.ca.issue("client", dns=("alice.sipfsm.test",))
        # RFC 5922 §7.1: a sip: URI identity, so the DNS name is not one.
        self.uri_and_dns: Issued = self.ca.issue(
            "uri-and-dns", dns=("other.sipfsm.test",), uris=("sip:sipfsm.test",),
            ips=("127.0.0.1",))


@pytest.fixture(scope="session")
def pki(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Pki]:
    yield Pki(tmp_path_factory.mktemp("pki"))
