"""The command line: bad input is one clear line and a distinct exit code, never a traceback."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from sipfsm.app import parse_registrar_address, parse_sip_uri
from sipfsm.cli import main
from sipfsm.conformance.aio_support import closed_udp_port
from sipfsm.errors import ConfigError
from sipfsm.ports import Target


@given(st.text(max_size=40))
def test_registrar_address_parses_or_raises_config_error(text: str) -> None:
    try:
        target = parse_registrar_address(text)
    except ConfigError:
        return
    assert isinstance(target, Target) and 0 < target.port < 65536
    assert target.transport in ("UDP", "TCP") and target.host


@pytest.mark.parametrize(
    ("text", "expected"),
    [("udp:127.0.0.1:5070", Target("UDP", "127.0.0.1", 5070)),
     ("tcp:[::1]:5080", Target("TCP", "::1", 5080)),
     ("udp:example.com", Target("UDP", "example.com", 5060)),
     ("TCP:localhost", Target("TCP", "localhost", 5060))],
)
def test_registrar_address_examples(text: str, expected: Target) -> None:
    assert parse_registrar_address(text) == expected


@given(st.text(max_size=60))
def test_sip_uri_option_parses_or_raises_config_error(text: str) -> None:
    try:
        parse_sip_uri(text, "--aor")
    except ConfigError as exc:
        assert "--aor" in str(exc)


def _run(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "sipfsm", *args], capture_output=True,
                          text=True, timeout=60, env=env)


@pytest.mark.parametrize(
    ("args", "code"),
    [
        (["register", "--aor", "not a uri", "--no-auth", "--registrar", "udp:127.0.0.1:9"], 2),
        (["register", "--aor", "sips:alice@example.com", "--no-auth"], 2),
        (["register", "--aor", "sip:alice@example.com", "--registrar", "udp:[::1", "--no-auth"],
         2),
        (["register", "--aor", "sip:alice@example.com", "--registrar", "udp:h:99999",
          "--no-auth"], 2),
        (["register", "--aor", "sip:alice@example.com", "--password-env", "SIPFSM_NOPE_X"], 2),
        (["query"], 2),
        (["ladder", "/nonexistent/trace.jsonl"], 3),
        (["parse", "/nonexistent/message.txt"], 3),
        (["register", "--aor", "sip:alice@example.com", "--registrar", "garbage", "--no-auth"],
         2),
        (["register", "--aor", "sip:alice@example.com", "--registrar", "sctp:127.0.0.1:5060",
          "--no-auth"], 2),
        (["register", "--aor", "sip:alice@example.com", "--registrar", "udp:127.0.0.1:9",
          "--no-auth", "--duration", "nan"], 2),
        (["register", "--aor", "sip:alice@example.com", "--registrar", "udp:127.0.0.1:9",
          "--no-auth", "--duration", "inf"], 2),
        (["register", "--aor", "sip:alice@example.com", "--registrar", "udp:127.0.0.1:9",
          "--no-auth", "--max-failures", "0"], 2),
        (["register", "--aor", "sip:alice@example.com", "--registrar", "udp:127.0.0.1:9",
          "--no-auth", "--max-failures", "-1"], 2),
        (["register", "--aor", "sip:alice@example.com", "--registrar", "udp:127.0.0.1:9",
          "--no-auth", "--timeout", "0"], 2),
        (["register", "--aor", "sip:alice@example.com", "--registrar", "udp:127.0.0.1:9",
          "--no-auth", "--timeout", "nan"], 2),
        (["register", "--aor", "sip:alice@example.com", "--registrar", "udp:127.0.0.1:9",
          "--no-auth", "--expires", "0"], 2),
        (["demo", "--timeout", "-1"], 2),
        (["register", "--aor", "sip:alice@example.com", "--registrar", "udp:127.0.0.1:9",
          "--no-auth", "--max-retry-after", "nan"], 2),
        (["register", "--aor", "sip:alice@example.com", "--registrar", "udp:127.0.0.1:9",
          "--no-auth", "--trace", "/nonexistent/dir/t.jsonl"], 2),
        (["register", "--aor", "sip:alice@example.com", "--registrar", "udp:127.0.0.1:9",
          "--no-auth", "--local-host", "192.0.2.55"], 2),
    ],
)
def test_bad_arguments_are_one_line_without_traceback(args: list[str], code: int) -> None:
    result = _run(*args)
    assert result.returncode == code, result.stderr
    assert "Traceback" not in result.stderr
    assert result.stderr.strip()


def test_unreachable_registrar_is_exit_5(tmp_path: Path) -> None:
    """Nothing listens on the port: ICMP port unreachable ends in 'unreachable' (exit 5)."""
    result = _run("register", "--aor", "sip:alice@example.com", "--registrar",
                  "udp:127.0.0.1:9", "--no-auth", "--local-host", "127.0.0.1",
                  "--max-failures", "1", "--duration", "0")
    assert result.returncode == 5, (result.stdout, result.stderr)
    assert "Traceback" not in result.stderr


def test_malformed_trace_is_a_parse_error(tmp_path: Path) -> None:
    trace = tmp_path / "t.jsonl"
    trace.write_text('{"time": 0}\nnot json\n', encoding="utf-8")
    result = _run("ladder", str(trace))
    assert result.returncode == 3 and "line 1" in result.stderr
    assert "Traceback" not in result.stderr


def test_ladder_renders_a_trace(tmp_path: Path) -> None:
    trace = tmp_path / "t.jsonl"
    rec = {"time": 1.0, "direction": "sent", "transport": "UDP", "local": "127.0.0.1:5062",
           "remote": "127.0.0.1:5060",
           "message": "REGISTER sip:example.com SIP/2.0\r\nCSeq: 1 REGISTER\r\n\r\n"}
    trace.write_text(json.dumps(rec) + "\n", encoding="utf-8")
    for fmt, needle in (("mermaid", "sequenceDiagram"), ("text", "REGISTER"), ("svg", "<svg")):
        assert main(["ladder", str(trace), "--format", fmt, "-o", str(tmp_path / fmt)]) == 0
        assert needle in (tmp_path / fmt).read_text(encoding="utf-8")


def test_demo_runs_the_whole_lifecycle() -> None:
    result = _run("demo")
    assert result.returncode == 0, result.stdout + result.stderr
    out = result.stdout
    for step in ("Registered", "Refreshed", "BindingsReported", "Unregistered",
                 "401 Unauthorized"):
        assert step in out


def test_password_and_ha1_never_leave_the_process(tmp_path: Path) -> None:
    """A full register/unregister with a trace: the password and HA1 appear nowhere in the
    output, the errors or the trace (only the digest response does)."""
    import hashlib
    import os
    import socket
    import time

    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    password = "Pa55-w0rd-for-the-leak-scan"
    ha1 = hashlib.md5(f"carol:leak.test:{password}".encode()).hexdigest()
    registrar = subprocess.Popen(
        [sys.executable, "-m", "sipfsm", "registrar", "--host", "127.0.0.1", "--udp-port",
         str(port), "--tcp-port", "off", "--user", f"carol:{password}", "--realm", "leak.test",
         "--min-expires", "1"], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        time.sleep(1.0)
        trace = tmp_path / "trace.jsonl"
        env = {**os.environ, "CAROL_PW": password}
        result = _run("register", "--aor", "sip:carol@leak.test", "--registrar",
                      f"udp:127.0.0.1:{port}", "--password-env", "CAROL_PW", "--duration", "0.2",
                      "--local-host", "127.0.0.1", "--trace", str(trace), env=env)
        assert result.returncode == 0, result.stderr
        text = trace.read_text(encoding="utf-8")
        assert "Authorization: Digest" in text
        for blob in (result.stdout, result.stderr, text):
            assert password not in blob and ha1 not in blob
    finally:
        registrar.terminate()
        out, _ = registrar.communicate(timeout=10)
    assert password not in out and ha1 not in out


@pytest.mark.parametrize("text", ["garbage", "sctp:127.0.0.1:5060", "udp:", "udp:host name:5060",
                                  "tcp:example.com:http"])
def test_registrar_address_errors_name_the_expected_form(text: str) -> None:
    with pytest.raises(ConfigError, match=r"udp:HOST\[:PORT\]"):
        parse_registrar_address(text)


@pytest.mark.parametrize("command", ["ladder", "parse"])
def test_an_unreadable_file_names_its_path(tmp_path: Path, command: str) -> None:
    missing = tmp_path / "no-such-file.txt"
    result = _run(command, str(missing))
    assert result.returncode == 3, result.stderr
    assert str(missing) in result.stderr
    assert "Traceback" not in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


# -- packaging: hypothesis is the `conformance` extra, not a dependency -------------------------

REPO = Path(__file__).resolve().parents[1]


def test_hypothesis_is_an_optional_extra() -> None:
    import tomllib

    project = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    names = [dep.split(">")[0].split("=")[0].split("[")[0].strip().lower()
             for dep in project["dependencies"]]
    assert "hypothesis" not in names
    for extra in ("conformance", "test"):
        assert any(d.startswith("hypothesis") for d in project["optional-dependencies"][extra])


def _without_hypothesis(tmp_path: Path) -> dict[str, str]:
    """An environment in which ``import hypothesis`` fails, as in a venv without the extra."""
    import os

    blocker = tmp_path / "block" / "hypothesis"
    blocker.mkdir(parents=True)
    (blocker / "__init__.py").write_text(
        'raise ImportError("No module named \'hypothesis\' (blocked by the test)")\n',
        encoding="utf-8")
    path = os.pathsep.join([str(blocker.parent), str(REPO), os.environ.get("PYTHONPATH", "")])
    return {**os.environ, "PYTHONPATH": path}


def test_conformance_without_hypothesis_names_the_extra(tmp_path: Path) -> None:
    result = _run("conformance", env=_without_hypothesis(tmp_path))
    assert result.returncode == 2, result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "sipfsm[conformance]" in lines[0], result.stderr


def test_demo_and_help_run_without_hypothesis(tmp_path: Path) -> None:
    env = _without_hypothesis(tmp_path)
    assert _run("--help", env=env).returncode == 0
    result = _run("demo", env=env)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "demo complete" in result.stdout


class Registrar:
    """``sipfsm registrar`` in a subprocess on an ephemeral loopback UDP port."""

    def __init__(self, *options: str) -> None:
        self.process = subprocess.Popen(
            [sys.executable, "-m", "sipfsm", "registrar", "--host", "127.0.0.1",
             "--udp-port", "0", "--tcp-port", "off", "--min-expires", "1", *options],
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        assert self.process.stdout is not None
        banner = self.process.stdout.readline()
        assert "sipfsm registrar on udp:" in banner, banner
        self.port = int(banner.split("udp:", 1)[1].split()[0].rsplit(":", 1)[1])

    def stop(self) -> str:
        if self.process.poll() is None:
            self.process.terminate()
        out, _ = self.process.communicate(timeout=10)
        return out

    def __enter__(self) -> Registrar:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


def test_udp_registrar_by_host_name_without_hypothesis(tmp_path: Path) -> None:
    """``--registrar udp:localhost:PORT`` is looked up as for TCP (was: 'not an IP address'),
    and the whole register / unregister path runs without hypothesis."""
    with Registrar() as registrar:
        result = _run("register", "--aor", "sip:dave@example.com", "--registrar",
                      f"udp:localhost:{registrar.port}", "--no-auth", "--duration", "0.2",
                      "--local-host", "127.0.0.1", "--max-failures", "1",
                      env=_without_hypothesis(tmp_path))
    assert result.returncode == 0, result.stdout + result.stderr
    assert "registered sip:dave@example.com" in result.stdout
    assert "unregistered" in result.stdout


# -- the client's lifecycle ----------------------------------------------------------------------

def _client(*args: str) -> subprocess.Popen[str]:
    return subprocess.Popen([sys.executable, "-m", "sipfsm", *args], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)


def _wait_for_line(process: subprocess.Popen[str], needle: str) -> str:
    assert process.stdout is not None
    seen = []
    for line in process.stdout:
        seen.append(line)
        if needle in line:
            return line
    raise AssertionError(f"{needle!r} never printed: {''.join(seen)}")


def _register_args(port: int, *more: str) -> list[str]:
    return ["register", "--aor", "sip:erin@example.com", "--registrar", f"udp:127.0.0.1:{port}",
            "--no-auth", "--local-host", "127.0.0.1", *more]


def test_max_failures_during_refreshes_ends_the_command() -> None:
    """The registrar goes away; the refreshes fail; with --max-failures 1 the command ends with
    the failure's exit code (was: 'refreshing -> failed', then running until Ctrl-C)."""
    registrar = Registrar("--max-expires", "2", "--default-expires", "2")
    client = _client(*_register_args(registrar.port, "--expires", "2", "--max-failures", "1"))
    try:
        _wait_for_line(client, "registered sip:erin@example.com")
        registrar.stop()
        _, err = client.communicate(timeout=20)
    finally:
        client.kill()
        registrar.stop()
    assert client.returncode == 5, err
    assert "failed" in err and "Traceback" not in err


