"""sipfsm's own traffic, audited: the simulator under loss and a real `sipfsm register` run
against the embedded registrar must come out clean."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from sipfsm.audit import audit_paths, audit_records
from sipfsm.conformance.harness import World
from sipfsm.sim import LinkFaults
from tests.interop.kamailio_fixture import find_free_port


@pytest.mark.requirement("RFC3261-17.1.2.2-TIMER-E-DOUBLING")
@pytest.mark.requirement("RFC3261-10.2-ONE-REGISTER-IN-FLIGHT")
@pytest.mark.parametrize("seed", range(6))
def test_simulated_client_under_loss_is_clean(seed: int) -> None:
    world = World(faults=LinkFaults(loss=0.3), seed=seed)
    world.client.register()
    world.run(3 * 3600)
    world.client.unregister()
    world.run(120)
    report = audit_records([entry.as_dict() for entry in world.recorder])
    assert report.registrations and report.clean, [f.to_dict() for f in report.findings]


def _registrar(port: int, log: Path) -> subprocess.Popen[bytes]:
    handle = log.open("wb")
    proc = subprocess.Popen(
        [sys.executable, "-m", "sipfsm", "registrar", "--host", "127.0.0.1", "--udp-port",
         str(port), "--tcp-port", str(port), "--user", "alice:secret", "--min-expires", "1"],
        stdout=handle, stderr=subprocess.STDOUT)
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and b"registrar on" not in log.read_bytes():
        if proc.poll() is not None:
            break
        time.sleep(0.05)
    return proc


@pytest.mark.requirement("RFC2617-3.2.2.1-RESPONSE-DIGEST")
@pytest.mark.parametrize("transport", ["udp", "tcp"])
def test_real_register_run_is_clean(tmp_path: Path, transport: str) -> None:
    port = find_free_port()
    registrar = _registrar(port, tmp_path / "registrar.log")
    try:
        trace = tmp_path / "client.jsonl"
        env = {**os.environ, "SIPFSM_TEST_PW": "secret"}
        result = subprocess.run(
            [sys.executable, "-m", "sipfsm", "register", "--aor", "sip:alice@example.com",
             "--registrar", f"{transport}:127.0.0.1:{port}", "--password-env", "SIPFSM_TEST_PW",
             "--expires", "2", "--duration", "3.5", "--trace", str(trace)],
            capture_output=True, timeout=30, env=env)
        assert result.returncode == 0, result.stderr[-2000:]
    finally:
        registrar.terminate()
        registrar.wait(timeout=10)
    report = audit_paths([trace], password="secret")
    assert len(report.registrations) == 1
    assert report.messages >= 8  # 401, 200, refreshes, unregister
    assert report.clean, [f.to_dict() for f in report.findings]
