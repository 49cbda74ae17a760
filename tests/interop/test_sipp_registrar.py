"""SIPp as a client against `sipfsm registrar`: the embedded registrar is a real one."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.interop.kamailio_fixture import SIPP_DIR, find_free_port, sipp_binary

pytestmark = pytest.mark.interop


def _start_registrar(port: int, tmp_path: Path) -> subprocess.Popen[bytes]:
    log = open(tmp_path / "registrar.log", "wb")  # noqa: SIM115 - closed with the process
    proc = subprocess.Popen(
        [sys.executable, "-m", "sipfsm", "registrar", "--host", "127.0.0.1",
         "--udp-port", str(port), "--tcp-port", str(port), "--user", "sippuser:sipppass",
         "--min-expires", "1"],
        stdout=log, stderr=subprocess.STDOUT)
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        if b"registrar on" in (tmp_path / "registrar.log").read_bytes():
            return proc
        if proc.poll() is not None:
            break
        time.sleep(0.05)
    proc.kill()
    raise AssertionError((tmp_path / "registrar.log").read_text())


@pytest.mark.parametrize("transport", ["u1", "t1"])
def test_sipp_registers_with_the_embedded_registrar(
    sipp_ok: None, tmp_path: Path, transport: str
) -> None:
    port = find_free_port()
    registrar = _start_registrar(port, tmp_path)
    try:
        sipp = sipp_binary()
        assert sipp is not None
        local = find_free_port()
        cmd = [sipp, f"127.0.0.1:{port}", "-sf", str(Path(SIPP_DIR) / "register_uac.xml"),
               "-t", transport, "-i", "127.0.0.1", "-p", str(local), "-m", "3", "-r", "10",
               "-au", "sippuser", "-ap", "sipppass", "-s", "sippuser", "-d", "100",
               "-default_behaviors", "all,-bye", "-timeout", "20s", "-timeout_error",
               "-max_retrans", "3", "-nostdin"]
        result = subprocess.run(cmd, cwd=tmp_path, capture_output=True, timeout=40)
        log = (tmp_path / "registrar.log").read_text()
        assert result.returncode == 0, (result.stdout[-2000:], result.stderr[-2000:], log[-3000:])
        assert "401" in log and "200 OK" in log
    finally:
        registrar.terminate()
        registrar.wait(timeout=10)