@pytest.mark.parametrize("bound", [["--duration", "2"], ["--timeout", "2"]])
def test_duration_and_timeout_end_the_command_despite_retry_after(bound: list[str]) -> None:
    """Every REGISTER gets 503 with Retry-After: 999999: --duration and --timeout still end the
    command (exit 5) at the time given (was: waiting for ever)."""
    import time

    with Registrar("--scenario", "retry-after:0:999999") as registrar:
        began = time.monotonic()
        try:
            result = subprocess.run([sys.executable, "-m", "sipfsm",
                                     *_register_args(registrar.port, *bound)],
                                    capture_output=True, text=True, timeout=20)
        except subprocess.TimeoutExpired:
            pytest.fail("the command did not end")
        took = time.monotonic() - began
    assert result.returncode == 5, result.stderr
    assert took < 10, took
    assert "Retry-After" in result.stderr or "503" in result.stderr


def test_closed_udp_port_ends_at_once_with_the_default_retries() -> None:
    """Nothing listens: ICMP port unreachable ends the command within seconds, exit 5 (was:
    reported after about 111 s, the backoff of the default 3 attempts)."""
    port = closed_udp_port()
    try:
        result = subprocess.run([sys.executable, "-m", "sipfsm", *_register_args(port)],
                                capture_output=True, text=True, timeout=15)
    except subprocess.TimeoutExpired:
        pytest.fail("still running after 15 s")
    assert result.returncode == 5, result.stderr


