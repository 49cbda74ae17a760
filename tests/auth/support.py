"""A small Digest server for the client tests, on sipfsm.auth.server (whose own tests check it
against the client and the published vectors), with a nonce store."""

from __future__ import annotations

from collections.abc import Iterable

from sipfsm.auth import server
from sipfsm.auth.server import Verdict, Verification
from sipfsm.sim import SeededRandom

REALM = "example.com"
USER = "alice"
PASSWORD = "correct horse battery staple"
URI = "sip:example.com"


class CountingRandom:
    """``ports.Random`` whose tokens are distinct and predictable (``c1``, ``c2``, ...)."""

    def __init__(self) -> None:
        self.drawn = 0

    def token(self, nbits: int) -> str:
        self.drawn += 1
        return f"c{self.drawn}"

    def uniform(self, low: float, high: float) -> float:
        return low


class FakeServer:
    """Issues challenges for one realm and checks credentials; remembers the nc values used
    with each nonce (a replay is refused as stale) and which nonces are retired."""

    def __init__(
        self,
        realm: str = REALM,
        password: str = PASSWORD,
        *,
        algorithms: Iterable[str] = ("SHA-256",),
        qop: tuple[str, ...] = ("auth",),
        opaque: str | None = None,
        seed: int = 7,
    ) -> None:
        self.realm = realm
        self.password = password
        self.algorithms = tuple(algorithms)
        self.qop = qop
        self.opaque = opaque
        self.random = SeededRandom(seed)
        self.nonces: dict[str, set[int]] = {}
        self.retired: set[str] = set()

    def challenges(self, *, stale: bool = False) -> list[str]:
        issued = server.challenge_headers(
            self.realm, self.random, algorithms=self.algorithms, qop=self.qop,
            opaque=self.opaque, stale=stale,
        )
        for nonce, _ in issued:
            self.nonces[nonce] = set()
        return [value for _, value in issued]

    def check_nonce(self, nonce: str, nc: int | None) -> bool:
        used = self.nonces.get(nonce)
        if used is None or nonce in self.retired:
            return False
        if nc is not None:
            if nc in used:
                return False
            used.add(nc)
        return True

    def verify(self, value: str, method: str = "REGISTER", *, body: bytes = b"",
               nextnonce: str | None = None) -> Verification:
        return server.verify(
            value, method=method, realm=self.realm, password=self.password,
            check_nonce=self.check_nonce, body=body, nextnonce=nextnonce,
        )


def only(headers: list[tuple[str, str]], name: str = "Authorization") -> str:
    values = [v for n, v in headers if n == name]
    assert len(values) == 1, headers
    return values[0]


__all__ = ["PASSWORD", "REALM", "URI", "USER", "CountingRandom", "FakeServer", "Verdict", "only"]
