"""``sipfsm register --outbound`` against the embedded registrar (two flows, TCP and UDP)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from tests.outbound.test_tls_client import ServerThread

from .conftest import Pki

ROOT = Path(__file__).resolve().parents[2]


def _cli(*args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(ROOT), "SIP_PASSWORD": "secret"}
    return subprocess.run(
        [sys.executable, "-m", "sipfsm", "register", "--aor", "sip:alice@sipfsm.test",
         "--password-env", "SIP_PASSWORD", "--local-host", "127.0.0.1", *args],
        capture_output=True, text=True, timeout=60, env=env, check=False)


def test_register_outbound_over_two_flows_prints_the_flows(pki: Pki) -> None:
    with ServerThread(pki) as server:
        assert server.server is not None and server.server.udp_address is not None
        udp = server.server.udp_address.port
        done = _cli("--outbound", "--edge", f"sip:127.0.0.1:{server.tls_port};transport=tls",
                    "--edge", f"sip:127.0.0.1:{udp}", "--ca-file", str(pki.ca.ca_file),
                    "--tls-server-name", "sipfsm.test", "--keepalive", "0.4",
                    "--duration", "2", "--expires", "60")
    assert done.returncode == 0, done.stderr
    assert "flow 1 (tls:127.0.0.1:" in done.stdout and "flow 2 (udp:127.0.0.1:" in done.stdout
    assert "crlf keep-alives" in done.stdout
    assert "stun keep-alives, mapped 127.0.0.1:" in done.stdout
    assert "unregistered sip:alice@sipfsm.test" in done.stdout


def test_outbound_bad_options_are_usage_errors() -> None:
    bad_edge = _cli("--outbound", "--edge", "sip:edge.example.com", "--duration", "1")
    assert bad_edge.returncode == 2 and "IP address" in bad_edge.stderr
    bad_instance = _cli("--outbound", "--registrar", "udp:127.0.0.1:5060",
                        "--instance-id", "not a urn", "--duration", "1")
    assert bad_instance.returncode == 2 and "URN" in bad_instance.stderr
