"""The pytest plugin: its worked example (examples/) runs green, and the plugin's fixtures work
in-process."""

from __future__ import annotations

import subprocess
import sys
from importlib.metadata import entry_points
from pathlib import Path

import pytest

from sipfsm.pytest_plugin import RunningRegistrar, audit

ROOT = Path(__file__).resolve().parents[2]


def _plugin_args() -> list[str]:
    installed = any(e.value == "sipfsm.pytest_plugin" for e in entry_points(group="pytest11"))
    return [] if installed else ["-p", "sipfsm.pytest_plugin"]


@pytest.mark.requirement("RFC3261-22.1-NO-RESEND-REJECTED")
def test_worked_example_passes(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", *_plugin_args(),
         "--rootdir", str(tmp_path), str(ROOT / "examples" / "test_plugin_example.py")],
        cwd=ROOT, capture_output=True, timeout=300, text=True)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-2000:]
    assert "4 passed" in result.stdout


def test_fixture_object_in_process() -> None:
    import socket

    registrar = RunningRegistrar("plain")
    try:
        request = (
            "REGISTER sip:sipfsm.test SIP/2.0\r\n"
            "Via: SIP/2.0/UDP 127.0.0.1:{port};branch=z9hG4bKplug1;rport\r\n"
            "Max-Forwards: 70\r\nTo: <sip:alice@sipfsm.test>\r\n"
            "From: <sip:alice@sipfsm.test>;tag=p1\r\nCall-ID: plug-1\r\nCSeq: 1 REGISTER\r\n"
            "Contact: <sip:alice@127.0.0.1:{port}>\r\nExpires: 60\r\nContent-Length: 0\r\n\r\n"
        )
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
            sock.bind(("127.0.0.1", 0))
            sock.settimeout(5)
            port = sock.getsockname()[1]
            sock.sendto(request.format(port=port).encode(), (registrar.host, registrar.port))
            answer = sock.recv(65535)
        assert answer.startswith(b"SIP/2.0 200")
    finally:
        registrar.stop()
    assert len(registrar.records) == 2
    report = audit(registrar)
    assert report.clean and report.clients == (f"127.0.0.1:{port}",)
    assert audit(registrar.records).clean


@pytest.mark.requirement("RFC3261-10.2-CSEQ-INCREMENT")
def test_audit_example_script_runs() -> None:
    result = subprocess.run([sys.executable, str(ROOT / "examples" / "audit_example.py")],
                            cwd=ROOT, capture_output=True, timeout=120, text=True)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "RFC3261-10.2-CSEQ-INCREMENT" in result.stdout
