"""`sipfsm probe`: sipfsm's own client and SIPp under the embedded registrar's scenarios."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from sipfsm.cli import main
from sipfsm.errors import ConfigError
from sipfsm.probe import SCENARIOS, ProbeOptions, fill, render_results, run_probe
from tests.interop.kamailio_fixture import SIPP_DIR, sipp_binary

SIPFSM_CLIENT = [
    "env", "PROBE_PW={password}", sys.executable, "-m", "sipfsm", "register", "--aor", "{aor}",
    "--registrar", "{transport}:{host}:{port}", "--password-env", "PROBE_PW",
    "--duration", "1.5", "--expires", "3600",
]


def test_placeholders() -> None:
    values = {"host": "127.0.0.1", "port": "5062", "aor": "sip:a@b", "user": "a"}
    assert fill(["{host}:{port}", "x{aor}", "{nope}", "{user}{user}"], values) == [
        "127.0.0.1:5062", "xsip:a@b", "{nope}", "aa"]


def test_every_issue_scenario_is_offered() -> None:
    names = {s.name for s in SCENARIOS}
    assert names == {"plain", "auth", "stale-nonce", "423", "503-retry-after", "omit-contact",
                     "no-answer", "wrong-password", "dropped"}


@pytest.mark.requirement("RFC3261-22.1-NO-RESEND-REJECTED")
@pytest.mark.requirement("RFC3261-21.5.4-503-HOLD-OFF")
@pytest.mark.requirement("RFC3261-10.2.8-423-RETRY")
@pytest.mark.parametrize("transport", ["udp", "tcp"])
def test_sipfsm_register_is_clean_in_every_quick_scenario(transport: str) -> None:
    quick = ["plain", "auth", "stale-nonce", "423", "503-retry-after", "omit-contact",
             "wrong-password", "dropped"]
    if transport == "tcp":
        quick = ["auth", "wrong-password"]
    results = run_probe(SIPFSM_CLIENT, scenarios=quick,
                        options=ProbeOptions(transport=transport, bound=10.0))
    assert [r.scenario.name for r in results] == quick
    for r in results:
        assert r.report.registrations, (r.scenario.name, r.output)
        assert r.report.clean, (r.scenario.name, [f.to_dict() for f in r.findings])
    codes = {r.scenario.name: r.exit_code for r in results}
    assert codes["auth"] == 0 and codes["wrong-password"] == 4
    table = render_results(results, "markdown")
    assert table.startswith("**probe CLEAN")


@pytest.mark.interop
@pytest.mark.requirement("RFC3261-10.2-CSEQ-INCREMENT")
@pytest.mark.requirement("RFC2617-3.2.2.5-DIGEST-URI")
def test_sipp_under_probe(tmp_path: Path) -> None:
    sipp = sipp_binary()
    if sipp is None:
        pytest.skip("sipp not installed")
    command = [sipp, "{host}:{port}", "-sf", str(Path(SIPP_DIR) / "register_uac.xml"), "-t",
               "u1", "-i", "127.0.0.1", "-p", "0", "-m", "1", "-au", "{user}", "-ap",
               "{password}", "-s", "{user}", "-d", "100", "-default_behaviors", "all,-bye",
               "-timeout", "10s", "-max_retrans", "5", "-nostdin"]
    results = run_probe(command, scenarios=["plain", "auth"],
                        options=ProbeOptions(bound=8.0, save=tmp_path))
    plain, auth = results
    # register_uac.xml numbers its second REGISTER as if a 401 had come: CSeq 1, then 3.
    assert plain.report.rule_ids() == {"RFC3261-10.2-CSEQ-INCREMENT"}
    # SIPp's Digest uri is the remote address, not the Request-URI.
    assert auth.report.rule_ids() == {"RFC2617-3.2.2.5-DIGEST-URI"}
    assert (tmp_path / "auth.jsonl").exists()


def test_bad_arguments(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(ConfigError):
        run_probe(["true"], scenarios=["nope"])
    with pytest.raises(ConfigError):
        run_probe([])
    assert main(["probe", "--scenario", "plain", "--", "/nonexistent/client-xyz"]) == 2
    assert "cannot run" in capsys.readouterr().err
