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


def _banner_and_warning(
    argv: list[str], env: dict[str, str] | None = None, *, warned: bool = False
) -> tuple[str, str]:
    import os

    process = subprocess.Popen(
        [sys.executable, "-m", "sipfsm", "registrar", "--udp-port", "0", "--tcp-port", "off",
         *argv],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        env={**os.environ, **(env or {})},
    )
    try:
        assert process.stdout is not None
        banner = process.stdout.readline()
        warning = ""
        if warned:  # printed after the banner: wait for it before stopping the process
            assert process.stderr is not None
            warning = process.stderr.readline()
    finally:
        process.terminate()
        _, err = process.communicate(timeout=TIMEOUT)
    return banner, warning + err


def test_users_file_and_password_env_keep_passwords_off_argv(tmp_path: Path) -> None:
    users = tmp_path / "users"
    users.write_text("# comment\nalice:s3cret-file\n\nbob:other\n", encoding="utf-8")
    banner, err = _banner_and_warning(["--users-file", str(users)])
    assert "users: alice, bob" in banner and "warning" not in err
    banner, err = _banner_and_warning(["--user", "carol", "--password-env", "CAROL_PW"],
                                      {"CAROL_PW": "s3cret-env"})
    assert "users: carol" in banner and "warning" not in err
    banner, err = _banner_and_warning(["--user", "dave:s3cret-argv"], warned=True)
    assert "users: dave" in banner
    assert "warning: a password on the command line" in err and "s3cret" not in err


def test_bad_users_file_and_missing_password_are_exit_2(tmp_path: Path) -> None:
    bad = tmp_path / "users"
    bad.write_text("alice:ok\nno-colon-here\n", encoding="utf-8")
    cases = [
        ["--users-file", str(bad)],
        ["--users-file", str(tmp_path / "missing")],
        ["--user", "alice"],
        ["--user", "alice", "--password-env", "SIPFSM_SURELY_UNSET_VAR"],
    ]
    for argv in cases:
        result = subprocess.run(
            [sys.executable, "-m", "sipfsm", "registrar", "--udp-port", "0", *argv],
            capture_output=True, text=True, timeout=30,
        )
        assert result.returncode == 2, (argv, result.stderr)
        assert result.stderr.startswith("sipfsm: ") and "Traceback" not in result.stderr
    assert "line 2" in subprocess.run(
        [sys.executable, "-m", "sipfsm", "registrar", "--users-file", str(bad)],
        capture_output=True, text=True, timeout=30).stderr
