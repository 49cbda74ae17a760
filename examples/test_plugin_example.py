"""A worked example of sipfsm's pytest plugin: test a SIP client (here sipfsm's own `register`
command, as a subprocess; put yours in its place) against the embedded registrar, and assert on
the audit of what it put on the wire.  Run: pytest examples/test_plugin_example.py"""

import os
import subprocess
import sys

import pytest


def run_client(registrar, seconds="2"):
    env = {**os.environ, "CLIENT_PW": registrar.password}
    return subprocess.run(
        [sys.executable, "-m", "sipfsm", "register", "--aor", registrar.aor, "--registrar",
         f"{registrar.transport}:{registrar.host}:{registrar.port}", "--password-env",
         "CLIENT_PW", "--duration", seconds], env=env, capture_output=True, timeout=60)


@pytest.mark.parametrize("scenario", ["auth", "stale-nonce", "dropped"])
def test_client_registers_by_the_book(sip_registrar, sip_audit, scenario):
    registrar = sip_registrar(scenario)
    assert run_client(registrar).returncode == 0
    report = sip_audit(registrar)
    assert report.clean, [f.to_dict() for f in report.findings]


def test_client_gives_up_on_a_wrong_password(sip_registrar, sip_audit):
    registrar = sip_registrar("wrong-password")
    assert run_client(registrar).returncode == 4  # sipfsm: authentication failed
    report = sip_audit(registrar)
    assert not report.violations("RFC3261-22.1-NO-RESEND-REJECTED")
    assert report.clean
