"""Requirement traceability: every test names the spec/ record it checks.

* A ``@pytest.mark.requirement(id)`` naming no record fails the run (tests/test_spec_gate.py).
* When the whole suite runs, every applicable record needs at least one *passing* marked test;
  otherwise the session fails and the missing ids are printed.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from sipfsm.spec import Spec, load_spec

SPEC: Spec = load_spec()
_PASSED: set[str] = set()
_TESTS_DIR = Path(__file__).resolve().parent


def requirement_ids(item: pytest.Item) -> list[str]:
    return [str(arg) for mark in item.iter_markers("requirement") for arg in mark.args]


def is_full_run(config: pytest.Config) -> bool:
    """True when the run covers the whole tests/ tree with no -k / -m selection."""
    if config.getoption("keyword") or config.getoption("markexpr"):
        return False
    args = [a for a in config.args if not a.startswith("-")]
    if not args:
        return True
    root = Path(str(config.rootpath))
    resolved = {(root / a.split("::")[0]).resolve() for a in args}
    return resolved <= {_TESTS_DIR, root.resolve()}


def pytest_collection_modifyitems(
    session: pytest.Session, config: pytest.Config, items: list[pytest.Item]
) -> None:
    for item in items:
        for rid in requirement_ids(item):
            item.user_properties.append(("requirement", rid))


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    if report.when == "call" and report.passed:
        for key, value in report.user_properties:
            if key == "requirement":
                _PASSED.add(str(value))


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    if (
        not is_full_run(session.config)
        or session.testsfailed
        or os.environ.get("PYTEST_XDIST_WORKER")
    ):
        return
    if getattr(session.config.option, "collectonly", False):
        return
    missing = sorted(r.id for r in SPEC.applicable() if r.id not in _PASSED)
    if missing:
        reporter = session.config.pluginmanager.get_plugin("terminalreporter")
        lines = ["applicable spec records with no passing check:", *("  " + m for m in missing)]
        if reporter is not None:
            reporter.write_line("\n".join(lines), red=True)
        session.exitstatus = pytest.ExitCode.TESTS_FAILED


def _hypothesis_profile() -> None:
    from hypothesis import HealthCheck, settings

    # Simulated scenarios run hours of virtual time per example: no wall-clock deadline.
    settings.register_profile(
        "sipfsm",
        deadline=None,
        max_examples=int(os.environ.get("SIPFSM_EXAMPLES", "40")),
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    )
    settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "sipfsm"))


_hypothesis_profile()
