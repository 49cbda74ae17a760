"""A real SIPp registration against the embedded registrar, captured by tshark on loopback and
audited; the registrar's own --trace of the same exchange gives the same findings."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from sipfsm.audit import audit_paths
from tests.interop.kamailio_fixture import SIPP_DIR, find_free_port, sipp_binary

pytestmark = pytest.mark.interop


def need(ok: bool, reason: str) -> None:
    if ok:
        return
    if os.environ.get("SIPFSM_REQUIRE_INTEROP") == "1":
        pytest.fail(f"interop peer required in CI but unavailable: {reason}")
    pytest.skip(reason)


def _wait_for(path: Path, text: bytes, proc: subprocess.Popen[bytes], seconds: float) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if path.exists() and text in path.read_bytes():
            return True
        if proc.poll() is not None:
            return False
        time.sleep(0.05)
    return False


@pytest.mark.requirement("RFC2617-3.2.2.5-DIGEST-URI")
@pytest.mark.requirement("RFC2617-3.2.2.1-RESPONSE-DIGEST")
def test_sipp_registration_captured_by_tshark(tmp_path: Path) -> None:
    sipp, tshark = sipp_binary(), shutil.which("tshark")
    need(sipp is not None, "sipp not installed (apt-get install sip-tester)")
    need(tshark is not None, "tshark not installed (apt-get install tshark)")
    assert sipp is not None and tshark is not None
    port = find_free_port()
    capture, reg_trace = tmp_path / "sipp.pcapng", tmp_path / "registrar.jsonl"
    reg_log, cap_log = tmp_path / "registrar.log", tmp_path / "tshark.log"
    registrar = subprocess.Popen(
        [sys.executable, "-m", "sipfsm", "registrar", "--host", "127.0.0.1", "--udp-port",
         str(port), "--tcp-port", "off", "--user", "sippuser:sipppass", "--min-expires", "1",
         "--trace", str(reg_trace)],
        stdout=reg_log.open("wb"), stderr=subprocess.STDOUT)
    dumper = subprocess.Popen(
        [tshark, "-i", "lo", "-f", f"udp port {port}", "-w", str(capture)],
        stdout=subprocess.DEVNULL, stderr=cap_log.open("wb"))
    try:
        assert _wait_for(reg_log, b"registrar on", registrar, 10), reg_log.read_text()
        capturing = _wait_for(cap_log, b"Capturing on", dumper, 15)
        need(capturing, f"tshark cannot capture on lo here: {cap_log.read_text()[-300:]}")
        time.sleep(0.3)
        local = find_free_port()
        result = subprocess.run(
            [sipp, f"127.0.0.1:{port}", "-sf", str(Path(SIPP_DIR) / "register_uac.xml"),
             "-t", "u1", "-i", "127.0.0.1", "-p", str(local), "-m", "1", "-au", "sippuser",
             "-ap", "sipppass", "-s", "sippuser", "-d", "100", "-default_behaviors",
             "all,-bye", "-timeout", "20s", "-timeout_error", "-max_retrans", "3", "-nostdin"],
            cwd=tmp_path, capture_output=True, timeout=40)
        assert result.returncode == 0, result.stdout[-2000:]
        time.sleep(0.5)
    finally:
        dumper.send_signal(signal.SIGINT)
        dumper.wait(timeout=10)
        registrar.terminate()
        registrar.wait(timeout=10)
    report = audit_paths([capture], password="sipppass")
    # SIPp's register_uac.xml: REGISTER -> 401 -> REGISTER with credentials -> 200, twice.
    assert report.messages == 8 and len(report.registrations) == 1
    assert report.clients == (f"127.0.0.1:{local}",)
    # What SIPp does wrong: its Digest uri is the remote address, not the Request-URI
    # (sip:sipfsm.test); the response itself is right for that uri and the password.
    assert report.rule_ids() == {"RFC2617-3.2.2.5-DIGEST-URI"}
    assert [f.evidence.messages for f in report.findings] == [(3,), (7,)]
    assert all(f"sip:127.0.0.1:{port}" in f.explanation for f in report.findings)
    assert report.exit_code == 0
    registrar_view = audit_paths([reg_trace], password="sipppass")
    assert [(f.rule_id, f.evidence.messages) for f in registrar_view.findings] == [
        (f.rule_id, f.evidence.messages) for f in report.findings
    ]
