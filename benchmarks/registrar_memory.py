"""Benchmark: the embedded registrar's memory under an adversarial burst stays flat.

Starts ``sipfsm registrar`` (a real process, UDP + TCP on 127.0.0.1, ephemeral ports) and reads
its resident set size (``VmRSS`` of /proc/PID/status) before the burst and after each phase:

1. ``big-register``  -- unauthenticated 60 KB REGISTERs with 2,000 contacts each (refused: 503,
   ``max_contacts``), COUNT/10 of them;
2. ``many-aors``     -- COUNT AORs registering one contact each (the total-bindings limit,
   ``--max-bindings`` = COUNT/4 here, refuses the rest with 503);
3. ``queries``       -- COUNT queries with fresh branches (the remembered responses of the
   server transactions: bounded by bytes);
4. ``half-headers``  -- 200 TCP connections from one source sending half a header section
   (``--max-connections-per-source`` closes most at once, ``--tcp-message-timeout`` the rest);
5. the same phases once more: a bounded registrar ends where the first round ended.

The baseline is the registrar's own RSS after the first round, in the same run: the second
round must not grow it by more than ``--slack`` (default 25 %).  Every phase is bounded in count
and time.  Run: ``python benchmarks/registrar_memory.py [--count N]``; exits 1 when memory grew.
The machine may be shared: RSS, unlike time, does not depend on the load.
"""

from __future__ import annotations

import argparse
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

HOST = "127.0.0.1"
DEADLINE = 60.0  # seconds per phase at most


def rss_kib(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise RuntimeError("no VmRSS")


def register(port: int, n: int, *, user: str, contacts: int = 1, query: bool = False) -> bytes:
    rows = [
        "REGISTER sip:bench.test SIP/2.0",
        f"Via: SIP/2.0/UDP {HOST}:{port};rport;branch=z9hG4bK-mem-{user}-{n}",
        "Max-Forwards: 70",
        f"From: <sip:{user}@bench.test>;tag=t{n}",
        f"To: <sip:{user}@bench.test>",
        f"Call-ID: mem-{user}-{n}@{HOST}",
        f"CSeq: {n + 1} REGISTER",
    ]
    if not query:
        rows.append("Contact: " + ", ".join(f"<sip:c{i}@{HOST}:{5000 + i % 1000}>"
                                            for i in range(contacts)))  # fmt: skip
        rows.append("Expires: 3600")
    return ("\r\n".join([*rows, "Content-Length: 0", "", ""])).encode()


def udp_burst(target: int, messages: list[bytes]) -> int:
    """Send each message, wait for its answer (bounded); the number answered."""
    answered = 0
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.bind((HOST, 0))
        sock.settimeout(2.0)
        deadline = time.monotonic() + DEADLINE
        for data in messages:
            if time.monotonic() > deadline:
                break
            sock.sendto(data, (HOST, target))
            try:
                sock.recv(65535)
                answered += 1
            except TimeoutError:
                pass
    return answered


def half_headers(target: int, connections: int) -> int:
    """Open connections that send half a header section and hold them; the number the
    registrar closed within the deadline."""
    socks = []
    for n in range(connections):
        try:
            sock = socket.create_connection((HOST, target), timeout=2)
            head = (f"REGISTER sip:bench.test SIP/2.0\r\n"
                    f"Via: SIP/2.0/TCP {HOST};branch=z9hG4bK-h{n}\r\nX-Pad: ")
            sock.sendall(head.encode() + b"a" * 4000)
            socks.append(sock)
        except OSError:
            pass
    closed = 0
    deadline = time.monotonic() + 10.0
    for sock in socks:
        sock.settimeout(max(0.05, deadline - time.monotonic()))
        try:
            if sock.recv(1) == b"":
                closed += 1
        except (TimeoutError, ConnectionError):
            closed += 1 if not isinstance(sys.exc_info()[1], TimeoutError) else 0
        finally:
            sock.close()
    return closed


def start(count: int) -> tuple[subprocess.Popen[str], int, int]:
    process = subprocess.Popen(
        [sys.executable, "-m", "sipfsm", "registrar", "--udp-port", "0", "--tcp-port", "0",
         "--max-bindings", str(count // 4), "--tcp-message-timeout", "2",
         "--tcp-idle-timeout", "5"],
        stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True,
        env={**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[1])},
    )  # fmt: skip
    assert process.stdout is not None
    banner = process.stdout.readline()
    udp = int(banner.split("udp:127.0.0.1:")[1].split()[0].rstrip(","))
    tcp = int(banner.split("tcp:127.0.0.1:")[1].split()[0].rstrip(","))
    # the log lines go nowhere: a pipe nobody reads would block the registrar
    subprocess.Popen(["cat"], stdin=process.stdout, stdout=subprocess.DEVNULL)
    return process, udp, tcp


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--count", type=int, default=8000, help="requests per phase")
    parser.add_argument("--slack", type=float, default=0.25)
    args = parser.parse_args()
    count = args.count
    process, udp, tcp = start(count)
    try:
        time.sleep(0.5)
        figures = [("start", rss_kib(process.pid))]
        for round_ in (1, 2):
            big = [register(udp, n, user=f"big{round_}", contacts=2000)
                   for n in range(count // 10)]  # fmt: skip
            answered = udp_burst(udp, big)
            figures.append((f"{round_}: big-register x{len(big)} ({answered} answered)",
                            rss_kib(process.pid)))  # fmt: skip
            aors = [register(udp, 0, user=f"r{round_}u{n}") for n in range(count)]
            answered = udp_burst(udp, aors)
            figures.append((f"{round_}: many-aors x{count} ({answered} answered)",
                            rss_kib(process.pid)))  # fmt: skip
            queries = [register(udp, n, user=f"q{round_}", query=True) for n in range(count)]
            answered = udp_burst(udp, queries)
            figures.append((f"{round_}: queries x{count} ({answered} answered)",
                            rss_kib(process.pid)))  # fmt: skip
            closed = half_headers(tcp, 200)
            figures.append((f"{round_}: half-headers x200 ({closed} closed by the registrar)",
                            rss_kib(process.pid)))  # fmt: skip
    finally:
        process.terminate()
        process.wait(timeout=10)
    width = max(len(name) for name, _ in figures)
    for name, kib in figures:
        print(f"{name:<{width}}  RSS {kib / 1024:7.1f} MiB")
    baseline = figures[len(figures) // 2][1]  # after the first round
    final = figures[-1][1]
    ratio = final / baseline
    print(f"second round / first round: {ratio:.2f} (target <= {1 + args.slack:.2f}); "
          f"start -> end: {figures[0][1] / 1024:.1f} -> {final / 1024:.1f} MiB")
    return 0 if ratio <= 1 + args.slack else 1


if __name__ == "__main__":
    sys.exit(main())
