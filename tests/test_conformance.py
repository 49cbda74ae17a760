"""pytest runs every packaged conformance check under its requirement markers."""

from __future__ import annotations

import pytest

from sipfsm.conformance import all_checks

CHECKS = all_checks()


@pytest.mark.parametrize(
    "check",
    [pytest.param(c, marks=[pytest.mark.requirement(r) for r in c.requirements], id=c.name)
     for c in CHECKS],
)
def test_conformance_check(check: object) -> None:
    check.func()  # type: ignore[attr-defined]


# ---- the runner: one record, one verdict; exit codes; filters; nothing left behind -----------

import json  # noqa: E402
import subprocess  # noqa: E402
import sys  # noqa: E402
from pathlib import Path  # noqa: E402

from sipfsm.conformance.registry import Check, expect  # noqa: E402
from sipfsm.conformance.runner import exit_code, render, run, run_check  # noqa: E402
from sipfsm.spec import load_spec  # noqa: E402

A, B = "RFC3261-8.1.1.7-BRANCH-COOKIE", "RFC3261-8.1.1.7-BRANCH-UNIQUE"


def _check(func: object, *ids: str) -> Check:
    return Check("test.fake", ids, func, "")  # type: ignore[arg-type]


def test_a_failing_record_is_evidence_of_its_own_rule_only() -> None:
    def fake() -> None:
        expect(A, False, "cookie")
        expect(B, True)

    assert run_check(_check(fake, A, B)) == {A: "test.fake: sipfsm.conformance.registry."
                                             "RuleViolation: [" + A + "] cookie", B: None}


def test_an_untagged_failure_counts_against_every_record_of_the_check() -> None:
    def fake() -> None:
        raise RuntimeError("boom")

    outcome = run_check(_check(fake, A, B))
    assert outcome[A] and outcome[B] and "boom" in outcome[A]


def test_exit_code_counts_any_level_unless_narrowed() -> None:
    spec = load_spec()
    should = next(r for r in spec.values() if r.applies and r.level == "SHOULD")

    def fake() -> None:
        expect(should.id, False)

    verdicts = run(spec, checks=[_check(fake, should.id)], sections=[should.source])
    failing = [v for v in verdicts if v.id == should.id]
    assert failing[0].verdict == "fail"
    assert exit_code(verdicts) == 1
    assert exit_code([v for v in verdicts if v.id == should.id], "MUST") == 0
    text = render(verdicts, "text", failed_only=True)
    assert "1 fail" in text.splitlines()[0]
    assert should.text in text and f"{should.id} ({should.level})" in text


def test_cli_section_filter_json_and_no_hypothesis_folder(tmp_path: Path) -> None:
    env_path = str(Path(__file__).resolve().parent.parent)
    proc = subprocess.run(
        [sys.executable, "-m", "sipfsm", "conformance", "--section", "10.2.4", "--format",
         "json"], cwd=tmp_path, capture_output=True, text=True, timeout=120,
        env={"PYTHONPATH": env_path, "PATH": "/usr/bin:/bin"})
    assert proc.returncode == 0, proc.stderr
    records = json.loads(proc.stdout)
    assert records and all(r["source"].split("§", 1)[1].startswith("10.2.4")
                           for r in records)
    assert any(r["verdict"] == "not-applicable" and r["reason"] for r in records)
    assert not (tmp_path / ".hypothesis").exists()
    bad = subprocess.run([sys.executable, "-m", "sipfsm", "conformance", "--section", "99.9"],
                         cwd=tmp_path, capture_output=True, text=True, timeout=60,
                         env={"PYTHONPATH": env_path, "PATH": "/usr/bin:/bin"})
    assert bad.returncode == 2 and "99.9" in bad.stderr


def test_section_filter_reads_the_leading_number_of_a_source_with_trailing_text() -> None:
    from dataclasses import replace

    from sipfsm.conformance.runner import select

    spec = load_spec()
    base = next(iter(spec.values()))
    sources = {"a": "RFC 3261 §10.2.4, §10.2.1.2", "b": "RFC 3261 §22 (and §22.4)",
               "c": "RFC 3261 §10.2.4.", "d": "RFC 3261 §10.2.41", "e": "RFC 7616 §10.2.4"}
    records = {k: replace(base, id=k, source=v) for k, v in sources.items()}

    def kept(section: str) -> set[str]:
        return {r.id for r in select(records, sections=[section])}  # type: ignore[arg-type]

    assert kept("10.2.4") == {"a", "c", "e"}
    assert kept("10.2") == {"a", "c", "d", "e"}
    assert kept("RFC 3261 §10.2.4") == {"a", "c"}
    assert kept("22") == {"b"}
    assert kept("10.2.1") == set()  # only the leading section counts


def test_parse_strict_names_the_rule_and_exits_3(tmp_path: Path) -> None:
    from sipfsm.conformance.message_support import INVALID_TORTURE, WSINV, crlf

    env = {"PYTHONPATH": str(Path(__file__).resolve().parent.parent), "PATH": "/usr/bin:/bin"}
    bad = tmp_path / "quotbal.sip"
    bad.write_bytes(crlf(INVALID_TORTURE["quotbal"]))
    good = tmp_path / "wsinv.sip"
    good.write_bytes(WSINV)
    strict = subprocess.run([sys.executable, "-m", "sipfsm", "parse", "--strict", str(bad)],
                            capture_output=True, text=True, timeout=60, env=env)
    assert strict.returncode == 3, strict.stderr
    assert "quoted-string" in strict.stderr and "RFC 3261 §25.1" in strict.stderr
    assert "Traceback" not in strict.stderr
    ok = subprocess.run([sys.executable, "-m", "sipfsm", "parse", "--strict", str(good)],
                        capture_output=True, timeout=60, env=env)
    assert ok.returncode == 0, ok.stderr


def test_a_simulation_that_loops_in_zero_virtual_time_stops_with_runaway() -> None:
    from sipfsm.conformance.harness import Runaway, run_bounded
    from sipfsm.sim import Scheduler

    clock = Scheduler()

    def again() -> None:  # a client retrying at once, for ever
        clock.call_later(0.0, again)

    clock.call_later(1.0, again)
    with pytest.raises(Runaway, match="without virtual time passing"):
        run_bounded(clock, 3600.0, max_at_one_instant=50)
    assert clock.now == 1.0  # stopped where it looped, not an hour later

    slow = Scheduler()

    def soon() -> None:  # virtual time passes, but the client never settles
        slow.call_later(1e-6, soon)

    slow.call_later(0.0, soon)
    with pytest.raises(Runaway, match="never settles"):
        run_bounded(slow, 3600.0, max_events=500)
    fine = Scheduler()
    fine.call_later(5.0, lambda: None)
    assert run_bounded(fine, 10.0) == 1 and fine.now == 10.0
