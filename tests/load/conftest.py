"""An embedded registrar (``sipfsm registrar``) in its own process for the load tests, on free
ports of 127.0.0.1; users ``u0`` .. ``u<N-1>`` with password ``pw-<user>``."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent.parent
USERS = 40


@dataclass(frozen=True)
class EmbeddedRegistrar:
    udp_port: int
    tcp_port: int
    log: Path

    def udp(self) -> str:
        return f"udp:127.0.0.1:{self.udp_port}"

    def tcp(self) -> str:
        return f"tcp:127.0.0.1:{self.tcp_port}"


def start_registrar(
    tmp: Path, users: int = USERS, *extra: str
) -> tuple[subprocess.Popen[bytes], EmbeddedRegistrar]:
    log = tmp / "registrar.log"
    args = [
        sys.executable,
        "-m",
        "sipfsm",
        "registrar",
        "--udp-port",
        "0",
        "--tcp-port",
        "0",
        "--min-expires",
        "1",
        *extra,
    ]
    for i in range(users):
        args += ["--user", f"u{i}:pw-u{i}"]
    env = dict(os.environ, PYTHONPATH=str(REPO) + os.pathsep + os.environ.get("PYTHONPATH", ""))
    with open(log, "wb") as out:
        proc = subprocess.Popen(args, stdout=out, stderr=subprocess.STDOUT, env=env, cwd=REPO)
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:
        text = log.read_text(errors="replace")
        found = re.search(r"udp:127\.0\.0\.1:(\d+), tcp:127\.0\.0\.1:(\d+)", text)
        if found:
            return proc, EmbeddedRegistrar(int(found.group(1)), int(found.group(2)), log)
        if proc.poll() is not None:
            break
        time.sleep(0.05)
    proc.kill()
    raise RuntimeError(f"the embedded registrar did not start: {log.read_text()[-2000:]}")


def stop(proc: subprocess.Popen[bytes]) -> None:
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=5)


@pytest.fixture
def registrar(tmp_path: Path) -> Iterator[EmbeddedRegistrar]:
    proc, reg = start_registrar(tmp_path)
    try:
        yield reg
    finally:
        stop(proc)
