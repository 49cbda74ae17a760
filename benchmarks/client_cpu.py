"""The client's own CPU per registration, without sockets or an event loop (issue 14).

One registration is REGISTER -> 401 -> REGISTER with credentials -> 200 (digest MD5, qop=auth),
as in ``benchmarks/load.py``, but the registrar is a few lines of byte templates in this file
(written apart from sipfsm: it copies Via/From/To/Call-ID/CSeq with regular expressions and never
checks the digest) and the ports are the cheapest possible (a list for the transport, timers
that never fire, a fixed clock).  What is left is sipfsm's own work: the registration core and
its driver, the transaction layer, parsing, building, digest.  The responder's own time is
measured around each call and subtracted.

``--baseline PATH`` runs the same measurement on another checkout of sipfsm (for example the
commit before a change: ``git worktree add /tmp/base <commit>``) in alternating subprocesses,
so that both figures come from the same run on a possibly shared machine; the ratio is printed.

Run: ``python benchmarks/client_cpu.py [--registrations 5000] [--rounds 3] [--baseline PATH]``.
``--profile`` prints a cProfile of one round instead.
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import re
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent

_VIA = re.compile(rb"\r\n(?:Via|v): ([^\r]*)", re.I)
_CALL_ID = re.compile(rb"\r\n(?:Call-ID|i): ([^\r]*)", re.I)
_CSEQ = re.compile(rb"\r\nCSeq: ([^\r]*)", re.I)
_FROM = re.compile(rb"\r\n(?:From|f): ([^\r]*)", re.I)
_TO = re.compile(rb"\r\n(?:To|t): ([^\r]*)", re.I)
_CONTACT = re.compile(rb"\r\n(?:Contact|m): ([^\r]*)", re.I)
_AUTHORIZATION = re.compile(rb"\r\nAuthorization:", re.I)
_SERVER = b"Server: kamailio (5.6.3 (x86_64/linux))\r\n"


def answer(request: bytes) -> bytes:
    """401 with a digest challenge to a REGISTER without Authorization, else 200 listing the
    request's Contact with ``expires=3600``."""

    def header(pattern: re.Pattern[bytes]) -> bytes:
        found = pattern.search(request)
        assert found is not None
        return found.group(1)

    common = (
        b"Via: " + header(_VIA) + b"\r\nFrom: " + header(_FROM) + b"\r\nTo: " + header(_TO)
        + b";tag=b27e1a1d33761e85846fc98f5f3a7e58\r\nCall-ID: " + header(_CALL_ID)
        + b"\r\nCSeq: " + header(_CSEQ) + b"\r\n"
    )
    if _AUTHORIZATION.search(request) is None:
        return (
            b"SIP/2.0 401 Unauthorized\r\n" + common
            + b'WWW-Authenticate: Digest realm="sipfsm.test", '
            b'nonce="Z0aH3mdGh9LTmJtq9Jz3aH8nYzQ1ZjEwMGU=", qop="auth"\r\n'
            + _SERVER + b"Content-Length: 0\r\n\r\n"
        )
    return (
        b"SIP/2.0 200 OK\r\n" + common + b"Contact: " + header(_CONTACT) + b";expires=3600\r\n"
        + _SERVER + b"Content-Length: 0\r\n\r\n"
    )