def _ctrl_c_after_registering(*more: str, registrar_state: str) -> tuple[int, str, float]:
    """Register, then make the registrar ``gone`` (closed port) or ``silent`` (stopped: no
    answer, no ICMP), then Ctrl-C (twice for ``more[0] == 'twice'``)."""
    import signal
    import time

    twice = "twice" in more
    registrar = Registrar()
    client = _client(*_register_args(registrar.port, *[m for m in more if m != "twice"]))
    try:
        _wait_for_line(client, "registered sip:erin@example.com")
        if registrar_state == "gone":
            registrar.stop()
        else:
            registrar.process.send_signal(signal.SIGSTOP)
        client.send_signal(signal.SIGINT)
        if twice:
            time.sleep(0.5)
        began = time.monotonic()
        if twice:
            client.send_signal(signal.SIGINT)
        _, err = client.communicate(timeout=30)
        took = time.monotonic() - began
    finally:
        client.kill()
        if registrar.process.poll() is None:
            registrar.process.send_signal(signal.SIGCONT)
        registrar.stop()
    assert "Traceback" not in err
    return client.returncode, err, took


def test_ctrl_c_unregisters_with_a_bounded_wait() -> None:
    """Ctrl-C with a registrar that no longer answers: the unregister is given up after
    --timeout (was: 40 s)."""
    code, err, took = _ctrl_c_after_registering("--timeout", "2", registrar_state="silent")
    assert took < 6, took
    assert code == 5, err
    assert "no answer to the unregister" in err


