"""``sipfsm registrar --trace FILE``: the README's JSON-lines trace, from the registrar's side."""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
from pathlib import Path

from .support import next_response, register, udp_client

TIMEOUT = 5.0
FIELDS = ["time", "direction", "transport", "local", "remote", "message"]  # README "Trace format"


def test_registrar_trace_records_each_request_and_response(tmp_path: Path) -> None:
    trace = tmp_path / "registrar.jsonl"
    process = subprocess.Popen(
        [sys.executable, "-m", "sipfsm", "registrar", "--udp-port", "0", "--tcp-port", "off",
         "--trace", str(trace)],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )
    try:
        assert process.stdout is not None
        banner = process.stdout.readline()
        port = int(banner.split("udp:127.0.0.1:")[1].split()[0].rstrip(","))

        async def exchange() -> tuple[int, int]:
            transport, protocol, local = await udp_client()
            try:
                via = f"SIP/2.0/UDP 127.0.0.1:{local};rport;branch=z9hG4bK-trace"
                transport.sendto(register(via=via).to_bytes(), ("127.0.0.1", port))
                return (await next_response(protocol.queue, TIMEOUT)).status, local
            finally:
                transport.close()

        status, local = asyncio.run(asyncio.wait_for(exchange(), TIMEOUT * 2))
        assert status == 200
        process.stdout.readline()
        process.stdout.readline()
    finally:
        process.terminate()
        process.communicate(timeout=TIMEOUT)
    records = [json.loads(line) for line in trace.read_text(encoding="utf-8").splitlines()]
    assert [r["direction"] for r in records] == ["received", "sent"]
    for record in records:
        assert list(record) == FIELDS
        assert record["transport"] == "UDP"
        assert record["local"] == f"127.0.0.1:{port}"
        assert record["remote"] == f"127.0.0.1:{local}"
        assert isinstance(record["time"], float)
    assert records[0]["message"].startswith("REGISTER sip:")
    assert records[1]["message"].startswith("SIP/2.0 200 OK")


def test_registrar_trace_to_an_unwritable_path_is_exit_2(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "sipfsm", "registrar", "--udp-port", "0", "--tcp-port", "off",
         "--trace", str(tmp_path / "no" / "such" / "dir.jsonl")],
        capture_output=True, text=True, timeout=30,
    )
    assert result.returncode == 2, result.stderr
    assert result.stderr.startswith("sipfsm: --trace") and "Traceback" not in result.stderr