def measure(registrations: int) -> dict[str, float]:
    """One round in this process: CPU microseconds per registration."""
    from sipfsm.aio.runtime import SecretsRandom
    from sipfsm.auth import StaticCredentials
    from sipfsm.message.uri import parse_uri
    from sipfsm.ports import HostPort, Target
    from sipfsm.registration import RegistrationClient, RegistrationConfig
    from sipfsm.transaction import TransactionLayer

    class Handle:
        __slots__ = ()

        def cancel(self) -> None:
            pass

    handle = Handle()

    class Timers:
        def start(self, name: str, delay: float, callback: Any) -> Handle:
            return handle

    class Clock:
        def monotonic(self) -> float:
            return 1000.0

        def wall(self) -> float:
            return 1.7e9

    class Transport:
        name = "UDP"
        reliable = False

        def __init__(self) -> None:
            self.queue: list[bytes] = []

        def local_address(self) -> HostPort:
            return HostPort("127.0.0.1", 5070)

        def local_address_for(self, target: Target) -> HostPort:
            return HostPort("127.0.0.1", 5070)

        def send(self, data: bytes, target: Target) -> None:
            self.queue.append(data)

    transport = Transport()
    timers = Timers()
    layer = TransactionLayer({"UDP": transport}, timers, SecretsRandom())  # type: ignore[dict-item]
    target = Target("UDP", "127.0.0.1", 5060)
    source = HostPort("127.0.0.1", 5060)
    outcomes: list[str] = []

    def observe(client: Any, event: Any) -> None:
        outcomes.append(type(event).__name__)

    configs = [
        RegistrationConfig(aor=parse_uri(f"sip:u{i}@sipfsm.test"), registrar_target=target,
                           transport="UDP", expires=3600, keep_last_response=False)
        for i in range(registrations)
    ]  # fmt: skip
    clients = []
    gc.collect()
    gc.freeze()
    gc.disable()  # the collector's pauses are the load generator's business, not the client's
    responder = 0.0
    start = time.process_time()
    for i, config in enumerate(configs):
        client = RegistrationClient(
            config, layer=layer, timers=timers, clock=Clock(), random=SecretsRandom(),
            credentials=StaticCredentials(f"u{i}", f"pw-u{i}"), observer=observe,
        )  # type: ignore[arg-type]  # fmt: skip
        clients.append(client)
        client.register()
        queue = transport.queue
        while queue:
            request = queue.pop()
            r0 = time.process_time()
            response = answer(request)
            responder += time.process_time() - r0
            layer.receive(response, source, transport)  # type: ignore[arg-type]
    total = time.process_time() - start
    gc.enable()
    registered = outcomes.count("Registered")
    if registered != registrations:
        raise SystemExit(f"only {registered}/{registrations} registered: {outcomes[:5]}")
    return {
        "client_us": (total - responder) / registrations * 1e6,
        "responder_us": responder / registrations * 1e6,
    }


def _child(repo: Path, registrations: int) -> dict[str, float]:
    code = (
        "import json, sys; sys.path.insert(0, sys.argv[1]); sys.path.insert(1, sys.argv[2]);"
        "import client_cpu; print(json.dumps(client_cpu.measure(int(sys.argv[3]))))"
    )
    env = dict(os.environ, PYTHONPATH=str(repo))
    out = subprocess.run(
        [sys.executable, "-c", code, str(repo), str(Path(__file__).parent), str(registrations)],
        capture_output=True, text=True, env=env, check=True, timeout=600,
    )  # fmt: skip
    result: dict[str, float] = json.loads(out.stdout.strip().splitlines()[-1])
    return result


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--registrations", type=int, default=5000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--baseline", type=Path, default=None, help="another sipfsm checkout")
    parser.add_argument("--profile", action="store_true")
    args = parser.parse_args()
    if args.profile:
        import cProfile
        import pstats

        sys.path.insert(0, str(REPO))
        cProfile.runctx("measure(args.registrations)", globals(),
                        {"args": args, "measure": measure}, "/tmp/client_cpu.prof")  # fmt: skip
        pstats.Stats("/tmp/client_cpu.prof").sort_stats("tottime").print_stats(35)
        return 0
    ours: list[float] = []
    base: list[float] = []
    for _ in range(args.rounds):
        ours.append(_child(REPO, args.registrations)["client_us"])
        if args.baseline is not None:
            base.append(_child(args.baseline, args.registrations)["client_us"])
    mine = statistics.median(ours)
    print(f"client CPU per registration (no I/O): {mine:.1f} us  (rounds: "
          f"{', '.join(f'{x:.0f}' for x in ours)})")  # fmt: skip
    if base:
        theirs = statistics.median(base)
        print(f"baseline {args.baseline}: {theirs:.1f} us (rounds: "
              f"{', '.join(f'{x:.0f}' for x in base)});  "
              f"this / baseline = {mine / theirs:.2f}")  # fmt: skip
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