def test_ctrl_c_with_the_registrar_gone_ends_at_once() -> None:
    """Ctrl-C after the registrar went away: the port is closed, so the unregister is refused
    at once and the command ends with exit 5 (was: 40 s)."""
    code, err, took = _ctrl_c_after_registering(registrar_state="gone")
    assert took < 4, took
    assert code == 5, err
    assert "unreachable" in err


def test_a_second_ctrl_c_exits_130_at_once() -> None:
    code, err, took = _ctrl_c_after_registering("twice", registrar_state="silent")
    assert code == 130, err
    assert took < 2, took


def test_progress_shows_challenge_retransmissions_and_423() -> None:
    """stderr tells what happens: the 401 and 423 steps, and retransmissions while waiting."""
    with Registrar("--user", "frank:pw", "--min-expires", "60",
                   "--scenario", "drop-every:3") as registrar:
        import os

        result = subprocess.run(
            [sys.executable, "-m", "sipfsm", "register", "--aor", "sip:frank@example.com",
             "--registrar", f"udp:127.0.0.1:{registrar.port}", "--password-env", "FRANK_PW",
             "--local-host", "127.0.0.1", "--expires", "30", "--duration", "2"],
            capture_output=True, text=True, timeout=30, env={**os.environ, "FRANK_PW": "pw"})
    assert result.returncode == 0, result.stderr
    err = result.stderr
    assert "401 Unauthorized" in err
    assert "423 Interval Too Brief" in err and "Min-Expires 60" in err
    assert "retransmission" in err


