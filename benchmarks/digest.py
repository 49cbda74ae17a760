"""Benchmark: Digest responses per second, sipfsm.auth against bare hashlib, in the same run.

For each algorithm (MD5, SHA-256, SHA-512-256 and their -sess variants):

* floor -- bare ``hashlib`` doing the RFC 7616 hashes of one qop=auth response and nothing else:
  ``H(A1)`` (plus the session key for -sess), ``H(A2)`` and ``KD(...)``, with the f-strings they
  need (the ceiling any implementation of the same formulas could reach in Python);
* client -- ``DigestClient.authorization_headers("REGISTER", uri)`` after one challenge: what a
  registration pays per request (next nc, a cnonce from the Random port, the digest, the whole
  header value).  The Random port here is a counter, so its cost is not counted; HA1 is cached
  per challenge, as the client does, which is why this can beat the floor;
* build -- ``build_authorization(challenge, ...)``: the one-shot helper, which also parses the
  challenge and computes HA1 every time.

``--baseline PATH`` (another checkout of sipfsm, e.g. ``git worktree add /tmp/base main``) adds
what one registration costs the digest client (issue 14): a new ``DigestClient`` for a new
user, the first REGISTER's (empty) ``authorization_headers``, ``handle_challenge`` of Kamailio's
401 challenge (MD5, qop="auth") and the answer -- process CPU per registration, measured in
this checkout and in PATH in alternating subprocesses, so that both come from the same run on a
possibly shared machine; the ratio is printed (lower is better).

Run: ``python benchmarks/digest.py [--seconds S] [--repeat N] [--baseline PATH]``.  Target:
client >= 0.5 x floor.  Prints responses/s and the ratios; exits 1 when a client ratio misses the
target.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

from sipfsm.auth import DigestClient, StaticCredentials, build_authorization
from sipfsm.auth.digest import SHA512_256_NATIVE
from sipfsm.auth.server import make_challenge

USER, PASSWORD, REALM = "alice", "correct horse battery staple", "example.com"
URI, METHOD = "sip:example.com", "REGISTER"
NONCE = "vpmlgrijy2ndzplnrhwbd7emn6"
CNONCE = "dfwdrzfmqizrxnqzowjn"
ALGORITHMS = ("MD5", "MD5-sess", "SHA-256", "SHA-256-sess", "SHA-512-256", "SHA-512-256-sess")
TARGET = 0.5


class CounterRandom:
    """``ports.Random`` that costs next to nothing (the benchmark measures digest work)."""

    def __init__(self) -> None:
        self.n = 0

    def token(self, nbits: int) -> str:
        self.n += 1
        return f"c{self.n:019d}"

    def uniform(self, low: float, high: float) -> float:
        return low


def bare_hashlib(algorithm: str) -> Callable[[int], str]:
    base = algorithm.removesuffix("-sess")
    sess = algorithm.endswith("-sess")
    if base == "MD5":
        new: Callable[[bytes], object] = hashlib.md5
    elif base == "SHA-256":
        new = hashlib.sha256
    else:
        def new(data: bytes) -> object:
            return hashlib.new("sha512_256", data)

    def h(text: str) -> str:
        return new(text.encode()).hexdigest()  # type: ignore[attr-defined, no-any-return]

    def one(i: int) -> str:
        ha1 = h(f"{USER}:{REALM}:{PASSWORD}")
        if sess:
            ha1 = h(f"{ha1}:{NONCE}:{CNONCE}")
        ha2 = h(f"{METHOD}:{URI}")
        return h(f"{ha1}:{NONCE}:{i:08x}:{CNONCE}:auth:{ha2}")

    return one


def client_path(algorithm: str) -> Callable[[int], object]:
    client = DigestClient(StaticCredentials(USER, PASSWORD), CounterRandom(), max_attempts=1)
    client.handle_challenge(401, [make_challenge(REALM, nonce=NONCE, algorithm=algorithm)])

    def one(i: int) -> object:
        responder = next(iter(client._responders))
        if responder.nc > 0xFFFFFF00:
            responder.renew(NONCE)
        return client.authorization_headers(METHOD, URI)

    return one


def build_path(algorithm: str) -> Callable[[int], object]:
    challenge = make_challenge(REALM, nonce=NONCE, algorithm=algorithm)

    def one(i: int) -> object:
        return build_authorization(challenge, method=METHOD, uri=URI, username=USER,
                                   password=PASSWORD, cnonce=CNONCE, nc=i + 1)

    return one


def rate(fn: Callable[[int], object], seconds: float) -> float:
    """Calls per second: batches until ``seconds`` of wall time have passed."""
    batch, done, i = 256, 0, 0
    start = time.perf_counter()
    while True:
        for _ in range(batch):
            fn(i)
            i += 1
        done += batch
        elapsed = time.perf_counter() - start
        if elapsed >= seconds:
            return done / elapsed


KAMAILIO_CHALLENGE = (
    'Digest realm="sipfsm.test", nonce="Z0aH3mdGh9LTmJtq9Jz3aH8nYzQ1ZjEwMGU=", qop="auth"')


def registration_us(registrations: int) -> float:
    """Process CPU microseconds the digest client spends on one registration (see the module
    docstring), in whichever sipfsm this process imports."""
    import gc

    from sipfsm.auth import DigestClient as Client
    from sipfsm.auth import StaticCredentials as Static

    random = CounterRandom()
    stores = [Static(f"u{i}", f"pw-u{i}") for i in range(registrations)]
    uri = "sip:sipfsm.test"
    gc.collect()
    gc.disable()
    start = time.process_time()
    for store in stores:
        client = Client(store, random)
        client.authorization_headers("REGISTER", uri)
        client.handle_challenge(401, [KAMAILIO_CHALLENGE])
        client.authorization_headers("REGISTER", uri)
    elapsed = time.process_time() - start
    gc.enable()
    return elapsed / registrations * 1e6


def _registration_child(repo: Path, registrations: int) -> float:
    code = ("import json, sys; sys.path.insert(0, sys.argv[1]); sys.path.insert(1, sys.argv[2]);"
            "import digest; print(json.dumps(digest.registration_us(int(sys.argv[3]))))")
    env = dict(os.environ, PYTHONPATH=str(repo))
    out = subprocess.run(
        [sys.executable, "-c", code, str(repo), str(Path(__file__).parent), str(registrations)],
        capture_output=True, text=True, env=env, check=True, timeout=600,
    )  # fmt: skip
    return float(json.loads(out.stdout.strip().splitlines()[-1]))


def compare_registration(baseline: Path, rounds: int, registrations: int) -> float:
    """Print this checkout's digest CPU per registration against ``baseline``'s; return the
    ratio of the medians."""
    here = Path(__file__).resolve().parent.parent
    ours: list[float] = []
    theirs: list[float] = []
    for _ in range(rounds):
        ours.append(_registration_child(here, registrations))
        theirs.append(_registration_child(baseline, registrations))
    mine, base = statistics.median(ours), statistics.median(theirs)
    print(f"digest client per registration (new client, first request, 401, answer): "
          f"{mine:.1f} us here vs {base:.1f} us in {baseline} (rounds: "
          f"{', '.join(f'{x:.1f}' for x in ours)} / {', '.join(f'{x:.1f}' for x in theirs)}); "
          f"this / baseline = {mine / base:.2f}")
    return mine / base


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=0.4, help="per measurement")
    parser.add_argument("--repeat", type=int, default=3, help="best of N")
    parser.add_argument("--baseline", type=Path, default=None,
                        help="another sipfsm checkout: compare the per-registration cost")
    parser.add_argument("--registrations", type=int, default=20000,
                        help="per round of the --baseline comparison [20000]")
    args = parser.parse_args(argv)
    if args.baseline is not None:
        compare_registration(args.baseline, args.repeat, args.registrations)
    print(f"SHA-512/256 via {'OpenSSL' if SHA512_256_NATIVE else 'pure-Python fallback'}")
    print(f"{'algorithm':<18}{'floor/s':>12}{'client/s':>12}{'build/s':>12}"
          f"{'client/floor':>14}{'build/floor':>13}")
    worst = float("inf")
    for algorithm in ALGORITHMS:
        paths = (bare_hashlib(algorithm), client_path(algorithm), build_path(algorithm))
        best = [0.0, 0.0, 0.0]
        for _ in range(args.repeat):  # interleaved, so drift hits every path alike
            for k, fn in enumerate(paths):
                best[k] = max(best[k], rate(fn, args.seconds))
        floor, client, build = best
        worst = min(worst, client / floor)
        print(f"{algorithm:<18}{floor:>12,.0f}{client:>12,.0f}{build:>12,.0f}"
              f"{client / floor:>14.2f}{build / floor:>13.2f}")
    verdict = "meets" if worst >= TARGET else "MISSES"
    print(f"worst client/floor ratio {worst:.2f}: {verdict} the target of {TARGET}")
    return 0 if worst >= TARGET else 1


if __name__ == "__main__":
    sys.exit(main())