@pytest.mark.parametrize(("cap", "longest"), [([], 3600.0), (["--max-retry-after", "5"], 120.0)])
def test_max_retry_after_caps_the_wait(cap: list[str], longest: float) -> None:
    """``Retry-After: 999999`` is honoured up to the cap: 3600 s by default, --max-retry-after
    lowers it (the wait is never shorter than the backoff, 30-60 s for a first failure)."""
    import re

    with Registrar("--scenario", "retry-after:0:999999") as registrar:
        result = subprocess.run([sys.executable, "-m", "sipfsm",
                                 *_register_args(registrar.port, "--timeout", "1", *cap)],
                                capture_output=True, text=True, timeout=30)
    assert result.returncode == 5, result.stderr
    delays = [float(d) for d in re.findall(r"retry #1 in ([0-9.]+)s", result.stderr)]
    assert delays, result.stderr
    assert delays[0] <= longest
    if not cap:
        assert delays[0] == pytest.approx(3600.0)


def test_progress_names_the_cause_of_a_retry_and_a_lapsed_binding() -> None:
    import asyncio
    import io

    from sipfsm import BindingLapsed, FailureReason, Retrying
    from sipfsm.app import progress_printer

    async def show() -> str:
        out = io.StringIO()
        printer = progress_printer(out, asyncio.get_running_loop().time())
        printer(Retrying(FailureReason.STATUS, 42.0, 2, 503, detail="503 Service Unavailable"))
        printer(BindingLapsed(("sip:erin@192.0.2.1:5060",)))
        return out.getvalue()

    text = asyncio.run(show())
    assert "503 Service Unavailable" in text and "retry #2 in 42.0s" in text
    assert "binding lapsed" in text and "sip:erin@192.0.2.1:5060" in text
